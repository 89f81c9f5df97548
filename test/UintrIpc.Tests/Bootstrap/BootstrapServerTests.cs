using System.Collections.Concurrent;
using Tmds.Linux;
using UintrIpc.Bootstrap;

namespace UintrIpc.Tests.Bootstrap;

public sealed class BootstrapServerTests : IDisposable
{
    private static readonly TimeSpan s_timeout = BootstrapPair.Timeout;
    private readonly SocketNames _names = new();

    public void Dispose() => _names.Dispose();

    [Fact]
    public void Dispose_removes_the_socket_file()
    {
        string path = _names.NewPath();
        var server = BootstrapServer.Listen(path);
        Assert.True(File.Exists(path));
        server.Dispose();
        Assert.False(File.Exists(path));
        server.Dispose(); // idempotent
    }

    [Fact]
    public async Task Listen_fails_while_a_live_server_holds_the_path_and_leaves_it_alone()
    {
        string path = _names.NewPath();
        var ep = path;
        using var live = BootstrapServer.Listen(ep);
        var e = Assert.Throws<UintrIpcException>(() => BootstrapServer.Listen(ep));
        Assert.Equal(LibC.EADDRINUSE, e.Errno);
        Assert.Contains("live server", e.Message, StringComparison.Ordinal);

        // The live server still works: the failed Listen neither removed nor broke its socket.
        Assert.True(File.Exists(path));
        var accept = live.AcceptAsync(s_timeout);
        using var client = BootstrapConnection.Connect(ep, s_timeout);
        using var server = await accept.WaitAsync(s_timeout);
        client.Send("still here"u8);
        using var m = server.Receive(s_timeout);
        Assert.Equal("still here"u8.ToArray(), m.Payload.ToArray());
    }

