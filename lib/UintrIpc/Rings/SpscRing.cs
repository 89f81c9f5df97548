using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using UintrIpc.Memory;

namespace UintrIpc.Rings;

// Design:
//   Lamport ring of fixed-size slots in shared memory, one producer and one consumer (each
//   possibly in another process). Layout and protocol: uintripc.h section 2a.
//   Producer (this file): owns tail. It keeps the authoritative tail and a cached copy of
//   head in the object (SlotRingCore's producer block), and touches the consumer's head line
//   only when the cache says the ring is full: then it reloads head (acquire, pairs with the
//   consumer's release) and checks head <= tail <= head + capacity. A write is: element
//   (plain), sequence = position + 1 (release, the publication), then the shared tail
//   (release; the consumer does not need it, diagnostics and peers do). Batches store the
//   tail once, after their last sequence.
//   Consumer: SlotRingCore (polls the sequence of the next slot, releases head).
//   Peer death: a producer that dies between sequence and tail leaves a lagging tail that
//   the next attach extends over the published slots; a consumer that dies before storing
//   head makes the next consumer read those elements again.

/// <summary>
/// A single-producer, single-consumer ring of fixed-size <typeparamref name="T"/> elements in a
/// <see cref="SharedRegion"/>: lock-free, zero-copy capable, and usable across processes.
/// </summary>
/// <typeparam name="T">
/// The element type: an unmanaged struct with the same layout on every side (no references,
/// no pointers into one process).
/// </typeparam>
/// <remarks>
/// <para>Create the region with <see cref="Part"/> among its parts, then attach one ring object
/// per process (or per role). At most one thread produces at a time and at most one thread
/// consumes at a time, in all processes together; the producer and the consumer may be the
/// same or different threads.</para>
/// <para>Each object reads the shared positions when it is created: to take over a role after a
/// peer stopped, create a new object. The ring holds a lease on the
/// region's mapping: it keeps working after the region is disposed, and the memory is unmapped
/// once the region and every ring on it are disposed.</para>
/// <para>Nothing read from shared memory is trusted: a corrupt or hostile value makes the call
/// throw <see cref="RingCorruptedException"/>, never read or write out of bounds or hang.</para>
/// </remarks>
[DebuggerDisplay("{DebuggerDisplay,nq}")]
public sealed unsafe class SpscRing<T> : IDisposable where T : unmanaged
{
    private readonly SharedRegion _region;
    private readonly bool _leased;
    private SlotRingCore _core;

    /// <summary>Attaches to the SPSC slot ring in <paramref name="part"/> of <paramref name="region"/>.</summary>
    /// <exception cref="RegionFormatException">
    /// The part is not an SPSC slot ring, its descriptor is invalid, or its element size is not sizeof(<typeparamref name="T"/>).
    /// </exception>
    /// <exception cref="RingCorruptedException">The shared head and tail break head &lt;= tail &lt;= head + capacity.</exception>
    public SpscRing(SharedRegion region, RegionPart part)
        : this(region, part, lease: true)
    {
    }

