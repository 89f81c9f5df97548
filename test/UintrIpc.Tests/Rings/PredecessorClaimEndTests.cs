using UintrIpc.Channels;
using UintrIpc.Memory;
using UintrIpc.Rings;

namespace UintrIpc.Tests.Rings;

/// <summary>
/// The claim_end word (uintripc.h 2g) that bounds a new SPSC record producer's clear of a killed
/// predecessor's bytes: a producer stores it before it writes beyond the tail, and a value a peer
/// forged (below the tail, beyond head + capacity, negative, huge) neither makes the clear touch a
/// byte outside the data area nor makes it throw; beyond the free area it clears all of it.
/// The predecessor's leftover is played here by writing its bytes (a killed producer's batch:
/// test/UintrIpc.Tests/Rings/CrossProcess/KilledBatchClearTests).
/// </summary>
public sealed unsafe class PredecessorClaimEndTests : IDisposable
{
    private const int Capacity = 4096;
    // The leftover: a killed batch's two records (headers -len and type, payload) beyond the tail.
    private const int Leftover = 64;

    private readonly SharedRegion _region = SharedRegion.CreateAnonymous(
        RecordRing.Part(Capacity, maxMessageLength: 256), RecordRing.Part(Capacity, maxMessageLength: 256, tag: 1));

    private readonly RingMemory _memory;

    public PredecessorClaimEndTests() => _memory = RingMemory.Of(_region, PartKind.SpscRecords);

    public void Dispose() => _region.Dispose();

    [Fact]
    public void A_producer_stores_claim_end_before_it_writes_beyond_the_tail()
    {
        using var producer = new RecordRing(_region);
        Assert.Equal(0ul, _memory.ClaimEnd);
        Assert.True(producer.TryClaimBatch(128, out RecordBatch batch));
        using (batch)
        {
            // The batch is open: its bytes lie beyond the tail, and claim_end covers them.
            Assert.Equal(0ul, _memory.Tail);
            Assert.InRange(_memory.ClaimEnd, 128ul, (ulong)Capacity + 128);
        }
    }

    [Theory]
    [InlineData(0ul)] // below the tail: nothing to clear
    [InlineData(200ul)] // below the tail
    [InlineData(1024ul + 24)] // inside the leftover: only that much
    [InlineData(1024ul + Capacity + 8)] // beyond head + capacity: the whole free area
    [InlineData(1ul << 62)] // not a position
    [InlineData(ulong.MaxValue)] // negative
    [InlineData(0x8000_0000_0000_0000ul)] // the most negative
    public void A_forged_claim_end_neither_throws_nor_writes_outside_the_data_area(ulong forged)
    {
        const ulong tail = 1024; // head 512: the free area is [1024, 512 + capacity), wrapping
        _memory.Head = 512;
        _memory.Tail = tail;
        FillDataOfTheOtherRing(0xAA);
        for (ulong at = tail; at < tail + Leftover; at++)
        {
            _memory.DataByte(at) = 0x5C;
        }

        // Nonzero bytes across the wrap, in the free area beyond the leftover: a clear of the
        // whole free area zeroes them, a bounded one leaves them.
        _memory.DataByte(Capacity - 8) = 0x77;
        _memory.DataByte(Capacity + 100) = 0x77; // index 100, where the free area wraps to
        _memory.ClaimEnd = forged;
        byte[] outside = OutsideTheDataArea();

        using (var producer = new RecordRing(_region))
        {
            Assert.True(producer.TryWrite(3, new byte[8])); // 16 bytes at [1024, 1040)
        }

        Assert.Equal(outside, OutsideTheDataArea());
        ulong end = forged <= 512 + Capacity ? Math.Max(forged, tail) : 512 + Capacity;
        for (ulong at = tail + 16; at < 512 + Capacity; at++)
        {
            byte before = at == Capacity - 8 || at == Capacity + 100 ? (byte)0x77 : at < tail + Leftover ? (byte)0x5C : (byte)0;
            byte expected = at < end ? (byte)0 : before;
            Assert.True(expected == _memory.DataByte(at), $"claim_end {forged:x}: byte at {at} is {_memory.DataByte(at)}, expected {expected}");
        }
    }

    /// <summary>Bytes of the region outside the first ring's data area, less its tail and claim_end words (which the producer stores).</summary>
    private byte[] OutsideTheDataArea()
    {
        RegionPart ring = _region.FindPart(PartKind.SpscRecords, 0);
        RegionPart other = _region.FindPart(PartKind.SpscRecords, 1);
        long end = other.Offset + other.Length;
        var bytes = new Span<byte>(_region.BasePointer, (int)end).ToArray();
        long data = ring.Offset + RingLayout.ControlSize;
        bytes.AsSpan((int)data, Capacity).Clear();
        bytes.AsSpan((int)(ring.Offset + RingLayout.TailOffset), 8).Clear();
        bytes.AsSpan((int)(ring.Offset + RingLayout.ClaimEndOffset), 8).Clear();
        return bytes;
    }

    private void FillDataOfTheOtherRing(byte value)
    {
        RegionPart other = _region.FindPart(PartKind.SpscRecords, 1);
        new Span<byte>(_region.BasePointer + other.Offset + RingLayout.ControlSize, Capacity).Fill(value);
    }
}
