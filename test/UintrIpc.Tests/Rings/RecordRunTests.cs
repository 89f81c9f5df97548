using UintrIpc.Channels;
using UintrIpc.Memory;
using UintrIpc.Rings;
using UintrIpc.Signaling;

using static UintrIpc.Tests.Rings.RecordTestKit;

namespace UintrIpc.Tests.Rings;

/// <summary>
/// Runs of messages of one type and length appended to a record batch at once
/// (RecordBatch.TryAppend(type, length, count, out RecordRun)): read back exactly and in order
/// between single appends, on rings and on message channels with checksums; a run that does not
/// fit appends nothing; arguments out of range, a completed batch and a disposed ring throw; an
/// aborted run never stalls the consumer; no allocation.
/// </summary>
public sealed class RecordRunTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_run_between_single_appends_is_read_exactly_and_in_order(bool multi)
    {
        using var region = Region(1024, multi);
        using var ring = new RecordRing(region);
        Assert.True(ring.TryClaimBatch(200, out RecordBatch batch));
        using (batch)
        {
            Assert.True(batch.TryAppend(1, 5, out Span<byte> first)); // 16 bytes
            Fill(first, 1);
            Assert.True(batch.TryAppend(7, 13, 3, out RecordRun run)); // 3 x 24 bytes
            Assert.Equal(3, run.Count);
            Assert.Equal(13, run.Length);
            Assert.Equal(4, batch.Count);
            Assert.Equal(200 - 16 - 72, batch.BytesLeft);
            for (int i = 0; i < run.Count; i++)
            {
                Assert.Equal(13, run[i].Length);
                Fill(run[i], 10 + i);
            }

            Assert.True(batch.TryAppend(2, 0, out _)); // 8 bytes after the run
            Assert.False(ring.CanRead); // nothing visible before the commit
            batch.Commit();
        }

        var messages = ReadAll(ring);
        Assert.Equal(5, messages.Count);
        AssertMessage(messages[0], 1, 5, 1);
        for (int i = 0; i < 3; i++)
        {
            AssertMessage(messages[1 + i], 7, 13, 10 + i);
        }

        AssertMessage(messages[4], 2, 0, 0);
        Assert.Equal(multi ? 200 : 96, ring.ConsumerPosition); // MPSC: the unused rest became padding
        Assert.Equal(ring.ProducerPosition, ring.ConsumerPosition);
    }

    /// <summary>
    /// A batch that starts with a run (an MPSC raw ring's batch keeps that run as one private entry
    /// and its count, RecordBatchEntries), then single appends and another run: every record keeps
    /// its own type and length; a batch of one run of MaxRecords; a leading run of one.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_batch_that_starts_with_a_run_keeps_each_records_type_and_length(bool multi)
    {
        using var region = Region(4096, multi);
        using var ring = new RecordRing(region);
        Assert.True(ring.TryClaimBatch(400, out RecordBatch batch));
        using (batch)
        {
            Assert.True(batch.TryAppend(7, 13, 3, out RecordRun lead)); // 3 x 24 bytes, entries 0 and 1 hold it
            for (int i = 0; i < lead.Count; i++)
            {
                Fill(lead[i], 10 + i);
            }

            Assert.True(batch.TryAppend(1, 5, out Span<byte> single)); // 16 bytes, entry 3
            Fill(single, 1);
            Assert.True(batch.TryAppend(9, 0, 2, out _)); // 2 x 8 bytes
            Assert.True(batch.TryAppend(3, 40, out Span<byte> last)); // 48 bytes
            Fill(last, 3);
            batch.Commit();
        }

        var messages = ReadAll(ring);
        Assert.Equal(7, messages.Count);
        for (int i = 0; i < 3; i++)
        {
            AssertMessage(messages[i], 7, 13, 10 + i);
        }

        AssertMessage(messages[3], 1, 5, 1);
        AssertMessage(messages[4], 9, 0);
        AssertMessage(messages[5], 9, 0);
        AssertMessage(messages[6], 3, 40, 3);

        Assert.True(ring.TryClaimBatch(RecordBatch.MaxRecords * 16, out RecordBatch full));
        using (full)
        {
            Assert.True(full.TryAppend(4, 8, RecordBatch.MaxRecords, out RecordRun run));
            for (int i = 0; i < run.Count; i++)
            {
                Fill(run[i], 40 + i);
            }

            full.Commit();
        }

        messages = ReadAll(ring);
        Assert.Equal(RecordBatch.MaxRecords, messages.Count);
        for (int i = 0; i < messages.Count; i++)
        {
            AssertMessage(messages[i], 4, 8, 40 + i);
        }

        Assert.True(ring.TryClaimBatch(64, out RecordBatch one));
        using (one)
        {
            Assert.True(one.TryAppend(5, 3, 1, out RecordRun first)); // a run of one: an ordinary entry
            Fill(first[0], 5);
            Assert.True(one.TryAppend(6, 4, 2, out RecordRun second));
            Fill(second[0], 6);
            Fill(second[1], 6);
            one.Commit();
        }

        messages = ReadAll(ring);
        Assert.Equal(3, messages.Count);
        AssertMessage(messages[0], 5, 3, 5);
        AssertMessage(messages[1], 6, 4);
        AssertMessage(messages[2], 6, 4);
        Assert.Equal(ring.ProducerPosition, ring.ConsumerPosition);
    }

    /// <summary>
    /// Runs of records of a cache line or more, whose headers miss where the appends' did not:
    /// a run stores its private entries first (four at a time, the rest one by one: runs of 5
    /// and 4 here) and its headers after them (RecordBatch.TryAppend); the commit publishes
    /// from those entries (MPSC, and SPSC ranges up to 1 KiB), so every record keeps its run's
    /// type and length.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Runs_of_records_of_a_line_or_more_are_read_exactly_and_in_order(bool multi)
    {
        using var region = Region(4096, multi);
        using var ring = new RecordRing(region);
        Assert.True(ring.TryClaimBatch(1000, out RecordBatch batch)); // at most 1 KiB: SPSC keeps its entries too
        using (batch)
        {
            Assert.True(batch.TryAppend(1, 5, out Span<byte> first)); // 16 bytes
            Fill(first, 1);
            Assert.True(batch.TryAppend(7, 120, 5, out RecordRun lines)); // 5 x 128 bytes
            for (int i = 0; i < lines.Count; i++)
            {
                Fill(lines[i], 10 + i);
            }

            Assert.True(batch.TryAppend(9, 56, 4, out RecordRun line)); // 4 x 64 bytes, one line each
            for (int i = 0; i < line.Count; i++)
            {
                Fill(line[i], 20 + i);
            }

            Assert.True(batch.TryAppend(2, 0, out _)); // 8 bytes after the runs
            batch.Commit();
        }

        var messages = ReadAll(ring);
        Assert.Equal(11, messages.Count);
        AssertMessage(messages[0], 1, 5, 1);
        for (int i = 0; i < 5; i++)
        {
            AssertMessage(messages[1 + i], 7, 120, 10 + i);
        }

        for (int i = 0; i < 4; i++)
        {
            AssertMessage(messages[6 + i], 9, 56, 20 + i);
        }

        AssertMessage(messages[10], 2, 0, 0);
        Assert.Equal(multi ? 1000 : 920, ring.ConsumerPosition); // MPSC: the unused rest became padding
        Assert.Equal(ring.ProducerPosition, ring.ConsumerPosition);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_run_that_does_not_fit_appends_nothing(bool multi)
    {
        using var region = Region(1024, multi);
        using var ring = new RecordRing(region);
        Assert.True(ring.TryClaimBatch(64, out RecordBatch batch));
        using (batch)
        {
            Assert.False(batch.TryAppend(3, 16, 3, out RecordRun none)); // 3 x 24 bytes > 64
            Assert.Equal(0, none.Count);
            Assert.Equal(0, batch.Count);
            Assert.Equal(64, batch.BytesLeft);
            Assert.True(batch.TryAppend(3, 16, 2, out RecordRun two)); // 48 bytes: fits
            Fill(two[0], 30);
            Fill(two[1], 31);
            Assert.False(batch.TryAppend(4, 9, 1, out _)); // 24 bytes, 16 left
            batch.Commit();
        }

        var messages = ReadAll(ring);
        Assert.Equal(2, messages.Count);
        AssertMessage(messages[0], 3, 16, 30);
        AssertMessage(messages[1], 3, 16, 31);

        // The count is bounded by MaxRecords less what the batch holds.
        Assert.True(ring.TryClaimBatch(512, out batch));
        using (batch)
        {
            Assert.True(batch.TryAppend(5, 0, RecordBatch.MaxRecords - 2, out _));
            Assert.False(batch.TryAppend(6, 0, 3, out _));
            Assert.Equal(RecordBatch.MaxRecords - 2, batch.Count);
            Assert.True(batch.TryAppend(6, 0, 2, out _));
            Assert.False(batch.TryAppend(7, 0, out _)); // MaxRecords
            batch.Commit();
        }

        Assert.Equal(RecordBatch.MaxRecords, ReadAll(ring).Count);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Arguments_out_of_range_throw_and_append_nothing(bool multi)
    {
        using var region = Region(1024, multi, maxMessageLength: 64);
        using var ring = new RecordRing(region);
        Assert.True(ring.TryClaimBatch(256, out RecordBatch batch));
        try
        {
            Assert.Equal("count", Catch(ref batch, 0, 8, 0)?.ParamName);
            Assert.Equal("count", Catch(ref batch, 0, 8, -1)?.ParamName);
            Assert.Equal("count", Catch(ref batch, 0, 8, RecordBatch.MaxRecords + 1)?.ParamName);
            Assert.Equal("type", Catch(ref batch, -1, 8, 1)?.ParamName);
            Assert.Equal("length", Catch(ref batch, 0, 65, 1)?.ParamName);
            Assert.Equal("length", Catch(ref batch, 0, -1, 1)?.ParamName);
            Assert.Null(Catch(ref batch, 0, 64, 1)); // the longest message
            Assert.Equal(1, batch.Count);
            Assert.True(batch.TryAppend(0, 8, 1, out RecordRun run));
            Assert.Equal("index", CatchIndex(run, 1)?.ParamName);
            Assert.Equal("index", CatchIndex(run, -1)?.ParamName);
            Assert.Null(CatchIndex(run, 0));
            batch.Commit();
        }
        finally
        {
            batch.Dispose();
        }

        Assert.Equal(2, ReadAll(ring).Count);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_completed_batch_no_batch_and_a_disposed_ring_refuse_a_run(bool multi)
    {
        using var region = Region(1024, multi);
        var ring = new RecordRing(region);
        Assert.True(ring.TryClaimBatch(64, out RecordBatch batch));
        batch.Commit();
        Assert.Equal(typeof(InvalidOperationException), CatchAppend(ref batch)); // committed
        RecordBatch none = default;
        Assert.Equal(typeof(InvalidOperationException), CatchAppend(ref none));
        Assert.True(ring.TryClaimBatch(64, out RecordBatch open));
        ring.Dispose();
        Assert.Equal(typeof(ObjectDisposedException), CatchAppend(ref open));
        Assert.Equal(0, open.Count);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void An_aborted_run_never_stalls_the_consumer(bool multi)
    {
        using var region = Region(512, multi);
        using var ring = new RecordRing(region);
        for (int lap = 0; lap < 8; lap++)
        {
            Assert.True(ring.TryClaimBatch(100, out RecordBatch abandoned));
            using (abandoned)
            {
                Assert.True(abandoned.TryAppend(9, 16, 3, out RecordRun run));
                Fill(run[0], 9);
            }

            Assert.True(ring.TryClaimBatch(80, out RecordBatch batch));
            using (batch)
            {
                Assert.True(batch.TryAppend(lap, 24, 2, out RecordRun run));
                Fill(run[0], lap);
                Fill(run[1], lap + 1);
                batch.Commit();
            }

            var messages = ReadAll(ring);
            Assert.Equal(2, messages.Count);
            AssertMessage(messages[0], lap, 24, lap);
            AssertMessage(messages[1], lap, 24, lap + 1);
            Assert.Equal(ring.ProducerPosition, ring.ConsumerPosition);
        }
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [InlineData(true, true)]
    public void A_run_on_a_message_channel_is_read_with_its_checksums(bool multi, bool checksums)
    {
        using var channel = IpcChannel.CreateMessages(new IpcChannelOptions { BufferSize = 4096, MaxMessageLength = 256, MultipleWriters = multi, Checksums = checksums, Doorbell = DoorbellKind.Futex });
        Assert.True(channel.Writer.TryClaimBatch(1024, out RecordBatch batch));
        using (batch)
        {
            Assert.True(batch.TryAppend(4, 256, 3, out RecordRun run)); // the channel's MaxMessageLength, checksum or not
            for (int i = 0; i < run.Count; i++)
            {
                Fill(run[i], 40 + i);
            }

            batch.Commit();
        }

        var buffer = new byte[256];
        for (int i = 0; i < 3; i++)
        {
            Assert.True(channel.Reader.TryRead(out int type, buffer, out int length));
            Assert.Equal((4, 256), (type, length));
            AssertMessage((type, buffer), 4, 256, 40 + i);
        }

        Assert.False(channel.Reader.TryRead(out _, buffer, out _));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Runs_allocate_nothing(bool multi)
        => Assert.Equal(0, AllocatedByBatches(multi, static (ref RecordBatch batch, byte round) =>
        {
            if (batch.TryAppend(1, 56, 16, out RecordRun run))
            {
                for (int i = 0; i < run.Count; i++)
                {
                    run[i][0] = round;
                }
            }
        }));

    private static ArgumentOutOfRangeException? Catch(ref RecordBatch batch, int type, int length, int count)
    {
        try
        {
            batch.TryAppend(type, length, count, out _);
            return null;
        }
        catch (ArgumentOutOfRangeException e)
        {
            return e;
        }
    }

    private static Type? CatchAppend(ref RecordBatch batch)
    {
        try
        {
            batch.TryAppend(0, 8, 1, out _);
            return null;
        }
        catch (Exception e)
        {
            return e.GetType();
        }
    }

    private static ArgumentOutOfRangeException? CatchIndex(RecordRun run, int index)
    {
        try
        {
            _ = run[index];
            return null;
        }
        catch (ArgumentOutOfRangeException e)
        {
            return e;
        }
    }
}
