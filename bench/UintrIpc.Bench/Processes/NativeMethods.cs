using System.Runtime.InteropServices;

namespace UintrIpc.Bench.Processes;

/// <summary>libc calls the harness needs that Tmds.LibC 0.5 lacks (clock_gettime, pidfd_*).</summary>
internal static unsafe partial class NativeMethods
{
    internal const int ClockMonotonic = 1;
    internal const int ClockProcessCpuTime = 2;
    internal const int ClockThreadCpuTime = 3;

    // Same numbers on x86-64 and arm64 (the unified syscall table since Linux 5.1).
    private const long SysPidfdOpen = 434;
    private const long SysPidfdGetfd = 438;

    [StructLayout(LayoutKind.Sequential)]
    internal struct Timespec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [LibraryImport("libc.so.6", EntryPoint = "clock_gettime", SetLastError = true)]
    internal static partial int ClockGetTime(int clock, Timespec* ts);

    /// <summary>clock_getcpuclockid(3): the CPU-time clock of process <paramref name="pid"/>; returns 0 or an errno.</summary>
    [LibraryImport("libc.so.6", EntryPoint = "clock_getcpuclockid")]
    internal static partial int ClockGetCpuClockId(int pid, int* clock);

    // syscall(2) is variadic; integer arguments travel in the same registers either way on
    // x86-64 SysV and AArch64 Linux, and glibc's syscall() never uses va_arg.
    [LibraryImport("libc.so.6", EntryPoint = "syscall", SetLastError = true)]
    private static partial long Syscall3(long number, long a1, long a2, long a3);

    /// <summary>pidfd_open(pid, 0): a descriptor that refers to process <paramref name="pid"/>; -1 with errno.</summary>
    internal static int PidfdOpen(int pid) => (int)Syscall3(SysPidfdOpen, pid, 0, 0);

    /// <summary>pidfd_getfd(pidfd, fd, 0): a duplicate (close-on-exec) of descriptor <paramref name="fd"/> of that process; -1 with errno.</summary>
    internal static int PidfdGetfd(int pidfd, int fd) => (int)Syscall3(SysPidfdGetfd, pidfd, fd, 0);
}
