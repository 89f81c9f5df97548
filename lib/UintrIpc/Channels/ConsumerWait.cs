using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Threading.Tasks.Sources;
using UintrIpc.Signaling;

namespace UintrIpc.Channels;

// How a channel consumer waits, for both channel kinds: spin, yield, then park in the doorbell
// through the wake-up protocol (uintripc.h section 3), each park at most MaxParkTime.
// Blocking reads run ReadWithin on the caller's thread; async reads are served by one
// background "waiter" thread completing a reusable IValueTaskSource<bool>. One wait at a time.
//
// Async operation state (_asyncState): Idle -> Armed (WaitAsync) -> Completing (by CAS, by
// exactly one of: the waiter thread, the cancellation callback, Dispose) -> Idle (GetResult).
// A cancellation or Dispose rings the consumer's own doorbell after its CAS, so a parked waiter
// returns at once (the futex token is taken before the probe; the eventfd is level-triggered).
//
// Lifetime: every wait holds a lease on the region (a blocking read for its whole length, the
// waiter thread for its life), so Dispose from another thread can never unmap memory a waiter
// still reads. Dispose wakes the waiters and waits (bounded) for them to leave; they end with
// ObjectDisposedException.

/// <summary>The blocking and asynchronous waits of one channel consumer.</summary>
internal sealed class ConsumerWait<TProbe> : IValueTaskSource<bool>, IDisposable
    where TProbe : struct, IChannelProbe
{
    private const int Idle = 0;
    private const int Armed = 1;
    private const int Completing = 2;

    private static readonly Action<object?, CancellationToken> s_onCancel = OnCancel;

    private readonly TProbe _probe;
    private readonly ChannelCore _channel;
    private readonly WaitBlock _waitBlock;
    private readonly DoorbellReceiver _receiver;
    private readonly SafeHandle? _doorbellFd;
    private readonly ChannelWaitOptions _options;
    private readonly string _ownerName;
    private readonly PeerWatch _producers;
    private readonly long _maxParkTicks;
    private readonly Lock _startLock = new();

    private ManualResetValueTaskSourceCore<bool> _core = new() { RunContinuationsAsynchronously = true };
    private CancellationTokenRegistration _registration;
    private SemaphoreSlim? _requests;
    private DoorbellSender? _selfWake;
    private Thread? _thread;
    private int _asyncState;
    private int _syncWaiting;
    private int _disposing;

    internal ConsumerWait(TProbe probe, ChannelCore channel, WaitBlock waitBlock, DoorbellReceiver receiver, SafeHandle? doorbellFd, string ownerName, PeerWatch producers)
    {
        _producers = producers;
        _probe = probe;
        _channel = channel;
        _waitBlock = waitBlock;
        _receiver = receiver;
        _doorbellFd = doorbellFd;
        _options = channel.Wait;
        _ownerName = ownerName;
        _maxParkTicks = WaitDeadline.ToTicks(_options.MaxParkTime);
    }

    /// <summary>Whether the doorbell belongs to the creating thread (no async waits).</summary>
    internal bool IsThreadBound => _receiver.Kind is DoorbellKind.Signal or DoorbellKind.Uintr or DoorbellKind.UintrSimulated;

    private bool Disposing => Volatile.Read(ref _disposing) != 0;

    /// <summary>Every known producer is gone and nothing is left to read: the wait can only end in an error.</summary>
    private bool ProducersGoneAndDrained => _producers.Gone is not null && _probe.IsDrained;

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

                if ((completed && _probe.IsDrained) || Stopwatch.GetTimestamp() >= end)
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
                "Create the channel with ChannelOptions.Doorbell = DoorbellKind.Futex or DoorbellKind.EventFd for async reads, or read with the blocking methods on the consumer's thread.");
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

    /// <summary>
    /// Ends every wait: a pending async wait completes with <see cref="ObjectDisposedException"/>,
    /// a blocking one is woken and throws it. Waits (bounded) for the waiters to leave.
    /// </summary>
    public void Dispose()
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

    private ObjectDisposedException NewDisposedException() => new(_ownerName, "The consumer was disposed while a read was waiting.");

    private void ThrowIfDisposing()
    {
        if (Disposing)
        {
            throw NewDisposedException();
        }
    }

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
                    // A dead producer's claim never ends by itself: skip it before sleeping behind it.
                    if (_probe.TrySkipDeadClaim())
                    {
                        continue;
                    }

                    long slice = Math.Min(_maxParkTicks, end - now);
                    _waitBlock.Park(ref probe, _receiver, TimeSpan.FromSeconds(slice / (double)Stopwatch.Frequency));
                    break;
            }
        }
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
            _channel.AddRef();
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

                Exception? error = null;
                bool result = false;
                try
                {
                    IdleUntil(ref probe, long.MaxValue);
                    if (_probe.HasWork)
                    {
                        result = _probe.HasData; // data, or completed and drained: the end
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
        finally
        {
            _channel.Release();
        }
    }

    /// <summary>A blocking read's probe: the channel's, or "stop" once the consumer is being disposed.</summary>
    private readonly struct SyncProbe(ConsumerWait<TProbe> owner) : IWaitProbe
    {
        public bool HasWork => owner._probe.HasWork || owner.Disposing || owner.ProducersGoneAndDrained;
    }

    /// <summary>The waiter thread's probe: the channel's, or "stop" when the operation ended or the consumer is disposed.</summary>
    private readonly struct WaiterProbe(ConsumerWait<TProbe> owner) : IWaitProbe
    {
        public bool HasWork => owner._probe.HasWork || Volatile.Read(ref owner._asyncState) != Armed || owner.Disposing || owner.ProducersGoneAndDrained;
    }
}
