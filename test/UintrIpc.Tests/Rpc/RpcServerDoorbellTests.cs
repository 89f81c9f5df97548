using UintrIpc.Rpc;
using UintrIpc.Signaling;
using UintrIpc.Tests.Infrastructure;

namespace UintrIpc.Tests.Rpc;

/// <summary>
/// A server's doorbells are checked against the machine when the server is made, as a client's
/// and a channel's are. Every RPC kind passes here, so the eventfd self-test is replaced with a
/// failing one through Doorbells' seam; in the non-parallel collection, since the seam is the
/// process's.
/// </summary>
[Collection(CrossProcessCollection.Name)]
public sealed class RpcServerDoorbellTests
{
    private const string Reason = "eventfd2 is not permitted here (test)";

    [Fact]
    public void A_server_offering_a_doorbell_this_machine_cannot_ring_is_refused_at_creation_with_the_reason()
    {
        var original = Doorbells.ReplaceSelfTest(DoorbellKind.EventFd, static () => new DoorbellCapability(DoorbellKind.EventFd, false, Reason));
        try
        {
            var e = Assert.Throws<PlatformNotSupportedException>(() =>
                new RpcServer(new RpcServerOptions { Doorbells = [DoorbellKind.Futex, DoorbellKind.EventFd] }).Dispose());
            Assert.Contains("The EventFd doorbell cannot work on this machine", e.Message, StringComparison.Ordinal);
            Assert.Contains(Reason, e.Message, StringComparison.Ordinal);
            Assert.Contains("Take it out of RpcServerOptions.Doorbells, or leave that option unset", e.Message, StringComparison.Ordinal);

            // Unset, the server offers the kinds that work here, and starts.
            var options = new RpcServerOptions();
            Assert.Equal([DoorbellKind.Futex, DoorbellKind.None], options.Doorbells);
            new RpcServer(options).Dispose();
        }
        finally
        {
            Doorbells.ReplaceSelfTest(DoorbellKind.EventFd, original);
        }

        Assert.Equal([DoorbellKind.Futex, DoorbellKind.EventFd, DoorbellKind.None], new RpcServerOptions().Doorbells);
    }
}
