using System.Runtime.InteropServices;
using Tmds.Linux;
using UintrIpc.Interop;

namespace UintrIpc.Tests.Bootstrap;

/// <summary>Descriptors for bootstrap tests: eventfds, pipes, counts and flags.</summary>
internal static unsafe class TestFds
{
    /// <summary>Open descriptors of this process (entries of /proc/self/fd).</summary>
    public static int OpenCount() => Directory.GetFileSystemEntries("/proc/self/fd").Length;

    /// <summary>The open descriptors with their targets, for <see cref="Added"/>.</summary>
    public static HashSet<(int Fd, string Target)> Snapshot() => [.. UintrIpc.Tests.Infrastructure.ProcessDescriptors.List()];

    /// <summary>
    /// Descriptors open now that <paramref name="before"/> did not have (number and target): what a
    /// case left open. Unlike a count, a descriptor that something else closes meanwhile (a finalizer,
    /// a watcher thread ending an earlier test's watch) does not make a leak check fail, nor does a
    /// file the runtime opens lazily (an assembly, a library): only what IPC passes around counts
    /// (eventfds, pipes, sockets, memfds, devices, /dev/shm).
    /// </summary>
    public static string Added(HashSet<(int Fd, string Target)> before)
        => string.Join(", ", UintrIpc.Tests.Infrastructure.ProcessDescriptors.List()
            .Where(d => !before.Contains(d) && (!d.Target.StartsWith('/') || d.Target.StartsWith("/memfd:", StringComparison.Ordinal) || d.Target.StartsWith("/dev/", StringComparison.Ordinal)))
            .Select(d => $"{d.Fd} -> {d.Target}"));

    /// <summary>
    /// <see cref="Added"/> once it settled (<see cref="UintrIpc.Tests.Infrastructure.DescriptorSettle"/>):
    /// the test host's single snapshot also sees what other tests (other collections run in
    /// parallel) or an earlier case close a moment later, such as a pipe
    /// (GeneratedBootstrapInputTests, UINTRIPC_GENERATED_SEED=34020188, load 20); a leak stays.
    /// </summary>
    public static string AddedWhenSettled(HashSet<(int Fd, string Target)> before)
        => UintrIpc.Tests.Infrastructure.DescriptorSettle.Added(() => Added(before));

    public static SafeFdHandle EventFd()
    {
        int fd = LibC.eventfd(0, LibC.EFD_CLOEXEC | LibC.EFD_NONBLOCK);
        return fd >= 0 ? new SafeFdHandle(fd, ownsHandle: true) : throw UintrIpcException.FromLastError("eventfd");
    }

    public static (SafeFdHandle Read, SafeFdHandle Write) Pipe()
    {
        int* fds = stackalloc int[2];
        if (LibC.pipe2(fds, LibC.O_CLOEXEC | LibC.O_NONBLOCK) != 0)
        {
            throw UintrIpcException.FromLastError("pipe2");
        }

        return (new SafeFdHandle(fds[0], ownsHandle: true), new SafeFdHandle(fds[1], ownsHandle: true));
    }

    public static void WriteCounter(SafeFdHandle eventFd, ulong value)
    {
        Assert.Equal(sizeof(ulong), (long)LibC.write(eventFd.Fd, &value, sizeof(ulong)));
    }

    /// <summary>Reads an eventfd counter (non-blocking: the value must already be there).</summary>
    public static ulong ReadCounter(SafeFdHandle eventFd)
    {
        ulong value;
        long n = LibC.read(eventFd.Fd, &value, sizeof(ulong));
        Assert.True(n == sizeof(ulong), $"read(eventfd) returned {n}, errno {Marshal.GetLastPInvokeError()}");
        return value;
    }

    public static void WriteBytes(SafeFdHandle fd, ReadOnlySpan<byte> bytes)
    {
        fixed (byte* p = bytes)
        {
            Assert.Equal(bytes.Length, (long)LibC.write(fd.Fd, p, bytes.Length));
        }
    }

    public static byte[] ReadBytes(SafeFdHandle fd, int max)
    {
        var buffer = new byte[max];
        fixed (byte* p = buffer)
        {
            long n = LibC.read(fd.Fd, p, max);
            Assert.True(n >= 0, $"read failed, errno {Marshal.GetLastPInvokeError()}");
            return buffer[..(int)n];
        }
    }

    public static bool IsCloseOnExec(SafeFdHandle fd)
    {
        int flags = LibC.fcntl(fd.Fd, LibC.F_GETFD);
        Assert.True(flags >= 0, $"fcntl(F_GETFD) failed, errno {Marshal.GetLastPInvokeError()}");
        return (flags & LibC.FD_CLOEXEC) != 0;
    }

    /// <summary>Whether <paramref name="fd"/> is an open descriptor number in this process.</summary>
    public static bool IsOpen(int fd) => LibC.fcntl(fd, LibC.F_GETFD) >= 0;
}
