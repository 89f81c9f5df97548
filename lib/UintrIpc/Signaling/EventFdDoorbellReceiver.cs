using System.Runtime.InteropServices;
using Tmds.Linux;
using UintrIpc.Interop;

namespace UintrIpc.Signaling;

// The eventfd doorbell (uintripc.h section 3): a kernel counter, level-triggered and coalescing:
// rings before the consumer blocks are not lost, and many rings cost one wake-up. The fd is
// non-blocking; producers hold their own duplicates, so either side may close its copy.

/// <summary>
/// The consumer's side of the eventfd doorbell. It owns an eventfd (<see cref="FileHandle"/>)
/// that producers write to; the fd is pollable, so an event loop can wait on it together with
/// other descriptors and call <see cref="TryConsume"/> when it becomes readable.
/// </summary>
internal sealed unsafe class EventFdDoorbellReceiver : DoorbellReceiver
{
    private static bool s_readNoWait = true;
    private readonly SafeFdHandle _fd;

    /// <summary>Creates an eventfd (EFD_CLOEXEC | EFD_NONBLOCK, initial count 0).</summary>
    /// <exception cref="UintrIpcException">eventfd(2) failed (errno attached).</exception>
    public EventFdDoorbellReceiver()
    {
        int fd = LibC.eventfd(0, LibC.EFD_CLOEXEC | LibC.EFD_NONBLOCK);
        if (fd < 0)
        {
            throw UintrIpcException.FromLastError("eventfd", "Check the process's descriptor limit (ulimit -n); a seccomp filter may block eventfd.");
        }

        _fd = new SafeFdHandle(fd, ownsHandle: true);
    }

    /// <inheritdoc />
    public override DoorbellKind Kind => DoorbellKind.EventFd;

    /// <summary>
    /// The eventfd. Pass it to producers (SCM_RIGHTS, or inheritance after a dup without
    /// FD_CLOEXEC) and build an <see cref="EventFdDoorbellSender"/> from it there; or poll it
    /// for POLLIN in an event loop.
    /// </summary>
    public SafeFdHandle FileHandle => _fd;

    /// <inheritdoc />
    public override bool Wait(uint token, TimeSpan timeout)
    {
        var deadline = WaitDeadline.After(timeout);
        bool added = false;
        try
        {
            // Keeps the fd number from being closed and reused while we block on it.
            _fd.DangerousAddRef(ref added);
            var pfd = new pollfd { fd = _fd.Fd, events = LibC.POLLIN };
            while (true)
            {
                timespec left = deadline.RemainingTimespec();
                int rc = Sys.PPoll(&pfd, 1, &left, null);
                if (rc > 0)
                {
                    // Readable (or POLLERR/POLLHUP, which an eventfd does not raise): reset the count.
                    TryConsume();
                    return true;
                }

                if (rc == 0)
                {
                    return false;
                }

                int errno = LibC.errno;
                if (errno != LibC.EINTR)
                {
                    throw new UintrIpcException("ppoll on eventfd", errno);
                }

                // EINTR (a signal handler ran): continue with the remaining time only.
                if (deadline.HasPassed)
                {
                    return false;
                }
            }
        }
        finally
        {
            if (added)
            {
                _fd.DangerousRelease();
            }
        }
    }

    /// <summary>
    /// Reads and resets the counter without blocking. Returns true if at least one ring was
    /// pending. Call it after an event loop saw the fd readable.
    /// </summary>
    public bool TryConsume()
    {
        // O_NONBLOCK belongs to the file description the producers share: one can clear it and
        // read the counter between our poll and this read, which would then wait for the next
        // ring (none, once that producer has exited). RWF_NOWAIT does not wait whatever the flag
        // (eventfd's read_iter honours it); plain read(2) only where the kernel refuses it.
        return ReadCounter(_fd.Fd, readWhereNoWaitIsRefused: true) == true;
    }

    /// <summary>
    /// Reads and resets the counter of the eventfd <paramref name="fd"/> (kept open by the caller)
    /// with preadv2(RWF_NOWAIT), which does not wait whatever O_NONBLOCK says: true when a count
    /// was pending, false when it was empty. Where the kernel refuses RWF_NOWAIT, a plain read(2)
    /// if <paramref name="readWhereNoWaitIsRefused"/>, else null (nothing read).
    /// </summary>
    internal static bool? ReadCounter(int fd, bool readWhereNoWaitIsRefused)
    {
        ulong count;
        var iov = new Sys.IoVec { Base = &count, Length = 8 };
        while (true)
        {
            bool noWait = s_readNoWait;
            if (!noWait && !readWhereNoWaitIsRefused)
            {
                return null;
            }

            long n = noWait ? Sys.PReadV2(fd, &iov, 1, -1, Sys.RWF_NOWAIT) : LibC.read(fd, &count, 8);
            if (n == 8)
            {
                return true;
            }

            int errno = noWait ? Marshal.GetLastPInvokeError() : LibC.errno;
            if (errno == LibC.EAGAIN)
            {
                return false; // nothing pending (spurious wake-up, or consumed already)
            }

            if (noWait && (errno == LibC.EOPNOTSUPP || errno == LibC.ENOSYS))
            {
                s_readNoWait = false; // before Linux 4.14 (or an eventfd without FMODE_NOWAIT): O_NONBLOCK alone
                continue;
            }

            if (errno != LibC.EINTR)
            {
                throw new UintrIpcException("read from eventfd", errno);
            }
        }
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _fd.Dispose();
        }

        base.Dispose(disposing);
    }
}
