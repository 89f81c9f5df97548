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
