using UintrIpc.Channels;
using UintrIpc.Memory;
using UintrIpc.Rings;

namespace UintrIpc.Tests.Rings;

// The pull-style read batch of a record ring (RecordRing.TryReadBatch, RecordCursor.TryNext,
// RecordRing.CompleteBatch): exactly the committed messages, nothing released before the
// completion, a batch not completed read again, a completion after another read refused.
// Capacity 256: 8-byte payloads take 16 bytes.
public abstract partial class RecordsContractTests
{
    [Fact]
    public void A_batch_hands_out_exactly_the_committed_messages_in_order_within_its_limit()
    {
        var ring = NewRing(out var memory);
        Assert.False(ring.Ring.TryReadBatch(int.MaxValue, out RecordCursor empty));
        Assert.False(empty.IsActive);
        Assert.False(empty.TryNext(out _, out _));
        ring.Ring.CompleteBatch(empty); // nothing to release

        int[] lengths = [0, 5, 8, 17, 32];
        for (int i = 0; i < lengths.Length; i++)
        {
            Assert.True(ring.TryWrite(10 + i, Payload(i, lengths[i])));
        }

        Assert.True(ring.Ring.TryReadBatch(3, out RecordCursor batch));
        for (int i = 0; i < 3; i++)
        {
            Assert.True(batch.TryNext(out int type, out ReadOnlySpan<byte> payload));
            Assert.Equal(10 + i, type);
            Assert.Equal(Payload(i, lengths[i]), payload.ToArray());
            Assert.Equal(i + 1, batch.Count);
        }

        Assert.False(batch.TryNext(out _, out _)); // the limit
        Assert.Equal(3, batch.Count);
        Assert.Equal(0, ring.ConsumerPosition); // nothing released before the completion
        ring.Ring.CompleteBatch(batch);
        Assert.Equal(8 + 16 + 16, ring.ConsumerPosition);
        Assert.True(memory.FreeSpaceIsZero(ring.ConsumerPosition, ring.ProducerPosition)); // the released bytes zeroed

        var rest = ring.DrainBatch();
        Assert.Equal([13, 14], rest.Select(m => m.Type));
        Assert.Equal(Payload(4, 32), rest[1].Payload);
        Assert.Equal(ring.ProducerPosition, ring.ConsumerPosition);
        Assert.False(ring.Ring.TryReadBatch(int.MaxValue, out _));
        Assert.False(ring.Ring.TryReadBatch(0, out _));
        Assert.Throws<ArgumentOutOfRangeException>(() => ring.Ring.TryReadBatch(-1, out _));
    }

    [Fact]
    public void A_batch_steps_over_the_padding_at_the_end_of_the_lap()
    {
        var ring = At240();
        Assert.True(ring.TryWrite(2, Payload(2, 24))); // 32 bytes: padding 240..256, the record at 256
        Assert.True(ring.TryWrite(3, Payload(3, 8)));

        Assert.True(ring.Ring.TryReadBatch(int.MaxValue, out RecordCursor batch));
        Assert.True(batch.TryNext(out int type, out ReadOnlySpan<byte> payload));
        Assert.Equal((2, 24), (type, payload.Length));
        Assert.Equal(Payload(2, 24), payload.ToArray());
        Assert.True(batch.TryNext(out type, out _));
        Assert.Equal(3, type);
        Assert.False(batch.TryNext(out _, out _));
        Assert.Equal(2, batch.Count); // the padding is not a message
        ring.Ring.CompleteBatch(batch);
        Assert.Equal(256 + 32 + 16, ring.ConsumerPosition);
        Assert.Equal(ring.ProducerPosition, ring.ConsumerPosition);
    }

