using UintrIpc.Bootstrap;
using UintrIpc.Channels;
using UintrIpc.Rpc;
using UintrIpc.Signaling;
using UintrIpc.TestPeer.Commands;
using UintrIpc.Tests.Bootstrap;
using UintrIpc.Tests.Infrastructure;

namespace UintrIpc.Tests.Trust;

/// <summary>
/// Found by the generated handovers (GeneratedBootstrapInputTests): a peer that sends a pipe or a
/// memfd where the eventfd doorbell belongs. The receiving side used to hand it to
/// EventFdDoorbellSender, whose ArgumentException (meant for a local caller's mistake) escaped:
/// ReceiveChannel threw an undocumented exception, and an RPC server's session thread died of it,
/// taking the server's process with it. Now each is a BootstrapProtocolException: the channel
/// receive reports it, the RPC session ends and the server serves on.
/// </summary>
[Collection(CrossProcessCollection.Name)]
public sealed class HostileDoorbellDescriptorTests(ITestOutputHelper output)
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(20);

    [Fact]
    public void A_channel_whose_eventfd_doorbell_is_a_pipe_is_refused_as_a_protocol_error()
    {
        using var pair = BootstrapPair.Open(SocketNames.NewAbstract("hostilebell"));
        using var channel = IpcChannel.CreateMessages(new IpcChannelOptions { Doorbell = DoorbellKind.EventFd, BufferSize = 4096, MaxMessageLength = 64 });
        _ = channel.Reader;
        var (read, write) = TestFds.Pipe();
        using (read)
        using (write)
        {
            Span<byte> payload = stackalloc byte[16];
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(payload, 0x48434955);
            System.Buffers.Binary.BinaryPrimitives.WriteUInt16LittleEndian(payload[4..], 1);
            System.Buffers.Binary.BinaryPrimitives.WriteUInt16LittleEndian(payload[6..], 2); // a message channel
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(payload[8..], (uint)DoorbellKind.EventFd);
            System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(payload[12..], 64);
            pair.ServerSide.Send(payload, channel.Region.FileHandle, write);
        }

        var e = Assert.Throws<BootstrapProtocolException>(() => pair.ClientSide.ReceiveMessageChannel(s_timeout));
        Assert.Contains("eventfd", e.Problem, StringComparison.Ordinal);
        Assert.Contains("pipe:", e.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void An_rpc_hello_whose_eventfd_is_a_pipe_ends_that_session_and_the_server_serves_on()
    {
        string endpoint = SocketNames.NewAbstract("hostilehello");
        using var server = PeerProcess.Start(output, "rpc-server", endpoint);
        server.WaitForOutput("listening");
        using (var connection = BootstrapConnection.Connect(endpoint, s_timeout))
        {
            Span<byte> hello = stackalloc byte[RpcLayout.HelloSize];
            RpcHandshake.Write(hello, new RpcHandshake.Hello(DoorbellKind.EventFd, 4, 4096));
            var (read, write) = TestFds.Pipe();
            using (read)
            using (write)
            {
                connection.Send(hello, write);
            }

            // The session ends: the connection closes without a welcome.
            Assert.ThrowsAny<UintrIpcException>(() => connection.Receive(s_timeout).Dispose());
        }

        Assert.False(server.HasExited, $"the hostile hello killed the server:\n{server.StandardError}");
        using var client = RpcClient.Connect(endpoint, new RpcClientOptions { Doorbell = DoorbellKind.EventFd });
        Assert.Equal(3, client.Call(RpcTestOps.Add, new RpcArgs(1, 2), s_timeout).Value);
    }
}
