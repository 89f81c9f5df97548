using System.Globalization;
using System.Runtime.InteropServices;
using Tmds.Linux;
using UintrIpc.Interop;

namespace UintrIpc.Signaling;

/// <summary>
/// A process known from a trusted source (our own pid, the peer of a bootstrap connection, a
/// child we started, or a pidfd someone handed us), as a pidfd: unlike a pid, it cannot come to
/// name another process after this one exits. Used as the target of the signal doorbell and to
/// tell whether a peer is still alive.
/// </summary>
internal sealed class ProcessHandle : IDisposable
{
    private ProcessHandle(int pid, SafeFdHandle? pidfd)
    {
        Pid = pid;
        FileHandle = pidfd;
    }

    /// <summary>The process id (the thread-group id tgkill takes).</summary>
    internal int Pid { get; }

    /// <summary>The pidfd, or null on a kernel without pidfd_open (before 5.3): then only the pid is known.</summary>
    internal SafeFdHandle? FileHandle { get; }

    /// <summary>Whether this is the calling process.</summary>
    internal bool IsThisProcess => Pid == Environment.ProcessId;

    /// <summary>
    /// Whether the process has exited: its pidfd is readable (POLLIN) once it has; without a
    /// pidfd, kill(pid, 0) says ESRCH (a reused pid then looks alive: the pidfd is the exact way).
    /// </summary>
    internal bool HasExited => HasExitedWithin(TimeSpan.Zero);

    /// <summary>
    /// Whether the process exits within <paramref name="wait"/> (at most a second; without a pidfd
    /// it is looked at once). A peer that is being killed closes its sockets before its pidfd
    /// reports the exit, so a caller that saw the close waits a moment before it believes the peer
    /// lives on.
    /// </summary>
    internal unsafe bool HasExitedWithin(TimeSpan wait)
    {
        if (FileHandle is null)
        {
            return LibC.kill(Pid, 0) != 0 && LibC.errno == LibC.ESRCH;
        }

        bool added = false;
        try
        {
            FileHandle.DangerousAddRef(ref added);
            var pfd = new pollfd { fd = FileHandle.Fd, events = LibC.POLLIN };
            long ns = (long)Math.Clamp(wait.TotalNanoseconds, 0, 1e9);
            timespec limit = new() { tv_sec = (time_t)(ns / 1_000_000_000), tv_nsec = (long_t)(ns % 1_000_000_000) };
            return Sys.PPoll(&pfd, 1, &limit, null) > 0; // EINTR: not exited (the callers that wait only choose a message)
        }
        finally
        {
            if (added)
            {
                FileHandle.DangerousRelease();
            }
        }
    }

    /// <summary>Opens the process <paramref name="pid"/> (pidfd_open), taken from a trusted source.</summary>
    /// <exception cref="UintrIpcException">No such process (ESRCH), or pidfd_open failed otherwise.</exception>
    internal static ProcessHandle Open(int pid)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(pid);
        int fd = Sys.PidFdOpen(pid);
        if (fd >= 0)
        {
            return new ProcessHandle(pid, new SafeFdHandle(fd, ownsHandle: true));
        }

        int errno = LibC.errno;
        if (errno == LibC.ENOSYS)
        {
            return new ProcessHandle(pid, null); // old kernel: the pid alone
        }

        throw new UintrIpcException($"pidfd_open({pid})", errno, errno == LibC.ESRCH ? "The process has exited." : null);
    }

    /// <summary>
    /// Takes ownership of <paramref name="pidfd"/>, a pidfd the kernel gave us for
    /// <paramref name="pid"/> (SO_PEERPIDFD), even one of a process that has exited since.
    /// </summary>
    internal static ProcessHandle FromOwnedPidFd(int pid, SafeFdHandle pidfd) => new(pid, pidfd);

    /// <summary>Another handle of the same process, with its own duplicate of the pidfd (disposed separately).</summary>
    /// <exception cref="UintrIpcException">fcntl(F_DUPFD_CLOEXEC) failed (out of descriptors).</exception>
    internal ProcessHandle Duplicate()
    {
        if (FileHandle is null)
        {
            return new ProcessHandle(Pid, null);
        }

        bool added = false;
        try
        {
            FileHandle.DangerousAddRef(ref added);
            return new ProcessHandle(Pid, DuplicateFd(FileHandle.Fd));
        }
        finally
        {
            if (added)
            {
                FileHandle.DangerousRelease();
            }
        }
    }

    /// <summary>
    /// Takes a pidfd handed to us (its pid is read from /proc/self/fdinfo, the kernel's word);
    /// keeps its own duplicate.
    /// </summary>
    /// <exception cref="ArgumentException">The descriptor is not a pidfd of a live process.</exception>
    internal static ProcessHandle FromPidFd(SafeHandle pidfd)
    {
        ArgumentNullException.ThrowIfNull(pidfd);
        int fd = (int)pidfd.DangerousGetHandle();
        int? pid = PidOfPidFd(fd);
        if (pid is not > 0)
        {
            throw new ArgumentException($"Descriptor {fd} is not a pidfd of a live process visible to us (its fdinfo has {pid switch { null => "no Pid line", 0 => "Pid 0: another pid namespace", _ => "Pid -1: the process exited" }}).", nameof(pidfd));
        }

        return new ProcessHandle(pid.Value, DuplicateFd(fd));
    }

    /// <summary>A pidfd of the calling process, to hand to producers (the signal doorbell's "descriptor").</summary>
    internal static SafeFdHandle? OpenOwnPidFd()
    {
        int fd = Sys.PidFdOpen(Environment.ProcessId);
        return fd >= 0 ? new SafeFdHandle(fd, ownsHandle: true) : null;
    }

    /// <inheritdoc />
    public void Dispose() => FileHandle?.Dispose();

    private static SafeFdHandle DuplicateFd(int fd)
    {
        int dup = LibC.fcntl(fd, LibC.F_DUPFD_CLOEXEC, 0);
        return dup >= 0 ? new SafeFdHandle(dup, ownsHandle: true) : throw UintrIpcException.FromLastError("fcntl(F_DUPFD_CLOEXEC) of a pidfd");
    }

    /// <summary>
    /// The pid a pidfd refers to (Pid: line of /proc/self/fdinfo): -1 if it exited and was reaped,
    /// 0 if its process is not in the pid namespace of /proc, null if it is not a pidfd (or /proc cannot be read).
    /// </summary>
    internal static int? PidOfPidFd(int fd)
    {
        try
        {
            foreach (string line in File.ReadLines($"/proc/self/fdinfo/{fd.ToString(CultureInfo.InvariantCulture)}"))
            {
                if (line.StartsWith("Pid:", StringComparison.Ordinal))
                {
                    return int.Parse(line.AsSpan(4).Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture);
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or OverflowException)
        {
        }

        return null;
    }
}
