using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using UintrIpc.Memory;
using UintrIpc.Rings;
using UintrIpc.Signaling;

namespace UintrIpc.Channels;

// The reader end of a message channel; the same rules as IpcChannelReader<T>, over a record
// ring. Payload spans handed to a handler point into shared memory written by another process:
// valid only during the call, and untrusted input.

/// <summary>
/// The reading end of an <see cref="IpcMessageChannel"/>: a <see cref="ChannelReader{T}"/> of
/// <see cref="IpcMessage"/> (each read copies the payload into a new array), with the forms that
/// copy nothing: into the caller's buffer (<see cref="TryRead(out int, Span{byte}, out int)"/>,
/// <see cref="ReadAsync(Memory{byte}, CancellationToken)"/>) or in place through a handler
/// (<see cref="Read{THandler}(ref THandler, int)"/>), blocking with a timeout or not.
/// </summary>
/// <remarks>
/// Use it from one thread at a time (with signal or uintr doorbells: the creating thread, also
/// for <see cref="Dispose"/>). Async reads need a futex, eventfd or none doorbell.
/// </remarks>
[DebuggerDisplay("{DebuggerDisplay,nq}")]
public sealed class IpcMessageReader : ChannelReader<IpcMessage>, IDisposable
{
    private readonly RecordRingEngine _ring;
    private readonly ConsumerCore<MessageChannelProbe> _core;
    /// <summary>Whether records carry checksums (uintripc.h 4a): decided once, at attach.</summary>
    private readonly bool _checksums;
    private readonly int _maxMessageLength;

    internal IpcMessageReader(ChannelCore channel)
    {
        _checksums = channel.Checksums;
        _maxMessageLength = channel.MaxMessageLength;
        _ring = new RecordRingEngine(channel.Region, channel.RingPart, channel.RingPart.Kind, GetType().FullName!); // no lease: the core's reference keeps the mapping
        _core = new ConsumerCore<MessageChannelProbe>(channel, new MessageChannelProbe(_ring, channel), GetType().FullName!);
    }

    internal ConsumerCore<MessageChannelProbe> Core => _core;

    /// <summary>The doorbell this reader sleeps in.</summary>
    public DoorbellKind Doorbell => _core.Doorbell;

    /// <summary>The longest payload of one message: a buffer of this size always suffices.</summary>
    public int MaxMessageLength => _maxMessageLength;

    /// <summary>Whether the channel was completed and every message has been read: once true, stays true.</summary>
    /// <exception cref="ObjectDisposedException">The reader was disposed (the memory may be unmapped).</exception>
    public bool IsCompleted => !_core.IsDisposed ? _core.IsCompleted : throw new ObjectDisposedException(GetType().FullName);

    /// <summary>Completes when a read finds the channel completed and drained (successfully: writers cannot transmit an exception).</summary>
    public override Task Completion => _core.Completion;

    /// <summary>The wait block's counters.</summary>
    internal WaitBlockCounters Counters => _core.Counters;

    private string DebuggerDisplay => $"IpcMessageReader {Doorbell} max={MaxMessageLength}{(_core.Channel.IsCompleted ? " completed" : "")}";

    /// <summary>Reads the next message, its payload copied into a new array, or returns false when none is waiting. Never blocks.</summary>
    /// <exception cref="RingCorruptedException">The next record is invalid.</exception>
    public override bool TryRead([MaybeNullWhen(false)] out IpcMessage item)
    {
        var copy = new CopyHandler();
        if (Read(ref copy, 1) == 1)
        {
            item = copy.Message;
            return true;
        }

        _core.ObserveCompletion();
        item = default;
        return false;
    }

    /// <summary>Copies the next message into <paramref name="destination"/>, or returns false when none is waiting. Never blocks.</summary>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is too small for the next message (which stays in the ring).</exception>
    /// <exception cref="RingCorruptedException">The next record is invalid, or (checksums) its checksum does not match (it is dropped).</exception>
    public bool TryRead(out int type, Span<byte> destination, out int length)
    {
        ObjectDisposedException.ThrowIf(_core.IsDisposed, this);
        return ReadInto(out type, destination, out length);
    }

