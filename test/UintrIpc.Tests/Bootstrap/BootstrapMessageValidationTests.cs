using UintrIpc.Bootstrap;
using UintrIpc.Interop;

namespace UintrIpc.Tests.Bootstrap;

/// <summary>
/// A hostile or broken peer sends forged datagrams; the receiver throws
/// BootstrapProtocolException, closes every descriptor that came along, and the connection
/// still delivers the next valid message. (Descriptor counts are checked in BootstrapFdLeakTests.)
/// </summary>
public sealed class BootstrapMessageValidationTests
{
    private static readonly TimeSpan s_timeout = BootstrapPair.Timeout;

    public static TheoryData<string, byte[], int> Forgeries => new()
    {
        { "magic", ForgedMessages.Datagram(4, magic: 0xDEADBEEF), 0 },
        { "protocol version is 2", ForgedMessages.Datagram(4, version: 2), 0 },
        { "unknown message type 9", ForgedMessages.Datagram(4, type: 9), 0 },
        { "announces 100 payload bytes but 4 arrived", ForgedMessages.Datagram(4, announcedLength: 100), 0 },
        { "announces 0 descriptors but 2 arrived", ForgedMessages.Datagram(4, announcedFds: 0), 2 },
        { "announces 3 descriptors but 0 arrived", ForgedMessages.Datagram(4, announcedFds: 3), 0 },
        { "shorter than the 16-byte header", new byte[7], 1 },
        { "0 bytes is shorter than the 16-byte header", [], 0 }, // recvmsg returns 0 for it as for a closed peer
        { "0 bytes is shorter than the 16-byte header", [], 1 },
    };

    [Theory]
    [MemberData(nameof(Forgeries))]
    public void A_forged_message_is_rejected_and_the_connection_stays_usable(string problem, byte[] datagram, int fdCount)
    {
        using var pair = BootstrapPair.Open(SocketNames.NewAbstract());
        var fds = Enumerable.Range(0, fdCount).Select(_ => TestFds.EventFd()).ToArray();
        try
        {
            ForgedMessages.Send(pair.ClientSide.Socket, datagram, fds.Select(f => f.Fd).ToArray());
            var e = Assert.Throws<BootstrapProtocolException>(() => pair.ServerSide.Receive(s_timeout));
            Assert.Contains(problem, e.Problem, StringComparison.Ordinal);
            AssertStillUsable(pair);
        }
        finally
        {
            foreach (var fd in fds)
            {
                fd.Dispose();
            }
        }
    }

    [Fact]
    public void Too_many_descriptors_are_rejected_and_none_is_kept()
    {
        using var pair = BootstrapPair.Open(SocketNames.NewAbstract());
        using var fd = TestFds.EventFd();
        int[] numbers = Enumerable.Repeat(fd.Fd, BootstrapMessage.MaxFds + 4).ToArray();
        ForgedMessages.Send(pair.ClientSide.Socket, ForgedMessages.Datagram(0, announcedFds: (uint)numbers.Length), numbers);

        var e = Assert.Throws<BootstrapProtocolException>(() => pair.ServerSide.Receive(s_timeout));
        Assert.Contains($"more than {BootstrapMessage.MaxFds} descriptors", e.Problem, StringComparison.Ordinal);
        AssertStillUsable(pair);
    }

    [Fact]
    public void An_oversized_payload_is_rejected_with_its_descriptors()
    {
        using var pair = BootstrapPair.Open(SocketNames.NewAbstract());
        using var fd = TestFds.EventFd();
        ForgedMessages.Send(pair.ClientSide.Socket, ForgedMessages.Datagram(BootstrapMessage.MaxPayloadLength + 1, announcedFds: 2), [fd.Fd, fd.Fd]);

        var e = Assert.Throws<BootstrapProtocolException>(() => pair.ServerSide.Receive(s_timeout));
        Assert.Contains("longer than", e.Problem, StringComparison.Ordinal);
        Assert.Contains("2 descriptors closed", e.Problem, StringComparison.Ordinal);
        AssertStillUsable(pair);
    }

    [Fact]
    public void A_handshake_message_after_the_handshake_is_rejected()
    {
        using var pair = BootstrapPair.Open(SocketNames.NewAbstract());
        ForgedMessages.Send(pair.ServerSide.Socket, ForgedMessages.Datagram(0, type: 1), []);
        var e = Assert.Throws<BootstrapProtocolException>(() => pair.ClientSide.Receive(s_timeout));
        Assert.Contains("unexpected Accept message", e.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_server_whose_first_message_carries_descriptors_is_rejected()
    {
        // A fake server: a bare listening socket that answers with ACCEPT plus a descriptor.
        var ep = SocketNames.NewAbstract();
        using var listener = UnixSocket.Create();
        Assert.Equal(0, UnixSocket.Bind(listener, BootstrapEndpoint.Parse(ep)));
        UnixSocket.Listen(listener, 1);
        var connect = BootstrapConnection.ConnectAsync(ep, s_timeout);
        SafeFdHandle? accepted = null;
        for (int i = 0; i < 3000 && accepted is null; i++)
        {
            accepted = UnixSocket.Accept(listener);
            if (accepted is null)
            {
                await Task.Delay(10);
            }
        }

        Assert.NotNull(accepted);
        using (accepted)
        using (var fd = TestFds.EventFd())
        {
            ForgedMessages.Send(accepted, ForgedMessages.Datagram(0, type: 1, announcedFds: 1), [fd.Fd]);
            var e = await Assert.ThrowsAsync<BootstrapProtocolException>(() => connect.WaitAsync(s_timeout));
            Assert.Contains("expected ACCEPT or REFUSED without descriptors", e.Problem, StringComparison.Ordinal);
        }
    }

    private static void AssertStillUsable(BootstrapPair pair)
    {
        pair.ClientSide.Send("next"u8);
        using var next = pair.ServerSide.Receive(s_timeout);
        Assert.Equal("next"u8.ToArray(), next.Payload.ToArray());
    }
}
