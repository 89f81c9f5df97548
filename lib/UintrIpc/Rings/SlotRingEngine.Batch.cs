using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using UintrIpc.Channels;

namespace UintrIpc.Rings;

// Batches of in-place claims (SlotBatch<T>): many slots taken with one claim and published with
// one position update. SPSC: the private tail moves, and the shared tail is stored, once per
// batch. MPSC: one CAS on the tail takes every slot of the batch; each slot needs the claimed
// marker only once the producer's intent stops covering the batch (uintripc.h 2d): the ring
// object's cached thread defers them to its next claim or the end of its registration (usually
// never: it publishes first), so a batch stores what the C producer's does; other threads mark
// every slot at once.
internal unsafe partial struct SlotRingEngine
{
    /// <summary>Claims up to <paramref name="count"/> slots (at least 1) for writing in place; false when the ring is full.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    [UnscopedRef]
    internal bool TryClaim<T, TMode>(int count, ISlotBatchSink? sink, out SlotBatch<T> batch)
        where T : unmanaged
        where TMode : struct, IProducerMode
        => TryClaim<T, TMode>(count, sink, ProducerThread<TMode>(), out batch);

    /// <summary>Claims up to <paramref name="count"/> slots by the thread whose managed id is <paramref name="thread"/> (MPSC; SPSC: unused); false when the ring is full.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    [UnscopedRef]
    internal bool TryClaim<T, TMode>(int count, ISlotBatchSink? sink, int thread, out SlotBatch<T> batch)
        where T : unmanaged
        where TMode : struct, IProducerMode
    {
        ThrowIfDisposed();
        if (count < 1)
        {
            SlotRingThrowHelper.ThrowBatchCount(count);
        }

        ulong wanted = Math.Min((ulong)count, Capacity);
        ulong start;
        ulong claimed;
        bool unmarked = false;
        if (typeof(TMode) == typeof(MultiProducer))
        {
            claimed = ClaimMany(wanted, thread, out start, out uint tag, out bool cachedThread);
            if (cachedThread)
            {
                if (claimed != 0)
                {
                    DeferMarkers(start, claimed); // private: ClaimMany or Dispose marks them before our intent moves on
                    unmarked = true;
                }
            }
            else
            {
                for (ulong i = 0; i < claimed; i++)
                {
                    // Release: the marker names us while the caller fills the slot (2d, 2f); each is
                    // ordered before our next intent by that intent's release.
                    Volatile.Write(ref *(ulong*)SlotAt(start + i), ClaimMarker.ForSlot(tag, start + i));
                }
            }

            if (PrefetchesPerSlot<T>() && claimed > 1 && _prefetchWrite != null)
            {
                PrefetchSlots(start, claimed); // large elements (a JIT-time constant): the batch's own slots after the first, none past it (_prefetchAhead 0)
            }
        }
        else
        {
            claimed = ClaimSingle(wanted, out start);
            if (claimed != 0 && _prefetchWrite != null)
            {
                PrefetchSlots(start, claimed);
            }
        }

        if (claimed == 0)
        {
            batch = default;
            return false;
        }

        batch = new SlotBatch<T>(ref this, sink, start, (int)claimed, typeof(TMode) == typeof(MultiProducer), unmarked);
        return true;
    }

    /// <summary>
    /// Publishes the first <paramref name="published"/> of the <paramref name="claimed"/> slots
    /// from <paramref name="start"/> and gives the others up (MPSC: skipped; SPSC: left free).
    /// The caller checked that the ring is not disposed (inlined into the batch's one out-of-line call).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void PublishBatch(ulong start, int published, int claimed, bool multiProducer)
    {
        if (!multiProducer && start != ProducerTail)
        {
            SlotRingThrowHelper.ThrowClaimSuperseded(start, ProducerTail);
        }

        ulong end = start + (ulong)published;
        // The slot pointer steps by the pitch and wraps at the end of the data area: no multiply per slot.
        byte* data = Data;
        nuint pitch = SlotPitch;
        byte* dataEnd = data + ((nuint)Capacity * pitch);
        byte* slot = SlotAt(start);
        for (ulong position = start; position < end; position++)
        {
            // Release: the caller's writes to each element before its sequence (2d).
            Volatile.Write(ref *(ulong*)slot, position + 1);
            slot += pitch;
            if (slot == dataEnd)
            {
                slot = data;
            }
        }

        if (!multiProducer)
        {
            if (published != 0)
            {
                PublishTail(end); // the one position update of the batch
            }

            return;
        }

        for (ulong position = end; position < start + (ulong)claimed; position++)
        {
            SkipClaimedSlot(position);
        }
    }

    /// <summary>
    /// MPSC: throws unless the first slot of the batch from <paramref name="start"/> is still
    /// claimed: its previous value (markers deferred) or a claimed marker for it. Either stays
    /// until the batch publishes or skips its slots, and neither comes back once the slot holds
    /// a later value (positions only grow); a copy of a batch completed before would otherwise
    /// store sequences of positions the consumer may have passed, over the next lap's elements (2d).
    /// </summary>
    /// <remarks>The caller checked that the ring is not disposed (before this touches the slot: the mapping may be gone).</remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal readonly void ThrowIfBatchNotClaimed(ulong start)
    {
        // Acquire: only compared; the slot is ours until this batch completes.
        ulong sequence = Volatile.Read(ref *(ulong*)SlotAt(start));
        if ((sequence & ~RingLayout.SlotSkipped) != UnwrittenSequence(start) && !ClaimMarker.IsSlotMarker(sequence, start))
        {
            SlotRingThrowHelper.ThrowBatchCompleted(in this, start);
        }
    }

    /// <summary>
    /// MPSC: marks the claimed slot of <paramref name="position"/> skipped unless it no longer
    /// holds its previous value or our marker (uintripc.h 2d). Nothing when the ring is disposed.
    /// </summary>
    internal void SkipClaimedSlot(ulong position)
    {
        if (Disposed != 0)
        {
            return; // the lease is gone: touch nothing
        }

        byte* slot = SlotAt(position);
        // Acquire: the slot holds our claimed marker (or, had its store not happened, the previous
        // lap's value) until the claim is published or skipped.
        ulong sequence = Volatile.Read(ref *(ulong*)slot);
        if ((sequence & ~RingLayout.SlotSkipped) == UnwrittenSequence(position) || ClaimMarker.IsSlotMarker(sequence, position))
        {
            // Full fence CAS: loses only to the consumer's TryUnblock of the same claim, which skips it too.
            Interlocked.CompareExchange(ref *(ulong*)slot, RingLayout.SlotSkipped | (position + 1), sequence);
        }
    }

    /// <summary>SPSC: up to <paramref name="wanted"/> free positions from the private tail (the head reloaded only when the cache shows too few).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ulong ClaimSingle(ulong wanted, out ulong start)
    {
        start = ProducerTail;
        ulong free = Capacity - (start - ProducerHeadCache);
        return Math.Min(free >= wanted ? free : RefreshHeadSingle(start), wanted);
    }
}
