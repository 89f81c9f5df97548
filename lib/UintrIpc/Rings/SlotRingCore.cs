using System.Diagnostics;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using UintrIpc.Memory;

namespace UintrIpc.Rings;

// Design:
//   The part of a slot ring that SpscRing<T> and MpscRing<T> share: the geometry, the
//   attach-time validation, and the whole consumer side (which does not depend on how many
//   producers there are). The producer paths live in the two ring classes.
//
//   Shared memory (uintripc.h 2, 2a): control block [descriptor | tail @128 | head @256 |
//   heartbeat @384], then `capacity` slots of [u64 sequence | element]. Positions are
//   free-running u64; slot index = position & mask.
//     sequence  written by the producer of a position: element (plain), then sequence =
//               position + 1 (release). MPSC only: the consumer's unblock or a producer's
//               abort writes SlotSkipped | (position + 1) instead.
//     tail      SPSC: the producer's release store after its sequence stores (may lag them);
//               MPSC: producers claim positions with a CAS, before writing the slot.
//     head      written only by the consumer, release, after it copied the elements out:
//               the release hands the slots back to the producers.
//   The consumer polls the sequence of the slot it reads next (acquire), so a message costs
//   one cache-line transfer; it never reads tail on its fast path.
//
//   Managed layout: this struct is embedded in each ring object. It is explicit and padded
//   so that the producer-local words (the SPSC tail and the cached head) and the
//   consumer-local words (the consumer's head and unblock bookkeeping) sit on different
//   cache lines, at least 128 bytes apart (adjacent-line prefetch pairs 64-byte lines), as
//   ConcurrentQueueSegment's PaddedHeadAndTail does. The geometry is read-only after
//   construction and read by both sides, so it may share its line with the object header.
//
//   Peer death: a consumer that dies after reading but before storing head makes its
//   successor read those elements again (at least once). An SPSC producer that dies
//   between its sequence and tail stores is repaired on attach (the scan in LoadPositions).
//   An MPSC producer that dies between claim and publish blocks the ring until the
//   consumer calls TryUnblock.
//
//   Hostile peer: every sequence the consumer reads is classified (ready, not yet,
//   skipped, or corrupt) and every head/tail value is checked against the invariant
//   head <= tail <= head + capacity before it is used. Indices are always masked, so no
//   value can send us outside the part, and every loop over shared values is bounded.

/// <summary>
/// Geometry, attach validation and consumer side shared by <see cref="SpscRing{T}"/> and
/// <see cref="MpscRing{T}"/>. Embedded (not referenced) in the ring object.
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = 5 * LineRange)]
internal unsafe struct SlotRingCore
{
    /// <summary>Distance kept between words written by different threads.</summary>
    private const int LineRange = RegionLayout.FalseSharingRange;
    private const int ProducerBlock = LineRange;
    private const int ConsumerBlock = 3 * LineRange;
    /// <summary>Value of <see cref="_stallPosition"/> when no stall is being timed.</summary>
    private const ulong NoStall = ulong.MaxValue;

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
    /// <summary>Bytes per slot (sequence + element, 8-aligned).</summary>
    [FieldOffset(40)] internal readonly nuint SlotSize;
    /// <summary>Drain releases head whenever it crosses a multiple of this + 1 (a quarter ring), not only at its end.</summary>
    [FieldOffset(48)] internal readonly ulong ReleaseMask;
    /// <summary>MPSC rings know skipped slots; in an SPSC ring a skip marker is corruption.</summary>
    [FieldOffset(56)] internal readonly bool AllowSkips;
    /// <summary>Set once by the ring's Dispose (its lease is released then); checked by every call, a plain read.</summary>
    [FieldOffset(60)] internal int Disposed;

    // ---- producer-local (not shared memory) --------------------------------------------

