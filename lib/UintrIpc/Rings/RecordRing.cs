using System.Diagnostics;
using System.Runtime.CompilerServices;
using UintrIpc.Channels;
using UintrIpc.Memory;

namespace UintrIpc.Rings;

/// <summary>
/// A ring of variable-length messages (records) in a part of a <see cref="SharedRegion"/>,
/// usable across processes, with one producer (SPSC) or any number of producers (MPSC), as
/// chosen by <see cref="Part"/> when the region is created.
/// </summary>
/// <remarks>
/// <para>Create the region with <see cref="Part"/> among its parts, then attach one object per
/// process (or per side); the object reads whether the ring has several producers from the
/// ring's descriptor (<see cref="MultipleProducers"/>). One thread at a time may consume
/// (<see cref="Read{THandler}"/>, <see cref="TryRead"/>). SPSC: one thread at a time may
/// produce (<see cref="TryWrite"/>, <see cref="TryClaim"/>). MPSC: any number of threads in
/// any number of processes may produce at once; they claim room with an atomic
/// compare-and-swap on the shared tail, messages of one producer thread arrive in the order it
/// wrote them, and the consumer may unblock a dead producer's claim
/// (<see cref="TrySkipDeadClaim"/>, <see cref="TryUnblock(TimeSpan)"/>). Nothing blocks: a full
/// ring makes writes return false, an empty one makes the reads return nothing; waiting is the
/// job of the channels built on top.</para>
/// <para>Messages are 0 to <see cref="MaxMessageLength"/> bytes with a type &gt;= 0; each takes
/// 8 + its length bytes rounded up to 8 (plus padding when it would cross the end of the data
/// area). Everything read from shared memory is validated; a peer that breaks the ring's
/// invariants causes a <see cref="RingCorruptedException"/>, never an access outside the ring.
/// The ring holds a lease on the region's mapping, released by <see cref="Dispose"/>.</para>
/// <para>Layout and protocol: interop/include/uintripc.h, section 2.</para>
/// </remarks>
[DebuggerDisplay("{Engine.DebuggerDisplay,nq}")]
internal sealed class RecordRing : IDisposable
{
    /// <summary>The engine: both claim protocols (the mode is a readonly field it branches on), the consumer, unblocking.</summary>
    private readonly RecordRingEngine Engine;
    /// <summary>The consumer's calls' record of the mapping in use (one thread at a time consumes: MappingUse.ForRole).</summary>
    private readonly MappingUse _consumer;
    /// <summary>SPSC: the producer's calls' record (one thread at a time produces); null for MPSC, whose calls use the thread's (it names the producer).</summary>
    private readonly MappingUse? _producer;
    /// <summary>The region's mapping, what each call records.</summary>
    private readonly nint _mapping;

    /// <summary>Attaches to the record ring in <paramref name="part"/> of <paramref name="region"/>, validating its descriptor and positions.</summary>
    /// <exception cref="ArgumentException">The part is not a record ring part of this region.</exception>
    /// <exception cref="RegionFormatException">The ring's descriptor is invalid or names another kind than the region's part table.</exception>
    /// <exception cref="RingCorruptedException">The ring's positions are inconsistent.</exception>
    public RecordRing(SharedRegion region, RegionPart part)
    {
        // The kind comes from the part table; the engine checks the descriptor names the same one (uintripc.h 2a).
        Engine = new RecordRingEngine(region, part, part.Kind == PartKind.MpscRecords ? PartKind.MpscRecords : PartKind.SpscRecords, lease: true);
        _mapping = region.MappingAddress;
        _consumer = MappingUse.ForRole(region);
        _producer = Engine.MultiProducer ? null : MappingUse.ForRole(region);
    }

    /// <summary>Attaches to the record ring (SPSC or MPSC) with <paramref name="tag"/> in <paramref name="region"/>.</summary>
    /// <exception cref="KeyNotFoundException">The region has no record ring with this tag.</exception>
    /// <exception cref="ArgumentException">The region has an SPSC and an MPSC record ring with this tag (pass the part).</exception>
    /// <exception cref="RegionFormatException">The ring's descriptor is invalid.</exception>
    /// <exception cref="RingCorruptedException">The ring's positions are inconsistent.</exception>
    public RecordRing(SharedRegion region, uint tag = 0)
        : this(region, (region ?? throw new ArgumentNullException(nameof(region))).FindRingPart(PartKind.SpscRecords, PartKind.MpscRecords, tag))
    {
    }

