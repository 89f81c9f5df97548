using UintrIpc.TestPeer.Commands;
using UintrIpc.Tests.Bootstrap;
using UintrIpc.Tests.Infrastructure;

namespace UintrIpc.Tests.Rpc;

/// <summary>
/// RpcClient.Dispose against a receiver thread that is late: held (a test hook, in a child
/// process, because an exception on the receiver ends its process) right after it found the
/// client not disposed, the place where a receiver starved past Dispose's join would be. Dispose
/// returns after its join times out and fails the pending call; the session stays held by the
/// receiver, which releases it as it ends, with nothing disposed under it.
/// </summary>
[Collection(CrossProcessCollection.Name)]
public sealed class RpcLateReceiverTests(ITestOutputHelper output)
{
    [Fact]
    public void Dispose_hands_the_session_to_a_late_receiver_which_releases_it_as_it_ends()
    {
        string endpoint = SocketNames.NewAbstract("latercv");
        using var server = RpcTestOps.CreateServer();
        server.Start(endpoint);
        using var peer = PeerProcess.Start(output, "rpc-late-receiver", endpoint);
        peer.AssertSuccess();
        string lines = peer.StandardOutput;
        Assert.Contains("dispose returned", lines, StringComparison.Ordinal);
        Assert.Contains("pending failed RpcConnectionLostException", lines, StringComparison.Ordinal);
        Assert.Contains("held: True", lines, StringComparison.Ordinal); // the receiver's lease kept the session
        Assert.Contains("receiver ended", lines, StringComparison.Ordinal);
        Assert.Contains("released", lines, StringComparison.Ordinal);
        Assert.DoesNotContain("not released", lines, StringComparison.Ordinal);

        // The session ended on the server (the child's socket closed at the release or at exit).
        long end = Environment.TickCount64 + 30_000;
        while (server.Statistics.SessionsClosed != 1)
        {
            Assert.True(Environment.TickCount64 < end, $"the session did not close within 30 s (closed {server.Statistics.SessionsClosed})");
            Thread.Sleep(10);
        }
    }
}
