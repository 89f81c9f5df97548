using Tmds.Linux;
using UintrIpc.Bootstrap;
using UintrIpc.Rpc;
using UintrIpc.Tests.Infrastructure;

namespace UintrIpc.Tests.Bootstrap;

/// <summary>
/// A peer that closed the bootstrap connection is reported as exited or as alive, from its pidfd.
/// On a loaded machine an RPC client that was slow with its hello saw "did it exit?" from a server
/// that had only run out of its HelloTimeout (design-notes "A production service's week (user39)").
/// </summary>
[Collection(CrossProcessCollection.Name)]
public sealed class PeerClosedReasonTests(ITestOutputHelper output) : IDisposable
{
    private static readonly TimeSpan s_timeout = PeerProcess.DefaultTimeout;
    private readonly SocketNames _names = new();

    public void Dispose() => _names.Dispose();

    [Fact]
    public void A_server_that_stopped_waiting_for_the_hello_is_reported_running_and_the_timeout_named()
    {
        string endpoint = SocketNames.NewAbstract();
        using var server = new RpcServer(new RpcServerOptions { HelloTimeout = TimeSpan.FromMilliseconds(50) });
        server.Start(endpoint);

        // A client that is late with its hello (as a process not scheduled for seconds is): the server closes.
        using var connection = BootstrapConnection.Connect(endpoint, s_timeout);
        AssertBothSay(connection, "still running", "RpcServerOptions.HelloTimeout");
    }

    [Fact]
    public void A_client_that_sends_no_hello_within_HelloTimeout_counts_as_a_failed_handshake()
    {
        string endpoint = SocketNames.NewAbstract();
        using var server = new RpcServer(new RpcServerOptions { HelloTimeout = TimeSpan.FromMilliseconds(50) });
        server.Start(endpoint);
        using (var late = BootstrapConnection.Connect(endpoint, s_timeout))
        {
            Assert.Throws<UintrIpcException>(() => late.Receive(s_timeout)); // the server closed it at its HelloTimeout
        }

        // Counted by the session thread as it ends, after the close the client saw.
        Assert.True(SpinWait.SpinUntil(() => server.Statistics.HandshakesFailed == 1, s_timeout), $"HandshakesFailed = {server.Statistics.HandshakesFailed}");
        Assert.Equal(0, server.Statistics.SessionsOpened);
    }

    [Fact]
    public void A_peer_whose_process_exited_is_reported_exited()
    {
        string endpoint = _names.NewPath("exited");
        using var server = BootstrapServer.Listen(endpoint);
        using var peer = PeerProcess.Start(output, "bootstrap-connect-and-exit", endpoint);
        using var connection = server.Accept(s_timeout);
        Assert.Equal(peer.Pid, connection.Peer.Pid);
        peer.AssertSuccess(s_timeout);

        AssertBothSay(connection, "Its process has exited");
    }

    /// <summary>The receive that finds the end and the send that gets EPIPE after it both say each of <paramref name="phrases"/>, and neither asks "did it exit?".</summary>
    private void AssertBothSay(BootstrapConnection connection, params string[] phrases)
    {
        var closed = Assert.Throws<UintrIpcException>(() => connection.Receive(s_timeout));
        var send = Assert.Throws<UintrIpcException>(() => connection.Send("late"u8));
        Assert.Equal(LibC.EPIPE, send.Errno);
        foreach (string message in new[] { closed.Message, send.Message })
        {
            output.WriteLine(message);
            Assert.All(phrases, phrase => Assert.Contains(phrase, message, StringComparison.Ordinal));
            Assert.DoesNotContain("did it exit", message, StringComparison.OrdinalIgnoreCase);
        }
    }
}
