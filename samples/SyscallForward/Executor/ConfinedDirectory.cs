using System.Runtime.InteropServices;
using System.Text;
using Tmds.Linux;
using UintrIpc;

namespace SyscallForward.Executor;

/// <summary>
/// The directory a server serves: opens paths beneath it and nowhere else. Absolute paths and
/// ".." components are refused before the kernel sees them (EXDEV, as openat2 RESOLVE_BENEATH
/// answers); symbolic links are followed only while they stay beneath the start directory.
/// Thread-safe; returns raw descriptors the caller owns, or -errno.
/// </summary>
public sealed unsafe class ConfinedDirectory : IDisposable
{
    /// <summary>The open flags a client may pass (UIPC_FWD_OPEN_FLAGS_ALLOWED of uintripc_fwd.h).</summary>
    public const int AllowedOpenFlags =
        OAccMode | OCreat | OExcl | OTrunc | OAppend | ONonBlock | ODSync | ODirectory | ONoFollow | OCloExec | OSync | ONoCtty;

    /// <summary>The longest path accepted, in bytes (UIPC_FWD_PATH_MAX).</summary>
    public const int PathMax = 4095;

    // Linux open flags (asm-generic/fcntl.h; x86-64 and AArch64 agree on these).
    private const int OAccMode = 0x3;
    private const int OCreat = 0x40;
    private const int OExcl = 0x80;
    private const int ONoCtty = 0x100;
    private const int OTrunc = 0x200;
    private const int OAppend = 0x400;
    /// <summary>O_NONBLOCK (x86-64 and AArch64).</summary>
    internal const int ONonBlock = 0x800;
    private const int ODSync = 0x1000;
    private const int ODirectory = 0x10000;
    private const int ONoFollow = 0x20000;
    private const int OCloExec = 0x80000;
    private const int OSync = 0x101000;
    private const int OPath = 0x200000;

    // POSIX asks for at least 8 links per resolution; Linux allows 40 (MAXSYMLINKS).
    private const int MaxSymlinks = 40;
    private const uint SIfMt = 0xF000;
    private const uint SIfDir = 0x4000;
    private const uint SIfLnk = 0xA000;

    private readonly int _rootFd;
    private int _disposed;

    /// <summary>Opens <paramref name="path"/> (which must be a directory) as the confinement root.</summary>
    /// <param name="path">The directory to serve.</param>
    /// <param name="mode"><see cref="ConfinementMode.Auto"/> picks openat2 where the kernel has it.</param>
    /// <exception cref="UintrIpcException">The directory cannot be opened, or openat2 was asked for and is missing.</exception>
    public ConfinedDirectory(string path, ConfinementMode mode = ConfinementMode.Auto)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        FullPath = Path.GetFullPath(path);
        byte[] bytes = NulTerminated(FullPath);
        fixed (byte* p = bytes)
        {
            _rootFd = LibC.open(p, OPath | ODirectory | OCloExec);
        }

        if (_rootFd < 0)
        {
            throw new UintrIpcException($"open directory {FullPath}", LibC.errno, "Give an existing directory the server may read.");
        }

        int probe = mode == ConfinementMode.Walk ? 0 : ProbeOpenAt2();
        if (mode == ConfinementMode.OpenAt2 && probe != 0)
        {
            _ = LibC.close(_rootFd);
            throw new UintrIpcException("openat2 with RESOLVE_BENEATH", probe, "This kernel lacks openat2 (Linux 5.6+); use the walk mode.");
        }

