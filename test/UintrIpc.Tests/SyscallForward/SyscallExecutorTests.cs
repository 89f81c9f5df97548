using System.Runtime.InteropServices;
using System.Text;
using SyscallForward.Executor;
using Tmds.Linux;
using UintrIpc.Tests.Infrastructure;

namespace UintrIpc.Tests.SyscallForward;

/// <summary>The executor without a transport: every opcode, errno propagation, per-client descriptor tables, counts.</summary>
public sealed class SyscallExecutorTests : IDisposable
{
    private const int AtRoot = -100, ORdOnly = 0, OWrOnly = 1, ORdWr = 2, OCreat = 0x40, OTrunc = 0x200;
    private const int ENOENT = 2, EBADF = 9, EINVAL = 22, EMFILE = 24, ENOSYS = 38, EPERM = 1, EXDEV = 18;

    private readonly ScratchTree _tree = new();
    private readonly StringWriter _log = new();
    private readonly SyscallExecutor _executor;

    public SyscallExecutorTests()
    {
        _executor = new SyscallExecutor(new ConfinedDirectory(_tree.Root), new ExecutorOptions { Log = _log, MaxDescriptorsPerClient = 16 });
    }

    public void Dispose()
    {
        _executor.Dispose();
        _tree.Dispose();
    }

    [Fact]
    public void Every_opcode_does_what_the_kernel_does()
    {
        var client = _executor.Connect("test client");
        Assert.Equal(0, Call(client, ForwardOpcode.Nop));
        Assert.Equal(Environment.ProcessId, Call(client, ForwardOpcode.GetPid));

        long fd = Open(client, "file.bin", ORdWr | OCreat | OTrunc);
        Assert.Equal(5, Call(client, ForwardOpcode.Write, [fd], "hello"u8));
        Assert.Equal(6, Call(client, ForwardOpcode.PWrite, [fd, 5], " world"u8));
        Assert.Equal(0, Call(client, ForwardOpcode.LSeek, [fd, 0, 0]));
        byte[] buffer = new byte[64];
        Assert.Equal(11, Call(client, ForwardOpcode.Read, [fd], default, buffer));
        Assert.Equal("hello world", Encoding.ASCII.GetString(buffer, 0, 11));
        Assert.Equal(5, Call(client, ForwardOpcode.PRead, [fd, 6], default, buffer));
        Assert.Equal("world", Encoding.ASCII.GetString(buffer, 0, 5));

        byte[] statBytes = new byte[ForwardStat.Size];
        Assert.Equal(0, Call(client, ForwardOpcode.FStat, [fd], default, statBytes));
        var stat = MemoryMarshal.Read<ForwardStat>(statBytes);
        var info = new FileInfo(Path.Combine(_tree.Root, "file.bin"));
        Assert.Equal(11, stat.FileSize);
        Assert.Equal(0x8000u, stat.Mode & 0xF000); // S_IFREG
        Assert.Equal(new DateTimeOffset(info.LastWriteTimeUtc).ToUnixTimeMilliseconds(), stat.ModifyTimeNs / 1_000_000);

        Assert.Equal(0, Call(client, ForwardOpcode.Close, [fd]));
        Assert.Equal(-EBADF, Call(client, ForwardOpcode.Close, [fd]));
        Assert.Equal("hello world", File.ReadAllText(info.FullName));
    }

    [Fact]
    public void Results_are_full_64_bit_values()
    {
        var client = _executor.Connect("test client");
        long fd = Open(client, "sparse.bin", ORdWr | OCreat);
        const long fiveGiB = 5L << 30;
        Assert.Equal(fiveGiB, Call(client, ForwardOpcode.LSeek, [fd, fiveGiB, 0]));
        Assert.Equal(1, Call(client, ForwardOpcode.Write, [fd], "x"u8));
        Assert.Equal(fiveGiB + 1, Call(client, ForwardOpcode.LSeek, [fd, 0, 2])); // SEEK_END
        Assert.Equal(-EINVAL, Call(client, ForwardOpcode.LSeek, [fd, -1, 0]));
        Assert.Equal(-EINVAL, Call(client, ForwardOpcode.LSeek, [fd, 0, 99]));
    }

