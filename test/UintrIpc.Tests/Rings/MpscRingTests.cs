using CsCheck;
using UintrIpc.Memory;
using UintrIpc.Rings;

namespace UintrIpc.Tests.Rings;

/// <summary>What only <see cref="SlotRing{T}"/> does: unblocking dead producers, skip markers, linearizability.</summary>
public sealed class MpscRingTests
{
    [Fact]
    public void TryUnblock_SkipsADeadProducersClaim_LaterMessagesArriveInOrder()
    {
        using var region = SharedRegion.CreateAnonymous(SlotRing<long>.Part(8, multipleProducers: true));
        using var consumerMapping = SharedRegion.Attach(region.FileHandle);
        var alive = new SlotRing<long>(region);
        var dead = new SlotRing<long>(region);
        var consumer = new SlotRing<long>(consumerMapping);

        Assert.True(alive.TryWrite(1));               // position 0
        Assert.True(dead.TryClaim(out var claim));    // position 1: claimed, never published
        claim.Item = -1;
        Assert.Equal(3, alive.TryWrite([2, 3, 4]));   // positions 2..4

        Assert.True(consumer.TryRead(out long first));
        Assert.Equal(1, first);
        Assert.False(consumer.TryRead(out _), "the consumer must wait for the claimed position");
        Assert.False(consumer.CanRead);
        Assert.Equal(4, consumer.Count);

        Assert.False(consumer.TryUnblock(TimeSpan.FromHours(1)), "the first sighting only starts the clock");
        Assert.False(consumer.TryUnblock(TimeSpan.FromHours(1)));
        Assert.True(consumer.TryUnblock(TimeSpan.Zero));
        Assert.Equal(2, consumer.ConsumerPosition);

        var rest = new long[8];
        Assert.Equal(3, consumer.TryRead(rest));
        Assert.Equal([2, 3, 4], rest[..3]);

        // The skipped slot is an ordinary free slot on the next lap.
        for (long i = 0; i < 8; i++)
        {
            Assert.True(alive.TryWrite(100 + i));
        }

        Assert.Equal(8, consumer.TryRead(rest));
        Assert.Equal([100, 101, 102, 103, 104, 105, 106, 107], rest);
    }

    [Fact]
    public void A_producer_that_found_the_ring_full_polls_again_without_claiming()
    {
        // Its floor (position 1) is stale: the other ring object filled the ring after it. The first
        // poll tries a claim from the floor (intent, CAS), learns the tail and finds no room; the
        // floor then rises to that tail, so later polls find the ring full before any intent or CAS
        // (uintripc.h 2c): no line of the other producers is taken while the ring stays full.
        using var region = SharedRegion.CreateAnonymous(SlotRing<long>.Part(8, multipleProducers: true));
        using var slow = new SlotRing<long>(region);
        using var fast = new SlotRing<long>(region);
        var memory = RingMemory.Of(region, PartKind.MpscSlots);
        Assert.True(slow.TryWrite(0)); // entry 0, floor 1
        Assert.Equal(7, fast.TryWrite([1L, 2, 3, 4, 5, 6, 7]));

        Assert.False(slow.TryWrite(8));
        const ulong Sentinel = 0xDEAD;
        memory.ProducerWord(0, RingLayout.ProducerClaimOffset) = Sentinel;
        Assert.False(slow.TryWrite(8));
        Assert.Equal(0, slow.TryWrite([8L, 9]));
        Assert.False(slow.TryClaim(2, out _));
        Assert.Equal(Sentinel, memory.ProducerWord(0, RingLayout.ProducerClaimOffset)); // no intent: no claim attempt

        // Room again: the next claim starts from that tail and succeeds at once.
        var consumer = new SlotRing<long>(region);
        Assert.True(consumer.TryRead(out long first));
        Assert.Equal(0, first);
        Assert.True(slow.TryWrite(8));
        Assert.Equal(8UL | (1UL << 32), memory.ProducerWord(0, RingLayout.ProducerClaimOffset));
        var rest = new long[8];
        Assert.Equal(8, consumer.TryRead(rest));
        Assert.Equal([1L, 2, 3, 4, 5, 6, 7, 8], rest);
        consumer.Dispose();
    }

