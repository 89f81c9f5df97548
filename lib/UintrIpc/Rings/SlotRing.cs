using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using UintrIpc.Channels;
using UintrIpc.Memory;

namespace UintrIpc.Rings;

/// <summary>
/// A ring of fixed-size <typeparamref name="T"/> elements in a <see cref="SharedRegion"/>:
/// lock-free, zero-copy capable, usable across processes, with one producer (SPSC) or any
/// number of producers (MPSC), as chosen by <see cref="Part"/> when the region is created.
/// </summary>
/// <typeparam name="T">
/// The element type: an unmanaged struct with the same layout on every side (no references,
/// no pointers into one process).
/// </typeparam>
/// <remarks>
/// <para>Create the region with <see cref="Part"/> among its parts, then attach one object per
/// process (or per side); the object reads whether the ring has several producers from the
/// ring's descriptor (<see cref="MultipleProducers"/>). At most one thread consumes at a time,
/// in all processes together. SPSC: at most one thread produces at a time. MPSC: producer
/// methods are thread-safe (one CAS per write or batch); elements from one producer thread are
/// read in the order it wrote them, and a producer between claim and publish holds up the
/// consumer at its position: if it died there, <see cref="TrySkipDeadClaim"/> skips its claim
/// as soon as its death is known. Each MPSC producer thread takes an entry in the ring's
/// producer table on its first write through an object (64 entries; entries of exited
/// producers are reused) and gives it back when the object is disposed.</para>
/// <para>Each object keeps its own position and reads the shared ones when it is created: to
/// take over a role after a peer stopped, create a new object. The ring holds a lease on the
/// region's mapping: it keeps working after the region is disposed, and the memory is unmapped
/// once the region and every ring on it are disposed.</para>
/// <para>Nothing read from shared memory is trusted: a corrupt or hostile value makes the call
/// throw <see cref="RingCorruptedException"/>, never read or write out of bounds or hang.
/// Layout and protocol: interop/include/uintripc.h, section 2.</para>
/// </remarks>
[DebuggerDisplay("{DebuggerDisplay,nq}")]
internal sealed class SlotRing<T> : IDisposable, IRoleCallMark where T : unmanaged
{
    /// <summary>The engine, embedded in the object (no indirection on the hot path).</summary>
    internal SlotRingEngine Engine;
    /// <summary>The consumer's calls' record of the mapping in use (one thread at a time consumes: MappingUse.ForRole).</summary>
    private readonly MappingUse _consumer;
    /// <summary>
    /// SPSC: the producer's calls' record (one thread at a time produces), which also counts the quick
    /// writes and publishes marked in the engine's private tail (<see cref="IRoleCallMark"/>); null for
    /// MPSC, whose calls use the thread's (it names the producer).
    /// </summary>
    private readonly MappingUse? _producer;
    /// <summary>The region's mapping, what each call records.</summary>
    private readonly nint _mapping;

    /// <summary>Attaches to the slot ring in <paramref name="part"/> of <paramref name="region"/>.</summary>
    /// <exception cref="RegionFormatException">
    /// The part is not a slot ring, its descriptor is invalid or names another kind than the
    /// region's part table, or its element size is not sizeof(<typeparamref name="T"/>).
    /// </exception>
    /// <exception cref="RingCorruptedException">The shared positions break head &lt;= tail &lt;= head + capacity, or are not below 2^62.</exception>
    /// <exception cref="ObjectDisposedException">The region is disposed.</exception>
    public SlotRing(SharedRegion region, RegionPart part)
        : this(region, part, lease: true)
    {
    }

    /// <summary>Attaches to the slot ring (SPSC or MPSC) with <paramref name="tag"/> in <paramref name="region"/>.</summary>
    /// <exception cref="KeyNotFoundException">The region has no slot ring with this tag.</exception>
    /// <exception cref="ArgumentException">The region has an SPSC and an MPSC slot ring with this tag (pass the part).</exception>
    /// <inheritdoc cref="SlotRing{T}(SharedRegion, RegionPart)"/>
    public SlotRing(SharedRegion region, uint tag = 0)
        : this(region, (region ?? throw new ArgumentNullException(nameof(region))).FindRingPart(PartKind.SpscSlots, PartKind.MpscSlots, tag))
    {
    }

