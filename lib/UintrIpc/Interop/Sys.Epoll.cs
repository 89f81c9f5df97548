using System.Runtime.InteropServices;

namespace UintrIpc.Interop;

internal static unsafe partial class Sys
{
    internal const int EPOLL_CLOEXEC = 0x80000;
    internal const int EPOLL_CTL_ADD = 1;
    internal const int EPOLL_CTL_DEL = 2;
    internal const uint EPOLLIN = 0x001;
    internal const uint EPOLLERR = 0x008;
    internal const uint EPOLLHUP = 0x010;
    internal const uint EPOLLRDHUP = 0x2000;

    /// <summary><c>struct epoll_event</c>: packed on x86-64 (12 bytes: events, then the 64-bit data).</summary>
    [StructLayout(LayoutKind.Sequential, Pack = 4)]
    internal struct EpollEvent
    {
        public uint Events;
        public ulong Data;
    }

    /// <summary>epoll_create1(2), imported with SetLastError so that callers see errno.</summary>
    [LibraryImport(Libraries.LibC, EntryPoint = "epoll_create1", SetLastError = true)]
    internal static partial int EpollCreate1(int flags);

    [LibraryImport(Libraries.LibC, EntryPoint = "epoll_ctl", SetLastError = true)]
    internal static partial int EpollCtl(int epfd, int op, int fd, EpollEvent* ev);

    /// <summary>epoll_wait(2). Blocks: no SuppressGCTransition.</summary>
    [LibraryImport(Libraries.LibC, EntryPoint = "epoll_wait", SetLastError = true)]
    internal static partial int EpollWait(int epfd, EpollEvent* events, int maxEvents, int timeoutMilliseconds);
}
