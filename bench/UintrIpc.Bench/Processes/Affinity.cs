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

    /// <summary>
    /// Runs <paramref name="start"/> (which starts a child process) with the calling thread
    /// allowed on every CPU, then restores its mask. A child inherits the mask of the thread that
    /// forks it, and a .NET child started inside a pinned harness would see one CPU for its
    /// whole life (Environment.ProcessorCount = 1): its runtime then runs single-CPU defaults,
    /// among them a tiered-compilation delay ten times longer, so its hot methods were still
    /// tier-0 code when the measurement started. Children pin themselves (--cpu) once running.
    /// </summary>
    public static T WithAllCpus<T>(Func<T> start)
    {
        cpu_set_t saved = default;
        if (LibC.sched_getaffinity(0, (size_t)sizeof(cpu_set_t), &saved) != 0)
        {
            throw new UintrIpcException("sched_getaffinity(this thread)", LibC.errno);
        }

        cpu_set_t all = default;
        new Span<byte>(&all, sizeof(cpu_set_t)).Fill(0xff); // the kernel keeps the CPUs that exist
        if (LibC.sched_setaffinity(0, (size_t)sizeof(cpu_set_t), &all) != 0)
        {
            throw new UintrIpcException("sched_setaffinity(this thread, every CPU)", LibC.errno);
        }

        try
        {
            return start();
        }
        finally
        {
            _ = LibC.sched_setaffinity(0, (size_t)sizeof(cpu_set_t), &saved);
        }
    }
}
