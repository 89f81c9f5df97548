using System.Text.RegularExpressions;
using UintrIpc.Tests.Infrastructure;

namespace UintrIpc.Tests.SyscallForward;

/// <summary>
/// The seed v1 format mode end to end: the C peer (seed_peer, written from seed-protocol.md)
/// plays the RTOS side against `SyscallForward seed` in a real process and checks every answer.
/// </summary>
[Collection(CrossProcessCollection.Name)]
public sealed partial class SeedModeTests(ITestOutputHelper output) : IDisposable
{
    private static readonly string s_peer = Path.Combine(AppContext.BaseDirectory, "seed_peer");
    private readonly ScratchTree _tree = new();

    public void Dispose() => _tree.Dispose();

    [Fact]
    public void The_seed_peer_gets_correct_answers_for_every_v1_opcode()
    {
        string page = Prepare();
        using var server = StartServer(page);
        var run = ExternalProgram.Run(s_peer, "run", page, $"{server.Pid}", $"{server.Tid}");
        output.WriteLine(run.ToString());
        Assert.True(run.ExitCode == 0, run.ToString());
        int requests = int.Parse(PeerSummary().Match(run.StandardOutput).Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);

        server.Stop();
        Assert.Contains("hello from the RTOS side", server.Output, StringComparison.Ordinal);
        Assert.Contains($"requests {requests} answered {requests} ", server.Output, StringComparison.Ordinal);
        Assert.Contains("bad-indices 1 ", server.Output, StringComparison.Ordinal);
        Assert.Contains("faults 6 ", server.Output, StringComparison.Ordinal);
        Assert.Matches(@"notifications [1-9]", server.Output);
        byte[] expected = Enumerable.Range(0, 5000).Select(i => (byte)(i * 7)).ToArray();
        Assert.Equal(expected, File.ReadAllBytes(Path.Combine(_tree.Root, "output.txt")));
        Assert.Equal("secret", File.ReadAllText(Path.Combine(_tree.Outside, "secret.txt")));
    }

    [Fact]
    public void Polling_alone_serves_a_peer_that_never_signals()
    {
        string page = Prepare();
        using var server = StartServer(page, "--signal", "0", "--poll-ms", "1");
        var run = ExternalProgram.Run(s_peer, "run", page, $"{server.Pid}", "0", "0");
        Assert.True(run.ExitCode == 0, run.ToString());
        server.Stop();
        Assert.Contains("notifications 0 ", server.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void A_restarted_server_does_not_replay_answered_requests()
    {
        string page = Prepare();
        using (var first = StartServer(page))
        {
            var leave = ExternalProgram.Run(s_peer, "leave-answered", page, $"{first.Pid}", $"{first.Tid}");
            Assert.True(leave.ExitCode == 0, leave.ToString());
            first.Stop();
        }

        // The answered WRITE's descriptor is still valid and still in the request ring; the original
        // program started at index 0 and would have executed it again.
        using (var second = StartServer(page))
        {
            second.Stop();
            Assert.Contains("requests 0 answered 0 ", second.Output, StringComparison.Ordinal);
        }

        Assert.Equal("x\n", File.ReadAllText(Path.Combine(_tree.Root, "append.txt")));

        // The RTOS side reboots its view (descriptors invalid) and everything works on the same page.
        using var third = StartServer(page);
        var run = ExternalProgram.Run(s_peer, "run", page, $"{third.Pid}", $"{third.Tid}");
        Assert.True(run.ExitCode == 0, run.ToString());
        third.Stop();
    }

    [Fact]
    public void A_page_that_is_never_initialised_is_refused_in_time()
    {
        string page = Path.Combine(_tree.Base, "blank");
        File.WriteAllBytes(page, new byte[0x101000]);
        using var server = PeerProcess.StartProgram(output, "SyscallForward.dll", [], null, "seed", "--page", page, "--root", _tree.Root, "--wait-for-page-ms", "200");
        Assert.Equal(1, server.WaitForExit());
        Assert.Contains("has not initialised it", server.StandardError, StringComparison.Ordinal);
    }

    private string Prepare()
    {
        File.WriteAllBytes(Path.Combine(_tree.Root, "input.txt"), Enumerable.Range(0, 1000).Select(i => (byte)i).ToArray());
        _tree.Link("escape", "../outside/secret.txt");
        string page = Path.Combine(_tree.Base, "page");
        var init = ExternalProgram.Run(s_peer, "init", page);
        Assert.True(init.ExitCode == 0, init.ToString());
        return page;
    }

    private ForwardServerProcess StartServer(string page, params string[] extra)
        => ForwardServerProcess.Start(output, "seed: ready", "seed", ["--page", page, "--root", _tree.Root, .. extra]);

    [GeneratedRegex(@"seed_peer: (\d+) requests")]
    private static partial Regex PeerSummary();
}
