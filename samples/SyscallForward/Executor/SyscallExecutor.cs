using System.Runtime.CompilerServices;
using Microsoft.Win32.SafeHandles;
using Tmds.Linux;

namespace SyscallForward.Executor;

/// <summary>
/// Executes forwarded calls for many clients, whatever carries them (the request/response
/// layer or the seed v1 page): each client has its own descriptor table, paths stay beneath
/// one directory, results are the kernel's full 64-bit value or -errno. Thread-safe: calls of
/// one client may run on several threads at once.
/// </summary>
/// <remarks>
/// The spans passed to <see cref="Execute"/> may lie in memory the client can write while the
/// call runs: a path is copied before it is checked, and data spans go straight to the kernel
/// (the client can only change its own data).
/// </remarks>
public sealed unsafe class SyscallExecutor : IDisposable
{
    // SEEK_SET .. SEEK_HOLE.
    private const int MaxWhence = 4;

    private readonly ConfinedDirectory _root;
    private readonly ExecutorOptions _options;
    private readonly bool[] _allowed;
    private int _nextClientId;

    /// <summary>Creates an executor serving <paramref name="root"/> (which it does not own).</summary>
    public SyscallExecutor(ConfinedDirectory root, ExecutorOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(root);
        _root = root;
        _options = options ?? new ExecutorOptions();
        _allowed = new bool[Enum.GetValues<ForwardOpcode>().Length];
        foreach (var opcode in _options.Allowed)
        {
            _allowed[(int)opcode] = true;
        }
    }

    /// <summary>Calls per opcode across all clients.</summary>
    public CallCounters Counters { get; } = new();

    /// <summary>The directory served.</summary>
    public ConfinedDirectory Root => _root;

    /// <summary>Registers a client (logged): it gets an empty descriptor table plus the grants.</summary>
    /// <param name="description">Who it is, for the log (pid, uid, transport).</param>
    /// <param name="process">A pidfd of the client's process, taken over (closed at <see cref="Disconnect"/>), watched
    /// while a call of it waits on a FIFO: the RPC session's (<see cref="UintrIpc.Rpc.RpcSession.OpenPeerProcess"/>,
    /// pinned at connect, so never a stranger that took the pid of a client gone by then); null when unknown
    /// or local (such waits then end only with data, room or <paramref name="closing"/>).</param>
    /// <param name="closing">Ends such waits when cancelled: the RPC session's <see cref="UintrIpc.Rpc.RpcSession.Closing"/>
    /// (cancelled when the server stops or the session breaks), so a stop is not held by a client that stays.</param>
    public ClientSession Connect(string description, SafeFileHandle? process = null, CancellationToken closing = default)
    {
        var table = new DescriptorTable(_options.MaxDescriptorsPerClient);
        if (_options.GrantStdout)
        {
            table.Grant(1, 1);
        }

        var session = new ClientSession(Interlocked.Increment(ref _nextClientId), description, table, process, closing);
        Counters.Add(session.Counts);
        _options.Log?.WriteLine($"client {session.Id} connected: {description}");
        return session;
    }

    /// <summary>Ends a client (logged): closes every descriptor it still held.</summary>
    public void Disconnect(ClientSession client, string reason)
    {
        ArgumentNullException.ThrowIfNull(client);
        int closed = client.Descriptors.CloseAll();
        client.Process?.Dispose();
        Counters.Retire(client.Counts);
        _options.Log?.WriteLine($"client {client.Id} disconnected ({reason}): {client.Calls} calls, {closed} descriptors closed");
    }