    /// <summary>
    /// SPSC: the next position to write (authoritative; the shared tail is a published copy).
    /// MPSC: the highest tail this object has claimed up to, a floor for every tail it reads
    /// (a tail moved back would make it overwrite pending elements).
    /// </summary>
    [FieldOffset(ProducerBlock)] internal ulong ProducerTail;
    /// <summary>
    /// The head last read from shared memory. Never ahead of the real head, so "tail - cache &lt; capacity"
    /// proves there is room without touching the consumer's line. MPSC: shared by the threads that
    /// write through one ring object; a stale value only costs a reload.
    /// </summary>
    [FieldOffset(ProducerBlock + 8)] internal ulong ProducerHeadCache;

    // ---- consumer-local (not shared memory) --------------------------------------------

    /// <summary>The next position to read; its shared copy is released to the producers.</summary>
    [FieldOffset(ConsumerBlock)] internal ulong ConsumerHead;
    /// <summary>TryUnblock: the position whose stall is being timed, or <see cref="NoStall"/>.</summary>
    [FieldOffset(ConsumerBlock + 8)] private ulong _stallPosition;
    /// <summary>TryUnblock: when the stall at <see cref="_stallPosition"/> was first seen (Stopwatch ticks).</summary>
    [FieldOffset(ConsumerBlock + 16)] private long _stallSince;

    /// <summary>Attaches to a slot ring part: validates descriptor, element size and positions.</summary>
    internal SlotRingCore(SharedRegion region, RegionPart part, PartKind kind, int elementSize)
    {
        ArgumentNullException.ThrowIfNull(region);
        if (part.Kind != kind)
        {
            throw new RegionFormatException($"part {part.Index} kind", kind.ToString(), part.Kind.ToString(),
                part.Kind switch
                {
                    PartKind.SpscSlots => "Attach an SpscRing<T> to this part instead.",
                    PartKind.MpscSlots => "Attach an MpscRing<T> to this part instead.",
                    _ => "This part is not a slot ring.",
                });
        }

        byte* ring = region.PartPointer(part);
        RingDescriptor.Geometry geometry = RingDescriptor.Read(ring, part.Length, kind);
        if (geometry.ElementSize != elementSize)
        {
            throw new RegionFormatException("ring element size", $"{elementSize} (the size of the element type)", geometry.ElementSize.ToString(),
                "Both sides must use the same unmanaged element type.");
        }

        if (geometry.MaxMessageLength != elementSize)
        {
            throw new RegionFormatException("ring max message length", $"{elementSize} (the element size)", geometry.MaxMessageLength.ToString());
        }

        // Parts are 128-aligned, the data area starts at +512 and slots are multiples of 8, so every
        // sequence word is naturally aligned: required for atomic loads, stores and CAS.
        Debug.Assert(((nuint)ring & 7) == 0, "ring parts are aligned");
        Data = ring + RingLayout.ControlSize;
        SharedTail = (ulong*)(ring + RingLayout.TailOffset);
        SharedHead = (ulong*)(ring + RingLayout.HeadOffset);
        Capacity = (ulong)geometry.Capacity;
        Mask = Capacity - 1;
        SlotSize = (nuint)geometry.SlotSize;
        ReleaseMask = Math.Max(1, Capacity / 4) - 1;
        AllowSkips = kind == PartKind.MpscSlots;
        _stallPosition = NoStall;
        LoadPositions();
    }

    /// <summary>Builds the part spec of a slot ring (descriptor written by the region's creator).</summary>
    internal static PartSpec CreatePart(PartKind kind, int capacity, int elementSize, uint tag)
    {
        if (capacity < 2 || !BitOperations.IsPow2(capacity))
        {
            throw new ArgumentOutOfRangeException(nameof(capacity), capacity, "The capacity of a slot ring must be a power of two, at least 2.");
        }

        int slotSize = RingLayout.SlotSize(elementSize);
        long dataLength = (long)capacity * slotSize;
        // Runs on the zero-filled part before the region is published: plain stores (see PartSpec).
        return new PartSpec(kind, tag, RingLayout.ControlSize + dataLength,
            (address, _) => RingDescriptor.Write((byte*)address, kind, slotSize, capacity, elementSize, elementSize, dataLength));
    }

