using System.Buffers.Binary;
using UintrIpc.Memory;
using UintrIpc.Rings;
using UintrIpc.Tests.Infrastructure;

namespace UintrIpc.Tests.Rings.CrossProcess;

/// <summary>
/// A new SPSC record producer clears exactly what a killed predecessor's open batch may have
/// written, [tail, claim_end) (uintripc.h 2g), and not the rest of the free area: the producer, a
/// child process, writes three messages, appends two records to a batch and is killed with it
/// open; the bytes it left are there, the next producer's first write zeroes them up to claim_end
/// and leaves a byte beyond it, and the consumer gets the three messages and then only the new one.
/// </summary>
[Collection(CrossProcessCollection.Name)]
public sealed class KilledBatchClearTests(ITestOutputHelper output) : IDisposable
{
    private const int Capacity = 64 << 10;
    private readonly ShmNames _names = new();
    private PeerProcess? _peer;

    [Fact]
    public void The_next_producer_clears_the_killed_batch_up_to_claim_end_and_no_further()
    {
        string name = _names.New("killbatch");
        using var region = SharedRegion.CreateNamed(name, 0, RecordRing.Part(Capacity));
        var memory = RingMemory.Of(region, PartKind.SpscRecords);
        using var consumer = new RecordRing(region);
        _peer = PeerProcess.Start(output, "ring-dispose-open", name, "record-batch", "die");
        _peer.WaitForOutput("open");
        _peer.Kill();

        // Three 8-byte messages (16 bytes each), then the batch's two records of 24 bytes (32 each).
        ulong tail = memory.Tail;
        Assert.Equal(48ul, tail);
        ulong claimEnd = memory.ClaimEnd;
        Assert.InRange(claimEnd, tail + 128, (ulong)Capacity); // covers the batch's 128 bytes, far from the free area's end
        Assert.NotEqual(0, memory.DataByte(tail + 8)); // the leftover is there: the first record's payload
        Assert.NotEqual(0, memory.DataByte(tail + 32 + 8)); // and the second's (a range of 1 KiB or less has no headers before its commit, 2e)
        memory.DataByte(claimEnd) = 0x77; // beyond claim_end: a bounded clear leaves it

        var buffer = new byte[consumer.MaxMessageLength];
        for (long value = 0; value < 3; value++)
        {
            Assert.True(consumer.TryRead(out int type, buffer, out int length));
            Assert.Equal((1, 8, value), (type, length, BinaryPrimitives.ReadInt64LittleEndian(buffer)));
        }

        Assert.False(consumer.TryRead(out _, buffer, out _)); // the open batch is not published

        using var producer = new RecordRing(region);
        Assert.True(producer.TryWrite(2, new byte[4])); // 16 bytes at [48, 64)
        for (ulong at = tail + 16; at < claimEnd; at++)
        {
            Assert.True(memory.DataByte(at) == 0, $"byte at {at} (claim_end {claimEnd}) is {memory.DataByte(at)}");
        }

        Assert.Equal(0x77, memory.DataByte(claimEnd));
        memory.DataByte(claimEnd) = 0;
        Assert.True(consumer.TryRead(out int newType, buffer, out int newLength));
        Assert.Equal((2, 4), (newType, newLength));
        Assert.False(consumer.TryRead(out _, buffer, out _)); // nothing of the killed batch is read
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _peer?.Dispose();
        _names.Dispose();
    }
}
