using UintrIpc.Channels;
using UintrIpc.Memory;
using UintrIpc.Rings;

namespace UintrIpc.Tests.Rings;

/// <summary>
/// A known limit of the automatic skip (uintripc.h 2f b): a producer object closed with a record
/// batch open leaves a marked record and an unwritten rest. The consumer skips the marked record
/// (its registration ended), and the rest only right after it, by the ended registration's intent,
/// which it trusts only because it remembers, privately, that it just skipped a record of that
/// registration there (a 2^32-stale intent covers live producers' positions too). A consumer
/// restarted between those two skips has lost that memory: the rest then waits for TryUnblock.
/// It takes a producer object closed while it holds a batch (a program error, or a close from
/// another thread) and a consumer restart within that short window; the stall is bounded by the
/// reader's TryUnblock, and nothing is lost or read twice.
/// </summary>
public sealed class RestartedConsumerClosedBatchTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_closed_producers_batch_rest_is_skipped_unless_the_consumer_restarted_after_its_marked_record(bool restarted)
    {
        using var region = SharedRegion.CreateAnonymous(RecordRing.Part(1024, multipleProducers: true));
        var buffer = new byte[64];
        var producer = new RecordRing(region);
        Assert.True(producer.TryClaimBatch(256, out RecordBatch batch));
        Assert.True(batch.TryAppend(7, 8, out _)); // a record marked by this registration; the rest of the range unwritten
        producer.Dispose(); // closed with the batch open: the registration ends, nothing is written
        batch.Dispose(); // after the ring: touches nothing

        var consumer = new RecordRing(region);
        Assert.True(consumer.TrySkipDeadClaim()); // the ended registration's marked record becomes padding
        Assert.False(consumer.TryRead(out _, buffer, out _)); // steps over it to the unwritten rest
        if (restarted)
        {
            consumer.Dispose();
            consumer = new RecordRing(region); // a new consumer: it never skipped that record
        }

        using (consumer)
        {
            Assert.Equal(!restarted, consumer.TrySkipDeadClaim());
            if (restarted)
            {
                Assert.False(consumer.TryRead(out _, buffer, out _));
                Assert.True(consumer.TryUnblock(TimeSpan.Zero)); // the manual path: the caller knows the producer is gone
            }

            using var next = new RecordRing(region);
            Assert.True(next.TryWrite(3, [1, 2, 3]));
            Assert.True(consumer.TryRead(out int type, buffer, out int length));
            Assert.Equal((3, 3), (type, length));
            Assert.False(consumer.TryRead(out _, buffer, out _));
        }
    }
}