    /// <summary>Every call checks this: after Dispose the ring's lease is gone, and so may be the memory.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal readonly void ThrowIfDisposed()
    {
        if (Disposed != 0)
        {
            SlotRingThrowHelper.ThrowDisposed();
        }
    }

    /// <summary>Address of the slot of <paramref name="position"/> (its sequence word; the element follows).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal readonly byte* SlotAt(ulong position) => Data + ((nuint)(position & Mask) * SlotSize);

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

    // ---- consumer side ---------------------------------------------------------------------

    /// <summary>Reads one element, or returns false when the next slot is not published yet.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal bool TryRead<T>(out T item) where T : unmanaged
    {
        ThrowIfDisposed();
        ulong head = ConsumerHead;
        byte* slot = SlotAt(head);
        // Acquire: pairs with the producer's release of the sequence, so the element is complete.
        if (Volatile.Read(ref *(ulong*)slot) != head + 1)
        {
            if (!AdvanceOverSkipped())
            {
                item = default;
                return false;
            }

            head = ConsumerHead;
            slot = SlotAt(head);
        }

        item = *(T*)(slot + RingLayout.SlotHeaderSize); // plain: published by the acquire above
        ConsumerHead = head + 1;
        // Release: our copy of the element happens before a producer may reuse the slot.
        Volatile.Write(ref *SharedHead, head + 1);
        return true;
    }

    /// <summary>
    /// Hands up to <paramref name="limit"/> published elements to <paramref name="handler"/> in place,
    /// then releases their slots.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal int Drain<T, THandler>(ref THandler handler, int limit)
        where T : unmanaged
        where THandler : struct, ISlotHandler<T>, allows ref struct
    {
        ThrowIfDisposed();
        if (limit <= 0)
        {
            return limit == 0 ? 0 : SlotRingThrowHelper.ThrowNegativeLimit(limit);
        }

        int count = 0;
        ulong head = ConsumerHead;
        try
        {
            while (count < limit)
            {
                byte* slot = SlotAt(head);
                // Acquire: pairs with the producer's release of the sequence.
                if (Volatile.Read(ref *(ulong*)slot) != head + 1)
                {
                    Commit(head);
                    bool ready = AdvanceOverSkipped();
                    head = ConsumerHead; // it may have stepped over skipped slots
                    if (!ready)
                    {
                        break;
                    }

                    continue;
                }

                // Counted as consumed before the handler runs: an element whose handler throws is not
                // delivered again (a poison element cannot wedge the consumer).
                head++;
                count++;
                handler.Handle(in Unsafe.AsRef<T>(slot + RingLayout.SlotHeaderSize));
                if ((head & ReleaseMask) == 0)
                {
                    // Release: a long drain gives slots back every quarter ring, after the handler is done with them.
                    Volatile.Write(ref *SharedHead, head);
                }
            }
        }
        finally
        {
            Commit(head);
        }

        return count;
    }

