using UintrIpc.Channels;
using UintrIpc.Memory;
using UintrIpc.Rings;

namespace UintrIpc.Tests.Rings;

/// <summary>Runs on a live claim (a ref struct cannot be returned through the adapter).</summary>
internal delegate void ClaimAction<T>(ref SlotClaim<T> claim) where T : unmanaged;

/// <summary>
/// One face for both slot ring kinds, so that the contract suite runs the same tests on each.
/// Test-only: the interface calls here are fine, the rings themselves have none.
/// </summary>
internal abstract class TestRing<T> where T : unmanaged
{
    public abstract int Capacity { get; }
    public abstract long ProducerPosition { get; }
    public abstract long ConsumerPosition { get; }
    public abstract int Count { get; }
    public abstract bool CanRead { get; }
    public abstract bool TryWrite(in T item);
    public abstract int TryWrite(ReadOnlySpan<T> items);
    /// <summary>Claims a slot and runs <paramref name="action"/> on the claim; false when full.</summary>
    public abstract bool TryClaim(ClaimAction<T> action);
    public abstract bool TryRead(out T item);
    public abstract int TryRead(Span<T> destination);
    public abstract int Drain<THandler>(ref THandler handler, int limit = int.MaxValue) where THandler : struct, ISlotHandler<T>;

    /// <summary>Claims, writes <paramref name="value"/> in place and publishes.</summary>
    public bool TryClaimAndPublish(T value) => TryClaim((ref SlotClaim<T> c) =>
    {
        c.Item = value;
        c.Publish();
    });

    /// <summary>Drains up to <paramref name="limit"/> elements into a list.</summary>
    public List<T> DrainToList(int limit = int.MaxValue)
    {
        var handler = new ListHandler<T>([]);
        Drain(ref handler, limit);
        return handler.Items;
    }
}

/// <summary>Collects drained elements.</summary>
internal readonly struct ListHandler<T>(List<T> items) : ISlotHandler<T> where T : unmanaged
{
    public List<T> Items { get; } = items;

    public void Handle(in T item) => Items.Add(item);
}

internal sealed class SpscTestRing<T>(SlotRing<T> ring) : TestRing<T> where T : unmanaged
{
    public SlotRing<T> Ring { get; } = ring;
    public override int Capacity => Ring.Capacity;
    public override long ProducerPosition => Ring.ProducerPosition;
    public override long ConsumerPosition => Ring.ConsumerPosition;
    public override int Count => Ring.Count;
    public override bool CanRead => Ring.CanRead;
    public override bool TryWrite(in T item) => Ring.TryWrite(item);
    public override int TryWrite(ReadOnlySpan<T> items) => Ring.TryWrite(items);
    public override bool TryRead(out T item) => Ring.TryRead(out item);
    public override int TryRead(Span<T> destination) => Ring.TryRead(destination);
    public override int Drain<THandler>(ref THandler handler, int limit = int.MaxValue) => Ring.Drain(ref handler, limit);

    public override bool TryClaim(ClaimAction<T> action)
    {
        if (!Ring.TryClaim(out SlotClaim<T> claim))
        {
            return false;
        }

        action(ref claim);
        return true;
    }
}

internal sealed class MpscTestRing<T>(SlotRing<T> ring) : TestRing<T> where T : unmanaged
{
    public SlotRing<T> Ring { get; } = ring;
    public override int Capacity => Ring.Capacity;
    public override long ProducerPosition => Ring.ProducerPosition;
    public override long ConsumerPosition => Ring.ConsumerPosition;
    public override int Count => Ring.Count;
    public override bool CanRead => Ring.CanRead;
    public override bool TryWrite(in T item) => Ring.TryWrite(item);
    public override int TryWrite(ReadOnlySpan<T> items) => Ring.TryWrite(items);
    public override bool TryRead(out T item) => Ring.TryRead(out item);
    public override int TryRead(Span<T> destination) => Ring.TryRead(destination);
    public override int Drain<THandler>(ref THandler handler, int limit = int.MaxValue) => Ring.Drain(ref handler, limit);

    public override bool TryClaim(ClaimAction<T> action)
    {
        if (!Ring.TryClaim(out SlotClaim<T> claim))
        {
            return false;
        }

        action(ref claim);
        return true;
    }
}

/// <summary>Creates and attaches rings of one kind.</summary>
internal interface ISlotRingFactory
{
    PartKind Kind { get; }
    /// <summary>Whether aborting a claim consumes a position (MPSC: the slot is skipped).</summary>
    bool AbortLeavesHole { get; }
    PartSpec Part<T>(int capacity, uint tag = 0) where T : unmanaged;
    TestRing<T> Attach<T>(SharedRegion region, uint tag = 0) where T : unmanaged;
    TestRing<T> Attach<T>(SharedRegion region, RegionPart part) where T : unmanaged;
}

internal sealed class SpscFactory : ISlotRingFactory
{
    public static readonly SpscFactory Instance = new();
    public PartKind Kind => PartKind.SpscSlots;
    public bool AbortLeavesHole => false;
    public PartSpec Part<T>(int capacity, uint tag = 0) where T : unmanaged => SlotRing<T>.Part(capacity, tag: tag);
    public TestRing<T> Attach<T>(SharedRegion region, uint tag = 0) where T : unmanaged => new SpscTestRing<T>(new SlotRing<T>(region, tag));
    public TestRing<T> Attach<T>(SharedRegion region, RegionPart part) where T : unmanaged => new SpscTestRing<T>(new SlotRing<T>(region, part));
}

internal sealed class MpscFactory : ISlotRingFactory
{
    public static readonly MpscFactory Instance = new();
    public PartKind Kind => PartKind.MpscSlots;
    public bool AbortLeavesHole => true;
    public PartSpec Part<T>(int capacity, uint tag = 0) where T : unmanaged => SlotRing<T>.Part(capacity, multipleProducers: true, tag: tag);
    public TestRing<T> Attach<T>(SharedRegion region, uint tag = 0) where T : unmanaged => new MpscTestRing<T>(new SlotRing<T>(region, tag));
    public TestRing<T> Attach<T>(SharedRegion region, RegionPart part) where T : unmanaged => new MpscTestRing<T>(new SlotRing<T>(region, part));
}
