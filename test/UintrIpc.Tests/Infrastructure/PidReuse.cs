using System.Diagnostics;
using System.Globalization;

namespace UintrIpc.Tests.Infrastructure;

/// <summary>Gives a new process a chosen pid (one that was freed), to show that a pid looked up late names a stranger.</summary>
internal static class PidReuse
{
    private const string NsLastPid = "/proc/sys/kernel/ns_last_pid";

    /// <summary>
    /// Starts `sleep` as process <paramref name="pid"/> (ns_last_pid, which needs CAP_SYS_ADMIN),
    /// retrying while other processes on the machine take the pid first; null if it cannot be done
    /// (<paramref name="why"/> says why, or after how many attempts it worked). The caller kills it.
    /// </summary>
    public static Process? StartWithPid(int pid, out string? why)
    {
        const int Attempts = 200;
        for (int attempt = 0; attempt < Attempts; attempt++)
        {
            try
            {
                File.WriteAllText(NsLastPid, (pid - 1).ToString(CultureInfo.InvariantCulture));
            }
            catch (Exception e) when (e is UnauthorizedAccessException or IOException)
            {
                why = $"{NsLastPid} cannot be written here ({e.Message}; it needs CAP_SYS_ADMIN)";
                return null;
            }

            var process = Process.Start(new ProcessStartInfo("sleep", "120") { UseShellExecute = false })!;
            if (process.Id == pid)
            {
                why = $"after {attempt + 1} attempt(s)";
                return process;
            }

            process.Kill();
            process.WaitForExit();
            process.Dispose();
        }

        why = $"other processes took it first in {Attempts} attempts";
        return null;
    }
}
