using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Threading.Channels;
using UintrIpc.Memory;
using UintrIpc.Rings;
using UintrIpc.Signaling;

namespace UintrIpc.Channels;

// The writer end of a channel of T: its own ring object and the shared writer core. One writer
// writes through the engine in the SPSC mode; several claim (CAS on the tail), THEN check the
// completion, so that writes and completion are linearizable (uintripc.h section 3, completion):
// a claim that finds the channel open is before the completion, so the reader, which ends only
// when head reaches a tail read after it saw the completion, reads it; a claim that finds it
// completed is after it, is skipped, and the write returns false.

/// <summary>
/// The writing end of an <see cref="IpcChannel{T}"/>: a <see cref="ChannelWriter{T}"/> whose
/// writes wake the reader only when it sleeps, with batch writes from a span and blocking writes
/// that wait for room up to a timeout. Completing it completes the channel for every writer.
/// </summary>
/// <typeparam name="T">The element type of the channel.</typeparam>
/// <remarks>
/// Single-writer channels: use it from one thread at a time. Multi-writer channels
/// (<see cref="IpcChannelOptions.MultipleWriters"/>): any thread may write, and writers in
/// other processes may write at once.
/// </remarks>
[DebuggerDisplay("{DebuggerDisplay,nq}")]
public sealed class IpcChannelWriter<T> : ChannelWriter<T>, IDisposable, ISlotBatchSink where T : unmanaged
{
    private readonly SlotRing<T> _ring;
    private readonly ProducerCore _core;
    private readonly bool _multiple;
    /// <summary>Whether elements carry checksums (uintripc.h 4a): decided once, at attach.</summary>
    private readonly bool _checksums;
    /// <summary><see cref="_multiple"/> or <see cref="_checksums"/>: TryWrite leaves the single-writer path.</summary>
    private readonly bool _sharedOrChecked;
    /// <summary>With checksums: bytes from an element to its checksum (the slot's last 4 bytes).</summary>
    private readonly nuint _checksumOffset;

    internal IpcChannelWriter(ChannelCore channel, SafeHandle? doorbellFd)
    {
        _multiple = channel.MultipleProducers;
        _ring = new SlotRing<T>(channel.Region, channel.RingPart, lease: false, channel.SlotTrailer, GetType().FullName);
        _checksums = channel.Checksums;
        _sharedOrChecked = _multiple || _checksums;
        _checksumOffset = (nuint)channel.Geometry.SlotSize - RingLayout.SlotHeaderSize - MessageChecksum.Size;
        _core = new ProducerCore(channel, _ring, doorbellFd, GetType().FullName!);
    }

    internal ProducerCore Core => _core;

    /// <summary>The doorbell this writer rings (the reader's).</summary>
    public DoorbellKind Doorbell => _core.Doorbell;

    /// <summary>Elements the ring holds.</summary>
    public int Capacity => _ring.Capacity;

    /// <summary>Approximate number of elements waiting to be read (from the shared positions).</summary>
    /// <exception cref="ObjectDisposedException">The writer was disposed (the memory may be unmapped).</exception>
    public int Count => !_core.IsDisposed ? _ring.Engine.Count : throw new ObjectDisposedException(GetType().FullName);

    /// <summary>Whether the channel was completed (by this or another writer); writes then fail.</summary>
    /// <exception cref="ObjectDisposedException">The writer was disposed (the memory may be unmapped).</exception>
    public bool IsCompleted => !_core.IsDisposed ? _core.Channel.IsCompleted : throw new ObjectDisposedException(GetType().FullName);

    /// <summary>The wait block's counters (the reader's sleeps; the writers' wake-ups sent and suppressed).</summary>
    internal WaitBlockCounters Counters => _core.Counters;

    private string DebuggerDisplay => $"IpcChannelWriter<{typeof(T).Name}> {Doorbell} count={Count}/{Capacity}{(IsCompleted ? " completed" : "")}";