    /// <summary>
    /// Attaches; with <paramref name="lease"/> false the caller keeps the mapping alive (channels' own count).
    /// <paramref name="trailerSize"/> bytes after each element belong to its slot (a channel's checksum, uintripc.h 4a).
    /// <paramref name="owner"/>: the channel end's type name, for a call that raced its Dispose (<see cref="RetiredMapping"/>).
    /// </summary>
    internal unsafe SlotRing(SharedRegion region, RegionPart part, bool lease, int trailerSize = 0, string? owner = null)
    {
        // The kind comes from the part table; the engine checks the descriptor names the same one (uintripc.h 2a).
        Engine = SlotRingEngine.Attach(region, part, part.Kind is PartKind.MpscSlots or PartKind.DuplexSlots ? part.Kind : PartKind.SpscSlots, sizeof(T), lease, trailerSize, owner);
        _mapping = region.MappingAddress;
        _consumer = MappingUse.ForRole(region);
        _producer = Engine.AllowSkips ? null : MappingUse.ForRole(region, this);
    }

    /// <summary>The region part of a slot ring of <paramref name="capacity"/> elements, for <see cref="SharedRegion"/>'s create methods.</summary>
    /// <param name="capacity">Slots in the ring: a power of two, at least 2.</param>
    /// <param name="multipleProducers">True for an MPSC ring (any number of producers), false for SPSC (one producer at a time).</param>
    /// <param name="tag">Tells rings of one region apart (e.g. 0 = requests, 1 = responses).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="capacity"/> is not a power of two of at least 2.</exception>
    [SuppressMessage("Design", "CA1000:Do not declare static members on generic types", Justification = "The part size depends on T; SlotRing<T>.Part(n) reads naturally next to new SlotRing<T>(region).")]
    public static unsafe PartSpec Part(int capacity, bool multipleProducers = false, uint tag = 0)
        => SlotRingEngine.CreatePart(multipleProducers ? PartKind.MpscSlots : PartKind.SpscSlots, capacity, sizeof(T), tag);

    /// <inheritdoc/>
    bool IRoleCallMark.InCall => Engine.InQuickCall;

    /// <summary>The region the ring lives in.</summary>
    public SharedRegion Region => Engine.Region;

    /// <summary>Slots in the ring.</summary>
    public int Capacity => (int)Engine.Capacity;

    /// <summary>Whether the ring is MPSC (any number of producers) rather than SPSC, as its descriptor says.</summary>
    public bool MultipleProducers => Engine.AllowSkips;

    /// <summary>
    /// The shared producer position (acquire): slots ever claimed (MPSC) or written (SPSC,
    /// which may lag the last write briefly).
    /// </summary>
    /// <exception cref="ObjectDisposedException">The ring is disposed.</exception>
    public long ProducerPosition => SharedPositions().Tail;

    /// <summary>The shared consumer position: slots ever consumed or skipped (acquire).</summary>
    /// <exception cref="ObjectDisposedException">The ring is disposed.</exception>
    public long ConsumerPosition => SharedPositions().Head;

    /// <summary>Approximate number of elements waiting, from the shared positions.</summary>
    /// <exception cref="ObjectDisposedException">The ring is disposed.</exception>
    public int Count => SharedPositions().Count;

    /// <summary>
    /// Consumer: whether the next slot is published (or skipped, MPSC) (acquire). A consumer
    /// about to sleep checks it once more after announcing that it sleeps.
    /// </summary>
    /// <exception cref="RingCorruptedException">The next slot holds a value no producer writes.</exception>
    /// <exception cref="ObjectDisposedException">The ring is disposed.</exception>
    public bool CanRead
    {
        get
        {
            using MappingUse.Call call = _consumer.Begin(_mapping, this); // the mapping stays while this call runs (MappingUse)
            return Engine.CanRead;
        }
    }

