using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using UintrIpc.Memory;

namespace UintrIpc.Rings;

// Design:
//   Ring of fixed-size slots in shared memory with any number of producers (threads and
//   processes) and one consumer. Layout and protocol: uintripc.h section 2a.
//   Producers (this file) share tail. A write reads tail, checks the capacity against head
//   (a cached copy first; the shared head, acquire, only when the cache says full), then
//   claims positions with a CAS tail -> tail + n (full fence; the CAS makes the capacity
//   check valid for exactly the claimed positions), writes the elements (plain) and
//   publishes each with its sequence = position + 1 (release). Claims may be published out
//   of order; the consumer still reads in position order, so each producer's elements stay
//   in its own order.
//   Head checks: with tail read before head, head <= tail is not guaranteed (others may
//   claim and the consumer consume in between), but tail - head <= capacity is; with a tail
//   read after head, head <= tail is. RefreshHead uses each where it is exact.
//   Consumer: SlotRingCore (polls the sequence of the next slot, releases head), plus
//   TryUnblock for dead producers: a skip marker SlotSkipped | (position + 1) is CASed into
//   a slot claimed but unpublished for longer than the caller allows. A producer may write
//   the same marker itself to abort a claim.
//   Peer death: a producer dying between claim and publish blocks the consumer at that
//   position until TryUnblock; other producers' messages after it are not lost.

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
/// <para>Create the region with <see cref="Part"/> among its parts, then attach ring objects.
/// Producer methods are thread-safe: any number of threads and processes may write at once.
/// Consumer methods are not: at most one thread consumes at a time, in all processes
/// together. Elements from one producer thread are read in the order it wrote them.</para>
/// <para>Each object reads the consumer position when it is created: to take over as
/// consumer after another one stopped, create a new object. The ring holds a lease on the
/// region's mapping: it keeps working after the region is disposed, and the memory is unmapped
/// once the region and every ring on it are disposed.</para>
/// <para>Nothing read from shared memory is trusted: a corrupt or hostile value makes the call
/// throw <see cref="RingCorruptedException"/>, never read or write out of bounds or hang.</para>
/// </remarks>
[DebuggerDisplay("{DebuggerDisplay,nq}")]
public sealed unsafe class MpscRing<T> : IDisposable where T : unmanaged
{
    private readonly SharedRegion _region;
    private readonly bool _leased;
    private SlotRingCore _core;

    /// <summary>Attaches to the MPSC slot ring in <paramref name="part"/> of <paramref name="region"/>.</summary>
    /// <exception cref="RegionFormatException">
    /// The part is not an MPSC slot ring, its descriptor is invalid, or its element size is not sizeof(<typeparamref name="T"/>).
    /// </exception>
    /// <exception cref="RingCorruptedException">The shared head and tail break head &lt;= tail &lt;= head + capacity.</exception>
    public MpscRing(SharedRegion region, RegionPart part)
        : this(region, part, lease: true)
    {
    }

    /// <summary>Attaches; with <paramref name="lease"/> false the caller keeps the mapping alive (channels' own count).</summary>
    internal MpscRing(SharedRegion region, RegionPart part, bool lease)
    {
        ArgumentNullException.ThrowIfNull(region);
        if (lease)
        {
            region.AddLease();
        }

        try
        {
            _core = new SlotRingCore(region, part, PartKind.MpscSlots, sizeof(T));
        }
        catch
        {
            if (lease)
            {
                region.ReleaseLease();
            }

            throw;
        }

        _region = region;
        _leased = lease;
    }

