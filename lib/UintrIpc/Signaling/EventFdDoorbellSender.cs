using System.Runtime.InteropServices;
using Tmds.Linux;
using UintrIpc.Interop;

namespace UintrIpc.Signaling;

/// <summary>
/// The producer's side of the eventfd doorbell: writes 1 to the consumer's eventfd. Built
/// from the descriptor the consumer passed (SCM_RIGHTS, or inheritance); the sender keeps its
/// own duplicate, so the caller still owns and may close the descriptor it passed in.
/// </summary>
internal sealed unsafe class EventFdDoorbellSender : DoorbellSender
{
    private readonly SafeFdHandle _fd;

    /// <summary>Creates a sender on a duplicate of <paramref name="eventFd"/>.</summary>
    /// <exception cref="ArgumentException">The descriptor is not an eventfd.</exception>
    /// <exception cref="UintrIpcException">The descriptor could not be duplicated (is it open?).</exception>
    public EventFdDoorbellSender(SafeHandle eventFd)
    {
        ArgumentNullException.ThrowIfNull(eventFd);
        bool added = false;
        try
        {
            eventFd.DangerousAddRef(ref added);
            _fd = Duplicate((int)eventFd.DangerousGetHandle());
        }
        finally
        {
            if (added)
            {
                eventFd.DangerousRelease();
            }
        }
    }

    /// <summary>Creates a sender on a duplicate of the raw descriptor <paramref name="eventFd"/> (e.g. inherited from a parent).</summary>
    public EventFdDoorbellSender(int eventFd) => _fd = Duplicate(eventFd);

    /// <inheritdoc />
    public override DoorbellKind Kind => DoorbellKind.EventFd;

    /// <inheritdoc />
    public override void Ring()
    {
        // O_NONBLOCK belongs to the open file description the consumer shares with us, so a
        // hostile consumer can clear it and fill its counter: write(2) would then wait for a read
        // that never comes. Without it, write only when poll says a write of 1 cannot wait.
        int flags = LibC.fcntl(_fd.Fd, LibC.F_GETFL, 0);
        if (flags >= 0 && (flags & LibC.O_NONBLOCK) == 0 && !CounterHasRoom())
        {
            return; // the counter is at its maximum: a wake-up is pending already
        }

        // The consumer may still clear the flag and fill the counter before the write: the
        // write is listed, so that the watcher thread frees it if it waits (JammedEventFdWrites).
        long since = JammedEventFdWrites.Enter(this);
        try
        {
            Write();
        }
        finally
        {
            JammedEventFdWrites.Leave(this, since);
        }
    }

    /// <summary>
    /// On the watcher thread, while a ring's write waits: if the counter has no room (POLLOUT
    /// clear), reads it without waiting, which wakes the write. True when a count was read.
    /// </summary>
    internal bool ReadFullCounter()
    {
        bool added = false;
        try
        {
            _fd.DangerousAddRef(ref added); // the sender may be disposed on another thread meanwhile
            return !CounterHasRoom() && EventFdDoorbellReceiver.ReadCounter(_fd.Fd, readWhereNoWaitIsRefused: false) == true;
        }
        catch (Exception e) when (e is ObjectDisposedException or UintrIpcException)
        {
            return false; // disposed, or the read failed: the write stays for the next pass
        }
        finally
        {
            if (added)
            {
                _fd.DangerousRelease();
            }
        }
    }

    private void Write()
    {
        ulong one = 1;
        while (true)
        {
            if (LibC.write(_fd.Fd, &one, 8) == 8)
            {
                return;
            }

            int errno = LibC.errno;
            if (errno == LibC.EAGAIN)
            {
                return; // the counter is at its maximum: a wake-up is pending already
            }

            if (errno != LibC.EINTR)
            {
                throw new UintrIpcException("write to eventfd", errno);
            }
        }
    }

    /// <summary>
    /// Whether a write of 1 would not wait: POLLOUT, the counter is below 2^64-2. Only POLLOUT
    /// counts: a kernel completion (AIO's IOCB_FLAG_RESFD, io_uring's registered eventfd) adds 1
    /// even to a counter at 2^64-2, and at 2^64-1 poll says POLLERR alone while write(2) waits.
    /// A failed poll (ENOMEM) skips the ring too: the consumer's wait is bounded, a write is not.
    /// </summary>
    private bool CounterHasRoom()
    {
        var pollFd = new Sys.PollFd { Fd = _fd.Fd, Events = Sys.POLLOUT };
        while (Sys.Poll(&pollFd, 1, 0) < 0 && Marshal.GetLastPInvokeError() == LibC.EINTR)
        {
        }

        return (pollFd.ReturnedEvents & Sys.POLLOUT) != 0;
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

    /// <summary>
    /// Null when <paramref name="fd"/> is an eventfd (or not open: the use reports that with errno),
    /// else what it is. Descriptors from a peer are checked with this before use, so that a peer
    /// that sends a pipe, a file or a socket gets a protocol error, not our ArgumentException.
    /// </summary>
    internal static string? NotAnEventFd(int fd)
    {
        string? target = null;
        try
        {
            target = new FileInfo($"/proc/self/fd/{fd}").LinkTarget;
        }
        catch (IOException)
        {
            // No such descriptor: fcntl reports it with errno.
        }

        return target is not null && target != "anon_inode:[eventfd]" ? target : null;
    }

    private static SafeFdHandle Duplicate(int fd)
    {
        // Refuse anything but an eventfd: writing 8 bytes into a pipe or a file would "work"
        // and never wake anybody.
        if (NotAnEventFd(fd) is { } target)
        {
            throw new ArgumentException($"Descriptor {fd} is '{target}', not an eventfd: pass the FileHandle of an EventFdDoorbellReceiver.", nameof(fd));
        }

        int dup = LibC.fcntl(fd, LibC.F_DUPFD_CLOEXEC, 0);
        return dup >= 0 ? new SafeFdHandle(dup, ownsHandle: true)
            : throw UintrIpcException.FromLastError($"fcntl(F_DUPFD_CLOEXEC) of eventfd {fd}", "Is the descriptor open in this process?");
    }
}
