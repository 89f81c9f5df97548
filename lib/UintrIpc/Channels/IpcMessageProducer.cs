using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Threading.Channels;
using UintrIpc.Memory;
using UintrIpc.Rings;
using UintrIpc.Signaling;

namespace UintrIpc.Channels;

// The producer end of a message channel; the same rules as IpcProducer<T>, over a record ring.
// A claim (MessageClaim) is published by its Commit, which runs the same wake check.

/// <summary>
/// The producer end of an <see cref="IpcMessageChannel"/>: writes typed byte messages (copied
/// or claimed in place), wakes the consumer only when it sleeps, and completes the channel.
/// </summary>
/// <remarks>
/// Single-producer channels: one thread at a time. Multi-producer channels: any thread, and
/// several producers in several processes, may write at once.
/// </remarks>
[DebuggerDisplay("{DebuggerDisplay,nq}")]
public sealed class IpcMessageProducer : IDisposable
{
    private readonly ChannelCore _channel;
    private readonly RecordRing _ring;
    private readonly WaitBlock _waitBlock;
    private readonly DoorbellSender _sender;
    private readonly PeerWatch _consumer;
    private bool _disposed;

    internal IpcMessageProducer(ChannelCore channel, SafeHandle? doorbellFd)
    {
        channel.AddRef();
        try
        {
            _ring = new RecordRing(channel.Region, channel.RingPart, channel.RingPart.Kind);
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

    /// <summary>The longest payload of one message.</summary>
    public int MaxMessageLength => _ring.MaxMessageLength;

    /// <summary>Whether the channel was completed (by this or another producer); writes then fail.</summary>
    public bool IsCompleted => _channel.IsCompleted;

    /// <summary>The wait block's counters (the consumer's sleeps; the producers' wake-ups sent and suppressed).</summary>
    public WaitBlockCounters Counters => _waitBlock.ReadCounters();

    private string DebuggerDisplay => $"IpcMessageProducer {Doorbell} max={MaxMessageLength}{(IsCompleted ? " completed" : "")}";

    /// <summary>
    /// Copies a message into the channel and wakes the consumer if it sleeps. Never blocks; no
    /// system call while the consumer is awake.
    /// </summary>
    /// <param name="type">The message type, 0 or more, handed to the consumer.</param>
    /// <param name="payload">0 to <see cref="MaxMessageLength"/> bytes.</param>
    /// <returns>False when the ring has no room now, or the channel is completed.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="type"/> is negative or <paramref name="payload"/> is too long.</exception>
    /// <exception cref="RingCorruptedException">The shared positions are impossible.</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryWrite(int type, ReadOnlySpan<byte> payload)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        // Acquire load of a line nobody writes until completion: refuses cheaply once completed.
        if (_channel.IsCompleted)
        {
            return false;
        }

        if (_channel.MultipleProducers)
        {
            // Claim, then check the completion (see TryClaimOpen), then copy and commit.
            if (!TryClaimOpen(type, payload.Length, out RecordClaim claim))
            {
                return false;
            }

            payload.CopyTo(claim.Payload);
            claim.Commit();
        }
        else if (!_ring.TryWrite(type, payload)) // one producer: its completion is ordered with its writes
        {
            return false;
        }

        _waitBlock.WakeIfSleeping(_sender);
        return true;
    }

    /// <summary>
    /// Copies a message into the channel, waiting up to <paramref name="timeout"/> for room
    /// (spin, yield, then 1 ms sleeps: the consumer does not signal room).
    /// </summary>
    /// <returns>False when the timeout passed and there is still no room.</returns>
    /// <exception cref="ChannelClosedException">The channel is completed.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A bad type or length, or a negative timeout.</exception>
    public bool TryWrite(int type, ReadOnlySpan<byte> payload, TimeSpan timeout)
    {
        WaitDeadline.Validate(timeout);
        if (TryWrite(type, payload))
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
                return TryWrite(type, payload);
            }

            if (TryWrite(type, payload))
            {
                return true;
            }
        }
    }

    /// <summary>Copies a message into the channel, waiting asynchronously for room.</summary>
    /// <exception cref="ChannelClosedException">The channel is completed.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled (nothing was written).</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="type"/> is negative or <paramref name="payload"/> is too long.</exception>
    public ValueTask WriteAsync(int type, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken = default)
    {
        if (TryWrite(type, payload.Span))
        {
            return default;
        }

        return cancellationToken.IsCancellationRequested ? ValueTask.FromCanceled(cancellationToken) : WriteAsyncSlow(type, payload, cancellationToken);
    }

    /// <summary>
    /// Claims room for a message of <paramref name="length"/> bytes to write in place (zero copy);
    /// publish it with <see cref="MessageClaim.Commit"/>, which wakes the consumer if it sleeps.
    /// </summary>
    /// <returns>False when the ring has no room now, or the channel is completed.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="type"/> is negative or <paramref name="length"/> is out of range.</exception>
    /// <exception cref="RingCorruptedException">The shared positions are impossible.</exception>
    public bool TryClaim(int type, int length, out MessageClaim claim)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        RecordClaim recordClaim = default;
        bool claimed = !_channel.IsCompleted && (_channel.MultipleProducers
            ? TryClaimOpen(type, length, out recordClaim)
            : _ring.TryClaim(type, length, out recordClaim));
        if (!claimed)
        {
            claim = default;
            return false;
        }

        claim = new MessageClaim(recordClaim, this);
        return true;
    }

    /// <summary>Completes the channel: no message can be written any more; wakes the consumer if it sleeps.</summary>
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
    /// with writes and claims, also with several producers in several processes: a write that
    /// returned true (a claim that was granted) is read by a consumer that reads until the end,
    /// and every write that starts after the completion returns false.
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

    /// <summary>
    /// Releases the doorbell sender and the region. Does not complete the channel. Idempotent.
    /// A write waiting for room on another thread then fails with <see cref="ObjectDisposedException"/>;
    /// complete open claims first, and do not run a non-blocking call concurrently with it.
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

    /// <summary>
    /// Several producers: claims room (a CAS on the tail, a full fence), THEN checks the completion,
    /// so that claims and Complete are linearizable (uintripc.h section 3, completion). A claim
    /// that finds the channel completed is aborted (padding) and the write returns false.
    /// </summary>
    private bool TryClaimOpen(int type, int length, out RecordClaim claim)
    {
        if (!_ring.TryClaim(type, length, out claim))
        {
            return false;
        }

        // Acquire, after the claim's full fence.
        if (_channel.IsCompleted)
        {
            claim.Abort();
            _waitBlock.WakeIfSleeping(_sender); // a consumer waiting for the end waits for this claim too
            claim = default;
            return false;
        }

        return true;
    }

    /// <summary>The wake check after a claim was committed.</summary>
    internal void WakeConsumer() => _waitBlock.WakeIfSleeping(_sender);

    private void ThrowIfCompleted()
    {
        if (_channel.IsCompleted)
        {
            throw new ChannelClosedException();
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask WriteAsyncSlow(int type, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
    {
        using ChannelLease lease = _channel.Lease();
        var backoff = new ProducerBackoff(_channel.Wait, timeout: null);
        while (!TryWrite(type, payload.Span))
        {
            ThrowIfCompleted();
            _consumer.ThrowIfGone();
            await backoff.IdleAsync(cancellationToken).ConfigureAwait(false);
        }
    }
}
