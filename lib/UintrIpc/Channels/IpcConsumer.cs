using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Threading.Channels;
using UintrIpc.Memory;
using UintrIpc.Rings;
using UintrIpc.Signaling;

namespace UintrIpc.Channels;

// The consumer end of a slot channel: its own ring object (its position stays private), the
// wait block and the doorbell receiver, and one reference on the region. Reads never block;
// waits go through ConsumerWait (uintripc.h section 3); completion and the end of the channel
// follow section 4 (state before the ring; the end is CLOSED and head == tail).

/// <summary>
/// The consumer end of an <see cref="IpcChannel{T}"/>: reads elements, waits for them
/// (blocking with a timeout, or asynchronously), and sees completion.
/// </summary>
/// <typeparam name="T">The element type of the channel.</typeparam>
/// <remarks>
/// <para>Non-blocking reads (<see cref="TryRead(out T)"/>, batches, <see cref="Drain{THandler}"/>)
/// cost no system call. Blocking reads spin briefly, then sleep in the channel's doorbell, using
/// no CPU until a producer wakes them or the timeout passes. Async reads
/// (<see cref="ReadAsync"/>, <see cref="WaitToReadAsync"/>) are served by one background thread
/// per consumer and allocate nothing per read once warm; they need a futex, eventfd or none
/// doorbell (signal and uintr doorbells belong to the consumer's thread).</para>
/// <para>Use it from one thread at a time (with signal or uintr doorbells: the creating
/// thread, also for <see cref="Dispose"/>), and do not call <see cref="TryRead(out T)"/> while an
/// async wait is pending.</para>
/// </remarks>
[DebuggerDisplay("{DebuggerDisplay,nq}")]
public sealed class IpcConsumer<T> : IDisposable where T : unmanaged
{
    private readonly ChannelCore _channel;
    private readonly SlotRingAccess<T> _ring;
    private readonly WaitBlock _waitBlock;
    private readonly DoorbellReceiver _receiver;
    private readonly PeerWatch _producers;
    private readonly ConsumerHeartbeat _heartbeat;
    private readonly ConsumerWait<SlotChannelProbe<T>> _wait;
    private ChannelReader<T>? _reader;
    private bool _disposed;

