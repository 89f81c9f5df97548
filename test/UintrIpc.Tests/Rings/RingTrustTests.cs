using UintrIpc.Memory;
using UintrIpc.Rings;

namespace UintrIpc.Tests.Rings;

/// <summary>
/// Findings 6, 7 and 8 of the trust issue, one regression test each way they showed:
/// abandoned claims (6), positions near 2^63 (7), a peer rewriting the positions a side keeps
/// for itself (8). Each failed before the fix.
/// </summary>
public sealed class RingTrustTests : IDisposable
{
    private readonly List<SharedRegion> _regions = [];

    public void Dispose()
    {
        foreach (var region in _regions)
        {
            region.Dispose();
        }
    }

    // ---- 6: a claim whose owner throws is aborted by Dispose ------------------------------------

    [Fact]
    public void An_mpsc_slot_claim_disposed_without_publish_is_skipped_and_the_next_producer_gets_through()
    {
        var region = Region(SlotRing<long>.Part(8, multipleProducers: true));
        var producerA = new SlotRing<long>(region);
        var producerB = new SlotRing<long>(region);
        var consumer = new SlotRing<long>(region);

        Assert.Throws<InvalidOperationException>((Action)(() =>
        {
            Assert.True(producerA.TryClaim(out SlotClaim<long> claim));
            using (claim)
            {
                throw new InvalidOperationException("the code filling the claim failed");
            }
        }));
        Assert.True(producerB.TryWrite(7));

        Assert.True(consumer.TryRead(out long value));
        Assert.Equal(7, value);
        Assert.False(consumer.TryRead(out _));
    }

