using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Threading.Channels;
using UintrIpc.Memory;
using UintrIpc.Rings;
using UintrIpc.Signaling;

namespace UintrIpc.Channels;

// The writer end of a message channel; the same rules as IpcChannelWriter<T>, over a record
// ring (several writers: claim, then check the completion). A claim (MessageClaim) is
// published by its Commit, which runs the same wake check.

/// <summary>
/// The writing end of an <see cref="IpcMessageChannel"/>: a <see cref="ChannelWriter{T}"/> of
/// <see cref="IpcMessage"/>, with writes of a type and a span of bytes, room claimed to write a
/// message in place (zero copy), and blocking writes that wait for room up to a timeout.
/// </summary>
/// <remarks>
/// Single-writer channels: one thread at a time. Multi-writer channels: any thread, and writers
/// in other processes, may write at once.
/// </remarks>
[DebuggerDisplay("{DebuggerDisplay,nq}")]
public sealed class IpcMessageWriter : ChannelWriter<IpcMessage>, IDisposable, IRecordBatchSink
{
    private readonly RecordRingEngine _ring;
    private readonly ProducerCore _core;
    private readonly bool _multiple;
    // The bytes of the longest record: room for it at the tail (with the padding a wrap there
    // needs, RecordRingEngine.HasRoomFor) is room for any message.
    private readonly int _longestRecord;
    /// <summary>Bytes each record holds after the message: its checksum (uintripc.h 4a), or none. Decided once, at attach.</summary>
    private readonly int _trailer;
    private readonly int _maxMessageLength;

    internal IpcMessageWriter(ChannelCore channel, SafeHandle? doorbellFd)
    {
        _multiple = channel.MultipleProducers;
        _trailer = channel.Checksums ? MessageChecksum.Size : 0;
        _maxMessageLength = channel.MaxMessageLength;
        _ring = new RecordRingEngine(channel.Region, channel.RingPart, channel.RingPart.Kind, GetType().FullName!); // no lease: the core's reference keeps the mapping
        _longestRecord = (RingLayout.RecordHeaderSize + _ring.MaxMessageLength + 7) & ~7;
        _core = new ProducerCore(channel, _ring, doorbellFd, GetType().FullName!);
    }

    internal ProducerCore Core => _core;

    /// <summary>The doorbell this writer rings (the reader's).</summary>
    public DoorbellKind Doorbell => _core.Doorbell;

    /// <summary>The longest payload of one message.</summary>
    public int MaxMessageLength => _maxMessageLength;

    /// <summary>Whether the channel was completed (by this or another writer); writes then fail.</summary>
    /// <exception cref="ObjectDisposedException">The writer was disposed (the memory may be unmapped).</exception>
    public bool IsCompleted => !_core.IsDisposed ? _core.Channel.IsCompleted : throw new ObjectDisposedException(GetType().FullName);

    /// <summary>The wait block's counters (the reader's sleeps; the writers' wake-ups sent and suppressed).</summary>
    internal WaitBlockCounters Counters => _core.Counters;

    private string DebuggerDisplay => $"IpcMessageWriter {Doorbell} max={MaxMessageLength}{(IsCompleted ? " completed" : "")}";

    /// <summary>
    /// Copies a message into the channel and wakes the reader if it sleeps. Never blocks; no
    /// system call while the reader is awake. A single writer that last found the ring nearly
    /// full spins briefly (16 PAUSE hints, well under a microsecond) before it looks at the reader's position again, so that it does not
    /// take that position's cache line once per message from a reader that is catching up.
    /// </summary>
    /// <param name="type">The message type, 0 or more, handed to the reader.</param>
    /// <param name="payload">0 to <see cref="MaxMessageLength"/> bytes.</param>
    /// <returns>False when the ring has no room now, or the channel is completed.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="type"/> is negative or <paramref name="payload"/> is too long.</exception>
    /// <exception cref="RingCorruptedException">The shared positions are impossible.</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryWrite(int type, ReadOnlySpan<byte> payload)
    {
        _core.ThrowIfDisposed();
        // Acquire load of a line nobody writes until completion: refuses cheaply once completed.
        if (_core.Channel.IsCompleted)
        {
            return false;
        }

        if (_multiple)
        {
            // Claim, then check the completion (see TryClaimOpen), then copy and commit.
            if (!TryClaimOpen(type, ClaimLength(payload.Length), out RecordClaim claim))
            {
                return false;
            }

            CopyAndCommit(ref claim, type, payload);
        }
        else if (_trailer == 0 ? !_ring.TryWrite(type, payload) : !TryWriteCheckedSingle(type, payload)) // one writer: its completion is ordered with its writes
        {
            return false;
        }

        _core.Wake();
        return true;
    }

