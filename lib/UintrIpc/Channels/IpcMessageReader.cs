using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
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

    internal IpcMessageReader(ChannelCore channel)
    {
        _ring = new RecordRingEngine(channel.Region, channel.RingPart, channel.RingPart.Kind); // no lease: the core's reference keeps the mapping
        _core = new ConsumerCore<MessageChannelProbe>(channel, new MessageChannelProbe(_ring, channel), GetType().FullName!);
    }

    internal ConsumerCore<MessageChannelProbe> Core => _core;

    /// <summary>The doorbell this reader sleeps in.</summary>
    public DoorbellKind Doorbell => _core.Doorbell;

    /// <summary>The longest payload of one message: a buffer of this size always suffices.</summary>
    public int MaxMessageLength => _ring.MaxMessageLength;

    /// <summary>Whether the channel was completed and every message has been read: once true, stays true.</summary>
    public bool IsCompleted => _core.IsCompleted;

    /// <summary>Completes when a read finds the channel completed and drained (successfully: writers cannot transmit an exception).</summary>
    public override Task Completion => _core.Completion;

    /// <summary>The wait block's counters.</summary>
    public WaitBlockCounters Counters => _core.Counters;

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
    /// <exception cref="RingCorruptedException">The next record is invalid.</exception>
    public bool TryRead(out int type, Span<byte> destination, out int length)
    {
        ObjectDisposedException.ThrowIf(_core.IsDisposed, this);
        return _ring.TryRead(out type, destination, out length);
    }

    /// <summary>
    /// Hands up to <paramref name="limit"/> waiting messages to <paramref name="handler"/> in
    /// place (no copy), in order; returns how many. Never blocks.
    /// </summary>
    /// <exception cref="RingCorruptedException">A record is invalid (messages before it are handled).</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Read<THandler>(ref THandler handler, int limit = int.MaxValue)
        where THandler : struct, IRecordHandler
    {
        ObjectDisposedException.ThrowIf(_core.IsDisposed, this);
        return _ring.Read(ref handler, limit);
    }

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
    public int Read<THandler>(ref THandler handler, int limit, TimeSpan timeout)
        where THandler : struct, IRecordHandler
    {
        WaitDeadline.Validate(timeout);
        int n = Read(ref handler, limit);
        if (n > 0 || limit == 0)
        {
            return n;
        }

        var batch = new HandleBatch<THandler>(_ring, ref handler, limit);
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
    public bool TryRead(out int type, Span<byte> destination, out int length, TimeSpan timeout)
    {
        WaitDeadline.Validate(timeout);
        if (TryRead(out type, destination, out length))
        {
            return true;
        }

        var copy = new CopyOne(_ring, destination);
        bool read = _core.ReadWithin(ref copy, timeout);
        (type, length) = (copy.Type, copy.Length);
        return read;
    }

    /// <summary>Waits asynchronously until a message can be read (true) or the channel is completed and drained (false).</summary>
    /// <exception cref="NotSupportedException">The doorbell is signal or uintr (thread-bound): use futex or eventfd for async reads.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled (nothing is consumed).</exception>
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
    public ValueTask<IpcMessage> ReadAsync(Memory<byte> destination, CancellationToken cancellationToken = default)
        => TryRead(out int type, destination.Span, out int length)
            ? new ValueTask<IpcMessage>(new IpcMessage(type, destination[..length]))
            : _core.ReadAsync<ReadIntoAttempt, IpcMessage>(new ReadIntoAttempt(this, destination), cancellationToken);

    /// <summary>Reads the next message, waiting asynchronously for one; the payload is copied into a new array of its length.</summary>
    /// <exception cref="ChannelClosedException">The channel is completed and drained.</exception>
    /// <exception cref="NotSupportedException">The doorbell is signal or uintr (thread-bound): use futex or eventfd for async reads.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled (nothing is consumed).</exception>
    public override ValueTask<IpcMessage> ReadAsync(CancellationToken cancellationToken = default)
        => TryRead(out IpcMessage message) ? new ValueTask<IpcMessage>(message) : _core.ReadAsync<ReadCopyAttempt, IpcMessage>(new ReadCopyAttempt(this), cancellationToken);

    /// <summary>Stops the async waiter, releases the doorbell and the region. With signal or uintr, call it on the creating thread. Idempotent.</summary>
    /// <exception cref="InvalidOperationException">Signal or uintr doorbell, called on another thread (nothing was released).</exception>
    public void Dispose() => _core.Dispose();

    /// <summary>A blocking read's attempt: one message copied into the caller's buffer.</summary>
    private ref struct CopyOne(RecordRingEngine ring, Span<byte> destination) : IReadAttempt
    {
        private readonly Span<byte> _destination = destination;
        public int Type;
        public int Length;

        public bool TryRead() => ring.TryRead(out Type, _destination, out Length);
    }

    /// <summary>A blocking read's attempt: up to a limit of messages handed to the caller's handler.</summary>
    private ref struct HandleBatch<THandler> : IReadAttempt
        where THandler : struct, IRecordHandler
    {
        private readonly RecordRingEngine _ring;
        private readonly ref THandler _handler;
        private readonly int _limit;
        public int Count;

        public HandleBatch(RecordRingEngine ring, ref THandler handler, int limit)
        {
            _ring = ring;
            _handler = ref handler;
            _limit = limit;
        }

        public bool TryRead() => (Count = _ring.Read(ref _handler, _limit)) > 0;
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