        Mode = mode == ConfinementMode.Walk || probe != 0 ? ConfinementMode.Walk : ConfinementMode.OpenAt2;
    }

    /// <summary>The absolute path of the directory.</summary>
    public string FullPath { get; }

    /// <summary>The mode in use: <see cref="ConfinementMode.OpenAt2"/> or <see cref="ConfinementMode.Walk"/>.</summary>
    public ConfinementMode Mode { get; }

    /// <summary>
    /// Opens <paramref name="path"/> beneath the root (<paramref name="startFd"/> &lt; 0) or beneath a
    /// directory descriptor the caller holds (which must itself lie beneath the root).
    /// </summary>
    /// <param name="startFd">-1 for the root, or a directory descriptor to resolve from.</param>
    /// <param name="path">The path bytes as the client sent them (no NUL).</param>
    /// <param name="flags">The client's open flags (only <see cref="AllowedOpenFlags"/>).</param>
    /// <param name="mode">Permission bits for O_CREAT (only 0777 is used).</param>
    /// <returns>A new descriptor (O_CLOEXEC) the caller owns, or -errno.</returns>
    /// <remarks>
    /// Never waits: opened with O_NONBLOCK, which stays (the executor waits for a client that asked
    /// for a blocking descriptor). A write-only open of a FIFO without a reader answers ENXIO, an
    /// open of a leased file EAGAIN.
    /// </remarks>
    public int Open(int startFd, ReadOnlySpan<byte> path, int flags, int mode)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if ((flags & ~AllowedOpenFlags) != 0 || (flags & OAccMode) == OAccMode)
        {
            return -Errno.EINVAL;
        }

        int refused = CheckPath(path);
        if (refused != 0)
        {
            return -refused;
        }

        int start = startFd < 0 ? _rootFd : startFd;
        // The open itself never waits: without O_NONBLOCK a read-only open of a FIFO waits for a
        // writer, forever if none comes, and holds the thread that runs it (the client's session
        // thread, or a worker with --blocking-io) also after the client has gone. The flag stays
        // set: a client that asked for a blocking descriptor has its reads and writes waited for
        // by the executor, in poll together with the client's process (SyscallExecutor.ReadOrWrite).
        flags |= OCloExec | ONoCtty | ONonBlock;
        int createMode = (flags & OCreat) != 0 ? mode & 0x1FF : 0; // openat2 refuses a mode without O_CREAT
        Span<byte> buffer = stackalloc byte[PathMax + 1];
        path.CopyTo(buffer);
        buffer[path.Length] = 0;
        int opened;
        fixed (byte* p = buffer)
        {
            if (Mode == ConfinementMode.OpenAt2)
            {
                opened = NativeCalls.OpenAt2(start, p, (ulong)flags, (ulong)createMode, NativeCalls.ResolveBeneath | NativeCalls.ResolveNoMagicLinks);
                opened = opened >= 0 ? opened : -Marshal.GetLastPInvokeError();
            }
            else
            {
                opened = OpenByWalk(start, path, flags, createMode);
            }
        }

        return opened;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _ = LibC.close(_rootFd);
        }
    }

    /// <summary>Refuses what is never beneath the directory: returns 0 or an errno.</summary>
    private static int CheckPath(ReadOnlySpan<byte> path)
    {
        if (path.IsEmpty)
        {
            return Errno.ENOENT;
        }

        if (path.Length > PathMax)
        {
            return Errno.ENAMETOOLONG;
        }

        if (path.Contains((byte)0))
        {
            return Errno.EINVAL;
        }

        if (path[0] == (byte)'/')
        {
            return Errno.EXDEV;
        }

        foreach (Range component in path.Split((byte)'/'))
        {
            if (path[component].SequenceEqual(".."u8))
            {
                return Errno.EXDEV;
            }
        }

        return 0;
    }

    private int ProbeOpenAt2()
    {
        fixed (byte* dot = ".\0"u8)
        {
            int fd = NativeCalls.OpenAt2(_rootFd, dot, (ulong)(OPath | OCloExec), 0, NativeCalls.ResolveBeneath);
            if (fd >= 0)
            {
                _ = LibC.close(fd);
                return 0;
            }

            return Marshal.GetLastPInvokeError(); // ENOSYS (old kernel), EPERM (seccomp), E2BIG or EINVAL (unknown fields)
        }
    }

    /// <summary>
    /// The fallback resolution. Each component is opened with O_NOFOLLOW relative to a descriptor
    /// this call holds, so a concurrent rename or symlink swap cannot redirect an already checked
    /// prefix; ".." (only from symbolic link targets: the client's own are refused) pops that
    /// stack and refuses to leave the start; a link target is resolved the same way.
    /// </summary>
    private static int OpenByWalk(int start, ReadOnlySpan<byte> path, int flags, int mode)
    {
        var pending = new Stack<byte[]>();
        PushComponents(pending, path);
        var held = new Stack<int>();
        int links = 0;
        try
        {
            while (pending.Count > 0)
            {
                byte[] name = pending.Pop();
                int current = held.Count > 0 ? held.Peek() : start;
                if (name.AsSpan().SequenceEqual(".."u8))
                {
                    if (held.Count == 0)
                    {
                        return -Errno.EXDEV;
                    }

                    _ = LibC.close(held.Pop());
                    continue;
                }

                bool last = pending.Count == 0;
                if (last)
                {
                    int fd = OpenAt(current, name, flags | ONoFollow, mode);
                    if (fd >= 0)
                    {
                        return fd;
                    }

                    int error = -fd;
                    // A final symbolic link makes O_NOFOLLOW fail with ELOOP (ENOTDIR with O_DIRECTORY).
                    if ((error != Errno.ELOOP && error != Errno.ENOTDIR) || (flags & ONoFollow) != 0)
                    {
                        return fd;
                    }
                }

                int probe = OpenAt(current, name, OPath | ONoFollow | OCloExec, 0);
                if (probe < 0)
                {
                    return probe;
                }

                stat st;
                if (LibC.fstat(probe, &st) != 0)
                {
                    int error = LibC.errno;
                    _ = LibC.close(probe);
                    return -error;
                }

                uint type = (uint)st.st_mode & SIfMt;
                if (type == SIfDir && !last)
                {
                    held.Push(probe);
                    continue;
                }

                if (type != SIfLnk)
                {
                    _ = LibC.close(probe);
                    return last ? -Errno.ELOOP : -Errno.ENOTDIR; // last: it was a link a moment ago
                }

                byte[]? target = ReadLink(probe, out int linkError);
                _ = LibC.close(probe);
                if (target is null)
                {
                    return -linkError;
                }

                if (++links > MaxSymlinks)
                {
                    return -Errno.ELOOP;
                }

                if (target.Length == 0 || target[0] == (byte)'/')
                {
                    return target.Length == 0 ? -Errno.ENOENT : -Errno.EXDEV;
                }

                PushComponents(pending, target);
                if (pending.Count == 0)
                {
                    pending.Push("."u8.ToArray()); // a link to "." names the directory it is in
                }
            }

            // The path named a directory (it ended in "." components): open that directory itself.
            return OpenAt(held.Count > 0 ? held.Peek() : start, "."u8.ToArray(), flags, mode);
        }
        finally
        {
            foreach (int fd in held)
            {
                _ = LibC.close(fd);
            }
        }
    }

    private static void PushComponents(Stack<byte[]> pending, ReadOnlySpan<byte> path)
    {
        var components = new List<byte[]>();
        foreach (Range r in path.Split((byte)'/'))
        {
            ReadOnlySpan<byte> c = path[r];
            if (!c.IsEmpty && !c.SequenceEqual("."u8))
            {
                components.Add(c.ToArray());
            }
        }

        for (int i = components.Count - 1; i >= 0; i--)
        {
            pending.Push(components[i]);
        }
    }

    private static int OpenAt(int dirFd, byte[] name, int flags, int mode)
    {
        fixed (byte* p = NulTerminated(name))
        {
            int fd = LibC.openat(dirFd, p, flags, (mode_t)(uint)mode);
            return fd >= 0 ? fd : -LibC.errno;
        }
    }

    private static byte[]? ReadLink(int linkFd, out int error)
    {
        byte[] buffer = new byte[PathMax + 1];
        fixed (byte* empty = "\0"u8, b = buffer)
        {
            long n = LibC.readlinkat(linkFd, empty, b, (size_t)buffer.Length);
            error = n < 0 ? LibC.errno : 0;
            if (n < 0)
            {
                return null;
            }

            if (n > PathMax)
            {
                error = Errno.ENAMETOOLONG;
                return null;
            }

            return buffer.AsSpan(0, (int)n).ToArray();
        }
    }

    private static byte[] NulTerminated(string text) => NulTerminated(Encoding.UTF8.GetBytes(text));

    private static byte[] NulTerminated(byte[] bytes)
    {
        byte[] result = new byte[bytes.Length + 1];
        bytes.CopyTo(result, 0);
        return result;
    }
}