    [Fact]
    public void A_batch_goes_on_across_the_end_of_the_data_area_without_padding_up_to_one_lap()
    {
        // The cursor's records end at the data area's end until the batch wraps, then at the lap's
        // end: a record ending exactly at the data area's end is followed by the records from 0,
        // in the same batch, until the batch has read one lap.
        var ring = At240();
        for (int i = 0; i < 16; i++)
        {
            Assert.True(ring.TryWrite(20 + i, Payload(i, 8))); // 240..256 (no padding), then 256..496: a full lap
        }

        Assert.True(ring.Ring.TryReadBatch(int.MaxValue, out RecordCursor batch));
        for (int i = 0; i < 16; i++)
        {
            Assert.True(batch.TryNext(out int type, out ReadOnlySpan<byte> payload));
            Assert.Equal(20 + i, type);
            Assert.Equal(Payload(i, 8), payload.ToArray());
        }

        Assert.False(batch.TryNext(out _, out _)); // the lap's end
        Assert.Equal(16, batch.Count);
        Assert.Equal(240, ring.ConsumerPosition);
        ring.Ring.CompleteBatch(batch);
        Assert.Equal(240 + 256, ring.ConsumerPosition);
        Assert.Equal(ring.ProducerPosition, ring.ConsumerPosition);
    }

    [Fact]
    public void A_batch_not_completed_is_read_again_by_every_read_form()
    {
        var ring = WithThreeTakingTwo(out _);
        // Dropped without completion: nothing was released.
        Assert.Equal(0, ring.ConsumerPosition);
        Assert.Equal([0, 1], ring.DrainBatch(2).Select(m => m.Type)); // the next batch gets them again
        Assert.True(ring.Ring.TryReadBatch(int.MaxValue, out RecordCursor again));
        Assert.True(again.TryNext(out int type, out _));
        Assert.Equal(2, type);
        // Dropped again: TryRead and Read get the same message.
        Assert.True(ring.TryRead(out type, new byte[8], out _));
        Assert.Equal(2, type);
        Assert.Empty(ring.Drain());
        Assert.True(ring.TryWrite(7, Payload(7, 8)));
        Assert.True(ring.Ring.TryReadBatch(int.MaxValue, out RecordCursor last));
        Assert.True(last.TryNext(out _, out _));
        var read = ring.Drain();
        Assert.Equal(7, Assert.Single(read).Type);
        Assert.Equal(ring.ProducerPosition, ring.ConsumerPosition);
    }

    [Fact]
    public void A_completion_after_another_read_released_throws_and_releases_nothing()
    {
        var ring = WithThreeTakingTwo(out RecordCursor batch);
        Assert.True(ring.TryRead(out int type, new byte[8], out _)); // releases the first message
        Assert.Equal(0, type);
        Assert.Equal(16, ring.ConsumerPosition);
        var e = Assert.IsType<InvalidOperationException>(CompleteCatching(ring.Ring, batch));
        Assert.Contains("Another read released", e.Message, StringComparison.Ordinal);
        Assert.Equal(16, ring.ConsumerPosition); // nothing released by the batch
        Assert.Equal([1, 2], ring.Drain().Select(m => m.Type));
    }

    [Fact]
    public void A_batch_is_neither_begun_nor_completed_by_a_handler_of_Read()
    {
        var ring = WithThree();

        var begin = new BatchInHandler(ring.Ring, default);
        Assert.Contains("handler of Read", ReadCatching(ring, ref begin)?.Message, StringComparison.Ordinal);
        Assert.Equal(16, ring.ConsumerPosition); // Read's own contract: the handler's record is consumed

        Assert.True(ring.Ring.TryReadBatch(int.MaxValue, out RecordCursor open));
        Assert.True(open.TryNext(out int type, out _));
        Assert.Equal(1, type);
        var complete = new BatchInHandler(ring.Ring, open);
        Assert.Contains("handler of Read", ReadCatching(ring, ref complete)?.Message, StringComparison.Ordinal);
        Assert.Equal(32, ring.ConsumerPosition); // Read released its one record; the batch released nothing
        Assert.Equal(2, Assert.Single(ring.Drain()).Type);
    }

    [Fact]
    public void The_producer_gets_room_at_the_completion_not_before()
    {
        var ring = NewRing(out _);
        int written = 0;
        while (ring.TryWrite(written, Payload(written, 8)))
        {
            written++;
        }

        Assert.Equal(16, written);
        Assert.True(ring.Ring.TryReadBatch(5, out RecordCursor batch));
        while (batch.TryNext(out _, out _))
        {
        }

        Assert.Equal(5, batch.Count);
        Assert.False(ring.TryWrite(99, Payload(99, 8))); // taken is not released
        ring.Ring.CompleteBatch(batch);
        Assert.Equal(5 * 16, ring.ConsumerPosition);
        for (int i = 0; i < 5; i++)
        {
            Assert.True(ring.TryWrite(100 + i, Payload(100 + i, 8)));
        }

        Assert.False(ring.TryWrite(99, Payload(99, 8)));
        Assert.Equal(16, ring.DrainBatch().Count);
    }

