using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using UintrIpc.Memory;

namespace UintrIpc.Rings;

/// <summary>How the producers of a slot ring take positions; a struct type argument of the engine's producer methods.</summary>
internal interface IProducerMode;

/// <summary>One producer: it owns the tail and keeps it privately (uintripc.h 2c, 2d).</summary>
internal struct SingleProducer : IProducerMode;

/// <summary>Any number of producers: they claim positions with a CAS on the shared tail (uintripc.h 2d).</summary>
internal struct MultiProducer : IProducerMode;

// Both producer modes of the slot rings. `typeof(TMode) == typeof(MultiProducer)` is a JIT-time
// constant for a struct type argument, so each mode compiles to its own straight path.
// Orderings: element (plain), then its sequence = position + 1 (release) publishes it; the
// SPSC producer then publishes its tail (release). A head read (acquire) pairs with the
// consumer's release, so the slots it frees are read before we overwrite them.
internal unsafe partial struct SlotRingEngine
{
    /// <summary>Writes one element; false when the ring is full.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal bool TryWrite<T, TMode>(in T item)
        where T : unmanaged
        where TMode : struct, IProducerMode
        => TryWrite<T, TMode>(in item, ProducerThread<TMode>());

    /// <summary>Writes one element by the thread whose managed id is <paramref name="thread"/> (MPSC; SPSC: unused); false when the ring is full.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal bool TryWrite<T, TMode>(in T item, int thread)
        where T : unmanaged
        where TMode : struct, IProducerMode
    {
        ThrowIfDisposed();
        if (!TryClaimOne<TMode>(thread, out ulong position, out _, out _))
        {
            return false;
        }

        Store<T, TMode>(position, in item);
        return true;
    }

    /// <summary>
    /// SPSC, a raw ring's write: writes one element when nothing out of the ordinary stands in the
    /// way (not disposed, room by the cached head); false: the caller makes room (<see cref="MakeRoomSingle"/>)
    /// and tries again. Throws nothing; the call is marked in the private tail (<see cref="EnterQuickCall"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal bool TryWriteQuick<T>(in T item)
        where T : unmanaged
    {
        ulong position = ProducerTail;
        if (!EnterQuickCall(position) || position - ProducerHeadCache >= Capacity)
        {
            Volatile.Write(ref ProducerTail, position); // leave: nothing written
            return false;
        }

        byte* slot = SlotAt(position);
        ElementCopy.Copy(ref *(T*)(slot + RingLayout.SlotHeaderSize), in item); // plain: published by the release below
        PublishAndLeave(slot, position);
        return true;
    }

    /// <summary>
    /// SPSC, a raw ring's write or publish of <paramref name="position"/>, the private tail: marks the
    /// call in the tail (<see cref="InQuickCall"/>, which the producer role's MappingUse record reads
    /// through <see cref="IRoleCallMark"/>); whether the ring is not disposed. Plain, before the
    /// disposed load (ordered by the releaser's process-wide barrier, as MappingUse's depth): one store
    /// that a depth pair beside the tail's own store made three (design-notes "spsc2").
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool EnterQuickCall(ulong position)
    {
        ProducerTail = position | QuickCallMark;
        return Disposed == 0;
    }

    /// <summary>SPSC: publishes the slot of <paramref name="position"/> and the tail, then leaves the call <see cref="EnterQuickCall"/> marked: the private tail moves on, unmarked (release: after the call's stores to the mapping).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void PublishAndLeave(byte* slot, ulong position)
    {
        Volatile.Write(ref *(ulong*)slot, position + 1); // release: the element before its sequence
        Volatile.Write(ref *SharedTail, position + 1); // release (readers need not see it at once)
        Volatile.Write(ref ProducerTail, position + 1);
    }

    /// <summary>SPSC: whether the producer is inside a write or publish marked by <see cref="EnterQuickCall"/> (acquire; any thread, for MappingUse.IsInUse).</summary>
    internal readonly bool InQuickCall => (Volatile.Read(in ProducerTail) & QuickCallMark) != 0;

    /// <summary>Writes <paramref name="item"/> into the claimed slot of <paramref name="position"/> and publishes it (SPSC: and the tail).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Store<T, TMode>(ulong position, in T item)
        where T : unmanaged
        where TMode : struct, IProducerMode
    {
        byte* slot = SlotAt(position);
        ElementCopy.Copy(ref *(T*)(slot + RingLayout.SlotHeaderSize), in item); // plain: published by the release below
        Volatile.Write(ref *(ulong*)slot, position + 1); // release: the element before its sequence
        if (typeof(TMode) == typeof(SingleProducer))
        {
            PublishTail(position + 1);
        }
    }

    /// <summary>Writes as many of <paramref name="items"/> as fit, in order, with one claim; returns how many.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal int TryWrite<T, TMode>(ReadOnlySpan<T> items)
        where T : unmanaged
        where TMode : struct, IProducerMode
        => TryWrite<T, TMode>(items, ProducerThread<TMode>());