    /// <summary>
    /// Hands up to <paramref name="limit"/> waiting messages to <paramref name="handler"/> in
    /// place (no copy), in order; returns how many. Never blocks. The reader's position is
    /// released once per call (the batch's bytes zeroed, then the head stored), not once per message.
    /// </summary>
    /// <exception cref="RingCorruptedException">A record is invalid, or (checksums) its checksum does not match (messages before it are handled; it is dropped).</exception>
    /// <remarks>The handler must not read from this reader: the messages are released only after
    /// Read returns, so such a read throws <see cref="InvalidOperationException"/>.</remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Read<THandler>(ref THandler handler, int limit = int.MaxValue)
        where THandler : struct, IRecordHandler
    {
        ObjectDisposedException.ThrowIf(_core.IsDisposed, this);
        return ReadCore(ref handler, limit);
    }

    /// <summary>
    /// Begins a pull-style read of up to <paramref name="limit"/> waiting messages in place (no
    /// copy): take them with <see cref="ReadBatch.TryNext"/>, release them with
    /// <see cref="ReadBatch.Complete"/> (or dispose the batch). Never blocks. Nothing is released
    /// until the batch is completed: a batch not completed is read again by the next read.
    /// </summary>
    /// <param name="batch">The batch; inactive (and empty) when the method returns false.</param>
    /// <param name="limit">The most messages the batch hands out.</param>
    /// <returns>False when no message is waiting. True when a record is (rarely the batch then holds only the padding of an aborted write: TryNext returns false and Complete releases it).</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="limit"/> is negative.</exception>
    /// <exception cref="RingCorruptedException">The reader's position is inconsistent with the ring.</exception>
    /// <exception cref="InvalidOperationException">Called by a handler of this reader's <see cref="Read{THandler}(ref THandler, int)"/>.</exception>
    /// <remarks>One thread, the reader's: see <see cref="ReadBatch"/>. The payload spans stay valid until the batch is completed.</remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryReadBatch(out ReadBatch batch, int limit = int.MaxValue)
    {
        ObjectDisposedException.ThrowIf(_core.IsDisposed, this);
        if (_ring.TryBeginBatch(limit, out RecordCursor cursor))
        {
            batch = new ReadBatch(this, cursor, _checksums);
            return true;
        }

        batch = default;
        return false;
    }

    /// <summary>A batch's release (<see cref="ReadBatch.Complete"/>): refused once this reader is disposed.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    internal unsafe void CompleteBatch(byte* data, long start, long position)
    {
        ObjectDisposedException.ThrowIf(_core.IsDisposed, this);
        _ring.CompleteBatch(data, start, position);
    }

    /// <summary>Whether <see cref="Dispose"/> ran (a batch's Dispose then drops the batch).</summary>
    internal bool IsDisposed => _core.IsDisposed;

    /// <summary>The region of this reader's ring (a batch's checksum mismatch looks at its mapping: <see cref="RetiredMapping"/>).</summary>
    internal SharedRegion Region => _ring.Region;

    /// <summary>
    /// Multi-writer channels: recovers from a writer that died between claiming room and
    /// publishing (see <see cref="IpcChannelReader{T}.TryUnblock"/>). Single-writer channels: returns false.
    /// </summary>
    /// <returns>True when a stuck message was skipped (it is lost).</returns>
    /// <exception cref="RingCorruptedException">The shared positions are impossible.</exception>
    public bool TryUnblock(TimeSpan stalledFor)
    {
        ObjectDisposedException.ThrowIf(_core.IsDisposed, this);
        return _core.Channel.MultipleProducers && _ring.TryUnblock(stalledFor);
    }

