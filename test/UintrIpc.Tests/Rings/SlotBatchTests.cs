using UintrIpc.Channels;
using UintrIpc.Memory;
using UintrIpc.Rings;
using UintrIpc.TestPeer.Commands;
using UintrIpc.Tests.Signaling;

namespace UintrIpc.Tests.Rings;

/// <summary>
/// Batched in-place claims of slot rings (SlotRing.TryClaim(count)), in both modes: exact values
/// and order, partial batches at the wrap and near full, aborts that never stall the consumer,
/// several MPSC producer threads with exact counts, and no allocation per batch.
/// </summary>
public sealed class SlotBatchTests
{
    private static SharedRegion Region(int capacity, bool multi) => SharedRegion.CreateAnonymous(SlotRing<long>.Part(capacity, multi));

    private static List<long> ReadAll(SlotRing<long> ring)
    {
        var handler = new ListHandler<long>([]);
        ring.Drain(ref handler);
        return handler.Items;
    }

    /// <summary>Claims up to <paramref name="count"/>, writes first, first + 1, ... and publishes; returns how many.</summary>
    private static int WriteBatch(SlotRing<long> ring, int count, long first)
    {
        bool claimed = ring.TryClaim(count, out SlotBatch<long> batch);
        return SequenceBatches.FillAndPublish(claimed, ref batch, first);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Batch_is_published_with_one_position_update_and_read_in_order(bool multi)
    {
        using var region = Region(16, multi);
        using var ring = new SlotRing<long>(region);

        Assert.True(ring.TryClaim(5, out SlotBatch<long> batch));
        Assert.Equal(5, batch.Count);
        Assert.Equal(0, batch.Position);
        for (int i = 0; i < batch.Count; i++)
        {
            batch[i] = 100 + i;
        }

        Assert.False(ring.CanRead); // nothing visible before Publish
        Assert.Equal(multi ? 5 : 0, ring.ProducerPosition); // MPSC: the CAS took them; SPSC: the tail moves at publish
        batch.Publish();
        Assert.False(batch.IsActive);
        Assert.Equal(5, ring.ProducerPosition);
        Assert.Equal([100, 101, 102, 103, 104], ReadAll(ring));
        Assert.Equal(5, ring.ConsumerPosition);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Elements_of_a_batch_across_the_wrap_land_in_their_slots(bool multi)
    {
        // 24-byte slots (a 16-byte element): the indexer's slot arithmetic is not a shift.
        using var region = SharedRegion.CreateAnonymous(SlotRing<Pair>.Part(8, multi));
        using var ring = new SlotRing<Pair>(region);
        Assert.Equal(5, ring.TryWrite([new(0, 0), new(1, 1), new(2, 2), new(3, 3), new(4, 4)]));
        var first = new ListHandler<Pair>([]);
        Assert.Equal(5, ring.Drain(ref first));

        Assert.True(ring.TryClaim(7, out SlotBatch<Pair> batch)); // positions 5..11: slots 5, 6, 7, 0, 1, 2, 3
        Assert.Equal(7, batch.Count);
        for (int i = 0; i < batch.Count; i++)
        {
            batch[i] = new Pair(100 + i, -100 - i);
        }

        batch.Publish();
        var handler = new ListHandler<Pair>([]);
        Assert.Equal(7, ring.Drain(ref handler));
        Assert.Equal(Enumerable.Range(0, 7).Select(i => new Pair(100 + i, -100 - i)), handler.Items);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Partial_batches_at_the_wrap_and_when_nearly_full(bool multi)
    {
        using var region = Region(8, multi);
        using var ring = new SlotRing<long>(region);
        Assert.Equal(5, WriteBatch(ring, 5, 0));
        Assert.Equal([0, 1, 2, 3, 4], ReadAll(ring));

        Assert.Equal(6, WriteBatch(ring, 6, 10)); // positions 5..10: across the end of the slots
        Assert.Equal(2, WriteBatch(ring, 8, 20)); // 2 slots left: the batch is cut to fit
        Assert.False(ring.TryClaim(1, out SlotBatch<long> none));
        Assert.False(none.IsActive);
        Assert.Equal(8, WriteBatch(ring, 100, 30) + ReadAll(ring).Count); // full: nothing claimed; all 8 read

        Assert.Equal(8, WriteBatch(ring, 100, 40)); // count above the capacity claims the whole ring
        Assert.Equal([40, 41, 42, 43, 44, 45, 46, 47], ReadAll(ring));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Published_part_is_read_and_the_rest_given_up(bool multi)
    {
        using var region = Region(8, multi);
        using var ring = new SlotRing<long>(region);
        Assert.True(ring.TryClaim(6, out SlotBatch<long> batch));
        batch[0] = 7;
        batch[1] = 8;
        batch.Publish(2);
        ThrowsOn<InvalidOperationException>(ref batch, (ref SlotBatch<long> b) => b.Publish());

        Assert.Equal(1, WriteBatch(ring, 1, 9));
        Assert.Equal([7, 8, 9], ReadAll(ring));
        Assert.Equal(multi ? 7 : 3, ring.ConsumerPosition); // MPSC: the 4 given-up slots were skipped; SPSC: reused
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Abandoned_batch_in_the_middle_never_stalls_the_consumer(bool multi)
    {
        using var region = Region(8, multi);
        using var ring = new SlotRing<long>(region);
        Assert.Equal(2, WriteBatch(ring, 2, 1));
        try
        {
            Assert.True(ring.TryClaim(3, out SlotBatch<long> batch));
            using (batch)
            {
                batch[0] = -1;
                throw new InvalidOperationException("the producer fails while filling");
            }
        }
        catch (InvalidOperationException)
        {
        }

        Assert.Equal(3, WriteBatch(ring, 3, 3));
        Assert.Equal([1, 2, 3, 4, 5], ReadAll(ring));
        for (int lap = 0; lap < 5; lap++)
        {
            Assert.Equal(4, WriteBatch(ring, 4, lap * 10)); // later writes delivered, across laps
            Assert.Equal(4, ReadAll(ring).Count);
        }
    }

    [Fact]
    public void Mpsc_batches_interleave_with_other_claims_and_aborts()
    {
        using var region = Region(8, multi: true);
        using var ring = new SlotRing<long>(region);
        Assert.True(ring.TryClaim(3, out SlotBatch<long> first));
        Assert.Equal(2, WriteBatch(ring, 2, 50)); // claimed after `first`: waits behind it
        Assert.Empty(ReadAll(ring));
        first[0] = 1;
        first.Abort();
        first.Dispose(); // after Abort: nothing more
        Assert.Equal([50, 51], ReadAll(ring));
        Assert.Equal(5, ring.ConsumerPosition);
    }

    [Fact]
    public void Mpsc_drain_limit_counts_elements_not_the_skipped_slots_between_them()
    {
        using var region = Region(16, multi: true);
        using var ring = new SlotRing<long>(region);
        Assert.Equal(2, WriteBatch(ring, 2, 0)); // positions 0, 1
        Assert.True(ring.TryClaim(3, out SlotBatch<long> aborted)); // 2..4: skipped
        aborted.Abort();
        Assert.Equal(4, WriteBatch(ring, 4, 2)); // 5..8
        Assert.True(ring.TryClaim(1, out SlotBatch<long> open)); // 9: not yet published

        var handler = new ListHandler<long>([]);
        Assert.Equal(4, ring.Drain(ref handler, 4)); // over the skips: four elements
        Assert.Equal([0, 1, 2, 3], handler.Items);
        Assert.Equal(7, ring.ConsumerPosition);
        var rest = new ListHandler<long>([]);
        Assert.Equal(2, ring.Drain(ref rest, 64)); // stops at the open claim
        Assert.Equal([4, 5], rest.Items);
        Assert.Equal(9, ring.ConsumerPosition);
        open.Publish();
        Assert.Single(ReadAll(ring));
    }

    [Fact]
    public void Mpsc_drain_that_steps_over_skips_only_leaves_the_shared_head_after_them()
    {
        // A drain that consumed no element but stepped over skipped slots and then caught up: the
        // shared head published for the skips must stay (put back to the drain's start, it would
        // move back for the producers: with the ring full, a tail beyond head + capacity).
        using var region = Region(8, multi: true);
        using var ring = new SlotRing<long>(region);
        Assert.True(ring.TryClaim(3, out SlotBatch<long> aborted));
        aborted.Abort();
        Assert.Empty(ReadAll(ring));
        Assert.Equal(3, ring.ConsumerPosition);
        Assert.Equal(8, WriteBatch(ring, 8, 0)); // the whole ring again: room only from head 3
        Assert.Equal(8, ReadAll(ring).Count);
        Assert.Equal(11, ring.ConsumerPosition);
    }

    [Fact]
    public void Spsc_write_before_publishing_supersedes_the_batch()
    {
        using var region = Region(8, multi: false);
        using var ring = new SlotRing<long>(region);
        Assert.True(ring.TryClaim(3, out SlotBatch<long> batch));
        Assert.True(ring.TryWrite(5));
        ThrowsOn<InvalidOperationException>(ref batch, (ref SlotBatch<long> b) => b.Publish());
        Assert.Equal([5], ReadAll(ring));
    }

    /// <summary>
    /// Publish checks once, at its start, that the ring object was not disposed (its stores and
    /// checks run in one call): a batch of a disposed producer's object throws and publishes
    /// nothing, while the region (still mapped here) and a consumer of their own go on.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Publishing_a_batch_of_a_disposed_ring_throws_and_publishes_nothing(bool multi)
    {
        using var region = Region(8, multi);
        using var consumer = new SlotRing<long>(region);
        var producer = new SlotRing<long>(region);
        Assert.True(producer.TryClaim(3, out SlotBatch<long> batch));
        batch[0] = 1;
        batch[1] = 2;
        batch[2] = 3;
        producer.Dispose();

        ThrowsOn<ObjectDisposedException>(ref batch, (ref SlotBatch<long> b) => b.Publish());
        Assert.False(consumer.CanRead); // no sequence published (MPSC: the claim stays open, its producer's object gone)
        Assert.Empty(ReadAll(consumer));
        Assert.Equal(multi ? 3 : 0, consumer.ProducerPosition); // SPSC: no tail stored
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Misuse_throws(bool multi)
    {
        using var region = Region(8, multi);
        using var ring = new SlotRing<long>(region);
        Assert.Throws<ArgumentOutOfRangeException>(() => ring.TryClaim(0, out _));
        Assert.True(ring.TryClaim(2, out SlotBatch<long> batch));
        ThrowsOn<ArgumentOutOfRangeException>(ref batch, (ref SlotBatch<long> b) => _ = b[2]);
        ThrowsOn<ArgumentOutOfRangeException>(ref batch, (ref SlotBatch<long> b) => _ = b[-1]);
        ThrowsOn<ArgumentOutOfRangeException>(ref batch, (ref SlotBatch<long> b) => b.Publish(3));
        ThrowsOn<ArgumentOutOfRangeException>(ref batch, (ref SlotBatch<long> b) => b.Publish(-1));
        batch[0] = 1;
        batch[1] = 2;
        batch.Publish();
        ThrowsOn<InvalidOperationException>(ref batch, (ref SlotBatch<long> b) => _ = b[0]);
        ThrowsOn<InvalidOperationException>(ref batch, (ref SlotBatch<long> b) => b.Abort());
        Assert.Equal([1, 2], ReadAll(ring));
        Assert.Throws<InvalidOperationException>(() => default(SlotBatch<long>).Publish());
        ring.Dispose();
        Assert.Throws<ObjectDisposedException>(() => ring.TryClaim(1, out _));
    }

    [Fact]
    public void Mpsc_producer_threads_deliver_every_element_once_in_per_thread_order()
    {
        const int Producers = 3;
        int perProducer = Bounded.IsStress ? 200_000 : 20_000;
        using var region = Region(64, multi: true);
        using var ring = new SlotRing<long>(region);
        using var stop = new CancellationTokenSource(TestWait.Long);
        var threads = new List<TestThread>();
        for (int p = 0; p < Producers; p++)
        {
            int producer = p;
            threads.Add(new TestThread(() =>
            {
                var random = new Random(producer);
                int sent = 0;
                while (sent < perProducer && !stop.IsCancellationRequested)
                {
                    if (!ring.TryClaim(Math.Min(random.Next(1, 12), perProducer - sent), out SlotBatch<long> batch))
                    {
                        Thread.Yield();
                        continue;
                    }

                    using (batch)
                    {
                        int abortAt = random.Next(10) == 0 ? random.Next(batch.Count + 1) : -1; // sometimes publish a part only
                        int publish = abortAt >= 0 ? abortAt : batch.Count;
                        for (int i = 0; i < publish; i++)
                        {
                            batch[i] = ((long)producer << 32) | (uint)(sent + i);
                        }

                        batch.Publish(publish);
                        sent += publish;
                    }
                }
            }, $"batch producer {producer}"));
        }

        var next = new int[Producers];
        long total = 0;
        while (total < (long)Producers * perProducer && !stop.IsCancellationRequested)
        {
            if (!ring.TryRead(out long item))
            {
                Thread.Yield();
                continue;
            }

            int producer = (int)(item >> 32);
            Assert.Equal(next[producer]++, (int)(uint)item);
            total++;
        }

        threads.ForEach(t => t.Join());
        Assert.False(ring.TryRead(out _));
        Assert.Equal(Enumerable.Repeat(perProducer, Producers), next);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Batches_allocate_nothing(bool multi)
    {
        using var region = Region(64, multi);
        using var ring = new SlotRing<long>(region);
        long Run()
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int round = 0; round < 2000; round++)
            {
                WriteBatch(ring, 16, round);
                var handler = new SumHandler();
                ring.Drain(ref handler);
            }

            return GC.GetAllocatedBytesForCurrentThread() - before;
        }

        Run(); // warm-up: JIT, the MPSC producer's table entry
        Assert.Equal(0, Run());
    }

    /// <summary>Runs on a live batch (a lambda cannot capture a ref struct).</summary>
    private delegate void BatchAction(ref SlotBatch<long> batch);

    private static void ThrowsOn<TException>(ref SlotBatch<long> batch, BatchAction action)
        where TException : Exception
    {
        try
        {
            action(ref batch);
        }
        catch (TException)
        {
            return;
        }

        Assert.Fail($"expected {typeof(TException).Name}");
    }

    private struct SumHandler : ISlotHandler<long>
    {
        public long Sum;

        public void Handle(in long item) => Sum += item;
    }
}

/// <summary>A 16-byte element: its slots take 24 bytes.</summary>
internal readonly record struct Pair(long A, long B);
