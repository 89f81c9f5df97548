using UintrIpc.Channels;
using UintrIpc.Memory;
using UintrIpc.Rings;

namespace UintrIpc.Tests.Rings;

/// <summary>
/// The contract every slot ring kind fulfils, run once per kind by a small subclass (the
/// pattern of dotnet/runtime's ChannelTestBase). Concurrency is in <see cref="SlotRingStressTests"/>,
/// the model-based check in <see cref="SlotRingModelTests"/>.
/// </summary>
public abstract class SlotRingContractTests
{
    private protected abstract ISlotRingFactory Factory { get; }

    private PartKind OtherKind => Factory.Kind == PartKind.SpscSlots ? PartKind.MpscSlots : PartKind.SpscSlots;

    private SharedRegion CreateRegion(int capacity = 8) => SharedRegion.CreateAnonymous(Factory.Part<long>(capacity));

    // ---- empty and full ------------------------------------------------------------------------

    [Fact]
    public void NewRing_IsEmpty()
    {
        using var region = CreateRegion(8);
        var ring = Factory.Attach<long>(region);

        Assert.Equal(8, ring.Capacity);
        Assert.Equal(0, ring.Count);
        Assert.Equal(0, ring.ProducerPosition);
        Assert.Equal(0, ring.ConsumerPosition);
        Assert.False(ring.CanRead);
        Assert.False(ring.TryRead(out long item));
        Assert.Equal(0, item);
        Assert.Equal(0, ring.TryRead(new long[4]));
        Assert.Empty(ring.DrainToList());
    }

    [Theory]
    [InlineData(2)]
    [InlineData(8)]
    [InlineData(64)]
    public void Fill_ThenFull_ThenReadsAllInOrder(int capacity)
    {
        using var region = CreateRegion(capacity);
        var ring = Factory.Attach<long>(region);

        for (long i = 0; i < capacity; i++)
        {
            Assert.True(ring.TryWrite(i * 10), $"write {i} of {capacity}");
            Assert.True(ring.CanRead);
        }

        Assert.False(ring.TryWrite(-1));
        Assert.Equal(0, ring.TryWrite([-1, -2]));
        Assert.False(ring.TryClaimAndPublish(-1));
        Assert.Equal(capacity, ring.Count);
        Assert.Equal(capacity, ring.ProducerPosition);

        for (long i = 0; i < capacity; i++)
        {
            Assert.True(ring.TryRead(out long item));
            Assert.Equal(i * 10, item);
        }

        Assert.False(ring.TryRead(out _));
        Assert.Equal(0, ring.Count);
        Assert.Equal(capacity, ring.ConsumerPosition);
        Assert.True(ring.TryWrite(99), "room again after reading");
    }

    [Fact]
    public void WrapsAround_ManyLaps_KeepsOrder()
    {
        using var region = CreateRegion(4);
        var ring = Factory.Attach<long>(region);
        var random = new Random(42);
        long written = 0;
        long read = 0;
        int laps = Bounded.IsStress ? 200_000 : 5_000;

        for (int step = 0; step < laps; step++)
        {
            // Keep the ring partly full across steps so that reads and writes straddle the wrap.
            int writes = random.Next(0, 5);
            for (int i = 0; i < writes; i++)
            {
                if (ring.TryWrite(written))
                {
                    written++;
                }
                else
                {
                    Assert.Equal(4, written - read);
                }
            }

            int reads = random.Next(0, 5);
            for (int i = 0; i < reads && ring.TryRead(out long item); i++)
            {
                Assert.Equal(read, item);
                read++;
            }

            Assert.Equal(written, ring.ProducerPosition);
            Assert.Equal(read, ring.ConsumerPosition);
            Assert.Equal((int)(written - read), ring.Count);
        }

        Assert.True(written > laps, "the test did wrap many times");
    }

    [Fact]
    public void OddSizedAndWideElements_RoundTrip()
    {
        using var region = SharedRegion.CreateAnonymous(Factory.Part<OddSized>(4, tag: 0), Factory.Part<Wide>(4, tag: 1));
        var odd = Factory.Attach<OddSized>(region, 0);
        var wide = Factory.Attach<Wide>(region, 1);

        for (int i = 0; i < 10; i++)
        {
            Assert.True(odd.TryWrite(new OddSized(i, -i, i * 3)));
            Assert.True(wide.TryWrite(new Wide(i)));
            Assert.True(odd.TryRead(out OddSized o));
            Assert.True(wide.TryRead(out Wide w));
            Assert.Equal(new OddSized(i, -i, i * 3), o);
            Assert.Equal(i, w.First);
            Assert.Equal(~(long)i, w.Last);
        }

        Assert.Equal(24, RingMemory.Of(region, Factory.Kind, 0).SlotSize);
        Assert.Equal(264, RingMemory.Of(region, Factory.Kind, 1).SlotSize);
    }

