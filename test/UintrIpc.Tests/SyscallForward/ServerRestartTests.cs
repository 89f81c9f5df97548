using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using SyscallForward.Client;
using UintrIpc.Bootstrap;
using UintrIpc.Rpc;
using UintrIpc.Tests.Bootstrap;
using UintrIpc.Tests.Infrastructure;
using UintrIpc.Tests.Rings;

namespace UintrIpc.Tests.SyscallForward;

/// <summary>
/// `SyscallForward serve` restarted under its clients (real server processes): every call
/// outstanding on the old server fails as lost (not by timeout), the clients reconnect to the new
/// server on the same socket, and the new server executes exactly what it is sent: no request
/// of the old sessions runs again, which each appended record in the file proves.
/// </summary>
[Collection(CrossProcessCollection.Name)]
public sealed partial class ServerRestartTests(ITestOutputHelper output) : IDisposable
{
    private const int OWrOnly = 1, OCreat = 0x40, OAppend = 0x400;
    private const int ECONNREFUSED = 111, ECONNRESET = 104, ESHUTDOWN = 108;
    private const int Threads = 4, SecondRun = 200;

    private readonly ScratchTree _tree = new();
    private readonly string _endpoint = SocketNames.NewAbstract("fwdr");

    public void Dispose() => _tree.Dispose();

    [Theory]
    [InlineData(false)] // SIGTERM: the server stops its sessions (ESHUTDOWN) and logs what it ran
    [InlineData(true)]  // SIGKILL: the kernel closes its end of every connection (ECONNRESET)
    public async Task A_restarted_server_replays_nothing_and_its_clients_reconnect(bool kill)
    {
        // Long per-call timeout: a call that hangs instead of failing shows as TimeoutException.
        var timeout = TimeSpan.FromSeconds(60);
        var acknowledged = new ConcurrentBag<string>();
        var lost = new ConcurrentQueue<Exception>();
        ulong firstEpoch;
        string firstOutput;
        using (var first = StartServer())
        using (var client = ForwardClient.Connect(_endpoint, timeout: timeout))
        {
            firstEpoch = client.Rpc.ServerEpoch;
            int fd = client.Open("log.txt", OWrOnly | OCreat | OAppend);
            var writers = Enumerable.Range(0, Threads).Select(t => new Thread(() =>
            {
                try
                {
                    for (int i = 0; ; i++)
                    {
                        string record = $"a{t}-{i:D7}\n";
                        int written = client.Write(fd, Encoding.ASCII.GetBytes(record));
                        Assert.Equal(record.Length, written);
                        acknowledged.Add(record);
                    }
                }
                catch (Exception e)
                {
                    lost.Enqueue(e);
                }
            })).ToList();
            writers.ForEach(w => w.Start());
            Bounded.WaitUntil(() => acknowledged.Count >= 1000, "1000 appended records on the first server", TimeSpan.FromMinutes(2));
            if (kill)
            {
                first.Kill();
            }
            else
            {
                first.Stop();
            }

            writers.ForEach(w => Assert.True(w.Join(TimeSpan.FromSeconds(90)), "a writer hung after the server went away"));
            Assert.Equal(Threads, lost.Count);
            int[] expected = kill ? [ECONNRESET] : [ECONNRESET, ESHUTDOWN];
            Assert.All(lost, e => Assert.Contains(Assert.IsType<RpcConnectionLostException>(e).Errno, expected));
            Assert.False(client.Rpc.IsConnected);
            firstOutput = first.Output;
        }

        // Nobody listens until the new server starts: a short connect says so.
        var refused = Assert.ThrowsAny<UintrIpcException>(() => ForwardClient.Connect(_endpoint, new RpcClientOptions { ConnectTimeout = TimeSpan.FromMilliseconds(200) }));
        Assert.Equal(ECONNREFUSED, refused.Errno);

        // A client that connects while the server restarts waits for it (bounded by its connect timeout).
        var reconnect = Task.Run(() => ForwardClient.Connect(_endpoint, new RpcClientOptions { ConnectTimeout = TimeSpan.FromSeconds(60) }, timeout));
        using var second = StartServer();
        using (var client = await reconnect.WaitAsync(TimeSpan.FromSeconds(90), TestContext.Current.CancellationToken))
        {
            Assert.NotEqual(firstEpoch, client.Rpc.ServerEpoch); // a restart, not the same server
            int fd = client.Open("log.txt", OWrOnly | OAppend);
            for (int i = 0; i < SecondRun; i++)
            {
                Assert.Equal(10, client.Write(fd, Encoding.ASCII.GetBytes($"b-{i:D7}\n")));
            }
        }

        second.Stop();
        // The new server ran exactly the writes sent to it: nothing of the old sessions.
        Assert.Equal(SecondRun, WriteCalls(second.Output));

        string[] lines = File.ReadAllLines(Path.Combine(_tree.Root, "log.txt"));
        var counts = lines.GroupBy(l => l).ToDictionary(g => g.Key, g => g.Count());
        Assert.All(counts, c => Assert.True(c.Value == 1, $"record {c.Key} was executed {c.Value} times"));
        Assert.All(acknowledged, r => Assert.True(counts.ContainsKey(r.TrimEnd('\n')), $"acknowledged record {r.TrimEnd()} is missing"));
        Assert.Equal(SecondRun, lines.Count(l => l.StartsWith('b')));
        int firstLines = lines.Count(l => l.StartsWith('a'));
        // Each writer had at most one call in flight when its session ended: it may or may not have run.
        Assert.InRange(firstLines, acknowledged.Count, acknowledged.Count + Threads);
        if (!kill)
        {
            Assert.Equal(WriteCalls(firstOutput), firstLines); // every write the old server ran is in the file once
        }

        output.WriteLine($"first server: {acknowledged.Count} acknowledged, {firstLines} in the file; second server: {SecondRun}");
    }

    private static int WriteCalls(string serverOutput)
    {
        var match = WriteCount().Match(serverOutput);
        Assert.True(match.Success, $"no write count in:\n{serverOutput}");
        return int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
    }

    [GeneratedRegex(@"^\s+write\s+(\d+) calls", RegexOptions.Multiline)]
    private static partial Regex WriteCount();

    private ForwardServerProcess StartServer() =>
        ForwardServerProcess.Start(output, "serve: ready", "serve", "--socket", _endpoint, "--root", _tree.Root);
}