    /// <summary><see cref="CanRead"/> that answers true for a corrupted slot instead of throwing (the next read reports it): for probes on threads with no catcher.</summary>
    internal bool CanReadOrCorrupt
    {
        get
        {
            using MappingUse.Call call = _consumer.Begin(_mapping, this); // the mapping stays while this call runs (MappingUse)
            return Engine.CanReadOrCorrupt;
        }
    }

    /// <summary>The shared positions, read by any thread (diagnostics): its own record keeps the mapping while it reads them.</summary>
    private (long Tail, long Head, int Count) SharedPositions()
    {
        using MappingUse.Call call = MappingUse.Enter(_mapping, this); // the mapping stays while this reads it (MappingUse)
        Engine.ThrowIfDisposed();
        return (Engine.ProducerPosition, Engine.ConsumerPosition, Engine.Count);
    }

    private string DebuggerDisplay => Engine.Disposed != 0 ? $"SlotRing<{typeof(T).Name}> disposed" : $"SlotRing<{typeof(T).Name}> {(MultipleProducers ? "MPSC" : "SPSC")} capacity={Capacity} tail={ProducerPosition} head={ConsumerPosition}";

    // Producer methods: the mode is a readonly field of the engine, on the line the call reads
    // anyway; each branch calls the engine's straight path for that mode (SlotRingEngine.Producer.cs).

    /// <summary>Producer: writes <paramref name="item"/>, or returns false when the ring is full. MPSC: thread-safe.</summary>
    /// <exception cref="RingCorruptedException">The shared head (or MPSC tail) is impossible (SPSC: checked only when the ring looks full).</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryWrite(in T item)
    {
        if (_producer is not null)
        {
            // SPSC: the role's record (no thread-static call per message, amd64), without a try/finally (spscst).
            Engine.PrefetchAheadIfDue(); // first: nothing of the call is live across the shim's call
            return TryWriteQuick(in item) || (MakeRoomSingle() && TryWriteQuick(in item));
        }

        return TryWriteMulti(in item);
    }

    /// <summary>
    /// MPSC: <see cref="TryWrite(in T)"/>, out of line (inlined beside the SPSC path, its code made the
    /// caller's loop keep its own values on the frame, spsc1). The cached thread's quick write throws
    /// nothing, so its call is recorded without a try/finally (mpscst); anything else is the checked write.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private bool TryWriteMulti(in T item)
    {
        MappingUse use = MappingUse.Current; // MPSC: the thread's record, which names the producer
        MappingUse.Call call = use.Begin(_mapping, this); // the mapping stays while this call runs (MappingUse); ended below, nothing between throws
        bool written = Engine.TryWriteQuickMulti(in item, use.ThreadId);
        call.Dispose();
        return written || TryWriteMultiChecked(in item, use);
    }

    /// <summary>MPSC, when the quick write did not: the checked write in the thread's record <paramref name="use"/> (throws when disposed or corrupt, registers the thread, marks, reloads head).</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private bool TryWriteMultiChecked(in T item, MappingUse use)
    {
        using MappingUse.Call call = use.Begin(_mapping, this); // the mapping stays while this call runs (MappingUse)
        return Engine.TryWrite<T, MultiProducer>(in item, use.ThreadId);
    }

    /// <summary>
    /// Producer: writes as many of <paramref name="items"/> as fit, in order, with one claim (so
    /// with MPSC they land contiguously, not interleaved with other producers' elements); returns
    /// how many. Room is judged by the consumer position read during the call. MPSC: thread-safe.
    /// </summary>
    /// <exception cref="RingCorruptedException">The shared head or tail is impossible.</exception>
    public int TryWrite(ReadOnlySpan<T> items)
    {
        MappingUse use = _producer ?? MappingUse.Current; // SPSC: the role's record, no thread-static call per message (amd64); MPSC: the thread's, which names the producer
        using MappingUse.Call call = use.Begin(_mapping, this); // the mapping stays while this call runs (MappingUse)
        return Engine.AllowSkips ? Engine.TryWrite<T, MultiProducer>(items, use.ThreadId) : Engine.TryWrite<T, SingleProducer>(items, 0);
    }

