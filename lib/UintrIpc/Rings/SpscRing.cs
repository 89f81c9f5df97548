using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using UintrIpc.Memory;

namespace UintrIpc.Rings;

/// <summary>
/// A single-producer, single-consumer ring of fixed-size <typeparamref name="T"/> elements in a
/// <see cref="SharedRegion"/>: lock-free, zero-copy capable, and usable across processes.
/// </summary>
/// <typeparam name="T">
/// The element type: an unmanaged struct with the same layout on every side (no references,
/// no pointers into one process).
/// </typeparam>
/// <remarks>
/// At most one thread produces at a time, in all processes together; the producer and the
/// consumer may be the same or different threads. Everything else (creation, lease,
/// positions, validation, the consumer) is in <see cref="SlotRing{T}"/>.
/// </remarks>
public sealed class SpscRing<T> : SlotRing<T> where T : unmanaged
{
    /// <summary>Attaches to the SPSC slot ring in <paramref name="part"/> of <paramref name="region"/>.</summary>
    /// <exception cref="RegionFormatException">
    /// The part is not an SPSC slot ring, its descriptor is invalid, or its element size is not sizeof(<typeparamref name="T"/>).
    /// </exception>
    /// <exception cref="RingCorruptedException">The shared positions break head &lt;= tail &lt;= head + capacity, or are not below 2^62.</exception>
    /// <exception cref="ObjectDisposedException">The region is disposed.</exception>
    public SpscRing(SharedRegion region, RegionPart part)
        : this(region, part, lease: true)
    {
    }

    /// <summary>Attaches to the SPSC slot ring with <paramref name="tag"/> in <paramref name="region"/>.</summary>
    /// <exception cref="KeyNotFoundException">The region has no SPSC slot ring with this tag.</exception>
    /// <inheritdoc cref="SpscRing{T}(SharedRegion, RegionPart)"/>
    public SpscRing(SharedRegion region, uint tag = 0)
        : this(region, (region ?? throw new ArgumentNullException(nameof(region))).FindPart(PartKind.SpscSlots, tag))
    {
    }

    /// <summary>Attaches; with <paramref name="lease"/> false the caller keeps the mapping alive (channels' own count).</summary>
    internal SpscRing(SharedRegion region, RegionPart part, bool lease, int trailerSize = 0)
        : base(region, part, PartKind.SpscSlots, lease, trailerSize)
    {
    }

    /// <summary>The region part of an SPSC ring of <paramref name="capacity"/> elements, for <see cref="SharedRegion"/>'s create methods.</summary>
    /// <param name="capacity">Slots in the ring: a power of two, at least 2.</param>
    /// <param name="tag">Tells parts of one kind apart within a region (e.g. 0 = requests, 1 = responses).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="capacity"/> is not a power of two of at least 2.</exception>
    [SuppressMessage("Design", "CA1000:Do not declare static members on generic types", Justification = "The part size depends on T; Ring<T>.Part(n) reads naturally next to new Ring<T>(region).")]
    public static unsafe PartSpec Part(int capacity, uint tag = 0) => SlotRingEngine.CreatePart(PartKind.SpscSlots, capacity, sizeof(T), tag);

    /// <summary>Producer: writes <paramref name="item"/>, or returns false when the ring is full.</summary>
    /// <exception cref="RingCorruptedException">The shared head is impossible (checked only when the ring looks full).</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryWrite(in T item) => Engine.TryWrite<T, SingleProducer>(in item);

    /// <summary>
    /// Producer: writes as many of <paramref name="items"/> as fit, in order; returns how many.
    /// Room is judged by the consumer position read during the call; slots the consumer frees
    /// after that are used by the next call.
    /// </summary>
    /// <exception cref="RingCorruptedException">The shared head is impossible.</exception>
    public int TryWrite(ReadOnlySpan<T> items) => Engine.TryWrite<T, SingleProducer>(items);

    /// <summary>
    /// Producer: claims the next slot for writing in place, or returns false when the ring is
    /// full. Write <see cref="SlotClaim{T}.Item"/>, then call <see cref="SlotClaim{T}.Publish"/>.
    /// One claim at a time: another write or claim before publishing supersedes it.
    /// </summary>
    /// <exception cref="RingCorruptedException">The shared head is impossible.</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryClaim(out SlotClaim<T> claim) => Engine.TryClaim<T, SingleProducer>(out claim);
}
