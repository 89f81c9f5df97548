using System.Collections.Concurrent;
using Microsoft.Win32.SafeHandles;
using Tmds.Linux;
using UintrIpc.Rpc;
using UintrIpc.Signaling;
using UintrIpc.TestPeer.Commands;
using UintrIpc.Tests.Bootstrap;
using UintrIpc.Tests.Infrastructure;

namespace UintrIpc.Tests.Rpc;

/// <summary>
/// <see cref="RpcSession.OpenPeerProcess"/>: the client's pidfd as the kernel pinned it at connect,
/// so a server that looks late (a client gone, its pid given to another process) still gets the
/// client's exit, never the stranger (the SyscallForward server watches it while a FIFO call waits).
/// </summary>
[Collection(CrossProcessCollection.Name)]
public sealed class RpcSessionPeerProcessTests(ITestOutputHelper output)
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(60);
    private readonly string _endpoint = SocketNames.NewAbstract("rpcpidfd");

    [Fact]
    public void A_session_opened_after_its_client_exited_and_its_pid_was_reused_gives_the_clients_pidfd_not_the_strangers()
    {
        Assert.SkipWhen(Environment.OSVersion.Version < new Version(6, 5), "this kernel has no SO_PEERPIDFD (Linux 6.5+): the pid is opened at the call");
        using var server = RpcTestOps.CreateServer();
        using var go = new ManualResetEventSlim();
        var seen = new BlockingCollection<string>();
        server.SessionOpened += (_, session) =>
        {
            // Held until the client has exited and its pid is someone else's (bounded: a failed test ends it).
            if (!go.Wait(s_timeout))
            {
                seen.Add("never released");
                return;
            }

            try
            {
                using SafeFileHandle? pidfd = session.OpenPeerProcess();
                seen.Add(pidfd is null ? "no pidfd" : Describe(pidfd));
            }
            catch (Exception e)
            {
                seen.Add(e.ToString());
            }
        };
        server.Start(_endpoint);

        int pid;
        using (var client = PeerProcess.Start(output, "rpc-connect-and-exit", _endpoint))
        {
            client.AssertSuccess(s_timeout); // welcomed, exited and reaped: its pid is free for anyone
            pid = client.Pid;
        }

        using var stranger = PidReuse.StartWithPid(pid, out string? why);
        try
        {
            Assert.SkipWhen(stranger is null, $"could not give a new process the client's pid {pid}: {why}");
            output.WriteLine($"pid {pid} given to a new process {why}");
            using (var byPid = ProcessHandle.Open(pid))
            {
                Assert.False(byPid.HasExited); // the hazard is real: pidfd_open of the pid now takes the stranger
            }

            go.Set();
            Assert.True(seen.TryTake(out string? result, s_timeout), "SessionOpened did not report");
            Assert.Equal("exited, fdinfo Pid -1", result); // the client, reaped; not pid {pid}, the stranger
        }
        finally
        {
            go.Set();
            stranger?.Kill();
            stranger?.WaitForExit();
        }
    }

    [Fact]
    public void A_live_clients_pidfd_names_it_and_a_closed_session_gives_none()
    {
        using var server = RpcTestOps.CreateServer();
        var opened = new BlockingCollection<RpcSession>();
        var closed = new BlockingCollection<RpcSession>();
        server.SessionOpened += (_, session) => opened.Add(session);
        server.SessionClosed += (_, session) => closed.Add(session);
        server.Start(_endpoint);
        RpcSession session;
        using (var client = RpcClient.Connect(_endpoint))
        {
            // The server records the session just after its welcome: Connect may return first.
            Assert.True(opened.TryTake(out _, s_timeout), "SessionOpened did not report");
            session = Assert.Single(server.Sessions);
            using SafeFileHandle? pidfd = session.OpenPeerProcess();
            Assert.NotNull(pidfd);
            Assert.Equal($"alive, fdinfo Pid {Environment.ProcessId}", Describe(pidfd)); // the client is this process
        }

        Assert.True(closed.TryTake(out var ended, s_timeout), "the session did not close");
        Assert.Same(session, ended);
        Assert.Throws<ObjectDisposedException>(() => session.OpenPeerProcess());
    }

    /// <summary>Whether the pidfd polls readable (its process exited) and the pid its fdinfo names.</summary>
    private static unsafe string Describe(SafeFileHandle pidfd)
    {
        int fd = (int)pidfd.DangerousGetHandle();
        var pfd = new pollfd { fd = fd, events = LibC.POLLIN };
        bool exited = LibC.poll(&pfd, 1, 0) > 0;
        return $"{(exited ? "exited" : "alive")}, fdinfo Pid {ProcessHandle.PidOfPidFd(fd)}";
    }
}
