using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Threading.Channels;
using System.Threading.Tasks.Sources;
using UintrIpc.Signaling;

namespace UintrIpc.Channels;

// The reader end of both channel kinds, apart from the ring: its wait block and doorbell
// receiver, its reference on the region, the watch of its writers, its heartbeat, and how it
// waits: spin, yield, then park in the doorbell
// through the wake-up protocol (uintripc.h section 3), each park at most MaxParkTime.
// Blocking reads run ReadWithin on the caller's thread; async reads are served by one
// background "waiter" thread completing a reusable IValueTaskSource<bool>. One wait at a time.
//
// Async operation state (_asyncState): Idle -> Arming (WaitAsync, while it resets the completion
// source) -> Armed -> Completing (by CAS, by exactly one of: the waiter thread, the cancellation
// callback, Dispose) -> Idle (GetResult).
// The waiter thread only watches the ring (the probe's Watch forms, no side effect): once an
// operation ended, the reading thread reads again while the waiter may still look. The one thing
// it changes, a dead producer's claim (2f), it skips in Armed -> Skipping -> Armed, during which
// no one can end the operation (a cancel or Dispose spins until Armed), so no read runs alongside.
// A cancellation or Dispose rings the consumer's own doorbell after its CAS, so a parked waiter
// returns at once (the futex token is taken before the probe; the eventfd is level-triggered).
// A look that began before a cancel may run on while the reading thread reads and releases: an
// error it throws then (a stale head's walk over reused bytes) is not the next operation's, so the
// waiter drops it by the arm generation (a spurious wake at worst; the reader's own read validates).
//
// Lifetime: every wait holds a lease on the region (a blocking read for its whole length, the
// waiter thread for its life), so Dispose from another thread can never unmap memory a waiter
// still reads. Dispose wakes the waiters and waits (bounded) for them to leave; they end with
// ObjectDisposedException.