    // ---- batches -------------------------------------------------------------------------------

    [Fact]
    public void BatchWrite_WritesWhatFits_InOrder()
    {
        using var region = CreateRegion(8);
        var ring = Factory.Attach<long>(region);

        Assert.Equal(0, ring.TryWrite(ReadOnlySpan<long>.Empty));
        Assert.Equal(5, ring.TryWrite([0, 1, 2, 3, 4]));
        Assert.Equal(3, ring.TryWrite([5, 6, 7, 8, 9, 10]));
        Assert.Equal(0, ring.TryWrite([11]));
        Assert.Equal(8, ring.Count);

        var all = new long[12];
        Assert.Equal(8, ring.TryRead(all));
        Assert.Equal([0, 1, 2, 3, 4, 5, 6, 7], all[..8]);
        Assert.Equal(0, all[8]);
    }

    [Fact]
    public void BatchRead_ReadsWhatIsThere_AcrossTheWrap()
    {
        using var region = CreateRegion(8);
        var ring = Factory.Attach<long>(region);
        Assert.Equal(6, ring.TryWrite([0, 1, 2, 3, 4, 5]));
        Assert.Equal(6, ring.TryRead(new long[6]));

        // Positions 6..13 occupy slots 6, 7, 0..5.
        Assert.Equal(8, ring.TryWrite([6, 7, 8, 9, 10, 11, 12, 13]));
        var first = new long[3];
        Assert.Equal(3, ring.TryRead(first));
        Assert.Equal([6, 7, 8], first);
        Assert.Equal(0, ring.TryRead(Span<long>.Empty));

        var rest = new long[10];
        Assert.Equal(5, ring.TryRead(rest));
        Assert.Equal([9, 10, 11, 12, 13], rest[..5]);
        Assert.Equal(0, ring.TryRead(rest));
        Assert.Equal(14, ring.ConsumerPosition);
    }

    // ---- claims --------------------------------------------------------------------------------

    [Fact]
    public void Claim_IsInvisibleUntilPublished()
    {
        using var region = CreateRegion(4);
        var ring = Factory.Attach<long>(region);
        bool sawBefore = true;
        long position = -1;

        Assert.True(ring.TryClaim((ref SlotClaim<long> claim) =>
        {
            Assert.True(claim.IsActive);
            position = claim.Position;
            claim.Item = 42;
            sawBefore = ring.CanRead || ring.TryRead(out _);
            claim.Publish();
            Assert.False(claim.IsActive);
        }));

        Assert.False(sawBefore, "the consumer saw the element before it was published");
        Assert.Equal(0, position);
        Assert.True(ring.CanRead);
        Assert.True(ring.TryRead(out long item));
        Assert.Equal(42, item);
    }

    [Fact]
    public void Claim_WhenFull_ReturnsFalse_AndInvalidUseThrows()
    {
        using var region = CreateRegion(2);
        var ring = Factory.Attach<long>(region);
        Exception? second = null;
        Exception? afterPublish = null;

        Assert.True(ring.TryClaim((ref SlotClaim<long> claim) =>
        {
            claim.Item = 1;
            claim.Publish();
            try
            {
                claim.Publish();
            }
            catch (InvalidOperationException e)
            {
                second = e;
            }

            try
            {
                claim.Item = 5;
            }
            catch (InvalidOperationException e)
            {
                afterPublish = e;
            }
        }));

        Assert.NotNull(second);
        Assert.NotNull(afterPublish);
        Assert.True(ring.TryClaimAndPublish(2));
        Assert.False(ring.TryClaim((ref SlotClaim<long> _) => Assert.Fail("claimed a slot in a full ring")));
        Assert.Throws<InvalidOperationException>(() => default(SlotClaim<long>).Publish());
        Assert.Throws<InvalidOperationException>(() => default(SlotClaim<long>).Abort());
        Assert.Throws<InvalidOperationException>(() => default(SlotClaim<long>).Item = 3);
        Assert.False(default(SlotClaim<long>).IsActive);
        Assert.Equal([1, 2], ring.DrainToList());
    }