    /// <summary>Copies <paramref name="item"/> into the channel (see <see cref="TryWrite(int, ReadOnlySpan{byte})"/>).</summary>
    public override bool TryWrite(IpcMessage item) => TryWrite(item.Type, item.Payload.Span);

    /// <summary>
    /// Copies a message into the channel, waiting up to <paramref name="timeout"/> for room
    /// (spin, yield, then 1 ms sleeps: the reader does not signal room).
    /// </summary>
    /// <returns>False when the timeout passed and there is still no room.</returns>
    /// <exception cref="ChannelClosedException">The channel is completed.</exception>
    /// <exception cref="PeerGoneException">The reader has gone.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A bad type or length, or a negative timeout.</exception>
    /// <exception cref="RingCorruptedException">The shared positions are impossible (a broken or hostile peer).</exception>
    public bool TryWrite(int type, ReadOnlySpan<byte> payload, TimeSpan timeout)
    {
        WaitDeadline.Validate(timeout);
        if (TryWrite(type, payload))
        {
            return true;
        }

        var attempt = new WriteSpan(this, type, payload);
        return _core.WriteWithin(ref attempt, timeout);
    }

    /// <summary>Copies a message into the channel, waiting asynchronously for room.</summary>
    /// <exception cref="ChannelClosedException">The channel is completed.</exception>
    /// <exception cref="PeerGoneException">The reader has gone.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled (nothing was written).</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="type"/> is negative or <paramref name="payload"/> is too long.</exception>
    /// <exception cref="RingCorruptedException">The shared positions are impossible (a broken or hostile peer).</exception>
    public ValueTask WriteAsync(int type, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken = default)
    {
        if (TryWrite(type, payload.Span))
        {
            return default;
        }

        return cancellationToken.IsCancellationRequested ? ValueTask.FromCanceled(cancellationToken) : _core.WriteAsync(new WriteMemory(this, type, payload), cancellationToken);
    }

    /// <inheritdoc cref="WriteAsync(int, ReadOnlyMemory{byte}, CancellationToken)"/>
    public override ValueTask WriteAsync(IpcMessage item, CancellationToken cancellationToken = default)
        => WriteAsync(item.Type, item.Payload, cancellationToken);

    /// <summary>
    /// Waits asynchronously until the ring has room for a message of any length (true) or the
    /// channel is completed (false): room for the longest message at the ring's tail, as
    /// <see cref="WaitToWrite(int, TimeSpan)"/> counts it. Another writer may take the room first.
    /// Polls (the reader does not signal room): spins and yields per <see cref="IpcChannelOptions.Wait"/>,
    /// then 1 ms <see cref="Task.Delay(TimeSpan, CancellationToken)"/> steps, which a loaded machine stretches.
    /// </summary>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    /// <exception cref="RingCorruptedException">The shared positions are impossible (a broken or hostile peer).</exception>
    /// <exception cref="PeerGoneException">The reader has gone.</exception>
    public override ValueTask<bool> WaitToWriteAsync(CancellationToken cancellationToken = default)
        => _core.WaitToWriteAsync(new WriteMemory(this, 0, default), cancellationToken);

    /// <summary>
    /// Waits up to <paramref name="timeout"/> until the ring has room for a claim of
    /// <paramref name="bytes"/> (true), or returns false when the time passed or the channel is
    /// completed (see <see cref="IsCompleted"/>). Writes nothing: the blocking form of the batch
    /// writer's loop, <c>while (writer.WaitToWrite(bytes, timeout)) { if (writer.TryClaimBatch(bytes, out var batch)) { ... batch.Commit(); } }</c>.
    /// Polls as <see cref="TryWrite(int, ReadOnlySpan{byte}, TimeSpan)"/> does (spin, yield, then
    /// 1 ms sleeps per <see cref="IpcChannelOptions.Wait"/>: the reader does not signal room), so a
    /// full ring costs a waiting writer almost no CPU. With several writers, another writer may take
    /// the room first: then the claim fails, and you wait again.
    /// </summary>
    /// <param name="bytes">
    /// The room needed, counted as <see cref="TryClaimBatch"/> counts it: 8 to the ring's capacity
    /// (<see cref="IpcChannelOptions.BufferSize"/>); a message of n bytes takes align8(8 + n), with
    /// checksums align8(12 + n). Room for one record is not room for a batch, so the wait asks how much.
    /// A range of more than half the ring that can only fit from its start: true once the claim can
    /// move there, which it does, returning false; wait again.
    /// </param>
    /// <param name="timeout">The longest wait; zero looks once.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="bytes"/> is out of range, or a negative timeout (including <see cref="Timeout.InfiniteTimeSpan"/>: waits are always bounded).</exception>
    /// <exception cref="ObjectDisposedException">The writer was disposed (before or, from another thread, during the wait).</exception>
    /// <exception cref="PeerGoneException">The reader has gone and the ring has no room.</exception>
    /// <exception cref="RingCorruptedException">The shared positions are impossible (a broken or hostile peer).</exception>
    public bool WaitToWrite(int bytes, TimeSpan timeout)
    {
        _core.ThrowIfDisposed();
        _ring.CheckBatchBytes(bytes);
        var room = new RoomFor(_ring, bytes);
        return _core.WaitForRoomWithin(ref room, timeout);
    }

