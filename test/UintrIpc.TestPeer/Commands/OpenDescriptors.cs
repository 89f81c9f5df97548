using System.Globalization;

namespace UintrIpc.TestPeer.Commands;

/// <summary>A process's open descriptors (/proc/&lt;pid&gt;/fd): for the test peer's own checks, and the tests' ProcessDescriptors.</summary>
internal static class OpenDescriptors
{
    /// <summary>
    /// Every open descriptor of process <paramref name="pid"/> (this one: "self") with what it
    /// points to. Other threads open and close descriptors meanwhile: one that closes between the
    /// listing and its readlink is left out (it was not ours, or we would not be closing it now).
    /// </summary>
    public static List<(int Fd, string Target)> List(string pid = "self")
    {
        var descriptors = new List<(int, string)>();
        foreach (string entry in Directory.GetFileSystemEntries($"/proc/{pid}/fd"))
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