/// <summary>What the readers of both channel kinds share: doorbell, lifetime, liveness, and the blocking and asynchronous waits.</summary>
internal sealed class ConsumerCore<TProbe> : IValueTaskSource<bool>, IDisposable
    where TProbe : struct, IChannelProbe
{
    private const int Idle = 0;
    private const int Armed = 1;
    private const int Completing = 2;
    private const int Skipping = 3;
    /// <summary>Published to no one: a wait resetting its completion source before it becomes Armed.</summary>
    private const int Arming = 4;

    private static readonly Action<object?, CancellationToken> s_onCancel = OnCancel;

    /// <summary>
    /// Tests only: runs between an async wait's publication and the reset of its completion
    /// source, to widen that window (AsyncArmingTests). Null in production: one static load.
    /// </summary>
    internal static Action? ArmingWindowForTests;

    private readonly TProbe _probe;
    private readonly ChannelCore _channel;
    private readonly WaitBlock _waitBlock;
    private readonly DoorbellReceiver _receiver;
    private readonly SafeHandle? _doorbellFd;
    private readonly ChannelWaitOptions _options;
    private readonly string _ownerName;
    private readonly PeerWatch _producers;
    private readonly ConsumerHeartbeat _heartbeat;
    private readonly long _maxParkTicks;
    private readonly Lock _startLock = new();
    // The watches of the writers' pidfds that wake a parked wait when a writer exits; the lock
    // orders a wake-up in flight before Dispose closes them (after which none runs).
    private readonly Lock _exitWatchLock = new();
    private readonly List<IDisposable> _exitWatches = [];
    private bool _exitWatchesClosed;

    private ManualResetValueTaskSourceCore<bool> _core = new() { RunContinuationsAsynchronously = true };
    private CancellationTokenRegistration _registration;
    private SemaphoreSlim? _requests;
    private DoorbellSender? _selfWake;
    private Thread? _thread;
    private int _asyncState;
    /// <summary>Counts armed operations, so that the waiter tells which operation a look of its ran for.</summary>
    private int _armGeneration;
    private int _syncWaiting;
    private int _disposing;
    private bool _disposed;
    // Latched once a look found the end (completed, then drained): every claim after that is
    // aborted (uintripc.h section 4), and one in flight must not make the end "not yet" again.
    private volatile bool _ended;
    private TaskCompletionSource? _completion;

    /// <summary>
    /// Takes the reader's lease on the region and creates its doorbell receiver (the channel
    /// object creates one reader). With a signal or uintr doorbell the receiver binds to the calling thread.
    /// </summary>
    /// <exception cref="InvalidOperationException">(uintr) This thread cannot receive.</exception>
    /// <exception cref="PlatformNotSupportedException">The uintr doorbell on a machine without user interrupts.</exception>
    internal ConsumerCore(ChannelCore channel, TProbe probe, string ownerName)
    {
        channel.AddLease();
        try
        {
            _waitBlock = new WaitBlock(channel.Region, channel.WaitBlockPart, singleProducer: !channel.MultipleProducers);
            _receiver = Doorbells.CreateReceiver(channel.Doorbell, _waitBlock);
        }
        catch
        {
            channel.ReleaseLease();
            throw;
        }

        _probe = probe;
        _channel = channel;
        _options = channel.Wait;
        _ownerName = ownerName;
        _maxParkTicks = WaitDeadline.ToTicks(_options.MaxParkTime);
        _doorbellFd = _receiver switch
        {
            EventFdDoorbellReceiver eventFd => eventFd.FileHandle,
            UintrDoorbellReceiver uintr => uintr.VectorFd,
            SignalDoorbellReceiver signal => signal.ProcessFd,
            _ => null,
        };
        // A named single-writer channel's writer is known by its role lock only (uintripc.h 1f),
        // checked at the wait's liveness points. Not with several writers: they come and go (a
        // moment without any, while one restarts, is no end: KillTests' consumer met it). For the
        // same reason a named MultipleWriters channel (an inbox clients open by name, write to and
        // dispose: none may Complete what others share) takes no verdict from the detach mark (4b).
        bool writersComeAndGo = channel.IsNamed && channel.MultipleProducers;
        _producers = PeerWatch.OfProducers(
            channel.IsNamed && !channel.MultipleProducers ? (channel.WriterRoleHeld, () => _probe.WasWritten) : null,
            writersComeAndGo ? null : channel.WritersDetached,
            channel.HasOwnWriter);
        _heartbeat = new ConsumerHeartbeat(channel);
    }

    /// <summary>The channel state shared with the writers.</summary>
    internal ChannelCore Channel => _channel;

    /// <summary>The doorbell the reader sleeps in.</summary>
    internal DoorbellKind Doorbell => _receiver.Kind;

    /// <summary>
    /// The descriptor writers need to wake the reader: the eventfd, the uintr vector fd, or a
    /// pidfd of this process (signal: writers in other processes signal only the process it
    /// names); null for futex and none, which need only the region. Owned by the receiver.
    /// </summary>
    internal SafeHandle? DoorbellFd => _doorbellFd;

    /// <summary>The wait block's counters.</summary>
    internal WaitBlockCounters Counters => _waitBlock.ReadCounters();

    /// <summary>Whether the channel was completed and everything was read (completion first, acquire, then the ring); once true, stays true.</summary>
    internal bool IsCompleted => _ended || SeesEnd(_channel.IsCompleted);

    /// <summary>Whether a non-blocking call may run: false once Dispose began.</summary>
    internal bool IsDisposed => _disposed;

    /// <summary>How long a Dispose on another thread waits for a running Read or Drain to return (<see cref="Dispose(ReadInProgress?)"/>).</summary>
    internal static readonly TimeSpan ReadReturnWait = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Watches a writer process known from a trusted source (bootstrap peer credentials): once
    /// every watched writer has exited and the ring is drained, waits end with <see cref="PeerGoneException"/>.
    /// </summary>
    /// <remarks>
    /// The exit also wakes a wait parked in the doorbell at once (the process's PeerEndWatcher
    /// thread rings our own doorbell), instead of after its park slice, which may be up to a minute
    /// (review21). For uintr too (review22): the watcher thread registers a sender to our own
    /// vector fd (held privately, never read from shared memory) and SENDUIPIs it; the shim
    /// programs the watcher thread's sender state on its first send (variant E's UITT is per
    /// process; on C and D the watcher thread is the registering one, the only one that rings).
    /// </remarks>
    internal void WatchProducer(ProcessHandle process)
    {
        // The duplicate first: the watch may close the handle at once (a consumer disposed meanwhile).
        ProcessHandle? watched = null;
        if (process.FileHandle is not null)
        {
            try
            {
                watched = process.Duplicate();
            }
            catch (UintrIpcException)
            {
                // Out of descriptors: the wait sees the exit at its next park slice, as before.
            }
        }

        _producers.Add(process);
        if (watched is null)
        {
            return;
        }

        IDisposable watch;
        try
        {
            watch = PeerEndWatcher.Watch(null, watched, WakeOnProducerExit); // owns watched, also when it throws
        }
        catch (UintrIpcException)
        {
            return; // as above
        }

        lock (_exitWatchLock)
        {
            if (!_exitWatchesClosed)
            {
                _exitWatches.Add(watch);
                return;
            }
        }

        watch.Dispose();
    }

    /// <summary>
    /// The reader's ChannelReader.Completion: completes when a read finds the channel completed
    /// and drained (successfully: writers cannot transmit an exception). Created on first use.
    /// </summary>
    internal Task Completion
    {
        get
        {
            if (_completion is null)
            {
                Interlocked.CompareExchange(ref _completion, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously), null);
                if (!_disposed)
                {
                    ObserveCompletion(); // reads the shared state: not after Dispose (the memory may be unmapped)
                }
            }

            return _completion.Task;
        }
    }

    /// <summary>After a read found nothing: completes <see cref="Completion"/> if the channel ended (only once someone asked for it).</summary>
    internal void ObserveCompletion()
    {
        if (_completion is { } completion && IsCompleted)
        {
            completion.TrySetResult();
        }
    }

    /// <summary>
    /// The reader's WaitToReadAsync: true at once when data waits, false when completed and
    /// drained, otherwise a wait served by the waiter thread; a false result completes <see cref="Completion"/>.
    /// </summary>
    internal ValueTask<bool> WaitToReadAsync(CancellationToken cancellationToken)
    {
        bool completed = _channel.IsCompleted; // before the ring: see IsCompleted
        if (_probe.HasData)
        {
            return new ValueTask<bool>(true);
        }

        if (_ended || SeesEnd(completed))
        {
            _completion?.TrySetResult();
            return new ValueTask<bool>(false);
        }

        ValueTask<bool> wait = WaitAsync(cancellationToken);
        return _completion is null ? wait : ObserveAsync(wait);
    }

    /// <summary>The slow path of a reader's ReadAsync: waits, then reads, until an item comes or the channel ends.</summary>
    /// <exception cref="ChannelClosedException">The channel is completed and drained.</exception>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    internal async ValueTask<TResult> ReadAsync<TAttempt, TResult>(TAttempt attempt, CancellationToken cancellationToken)
        where TAttempt : IAsyncReadAttempt<TResult>
    {
        while (await attempt.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
        {
            using (_channel.Lease()) // Dispose on another thread cannot unmap the ring under this read
            {
                if (attempt.TryRead(out TResult result))
                {
                    return result;
                }
            }
        }

        throw new ChannelClosedException();
    }

    /// <summary>Whether the doorbell belongs to the creating thread (no async waits).</summary>
    internal bool IsThreadBound => _receiver.Kind is DoorbellKind.Signal or DoorbellKind.Uintr or DoorbellKind.UintrSimulated;

    private bool Disposing => Volatile.Read(ref _disposing) != 0;

    /// <summary>Every known producer is gone and nothing is left to read: the wait can only end in an error.</summary>
    /// <summary>
    /// Whether the channel ended, given <paramref name="completed"/> loaded before the ring
    /// (acquire): completed and drained, the tail loaded after the state. Latches the end.
    /// </summary>
    private bool SeesEnd(bool completed)
    {
        if (!completed || !_probe.IsDrained)
        {
            return false;
        }

        _ended = true;
        return true;
    }

    /// <summary>Whether a writer process this channel was handed to is still running.</summary>
    internal bool HasRunningProducer => _producers.AnyRunning;

    /// <summary>
    /// Every known writer is gone (the verdict first: a detach mark's acquire, uintripc.h 4b),
    /// the channel is not completed (acquire, after it: a writer that completed and then detached
    /// or exited is the normal end, which the next look sees) and the ring is drained (the tail,
    /// loaded last): the wait can only end in an error.
    /// </summary>
    private bool ProducersGoneAndDrained => _producers.Gone is not null && !_channel.IsCompleted && _probe.IsDrained;

    /// <summary>
    /// Retries <paramref name="attempt"/> (spin, yield, park between tries) until it succeeds
    /// (true), the channel is completed and drained (false), or <paramref name="timeout"/> passes
    /// (false). Holds a lease on the region throughout.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A negative (e.g. infinite) timeout.</exception>
    /// <exception cref="InvalidOperationException">Another wait of this consumer is in progress.</exception>
    /// <exception cref="ObjectDisposedException">The consumer was disposed (before or during the wait).</exception>
    internal bool ReadWithin<TAttempt>(ref TAttempt attempt, TimeSpan timeout)
        where TAttempt : IReadAttempt, allows ref struct
    {
        long end = DeadlineAfter(timeout);
        using ChannelLease lease = _channel.Lease();
        // Full fence (xchg): pairs with Dispose's, so either we see _disposing or it sees us.
        if (Interlocked.Exchange(ref _syncWaiting, 1) != 0)
        {
            ThrowConcurrentWait();
        }

        try
        {
            if (Volatile.Read(ref _asyncState) != Idle)
            {
                ThrowConcurrentWait();
            }

            var probe = new SyncProbe(this);
            while (true)
            {
                ThrowIfDisposing();
                bool completed = _probe.IsCompleted; // before the ring: messages published before completion are visible
                if (attempt.TryRead())
                {
                    return true;
                }

                if (_ended || SeesEnd(completed) || Stopwatch.GetTimestamp() >= end)
                {
                    return false;
                }

                if (ProducersGoneAndDrained)
                {
                    _producers.ThrowIfGone();
                }

                IdleUntil(ref probe, end);
            }
        }
        finally
        {
            Volatile.Write(ref _syncWaiting, 0);
        }
    }

    /// <summary>
    /// Starts an asynchronous wait: completes with true when data may be read, false when the
    /// channel is completed and drained. The caller checked the ring first.
    /// </summary>
    /// <exception cref="NotSupportedException">The doorbell is thread-bound.</exception>
    /// <exception cref="InvalidOperationException">Another wait of this consumer is in progress.</exception>
    internal ValueTask<bool> WaitAsync(CancellationToken cancellationToken)
    {
        if (IsThreadBound)
        {
            throw new NotSupportedException(
                $"Asynchronous reads need a doorbell that any thread can wait on, and the {_receiver.Kind} doorbell belongs to the consumer thread that created it. " +
                "Create the channel with IpcChannelOptions.Doorbell = DoorbellKind.Futex or DoorbellKind.EventFd for async reads, or read with the blocking methods on the consumer's thread.");
        }

        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<bool>(cancellationToken);
        }

        ThrowIfDisposing();
        if (ProducersGoneAndDrained)
        {
            return ValueTask.FromException<bool>(new PeerGoneException(_producers.Gone!));
        }

        if (Volatile.Read(ref _asyncState) != Idle || Volatile.Read(ref _syncWaiting) != 0)
        {
            ThrowConcurrentWait(); // before touching the pending operation's registration
        }

        // The previous operation's registration: disposing waits for a callback in flight, so a
        // late cancellation cannot complete the operation armed below.
        _registration.Dispose();
        Interlocked.Increment(ref _armGeneration); // full fence: before the waiter can see this operation Armed
        // Arming, not Armed, until the source is reset: a waiter still awake from a cancelled
        // operation's release claims only Armed, and would otherwise complete the previous
        // operation's source a second time (InvalidOperationException on the waiter thread, the
        // process ends) or have its result wiped by the reset (design-notes user39).
        if (Interlocked.CompareExchange(ref _asyncState, Arming, Idle) != Idle)
        {
            ThrowConcurrentWait();
        }

        ArmingWindowForTests?.Invoke();
        _core.Reset();
        // Full fence (xchg): the reset source before whoever claims it, and Armed visible before we
        // read _disposing; pairs with EndWaits' xchg of _disposing before its claim, so a Dispose
        // that ran while we were Arming (its claim found nothing to end) is seen here and this wait
        // ends with it, instead of waiting for a waiter thread that has left.
        Interlocked.Exchange(ref _asyncState, Armed);
        if (Disposing && TryClaimOperation())
        {
            _core.SetException(NewDisposedException());
            return new ValueTask<bool>(this, _core.Version);
        }

        EnsureWaiterThread();
        _registration = cancellationToken.UnsafeRegister(s_onCancel, this);
        _requests!.Release();
        return new ValueTask<bool>(this, _core.Version);
    }

    /// <summary>
    /// Ends every wait (a pending async wait completes with <see cref="ObjectDisposedException"/>,
    /// a blocking one is woken and throws it; each holds its own lease, so this is safe from any
    /// thread), then releases the heartbeat, the doorbell and the region. Idempotent.
    /// </summary>
    /// <exception cref="InvalidOperationException">Signal or uintr doorbell, called on another thread than the creator (nothing was released).</exception>
    public void Dispose() => Dispose(null);

    /// <summary>
    /// <see cref="Dispose()"/> for a reader whose non-waiting read loop (a message reader's
    /// <c>Read</c>, a slot reader's <c>Drain</c>) may run a handler right now: it holds no lease
    /// of its own, and reads the next record and releases what it read after the handler
    /// returns. <paramref name="reads"/> tells which thread runs one (0: none). From that thread
    /// (a handler disposing its own reader) it throws, nothing released; from another thread new
    /// calls are refused (<see cref="ObjectDisposedException"/>) and the running one is waited
    /// for, up to <see cref="ReadReturnWait"/>, before anything is released (so its handler
    /// never finds the memory retired under it); if it has not returned by then, this throws
    /// and releases nothing.
    /// </summary>
    internal void Dispose(ReadInProgress? reads)
    {
        if (_disposed)
        {
            return;
        }

        if (IsThreadBound)
        {
            // Throws on a foreign thread before anything changed, so the owner can still dispose.
            // A check, not the receiver's Dispose: a Read that does not return below makes this
            // throw with nothing released, the doorbell included (review29).
            _receiver.ThrowIfForeignThread();
        }

        if (reads is not null && reads.Thread() != 0)
        {
            reads.ThrowIfOnThisThread();
            Volatile.Write(ref _disposed, true); // new calls throw; one already past its check is waited for
            if (!reads.WaitForReturn(ReadReturnWait))
            {
                Volatile.Write(ref _disposed, false);
                reads.ThrowStillRunning(ReadReturnWait);
            }
        }

        _disposed = true;
        try
        {
            CloseExitWatches();
            _heartbeat.Dispose(); // writers waiting for room learn that we left
            EndWaits();
            _receiver.Dispose();
            _producers.Dispose();
        }
        finally
        {
            _channel.ReleaseLease();
        }
    }

    /// <summary>Ends every wait and waits (bounded) for the waiters to leave.</summary>
    private void EndWaits()
    {
        // Full fence (xchg): pairs with ReadWithin's, so a blocking waiter that entered is seen below.
        if (Interlocked.Exchange(ref _disposing, 1) != 0)
        {
            return;
        }

        _registration.Dispose();
        if (TryClaimOperation())
        {
            _core.SetException(NewDisposedException());
        }

        Thread? thread;
        lock (_startLock)
        {
            thread = _thread;
        }

        bool syncWaiter = Volatile.Read(ref _syncWaiting) != 0;
        if (!IsThreadBound && (syncWaiter || thread is not null))
        {
            // A parked waiter returns at once and sees _disposing. Thread-bound doorbells have no
            // waiter on another thread: their consumer is disposed on its own thread.
            SelfWake().Ring();
        }

        // Bounded: a waiter re-checks _disposing at least every MaxParkTime. If it has not left by
        // then, its own lease keeps the memory mapped, so giving up here is safe.
        TimeSpan limit = _options.MaxParkTime + TimeSpan.FromSeconds(5);
        var deadline = WaitDeadline.After(limit);
        while (Volatile.Read(ref _syncWaiting) != 0 && !deadline.HasPassed)
        {
            Thread.Sleep(1);
        }

        if (thread is not null)
        {
            _requests!.Release();
            if (thread.Join(limit))
            {
                _requests.Dispose();
            }
        }

        _selfWake?.Dispose();
    }

    /// <inheritdoc />
    public bool GetResult(short token)
    {
        if (token != _core.Version)
        {
            throw new InvalidOperationException("This wait was already awaited: a ValueTask from WaitToReadAsync may be awaited once.");
        }

        try
        {
            return _core.GetResult(token);
        }
        finally
        {
            Volatile.Write(ref _asyncState, Idle); // release: the result was consumed; the next wait may start
        }
    }

    /// <inheritdoc />
    public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

    /// <inheritdoc />
    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags)
        => _core.OnCompleted(continuation, state, token, flags);

    private static void OnCancel(object? state, CancellationToken token)
    {
        var self = (ConsumerCore<TProbe>)state!;
        if (self.TryClaimOperation())
        {
            self._core.SetException(new OperationCanceledException(token));
            self._selfWake?.Ring(); // stop parking for an operation that is gone
        }
    }

    private static long DeadlineAfter(TimeSpan timeout)
    {
        WaitDeadline.Validate(timeout);
        return WaitDeadline.EndAfter(timeout);
    }

    private static void ThrowConcurrentWait()
        => throw new InvalidOperationException("Another read of this reader is already waiting; a channel reader waits on one thread at a time (await each ReadAsync or WaitToReadAsync before starting the next).");

    private ObjectDisposedException NewDisposedException() => new(_ownerName, "The reader was disposed while a read was waiting.");

    private void ThrowIfDisposing()
    {
        if (Disposing)
        {
            throw NewDisposedException();
        }
    }

    /// <summary>
    /// Armed -> Completing (full fence, CAS): the caller wins the right to complete the pending
    /// operation. While the waiter thread skips a dead claim for it (a few loads and stores, no
    /// wait), it spins: the reading thread must not read before the skip is done.
    /// </summary>
    private bool TryClaimOperation()
    {
        var spin = new SpinWait();
        while (true)
        {
            int state = Interlocked.CompareExchange(ref _asyncState, Completing, Armed);
            if (state != Skipping)
            {
                return state == Armed;
            }

            spin.SpinOnce();
        }
    }

    /// <summary>
    /// The waiter thread's skip of a dead claim (2f), which moves the consumer's positions: only
    /// while the operation is armed, so the reading thread waits for it and does not read.
    /// </summary>
    private bool TrySkipDeadClaimWhileArmed()
    {
        // Full fence CAS: the reading thread's last positions (written before it armed) are visible.
        if (Interlocked.CompareExchange(ref _asyncState, Skipping, Armed) != Armed)
        {
            return false; // the operation ended: the ring is the reading thread's again
        }

        try
        {
            return _probe.TrySkipDeadClaim();
        }
        finally
        {
            Volatile.Write(ref _asyncState, Armed); // release: the skip's stores before whoever ends the operation reads
        }
    }

    /// <summary>Spin, yield, then park (bounded slices) until the probe has work (true) or <paramref name="end"/> passes (false).</summary>
    private bool IdleUntil<TWaitProbe>(ref TWaitProbe probe, long end)
        where TWaitProbe : IConsumerWaitProbe
    {
        var phaser = new BackoffPhaser(_options.SpinBudget, _options.YieldBudget);
        while (true)
        {
            if (probe.HasWork)
            {
                return true;
            }

            long now = Stopwatch.GetTimestamp();
            if (now >= end)
            {
                return false;
            }

            if (!phaser.SpinOrYield(now))
            {
                // A dead producer's claim never ends by itself: skip it before sleeping behind it.
                if (probe.TrySkipDeadClaim())
                {
                    continue;
                }

                long slice = Math.Min(_maxParkTicks, end - now);
                _waitBlock.Park(ref probe, _receiver, TimeSpan.FromSeconds(slice / (double)Stopwatch.Frequency));
            }
        }
    }

    /// <summary>
    /// The wake check of a completion made on the reading side (a duplex whose handover failed,
    /// uintripc.h section 5: CLOSED by CAS, then P2-P6), so that a read parked on another thread
    /// ends now rather than after its park slice. Thread-bound doorbells have no reader on another
    /// thread. A wait block of its own for the counters: the ring's writer may count at the same time.
    /// </summary>
    internal void WakeAfterCompletion()
    {
        if (IsThreadBound || Disposing || !_channel.TryAddLease())
        {
            return; // no reader to wake, or the memory is gone: nothing to do, and nothing to throw over the caller's error
        }

        try
        {
            new WaitBlock(_channel.Region, _channel.WaitBlockPart).WakeIfSleeping(SelfWake());
        }
        finally
        {
            _channel.ReleaseLease();
        }
    }

    /// <summary>
    /// On the PeerEndWatcher thread: a watched writer has exited. The next look at the writers
    /// polls their pidfds (past the rate limit), then the wake check of our own doorbell ends a
    /// parked wait, which sees the writers gone (section 3's order: the condition, a full fence
    /// in WakeIfSleeping, then the consumer's state).
    /// </summary>
    private void WakeOnProducerExit()
    {
        _producers.LookAgain();
        lock (_exitWatchLock)
        {
            if (_exitWatchesClosed || !_channel.TryAddLease())
            {
                return;
            }

            try
            {
                new WaitBlock(_channel.Region, _channel.WaitBlockPart).WakeIfSleeping(SelfWake());
            }
            catch (Exception e) when (e is UintrIpcException or ObjectDisposedException)
            {
                // Not rung: the signal's reader thread has ended, or a thread-bound receiver was
                // disposed (first, on its own thread) before the watches closed; the sender could
                // not be made. A wait still running sees the exit at its park slice.
            }
            finally
            {
                _channel.ReleaseLease();
            }
        }
    }

    /// <summary>Closes the exit watches: after this no wake-up of <see cref="WakeOnProducerExit"/> runs or is in flight.</summary>
    private void CloseExitWatches()
    {
        lock (_exitWatchLock)
        {
            _exitWatchesClosed = true;
        }

        _exitWatches.ForEach(w => w.Dispose());
        _exitWatches.Clear();
    }

    private DoorbellSender SelfWake()
    {
        lock (_startLock)
        {
            return _selfWake ??= Doorbells.CreateSender(_receiver.Kind, _waitBlock, _doorbellFd);
        }
    }

    private void EnsureWaiterThread()
    {
        lock (_startLock)
        {
            if (_thread is not null)
            {
                return;
            }

            _selfWake ??= Doorbells.CreateSender(_receiver.Kind, _waitBlock, _doorbellFd);
            _requests = new SemaphoreSlim(0);
            // The waiter's lease: taken here, released when the thread ends.
            _channel.AddLease();
            _thread = new Thread(RunWaiter) { IsBackground = true, Name = "UintrIpc channel waiter" };
            _thread.Start();
        }
    }

    private void RunWaiter()
    {
        try
        {
            var probe = new WaiterProbe(this);
            while (true)
            {
                // Bounded, so a missed release costs one slice; Dispose releases it at once.
                _requests!.Wait(_options.MaxParkTime);
                if (Disposing)
                {
                    return; // Dispose completed a pending operation
                }

                if (Volatile.Read(ref _asyncState) != Armed)
                {
                    continue; // a stale release of an operation that was cancelled meanwhile
                }

                // Acquire, after seeing Armed: this operation's generation or a later one's (then
                // the looks below begin after that operation was armed, and so are its).
                int generation = Volatile.Read(ref _armGeneration);
                Exception? error = null;
                bool result = false;
                try
                {
                    IdleUntil(ref probe, long.MaxValue);
                    if (Volatile.Read(ref _asyncState) != Armed)
                    {
                        continue; // the operation ended (cancelled): the ring is the reading thread's again
                    }

                    if (_probe.WatchHasWork)
                    {
                        result = _probe.WatchHasData; // data, or completed and drained: the end
                    }
                    else if (ProducersGoneAndDrained)
                    {
                        error = new PeerGoneException(_producers.Gone!);
                    }
                    else
                    {
                        continue; // stopped because the operation ended (cancelled) or we are disposed
                    }
                }
                catch (Exception e)
                {
                    // Corrupt ring or a failing doorbell: the reader gets the error instead of a hang.
                    error = e;
                }

                if (error is not null && Volatile.Read(ref _armGeneration) != generation)
                {
                    continue; // the look ran for an operation that ended since: look again for this one
                }

                if (TryClaimOperation())
                {
                    if (error is not null && Volatile.Read(ref _armGeneration) != generation)
                    {
                        _core.SetResult(true); // a later operation armed just before the claim: a spurious wake, its reader reads and validates itself
                    }
                    else if (error is null)
                    {
                        _core.SetResult(result); // a stale result is harmless: true is at worst a spurious wake, false (completed and drained) is final
                    }
                    else
                    {
                        _core.SetException(error);
                    }
                }
            }
        }
        finally
        {
            _channel.ReleaseLease();
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<bool> ObserveAsync(ValueTask<bool> wait)
    {
        bool result = await wait.ConfigureAwait(false);
        if (!result)
        {
            _completion?.TrySetResult();
        }

        return result;
    }

    /// <summary>What IdleUntil checks and does between looks: a wait's probe and its skip of a dead producer's claim (2f).</summary>
    private interface IConsumerWaitProbe : IWaitProbe
    {
        bool TrySkipDeadClaim();
    }

    /// <summary>A blocking read's probe, on the reading thread: the channel's, or "stop" once the consumer is being disposed.</summary>
    private readonly struct SyncProbe(ConsumerCore<TProbe> owner) : IConsumerWaitProbe
    {
        public bool HasWork => owner._probe.HasWork || owner.Disposing || owner.ProducersGoneAndDrained;

        public bool TrySkipDeadClaim() => owner._probe.TrySkipDeadClaim();
    }

    /// <summary>
    /// The waiter thread's probe: "stop" when the operation ended (checked first: once it ended,
    /// the reading thread may read again) or the consumer is disposed, otherwise the channel's
    /// watching form, which has no side effect (see IChannelProbe).
    /// </summary>
    private readonly struct WaiterProbe(ConsumerCore<TProbe> owner) : IConsumerWaitProbe
    {
        public bool HasWork => Volatile.Read(ref owner._asyncState) != Armed || owner._probe.WatchHasWork || owner.Disposing || owner.ProducersGoneAndDrained;

        public bool TrySkipDeadClaim() => owner.TrySkipDeadClaimWhileArmed();
    }
}
