using UintrIpc.Channels;
using UintrIpc.Rings;
using UintrIpc.Tests.Rings;

namespace UintrIpc.Tests.Channels;

/// <summary>
/// The writers' waits for room (WaitToWrite, WaitToWriteAsync) read the reader's head as the
/// writes do: a corrupt head is reported when seen (uintripc.h 2c), not waited out as a full
/// ring; and a message writer's room is the longest message where the tail is.
/// </summary>
public sealed class WriterRoomWaitTests
{
    private static readonly TimeSpan s_wait = TimeSpan.FromSeconds(30); // a bound, not a speed: the right answer comes at the first look (the old waits ran it out), so a slow machine has room

    [Theory]
    [InlineData(false, false)]
    [InlineData(false, true)]
    [InlineData(true, false)]
    [InlineData(true, true)]
    public async Task A_slot_writer_waiting_for_room_reports_a_head_further_back_than_the_capacity(bool multipleWriters, bool async)
    {
        using var channel = IpcChannel.CreateBounded<long>(new IpcChannelOptions { Capacity = 4, MultipleWriters = multipleWriters });
        var writer = channel.Writer;
        var reader = channel.Reader;
        for (int i = 0; i < 8; i++)
        {
            if (i >= 4)
            {
                Assert.True(reader.TryRead(out _));
            }

            Assert.True(writer.TryWrite(i)); // in the end head 4, tail 8: full
        }

        var ring = new RingMemory(channel.Region, channel.Core.RingPart);
        Assert.Equal((4ul, 8ul), (ring.Head, ring.Tail));
        ring.Head = 1; // a peer's garbage: 7 slots in a ring of 4
        try
        {
            var e = async
                ? await Assert.ThrowsAsync<RingCorruptedException>(async () => await writer.WaitToWriteAsync(new CancellationTokenSource(s_wait).Token))
                : Assert.Throws<RingCorruptedException>(() => writer.WaitToWrite(s_wait));
            Assert.Contains("head", e.Message, StringComparison.OrdinalIgnoreCase);
            Assert.Throws<RingCorruptedException>(() => writer.TryWrite(9)); // what the write says too
        }
        finally
        {
            ring.Head = 4; // let the channel end normally
        }
    }

    [Fact]
    public async Task A_message_writer_waiting_asynchronously_reports_a_head_ahead_of_the_tail()
    {
        using var channel = IpcChannel.CreateMessages(new IpcChannelOptions { BufferSize = 4096, MaxMessageLength = 64 });
        var writer = channel.Writer;
        Assert.True(writer.TryWrite(1, new byte[16]));
        var ring = new RecordRingMemory(channel.Region, channel.Core.RingPart);
        long head = ring.Head;
        ring.Head = ring.Tail + 64; // a peer's garbage: the reader ahead of what was written
        try
        {
            await Assert.ThrowsAsync<RingCorruptedException>(async () => await writer.WaitToWriteAsync(new CancellationTokenSource(s_wait).Token));
            Assert.Throws<RingCorruptedException>(() => writer.WaitToWrite(8, s_wait)); // what the blocking wait says too
        }
        finally
        {
            ring.Head = head;
        }
    }

    [Fact]
    public async Task A_message_writers_async_wait_ends_when_the_longest_message_fits_at_the_tail()
    {
        // 512-byte longest records (504 + the header) in 4096 bytes: 3,496 written leave 600 free,
        // all before the ring's end, room for the longest but not for two of them.
        using var channel = IpcChannel.CreateMessages(new IpcChannelOptions { BufferSize = 4096, MaxMessageLength = 504 });
        var writer = channel.Writer;
        for (int i = 0; i < 6; i++)
        {
            Assert.True(writer.TryWrite(1, new byte[504]));
        }

        Assert.True(writer.TryWrite(1, new byte[416]));
        Assert.True(writer.WaitToWrite(512, TimeSpan.Zero)); // the blocking wait's count of the same room

        Assert.True(await writer.WaitToWriteAsync(new CancellationTokenSource(s_wait).Token));
        Assert.True(writer.TryWrite(1, new byte[504])); // and the room was real
    }
}
