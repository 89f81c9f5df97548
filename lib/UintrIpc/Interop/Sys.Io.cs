using System.Runtime.InteropServices;

namespace UintrIpc.Interop;

internal static unsafe partial class Sys
{
    /// <summary>preadv2 flag: fail with EAGAIN instead of waiting, whatever the file's O_NONBLOCK says (Linux 4.14).</summary>
    internal const int RWF_NOWAIT = 0x08;

    /// <summary>preadv2(2); <paramref name="offset"/> -1 reads at the file position (as readv).</summary>
    /// <remarks>With RWF_NOWAIT it does not block: no SuppressGCTransition all the same (a file system may take its time).</remarks>
    [LibraryImport(Libraries.LibC, EntryPoint = "preadv2", SetLastError = true)]
    internal static partial nint PReadV2(int fd, IoVec* iov, int iovCount, long offset, int flags);

    /// <summary>fallocate(2) with mode 0: allocates the file's blocks now, so that a full tmpfs fails here (ENOSPC) instead of at a page fault (SIGBUS).</summary>
    [LibraryImport(Libraries.LibC, EntryPoint = "fallocate", SetLastError = true)]
    internal static partial int Fallocate(int fd, int mode, long offset, long length);
}