    [Fact]
    public void TryUnblock_WaitsForTheStallTime()
    {
        using var region = SharedRegion.CreateAnonymous(SlotRing<long>.Part(4, multipleProducers: true));
        var ring = new SlotRing<long>(region);
        Assert.True(ring.TryClaim(out _)); // never published
        Assert.True(ring.TryWrite(7));

        var stall = TimeSpan.FromMilliseconds(20);
        Assert.False(ring.TryUnblock(stall));
        Bounded.WaitUntil(() => ring.TryUnblock(stall), "TryUnblock to give up on the stalled claim");

        Assert.True(ring.TryRead(out long item));
        Assert.Equal(7, item);
    }

    [Fact]
    public void TryUnblock_NothingStalled_ReturnsFalse_AndLosesNothing()
    {
        using var region = SharedRegion.CreateAnonymous(SlotRing<long>.Part(4, multipleProducers: true));
        var ring = new SlotRing<long>(region);

        Assert.False(ring.TryUnblock(TimeSpan.Zero)); // empty
        Assert.True(ring.TryWrite(5));
        Assert.False(ring.TryUnblock(TimeSpan.Zero)); // the next slot is published

        // The producer publishes after the consumer started timing its stall: nothing is skipped.
        Assert.True(ring.TryClaim(out var claim));
        Assert.True(ring.TryRead(out long five));
        Assert.Equal(5, five);
        Assert.False(ring.TryUnblock(TimeSpan.FromHours(1)));
        claim.Item = 6;
        claim.Publish();
        Assert.False(ring.TryUnblock(TimeSpan.Zero));
        Assert.True(ring.TryRead(out long six));
        Assert.Equal(6, six);
        Assert.Equal(2, ring.ConsumerPosition);
        Assert.Throws<ArgumentOutOfRangeException>(() => ring.TryUnblock(TimeSpan.FromTicks(-1)));
    }

    [Fact]
    public void LatePublish_AfterTheSlotWasSkipped_IsNotMistakenForCorruption()
    {
        using var region = SharedRegion.CreateAnonymous(SlotRing<long>.Part(4, multipleProducers: true));
        var ring = new SlotRing<long>(region);
        Assert.True(ring.TryClaim(out var claim));
        Assert.True(ring.TryUnblock(TimeSpan.Zero));

        // The "dead" producer was only slow (the unsafe case TryUnblock documents): its element is lost.
        claim.Item = -1;
        claim.Publish();
        Assert.False(ring.TryRead(out _));

        for (long lap = 0; lap < 3; lap++)
        {
            Assert.Equal(4, ring.TryWrite([lap * 4, (lap * 4) + 1, (lap * 4) + 2, (lap * 4) + 3]));
            var read = new long[4];
            Assert.Equal(4, ring.TryRead(read));
            Assert.Equal([lap * 4, (lap * 4) + 1, (lap * 4) + 2, (lap * 4) + 3], read);
        }
    }

    [Fact]
    public void SkipMarker_LeftByAConsumerThatDiedBeforeMovingHead_IsSteppedOver()
    {
        using var region = SharedRegion.CreateAnonymous(SlotRing<long>.Part(4, multipleProducers: true));
        var producer = new SlotRing<long>(region);
        Assert.True(producer.TryClaim(out _)); // position 0: claimed by a producer that died
        Assert.True(producer.TryWrite(9));     // position 1
        // The old consumer CASed the marker in, then died before storing head.
        RingMemory.Of(region, PartKind.MpscSlots).Sequence(0) = RingLayout.SlotSkipped | 1;

        var consumer = new SlotRing<long>(region);
        Assert.True(consumer.CanRead);
        Assert.True(consumer.TryRead(out long item));
        Assert.Equal(9, item);
        Assert.Equal(2, consumer.ConsumerPosition);
    }

    [Fact]
    public void SkipMarker_OnAnUnclaimedPosition_IsCorruption()
    {
        using var region = SharedRegion.CreateAnonymous(SlotRing<long>.Part(4, multipleProducers: true));
        var ring = new SlotRing<long>(region);
        RingMemory.Of(region, PartKind.MpscSlots).Sequence(0) = RingLayout.SlotSkipped | 1; // tail is still 0

        var e = Bounded.Throws<RingCorruptedException>(() => ring.TryRead(out _));
        Assert.Equal(0, e.Position);
        Assert.Equal(0, ring.ConsumerPosition);
    }

