using System.Diagnostics;
using UintrIpc.Interop;

namespace UintrIpc.Memory;

/// <summary>
/// Tells an opener that waits for a named region's header whether its creator is gone for good
/// (uintripc.h 1f, "Open"), so that it fails at once instead of at the end of its init timeout.
/// Only files whose name was created O_EXCL before the region was made meet it (where O_TMPFILE
/// or /proc is missing, and earlier versions of this library): a region made unnamed is whole and
/// locked when its name appears (uintripc.h 1b). Such a creator takes its creator lock right after
/// its O_EXCL create and before it sizes the file, and publishes only while it holds it:
/// <list type="bullet">
/// <item>a file with bytes (sized under the lock) whose lock nobody holds will never be published:
/// the verdict is final once the caller reads the magic again after it and still finds none;</item>
/// <item>an empty file whose lock nobody holds may be a creator between its create and its lock (a
/// few system calls) as well as one killed there: the verdict waits until it has stayed empty and
/// unlocked for <see cref="EmptyUnlockedGrace"/>, from the last time the lock was seen held.</item>
/// </list>
/// Not for a foreign creator that takes no lock: only openers that require a 1f creator use it.
/// </summary>
internal sealed class DeadCreatorCheck(SafeFdHandle fd, string path)
{
    /// <summary>How long an empty, unlocked file is given to be locked by a creator that has just created it.</summary>
    internal static readonly TimeSpan EmptyUnlockedGrace = TimeSpan.FromSeconds(1);

    // When the file was first seen empty and unlocked since the lock was last seen held; 0: not so.
    private long _emptyUnlockedSince;

    /// <summary>
    /// One look (fstat, then fcntl F_OFD_GETLK: in this order, so that a size seen proves a lock taken
    /// before the look at the lock). Null while a creator may still publish; otherwise the exception
    /// to throw, if the caller finds the file still unpublished after this call.
    /// </summary>
    internal UintrIpcException? Verdict()
    {
        long size = SharedRegion.FileSize(fd);
        if (RegionLocks.IsHeldElsewhere(fd, RegionLocks.CreatorByte))
        {
            _emptyUnlockedSince = 0;
            return null;
        }

        if (size > 0)
        {
            return Gone("it sized the file under its creator lock, which nobody holds now");
        }

        long now = Stopwatch.GetTimestamp();
        if (_emptyUnlockedSince == 0)
        {
            _emptyUnlockedSince = now;
            return null;
        }

        return Stopwatch.GetElapsedTime(_emptyUnlockedSince, now) >= EmptyUnlockedGrace
            ? Gone($"the file stayed empty with its creator lock free for {EmptyUnlockedGrace.TotalSeconds} s, and a live creator locks it right after it creates it")
            : null;
    }

    private UintrIpcException Gone(string evidence) => new(
        $"Refusing to open {path}: its creator is gone before it published the region ({evidence}: killed or failed while creating it), "
        + "so nobody will ever publish it. Create the channel again: a new creator replaces the file a dead one left.");
}