    /// <summary>
    /// Executes one call. Returns the result (&gt;= 0) or -errno; never throws for anything the client sent.
    /// </summary>
    /// <param name="client">The calling client.</param>
    /// <param name="opcode">The opcode (unknown ones answer -ENOSYS).</param>
    /// <param name="args">The inline arguments (missing ones read as 0).</param>
    /// <param name="input">The request data (the path of OPENAT, the bytes of WRITE and PWRITE).</param>
    /// <param name="output">The response data (the buffer of READ and PREAD, the stat of FSTAT).</param>
    public long Execute(ClientSession client, uint opcode, ReadOnlySpan<long> args, ReadOnlySpan<byte> input, Span<byte> output)
    {
        ArgumentNullException.ThrowIfNull(client);
        client.Counts.CountCall();
        if (opcode >= (uint)_allowed.Length)
        {
            Counters.CountUnknown();
            return -Errno.ENOSYS;
        }

        if (!_allowed[opcode])
        {
            Counters.CountRefused();
            return -Errno.EPERM;
        }

        long a0 = args.Length > 0 ? args[0] : 0;
        long a1 = args.Length > 1 ? args[1] : 0;
        long a2 = args.Length > 2 ? args[2] : 0;
        var op = (ForwardOpcode)opcode;
        long result = op switch
        {
            ForwardOpcode.Nop => 0,
            ForwardOpcode.GetPid => Environment.ProcessId,
            ForwardOpcode.OpenAt => OpenAt(client, a0, a1, a2, input),
            ForwardOpcode.Close => client.Descriptors.Remove(a0),
            ForwardOpcode.Read or ForwardOpcode.PRead or ForwardOpcode.FStat => OnDescriptor(client, op, a0, output, a1, a2),
            ForwardOpcode.Write or ForwardOpcode.PWrite => OnDescriptor(client, op, a0, input, a1, a2),
            ForwardOpcode.LSeek => OnDescriptor(client, op, a0, default, a1, a2),
            _ => -Errno.ENOSYS,
        };
        client.Counts.Count((int)opcode, result);
        return result;
    }

    /// <inheritdoc />
    public void Dispose() => _root.Dispose();

    private long OpenAt(ClientSession client, long dirFd, long flags, long mode, ReadOnlySpan<byte> path)
    {
        if (flags is < 0 or > int.MaxValue || mode is < 0 or > 0xFFFF || path.Length > ConfinedDirectory.PathMax)
        {
            return path.Length > ConfinedDirectory.PathMax ? -Errno.ENAMETOOLONG : -Errno.EINVAL;
        }

        // The client may rewrite shared memory while we check the path: check and use a private copy.
        Span<byte> copy = stackalloc byte[path.Length];
        path.CopyTo(copy);
        int fd;
        if (dirFd == -100) // UIPC_FWD_AT_ROOT
        {
            fd = _root.Open(-1, copy, (int)flags, (int)mode);
        }
        else
        {
            if (!client.Descriptors.TryAcquire(dirFd, out DescriptorHandle dir))
            {
                return -Errno.EBADF;
            }

            try
            {
                fd = _root.Open(dir.Fd, copy, (int)flags, (int)mode);
            }
            finally
            {
                dir.DangerousRelease();
            }
        }

        return fd < 0 ? fd : client.Descriptors.Add(new DescriptorHandle(fd, ownsHandle: true) { ClientWaits = (flags & ConfinedDirectory.ONonBlock) == 0 });
    }

