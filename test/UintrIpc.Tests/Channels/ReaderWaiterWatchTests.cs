using UintrIpc.Channels;
using UintrIpc.Rings;
using UintrIpc.Memory;
using UintrIpc.Signaling;
using UintrIpc.Tests.Rings;

namespace UintrIpc.Tests.Channels;

/// <summary>
/// The async waiter thread of a channel reader only watches the ring: the consumer's private
/// positions, its releases and their repairs (uintripc.h 2c, 2e, 2g) belong to the thread that
/// reads. A cancelled wait ends at once for the reader, while the waiter thread looks at the ring
/// once or twice more. Had such a look put the shared head "back" over one it took for a peer's
/// rewrite (it loaded the reader's private head before the reader's release, the shared head
/// after), the shared head would step backwards under the reader's feet.
/// </summary>
public sealed class ReaderWaiterWatchTests
{
    private const int Rounds = 3000;
    private const int Burst = 16;

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task The_shared_head_never_moves_backwards_when_a_cancelled_wait_overlaps_reads(bool multipleWriters)
    {
        using var channel = IpcChannel.CreateMessages(new IpcChannelOptions
        {
            BufferSize = 4096,
            MaxMessageLength = 64,
            MultipleWriters = multipleWriters,
            Doorbell = DoorbellKind.Futex,
            SpinBudget = TimeSpan.FromSeconds(1), // the waiter keeps looking until the cancel stops it
            YieldBudget = TimeSpan.Zero,
        });
        using var positions = new RecordRing(channel.Region); // only the shared positions are read
        var reader = channel.Reader;
        var writer = channel.Writer;
        var buffer = new byte[64];
        var payload = new byte[8];
        using var stop = new CancellationTokenSource();
        long backwards = 0;
        long samples = 0;
        // Records every value of the shared head it sees; only the consumer writes it, and ours only moves forward.
        var watcher = new Thread(() =>
        {
            long last = positions.ConsumerPosition;
            while (!stop.IsCancellationRequested)
            {
                long head = positions.ConsumerPosition;
                if (head < last)
                {
                    backwards++;
                }

                last = Math.Max(last, head);
                samples++;
            }
        }) { IsBackground = true, Name = "head watcher" };
        watcher.Start();
        int read = 0;
        try
        {
            for (int round = 0; round < Rounds; round++)
            {
                using var cancel = new CancellationTokenSource();
                ValueTask<bool> wait = reader.WaitToReadAsync(cancel.Token); // empty ring: the waiter thread takes it
                Assert.False(wait.IsCompleted);
                cancel.Cancel(); // the wait ends now; the waiter thread still looks at the ring
                await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await wait);
                for (int i = 0; i < Burst; i++) // reads and releases while the waiter looks
                {
                    Assert.True(writer.TryWrite(i, payload));
                    Assert.True(reader.TryRead(out int type, buffer, out int length));
                    Assert.Equal((i, 8), (type, length));
                    read++;
                }
            }
        }
        finally
        {
            stop.Cancel();
            Assert.True(watcher.Join(TimeSpan.FromSeconds(30)));
        }

        Assert.Equal(Rounds * Burst, read);
        Assert.False(reader.TryRead(out _, buffer, out _));
        Assert.Equal(positions.ProducerPosition, positions.ConsumerPosition);
        Assert.True(samples > 0);
        Assert.True(backwards == 0, $"the shared head moved backwards {backwards} times in {samples} samples");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_head_a_peer_rewrites_during_an_async_read_is_put_back_by_the_reader(bool multipleWriters)
    {
        using var channel = IpcChannel.CreateMessages(new IpcChannelOptions
        {
            BufferSize = 4096,
            MaxMessageLength = 64,
            MultipleWriters = multipleWriters,
            Doorbell = DoorbellKind.Futex,
            SpinBudget = TimeSpan.Zero,
            YieldBudget = TimeSpan.Zero,
            MaxParkTime = TimeSpan.FromMilliseconds(1), // the waiter looks again often
        });
        var memory = new RecordRingMemory(channel.Region, multipleWriters ? PartKind.MpscRecords : PartKind.SpscRecords);
        var buffer = new byte[64];
        for (int i = 0; i < 3; i++)
        {
            Assert.True(channel.Writer.TryWrite(i, new byte[8]));
            Assert.True(channel.Reader.TryRead(out _, buffer, out _));
        }

        long head = memory.Head;
        Assert.Equal(48, head);
        ValueTask<IpcMessage> read = channel.Reader.ReadAsync(); // empty: the waiter thread takes the wait
        Assert.False(read.IsCompleted);
        memory.Head = 16; // a peer holds the producers back; the waiter only watches, the reader repairs
        Assert.True(SpinWait.SpinUntil(() => memory.Head == head, TimeSpan.FromSeconds(30)));
        Assert.False(read.IsCompleted);
        Assert.True(channel.Writer.TryWrite(7, new byte[8]));
        IpcMessage message = await read.AsTask().WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(7, message.Type);
        Assert.Equal(memory.Tail, memory.Head);
    }
}
