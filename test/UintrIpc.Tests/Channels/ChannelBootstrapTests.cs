using UintrIpc.Bootstrap;
using UintrIpc.Channels;
using UintrIpc.Rings;
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

    /// <summary>
    /// review29 (uintripc.h 4b): a MultipleWriters handover counts its writer in from the send on
    /// (so that a drained moment before it attaches is no detach), and the writer received takes
    /// that count over instead of adding its own: exactly 1 while it is handed over, attached, and
    /// 0 once it is disposed.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public unsafe void A_multiple_writer_handover_counts_its_writer_once_from_the_send_on(bool messages)
    {
        using var pair = BootstrapPair.Open(_sockets.NewPath());
        var options = new IpcChannelOptions { Doorbell = DoorbellKind.Futex, Capacity = 8, BufferSize = 4096, MultipleWriters = true };
        using var slots = messages ? null : IpcChannel.CreateBounded<long>(options);
        using var records = messages ? IpcChannel.CreateMessages(options) : null;
        ChannelCore core = slots?.Core ?? records!.Core;
        uint* writers = (uint*)(core.Region.PartPointer(core.RingPart) + RingLayout.WritersOffset);
        Assert.Equal(0u, Volatile.Read(ref *writers));

        IDisposable received;
        if (slots is not null)
        {
            _ = slots.Reader;
            pair.ServerSide.SendChannel(slots);
            Assert.Equal(1u, Volatile.Read(ref *writers)); // counted from the send on, before the writer attaches
            var channel = pair.ClientSide.ReceiveChannel<long>(Long);
            _ = channel.Writer;
            received = channel;
        }
        else
        {
            _ = records!.Reader;
            pair.ServerSide.SendChannel(records);
            Assert.Equal(1u, Volatile.Read(ref *writers));
            var channel = pair.ClientSide.ReceiveMessageChannel(Long);
            _ = channel.Writer;
            received = channel;
        }

        Assert.Equal(1u, Volatile.Read(ref *writers)); // attached: the handover's count taken over, not a second one
        received.Dispose();
        Assert.Equal(0u, Volatile.Read(ref *writers));
    }

    /// <summary>
    /// review29: a receiving side that refuses a counted handover after attaching the region (here
    /// a message whose doorbell is not the region's) gives the count back, so that it does not
    /// stand for a writer that never comes; a message of version 1 (an older sender, which
    /// counted nothing) has its writer count itself.
    /// </summary>
    [Fact]
    public unsafe void A_refused_counted_handover_gives_its_count_back_and_a_version_1_writer_counts_itself()
    {
        using var pair = BootstrapPair.Open(_sockets.NewPath());
        using var channel = IpcChannel.CreateBounded<long>(new IpcChannelOptions { Doorbell = DoorbellKind.Futex, Capacity = 8, MultipleWriters = true });
        _ = channel.Reader;
        uint* writers = (uint*)(channel.Region.PartPointer(channel.Core.RingPart) + RingLayout.WritersOffset);

        Assert.True(channel.Core.CountHandedWriter(out _)); // as SendChannel does before its send
        Assert.Equal(1u, Volatile.Read(ref *writers));
        pair.ServerSide.Send(Payload(version: 2, DoorbellKind.None), channel.Region.FileHandle);
        var e = Assert.Throws<BootstrapProtocolException>(() => pair.ClientSide.ReceiveChannel<long>(Long));
        Assert.Contains("doorbell", e.Message, StringComparison.Ordinal);
        Assert.Equal(0u, Volatile.Read(ref *writers)); // given back by the refusing side

        pair.ServerSide.Send(Payload(version: 1, DoorbellKind.Futex), channel.Region.FileHandle);
        using (var old = pair.ClientSide.ReceiveChannel<long>(Long))
        {
            _ = old.Writer;
            Assert.Equal(1u, Volatile.Read(ref *writers)); // counted by itself
        }

        Assert.Equal(0u, Volatile.Read(ref *writers));
    }

    private static byte[] Payload(ushort version, DoorbellKind doorbell)
    {
        byte[] payload = new byte[16];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(payload, 0x48434955);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16LittleEndian(payload.AsSpan(4), version);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16LittleEndian(payload.AsSpan(6), 1); // slots
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(payload.AsSpan(8), (uint)doorbell);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(payload.AsSpan(12), sizeof(long));
        return payload;
    }
}
