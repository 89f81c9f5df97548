using UintrIpc.Channels;
using UintrIpc.Tests.Bootstrap;

namespace UintrIpc.Tests.Channels;

/// <summary>
/// A single-writer channel handed to a second writer process while the first lives: two writers
/// on an SPSC ring break it (each side then throws RingCorruptedException, design-notes user38),
/// so the second SendChannel is refused with a message naming MultipleWriters. Both ends are in
/// this process: the refusal is decided before anything is sent.
/// </summary>
public sealed class SingleWriterHandoverTests : IDisposable
{
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(20);
    private readonly SocketNames _sockets = new();

    public void Dispose() => _sockets.Dispose();

    [Fact]
    public void A_second_handover_of_a_single_writer_slot_channel_is_refused()
    {
        using var first = BootstrapPair.Open(_sockets.NewPath());
        using var second = BootstrapPair.Open(_sockets.NewPath());
        using var channel = IpcChannel.CreateBounded<long>(8);
        first.ServerSide.SendChannel(channel);
        using var received = first.ClientSide.ReceiveChannel<long>(Long);

        var refused = Assert.Throws<InvalidOperationException>(() => second.ServerSide.SendChannel(channel));
        Assert.Contains("MultipleWriters", refused.Message, StringComparison.Ordinal);

        // The first writer is untouched.
        Assert.True(received.Writer.TryWrite(7));
        Assert.Equal(7, channel.Reader.Read(Long));
    }

    [Fact]
    public void A_second_handover_of_a_single_writer_message_channel_is_refused()
    {
        using var first = BootstrapPair.Open(_sockets.NewPath());
        using var second = BootstrapPair.Open(_sockets.NewPath());
        using var channel = IpcChannel.CreateMessages(new IpcChannelOptions { BufferSize = 4096 });
        first.ServerSide.SendChannel(channel);
        using var received = first.ClientSide.ReceiveMessageChannel(Long);

        var refused = Assert.Throws<InvalidOperationException>(() => second.ServerSide.SendChannel(channel));
        Assert.Contains("MultipleWriters", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_multiple_writer_channel_goes_to_every_writer()
    {
        using var first = BootstrapPair.Open(_sockets.NewPath());
        using var second = BootstrapPair.Open(_sockets.NewPath());
        using var channel = IpcChannel.CreateBounded<long>(new IpcChannelOptions { Capacity = 8, MultipleWriters = true });
        first.ServerSide.SendChannel(channel);
        second.ServerSide.SendChannel(channel);
        using var a = first.ClientSide.ReceiveChannel<long>(Long);
        using var b = second.ClientSide.ReceiveChannel<long>(Long);
        Assert.True(a.Writer.TryWrite(1));
        Assert.True(b.Writer.TryWrite(2));
        Assert.Equal(1, channel.Reader.Read(Long));
        Assert.Equal(2, channel.Reader.Read(Long));
    }
}
