using System.Runtime.InteropServices;
using Tmds.Linux;
using UintrIpc.Interop;

namespace UintrIpc.Signaling;

// The seed design's doorbell (a real-time signal), rebuilt so that it cannot disturb the
// .NET runtime's own signal handling (uintripc.h section 3, the signal doorbell):
// - No handler is ever installed: the receiving thread BLOCKS the signal (this thread only)
//   and takes it synchronously with sigtimedwait. Managed code never runs in signal context.
// - Producers send with tgkill to this THREAD, never to the process: a blocked thread-directed
//   signal stays pending for this thread only, while a process-directed one could reach any
//   thread that does not block it, where the default action terminates the process.
// - The number avoids the runtime's activation signal (SIGRTMIN: CoreCLR's
//   INJECT_ACTIVATION_SIGNAL) and glibc's own (32, 33); the default SIGRTMIN + 10 is 44, the
//   seed design's number. A number that already has a handler here is refused.
// - Teardown (on the owning thread): leave the registry (no sender of this process can signal
//   us after that), clear the tid in the wait block, wait (bounded) for every producer that took
//   over one of our sleeps to finish ringing, drain, and only then restore the mask. If a
//   producer seems stuck mid-ring, the signal stays blocked: harmless, and the kernel discards
//   a thread's pending signals when it exits.

/// <summary>
/// The consumer's side of the signal doorbell: a real-time signal queued to the consumer
/// thread (tgkill), taken with sigtimedwait while the thread keeps it blocked. Create, use and
/// dispose it on the consumer thread. Pair with <see cref="SignalDoorbellSender"/>.
/// </summary>
/// <remarks>
/// This is the seed design's mechanism, kept as a baseline; the futex doorbell is cheaper.
/// Threads created by the consumer thread inherit its mask (the signal blocked), which is harmless.
/// </remarks>
internal sealed unsafe class SignalDoorbellReceiver : DoorbellReceiver
{
    // Bounds the drain loop even if a hostile peer floods us with signals.
    private const int MaxDrain = 4096;
    private static readonly TimeSpan s_ringQuiesceTimeout = TimeSpan.FromSeconds(1);

    private readonly WaitBlock _waitBlock;
    private readonly ulong _sentAtStart;
    private readonly long _takenOverAtStart;
    private readonly int _signal;
    private readonly int _ownerManagedThreadId;
    private readonly bool _wasBlocked;
    private readonly SafeFdHandle? _processFd;
    private sigset_t _set;
    private bool _disposed;

    /// <summary>
    /// Blocks <paramref name="signalNumber"/> on the calling thread and publishes this thread
    /// in <paramref name="waitBlock"/> as the one producers signal.
    /// </summary>
    /// <param name="waitBlock">The consumer's wait block; park with this same instance (it counts the rings owed to this thread, which Dispose waits for).</param>
    /// <param name="signalNumber">A real-time signal in SIGRTMIN + 1 .. SIGRTMAX, or 0 for <see cref="DefaultSignalNumber"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException">The number is not an allowed real-time signal.</exception>
    /// <exception cref="InvalidOperationException">The signal has a handler in this process.</exception>
    public SignalDoorbellReceiver(WaitBlock waitBlock, int signalNumber = 0)
    {
        ArgumentNullException.ThrowIfNull(waitBlock);
        _waitBlock = waitBlock;
        _signal = ResolveSignalNumber(signalNumber);
        EnsureNoHandler(_signal);

        _set = SetOf(_signal);
        fixed (sigset_t* set = &_set)
        {
            _wasBlocked = Block(set, _signal);
        }

        _ownerManagedThreadId = Environment.CurrentManagedThreadId;
        ThreadId = Sys.GetTid();
        _sentAtStart = waitBlock.ReadCounters().WakeupsSent;
        _takenOverAtStart = waitBlock.SleepsTakenOver;
        _processFd = ProcessHandle.OpenOwnPidFd();
        SignalTargets.Register(ThreadId, _signal);
        PublishConsumerThread(waitBlock, Environment.ProcessId, ThreadId);
    }

    /// <summary>SIGRTMIN + 10: 44 with glibc, as in the seed design; clear of the runtime's SIGRTMIN.</summary>
    public static int DefaultSignalNumber => Sys.SigRtMin() + DefaultSignalOffset;

    /// <summary>The default signal's distance from SIGRTMIN (UIPC_SIGNAL_DEFAULT_OFFSET).</summary>
    internal const int DefaultSignalOffset = 10;

