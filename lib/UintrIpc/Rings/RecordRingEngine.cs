using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using UintrIpc.Memory;

namespace UintrIpc.Rings;

// The one engine of the record rings (uintripc.h sections 2b, 2c, 2e), after Agrona's
// one-to-one and many-to-one ring buffers: attach and validation (here), both claim protocols
// (RecordRingEngine.Producer.cs), the consumer (RecordRingEngine.Consumer.cs) and the
// unblocking of a dead producer's claim (RecordRingEngine.Unblock.cs). The public RecordRing
// facade holds one; so do the message channels. Each side's position is private (2c): the consumer's
// head and the SPSC producer's tail are only published; MPSC producers keep a floor. Managed
// layout: producer and consumer fields sit in separate 128-byte blocks of LocalState, away from
// the read-only fields, so a producer thread and the consumer thread share no cache line here.
// Per-message methods that callers do not inline (commit, TryRead, release, the MPSC claim) are
// AggressiveOptimization and copy and zero with InlinedBytes: a ring is usually driven from a hot
// loop from its first message, and until tiered compilation caught up (it waits for the process
// to stop compiling new code), tier-0 code and CoreLib's precompiled Memmove made a 64 B record
// ring 5-20x slower than the same code optimized.

/// <summary>
/// The engine of <see cref="RecordRing"/>:
/// attach and validation, both claim protocols, the consumer and unblocking.
/// </summary>
[DebuggerDisplay("{DebuggerDisplay,nq}")]
internal sealed unsafe partial class RecordRingEngine : IDisposable
{
    /// <summary>Smallest data area: room for a longest record (capacity / 8) several times over.</summary>
    internal const int MinCapacity = 64;
    /// <summary>Largest data area (positions inside it are ints).</summary>
    internal const int MaxCapacity = 1 << 30;

    /// <summary>
    /// Room (bytes) below which an SPSC producer's head re-read finds the ring nearly full
    /// (UIPC_RECORD_NEARLY_FULL_ROOM, uintripc.h 2e; at most capacity / 8).
    /// </summary>
    internal const int NearlyFullRoom = 1024;

    /// <summary>
    /// The longest SPSC claim (padding and records, bytes) after which a nearly full ring makes the
    /// producer wait before its next head re-read (UIPC_RECORD_PAUSE_MAX_CLAIM, uintripc.h 2e).
    /// </summary>
    internal const int PauseMaxClaimBytes = 512;

    /// <summary>
    /// Spin-loop hints an SPSC producer waits before it re-reads head after finding the ring nearly
    /// full (UIPC_RECORD_HEAD_RELOAD_PAUSE_SPINS, uintripc.h 2e). The consumer gives bytes back per
    /// record and stores head each time; a producer that re-read head for every claim at a full ring
    /// took that line from the consumer just before it stored it again (the full-ring lockstep,
    /// design-notes: 49-85 ns per 8-byte message against 18-25) and got room for one record. After
    /// the wait one re-read covers many records. No claim is refused for it: head is re-read after
    /// the wait. A count of hints, as the C ring's, not a clock (a call would cost the fast path);
    /// roughly 0.1-1 µs depending on the CPU's PAUSE, and the twins measured 150 ns to 2 µs alike.
    /// Not for MPSC: the twin with one producer thread measured it 5-7% slower.
    /// </summary>
    internal const int HeadReloadPauseSpins = 16;

    private const int HeaderSize = RingLayout.RecordHeaderSize;
    internal const int TypeOffset = 4;
    private const int Padding = RingLayout.PaddingRecordType;

    // Keeps the mapping alive as long as the ring is used.
    private readonly SharedRegion _region;
    private readonly byte* _data;
    private readonly long* _tail;
    private readonly long* _head;
    private readonly long* _releasing;
    // MPSC: the ring's producer table (this object's registrations, the consumer's judgements).
    private readonly ProducerTable? _producers;
    private readonly int _capacity;
    private readonly int _mask;
    private readonly int _maxMessageLength;
    // align8(header + max message length): the longest record a producer can write.
    private readonly int _maxRecordLength;
    // SPSC: a head re-read that leaves less room than this after the claim finds the ring nearly
    // full: the producer's next re-read waits first (PauseBeforeHeadReload).
    private readonly int _nearlyFullRoom;
    private readonly bool _multiProducer;
    private readonly bool _leased;
    // Set once by Dispose; every call checks it (a plain read): after it the lease may be gone.
    private int _disposed;
    // The longest record a batch's append accepts (header + MaxMessageLength, not aligned) until
    // Dispose, then 0: an append compares its record length (trailer included) with it, one load
    // and compare for both the length and the disposal (RecordBatch.TryAppend). Written by the
    // constructor and once by Dispose, plain: an append after Dispose on its thread (or ordered
    // after it) reads 0; one racing it writes only into its claimed room (see RecordBatch's remarks).
    private nuint _batchRecordLimit;
    private LocalState _local;

