using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Threading.Tasks.Sources;
using UintrIpc.Signaling;

namespace UintrIpc.Channels;

// Design:
//   How a channel consumer waits, for both channel kinds. Two ways in, never at the same time
//   (one consumer waits at a time, checked here):
//
//   Blocking (WaitForWork): on the caller's thread, spin for the spin budget, yield for the
//   yield budget, then park in the doorbell through the wake-up protocol
//   (WaitBlock.Park: announce SLEEPING, full fence, re-check the probe, block), each park at
//   most MaxParkTime, until the probe sees data or completion or the caller's deadline passes.
//   A parked consumer uses no CPU; a producer rings only while it is parked.
//
//   Asynchronous (WaitAsync): a reusable IValueTaskSource<bool> (ManualResetValueTaskSourceCore,
//   continuations run asynchronously), completed by a dedicated background thread ("waiter")
//   that runs the same spin/yield/park loop on behalf of the async reader. No allocation per
//   wait in steady state: the source is reused, the thread and its semaphore are created once.
//   State of the pending operation, _asyncState:
//     Idle -> Armed        WaitAsync (caller), then it releases the waiter's semaphore;
//     Armed -> Completing  by CAS, by exactly one of: the waiter thread (data, completion or
//                          an error), the cancellation callback (OperationCanceledException),
//                          Dispose (ObjectDisposedException); the winner completes the source;
//     Completing -> Idle   GetResult (the awaiter consumed the result).
//   The waiter's probe also stops on "no longer Armed" and on disposal; a cancellation or a
//   Dispose rings the consumer's own doorbell (a sender on the same futex word or eventfd)
//   after its CAS, so a parked waiter returns at once: the futex token is taken before the
//   probe and the eventfd is level-triggered, so a ring after the probe is never missed.
//   Such a self-ring shows in the wait block as a wakeup_seen without a wakeup_sent.
//   A cancellation registration is disposed at the start of the next WaitAsync (which waits
//   for a callback in flight), so a late callback can never touch a later operation.
//
//   Thread-bound doorbells (signal, uintr, uintr-sim) belong to the thread that created the
//   consumer, so the waiter thread cannot park in them: WaitAsync throws NotSupportedException
//   and says to choose futex or eventfd (or to read with the blocking methods on that thread).
//
//   Peer death: a producer that dies leaves the consumer to its deadline (blocking) or to its
//   cancellation token (async); parks stay bounded by MaxParkTime either way.

