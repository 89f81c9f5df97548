using UintrIpc.Bootstrap;
using Tmds.Linux;
using UintrIpc.Channels;
using UintrIpc.Interop;
using UintrIpc.Signaling;
using UintrIpc.Tests.Infrastructure;

namespace UintrIpc.Tests.Bootstrap;

/// <summary>
/// The peer's pidfd comes from the kernel at connect (SO_PEERPIDFD), not from a pid looked up
/// later: a peer that exits before the server looks is known as that exited process, even when a
/// stranger has its pid by then. Real processes (UintrIpc.TestPeer bootstrap-connect-and-exit).
/// </summary>
[Collection(CrossProcessCollection.Name)]
public sealed class PeerPidFdTests(ITestOutputHelper output) : IDisposable
{
    private static readonly TimeSpan s_timeout = PeerProcess.DefaultTimeout;
    private readonly SocketNames _names = new();

    public void Dispose() => _names.Dispose();

    [Fact]
    public void Both_ends_pin_the_other_process_and_its_pid_is_the_one_SO_PEERCRED_reports()
    {
        using var pair = BootstrapPair.Open(_names.NewPath("pin"));
        SkipUnlessPinned(pair.ServerSide);
        foreach (var end in new[] { pair.ServerSide, pair.ClientSide })
        {
            using var process = end.OpenPeerProcess();
            Assert.Equal(Environment.ProcessId, end.Peer.Pid);
            Assert.Equal(end.Peer.Pid, process.Pid);
            Assert.Equal(Environment.ProcessId, ProcessHandle.PidOfPidFd(process.FileHandle!.Fd)); // the kernel's pidfd, of this process
            Assert.False(process.HasExited);
        }
    }

    [Fact]
    public void A_peer_that_exits_before_the_server_looks_is_known_as_the_exited_process_not_looked_up_by_pid()
    {
        using var exited = ExitedPeer.Accept(output, _names, "gone");
        var connection = exited.Connection;
        int pid = connection.Peer.Pid;

        // A pidfd_open of the pid now (the fallback) says ESRCH, or names whoever took the pid.
        using (var process = connection.OpenPeerProcess())
        {
            Assert.Equal(pid, process.Pid);
            Assert.True(process.HasExited, "the pinned pidfd should report the peer's exit");
        }

        using var channel = IpcChannel.CreateBounded<long>(8);
        var e = Assert.Throws<PeerGoneException>(() => connection.SendChannel(channel));
        Assert.Null(e.InnerException); // the pin said so; no pid was looked up
        Assert.Contains($"pid {pid}", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_stranger_that_took_the_exited_peers_pid_is_not_taken_for_the_peer()
    {
        using var exited = ExitedPeer.Accept(output, _names, "reuse");
        var connection = exited.Connection;
        int pid = connection.Peer.Pid;

        using var stranger = PidReuse.StartWithPid(pid, out string? why);
        Assert.SkipWhen(stranger is null, $"could not give a new process the peer's pid {pid}: {why}");
        output.WriteLine($"pid {pid} given to a new process {why}");
        try
        {
            // The hazard is real: the pid names a live process now, and main's pidfd_open takes it.
            using (var byPid = PeerProcessPin.Pin(connection.Socket, connection.Peer, useKernelPin: false))
            using (var looked = byPid.Open())
            {
                Assert.False(looked.HasExited);
            }

            using (var process = connection.OpenPeerProcess())
            {
                Assert.True(process.HasExited, $"pid {pid} is the stranger's now; the peer's pidfd should still report the peer's exit");
            }

            // Nothing is handed to the stranger, and no reader would watch it.
            using var channel = IpcChannel.CreateBounded<long>(8);
            Assert.Throws<PeerGoneException>(() => connection.SendChannel(channel));
        }
        finally
        {
            stranger!.Kill();
            stranger.WaitForExit();
        }
    }

    /// <summary>A connection whose peer (TestPeer bootstrap-connect-and-exit) has exited and been reaped since Accept.</summary>
    private sealed record ExitedPeer(BootstrapServer Server, PeerProcess Peer, BootstrapConnection Connection) : IDisposable
    {
        public static ExitedPeer Accept(ITestOutputHelper output, SocketNames names, string hint)
        {
            string endpoint = names.NewPath(hint);
            var server = BootstrapServer.Listen(endpoint);
            PeerProcess? peer = null;
            BootstrapConnection? connection = null;
            try
            {
                peer = PeerProcess.Start(output, "bootstrap-connect-and-exit", endpoint);
                connection = server.Accept(s_timeout);
                Assert.Equal(peer.Pid, connection.Peer.Pid);
                peer.AssertSuccess(s_timeout); // exited and reaped: its pid is free for anyone
                SkipUnlessPinned(connection);
                return new ExitedPeer(server, peer, connection);
            }
            catch
            {
                connection?.Dispose();
                peer?.Dispose();
                server.Dispose();
                throw;
            }
        }

        public void Dispose()
        {
            Connection.Dispose();
            Peer.Dispose();
            Server.Dispose();
        }
    }

    /// <summary>Skips on a kernel without SO_PEERPIDFD (before 6.5), asked directly: where it has it, the connection must have pinned the peer.</summary>
    private static void SkipUnlessPinned(BootstrapConnection connection)
    {
        int errno = UnixSocket.GetPeerPidFd(connection.Socket, out SafeFdHandle? probe);
        probe?.Dispose();
        Assert.SkipWhen(errno == LibC.ENOPROTOOPT, "this kernel has no SO_PEERPIDFD (Linux 6.5+): the peer's pid is opened at each use");
        Assert.True(connection.IsPeerProcessPinned, "the kernel has SO_PEERPIDFD; the connection should have pinned its peer");
    }
}