    /// <summary>Describes the ring part to pass to <see cref="SharedRegion.CreateAnonymous(uint, ReadOnlySpan{PartSpec})"/> or <see cref="SharedRegion.CreateNamed(string, uint, ReadOnlySpan{PartSpec})"/>.</summary>
    /// <param name="capacity">Bytes of the data area: a power of two from 64 to 2^30.</param>
    /// <param name="maxMessageLength">Longest payload, at most <paramref name="capacity"/> / 8; 0 for exactly that.</param>
    /// <param name="multipleProducers">True for an MPSC ring (any number of producers), false for SPSC (one producer at a time).</param>
    /// <param name="tag">Tells rings of one region apart (for example 0 = requests, 1 = responses).</param>
    /// <exception cref="ArgumentOutOfRangeException">A size is out of range.</exception>
    public static PartSpec Part(int capacity, int maxMessageLength = 0, bool multipleProducers = false, uint tag = 0)
        => RecordRingEngine.Part(multipleProducers ? PartKind.MpscRecords : PartKind.SpscRecords, capacity, maxMessageLength, tag);

    /// <summary>Whether the ring is MPSC (any number of producers) rather than SPSC, as its descriptor says.</summary>
    public bool MultipleProducers => Engine.MultiProducer;

    /// <summary>Bytes of the data area.</summary>
    public int Capacity => Engine.Capacity;

    /// <summary>SPSC producer: the ring position up to which single claims of large records asked for lines ahead (tests).</summary>
    internal long PrefetchedTo => Engine.PrefetchedTo;

    /// <summary>The longest payload a message may have.</summary>
    public int MaxMessageLength => Engine.MaxMessageLength;

    /// <summary>
    /// Consumer: whether a message is waiting (acquire loads; padding is looked through, not
    /// consumed). The wake-up protocol re-checks it after announcing a sleep.
    /// </summary>
    /// <exception cref="RingCorruptedException">The next record is invalid.</exception>
    /// <exception cref="ObjectDisposedException">The ring is disposed.</exception>
    public bool CanRead
    {
        get
        {
            using MappingUse.Call call = _consumer.Begin(_mapping, this); // the mapping stays while this call runs (MappingUse)
            return Engine.CanRead;
        }
    }

    /// <summary>Bytes ever claimed by the producers (free-running; acquire load).</summary>
    /// <exception cref="ObjectDisposedException">The ring is disposed.</exception>
    public long ProducerPosition => SharedPositions().Tail;

    /// <summary>Bytes ever consumed (free-running; acquire load).</summary>
    /// <exception cref="ObjectDisposedException">The ring is disposed.</exception>
    public long ConsumerPosition => SharedPositions().Head;

    /// <summary>The shared positions, read by any thread (diagnostics): its own record keeps the mapping while it reads them.</summary>
    private (long Tail, long Head) SharedPositions()
    {
        using MappingUse.Call call = MappingUse.Enter(_mapping, this); // the mapping stays while this reads it (MappingUse)
        Engine.ThrowIfDisposed();
        return (Engine.ProducerPosition, Engine.ConsumerPosition);
    }

    /// <summary>
    /// Consumer: hands waiting messages to <paramref name="handler"/>, in order, up to
    /// <paramref name="limit"/>, then frees their room; returns how many were handled. The
    /// consumer position is released once per call (at most a capacity of bytes), not once per message.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="limit"/> is negative.</exception>
    /// <exception cref="RingCorruptedException">A record is invalid (messages before it are handled and consumed).</exception>
    /// <remarks>
    /// The payload spans point into shared memory and are valid only during the call. A
    /// message whose handler throws counts as consumed; the exception propagates. A read from
    /// this ring inside the handler throws <see cref="InvalidOperationException"/> (the batch is
    /// released only after it).
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Read<THandler>(ref THandler handler, int limit = int.MaxValue)
        where THandler : struct, IRecordHandler, allows ref struct
    {
        using MappingUse.Call call = _consumer.Begin(_mapping, this); // the mapping stays while this call runs (MappingUse)
        return Engine.Read(ref handler, limit);
    }