/// <summary>The blocking and asynchronous waits of one channel consumer (see the design notes).</summary>
internal sealed class ConsumerWait<TProbe> : IValueTaskSource<bool>, IDisposable
    where TProbe : struct, IChannelProbe
{
    private const int Idle = 0;
    private const int Armed = 1;
    private const int Completing = 2;

    private static readonly Action<object?, CancellationToken> s_onCancel = OnCancel;

    private readonly TProbe _probe;
    private readonly WaitBlock _waitBlock;
    private readonly DoorbellReceiver _receiver;
    private readonly SafeHandle? _doorbellFd;
    private readonly ChannelWaitOptions _options;
    private readonly long _maxParkTicks;
    private readonly Lock _startLock = new();

    private ManualResetValueTaskSourceCore<bool> _core = new() { RunContinuationsAsynchronously = true };
    private CancellationTokenRegistration _registration;
    private SemaphoreSlim? _requests;
    private DoorbellSender? _selfWake;
    private Thread? _thread;
    private int _asyncState;
    private int _syncWaiting;
    private volatile bool _disposing;

    internal ConsumerWait(TProbe probe, WaitBlock waitBlock, DoorbellReceiver receiver, SafeHandle? doorbellFd, ChannelWaitOptions options)
    {
        _probe = probe;
        _waitBlock = waitBlock;
        _receiver = receiver;
        _doorbellFd = doorbellFd;
        _options = options;
        _maxParkTicks = WaitDeadline.ToTicks(options.MaxParkTime);
    }

    /// <summary>Whether the doorbell belongs to the creating thread (no async waits).</summary>
    internal bool IsThreadBound => _receiver.Kind is DoorbellKind.Signal or DoorbellKind.Uintr or DoorbellKind.UintrSimulated;

    /// <summary>
    /// Blocks (spin, yield, park) until the probe sees data or completion (true) or
    /// <paramref name="timeout"/> passes (false).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A negative (e.g. infinite) timeout.</exception>
    /// <exception cref="InvalidOperationException">Another wait of this consumer is in progress.</exception>
    internal bool WaitForWork(TimeSpan timeout)
    {
        long end = DeadlineAfter(timeout);
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

            TProbe probe = _probe;
            return IdleUntil(ref probe, end);
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
                "Create the channel with ChannelOptions.Doorbell = DoorbellKind.Futex or DoorbellKind.EventFd for async reads, or read with the blocking methods on the consumer's thread.");
        }

        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<bool>(cancellationToken);
        }

        ObjectDisposedException.ThrowIf(_disposing, this);
        if (Volatile.Read(ref _asyncState) != Idle || Volatile.Read(ref _syncWaiting) != 0)
        {
            ThrowConcurrentWait(); // before touching the pending operation's registration
        }

        // The previous operation's registration: disposing waits for a callback in flight, so a
        // late cancellation cannot complete the operation armed below.
        _registration.Dispose();
        if (Interlocked.CompareExchange(ref _asyncState, Armed, Idle) != Idle)
        {
            ThrowConcurrentWait();
        }

        _core.Reset();
        EnsureWaiterThread();
        _registration = cancellationToken.UnsafeRegister(s_onCancel, this);
        _requests!.Release();
        return new ValueTask<bool>(this, _core.Version);
    }

    /// <summary>Stops the waiter thread; a pending wait completes with <see cref="ObjectDisposedException"/>. Bounded.</summary>
    public void Dispose()
    {
        if (_disposing)
        {
            return;
        }

        _disposing = true;
        _registration.Dispose();
        if (TryClaimOperation())
        {
            _core.SetException(new ObjectDisposedException("channel consumer", "The consumer was disposed while a read was waiting."));
        }

        Thread? thread;
        lock (_startLock)
        {
            thread = _thread;
        }

        if (thread is null)
        {
            return;
        }

        _selfWake!.Ring(); // a parked waiter returns and sees _disposing
        _requests!.Release();
        // The waiter re-checks _disposing at least every MaxParkTime.
        if (thread.Join(_options.MaxParkTime + TimeSpan.FromSeconds(5)))
        {
            _selfWake.Dispose();
            _requests.Dispose();
        }
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
        var self = (ConsumerWait<TProbe>)state!;
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
        => throw new InvalidOperationException("Another read of this consumer is already waiting; a channel consumer waits on one thread at a time (await each ReadAsync or WaitToReadAsync before starting the next).");

    /// <summary>Armed -> Completing (full fence, CAS): the caller wins the right to complete the pending operation.</summary>
    private bool TryClaimOperation() => Interlocked.CompareExchange(ref _asyncState, Completing, Armed) == Armed;

    /// <summary>Spin, yield, then park (bounded slices) until the probe has work (true) or <paramref name="end"/> passes (false).</summary>
    private bool IdleUntil<TWaitProbe>(ref TWaitProbe probe, long end)
        where TWaitProbe : IWaitProbe
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

            switch (phaser.Next(now))
            {
                case BackoffPhase.Spinning:
                    Thread.SpinWait(1);
                    break;
                case BackoffPhase.Yielding:
                    Thread.Yield();
                    break;
                default:
                    long slice = Math.Min(_maxParkTicks, end - now);
                    _waitBlock.Park(ref probe, _receiver, TimeSpan.FromSeconds(slice / (double)Stopwatch.Frequency));
                    break;
            }
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

            _selfWake = Doorbells.CreateSender(_receiver.Kind, _waitBlock, _doorbellFd);
            _requests = new SemaphoreSlim(0);
            _thread = new Thread(RunWaiter) { IsBackground = true, Name = "UintrIpc channel waiter" };
            _thread.Start();
        }
    }

    private void RunWaiter()
    {
        var probe = new WaiterProbe(this);
        while (true)
        {
            // Bounded, so a missed release costs one slice; Dispose releases it at once.
            _requests!.Wait(_options.MaxParkTime);
            if (_disposing)
            {
                return; // Dispose completed a pending operation
            }

            if (Volatile.Read(ref _asyncState) != Armed)
            {
                continue; // a stale release of an operation that was cancelled meanwhile
            }

            Exception? error = null;
            bool result = false;
            try
            {
                IdleUntil(ref probe, long.MaxValue);
                if (!_probe.HasWork)
                {
                    continue; // stopped because the operation ended (cancelled) or we are disposed
                }

                // Completion first, then data (acquire loads): completed and still empty means drained for good.
                bool completed = _probe.IsCompleted;
                result = _probe.HasData || !completed;
            }
            catch (Exception e)
            {
                // Corrupt ring or a failing doorbell: the reader gets the error instead of a hang.
                error = e;
            }

            if (TryClaimOperation())
            {
                if (error is null)
                {
                    _core.SetResult(result);
                }
                else
                {
                    _core.SetException(error);
                }
            }
        }
    }

    /// <summary>The waiter thread's probe: the channel's, or "stop" when the operation ended or the consumer is disposed.</summary>
    private readonly struct WaiterProbe(ConsumerWait<TProbe> owner) : IWaitProbe
    {
        public bool HasWork => owner._probe.HasWork || Volatile.Read(ref owner._asyncState) != Armed || owner._disposing;
    }
}