    /// <summary>Writes as many of <paramref name="items"/> as fit by the thread whose managed id is <paramref name="thread"/> (MPSC; SPSC: unused); returns how many.</summary>
    /// <remarks>AggressiveOptimization: as <see cref="Drain{T, THandler}"/>, the loop never runs unoptimized.</remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining | MethodImplOptions.AggressiveOptimization)]
    internal int TryWrite<T, TMode>(ReadOnlySpan<T> items, int thread)
        where T : unmanaged
        where TMode : struct, IProducerMode
    {
        ThrowIfDisposed();
        if (items.IsEmpty)
        {
            return 0;
        }

        ulong wanted = Math.Min((ulong)items.Length, Capacity);
        ulong start;
        ulong count;
        if (typeof(TMode) == typeof(MultiProducer))
        {
            count = ClaimMany(wanted, thread, out start, out _, out _);
        }
        else
        {
            count = ClaimSingle(wanted, out start);
            if (count != 0 && _prefetchWrite != null)
            {
                PrefetchSlots(start, count);
            }
        }

        ref T source = ref MemoryMarshal.GetReference(items); // count <= items.Length: no bounds check per element
        for (ulong i = 0; i < count; i++)
        {
            if (typeof(TMode) == typeof(SingleProducer) && PrefetchesPerSlot<T>() && i + 1 < count)
            {
                PrefetchBatchSlot(start + i + 1, start + count);
            }

            byte* slot = SlotAt(start + i);
            ElementCopy.Copy(ref *(T*)(slot + RingLayout.SlotHeaderSize), in Unsafe.Add(ref source, (nint)i)); // plain: published by the release below
            // Release: each element before its sequence; the consumer may start on the first ones.
            Volatile.Write(ref *(ulong*)slot, start + i + 1);
        }

        if (typeof(TMode) == typeof(SingleProducer) && count > 0)
        {
            PublishTail(start + count); // once per batch
        }

        return (int)count;
    }

    /// <summary>Claims the next slot for writing in place; false when the ring is full. The claim refers to this engine.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    [UnscopedRef]
    internal bool TryClaim<T, TMode>(out SlotClaim<T> claim)
        where T : unmanaged
        where TMode : struct, IProducerMode
        => TryClaim<T, TMode>(ProducerThread<TMode>(), out claim);

    /// <summary>Claims the next slot by the thread whose managed id is <paramref name="thread"/> (MPSC; SPSC: unused); false when the ring is full.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    [UnscopedRef]
    internal bool TryClaim<T, TMode>(int thread, out SlotClaim<T> claim)
        where T : unmanaged
        where TMode : struct, IProducerMode
    {
        if (!TryClaimSlot<TMode>(thread, out byte* slot, out ulong position, out bool unmarked))
        {
            claim = default;
            return false;
        }

        claim = new SlotClaim<T>(ref this, slot, position, typeof(TMode) == typeof(MultiProducer), unmarked);
        return true;
    }

    /// <summary>
    /// <see cref="TryClaim{T, TMode}(int, out SlotClaim{T})"/>'s claim as its parts: the slot, its position
    /// and (MPSC) whether its marker is deferred. A caller out of line returns these, not the claim,
    /// whose address passed out would keep the inlining caller's claim in memory (spsc1).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal bool TryClaimSlot<TMode>(int thread, out byte* slot, out ulong position, out bool unmarked)
        where TMode : struct, IProducerMode
    {
        ThrowIfDisposed();
        unmarked = false;
        if (!TryClaimOne<TMode>(thread, out position, out uint tag, out bool cachedThread))
        {
            slot = null;
            return false;
        }

        slot = SlotAt(position);
        if (typeof(TMode) == typeof(MultiProducer))
        {
            // The claimed marker must name us before our intent stops covering the slot, i.e.
            // before this thread's next intent (uintripc.h 2d, 2f). The cached thread defers it
            // to that claim (usually never: it publishes first), so a claim costs the shared
            // stores of a copy; other threads (no private word to remember it in) write it now,
            // ordered before their next intent by its release.
            if (cachedThread)
            {
                DeferMarkers(position, 1);
                unmarked = true;
            }
            else
            {
                Volatile.Write(ref *(ulong*)slot, ClaimMarker.ForSlot(tag, position));
            }
        }

        return true;
    }

    /// <summary>
    /// SPSC: claims the next slot when nothing out of the ordinary stands in the way (<see cref="TryTakeQuick"/>);
    /// false: the caller makes room (<see cref="MakeRoomSingle"/>) and tries again. Throws nothing.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    [UnscopedRef]
    internal bool TryClaimQuick<T>(out SlotClaim<T> claim)
        where T : unmanaged
    {
        if (!TryTakeQuick(out ulong position))
        {
            claim = default;
            return false;
        }

        claim = new SlotClaim<T>(ref this, SlotAt(position), position, multiProducer: false, unmarked: false);
        return true;
    }

