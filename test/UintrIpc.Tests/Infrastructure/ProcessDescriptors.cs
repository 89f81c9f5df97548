using System.Globalization;

namespace UintrIpc.Tests.Infrastructure;

/// <summary>This process's open descriptors (/proc/self/fd), for tests that check what was opened or closed.</summary>
internal static class ProcessDescriptors
{
    /// <summary>
    /// Every open descriptor with what it points to. Other tests' threads open and close
    /// descriptors meanwhile: one that closes between the listing and its readlink is left out
    /// (it was not ours, or we would not be closing it now).
    /// </summary>
    public static List<(int Fd, string Target)> List()
    {
        var descriptors = new List<(int, string)>();
        foreach (string entry in Directory.GetFileSystemEntries("/proc/self/fd"))
        {
            string? target;
            try
            {
                target = new FileInfo(entry).LinkTarget;
            }
            catch (IOException)
            {
                continue; // FileNotFoundException: closed since the listing
            }

            if (target is not null)
            {
                descriptors.Add((int.Parse(Path.GetFileName(entry), CultureInfo.InvariantCulture), target));
            }
        }

        return descriptors;
    }
}
