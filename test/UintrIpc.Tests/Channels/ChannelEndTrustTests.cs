using UintrIpc.Channels;
using UintrIpc.Memory;
using UintrIpc.Tests.Rings;

namespace UintrIpc.Tests.Channels;

/// <summary>
/// The reader's end of a channel (uintripc.h section 4: completed, and head == tail) is judged
/// with the reader's own head (2c): a writer peer that moves the shared head up to the tail
/// must not make a completed channel look drained while messages wait in it.
/// </summary>
public sealed class ChannelEndTrustTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_head_forged_to_the_tail_does_not_end_a_slot_channel_before_its_elements_are_read(bool multi)
    {
        using var channel = IpcChannel.CreateBounded<long>(new IpcChannelOptions { Capacity = 16, MultipleWriters = multi, Doorbell = DoorbellKind.Futex });
        var reader = channel.Reader; // attached (its head taken from the region) before the forgery
        Assert.Equal(3, channel.Writer.TryWrite([1L, 2, 3]));
        Assert.True(channel.Writer.TryComplete());
        var ring = RingMemory.Of(channel.Region, multi ? PartKind.MpscSlots : PartKind.SpscSlots);
        ring.Head = ring.Tail;

        Assert.False(reader.IsCompleted);
        Assert.False(reader.Completion.IsCompleted);
        var read = new List<long>();
        await foreach (long item in reader.ReadAllAsync())
        {
            read.Add(item);
        }

        Assert.Equal([1L, 2, 3], read);
        Assert.True(reader.IsCompleted);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_head_forged_to_the_tail_does_not_end_a_message_channel_before_its_messages_are_read(bool multi)
    {
        using var channel = IpcChannel.CreateMessages(new IpcChannelOptions { BufferSize = 4096, MaxMessageLength = 64, MultipleWriters = multi, Doorbell = DoorbellKind.Futex });
        var reader = channel.Reader; // attached (its head taken from the region) before the forgery
        for (int type = 1; type <= 3; type++)
        {
            Assert.True(channel.Writer.TryWrite(type, new byte[8]));
        }

        Assert.True(channel.Writer.TryComplete());
        var ring = RingMemory.Of(channel.Region, multi ? PartKind.MpscRecords : PartKind.SpscRecords);
        ring.Head = ring.Tail;

        Assert.False(reader.IsCompleted);
        Assert.False(reader.Completion.IsCompleted);
        var types = new List<int>();
        await foreach (IpcMessage message in reader.ReadAllAsync())
        {
            types.Add(message.Type);
        }

        Assert.Equal([1, 2, 3], types);
        Assert.True(reader.IsCompleted);
    }
}