    [Fact]
    public void A_batch_open_when_the_ring_and_its_region_are_disposed_reads_nothing_more_and_refuses_its_completion()
    {
        var region = NewRegion();
        var ring = RecordRingUnderTest.Attach(Kind, region);
        for (int i = 0; i < 3; i++)
        {
            Assert.True(ring.TryWrite(i, Payload(i, 8)));
        }

        Assert.True(ring.Ring.TryReadBatch(int.MaxValue, out RecordCursor batch));
        Assert.True(batch.TryNext(out _, out _));
        ring.Ring.Dispose();
        region.Dispose(); // the last lease: the range becomes the zero placeholder (no call of this thread is in the ring)
        Assert.False(batch.TryNext(out _, out _)); // a zero header there: the batch ends, no fault
        Assert.Equal(1, batch.Count);
        Assert.IsType<ObjectDisposedException>(CompleteCatching(ring.Ring, batch));
        Assert.Throws<ObjectDisposedException>(() => ring.Ring.TryReadBatch(int.MaxValue, out _));
        GC.KeepAlive(ring);
    }

    /// <summary>Completes <paramref name="batch"/>, returning what it threw (a ref struct cannot live in a lambda).</summary>
    private static Exception? CompleteCatching(RecordRing ring, RecordCursor batch)
    {
        try
        {
            ring.CompleteBatch(batch);
            return null;
        }
        catch (Exception e) when (e is InvalidOperationException or ObjectDisposedException)
        {
            return e;
        }
    }

    /// <summary>An empty ring whose positions are 240, 16 bytes before the end of the data area.</summary>
    private RecordRingUnderTest At240()
    {
        var ring = NewRing();
        for (int i = 0; i < 15; i++)
        {
            Assert.True(ring.TryWrite(1, new byte[8]));
        }

        Assert.Equal(15, ring.DrainBatch().Count); // up to 240
        return ring;
    }

    private static byte[] Payload(int seed, int length)
    {
        var bytes = new byte[length];
        for (int i = 0; i < length; i++)
        {
            bytes[i] = (byte)(seed * 31 + i);
        }

        return bytes;
    }

    /// <summary>A ring holding three 8-byte messages of types 0, 1, 2.</summary>
    private RecordRingUnderTest WithThree()
    {
        var ring = NewRing(out _);
        for (int i = 0; i < 3; i++)
        {
            Assert.True(ring.TryWrite(i, Payload(i, 8)));
        }

        return ring;
    }

    /// <summary><see cref="WithThree"/> with a batch that took the first two messages.</summary>
    private RecordRingUnderTest WithThreeTakingTwo(out RecordCursor batch)
    {
        var ring = WithThree();
        Assert.True(ring.Ring.TryReadBatch(int.MaxValue, out batch));
        Assert.True(batch.TryNext(out _, out _));
        Assert.True(batch.TryNext(out _, out _));
        return ring;
    }

    /// <summary>Read with <paramref name="handler"/>, returning what it threw (a ref struct handler cannot live in a lambda).</summary>
    private static Exception? ReadCatching(RecordRingUnderTest ring, ref BatchInHandler handler)
    {
        try
        {
            ring.Read(ref handler);
            return null;
        }
        catch (InvalidOperationException e)
        {
            return e;
        }
    }

    /// <summary>A handler of Read that begins a batch of the same ring, or completes one begun before the Read.</summary>
    private readonly ref struct BatchInHandler : IRecordHandler
    {
        private readonly RecordRing _ring;
        private readonly RecordCursor _open;

        public BatchInHandler(RecordRing ring, RecordCursor open)
        {
            _ring = ring;
            _open = open;
        }

        public void Handle(int type, ReadOnlySpan<byte> payload)
        {
            if (_open.IsActive)
            {
                _ring.CompleteBatch(_open);
                return;
            }

            _ring.TryReadBatch(int.MaxValue, out _);
        }
    }
}