    [Fact]
    public void An_accept_that_times_out_after_refusing_peers_says_so_and_why()
    {
        string path = _names.NewPath();
        using var server = BootstrapServer.Listen(path, PeerPolicy.AllowUsers(LibC.geteuid() + 1));
        // Two peers queued before Accept runs (connect returns once the kernel queued the connection).
        using var first = UnixSocket.Create();
        using var second = UnixSocket.Create();
        Assert.Equal(0, UnixSocket.Connect(first, BootstrapEndpoint.FromPath(path)));
        Assert.Equal(0, UnixSocket.Connect(second, BootstrapEndpoint.FromPath(path)));

        var e = Assert.Throws<TimeoutException>(() => server.Accept(TimeSpan.Zero));
        Assert.Contains("refused 2 peer(s)", e.Message, StringComparison.Ordinal);
        Assert.Contains($"pid {Environment.ProcessId}", e.Message, StringComparison.Ordinal);
        Assert.Contains("allow-list", e.Message, StringComparison.Ordinal);

        // Without refusals the message stays the plain one.
        e = Assert.Throws<TimeoutException>(() => server.Accept(TimeSpan.Zero));
        Assert.DoesNotContain("refused", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Listen_fails_on_an_abstract_name_in_use()
    {
        var ep = SocketNames.NewAbstract();
        using var live = BootstrapServer.Listen(ep);
        var e = Assert.Throws<UintrIpcException>(() => BootstrapServer.Listen(ep));
        Assert.Equal(LibC.EADDRINUSE, e.Errno);
    }

    [Fact]
    public async Task Listen_removes_a_stale_socket_file()
    {
        string path = _names.NewPath();
        // A dead server's leftover: bound, then closed without unlinking (System.Net.Sockets would unlink it).
        using (var stale = UnixSocket.Create())
        {
            Assert.Equal(0, UnixSocket.Bind(stale, BootstrapEndpoint.FromPath(path)));
        }

        Assert.True(File.Exists(path));
        using var server = BootstrapServer.Listen(path);
        var accept = server.AcceptAsync(s_timeout);
        using var client = BootstrapConnection.Connect(server.Endpoint, s_timeout);
        using var accepted = await accept.WaitAsync(s_timeout);
        Assert.Equal(Environment.ProcessId, accepted.Peer.Pid);
    }

    [Fact]
    public void Listen_refuses_a_path_that_is_not_a_socket_and_keeps_it()
    {
        string path = _names.NewPath();
        File.WriteAllText(path, "precious");
        var e = Assert.Throws<UintrIpcException>(() => BootstrapServer.Listen(path));
        Assert.Equal(LibC.EEXIST, e.Errno);
        Assert.Equal("precious", File.ReadAllText(path));
    }

    [Fact]
    public void Dispose_leaves_a_successors_socket_file_alone()
    {
        string path = _names.NewPath();
        var ep = path;
        var first = BootstrapServer.Listen(ep);
        try
        {
            File.Delete(path); // someone removed it, and a second server took the path
            using var second = BootstrapServer.Listen(ep);
            first.Dispose();
            Assert.True(File.Exists(path), "the first server must not remove the second server's socket");
            second.Dispose();
            Assert.False(File.Exists(path));
        }
        finally
        {
            first.Dispose();
        }
    }

    [Fact]
    public void Accept_times_out_when_no_peer_connects()
    {
        using var server = BootstrapServer.Listen(SocketNames.NewAbstract());
        var e = Assert.Throws<TimeoutException>(() => server.Accept(TimeSpan.FromMilliseconds(50)));
        Assert.Contains(server.Endpoint, e.Message, StringComparison.Ordinal);
        Assert.Throws<TimeoutException>(() => server.Accept(TimeSpan.Zero));
    }

    [Fact]
    public async Task AcceptAsync_is_cancelled_by_its_token()
    {
        using var server = BootstrapServer.Listen(SocketNames.NewAbstract());
        using var cts = new CancellationTokenSource();
        var accept = server.AcceptAsync(cts.Token);
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => accept.WaitAsync(s_timeout));
    }

    [Fact]
    public async Task Dispose_wakes_a_blocked_accept()
    {
        var server = BootstrapServer.Listen(_names.NewPath());
        var accept = server.AcceptAsync(Timeout.InfiniteTimeSpan);
        server.Dispose();
        await Assert.ThrowsAsync<ObjectDisposedException>(() => accept.WaitAsync(s_timeout));
    }

    [Fact]
    public void Connect_without_a_server_fails_after_its_timeout_with_errno_and_hint()
    {
        var path = Assert.Throws<UintrIpcException>(() => BootstrapConnection.Connect(_names.NewPath(), TimeSpan.FromMilliseconds(30)));
        Assert.Equal(LibC.ENOENT, path.Errno);
        Assert.Contains("has it started", path.Message, StringComparison.Ordinal);

        var name = Assert.Throws<UintrIpcException>(() => BootstrapConnection.Connect(SocketNames.NewAbstract(), TimeSpan.Zero));
        Assert.Equal(LibC.ECONNREFUSED, name.Errno);
    }

    [Fact]
    public async Task Connect_waits_for_a_server_that_starts_later()
    {
        var ep = _names.NewPath();
        var connect = BootstrapConnection.ConnectAsync(ep, s_timeout);
        await Task.Delay(50); // let the client find nothing at least once
        using var server = BootstrapServer.Listen(ep);
        using var accepted = await server.AcceptAsync(s_timeout);
        using var client = await connect.WaitAsync(s_timeout);
        client.Send("late server"u8);
        using var m = accepted.Receive(s_timeout);
        Assert.Equal("late server"u8.ToArray(), m.Payload.ToArray());
    }

    [Fact]
    public void Connect_times_out_when_the_server_never_accepts()
    {
        using var server = BootstrapServer.Listen(SocketNames.NewAbstract());
        var e = Assert.Throws<TimeoutException>(() => BootstrapConnection.Connect(server.Endpoint, TimeSpan.FromMilliseconds(50)));
        // Says what happened (the kernel queued the connection, nobody answered) and what to check.
        Assert.Contains("did not answer the handshake", e.Message, StringComparison.Ordinal);
        Assert.Contains("Accept", e.Message, StringComparison.Ordinal);
        Assert.Contains($"pid {Environment.ProcessId}", e.Message, StringComparison.Ordinal);
        Assert.Contains("No bootstrap message", e.InnerException?.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_refused_client_gets_the_reason_and_the_server_goes_on_waiting()
    {
        uint self = LibC.geteuid();
        var policy = PeerPolicy.AllowUsers(self + 1000);
        using var server = BootstrapServer.Listen(_names.NewPath(), policy);
        var refused = new ConcurrentQueue<PeerRefusedEventArgs>();
        server.PeerRefused += (_, e) => refused.Enqueue(e);
        using var cts = new CancellationTokenSource();
        var accept = server.AcceptAsync(s_timeout, cts.Token);

        var e = Assert.Throws<UintrIpcException>(() => BootstrapConnection.Connect(server.Endpoint, s_timeout));
        Assert.Equal(LibC.EACCES, e.Errno);
        Assert.Contains($"bootstrap handshake with {server.Endpoint} failed", e.Message, StringComparison.Ordinal);
        Assert.Contains("allow-list", e.Message, StringComparison.Ordinal);
        Assert.Contains($"uid {self}", e.Message, StringComparison.Ordinal);

        // The server told the peer why and went on waiting: Accept has not returned a connection.
        Assert.False(accept.IsCompleted);
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => accept.WaitAsync(s_timeout));
        var only = Assert.Single(refused);
        Assert.Equal(Environment.ProcessId, only.Peer.Pid);
        Assert.Contains($"The bootstrap server refused this process: {only.Reason}. Check the server's PeerPolicy", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_custom_check_can_refuse_a_peer_of_the_same_user()
    {
        var policy = PeerPolicy.SameUserOnly.Where(p => p.Pid == Environment.ProcessId ? "no connections from the server's own process" : null);
        using var server = BootstrapServer.Listen(SocketNames.NewAbstract(), policy);
        using var cts = new CancellationTokenSource();
        var accept = server.AcceptAsync(s_timeout, cts.Token);
        var e = Assert.Throws<UintrIpcException>(() => BootstrapConnection.Connect(server.Endpoint, s_timeout));
        Assert.Equal(LibC.EACCES, e.Errno);
        Assert.Contains("The bootstrap server refused this process: ", e.Message, StringComparison.Ordinal);
        Assert.Contains("no connections from the server's own process", e.Message, StringComparison.Ordinal);
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => accept.WaitAsync(s_timeout));
    }

    [Fact]
    public void A_client_refuses_a_server_its_policy_does_not_trust()
    {
        using var server = BootstrapServer.Listen(SocketNames.NewAbstract());
        var e = Assert.Throws<UintrIpcException>(() =>
            BootstrapConnection.Connect(server.Endpoint, s_timeout, PeerPolicy.AllowUsers(LibC.geteuid() + 1000)));
        Assert.Equal(LibC.EACCES, e.Errno);
        Assert.Contains("This process refused the bootstrap server: ", e.Message, StringComparison.Ordinal);
        Assert.Contains("allow-list", e.Message, StringComparison.Ordinal);

        // The client hung up before the server's handshake: the server skips it and finds no one else.
        Assert.Throws<TimeoutException>(() => server.Accept(TimeSpan.FromMilliseconds(50)));
    }
}