    [Fact]
    public void SkipMarkers_AllOverTheRing_AreBounded()
    {
        using var region = SharedRegion.CreateAnonymous(SlotRing<long>.Part(4, multipleProducers: true));
        var ring = new SlotRing<long>(region);
        var memory = RingMemory.Of(region, PartKind.MpscSlots);
        // A hostile peer claims a lot and marks every slot skipped for a lap it did not reach.
        memory.Tail = 4;
        for (ulong p = 0; p < 4; p++)
        {
            memory.Sequence(p) = RingLayout.SlotSkipped | (p + 1);
        }

        Bounded.Run(() => Assert.False(ring.TryRead(out _)));
        Assert.Equal(4, ring.ConsumerPosition);
    }

    [Fact]
    public void TryUnblock_ImpossiblePositions_Throws()
    {
        using var region = SharedRegion.CreateAnonymous(SlotRing<long>.Part(4, multipleProducers: true));
        var ring = new SlotRing<long>(region);
        RingMemory.Of(region, PartKind.MpscSlots).Tail = 99;

        Bounded.Throws<RingCorruptedException>(() => ring.TryUnblock(TimeSpan.Zero));
        Bounded.Throws<RingCorruptedException>(() => ring.TryWrite(1)); // 99 - 0 > capacity
    }

    [Fact]
    public void Producer_WithAStaleHeadCache_FindsTheRoomOthersFreed()
    {
        using var region = SharedRegion.CreateAnonymous(SlotRing<long>.Part(4, multipleProducers: true));
        var slow = new SlotRing<long>(region);
        var fast = new SlotRing<long>(region);
        var consumer = new SlotRing<long>(region);

        Assert.Equal(4, slow.TryWrite([0, 1, 2, 3]));
        Assert.False(slow.TryWrite(4)); // its cache now says: head 0, full
        Assert.Equal(4, consumer.TryRead(new long[4]));
        for (long i = 0; i < 100; i++)
        {
            Assert.True(fast.TryWrite(i));
            Assert.True(consumer.TryRead(out _));
        }

        Assert.True(slow.TryWrite(1000));
        Assert.Equal(3, slow.TryWrite([1001, 1002, 1003, 1004]));
        var read = new long[4];
        Assert.Equal(4, consumer.TryRead(read));
        Assert.Equal([1000, 1001, 1002, 1003], read);
    }

    /// <summary>
    /// Linearizability (CsCheck): writes, claims (published or aborted) and reads run on several
    /// threads at once (reads one at a time, as the single-consumer contract requires); the final
    /// contents and the sequence of values read must match some sequential order of the same
    /// operations, respecting each thread's order, on a bounded queue model. A small ring, so that
    /// "full" is part of the check. Reads wait for claims in flight (see <see cref="ParallelRing.Read"/>).
    /// </summary>
    [Fact]
    public void ParallelSingleWritesClaimsAndReads_AreLinearizable() => CheckLinearizable(capacity: 4,
    [
        Gen.Int[0, 99].Operation<ParallelRing, QueueModel>(v => $" TryWrite({v})", (a, v) => a.Ring.TryWrite(v), (m, v) => m.Write([v])),
        Gen.Int[0, 99].Operation<ParallelRing, QueueModel>(v => $" ClaimPublish({v})", (a, v) => a.ClaimPublish(v), (m, v) => m.Write([v])),
        Gen.Const(0).Operation<ParallelRing, QueueModel>(_ => " ClaimAbort", (a, _) => a.ClaimAbort(), (m, _) => m.Abort()),
        Gen.Const(0).Operation<ParallelRing, QueueModel>(_ => " TryRead", (a, _) => a.Read(), (m, _) => m.Read()),
    ]);

    /// <summary>
    /// Batch writes are atomic: each batch lands contiguously, between other producers' elements.
    /// The ring is big enough never to fill: how many elements of a batch fit is decided against
    /// the head the producer read, which the consumer may have moved on from by the time the claim
    /// lands, so a partial batch is not linearizable against "as many as fit" (and need not be).
    /// </summary>
    [Fact]
    public void ParallelBatchWritesAndReads_AreLinearizable() => CheckLinearizable(capacity: 64,
    [
        Gen.Int[0, 99].Operation<ParallelRing, QueueModel>(v => $" TryWrite({v})", (a, v) => a.Ring.TryWrite(v), (m, v) => m.Write([v])),
        Gen.Int[0, 99].Array[1, 4].Operation<ParallelRing, QueueModel>(v => $" TryWrite([{string.Join(',', v)}])", (a, v) => a.Ring.TryWrite(v), (m, v) => m.Write(v)),
        Gen.Const(0).Operation<ParallelRing, QueueModel>(_ => " TryRead", (a, _) => a.Read(), (m, _) => m.Read()),
    ]);