    [Fact]
    public void Claim_Aborted_IsNeverDelivered()
    {
        using var region = CreateRegion(4);
        var ring = Factory.Attach<long>(region);

        for (int round = 0; round < 10; round++)
        {
            Assert.True(ring.TryClaim((ref SlotClaim<long> claim) =>
            {
                claim.Item = -1;
                claim.Abort();
                Assert.False(claim.IsActive);
                Assert.Throws<InvalidOperationException>(() => default(SlotClaim<long>).Publish());
            }));
            Assert.True(ring.TryWrite(round));
            Assert.True(ring.TryRead(out long item));
            Assert.Equal(round, item);
            Assert.False(ring.TryRead(out _));
        }
    }

    // ---- drain ---------------------------------------------------------------------------------

    [Fact]
    public void Drain_HonoursLimit_AndOrder()
    {
        using var region = CreateRegion(16);
        var ring = Factory.Attach<long>(region);
        Assert.Equal(10, ring.TryWrite([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]));

        Assert.Empty(ring.DrainToList(limit: 0));
        Assert.Equal([0, 1, 2], ring.DrainToList(limit: 3));
        Assert.Equal(3, ring.ConsumerPosition);
        Assert.Equal([3, 4, 5, 6, 7, 8, 9], ring.DrainToList());
        Assert.Empty(ring.DrainToList());
        Assert.Equal(10, ring.ConsumerPosition);
        var handler = new ListHandler<long>([]);
        Assert.Throws<ArgumentOutOfRangeException>(() => ring.Drain(ref handler, -1));
    }

    [Fact]
    public void Drain_LongerThanTheRing_ReleasesSlotsAsItGoes()
    {
        using var region = CreateRegion(8);
        var ring = Factory.Attach<long>(region);
        Assert.Equal(8, ring.TryWrite([0, 1, 2, 3, 4, 5, 6, 7]));

        // The handler writes while the drain runs: it only finds room if the drain gave slots back.
        var handler = new RefillingHandler(ring, next: 8, stopAt: 40);
        int handled = ring.Drain(ref handler);

        Assert.Equal(40, handled);
        Assert.Equal(40, handler.Next);
        Assert.Equal(40, handler.Expected);
        Assert.False(ring.TryRead(out _));
    }

    [Fact]
    public void Drain_HandlerThrows_ElementCountsAsConsumed()
    {
        using var region = CreateRegion(8);
        var ring = Factory.Attach<long>(region);
        Assert.Equal(4, ring.TryWrite([1, 2, 3, 4]));

        var handler = new ThrowingHandler(throwOn: 2);
        Assert.Throws<InvalidDataException>(() => ring.Drain(ref handler));

        Assert.Equal(2, ring.ConsumerPosition);
        Assert.Equal([3, 4], ring.DrainToList());
    }

