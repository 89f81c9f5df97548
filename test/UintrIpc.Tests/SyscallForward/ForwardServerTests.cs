using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using SyscallForward.Client;
using SyscallForward.Executor;
using UintrIpc.Bootstrap;
using UintrIpc.Rpc;
using UintrIpc.Tests.Bootstrap;
using UintrIpc.Tests.Infrastructure;
using UintrIpc.Tests.Rings;

namespace UintrIpc.Tests.SyscallForward;

/// <summary>
/// `SyscallForward serve` as a real process, with managed clients in this process and in
/// others: every opcode, errno, isolation, a Stream, exact accounting under concurrency, and
/// the death of either side.
/// </summary>
[Collection(CrossProcessCollection.Name)]
public sealed partial class ForwardServerTests(ITestOutputHelper output) : IDisposable
{
    private const int ORdOnly = 0, ORdWr = 2, OCreat = 0x40, OTrunc = 0x200;
    private const int ENOENT = 2, EBADF = 9, EXDEV = 18, ENOSYS = 38;

    private readonly ScratchTree _tree = new();
    private readonly string _endpoint = SocketNames.NewAbstract("fwd");

    public void Dispose() => _tree.Dispose();

    [Fact]
    public void Every_opcode_and_errno_cross_the_process_boundary()
    {
        using var server = StartServer();
        using (var client = ForwardClient.Connect(_endpoint))
        {
            client.Nop();
            Assert.Equal(server.Pid, client.GetPid());

            int fd = client.Open("data.bin", ORdWr | OCreat | OTrunc);
            Assert.Equal(5, client.Write(fd, "hello"u8));
            Assert.Equal(6, client.PWrite(fd, " world"u8, 5));
            Assert.Equal(0, client.Seek(fd, 0, SeekOrigin.Begin));
            byte[] buffer = new byte[64];
            Assert.Equal(11, client.Read(fd, buffer));
            Assert.Equal("hello world", Encoding.ASCII.GetString(buffer, 0, 11));
            Assert.Equal(5, client.PRead(fd, buffer, 6));
            Assert.Equal("world", Encoding.ASCII.GetString(buffer, 0, 5));
            Assert.Equal(11, client.Stat(fd).FileSize);
            Assert.Equal(5L << 30, client.Seek(fd, 5L << 30, SeekOrigin.Begin)); // 64-bit results
            client.Close(fd);

            Assert.Equal(-EBADF, client.Call((uint)ForwardOpcode.Read, new RpcArgs(fd), default, buffer).Value);
            Assert.Equal(-ENOENT, client.Call((uint)ForwardOpcode.OpenAt, new RpcArgs(-100, ORdOnly), "missing"u8).Value);
            _tree.Link("escape", "../outside/secret.txt");
            foreach (string path in new[] { "../outside/secret.txt", "/etc/passwd", "escape", Path.Combine(_tree.Outside, "secret.txt") })
            {
                Assert.Equal(-EXDEV, client.Call((uint)ForwardOpcode.OpenAt, new RpcArgs(-100, ORdOnly), Encoding.UTF8.GetBytes(path)).Value);
            }

            Assert.Equal(-ENOSYS, client.Call(77, default).Value);
            Assert.Equal(-ENOSYS, client.Call(uint.MaxValue, default).Value);
            var error = Assert.Throws<UintrIpcException>(() => client.Open("missing", ORdOnly));
            Assert.Equal(ENOENT, error.Errno);

            Assert.Equal(14, client.Write(1, "to the server\n"u8)); // the granted stdout
        }

        server.Stop();
        Assert.Contains("to the server", server.Output, StringComparison.Ordinal);
        Assert.Matches(@"client \d+ connected: session", server.Output);
        Assert.Matches(@"client \d+ disconnected \(.*\): \d+ calls", server.Output);
        Assert.Equal("hello world", File.ReadAllText(Path.Combine(_tree.Root, "data.bin")));
    }

    [Fact]
    public async Task A_forwarded_file_is_a_Stream_that_CopyToAsync_can_use()
    {
        byte[] original = new byte[3 * 1024 * 1024 + 123];
        new Random(42).NextBytes(original);
        File.WriteAllBytes(Path.Combine(_tree.Root, "source.bin"), original);
        using var server = StartServer();
        using (var client = ForwardClient.Connect(_endpoint))
        {
            await using (var source = client.OpenStream("source.bin", FileAccess.Read))
            await using (var copy = client.OpenStream("copy.bin", FileAccess.Write, FileMode.Create))
            {
                Assert.Equal(original.Length, source.Length);
                await source.CopyToAsync(copy, 100_000, TestContext.Current.CancellationToken);
                Assert.Equal(original.Length, copy.Position);
            }

            await using var reread = client.OpenStream("copy.bin", FileAccess.Read);
            reread.Seek(-123, SeekOrigin.End);
            byte[] tail = new byte[200];
            Assert.Equal(123, reread.Read(tail));
            Assert.Equal(original.AsSpan(original.Length - 123).ToArray(), tail.AsSpan(0, 123).ToArray());
        }

        Assert.Equal(original, File.ReadAllBytes(Path.Combine(_tree.Root, "copy.bin")));
        server.Stop();
    }

