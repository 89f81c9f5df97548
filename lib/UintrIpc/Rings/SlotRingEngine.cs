using System.Diagnostics;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using UintrIpc.Interop;
using UintrIpc.Memory;

namespace UintrIpc.Rings;

// The one engine of the slot rings (uintripc.h sections 2b-2d): geometry, lease, attach
// checks, the consumer (SlotRingEngine.Consumer.cs) and both producer modes
// (SlotRingEngine.Producer.cs, specialised by a struct type argument, so the JIT compiles one
// path per mode with no per-call branch). SlotRing<T> embeds it (no indirection).
// Managed layout: explicit and padded so that the producer-local and consumer-local words sit
// at least 128 bytes apart (adjacent-line prefetch pairs 64-byte lines), like
// ConcurrentQueueSegment's PaddedHeadAndTail; the read-only geometry may share a line with the
// object header.

/// <summary>
/// The engine of <see cref="SlotRing{T}"/>. Embedded (not
/// referenced) in the ring object; claims refer to it by a ref field.
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = 5 * LineRange)]
internal unsafe partial struct SlotRingEngine : IDeferredClaims
{
    /// <summary>Distance kept between words written by different threads.</summary>
    private const int LineRange = RegionLayout.FalseSharingRange;
    private const int ProducerBlock = LineRange;
    private const int ConsumerBlock = 3 * LineRange;
    /// <summary>How far ahead the SPSC producer prefetches: 9 lines, 8 slots of a 64-byte element.</summary>
    private const int PrefetchDistanceBytes = 9 * 64;
    /// <summary>The most bytes of slots one SPSC prefetch asks for (two calls of the shim, which takes 4 KiB a call).</summary>
    private const int MaxPrefetchBytes = 2 * PrefetchWriteMax;
    /// <summary>The most bytes one call of the shim's write prefetch covers (uintripc.h UIPC_PREFETCH_WRITE_MAX).</summary>
    private const int PrefetchWriteMax = 4096;
    /// <summary>Value of <see cref="_stallPosition"/> when no stall is being timed.</summary>
    private const ulong NoStall = ulong.MaxValue;
    /// <summary>SPSC: the bit of <see cref="ProducerTail"/> set while a raw ring's write or publish runs (positions stay below 2^62, RingLayout.MaxPosition).</summary>
    private const ulong QuickCallMark = 1UL << 63;

    // ---- geometry: written once by the constructor, then read by both sides -------------

    /// <summary>First slot.</summary>
    [FieldOffset(0)] internal readonly byte* Data;
    /// <summary>The shared tail word (producer position).</summary>
    [FieldOffset(8)] internal readonly ulong* SharedTail;
    /// <summary>The shared head word (consumer position).</summary>
    [FieldOffset(16)] internal readonly ulong* SharedHead;
    /// <summary>Slots in the ring, a power of two.</summary>
    [FieldOffset(24)] internal readonly ulong Capacity;
    /// <summary><see cref="Capacity"/> - 1.</summary>
    [FieldOffset(32)] internal readonly ulong Mask;
    /// <summary>Bytes from one slot to the next: the slot size (sequence + element, 8-aligned), or a duplex part's pitch (uintripc.h 2h).</summary>
    [FieldOffset(40)] internal readonly nuint SlotPitch;
    /// <summary>Drain releases head whenever it crosses a multiple of this + 1 (a quarter ring), not only at its end.</summary>
    [FieldOffset(48)] internal readonly ulong ReleaseMask;
    /// <summary>MPSC rings know skipped slots; in an SPSC ring a skip marker is corruption.</summary>
    [FieldOffset(56)] internal readonly bool AllowSkips;
    /// <summary>Set once by the ring's Dispose (its lease is released then); checked by every call, a plain read.</summary>
    [FieldOffset(60)] internal int Disposed;
    /// <summary>The region whose mapping the ring uses (and leases, when <see cref="Leased"/>).</summary>
    [FieldOffset(64)] internal readonly SharedRegion Region;
    /// <summary>Whether this ring holds a lease on the mapping (channels keep the mapping by their own count).</summary>
    [FieldOffset(72)] internal readonly bool Leased;
    /// <summary>MPSC: the ring's producer table (registrations of this object's threads, the consumer's judgements); SPSC: null.</summary>
    [FieldOffset(80)] internal readonly ProducerTable? Producers;
    /// <summary>
    /// The producer's write prefetch (<see cref="Shim.PrefetchWrite"/>), or null: none (a duplex
    /// part, no shim or no instruction). See <see cref="PrefetchSlots"/>; MPSC: within a batch only.
    /// </summary>
    [FieldOffset(88)] private readonly delegate* unmanaged[SuppressGCTransition]<void*, nuint, void> _prefetchWrite;
    /// <summary>SPSC producer: how many slots ahead of the one it claims it prefetches (about 9 lines); MPSC: 0 (other producers' slots).</summary>
    [FieldOffset(96)] private readonly ulong _prefetchAhead;
    /// <summary>Producer: bytes of a slot (the sequence, the element and its trailer).</summary>
    [FieldOffset(104)] private readonly nuint _slotSize;
    /// <summary>Producer: the most slots one prefetch asks for (<see cref="MaxPrefetchBytes"/>, at least 1).</summary>
    [FieldOffset(112)] private readonly ulong _maxPrefetchSlots;
    /// <summary>The channel end's type name, which a call that raced its Dispose names (<see cref="RetiredMapping"/>); null: a bare ring.</summary>
    [FieldOffset(120)] internal readonly string? Owner;