    /// <summary>
    /// Attaches without a lease: the caller keeps the mapping alive (channel endpoints, through
    /// their own reference count). <paramref name="owner"/>: the channel end's type name, which a
    /// call that raced its Dispose names (<see cref="RetiredMapping"/>).
    /// </summary>
    internal RecordRingEngine(SharedRegion region, RegionPart part, PartKind kind, string owner)
        : this(region, part, kind, lease: false)
    {
        _local.Owner = owner;
    }

    /// <summary>Attaches to a record ring part: validates its descriptor and its current positions.</summary>
    internal RecordRingEngine(SharedRegion region, RegionPart part, PartKind kind, bool lease)
    {
        ArgumentNullException.ThrowIfNull(region);
        if (lease)
        {
            region.AddLease();
        }

        _region = region;
        _leased = lease;
        _multiProducer = kind == PartKind.MpscRecords;
        _local.BlockedPosition = -1;
        _local.DeadRecordEnd = -1;
        _local.InterruptedRelease = -1;
        _local.ReadEnd = NotReading;
        try
        {
            Attach(region, part, kind, out _data, out _tail, out _head, out _capacity, out _maxMessageLength, out var geometry);
            _releasing = _head + ((RingLayout.ReleasingOffset - RingLayout.HeadOffset) / sizeof(long));
            _producers = _multiProducer ? new ProducerTable(_data - RingLayout.ControlSize, geometry) : null;
            _mask = _capacity - 1;
            _maxRecordLength = Align(HeaderSize + _maxMessageLength);
            _batchRecordLimit = (nuint)(HeaderSize + _maxMessageLength);
            _nearlyFullRoom = Math.Min(_capacity / 8, NearlyFullRoom);
            LoadPositions();
        }
        catch
        {
            if (lease)
            {
                region.ReleaseLease();
            }

            throw;
        }
    }

    /// <summary>Releases the lease (if this object holds one). Idempotent; later calls throw <see cref="ObjectDisposedException"/>.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _batchRecordLimit = 0; // before the lease goes: a batch's appends refuse from now on (ObjectDisposedException)
            if (_local.OpenClaim > 0)
            {
                // SPSC: closed, so that the claim's appends and commit see it is no longer open (not
                // PredecessorClaim: this object produced nothing). Its bytes beyond the tail (headers
                // -len, payload) are left as a killed producer's are: the next producer zeroes
                // [tail, claim_end) before its first record (2g), and the consumer reads nothing there
                // before (a header there is 0 or negative). Not zeroed here: a commit racing this
                // Dispose on the producer's thread may have passed its checks and be publishing those
                // bytes, and the zeroing then erased a published length behind the published tail,
                // which stalled the ring for good (a peer's consumer stopped before the tail in 3 of 3
                // runs of lease-dispose-ring-under-completion spsc-records claims, review15).
                _local.OpenClaim = 0;
            }

