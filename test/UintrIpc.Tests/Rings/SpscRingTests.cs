using UintrIpc.Memory;
using UintrIpc.Rings;

namespace UintrIpc.Tests.Rings;

/// <summary>What only <see cref="SlotRing{T}"/> does: single-claim rules and the producer's tail repair.</summary>
public sealed class SpscRingTests
{
    [Fact]
    public void Claim_SupersededByAWrite_CannotBePublished()
    {
        using var region = SharedRegion.CreateAnonymous(SlotRing<long>.Part(4));
        var ring = new SlotRing<long>(region);

        Assert.True(ring.TryClaim(out var claim));
        claim.Item = 1;
        Assert.True(ring.TryWrite(2)); // takes the same slot: one claim at a time
        InvalidOperationException? error = null;
        try
        {
            claim.Publish();
        }
        catch (InvalidOperationException e)
        {
            error = e;
        }

        Assert.NotNull(error);
        Assert.Contains("superseded", error.Message, StringComparison.Ordinal);
        Assert.Equal(1, ring.ProducerPosition);
        Assert.True(ring.TryRead(out long item));
        Assert.Equal(2, item);
        Assert.False(ring.TryRead(out _));
    }

    [Fact]
    public void Claim_NeverPublished_IsDropped()
    {
        using var region = SharedRegion.CreateAnonymous(SlotRing<long>.Part(4));
        var ring = new SlotRing<long>(region);

        Assert.True(ring.TryClaim(out var abandoned));
        abandoned.Item = -1;
        Assert.False(ring.CanRead);
        Assert.True(ring.TryClaim(out var claim));
        Assert.Equal(abandoned.Position, claim.Position);
        claim.Item = 3;
        claim.Publish();

        Assert.Equal(1, ring.ProducerPosition);
        Assert.True(ring.TryRead(out long item));
        Assert.Equal(3, item);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Reattach_AfterProducerDiedBetweenSequenceAndTail_ContinuesAfterThePublishedSlot(bool consumerAlreadyReadIt)
    {
        using var region = SharedRegion.CreateAnonymous(SlotRing<long>.Part(8));
        var consumer = new SlotRing<long>(region);
        var memory = RingMemory.Of(region, PartKind.SpscSlots);
        Assert.Equal(2, new SlotRing<long>(region).TryWrite([10, 11]));
        // The producer wrote position 2 and its sequence, then died before storing tail.
        memory.Element<long>(2) = 12;
        memory.Sequence(2) = 3;
        Assert.Equal(2UL, memory.Tail);
        var read = new List<long>();
        if (consumerAlreadyReadIt)
        {
            read.AddRange(consumer.DrainToList()); // head 3 > tail 2 now
            Assert.Equal(3, consumer.ConsumerPosition);
        }

        var restarted = new SlotRing<long>(region);
        Assert.True(restarted.TryWrite(13));
        read.AddRange(consumer.DrainToList());

        Assert.Equal([10, 11, 12, 13], read);
        Assert.Equal(4, restarted.ProducerPosition);
    }

    [Fact]
    public void SkipMarker_IsCorruptionInAnSpscRing()
    {
        using var region = SharedRegion.CreateAnonymous(SlotRing<long>.Part(4));
        var ring = new SlotRing<long>(region);
        var memory = RingMemory.Of(region, PartKind.SpscSlots);
        memory.Tail = 1;
        memory.Sequence(0) = RingLayout.SlotSkipped | 1;

        Bounded.Throws<RingCorruptedException>(() => ring.TryRead(out _));
        Bounded.Throws<RingCorruptedException>(() => _ = ring.CanRead);
        Assert.Equal(0, ring.ConsumerPosition);
    }
}

/// <summary>Test conveniences on the real ring types.</summary>
internal static class SlotRingTestExtensions
{
    public static List<long> DrainToList(this SlotRing<long> ring)
    {
        var handler = new ListHandler<long>([]);
        ring.Drain(ref handler);
        return handler.Items;
    }
}
