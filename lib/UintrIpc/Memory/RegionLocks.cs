using Tmds.Linux;
using UintrIpc.Interop;

namespace UintrIpc.Memory;

/// <summary>
/// The role locks of a named region (uintripc.h section 1f): one-byte open file description locks
/// (fcntl F_OFD_SETLK / F_OFD_GETLK) on its /dev/shm file. The kernel holds them for an open file
/// description and drops them when its last descriptor and mapping go, so also when the process
/// dies: a lock that is held proves a live holder, and the lock names no process, so nothing is
/// ever signalled from it. Advisory: they order UintrIpc peers, not the bytes of the file.
/// </summary>
internal static unsafe class RegionLocks
{
    /// <summary>Held by the creator from before it publishes the header until it disposes the region.</summary>
    internal const long CreatorByte = 0;

    /// <summary>Held by the writer of ring <paramref name="ring"/> of a single-writer channel.</summary>
    internal static long WriterByte(int ring) => 1 + (2L * ring);

    /// <summary>Held by the reader of ring <paramref name="ring"/>.</summary>
    internal static long ReaderByte(int ring) => 2 + (2L * ring);

    /// <summary>
    /// Takes the lock on byte <paramref name="offset"/> for the open file description of
    /// <paramref name="fd"/>, exclusive or <paramref name="shared"/>; false when another open file
    /// description holds a lock that excludes it. Never waits. Taking it again on the same
    /// description succeeds (locks of one description merge).
    /// </summary>
    internal static bool TryLock(SafeFdHandle fd, long offset, bool shared = false)
    {
        var request = Range(shared ? LibC.F_RDLCK : LibC.F_WRLCK, offset);
        if (LibC.fcntl(fd.Fd, LibC.F_OFD_SETLK, &request) == 0)
        {
            return true;
        }

        int errno = LibC.errno;
        return errno == LibC.EAGAIN || errno == LibC.EACCES ? false
            : throw new UintrIpcException("fcntl(F_OFD_SETLK)", errno, "Open file description locks need Linux 3.15 or later.");
    }

    /// <summary>Releases this open file description's lock on byte <paramref name="offset"/> (nothing if it holds none).</summary>
    internal static void Unlock(SafeFdHandle fd, long offset)
    {
        var request = Range(LibC.F_UNLCK, offset);
        _ = LibC.fcntl(fd.Fd, LibC.F_OFD_SETLK, &request); // cannot fail on a valid descriptor; nothing to do if it did
    }

    /// <summary>
    /// Releases every lock of this open file description on the file: closing the descriptor is not
    /// enough while a mapping of the file lives (it keeps the description open). Nothing if it holds none.
    /// </summary>
    internal static void UnlockAll(SafeFdHandle fd)
    {
        var request = Range(LibC.F_UNLCK, 0);
        request.l_len = 0; // to the end of the file, and past it
        _ = LibC.fcntl(fd.Fd, LibC.F_OFD_SETLK, &request); // cannot fail on a valid descriptor; nothing to do if it did
    }

    /// <summary>Whether another open file description holds a lock on byte <paramref name="offset"/>, shared or exclusive (one system call).</summary>
    internal static bool IsHeldElsewhere(SafeFdHandle fd, long offset)
    {
        var query = Range(LibC.F_WRLCK, offset);
        if (LibC.fcntl(fd.Fd, LibC.F_OFD_GETLK, &query) != 0)
        {
            throw UintrIpcException.FromLastError("fcntl(F_OFD_GETLK)", "Open file description locks need Linux 3.15 or later.");
        }

        return query.l_type != LibC.F_UNLCK;
    }

    // l_pid must be 0 for the OFD commands; l_whence SEEK_SET, one byte.
    private static flock Range(int type, long offset) => new() { l_type = (short)type, l_whence = (short)LibC.SEEK_SET, l_start = offset, l_len = 1, l_pid = 0 };
}