    // ---- producer-local (not shared memory) --------------------------------------------

    /// <summary>
    /// SPSC: the next position to write (authoritative; the shared tail is a published copy), with
    /// <see cref="QuickCallMark"/> set while a raw ring's write or publish runs (MappingUse reads it).
    /// MPSC: the highest tail this object has claimed up to (or found the ring full at), a floor
    /// for every tail it reads (a tail moved back would make it overwrite pending elements).
    /// </summary>
    [FieldOffset(ProducerBlock)] internal ulong ProducerTail;
    /// <summary>
    /// The head last read from shared memory. Never ahead of the real head, so "tail - cache &lt; capacity"
    /// proves there is room without touching the consumer's line. MPSC: shared by the threads that
    /// write through one ring object; a stale value only costs a reload.
    /// </summary>
    [FieldOffset(ProducerBlock + 8)] internal ulong ProducerHeadCache;
    /// <summary>MPSC: the intent word and marker tag of the first thread that claimed through this object.</summary>
    [FieldOffset(ProducerBlock + 16)] private ProducerThreadCache _producerThread;
    /// <summary>
    /// MPSC: position + 1 of the first slot of the cached thread's in-place claim (one slot, or a
    /// batch of <see cref="_unmarkedCount"/>) whose claimed markers are not written yet (its intent
    /// still covers it, uintripc.h 2d); 0: none. Only that thread writes it (claim, publish,
    /// abort); another (the ring's Dispose) only takes it, by a CAS to 0 (TakeUnmarkedClaim).
    /// </summary>
    [FieldOffset(ProducerBlock + 32)] private ulong _unmarkedClaim;
    /// <summary>MPSC: the slots of the claim at <see cref="_unmarkedClaim"/> (written with it).</summary>
    [FieldOffset(ProducerBlock + 40)] private ulong _unmarkedCount;
    /// <summary>The position up to which claims have prefetched slots, the frontier (<see cref="PrefetchSlots"/>; MPSC: a hint shared by the object's threads).</summary>
    [FieldOffset(ProducerBlock + 48)] private ulong _prefetchedTo;

    // ---- consumer-local (not shared memory) --------------------------------------------

    /// <summary>The next position to read; its shared copy is released to the producers.</summary>
    [FieldOffset(ConsumerBlock)] internal ulong ConsumerHead;
    /// <summary>TryUnblock: the position whose stall is being timed, or <see cref="NoStall"/>.</summary>
    [FieldOffset(ConsumerBlock + 8)] private ulong _stallPosition;
    /// <summary>TryUnblock: when the stall at <see cref="_stallPosition"/> was first seen (Stopwatch ticks).</summary>
    [FieldOffset(ConsumerBlock + 16)] private long _stallSince;
    /// <summary>
    /// While a Drain of this object runs, the managed thread id (<see cref="ProducerThreadCache.CurrentThread"/>: a thread static, where Environment.CurrentManagedThreadId is a call) of its thread (never 0); 0 outside.
    /// Drain keeps its position in a register and reads the next slot and publishes its head after
    /// the handler returns, so from a handler a read of this ring (which would take the element
    /// Drain hands out next: twice) and a channel reader's Dispose (whose lease may be the last to
    /// keep the mapping) are refused; a Dispose on another thread waits for the Drain to return.
    /// </summary>
    [FieldOffset(ConsumerBlock + 24)] internal int Draining;