    /// <summary>
    /// Waits up to <paramref name="timeout"/> until a message can be read (true); false when the
    /// time passed or the channel is completed and drained.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A negative timeout.</exception>
    /// <exception cref="InvalidOperationException">Another wait is in progress, or (signal, uintr) a foreign thread.</exception>
    /// <exception cref="RingCorruptedException">A writer left a value no writer writes in the ring (a broken or hostile peer), or (checksums) a message's checksum does not match (it is dropped).</exception>
    /// <exception cref="PeerGoneException">Every writer received over the bootstrap has exited without completing the channel, and the ring is drained.</exception>
    public bool WaitToRead(TimeSpan timeout)
    {
        ObjectDisposedException.ThrowIf(_core.IsDisposed, this);
        var peek = new Peek(_ring);
        return _core.ReadWithin(ref peek, timeout);
    }

    /// <summary>
    /// Waits up to <paramref name="timeout"/> for messages, then hands up to <paramref name="limit"/>
    /// of them to <paramref name="handler"/>; returns how many (0 on timeout or when completed and drained).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A negative timeout.</exception>
    /// <exception cref="RingCorruptedException">A writer left a value no writer writes in the ring (a broken or hostile peer), or (checksums) a message's checksum does not match (it is dropped).</exception>
    /// <exception cref="PeerGoneException">Every writer received over the bootstrap has exited without completing the channel, and the ring is drained.</exception>
    public int Read<THandler>(ref THandler handler, int limit, TimeSpan timeout)
        where THandler : struct, IRecordHandler
    {
        WaitDeadline.Validate(timeout);
        int n = Read(ref handler, limit);
        if (n > 0 || limit == 0)
        {
            return n;
        }

        var batch = new HandleBatch<THandler>(this, ref handler, limit);
        _core.ReadWithin(ref batch, timeout);
        return batch.Count;
    }

    /// <summary>
    /// Copies the next message into <paramref name="destination"/>, waiting up to
    /// <paramref name="timeout"/> for one (spin, then sleep in the doorbell without using CPU).
    /// </summary>
    /// <returns>False when the timeout passed, or the channel is completed and drained.</returns>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is too small for the next message.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A negative timeout.</exception>
    /// <exception cref="RingCorruptedException">A writer left a value no writer writes in the ring (a broken or hostile peer), or (checksums) a message's checksum does not match (it is dropped).</exception>
    /// <exception cref="PeerGoneException">Every writer received over the bootstrap has exited without completing the channel, and the ring is drained.</exception>
    public bool TryRead(out int type, Span<byte> destination, out int length, TimeSpan timeout)
    {
        WaitDeadline.Validate(timeout);
        if (TryRead(out type, destination, out length))
        {
            return true;
        }

        var copy = new CopyOne(this, destination);
        bool read = _core.ReadWithin(ref copy, timeout);
        (type, length) = (copy.Type, copy.Length);
        return read;
    }

