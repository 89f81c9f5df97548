using System.Runtime.InteropServices;
using Tmds.Linux;

namespace UintrIpc.Tests.Bootstrap;

/// <summary>
/// Lowers RLIMIT_NOFILE and fills every descriptor number below it but a few, so that the next
/// open after those fails with EMFILE; Dispose closes the fillers and restores the limit. For
/// tests in the non-parallel collection only (the whole process shares the table).
/// </summary>
internal sealed unsafe partial class DescriptorLimit : IDisposable
{
    private const int RlimitNoFile = 7;
    private readonly Limit _saved;
    private readonly List<int> _fillers = [];

    private DescriptorLimit(int free)
    {
        Limit saved;
        Assert.Equal(0, GetRLimit(RlimitNoFile, &saved));
        _saved = saved;
        int highest = Directory.GetFileSystemEntries("/proc/self/fd").Max(entry => int.Parse(Path.GetFileName(entry), System.Globalization.CultureInfo.InvariantCulture));
        var lowered = new Limit { Current = (ulong)highest + 64, Maximum = saved.Maximum };
        Assert.Equal(0, SetRLimit(RlimitNoFile, &lowered));
        try
        {
            int fd;
            while ((fd = LibC.dup(0)) >= 0)
            {
                _fillers.Add(fd);
            }

            Assert.Equal(LibC.EMFILE, LibC.errno);
            Assert.True(_fillers.Count >= free, $"only {_fillers.Count} descriptors below the limit were free");
            for (int i = 0; i < free; i++)
            {
                Assert.Equal(0, LibC.close(_fillers[^1]));
                _fillers.RemoveAt(_fillers.Count - 1);
            }
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>Leaves exactly <paramref name="free"/> descriptor numbers free.</summary>
    public static DescriptorLimit LeavingFree(int free) => new(free);

    /// <summary>How many descriptors can be opened now (each probe is closed again).</summary>
    public static int Free()
    {
        var probes = new List<int>();
        int fd;
        while ((fd = LibC.dup(0)) >= 0)
        {
            probes.Add(fd);
        }

        probes.ForEach(p => _ = LibC.close(p));
        return probes.Count;
    }

    public void Dispose()
    {
        _fillers.ForEach(fd => _ = LibC.close(fd));
        _fillers.Clear();
        Limit saved = _saved;
        _ = SetRLimit(RlimitNoFile, &saved);
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct Limit
    {
        public ulong Current;
        public ulong Maximum;
    }

    [LibraryImport("libc", EntryPoint = "getrlimit", SetLastError = true)]
    private static partial int GetRLimit(int resource, Limit* limit);

    [LibraryImport("libc", EntryPoint = "setrlimit", SetLastError = true)]
    private static partial int SetRLimit(int resource, Limit* limit);
}
