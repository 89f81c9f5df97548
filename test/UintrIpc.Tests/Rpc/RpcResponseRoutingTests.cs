using Tmds.Linux;
using UintrIpc.Bootstrap;
using UintrIpc.Memory;
using UintrIpc.Rings;
using UintrIpc.Rpc;
using UintrIpc.TestPeer.Commands;
using UintrIpc.Tests.Bootstrap;
using UintrIpc.Tests.Infrastructure;

namespace UintrIpc.Tests.Rpc;

/// <summary>
/// The client routes responses by id only (uintripc_rpc.h section 2): responses forged into the
/// response ring, as a hostile server would write them, are rejected and counted (unknown,
/// stale, duplicate), and one with more output than its call allows ends the session (EPROTO)
/// instead of being copied. A corrupted response slot seen by a waiting caller or the receiver
/// thread ends the session (EPROTO) too: it never escapes a call, nor the receiver thread.
/// </summary>
[Collection(CrossProcessCollection.Name)]
public sealed class RpcResponseRoutingTests
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Forged_responses_are_rejected_and_counted()
    {
        var endpoint = SocketNames.NewAbstract("rpcroute");
        using var server = RpcTestOps.CreateServer(new RpcServerOptions { WorkerThreads = 1 });
        server.Start(endpoint);
        using var client = RpcClient.Connect(endpoint, new RpcClientOptions { MaxCalls = 4 });
        Assert.Equal(3, client.Call(RpcTestOps.Add, new RpcArgs(1, 2), s_timeout).Value); // slot 0, generation 1

        // Play the server: a second producer object on the response ring (the real session thread
        // writes nothing more in this test, so the two never race).
        RpcRegion region = client.SessionRegion;
        var forger = new SlotRing<RpcWireResponse>(region.Region, region.Region.FindPart(PartKind.SpscSlots, RpcLayout.ResponsesTag));
        Assert.True(forger.TryWrite(new RpcWireResponse { Id = RpcLayout.MakeId(0, 1), Result = 99 }));   // answered already
        Assert.True(forger.TryWrite(new RpcWireResponse { Id = RpcLayout.MakeId(0, 7), Result = 99 }));   // another generation
        Assert.True(forger.TryWrite(new RpcWireResponse { Id = RpcLayout.MakeId(4, 1), Result = 99 }));   // no such slot
        Assert.True(forger.TryWrite(new RpcWireResponse { Id = ulong.MaxValue, Result = 99 }));
        client.PollResponses();
        var stats = client.Statistics;
        Assert.Equal((1, 1, 2), (stats.DuplicateIds, stats.StaleIds, stats.UnknownIds));
        Assert.True(client.IsConnected);

        // A pending call answered with more output than it allows: asynchronous calls never use
        // slot 0 (the synchronous reader's), so this one is slot 1, generation 1.
        var pending = client.CallAsync(RpcTestOps.Sleep, new RpcArgs(3_000, 1), default, new byte[16]).AsTask();
        Assert.True(forger.TryWrite(new RpcWireResponse { Id = RpcLayout.MakeId(1, 1), Result = 17, OutLength = 17 }));
        var lost = await Assert.ThrowsAsync<RpcConnectionLostException>(() => pending.WaitAsync(s_timeout));
        Assert.Equal(LibC.EPROTO, lost.Errno);
        Assert.Equal(1, client.Statistics.InvalidResponses);
        Assert.False(client.IsConnected);
    }

    [Fact]
    public void A_corrupted_response_slot_seen_by_a_waiting_synchronous_caller_loses_the_session()
    {
        using var setup = CorruptionSetup.Start();
        RpcClient client = setup.Client;
        var call = Task.Run(() => client.Call(RpcTestOps.Sleep, new RpcArgs(2_000, 1), s_timeout)); // the caller is the reader: it spins on the response slot
        setup.CorruptNextResponseSlotOnceSubmitted();
        var lost = Assert.Throws<RpcConnectionLostException>(() => call.WaitAsync(s_timeout).GetAwaiter().GetResult());
        Assert.Equal(LibC.EPROTO, lost.Errno);
        Assert.Contains("corrupted the response ring", lost.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_corrupted_response_slot_seen_by_the_receiver_thread_loses_the_session()
    {
        using var setup = CorruptionSetup.Start();
        var pending = setup.Client.CallAsync(RpcTestOps.Sleep, new RpcArgs(2_000, 1)).AsTask(); // the receiver thread spins on the response slot
        setup.CorruptNextResponseSlotOnceSubmitted();
        var lost = await Assert.ThrowsAsync<RpcConnectionLostException>(() => pending.WaitAsync(s_timeout));
        Assert.Equal(LibC.EPROTO, lost.Errno);
        Assert.False(setup.Client.IsConnected);
    }

    /// <summary>A server and a client that spins (never parks) while it waits, one call answered (the client's head is 1).</summary>
    private sealed unsafe class CorruptionSetup : IDisposable
    {
        private readonly RpcServer _server;
        private readonly SlotRing<RpcWireResponse> _forger;

        private CorruptionSetup(RpcServer server, RpcClient client)
        {
            _server = server;
            Client = client;
            RpcRegion region = client.SessionRegion;
            _forger = new SlotRing<RpcWireResponse>(region.Region, region.Region.FindPart(PartKind.SpscSlots, RpcLayout.ResponsesTag));
        }

        public RpcClient Client { get; }

        public static CorruptionSetup Start()
        {
            var endpoint = SocketNames.NewAbstract("rpccorrupt");
            var server = RpcTestOps.CreateServer(new RpcServerOptions { WorkerThreads = 1 });
            server.Start(endpoint);
            var client = RpcClient.Connect(endpoint, new RpcClientOptions { MaxCalls = 4, SpinBudget = s_timeout });
            Assert.Equal(3, client.Call(RpcTestOps.Add, new RpcArgs(1, 2), s_timeout).Value);
            return new CorruptionSetup(server, client);
        }

        /// <summary>
        /// Writes a sequence no producer writes (neither 2, published, nor 0, not yet) into the slot
        /// of position 1 once the call is submitted, as a hostile server would. The pause only
        /// lets the waiter reach its spin first (the case the probe must survive); the test's
        /// outcome does not depend on it.
        /// </summary>
        public void CorruptNextResponseSlotOnceSubmitted()
        {
            var deadline = DateTime.UtcNow + s_timeout;
            while (Client.Outstanding == 0 && DateTime.UtcNow < deadline)
            {
                Thread.Sleep(1);
            }

            Assert.Equal(1, Client.Outstanding);
            Thread.Sleep(100);
            Volatile.Write(ref *(ulong*)_forger.Engine.SlotAt(1), 5);
        }

        public void Dispose()
        {
            _forger.Dispose();
            Client.Dispose();
            _server.Dispose();
        }
    }
}
