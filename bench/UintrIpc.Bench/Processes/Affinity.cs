using System.Globalization;
using Tmds.Linux;

namespace UintrIpc.Bench.Processes;

/// <summary>
/// CPU pinning for --pin: the whole process (every thread it has now; threads started later
/// inherit the mask of the thread that starts them, and child processes that of the thread
/// that forks them), as the C baseline pins its single-threaded processes.
/// </summary>
internal static unsafe class Affinity
{
    /// <summary>Pins every thread of this process to <paramref name="cpu"/> (sched_setaffinity per thread id).</summary>
    public static void PinProcess(int cpu)
    {
        cpu_set_t set = default;
        byte* bits = (byte*)&set;
        bits[cpu / 8] |= (byte)(1 << (cpu % 8));
        // Twice: a thread started while the first pass ran is caught by the second.
        for (int pass = 0; pass < 2; pass++)
        {
            foreach (string task in Directory.EnumerateDirectories("/proc/self/task"))
            {
                int tid = int.Parse(Path.GetFileName(task), CultureInfo.InvariantCulture);
                if (LibC.sched_setaffinity(tid, (size_t)sizeof(cpu_set_t), &set) != 0 && LibC.errno != LibC.ESRCH)
                {
                    throw new UintrIpcException($"sched_setaffinity(thread {tid}, CPU {cpu})", LibC.errno);
                }
            }
        }
    }
}