    /// <summary>Whether the next slot holds something to consume (a published element or a skipped slot).</summary>
    internal readonly bool CanRead
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get
        {
            ThrowIfDisposed();
            ulong head = ConsumerHead;
            // Acquire: whoever acts on "true" reads the element after this load.
            ulong sequence = Volatile.Read(ref *(ulong*)SlotAt(head));
            return sequence == head + 1 || IsSkipMarker(sequence, head);
        }
    }

    /// <summary>
    /// MPSC recovery when the producer that claimed the head position died before publishing
    /// (see <see cref="MpscRing{T}.TryUnblock"/>).
    /// </summary>
    internal bool TryUnblock(TimeSpan stalledFor)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(stalledFor, TimeSpan.Zero);
        ThrowIfDisposed();
        ulong head = ConsumerHead;
        // Acquire: a claim (tail CAS) happens before its publish; we only need a current value.
        ulong tail = Volatile.Read(ref *SharedTail);
        if (tail < head || tail - head > Capacity)
        {
            SlotRingThrowHelper.ThrowPositionsCorrupted(head, tail, Capacity, "consumer");
        }

        byte* slot = SlotAt(head);
        ulong sequence = Volatile.Read(ref *(ulong*)slot); // acquire, as in TryRead
        if (tail == head || sequence == head + 1 || sequence == (RingLayout.SlotSkipped | (head + 1)))
        {
            // Nothing claimed, or the slot can be consumed normally: nothing to unblock.
            _stallPosition = NoStall;
            return false;
        }

        if (!IsNotYet(sequence, head))
        {
            SlotRingThrowHelper.ThrowSequenceCorrupted(head, sequence, Capacity);
        }

        long now = Stopwatch.GetTimestamp();
        if (_stallPosition != head)
        {
            _stallPosition = head;
            _stallSince = now;
            if (stalledFor > TimeSpan.Zero)
            {
                return false;
            }
        }
        else if (Stopwatch.GetElapsedTime(_stallSince, now) < stalledFor)
        {
            return false;
        }

        _stallPosition = NoStall;
        // Full fence CAS: either we mark the slot skipped, or the producer's publish got there first
        // and the CAS fails (the element is then read normally). Never both.
        ulong observed = Interlocked.CompareExchange(ref *(ulong*)slot, RingLayout.SlotSkipped | (head + 1), sequence);
        if (observed != sequence)
        {
            return false;
        }

        Commit(head + 1);
        return true;
    }

    /// <summary>Moves the consumer to <paramref name="head"/> and releases the slots before it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Commit(ulong head)
    {
        if (head != ConsumerHead)
        {
            ConsumerHead = head;
            // Release: every read of the consumed slots happens before a producer may overwrite them.
            Volatile.Write(ref *SharedHead, head);
        }
    }

    /// <summary>
    /// Called when the head slot does not hold head + 1. Steps over skipped slots (MPSC) and
    /// returns true when the head slot then holds a published element (its sequence was read
    /// with acquire), false when it is not written yet; throws on any other value.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private bool AdvanceOverSkipped()
    {
        ulong head = ConsumerHead;
        // Bounded: at most a ring's worth of skip markers per call, whatever a peer writes.
        for (ulong i = 0; i <= Capacity; i++)
        {
            ulong sequence = Volatile.Read(ref *(ulong*)SlotAt(head)); // acquire, as in TryRead
            if (sequence == head + 1)
            {
                return true;
            }

            if (IsSkipMarker(sequence, head))
            {
                // Only a claimed position can be skipped: a marker at or beyond tail is forged.
                ulong tail = Volatile.Read(ref *SharedTail); // acquire: a fresh value
                if (tail <= head)
                {
                    SlotRingThrowHelper.ThrowSkippedBeyondTail(head, tail);
                }

                head++;
                Commit(head);
                continue;
            }

            return false; // not yet (IsSkipMarker threw for anything else)
        }

        return false;
    }

    /// <summary>
    /// Classifies a <paramref name="sequence"/> other than position + 1 found in the slot of
    /// <paramref name="position"/>: true for a skip marker of this lap (MPSC), false for a
    /// legitimate not-yet value; throws for anything else (and for a skip marker in an SPSC ring).
    /// </summary>
    private readonly bool IsSkipMarker(ulong sequence, ulong position)
    {
        if (sequence == (RingLayout.SlotSkipped | (position + 1)))
        {
            return AllowSkips ? true : SlotRingThrowHelper.ThrowSequenceCorrupted(position, sequence, Capacity);
        }

        return IsNotYet(sequence, position) ? false : SlotRingThrowHelper.ThrowSequenceCorrupted(position, sequence, Capacity);
    }

    /// <summary>
    /// Whether <paramref name="sequence"/> is what the slot of <paramref name="position"/> legitimately
    /// holds before its producer publishes: 0 on the first lap, otherwise the previous lap's
    /// sequence (position + 1 - capacity), possibly marked skipped.
    /// </summary>
    private readonly bool IsNotYet(ulong sequence, ulong position)
        => position < Capacity ? sequence == 0 : (sequence & ~RingLayout.SlotSkipped) == position + 1 - Capacity;

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
                SlotRingThrowHelper.ThrowPositionsCorrupted(head, t2, Capacity, "attach");
            }

            Thread.Yield();
        }
    }
}