    /// <inheritdoc />
    public override DoorbellKind Kind => DoorbellKind.Signal;

    /// <summary>The real-time signal this receiver takes.</summary>
    public int SignalNumber => _signal;

    /// <summary>The kernel thread id of the consumer thread (the target of tgkill).</summary>
    public int ThreadId { get; }

    /// <summary>
    /// A pidfd of this process: the consumer's identity, which producers in other processes need
    /// to be allowed to signal it (pass it like an eventfd: SCM_RIGHTS or inheritance). Null on
    /// kernels without pidfd_open. Owned by the receiver.
    /// </summary>
    public SafeHandle? ProcessFd => _processFd;

    /// <inheritdoc />
    internal override WaitBlock? BoundWaitBlock => _waitBlock;

    /// <inheritdoc />
    /// <exception cref="InvalidOperationException">Called on another thread than the one that created the receiver.</exception>
    public override bool Wait(uint token, TimeSpan timeout)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        EnsureOwnerThread();
        var deadline = WaitDeadline.After(timeout);
        fixed (sigset_t* set = &_set)
        {
            while (true)
            {
                timespec left = deadline.RemainingTimespec();
                siginfo_t info;
                int taken = LibC.sigtimedwait(set, &info, &left);
                if (taken == _signal)
                {
                    Drain(set);
                    return true;
                }

                int errno = LibC.errno;
                if (errno == LibC.EAGAIN)
                {
                    return false; // timed out
                }

                if (errno != LibC.EINTR)
                {
                    throw new UintrIpcException($"sigtimedwait({_signal})", errno);
                }

                // EINTR: a handled signal (e.g. the runtime's activation signal) interrupted us.
                if (deadline.HasPassed)
                {
                    return false;
                }
            }
        }
    }

    /// <summary>Restores the thread's signal mask after draining (see the design notes); must run on the owning thread.</summary>
    /// <exception cref="InvalidOperationException">Disposed on another thread than the one that created the receiver.</exception>
    protected override void Dispose(bool disposing)
    {
        // A finalizer runs on another thread and cannot touch this thread's mask; a blocked,
        // unused signal is harmless, so it is left as it is.
        if (disposing && !_disposed)
        {
            EnsureOwnerThread();
            _disposed = true;
            SignalTargets.Unregister(ThreadId, _signal); // no sender of this process signals us after this
            ClearConsumerThread(_waitBlock, ThreadId);
            bool quiet = WaitForRingsInFlight(s_ringQuiesceTimeout);
            fixed (sigset_t* set = &_set)
            {
                Drain(set);
                if (!_wasBlocked && quiet)
                {
                    Unblock(set, _signal);
                }
            }

            _processFd?.Dispose();
        }

        base.Dispose(disposing);
    }

    /// <summary>Reads the consumer's process and thread ids (acquire, tid first: see <see cref="PublishConsumerThread"/>). Untrusted.</summary>
    internal static (int Pid, int Tid) ReadConsumerThread(WaitBlock waitBlock)
    {
        int tid = Volatile.Read(ref *(int*)(waitBlock.Address + WaitBlockLayout.ConsumerTidOffset));
        int pid = Volatile.Read(ref *(int*)(waitBlock.Address + WaitBlockLayout.ConsumerPidOffset));
        return (pid, tid);
    }

    /// <summary>Publishes the consumer's process and thread; the tid last (release), so a reader that sees it also sees the pid.</summary>
    private static void PublishConsumerThread(WaitBlock waitBlock, int pid, int tid)
    {
        Volatile.Write(ref *(int*)(waitBlock.Address + WaitBlockLayout.ConsumerPidOffset), pid);
        Volatile.Write(ref *(int*)(waitBlock.Address + WaitBlockLayout.ConsumerTidOffset), tid);
    }

    /// <summary>Clears the published thread id if it is still <paramref name="tid"/> (full fence, CAS).</summary>
    private static void ClearConsumerThread(WaitBlock waitBlock, int tid)
        => Interlocked.CompareExchange(ref *(int*)(waitBlock.Address + WaitBlockLayout.ConsumerTidOffset), 0, tid);

    /// <summary>
    /// Waits (bounded) until every producer that took over one of our sleeps has returned from
    /// its Ring (wakeups_sent counts after the Ring), so that no signal is still on its way when
    /// the mask is restored. False on timeout: a producer died mid-ring, or a peer forged counts.
    /// </summary>
    private bool WaitForRingsInFlight(TimeSpan timeout)
    {
        var deadline = WaitDeadline.After(timeout);
        long owed = _waitBlock.SleepsTakenOver - _takenOverAtStart;
        // Acquire: pairs with the producer's count after its Ring returned.
        while ((long)(_waitBlock.ReadCounters().WakeupsSent - _sentAtStart) < owed)
        {
            if (deadline.HasPassed)
            {
                return false;
            }

            Thread.Sleep(1);
        }

        return true;
    }

    private static int ResolveSignalNumber(int signalNumber)
    {
        int min = Sys.SigRtMin() + 1, max = Sys.SigRtMax();
        int signal = signalNumber == 0 ? DefaultSignalNumber : signalNumber;
        if (signal < min || signal > max)
        {
            throw new ArgumentOutOfRangeException(nameof(signalNumber), signalNumber,
                $"Use a real-time signal between SIGRTMIN + 1 ({min}) and SIGRTMAX ({max}); SIGRTMIN itself is the .NET runtime's activation signal.");
        }

        return signal;
    }

    private static void EnsureNoHandler(int signal)
    {
        sigaction current;
        if (LibC.sigaction(signal, null, &current) != 0)
        {
            throw UintrIpcException.FromLastError($"sigaction({signal}) query");
        }

        if (current.sa_handler != LibC.SIG_DFL && current.sa_handler != LibC.SIG_IGN)
        {
            throw new InvalidOperationException(
                $"Signal {signal} already has a handler in this process (the application or a library uses it); pass another signalNumber.");
        }
    }

    /// <summary>
    /// Checks that a thread can block a real-time signal, send it to itself with tgkill and take
    /// it with sigtimedwait; the mask is restored after. Doorbells runs it on a short-lived thread
    /// of its own, so no caller's mask or pending signals are touched. Null on success, or why it failed.
    /// </summary>
    internal static string? SelfTestOnThisThread(int signalNumber = 0)
    {
        try
        {
            int signal = ResolveSignalNumber(signalNumber);
            EnsureNoHandler(signal);
            sigset_t set = SetOf(signal);
            bool wasBlocked = Block(&set, signal);
            try
            {
                if (Sys.TgKill(Environment.ProcessId, Sys.GetTid(), signal) != 0)
                {
                    return $"tgkill failed with errno {LibC.errno}";
                }

                timespec zero = default;
                siginfo_t info;
                int taken = LibC.sigtimedwait(&set, &info, &zero);
                return taken == signal ? null : $"sigtimedwait did not return the pending signal (errno {LibC.errno})";
            }
            finally
            {
                Drain(&set);
                if (!wasBlocked)
                {
                    Unblock(&set, signal);
                }
            }
        }
        catch (Exception e) when (e is UintrIpcException or InvalidOperationException or ArgumentException or EntryPointNotFoundException)
        {
            return e.Message;
        }
    }

    private static sigset_t SetOf(int signal)
    {
        sigset_t set;
        if (LibC.sigemptyset(&set) != 0 || LibC.sigaddset(&set, signal) != 0)
        {
            throw UintrIpcException.FromLastError($"sigaddset({signal})");
        }

        return set;
    }

    /// <summary>Blocks the set on the calling thread only; returns whether the signal was blocked before.</summary>
    private static bool Block(sigset_t* set, int signal)
    {
        sigset_t old;
        int rc = LibC.pthread_sigmask(LibC.SIG_BLOCK, set, &old); // returns the error, no errno
        if (rc != 0)
        {
            throw new UintrIpcException($"pthread_sigmask(SIG_BLOCK, {signal})", rc);
        }

        return LibC.sigismember(&old, signal) == 1;
    }

    private static void Unblock(sigset_t* set, int signal)
    {
        int rc = LibC.pthread_sigmask(LibC.SIG_UNBLOCK, set, null);
        if (rc != 0)
        {
            throw new UintrIpcException($"pthread_sigmask(SIG_UNBLOCK, {signal})", rc);
        }
    }

    private static void Drain(sigset_t* set)
    {
        timespec zero = default;
        siginfo_t info;
        for (int i = 0; i < MaxDrain && LibC.sigtimedwait(set, &info, &zero) > 0; i++)
        {
        }
    }

    /// <inheritdoc />
    internal override void ThrowIfForeignThread() => EnsureOwnerThread();

    private void EnsureOwnerThread()
    {
        if (Environment.CurrentManagedThreadId != _ownerManagedThreadId)
        {
            throw new InvalidOperationException(
                $"A signal doorbell receiver belongs to the thread that created it (kernel tid {ThreadId}): signal masks are per thread. Wait on and dispose it there.");
        }
    }
}
