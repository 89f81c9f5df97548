using System.Globalization;
using System.Text;
using Tmds.Linux;

namespace UintrIpc.Tests.Infrastructure;

/// <summary>A process's open descriptors (/proc/&lt;pid&gt;/fd), for tests that check what was opened or closed.</summary>
internal static unsafe class ProcessDescriptors
{
    /// <summary>Every open descriptor of process <paramref name="pid"/> (this one: "self") with what it points to (the test peer's <see cref="TestPeer.Commands.OpenDescriptors.List"/>).</summary>
    public static List<(int Fd, string Target)> List(string pid = "self") => TestPeer.Commands.OpenDescriptors.List(pid);

    /// <summary>
    /// The inodes of the memfds that process <paramref name="pid"/> (this one: "self") holds
    /// open: a memfd's link text is only its name, its inode says which one it is.
    /// </summary>
    public static HashSet<ulong> MemfdInodes(string pid)
    {
        var inodes = new HashSet<ulong>();
        foreach (string entry in Directory.GetFileSystemEntries($"/proc/{pid}/fd"))
        {
            string? target;
            try
            {
                target = new FileInfo(entry).LinkTarget;
            }
            catch (IOException)
            {
                continue; // closed since the listing
            }

            if (target is not null && target.Contains("memfd:", StringComparison.Ordinal) && Inode(entry) is { } inode)
            {
                inodes.Add(inode);
            }
        }

        return inodes;
    }

    /// <summary>How many of this process's mappings map the file with <paramref name="inode"/> (/proc/self/maps, fifth field).</summary>
    public static int Mappings(ulong inode)
    {
        string field = inode.ToString(CultureInfo.InvariantCulture);
        return File.ReadLines("/proc/self/maps").Count(line => line.Split(' ', 6, StringSplitOptions.RemoveEmptyEntries) is { Length: 6 } f && f[4] == field);
    }

    private static ulong? Inode(string path)
    {
        stat st;
        fixed (byte* p = Encoding.UTF8.GetBytes(path + "\0"))
        {
            return LibC.stat(p, &st) == 0 ? st.st_ino : null; // follows the link to the open file
        }
    }
}
