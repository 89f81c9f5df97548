using System.Runtime.InteropServices;

namespace UintrIpc.Bench.Processes;

/// <summary>
/// The CPU time this process has used (all its threads, CLOCK_PROCESS_CPUTIME_ID), the same
/// accounting the C baseline uses, so "fast but burns a core" is visible on both sides.
/// </summary>
internal static unsafe class CpuClock
{
    /// <summary>CPU nanoseconds used by the whole process so far.</summary>
    public static long ProcessNanoseconds() => Read(NativeMethods.ClockProcessCpuTime);

    /// <summary>CPU nanoseconds used by the calling thread so far.</summary>
    public static long ThreadNanoseconds() => Read(NativeMethods.ClockThreadCpuTime);

    /// <summary>
    /// CPU nanoseconds used so far by another process (all its threads): for servers the harness
    /// starts but does not control (the forwarding and gRPC servers), read from outside.
    /// </summary>
    public static long OtherProcessNanoseconds(int pid)
    {
        int clock;
        int error = NativeMethods.ClockGetCpuClockId(pid, &clock);
        return error == 0 ? Read(clock)
            : throw new InvalidOperationException($"clock_getcpuclockid({pid}) failed with errno {error}.");
    }

    private static long Read(int clock)
    {
        NativeMethods.Timespec ts;
        if (NativeMethods.ClockGetTime(clock, &ts) != 0)
        {
            throw new InvalidOperationException($"clock_gettime({clock}) failed with errno {Marshal.GetLastPInvokeError()}.");
        }

        return (ts.Seconds * 1_000_000_000L) + ts.Nanoseconds;
    }
}