    [Fact]
    public void Disposing_a_copy_of_a_published_slot_claim_changes_nothing()
    {
        var region = Region(SlotRing<long>.Part(8, multipleProducers: true));
        var ring = new SlotRing<long>(region);
        Assert.True(ring.TryClaim(out SlotClaim<long> claim));
        var copy = claim; // what `using (claim)` disposes
        claim.Item = 5;
        claim.Publish();
        copy.Dispose();
        copy.Dispose();

        Assert.True(ring.TryRead(out long value));
        Assert.Equal(5, value);
        Assert.True(ring.TryWrite(6));
        Assert.True(ring.TryRead(out value));
        Assert.Equal(6, value);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_record_claim_disposed_without_commit_becomes_padding_and_later_messages_flow(bool multipleProducers)
    {
        PartKind kind = multipleProducers ? PartKind.MpscRecords : PartKind.SpscRecords;
        var region = Region(RecordRingUnderTest.Part(kind, 256));
        var ring = RecordRingUnderTest.Attach(kind, region);

        Assert.Throws<InvalidOperationException>((Action)(() =>
        {
            Assert.True(ring.TryClaim(1, 16, out RecordClaim claim));
            using (claim)
            {
                throw new InvalidOperationException("the code filling the claim failed");
            }
        }));
        Assert.True(ring.TryWrite(2, [1, 2, 3]));

        var (type, payload) = Assert.Single(ring.Drain());
        Assert.Equal(2, type);
        Assert.Equal([1, 2, 3], payload);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Disposing_a_copy_of_a_committed_record_claim_changes_nothing(bool multipleProducers)
    {
        PartKind kind = multipleProducers ? PartKind.MpscRecords : PartKind.SpscRecords;
        var region = Region(RecordRingUnderTest.Part(kind, 256));
        var ring = RecordRingUnderTest.Attach(kind, region);
        Assert.True(ring.TryClaim(1, 8, out RecordClaim claim));
        var copy = claim;
        claim.Payload.Fill(9);
        claim.Commit();
        Assert.Single(ring.Drain());
        // The same bytes are claimed again by the next message: the stale copy must not abort it.
        for (int i = 0; i < 40; i++)
        {
            Assert.True(ring.TryClaim(3, 8, out RecordClaim next));
            copy.Dispose();
            next.Payload.Fill(4);
            next.Commit();
            var (type, _) = Assert.Single(ring.Drain());
            Assert.Equal(3, type);
        }
    }

    // ---- 7: positions near 2^63 ---------------------------------------------------------------

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Attach_refuses_slot_positions_where_a_sequence_could_alias_the_skip_bit(bool multipleProducers)
    {
        PartKind kind = multipleProducers ? PartKind.MpscSlots : PartKind.SpscSlots;
        var factory = kind == PartKind.SpscSlots ? (ISlotRingFactory)SpscFactory.Instance : MpscFactory.Instance;
        var region = Region(factory.Part<long>(8));
        var memory = RingMemory.Of(region, kind);
        memory.Head = (1UL << 63) - 2;
        memory.Tail = (1UL << 63) - 2;

        var e = Assert.Throws<RingCorruptedException>(() => factory.Attach<long>(region));
        Assert.Contains("2^62", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_mpsc_slot_producer_refuses_a_tail_moved_near_2_pow_63()
    {
        var region = Region(SlotRing<long>.Part(8, multipleProducers: true));
        var ring = new SlotRing<long>(region);
        var memory = RingMemory.Of(region, PartKind.MpscSlots);
        memory.Tail = (1UL << 63) - 1;
        memory.Head = (1UL << 63) - 1;

        Assert.Throws<RingCorruptedException>(() => ring.TryWrite(1));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Attach_refuses_record_positions_where_tail_plus_capacity_overflows(bool multipleProducers)
    {
        PartKind kind = multipleProducers ? PartKind.MpscRecords : PartKind.SpscRecords;
        var region = Region(RecordRingUnderTest.Part(kind, 256));
        var memory = new RecordRingMemory(region, kind);
        memory.Head = long.MaxValue & ~7L;
        memory.Tail = long.MaxValue & ~7L;

        Assert.Throws<RingCorruptedException>(() => RecordRingUnderTest.Attach(kind, region));
    }

    // ---- 8: a side keeps its own position -------------------------------------------------------

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void The_record_consumer_ignores_a_head_rewritten_by_the_peer(bool multipleProducers)
    {
        PartKind kind = multipleProducers ? PartKind.MpscRecords : PartKind.SpscRecords;
        var region = Region(RecordRingUnderTest.Part(kind, 256));
        var producer = RecordRingUnderTest.Attach(kind, region);
        var consumer = RecordRingUnderTest.Attach(kind, region);
        var memory = new RecordRingMemory(region, kind);
        for (int i = 0; i < 3; i++)
        {
            Assert.True(producer.TryWrite(i, [(byte)i]));
        }

        Assert.Equal(0, Assert.Single(consumer.Drain(limit: 1)).Type);
        memory.Head = 32; // the third record: a consumer steered by it would skip the second silently

        Assert.Equal([1, 2], consumer.Drain().Select(m => m.Type));
        Assert.Equal(48, memory.Head);
    }

    [Fact]
    public void The_spsc_record_producer_ignores_a_tail_moved_back_by_the_peer()
    {
        var region = Region(RecordRing.Part(256));
        var producer = new RecordRing(region);
        var consumer = new RecordRing(region);
        var memory = new RecordRingMemory(region, PartKind.SpscRecords);
        Assert.True(producer.TryWrite(1, [1]));
        memory.Tail = 0; // a producer steered by it would write over the pending record

        Assert.True(producer.TryWrite(2, [2]));

        Assert.Equal([1, 2], new RecordRingUnderTest.Spsc(consumer).Drain().Select(m => m.Type));
    }

    [Fact]
    public void The_mpsc_record_producer_refuses_a_tail_moved_back_by_the_peer()
    {
        var region = Region(RecordRing.Part(256, multipleProducers: true));
        var producer = new RecordRing(region);
        var consumer = new RecordRing(region);
        var memory = new RecordRingMemory(region, PartKind.MpscRecords);
        Assert.True(producer.TryWrite(1, [1]));
        Assert.True(producer.TryWrite(2, [2]));
        memory.Tail = 0;

        Assert.Throws<RingCorruptedException>(() => producer.TryWrite(3, [3]));
        memory.Tail = 32; // put back: nothing pending was overwritten
        Assert.Equal([1, 2], new RecordRingUnderTest.Mpsc(consumer).Drain().Select(m => m.Type));
    }

    [Fact]
    public void The_mpsc_slot_producer_refuses_a_tail_moved_back_by_the_peer()
    {
        var region = Region(SlotRing<long>.Part(8, multipleProducers: true));
        var producer = new SlotRing<long>(region);
        var consumer = new SlotRing<long>(region);
        var memory = RingMemory.Of(region, PartKind.MpscSlots);
        Assert.True(producer.TryWrite(1));
        Assert.True(producer.TryWrite(2));
        memory.Tail = 0;

        Assert.Throws<RingCorruptedException>(() => producer.TryWrite(3));
        Assert.Throws<RingCorruptedException>(() => producer.TryWrite([3L, 4L]));
        memory.Tail = 2;
        Assert.True(consumer.TryRead(out long first));
        Assert.True(consumer.TryRead(out long second));
        Assert.Equal((1, 2), (first, second));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void The_slot_consumer_ignores_a_head_rewritten_by_the_peer(bool multipleProducers)
    {
        PartKind kind = multipleProducers ? PartKind.MpscSlots : PartKind.SpscSlots;
        var factory = kind == PartKind.SpscSlots ? (ISlotRingFactory)SpscFactory.Instance : MpscFactory.Instance;
        var region = Region(factory.Part<long>(8));
        var producer = factory.Attach<long>(region);
        var consumer = factory.Attach<long>(region);
        var memory = RingMemory.Of(region, kind);
        for (long i = 0; i < 3; i++)
        {
            Assert.True(producer.TryWrite(i));
        }

        Assert.True(consumer.TryRead(out long value));
        Assert.Equal(0, value);
        memory.Head = 2;

        Assert.Equal([1L, 2L], consumer.DrainToList());
        Assert.Equal(3UL, memory.Head);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void An_idle_slot_consumer_publishes_its_head_again_over_one_rewritten_by_the_peer(bool multipleProducers)
    {
        PartKind kind = multipleProducers ? PartKind.MpscSlots : PartKind.SpscSlots;
        // A forged head of tail - capacity is consistent for the producer: the ring looks full for
        // good while the consumer, with nothing to read, would never publish again (fuzz round 59).
        var factory = kind == PartKind.SpscSlots ? (ISlotRingFactory)SpscFactory.Instance : MpscFactory.Instance;
        var region = Region(factory.Part<long>(8));
        var producer = factory.Attach<long>(region);
        var consumer = factory.Attach<long>(region);
        var memory = RingMemory.Of(region, kind);
        for (long i = 0; i < 8; i++)
        {
            Assert.True(producer.TryWrite(i));
        }

        Assert.Equal(8, consumer.DrainToList().Count);
        memory.Head = 0;
        Assert.False(producer.TryWrite(8)); // the forged value holds the producer back ...

        Assert.False(consumer.TryRead(out _)); // ... until the idle consumer looks
        Assert.Equal(8UL, memory.Head);
        Assert.True(producer.TryWrite(8));
        Assert.Equal([8L], consumer.DrainToList());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void An_idle_record_consumer_publishes_its_head_again_over_one_rewritten_by_the_peer(bool multipleProducers)
    {
        PartKind kind = multipleProducers ? PartKind.MpscRecords : PartKind.SpscRecords;
        var region = Region(RecordRingUnderTest.Part(kind, 256));
        var producer = RecordRingUnderTest.Attach(kind, region);
        var consumer = RecordRingUnderTest.Attach(kind, region);
        var memory = new RecordRingMemory(region, kind);
        int written = 0;
        while (producer.TryWrite(written, new byte[24]))
        {
            written++;
        }

        Assert.Equal(written, consumer.Drain().Count);
        long head = memory.Head;
        memory.Head = memory.Tail - memory.Capacity; // consistent for the producer: full for good
        Assert.False(producer.TryWrite(0, new byte[24]));

        Assert.Empty(consumer.Drain());
        Assert.Equal(head, memory.Head);
        Assert.True(producer.TryWrite(7, new byte[24]));
        Assert.Equal([7], consumer.Drain().Select(m => m.Type));
    }

    private SharedRegion Region(PartSpec part)
    {
        var region = SharedRegion.CreateAnonymous(part);
        _regions.Add(region);
        return region;
    }
}