    // ---- arguments and attach ------------------------------------------------------------------

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(6)]
    [InlineData(-4)]
    [InlineData(int.MinValue)]
    public void Part_CapacityNotPowerOfTwoAtLeastTwo_Throws(int capacity)
        => Assert.Throws<ArgumentOutOfRangeException>(() => Factory.Part<long>(capacity));

    [Fact]
    public void Part_DescribesTheRing()
    {
        PartSpec spec = Factory.Part<OddSized>(16, tag: 7);
        Assert.Equal(Factory.Kind, spec.Kind);
        Assert.Equal(7u, spec.Tag);
        Assert.Equal(RingLayout.SlotRingSize(16, 12, Factory.Kind == PartKind.MpscSlots ? RingLayout.DefaultProducerSlots : 0), spec.Length);
    }

    [Fact]
    public void Attach_WrongElementSize_ThrowsRegionFormat()
    {
        using var region = CreateRegion(8);
        var e = Assert.Throws<RegionFormatException>(() => Factory.Attach<int>(region));
        Assert.Equal("ring element size", e.Field);
        Assert.Throws<RegionFormatException>(() => Factory.Attach<OddSized>(region));
    }

    [Fact]
    public void Attach_ReadsTheModeFromThePart_AndRefusesARecordRing()
    {
        using var region = CreateRegion(8);
        using (var ring = new SlotRing<long>(region))
        {
            Assert.Equal(Factory.Kind == PartKind.MpscSlots, ring.MultipleProducers);
        }

        using var records = SharedRegion.CreateAnonymous(RecordRing.Part(256, multipleProducers: Factory.Kind == PartKind.MpscSlots));
        Assert.Throws<RegionFormatException>(() => new SlotRing<long>(records, records.Parts[0]));
        Assert.Throws<KeyNotFoundException>(() => new SlotRing<long>(records));
    }

    [Fact]
    public void Attach_ByTag_RefusesTwoRingsWithTheTag()
    {
        using var region = SharedRegion.CreateAnonymous(SlotRing<long>.Part(8), SlotRing<long>.Part(8, multipleProducers: true));
        Assert.Throws<ArgumentException>(() => new SlotRing<long>(region));
        using var ring = new SlotRing<long>(region, region.FindPart(Factory.Kind));
        Assert.Equal(Factory.Kind == PartKind.MpscSlots, ring.MultipleProducers);
    }

    [Fact]
    public void Attach_DescriptorKindDisagreesWithPartTable_ThrowsRegionFormat()
    {
        using var region = CreateRegion(8);
        RingMemory.Of(region, Factory.Kind).SetDescriptorWord(RingLayout.KindOffset, (uint)OtherKind);
        Assert.Throws<RegionFormatException>(() => Factory.Attach<long>(region));
    }

    [Fact]
    public void Attach_NullRegion_Throws()
    {
        Assert.Throws<ArgumentNullException>(() => Factory.Attach<long>(null!));
        Assert.Throws<ArgumentNullException>(() => Factory.Attach<long>(null!, default(RegionPart)));
    }

    [Fact]
    public void Attach_ByTag_FindsItsOwnPart()
    {
        using var region = SharedRegion.CreateAnonymous(Factory.Part<long>(4, tag: 0), Factory.Part<long>(8, tag: 1));
        var requests = Factory.Attach<long>(region, 0);
        var responses = Factory.Attach<long>(region, 1);

        Assert.Equal(4, requests.Capacity);
        Assert.Equal(8, responses.Capacity);
        Assert.True(responses.TryWrite(11));
        Assert.False(requests.TryRead(out _));
        Assert.True(responses.TryRead(out long item));
        Assert.Equal(11, item);
    }

    [Fact]
    public void SecondMapping_OfTheSameMemfd_SeesTheSameRing()
    {
        using var region = CreateRegion(8);
        using var other = SharedRegion.Attach(region.FileHandle);
        var a = Factory.Attach<long>(region);
        var b = Factory.Attach<long>(other);

        Assert.Equal(3, a.TryWrite([1, 2, 3]));
        Assert.Equal(3, b.Count);
        Assert.True(b.TryRead(out long item));
        Assert.Equal(1, item);
        Assert.Equal(1, a.ConsumerPosition);
        Assert.Equal([2, 3], b.DrainToList());
    }

    [Fact]
    public void Reattach_ConsumerContinuesAtSharedHead_ProducerAtSharedTail()
    {
        using var region = CreateRegion(8);
        var first = Factory.Attach<long>(region);
        Assert.Equal(6, first.TryWrite([0, 1, 2, 3, 4, 5]));
        Assert.Equal([0, 1], first.DrainToList(limit: 2));

        // A restarted peer: a new mapping and new ring objects for both roles.
        using var restarted = SharedRegion.Attach(region.FileHandle);
        var second = Factory.Attach<long>(restarted);
        Assert.Equal(4, second.Count);
        Assert.True(second.TryWrite(6));
        Assert.Equal([2, 3, 4, 5, 6], second.DrainToList());
        Assert.Equal(7, second.ProducerPosition);
        Assert.Equal(7, second.ConsumerPosition);
    }

    // ---- hostile peer --------------------------------------------------------------------------

    [Theory]
    [InlineData(12345UL)]
    [InlineData(2UL)] // position 1's sequence in position 0's slot
    [InlineData(1UL + 8)] // the next lap's sequence
    [InlineData(RingLayout.SlotSkipped | 2)]
    [InlineData(ulong.MaxValue)]
    public void BadSequence_AtHead_Throws(ulong sequence)
    {
        using var region = CreateRegion(8);
        var ring = Factory.Attach<long>(region);
        RingMemory.Of(region, Factory.Kind).Sequence(0) = sequence;

        var e = Bounded.Throws<RingCorruptedException>(() => ring.TryRead(out _));
        Assert.Equal(0, e.Position);
        Assert.Contains(sequence.ToString(), e.Message, StringComparison.Ordinal);
        Bounded.Throws<RingCorruptedException>(() => _ = ring.CanRead);
        Bounded.Throws<RingCorruptedException>(() => ring.TryRead(new long[4]));
        Bounded.Throws<RingCorruptedException>(() => ring.DrainToList());
    }

    [Fact]
    public void ZeroSequence_AfterTheFirstLap_Throws()
    {
        using var region = CreateRegion(4);
        var ring = Factory.Attach<long>(region);
        Assert.Equal(4, ring.TryWrite([0, 1, 2, 3]));
        Assert.Equal(4, ring.TryRead(new long[4]));
        var memory = RingMemory.Of(region, Factory.Kind);

        Assert.Equal(1UL, memory.Sequence(4)); // the previous lap's value means "not yet"
        Assert.False(ring.TryRead(out _));
        memory.Sequence(4) = 0;
        var e = Bounded.Throws<RingCorruptedException>(() => ring.TryRead(out _));
        Assert.Equal(4, e.Position);
    }

    [Fact]
    public void BadSequence_InTheMiddleOfABatch_ThrowsAfterTheGoodOnes()
    {
        using var region = CreateRegion(8);
        var ring = Factory.Attach<long>(region);
        Assert.Equal(5, ring.TryWrite([0, 1, 2, 3, 4]));
        RingMemory.Of(region, Factory.Kind).Sequence(3) = 77;
        var handler = new ListHandler<long>([]);

        var e = Bounded.Throws<RingCorruptedException>(() => ring.Drain(ref handler));
        Assert.Equal(3, e.Position);
        Assert.Equal([0, 1, 2], handler.Items);
        Assert.Equal(3, ring.ConsumerPosition);
    }

    [Theory]
    [InlineData(5UL, 2UL)] // head ahead of tail
    [InlineData(0UL, 9UL)] // tail more than a capacity ahead
    [InlineData(ulong.MaxValue, 0UL)]
    public void Attach_ImpossiblePositions_Throws(ulong head, ulong tail)
    {
        using var region = CreateRegion(8);
        var memory = RingMemory.Of(region, Factory.Kind);
        memory.Head = head;
        memory.Tail = tail;

        Bounded.Throws<RingCorruptedException>(() => Factory.Attach<long>(region));
    }

    [Fact]
    public void Producer_HeadAheadOfTail_Throws()
    {
        using var region = CreateRegion(4);
        var ring = Factory.Attach<long>(region);
        Assert.Equal(4, ring.TryWrite([0, 1, 2, 3])); // full: the next write must look at head
        RingMemory.Of(region, Factory.Kind).Head = 7;

        Bounded.Throws<RingCorruptedException>(() => ring.TryWrite(4));
        Bounded.Throws<RingCorruptedException>(() => ring.TryWrite([4, 5]));
        Bounded.Throws<RingCorruptedException>(() => ring.TryClaim((ref SlotClaim<long> _) => { }));
    }

    [Fact]
    public void Producer_HeadMovedBackwards_Throws()
    {
        using var region = CreateRegion(4);
        var ring = Factory.Attach<long>(region);
        for (int lap = 0; lap < 2; lap++)
        {
            Assert.Equal(4, ring.TryWrite([0, 1, 2, 3]));
            Assert.Equal(4, ring.TryRead(new long[4]));
        }

        Assert.Equal(4, ring.TryWrite([0, 1, 2, 3])); // tail 12, head 8: full
        RingMemory.Of(region, Factory.Kind).Head = 3; // 12 - 3 > capacity

        var e = Bounded.Throws<RingCorruptedException>(() => ring.TryWrite(4));
        Assert.Contains("head 3", e.Message, StringComparison.Ordinal);
    }

    // ---- helpers -------------------------------------------------------------------------------

    private struct RefillingHandler(TestRing<long> ring, long next, long stopAt) : ISlotHandler<long>
    {
        public long Next = next;
        public long Expected;

        public void Handle(in long item)
        {
            Assert.Equal(Expected, item);
            Expected++;
            while (Next < stopAt && ring.TryWrite(Next))
            {
                Next++;
            }
        }
    }

    private struct ThrowingHandler(long throwOn) : ISlotHandler<long>
    {
        public void Handle(in long item)
        {
            if (item == throwOn)
            {
                throw new InvalidDataException($"handler refuses {item}");
            }
        }
    }
}

/// <summary>The slot ring contract for an SPSC <see cref="SlotRing{T}"/>.</summary>
public sealed class SpscRingContractTests : SlotRingContractTests
{
    private protected override ISlotRingFactory Factory => SpscFactory.Instance;
}

/// <summary>The slot ring contract for an MPSC <see cref="SlotRing{T}"/>.</summary>
public sealed class MpscRingContractTests : SlotRingContractTests
{
    private protected override ISlotRingFactory Factory => MpscFactory.Instance;
}
