using System.Globalization;
using System.Collections.Concurrent;
using Tmds.Linux;
using UintrIpc.Bootstrap;
using UintrIpc.Interop;
using UintrIpc.Rpc;
using UintrIpc.Signaling;
using UintrIpc.TestPeer.Commands;
using UintrIpc.Tests.Bootstrap;
using UintrIpc.Tests.Infrastructure;

namespace UintrIpc.Tests.Rpc;

/// <summary>
/// Request/response between real processes (uintripc_rpc.h): many clients and threads with
/// exact accounting, a client killed mid-request (its session reclaimed), a server killed with
/// calls outstanding (each call fails, none hangs), a restarted server (new epoch, nothing
/// replayed), and a hostile client writing raw records into its region.
/// </summary>
[Collection(CrossProcessCollection.Name)]
public sealed class RpcCrossProcessTests(ITestOutputHelper output)
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(60);
    private readonly string _endpoint = SocketNames.NewAbstract("rpcx");

    public static TheoryData<DoorbellKind> Kinds() => [DoorbellKind.Futex, DoorbellKind.EventFd, DoorbellKind.None];

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Clients_in_other_processes_get_exactly_their_answers(DoorbellKind doorbell)
    {
        using var server = RpcTestOps.CreateServer(new RpcServerOptions { WorkerThreads = 1 });
        server.Start(_endpoint);
        const int Clients = 3, Threads = 3, Calls = 900;
        var peers = Enumerable.Range(0, Clients).Select(_ => PeerProcess.Start(output, "rpc-client", _endpoint, $"{Threads}", $"{Calls}", doorbell.ToString())).ToList();
        try
        {
            foreach (var peer in peers)
            {
                peer.AssertSuccess(TimeSpan.FromMinutes(3));
                Assert.Contains($"ok calls {Threads * Calls} epoch {server.Epoch:x16}", peer.StandardOutput, StringComparison.Ordinal);
            }

            // Every request answered exactly once: what the clients counted as right is what the server served.
            Assert.Equal(Clients * Threads * Calls, server.Statistics.Requests);
            WaitUntil(() => server.Statistics.SessionsClosed == Clients, "all sessions closed");
            Assert.Equal(Clients, server.Statistics.SessionsOpened);
            Assert.Empty(server.Sessions);
        }
        finally
        {
            peers.ForEach(p => p.Dispose());
        }
    }

    [Fact]
    public void A_client_killed_mid_request_has_its_session_reclaimed()
    {
        using var server = RpcTestOps.CreateServer(new RpcServerOptions { WorkerThreads = 1 });
        var closed = new BlockingCollection<RpcSession>();
        server.SessionClosed += (_, session) => closed.Add(session);
        server.Start(_endpoint);

        // Warm up: one session opened and closed, so lazily created runtime resources are in the baseline.
        using (var warm = PeerProcess.Start(output, "rpc-client", _endpoint, "1", "3"))
        {
            warm.AssertSuccess();
        }

        Assert.True(closed.TryTake(out _, s_timeout), "the warm-up session did not close");

        // Tests in other collections open and close memfds, sockets and mappings in this process
        // meanwhile: the session's own are told apart by identity, not counted by kind. Its region
        // is the memfd the client holds too (same inode); its connection is the socket whose peer
        // is the client (SO_PEERCRED).
        ulong region;
        string connection;
        using (var peer = PeerProcess.Start(output, "rpc-client-hold", _endpoint, "1500"))
        {
            peer.WaitForOutput("calling");
            server.WaitForSingleSession(s_timeout); // the client can be ahead of the server's record
            var shared = ProcessDescriptors.MemfdInodes("self");
            shared.IntersectWith(ProcessDescriptors.MemfdInodes(peer.Pid.ToString(CultureInfo.InvariantCulture)));
            region = Assert.Single(shared); // the region
            Assert.True(ProcessDescriptors.Mappings(region) > 0, "the session's region should be mapped while it is open");
            connection = Assert.Single(ProcessDescriptors.List(), d => d.Target.StartsWith("socket:", StringComparison.Ordinal) && SocketPeerPid(d.Fd) == peer.Pid).Target;
        } // kills the client (and closes our pipes to it, which are not the server's to reclaim)

        // The session ends when the client's end of the connection closes; it is reclaimed when the
        // blocking handler it started has returned (no handler ever runs on an unmapped arena).
        Assert.True(closed.TryTake(out var e, s_timeout), "the dead client's session was not closed");
        Assert.Contains("disconnected or exited", e!.CloseReason, StringComparison.Ordinal);
        Assert.Empty(server.Sessions);
        Assert.DoesNotContain(region, ProcessDescriptors.MemfdInodes("self")); // the region's descriptor is closed
        Assert.Equal(0, ProcessDescriptors.Mappings(region));                   // and its mapping gone
        Assert.DoesNotContain(ProcessDescriptors.List(), d => d.Target == connection); // the connection too (the target names the socket's inode)
    }

    [Fact]
    public async Task A_server_killed_with_calls_outstanding_fails_every_call()
    {
        using var serverPeer = PeerProcess.Start(output, "rpc-server", _endpoint);
        serverPeer.WaitForOutput("listening");
        using var client = RpcClient.Connect(_endpoint);
        Assert.Equal(3, client.Call(RpcTestOps.Add, new RpcArgs(1, 2), s_timeout).Value);

        // Sync calls from several threads and async calls, all waiting for a 50 s sleep (timeouts 60 s).
        var calls = Enumerable.Range(0, 4).Select(i => Task.Factory.StartNew(() => client.Call(RpcTestOps.Sleep, new RpcArgs(50_000, i), s_timeout), TaskCreationOptions.LongRunning))
            .Concat(Enumerable.Range(0, 3).Select(i => client.CallAsync(RpcTestOps.Sleep, new RpcArgs(50_000, i)).AsTask()))
            .ToList();
        WaitUntil(() => client.Outstanding == calls.Count, "all calls submitted");
        serverPeer.Kill();

        foreach (var call in calls)
        {
            // Lost, not timed out: the death is seen on the connection, long before the 60 s timeouts.
            var lost = await Assert.ThrowsAsync<RpcConnectionLostException>(() => call.WaitAsync(s_timeout));
            Assert.Contains(lost.Errno, new[] { LibC.ECONNRESET, LibC.ESHUTDOWN });
        }

        Assert.False(client.IsConnected);
        Assert.Equal(0, client.Outstanding); // nobody can write into those slots any more: all freed
        Assert.Equal(0, client.Statistics.TimedOut);
    }

    [Fact]
    public void A_restarted_server_has_a_new_epoch_and_replays_nothing()
    {
        ulong firstEpoch;
        using (var first = PeerProcess.Start(output, "rpc-server", _endpoint))
        {
            first.WaitForOutput("listening");
            using var client = RpcClient.Connect(_endpoint);
            firstEpoch = client.ServerEpoch;
            for (int i = 0; i < 10; i++)
            {
                Assert.Equal(i + 1, client.Call(RpcTestOps.Add, new RpcArgs(i, 1), s_timeout).Value);
            }

            var outstanding = Task.Factory.StartNew(() => client.Call(RpcTestOps.Sleep, new RpcArgs(50_000, 1), s_timeout), TaskCreationOptions.LongRunning);
            WaitUntil(() => client.Outstanding == 1, "the call submitted");
            first.Kill();
            Assert.IsType<RpcConnectionLostException>(Assert.Throws<AggregateException>(() => outstanding.Wait(s_timeout)).InnerException);
        }

        using var second = PeerProcess.Start(output, "rpc-server", _endpoint);
        second.WaitForOutput("listening");
        using (var client = RpcClient.Connect(_endpoint))
        {
            Assert.NotEqual(firstEpoch, client.ServerEpoch);
            for (int i = 0; i < 5; i++)
            {
                Assert.Equal(2 * i, client.Call(RpcTestOps.Add, new RpcArgs(i, i), s_timeout).Value);
            }
        }

        second.WriteLine("quit");
        second.AssertSuccess();
        // The new server served the 5 new calls and nothing of the first session.
        Assert.Contains("served 5", second.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public void A_hostile_client_gets_an_answer_for_every_forged_request_and_cannot_hurt_the_server()
    {
        using var server = RpcTestOps.CreateServer(new RpcServerOptions { WorkerThreads = 1 });
        server.Start(_endpoint);
        // An honest client in another process works before, during and after the attack.
        using var honest = PeerProcess.Start(output, "rpc-client", _endpoint, "2", "3000");
        using var hostile = PeerProcess.Start(output, "rpc-hostile", _endpoint, "8");
        hostile.AssertSuccess();
        honest.AssertSuccess(TimeSpan.FromMinutes(3));

        // Seven forged requests, each answered once: three ids name no slot, four carry a stale generation.
        Assert.Contains("forged 7 unknown 3 stale 4", hostile.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("honest ok", hostile.StandardOutput, StringComparison.Ordinal);
        Assert.Contains($"server state {RpcLayout.ServerStopped}", hostile.StandardOutput, StringComparison.Ordinal);
        Assert.Contains($"lost {LibC.ESHUTDOWN}", hostile.StandardOutput, StringComparison.Ordinal);
        var stats = server.Statistics;
        Assert.Equal(4, stats.BadBlocks);       // blocks outside the arena: EFAULT, never read or written
        Assert.Equal(2, stats.UnknownOpcodes);  // ENOSYS
        Assert.Equal(1, stats.ProtocolViolations); // the corrupted ring ended that session only
        Assert.Equal(2 * 3000 + 7 + 1, stats.Requests);
    }

    [Fact]
    public void A_client_that_jams_its_eventfd_cannot_hold_the_session_thread_in_a_ring()
    {
        using var server = RpcTestOps.CreateServer(new RpcServerOptions { WorkerThreads = 1 });
        server.Start(_endpoint);
        using (var jammer = PeerProcess.Start(output, "rpc-jam-eventfd", _endpoint))
        {
            // The second request is answered only if the ring for the first came back.
            jammer.AssertSuccess();
            Assert.Contains("answered 2", jammer.StandardOutput, StringComparison.Ordinal);
        }

        // And the session thread, free, sees the client go and ends the session.
        WaitUntil(() => server.Statistics.SessionsClosed == 1, "the jamming client's session closed");
        Assert.Equal(2, server.Statistics.Requests);
        Assert.Empty(server.Sessions);
    }

    [Fact]
    public void A_client_that_takes_no_answers_but_queues_requests_leaves_the_session_thread_asleep()
    {
        using var server = RpcTestOps.CreateServer(new RpcServerOptions { WorkerThreads = 1, MaxParkTime = TimeSpan.FromMilliseconds(20) });
        server.Start(_endpoint);
        using var flood = PeerProcess.Start(output, "rpc-flood", _endpoint);
        flood.WaitForOutput("stalled calls 4");
        RpcSession session = server.WaitForSingleSession(s_timeout);

        // With requests queued and no room for their answers, the session thread must park (its
        // sleeps end at MaxParkTime) rather than find "work" it cannot do and never block.
        long before = session.WakeStatistics.ServerTimeouts;
        WaitUntil(() => session.WakeStatistics.ServerTimeouts >= before + 3, "the stalled session thread's parks timing out");

        flood.WriteLine("quit");
        flood.AssertSuccess();
        WaitUntil(() => server.Statistics.SessionsClosed == 1, "the flooding client's session closed");
        Assert.Equal(4, server.Statistics.Requests); // the first round's answers only: the others never had room
    }

    /// <summary>This process's descriptors of the kinds a session opens (memfd, socket, eventfd), with what they point to.</summary>
    /// <summary>The peer process of socket <paramref name="fd"/>, or -1 (not connected, or closed since the listing).</summary>
    private static int SocketPeerPid(int fd)
    {
        using var socket = new SafeFdHandle(fd, ownsHandle: false);
        try
        {
            return UnixSocket.GetPeerCredentials(socket).Pid;
        }
        catch (UintrIpcException)
        {
            return -1;
        }
    }

    private static void WaitUntil(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + s_timeout;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting for: {what}");
            Thread.Sleep(5);
        }
    }
}