    /// <summary>
    /// SPSC: the next position, when the ring is not disposed and the cached head proves room; false:
    /// anything else (<see cref="MakeRoomSingle"/> throws, or reloads head). No call and no throw, so
    /// that a raw ring's claim needs no try/finally (it reads private words only; its publish marks
    /// itself, <see cref="EnterQuickCall"/>) and keeps its values in registers: values live into a finally are written to the frame at every
    /// definition, and those live across a rare call were spilled (spscst in docs/design-notes.md). Its
    /// caller asks for the slots ahead (<see cref="PrefetchAheadIfDue()"/>) before, when nothing is live.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private readonly bool TryTakeQuick(out ulong position)
    {
        position = ProducerTail;
        return Disposed == 0 && position - ProducerHeadCache < Capacity;
    }

    /// <summary>
    /// SPSC, when <see cref="TryTakeQuick"/> found no room: throws when the ring is disposed, reloads
    /// head when the cache says full; whether the next slot is free (then it asked for the slots ahead when due).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal bool MakeRoomSingle()
    {
        ThrowIfDisposed();
        return HasRoomSingle(ProducerTail);
    }

    /// <summary>SPSC: whether the slot of <paramref name="position"/>, the private tail, is free (head reloaded when the cache says full); then asks for the slots ahead when due.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool HasRoomSingle(ulong position)
    {
        if (position - ProducerHeadCache >= Capacity && RefreshHeadSingle(position) == 0)
        {
            return false;
        }

        PrefetchAheadIfDue(position);
        return true;
    }

    /// <summary>
    /// SPSC: publishes the claim of <paramref name="position"/> unless the ring is disposed or a later
    /// write superseded it; false: refused (<see cref="ThrowPublishRefused"/> says why). Throws
    /// nothing, so that a raw ring's claim records its publish without a try/finally (SlotClaim.Publish):
    /// <paramref name="marked"/>, the call is marked in the private tail (<see cref="EnterQuickCall"/>);
    /// a channel's claim is not (its channel keeps the mapping by its own count).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal bool TryPublishSingle(byte* slot, ulong position, bool marked)
    {
        if (position != ProducerTail)
        {
            return false; // superseded (the private tail, unmarked outside a call)
        }

        if (marked ? !EnterQuickCall(position) : Disposed != 0)
        {
            Volatile.Write(ref ProducerTail, position); // leave: nothing written
            return false;
        }

        PublishAndLeave(slot, position); // release: the caller's writes to the element first
        return true;
    }

    /// <summary>SPSC: throws for a publish of <paramref name="position"/> that <see cref="TryPublishSingle"/> refused (the disposed flag stays set once set).</summary>
    [DoesNotReturn]
    internal readonly void ThrowPublishRefused(ulong position)
    {
        ThrowIfDisposed();
        SlotRingThrowHelper.ThrowClaimSuperseded(position, ProducerTail);
    }

    /// <summary>SPSC: moves the private tail and publishes it (release; readers need not see it at once).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void PublishTail(ulong tail)
    {
        ProducerTail = tail;
        Volatile.Write(ref *SharedTail, tail);
    }

    /// <summary>
    /// Takes the next position; <paramref name="tag"/> is the MPSC producer's marker tag (SPSC: 0),
    /// <paramref name="cachedThread"/> whether it is this object's cached producer thread.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool TryClaimOne<TMode>(int thread, out ulong position, out uint tag, out bool cachedThread)
        where TMode : struct, IProducerMode
    {
        if (typeof(TMode) == typeof(MultiProducer))
        {
            return ClaimMany(1, thread, out position, out tag, out cachedThread) == 1;
        }

        tag = 0;
        cachedThread = false;
        position = ProducerTail;
        return HasRoomSingle(position);
    }

    /// <summary>
    /// SPSC single claim of <paramref name="position"/>: write prefetch, a block at a time
    /// (<see cref="PrefetchSlots"/>), only when the slot <see cref="_prefetchAhead"/> on is not asked
    /// for yet (one claim in _prefetchAhead + 1) and is proven released (else the call would ask for
    /// nothing on every claim of a ring kept full). No prefetch: the frontier stays 0 and the null test decides.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void PrefetchAheadIfDue(ulong position)
    {
        if (position + _prefetchAhead >= _prefetchedTo && _prefetchWrite != null && position + _prefetchAhead - ProducerHeadCache < Capacity)
        {
            PrefetchSlots(position, 1 + _prefetchAhead);
        }
    }

    /// <summary>
    /// SPSC: <see cref="PrefetchAheadIfDue(ulong)"/> for the next claim, at the top of a raw ring's
    /// single claim or write, before it records its call and reads anything it needs after: nothing of
    /// the call is live across the (rare) call to the shim, so nothing is spilled on every claim. A hint,
    /// only to slots the cached head proves released: it may run before the call's disposed check.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void PrefetchAheadIfDue() => PrefetchAheadIfDue(ProducerTail);