    /// <summary>
    /// Consumer: begins a pull-style read of up to <paramref name="limit"/> messages in place
    /// (<see cref="RecordCursor.TryNext"/> in the caller's loop), released as a whole by
    /// <see cref="CompleteBatch"/>; false (an inactive batch) when no record is waiting. A batch
    /// not completed releases nothing: the next read gets its messages again.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="limit"/> is negative.</exception>
    /// <exception cref="InvalidOperationException">Called by a handler of this ring's Read.</exception>
    /// <remarks>
    /// Begun and completed under the consumer's record of the mapping, as Read; the batch's
    /// TryNext runs with none: it only loads from the mapping, and after this ring's Dispose the
    /// range is a zero placeholder (SafeMappingHandle.Retire: a header reads 0, the batch ends)
    /// for as long as the batch can reach the ring's engine, which holds the region.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal bool TryReadBatch(int limit, out RecordCursor batch)
    {
        using MappingUse.Call call = _consumer.Begin(_mapping, this); // the mapping stays while this call runs (MappingUse)
        return Engine.TryBeginBatch(limit, out batch);
    }

    /// <summary>
    /// Consumer: releases every message <paramref name="batch"/> took (passed by value: the
    /// caller's copy is not reset, so drop it after this). Nothing for an inactive batch.
    /// </summary>
    /// <exception cref="ObjectDisposedException">The ring is disposed (nothing released).</exception>
    /// <exception cref="InvalidOperationException">The batch is another ring's, or another read released since it began (nothing released).</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void CompleteBatch(RecordCursor batch)
    {
        if (!batch.IsActive)
        {
            return; // TryReadBatch found nothing: nothing to release
        }

        using MappingUse.Call call = _consumer.Begin(_mapping, this); // the mapping stays while this call runs (MappingUse)
        unsafe
        {
            Engine.CompleteBatch(batch.Data, batch.Start, batch.Position);
        }
    }

    /// <summary>Consumer: copies the next message into <paramref name="destination"/>; false when none is waiting.</summary>
    /// <param name="type">The message type.</param>
    /// <param name="destination">Where the payload goes; <see cref="MaxMessageLength"/> bytes always suffice.</param>
    /// <param name="length">Bytes written to <paramref name="destination"/>.</param>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is too small for the next message, which stays in the ring.</exception>
    /// <exception cref="RingCorruptedException">The next record is invalid.</exception>
    public bool TryRead(out int type, Span<byte> destination, out int length)
    {
        using MappingUse.Call call = _consumer.Begin(_mapping, this); // the mapping stays while this call runs (MappingUse)
        return Engine.TryRead(out type, destination, out length);
    }

    /// <summary>Producer: copies a message into the ring. MPSC: thread-safe.</summary>
    /// <param name="type">Message type, &gt;= 0, handed to the consumer with the message.</param>
    /// <param name="payload">0 to <see cref="MaxMessageLength"/> bytes.</param>
    /// <returns>False when the ring has no room for it now.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="type"/> is negative or <paramref name="payload"/> is too long.</exception>
    /// <exception cref="RingCorruptedException">The ring's positions are inconsistent.</exception>
    /// <remarks>SPSC: an open claim (see <see cref="TryClaim"/>) is discarded first.</remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryWrite(int type, ReadOnlySpan<byte> payload)
    {
        if (_producer is not null)
        {
            // SPSC: the role's record without a try/finally (design-notes "sprec"): the quick path
            // throws nothing; anything else is the checked write, out of line, under the usual using.
            return TryWriteQuick(type, payload) || TryWriteChecked(type, payload);
        }

        MappingUse use = MappingUse.Current; // MPSC: the thread's record, which names the producer (one thread static per call, mpscst)
        using MappingUse.Call call = use.Begin(_mapping, this); // the mapping stays while this call runs (MappingUse)
        return Engine.TryWrite(type, payload, use.ThreadId);
    }

    /// <summary>SPSC: <see cref="RecordRingEngine.TryWriteSpscQuick"/> recorded in the producer role's record (two constant stores).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool TryWriteQuick(int type, ReadOnlySpan<byte> payload)
    {
        MappingUse single = _producer!;
        single.EnterRoleCall(); // the mapping stays while this call runs (MappingUse)
        bool written = Engine.TryWriteSpscQuick(type, payload);
        single.LeaveRoleCall();
        GC.KeepAlive(this); // the ring, its region and the role's record stay reachable to here
        return written;
    }