    /// <summary>
    /// Releases the ring's lease on the region's mapping (unmapped when the region and every
    /// other holder have released theirs too). Idempotent. Call it after the threads using
    /// this object stopped; any later call throws <see cref="ObjectDisposedException"/>.
    /// </summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _core.Disposed, 1) == 0 && _leased)
        {
            _region.ReleaseLease();
        }
    }

    /// <summary>Attaches to the MPSC slot ring with <paramref name="tag"/> in <paramref name="region"/>.</summary>
    /// <exception cref="KeyNotFoundException">The region has no MPSC slot ring with this tag.</exception>
    /// <inheritdoc cref="MpscRing{T}(SharedRegion, RegionPart)"/>
    public MpscRing(SharedRegion region, uint tag = 0)
        : this(region, (region ?? throw new ArgumentNullException(nameof(region))).FindPart(PartKind.MpscSlots, tag))
    {
    }

    /// <summary>The region part of an MPSC ring of <paramref name="capacity"/> elements, for <see cref="SharedRegion"/>'s create methods.</summary>
    /// <param name="capacity">Slots in the ring: a power of two, at least 2.</param>
    /// <param name="tag">Tells parts of one kind apart within a region (e.g. 0 = requests, 1 = responses).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="capacity"/> is not a power of two of at least 2.</exception>
    [SuppressMessage("Design", "CA1000:Do not declare static members on generic types", Justification = "The part size depends on T; Ring<T>.Part(n) reads naturally next to new Ring<T>(region).")]
    public static PartSpec Part(int capacity, uint tag = 0) => SlotRingCore.CreatePart(PartKind.MpscSlots, capacity, sizeof(T), tag);

    /// <summary>The region the ring lives in.</summary>
    public SharedRegion Region => _region;

    /// <summary>Slots in the ring.</summary>
    public int Capacity => (int)_core.Capacity;

    /// <summary>The shared producer position: slots ever claimed, published or not (acquire).</summary>
    public long ProducerPosition => _core.ProducerPosition;

    /// <summary>The shared consumer position: slots ever consumed or skipped (acquire).</summary>
    public long ConsumerPosition => _core.ConsumerPosition;

    /// <summary>Approximate number of claimed slots not yet consumed, from the shared positions.</summary>
    public int Count => _core.Count;

    /// <summary>
    /// Consumer: whether the next slot is published or skipped (acquire). A consumer about to
    /// sleep checks it once more after announcing that it sleeps.
    /// </summary>
    /// <exception cref="RingCorruptedException">The next slot holds a value no producer writes.</exception>
    public bool CanRead => _core.CanRead;

    private string DebuggerDisplay => $"MpscRing<{typeof(T).Name}> capacity={Capacity} tail={ProducerPosition} head={ConsumerPosition}";

    // ---- producers ---------------------------------------------------------------------------

    /// <summary>Producer: writes <paramref name="item"/>, or returns false when the ring is full. Thread-safe.</summary>
    /// <exception cref="RingCorruptedException">The shared head or tail is impossible.</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryWrite(in T item)
    {
        if (!TryClaimOne(out ulong position))
        {
            return false;
        }

        byte* slot = _core.SlotAt(position);
        *(T*)(slot + RingLayout.SlotHeaderSize) = item; // plain: published by the release below
        // Release: the element is complete before the consumer can see the sequence.
        Volatile.Write(ref *(ulong*)slot, position + 1);
        return true;
    }

    /// <summary>
    /// Producer: writes as many of <paramref name="items"/> as fit, in order, with one claim, so
    /// they land contiguously, not interleaved with other producers' elements; returns how many.
    /// Room is judged by the consumer position read during the call; slots the consumer frees
    /// after that are used by the next call. Thread-safe.
    /// </summary>
    /// <exception cref="RingCorruptedException">The shared head or tail is impossible.</exception>
    public int TryWrite(ReadOnlySpan<T> items)
    {
        _core.ThrowIfDisposed();
        if (items.IsEmpty)
        {
            return 0;
        }

        ulong capacity = _core.Capacity;
        ulong wanted = Math.Min((ulong)items.Length, capacity);
        // Acquire, before the tail: a floor another thread of this object stored after its claim is
        // then at most the tail we read next.
        ulong floor = Volatile.Read(ref _core.ProducerTail);
        ulong tail = CheckedTail(Volatile.Read(ref *_core.SharedTail), floor); // acquire: a fresh value to try the CAS with
        bool refreshed = false;
        ulong count;
        while (true)
        {
            ulong used = tail - _core.ProducerHeadCache; // huge when the cache is ahead of a stale tail
            ulong room = used < capacity ? capacity - used : 0;
            if (room < wanted && (room == 0 || !refreshed))
            {
                // Full, or short of room by the cached head: look at the real head before settling for less.
                refreshed = true;
                if (!RefreshHead(ref tail, floor))
                {
                    return 0;
                }

                continue;
            }

            count = Math.Min(room, wanted);
            // Full fence: takes [tail, tail + count) for this producer alone; fails if another claimed first.
            ulong seen = Interlocked.CompareExchange(ref *_core.SharedTail, tail + count, tail);
            if (seen == tail)
            {
                // Release (after the CAS): a floor; a racing thread's smaller value only weakens it.
                Volatile.Write(ref _core.ProducerTail, tail + count);
                break;
            }

            tail = CheckedTail(seen, floor);
        }

        for (int i = 0; i < (int)count; i++)
        {
            byte* slot = _core.SlotAt(tail + (ulong)i);
            *(T*)(slot + RingLayout.SlotHeaderSize) = items[i]; // plain: published by the release below
            // Release: each element is complete before its sequence.
            Volatile.Write(ref *(ulong*)slot, tail + (ulong)i + 1);
        }

        return (int)count;
    }

    /// <summary>
    /// Producer: claims the next slot for writing in place, or returns false when the ring is
    /// full. Write <see cref="SlotClaim{T}.Item"/>, then <see cref="SlotClaim{T}.Publish"/> or
    /// <see cref="SlotClaim{T}.Abort"/>: the position is taken, and the consumer waits for it.
    /// Thread-safe.
    /// </summary>
    /// <exception cref="RingCorruptedException">The shared head or tail is impossible.</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryClaim(out SlotClaim<T> claim)
    {
        if (!TryClaimOne(out ulong position))
        {
            claim = default;
            return false;
        }

        claim = new SlotClaim<T>(_core.SlotAt(position), position, this, _core.Capacity);
        return true;
    }

    /// <summary>Claims one position with a CAS on the shared tail after a capacity check.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool TryClaimOne(out ulong position)
    {
        _core.ThrowIfDisposed();
        ulong floor = Volatile.Read(ref _core.ProducerTail); // acquire, before the tail (see TryWrite(span))
        ulong tail = CheckedTail(Volatile.Read(ref *_core.SharedTail), floor); // acquire: a fresh value to try the CAS with
        while (true)
        {
            // Unsigned: a cache ahead of a stale tail also lands here, as a huge difference.
            if (tail - _core.ProducerHeadCache >= _core.Capacity)
            {
                if (!RefreshHead(ref tail, floor))
                {
                    position = 0;
                    return false;
                }

                continue;
            }

            // Full fence: takes position `tail` for this producer alone; fails if another producer claimed first.
            ulong seen = Interlocked.CompareExchange(ref *_core.SharedTail, tail + 1, tail);
            if (seen == tail)
            {
                Volatile.Write(ref _core.ProducerTail, tail + 1); // release: a floor, as in TryWrite(span)
                position = tail;
                return true;
            }

            tail = CheckedTail(seen, floor);
        }
    }

    /// <summary>
    /// Every tail read from shared memory: never behind what this object claimed up to before the
    /// read (a peer moving it back would make us overwrite pending elements), and below 2^62
    /// (sequences must not reach the skip bit).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong CheckedTail(ulong tail, ulong floor)
    {
        if (tail < floor || tail >= RingLayout.MaxPosition)
        {
            SlotRingThrowHelper.ThrowTailMovedBack(tail, floor);
        }

        return tail;
    }

    /// <summary>
    /// Reloads the shared head into the cache. Returns false when the ring is full for
    /// <paramref name="tail"/>; true to re-check (possibly with a fresher <paramref name="tail"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private bool RefreshHead(ref ulong tail, ulong floor)
    {
        // Acquire: pairs with the consumer's release of head, so its reads of the slots we may now
        // overwrite are complete.
        ulong head = Volatile.Read(ref *_core.SharedHead);
        ulong capacity = _core.Capacity;
        if (head <= tail)
        {
            // `tail` was read before head, and tail <= head + capacity held when it was read.
            if (tail - head > capacity)
            {
                SlotRingThrowHelper.ThrowPositionsCorrupted(head, tail, capacity, "producer");
            }

            _core.ProducerHeadCache = head;
            return tail - head < capacity;
        }

        // Our tail is stale: others claimed and the consumer consumed past it. A tail read after head
        // is at least head, since head never passes tail.
        ulong fresh = CheckedTail(Volatile.Read(ref *_core.SharedTail), floor); // acquire: ordered after the head load
        if (fresh < head)
        {
            SlotRingThrowHelper.ThrowPositionsCorrupted(head, fresh, capacity, "producer");
        }

        _core.ProducerHeadCache = head;
        tail = fresh;
        return true;
    }

    // ---- consumer ----------------------------------------------------------------------------

    /// <summary>
    /// Consumer: reads the next element, or returns false when none is published. Elements are
    /// read in position order, so this returns false while the next position is claimed but not
    /// yet published, even if a later one is (a producer between claim and publish holds up the
    /// others for that long; see <see cref="TryUnblock"/> if it died there).
    /// </summary>
    /// <exception cref="RingCorruptedException">The next slot holds a value no producer writes.</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryRead(out T item) => _core.TryRead(out item);

    /// <summary>Consumer: reads up to <paramref name="destination"/>.Length published elements, in order; returns how many.</summary>
    /// <exception cref="RingCorruptedException">A slot holds a value no producer writes.</exception>
    public int TryRead(Span<T> destination)
    {
        var fill = new SpanFillHandler<T>(destination);
        return _core.Drain<T, SpanFillHandler<T>>(ref fill, destination.Length);
    }

    /// <summary>
    /// Consumer: hands up to <paramref name="limit"/> published elements to <paramref name="handler"/>
    /// in place (no copy), in position order, then gives their slots back; returns how many were handled.
    /// </summary>
    /// <param name="handler">A struct handler; generic, so the call is specialised and can be inlined.</param>
    /// <param name="limit">The most elements to handle (zero or more).</param>
    /// <exception cref="RingCorruptedException">A slot holds a value no producer writes.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="limit"/> is negative.</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Drain<THandler>(ref THandler handler, int limit = int.MaxValue)
        where THandler : struct, ISlotHandler<T>, allows ref struct
        => _core.Drain<T, THandler>(ref handler, limit);

    /// <summary>
    /// Consumer: recovers from a producer that died between claiming a slot and publishing it
    /// (Agrona's Unblock). When the next position has been claimed but stays unpublished for at
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
    public bool TryUnblock(TimeSpan stalledFor) => _core.TryUnblock(stalledFor);
}