    /// <summary>
    /// Claims room for a message of <paramref name="length"/> bytes to write in place (zero copy);
    /// publish it with <see cref="MessageClaim.Commit"/>, which wakes the reader if it sleeps.
    /// </summary>
    /// <returns>False when the ring has no room now, or the channel is completed.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="type"/> is negative or <paramref name="length"/> is out of range.</exception>
    /// <exception cref="RingCorruptedException">The shared positions are impossible.</exception>
    public bool TryClaim(int type, int length, out MessageClaim claim)
    {
        _core.ThrowIfDisposed();
        RecordClaim recordClaim = default;
        int claimLength = ClaimLength(length);
        bool claimed = !_core.Channel.IsCompleted && (_multiple
            ? TryClaimOpen(type, claimLength, out recordClaim)
            : _ring.TryClaim(type, claimLength, out recordClaim));
        if (!claimed)
        {
            claim = default;
            return false;
        }

        claim = new MessageClaim(recordClaim, _core, checksum: _trailer != 0);
        return true;
    }

    /// <summary>
    /// Claims <paramref name="bytes"/> of room (rounded up to 8) for several messages written in
    /// place: append each with <see cref="RecordBatch.TryAppend(int, int, out Span{byte})"/>, or runs of one type and length with <see cref="RecordBatch.TryAppend(int, int, int, out RecordRun)"/> (a message of n bytes takes
    /// align8(8 + n), with checksums align8(12 + n)), then <see cref="RecordBatch.Commit"/> publishes them all with one position
    /// update and one wake-up check, no copy, no allocation. Use it in a <c>using</c>: a batch
    /// disposed uncommitted is aborted and never holds the reader up. Never blocks.
    /// </summary>
    /// <param name="bytes">8 to the ring's capacity (<see cref="IpcChannelOptions.BufferSize"/>) bytes, claimed whole or not at all (a range that can only fit from the start of the ring gets there once the reader has read what is before it: retry).</param>
    /// <param name="batch">The claimed room, when the method returns true.</param>
    /// <returns>False when the ring has no room now, or the channel is completed.</returns>
    /// <remarks>Linearizable with completion as <see cref="TryClaim"/>. Single writer: one claim or batch at a time.</remarks>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="bytes"/> is out of range.</exception>
    /// <exception cref="RingCorruptedException">The shared positions are impossible.</exception>
    public bool TryClaimBatch(int bytes, out RecordBatch batch)
    {
        _core.ThrowIfDisposed();
        MappingUse? use = null; // one writer: none
        using MappingUse.Call call = _multiple ? _core.EnterClaim(this, out use) : default; // several writers: the range's start marker lands before the release retires the mapping
        if (_core.Channel.IsCompleted)
        {
            RecordBatch.None(out batch); // as default, without zeroing the entries (352 bytes, a loop of 43 stores per refused claim)
            return false;
        }

        if (!_ring.TryClaimBatch(bytes, this, use?.ThreadId ?? 0, out batch))
        {
            return false; // the engine made it no batch (RecordBatch.None): a writer polling a full ring zeroes no entries
        }

        if (use is not null)
        {
            batch.RecordIn(use); // its commit or abort records itself there too
        }

        // Several writers: acquire, after the claim's full fence (see TryClaimOpen). One writer:
        // its completion is ordered with its claims by program order, and this load is cheap.
        if (_multiple && _core.Channel.IsCompleted)
        {
            batch.Abort(); // padding, and a wake-up: a reader waiting for the end waits for this range too
            RecordBatch.None(out batch);
            return false;
        }

        return true;
    }

    /// <summary>
    /// Completes the channel unless it was completed already (returns false then), and wakes the
    /// reader if it sleeps. Linearizable with writes and claims, also with several writers in
    /// several processes. <paramref name="error"/> is not transmitted to the other process.
    /// </summary>
    public override bool TryComplete(Exception? error = null) => _core.TryComplete();

