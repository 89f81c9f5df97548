using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Threading.Channels;
using UintrIpc.Memory;
using UintrIpc.Signaling;

namespace UintrIpc.Channels;

// The writer end of both channel kinds, apart from the ring: the wait block and a doorbell
// sender matching the reader's, the watch of the reader, one reference on the region, and
// the waits for room. A write publishes, then runs the wake check (uintripc.h section 3, P1-P6:
// no system call while the reader is awake). Backpressure: the reader does not signal room,
// so a blocked writer polls (ProducerBackoff), checking completion and the reader's liveness.

/// <summary>What the writers of both channel kinds share: doorbell, lifetime, liveness, completion and the waits for room.</summary>
internal sealed class ProducerCore : IDisposable
{
    private readonly ChannelCore _channel;
    private readonly WaitBlock _waitBlock;
    private readonly DoorbellSender _sender;
    private readonly PeerWatch _consumer;
    // The writer's ring object: disposed with the writer, which ends its threads' entries in an
    // MPSC ring's producer table (uintripc.h 2f), while the region is still mapped.
    private readonly IDisposable _ring;
    private readonly string _ownerName;
    private bool _disposed;

    /// <summary>Takes the writer's reference on the region and creates the sender for the reader's doorbell.</summary>
    /// <param name="channel">The channel.</param>
    /// <param name="ring">The writer's ring object (attached without a lease), disposed with the writer.</param>
    /// <param name="doorbellFd">The reader's descriptor (eventfd, uintr; signal: a pidfd of the reader's process, null for this process); the sender keeps its own copy.</param>
    /// <param name="ownerName">The public type, for ObjectDisposedException.</param>
    /// <exception cref="PlatformNotSupportedException">The channel's doorbell cannot work on this machine and no descriptor was given.</exception>
    /// <exception cref="InvalidOperationException">The doorbell needs the reader's descriptor and none was given.</exception>
    internal ProducerCore(ChannelCore channel, IDisposable ring, SafeHandle? doorbellFd, string ownerName)
    {
        channel.AddLease();
        try
        {
            _waitBlock = new WaitBlock(channel.Region, channel.WaitBlockPart, singleProducer: !channel.MultipleProducers);
            _sender = CreateSender(channel.Doorbell, _waitBlock, doorbellFd);
        }
        catch
        {
            channel.ReleaseLease();
            throw;
        }

        _channel = channel;
        _ring = ring;
        _ownerName = ownerName;
        _consumer = PeerWatch.OfConsumer(channel);
        channel.MarkWriterAttached(); // uintripc.h 4b: counted before its first write
    }

    internal ChannelCore Channel => _channel;

    internal DoorbellKind Doorbell => _sender.Kind;

    internal WaitBlockCounters Counters => _waitBlock.ReadCounters();

    /// <summary>Whether producers of <paramref name="kind"/> need the reader's descriptor.</summary>
    internal static bool NeedsFd(DoorbellKind kind) => kind is DoorbellKind.EventFd or DoorbellKind.Uintr or DoorbellKind.UintrSimulated;

    /// <summary>
    /// Watches the reader's process, known from a trusted source (bootstrap peer credentials):
    /// a write waiting for room then fails with <see cref="PeerGoneException"/> as soon as it exits.
    /// </summary>
    internal void WatchConsumer(ProcessHandle process) => _consumer.Add(process);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void ThrowIfDisposed()
    {
        if (_disposed)
        {
            ThrowDisposed();
        }
    }

    /// <summary>
    /// Several writers: records a claim call of <paramref name="owner"/> on the channel's mapping in
    /// the calling thread's MappingUse record, before the ring's disposed check. A claim's markers
    /// (its first header, deferred slot markers) are stored inside the claim call: when this writer's
    /// Dispose released the channel's last lease meanwhile, they went to the placeholder, the shared
    /// claim stayed unmarked and a reader elsewhere waited there until the manual unblock (a claim's
    /// first header is attributed by no ended registration, uintripc.h 2f b); the release now waits
    /// for the call (design-notes "review16"). <paramref name="use"/>: the calling thread's record; the engine's
    /// claim takes its thread id (one thread static per claim, not two: review17), and the claim's
    /// completion records itself there too, as a raw ring's does (a publish or commit racing the
    /// release would otherwise land half in the placeholder).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal MappingUse.Call EnterClaim(object owner, out MappingUse use)
    {
        use = MappingUse.Current;
        return use.Begin(_channel.Region.MappingAddress, owner);
    }