    /// <summary>Attaches; with <paramref name="lease"/> false the caller keeps the mapping alive (channels' own count).</summary>
    internal SpscRing(SharedRegion region, RegionPart part, bool lease)
    {
        ArgumentNullException.ThrowIfNull(region);
        if (lease)
        {
            region.AddLease();
        }

        try
        {
            _core = new SlotRingCore(region, part, PartKind.SpscSlots, sizeof(T));
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

    /// <summary>Attaches to the SPSC slot ring with <paramref name="tag"/> in <paramref name="region"/>.</summary>
    /// <exception cref="KeyNotFoundException">The region has no SPSC slot ring with this tag.</exception>
    /// <inheritdoc cref="SpscRing{T}(SharedRegion, RegionPart)"/>
    public SpscRing(SharedRegion region, uint tag = 0)
        : this(region, (region ?? throw new ArgumentNullException(nameof(region))).FindPart(PartKind.SpscSlots, tag))
    {
    }

    /// <summary>The region part of an SPSC ring of <paramref name="capacity"/> elements, for <see cref="SharedRegion"/>'s create methods.</summary>
    /// <param name="capacity">Slots in the ring: a power of two, at least 2.</param>
    /// <param name="tag">Tells parts of one kind apart within a region (e.g. 0 = requests, 1 = responses).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="capacity"/> is not a power of two of at least 2.</exception>
    [SuppressMessage("Design", "CA1000:Do not declare static members on generic types", Justification = "The part size depends on T; Ring<T>.Part(n) reads naturally next to new Ring<T>(region).")]
    public static PartSpec Part(int capacity, uint tag = 0) => SlotRingCore.CreatePart(PartKind.SpscSlots, capacity, sizeof(T), tag);

    /// <summary>The region the ring lives in.</summary>
    public SharedRegion Region => _region;

    /// <summary>Slots in the ring.</summary>
    public int Capacity => (int)_core.Capacity;

    /// <summary>The shared producer position: elements ever written (acquire; may lag the last write briefly).</summary>
    public long ProducerPosition => _core.ProducerPosition;

    /// <summary>The shared consumer position: elements ever consumed (acquire).</summary>
    public long ConsumerPosition => _core.ConsumerPosition;

    /// <summary>Approximate number of elements waiting, from the shared positions.</summary>
    public int Count => _core.Count;

    /// <summary>
    /// Consumer: whether the next slot is published (acquire). A consumer about to sleep checks
    /// it once more after announcing that it sleeps.
    /// </summary>
    /// <exception cref="RingCorruptedException">The next slot holds a value no producer writes.</exception>
    public bool CanRead => _core.CanRead;

    private string DebuggerDisplay => $"SpscRing<{typeof(T).Name}> capacity={Capacity} tail={ProducerPosition} head={ConsumerPosition}";

    // ---- producer ----------------------------------------------------------------------------

    /// <summary>Producer: writes <paramref name="item"/>, or returns false when the ring is full.</summary>
    /// <exception cref="RingCorruptedException">The shared head is impossible (checked only when the ring looks full).</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryWrite(in T item)
    {
        _core.ThrowIfDisposed();
        ulong tail = _core.ProducerTail;
        if (tail - _core.ProducerHeadCache >= _core.Capacity && RefreshHead(tail) == 0)
        {
            return false;
        }

        byte* slot = _core.SlotAt(tail);
        *(T*)(slot + RingLayout.SlotHeaderSize) = item; // plain: published by the release below
        // Release: the element is complete before the consumer can see the sequence.
        Volatile.Write(ref *(ulong*)slot, tail + 1);
        _core.ProducerTail = tail + 1;
        // Release: a reader of the tail finds the elements before it published.
        Volatile.Write(ref *_core.SharedTail, tail + 1);
        return true;
    }

    /// <summary>
    /// Producer: writes as many of <paramref name="items"/> as fit, in order; returns how many.
    /// Room is judged by the consumer position read during the call; slots the consumer frees
    /// after that are used by the next call.
    /// </summary>
    /// <exception cref="RingCorruptedException">The shared head is impossible.</exception>
    public int TryWrite(ReadOnlySpan<T> items)
    {
        _core.ThrowIfDisposed();
        ulong tail = _core.ProducerTail;
        ulong free = _core.Capacity - (tail - _core.ProducerHeadCache);
        if (free < (ulong)items.Length)
        {
            free = RefreshHead(tail);
        }

        int count = (int)Math.Min(free, (ulong)items.Length);
        for (int i = 0; i < count; i++)
        {
            byte* slot = _core.SlotAt(tail);
            *(T*)(slot + RingLayout.SlotHeaderSize) = items[i]; // plain: published by the release below
            // Release: each element is complete before its sequence; the consumer may start on the first ones.
            Volatile.Write(ref *(ulong*)slot, tail + 1);
            tail++;
        }

        if (count > 0)
        {
            _core.ProducerTail = tail;
            Volatile.Write(ref *_core.SharedTail, tail); // release, once per batch
        }

        return count;
    }

    /// <summary>
    /// Producer: claims the next slot for writing in place, or returns false when the ring is
    /// full. Write <see cref="SlotClaim{T}.Item"/>, then call <see cref="SlotClaim{T}.Publish"/>.
    /// One claim at a time: another write or claim before publishing supersedes it.
    /// </summary>
    /// <exception cref="RingCorruptedException">The shared head is impossible.</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryClaim(out SlotClaim<T> claim)
    {
        _core.ThrowIfDisposed();
        ulong tail = _core.ProducerTail;
        if (tail - _core.ProducerHeadCache >= _core.Capacity && RefreshHead(tail) == 0)
        {
            claim = default;
            return false;
        }

        claim = new SlotClaim<T>(_core.SlotAt(tail), tail, this);
        return true;
    }

    /// <summary>Publishes the claim of <paramref name="position"/> (called by <see cref="SlotClaim{T}.Publish"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void PublishClaim(byte* slot, ulong position)
    {
        _core.ThrowIfDisposed();
        ulong tail = _core.ProducerTail;
        if (position != tail)
        {
            SlotRingThrowHelper.ThrowClaimSuperseded(position, tail);
        }

        // Release: the caller's writes to the element happen before the consumer sees the sequence.
        Volatile.Write(ref *(ulong*)slot, tail + 1);
        _core.ProducerTail = tail + 1;
        Volatile.Write(ref *_core.SharedTail, tail + 1); // release, as in TryWrite
    }

    /// <summary>Reloads the shared head into the cache; returns the free slots for <paramref name="tail"/>.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private ulong RefreshHead(ulong tail)
    {
        // Acquire: pairs with the consumer's release of head, so its reads of the slots we are about to
        // overwrite are complete.
        ulong head = Volatile.Read(ref *_core.SharedHead);
        // Our tail is the truth (one producer), so an honest head is within [tail - capacity, tail].
        if (head > tail || tail - head > _core.Capacity)
        {
            SlotRingThrowHelper.ThrowPositionsCorrupted(head, tail, _core.Capacity, "producer");
        }

        _core.ProducerHeadCache = head;
        return _core.Capacity - (tail - head);
    }

    // ---- consumer ----------------------------------------------------------------------------

    /// <summary>Consumer: reads the next element, or returns false when none is published.</summary>
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
    /// in place (no copy), in order, then gives their slots back; returns how many were handled.
    /// </summary>
    /// <param name="handler">A struct handler; generic, so the call is specialised and can be inlined.</param>
    /// <param name="limit">The most elements to handle (zero or more).</param>
    /// <exception cref="RingCorruptedException">A slot holds a value no producer writes.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="limit"/> is negative.</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Drain<THandler>(ref THandler handler, int limit = int.MaxValue)
        where THandler : struct, ISlotHandler<T>, allows ref struct
        => _core.Drain<T, THandler>(ref handler, limit);
}
