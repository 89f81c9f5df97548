using System.Runtime.InteropServices;

namespace UintrIpc.Interop;

internal static unsafe partial class Sys
{
    internal const short POLLIN = 0x001;
    internal const short POLLOUT = 0x004;
    internal const short POLLERR = 0x008;
    internal const short POLLHUP = 0x010;
    internal const short POLLNVAL = 0x020;
    internal const short POLLRDHUP = 0x2000;

    /// <summary><c>struct pollfd</c>.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct PollFd
    {
        public int Fd;
        public short Events;
        public short ReturnedEvents;
    }

    /// <summary>
    /// poll(2). Imported here rather than through Tmds.LibC because its import does not
    /// set the last error, and callers must tell EINTR (retry) from real failures.
    /// </summary>
    /// <remarks>Blocks: no SuppressGCTransition.</remarks>
    [LibraryImport(Libraries.LibC, EntryPoint = "poll", SetLastError = true)]
    internal static partial int Poll(PollFd* fds, nuint count, int timeoutMilliseconds);
}
