using System.Globalization;
using UintrIpc.Memory;

namespace UintrIpc.TestPeer.Commands;

/// <summary>
/// Reads /proc/self/maps: whether a region's mapping is still there. A mapping is named by its
/// start address and the inode of its file, so that another region mapped at the same address
/// later (by a test running in parallel) does not count.
/// </summary>
internal readonly unsafe record struct RegionMaps(nint Address, ulong Inode)
{
    public static RegionMaps Of(SharedRegion region)
    {
        Tmds.Linux.stat st;
        if (Tmds.Linux.LibC.fstat(region.FdHandle.Fd, &st) != 0)
        {
            throw new InvalidOperationException("fstat of the region failed");
        }

        return new RegionMaps((nint)region.BasePointer, (ulong)st.st_ino);
    }

    public bool IsMapped()
    {
        string prefix = ((ulong)Address).ToString("x", CultureInfo.InvariantCulture) + "-";
        string inode = Inode.ToString(CultureInfo.InvariantCulture);
        return File.ReadLines("/proc/self/maps").Any(line => line.StartsWith(prefix, StringComparison.Ordinal)
            && line.Split(' ', StringSplitOptions.RemoveEmptyEntries) is { Length: >= 5 } fields && fields[4] == inode);
    }
}