    /// <summary>The wake check after a publication (no system call while the reader is awake).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void Wake() => _waitBlock.WakeIfSleeping(_sender);

    /// <summary>
    /// Completes the channel unless it was completed already (false then); wakes the reader if it
    /// sleeps. Linearizable with writes (see the writers' claim-then-check).
    /// </summary>
    internal bool TryComplete()
    {
        ThrowIfDisposed();
        if (!_channel.TryComplete())
        {
            return false;
        }

        Wake();
        return true;
    }

    /// <summary>
    /// Retries <paramref name="attempt"/> while the ring is full (spin, yield, then 1 ms sleeps),
    /// until it is written (true) or <paramref name="timeout"/> passes (false). Holds a lease on
    /// the region throughout, so Dispose on another thread cannot unmap the ring under it.
    /// </summary>
    /// <exception cref="ChannelClosedException">The channel is completed.</exception>
    /// <exception cref="PeerGoneException">The reader has gone.</exception>
    /// <exception cref="ObjectDisposedException">The writer was disposed (before or during the wait).</exception>
    internal bool WriteWithin<TAttempt>(ref TAttempt attempt, TimeSpan timeout)
        where TAttempt : IWriteAttempt, allows ref struct
        => RetryWithin(ref attempt, timeout, roomOnly: false) switch
        {
            RoomWait.Done => true,
            RoomWait.TimedOut => false,
            _ => throw new ChannelClosedException(),
        };

    /// <summary>
    /// The writers' WaitToWrite: waits until the ring has room for <paramref name="attempt"/>
    /// (true; a hint with several writers), or returns false when <paramref name="timeout"/>
    /// passes or the channel is completed. Polls as <see cref="WriteWithin"/> does, writing nothing.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A negative (e.g. infinite) timeout.</exception>
    /// <exception cref="PeerGoneException">The reader has gone and the ring has no room.</exception>
    /// <exception cref="ObjectDisposedException">The writer was disposed (before or during the wait).</exception>
    internal bool WaitForRoomWithin<TAttempt>(ref TAttempt attempt, TimeSpan timeout)
        where TAttempt : IWriteAttempt, allows ref struct
    {
        ThrowIfDisposed();
        WaitDeadline.Validate(timeout);
        return RetryWithin(ref attempt, timeout, roomOnly: true) == RoomWait.Done;
    }

    /// <summary>
    /// The waits for room of both writers and of WaitToWrite: tries <paramref name="attempt"/>
    /// (its write, or with <paramref name="roomOnly"/> its room check) until it succeeds, the
    /// channel is completed or the deadline passes; between tries checks the reader's liveness and
    /// idles per the channel's wait options (the reader does not signal room: ProducerBackoff).
    /// The last try follows the last idle step, so a reader that freed room meanwhile is seen.
    /// </summary>
    private RoomWait RetryWithin<TAttempt>(ref TAttempt attempt, TimeSpan timeout, bool roomOnly)
        where TAttempt : IWriteAttempt, allows ref struct
    {
        using ChannelLease lease = _channel.Lease(); // the mapping stays while we read it, whoever disposes meanwhile
        var backoff = new ProducerBackoff(_channel.Wait, timeout);
        while (true)
        {
            ThrowIfDisposed();
            // Acquire (the completion line, uintripc.h section 3): a completed channel refuses every write.
            if (_channel.IsCompleted)
            {
                return RoomWait.Completed;
            }

            if (roomOnly ? attempt.HasRoom : attempt.TryWrite())
            {
                return RoomWait.Done;
            }

            _consumer.ThrowIfGone();
            if (!backoff.Idle())
            {
                return RoomWait.TimedOut;
            }
        }
    }

