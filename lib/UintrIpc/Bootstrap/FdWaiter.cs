using System.Diagnostics;
using System.Runtime.InteropServices;
using Tmds.Linux;
using UintrIpc.Interop;

namespace UintrIpc.Bootstrap;

// Blocking bootstrap calls poll(2) the socket plus a close eventfd (written once by Close, never
// drained, so every present and future wait sees it) and, for a cancellable token, a per-call
// cancel eventfd. Nothing is drained, so concurrent waits (a Send and a Receive) cannot steal
// each other's wake-ups. The polled descriptors are AddRef'ed during the poll, so a concurrent
// Dispose cannot let the kernel reuse their numbers under us. EINTR retries.

/// <summary>A bounded, cancellable, close-interruptible wait for one descriptor to become ready.</summary>
internal sealed unsafe class FdWaiter : IDisposable
{
    /// <summary>A deadline that never passes.</summary>
    internal const long NoDeadline = long.MaxValue;

    private readonly SafeFdHandle _closeEvent = CreateEventFd();
    private int _closed;

    /// <summary>Converts a timeout (or <see cref="Timeout.InfiniteTimeSpan"/>) to a deadline.</summary>
    internal static long DeadlineFrom(TimeSpan timeout, string parameterName)
    {
        if (timeout == Timeout.InfiniteTimeSpan)
        {
            return NoDeadline;
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(timeout, TimeSpan.Zero, parameterName);
        double ticks = timeout.TotalSeconds * Stopwatch.Frequency;
        long now = Stopwatch.GetTimestamp();
        return ticks >= NoDeadline - now ? NoDeadline : now + (long)ticks;
    }

    /// <summary>
    /// Runs a blocking bootstrap call on a dedicated thread, for the async variants. Bootstrap is
    /// a cold path (a handful of calls per connection), so a thread per pending call is cheaper
    /// than integrating with the runtime's socket engine, which cannot pass descriptors.
    /// </summary>
    internal static Task<T> RunBlocking<T>(Func<T> call, CancellationToken cancellationToken)
        => Task.Factory.StartNew(call, cancellationToken, TaskCreationOptions.LongRunning | TaskCreationOptions.DenyChildAttach, TaskScheduler.Default);

    /// <summary>Whether <paramref name="deadline"/> has passed.</summary>
    internal static bool HasPassed(long deadline) => deadline != NoDeadline && Stopwatch.GetTimestamp() >= deadline;

    /// <summary>Wakes every present and future <see cref="Wait"/> with ObjectDisposedException. Idempotent.</summary>
    public void Close()
    {
        // Release: a waiter woken by the event below sees the flag.
        if (Interlocked.Exchange(ref _closed, 1) == 0)
        {
            Signal(_closeEvent);
        }
    }

    /// <summary>
    /// Waits until <paramref name="fd"/> reports one of <paramref name="events"/> (or an error
    /// or hang-up, which the caller's next system call reports): true; or the deadline passes:
    /// false. Throws OperationCanceledException when <paramref name="cancellationToken"/> is
    /// cancelled and ObjectDisposedException (naming <paramref name="owner"/>) after <see cref="Close"/>.
    /// </summary>
    public bool Wait(SafeFdHandle fd, short events, long deadline, object owner, CancellationToken cancellationToken)
    {
        SafeFdHandle? cancelEvent = null;
        CancellationTokenRegistration registration = default;
        bool fdAdded = false, closeAdded = false;
        try
        {
            if (cancellationToken.CanBeCanceled)
            {
                cancelEvent = CreateEventFd();
                registration = cancellationToken.UnsafeRegister(static e => Signal((SafeFdHandle)e!), cancelEvent);
            }

            fd.DangerousAddRef(ref fdAdded);
            _closeEvent.DangerousAddRef(ref closeAdded);
            Sys.PollFd* set = stackalloc Sys.PollFd[3];
            while (true)
            {
                // Acquire: pairs with Close's release.
                ObjectDisposedException.ThrowIf(Volatile.Read(ref _closed) != 0, owner);
                cancellationToken.ThrowIfCancellationRequested();
                int timeout = RemainingMilliseconds(deadline);
                if (timeout == 0 && deadline != NoDeadline)
                {
                    // One last non-blocking look, so a ready descriptor is never reported as a timeout.
                    set[0] = new Sys.PollFd { Fd = fd.Fd, Events = events };
                    return Sys.Poll(set, 1, 0) > 0;
                }

                set[0] = new Sys.PollFd { Fd = fd.Fd, Events = events };
                set[1] = new Sys.PollFd { Fd = _closeEvent.Fd, Events = Sys.POLLIN };
                int count = 2;
                if (cancelEvent is not null)
                {
                    set[2] = new Sys.PollFd { Fd = cancelEvent.Fd, Events = Sys.POLLIN };
                    count = 3;
                }

                int n = Sys.Poll(set, (nuint)count, timeout);
                if (n < 0)
                {
                    int errno = Marshal.GetLastPInvokeError();
                    if (errno == LibC.EINTR)
                    {
                        continue;
                    }

                    throw new UintrIpcException("poll", errno);
                }

                if (n > 0 && set[0].ReturnedEvents != 0)
                {
                    return true;
                }

                // Timed out (re-checked at the top with the clock) or woken by close/cancel (flags re-checked at the top).
            }
        }
        finally
        {
            if (closeAdded)
            {
                _closeEvent.DangerousRelease();
            }

            if (fdAdded)
            {
                fd.DangerousRelease();
            }

            // Dispose waits for a running callback, so the event is not written after it is closed.
            registration.Dispose();
            cancelEvent?.Dispose();
        }
    }

    /// <summary>Closes the close event (after <see cref="Close"/>; waits in progress keep it alive until they return).</summary>
    public void Dispose()
    {
        Close();
        _closeEvent.Dispose();
    }

    private static int RemainingMilliseconds(long deadline)
    {
        if (deadline == NoDeadline)
        {
            return -1;
        }

        long remaining = deadline - Stopwatch.GetTimestamp();
        if (remaining <= 0)
        {
            return 0;
        }

        // Round up so that poll never returns just before the deadline and makes us spin.
        double ms = Math.Ceiling(remaining * 1000.0 / Stopwatch.Frequency);
        return ms >= int.MaxValue ? int.MaxValue : (int)ms;
    }

    private static SafeFdHandle CreateEventFd()
    {
        int fd = LibC.eventfd(0, LibC.EFD_CLOEXEC | LibC.EFD_NONBLOCK);
        return fd >= 0 ? new SafeFdHandle(fd, ownsHandle: true)
            : throw UintrIpcException.FromLastError("eventfd", "Is the process out of file descriptors (ulimit -n)?");
    }

    private static void Signal(SafeFdHandle eventFd)
    {
        bool added = false;
        try
        {
            eventFd.DangerousAddRef(ref added);
            ulong one = 1;
            // Cannot block (EFD_NONBLOCK); a full counter (EAGAIN) is already readable, which is all we need.
            _ = LibC.write(eventFd.Fd, &one, sizeof(ulong));
        }
        catch (ObjectDisposedException)
        {
            // The wait already finished.
        }
        finally
        {
            if (added)
            {
                eventFd.DangerousRelease();
            }
        }
    }
}
