using Tmds.Linux;
using UintrIpc.Bootstrap;
using UintrIpc.Interop;
using UintrIpc.Memory;

namespace UintrIpc.Tests.Bootstrap;

public sealed class BootstrapConnectionTests : IDisposable
{
    private static readonly TimeSpan s_timeout = BootstrapPair.Timeout;
    private readonly SocketNames _names = new();

    public void Dispose() => _names.Dispose();

    public static TheoryData<bool> Abstract => new() { false, true };

    private string NewEndpoint(bool isAbstract) => isAbstract ? SocketNames.NewAbstract() : _names.NewPath();

    [Theory]
    [MemberData(nameof(Abstract))]
    public void Connect_and_accept_exchange_messages_and_credentials(bool isAbstract)
    {
        using var pair = BootstrapPair.Open(NewEndpoint(isAbstract));
        var self = new PeerCredentials(Environment.ProcessId, LibC.geteuid(), LibC.getegid());
        Assert.Equal(self, pair.ServerSide.Peer);
        Assert.Equal(self, pair.ClientSide.Peer);
        Assert.True(pair.ServerSide.IsServerSide);
        Assert.False(pair.ClientSide.IsServerSide);

        pair.ClientSide.Send("hello server"u8);
        using (var m = pair.ServerSide.Receive(s_timeout))
        {
            Assert.Equal("hello server"u8.ToArray(), m.Payload.ToArray());
            Assert.Equal(0, m.FdCount);
        }

        pair.ServerSide.Send([]);
        using (var m = pair.ClientSide.Receive(s_timeout))
        {
            Assert.True(m.Payload.IsEmpty);
        }
    }

    [Fact]
    public void An_abstract_endpoint_leaves_no_file_and_a_path_endpoint_makes_a_socket_file()
    {
        string path = _names.NewPath();
        using (BootstrapPair.Open(path))
        {
            Assert.True((File.GetAttributes(path) & FileAttributes.Directory) == 0);
            Assert.True(new FileInfo(path).Exists, "the socket file should exist while the server runs");
        }

        string name = SocketNames.NewAbstract();
        using (BootstrapPair.Open(name))
        {
            Assert.False(File.Exists(name));
            Assert.Contains(name, File.ReadAllText("/proc/net/unix"), StringComparison.Ordinal);
        }
    }

    [Fact]
    public unsafe void A_payload_and_several_descriptors_arrive_and_work()
    {
        using var pair = BootstrapPair.Open(SocketNames.NewAbstract());
        using var region = SharedRegion.CreateAnonymous(new PartSpec(PartKind.Arena, 1, 4096));
        using var eventFd = TestFds.EventFd();
        var (pipeRead, pipeWrite) = TestFds.Pipe();
        using (pipeRead)
        using (pipeWrite)
        {
            byte[] payload = [.. Enumerable.Range(0, 1000).Select(i => (byte)(i * 7))];
            pair.ServerSide.Send(payload, region.FileHandle, eventFd, pipeRead);

            using var message = pair.ClientSide.Receive(s_timeout);
            Assert.Equal(payload, message.Payload.ToArray());
            Assert.Equal(3, message.FdCount);

            // The memfd: the same memory through two mappings.
            using (var attached = message.AttachRegion(0))
            {
                var part = attached.FindPart(PartKind.Arena, 1);
                attached.PartPointer(part)[100] = 0xAB;
                Assert.Equal(0xAB, region.PartPointer(region.FindPart(PartKind.Arena, 1))[100]);
                Assert.Equal(region.Epoch, attached.Epoch);
            }

            // The eventfd: what the client writes, the server reads.
            using var receivedEvent = message.TakeFd(1);
            TestFds.WriteCounter(receivedEvent, 5);
            Assert.Equal(5UL, TestFds.ReadCounter(eventFd));

            // The pipe's read end: what the server writes, the client reads.
            using var receivedPipe = message.TakeFd(2);
            TestFds.WriteBytes(pipeWrite, "through the pipe"u8);
            Assert.Equal("through the pipe"u8.ToArray(), TestFds.ReadBytes(receivedPipe, 100));

            Assert.Throws<InvalidOperationException>(() => message.TakeFd(1));
        }
    }

    [Fact]
    public void Received_descriptors_are_close_on_exec_and_distinct_from_the_senders()
    {
        using var pair = BootstrapPair.Open(SocketNames.NewAbstract());
        int raw = LibC.eventfd(0, 0); // deliberately without EFD_CLOEXEC
        using var eventFd = new SafeFdHandle(raw, ownsHandle: true);
        Assert.False(TestFds.IsCloseOnExec(eventFd));

        pair.ClientSide.Send([], eventFd);
        using var message = pair.ServerSide.Receive(s_timeout);
        using var received = message.TakeFd(0);
        Assert.NotEqual(eventFd.Fd, received.Fd);
        Assert.True(TestFds.IsCloseOnExec(received), "MSG_CMSG_CLOEXEC should mark received descriptors close-on-exec");
    }

    [Fact]
    public void ReceiveRegion_attaches_the_region_sent_with_SendRegion_and_refuses_other_messages()
    {
        using var pair = BootstrapPair.Open(_names.NewPath());
        using var region = SharedRegion.CreateAnonymous(regionKind: 78, new PartSpec(PartKind.Arena, 1, 4096));
        pair.ServerSide.SendRegion(region);
        using (var attached = pair.ClientSide.ReceiveRegion(s_timeout))
        {
            Assert.Equal(78u, attached.RegionKind);
            Assert.Equal(region.Epoch, attached.Epoch);
            Assert.False(attached.IsCreator);
        }

        pair.ServerSide.Send("no descriptor"u8);
        var e = Assert.ThrowsAny<UintrIpcException>(() => pair.ClientSide.ReceiveRegion(s_timeout));
        Assert.Contains("0 descriptors", e.Message);
    }

