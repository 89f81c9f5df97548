using System.Runtime.InteropServices;
using Tmds.Linux;
using UintrIpc.Interop;

namespace UintrIpc.Signaling;

// One thread per process watches, with one epoll set, the descriptors that tell of a peer's end:
// a connected socket (EPOLLHUP / EPOLLRDHUP when the peer closes it or dies; EPOLLIN, for
// connections on which nothing may be sent any more) and a pidfd (readable once the process
// exits, even if a child it forked still holds its end of the socket). So a waiter learns of its
// peer's end at once, whether it spins, yields or sleeps in its doorbell, instead of after a
// park slice. Users: RPC sessions (RpcPeerWatcher, uintripc_rpc.h section 7) and channel readers
// whose writers came over a bootstrap connection (ConsumerCore). A watch holds a reference on
// the socket handle, so its descriptor number cannot be reused while it is in the epoll set.

/// <summary>Calls back once, on its own thread, when a watched peer's socket or process ends.</summary>
internal static unsafe class PeerEndWatcher
{
    private const int MaxEvents = 16;
    private static readonly Lock s_lock = new();
    private static readonly Dictionary<ulong, Registration> s_watches = [];
    private static int s_epoll = -1;
    private static ulong s_lastId;

    [ThreadStatic]
    private static bool t_isWatcher;

    /// <summary>True on the watcher thread (a sender made there is per task on C and D: WatcherSenderReleases).</summary>
    internal static bool IsCurrentThread => t_isWatcher;

    /// <summary>
    /// Calls <paramref name="onGone"/> once, on the watcher thread, when the peer closes
    /// <paramref name="socket"/>, sends anything on it, or <paramref name="process"/> exits, unless
    /// the returned watch is disposed first. The watch owns <paramref name="process"/> (a duplicate
    /// if the caller keeps its own). The callback must be quick and must not throw.
    /// </summary>
    /// <exception cref="UintrIpcException">epoll_create1 or epoll_ctl failed (out of descriptors or memory).</exception>
    internal static IDisposable Watch(SafeFdHandle? socket, ProcessHandle? process, Action onGone)
    {
        var registration = new Registration(socket, process, onGone);
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
    /// Starts the thread if it is not running, for its second duty: each pass (at least once a
    /// second) it frees eventfd writes a consumer jammed (JammedEventFdWrites). Without epoll
    /// (out of descriptors) nothing starts and such a write stays jammed, as before.
    /// </summary>
    internal static void EnsureRunning()
    {
        if (Volatile.Read(ref s_epoll) >= 0)
        {
            return;
        }

        lock (s_lock)
        {
            try
            {
                EnsureStarted();
            }
            catch (UintrIpcException)
            {
            }
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
            throw UintrIpcException.FromLastError("epoll_create1 for the peer end watcher");
        }

        s_epoll = epoll;
        new Thread(Run) { IsBackground = true, Name = "UintrIpc peer end watcher" }.Start();
    }

    private static void Run()
    {
        t_isWatcher = true;
        Sys.EpollEvent* events = stackalloc Sys.EpollEvent[MaxEvents];
        while (true)
        {
            // Bounded like every wait; with nothing to report it just waits again.
            int n = Sys.EpollWait(s_epoll, events, MaxEvents, 1000);
            JammedEventFdWrites.FreeJammed();
            WatcherSenderReleases.Drain();
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

                try
                {
                    fired.Notify();
                }
                catch (Exception)
                {
                    // A callback must not throw; if one does, this thread (every watch of the
                    // process) and the process must outlive it: the wake-up is a hint, and every
                    // waiter it would have woken also sees its peer's end at its park slice.
                }
            }
        }
    }

    private sealed class Registration(SafeFdHandle? socket, ProcessHandle? process, Action onGone) : IDisposable
    {
        private bool _socketAdded;
        private bool _pidFdAdded;
        private bool _socketReferenced;

        public ulong Id { get; set; }

        /// <summary>Adds the descriptors to the epoll set (under the lock).</summary>
        public void Add(int epoll)
        {
            if (socket is not null)
            {
                socket.DangerousAddRef(ref _socketReferenced);
                _socketAdded = Control(epoll, Sys.EPOLL_CTL_ADD, socket.Fd, Sys.EPOLLIN | Sys.EPOLLRDHUP | Sys.EPOLLHUP | Sys.EPOLLERR);
            }

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
                Control(epoll, Sys.EPOLL_CTL_DEL, socket!.Fd, 0);
                _socketAdded = false;
            }

            if (_pidFdAdded)
            {
                Control(epoll, Sys.EPOLL_CTL_DEL, process!.FileHandle!.Fd, 0);
                _pidFdAdded = false;
            }

            if (_socketReferenced)
            {
                socket!.DangerousRelease();
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

            return op == Sys.EPOLL_CTL_DEL ? false : throw UintrIpcException.FromLastError("epoll_ctl(EPOLL_CTL_ADD) of a peer's descriptor");
        }
    }
}
