using System.Globalization;
using System.Runtime.InteropServices;
using UintrIpc.Channels;
using UintrIpc.Signaling;

namespace UintrIpc.Cli.Info;

/// <summary>Gathers <see cref="MachineReport"/>: the library's own detection (UintrSupport, IpcChannel.IsDoorbellAvailable) plus /proc and /sys.</summary>
internal static class MachineProbe
{
    /// <summary>Runs every check (a few milliseconds: the doorbell self-tests are quick).</summary>
    internal static MachineReport Run()
    {
        var doorbells = Enum.GetValues<DoorbellKind>()
            .Select(kind => new DoorbellReport(kind.ToString(), IpcChannel.IsDoorbellAvailable(kind, out string reason), reason)).ToList();
        return new MachineReport(
            ReadFirstLine("/proc/sys/kernel/osrelease") ?? RuntimeInformation.OSDescription,
            RuntimeInformation.ProcessArchitecture.ToString(),
            CpuModel(),
            Environment.ProcessorCount,
            UserInterrupts(),
            doorbells,
            IpcChannel.DefaultDoorbell.ToString(),
            Memory(),
            NativeShimPath());
    }

    private static UserInterruptReport UserInterrupts()
    {
        UintrSupport support;
        try
        {
            support = UintrSupport.Detect();
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return new UserInterruptReport(false, $"the native shim libuintripc.so could not be loaded: {e.Message}", "Shim", null, null, null, 0);
        }

        bool? cpu = support.FailedStep switch
        {
            UintrDetectionStep.Architecture => null,
            UintrDetectionStep.Cpu => false,
            _ => true,
        };
        return new UserInterruptReport(support.IsAvailable, support.Reason, support.FailedStep.ToString(), cpu,
            support.Variant, VariantDescription(support.Variant), support.Errno);
    }

    /// <summary>The kernel ABI variants the shim knows (shared/reference uintr-abi.md §1.1).</summary>
    private static string? VariantDescription(string? variant) => variant switch
    {
        "C" => "Intel POC v2 (syscalls 471-476)",
        "D" => "RFC v1 as posted to LKML in September 2021 (syscalls 449-454)",
        "E" => "uintr-next (syscalls 471-479, blocking waits)",
        _ => null,
    };

    private static MemoryReport Memory()
    {
        var pools = new List<HugePagePool>();
        if (Directory.Exists("/sys/kernel/mm/hugepages"))
        {
            foreach (string dir in Directory.EnumerateDirectories("/sys/kernel/mm/hugepages", "hugepages-*kB").Order(StringComparer.Ordinal))
            {
                string kb = Path.GetFileName(dir)["hugepages-".Length..^"kB".Length];
                if (long.TryParse(kb, CultureInfo.InvariantCulture, out long size))
                {
                    pools.Add(new HugePagePool(size * 1024, ReadLong(Path.Combine(dir, "nr_hugepages")), ReadLong(Path.Combine(dir, "free_hugepages"))));
                }
            }
        }

        // "always [madvise] never": the bracketed word is the mode in force.
        string? thpLine = ReadFirstLine("/sys/kernel/mm/transparent_hugepage/enabled");
        string? thp = thpLine is null ? null
            : thpLine.Split(' ').FirstOrDefault(w => w.StartsWith('[') && w.EndsWith(']'))?.Trim('[', ']') ?? thpLine;
        bool available = pools.Any(p => p.Free > 0) || thp is "always" or "madvise";
        return new MemoryReport(Environment.SystemPageSize, pools, thp, available, SharedMemoryFree());
    }

    private static long? SharedMemoryFree()
    {
        try
        {
            var drive = new DriveInfo(UintrIpc.Memory.SharedRegion.SharedMemoryDirectory);
            return drive.IsReady ? drive.AvailableFreeSpace : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            return null;
        }
    }

    private static string? CpuModel()
    {
        try
        {
            return File.ReadLines("/proc/cpuinfo")
                .FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))
                ?.Split(':', 2)[1].Trim();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>Where the shim was mapped from (detection above loaded it), from /proc/self/maps.</summary>
    internal static string? NativeShimPath()
    {
        try
        {
            return File.ReadLines("/proc/self/maps")
                .Select(l => l.IndexOf('/', StringComparison.Ordinal) is var i and >= 0 ? l[i..] : string.Empty)
                .FirstOrDefault(p => p.EndsWith("/libuintripc.so", StringComparison.Ordinal));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static string? ReadFirstLine(string path)
    {
        try
        {
            return File.Exists(path) ? File.ReadLines(path).FirstOrDefault()?.Trim() : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static long ReadLong(string path) => long.TryParse(ReadFirstLine(path), CultureInfo.InvariantCulture, out long value) ? value : 0;
}
