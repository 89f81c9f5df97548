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

    /// <summary>
    /// posix_fallocate(3): allocates the file's blocks now, so that a full tmpfs fails here (ENOSPC)
    /// instead of at a page fault (SIGBUS). Returns 0 or the error number (errno is not set). Where
    /// the file system has no fallocate (EOPNOTSUPP), glibc writes a byte to each block instead, so
    /// the blocks still exist before the mapping touches them.
    /// </summary>
    [LibraryImport(Libraries.LibC, EntryPoint = "posix_fallocate")]
    internal static partial int PosixFallocate(int fd, long offset, long length);

    /// <summary>
    /// linkat(2) (errno: <see cref="Marshal.GetLastPInvokeError"/>). With AT_SYMLINK_FOLLOW and
    /// /proc/self/fd/N as the old path it names an unnamed (O_TMPFILE) file with no capability;
    /// AT_EMPTY_PATH would need CAP_DAC_READ_SEARCH.
    /// </summary>
    [LibraryImport(Libraries.LibC, EntryPoint = "linkat", SetLastError = true)]
    internal static partial int LinkAt(int oldDirFd, byte* oldPath, int newDirFd, byte* newPath, int flags);
}