    private static void CheckLinearizable(int capacity, GenOperation<ParallelRing, QueueModel>[] operations)
    {
        var initial = Gen.Const(() =>
        {
            var region = ThrowawayRegions.Create(SlotRing<int>.Part(capacity, multipleProducers: true));
            return (new ParallelRing(new SlotRing<int>(region)), new QueueModel(capacity));
        });

        initial.SampleParallel(
            operations,
            equal: (a, m) => a.Remaining().SequenceEqual(m.Items) && a.Reads.SequenceEqual(m.Reads),
            iter: Bounded.IsStress ? 5_000 : 150,
            printActual: a => a.ToString(),
            printModel: m => m.ToString());
    }

    /// <summary>The ring under parallel test: reads are serialised by a lock (single consumer) and recorded.</summary>
    internal sealed class ParallelRing(SlotRing<int> ring)
    {
        private readonly object _readLock = new();
        private List<int>? _remaining;

        public SlotRing<int> Ring { get; } = ring;
        public List<int> Reads { get; } = [];

        public void ClaimPublish(int value)
        {
            if (Ring.TryClaim(out var claim))
            {
                claim.Item = value;
                claim.Publish();
            }
        }

        public void ClaimAbort()
        {
            if (Ring.TryClaim(out var claim))
            {
                claim.Abort();
            }
        }

        /// <summary>
        /// Reads one element, waiting for claims in flight: TryRead alone reports "empty" while the
        /// next position is claimed but unpublished, even when a later position is published (the
        /// consumer reads in position order), which no sequential queue does. Empty here means
        /// nothing claimed before this read began is left (head reached the tail read at its start),
        /// a state a queue can be in. Not the current tail: stepping over aborted claims frees room,
        /// and a claim taken in that room after the read began would be waited for and read, a read
        /// that both precedes the claim (its room) and follows it (its value): no sequential order.
        /// </summary>
        public void Read()
        {
            lock (_readLock)
            {
                var deadline = new Deadline(Bounded.Timeout);
                var spin = new SpinWait();
                long tailAtStart = Ring.ProducerPosition;
                while (true)
                {
                    if (Ring.TryRead(out int item))
                    {
                        Reads.Add(item);
                        return;
                    }

                    if (Ring.ConsumerPosition >= tailAtStart)
                    {
                        return;
                    }

                    deadline.Pause(ref spin, "a claim in flight to be published");
                }
            }
        }

        /// <summary>What is left in the ring after the run (drained once; equality is checked many times).</summary>
        public List<int> Remaining()
        {
            lock (_readLock)
            {
                if (_remaining is null)
                {
                    _remaining = [];
                    while (Ring.TryRead(out int item))
                    {
                        _remaining.Add(item);
                    }
                }

                return _remaining;
            }
        }

        public override string ToString()
            => $"reads=[{string.Join(',', Reads)}] remaining=[{string.Join(',', _remaining ?? [])}] tail={Ring.ProducerPosition} head={Ring.ConsumerPosition}";
    }

    /// <summary>A bounded FIFO queue with a record of the values read; aborted claims are holes that take a slot until read past.</summary>
    public sealed class QueueModel(int capacity)
    {
        private readonly Queue<int?> _entries = new();

        public IEnumerable<int> Items => _entries.OfType<int>();
        public List<int> Reads { get; } = [];

        public void Write(int[] values)
        {
            foreach (int value in values.Take(capacity - _entries.Count))
            {
                _entries.Enqueue(value);
            }
        }

        public void Abort()
        {
            if (_entries.Count < capacity)
            {
                _entries.Enqueue(null);
            }
        }

        public void Read()
        {
            while (_entries.TryDequeue(out int? entry))
            {
                if (entry is int value)
                {
                    Reads.Add(value);
                    return;
                }
            }
        }

        public override string ToString() => $"reads=[{string.Join(',', Reads)}] entries=[{string.Join(',', _entries.Select(e => e?.ToString() ?? "hole"))}]";
    }
}
