using UintrIpc.Bootstrap;
using UintrIpc.Channels;
using UintrIpc.Tests.Bootstrap;

namespace UintrIpc.Tests.Channels;

/// <summary>Handing a channel over a bootstrap connection (both ends in this process; the cross-process case is in ChannelCrossProcessTests).</summary>
public sealed class ChannelBootstrapTests : IDisposable
{
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(20);
    private readonly SocketNames _sockets = new();

    public void Dispose() => _sockets.Dispose();

    [Theory]
    [InlineData(DoorbellKind.Futex)]
    [InlineData(DoorbellKind.EventFd)]
    public void A_slot_channel_arrives_as_a_working_producer(DoorbellKind doorbell)
    {
        using var pair = BootstrapPair.Open(_sockets.NewPath());
        using var channel = IpcChannel.CreateBounded<long>(new IpcChannelOptions { Doorbell = doorbell, Capacity = 8 });
        var consumer = channel.Reader;
        pair.ServerSide.SendChannel(channel);
        using var received = pair.ClientSide.ReceiveChannel<long>(Long);
        var producer = received.Writer;
        Assert.Equal(doorbell, producer.Doorbell);
        Assert.NotSame(channel.Region, received.Region); // its own mapping, as in another process

        var reader = new Thread(() =>
        {
            for (long i = 0; i < 100; i++)
            {
                Assert.Equal(i, consumer.Read(Long));
            }
        });
        reader.Start();
        for (long i = 0; i < 100; i++)
        {
            Assert.True(producer.TryWrite(i, Long));
        }

        Assert.True(reader.Join(Long));
        producer.Complete();
        Assert.True(consumer.IsCompleted);
    }

    [Fact]
    public void A_message_channel_arrives_as_a_working_producer()
    {
        using var pair = BootstrapPair.Open(_sockets.NewPath());
        using var channel = IpcChannel.CreateMessages(new IpcChannelOptions { Doorbell = DoorbellKind.EventFd, BufferSize = 4096, MaxMessageLength = 100 });
        var consumer = channel.Reader;
        pair.ServerSide.SendChannel(channel);
        using var received = pair.ClientSide.ReceiveMessageChannel(Long);
        var producer = received.Writer;
        Assert.Equal(100, producer.MaxMessageLength);
        Assert.True(producer.TryWrite(4, "ping"u8));
        var buffer = new byte[100];
        Assert.True(consumer.TryRead(out int type, buffer, out int length, Long));
        Assert.Equal((4, 4), (type, length));
    }

    [Fact]
    public void The_wrong_kind_of_channel_or_message_is_refused()
    {
        using var pair = BootstrapPair.Open(_sockets.NewPath());
        using var channel = IpcChannel.CreateBounded<long>(new IpcChannelOptions { Doorbell = DoorbellKind.Futex });
        var consumer = channel.Reader;

        // One channel per send: a single-writer channel goes to one running writer process
        // (this one), so a second SendChannel of the same channel is refused (SingleWriterHandoverTests).
        using (var wrongKind = IpcChannel.CreateBounded<long>(new IpcChannelOptions { Doorbell = DoorbellKind.Futex }))
        {
            pair.ServerSide.SendChannel(wrongKind);
        }

        Assert.Throws<BootstrapProtocolException>(() => pair.ClientSide.ReceiveMessageChannel(Long));
        using (var wrongType = IpcChannel.CreateBounded<long>(new IpcChannelOptions { Doorbell = DoorbellKind.Futex }))
        {
            pair.ServerSide.SendChannel(wrongType);
        }

        Assert.Throws<BootstrapProtocolException>(() => pair.ClientSide.ReceiveChannel<int>(Long));
        pair.ServerSide.Send("not a channel"u8, channel.Region.FileHandle);
        Assert.Throws<BootstrapProtocolException>(() => pair.ClientSide.ReceiveChannel<long>(Long));

        // The right one still works after the refusals (nothing was left half-received).
        pair.ServerSide.SendChannel(channel);
        using var received = pair.ClientSide.ReceiveChannel<long>(Long);
        var producer = received.Writer;
        Assert.True(producer.TryWrite(1));
        Assert.Equal(1, consumer.Read(Long));
    }

    [Fact]
    public void An_eventfd_channel_without_its_descriptor_is_refused()
    {
        using var pair = BootstrapPair.Open(_sockets.NewPath());
        using var channel = IpcChannel.CreateBounded<long>(new IpcChannelOptions { Doorbell = DoorbellKind.EventFd });
        Span<byte> forged = stackalloc byte[16];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(forged, 0x48434955);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16LittleEndian(forged[4..], 1);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16LittleEndian(forged[6..], 1);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(forged[8..], (uint)DoorbellKind.EventFd);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(forged[12..], sizeof(long));
        pair.ServerSide.Send(forged, channel.Region.FileHandle);
        var e = Assert.Throws<BootstrapProtocolException>(() => pair.ClientSide.ReceiveChannel<long>(Long));
        Assert.Contains("descriptors", e.Message, StringComparison.Ordinal);
    }
}