    [Fact]
    public void Many_clients_and_threads_are_counted_exactly()
    {
        const int Clients = 3, ThreadsPerClient = 3, Rounds = 300;
        for (int c = 0; c < Clients; c++)
        {
            _tree.WriteFile($"c{c}.txt", new string((char)('a' + c), 100));
        }

        using var server = StartServer();
        var clients = Enumerable.Range(0, Clients).Select(_ => ForwardClient.Connect(_endpoint)).ToArray();
        var errors = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var threads = new List<Thread>();
        for (int c = 0; c < Clients; c++)
        {
            for (int t = 0; t < ThreadsPerClient; t++)
            {
                int client = c;
                threads.Add(new Thread(() =>
                {
                    byte[] buffer = new byte[100];
                    for (int r = 0; r < Rounds; r++)
                    {
                        int fd = clients[client].Open($"c{client}.txt", ORdOnly);
                        if (clients[client].PRead(fd, buffer, 0) != 100 || buffer.Any(b => b != 'a' + client))
                        {
                            errors.Enqueue($"client {client}: wrong data");
                        }

                        clients[client].Nop();
                        clients[client].Close(fd);
                    }
                }));
            }
        }

        threads.ForEach(t => t.Start());
        threads.ForEach(t => Assert.True(t.Join(TimeSpan.FromMinutes(3)), "a caller thread hung"));
        Assert.Empty(errors);
        foreach (var client in clients)
        {
            client.Dispose();
        }

        server.Stop();
        const int PerOpcode = Clients * ThreadsPerClient * Rounds;
        foreach (string op in new[] { "openat", "pread", "nop", "close" })
        {
            Assert.Equal(PerOpcode, CountOf(server.Output, op));
        }

        Assert.Equal(Clients, Regex.Count(server.Output, $@"disconnected \(.*\): {4 * ThreadsPerClient * Rounds} calls"));
    }

    [Fact]
    public void A_client_killed_mid_request_is_cleaned_up_and_others_are_served()
    {
        _tree.WriteFile("shared.txt", new string('s', 4096));
        using var server = StartServer();
        // The first session starts the process's RPC peer watcher, whose epoll descriptor stays
        // open for good: the baseline is taken after one session has come and gone.
        using (var first = ForwardClient.Connect(_endpoint))
        {
            Assert.Equal(server.Pid, first.GetPid());
        }

        Bounded.WaitUntil(() => DisconnectedCount(server.Output) == 1, "the server to log the first client's disconnect", TimeSpan.FromSeconds(30));
        int baseline = OpenDescriptors(server.Pid);
        using (var looper = PeerProcess.StartProgram(output, "SyscallForward.dll", [], null, "loop", "--socket", _endpoint, "--path", "shared.txt"))
        {
            looper.WaitForOutput("loop: running");
            Thread.Sleep(200);
            looper.Kill(); // SIGKILL while it forwards calls back to back
        }

        // The server notices the death through the bootstrap connection and closes the session and its files.
        Bounded.WaitUntil(() => DisconnectedCount(server.Output) == 2, "the server to log the killed client's disconnect", TimeSpan.FromSeconds(30));
        Bounded.WaitUntil(() => OpenDescriptors(server.Pid) == baseline, "the server to close the killed client's descriptors", TimeSpan.FromSeconds(30));
        using (var other = ForwardClient.Connect(_endpoint))
        {
            Assert.Equal(server.Pid, other.GetPid());
        }

        server.Stop();
    }

    [Fact]
    public void A_server_killed_with_calls_outstanding_fails_every_call_without_a_hang()
    {
        _tree.WriteFile("f.txt", "f");
        using var server = StartServer();
        using var client = ForwardClient.Connect(_endpoint);
        using var go = new ManualResetEventSlim();
        var outcomes = new System.Collections.Concurrent.ConcurrentQueue<Exception?>();
        var threads = Enumerable.Range(0, 4).Select(_ => new Thread(() =>
        {
            go.Wait();
            try
            {
                while (true)
                {
                    client.Nop();
                }
            }
            catch (Exception e)
            {
                outcomes.Enqueue(e);
            }
        })).ToList();
        threads.ForEach(t => t.Start());
        go.Set();
        Thread.Sleep(200);
        server.Kill();

        threads.ForEach(t => Assert.True(t.Join(TimeSpan.FromSeconds(30)), "a call hung after the server died"));
        Assert.Equal(4, outcomes.Count);
        Assert.All(outcomes, e => Assert.IsType<RpcConnectionLostException>(e));
        Assert.ThrowsAny<Exception>(() => client.Nop());
    }

    private static int CountOf(string serverOutput, string opcode)
    {
        var match = Regex.Match(serverOutput, $@"^\s+{opcode}\s+(\d+) calls", RegexOptions.Multiline);
        Assert.True(match.Success, $"no count for {opcode} in:\n{serverOutput}");
        return int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
    }

    private static int DisconnectedCount(string serverOutput) => Regex.Count(serverOutput, @"client \d+ disconnected");

    private static int OpenDescriptors(int pid) => Directory.GetFiles($"/proc/{pid}/fd").Length;

    private ForwardServerProcess StartServer(params string[] extra) =>
        ForwardServerProcess.Start(output, "serve: ready", "serve", ["--socket", _endpoint, "--root", _tree.Root, .. extra]);
}
