using System.Runtime.CompilerServices;
using UintrIpc.Memory;
using UintrIpc.Rings;

namespace UintrIpc.Channels;

/// <summary>
/// One slot ring object of either kind (SPSC or MPSC), so the channel endpoints have one code
/// path: each call branches on a field that never changes, which the CPU predicts.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "The rings take no lease (lease: false): ChannelCore's count keeps the mapping.")]
internal readonly struct SlotRingAccess<T> where T : unmanaged
{
    private readonly SpscRing<T>? _spsc;
    private readonly MpscRing<T>? _mpsc;

    /// <summary>Attaches a fresh ring object (own cached positions) to the channel's ring part.</summary>
    internal SlotRingAccess(SharedRegion region, RegionPart part)
    {
        if (part.Kind == PartKind.MpscSlots)
        {
            _mpsc = new MpscRing<T>(region, part, lease: false);
        }
        else
        {
            _spsc = new SpscRing<T>(region, part, lease: false);
        }
    }

    internal int Capacity => _spsc?.Capacity ?? _mpsc!.Capacity;

    /// <summary>Whether this is an MPSC ring (producers claim positions by CAS).</summary>
    internal bool IsMultiProducer => _mpsc is not null;

    internal int Count => _spsc?.Count ?? _mpsc!.Count;

    /// <summary>Whether every claimed position was consumed (head == tail, acquire loads).</summary>
    internal bool IsDrained => Count == 0;

    internal bool CanRead
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => _spsc is not null ? _spsc.CanRead : _mpsc!.CanRead;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal bool TryWrite(in T item) => _spsc is not null ? _spsc.TryWrite(in item) : _mpsc!.TryWrite(in item);

    internal int TryWrite(ReadOnlySpan<T> items) => _spsc is not null ? _spsc.TryWrite(items) : _mpsc!.TryWrite(items);

    /// <summary>MPSC only: claims the next position (a CAS on the tail, a full fence); false when full.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal bool TryClaim(out SlotClaim<T> claim) => _mpsc!.TryClaim(out claim);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal bool TryRead(out T item) => _spsc is not null ? _spsc.TryRead(out item) : _mpsc!.TryRead(out item);

    internal int TryRead(Span<T> destination) => _spsc is not null ? _spsc.TryRead(destination) : _mpsc!.TryRead(destination);

    /// <summary>MPSC: skips the claim at head when its producer is known to be dead; SPSC: false.</summary>
    internal bool TrySkipDeadClaim() => _mpsc is not null && _mpsc.TrySkipDeadClaim();

    /// <summary>Marks the ring object disposed (no lease to release); MPSC: ends its producer registrations.</summary>
    internal void Dispose()
    {
        _spsc?.Dispose();
        _mpsc?.Dispose();
    }

    /// <summary>MPSC: skips a slot whose producer died between claim and publish; SPSC: false (nothing to skip).</summary>
    internal bool TryUnblock(TimeSpan stalledFor) => _mpsc is not null && _mpsc.TryUnblock(stalledFor);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal int Drain<THandler>(ref THandler handler, int limit)
        where THandler : struct, ISlotHandler<T>, allows ref struct
        => _spsc is not null ? _spsc.Drain(ref handler, limit) : _mpsc!.Drain(ref handler, limit);
}