    /// <summary>Waits asynchronously until a message can be read (true) or the channel is completed and drained (false).</summary>
    /// <exception cref="NotSupportedException">The doorbell is signal or uintr (thread-bound): use futex or eventfd for async reads.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled (nothing is consumed).</exception>
    /// <exception cref="RingCorruptedException">A writer left a value no writer writes in the ring (a broken or hostile peer), or (checksums) a message's checksum does not match (it is dropped).</exception>
    /// <exception cref="PeerGoneException">Every writer received over the bootstrap has exited without completing the channel, and the ring is drained.</exception>
    public override ValueTask<bool> WaitToReadAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_core.IsDisposed, this);
        return _core.WaitToReadAsync(cancellationToken);
    }

    /// <summary>
    /// Reads the next message into <paramref name="destination"/>, waiting asynchronously for one;
    /// the result's payload is the filled part of <paramref name="destination"/> (no allocation when warm).
    /// </summary>
    /// <param name="destination">At least <see cref="MaxMessageLength"/> bytes always suffice.</param>
    /// <param name="cancellationToken">Cancels the wait (nothing is consumed).</param>
    /// <exception cref="ChannelClosedException">The channel is completed and drained.</exception>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is too small for the next message.</exception>
    /// <exception cref="RingCorruptedException">A writer left a value no writer writes in the ring (a broken or hostile peer), or (checksums) a message's checksum does not match (it is dropped).</exception>
    /// <exception cref="PeerGoneException">Every writer received over the bootstrap has exited without completing the channel, and the ring is drained.</exception>
    public ValueTask<IpcMessage> ReadAsync(Memory<byte> destination, CancellationToken cancellationToken = default)
        => TryRead(out int type, destination.Span, out int length)
            ? new ValueTask<IpcMessage>(new IpcMessage(type, destination[..length]))
            : _core.ReadAsync<ReadIntoAttempt, IpcMessage>(new ReadIntoAttempt(this, destination), cancellationToken);

    /// <summary>Reads the next message, waiting asynchronously for one; the payload is copied into a new array of its length.</summary>
    /// <exception cref="ChannelClosedException">The channel is completed and drained.</exception>
    /// <exception cref="NotSupportedException">The doorbell is signal or uintr (thread-bound): use futex or eventfd for async reads.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled (nothing is consumed).</exception>
    /// <exception cref="RingCorruptedException">A writer left a value no writer writes in the ring (a broken or hostile peer), or (checksums) a message's checksum does not match (it is dropped).</exception>
    /// <exception cref="PeerGoneException">Every writer received over the bootstrap has exited without completing the channel, and the ring is drained.</exception>
    public override ValueTask<IpcMessage> ReadAsync(CancellationToken cancellationToken = default)
        => TryRead(out IpcMessage message) ? new ValueTask<IpcMessage>(message) : _core.ReadAsync<ReadCopyAttempt, IpcMessage>(new ReadCopyAttempt(this), cancellationToken);

    /// <summary>
    /// Stops the async waiter, releases the doorbell and the region. With signal or uintr, call it on the creating thread. Idempotent.
    /// A <see cref="Read{THandler}(ref THandler, int)"/> running its handler on another thread is waited for (up to 5 s) first,
    /// and calls made meanwhile throw <see cref="ObjectDisposedException"/>.
    /// </summary>
    /// <exception cref="InvalidOperationException">Signal or uintr doorbell, called on another thread; called by a handler of this reader's <see cref="Read{THandler}(ref THandler, int)"/>; or a Read on another thread did not return within 5 s (nothing was released).</exception>
    public void Dispose()
    {
        // Read goes on to the next record and releases what it read when the handler returns, and
        // this reader's lease may be what keeps the mapping until then: refused from its handler,
        // waited for (bounded) from another thread.
        _core.Dispose(new ReadInProgress(() => _ring.ReadingThread, "Read"));
    }

    /// <summary>Messages to the handler, through <see cref="CheckedRecordHandler{THandler}"/> when the channel has checksums.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int ReadCore<THandler>(ref THandler handler, int limit)
        where THandler : struct, IRecordHandler
        => _checksums ? ReadChecked(ref handler, limit) : _ring.Read(ref handler, limit);

    /// <summary>
    /// A mismatch is thrown from inside the ring's read, so the ring counts that message as
    /// consumed; it is the last record the read released, so its position is the head after the
    /// read less the bytes it occupied.
    /// </summary>
    private int ReadChecked<THandler>(ref THandler handler, int limit)
        where THandler : struct, IRecordHandler
    {
        var check = new CheckedRecordHandler<THandler>(handler);
        try
        {
            return _ring.Read(ref check, limit);
        }
        catch (ChecksumMismatchException mismatch)
        {
            throw mismatch.AtPosition(_ring.PrivateConsumerHead - mismatch.RecordBytes, _ring.Region, this);
        }
        finally
        {
            handler = check.Inner;
        }
    }

    /// <summary>The next message copied into <paramref name="destination"/>; with checksums, verified first (out of line).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool ReadInto(out int type, Span<byte> destination, out int length)
        => _checksums ? ReadIntoChecked(out type, destination, out length) : _ring.TryRead(out type, destination, out length);

    [MethodImpl(MethodImplOptions.NoInlining)]
    private unsafe bool ReadIntoChecked(out int type, Span<byte> destination, out int length)
    {
        // Looked at first, so that a destination too small leaves the message in the ring, as without checksums.
        int next = _ring.PeekPayloadLength() - MessageChecksum.Size;
        if (next > destination.Length)
        {
            throw new ArgumentException($"The next message has {next} bytes but the destination holds {destination.Length}; it was not consumed. Pass a buffer of MaxMessageLength bytes.", nameof(destination));
        }

        fixed (byte* target = destination)
        {
            var copy = new CopyInto(target, destination.Length);
            bool read = ReadChecked(ref copy, 1) == 1;
            (type, length) = (copy.Type, copy.Length);
            return read;
        }
    }

    /// <summary>A blocking read's attempt: one message copied into the caller's buffer.</summary>
    private ref struct CopyOne(IpcMessageReader reader, Span<byte> destination) : IReadAttempt
    {
        private readonly Span<byte> _destination = destination;
        public int Type;
        public int Length;

        public bool TryRead() => reader.ReadInto(out Type, _destination, out Length);
    }

    /// <summary>Copies one verified message into a pinned buffer (a handler of a ring read cannot hold a span).</summary>
    private unsafe struct CopyInto(byte* destination, int capacity) : IRecordHandler
    {
        public int Type;
        public int Length;

        public void Handle(int type, ReadOnlySpan<byte> payload)
        {
            // The length was checked by the peek; a peer that changed it since fails here (the message is dropped).
            payload.CopyTo(new Span<byte>(destination, capacity));
            (Type, Length) = (type, payload.Length);
        }
    }

    /// <summary>A blocking read's attempt: up to a limit of messages handed to the caller's handler.</summary>
    private ref struct HandleBatch<THandler> : IReadAttempt
        where THandler : struct, IRecordHandler
    {
        private readonly IpcMessageReader _reader;
        private readonly ref THandler _handler;
        private readonly int _limit;
        public int Count;

        public HandleBatch(IpcMessageReader reader, ref THandler handler, int limit)
        {
            _reader = reader;
            _handler = ref handler;
            _limit = limit;
        }

        public bool TryRead() => (Count = _reader.ReadCore(ref _handler, _limit)) > 0;
    }

    /// <summary>ReadAsync's attempt: a message with its payload copied into a new array.</summary>
    private readonly struct ReadCopyAttempt(IpcMessageReader reader) : IAsyncReadAttempt<IpcMessage>
    {
        public bool TryRead(out IpcMessage result) => reader.TryRead(out result);

        public ValueTask<bool> WaitToReadAsync(CancellationToken cancellationToken) => reader.WaitToReadAsync(cancellationToken);
    }

    /// <summary>ReadAsync(Memory)'s attempt: a message copied into the caller's buffer.</summary>
    private readonly struct ReadIntoAttempt(IpcMessageReader reader, Memory<byte> destination) : IAsyncReadAttempt<IpcMessage>
    {
        public bool TryRead(out IpcMessage result)
        {
            bool read = reader.TryRead(out int type, destination.Span, out int length);
            result = read ? new IpcMessage(type, destination[..length]) : default;
            return read;
        }

        public ValueTask<bool> WaitToReadAsync(CancellationToken cancellationToken) => reader.WaitToReadAsync(cancellationToken);
    }

    /// <summary>WaitToRead's attempt: whether a message can be read, without reading it.</summary>
    private readonly struct Peek(RecordRingEngine ring) : IReadAttempt
    {
        public bool TryRead() => ring.CanRead;
    }

    /// <summary>Copies one message out of shared memory into an array of its length.</summary>
    private struct CopyHandler : IRecordHandler
    {
        public IpcMessage Message;

        public void Handle(int type, ReadOnlySpan<byte> payload) => Message = new IpcMessage(type, payload.ToArray());
    }
}
