using System.Runtime.InteropServices;
using Tmds.Linux;

namespace UintrIpc.Interop;

/// <summary>
/// libc calls the doorbells need that Tmds.LibC lacks or imports without errno
/// (its <c>ppoll</c> has SetLastError=false, and it has no gettid/tgkill numbers).
/// </summary>
internal static unsafe partial class Sys
{
    // Syscall numbers differ per architecture; glibc only wraps gettid/tgkill since 2.30.
    private static readonly long s_sysGettid = SyscallNumber(x64: 186, arm64: 178);
    private static readonly long s_sysTgkill = SyscallNumber(x64: 234, arm64: 131);
    private static readonly long s_sysPidfdOpen = SyscallNumber(x64: 434, arm64: 434);

    /// <summary>ppoll(2) with errno captured (EINTR must be told apart from real errors).</summary>
    /// <remarks>No SuppressGCTransition: this call blocks.</remarks>
    [LibraryImport(Libraries.LibC, EntryPoint = "ppoll", SetLastError = true)]
    internal static partial int PPoll(pollfd* fds, nuint count, timespec* timeout, sigset_t* sigmask);

    /// <summary>The C library's first real-time signal (glibc 34, musl 35: the library reserves some).</summary>
    [LibraryImport(Libraries.LibC, EntryPoint = "__libc_current_sigrtmin")]
    [SuppressGCTransition]
    internal static partial int SigRtMin();

    /// <summary>The last real-time signal (64 on Linux).</summary>
    [LibraryImport(Libraries.LibC, EntryPoint = "__libc_current_sigrtmax")]
    [SuppressGCTransition]
    internal static partial int SigRtMax();

    /// <summary>The kernel thread id of the calling thread (what tgkill targets).</summary>
    internal static int GetTid() => (int)Syscall0(s_sysGettid);

    /// <summary>
    /// tgkill(2): sends <paramref name="signal"/> to thread <paramref name="tid"/> of process
    /// <paramref name="pid"/> only (never to the process as a whole). Returns 0 or -1 with errno.
    /// </summary>
    internal static int TgKill(int pid, int tid, int signal) => (int)Syscall3(s_sysTgkill, pid, tid, signal);

    /// <summary>pidfd_open(2) (Linux 5.3): a descriptor for process <paramref name="pid"/>, close-on-exec. Returns it, or -1 with errno (ENOSYS before 5.3).</summary>
    internal static int PidFdOpen(int pid) => (int)Syscall3(s_sysPidfdOpen, pid, 0, 0);

    // syscall(2) is variadic; calling it with a fixed integer signature is what Tmds.LibC
    // does too: on x86-64 SysV and AArch64 Linux integer arguments travel in the same
    // registers either way, and glibc's syscall() is assembly that never uses va_arg.
    [LibraryImport(Libraries.LibC, EntryPoint = "syscall", SetLastError = true)]
    private static partial long Syscall0(long number);

    [LibraryImport(Libraries.LibC, EntryPoint = "syscall", SetLastError = true)]
    private static partial long Syscall3(long number, long arg1, long arg2, long arg3);

    private static long SyscallNumber(long x64, long arm64) => RuntimeInformation.ProcessArchitecture switch
    {
        Architecture.X64 => x64,
        Architecture.Arm64 => arm64,
        // An unknown number could call a different system call: refuse instead of guessing.
        _ => -1,
    };
}
