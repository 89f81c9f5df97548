using System.Runtime.CompilerServices;
using UintrIpc.Memory;
using UintrIpc.Rings;

namespace UintrIpc.Channels;

/// <summary>
/// Consecutive slots taken by one <see cref="Channels.IpcChannelWriter{T}.TryClaim(int, out SlotBatch{T})"/>
/// (or by the slot ring under it): write each element in place through the
/// indexer, then <see cref="Publish()"/> them all with one position update (SPSC: one store of
/// the tail; MPSC: the one CAS that claimed them). Zero-copy and allocation-free.
/// </summary>
/// <typeparam name="T">The element type of the ring.</typeparam>
/// <remarks>
/// <para>The consumer sees none of the elements before <see cref="Publish()"/>: each is
/// published by the release store of its slot's sequence, which orders the writes to it
/// before. <see cref="Publish(int)"/> publishes the first elements and gives the rest up.</para>
/// <para>Use the batch in a <c>using</c>: disposing it unpublished aborts it, so a producer that
/// throws while filling never blocks the consumer. SPSC: an abort writes nothing (the slots
/// stay free), at most one claim or batch is outstanding, and a write or claim before
/// publishing supersedes it (publishing it then throws; its slots may then hold the later
/// write's elements, so write none through it: the indexer does not check this). MPSC: the slots are taken from the
/// other producers at claim time and an abort marks them skipped, so the consumer steps over
/// them; an abandoned batch holds the consumer up until it skips the claim of a writer known
/// to be dead, or <see cref="Channels.IpcChannelReader{T}.TryUnblock(TimeSpan)"/> skips it.</para>
/// <para>The ring (or writer) disposed while the batch is open: <see cref="Publish()"/> throws
/// <see cref="ObjectDisposedException"/> and the elements are lost. Writes through the indexer
/// that race that Dispose on another thread do not crash the process: once the ring's memory is
/// released (its last lease), they land in private memory that nothing reads as a ring.</para>
/// </remarks>
public unsafe ref struct SlotBatch<T> where T : unmanaged
{
    /// <summary>The engine embedded in the ring object (a ref field keeps that object, and its lease, alive).</summary>
    private readonly ref SlotRingEngine _engine;
    /// <summary>A channel's checksums and wake-up, once per batch; null on a raw ring.</summary>
    private readonly ISlotBatchSink? _sink;
    /// <summary>The engine's slot addressing, copied once: the indexer runs per element and reads no field through the ref (but for large elements' prefetch).</summary>
    private readonly SlotAddressing _slots;
    private readonly ulong _start;
    private readonly int _count;
    private readonly bool _multiProducer;
    /// <summary>MPSC: the engine remembers this batch as its cached thread's unmarked claim (uintripc.h 2d).</summary>
    private readonly bool _unmarked;
    private bool _completed;
    /// <summary>The record the batch was claimed in, where its completion records its use of the mapping (MappingUse); null: a channel's batch.</summary>
    private MappingUse? _use;

    internal SlotBatch(ref SlotRingEngine engine, ISlotBatchSink? sink, ulong start, int count, bool multiProducer, bool unmarked)
    {
        _engine = ref engine;
        _sink = sink;
        _slots = engine.Slots;
        _start = start;
        _count = count;
        _multiProducer = multiProducer;
        _unmarked = unmarked;
    }

    /// <summary>Makes the completion record its use of the mapping in <paramref name="use"/>, the record the ring object's claim call used.</summary>
    internal void RecordIn(MappingUse use) => _use = use;

    /// <summary>Slots in the batch: at least 1, at most the count asked for (fewer when the ring had less room).</summary>
    public readonly int Count => _count;

    /// <summary>The ring position of the first slot.</summary>
    public readonly long Position => (long)_start;

    /// <summary>Whether the batch can still be published or aborted.</summary>
    public readonly bool IsActive => _count != 0 && !_completed;

    /// <summary>The element in slot <paramref name="index"/> of the batch. Its previous contents are unspecified: write every field.</summary>
    /// <param name="index">0 to <see cref="Count"/> - 1.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="index"/> is outside the batch.</exception>
    /// <exception cref="InvalidOperationException">The batch is not active.</exception>
    public readonly ref T this[int index]
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get
        {
            if ((uint)index >= (uint)_count)
            {
                SlotRingThrowHelper.ThrowBatchIndex(index, _count);
            }

            if (_completed)
            {
                SlotRingThrowHelper.ThrowClaimNotActive();
            }

            if (SlotRingEngine.PrefetchesPerSlot<T>() && (uint)index + 1 < (uint)_count)
            {
                _engine.PrefetchBatchSlot(_start + (uint)index + 1, _start + (uint)_count); // large elements only (a JIT-time constant): the batch's slots ahead (MPSC too: claimed, ours)
            }

            return ref Unsafe.AsRef<T>(_slots.SlotAt(_start + (uint)index) + RingLayout.SlotHeaderSize);
        }
    }

    /// <summary>Makes every element of the batch visible to the consumer, in order.</summary>
    /// <exception cref="InvalidOperationException">
    /// The batch was already published or aborted, or (SPSC) the producer wrote again since the claim.
    /// </exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Publish() => Publish(_count);

    /// <summary>
    /// Makes the first <paramref name="count"/> elements visible to the consumer and gives the
    /// rest up (as <see cref="Abort"/> does), with the same one position update.
    /// </summary>
    /// <param name="count">0 to <see cref="Count"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is negative or above <see cref="Count"/>.</exception>
    /// <inheritdoc cref="Publish()" path="/exception"/>
    /// <remarks>
    /// Inlined, and the work done by static methods that take the fields by value: a batch whose
    /// address is never taken stays in registers while the caller fills it (the indexer reads four
    /// fields per element, from the stack when a call took the batch by reference).
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Publish(int count)
    {
        if (!IsActive)
        {
            SlotRingThrowHelper.ThrowClaimNotActive();
        }

        if ((uint)count > (uint)_count)
        {
            SlotRingThrowHelper.ThrowBatchCount(count, _count);
        }

        PublishSlots(ref _engine, _sink, _use, _start, count, _count, _multiProducer, _unmarked);
        _completed = true;
        if (_sink is not null)
        {
            Completed(_sink);
        }
    }

    /// <summary>
    /// Gives the batch up. SPSC: nothing is written and the slots stay free. MPSC: the slots are
    /// marked skipped so that the consumer steps over them.
    /// </summary>
    /// <exception cref="InvalidOperationException">The batch was already published or aborted.</exception>
    /// <exception cref="ObjectDisposedException">The ring (or the writer) that claimed the batch was disposed.</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Abort()
    {
        if (!IsActive)
        {
            SlotRingThrowHelper.ThrowClaimNotActive();
        }

        using MappingUse.Call call = MappingUse.Enter(_use, _engine.Region); // before the disposed check: the mapping stays until the skips are written
        if (_multiProducer)
        {
            _engine.ThrowIfDisposed(_start, _unmarked);
        }
        else
        {
            _engine.ThrowIfDisposed();
        }

        GiveUp();
    }

    /// <summary>
    /// Aborts the batch unless it was published or aborted: <c>using</c> makes a batch
    /// exception-safe. MPSC: decided per slot from the ring's state (a slot that no longer holds
    /// our marker is left alone), so disposing a copy after publishing the original changes nothing.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Dispose()
    {
        if (IsActive)
        {
            using MappingUse.Call call = MappingUse.Enter(_use, _engine.Region); // the mapping stays until the skips are written
            GiveUp();
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void GiveUp()
    {
        _completed = true;
        if (_multiProducer)
        {
            SkipSlots(ref _engine, _sink, _start, _count, _unmarked);
        }

        // SPSC: nothing was published; the next claim or write reuses the slots.
    }

    /// <summary>
    /// Publish's checks and stores, in one call (the engine's publish inlined): the first
    /// <paramref name="count"/> of <paramref name="claimed"/> slots from <paramref name="start"/>,
    /// the rest given up; then our next claim must not mark the batch (MPSC). Three calls per batch
    /// before (this, the engine's publish, the completion): single-thread, an 8-byte MPSC batch of
    /// 64 cost 17 ns besides its elements, the C producer's 3-4. AggressiveOptimization, as the
    /// engine's publish had: its loop never runs as tier-0 code (HotPathTierTests).
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void PublishSlots(ref SlotRingEngine engine, ISlotBatchSink? sink, MappingUse? use, ulong start, int count, int claimed, bool multiProducer, bool unmarked)
    {
        using MappingUse.Call call = MappingUse.Enter(use, engine.Region); // before the disposed check: the mapping stays until the batch is published
        if (multiProducer)
        {
            engine.ThrowIfDisposed(start, unmarked);
            engine.ThrowIfBatchNotClaimed(start); // a copy completed it: its slots may be the next lap's
        }
        else
        {
            engine.ThrowIfDisposed();
        }

        sink?.Publishing(ref engine, start, count);
        engine.PublishBatch(start, count, claimed, multiProducer);
        if (unmarked)
        {
            engine.ClaimCompleted(start); // published (and the rest skipped): our next claim must not mark it
        }
    }

    /// <summary>After a publish: a channel wakes its reader.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Completed(ISlotBatchSink sink) => sink.Completed();

    /// <summary>MPSC abort: every slot of the batch marked skipped, unless it no longer holds its previous value or our marker.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void SkipSlots(ref SlotRingEngine engine, ISlotBatchSink? sink, ulong start, int count, bool unmarked)
    {
        for (int i = 0; i < count; i++)
        {
            engine.SkipClaimedSlot(start + (uint)i);
        }

        if (unmarked)
        {
            engine.ClaimCompleted(start); // skipped: our next claim must not mark it
        }

        if (engine.Disposed == 0)
        {
            // A reader waiting at the first slot steps over the skips. Not once the ring was disposed:
            // its Dispose left the batch to the reader (2f), and the channel's doorbell is gone.
            sink?.Completed();
        }
    }
}