    /// <summary>Retries <paramref name="attempt"/> asynchronously until it is written.</summary>
    /// <exception cref="ChannelClosedException">The channel is completed.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled (nothing was written).</exception>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    internal async ValueTask WriteAsync<TAttempt>(TAttempt attempt, CancellationToken cancellationToken)
        where TAttempt : IWriteAttempt
    {
        using ChannelLease lease = _channel.Lease();
        var backoff = new ProducerBackoff(_channel.Wait, timeout: null);
        while (!attempt.TryWrite())
        {
            ThrowIfCompleted();
            _consumer.ThrowIfGone();
            await backoff.IdleAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Waits asynchronously until the ring has room for <paramref name="attempt"/> (true) or the
    /// channel is completed (false). Another writer may take the room first.
    /// </summary>
    internal ValueTask<bool> WaitToWriteAsync<TAttempt>(TAttempt attempt, CancellationToken cancellationToken)
        where TAttempt : IWriteAttempt
    {
        ThrowIfDisposed();
        if (_channel.IsCompleted)
        {
            return new ValueTask<bool>(false);
        }

        if (attempt.HasRoom)
        {
            return new ValueTask<bool>(true);
        }

        return cancellationToken.IsCancellationRequested ? ValueTask.FromCanceled<bool>(cancellationToken) : WaitToWriteAsyncSlow(attempt, cancellationToken);
    }

    /// <summary>
    /// Releases the ring object (MPSC: its producer registrations), marks the writer detached
    /// (uintripc.h 4b: a reader that has read everything then ends its wait with
    /// <see cref="PeerGoneException"/> instead of waiting for data that never comes; after a
    /// completion it sees the normal end), then releases the doorbell sender and the region. Does
    /// not complete the channel. Idempotent. A write waiting for room on another thread holds its own lease and then fails with
    /// <see cref="ObjectDisposedException"/>.
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
            _ring.Dispose();
            // After the last publish and the end of the registrations (MPSC: a claim left open now
            // belongs to an ended registration, which the reader skips, 2f): the detach (4b), then
            // the wake check of a publish, once, before the sender goes (the lease is still ours),
            // so that a reader parked behind the claim or on the empty ring looks now, not after its
            // park slice.
            // A completed single-writer channel needs no look: its reader ends normally whatever the mark.
            _channel.MarkWriterDetached();
            if (_channel.MultipleProducers || !_channel.IsCompleted)
            {
                Wake();
            }
        }
        finally
        {
            try
            {
                _sender.Dispose();
                _consumer.Dispose();
            }
            finally
            {
                _channel.ReleaseLease();
            }
        }
    }

    /// <summary>Whether <see cref="Dispose"/> ran: the sender, the ring object and maybe the mapping are gone.</summary>
    internal bool IsDisposed => _disposed;

    /// <exception cref="PlatformNotSupportedException">The channel's doorbell cannot work on this machine (a region made elsewhere).</exception>
    /// <exception cref="InvalidOperationException">The doorbell needs the reader's descriptor and none was given.</exception>
    private static DoorbellSender CreateSender(DoorbellKind kind, WaitBlock waitBlock, SafeHandle? doorbellFd)
    {
        bool hasFd = doorbellFd is { IsInvalid: false, IsClosed: false };
        if (kind == DoorbellKind.Signal)
        {
            // The reader's process (a pidfd) when it is another process; none: this process.
            return Doorbells.CreateSender(kind, waitBlock, hasFd ? doorbellFd : null);
        }

        if (!NeedsFd(kind))
        {
            return Doorbells.CreateSender(kind, waitBlock);
        }

        if (!hasFd)
        {
            // The machine first: without it no order of reader and writer helps (user16).
            DoorbellCapability capability = Doorbells.Check(kind);
            if (!capability.IsAvailable)
            {
                throw Doorbells.Refusal(capability);
            }

            throw new InvalidOperationException(
                $"The reader of this channel sleeps in its {kind} doorbell, which the reader creates and the writer needs: in the reader's process, " +
                "create this channel object's Reader before its Writer (on the thread that will read); in another process, receive the channel " +
                "with BootstrapConnection.ReceiveChannel, which brings the doorbell along. A channel opened by name (OpenNamed) cannot get it: create a channel that writers open by name " +
                "with the futex doorbell (IpcChannelOptions.Doorbell null, the default).");
        }

        return Doorbells.CreateSender(kind, waitBlock, doorbellFd);
    }

    /// <summary>How a wait for room ended.</summary>
    private enum RoomWait
    {
        Done,
        TimedOut,
        Completed,
    }

    private void ThrowIfCompleted()
    {
        if (_channel.IsCompleted)
        {
            throw new ChannelClosedException();
        }
    }

    private void ThrowDisposed() => throw new ObjectDisposedException(_ownerName);

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<bool> WaitToWriteAsyncSlow<TAttempt>(TAttempt attempt, CancellationToken cancellationToken)
        where TAttempt : IWriteAttempt
    {
        using ChannelLease lease = _channel.Lease();
        var backoff = new ProducerBackoff(_channel.Wait, timeout: null);
        while (!_channel.IsCompleted)
        {
            ThrowIfDisposed();
            _consumer.ThrowIfGone();
            if (attempt.HasRoom)
            {
                return true;
            }

            await backoff.IdleAsync(cancellationToken).ConfigureAwait(false);
        }

        return false;
    }
}