    /// <summary>
    /// Producer: claims the next slot for writing in place, or returns false when the ring is
    /// full. Write <see cref="SlotClaim{T}.Item"/>, then call <see cref="SlotClaim{T}.Publish"/>.
    /// SPSC: one claim at a time; another write or claim before publishing supersedes it. MPSC:
    /// the position is taken and the consumer waits for it, so use the claim in a <c>using</c>
    /// (a claim disposed without publishing is skipped); thread-safe.
    /// </summary>
    /// <exception cref="RingCorruptedException">The shared head or tail is impossible.</exception>
    /// <exception cref="ObjectDisposedException">The ring is disposed, also by another thread during this call (MPSC: slots it took are left marked, and the consumer skips them).</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    [SkipLocalsInit] // the MPSC path's out locals: zeroed on every call of the caller's loop otherwise
    public bool TryClaim(out SlotClaim<T> claim)
    {
        if (_producer is not null)
        {
            // SPSC: as TryWrite(in T), the role's record without a try/finally.
            Engine.PrefetchAheadIfDue(); // first: nothing of the call is live across the shim's call
            if (TryClaimQuick(out claim))
            {
                return true;
            }

            return MakeRoomSingle() && TryClaimQuick(out claim);
        }

        unsafe
        {
            MappingUse? use = TryClaimMulti(out byte* slot, out ulong position, out bool unmarked);
            if (use is null)
            {
                claim = default;
                return false;
            }

            claim = new SlotClaim<T>(ref Engine, slot, position, multiProducer: true, unmarked);
            claim.RecordIn(use); // its publish or abort records itself there too
            return true;
        }
    }

    /// <summary>
    /// MPSC: <see cref="TryClaim(out SlotClaim{T})"/>'s claim out of line, as <see cref="TryWriteMulti"/>:
    /// the thread's record it was taken in (null: ring full) and the claim's parts (a claim passed out
    /// would live in the caller's frame, on the SPSC path too).
    /// </summary>
    /// <remarks>The cached thread's quick claim throws nothing, so its call is recorded without a try/finally (mpscst).</remarks>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private unsafe MappingUse? TryClaimMulti(out byte* slot, out ulong position, out bool unmarked)
    {
        MappingUse use = MappingUse.Current; // MPSC: the thread's record, which names the producer
        MappingUse.Call call = use.Begin(_mapping, this); // the mapping stays while this call runs (MappingUse); ended below, nothing between throws
        bool claimed = Engine.TryClaimSlotQuickMulti(use.ThreadId, out ulong taken); // a local: the out parameter is the caller's memory, stored and reloaded
        call.Dispose();
        if (claimed)
        {
            slot = Engine.SlotAt(taken);
            position = taken;
            unmarked = true; // the cached thread's: markers deferred
            return use;
        }

        return TryClaimMultiChecked(use, out slot, out position, out unmarked);
    }

    /// <summary>MPSC, when the quick claim did not: the checked claim in the thread's record <paramref name="use"/> (throws when disposed or corrupt, registers the thread, marks, reloads head).</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private unsafe MappingUse? TryClaimMultiChecked(MappingUse use, out byte* slot, out ulong position, out bool unmarked)
    {
        using MappingUse.Call call = use.Begin(_mapping, this); // the mapping stays while this call runs (MappingUse)
        return Engine.TryClaimSlot<MultiProducer>(use.ThreadId, out slot, out position, out unmarked) ? use : null;
    }

    // SPSC single writes and claims: the quick path throws nothing, so a write marks its call in the
    // engine's private tail, which it stores anyway (one store more per message, not a depth pair:
    // the producer role's record reads the mark, IRoleCallMark; a claim records none, its publish
    // does), with no try/finally whose values the JIT would write to the frame on every call; the
    // disposed check and a ring full by the cached head go to MakeRoomSingle, out of line, which does
    // throw and so has the using.