    /// <summary>
    /// Attaches to a slot ring part: takes a lease on the mapping (when <paramref name="lease"/>),
    /// validates the descriptor (uintripc.h 2a), the element size and the positions (2b).
    /// <paramref name="trailerSize"/> bytes after the element belong to the slot (a channel's checksum, 4a).
    /// </summary>
    internal static SlotRingEngine Attach(SharedRegion region, RegionPart part, PartKind kind, int elementSize, bool lease, int trailerSize = 0, string? owner = null)
    {
        ArgumentNullException.ThrowIfNull(region);
        if (lease)
        {
            region.AddLease();
        }

        try
        {
            return new SlotRingEngine(region, part, kind, elementSize, lease, trailerSize, owner);
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

    /// <summary>MPSC: the intent word and marker tag (uintripc.h 2f) of the calling thread, whose managed id is <paramref name="thread"/>; whether it is the cached thread.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal ulong* ProducerIntent(int thread, out uint tag, out bool cachedThread)
        => _producerThread.Intent(thread, Producers!, ref this, out tag, out cachedThread);

    /// <summary>
    /// The calling thread's managed id for a producer method of mode <typeparamref name="TMode"/>
    /// (MPSC: its producer identity, 2f), for callers that do not hold it already (a raw ring's
    /// call takes it from its MappingUse record: one thread static per call, not two); SPSC: 0,
    /// unread (a JIT-time constant branch).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static int ProducerThread<TMode>()
        where TMode : struct, IProducerMode
        => typeof(TMode) == typeof(MultiProducer) ? ProducerThreadCache.CurrentThread : 0;

    /// <summary>MPSC: the producer table ends the registration of the cached thread, which exited: its unmarked claim first (2d).</summary>
    void IDeferredClaims.MarkDeferredClaims() => TakeUnmarkedClaim();

    /// <summary>Releases the lease once and ends this object's producer registrations; every later call throws <see cref="ObjectDisposedException"/>.</summary>
    internal void Dispose()
    {
        if (Interlocked.Exchange(ref Disposed, 1) == 0)
        {
            if (Producers is not null)
            {
                // Asymmetric Dekker with DeferMarkers (no fence on the claim path): the cached thread's
                // deferral stored before this barrier is seen below; one stored after it sees the flag
                // and marks its claim itself, inside its claim call (design-notes "mpscbw").
                Interlocked.MemoryBarrierProcessWide();
            }

            // Before the registration ends, which uncovers the claim: the markers name it (2d).
            TakeUnmarkedClaim();
            Producers?.Dispose(); // its threads claim no more: their registrations end (uintripc.h 2f)
            if (Leased)
            {
                Region.ReleaseLease();
            }
        }
    }

    private SlotRingEngine(SharedRegion region, RegionPart part, PartKind kind, int elementSize, bool lease, int trailerSize, string? owner)
    {
        Region = region;
        Owner = owner;
        Leased = lease;
        if (part.Kind != kind)
        {
            throw new RegionFormatException($"part {part.Index} kind", kind.ToString(), part.Kind.ToString(),
                part.Kind is PartKind.SpscRecords or PartKind.MpscRecords ? "Attach a RecordRing to this part instead." : "This part is not a slot ring.");
        }

        byte* ring = region.PartPointer(part);
        RingDescriptor.Geometry geometry = RingDescriptor.Read(region, part, trailerSize);
        if (geometry.ElementSize != elementSize)
        {
            throw new RegionFormatException("ring element size", $"{elementSize} (the size of the element type)", geometry.ElementSize.ToString(),
                "Both sides must use the same unmanaged element type.");
        }

        if (geometry.MaxMessageLength != elementSize)
        {
            throw new RegionFormatException("ring max message length", $"{elementSize} (the element size)", geometry.MaxMessageLength.ToString());
        }

        // Parts are 128-aligned, the data area starts at +512 (duplex: at a multiple of 8, 2h) and slots
        // and pitches are multiples of 8, so every sequence word is naturally aligned: required for
        // atomic loads, stores and CAS.
        Debug.Assert(((nuint)ring & 7) == 0, "ring parts are aligned");
        Data = ring + geometry.DataOffset;
        SharedTail = (ulong*)(ring + RingLayout.TailOffset);
        SharedHead = (ulong*)(ring + RingLayout.HeadOffset);
        Capacity = (ulong)geometry.Capacity;
        Mask = Capacity - 1;
        SlotPitch = (nuint)geometry.SlotPitch;
        ReleaseMask = Math.Max(1, Capacity / 4) - 1;
        AllowSkips = kind == PartKind.MpscSlots;
        _slotSize = (nuint)geometry.SlotSize;
        // Not for a duplex part, whose lines hold the other direction's slots too (2h): the prefetch
        // would take them from their writer. MPSC: nothing ahead of a claim (other producers write
        // those slots), only the slots of its own batch of large elements (PrefetchBatchSlot).
        if (geometry.SlotPitch == geometry.SlotSize)
        {
            _prefetchWrite = Shim.PrefetchWrite;
            _prefetchAhead = AllowSkips ? 0 : (ulong)Math.Max(1, PrefetchDistanceBytes / geometry.SlotSize);
            _maxPrefetchSlots = (ulong)Math.Max(1, MaxPrefetchBytes / geometry.SlotSize);
        }

        Producers = AllowSkips ? new ProducerTable(ring, geometry) : null;
        _stallPosition = NoStall;
        LoadPositions();
    }

    /// <summary>Builds the part spec of a slot ring (descriptor written by the region's creator); slots hold <paramref name="trailerSize"/> more bytes after the element (4a); <paramref name="elementType"/>: the element type fingerprint for the descriptor (2i), 0 = not recorded.</summary>
    internal static PartSpec CreatePart(PartKind kind, int capacity, int elementSize, uint tag, int trailerSize = 0, ulong elementType = 0)
    {
        if (capacity < 2 || !BitOperations.IsPow2(capacity))
        {
            throw new ArgumentOutOfRangeException(nameof(capacity), capacity, "The capacity of a slot ring must be a power of two, at least 2.");
        }

        int slotSize = RingLayout.SlotSize(elementSize + trailerSize);
        long dataLength = (long)capacity * slotSize;
        // Runs on the zero-filled part before the region is published: plain stores (see PartSpec).
        return new PartSpec(kind, tag, RingLayout.SlotRingSize(capacity, elementSize + trailerSize, RingDescriptor.IsMultiProducer(kind) ? RingLayout.DefaultProducerSlots : 0),
            (address, _) => RingDescriptor.Write((byte*)address, kind, slotSize, capacity, elementSize, elementSize, dataLength, elementType: elementType));
    }

    /// <summary>Every call checks this: after Dispose the ring's lease is gone, and so may be the memory.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal readonly void ThrowIfDisposed()
    {
        if (Disposed != 0)
        {
            SlotRingThrowHelper.ThrowDisposed(Owner); // the field loaded on the throw path only
        }
    }

    /// <summary>Address of the slot of <paramref name="position"/> (its sequence word; the element follows).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal readonly byte* SlotAt(ulong position) => Data + ((nuint)(position & Mask) * SlotPitch);

    /// <summary>The slots' addressing, for a batch to keep (see <see cref="SlotAddressing"/>).</summary>
    internal readonly SlotAddressing Slots
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => new(Data, Mask, SlotPitch);
    }

    /// <summary>The shared tail (acquire), for diagnostics.</summary>
    internal readonly long ProducerPosition => (long)Volatile.Read(ref *SharedTail);

    /// <summary>The shared head (acquire), for diagnostics.</summary>
    internal readonly long ConsumerPosition => (long)Volatile.Read(ref *SharedHead);

    /// <summary>Approximate number of elements in the ring, clamped to [0, capacity].</summary>
    internal readonly int Count
    {
        get
        {
            // Acquire loads, head first: the result is only a snapshot anyway.
            ulong head = Volatile.Read(ref *SharedHead);
            ulong tail = Volatile.Read(ref *SharedTail);
            return tail <= head ? 0 : (int)Math.Min(tail - head, Capacity);
        }
    }

    /// <summary>
    /// Reads head and tail on attach and checks head &lt;= tail &lt;= head + capacity. Live peers may
    /// move both between our loads, so the reads are ordered to make the checks exact and an
    /// inconsistent snapshot is retried a few times before it is called corruption.
    /// </summary>
    private void LoadPositions()
    {
        for (int attempt = 0; ; attempt++)
        {
            // Acquire loads in this order: t1 <= head_then + capacity <= head + capacity, and head <= t2.
            ulong t1 = Volatile.Read(ref *SharedTail);
            ulong head = Volatile.Read(ref *SharedHead);
            ulong t2 = Volatile.Read(ref *SharedTail);
            ulong tail = t2;
            if (!AllowSkips)
            {
                // SPSC publishes the sequence before the tail, so the tail may lag, even behind head (and a
                // producer that died between the two stores left it behind for good): extend it over
                // published slots. Bounded by a ring's worth and by head + capacity.
                for (ulong n = 0; n < Capacity && tail < head + Capacity && Volatile.Read(ref *(ulong*)SlotAt(tail)) == tail + 1; n++)
                {
                    tail++; // acquire loads above: only used to decide where our own writes go
                }
            }

            if (t2 >= RingLayout.MaxPosition || head >= RingLayout.MaxPosition)
            {
                SlotRingThrowHelper.ThrowPositionTooLarge(Math.Max(head, t2));
            }

            bool consistent = t1 <= t2 && head <= tail && tail - head <= Capacity && (t1 <= head || t1 - head <= Capacity);
            if (consistent)
            {
                ConsumerHead = head;
                ProducerTail = tail;
                ProducerHeadCache = head;
                return;
            }

            if (attempt == 3)
            {
                SlotRingThrowHelper.ThrowPositionsCorrupted(in this, head, t2, "attach");
            }

            Thread.Yield();
        }
    }
}
