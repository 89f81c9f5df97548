using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Threading.Channels;
using UintrIpc.Memory;
using UintrIpc.Rings;
using UintrIpc.Signaling;

namespace UintrIpc.Channels;

// The consumer end of a message channel; the same rules as IpcConsumer<T>, over a record ring.
// Payload spans handed to a handler point into shared memory written by another process:
// valid only during the call, and untrusted input.

/// <summary>
/// The consumer end of an <see cref="IpcMessageChannel"/>: reads typed byte messages (into a
/// buffer, or in place through a handler), waits for them (blocking with a timeout, or
/// asynchronously), and sees completion.
/// </summary>
/// <remarks>
/// Use it from one thread at a time (with signal or uintr doorbells: the creating thread, also
/// for <see cref="Dispose"/>). Async reads need a futex, eventfd or none doorbell.
/// </remarks>
[DebuggerDisplay("{DebuggerDisplay,nq}")]
public sealed class IpcMessageConsumer : IDisposable
{
    private readonly ChannelCore _channel;
    private readonly RecordRing _ring;
    private readonly WaitBlock _waitBlock;
    private readonly DoorbellReceiver _receiver;
    private readonly PeerWatch _producers;
    private readonly ConsumerHeartbeat _heartbeat;
    private readonly MessageChannelProbe _probe;
    private readonly ConsumerWait<MessageChannelProbe> _wait;
    private bool _disposed;

    internal IpcMessageConsumer(ChannelCore channel)
    {
        channel.EnterConsumer();
        try
        {
            channel.AddRef();
        }
        catch
        {
            channel.ExitConsumer();
            throw;
        }

        try
        {
            _ring = new RecordRing(channel.Region, channel.RingPart, channel.RingPart.Kind);
            _waitBlock = new WaitBlock(channel.Region, channel.WaitBlockPart, singleProducer: !channel.MultipleProducers);
            _receiver = Doorbells.CreateReceiver(channel.Doorbell, _waitBlock);
        }
        catch
        {
            channel.Release();
            channel.ExitConsumer();
            throw;
        }

        _channel = channel;
        _producers = PeerWatch.OfProducers();
        _probe = new MessageChannelProbe(_ring, channel);
        _wait = new ConsumerWait<MessageChannelProbe>(_probe, channel, _waitBlock, _receiver, DoorbellFd, GetType().FullName!, _producers);
        _heartbeat = new ConsumerHeartbeat(channel);
    }

    /// <summary>The doorbell this consumer sleeps in.</summary>
    public DoorbellKind Doorbell => _receiver.Kind;

    /// <summary>
    /// The descriptor producers need to wake this consumer: the eventfd, the uintr vector fd, or a
    /// pidfd of this process (signal); null for futex and none. Owned by the consumer.
    /// </summary>
    public SafeHandle? DoorbellFd => _receiver switch
    {
        EventFdDoorbellReceiver eventFd => eventFd.FileHandle,
        UintrDoorbellReceiver uintr => uintr.VectorFd,
        SignalDoorbellReceiver signal => signal.ProcessFd,
        _ => null,
    };

    /// <summary>The shared region of the channel.</summary>
    public SharedRegion Region => _channel.Region;

    /// <summary>The longest payload of one message: a buffer of this size always suffices.</summary>
    public int MaxMessageLength => _ring.MaxMessageLength;

    /// <summary>Whether the channel was completed and every message has been read.</summary>
    public bool IsCompleted
    {
        get
        {
            bool completed = _channel.IsCompleted; // before the ring: see IpcConsumer<T>.IsCompleted
            return completed && _probe.IsDrained;
        }
    }

    /// <summary>
    /// Watches a producer process known from a trusted source (bootstrap peer credentials): once
    /// every watched producer has exited and the ring is drained, waits end with <see cref="PeerGoneException"/>.
    /// </summary>
    internal void WatchProducer(ProcessHandle process) => _producers.Add(process);

    /// <summary>The wait block's counters.</summary>
    public WaitBlockCounters Counters => _waitBlock.ReadCounters();

    internal ChannelCore Channel => _channel;

    private string DebuggerDisplay => $"IpcMessageConsumer {Doorbell} max={MaxMessageLength}{(_channel.IsCompleted ? " completed" : "")}";

