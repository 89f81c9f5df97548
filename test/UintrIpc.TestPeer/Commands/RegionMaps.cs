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

    /// <summary>
    /// Whether a private anonymous mapping (inode 0) with <paramref name="permissions"/> (writable by
    /// default; "r--p": the fallback under strict overcommit) covers the region's <paramref name="size"/>
    /// bytes: the placeholder its last lease's release leaves until the region is collected.
    /// </summary>
    public bool IsPlaceholder(long size, string permissions = "rw-p")
    {
        ulong address = (ulong)Address;
        return File.ReadLines("/proc/self/maps").Any(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries) is { Length: >= 5 } fields
            && fields[1] == permissions && fields[4] == "0"
            && fields[0].Split('-') is [string start, string end]
            && ulong.Parse(start, NumberStyles.HexNumber, CultureInfo.InvariantCulture) <= address
            && ulong.Parse(end, NumberStyles.HexNumber, CultureInfo.InvariantCulture) >= address + (ulong)size);
    }

    public bool IsMapped()
    {
        string prefix = ((ulong)Address).ToString("x", CultureInfo.InvariantCulture) + "-";
        string inode = Inode.ToString(CultureInfo.InvariantCulture);
        return File.ReadLines("/proc/self/maps").Any(line => line.StartsWith(prefix, StringComparison.Ordinal)
            && line.Split(' ', StringSplitOptions.RemoveEmptyEntries) is { Length: >= 5 } fields && fields[4] == inode);
    }
}