    /// <summary>
    /// Releases the doorbell sender and the region. Does not complete the channel, but marks this
    /// writer detached: once every writer of the channel is disposed (or has exited), its reader
    /// reads everything written and then gets <see cref="PeerGoneException"/> saying that the writer
    /// disposed its end without completing, instead of waiting for more. When the stream has
    /// ended, call <see cref="TryComplete"/> (or <c>Complete</c>) first: the reader then sees a
    /// normal end. Idempotent.
    /// A write waiting for room on another thread then fails with <see cref="ObjectDisposedException"/>;
    /// complete open claims first, and do not run a non-blocking call concurrently with it.
    /// </summary>
    public void Dispose() => _core.Dispose();

    /// <summary>The payload to claim in the ring for a message of <paramref name="length"/> bytes: with checksums, 4 more.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int ClaimLength(int length)
    {
        if (_trailer != 0 && (uint)length > (uint)_maxMessageLength)
        {
            ThrowLength(length); // the ring's own check would name its longer limit
        }

        return length + _trailer;
    }

    /// <summary>One writer, checksums: claims the record, writes the message and its checksum in place, commits (out of line: the unchecked path stays as small as without).</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private bool TryWriteCheckedSingle(int type, ReadOnlySpan<byte> payload)
    {
        if (!_ring.TryClaim(type, ClaimLength(payload.Length), out RecordClaim claim))
        {
            return false;
        }

        CopyAndCommit(ref claim, type, payload);
        return true;
    }

    /// <summary>Copies the message into the claim, adds its checksum when the channel has them (uintripc.h 4a), commits.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void CopyAndCommit(ref RecordClaim claim, int type, ReadOnlySpan<byte> payload)
    {
        Span<byte> room = claim.Payload;
        payload.CopyTo(room);
        if (_trailer != 0)
        {
            MessageChecksum.Seal(type, room);
        }

        claim.Commit();
    }

    [DoesNotReturn]
    private void ThrowLength(int length)
        => throw new ArgumentOutOfRangeException(nameof(length), length, $"A message holds between 0 and {_maxMessageLength} bytes (the channel's MaxMessageLength).");

    /// <inheritdoc/>
    int IRecordBatchSink.Trailer => _trailer;

    /// <inheritdoc/>
    void IRecordBatchSink.Committing(int type, Span<byte> payload)
    {
        if (_trailer != 0)
        {
            MessageChecksum.Seal(type, payload); // the message and its checksum, published by the commit (uintripc.h 4a)
        }
    }

    /// <inheritdoc/>
    void IRecordBatchSink.Completed() => _core.Wake(); // once per batch

    // The waits' look for room (not the writes'): exact for the longest message where the tail is
    // (not twice its length wherever it is), and the positions checked, so a corrupt head throws.
    private bool HasRoom => _ring.HasRoomFor(_longestRecord);

    /// <summary>
    /// Several writers: claims room (a CAS on the tail, a full fence), THEN checks the completion,
    /// so that claims and completion are linearizable (uintripc.h section 3, completion). A claim
    /// that finds the channel completed is aborted (padding) and the write returns false.
    /// </summary>
    private bool TryClaimOpen(int type, int length, out RecordClaim claim)
    {
        using MappingUse.Call call = _core.EnterClaim(this, out MappingUse use); // the claim's marker lands before the release retires the mapping
        if (!_ring.TryClaim(type, length, use.ThreadId, out claim))
        {
            return false;
        }

        claim.RecordIn(use); // its commit or abort records itself there too

        // Acquire, after the claim's full fence.
        if (_core.Channel.IsCompleted)
        {
            claim.Abort();
            _core.Wake(); // a reader waiting for the end waits for this claim too
            claim = default;
            return false;
        }

        return true;
    }

    /// <summary>A blocking write's attempt: a message from a span.</summary>
    private readonly ref struct WriteSpan(IpcMessageWriter writer, int type, ReadOnlySpan<byte> payload) : IWriteAttempt
    {
        private readonly ReadOnlySpan<byte> _payload = payload;

        public bool HasRoom => writer.HasRoom;

        public bool TryWrite() => writer.TryWrite(type, _payload);
    }

    /// <summary>An async write's attempt: a message from memory.</summary>
    private readonly struct WriteMemory(IpcMessageWriter writer, int type, ReadOnlyMemory<byte> payload) : IWriteAttempt
    {
        public bool HasRoom => writer.HasRoom;

        public bool TryWrite() => writer.TryWrite(type, payload.Span);
    }

    /// <summary>WaitToWrite's attempt: room for a claim of some bytes, without claiming it.</summary>
    private readonly struct RoomFor(RecordRingEngine ring, int bytes) : IWriteAttempt
    {
        public bool HasRoom => ring.HasRoomFor(bytes);

        public bool TryWrite() => throw new UnreachableException("WaitToWrite only looks for room.");
    }
}