    /// <summary>SPSC, when the quick write did not: the checked write (throws when disposed or corrupt, discards an open claim, reloads the head, pads).</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private bool TryWriteChecked(int type, ReadOnlySpan<byte> payload)
    {
        using MappingUse.Call call = _producer!.Begin(_mapping, this); // the mapping stays while this call runs (MappingUse)
        return Engine.TryWrite(type, payload);
    }

    /// <summary>
    /// Producer: claims <paramref name="bytes"/> of room (rounded up to 8) for several messages
    /// written in place: append each with <see cref="RecordBatch.TryAppend(int, int, out Span{byte})"/>, or runs of one type and length with <see cref="RecordBatch.TryAppend(int, int, int, out RecordRun)"/> (a message of n
    /// bytes takes align8(8 + n)), then publish them all with <see cref="RecordBatch.Commit"/>,
    /// one position update for the batch (SPSC: one tail store; MPSC: one CAS, at claim time).
    /// Use the batch in a <c>using</c>: disposed uncommitted, it is aborted and never blocks the
    /// consumer. SPSC: an open claim or batch is discarded first. MPSC: thread-safe.
    /// </summary>
    /// <param name="bytes">8 to <see cref="Capacity"/> bytes; the batch is claimed whole or not at all.</param>
    /// <param name="batch">The claimed room, when the method returns true.</param>
    /// <returns>False when the ring has no room for it now.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="bytes"/> is out of range.</exception>
    /// <exception cref="RingCorruptedException">The ring's positions are inconsistent.</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] // once per batch: a frame of its own (6 registers saved) cost about 2 ns per batch (design-notes "mrprod")
    public bool TryClaimBatch(int bytes, out RecordBatch batch)
    {
        MappingUse use = _producer ?? MappingUse.Current; // SPSC: the role's record, no thread-static call (amd64); MPSC: the thread's, which names the claim's producer
        using MappingUse.Call call = use.Begin(_mapping, this); // the mapping stays while this call runs (MappingUse)
        bool claimed = Engine.TryClaimBatch(bytes, null, use.ThreadId, out batch);
        batch.RecordIn(use); // its commit or abort records itself there too
        return claimed;
    }

    /// <summary>
    /// Producer: claims room for a message of <paramref name="length"/> bytes to be written in
    /// place (zero copy), then published with <see cref="RecordClaim.Commit"/>. MPSC: thread-safe.
    /// </summary>
    /// <param name="type">Message type, &gt;= 0.</param>
    /// <param name="length">0 to <see cref="MaxMessageLength"/> bytes.</param>
    /// <param name="claim">The claimed room, when the method returns true.</param>
    /// <returns>False when the ring has no room for it now.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="type"/> is negative or <paramref name="length"/> is out of range.</exception>
    /// <exception cref="RingCorruptedException">The ring's positions are inconsistent.</exception>
    /// <remarks>
    /// Nothing is visible to the consumer before the commit. SPSC: a claim that is still open
    /// when the producer claims or writes again is discarded (for example when the code that
    /// fills it threw); committing it afterwards throws <see cref="InvalidOperationException"/>.
    /// MPSC: claims are in ring order: the consumer stops at an open claim until it is
    /// completed, so fill it at once and complete it exactly once; abort it if filling fails
    /// (try/catch). A claim that is never completed blocks the consumer until
    /// <see cref="TryUnblock(TimeSpan)"/>.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryClaim(int type, int length, out RecordClaim claim)
    {
        if (_producer is not null && Engine.TryClaimSpscQuick(type, length, out claim))
        {
            // SPSC quick claim: records no call, it reads and writes only this object's private words
            // (the caller's writes into the record after it are not covered in either design, as the
            // slot ring's quick claim); its commit or abort records itself in the role's record.
            claim.RecordIn(_producer);
            return true;
        }

        // MPSC, and SPSC when the quick claim did not. Inlined for both: an SPSC call out of line here
        // (or the MPSC branch first) measured slower in both kinds (design-notes "sprec").
        return TryClaimChecked(type, length, out claim);
    }

