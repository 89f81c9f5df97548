using System.Diagnostics;
using System.Runtime.CompilerServices;
using UintrIpc.Channels;
using UintrIpc.Memory;

namespace UintrIpc.Rings;

// The consumer, the same for both producer modes: poll the sequence of the slot it reads next
// (acquire), copy or hand over the element, release head (uintripc.h 2d). Its head is private
// (2c): the shared word is only published.
internal unsafe partial struct SlotRingEngine
{
    /// <summary>
    /// Reads one element, or returns false when the next slot is not published yet; then
    /// <paramref name="item"/> is not written: a spinning consumer polls here, and clearing a
    /// 4 KiB element cost each empty poll 33 ns (single thread) where the C consumer only pauses.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal bool TryRead<T>(out T item) where T : unmanaged
    {
        ThrowIfDisposed();
        ulong head = ConsumerHead;
        byte* slot = SlotAt(head);
        // Acquire: pairs with the producer's release of the sequence, so the element is complete.
        ulong sequence = Volatile.Read(ref *(ulong*)slot);
        if (sequence != head + 1)
        {
            // An empty ring is decided inline (a spinning consumer polls here); the rest is validated out of line.
            if (sequence == UnwrittenSequence(head))
            {
                RepublishHeadIfRewritten(head);
                Unsafe.SkipInit(out item); // not written (see the summary)
                return false;
            }

            if (!AdvanceOverSkipped())
            {
                Unsafe.SkipInit(out item);
                return false;
            }

            head = ConsumerHead;
            slot = SlotAt(head);
        }

        if (Draining != 0)
        {
            SlotRingThrowHelper.ThrowReadWhileDraining(); // from a Drain's handler (see Draining); not on an empty poll's path
        }

        Unsafe.SkipInit(out item);
        ElementCopy.CopyOut(ref item, in *(T*)(slot + RingLayout.SlotHeaderSize)); // plain: published by the acquire above
        ConsumerHead = head + 1;
        // Release: our copy of the element happens before a producer may reuse the slot.
        Volatile.Write(ref *SharedHead, head + 1);
        return true;
    }

    /// <summary>Copies up to <paramref name="destination"/>.Length published elements: <see cref="Drain{T, THandler}"/> into a span.</summary>
    internal int TryRead<T>(Span<T> destination) where T : unmanaged
    {
        var fill = new SpanFillHandler<T>(destination);
        return Drain<T, SpanFillHandler<T>>(ref fill, destination.Length);
    }

    /// <summary>
    /// Hands up to <paramref name="limit"/> published elements to <paramref name="handler"/> in place,
    /// then releases their slots.
    /// </summary>
    /// <remarks>
    /// AggressiveOptimization: when not inlined (a caller still at tier 0), the loop is compiled
    /// optimized at once instead of running unoptimized until tiering promotes it.
    /// The run of published elements is a loop with no call but the handler's: the skip path's
    /// call (a slot that stops the run and is not "not yet written") is in the outer loop, and
    /// the geometry is read again after it, so nothing the run uses is live across a call. With
    /// that call inside the run, the JIT kept the geometry on the stack and reloaded it per
    /// element (three loads) and laid the published path out of the loop's straight line. The
    /// position is a local that the finally does not read (it publishes <see cref="ConsumerHead"/>,
    /// stored before each handler call): a variable that the finally reads stays in memory.
    /// Not out of line (as the record consumer's loop): a handler taken by reference there keeps
    /// its own fields in memory, a store and a load per element for one that counts or sums.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining | MethodImplOptions.AggressiveOptimization)]
    internal int Drain<T, THandler>(ref THandler handler, int limit)
        where T : unmanaged
        where THandler : struct, ISlotHandler<T>, allows ref struct
    {
        ThrowIfDisposed();
        if (limit <= 0)
        {
            return limit == 0 ? 0 : SlotRingThrowHelper.ThrowNegativeLimit(limit);
        }

        if (Draining != 0)
        {
            SlotRingThrowHelper.ThrowReadWhileDraining();
        }

        ulong start = ConsumerHead;
        ulong head = start;
        // Elements handed over end at `end`; skipped slots move it on (they are not elements).
        ulong end = start + (uint)limit;
        ulong skipped = 0;
        Draining = ProducerThreadCache.CurrentThread; // nonzero; per Drain call: who may dispose meanwhile (IpcChannelReader.Dispose)
        try
        {
            while (true)
            {
                // Read here, after a skip's call, so that none of them is live across it (see remarks).
                SlotAddressing slots = Slots;
                ulong releaseMask = ReleaseMask;
                ulong* sharedHead = SharedHead;
                byte* slot;
                while (true)
                {
                    slot = slots.SlotAt(head);
                    // Acquire: pairs with the producer's release of the sequence, so the element is complete.
                    if (head == end || Volatile.Read(ref *(ulong*)slot) != head + 1)
                    {
                        break;
                    }

                    // Counted as consumed before the handler runs: an element whose handler throws is not
                    // delivered again (a poison element cannot wedge the consumer). Private: published below.
                    head++;
                    ConsumerHead = head;
                    handler.Handle(in Unsafe.AsRef<T>(slot + RingLayout.SlotHeaderSize));
                    if ((head & releaseMask) == 0)
                    {
                        // Release: a long drain gives slots back every quarter ring, after the handler is done with them.
                        Volatile.Write(ref *sharedHead, head);
                    }
                }

                // Acquire, as above: caught up (the common stop) is decided inline, skipped slots out of line.
                if (head == end || Volatile.Read(ref *(ulong*)slot) == UnwrittenSequence(head))
                {
                    break;
                }

                bool ready = AdvanceOverSkipped(); // steps from ConsumerHead (== head) over skipped slots
                ulong skippedTo = ConsumerHead;
                skipped += skippedTo - head;
                head = skippedTo;
                end = start + (uint)limit + skipped; // recomputed: `end` live across the call was kept on the stack and stored per element
                if (!ready)
                {
                    break;
                }
            }
        }
        finally
        {
            Draining = 0;
            PublishConsumed(start);
        }

        // Read after the try: ConsumerHead (== head), not head or end. A local the loop changes and that
        // is read after the try is written through to the stack at each change (the try/finally
        // keeps it there): `end` cost a store per element, a store the C consumer does not make
        // and that queues in the store buffer behind the head release (see MessageChecker.Check in
        // the bench). `skipped` changes only on the skip path.
        ulong moved = ConsumerHead - start;
        if (moved == 0)
        {
            RepublishHeadIfRewritten(start); // nothing consumed or skipped, nothing published: the shared head must be ours (2c)
        }

        return (int)(moved - skipped);
    }

