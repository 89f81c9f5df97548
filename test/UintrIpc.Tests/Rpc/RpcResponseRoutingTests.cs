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
/// instead of being copied.
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
}
