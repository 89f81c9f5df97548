using System.Runtime.InteropServices;
using System.Text;
using Tmds.Linux;
using UintrIpc.Interop;

namespace UintrIpc.Memory;

/// <summary>
/// A named region made in an unnamed file and given its name only once whole (uintripc.h 1b):
/// an opener never meets a file still being made, and a creator that dies leaves nothing.
/// </summary>
internal sealed unsafe partial class SharedRegion
{
    /// <summary>
    /// Tests only: true for a path makes its named create take the O_EXCL way, the one kept where
    /// O_TMPFILE or /proc is missing (and the one earlier versions take), so that it and the openers
    /// of the files it leaves can be tested here. Null in production: one static load.
    /// </summary>
    internal static Func<string, bool>? CreateInPlaceForTests;

    /// <summary>
    /// Set once linkat refused to name an unnamed file in a way that will not change (a seccomp
    /// filter, a file system without hard links): later creates take the O_EXCL way at once.
    /// </summary>
    private static volatile bool s_linkRefused;

    /// <summary>
    /// An unnamed file in /dev/shm (O_TMPFILE) that linkat can name through /proc/self/fd; null
    /// where either is missing (any error: the O_EXCL create that follows reports its own).
    /// </summary>
    private static SafeFdHandle? TryOpenUnnamed(UnixFileMode mode)
    {
        SafeFdHandle? fd = TryOpenPath(SharedMemoryDirectory, LibC.O_TMPFILE | LibC.O_RDWR | LibC.O_CLOEXEC, (int)mode, out _);
        if (fd is null)
        {
            return null; // EOPNOTSUPP, EISDIR, EINVAL: a kernel or file system without O_TMPFILE
        }

        fixed (byte* link = ProcLink(fd))
        {
            if (LibC.faccessat(LibC.AT_FDCWD, link, 0 /* F_OK */, LibC.AT_SYMLINK_NOFOLLOW) == 0)
            {
                return fd;
            }
        }

        fd.Dispose(); // /proc not mounted: nothing to name it through
        return null;
    }

    /// <summary>
    /// Locks, builds and publishes the region in the unnamed <paramref name="fd"/>, then links it
    /// to its name. Before the link, every failure (and the creator's death) leaves nothing: the
    /// kernel frees an unnamed file with its last descriptor and mapping. Null when linkat failed
    /// other than with EEXIST: the region is dropped unnamed and the caller creates it O_EXCL,
    /// which works where linking does not or reports the failure in its own words.
    /// </summary>
    private static SharedRegion? CreateUnnamedThenLink(SafeFdHandle fd, string name, UnixFileMode mode, uint regionKind, ReadOnlySpan<PartSpec> parts, (long Total, long[] Offsets) layout)
    {
        string path = PathOf(name);
        SharedRegion? region = null;
        try
        {
            CreatedBeforeLockForTests?.Invoke(path);
            // The lock belongs to the open file description, not to the name: it holds after the
            // link, so an opener that finds the name finds it held. Free unless another process
            // of this user opened the file through /proc/<pid>/fd.
            if (!RegionLocks.TryLock(fd, RegionLocks.CreatorByte))
            {
                throw new UintrIpcException($"create {path}", LibC.EAGAIN,
                    $"Another process of this user holds the creator lock of the unnamed file this creator made (it opened /proc/{Environment.ProcessId}/fd/{fd.Fd}); create the channel again.");
            }

            region = InitializeNamed(fd, name, mode, regionKind, parts, layout);
            if (LinkName(fd, path))
            {
                return region;
            }

            region.Dispose(); // never named: nothing to unlink
            return null;
        }
        catch
        {
            // No name to remove: it was never given.
            if (region is not null)
            {
                region.Dispose();
            }
            else
            {
                fd.Dispose();
            }

            throw;
        }
    }

    /// <summary>
    /// Names the unnamed <paramref name="fd"/> <paramref name="path"/>. A name that exists is
    /// handled as an O_EXCL create's EEXIST: one a dead creator left is removed and the link tried
    /// again (twice at most); otherwise the same EEXIST and hint. False for any other failure.
    /// </summary>
    private static bool LinkName(SafeFdHandle fd, string path)
    {
        byte[] link = ProcLink(fd);
        byte[] name = Encoding.UTF8.GetBytes(path + "\0");
        for (int attempt = 0; ; attempt++)
        {
            int errno;
            fixed (byte* from = link, to = name)
            {
                if (Sys.LinkAt(LibC.AT_FDCWD, from, LibC.AT_FDCWD, to, LibC.AT_SYMLINK_FOLLOW) == 0)
                {
                    return true;
                }

                errno = Marshal.GetLastPInvokeError();
            }

            if (errno != LibC.EEXIST)
            {
                s_linkRefused |= errno == LibC.EPERM || errno == LibC.ENOSYS || errno == LibC.EXDEV || errno == LibC.EOPNOTSUPP;
                return false;
            }

            string? stale = null;
            if (attempt < 2 && TryRemoveStale(path, out stale))
            {
                continue;
            }

            throw OpenError("create", path, errno, creating: true, stale);
        }
    }

    private static byte[] ProcLink(SafeFdHandle fd) => Encoding.UTF8.GetBytes($"/proc/self/fd/{fd.Fd}\0");
}