    /// <summary>
    /// Drain's release: publishes <see cref="ConsumerHead"/> unless it is still <paramref name="start"/>
    /// (release: every read of the consumed slots, the handler's included, happens before a
    /// producer may overwrite them). A publish also puts back a head a peer rewrote (2c).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private readonly void PublishConsumed(ulong start)
    {
        ulong head = ConsumerHead;
        if (head != start)
        {
            Volatile.Write(ref *SharedHead, head);
        }
    }

    /// <summary>Whether the next slot holds something to consume (a published element or a skipped slot).</summary>
    internal readonly bool CanRead
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get
        {
            ulong sequence = NextSequence(out ulong head);
            return sequence == head + 1 || (sequence != UnwrittenSequence(head) && IsSkipMarker(sequence, head));
        }
    }

    /// <summary>The sequence in the slot of the consumer's private head (for <see cref="CanRead"/> and <see cref="CanReadOrCorrupt"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private readonly ulong NextSequence(out ulong head)
    {
        ThrowIfDisposed();
        head = ConsumerHead;
        // Acquire: whoever acts on "true" reads (and validates) the element after this load.
        return Volatile.Read(ref *(ulong*)SlotAt(head));
    }

    /// <summary>
    /// Called when the ring is empty at <paramref name="head"/>: every release is published then,
    /// so the shared head must be ours; a peer that rewrote it would hold the producers back while
    /// we wait, so we publish ours again (2c). A load of our own line per empty poll.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private readonly void RepublishHeadIfRewritten(ulong head)
    {
        if (Volatile.Read(ref *SharedHead) != head) // acquire: only compared
        {
            Volatile.Write(ref *SharedHead, head); // release, as Commit
        }
    }

    /// <summary>
    /// <see cref="CanRead"/> for wait probes on threads with no catcher: true for anything but a
    /// legitimate not-yet value, a corrupted sequence included, so the woken reader's read reports
    /// it (RingCorruptedException there) instead of the probe throwing on a waiter or receiver thread.
    /// </summary>
    internal readonly bool CanReadOrCorrupt
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get
        {
            ulong sequence = NextSequence(out ulong head);
            return sequence == head + 1 || !IsNotYet(sequence, head);
        }
    }

    /// <summary>
    /// What the slot of <paramref name="position"/> holds before its producer writes it: 0 on the
    /// first lap, else the previous lap's sequence (uintripc.h 2d). The one legitimate "not yet"
    /// value a consumer meets on an empty ring; <see cref="IsNotYet"/> knows the others.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private readonly ulong UnwrittenSequence(ulong position) => position >= Capacity ? position + 1 - Capacity : 0;

    /// <summary>
    /// MPSC recovery when the producer that claimed the head position died before publishing
    /// (see <see cref="SlotRing{T}.TryUnblock"/>; uintripc.h 2d).
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
            SlotRingThrowHelper.ThrowPositionsCorrupted(in this, head, tail, "consumer");
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
            SlotRingThrowHelper.ThrowSequenceCorrupted(in this, head, sequence);
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

        CommitUnlessDraining(head + 1);
        return true;
    }

    /// <summary>
    /// <see cref="Commit"/> after a skip, unless a Drain's handler skipped (called TryUnblock or
    /// TrySkipDeadClaim of its own reader): Drain then steps over the markers itself and counts
    /// them as skipped. Moved here, its count (ConsumerHead less its skips) would include them.
    /// </summary>
    private void CommitUnlessDraining(ulong head)
    {
        if (Draining == 0)
        {
            Commit(head);
        }
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
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
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
                    SlotRingThrowHelper.ThrowSkippedBeyondTail(in this, head, tail);
                }

                head++;
                Commit(head);
                continue;
            }

            RepublishHeadIfRewritten(head); // not yet (IsSkipMarker threw for anything else)
            return false;
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
            return AllowSkips ? true : SlotRingThrowHelper.ThrowSequenceCorrupted(in this, position, sequence);
        }

        return IsNotYet(sequence, position) ? false : SlotRingThrowHelper.ThrowSequenceCorrupted(in this, position, sequence);
    }

    /// <summary>
    /// Whether <paramref name="sequence"/> is what the slot of <paramref name="position"/> legitimately
    /// holds before its producer publishes: 0 on the first lap, otherwise the previous lap's
    /// sequence (position + 1 - capacity), possibly marked skipped; or (MPSC) a claimed marker.
    /// </summary>
    private readonly bool IsNotYet(ulong sequence, ulong position)
        => (position < Capacity ? sequence == 0 : (sequence & ~RingLayout.SlotSkipped) == position + 1 - Capacity)
            || (AllowSkips && ClaimMarker.IsSlotMarker(sequence, position));

    /// <summary>
    /// MPSC: skips the claim at the consumer's position when its producer is known to be dead,
    /// never a live producer's (see <see cref="SlotRing{T}.TrySkipDeadClaim"/>; uintripc.h 2f).
    /// </summary>
    internal bool TrySkipDeadClaim()
    {
        ThrowIfDisposed();
        if (Producers is null)
        {
            return false;
        }

        ulong head = ConsumerHead;
        byte* slot = SlotAt(head);
        ulong sequence = Volatile.Read(ref *(ulong*)slot); // acquire, as in TryRead
        if (sequence == head + 1 || IsSkipMarker(sequence, head))
        {
            return false; // readable: nothing holds the consumer up (IsSkipMarker throws on corruption)
        }

        ulong tail = Volatile.Read(ref *SharedTail); // acquire, after our private head: head <= tail <= head + capacity
        if (tail < head || tail - head > Capacity)
        {
            SlotRingThrowHelper.ThrowPositionsCorrupted(in this, head, tail, "consumer");
        }

        if (tail == head)
        {
            return false; // nothing claimed
        }

        ulong end;
        if (ClaimMarker.IsSlotMarker(sequence, head))
        {
            if (!Producers.IsMarkerOwnerDead(ClaimMarker.TagOfSlot(sequence)))
            {
                return false;
            }

            end = head + 1;
        }
        else
        {
            bool dead = Producers.TryFindDeadIntent(head, ProducerTable.NoEndedTag, out end, out bool uncovered);
            if ((!dead && !uncovered)
                || Volatile.Read(ref *(ulong*)slot) != sequence) // acquire: a marker or publish since cancels (2f, b)
            {
                return false;
            }

            // Uncovered: a position nobody claimed, behind a tail a peer moved forward (2f, c); the
            // next position is judged on its own, so one slot per call.
            end = uncovered ? head + 1 : Math.Min(end, tail);
        }

        ulong position = head;
        while (position < end)
        {
            byte* at = SlotAt(position);
            ulong seen = position == head ? sequence : Volatile.Read(ref *(ulong*)at);
            // Full fence CAS from the value judged: a publish that came meanwhile wins.
            if ((position != head && !IsNotYet(seen, position))
                || Interlocked.CompareExchange(ref *(ulong*)at, RingLayout.SlotSkipped | (position + 1), seen) != seen)
            {
                break;
            }

            position++;
        }

        CommitUnlessDraining(position);
        return position != head;
    }
}