    /// <summary>The checked claim (MPSC, and SPSC when the quick claim did not), in the call's record: SPSC the producer role's, MPSC the thread's.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool TryClaimChecked(int type, int length, out RecordClaim claim)
    {
        MappingUse use = _producer ?? MappingUse.Current; // SPSC: the role's record; MPSC: the thread's
        using MappingUse.Call call = use.Begin(_mapping, this); // the mapping stays while this call runs (MappingUse)
        bool claimed = Engine.TryClaim(type, length, use.ThreadId, out claim); // SPSC: 0, unread
        claim.RecordIn(use); // its commit or abort records itself there too
        return claimed;
    }

    /// <summary>
    /// Consumer, MPSC: recovers from a producer that died between claiming and committing, as
    /// soon as its death is known: when the record at the consumer's position is claimed but
    /// uncommitted and the producer that claimed it is known to be dead (its process has
    /// exited), turns it into padding so the messages after it flow again. A live producer's
    /// claim is never touched, however long it takes. Call it when reads keep returning nothing
    /// (a channel consumer does, before it sleeps). SPSC: always false (the producer's claim is
    /// invisible until committed, so it never holds the consumer up).
    /// </summary>
    /// <returns>True when a dead producer's claim was turned into padding (its message is lost).</returns>
    /// <exception cref="RingCorruptedException">The ring's positions or the blocked record are invalid.</exception>
    /// <remarks>
    /// Cheap when nothing is stuck (the next header and the tail are read); otherwise it reads the
    /// producer table and polls the owner's pidfd (a system call). Each producer thread takes an
    /// entry in the ring's producer table on its first write through an object (64 entries;
    /// entries of exited producers are reused) and gives it back when the object is disposed. A
    /// producer counts as dead only when it is known to be: its process has exited (seen through
    /// a pidfd, in the same pid namespace), or its ring object was disposed. Anything else leaves
    /// the claim to <see cref="TryUnblock(TimeSpan)"/>. Protocol: interop/include/uintripc.h, section 2f.
    /// </remarks>
    public bool TrySkipDeadClaim()
    {
        using MappingUse.Call call = _consumer.Begin(_mapping, this); // the mapping stays while this call runs (MappingUse)
        return Engine.TrySkipDeadClaim();
    }

    /// <summary>
    /// Consumer, MPSC: recovers from a producer that died between claiming and committing, after
    /// a time (use it when the death cannot be known; <see cref="TrySkipDeadClaim"/> acts as soon
    /// as it is): when the record at the consumer's position has been claimed but not committed
    /// for at least <paramref name="blockedFor"/>, turns it into padding so the messages after it
    /// flow again (Agrona's Unblock). Call it when reads keep returning nothing. SPSC: always false.
    /// </summary>
    /// <param name="blockedFor">
    /// How long the same record must have blocked, measured from the first call that saw it
    /// blocked (so call this repeatedly, for example from the idle loop). <see cref="TimeSpan.Zero"/>
    /// unblocks at once.
    /// </param>
    /// <returns>True when a record was turned into padding.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="blockedFor"/> is negative.</exception>
    /// <exception cref="RingCorruptedException">The ring's positions or the blocked record are invalid.</exception>
    /// <remarks>
    /// <para>
    /// Only safe when the producer is really dead (for example its process has exited): a
    /// producer that is merely slow would go on writing into bytes the ring has reused, and its
    /// message is lost. Choose <paramref name="blockedFor"/> much longer than any producer
    /// takes between claim and commit, or check that the producer's process is gone.
    /// </para>
    /// <para>
    /// A record whose header was never written (the producer died right after winning its
    /// claim) is found by scanning for the next header; a dead claim that wrapped around the
    /// end of the data area is removed in two steps (the padding, then the record).
    /// </para>
    /// </remarks>
    public bool TryUnblock(TimeSpan blockedFor)
    {
        using MappingUse.Call call = _consumer.Begin(_mapping, this); // the mapping stays while this call runs (MappingUse)
        if (Engine.MultiProducer)
        {
            return Engine.TryUnblock(blockedFor);
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(blockedFor, TimeSpan.Zero);
        return Engine.TrySkipDeadClaim(); // SPSC: false after the same disposal check
    }

    /// <summary>
    /// Releases the ring's lease on the region's mapping (unmapped when the region and every
    /// other holder have released theirs too). Idempotent. Call it after the threads using
    /// this object stopped; any later call throws <see cref="ObjectDisposedException"/>.
    /// </summary>
    public void Dispose()
    {
        Engine.Dispose();
        GC.SuppressFinalize(this);
    }
}
