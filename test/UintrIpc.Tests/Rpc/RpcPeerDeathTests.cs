using System.Collections.Concurrent;
using Tmds.Linux;
using UintrIpc.Bootstrap;
using UintrIpc.Channels;
using UintrIpc.Rpc;
using UintrIpc.Signaling;
using UintrIpc.TestPeer.Commands;
using UintrIpc.Tests.Bootstrap;
using UintrIpc.Tests.Infrastructure;

namespace UintrIpc.Tests.Rpc;

/// <summary>
/// A peer killed with SIGKILL is noticed at once by the other side (uintripc_rpc.h section 7),
/// whether that side sleeps in its doorbell or spins: the park slices here are a minute long, so
/// only the peer watcher can end them early, and the wait-block counters tell which happened
/// (a park ended by a ring, not by its time limit; a spin ended without any park). Also the
/// counters themselves (<see cref="RpcWakeStatistics"/>): one ring per call to a sleeping server.
/// </summary>
[Collection(CrossProcessCollection.Name)]
public sealed class RpcPeerDeathTests(ITestOutputHelper output)
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan s_longPark = ChannelWaitOptions.MaxParkTimeLimit;
    private readonly string _endpoint = SocketNames.NewAbstract("rpcdeath");

    public static TheoryData<DoorbellKind> Kinds() => [DoorbellKind.Futex, DoorbellKind.EventFd];

    [Theory]
    [MemberData(nameof(Kinds))]
    public void A_server_killed_with_SIGKILL_wakes_a_caller_asleep_in_the_doorbell(DoorbellKind doorbell)
    {
        using var serverPeer = PeerProcess.Start(output, "rpc-server", _endpoint);
        serverPeer.WaitForOutput("listening");
        // The caller parks at once, in slices of a minute: only the watcher can end its sleep early.
        using var client = RpcClient.Connect(_endpoint, new RpcClientOptions
        {
            Doorbell = doorbell,
            Wait = new ChannelWaitOptions { SpinBudget = TimeSpan.Zero, YieldBudget = TimeSpan.Zero, MaxParkTime = s_longPark },
        });
        Assert.Equal(3, client.Call(RpcTestOps.Add, new RpcArgs(1, 2), s_timeout).Value);
        var before = client.WakeStatistics;

        var call = Task.Factory.StartNew(() => client.Call(RpcTestOps.Sleep, new RpcArgs(50_000, 1), TimeSpan.FromMinutes(5)), TaskCreationOptions.LongRunning);
        WaitUntil(() => IsAsleep(client.SessionRegion.Region, client.SessionRegion.ClientWaitPart), "the caller asleep in its doorbell");
        Assert.Equal(0, LibC.kill(serverPeer.Pid, LibC.SIGKILL));

        var lost = Assert.Throws<AggregateException>(() => call.Wait(s_timeout)).InnerException;
        Assert.Equal(LibC.ECONNRESET, Assert.IsType<RpcConnectionLostException>(lost).Errno);
        // The ringer counts a ring after Ring returns (WaitBlock.WakeSleeping), so the woken caller
        // can fail its call before the watcher's thread has counted: wait for the count, not a moment.
        WaitUntil(() => client.WakeStatistics.Since(before).ClientWakeups >= 1, "the watcher's ring of the caller's doorbell counted");
        var woken = client.WakeStatistics.Since(before);
        Assert.Equal(0, woken.ClientTimeouts);       // its park did not run out: a ring ended it
        Assert.False(client.IsConnected);
        Assert.Equal(0, client.Outstanding);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_client_killed_with_SIGKILL_ends_its_session_at_once(bool serverSpins)
    {
        // Asleep: park slices of a minute. Spinning: a spin budget of a minute, so the session
        // thread never parks (and, before the watcher, never looked at its client).
        var wait = serverSpins
            ? new ChannelWaitOptions { SpinBudget = s_longPark, YieldBudget = TimeSpan.Zero, MaxParkTime = s_longPark }
            : new ChannelWaitOptions { SpinBudget = TimeSpan.Zero, YieldBudget = TimeSpan.Zero, MaxParkTime = s_longPark };
        using var server = RpcTestOps.CreateServer(new RpcServerOptions { WorkerThreads = 1, Wait = wait });
        var closed = new BlockingCollection<RpcSession>();
        server.SessionClosed += (_, session) => closed.Add(session);
        server.Start(_endpoint);

        using (var peer = PeerProcess.Start(output, "rpc-client-hold", _endpoint, "300"))
        {
            peer.WaitForOutput("calling");
            RpcSession session = server.WaitForSingleSession(s_timeout); // the client can be ahead of the server's record
            if (!serverSpins)
            {
                // Its handler (300 ms on the worker pool) has answered; the thread is back asleep.
                WaitUntil(() => session.WakeStatistics.ServerWakeups >= 1 && session.Requests == 1, "the answer handed back");
            }

            Assert.Equal(0, LibC.kill(peer.Pid, LibC.SIGKILL));
            Assert.True(closed.TryTake(out var e, s_timeout), "the killed client's session was not closed");
            Assert.Contains("disconnected or exited", e!.CloseReason, StringComparison.Ordinal);
            RpcWakeStatistics final = e.WakeStatistics; // the counts at the session's end
            Assert.Equal(0, final.ServerTimeouts); // no park ran out: the watcher ended the session
            if (serverSpins)
            {
                Assert.Equal(0, final.ServerSleeps); // it never parked: ended while spinning
            }
        }

        Assert.Empty(server.Sessions);
        Assert.Equal(1, server.Statistics.SessionsClosed);
    }

    [Fact]
    public void Wake_statistics_count_one_ring_per_call_to_a_sleeping_server()
    {
        var asleep = new ChannelWaitOptions { SpinBudget = TimeSpan.Zero, YieldBudget = TimeSpan.Zero, MaxParkTime = s_longPark };
        using var server = RpcTestOps.CreateServer(new RpcServerOptions { WorkerThreads = 0, Wait = asleep });
        server.Start(_endpoint);
        using var client = RpcClient.Connect(_endpoint);
        const int Calls = 50;
        var before = client.WakeStatistics;
        for (int i = 0; i < Calls; i++)
        {
            // Each request finds the session thread asleep, so it rings exactly once.
            WaitUntil(() => IsAsleep(client.SessionRegion.Region, client.SessionRegion.ServerWaitPart), "the server asleep");
            Assert.Equal(i + 1, client.Call(RpcTestOps.Add, new RpcArgs(i, 1), s_timeout).Value);
        }

        var delta = client.WakeStatistics.Since(before);
        Assert.Equal(Calls, delta.ServerWakeups);
        // A request that lands between the announcement and the last look before blocking is
        // taken without blocking (not counted as a sleep), but its ring is owed and counted.
        Assert.InRange(delta.ServerSleeps, 1, Calls);
        Assert.Equal(0, delta.ServerTimeouts);
        // The server's view of the session reads the same shared counters.
        WaitUntil(() => IsAsleep(client.SessionRegion.Region, client.SessionRegion.ServerWaitPart), "the server asleep");
        Assert.Equal(client.WakeStatistics, server.WaitForSingleSession(s_timeout).WakeStatistics);
    }

    private static bool IsAsleep(UintrIpc.Memory.SharedRegion region, UintrIpc.Memory.RegionPart waitPart) => new WaitBlock(region, waitPart).IsConsumerSleeping;

    private static void WaitUntil(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + s_timeout;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting for: {what}");
            Thread.Sleep(1);
        }
    }
}
