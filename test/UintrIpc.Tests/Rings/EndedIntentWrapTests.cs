using UintrIpc.Channels;
using UintrIpc.Memory;
using UintrIpc.Rings;

namespace UintrIpc.Tests.Rings;

/// <summary>
/// An intent word holds a position's low 32 bits (uintripc.h 2f), so the last intent of an ended
/// registration (a producer ring object disposed long ago, its claim committed and consumed)
/// covers positions again every 2^32 bytes. The rule that counts an ended registration's intent
/// as a dead producer's past the claim's first header (2f b) must not let such a stale intent make
/// the consumer pad over a live producer's records: here a live producer's batch, which it commits
/// while a write of its own follows the batch (its intent then covers that write, not the batch).
/// </summary>
public sealed class EndedIntentWrapTests
{
    private const int Capacity = 1 << 20;
    private const int MaxRecord = Capacity / 8; // the default longest payload is capacity / 8
    private const long Lap32 = 1L << 32;

    [Fact]
    public void A_stale_ended_intent_2_pow_32_bytes_back_does_not_make_the_consumer_pad_over_a_live_batch()
    {
        using var region = SharedRegion.CreateAnonymous(RecordRing.Part(Capacity, multipleProducers: true));
        var memory = RingMemory.Of(region, PartKind.MpscRecords);
        using var consumer = new RecordRing(region);
        using var traffic = new RecordRing(region);
        Assert.True(traffic.TryWrite(1, new byte[8])); // registers this thread's entry of the traffic object first
        Drain(consumer);

        // A producer object writes one batch and is disposed: its registration ends with that batch's intent.
        long start;
        using (var ended = new RecordRing(region))
        {
            start = ended.ProducerPosition;
            Assert.True(ended.TryClaimBatch(4096, out var batch));
            Assert.True(batch.TryAppend(1, 56, out _));
            batch.Commit();
        }

        Drain(consumer);
        Assert.Equal(start + 4096, consumer.ConsumerPosition);

        // 2^32 - 4096 bytes of real traffic, in batches that never need padding: the ring is back
        // at the ended intent's start, modulo 2^32.
        long target = start + Lap32;
        while (traffic.ProducerPosition < target)
        {
            long tail = traffic.ProducerPosition;
            int bytes = (int)Math.Min(Math.Min(target - tail, Capacity / 2), Capacity - (tail & (Capacity - 1)));
            Assert.True(traffic.TryClaimBatch(bytes, out var batch));
            for (int left = bytes; left > 0;)
            {
                int record = Math.Min(left, MaxRecord);
                Assert.True(batch.TryAppend(1, record - 8, out _));
                left -= record;
            }

            batch.Commit();
            Drain(consumer);
        }

        Assert.Equal(target, consumer.ConsumerPosition);

        // A live producer claims a batch there, appends a record, then writes a message after the
        // batch (allowed: the batch's start carries its marker, 2e), which moves its intent away.
        using var live = new RecordRing(region);
        Assert.True(live.TryClaimBatch(1024, out var open));
        Assert.True(open.TryAppend(7, 56, out _));
        Assert.True(live.TryWrite(9, new byte[8])); // at target + 1024, committed
        Assert.Equal(target + 1040, live.ProducerPosition);

        // Its commit publishes the record first, then pads the unused rest: this is the moment in
        // between (as CommitBatch leaves it after its loop, before FillWithPadding).
        memory.RecordHeader((ulong)target) = 64 | (7UL << 32);
        Assert.True(consumer.TryRead(out int type, new byte[MaxRecord], out _));
        Assert.Equal(7, type);

        // Nothing of the live producer is dead: no skip.
        Assert.False(consumer.TrySkipDeadClaim(), "the consumer padded over a live producer's batch and the message after it");

        // The commit finishes (its padding), and the message after the batch arrives.
        memory.RecordHeader((ulong)target + 64) = (1024 - 64) | (unchecked((ulong)(uint)RingLayout.PaddingRecordType) << 32);
        Assert.True(consumer.TryRead(out type, new byte[MaxRecord], out int length));
        Assert.Equal((9, 8), (type, length));
    }

    /// <summary>
    /// The same state in the small, from the table: an ended registration's intent covers a zero
    /// header that follows a committed record (not a record of that registration the consumer
    /// skipped), as a stale intent does where a live producer commits its batch.
    /// </summary>
    [Fact]
    public void An_ended_intent_does_not_attribute_a_zero_header_after_a_committed_record()
    {
        const int Small = 256;
        using var region = SharedRegion.CreateAnonymous(RecordRing.Part(Small, multipleProducers: true));
        var memory = RingMemory.Of(region, PartKind.MpscRecords);
        memory.Register(0, 0, PidNamespace.Current, start: 32, count: 200); // ended: pid 0, its intent reaching past the tail
        memory.Head = 32;
        memory.Tail = 112;
        using var reader = new RecordRing(region);
        memory.RecordHeader(32) = 16 | (5UL << 32); // committed
        memory.RecordHeader(96) = 16 | (6UL << 32); // committed, after the zero header at 48
        Assert.True(reader.TryRead(out int type, new byte[64], out _));
        Assert.Equal(5, type);

        Assert.False(reader.TrySkipDeadClaim(), "padded over [48, 112), the committed message at 96 too");
        Assert.Equal(48, reader.ConsumerPosition);
    }

    private static void Drain(RecordRing consumer)
    {
        var handler = new Discard();
        while (consumer.Read(ref handler) > 0)
        {
        }
    }

    private struct Discard : IRecordHandler
    {
        public readonly void Handle(int type, ReadOnlySpan<byte> payload)
        {
        }
    }
}
