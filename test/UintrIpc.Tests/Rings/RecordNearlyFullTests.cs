using UintrIpc.Channels;
using UintrIpc.Memory;
using UintrIpc.Rings;

namespace UintrIpc.Tests.Rings;

/// <summary>
/// The SPSC record producer at a nearly full ring (uintripc.h 2e): after a head re-read that left
/// the ring nearly full it waits before the next re-read, but it never refuses a claim the ring
/// has room for, and the consumer's order and counts are untouched.
/// </summary>
public sealed class RecordNearlyFullTests
{
    [Fact]
    public void A_producer_that_found_the_ring_full_claims_each_record_the_consumer_gives_back()
    {
        using var region = SharedRegion.CreateAnonymous(RecordRing.Part(1024)); // nearly full below 128 bytes
        using var producer = new RecordRing(region);
        using var consumer = new RecordRing(region);
        long written = 0;
        while (producer.TryWrite(1, BitConverter.GetBytes(written)))
        {
            written++;
        }

        Assert.Equal(64, written); // 16-byte records: the ring is full, and the last re-read said so
        var buffer = new byte[8];
        long read = 0;
        for (int round = 0; round < 200; round++)
        {
            Assert.True(consumer.TryRead(out _, buffer, out _));
            Assert.Equal(read++, BitConverter.ToInt64(buffer));
            // Room for exactly one record again: the claim after the pause must take it.
            Assert.True(producer.TryWrite(1, BitConverter.GetBytes(written)), $"round {round}: refused with room for the record");
            written++;
            Assert.False(producer.TryWrite(1, BitConverter.GetBytes(written)));
        }

        while (consumer.TryRead(out _, buffer, out _))
        {
            Assert.Equal(read++, BitConverter.ToInt64(buffer));
        }

        Assert.Equal(written, read);
        Assert.Equal(producer.ProducerPosition, consumer.ConsumerPosition);
    }

    [Fact]
    public void A_batch_claim_at_a_nearly_full_ring_still_takes_the_room_there_is()
    {
        using var region = SharedRegion.CreateAnonymous(RecordRing.Part(1024));
        using var producer = new RecordRing(region);
        using var consumer = new RecordRing(region);
        while (producer.TryWrite(1, new byte[8]))
        {
        }

        Assert.False(producer.TryClaimBatch(64, out _));
        var buffer = new byte[8];
        for (int i = 0; i < 4; i++)
        {
            Assert.True(consumer.TryRead(out _, buffer, out _));
        }

        Assert.True(producer.TryClaimBatch(64, out RecordBatch batch), "refused a range the ring has room for");
        batch.Dispose();
    }
}
