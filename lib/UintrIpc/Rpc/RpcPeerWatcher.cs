using System.Runtime.InteropServices;
using Tmds.Linux;
using UintrIpc.Bootstrap;
using UintrIpc.Interop;
using UintrIpc.Signaling;

namespace UintrIpc.Rpc;

// One thread per process watches the peer of every RPC session of the process, clients' and
// servers' alike, with one epoll set (uintripc_rpc.h section 7): the bootstrap connection
// (EPOLLHUP / EPOLLRDHUP when the peer closes it or dies; EPOLLIN, since nothing may be sent
// after the handshake) and, where the kernel has pidfds, the peer process itself (readable
// once it exits, even if a child it forked still holds its end of the socket). So a session
// learns of its peer's end at once, whether its thread spins, yields or sleeps in the
// doorbell, instead of after a park slice. A watch holds a reference on the socket handle, so
// its descriptor number cannot be reused while it is in the epoll set; dispose the watch
// before the connection (closing the connection is how the other side learns of the end).

/// <summary>Tells a session at once when its peer closed the bootstrap connection or exited.</summary>
internal static unsafe class RpcPeerWatcher
{
    private const int MaxEvents = 16;
    private static readonly Lock s_lock = new();
    private static readonly Dictionary<ulong, Registration> s_watches = [];
    private static int s_epoll = -1;
    private static ulong s_lastId;

    /// <summary>
    /// Calls <paramref name="onGone"/> once, on the watcher thread, when the peer of
    /// <paramref name="connection"/> closes it, sends anything, or exits, unless the returned
    /// watch is disposed first. The callback must be quick and must not throw.
    /// </summary>
    /// <exception cref="UintrIpcException">epoll_create1 or epoll_ctl failed (out of descriptors or memory).</exception>
    internal static IDisposable Watch(BootstrapConnection connection, Action onGone)
    {
        var registration = new Registration(connection.Socket, OpenPeer(connection), onGone);
        lock (s_lock)
        {
            try
            {
                EnsureStarted();
                registration.Id = ++s_lastId;
                registration.Add(s_epoll);
                s_watches.Add(registration.Id, registration);
            }
            catch
            {
                registration.Remove(s_epoll);
                throw;
            }
        }

        return registration;
    }

    /// <summary>
    /// A pidfd of the peer as the kernel pinned it at connect (readable at once if it has exited
    /// since), or null: no pidfds here, or (kernels before 6.5) its pid is gone or not visible to us.
    /// </summary>
    private static ProcessHandle? OpenPeer(BootstrapConnection connection)
    {
        if (!connection.IsPeerProcessPinned && connection.Peer.Pid <= 0)
        {
            return null;
        }

        try
        {
            return connection.OpenPeerProcess() is { FileHandle: not null } process ? process : null;
        }
        catch (UintrIpcException)
        {
            return null; // ESRCH: already gone; the socket shows it unless another process holds it
        }
    }

    private static void EnsureStarted()
    {
        if (s_epoll >= 0)
        {
            return;
        }

        int epoll = Sys.EpollCreate1(Sys.EPOLL_CLOEXEC);
        if (epoll < 0)
        {
            throw UintrIpcException.FromLastError("epoll_create1 for the RPC peer watcher");
        }

        s_epoll = epoll;
        new Thread(Run) { IsBackground = true, Name = "rpc peer watcher" }.Start();
    }

    private static void Run()
    {
        Sys.EpollEvent* events = stackalloc Sys.EpollEvent[MaxEvents];
        while (true)
        {
            // Bounded like every wait; with nothing to report it just waits again.
            int n = Sys.EpollWait(s_epoll, events, MaxEvents, 1000);
            if (n < 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                if (errno != LibC.EINTR)
                {
                    Thread.Sleep(100); // cannot happen with a valid epoll descriptor; do not spin if it does
                }

                continue;
            }

            for (int i = 0; i < n; i++)
            {
                Registration? fired;
                lock (s_lock)
                {
                    // Gone already: disposed by its owner, or its other descriptor fired first.
                    if (!s_watches.Remove(events[i].Data, out fired))
                    {
                        continue;
                    }

                    fired.Remove(s_epoll);
                }

                fired.Notify();
            }
        }
    }

    private sealed class Registration(SafeFdHandle socket, ProcessHandle? process, Action onGone) : IDisposable
    {
        private bool _socketAdded;
        private bool _pidFdAdded;
        private bool _socketReferenced;

        public ulong Id { get; set; }

        /// <summary>Adds the descriptors to the epoll set (under the lock).</summary>
        public void Add(int epoll)
        {
            socket.DangerousAddRef(ref _socketReferenced);
            _socketAdded = Control(epoll, Sys.EPOLL_CTL_ADD, socket.Fd, Sys.EPOLLIN | Sys.EPOLLRDHUP | Sys.EPOLLHUP | Sys.EPOLLERR);
            if (process?.FileHandle is { } pidfd)
            {
                _pidFdAdded = Control(epoll, Sys.EPOLL_CTL_ADD, pidfd.Fd, Sys.EPOLLIN);
            }
        }

        /// <summary>Takes the descriptors out of the epoll set and lets go of them (under the lock; once).</summary>
        public void Remove(int epoll)
        {
            if (_socketAdded)
            {
                Control(epoll, Sys.EPOLL_CTL_DEL, socket.Fd, 0);
                _socketAdded = false;
            }

            if (_pidFdAdded)
            {
                Control(epoll, Sys.EPOLL_CTL_DEL, process!.FileHandle!.Fd, 0);
                _pidFdAdded = false;
            }

            if (_socketReferenced)
            {
                socket.DangerousRelease();
                _socketReferenced = false;
            }

            process?.Dispose();
        }

        public void Notify() => onGone();

        public void Dispose()
        {
            lock (s_lock)
            {
                if (s_watches.Remove(Id))
                {
                    Remove(s_epoll);
                }
            }
        }

        private bool Control(int epoll, int op, int fd, uint events)
        {
            var ev = new Sys.EpollEvent { Events = events, Data = Id };
            if (Sys.EpollCtl(epoll, op, fd, &ev) == 0)
            {
                return true;
            }

            return op == Sys.EPOLL_CTL_DEL ? false : throw UintrIpcException.FromLastError("epoll_ctl(EPOLL_CTL_ADD) of an RPC session's peer");
        }
    }
}