    [Fact]
    public void Errno_is_propagated_unchanged()
    {
        var client = _executor.Connect("test client");
        Assert.Equal(-ENOENT, Call(client, ForwardOpcode.OpenAt, [AtRoot, ORdOnly, 0], "missing.txt"u8));
        Assert.Equal(-EXDEV, Call(client, ForwardOpcode.OpenAt, [AtRoot, ORdOnly, 0], "../outside/secret.txt"u8));
        Assert.Equal(-EBADF, Call(client, ForwardOpcode.Read, [7], default, new byte[8]));
        Assert.Equal(-EBADF, Call(client, ForwardOpcode.Write, [-1], "x"u8));
        Assert.Equal(-EBADF, Call(client, ForwardOpcode.FStat, [1 << 20], default, new byte[ForwardStat.Size]));
        Assert.Equal(-EBADF, Call(client, ForwardOpcode.OpenAt, [5, ORdOnly, 0], "x"u8)); // dirfd not this client's

        _tree.WriteFile("ro.txt", "ro");
        long ro = Open(client, "ro.txt", ORdOnly);
        Assert.Equal(-EBADF, Call(client, ForwardOpcode.Write, [ro], "x"u8)); // the kernel's EBADF: not open for writing
        Assert.Equal(-EINVAL, Call(client, ForwardOpcode.FStat, [ro], default, new byte[ForwardStat.Size - 1]));

        long dir = Call(client, ForwardOpcode.OpenAt, [AtRoot, ORdOnly | 0x10000, 0], "."u8);
        Assert.Equal(-21, Call(client, ForwardOpcode.Read, [dir], default, new byte[8])); // EISDIR
    }

    [Fact]
    public void Unknown_opcodes_get_ENOSYS_and_refused_ones_EPERM()
    {
        using var restricted = new SyscallExecutor(new ConfinedDirectory(_tree.Root),
            new ExecutorOptions { Allowed = new HashSet<ForwardOpcode> { ForwardOpcode.Nop, ForwardOpcode.GetPid } });
        var client = restricted.Connect("restricted");
        Assert.Equal(-ENOSYS, restricted.Execute(client, 10, default, default, default));
        Assert.Equal(-ENOSYS, restricted.Execute(client, 0xFFFF_FFFF, default, default, default));
        Assert.Equal(-EPERM, restricted.Execute(client, (uint)ForwardOpcode.OpenAt, [AtRoot, 0, 0], "x"u8, default));
        Assert.Equal(0, restricted.Execute(client, (uint)ForwardOpcode.Nop, default, default, default));
        Assert.Equal(2, restricted.Counters.Unknown);
        Assert.Equal(1, restricted.Counters.Refused);
        Assert.Equal(1, restricted.Counters.Calls(ForwardOpcode.Nop));
        Assert.Equal(4, client.Calls);
    }

    [Fact]
    public void Counts_of_disconnected_clients_stay_in_the_totals()
    {
        var gone = _executor.Connect("short-lived client");
        var staying = _executor.Connect("long-lived client");
        Assert.Equal(0, Call(gone, ForwardOpcode.Nop, default));
        Assert.Equal(-EBADF, Call(gone, ForwardOpcode.Close, [99]));
        Assert.Equal(0, Call(staying, ForwardOpcode.Nop, default));
        _executor.Disconnect(gone, "test");
        _executor.Disconnect(gone, "twice"); // counted once
        Assert.Equal(0, Call(staying, ForwardOpcode.Nop, default));
        Assert.Equal(3, _executor.Counters.Calls(ForwardOpcode.Nop));
        Assert.Equal((1L, 1L), (_executor.Counters.Calls(ForwardOpcode.Close), _executor.Counters.Failures(ForwardOpcode.Close)));
        Assert.Equal(4, _executor.Counters.Total);
        Assert.Equal((2L, 2L), (gone.Calls, staying.Calls));
    }

    [Fact]
    public void Clients_see_only_their_own_descriptors()
    {
        var a = _executor.Connect("client a");
        var b = _executor.Connect("client b");
        _tree.WriteFile("a.txt", "only for a");
        long fdA = Open(a, "a.txt", ORdOnly);

        // b has no descriptor with a's number (the numbers are per client), nor any other but the grant.
        Assert.Equal(-EBADF, Call(b, ForwardOpcode.Read, [fdA], default, new byte[16]));
        Assert.Equal(-EBADF, Call(b, ForwardOpcode.Close, [fdA]));
        Assert.Equal(-EBADF, Call(b, ForwardOpcode.LSeek, [fdA, 0, 0]));
        for (long n = 0; n < 16; n++)
        {
            long expected = n == 1 ? 0 : -EBADF; // 1: the granted stdout
            Assert.Equal(expected, Call(b, ForwardOpcode.FStat, [n], default, new byte[ForwardStat.Size]));
        }

        // b's own open gets the same number independently; a's file is untouched by b's close.
        long fdB = Open(b, "a.txt", ORdOnly);
        Assert.Equal(fdA, fdB);
        Assert.Equal(0, Call(b, ForwardOpcode.Close, [fdB]));
        byte[] buffer = new byte[16];
        Assert.Equal(10, Call(a, ForwardOpcode.Read, [fdA], default, buffer));

        // A client closing its granted stdout does not take it from the others.
        Assert.Equal(0, Call(a, ForwardOpcode.Close, [1]));
        Assert.Equal(-EBADF, Call(a, ForwardOpcode.FStat, [1], default, new byte[ForwardStat.Size]));
        Assert.Equal(0, Call(b, ForwardOpcode.FStat, [1], default, new byte[ForwardStat.Size]));
    }

