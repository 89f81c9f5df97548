using UintrIpc.Tests.Bootstrap;
using UintrIpc.Tests.Infrastructure;
using UintrIpc.Tests.Trust;

namespace UintrIpc.Tests.Resources;

/// <summary>
/// A server process serves client processes one after another (each connects, makes a few calls
/// or writes a few values and leaves cleanly, or is killed with SIGKILL in the middle); after the
/// warm-up sessions and again after 24 more, the server's descriptors, IPC mappings and threads
/// are counted: they must be the same, exactly. The warm-up is one session of each variant
/// (doorbell, clean or killed): the first sessions cost once what the process keeps for good (the
/// peer end watcher's thread and epoll set, assemblies, the thread pool; design-notes "fdleak").
/// </summary>
[Collection(CrossProcessCollection.Name)]
public sealed class SessionLeakTests(ITestOutputHelper output)
{
    private const int More = 24;
    private static readonly string[] s_rpcDoorbells = ["futex", "eventfd", "none"];

    [Fact]
    public void An_rpc_server_holds_what_it_held_before_24_more_sessions_clean_or_killed()
    {
        string endpoint = SocketNames.NewAbstract("leak-rpc");
        using var server = PeerProcess.Start(output, "rpc-server", endpoint);
        server.WaitForOutput("listening");
        long regionKb = 0;
        void Session(int n)
        {
            // Session n: doorbell n % 3; the second half of every six killed in the middle of its calls.
            string doorbell = s_rpcDoorbells[(n - 1) % 3];
            if ((n - 1) / 3 % 2 == 0)
            {
                using var client = PeerProcess.Start(null, "rpc-client", endpoint, "1", "20", doorbell);
                client.AssertSuccess();
            }
            else
            {
                using var client = PeerProcess.Start(null, "rpc-client", endpoint, "1", "100000000", doorbell);
                server.WaitForOutput($"opened {n} pid");
                regionKb = Math.Max(regionKb, ProcessResources.LargestIpcMappingKb(server.Pid));
                client.Kill();
            }

            server.WaitForOutput($"closed {n}:");
        }

        var (before, after) = Measure(server, warmUp: 6, Session);

        // A closed session's region must not keep its address space (a placeholder until a GC).
        Assert.True(regionKb > 0, "no session region was seen in the server's maps");
        long grown = after.AddressSpaceKb - before.AddressSpaceKb;
        Assert.True(grown < regionKb, $"the server's address space grew by {grown} KiB over {More} sessions of a {regionKb} KiB region each: closed sessions keep their mappings");
        Assert.Equal(More + 6, server.StandardOutput.Split('\n').Count(l => l.StartsWith("closed ", StringComparison.Ordinal)));
    }

    [Theory]
    [InlineData("slot")]
    [InlineData("message")]
    [InlineData("duplex")]
    public void A_bootstrap_server_that_hands_channels_to_processes_holds_what_it_held_before_24_more(string kind)
    {
        string endpoint = SocketNames.NewAbstract("leak-" + kind);
        using var server = PeerProcess.Start(output, "handover-serve", kind, endpoint);
        server.WaitForOutput("listening");
        void Session(int n)
        {
            // The server's doorbell is futex, eventfd, signal, none in turn; every second four sessions killed.
            bool killed = (n - 1) / 4 % 2 == 1;
            if (!killed)
            {
                using var client = kind == "duplex"
                    ? PeerProcess.Start(null, "duplex-request", endpoint, "50", "0", "0")
                    : PeerProcess.Start(null, "channel-bootstrap-produce", kind, endpoint, "50");
                client.AssertSuccess();
            }
            else
            {
                using var client = kind == "duplex"
                    ? PeerProcess.Start(null, "duplex-hold", endpoint)
                    : PeerProcess.Start(null, "channel-bootstrap-produce", kind, endpoint, "1000000000");
                server.WaitForOutput(kind == "duplex" ? $"serving {n}\n" : $"first {n}\n");
                client.Kill();
            }

            server.WaitForOutput($"closed {n} ");
            string closed = server.StandardOutput.Split('\n').Single(l => l.StartsWith($"closed {n} ", StringComparison.Ordinal));
            Assert.Contains(killed ? ": peer gone after" : ": completed after 50 values", closed, StringComparison.Ordinal);
        }

        Measure(server, warmUp: 8, Session);
    }

    /// <summary>
    /// Runs the warm-up sessions, takes the baseline, runs <see cref="More"/> more, asserts that
    /// the server holds the same descriptors, IPC mappings and threads, and returns both looks.
    /// </summary>
    private (ProcessResources Before, ProcessResources After) Measure(PeerProcess server, int warmUp, Action<int> session)
    {
        for (int n = 1; n <= warmUp; n++)
        {
            session(n);
        }

        var before = ProcessResources.Baseline(server.Pid);
        var targets = GeneratedRpcRequestTests.Descriptors(server.Pid);
        for (int n = warmUp + 1; n <= warmUp + More; n++)
        {
            session(n);
        }

        var after = ProcessResources.SettleTo(server.Pid, before);
        output.WriteLine($"after {warmUp} sessions: {before}; after {warmUp + More}: {after}");
        Assert.True(before.Counts == after.Counts,
            $"after {More} more sessions: {after}; before them: {before}; descriptors grown: [{GeneratedRpcRequestTests.Added(server.Pid, targets)}]");
        return (before, after);
    }
}