    /// <summary>Copies the next message into <paramref name="destination"/>, or returns false when none is waiting. Never blocks.</summary>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is too small for the next message (which stays in the ring).</exception>
    /// <exception cref="RingCorruptedException">The next record is invalid.</exception>
    public bool TryRead(out int type, Span<byte> destination, out int length)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
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
        ObjectDisposedException.ThrowIf(_disposed, this);
        return _ring.Read(ref handler, limit);
    }

    /// <summary>
    /// Multi-producer channels: recovers from a producer that died between claiming room and
    /// publishing, which otherwise blocks every later message. When the next message has been
    /// claimed but unpublished for at least <paramref name="stalledFor"/> (measured from the first
    /// call that saw it so; call it periodically while reads time out), it is skipped and reading
    /// goes on. Only safe when that producer is really dead (e.g. its process exited): a slow
    /// producer that publishes later loses its message. Single-producer channels: returns false.
    /// </summary>
    /// <returns>True when a stuck message was skipped (it is lost).</returns>
    /// <exception cref="RingCorruptedException">The shared positions are impossible.</exception>
    public bool TryUnblock(TimeSpan stalledFor)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return _channel.MultipleProducers && _ring.TryUnblock(stalledFor);
    }

    /// <summary>
    /// Waits up to <paramref name="timeout"/> until a message can be read (true); false when the
    /// time passed or the channel is completed and drained.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A negative timeout.</exception>
    /// <exception cref="InvalidOperationException">Another wait is in progress, or (signal, uintr) a foreign thread.</exception>
    public bool WaitToRead(TimeSpan timeout)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var peek = new Peek(_ring);
        return _wait.ReadWithin(ref peek, timeout);
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
        _wait.ReadWithin(ref batch, timeout);
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
        bool read = _wait.ReadWithin(ref copy, timeout);
        (type, length) = (copy.Type, copy.Length);
        return read;
    }

    /// <summary>Waits asynchronously until a message can be read (true) or the channel is completed and drained (false).</summary>
    /// <exception cref="NotSupportedException">The doorbell is signal or uintr (thread-bound): use futex or eventfd for async reads.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled (nothing is consumed).</exception>
    public ValueTask<bool> WaitToReadAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        bool completed = _channel.IsCompleted;
        if (_ring.CanRead)
        {
            return new ValueTask<bool>(true);
        }

        return completed && _probe.IsDrained ? new ValueTask<bool>(false) : _wait.WaitAsync(cancellationToken);
    }

    /// <summary>Reads the next message into <paramref name="destination"/>, waiting asynchronously for one. Allocation-free when warm.</summary>
    /// <param name="destination">At least <see cref="MaxMessageLength"/> bytes always suffice.</param>
    /// <param name="cancellationToken">Cancels the wait (nothing is consumed).</param>
    /// <exception cref="ChannelClosedException">The channel is completed and drained.</exception>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is too small for the next message.</exception>
    public ValueTask<IpcMessageInfo> ReadAsync(Memory<byte> destination, CancellationToken cancellationToken = default)
        => TryRead(out int type, destination.Span, out int length)
            ? new ValueTask<IpcMessageInfo>(new IpcMessageInfo(type, length))
            : ReadAsyncSlow(destination, cancellationToken);

    /// <summary>Reads the next message, waiting asynchronously for one; the payload is copied into a new array of its length.</summary>
    /// <exception cref="ChannelClosedException">The channel is completed and drained.</exception>
    /// <exception cref="NotSupportedException">The doorbell is signal or uintr (thread-bound): use futex or eventfd for async reads.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled (nothing is consumed).</exception>
    public ValueTask<IpcMessage> ReadAsync(CancellationToken cancellationToken = default)
        => TryReadCopy(out IpcMessage message) ? new ValueTask<IpcMessage>(message) : ReadCopyAsyncSlow(cancellationToken);

    /// <summary>Stops the async waiter, releases the doorbell and the region. With signal or uintr, call it on the creating thread. Idempotent.</summary>
    /// <exception cref="InvalidOperationException">Signal or uintr doorbell, called on another thread (nothing was released).</exception>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        if (_wait.IsThreadBound)
        {
            _receiver.Dispose(); // throws on a foreign thread before anything changed
        }

        _disposed = true;
        try
        {
            _heartbeat.Dispose(); // producers waiting for room learn that we left
            _wait.Dispose();
            _receiver.Dispose();
            _producers.Dispose();
        }
        finally
        {
            _channel.ExitConsumer();
            _channel.Release();
        }
    }

    private bool TryReadCopy(out IpcMessage message)
    {
        var copy = new CopyHandler();
        bool read = Read(ref copy, 1) == 1;
        message = copy.Message;
        return read;
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<IpcMessage> ReadCopyAsyncSlow(CancellationToken cancellationToken)
    {
        while (await WaitToReadAsync(cancellationToken).ConfigureAwait(false))
        {
            using (_channel.Lease()) // Dispose on another thread cannot unmap the ring under this read
            {
                if (TryReadCopy(out IpcMessage message))
                {
                    return message;
                }
            }
        }

        throw new ChannelClosedException();
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<IpcMessageInfo> ReadAsyncSlow(Memory<byte> destination, CancellationToken cancellationToken)
    {
        while (await WaitToReadAsync(cancellationToken).ConfigureAwait(false))
        {
            using (_channel.Lease()) // Dispose on another thread cannot unmap the ring under this read
            {
                if (TryRead(out int type, destination.Span, out int length))
                {
                    return new IpcMessageInfo(type, length);
                }
            }
        }

        throw new ChannelClosedException();
    }

    /// <summary>A blocking read's attempt: one message copied into the caller's buffer.</summary>
    private ref struct CopyOne(RecordRing ring, Span<byte> destination) : IReadAttempt
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
        private readonly RecordRing _ring;
        private readonly ref THandler _handler;
        private readonly int _limit;
        public int Count;

        public HandleBatch(RecordRing ring, ref THandler handler, int limit)
        {
            _ring = ring;
            _handler = ref handler;
            _limit = limit;
        }

        public bool TryRead() => (Count = _ring.Read(ref _handler, _limit)) > 0;
    }

    /// <summary>WaitToRead's attempt: whether a message can be read, without reading it.</summary>
    private readonly struct Peek(RecordRing ring) : IReadAttempt
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