    internal IpcConsumer(ChannelCore channel)
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
            _ring = new SlotRingAccess<T>(channel.Region, channel.RingPart);
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
        _wait = new ConsumerWait<SlotChannelProbe<T>>(new SlotChannelProbe<T>(_ring, channel), channel, _waitBlock, _receiver, DoorbellFd, GetType().FullName!, _producers);
        _heartbeat = new ConsumerHeartbeat(channel);
    }

    /// <summary>The channel state shared with the other endpoints (for <see cref="ChannelBootstrap"/>).</summary>
    internal ChannelCore Channel => _channel;

    /// <summary>The doorbell this consumer sleeps in.</summary>
    public DoorbellKind Doorbell => _receiver.Kind;

    /// <summary>
    /// The descriptor producers need to wake this consumer: the eventfd (eventfd doorbell), the
    /// vector fd (uintr doorbells), or a pidfd of this process (signal doorbell: producers in other
    /// processes signal only the process it names); null for futex and none, which need only the region.
    /// Owned by the consumer; pass it to producers (<see cref="IpcChannel{T}.CreateProducer(SafeHandle?)"/>,
    /// SCM_RIGHTS, or inheritance) while the consumer is alive.
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

    /// <summary>Elements the ring holds.</summary>
    public int Capacity => _ring.Capacity;

    /// <summary>Approximate number of elements waiting (from the shared positions).</summary>
    public int Count => _ring.Count;

    /// <summary>
    /// Whether the channel was completed and every element has been read: no read will ever
    /// return an element again.
    /// </summary>
    public bool IsCompleted
    {
        get
        {
            // Completion first (acquire), then the ring: elements published before the completion are visible now.
            bool completed = _channel.IsCompleted;
            return completed && _ring.IsDrained;
        }
    }

    /// <summary>
    /// Watches a producer process known from a trusted source (bootstrap peer credentials): once
    /// every watched producer has exited and the ring is drained, waits end with <see cref="PeerGoneException"/>.
    /// </summary>
    internal void WatchProducer(ProcessHandle process) => _producers.Add(process);

    /// <summary>The wait block's counters (sleeps, timeouts, wake-ups seen; and the producers' sent/suppressed).</summary>
    public WaitBlockCounters Counters => _waitBlock.ReadCounters();

    private string DebuggerDisplay => $"IpcConsumer<{typeof(T).Name}> {Doorbell} count={Count}/{Capacity}{(_channel.IsCompleted ? " completed" : "")}";

    /// <summary>Reads the next element, or returns false when none is waiting. Never blocks.</summary>
    /// <exception cref="RingCorruptedException">The ring holds values no producer writes.</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryRead(out T item)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return _ring.TryRead(out item);
    }

    /// <summary>Reads up to <paramref name="destination"/>.Length waiting elements, in order; returns how many. Never blocks.</summary>
    /// <exception cref="RingCorruptedException">The ring holds values no producer writes.</exception>
    public int TryRead(Span<T> destination)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return _ring.TryRead(destination);
    }

    /// <summary>
    /// Hands up to <paramref name="limit"/> waiting elements to <paramref name="handler"/> in
    /// place (no copy), in order; returns how many. Never blocks.
    /// </summary>
    /// <exception cref="RingCorruptedException">The ring holds values no producer writes.</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Drain<THandler>(ref THandler handler, int limit = int.MaxValue)
        where THandler : struct, ISlotHandler<T>, allows ref struct
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return _ring.Drain(ref handler, limit);
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
        return _ring.TryUnblock(stalledFor);
    }

    /// <summary>
    /// Waits up to <paramref name="timeout"/> until an element can be read (true), or returns
    /// false when the time passed or the channel is completed and drained (see <see cref="IsCompleted"/>).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A negative timeout (waits are always bounded).</exception>
    /// <exception cref="InvalidOperationException">Another wait of this consumer is in progress, or (signal, uintr) called on another thread than the creator.</exception>
    public bool WaitToRead(TimeSpan timeout)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var peek = new Peek(_ring);
        return _wait.ReadWithin(ref peek, timeout);
    }

    /// <summary>
    /// Reads the next element, waiting up to <paramref name="timeout"/> for one: spins briefly,
    /// then sleeps in the doorbell (no CPU) until a producer wakes it.
    /// </summary>
    /// <returns>False when the timeout passed, or the channel is completed and drained (see <see cref="IsCompleted"/>).</returns>
    /// <exception cref="ArgumentOutOfRangeException">A negative timeout (waits are always bounded).</exception>
    /// <exception cref="InvalidOperationException">Another wait of this consumer is in progress, or (signal, uintr) called on another thread than the creator.</exception>
    public bool TryRead(out T item, TimeSpan timeout)
    {
        WaitDeadline.Validate(timeout);
        if (TryRead(out item))
        {
            return true;
        }

        var one = new ReadOne(_ring);
        bool read = _wait.ReadWithin(ref one, timeout);
        item = one.Item;
        return read;
    }

    /// <summary>Reads the next element, waiting up to <paramref name="timeout"/> for one.</summary>
    /// <exception cref="TimeoutException">No element arrived in time.</exception>
    /// <exception cref="ChannelClosedException">The channel is completed and drained.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A negative timeout (waits are always bounded).</exception>
    public T Read(TimeSpan timeout)
    {
        if (TryRead(out T item, timeout))
        {
            return item;
        }

        throw IsCompleted
            ? new ChannelClosedException()
            : new TimeoutException($"No element arrived within {timeout.TotalMilliseconds} ms.");
    }

    /// <summary>
    /// Waits asynchronously until an element can be read (true) or the channel is completed and
    /// drained (false). Completes synchronously when an element is already waiting.
    /// </summary>
    /// <exception cref="NotSupportedException">The channel's doorbell is signal or uintr (thread-bound): use futex or eventfd for async reads.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled (nothing is consumed).</exception>
    public ValueTask<bool> WaitToReadAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        bool completed = _channel.IsCompleted;
        if (_ring.CanRead)
        {
            return new ValueTask<bool>(true);
        }

        return completed && _ring.IsDrained ? new ValueTask<bool>(false) : _wait.WaitAsync(cancellationToken);
    }

    /// <summary>Reads the next element asynchronously, waiting for one if needed. Allocation-free when warm.</summary>
    /// <exception cref="ChannelClosedException">The channel is completed and drained.</exception>
    /// <exception cref="NotSupportedException">The channel's doorbell is signal or uintr (thread-bound): use futex or eventfd for async reads.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled (nothing is consumed).</exception>
    public ValueTask<T> ReadAsync(CancellationToken cancellationToken = default)
        => TryRead(out T item) ? new ValueTask<T>(item) : ReadAsyncSlow(cancellationToken);

    /// <summary>A <see cref="ChannelReader{T}"/> over this consumer (the same object every time).</summary>
    /// <remarks>
    /// Its <see cref="ChannelReader{T}.Completion"/> completes when a read through the adapter
    /// finds the channel completed and drained. Async members need a futex, eventfd or none doorbell.
    /// </remarks>
    public ChannelReader<T> AsChannelReader() => _reader ??= new IpcChannelReader<T>(this);

    /// <summary>
    /// Ends every waiting read (blocking or async: <see cref="ObjectDisposedException"/>; each
    /// holds its own lease on the region, so this is safe from any thread), then releases the
    /// doorbell and the region. A non-blocking call must not run concurrently with it. With a signal or uintr doorbell, call it on the thread
    /// that created the consumer. Does not complete the channel. Idempotent.
    /// </summary>
    /// <exception cref="InvalidOperationException">Signal or uintr doorbell, called on another thread (nothing was released).</exception>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        if (_wait.IsThreadBound)
        {
            // Throws on a foreign thread before anything changed, so the owner can still dispose.
            _receiver.Dispose();
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

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<T> ReadAsyncSlow(CancellationToken cancellationToken)
    {
        while (await WaitToReadAsync(cancellationToken).ConfigureAwait(false))
        {
            using (_channel.Lease()) // Dispose on another thread cannot unmap the ring under this read
            {
                if (TryRead(out T item))
                {
                    return item;
                }
            }
        }

        throw new ChannelClosedException();
    }

    /// <summary>A blocking read's attempt: one element.</summary>
    private struct ReadOne(SlotRingAccess<T> ring) : IReadAttempt
    {
        public T Item;

        public bool TryRead() => ring.TryRead(out Item);
    }

    /// <summary>WaitToRead's attempt: whether an element can be read, without reading it.</summary>
    private readonly struct Peek(SlotRingAccess<T> ring) : IReadAttempt
    {
        public bool TryRead() => ring.CanRead;
    }
}
