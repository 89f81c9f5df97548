using System.Runtime.InteropServices;
using Tmds.Linux;
using UintrIpc.Interop;

namespace UintrIpc.Bench.Processes;

/// <summary>
/// Moving descriptors between the harness and its child processes without a socket:
/// the parent's descriptors travel by inheritance (a duplicate without close-on-exec, made
/// just before the child starts and closed just after), the child's back to the parent by
/// pidfd_getfd, which a parent may use on its own child (ptrace access mode: ancestors
/// pass Yama's scope 1).
/// </summary>
internal static class FdPassing
{
    /// <summary>
    /// Duplicates <paramref name="fd"/> without FD_CLOEXEC so that a child started next
    /// inherits it under the returned number. Dispose the result once the child runs.
    /// </summary>
    public static SafeFdHandle Inheritable(SafeHandle fd)
    {
        ArgumentNullException.ThrowIfNull(fd);
        bool added = false;
        try
        {
            fd.DangerousAddRef(ref added);
            int dup = LibC.fcntl((int)fd.DangerousGetHandle(), LibC.F_DUPFD, 3);
            return dup >= 0 ? new SafeFdHandle(dup, ownsHandle: true)
                : throw new UintrIpcException("fcntl(F_DUPFD)", LibC.errno);
        }
        finally
        {
            if (added)
            {
                fd.DangerousRelease();
            }
        }
    }

    /// <summary>Takes a duplicate of descriptor <paramref name="fd"/> of the child <paramref name="pid"/>.</summary>
    public static SafeFdHandle FromProcess(int pid, int fd)
    {
        int pidfd = NativeMethods.PidfdOpen(pid);
        if (pidfd < 0)
        {
            throw new UintrIpcException($"pidfd_open({pid})", Marshal.GetLastPInvokeError(), "Linux 5.3+ is needed; is the child still running?");
        }

        try
        {
            int dup = NativeMethods.PidfdGetfd(pidfd, fd);
            return dup >= 0 ? new SafeFdHandle(dup, ownsHandle: true)
                : throw new UintrIpcException($"pidfd_getfd({pid}, {fd})", Marshal.GetLastPInvokeError(),
                    "Linux 5.6+ is needed, and ptrace access to the child (CAP_SYS_PTRACE or an ancestor under Yama scope <= 1).");
        }
        finally
        {
            _ = LibC.close(pidfd);
        }
    }
}
