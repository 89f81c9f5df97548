using System.Runtime.InteropServices;

namespace SyscallForward.Executor;

/// <summary>The libc entry points Tmds.LibC lacks.</summary>
internal static unsafe partial class NativeCalls
{
    /// <summary>openat2's number: 437 in the common syscall table (x86-64 and AArch64 alike).</summary>
    private const long SysOpenAt2 = 437;

    /// <summary>RESOLVE_NO_MAGICLINKS (linux/openat2.h).</summary>
    internal const ulong ResolveNoMagicLinks = 0x02;

    /// <summary>RESOLVE_BENEATH (linux/openat2.h).</summary>
    internal const ulong ResolveBeneath = 0x08;

    /// <summary>gettid's number, which differs per architecture (glibc wraps it only since 2.30); -1 (ENOSYS) elsewhere.</summary>
    private static readonly long s_sysGetTid = RuntimeInformation.ProcessArchitecture switch
    {
        Architecture.X64 => 186,
        Architecture.Arm64 => 178,
        _ => -1,
    };

    /// <summary>The kernel thread id of the calling thread (what a thread-directed signal targets).</summary>
    internal static int GetTid() => (int)Syscall4(s_sysGetTid, 0, 0, 0, 0);

    /// <summary>The C library's first real-time signal (glibc keeps 32 and 33 for itself; .NET uses SIGRTMIN).</summary>
    [LibraryImport("libc.so.6", EntryPoint = "__libc_current_sigrtmin")]
    internal static partial int SigRtMin();

    /// <summary>The last real-time signal (64 on Linux).</summary>
    [LibraryImport("libc.so.6", EntryPoint = "__libc_current_sigrtmax")]
    internal static partial int SigRtMax();

    /// <summary>openat2(2): returns a descriptor, or -1 with errno.</summary>
    internal static int OpenAt2(int dirFd, byte* path, ulong flags, ulong mode, ulong resolve)
    {
        OpenHow how = new() { Flags = flags, Mode = mode, Resolve = resolve };
        return (int)Syscall4(SysOpenAt2, dirFd, (long)path, (long)&how, sizeof(OpenHow));
    }

    // syscall(2) is variadic; integer arguments travel in the same registers either way and
    // glibc's syscall() never uses va_arg (lib/UintrIpc/Interop/Sys.Signaling.cs does the same).
    [LibraryImport("libc.so.6", EntryPoint = "syscall", SetLastError = true)]
    private static partial long Syscall4(long number, long arg1, long arg2, long arg3, long arg4);

    /// <summary>struct open_how (linux/openat2.h).</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct OpenHow
    {
        public ulong Flags;
        public ulong Mode;
        public ulong Resolve;
    }
}