    /// <summary>SPSC: writes <paramref name="item"/> when the ring is not disposed and the cached head proves room (SlotRingEngine.TryWriteQuick).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool TryWriteQuick(in T item)
    {
        bool written = Engine.TryWriteQuick(in item); // marked in the private tail: the mapping stays while it runs (IRoleCallMark)
        GC.KeepAlive(this); // the ring, its region and the role's record stay reachable to here
        return written;
    }

    /// <summary>
    /// SPSC: claims the next slot when the ring is not disposed and the cached head proves room
    /// (SlotRingEngine.TryClaimQuick). Records no call: it reads only this object's private words
    /// (the prefetch before it is a hint, which does not fault), and what touches the mapping after
    /// it, the caller's writes to the element, is not covered anyway; its publish or abort records
    /// itself (in the role's record, passed on here). Two depth stores less per message (spscst).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool TryClaimQuick(out SlotClaim<T> claim)
    {
        bool claimed = Engine.TryClaimQuick(out claim);
        claim.RecordIn(_producer!); // its publish or abort records itself there
        return claimed;
    }

    /// <summary>SPSC, when the quick path found no room: throws when the ring is disposed, reloads head when the cache says full; whether there is room now.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private bool MakeRoomSingle()
    {
        using MappingUse.Call call = _producer!.Begin(_mapping, this); // the mapping stays while this call runs (MappingUse)
        return Engine.MakeRoomSingle();
    }

    /// <summary>
    /// Producer: claims up to <paramref name="count"/> consecutive slots (at least 1) for writing
    /// in place, or returns false when the ring is full. Write the elements through the batch's
    /// indexer, then call <see cref="SlotBatch{T}.Publish()"/>: one position update for the
    /// whole batch (SPSC: one tail store; MPSC: one CAS, at claim time). Use the batch in a
    /// <c>using</c> (disposed unpublished, it is aborted: MPSC skips, so the consumer never
    /// stalls). SPSC: one claim or batch at a time. MPSC: thread-safe.
    /// </summary>
    /// <param name="count">The most slots to claim (at least 1; more than <see cref="Capacity"/> claims at most that).</param>
    /// <param name="batch">The claimed slots; <see cref="SlotBatch{T}.Count"/> says how many.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is less than 1.</exception>
    /// <exception cref="RingCorruptedException">The shared head or tail is impossible.</exception>
    /// <exception cref="ObjectDisposedException">The ring is disposed, also by another thread during this call (MPSC: slots it took are left marked, and the consumer skips them).</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryClaim(int count, out SlotBatch<T> batch)
    {
        MappingUse use = _producer ?? MappingUse.Current; // SPSC: the role's record, no thread-static call per message (amd64); MPSC: the thread's, which names the producer
        using MappingUse.Call call = use.Begin(_mapping, this); // the mapping stays while this call runs (MappingUse)
        bool claimed = Engine.AllowSkips ? Engine.TryClaim<T, MultiProducer>(count, null, use.ThreadId, out batch) : Engine.TryClaim<T, SingleProducer>(count, null, 0, out batch);
        batch.RecordIn(use); // its publish or abort records itself there too
        return claimed;
    }

    /// <summary>
    /// Consumer: reads the next element in position order, or returns false when it is not
    /// published (MPSC: even if a later one is).
    /// </summary>
    /// <param name="item">The element read. Not written when the method returns false (it keeps
    /// what it held: an empty poll does not clear a large element).</param>
    /// <exception cref="RingCorruptedException">The next slot holds a value no producer writes.</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryRead(out T item)
    {
        using MappingUse.Call call = _consumer.Begin(_mapping, this); // the mapping stays while this call runs (MappingUse)
        return Engine.TryRead(out item);
    }

    /// <summary>Consumer: reads up to <paramref name="destination"/>.Length published elements, in order; returns how many.</summary>
    /// <exception cref="RingCorruptedException">A slot holds a value no producer writes.</exception>
    public int TryRead(Span<T> destination)
    {
        using MappingUse.Call call = _consumer.Begin(_mapping, this); // the mapping stays while this call runs (MappingUse)
        return Engine.TryRead(destination);
    }