            _producers?.Dispose(); // its threads claim no more: their registrations end (uintripc.h 2f)
            if (_leased)
            {
                _region.ReleaseLease();
            }
        }
    }

    /// <summary>Whether <see cref="Dispose"/> ran (a plain read): the lease, and maybe the mapping, are gone.</summary>
    internal bool IsDisposed => _disposed != 0;

    /// <summary>The longest record (header, payload and trailer) a batch's append accepts; 0 once disposed (a plain read, see the field).</summary>
    internal nuint BatchRecordLimit => _batchRecordLimit;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void ThrowIfDisposed()
    {
        if (_disposed != 0)
        {
            ThrowDisposed();
        }
    }

    private static void Attach(SharedRegion region, RegionPart part, PartKind kind, out byte* data, out long* tail, out long* head, out int capacity, out int maxMessageLength, out RingDescriptor.Geometry geometry)
    {
        if (part.Kind != kind)
        {
            throw new ArgumentException($"The part holds a {part.Kind} ring, not a {kind} ring.", nameof(part));
        }

        byte* ring = region.PartPointer(part);
        geometry = RingDescriptor.Read(ring, part.Length, kind); // capacity 64 .. 2^30 checked there

        data = ring + RingLayout.ControlSize;
        tail = (long*)(ring + RingLayout.TailOffset);
        head = (long*)(ring + RingLayout.HeadOffset);
        capacity = (int)geometry.Capacity;
        maxMessageLength = geometry.MaxMessageLength;
    }

    /// <summary>Reads and checks the shared positions at attach.</summary>
    private void LoadPositions()
    {
        // Acquire loads, head before and after the tail: head only grows, so h1 <= tail and
        // tail <= h2 + capacity hold for a live ring whatever the peers do meanwhile.
        long h1 = Volatile.Read(ref *_head);
        long tail = Volatile.Read(ref *_tail);
        long h2 = Volatile.Read(ref *_head);
        CheckPosition("head", h1);
        CheckPosition("tail", tail);
        CheckPosition("head", h2);
        if (h1 > tail || h2 < h1)
        {
            ThrowHeadAfterTail(h1, tail);
        }

        if (tail - h2 > _capacity)
        {
            ThrowTailTooFarAhead(h2, tail);
        }

        _local.HeadCache = h1;
        // SPSC: the first write or claim clears the bytes a killed producer may have left beyond the tail.
        _local.OpenClaim = _multiProducer ? 0 : PredecessorClaim;
        _local.ConsumerHead = h1;
        _local.ProducerTail = tail;
        // Acquire, after head: a consumer that died while zeroing a released batch left releasing
        // ahead of head (behind it, the value is stale). Only a consumer acts on it, at its first
        // call, where it is checked (2g): for now it is noted.
        long releasing = Volatile.Read(ref *_releasing);
        if (releasing > h1)
        {
            _local.InterruptedRelease = h1;
            _local.ConsumerHead = releasing;
        }
    }

    internal int Capacity => _capacity;

    internal int MaxMessageLength => _maxMessageLength;

    /// <summary>Whether the ring is MPSC (its descriptor's kind).</summary>
    internal bool MultiProducer => _multiProducer;

    internal SharedRegion Region => _region;

    /// <summary>Acquire: a snapshot of the producers' position.</summary>
    internal long ProducerPosition => Volatile.Read(ref *_tail);

    /// <summary>Acquire: a snapshot of the consumer's position.</summary>
    internal long ConsumerPosition => Volatile.Read(ref *_head);

    internal string DebuggerDisplay
    {
        get
        {
            long head = ConsumerPosition;
            long tail = ProducerPosition;
            return $"{(_multiProducer ? "MPSC" : "SPSC")} records capacity={_capacity} head={head} tail={tail} used={tail - head}";
        }
    }

    /// <summary>Describes a record ring part to create (shared by both ring kinds).</summary>
    internal static PartSpec Part(PartKind kind, int capacity, int maxMessageLength, uint tag)
    {
        if (capacity < MinCapacity || capacity > MaxCapacity || !BitOperations.IsPow2(capacity))
        {
            throw new ArgumentOutOfRangeException(nameof(capacity), capacity, $"The capacity (data bytes) must be a power of two between {MinCapacity} and {MaxCapacity}.");
        }

        if (maxMessageLength < 0 || maxMessageLength > capacity / 8)
        {
            throw new ArgumentOutOfRangeException(nameof(maxMessageLength), maxMessageLength, $"The maximum message length must be between 1 and capacity / 8 ({capacity / 8}), or 0 for capacity / 8.");
        }

        int max = maxMessageLength == 0 ? capacity / 8 : maxMessageLength;
        // Runs on zero-filled memory before the region is published: plain stores (see PartSpec).
        return new PartSpec(kind, tag, RingLayout.RecordRingSize(capacity, RingDescriptor.IsMultiProducer(kind) ? RingLayout.DefaultProducerSlots : 0),
            (address, _) => RingDescriptor.Write((byte*)address, kind, slotSize: 0, capacity, elementSize: 0, max, capacity));
    }

    /// <summary>Bytes a record of <paramref name="recordLength"/> bytes (header included) occupies.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static int Align(int recordLength) => (recordLength + (RingLayout.RecordAlignment - 1)) & ~(RingLayout.RecordAlignment - 1);

    /// <summary><see cref="Align(int)"/> of a batch append's record length, native-sized for the pointer arithmetic (below 2^33: no overflow).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static nuint Align(nuint recordLength) => (recordLength + (RingLayout.RecordAlignment - 1)) & ~(nuint)(RingLayout.RecordAlignment - 1);

    /// <summary>Writes a committed padding record (the bytes after its header are already zero).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void WritePadding(byte* at, int length)
    {
        *(int*)(at + TypeOffset) = Padding; // plain: published by the release below
        Volatile.Write(ref *(int*)at, length); // release: the type is visible before the length
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void CheckPosition(string what, long position)
    {
        if ((position & (RingLayout.RecordAlignment - 1)) != 0 || (ulong)position >= RingLayout.MaxPosition)
        {
            ThrowBadPosition(what, position);
        }
    }

    /// <summary>State local to this object, padded so that producer and consumer fields do not share a line.</summary>
    [StructLayout(LayoutKind.Explicit, Size = 3 * RegionLayout.FalseSharingRange)]
    private struct LocalState
    {
        // ---- cold, set once by the constructor: in the block that keeps the read-only fields apart ----

        /// <summary>
        /// The channel end's type name, which a call that raced its Dispose names (RetiredMapping); null: a bare ring.
        /// Here, not an engine field: a sealed class puts its references first, and a field of its own moved every
        /// hot field 8 bytes (design-notes: the record engine's field shift).
        /// </summary>
        [FieldOffset(0)]
        public string? Owner;

        // ---- producer side (one producer thread for SPSC; racy but monotone-safe for MPSC) ----

        /// <summary>A head seen by a producer; never ahead of the real head, so a capacity check against it is conservative.</summary>
        [FieldOffset(RegionLayout.FalseSharingRange)]
        public long HeadCache;

        /// <summary>SPSC: number of the last claim (increases with every claim from 1, so a stale copy never matches).</summary>
        [FieldOffset(RegionLayout.FalseSharingRange + 8)]
        public long ClaimToken;

        /// <summary>SPSC: the tail the open claim starts at.</summary>
        [FieldOffset(RegionLayout.FalseSharingRange + 16)]
        public long ClaimTail;

        /// <summary>SPSC: padding bytes before the open claim's record (0 = none).</summary>
        [FieldOffset(RegionLayout.FalseSharingRange + 24)]
        public int ClaimPadding;

        /// <summary>SPSC: aligned bytes of the open claim's record.</summary>
        [FieldOffset(RegionLayout.FalseSharingRange + 28)]
        public int ClaimAligned;

        /// <summary>
        /// SPSC: the token of the open claim (written but not yet committed or aborted), 0 when
        /// none is open or the ring was disposed: one compare tells a claim's holder that its
        /// claim is still open and the ring still usable (an append checks it per record).
        /// </summary>
        [FieldOffset(RegionLayout.FalseSharingRange + 32)]
        public long OpenClaim;

        /// <summary>
        /// SPSC: the producer's position, kept here and only published (never read back: a peer
        /// could move it). MPSC: the highest tail this object claimed up to, a floor for every
        /// tail it reads.
        /// </summary>
        [FieldOffset(RegionLayout.FalseSharingRange + 40)]
        public long ProducerTail;

        /// <summary>MPSC: the intent word and marker tag of the first thread that claimed through this object.</summary>
        [FieldOffset(RegionLayout.FalseSharingRange + 48)]
        public ProducerThreadCache Producer;

        /// <summary>SPSC: non-zero when the last head re-read left less than the nearly-full room: the next re-read pauses first.</summary>
        [FieldOffset(RegionLayout.FalseSharingRange + 96)]
        public int HeadReloadFoundNearlyFull;

        /// <summary>
        /// SPSC: the last value this object stored to the shared claim_end (0 before its first claim):
        /// a claim ending at most there stores nothing (TryReserveSpsc).
        /// </summary>
        [FieldOffset(RegionLayout.FalseSharingRange + 104)]
        public long ClaimEndPublished;

        /// <summary>
        /// The position up to which single claims asked for lines ahead (PrefetchNextRecord). MPSC: shared by
        /// this object's producer threads without order, a hint's bound only (PrefetchTarget clips to one lap).
        /// </summary>
        [FieldOffset(RegionLayout.FalseSharingRange + 112)]
        public long PrefetchedTo;

        // ---- consumer side ----

        /// <summary>The head at which TryUnblock first saw an uncommitted record, or -1.</summary>
        [FieldOffset(2 * RegionLayout.FalseSharingRange)]
        public long BlockedPosition;

        /// <summary>Stopwatch timestamp of that first sighting.</summary>
        [FieldOffset((2 * RegionLayout.FalseSharingRange) + 8)]
        public long BlockedSince;

        /// <summary>The consumer's position, kept here and only published (never read back: a peer could move it).</summary>
        [FieldOffset((2 * RegionLayout.FalseSharingRange) + 16)]
        public long ConsumerHead;

        /// <summary>
        /// The shared head at attach when releasing differed from it (a release the previous consumer
        /// did not finish, to be checked and finished before the first read: 2g), otherwise -1.
        /// </summary>
        [FieldOffset((2 * RegionLayout.FalseSharingRange) + 24)]
        public long InterruptedRelease;

        /// <summary>
        /// MPSC: the end of the last claimed record TrySkipDeadClaim turned into padding, or -1: a
        /// zero header there may be the unwritten rest of that record's batch (uintripc.h 2f b).
        /// </summary>
        [FieldOffset((2 * RegionLayout.FalseSharingRange) + 32)]
        public long DeadRecordEnd;

        /// <summary>MPSC: the tag of that record's claimed marker.</summary>
        [FieldOffset((2 * RegionLayout.FalseSharingRange) + 40)]
        public uint DeadRecordTag;

        /// <summary>
        /// The position after the last record the running Read consumed (written per record by its
        /// loop, out of line): what Read's finally releases up to, also when a handler threw.
        /// <see cref="NotReading"/> outside a Read: a read from its handler is refused.
        /// </summary>
        [FieldOffset((2 * RegionLayout.FalseSharingRange) + 48)]
        public long ReadEnd;

        /// <summary>
        /// The managed thread id (<see cref="ProducerThreadCache.CurrentThread"/>: a thread static, where Environment.CurrentManagedThreadId is a call) of the thread running the Read (valid while <see cref="ReadEnd"/> is
        /// not <see cref="NotReading"/>): a channel reader's Dispose from that thread is a handler's
        /// and refused, from another it waits for the Read to return (IpcMessageReader.Dispose).
        /// </summary>
        [FieldOffset((2 * RegionLayout.FalseSharingRange) + 56)]
        public int ReadThread;
    }

    // ---- throw helpers: out of line, so the hot paths stay small; not NoInlining, so the JIT
    // sees that they never return and callers keep their values in registers (SlotRingThrowHelper) ----

    [DoesNotReturn]
    private static void ThrowDisposed() => throw DisposedException();

    private static ObjectDisposedException DisposedException()
        => new("record ring", "The channel end (or ring) this claim, batch or call belongs to was disposed: nothing more is written or read through it. Create, open or receive the channel again to go on.");

    [DoesNotReturn]
    private static void ThrowBadPosition(string what, long position)
        => throw new RingCorruptedException(what, position, "not a multiple of the record alignment (8) between 0 and 2^62");

    /// <summary>What a call that read shared memory breaking the ring's rules throws: <paramref name="corruption"/>, or ObjectDisposedException when the mapping was retired under it (<see cref="RetiredMapping"/>).</summary>
    private Exception Corrupted(Exception corruption) => RetiredMapping.OrDisposed(_region, _local.Owner, corruption);

    [DoesNotReturn]
    private void ThrowHeadAfterTail(long head, long tail)
        => throw Corrupted(new RingCorruptedException("head", head, $"the consumer position is after the producer position {tail}"));

    [DoesNotReturn]
    private void ThrowTailTooFarAhead(long head, long tail)
        => throw Corrupted(new RingCorruptedException("tail", tail, $"the producer position is more than the capacity {_capacity} ahead of the consumer position {head}"));

    [DoesNotReturn]
    private void ThrowTailMovedBack(long tail, long floor)
        => throw Corrupted(new RingCorruptedException("tail", tail, $"the producer position is behind {floor}, which this producer already claimed up to (moved back by a peer)"));

    [DoesNotReturn]
    private static void ThrowNegativeType(int type)
        => throw new ArgumentOutOfRangeException(nameof(type), type, "Message types are >= 0 (negative types are reserved for padding).");

    [DoesNotReturn]
    private void ThrowTooLong(string paramName, int length)
        => throw new ArgumentOutOfRangeException(paramName, length, $"A message holds between 0 and {_maxMessageLength} bytes (the ring's MaxMessageLength).");
}
