using System.Globalization;
using System.Runtime.InteropServices;
using Tmds.Linux;

namespace UintrIpc.Cli.Inspect;

/// <summary>
/// Peer liveness from /proc: whether a process named by the region exists, and which
/// processes map the region now (its device and inode in /proc/PID/maps). Nothing is sent to
/// any process: pids read from shared memory are only looked up.
/// </summary>
internal static class ProcessTable
{
    /// <summary>The processes other than this one whose mappings include the file of <paramref name="fd"/> (those this user may read).</summary>
    internal static unsafe IReadOnlySet<int> Mapping(SafeHandle fd)
    {
        stat st;
        if (LibC.fstat((int)fd.DangerousGetHandle(), &st) != 0)
        {
            return new HashSet<int>();
        }

        ulong dev = (ulong)st.st_dev;
        ulong ino = (ulong)st.st_ino;
        // glibc's gnu_dev_major/minor encoding of dev_t.
        ulong major = ((dev >> 8) & 0xfff) | ((dev >> 32) & ~0xfffUL);
        ulong minor = (dev & 0xff) | ((dev >> 12) & ~0xffUL);
        var pids = new HashSet<int>();
        foreach (string dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out int pid) || pid == Environment.ProcessId)
            {
                continue;
            }

            try
            {
                if (File.ReadLines(Path.Combine(dir, "maps")).Any(line => Maps(line, major, minor, ino)))
                {
                    pids.Add(pid);
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // The process ended, or belongs to another user.
            }
        }

        return pids;
    }

    /// <summary>What /proc says about <paramref name="pid"/>.</summary>
    internal static ProcessReport Describe(int pid, IReadOnlySet<int> mapping)
    {
        bool alive = pid > 0 && Directory.Exists($"/proc/{pid}");
        string? command = null;
        if (alive)
        {
            try
            {
                command = File.ReadAllText($"/proc/{pid}/comm").Trim();
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Gone, or not readable.
            }
        }

        return new ProcessReport(pid, alive, mapping.Contains(pid), command);
    }

    /// <summary>"start-end perms offset MAJ:MIN inode path": whether the device and inode are ours.</summary>
    private static bool Maps(string line, ulong major, ulong minor, ulong ino)
    {
        string[] fields = line.Split(' ', 6, StringSplitOptions.RemoveEmptyEntries);
        if (fields.Length < 5 || !ulong.TryParse(fields[4], NumberStyles.None, CultureInfo.InvariantCulture, out ulong inode) || inode != ino)
        {
            return false;
        }

        string[] device = fields[3].Split(':');
        return device.Length == 2
            && ulong.TryParse(device[0], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out ulong maj) && maj == major
            && ulong.TryParse(device[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out ulong min) && min == minor;
    }
}
