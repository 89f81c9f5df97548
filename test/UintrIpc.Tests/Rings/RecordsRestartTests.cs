using UintrIpc.Memory;
using UintrIpc.Rings;

namespace UintrIpc.Tests.Rings;

/// <summary>
/// A record consumer killed while zeroing a batch it released (uintripc.h 2e, 2g): the bytes it
/// left are a zeroed header followed by payload bytes. Its successor must resume after the batch
/// (no replay), finish the zeroing, and never read what is left as records; and a dead producer's
/// claim after it must still be recoverable by the manual unblock's scan.
/// </summary>
public sealed unsafe class RecordsRestartTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_consumer_killed_while_zeroing_is_succeeded_after_the_released_batch(bool multipleProducers)
    {
        PartKind kind = multipleProducers ? PartKind.MpscRecords : PartKind.SpscRecords;
        using var region = SharedRegion.CreateAnonymous(RecordRingUnderTest.Part(kind, 256));
        var producer = RecordRingUnderTest.Attach(kind, region);
        byte[] payload = [.. Enumerable.Range(1, 16).Select(i => (byte)i)]; // 24-byte records, no zero byte in them
        for (int type = 1; type <= 4; type++)
        {
            Assert.True(producer.TryWrite(type, payload));
        }

        // The killed consumer handled records 1-3, stored releasing = 72, zeroed record 1 and the
        // header and first payload bytes of record 2, and died before storing head.
        byte* data = region.PartPointer(region.Parts[0]) + RingLayout.ControlSize;
        byte* ring = data - RingLayout.ControlSize;
        *(long*)(ring + RingLayout.ReleasingOffset) = 72;
        new Span<byte>(data, 24 + 12).Clear();

        var successor = RecordRingUnderTest.Attach(kind, region);
        var messages = successor.Drain();

        Assert.Equal(4, Assert.Single(messages).Type); // record 4 only: 1-3 were released
        Assert.Equal(96, successor.ConsumerPosition);
        Assert.True(new ReadOnlySpan<byte>(data, 96).IndexOfAnyExcept((byte)0) < 0, "the released bytes were not all zeroed");
        Assert.True(producer.TryWrite(5, payload));
        Assert.Equal(5, Assert.Single(successor.Drain()).Type);
    }

    [Fact]
    public void A_dead_claim_after_an_interrupted_release_is_unblocked_by_the_scan_without_reading_payload_as_headers()
    {
        using var region = SharedRegion.CreateAnonymous(RecordRing.Part(256, multipleProducers: true));
        using var producer = new RecordRing(region);
        byte[] payload = [.. Enumerable.Range(1, 16).Select(i => (byte)i)];
        Assert.True(producer.TryWrite(1, payload));
        Assert.True(producer.TryWrite(2, payload));
        byte* ring = region.PartPointer(region.Parts[0]);
        byte* data = ring + RingLayout.ControlSize;
        *(long*)(ring + RingLayout.ReleasingOffset) = 48;
        new Span<byte>(data, 24 + 12).Clear(); // killed while zeroing records 1 and 2
        // A producer that won the CAS for the next 24 bytes and died before writing its header.
        *(long*)(ring + RingLayout.TailOffset) = 72;
        Assert.True(producer.TryWrite(3, payload));

        using var successor = new RecordRing(region);
        Assert.False(successor.TryRead(out _, new byte[64], out _));
        Assert.True(successor.TryUnblock(TimeSpan.Zero));
        Assert.True(successor.TryRead(out int type, new byte[64], out int length));
        Assert.Equal((3, 16), (type, length));
        Assert.False(successor.TryRead(out _, new byte[64], out _));
    }
}
