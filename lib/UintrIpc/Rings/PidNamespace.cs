using System.Globalization;

namespace UintrIpc.Rings;

/// <summary>
/// The inode of this process's pid namespace (from /proc/self/ns/pid, "pid:[inode]"), 0 when it
/// cannot be read. A pid from another namespace names another process here, so the producer
/// table (uintripc.h 2f) judges a producer's liveness only when both namespaces are equal.
/// </summary>
internal static class PidNamespace
{
    private static readonly Lazy<ulong> s_current = new(Read);

    internal static ulong Current => s_current.Value;

    private static ulong Read()
    {
        try
        {
            string? target = new FileInfo("/proc/self/ns/pid").LinkTarget;
            if (target is not null && target.StartsWith("pid:[", StringComparison.Ordinal) && target.EndsWith(']')
                && ulong.TryParse(target.AsSpan(5, target.Length - 6), NumberStyles.None, CultureInfo.InvariantCulture, out ulong inode))
            {
                return inode;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }

        return 0;
    }
}
