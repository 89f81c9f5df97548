using System.Globalization;
using UintrIpc.Tests.Infrastructure;

namespace UintrIpc.Tests.Resources;

/// <summary>
/// What a process holds that a session could leave behind: open descriptors (/proc/pid/fd),
/// mappings of IPC regions (memfd:uintripc and /dev/shm lines of /proc/pid/maps), threads
/// (/proc/pid/task) and address space (VmSize). Threads the runtime starts and retires on its
/// own (thread pool workers and gate, the tiered compilation worker) are not counted: they come
/// and go with the load, not with sessions; every other thread is.
/// </summary>
internal readonly record struct ProcessResources(int Descriptors, int IpcMappings, int Threads, long AddressSpaceKb)
{
    private static readonly string[] s_runtimeTransient = [".NET TP ", ".NET Tiered Com"];

    /// <summary>The counts that must come back exactly (address space is compared separately).</summary>
    public (int Descriptors, int IpcMappings, int Threads) Counts => (Descriptors, IpcMappings, Threads);

    public static ProcessResources Of(int pid)
    {
        string dir = $"/proc/{pid.ToString(CultureInfo.InvariantCulture)}";
        int descriptors = Directory.GetFileSystemEntries($"{dir}/fd").Length;
        int ipc = File.ReadLines($"{dir}/maps").Count(l => l.Contains("/memfd:uintripc", StringComparison.Ordinal) || l.Contains(" /dev/shm/", StringComparison.Ordinal));
        int threads = 0;
        foreach (string task in Directory.GetDirectories($"{dir}/task"))
        {
            string name;
            try
            {
                name = File.ReadAllText($"{task}/comm").TrimEnd('\n');
            }
            catch (IOException)
            {
                continue; // ended since the listing
            }

            threads += s_runtimeTransient.Any(p => name.StartsWith(p, StringComparison.Ordinal)) ? 0 : 1;
        }

        long vm = long.Parse(File.ReadLines($"{dir}/status").First(l => l.StartsWith("VmSize:", StringComparison.Ordinal))
            .Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
        return new(descriptors, ipc, threads, vm);
    }

    /// <summary>
    /// An idle process's resources, per count the most seen over 1.5 s: an accept loop's per-wait
    /// cancel eventfd is closed between two 1 s waits, so one look can miss it
    /// (GeneratedRpcRequestTests.Baseline). Take it after a session has ended.
    /// </summary>
    public static ProcessResources Baseline(int pid)
    {
        var most = Of(pid);
        long end = Environment.TickCount64 + 1500;
        while (Environment.TickCount64 < end)
        {
            Thread.Sleep(20);
            var now = Of(pid);
            most = new(Math.Max(most.Descriptors, now.Descriptors), Math.Max(most.IpcMappings, now.IpcMappings), Math.Max(most.Threads, now.Threads), Math.Max(most.AddressSpaceKb, now.AddressSpaceKb));
        }

        return most;
    }

    /// <summary>
    /// Looks again every 20 ms until the counts equal <paramref name="baseline"/>'s, or they have
    /// not changed for <see cref="DescriptorSettle.Bound"/> (a teardown in flight moves them; a leak stays); returns the last look.
    /// </summary>
    public static ProcessResources SettleTo(int pid, ProcessResources baseline)
    {
        var now = Of(pid);
        long lastChange = Environment.TickCount64;
        while (now.Counts != baseline.Counts && Environment.TickCount64 - lastChange < (long)DescriptorSettle.Bound.TotalMilliseconds)
        {
            Thread.Sleep(20);
            var next = Of(pid);
            if (next.Counts != now.Counts)
            {
                lastChange = Environment.TickCount64;
            }

            now = next;
        }

        return now;
    }

    /// <summary>The size of the largest IPC region <paramref name="pid"/> maps now, in KiB (0 if none).</summary>
    public static long LargestIpcMappingKb(int pid)
        => File.ReadLines($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/maps")
            .Where(l => l.Contains("/memfd:uintripc", StringComparison.Ordinal))
            .Select(l => l.Split(' ')[0].Split('-'))
            .Select(r => (long.Parse(r[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture) - long.Parse(r[0], NumberStyles.HexNumber, CultureInfo.InvariantCulture)) / 1024)
            .DefaultIfEmpty(0).Max();

    public override string ToString() => $"{Descriptors} descriptors, {IpcMappings} IPC mappings, {Threads} threads, {AddressSpaceKb} KiB of address space";
}
