using SyscallForward.Executor;
using Tmds.Linux;
using UintrIpc;

namespace SyscallForward.Seed;

/// <summary>
/// The v1 driver's notification as the serving thread receives it (interop/include/uintripc_seed_v1.h,
/// "Notification"): a real-time signal queued to this thread, never to the process. The thread
/// keeps the signal blocked and takes it synchronously with sigtimedwait, so no handler runs and
/// the .NET runtime's own signal handling is not disturbed. Create and wait on it on the serving
/// thread: signal masks are per thread.
/// </summary>
/// <remarks>
/// The signal stays blocked on this thread for good: the RTOS side is not trusted to stop
/// signalling, and a pending signal on a thread that blocks it is harmless (the kernel drops it
/// when the thread exits), whereas once unblocked its default action would end the process.
/// The signal is not the library's signal doorbell: it carries the seed protocol's hint only.
/// </remarks>
internal sealed unsafe class SeedNotification
{
    // Bounds the drain even if the peer floods us with signals.
    private const int MaxDrain = 4096;

    private readonly int _ownerManagedThreadId = Environment.CurrentManagedThreadId;
    private sigset_t _set;

    /// <summary>Blocks <paramref name="signal"/> on the calling thread, which is the one the RTOS side signals from then on.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Not a real-time signal above SIGRTMIN (the runtime's own).</exception>
    /// <exception cref="InvalidOperationException">Something in this process has a handler for it.</exception>
    public SeedNotification(int signal)
    {
        int min = NativeCalls.SigRtMin() + 1, max = NativeCalls.SigRtMax();
        if (signal < min || signal > max)
        {
            throw new ArgumentOutOfRangeException(nameof(signal), signal, $"Use a real-time signal between SIGRTMIN + 1 ({min}) and SIGRTMAX ({max}); SIGRTMIN is the .NET runtime's.");
        }

        sigaction current;
        if (LibC.sigaction(signal, null, &current) != 0)
        {
            throw new UintrIpcException($"sigaction({signal}) query", LibC.errno);
        }

        if (current.sa_handler != LibC.SIG_DFL && current.sa_handler != LibC.SIG_IGN)
        {
            throw new InvalidOperationException($"Signal {signal} already has a handler in this process; pick another with --signal.");
        }

        fixed (sigset_t* set = &_set)
        {
            int rc = LibC.sigemptyset(set) | LibC.sigaddset(set, signal);
            rc = rc != 0 ? LibC.errno : LibC.pthread_sigmask(LibC.SIG_BLOCK, set, null); // returns the error, no errno
            if (rc != 0)
            {
                throw new UintrIpcException($"blocking signal {signal}", rc);
            }
        }

        Signal = signal;
        ThreadId = NativeCalls.GetTid();
    }

    /// <summary>The real-time signal taken.</summary>
    public int Signal { get; }

    /// <summary>The kernel thread id the RTOS side signals.</summary>
    public int ThreadId { get; }

    /// <summary>
    /// Waits at most <paramref name="timeout"/> for the signal; true if it came (every copy
    /// queued meanwhile is taken too: a notification is a hint, and hints coalesce).
    /// </summary>
    /// <exception cref="InvalidOperationException">Called on another thread than the one that created it.</exception>
    public bool Wait(TimeSpan timeout)
    {
        if (Environment.CurrentManagedThreadId != _ownerManagedThreadId)
        {
            throw new InvalidOperationException($"The notification belongs to the thread that blocked signal {Signal} (tid {ThreadId}).");
        }

        long end = Environment.TickCount64 + (long)Math.Ceiling(timeout.TotalMilliseconds);
        fixed (sigset_t* set = &_set)
        {
            while (true)
            {
                long left = Math.Max(0, end - Environment.TickCount64);
                timespec wait = new() { tv_sec = left / 1000, tv_nsec = (long_t)(left % 1000 * 1_000_000) };
                siginfo_t info;
                if (LibC.sigtimedwait(set, &info, &wait) == Signal)
                {
                    timespec zero = default;
                    for (int i = 0; i < MaxDrain && LibC.sigtimedwait(set, &info, &zero) > 0; i++)
                    {
                    }

                    return true;
                }

                int errno = LibC.errno;
                if (errno == LibC.EAGAIN || (errno == LibC.EINTR && left == 0))
                {
                    return false; // timed out
                }

                if (errno != LibC.EINTR)
                {
                    throw new UintrIpcException($"sigtimedwait({Signal})", errno);
                }

                // EINTR: a signal with a handler (the runtime's) interrupted the wait; wait for the rest.
            }
        }
    }
}
