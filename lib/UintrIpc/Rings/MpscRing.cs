using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using UintrIpc.Memory;

namespace UintrIpc.Rings;

/// <summary>
/// A multi-producer, single-consumer ring of fixed-size <typeparamref name="T"/> elements in a
/// <see cref="SharedRegion"/>: lock-free for producers (one CAS per write or batch), usable
/// across processes.
/// </summary>
/// <typeparam name="T">
/// The element type: an unmanaged struct with the same layout on every side (no references,
/// no pointers into one process).
/// </typeparam>
/// <remarks>
/// <para>Producer methods are thread-safe: any number of threads and processes may write at
/// once. Consumer methods are not: at most one thread consumes at a time, in all processes
/// together. Elements from one producer thread are read in the order it wrote them; a producer
/// between claim and publish holds up the consumer at its position: if it died there,
/// <see cref="TrySkipDeadClaim"/> skips its claim as soon as its death is known.</para>
/// <para>Each producer thread takes an entry in the ring's producer table on its first write
/// through an object (64 entries; entries of exited producers are reused) and gives it back when
/// the object is disposed.</para>
/// <para>Everything else (creation, lease, positions, validation, the consumer) is in
/// <see cref="SlotRing{T}"/>. Layout and protocol: interop/include/uintripc.h, section 2.</para>
/// </remarks>
public sealed class MpscRing<T> : SlotRing<T> where T : unmanaged
{
    /// <summary>Attaches to the MPSC slot ring in <paramref name="part"/> of <paramref name="region"/>.</summary>
    /// <exception cref="RegionFormatException">
    /// The part is not an MPSC slot ring, its descriptor is invalid, or its element size is not sizeof(<typeparamref name="T"/>).
    /// </exception>
    /// <exception cref="RingCorruptedException">The shared positions are impossible.</exception>
    /// <exception cref="ObjectDisposedException">The region is disposed.</exception>
    public MpscRing(SharedRegion region, RegionPart part)
        : this(region, part, lease: true)
    {
    }

    /// <summary>Attaches to the MPSC slot ring with <paramref name="tag"/> in <paramref name="region"/>.</summary>
    /// <exception cref="KeyNotFoundException">The region has no MPSC slot ring with this tag.</exception>
    /// <inheritdoc cref="MpscRing{T}(SharedRegion, RegionPart)"/>
    public MpscRing(SharedRegion region, uint tag = 0)
        : this(region, (region ?? throw new ArgumentNullException(nameof(region))).FindPart(PartKind.MpscSlots, tag))
    {
    }

    /// <summary>Attaches; with <paramref name="lease"/> false the caller keeps the mapping alive (channels' own count).</summary>
    internal MpscRing(SharedRegion region, RegionPart part, bool lease, int trailerSize = 0)
        : base(region, part, PartKind.MpscSlots, lease, trailerSize)
    {
    }

    /// <inheritdoc cref="SpscRing{T}.Part"/>
    [SuppressMessage("Design", "CA1000:Do not declare static members on generic types", Justification = "As for SpscRing<T>.Part.")]
    public static unsafe PartSpec Part(int capacity, uint tag = 0) => SlotRingEngine.CreatePart(PartKind.MpscSlots, capacity, sizeof(T), tag);

    /// <summary>Producer: writes <paramref name="item"/>, or returns false when the ring is full. Thread-safe.</summary>
    /// <exception cref="RingCorruptedException">The shared head or tail is impossible (a tail behind one this object claimed, too).</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryWrite(in T item) => Engine.TryWrite<T, MultiProducer>(in item);

    /// <summary>
    /// Producer: writes as many of <paramref name="items"/> as fit, in order, with one claim, so
    /// they land contiguously, not interleaved with other producers' elements; returns how many.
    /// Thread-safe.
    /// </summary>
    /// <exception cref="RingCorruptedException">The shared head or tail is impossible.</exception>
    public int TryWrite(ReadOnlySpan<T> items) => Engine.TryWrite<T, MultiProducer>(items);

    /// <summary>
    /// Producer: claims the next slot for writing in place, or returns false when the ring is
    /// full. Write <see cref="SlotClaim{T}.Item"/>, then <see cref="SlotClaim{T}.Publish"/>; the
    /// position is taken, and the consumer waits for it, so use the claim in a <c>using</c>: a
    /// claim disposed without publishing is skipped. Thread-safe.
    /// </summary>
    /// <exception cref="RingCorruptedException">The shared head or tail is impossible.</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryClaim(out SlotClaim<T> claim) => Engine.TryClaim<T, MultiProducer>(out claim);

    /// <summary>
    /// Consumer: when the next position is claimed but unpublished and the producer that claimed
    /// it is known to be dead (its process has exited), marks it skipped (with the rest of that
    /// producer's claim) and moves on; later elements of other producers are not lost. A live
    /// producer's claim is never skipped, however long it takes. Call it while reads find nothing
    /// (a channel consumer does, before it sleeps).
    /// </summary>
    /// <returns>True when slots were skipped (their elements are lost).</returns>
    /// <remarks>
    /// Cheap when nothing is stuck (the next slot and the tail are read); otherwise it reads the
    /// producer table and polls the owner's pidfd (a system call). A producer counts as dead only
    /// when it is known to be: its process has exited (seen through a pidfd, in the same pid
    /// namespace), or its ring object was disposed. Anything else (another pid namespace, a
    /// producer without a table entry, a kernel without pidfd_open) leaves the claim to
    /// <see cref="TryUnblock(TimeSpan)"/>. Protocol: interop/include/uintripc.h, section 2f.
    /// </remarks>
    /// <exception cref="RingCorruptedException">The shared positions or the slot hold impossible values.</exception>
    public bool TrySkipDeadClaim() => Engine.TrySkipDeadClaim();

    /// <summary>
    /// Consumer: recovers from a producer that died between claiming a slot and publishing it
    /// (Agrona's Unblock) after a time, when its death cannot be known (<see cref="TrySkipDeadClaim"/>
    /// does that as soon as it can be). When the next position has been claimed but stays unpublished for at
    /// least <paramref name="stalledFor"/>, the slot is marked skipped and the consumer moves on;
    /// later elements of other producers are not lost.
    /// </summary>
    /// <param name="stalledFor">
    /// How long the same position must stay claimed and unpublished, measured from the first call
    /// that saw it so: call this periodically while the consumer is stuck. <see cref="TimeSpan.Zero"/>
    /// skips at once (when the caller knows the producer is dead).
    /// </param>
    /// <returns>True when a slot was skipped (its element is lost).</returns>
    /// <remarks>
    /// Only safe when the producer is really dead. A producer that is merely slow and publishes
    /// after its slot was skipped loses its element, and, if the ring has wrapped by then, its
    /// late write can damage another producer's element in the same slot. Choose
    /// <paramref name="stalledFor"/> far above any pause a live producer can have between claim
    /// and publish, or confirm the death otherwise (e.g. the producer's process has exited).
    /// </remarks>
    /// <exception cref="RingCorruptedException">The shared positions or the slot hold impossible values.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="stalledFor"/> is negative.</exception>
    public bool TryUnblock(TimeSpan stalledFor) => Engine.TryUnblock(stalledFor);
}
