using UintrIpc.Channels;
using UintrIpc.Memory;
using UintrIpc.Signaling;
using UintrIpc.Tests.Rings;

namespace UintrIpc.Tests.Channels;

/// <summary>
/// A peer moves the shared tail of an MPSC slot channel forward (the fuzz test's round with
/// seed 603444086: tail = truth + 49 on a 64-slot ring): the reader must get past the positions
/// nobody claimed by itself, so that everything written after the lie arrives, in order.
/// </summary>
public sealed class ChannelForgedTailTests
{
    [Fact]
    public void Messages_written_after_a_tail_moved_forward_arrive_in_order()
    {
        var options = new IpcChannelOptions
        {
            Capacity = 64,
            MultipleWriters = true,
            Doorbell = DoorbellKind.Futex,
            Wait = new ChannelWaitOptions { MaxParkTime = TimeSpan.FromMilliseconds(1) },
        };
        using var channel = IpcChannel.CreateBounded<long>(options);
        var reader = channel.Reader;
        var writer = channel.Writer;
        for (long i = 0; i < 100; i++)
        {
            Assert.True(writer.TryWrite(i));
            Assert.True(reader.TryRead(out long item, TimeSpan.FromSeconds(10)));
            Assert.Equal(i, item);
        }

        var memory = RingMemory.Of(channel.Region, PartKind.MpscSlots);
        memory.Tail += 49; // the lie: 49 positions nobody claimed

        for (long i = 0; i < 48; i++)
        {
            Assert.True(writer.TryWrite(1000 + i, TimeSpan.FromSeconds(10)), $"write {i}: the ring stayed full");
            Assert.True(reader.TryRead(out long item, TimeSpan.FromSeconds(10)), $"read {i}: nothing arrived");
            Assert.Equal(1000 + i, item);
        }
    }
}
