using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Threading.Channels;
using UintrIpc.Memory;
using UintrIpc.Rings;
using UintrIpc.Signaling;

namespace UintrIpc.Channels;

// The producer end of a slot channel: its own ring object, the wait block and a doorbell sender
// matching the consumer's, and one reference on the region. A write publishes, then runs the
// wake check (uintripc.h section 3, P1-P6: no system call while the consumer is awake); with
// several producers it claims before it checks the completion (section 4, linearizable).
// Backpressure: the consumer does not signal room, so a blocked writer polls (ProducerBackoff).

/// <summary>
/// The producer end of an <see cref="IpcChannel{T}"/>: writes elements and wakes the consumer
/// only when it sleeps, waits for room when the ring is full, and completes the channel.
/// </summary>
/// <typeparam name="T">The element type of the channel.</typeparam>
/// <remarks>
/// Single-producer channels: use it from one thread at a time. Multi-producer channels: any
/// thread may write, and several producers (also in other processes) may write at once.
/// </remarks>
[DebuggerDisplay("{DebuggerDisplay,nq}")]
public sealed class IpcProducer<T> : IDisposable where T : unmanaged
{
    private readonly ChannelCore _channel;
    private readonly SlotRingAccess<T> _ring;
    private readonly WaitBlock _waitBlock;
    private readonly DoorbellSender _sender;
    private readonly PeerWatch _consumer;
    private ChannelWriter<T>? _writer;
    private bool _disposed;

    internal IpcProducer(ChannelCore channel, SafeHandle? doorbellFd)
    {
        channel.AddRef();
        try
        {
            _ring = new SlotRingAccess<T>(channel.Region, channel.RingPart);
            _waitBlock = new WaitBlock(channel.Region, channel.WaitBlockPart, singleProducer: !channel.MultipleProducers);
            _sender = ChannelSenders.Create(channel, _waitBlock, doorbellFd);
        }
        catch
        {
            channel.Release();
            throw;
        }

        _channel = channel;
        _consumer = PeerWatch.OfConsumer(channel);
    }

    /// <summary>
    /// Watches the consumer's process, known from a trusted source (bootstrap peer credentials):
    /// a write waiting for room then fails with <see cref="PeerGoneException"/> as soon as it exits.
    /// </summary>
    internal void WatchConsumer(ProcessHandle process) => _consumer.Add(process);

    /// <summary>The doorbell this producer rings (the consumer's).</summary>
    public DoorbellKind Doorbell => _sender.Kind;

    /// <summary>The shared region of the channel.</summary>
    public SharedRegion Region => _channel.Region;

    /// <summary>Elements the ring holds.</summary>
    public int Capacity => _ring.Capacity;

    /// <summary>Approximate number of elements waiting to be read (from the shared positions).</summary>
    public int Count => _ring.Count;

    /// <summary>Whether the channel was completed (by this or another producer); writes then fail.</summary>
    public bool IsCompleted => _channel.IsCompleted;

    /// <summary>The wait block's counters (the consumer's sleeps; the producers' wake-ups sent and suppressed).</summary>
    public WaitBlockCounters Counters => _waitBlock.ReadCounters();

    private string DebuggerDisplay => $"IpcProducer<{typeof(T).Name}> {Doorbell} count={Count}/{Capacity}{(IsCompleted ? " completed" : "")}";

    /// <summary>
    /// Writes <paramref name="item"/> and wakes the consumer if it sleeps. Never blocks; no
    /// system call while the consumer is awake.
    /// </summary>
    /// <returns>False when the ring is full or the channel is completed (see <see cref="IsCompleted"/>).</returns>
    /// <exception cref="Rings.RingCorruptedException">The shared positions are impossible.</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryWrite(in T item)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        // Acquire load of a line nobody writes until completion: refuses cheaply once completed.
        if (_channel.IsCompleted)
        {
            return false;
        }

        if (_ring.IsMultiProducer)
        {
            return TryWriteShared(in item);
        }

        // One producer: its own completion is ordered with its writes by program order.
        if (!_ring.TryWrite(in item))
        {
            return false;
        }