    /// <summary>
    /// Consumer: hands up to <paramref name="limit"/> published elements to <paramref name="handler"/>
    /// in place (no copy), in order, then gives their slots back; returns how many were handled.
    /// The consumer position is stored once per call (and every quarter ring in a long drain, so
    /// that producers get room back sooner), not once per element.
    /// </summary>
    /// <param name="handler">A struct handler; generic, so the call is specialised and can be inlined.</param>
    /// <param name="limit">The most elements to handle (zero or more).</param>
    /// <exception cref="RingCorruptedException">A slot holds a value no producer writes.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="limit"/> is negative.</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Drain<THandler>(ref THandler handler, int limit = int.MaxValue)
        where THandler : struct, ISlotHandler<T>, allows ref struct
    {
        using MappingUse.Call call = _consumer.Begin(_mapping, this); // the mapping stays while this call runs (MappingUse)
        return Engine.Drain<T, THandler>(ref handler, limit);
    }

    /// <summary>
    /// Consumer, MPSC: when the next position is claimed but unpublished and the producer that
    /// claimed it is known to be dead (its process has exited), marks it skipped (with the rest
    /// of that producer's claim) and moves on; later elements of other producers are not lost. A
    /// live producer's claim is never skipped, however long it takes. Call it while reads find
    /// nothing (a channel consumer does, before it sleeps). SPSC: always false (the producer's
    /// claim is invisible until published, so it never holds the consumer up).
    /// </summary>
    /// <returns>True when slots were skipped (their elements are lost).</returns>
    /// <remarks>
    /// Cheap when nothing is stuck (the next slot and the tail are read); otherwise it reads the
    /// producer table and polls the owner's pidfd (a system call). A producer counts as dead only
    /// when it is known to be: its process has exited (seen through a pidfd, in the same pid
    /// namespace), or its ring object was disposed. Anything else (another pid namespace, a
    /// producer without a table entry, a kernel without pidfd_open) leaves the claim to
    /// <see cref="TryUnblock(TimeSpan)"/>. A position no producer claimed (a peer moved the tail
    /// forward: no intent in the table covers it) is skipped too, one slot per call.
    /// Protocol: interop/include/uintripc.h, section 2f.
    /// </remarks>
    /// <exception cref="RingCorruptedException">The shared positions or the slot hold impossible values.</exception>
    public bool TrySkipDeadClaim()
    {
        using MappingUse.Call call = _consumer.Begin(_mapping, this); // the mapping stays while this call runs (MappingUse)
        return Engine.TrySkipDeadClaim();
    }

    /// <summary>
    /// Consumer, MPSC: recovers from a producer that died between claiming a slot and publishing
    /// it (Agrona's Unblock) after a time, when its death cannot be known (<see cref="TrySkipDeadClaim"/>
    /// does that as soon as it can be). When the next position has been claimed but stays
    /// unpublished for at least <paramref name="stalledFor"/>, the slot is marked skipped and the
    /// consumer moves on; later elements of other producers are not lost. SPSC: always false.
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
    public bool TryUnblock(TimeSpan stalledFor)
    {
        if (Engine.AllowSkips)
        {
            using MappingUse.Call call = _consumer.Begin(_mapping, this); // the mapping stays while this call runs (MappingUse)
            return Engine.TryUnblock(stalledFor);
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(stalledFor, TimeSpan.Zero);
        Engine.ThrowIfDisposed();
        return false;
    }

    /// <summary>
    /// Releases the ring's lease on the region's mapping (unmapped when the region and every
    /// other holder have released theirs too) and, MPSC, ends this object's producer
    /// registrations. Idempotent. Call it after the threads using this object stopped; any
    /// later call throws <see cref="ObjectDisposedException"/>.
    /// </summary>
    public void Dispose()
    {
        Engine.Dispose();
        GC.SuppressFinalize(this);
    }
}