    /// <summary>
    /// SPSC: asks for ownership of the slots a claim of <paramref name="count"/> from
    /// <paramref name="start"/> will write after its first and of the <see cref="_prefetchAhead"/>
    /// after them, so that their lines arrive before our stores do. Without it each line the
    /// producer writes (shared since the consumer read it a lap ago, or the chasing consumer's) was
    /// fetched only when its store reached the head of the store buffer, one after another:
    /// in-process on Intel, 64 B, 1 Ki slots, 54 ns per message against about 7 with it. At most
    /// <see cref="_maxPrefetchSlots"/> per call, from where the previous call's ended (the
    /// frontier), and only slots the cached head proves released: a line the consumer has yet to
    /// read would be taken from it. A hint: it reads and writes no slot.
    /// Batch claims call it once per batch. A single claim calls it only when the slot
    /// <see cref="_prefetchAhead"/> on is past the frontier, as a claim of 1 + that many slots:
    /// one call per <see cref="_prefetchAhead"/> + 1 claims, each for that many slots ahead
    /// (.NET has no PREFETCHW intrinsic, and the shim's call per message cost the AMD host's
    /// single-message row what an added call costs the C ring, spscpf in docs/design-notes.md).
    /// </summary>
    /// <remarks>AggressiveOptimization: called once in many claims, it would run as tier-0 code long after the claims' loop is optimized.</remarks>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private void PrefetchSlots(ulong start, ulong count)
    {
        (ulong from, ulong to) = PrefetchRange(start, count);
        if (to > from)
        {
            PrefetchLines(from, to);
        }
    }

    /// <summary>Asks for the lines of the slots [<paramref name="from"/>, <paramref name="to"/>) (at most <see cref="MaxPrefetchBytes"/>, wrapping at the ring's end) and moves the frontier to <paramref name="to"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void PrefetchLines(ulong from, ulong to)
    {
        _prefetchedTo = to;
        byte* slot = SlotAt(from);
        nuint bytes = PrefetchBytesOf(from, to);
        nuint toEnd = (nuint)(Data + ((nuint)Capacity * _slotSize) - slot);
        while (bytes != 0)
        {
            nuint chunk = Math.Min(Math.Min(bytes, PrefetchWriteMax), toEnd);
            _prefetchWrite(slot, chunk);
            bytes -= chunk;
            toEnd -= chunk;
            slot += chunk;
            if (toEnd == 0)
            {
                slot = Data; // the range wraps to the first slot
                toEnd = (nuint)Capacity * _slotSize;
            }
        }
    }

    /// <summary>
    /// A batch of large elements (<see cref="PrefetchesPerSlot{T}"/>; MPSC too, whose batch's slots are
    /// its own from the claim's CAS on, and C's MPSC batch asks for none, mpsc44): keeps the slots ahead of
    /// <paramref name="next"/>, the batch's slot after the one being written, asked for: once fewer
    /// than <see cref="BatchPrefetchLead"/> slots past it are (the claim's <see cref="PrefetchSlots"/>
    /// asked for the first ones), up to <see cref="_maxPrefetchSlots"/> past it in one call
    /// (<see cref="PrefetchBatchSlots"/>), never beyond <paramref name="end"/>, the batch's end (not
    /// claimed: maybe not released). With slots of 2 KiB or more that is each next slot, as
    /// before; 1 KiB slots are asked for 3 to 7 ahead, a call per 4 slots, where each next one
    /// (a call per slot, about 15 ns of copy ahead of a line the other core may hold) read 0.94x
    /// the C ring (slot1k in docs/design-notes.md). Without a per-slot prefetch the other lines
    /// were fetched from the consumer's core only when their stores reached the head of the store
    /// buffer (in-process, 4 Ki slots of 4 KiB, batches of 64: p10 of 8192-message bursts 300 ->
    /// 170 ns per message, the C producer's 170). The caller passes positions of its batch.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void PrefetchBatchSlot(ulong next, ulong end)
    {
        if (_prefetchWrite != null && next + BatchPrefetchLead >= _prefetchedTo && _prefetchedTo < end)
        {
            PrefetchBatchSlots(next, end);
        }
    }