    /// <summary>
    /// Writes <paramref name="item"/> and wakes the reader if it sleeps. Never blocks; no system
    /// call while the reader is awake.
    /// </summary>
    /// <returns>False when the ring is full or the channel is completed (see <see cref="IsCompleted"/>).</returns>
    /// <exception cref="RingCorruptedException">The shared positions are impossible.</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public override bool TryWrite(T item)
    {
        _core.ThrowIfDisposed();
        // Acquire load of a line nobody writes until completion: refuses cheaply once completed.
        if (_core.Channel.IsCompleted)
        {
            return false;
        }

        // One test for both other paths, so a single writer without checksums pays no more than before them.
        if (_sharedOrChecked)
        {
            return _multiple ? TryWriteShared(in item) : TryWriteCheckedSingle(in item) && WakeAfterWrite();
        }

        // One writer: its own completion is ordered with its writes by program order.
        if (!_ring.Engine.TryWrite<T, SingleProducer>(in item))
        {
            return false;
        }

        _core.Wake();
        return true;
    }

    /// <summary>
    /// Writes as many of <paramref name="items"/> as fit, in order, with one wake-up check for the
    /// batch and one position update (one claim, also with several writers); returns how many (0 when
    /// the ring is full or the channel is completed). Never blocks.
    /// </summary>
    /// <exception cref="RingCorruptedException">The shared positions are impossible.</exception>
    public int TryWrite(ReadOnlySpan<T> items)
    {
        _core.ThrowIfDisposed();
        if (_core.Channel.IsCompleted)
        {
            return 0;
        }

        int written = 0;
        if (_sharedOrChecked)
        {
            // One claim (one CAS with several writers, checked against the completion after it as
            // every claim is: see the top of this file) for as many as fit; the batch writes the
            // checksums and wakes.
            if (items.IsEmpty || !TryClaim(items.Length, out SlotBatch<T> batch))
            {
                return 0;
            }

            for (; written < batch.Count; written++)
            {
                ElementCopy.Copy(ref batch[written], in items[written]);
            }

            batch.Publish();
            return written;
        }
        else
        {
            written = _ring.Engine.TryWrite<T, SingleProducer>(items);
        }

        if (written > 0)
        {
            _core.Wake();
        }

        return written;
    }

    /// <summary>
    /// Claims up to <paramref name="count"/> consecutive slots (at least 1) to write in place,
    /// or returns false when the ring is full or the channel is completed. Write the elements
    /// through the batch's indexer, then <see cref="SlotBatch{T}.Publish()"/>: one position
    /// update and one wake-up check for the whole batch, no copy, no allocation. Use it in a
    /// <c>using</c>: a batch disposed unpublished is aborted and never holds the reader up.
    /// Never blocks. <c>TryClaim(1, out var batch)</c> is the zero-copy write of one element
    /// (<c>batch[0] = ...</c>): a large struct is built in the slot rather than copied into it.
    /// </summary>
    /// <param name="count">The most slots to claim (at least 1; at most <see cref="Capacity"/> are claimed).</param>
    /// <param name="batch">The claimed slots; <see cref="SlotBatch{T}.Count"/> says how many.</param>
    /// <remarks>
    /// Linearizable with completion as <see cref="TryWrite(T)"/>: a batch claimed while the
    /// channel is open is read by a reader that reads to the end once published (or stepped
    /// over once aborted). Single writer: one claim or batch at a time.
    /// </remarks>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is less than 1.</exception>
    /// <exception cref="RingCorruptedException">The shared positions are impossible.</exception>
    public bool TryClaim(int count, out SlotBatch<T> batch)
    {
        _core.ThrowIfDisposed();
        // Acquire load of a line nobody writes until completion: refuses cheaply once completed.
        if (_core.Channel.IsCompleted)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
            batch = default;
            return false;
        }

        if (!_multiple)
        {
            // One writer: its own completion is ordered with its writes by program order.
            return _ring.Engine.TryClaim<T, SingleProducer>(count, this, out batch);
        }

        using MappingUse.Call call = _core.EnterClaim(this, out MappingUse use); // the batch's markers land before the release retires the mapping
        if (!_ring.Engine.TryClaim<T, MultiProducer>(count, this, use.ThreadId, out batch))
        {
            return false;
        }

        batch.RecordIn(use); // its publish or abort records itself there too

        // Acquire, after the claim's full fence: see the top of this file.
        if (_core.Channel.IsCompleted)
        {
            batch.Abort(); // skips, and wakes a reader waiting for the end (it waits for these positions too)
            batch = default;
            return false;
        }