    /// <summary>A call on one of the client's descriptors, with a reference held on it for the call's duration.</summary>
    private static long OnDescriptor(ClientSession client, ForwardOpcode op, long number, ReadOnlySpan<byte> data, long a1, long a2)
    {
        if ((op == ForwardOpcode.LSeek && a2 is < 0 or > MaxWhence) || (op == ForwardOpcode.FStat && data.Length < ForwardStat.Size))
        {
            return -Errno.EINVAL;
        }

        if (!client.Descriptors.TryAcquire(number, out DescriptorHandle handle))
        {
            return -Errno.EBADF;
        }

        try
        {
            int fd = handle.Fd;
            fixed (byte* p = data)
            {
                // The kernel writes READ/PREAD/FSTAT data through p: those spans are the caller's output.
                return op switch
                {
                    ForwardOpcode.Read => ReadOrWrite(client, handle, p, data.Length, LibC.POLLIN),
                    ForwardOpcode.Write => ReadOrWrite(client, handle, p, data.Length, LibC.POLLOUT),
                    ForwardOpcode.PRead => Io(LibC.pread(fd, p, data.Length, a1)),
                    ForwardOpcode.PWrite => Io(LibC.pwrite(fd, p, data.Length, a1)),
                    ForwardOpcode.LSeek => Io(LibC.lseek(fd, a1, (int)a2)),
                    ForwardOpcode.FStat => FStat(fd, p),
                    _ => -Errno.ENOSYS,
                };
            }
        }
        finally
        {
            handle.DangerousRelease();
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static long Io(long result) => result >= 0 ? result : -LibC.errno;

    /// <summary>
    /// read(2) or write(2) (<paramref name="events"/> POLLIN or POLLOUT) on the server's descriptor,
    /// which is always O_NONBLOCK: a client that opened it blocking waits in poll instead, in 1 s
    /// slices, together with its process's pidfd and its session's closing, so a FIFO that never
    /// gets data or room holds the thread (its session thread, or a worker with --blocking-io)
    /// only until the client exits (-EPIPE, an answer nobody reads) or the server stops or drops
    /// the session (-ECANCELED): then the session can close.
    /// </summary>
    private static long ReadOrWrite(ClientSession client, DescriptorHandle handle, byte* p, int length, short events)
    {
        int fd = handle.Fd;
        while (true)
        {
            long result = Io(events == LibC.POLLIN ? LibC.read(fd, p, length) : LibC.write(fd, p, length));
            if (result != -LibC.EAGAIN || !handle.ClientWaits)
            {
                return result;
            }

            int ended = WaitReady(client, fd, events);
            if (ended != 0)
            {
                return ended;
            }
        }
    }

    /// <summary>
    /// Waits until <paramref name="fd"/> reports <paramref name="events"/> (or an error): 0;
    /// -EPIPE once the client's process has exited; -ECANCELED once its session is closing.
    /// </summary>
    private static int WaitReady(ClientSession client, int fd, short events)
    {
        SafeFileHandle? process = client.Process;
        bool added = false;
        // An eventfd the session's closing writes: poll cannot wait on a token. The registration's
        // Dispose waits for a callback running, so the descriptor is closed only after its write.
        int closing = client.Closing.CanBeCanceled ? LibC.eventfd(0, LibC.EFD_CLOEXEC | LibC.EFD_NONBLOCK) : -1;
        CancellationTokenRegistration registration = closing >= 0 ? client.Closing.UnsafeRegister(static state => Signal((int)state!), closing) : default;
        try
        {
            process?.DangerousAddRef(ref added);
            pollfd* fds = stackalloc pollfd[3];
            fds[0] = new pollfd { fd = fd, events = events };
            fds[1] = new pollfd { fd = added ? (int)process!.DangerousGetHandle() : -1, events = LibC.POLLIN }; // -1: poll skips it
            fds[2] = new pollfd { fd = closing, events = LibC.POLLIN };
            while (true)
            {
                int ready = LibC.poll(fds, 3, 1000);
                if (ready > 0)
                {
                    return fds[2].revents != 0 ? -LibC.ECANCELED : fds[1].revents != 0 ? -LibC.EPIPE : 0;
                }

                if (ready < 0 && LibC.errno != LibC.EINTR)
                {
                    return 0; // let the read or write report it
                }

                if (client.Closing.IsCancellationRequested)
                {
                    return -LibC.ECANCELED; // no eventfd could be made: seen within a slice
                }
            }
        }
        catch (ObjectDisposedException)
        {
            return -LibC.EPIPE; // the client was disconnected meanwhile
        }
        finally
        {
            registration.Dispose();
            if (closing >= 0)
            {
                _ = LibC.close(closing);
            }

            if (added)
            {
                process!.DangerousRelease();
            }
        }

        static void Signal(int eventFd)
        {
            ulong one = 1;
            _ = LibC.write(eventFd, &one, sizeof(ulong)); // nonblocking; a full counter is readable already
        }
    }

    private static long FStat(int fd, byte* output)
    {
        stat st;
        if (LibC.fstat(fd, &st) != 0)
        {
            return -LibC.errno;
        }

        var answer = new ForwardStat
        {
            Dev = st.st_dev,
            Ino = st.st_ino,
            NLink = st.st_nlink,
            Mode = (uint)st.st_mode,
            Uid = st.st_uid,
            Gid = st.st_gid,
            RDev = st.st_rdev,
            FileSize = st.st_size,
            BlockSize = st.st_blksize,
            Blocks = st.st_blocks,
            AccessTimeNs = Nanoseconds(st.st_atim),
            ModifyTimeNs = Nanoseconds(st.st_mtim),
            ChangeTimeNs = Nanoseconds(st.st_ctim),
        };
        Unsafe.WriteUnaligned(output, answer);
        return 0;
    }

    private static long Nanoseconds(timespec t) => (t.tv_sec * 1_000_000_000L) + t.tv_nsec;
}
