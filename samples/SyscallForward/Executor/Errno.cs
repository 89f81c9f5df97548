namespace SyscallForward.Executor;

/// <summary>The Linux errno values the executor answers itself (asm-generic/errno-base.h, errno.h).</summary>
internal static class Errno
{
    internal const int EPERM = 1;
    internal const int ENOENT = 2;
    internal const int EBADF = 9;
    internal const int EACCES = 13;
    internal const int EXDEV = 18;
    internal const int ENOTDIR = 20;
    internal const int EINVAL = 22;
    internal const int EMFILE = 24;
    internal const int ENAMETOOLONG = 36;
    internal const int ENOSYS = 38;
    internal const int ELOOP = 40;
}
