using System.Diagnostics;
using System.Runtime.InteropServices;

namespace UintrIpc.Bench.Results;

/// <summary>Where the numbers were taken: CPU, kernel, runtime, load.</summary>
internal sealed record MachineInfo(
    string CpuModel, int Cpus, string Uname, string Lscpu, string Runtime, string Os, string LoadAverageBefore, string? LoadAverageAfter,
    bool TieredCompilation, bool TieredPgo)
{
    public static MachineInfo Capture()
    {
        string lscpu = Run("lscpu", string.Empty);
        string model = lscpu.Split('\n').FirstOrDefault(l => l.StartsWith("Model name:", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? CpuInfoModel();
        return new MachineInfo(
            model, Environment.ProcessorCount, Run("uname", "-a").Trim(), lscpu.TrimEnd(),
            RuntimeInformation.FrameworkDescription, RuntimeInformation.OSDescription, LoadAverage(), null,
            AppContext.TryGetSwitch("System.Runtime.TieredCompilation", out bool tc) ? tc : true,
            AppContext.TryGetSwitch("System.Runtime.TieredPGO", out bool pgo) ? pgo : true);
    }

    /// <summary>
    /// Whether <paramref name="cpuModel"/> is a CPU emulated in software: QEMU's TCG, as in the
    /// emulated uintr machine (../shared/uintr-lab), whose user interrupts work but whose timings
    /// mean nothing for hardware.
    /// </summary>
    public static bool IsEmulated(string cpuModel) => cpuModel.Contains("TCG", StringComparison.Ordinal);

    /// <summary>The model name of /proc/cpuinfo (where lscpu is missing, as in the emulated machine's busybox).</summary>
    public static string CpuInfoModel()
    {
        try
        {
            return File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown";
        }
        catch (IOException)
        {
            return "unknown";
        }
    }

    /// <summary>/proc/loadavg: other load on the machine disturbs every number.</summary>
    public static string LoadAverage()
    {
        try
        {
            return File.ReadAllText("/proc/loadavg").Trim();
        }
        catch (IOException)
        {
            return "unknown";
        }
    }

    private static string Run(string program, string args)
    {
        try
        {
            var psi = new ProcessStartInfo(program, args) { RedirectStandardOutput = true, UseShellExecute = false };
            using var p = Process.Start(psi);
            if (p is null)
            {
                return string.Empty;
            }

            string output = p.StandardOutput.ReadToEnd();
            p.WaitForExit(5000);
            return output;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return $"({program} not available)";
        }
    }
}
