using System.Collections.Concurrent;
using CsCheck;
using UintrIpc.Memory;
using UintrIpc.Rings;

namespace UintrIpc.Tests.Rings;

/// <summary>What only <see cref="MpscRing{T}"/> does: unblocking dead producers, skip markers, linearizability.</summary>
public sealed class MpscRingTests : IDisposable
{
    private readonly ConcurrentBag<SharedRegion> _regions = [];

    [Fact]
    public void TryUnblock_SkipsADeadProducersClaim_LaterMessagesArriveInOrder()
    {
        using var region = SharedRegion.CreateAnonymous(MpscRing<long>.Part(8));
        using var consumerMapping = SharedRegion.Attach(region.FileHandle);
        var alive = new MpscRing<long>(region);
        var dead = new MpscRing<long>(region);
        var consumer = new MpscRing<long>(consumerMapping);

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
    public void TryUnblock_WaitsForTheStallTime()
    {
        using var region = SharedRegion.CreateAnonymous(MpscRing<long>.Part(4));
        var ring = new MpscRing<long>(region);
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
        using var region = SharedRegion.CreateAnonymous(MpscRing<long>.Part(4));
        var ring = new MpscRing<long>(region);

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
        using var region = SharedRegion.CreateAnonymous(MpscRing<long>.Part(4));
        var ring = new MpscRing<long>(region);
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
        using var region = SharedRegion.CreateAnonymous(MpscRing<long>.Part(4));
        var producer = new MpscRing<long>(region);
        Assert.True(producer.TryClaim(out _)); // position 0: claimed by a producer that died
        Assert.True(producer.TryWrite(9));     // position 1
        // The old consumer CASed the marker in, then died before storing head.
        RingMemory.Of(region, PartKind.MpscSlots).Sequence(0) = RingLayout.SlotSkipped | 1;

        var consumer = new MpscRing<long>(region);
        Assert.True(consumer.CanRead);
        Assert.True(consumer.TryRead(out long item));
        Assert.Equal(9, item);
        Assert.Equal(2, consumer.ConsumerPosition);
    }

    [Fact]
    public void SkipMarker_OnAnUnclaimedPosition_IsCorruption()
    {
        using var region = SharedRegion.CreateAnonymous(MpscRing<long>.Part(4));
        var ring = new MpscRing<long>(region);
        RingMemory.Of(region, PartKind.MpscSlots).Sequence(0) = RingLayout.SlotSkipped | 1; // tail is still 0

        var e = Bounded.Throws<RingCorruptedException>(() => ring.TryRead(out _));
        Assert.Equal(0, e.Position);
        Assert.Equal(0, ring.ConsumerPosition);
    }

    [Fact]
    public void SkipMarkers_AllOverTheRing_AreBounded()
    {
        using var region = SharedRegion.CreateAnonymous(MpscRing<long>.Part(4));
        var ring = new MpscRing<long>(region);
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
        using var region = SharedRegion.CreateAnonymous(MpscRing<long>.Part(4));
        var ring = new MpscRing<long>(region);
        RingMemory.Of(region, PartKind.MpscSlots).Tail = 99;

        Bounded.Throws<RingCorruptedException>(() => ring.TryUnblock(TimeSpan.Zero));
        Bounded.Throws<RingCorruptedException>(() => ring.TryWrite(1)); // 99 - 0 > capacity
    }

    [Fact]
    public void Producer_WithAStaleHeadCache_FindsTheRoomOthersFreed()
    {
        using var region = SharedRegion.CreateAnonymous(MpscRing<long>.Part(4));
        var slow = new MpscRing<long>(region);
        var fast = new MpscRing<long>(region);
        var consumer = new MpscRing<long>(region);

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
    /// Linearizability (CsCheck): writes, batch writes and reads run on several threads at once
    /// (reads one at a time, as the single-consumer contract requires); the final contents and
    /// the sequence of values read must match some sequential order of the same operations on
    /// a bounded queue model.
    /// </summary>
    [Fact]
    public void ParallelWritesAndReads_AreLinearizable()
    {
        var initial = Gen.Const(() =>
        {
            var region = SharedRegion.CreateAnonymous(MpscRing<int>.Part(4));
            _regions.Add(region);
            return (new ParallelRing(new MpscRing<int>(region)), new QueueModel(4));
        });

        initial.SampleParallel(
            [
                Gen.Int[0, 99].Operation<ParallelRing, QueueModel>(v => $" TryWrite({v})", (a, v) => a.Ring.TryWrite(v), (m, v) => m.Write([v])),
                Gen.Int[0, 99].Array[1, 3].Operation<ParallelRing, QueueModel>(v => $" TryWrite([{string.Join(',', v)}])", (a, v) => a.Ring.TryWrite(v), (m, v) => m.Write(v)),
                Gen.Const(0).Operation<ParallelRing, QueueModel>(_ => " TryRead", (a, _) => a.Read(), (m, _) => m.Read()),
            ],
            equal: (a, m) => a.Remaining().SequenceEqual(m.Items) && a.Reads.SequenceEqual(m.Reads),
            iter: Bounded.IsStress ? 5_000 : 200,
            printActual: a => a.ToString(),
            printModel: m => m.ToString());
    }

    public void Dispose()
    {
        foreach (var region in _regions)
        {
            region.Dispose();
        }
    }

    /// <summary>The ring under parallel test: reads are serialised by a lock (single consumer) and recorded.</summary>
    public sealed class ParallelRing(MpscRing<int> ring)
    {
        private readonly object _readLock = new();
        private List<int>? _remaining;

        public MpscRing<int> Ring { get; } = ring;
        public List<int> Reads { get; } = [];

        public void Read()
        {
            lock (_readLock)
            {
                if (Ring.TryRead(out int item))
                {
                    Reads.Add(item);
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

        public override string ToString() => $"reads=[{string.Join(',', Reads)}] tail={Ring.ProducerPosition} head={Ring.ConsumerPosition}";
    }

    /// <summary>A bounded FIFO queue with a record of the values read.</summary>
    public sealed class QueueModel(int capacity)
    {
        private readonly Queue<int> _items = new();

        public IEnumerable<int> Items => _items;
        public List<int> Reads { get; } = [];

        public void Write(int[] values)
        {
            foreach (int value in values.Take(capacity - _items.Count))
            {
                _items.Enqueue(value);
            }
        }

        public void Read()
        {
            if (_items.TryDequeue(out int item))
            {
                Reads.Add(item);
            }
        }

        public override string ToString() => $"reads=[{string.Join(',', Reads)}] items=[{string.Join(',', _items)}]";
    }
}