    [Fact]
    public void A_short_write_is_answered_as_a_result()
    {
        // A non-blocking pipe of one page, granted to the client: an 8 KiB write is cut short.
        int[] fds = new int[2];
        unsafe
        {
            fixed (int* p = fds)
            {
                Assert.Equal(0, LibC.pipe2(p, LibC.O_NONBLOCK | LibC.O_CLOEXEC));
            }
        }

        try
        {
            Assert.True(LibC.fcntl(fds[1], 1031 /* F_SETPIPE_SZ */, 4096) >= 4096);
            var client = _executor.Connect("pipe client");
            client.Descriptors.Grant(5, fds[1]);
            long first = Call(client, ForwardOpcode.Write, [5], new byte[8192]);
            Assert.InRange(first, 1, 8191);
            Assert.Equal(-LibC.EAGAIN, Call(client, ForwardOpcode.Write, [5], new byte[8192]));
        }
        finally
        {
            _ = LibC.close(fds[0]);
            _ = LibC.close(fds[1]);
        }
    }

    [Fact]
    public void A_client_has_a_bounded_table_and_disconnect_closes_it()
    {
        var client = _executor.Connect("greedy client");
        string file = _tree.WriteFile("f.txt", "f");
        int before = DescriptorsOf(file);
        for (int i = 0; i < 15; i++) // 16 slots, one is the granted stdout
        {
            Assert.True(Open(client, "f.txt", ORdOnly) >= 0);
        }

        Assert.Equal(-EMFILE, Call(client, ForwardOpcode.OpenAt, [AtRoot, ORdOnly, 0], "f.txt"u8));
        Assert.Equal(before + 15, DescriptorsOf(file));
        _executor.Disconnect(client, "test over");
        Assert.Equal(before, DescriptorsOf(file));
        Assert.Contains($"client {client.Id} connected: greedy client", _log.ToString(), StringComparison.Ordinal);
        Assert.Contains($"client {client.Id} disconnected (test over): 16 calls, 15 descriptors closed", _log.ToString(), StringComparison.Ordinal);
        Assert.Equal(-EBADF, Call(client, ForwardOpcode.Read, [3], default, new byte[1]));
    }

    [Fact]
    public void Concurrent_calls_are_counted_exactly_and_never_cross_clients()
    {
        const int Threads = 4, Rounds = 2000;
        var clients = Enumerable.Range(0, Threads).Select(i => _executor.Connect($"thread client {i}")).ToArray();
        for (int i = 0; i < Threads; i++)
        {
            _tree.WriteFile($"t{i}.txt", new string((char)('a' + i), 32));
        }

        var errors = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var threads = Enumerable.Range(0, Threads).Select(i => new Thread(() =>
        {
            var client = clients[i];
            byte[] buffer = new byte[32];
            for (int r = 0; r < Rounds; r++)
            {
                long fd = Call(client, ForwardOpcode.OpenAt, [AtRoot, ORdOnly, 0], Encoding.ASCII.GetBytes($"t{i}.txt"));
                long n = Call(client, ForwardOpcode.PRead, [fd, 0], default, buffer);
                if (n != 32 || buffer.Any(c => c != 'a' + i))
                {
                    errors.Enqueue($"client {i} round {r}: read {n} bytes of the wrong file");
                }

                Call(client, ForwardOpcode.Nop);
                if (Call(client, ForwardOpcode.Close, [fd]) != 0)
                {
                    errors.Enqueue($"client {i} round {r}: close failed");
                }
            }
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => Assert.True(t.Join(TimeSpan.FromMinutes(2))));

        Assert.Empty(errors);
        foreach (var op in new[] { ForwardOpcode.OpenAt, ForwardOpcode.PRead, ForwardOpcode.Nop, ForwardOpcode.Close })
        {
            Assert.Equal(Threads * Rounds, _executor.Counters.Calls(op));
            Assert.Equal(0, _executor.Counters.Failures(op));
        }

        Assert.Equal(4L * Threads * Rounds, _executor.Counters.Total);
        Assert.All(clients, c => Assert.Equal(4L * Rounds, c.Calls));
    }

    /// <summary>This process's descriptors open on <paramref name="path"/> (not the process-wide count, which other tests change).</summary>
    private static int DescriptorsOf(string path)
        => ProcessDescriptors.List().Count(d => d.Target == path);

    private long Open(ClientSession client, string path, int flags)
    {
        long fd = Call(client, ForwardOpcode.OpenAt, [AtRoot, flags, 0x1A4], Encoding.UTF8.GetBytes(path));
        Assert.True(fd >= 0, $"open {path} failed with errno {-fd}");
        return fd;
    }

    private long Call(ClientSession client, ForwardOpcode op, long[]? args = null, ReadOnlySpan<byte> input = default, Span<byte> output = default)
        => _executor.Execute(client, (uint)op, args ?? [], input, output);
}