        _waitBlock.WakeIfSleeping(_sender);
        return true;
    }

    /// <summary>
    /// Writes as many of <paramref name="items"/> as fit, in order, with one wake-up check for the
    /// batch; returns how many (0 when the ring is full or the channel is completed). Never blocks.
    /// </summary>
    /// <exception cref="Rings.RingCorruptedException">The shared positions are impossible.</exception>
    public int TryWrite(ReadOnlySpan<T> items)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_channel.IsCompleted)
        {
            return 0;
        }

        int written = 0;
        if (_ring.IsMultiProducer)
        {
            // One claim per element, each checked against the completion (see TryWriteShared).
            while (written < items.Length && TryClaimOpen(out SlotClaim<T> claim))
            {
                claim.Item = items[written++];
                claim.Publish();
            }
        }
        else
        {
            written = _ring.TryWrite(items);
        }

        if (written > 0)
        {
            _waitBlock.WakeIfSleeping(_sender);
        }

        return written;
    }

    /// <summary>
    /// Writes <paramref name="item"/>, waiting up to <paramref name="timeout"/> for room when the
    /// ring is full (spin, yield, then 1 ms sleeps: the consumer does not signal room).
    /// </summary>
    /// <returns>False when the timeout passed and the ring is still full.</returns>
    /// <exception cref="ChannelClosedException">The channel is completed.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A negative timeout (waits are always bounded).</exception>
    public bool TryWrite(in T item, TimeSpan timeout)
    {
        WaitDeadline.Validate(timeout);
        if (TryWrite(in item))
        {
            return true;
        }

        using ChannelLease lease = _channel.Lease(); // Dispose on another thread cannot unmap the ring under us
        var backoff = new ProducerBackoff(_channel.Wait, timeout);
        while (true)
        {
            ThrowIfCompleted();
            _consumer.ThrowIfGone();
            if (!backoff.Idle())
            {
                return TryWrite(in item);
            }

            if (TryWrite(in item))
            {
                return true;
            }
        }
    }

    /// <summary>Writes <paramref name="item"/>, waiting asynchronously for room when the ring is full.</summary>
    /// <exception cref="ChannelClosedException">The channel is completed.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled (the item was not written).</exception>
    public ValueTask WriteAsync(T item, CancellationToken cancellationToken = default)
    {
        if (TryWrite(in item))
        {
            return default;
        }

        return cancellationToken.IsCancellationRequested ? ValueTask.FromCanceled(cancellationToken) : WriteAsyncSlow(item, cancellationToken);
    }

    /// <summary>
    /// Waits asynchronously until the ring has room (true) or the channel is completed (false).
    /// Another producer may take the room first: write with <see cref="TryWrite(in T)"/> and wait again if it fails.
    /// </summary>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public ValueTask<bool> WaitToWriteAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_channel.IsCompleted)
        {
            return new ValueTask<bool>(false);
        }

        if (HasRoom)
        {
            return new ValueTask<bool>(true);
        }

        return cancellationToken.IsCancellationRequested ? ValueTask.FromCanceled<bool>(cancellationToken) : WaitToWriteAsyncSlow(cancellationToken);
    }

    /// <summary>
    /// Completes the channel: no element can be written any more, and the consumer reads what
    /// is left, then sees the end. Wakes the consumer if it sleeps.
    /// </summary>
    /// <exception cref="ChannelClosedException">The channel was completed already.</exception>
    public void Complete()
    {
        if (!TryComplete())
        {
            throw new ChannelClosedException("The channel was completed already.");
        }
    }

    /// <summary>
    /// Completes the channel unless it was completed already (returns false then). Linearizable
    /// with writes, also with several producers in several processes: a write that returned
    /// true is read by a consumer that reads until the end, and every write that starts after
    /// the completion returns false.
    /// </summary>
    public bool TryComplete()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (!_channel.TryComplete())
        {
            return false;
        }

        _waitBlock.WakeIfSleeping(_sender);
        return true;
    }

    /// <summary>A <see cref="ChannelWriter{T}"/> over this producer (the same object every time).</summary>
    /// <remarks>
    /// <see cref="ChannelWriter{T}.TryComplete(Exception?)"/> completes the channel; an exception
    /// passed to it is not transmitted to the other process (the reader sees a normal completion).
    /// </remarks>
    public ChannelWriter<T> AsChannelWriter() => _writer ??= new IpcChannelWriter<T>(this);

    /// <summary>
    /// Releases the doorbell sender and the region. Does not complete the channel. Idempotent.
    /// A write waiting for room on another thread holds its own lease and then fails with
    /// <see cref="ObjectDisposedException"/>; a non-blocking call must not run concurrently with it.
    /// </summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        try
        {
            _sender.Dispose();
            _consumer.Dispose();
            _ring.Dispose(); // MPSC: ends this producer's entries in the ring's producer table
        }
        finally
        {
            _channel.Release();
        }
    }

    private bool HasRoom => _ring.Count < _ring.Capacity;

    /// <summary>
    /// A write of several producers, linearizable with Complete (uintripc.h section 3, completion):
    /// claim (CAS on the tail: a full fence), THEN check the completion. A claim that finds the
    /// channel open is before the completion, so the consumer, which ends only when head reaches
    /// a tail read after it saw the completion, reads it; a claim that finds it completed is
    /// after it: skipped, and the write returns false.
    /// </summary>
    private bool TryWriteShared(in T item)
    {
        if (!TryClaimOpen(out SlotClaim<T> claim))
        {
            return false;
        }

        claim.Item = item; // plain: published by the release in Publish
        claim.Publish();
        _waitBlock.WakeIfSleeping(_sender);
        return true;
    }

    /// <summary>Claims a position of an open channel; false when full or completed (then the claim was turned into a skip).</summary>
    private bool TryClaimOpen(out SlotClaim<T> claim)
    {
        if (!_ring.TryClaim(out claim))
        {
            return false;
        }

        // Acquire, after the claim's full fence: see TryWriteShared.
        if (_channel.IsCompleted)
        {
            claim.Abort();
            _waitBlock.WakeIfSleeping(_sender); // a consumer waiting for the end waits for this position too
            return false;
        }

        return true;
    }

    private void ThrowIfCompleted()
    {
        if (_channel.IsCompleted)
        {
            throw new ChannelClosedException();
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask WriteAsyncSlow(T item, CancellationToken cancellationToken)
    {
        using ChannelLease lease = _channel.Lease();
        var backoff = new ProducerBackoff(_channel.Wait, timeout: null);
        while (!TryWrite(in item))
        {
            ThrowIfCompleted();
            _consumer.ThrowIfGone();
            await backoff.IdleAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<bool> WaitToWriteAsyncSlow(CancellationToken cancellationToken)
    {
        using ChannelLease lease = _channel.Lease();
        var backoff = new ProducerBackoff(_channel.Wait, timeout: null);
        while (!_channel.IsCompleted)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            _consumer.ThrowIfGone();
            if (HasRoom)
            {
                return true;
            }

            await backoff.IdleAsync(cancellationToken).ConfigureAwait(false);
        }

        return false;
    }
}