    /// <summary>How few slots past the next one may be asked for before <see cref="PrefetchBatchSlot"/> asks for more: half of one call's.</summary>
    private readonly ulong BatchPrefetchLead
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => _maxPrefetchSlots >> 1;
    }

    /// <summary><see cref="PrefetchBatchSlot"/>'s call: the slots from the frontier (at least <paramref name="next"/>) to <see cref="_maxPrefetchSlots"/> past <paramref name="next"/>, within the batch.</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private void PrefetchBatchSlots(ulong next, ulong end)
    {
        ulong from = Math.Max(_prefetchedTo, next);
        ulong to = Math.Min(next + _maxPrefetchSlots, end);
        if (to - from == 1)
        {
            // One slot (always so from 2 KiB on): one call, which the shim cuts to 4 KiB, as before
            // (the range's loop would add a call for a 4 KiB slot's last line: 4 KiB row 0.88x, 2 of 9).
            _prefetchedTo = to;
            _prefetchWrite(SlotAt(from), _slotSize);
        }
        else if (to > from)
        {
            PrefetchLines(from, to);
        }
    }

    /// <summary>The position up to which slots were asked for (tests).</summary>
    internal readonly ulong PrefetchedTo => _prefetchedTo;

    /// <summary>
    /// Whether batches of <typeparamref name="T"/> prefetch slot by slot (<see cref="PrefetchBatchSlot"/>):
    /// elements of <see cref="ElementCopy.VectorLoopMinimum"/> (1 KiB) or more, whose copy hides the
    /// call. A JIT-time constant.
    /// </summary>
    internal static bool PrefetchesPerSlot<T>() where T : unmanaged => sizeof(T) >= ElementCopy.VectorLoopMinimum;

    /// <summary>The positions [from, to) <see cref="PrefetchSlots"/> asks for for a claim of <paramref name="count"/> from <paramref name="start"/>; empty: none.</summary>
    internal readonly (ulong From, ulong To) PrefetchRange(ulong start, ulong count)
    {
        if (_prefetchWrite == null)
        {
            return (0, 0);
        }

        // Not the first slot: its stores follow at once, a prefetch of it would come too late
        // (with large elements, 64 prefetches of one 4 KiB slot just before its stores).
        ulong from = Math.Max(_prefetchedTo, start + 1);
        // Released: below the cached head + capacity (the cache is never ahead of the real head).
        ulong to = Math.Min(Math.Min(start + count + _prefetchAhead, ProducerHeadCache + Capacity), from + _maxPrefetchSlots);
        return to > from ? (from, to) : (0, 0);
    }

    /// <summary>
    /// The bytes <see cref="PrefetchSlots"/> asks for over the slots [<paramref name="from"/>, <paramref name="to"/>):
    /// at most <see cref="MaxPrefetchBytes"/>, also when one slot is larger (its first lines, as
    /// the single claims' prefetch, which the shim cuts to 4 KiB).
    /// </summary>
    internal readonly nuint PrefetchBytesOf(ulong from, ulong to)
        => Math.Min((nuint)(to - from) * _slotSize, MaxPrefetchBytes); // pitch == slot size: not a duplex part

    /// <summary>
    /// A writer's wait for room (IpcChannelWriter.WaitToWrite, WaitToWriteAsync): whether a claim of
    /// one slot can go ahead now, the shared head checked as a claim checks it (2c), so that a
    /// corrupt head is reported when seen rather than waited out as a full ring. Cold: the writes
    /// never call it. Stores nothing but what a claim's refresh stores (the head cache; MPSC: the floor).
    /// </summary>
    /// <exception cref="RingCorruptedException">The shared positions are impossible.</exception>
    /// <exception cref="ObjectDisposedException">The ring is disposed.</exception>
    [MethodImpl(MethodImplOptions.NoInlining)]
    internal bool HasRoomChecked()
    {
        ThrowIfDisposed();
        if (!AllowSkips)
        {
            return RefreshHeadSingle(ProducerTail) != 0; // our private tail is the truth (2c)
        }

        ulong floor = Volatile.Read(ref ProducerTail); // acquire: a floor another thread of this object stored (2c)
        ulong tail = CheckedTail(Volatile.Read(ref *SharedTail), floor); // acquire: the producers' shared tail, read before head (2b)
        return RefreshHeadMulti(tail, floor) != RingFull;
    }

    /// <summary>SPSC: reloads head into the cache; returns the free slots for our <paramref name="tail"/>.</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private ulong RefreshHeadSingle(ulong tail)
    {
        // Acquire: pairs with the consumer's release of head. Our tail is the truth (2c).
        ulong head = Volatile.Read(ref *SharedHead);
        if (head > tail || tail - head > Capacity)
        {
            SlotRingThrowHelper.ThrowPositionsCorrupted(in this, head, tail, "producer");
        }

        ProducerHeadCache = head;
        return Capacity - (tail - head);
    }

    /// <summary>
    /// MPSC: claims up to <paramref name="wanted"/> positions with one CAS after a capacity check;
    /// returns how many (0 when full). Room short of <paramref name="wanted"/> is looked up once
    /// in the real head before settling for less. <paramref name="thread"/>: the caller's managed
    /// thread id; <paramref name="cachedThread"/>: the caller is this object's cached producer
    /// thread (see <see cref="_unmarkedClaim"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ulong ClaimMany(ulong wanted, int thread, out ulong start, out uint tag, out bool cachedThread)
    {
        // First, before anything else is live: finding the entry of a thread not cached calls out.
        ulong* intent = ProducerIntent(thread, out tag, out cachedThread);
        if (cachedThread && _unmarkedClaim != 0)
        {
            MarkUnmarkedClaim(); // our intent below stops covering that claim (2d)
        }

        // Acquire: a floor another thread of this object stored after its claim (2c).
        ulong floor = Volatile.Read(ref ProducerTail);
        // The first CAS is tried from the floor, without loading the shared tail first: a load would
        // fetch the line shared and the CAS fetch it again to own it. When another producer claimed
        // since, the failed CAS returns the current tail (checked below) for the next attempt, and a
        // stale intent it leaves is a CAS loser's, which 2f allows for.
        ulong tail = floor;
        bool refreshed = false;
        while (true)
        {
            ulong used = tail - ProducerHeadCache; // unsigned: a cache ahead of a stale tail is huge too
            ulong room = used < Capacity ? Capacity - used : 0;
            if (room < wanted && (room == 0 || !refreshed))
            {
                refreshed = true;
                tail = RefreshHeadMulti(tail, floor);
                if (tail == RingFull)
                {
                    WithdrawIntent(intent);
                    start = 0;
                    return 0;
                }

                continue;
            }

            ulong count = Math.Min(room, wanted);
            // Release: our intent is what the consumer attributes an unpublished claim by; the CAS
            // below is a full fence, so it is visible before the claim is (uintripc.h 2f).
            Volatile.Write(ref *intent, ClaimMarker.Intent(tail, count));
            // Full fence: takes [tail, tail + count) for this producer alone; fails if another claimed first.
            ulong seen = Interlocked.CompareExchange(ref *SharedTail, tail + count, tail);
            if (seen == tail)
            {
                // Release (after the CAS): a floor; a racing thread's smaller value only weakens it.
                Volatile.Write(ref ProducerTail, tail + count);
                start = tail;
                return count;
            }

            tail = CheckedTail(seen, floor);
        }
    }

    /// <summary>
    /// MPSC: <see cref="ClaimMany"/> of one slot by the cached thread (<paramref name="thread"/>) when
    /// nothing out of the ordinary stands in the way: not disposed, no deferred claim of ours to mark,
    /// room by the cached head, every tail seen at or above the floor. Throws and calls nothing, so that
    /// a raw ring's single write or claim records itself without a try/finally (design-notes "mpscst");
    /// false: nothing claimed (an intent stored for a CAS that failed is a loser's, which 2f allows
    /// for), the caller takes the checked path, which throws, registers, marks or reloads head.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool TryClaimOneQuickMulti(int thread, out ulong position)
    {
        position = 0;
        ulong* intent = _producerThread.CachedIntent(thread);
        // Plain loads of private words (Disposed: after the caller's record store, ordered by the releaser's barrier, MappingUse).
        if (intent == null || Disposed != 0 || _unmarkedClaim != 0)
        {
            return false;
        }

        // Acquire: a floor another thread of this object stored after its claim (2c); the first CAS is tried from it (ClaimMany).
        ulong floor = Volatile.Read(ref ProducerTail);
        ulong tail = floor;
        while (tail - ProducerHeadCache < Capacity) // unsigned: a cache ahead of a stale tail is huge too
        {
            // Release: our intent attributes the claim until its marker is written; the CAS is a full fence (2f).
            Volatile.Write(ref *intent, ClaimMarker.Intent(tail, 1));
            // Full fence: takes the slot of tail for this producer alone; fails if another claimed first.
            ulong seen = Interlocked.CompareExchange(ref *SharedTail, tail + 1, tail);
            if (seen == tail)
            {
                Volatile.Write(ref ProducerTail, tail + 1); // release (after the CAS): a floor, as ClaimMany's
                position = tail;
                return true;
            }

            if (seen < floor || seen >= RingLayout.MaxPosition)
            {
                return false; // the checked path reads it again and throws (CheckedTail)
            }

            tail = seen;
        }

        return false; // full by the cached head: the checked path reloads it
    }

    /// <summary>
    /// MPSC, a raw ring's single write by the cached thread without a call or a throw (<see cref="TryClaimOneQuickMulti"/>):
    /// claims, copies <paramref name="item"/> and publishes it; false: nothing written, take the checked write.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal bool TryWriteQuickMulti<T>(in T item, int thread)
        where T : unmanaged
    {
        if (!TryClaimOneQuickMulti(thread, out ulong position))
        {
            return false;
        }

        Store<T, MultiProducer>(position, in item);
        return true;
    }

    /// <summary>
    /// MPSC, a raw ring's single claim by the cached thread without a throw (<see cref="TryClaimOneQuickMulti"/>):
    /// its markers deferred as <see cref="TryClaimSlot"/>'s (the claim is then unmarked); false: nothing
    /// claimed, or a Dispose raced the claim, which is then marked (as <see cref="DeferMarkers"/> does,
    /// while the caller's record keeps the mapping): the checked claim then throws <see cref="ObjectDisposedException"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal bool TryClaimSlotQuickMulti(int thread, out ulong position)
    {
        if (!TryClaimOneQuickMulti(thread, out position))
        {
            return false;
        }

        RecordDeferredMarkers(position, 1);
        // Acquire (a plain mov on x86): a fresh load after the deferral's stores, never the check above reused (mpscbw's pairing).
        if (Volatile.Read(ref Disposed) != 0)
        {
            CompleteClaimOfDisposed(position);
            return false;
        }

        return true;
    }

    /// <summary>What <see cref="RefreshHeadMulti"/> returns when the ring is full (tails stay below 2^62, 2b).</summary>
    private const ulong RingFull = ulong.MaxValue;

    /// <summary>
    /// MPSC: reloads head into the cache. Returns <see cref="RingFull"/> when the ring is full for
    /// <paramref name="tail"/>, else the tail to re-check with (fresher when ours was stale).
    /// </summary>
    /// <remarks>Returns the tail rather than taking it by ref: a ref would keep the caller's tail in memory on every claim.</remarks>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private ulong RefreshHeadMulti(ulong tail, ulong floor)
    {
        ulong head = Volatile.Read(ref *SharedHead); // acquire: pairs with the consumer's release
        if (head <= tail)
        {
            // `tail` was read before head: tail <= head + capacity held when it was read (2b).
            if (tail - head > Capacity)
            {
                SlotRingThrowHelper.ThrowPositionsCorrupted(in this, head, tail, "producer");
            }

            ProducerHeadCache = head;
            if (tail - head < Capacity)
            {
                return tail;
            }

            if (tail > floor)
            {
                // Release: the floor becomes the (checked) tail seen full, so that the next poll of a
                // full ring starts from it and finds no room before any CAS. From a stale floor it
                // would CAS first, fail, and take the tail's line from the other producers each time.
                Volatile.Write(ref ProducerTail, tail);
            }

            return RingFull;
        }

        // Our tail is stale: others claimed and the consumer consumed past it. A tail read after
        // head is at least head (2b).
        ulong fresh = CheckedTail(Volatile.Read(ref *SharedTail), floor);
        if (fresh < head)
        {
            SlotRingThrowHelper.ThrowPositionsCorrupted(in this, head, fresh, "producer");
        }

        ProducerHeadCache = head;
        return fresh;
    }

    /// <summary>
    /// MPSC, the ring is full: our intent stops covering anything (uintripc.h 2f). It may be a
    /// failed CAS's, covering another producer's claim; while the ring stays full we store no other,
    /// and the consumer, waiting at that claim, would never skip it if its producer died (every
    /// intent covering it must be dead). Our own open claims are marked by now (the cached thread's
    /// at the top of <see cref="ClaimMany"/>, the others' at once), or published.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void WithdrawIntent(ulong* intent)
    {
        // Plain load of the word only this thread writes (a forged value only costs the store below).
        if ((*intent >> 32) != 0)
        {
            // Release: after the markers of our open claims (their CAS or release stores), as an intent is.
            Volatile.Write(ref *intent, ClaimMarker.NoIntent);
        }
    }

    /// <summary>
    /// MPSC, the cached thread, inside its claim call: remembers its in-place claim of <paramref name="count"/>
    /// slots from <paramref name="start"/> as unmarked (private); <see cref="ClaimMany"/> or Dispose marks it
    /// before our intent stops covering it, unless it completes first (uintripc.h 2d). Throws
    /// <see cref="ObjectDisposedException"/>, the claim marked, when Dispose ran meanwhile.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void DeferMarkers(ulong start, ulong count)
    {
        RecordDeferredMarkers(start, count);
        // A Dispose whose TakeUnmarkedClaim missed the store above ran its process-wide barrier before
        // that store, so the check below sees the flag: the claim is marked now, while this claim call
        // keeps the mapping. Left to the publish (ClaimCompleted), the markers could go to the placeholder of a
        // release that retired the mapping in between, and the consumer of another process waited at
        // the claim for good (an ended registration's intent attributes no slot claim, 2f b).
        ThrowIfDisposed(start, unmarked: true);
    }

    /// <summary>MPSC, the cached thread: <see cref="DeferMarkers"/>'s record of its claim, without the disposed check that follows it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void RecordDeferredMarkers(ulong start, ulong count)
    {
        // Release (a plain store on x86, kept in order by the JIT): the clear of the previous claim
        // before the count, the count before the claim, for TakeUnmarkedClaim on another thread.
        Volatile.Write(ref _unmarkedCount, count);
        Volatile.Write(ref _unmarkedClaim, start + 1);
    }

    /// <summary>
    /// MPSC: writes the claimed markers of the cached thread's unmarked in-place claim (2d), before
    /// an intent of that thread stops covering it or its registration ends. Each by a CAS from the
    /// slot's previous value: a slot the consumer skipped meanwhile (TryUnblock) stays skipped.
    /// The claim is unpublished (publish and abort clear <see cref="_unmarkedClaim"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void MarkUnmarkedClaim()
    {
        ulong claim = _unmarkedClaim; // 0 when Dispose took it since our look (TakeUnmarkedClaim)
        _unmarkedClaim = 0;
        if (claim != 0)
        {
            MarkClaimedSlots(claim - 1, _unmarkedCount);
        }
    }

    /// <summary>
    /// MPSC, another thread than the cached one (the ring's Dispose; the producer table ending the
    /// exited cached thread's registration): takes the cached thread's unmarked claim and marks it
    /// (<see cref="MarkUnmarkedClaim"/>). Taken by a CAS of the value read, never cleared by a plain
    /// store: that thread may complete the claim and claim again meanwhile (its disposed check
    /// before our Exchange of Disposed; its clear still in its store buffer when we read), and a
    /// clear of its new claim left that claim neither marked by us nor by its publish, which finds
    /// Disposed set and _unmarkedClaim no longer its own: the consumer stalled at it for good.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void TakeUnmarkedClaim()
    {
        // Acquire: the count that DeferMarkers wrote before the claim (release).
        ulong claim = Volatile.Read(ref _unmarkedClaim);
        while (claim != 0)
        {
            ulong count = Volatile.Read(ref _unmarkedCount);
            // Full fence CAS: ours only if the word still holds the claim read, so the count read
            // since is that claim's (a newer count follows the clear of this claim, DeferMarkers).
            // Lost: the thread completed it (0) or claimed again, which we take in turn.
            ulong seen = Interlocked.CompareExchange(ref _unmarkedClaim, 0, claim);
            if (seen == claim)
            {
                MarkClaimedSlots(claim - 1, count);
                return;
            }

            claim = seen;
        }
    }

    /// <summary>MPSC: writes the claimed markers of the cached thread's claim of <paramref name="count"/> slots from <paramref name="start"/> (<see cref="MarkUnmarkedClaim"/>).</summary>
    private void MarkClaimedSlots(ulong start, ulong count)
    {
        uint tag = _producerThread.Tag; // the claim is the cached thread's
        ulong end = start + count;
        for (ulong position = start; position < end; position++)
        {
            byte* slot = SlotAt(position);
            ulong sequence = Volatile.Read(ref *(ulong*)slot); // acquire: only compared
            if ((sequence & ~RingLayout.SlotSkipped) == UnwrittenSequence(position))
            {
                // Full fence CAS: the marker before our next intent (release) and before our registration ends.
                Interlocked.CompareExchange(ref *(ulong*)slot, ClaimMarker.ForSlot(tag, position), sequence);
            }
        }
    }

    /// <summary>
    /// MPSC: the claim from <paramref name="position"/> completed (published or aborted): it needs no
    /// marker any more. Unless the ring was disposed: then its publish or abort wrote nothing, and a
    /// claim Dispose did not see is marked here (by CAS from the previous value: a slot written since
    /// is left alone), for the consumer to skip as an ended registration's (2d, 2f). The claim call
    /// itself does so when it sees the flag (<see cref="DeferMarkers"/>), while it keeps the mapping.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void ClaimCompleted(ulong position)
    {
        if (_unmarkedClaim == position + 1)
        {
            if (Disposed != 0)
            {
                MarkUnmarkedClaim();
                return;
            }

            _unmarkedClaim = 0;
        }
    }

    /// <summary>
    /// MPSC: publishes the claim of <paramref name="position"/> in <paramref name="slot"/> unless the ring is
    /// disposed (then a claim whose markers are still deferred is marked, <see cref="ClaimCompleted"/>);
    /// false: refused, the caller throws <see cref="ObjectDisposedException"/>. Throws nothing, so that the
    /// publish records itself without a try/finally (SlotClaim.Publish).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal bool TryPublishMulti(byte* slot, ulong position, bool unmarked)
    {
        // Acquire (a plain mov on x86), after the caller's record store (ordered by the releaser's barrier, MappingUse).
        if (Volatile.Read(ref Disposed) != 0)
        {
            if (unmarked)
            {
                CompleteClaimOfDisposed(position);
            }

            return false;
        }

        // Release: every write to Item happens before the consumer sees the sequence (uintripc.h 2d).
        Volatile.Write(ref *(ulong*)slot, position + 1);
        if (unmarked)
        {
            ClaimCompleted(position); // published: our next claim must not mark it
        }

        return true;
    }

    /// <summary>MPSC: throws when the ring is disposed, first leaving markers on the claim from <paramref name="position"/> if they are still deferred (<see cref="ClaimCompleted"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void ThrowIfDisposed(ulong position, bool unmarked)
    {
        // Acquire (a plain mov on x86): a fresh load, never an earlier check of the same call reused (DeferMarkers).
        if (Volatile.Read(ref Disposed) != 0)
        {
            if (unmarked)
            {
                CompleteClaimOfDisposed(position);
            }

            // Thrown here, not in the call above: the JIT knows this call does not return, so the
            // caller's claim values are not live across a call that does, and not spilled (spscst).
            SlotRingThrowHelper.ThrowDisposed(Owner);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void CompleteClaimOfDisposed(ulong position) => ClaimCompleted(position);

    /// <summary>MPSC: a shared tail is never behind the floor read before it, and below 2^62 (2b, 2c).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private readonly ulong CheckedTail(ulong tail, ulong floor)
    {
        if (tail < floor || tail >= RingLayout.MaxPosition)
        {
            SlotRingThrowHelper.ThrowTailMovedBack(in this, tail, floor);
        }

        return tail;
    }
}