    [Fact]
    public unsafe void SendRegion_shares_a_region_that_the_peer_attaches()
    {
        using var pair = BootstrapPair.Open(_names.NewPath());
        using var region = SharedRegion.CreateAnonymous(regionKind: 77, new PartSpec(PartKind.Arena, 3, 8192));
        pair.ServerSide.SendRegion(region, "region"u8);

        using var message = pair.ClientSide.Receive(s_timeout);
        Assert.Equal("region"u8.ToArray(), message.Payload.ToArray());
        using var attached = message.AttachRegion();
        Assert.Equal(77u, attached.RegionKind);
        Assert.False(attached.IsCreator);

        var theirs = new Span<byte>(attached.PartPointer(attached.FindPart(PartKind.Arena, 3)), 8192);
        var ours = new Span<byte>(region.PartPointer(region.FindPart(PartKind.Arena, 3)), 8192);
        for (int i = 0; i < theirs.Length; i++)
        {
            theirs[i] = (byte)(i ^ 0x5A);
        }

        Assert.True(ours.SequenceEqual(theirs));
    }

    [Fact]
    public void Receive_times_out_when_no_message_comes()
    {
        using var pair = BootstrapPair.Open(SocketNames.NewAbstract());
        var e = Assert.Throws<TimeoutException>(() => pair.ClientSide.Receive(TimeSpan.FromMilliseconds(50)));
        Assert.Contains("No bootstrap message", e.Message, StringComparison.Ordinal);
        Assert.Throws<TimeoutException>(() => pair.ServerSide.Receive(TimeSpan.Zero));
    }

    [Fact]
    public async Task Receive_is_cancelled_by_its_token()
    {
        using var pair = BootstrapPair.Open(SocketNames.NewAbstract());
        using var cts = new CancellationTokenSource();
        var receive = Task.Run(() => pair.ClientSide.Receive(Timeout.InfiniteTimeSpan, cts.Token));
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => receive.WaitAsync(s_timeout));
    }

    [Fact]
    public async Task Receive_returns_a_message_sent_later()
    {
        using var pair = BootstrapPair.Open(SocketNames.NewAbstract());
        var receive = Task.Run(() => pair.ClientSide.Receive(s_timeout));
        pair.ServerSide.Send("late"u8);
        using var message = await receive.WaitAsync(s_timeout);
        Assert.Equal("late"u8.ToArray(), message.Payload.ToArray());
    }

    [Fact]
    public async Task Dispose_wakes_a_blocked_receive()
    {
        var pair = BootstrapPair.Open(SocketNames.NewAbstract());
        try
        {
            var receive = Task.Run(() => pair.ClientSide.Receive(Timeout.InfiniteTimeSpan));
            pair.ClientSide.Dispose();
            await Assert.ThrowsAsync<ObjectDisposedException>(() => receive.WaitAsync(s_timeout));
        }
        finally
        {
            pair.Dispose();
        }
    }

    [Fact]
    public void Receive_reports_a_peer_that_closed()
    {
        using var pair = BootstrapPair.Open(SocketNames.NewAbstract());
        pair.ServerSide.Dispose();
        var e = Assert.Throws<UintrIpcException>(() => pair.ClientSide.Receive(s_timeout));
        Assert.Contains("closed the bootstrap connection", e.Message, StringComparison.Ordinal);
        var send = Assert.Throws<UintrIpcException>(() => pair.ClientSide.Send("x"u8));
        Assert.Equal(LibC.EPIPE, send.Errno);
    }

    [Fact]
    public void Receive_reports_a_peer_that_shut_down_its_sending_side_as_closed()
    {
        using var pair = BootstrapPair.Open(SocketNames.NewAbstract());
        Assert.Equal(0, LibC.shutdown(pair.ServerSide.Socket.Fd, LibC.SHUT_WR));
        var e = Assert.Throws<UintrIpcException>(() => pair.ClientSide.Receive(s_timeout));
        Assert.Contains("closed the bootstrap connection", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Send_refuses_a_payload_or_descriptor_list_over_the_limits()
    {
        using var pair = BootstrapPair.Open(SocketNames.NewAbstract());
        Assert.Throws<ArgumentOutOfRangeException>(() => pair.ClientSide.Send(new byte[BootstrapMessage.MaxPayloadLength + 1]));
        using var fd = TestFds.EventFd();
        var tooMany = Enumerable.Repeat<System.Runtime.InteropServices.SafeHandle>(fd, BootstrapMessage.MaxFds + 1).ToArray();
        Assert.Throws<ArgumentOutOfRangeException>(() => pair.ClientSide.Send([], tooMany));

        // The limits themselves are fine.
        pair.ClientSide.Send(new byte[BootstrapMessage.MaxPayloadLength], tooMany.AsSpan(0, BootstrapMessage.MaxFds));
        using var message = pair.ServerSide.Receive(s_timeout);
        Assert.Equal(BootstrapMessage.MaxPayloadLength, message.Payload.Length);
        Assert.Equal(BootstrapMessage.MaxFds, message.FdCount);
    }
}
