using UintrIpc.Channels;

namespace UintrIpc.Tests.Channels;

/// <summary>
/// The public pull read of a message channel (IpcMessageReader.TryReadBatch, ReadBatch): what is
/// released when, the <c>using</c> form, a batch that outlives its reader, and no allocation per
/// message. The ring-level contract (order, limit, padding, re-reads, a refused completion, hostile
/// records) is Rings/RecordsContractTests.Pull.cs and RecordsCorruptionTests; cross-process, ChannelCrossProcessTests.
/// </summary>
public sealed class ReadBatchTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_batch_releases_what_it_took_at_its_completion_and_is_then_inactive(bool multipleWriters)
    {
        using var channel = IpcChannel.CreateMessages(new IpcChannelOptions { BufferSize = 256, MaxMessageLength = 8, MultipleWriters = multipleWriters });
        var reader = channel.Reader;
        Assert.False(reader.TryReadBatch(out ReadBatch none));
        Assert.False(none.IsActive);
        Assert.False(none.TryNext(out _, out _));
        none.Complete(); // nothing: inactive
        none.Dispose();

        int written = 0;
        while (channel.Writer.TryWrite(written % 5, BitConverter.GetBytes((long)written)))
        {
            written++;
        }

        Assert.Equal(16, written); // 16-byte records fill the 256 bytes
        Assert.True(reader.TryReadBatch(out ReadBatch batch, 6));
        Assert.True(batch.IsActive);
        for (int i = 0; i < 6; i++)
        {
            Assert.True(batch.TryNext(out int type, out ReadOnlySpan<byte> payload));
            Assert.Equal((i % 5, (long)i), (type, BitConverter.ToInt64(payload)));
        }

        Assert.False(batch.TryNext(out _, out _));
        Assert.Equal(6, batch.Count);
        Assert.False(channel.Writer.TryWrite(0, new byte[8])); // taken is not released
        batch.Complete();
        Assert.False(batch.IsActive);
        Assert.Equal(0, batch.Count);
        batch.Complete(); // a second completion does nothing
        for (int i = 0; i < 6; i++)
        {
            Assert.True(channel.Writer.TryWrite(1, BitConverter.GetBytes(100L + i)));
        }

        Assert.False(channel.Writer.TryWrite(1, new byte[8]));
        var values = new List<long>();
        for (int batches = 0; batches < 16 && reader.TryReadBatch(out ReadBatch next, 4); batches++) // bounded: 4 batches of 4 hold them all
        {
            while (next.TryNext(out _, out ReadOnlySpan<byte> payload))
            {
                values.Add(BitConverter.ToInt64(payload));
            }

            next.Complete();
        }

        Assert.Equal([.. Enumerable.Range(6, 10).Select(i => (long)i), .. Enumerable.Range(100, 6).Select(i => (long)i)], values);
        Assert.Throws<ArgumentOutOfRangeException>(() => reader.TryReadBatch(out _, -1));
    }

    [Fact]
    public void A_throw_from_the_loop_under_using_releases_what_was_taken()
    {
        using var channel = IpcChannel.CreateMessages(new IpcChannelOptions { BufferSize = 256 });
        for (long i = 0; i < 4; i++)
        {
            Assert.True(channel.Writer.TryWrite(0, BitConverter.GetBytes(i)));
        }

        Assert.Throws<InvalidDataException>(() => TakeAndThrowAt(channel.Reader, 1));
        // The two taken (the one the loop threw on included) were released, as Read's handler's are.
        Assert.True(channel.Reader.TryRead(out IpcMessage next));
        Assert.Equal(2, BitConverter.ToInt64(next.Payload.Span));
    }

    [Fact]
    public void Another_read_while_a_batch_is_open_makes_its_completion_throw_and_release_nothing()
    {
        using var channel = IpcChannel.CreateMessages(new IpcChannelOptions { BufferSize = 256 });
        for (long i = 0; i < 3; i++)
        {
            Assert.True(channel.Writer.TryWrite(0, BitConverter.GetBytes(i)));
        }

        Assert.True(channel.Reader.TryReadBatch(out ReadBatch batch));
        Assert.True(batch.TryNext(out _, out _));
        Assert.True(batch.TryNext(out _, out _));
        Assert.True(channel.Reader.TryRead(out IpcMessage first)); // the batch's first message, read again and released
        Assert.Equal(0, BitConverter.ToInt64(first.Payload.Span));
        bool threw = false;
        try
        {
            batch.Complete();
        }
        catch (InvalidOperationException e)
        {
            threw = e.Message.Contains("Another read released", StringComparison.Ordinal);
        }

        Assert.True(threw);
        Assert.False(batch.IsActive);
        batch.Dispose(); // inactive: nothing
        Assert.True(channel.Reader.TryRead(out IpcMessage second)); // the batch released nothing
        Assert.Equal(1, BitConverter.ToInt64(second.Payload.Span));
    }

    [Fact]
    public void A_batch_outliving_its_channel_reads_no_fault_refuses_its_completion_and_disposes_quietly()
    {
        var channel = IpcChannel.CreateMessages(new IpcChannelOptions { BufferSize = 256 });
        for (long i = 0; i < 3; i++)
        {
            Assert.True(channel.Writer.TryWrite(0, BitConverter.GetBytes(i)));
        }

        var reader = channel.Reader;
        Assert.True(reader.TryReadBatch(out ReadBatch batch));
        Assert.True(batch.TryNext(out _, out _));
        ReadBatch copy = batch;
        channel.Dispose(); // the reader, the writer and the region: the mapping goes when its last holder does
        batch.TryNext(out _, out _); // loads only: the shared memory or its zero placeholder, never a fault
        Assert.True(batch.Count >= 1);
        bool disposed = false;
        try
        {
            batch.Complete();
        }
        catch (ObjectDisposedException)
        {
            disposed = true;
        }

        Assert.True(disposed);
        Assert.False(batch.IsActive);
        Assert.True(copy.IsActive);
        copy.Dispose(); // a using's Dispose after the reader is gone: no exception
        Assert.False(copy.IsActive);
        Assert.Throws<ObjectDisposedException>(() => reader.TryReadBatch(out _));
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    public void Batches_allocate_nothing_per_message(bool multipleWriters, bool checksums)
    {
        using var channel = IpcChannel.CreateMessages(new IpcChannelOptions { BufferSize = 4096, MaxMessageLength = 64, MultipleWriters = multipleWriters, Checksums = checksums });
        byte[] payload = new byte[24];
        long Round()
        {
            long sum = 0;
            for (int i = 0; i < 64; i++)
            {
                Assert.True(channel.Writer.TryWrite(i, payload));
            }

            int taken = 0;
            for (int batches = 0; batches < 8 && channel.Reader.TryReadBatch(out ReadBatch batch, 16); batches++) // bounded: 4 batches hold the 64
            {
                while (batch.TryNext(out int type, out ReadOnlySpan<byte> message))
                {
                    sum += type + message.Length;
                }

                taken += batch.Count;
                batch.Complete();
            }

            return taken == 64 ? sum : throw new InvalidOperationException($"{taken} of 64 read");
        }

        for (int i = 0; i < 100; i++)
        {
            Round(); // warm-up: tiering
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++)
        {
            Round();
        }

        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(0, allocated); // 64 000 messages written and read in batches of 16
    }

    /// <summary>A using batch whose loop throws on message <paramref name="at"/> (0-based).</summary>
    private static void TakeAndThrowAt(IpcMessageReader reader, int at)
    {
        Assert.True(reader.TryReadBatch(out ReadBatch taken));
        using var batch = taken;
        while (batch.TryNext(out _, out ReadOnlySpan<byte> payload))
        {
            if (BitConverter.ToInt64(payload) == at)
            {
                throw new InvalidDataException("the caller's loop failed");
            }
        }
    }
}
