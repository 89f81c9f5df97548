using System.Globalization;
using System.Text.RegularExpressions;
using SyscallForward.Client;
using UintrIpc.Bootstrap;
using UintrIpc.Tests.Bootstrap;
using UintrIpc.Tests.Infrastructure;

namespace UintrIpc.Tests.SyscallForward;

/// <summary>
/// fwd_hostile (samples/SyscallForward/c-client, written from the interop/include headers only)
/// against `SyscallForward serve` as a real process, while an honest client keeps calling: the
/// server does not crash, reads and writes nothing outside the arena, opens nothing outside its
/// directory, answers every forged request or ends that client's session with a reason, and
/// counts exactly what the hostile client sent.
/// </summary>
[Collection(CrossProcessCollection.Name)]
public sealed partial class HostileClientTests(ITestOutputHelper output) : IDisposable
{
    private const string Secret = "TOP-SECRET outside the served directory\n";
    private readonly ScratchTree _tree = new();
    private readonly string _endpoint = SocketNames.NewAbstract("fwdh");

    public void Dispose() => _tree.Dispose();

    [Theory]
    [InlineData("auto", false)]
    [InlineData("walk", true)]
    public void A_hostile_C_client_cannot_crash_the_server_reach_outside_its_arena_or_leave_the_directory(string confinement, bool blockingIo)
    {
        PrepareTree();
        string[] args = ["--socket", _endpoint, "--root", _tree.Root, "--confinement", confinement, .. blockingIo ? new[] { "--blocking-io" } : []];
        using var server = ForwardServerProcess.Start(output, "serve: ready", "serve", args);

        using var honest = new HonestClient(_endpoint);
        var run = ExternalProgram.Run(Path.Combine(AppContext.BaseDirectory, "fwd_hostile"), _endpoint, _tree.Outside);
        output.WriteLine(run.ToString());
        honest.Stop();
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.DoesNotContain("TOP-SECRET", run.StandardOutput + run.StandardError, StringComparison.Ordinal);
        var summary = Summary().Match(run.StandardOutput);
        Assert.True(summary.Success, run.StandardOutput);

        // The honest client was served all along, with the right bytes.
        Assert.Empty(honest.Errors);
        Assert.True(honest.Rounds > 0, "the honest client completed no round while the hostile one ran");

        // Nothing was created or changed outside; nothing reached the victim file through a block outside the arena.
        Assert.Equal(["secret.txt"], Directory.GetFiles(_tree.Outside).Select(Path.GetFileName));
        Assert.Equal(Secret, File.ReadAllText(Path.Combine(_tree.Outside, "secret.txt")));
        Assert.Equal(0, new FileInfo(Path.Combine(_tree.Root, "victim.txt")).Length);

        // Still serving: the C client passes all its checks afterwards.
        var after = ExternalProgram.Run(Path.Combine(AppContext.BaseDirectory, "fwd_client"), _endpoint);
        Assert.True(after.ExitCode == 0, after.ToString());

        // Never crashed: it stops cleanly (exit 0) and counted exactly what the hostile client sent.
        server.Stop();
        var stats = ServerStatistics().Match(server.Output);
        Assert.True(stats.Success, server.Output);
        Assert.Equal(Number(summary, "badBlocks"), Number(stats, "badBlocks"));
        Assert.Equal(Number(summary, "corrupt"), Number(stats, "violations"));
        Assert.Equal(Number(summary, "refused"), Number(stats, "handshakes"));
        Assert.Equal(Number(summary, "unknown") + 1, Number(stats, "unknown")); // and fwd_client's one
        Assert.Matches($@"unknown\s+{Number(stats, "unknown")} calls \(ENOSYS\)", server.Output);
        Assert.Equal(Number(stats, "opened"), Number(stats, "closed"));
        Assert.Equal(0, Number(stats, "handlerFailures"));
        // Each corrupted session was ended with the reason in the log.
        Assert.Equal(Number(summary, "corrupt"), Regex.Count(server.Output, @"disconnected \(the client corrupted its rings: "));
    }

    private void PrepareTree()
    {
        File.WriteAllText(Path.Combine(_tree.Outside, "secret.txt"), Secret);
        _tree.WriteFile("filled.txt", new string('X', 4096));
        _tree.WriteFile("inside-file-00000.txt", "inside\n");
        _tree.WriteFile("honest.txt", "honest data\n");
        _tree.WriteFile("sub/inner.txt", "inner\n");
        _tree.Link("escape", "../outside/secret.txt");
        _tree.Link("escape_abs", Path.Combine(_tree.Outside, "secret.txt"));
        _tree.Link("escape_dir", "../outside");
        _tree.Link("dangling", "../outside/new.txt");
        _tree.Link("inner_abs", Path.Combine(_tree.Root, "filled.txt"));
        _tree.Link("loop", "loop");
    }

    private static long Number(Match match, string group) => long.Parse(match.Groups[group].Value, CultureInfo.InvariantCulture);

    [GeneratedRegex(@"fwd_hostile: (?<attacks>\d+) attacks; bad blocks (?<badBlocks>\d+); unknown opcodes (?<unknown>\d+); corrupt sessions (?<corrupt>\d+); refused hellos (?<refused>\d+); hangups (?<hangups>\d+)")]
    private static partial Regex Summary();

    [GeneratedRegex(@"SessionsOpened = (?<opened>\d+), SessionsClosed = (?<closed>\d+), HandshakesFailed = (?<handshakes>\d+), Requests = (?<requests>\d+), UnknownOpcodes = (?<unknown>\d+), BadBlocks = (?<badBlocks>\d+), HandlerFailures = (?<handlerFailures>\d+), ProtocolViolations = (?<violations>\d+)")]
    private static partial Regex ServerStatistics();

    /// <summary>A client that opens, reads, checks and closes a file in a loop on its own thread until stopped.</summary>
    private sealed class HonestClient : IDisposable
    {
        private readonly ForwardClient _client;
        private readonly Thread _thread;
        private readonly System.Collections.Concurrent.ConcurrentQueue<string> _errors = new();
        private volatile bool _stop;
        private int _rounds;

        public HonestClient(string endpoint)
        {
            _client = ForwardClient.Connect(endpoint);
            _thread = new Thread(Loop) { IsBackground = true, Name = "honest client" };
            _thread.Start();
        }

        public int Rounds => Volatile.Read(ref _rounds);

        public IReadOnlyCollection<string> Errors => _errors;

        public void Stop()
        {
            _stop = true;
            Assert.True(_thread.Join(TimeSpan.FromSeconds(60)), "the honest client hung");
        }

        public void Dispose()
        {
            _stop = true;
            _thread.Join(TimeSpan.FromSeconds(60));
            _client.Dispose();
        }

        private void Loop()
        {
            byte[] buffer = new byte[64];
            while (!_stop)
            {
                try
                {
                    int fd = _client.Open("honest.txt", 0);
                    int n = _client.PRead(fd, buffer, 0);
                    if (n != 12 || !buffer.AsSpan(0, n).SequenceEqual("honest data\n"u8))
                    {
                        _errors.Enqueue($"read {n} bytes: {System.Text.Encoding.ASCII.GetString(buffer, 0, Math.Max(n, 0))}");
                    }

                    _client.Nop();
                    _client.Close(fd);
                    Interlocked.Increment(ref _rounds);
                }
                catch (Exception e) when (e is UintrIpcException or TimeoutException)
                {
                    _errors.Enqueue(e.Message);
                    return;
                }
            }
        }
    }
}
