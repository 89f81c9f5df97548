using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using UintrIpc.Channels;
using UintrIpc.Rings;
using UintrIpc.Signaling;
using UintrIpc.TestPeer.Commands;
using UintrIpc.Tests.Signaling;

namespace UintrIpc.Tests.Channels;

/// <summary>
/// Batched in-place claims on a channel writer (IpcChannelWriter.TryClaim(count)): values and
/// order, completion (a batch after it is refused, one before it is read), aborts that never hold
/// the reader up, a sleeping reader woken by the batch, no allocation per batch.
/// </summary>
public sealed class ChannelBatchTests
{
    private static IpcChannel<long> Create(bool multipleWriters, int capacity = 16, bool checksums = false)
        => IpcChannel.CreateBounded<long>(new IpcChannelOptions { Capacity = capacity, MultipleWriters = multipleWriters, Checksums = checksums, Doorbell = DoorbellKind.Futex });

    private static int WriteBatch(IpcChannelWriter<long> writer, int count, long first)
    {
        bool claimed = writer.TryClaim(count, out SlotBatch<long> batch);
        return SequenceBatches.FillAndPublish(claimed, ref batch, first);
    }

    private static List<long> ReadAll(IpcChannelReader<long> reader)
    {
        var items = new List<long>();
        while (reader.TryRead(out long item))
        {
            items.Add(item);
        }

        return items;
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [InlineData(true, true)]
    public void Batches_are_read_in_order_and_cut_to_the_room(bool multi, bool checksums)
    {
        using var channel = Create(multi, capacity: 8, checksums);
        var reader = channel.Reader;
        var writer = channel.Writer;
        Assert.Equal(5, WriteBatch(writer, 5, 0));
        Assert.Equal(3, WriteBatch(writer, 5, 5));
        Assert.Equal(0, WriteBatch(writer, 1, 9));
        Assert.Equal([0, 1, 2, 3, 4, 5, 6, 7], ReadAll(reader));
        Assert.Equal(6, WriteBatch(writer, 6, 10)); // across the wrap
        Assert.Equal([10, 11, 12, 13, 14, 15], ReadAll(reader));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Completion_refuses_later_batches_and_keeps_earlier_ones(bool multi)
    {
        using var channel = Create(multi);
        var reader = channel.Reader;
        var writer = channel.Writer;
        Assert.True(writer.TryClaim(3, out SlotBatch<long> batch));
        batch[0] = 1;
        batch[1] = 2;
        batch[2] = 3;
        batch.Publish();
        Assert.True(writer.TryComplete());
        Assert.False(writer.TryClaim(3, out SlotBatch<long> refused));
        Assert.False(refused.IsActive);
        Assert.Throws<ArgumentOutOfRangeException>(() => writer.TryClaim(0, out _));
        Assert.Equal([1, 2, 3], ReadAll(reader));
        await reader.Completion.WaitAsync(TestWait.Long);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Abandoned_batch_never_holds_the_reader_up(bool multi)
    {
        using var channel = Create(multi);
        var reader = channel.Reader;
        var writer = channel.Writer;
        Assert.True(writer.TryClaim(4, out SlotBatch<long> batch));
        batch[0] = -1;
        batch.Dispose();
        Assert.Equal(2, WriteBatch(writer, 2, 7));
        Assert.True(reader.TryRead(out long first, TestWait.Long));
        Assert.Equal(7, first);
        Assert.Equal([8], ReadAll(reader));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Batch_wakes_a_sleeping_reader(bool multi)
    {
        using var channel = Create(multi);
        var reader = channel.Reader;
        var writer = channel.Writer;
        ValueTask<long> read = reader.ReadAsync();
        var waitBlock = new WaitBlock(channel.Region);
        using var stop = new CancellationTokenSource(TestWait.Long);
        while (!waitBlock.IsConsumerSleeping && !read.IsCompleted && !stop.IsCancellationRequested)
        {
            Thread.Yield();
        }

        Assert.Equal(3, WriteBatch(writer, 3, 40));
        Assert.Equal(40, await read.AsTask().WaitAsync(TestWait.Long));
        Assert.Equal([41, 42], ReadAll(reader));
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [InlineData(true, true)]
    public void Batches_allocate_nothing(bool multi, bool checksums)
    {
        using var channel = Create(multi, capacity: 64, checksums);
        var reader = channel.Reader;
        var writer = channel.Writer;
        long Run()
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int round = 0; round < 2000; round++)
            {
                WriteBatch(writer, 16, round);
                while (reader.TryRead(out _))
                {
                }
            }

            return GC.GetAllocatedBytesForCurrentThread() - before;
        }

        Run(); // warm-up
        Assert.Equal(0, Run());
    }

    private static IpcMessageChannel CreateMessages(bool multipleWriters, bool checksums = false)
        => IpcChannel.CreateMessages(new IpcChannelOptions { BufferSize = 4096, MaxMessageLength = 256, MultipleWriters = multipleWriters, Checksums = checksums, Doorbell = DoorbellKind.Futex });

    private static Type? CatchAppend(ref RecordBatch batch, int length)
    {
        try
        {
            batch.TryAppend(0, length, out _);
            return null;
        }
        catch (Exception e)
        {
            return e.GetType();
        }
    }

    private static int WriteMessages(IpcMessageWriter writer, int bytes, int count, int firstType)
    {
        if (!writer.TryClaimBatch(bytes, out RecordBatch batch))
        {
            return 0;
        }

        using (batch)
        {
            for (int i = 0; i < count && batch.TryAppend(firstType + i, 12, out Span<byte> payload); i++)
            {
                payload.Fill((byte)(firstType + i));
            }

            batch.Commit();
            return batch.Count;
        }
    }

    /// <summary>
    /// A claim refused on a full ring, then after completion, leaves no batch (as <c>default</c>), also in a
    /// variable that held a committed batch: the writer makes it none in place (RecordBatch.None), without
    /// zeroing the entries, and nothing of a refused claim reaches the reader.
    /// </summary>
    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [InlineData(true, true)]
    public void A_refused_message_batch_is_no_batch_even_where_a_committed_one_was(bool multi, bool checksums)
    {
        using var channel = CreateMessages(multi, checksums);
        var writer = channel.Writer;
        RecordBatch batch;
        int written = 0;
        while (true)
        {
            if (!writer.TryClaimBatch(256, out batch))
            {
                break;
            }

            Assert.True(batch.TryAppend(written + 1, 12, out Span<byte> payload));
            payload.Fill((byte)(written + 1));
            batch.Commit(); // the variable now holds a completed batch of this ring
            written++;
        }

        Assert.True(written >= 4096 / 256); // MPSC: 16 claims of 256 bytes; SPSC: a commit takes only the records (24 bytes each)
        AssertNoBatch(ref batch);
        Assert.True(writer.TryComplete());
        Assert.False(writer.TryClaimBatch(64, out batch));
        AssertNoBatch(ref batch);

        var buffer = new byte[256];
        for (int type = 1; type <= written; type++)
        {
            Assert.True(channel.Reader.TryRead(out int read, buffer, out int length));
            Assert.Equal(type, read);
            Assert.Equal(12, length);
            Assert.All(buffer[..12], b => Assert.Equal((byte)type, b));
        }

        Assert.False(channel.Reader.TryRead(out _, buffer, out _));
    }

    private static void AssertNoBatch(ref RecordBatch batch)
    {
        Assert.False(batch.IsActive);
        Assert.Equal(0, batch.Count);
        Assert.Equal(0, batch.BytesLeft);
        batch.Dispose(); // no batch: nothing to abort
        var notBatch = CatchCommit(ref batch);
        Assert.IsType<InvalidOperationException>(notBatch);
        Assert.Contains("not a batch", notBatch.Message, StringComparison.Ordinal); // not "already committed": nothing of the earlier batch is left
        Assert.Equal(typeof(InvalidOperationException), CatchAppend(ref batch, 12));
    }

    private static Exception CatchCommit(ref RecordBatch batch)
    {
        try
        {
            batch.Commit();
        }
        catch (Exception e)
        {
            return e;
        }

        throw new Xunit.Sdk.XunitException("Commit of no batch did not throw");
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [InlineData(true, true)]
    public async Task Message_batches_are_read_in_order_and_refused_after_completion(bool multi, bool checksums)
    {
        using var channel = CreateMessages(multi, checksums);
        var reader = channel.Reader;
        var writer = channel.Writer;
        Assert.Equal(3, WriteMessages(writer, 100, 3, 1));
        Assert.True(writer.TryClaimBatch(600, out RecordBatch longest));
        Assert.True(longest.TryAppend(0, 256, out _)); // the channel's MaxMessageLength, checksum or not
        Assert.Equal(typeof(ArgumentOutOfRangeException), CatchAppend(ref longest, 257));
        longest.Dispose();
        Assert.True(writer.TryClaimBatch(64, out RecordBatch abandoned));
        Assert.True(abandoned.TryAppend(9, 4, out _));
        abandoned.Dispose();
        Assert.Equal(2, WriteMessages(writer, 64, 2, 4));
        Assert.True(writer.TryComplete());
        Assert.False(writer.TryClaimBatch(64, out RecordBatch refused));
        Assert.False(refused.IsActive);

        var buffer = new byte[256];
        for (int type = 1; type <= 5; type++)
        {
            Assert.True(reader.TryRead(out int read, buffer, out int length));
            Assert.Equal(type, read);
            Assert.Equal(12, length);
            Assert.All(buffer[..12], b => Assert.Equal((byte)type, b));
        }

        Assert.False(reader.TryRead(out _, buffer, out _));
        await reader.Completion.WaitAsync(TestWait.Long);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Message_batch_wakes_a_sleeping_reader(bool multi)
    {
        using var channel = CreateMessages(multi);
        var reader = channel.Reader;
        var writer = channel.Writer;
        ValueTask<IpcMessage> read = reader.ReadAsync();
        var waitBlock = new WaitBlock(channel.Region);
        using var stop = new CancellationTokenSource(TestWait.Long);
        while (!waitBlock.IsConsumerSleeping && !read.IsCompleted && !stop.IsCancellationRequested)
        {
            Thread.Yield();
        }

        Assert.Equal(2, WriteMessages(writer, 64, 2, 7));
        IpcMessage first = await read.AsTask().WaitAsync(TestWait.Long);
        Assert.Equal(7, first.Type);
        Assert.True(reader.TryRead(out IpcMessage second));
        Assert.Equal(8, second.Type);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Message_batch_whose_commit_meets_a_rewritten_header_wakes_the_reader_in_its_dispose(bool checksums)
    {
        // One writer, a range over 1 KiB: the commit reads each header back, publishes the
        // messages before one a peer rewrote, pads the rest and throws. The batch stays active
        // (as after an MPSC commit that throws), so the wake-up check for what it published runs
        // in its Dispose (the `using` every batch is documented to be used in), once; a caller
        // that never disposes it leaves a sleeping reader to its park's timeout. Not checked in
        // Commit: a try/catch there kept the JIT from inlining Commit (FullOpts: a call per batch).
        using var channel = CreateMessages(multipleWriters: false, checksums);
        var reader = channel.Reader;
        var writer = channel.Writer;
        WaitBlockCounters before = writer.Counters;
        Assert.True(writer.TryClaimBatch(2048, out RecordBatch batch));
        Assert.True(batch.TryAppend(1, 8, out Span<byte> first));
        first.Fill(0x5a);
        Assert.True(batch.TryAppend(2, 8, out Span<byte> second));
        second.Fill(0x5b);
        Unsafe.WriteUnaligned(ref Unsafe.Subtract(ref MemoryMarshal.GetReference(second), RingLayout.RecordHeaderSize), 0L); // the peer's write
        try
        {
            batch.Commit();
            Assert.Fail("the commit published over a rewritten header");
        }
        catch (RingCorruptedException)
        {
        }

        Assert.Equal(before, writer.Counters); // the commit ran no wake-up check
        Assert.True(batch.IsActive);
        batch.Dispose();
        WaitBlockCounters after = writer.Counters;
        Assert.Equal(1ul, after.WakeupsSent + after.WakeupsSuppressed - (before.WakeupsSent + before.WakeupsSuppressed));
        Assert.False(batch.IsActive);
        batch.Dispose(); // nothing more
        Assert.Equal(after, writer.Counters);
        var buffer = new byte[256];
        Assert.True(reader.TryRead(out int type, buffer, out int length));
        Assert.Equal((1, 8), (type, length));
        Assert.All(buffer[..8], b => Assert.Equal((byte)0x5a, b));
        Assert.False(reader.TryRead(out _, buffer, out _)); // the rest became padding
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [InlineData(true, true)]
    public void Message_batches_allocate_nothing(bool multi, bool checksums)
    {
        using var channel = CreateMessages(multi, checksums);
        var reader = channel.Reader;
        var writer = channel.Writer;
        var buffer = new byte[256];
        long Run()
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int round = 0; round < 2000; round++)
            {
                WriteMessages(writer, 512, 16, 0);
                while (reader.TryRead(out _, buffer, out _))
                {
                }
            }

            return GC.GetAllocatedBytesForCurrentThread() - before;
        }

        Run(); // warm-up
        Assert.Equal(0, Run());
    }
}