        return true;
    }

    /// <summary>
    /// Writes <paramref name="item"/>, waiting up to <paramref name="timeout"/> for room when the
    /// ring is full (spin, yield, then 1 ms sleeps: the reader does not signal room).
    /// </summary>
    /// <returns>False when the timeout passed and the ring is still full.</returns>
    /// <exception cref="ChannelClosedException">The channel is completed.</exception>
    /// <exception cref="PeerGoneException">The reader has gone.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A negative timeout (waits are always bounded).</exception>
    /// <exception cref="RingCorruptedException">The shared positions are impossible (a broken or hostile peer).</exception>
    public bool TryWrite(T item, TimeSpan timeout)
    {
        WaitDeadline.Validate(timeout);
        if (TryWrite(item))
        {
            return true;
        }

        var attempt = new WriteOne(this, item);
        return _core.WriteWithin(ref attempt, timeout);
    }

    /// <summary>
    /// Waits up to <paramref name="timeout"/> until the ring has room for at least one element
    /// (true), or returns false when the time passed or the channel is completed (see
    /// <see cref="IsCompleted"/>). Writes nothing: the blocking form of the batch writer's loop,
    /// <c>while (writer.WaitToWrite(timeout)) { if (writer.TryClaim(n, out var batch)) { ... batch.Publish(); } }</c>
    /// (a claim takes what is free, 1 to n slots). Polls as <see cref="TryWrite(T, TimeSpan)"/>
    /// does (spin, yield, then 1 ms sleeps per <see cref="IpcChannelOptions.Wait"/>: the reader
    /// does not signal room), so a full ring costs a waiting writer almost no CPU. With several
    /// writers, another writer may take the room first: then the claim fails, and you wait again.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A negative timeout (including <see cref="Timeout.InfiniteTimeSpan"/>: waits are always bounded).</exception>
    /// <exception cref="ObjectDisposedException">The writer was disposed (before or, from another thread, during the wait).</exception>
    /// <exception cref="PeerGoneException">The reader has gone and the ring has no room.</exception>
    /// <exception cref="RingCorruptedException">The shared positions are impossible (a broken or hostile peer).</exception>
    public bool WaitToWrite(TimeSpan timeout)
    {
        var room = new WriteOne(this, default);
        return _core.WaitForRoomWithin(ref room, timeout);
    }

    /// <summary>Writes <paramref name="item"/>, waiting asynchronously for room when the ring is full.</summary>
    /// <exception cref="ChannelClosedException">The channel is completed.</exception>
    /// <exception cref="PeerGoneException">The reader has gone.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled (the item was not written).</exception>
    /// <exception cref="RingCorruptedException">The shared positions are impossible (a broken or hostile peer).</exception>
    public override ValueTask WriteAsync(T item, CancellationToken cancellationToken = default)
    {
        if (TryWrite(item))
        {
            return default;
        }

        return cancellationToken.IsCancellationRequested ? ValueTask.FromCanceled(cancellationToken) : _core.WriteAsync(new WriteOne(this, item), cancellationToken);
    }

    /// <summary>
    /// Waits asynchronously until the ring has room (true) or the channel is completed (false).
    /// Another writer may take the room first: write with <see cref="TryWrite(T)"/> and wait again if it fails.
    /// Polls (the reader does not signal room): spins and yields per <see cref="IpcChannelOptions.Wait"/>,
    /// then 1 ms <see cref="Task.Delay(TimeSpan, CancellationToken)"/> steps, which a loaded machine stretches.
    /// </summary>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    /// <exception cref="RingCorruptedException">The shared positions are impossible (a broken or hostile peer).</exception>
    /// <exception cref="PeerGoneException">The reader has gone.</exception>
    public override ValueTask<bool> WaitToWriteAsync(CancellationToken cancellationToken = default)
        => _core.WaitToWriteAsync(new WriteOne(this, default), cancellationToken);

    /// <summary>
    /// Completes the channel unless it was completed already (returns false then), and wakes the
    /// reader if it sleeps. Linearizable with writes, also with several writers in several
    /// processes: a write that returned true is read by a reader that reads until the end, and
    /// every write that starts after the completion returns false. <paramref name="error"/> is
    /// not transmitted to the other process: the reader sees a normal completion.
    /// </summary>
    public override bool TryComplete(Exception? error = null) => _core.TryComplete();

    /// <summary>
    /// Releases the doorbell sender and the region. Does not complete the channel, but marks this
    /// writer detached: once every writer of the channel is disposed (or has exited), its reader
    /// reads everything written and then gets <see cref="PeerGoneException"/> saying that the writer
    /// disposed its end without completing, instead of waiting for more. When the stream has
    /// ended, call <see cref="TryComplete"/> (or <c>Complete</c>) first: the reader then sees a
    /// normal end. Idempotent.
    /// A write waiting for room on another thread holds its own lease and then fails with
    /// <see cref="ObjectDisposedException"/>; a non-blocking call must not run concurrently with it.
    /// </summary>
    public void Dispose() => _core.Dispose();

    // The waits' look for room (not the writes'): the head checked, so a corrupt one throws as TryWrite would.
    private bool HasRoom => _ring.Engine.HasRoomChecked();

    private bool TryWriteShared(in T item)
    {
        if (!TryClaimOpen(out SlotClaim<T> claim))
        {
            return false;
        }

        Publish(ref claim, in item);
        _core.Wake();
        return true;
    }

    private bool WakeAfterWrite()
    {
        _core.Wake();
        return true;
    }

    /// <summary>One writer, checksums: the element and its checksum written in place, then published together (out of line: the unchecked path stays as small as without).</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private bool TryWriteCheckedSingle(in T item)
    {
        if (!_ring.Engine.TryClaim<T, SingleProducer>(out SlotClaim<T> claim))
        {
            return false;
        }

        Publish(ref claim, in item);
        return true;
    }

    /// <summary>Writes the element (and with checksums its CRC-32C, uintripc.h 4a) into the claimed slot, then publishes it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Publish(ref SlotClaim<T> claim, in T item)
    {
        ref T element = ref claim.Item;
        ElementCopy.Copy(ref element, in item); // plain: published by the release in Publish
        if (_checksums)
        {
            WriteChecksum(ref element);
        }

        claim.Publish();
    }

    /// <summary>Computed over the slot (unmanaged memory: no GC move), plain, before the publishing release.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private unsafe void WriteChecksum(ref T element)
    {
        byte* slotElement = (byte*)Unsafe.AsPointer(ref element);
        Unsafe.WriteUnaligned(slotElement + _checksumOffset, MessageChecksum.Compute(slotElement, (nuint)sizeof(T)));
    }

    /// <summary>Claims a position of an open channel; false when full or completed (then the claim was turned into a skip).</summary>
    private bool TryClaimOpen(out SlotClaim<T> claim)
    {
        using MappingUse.Call call = _core.EnterClaim(this, out MappingUse use); // the claim's marker lands before the release retires the mapping
        if (!_ring.Engine.TryClaim<T, MultiProducer>(use.ThreadId, out claim))
        {
            return false;
        }

        claim.RecordIn(use); // its publish or abort records itself there too

        // Acquire, after the claim's full fence: see the top of this file.
        if (_core.Channel.IsCompleted)
        {
            claim.Abort();
            _core.Wake(); // a reader waiting for the end waits for this position too
            return false;
        }

        return true;
    }

    /// <inheritdoc/>
    unsafe void ISlotBatchSink.Publishing(ref SlotRingEngine engine, ulong start, int count)
    {
        if (!_checksums)
        {
            return;
        }

        for (int i = 0; i < count; i++)
        {
            // Each element's CRC-32C (uintripc.h 4a), plain, before the release stores that publish the batch.
            WriteChecksum(ref Unsafe.AsRef<T>(engine.SlotAt(start + (uint)i) + RingLayout.SlotHeaderSize));
        }
    }

    /// <inheritdoc/>
    void ISlotBatchSink.Completed() => _core.Wake(); // once per batch

    /// <summary>A write that waits for room: one element.</summary>
    private readonly struct WriteOne(IpcChannelWriter<T> writer, T item) : IWriteAttempt
    {
        public bool HasRoom => writer.HasRoom;

        public bool TryWrite() => writer.TryWrite(item);
    }
}
