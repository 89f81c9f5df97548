using UintrIpc.Channels;
using UintrIpc.Memory;
using UintrIpc.Rings;

namespace UintrIpc.Tests.Rings;

/// <summary>
/// Copies of a <see cref="RecordBatch"/> (a ref struct: <c>using (batch)</c> disposes a hidden
/// copy taken at the claim) completed after the original: they must change nothing the original
/// published, also when the consumer is half-way through releasing it (uintripc.h 2e, 2g). And
/// a batch that outlives its ring object writes nothing more into the mapping.
/// </summary>
public sealed unsafe class RecordBatchCopyTests
{
    [Fact]
    public void A_copy_disposed_while_the_consumer_zeroes_the_committed_batch_writes_nothing_into_the_released_bytes()
    {
        using var region = SharedRegion.CreateAnonymous(RecordRing.Part(256, maxMessageLength: 32, multipleProducers: true));
        using var producer = new RecordRing(region);
        byte* ring = region.PartPointer(region.Parts[0]);
        byte* data = ring + RingLayout.ControlSize;
        Assert.True(producer.TryClaimBatch(128, out RecordBatch batch));
        RecordBatch copy = batch; // what `using (batch)` disposes
        Assert.True(batch.TryAppend(1, 8, out Span<byte> payload));
        payload.Fill(1);
        batch.Commit();

        // The consumer read the batch, stored releasing = 128 and zeroed the bytes, and has not
        // stored its head yet (2e): the copy is disposed in between.
        Volatile.Write(ref *(long*)(ring + RingLayout.ReleasingOffset), 128);
        new Span<byte>(data, 128).Clear();
        copy.Dispose();
        Assert.True(new ReadOnlySpan<byte>(data, 128).IndexOfAnyExcept((byte)0) < 0, "the copy wrote into bytes the consumer released");
        Volatile.Write(ref *(long*)(ring + RingLayout.HeadOffset), 128);

        // What a header left in released bytes does: 13 records of 16 bytes take the producer
        // round the wrap to index 80, where the copy would have left padding for the consumer.
        using var consumer = new RecordRing(region);
        var destination = new byte[32];
        for (int i = 0; i < 13; i++)
        {
            Assert.True(producer.TryWrite(2, new byte[8]));
            Assert.True(consumer.TryRead(out int type, destination, out int length));
            Assert.Equal((2, 8), (type, length));
        }

        Assert.False(consumer.TryRead(out _, destination, out _));
        Assert.Equal(336, producer.ProducerPosition);
        Assert.Equal(336, consumer.ConsumerPosition);
        Assert.True(producer.TryWrite(3, new byte[8]));
        Assert.True(consumer.TryRead(out int last, destination, out _));
        Assert.Equal(3, last);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_copy_taken_before_any_append_cannot_commit_over_the_originals_messages(bool multi)
    {
        using var region = SharedRegion.CreateAnonymous(RecordRing.Part(256, maxMessageLength: 32, multipleProducers: multi));
        using var ring = new RecordRing(region);
        Assert.True(ring.TryClaimBatch(64, out RecordBatch batch));
        RecordBatch copy = batch;
        Assert.True(batch.TryAppend(1, 8, out Span<byte> payload));
        payload.Fill(1);
        batch.Commit();

        try
        {
            copy.Commit();
            Assert.Fail("a copy committed after the original");
        }
        catch (InvalidOperationException)
        {
        }

        copy.Dispose();
        var destination = new byte[32];
        Assert.True(ring.TryRead(out int type, destination, out int length));
        Assert.Equal((1, 8), (type, length));
        Assert.False(ring.TryRead(out _, destination, out _));
        Assert.Equal(ring.ProducerPosition, ring.ConsumerPosition);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_batch_of_a_disposed_ring_appends_nothing(bool multi)
    {
        using var region = SharedRegion.CreateAnonymous(RecordRing.Part(256, maxMessageLength: 32, multipleProducers: multi));
        byte* data = region.PartPointer(region.Parts[0]) + RingLayout.ControlSize;
        var ring = new RecordRing(region);
        Assert.True(ring.TryClaimBatch(64, out RecordBatch batch));
        long claimed = *(long*)data; // SPSC: 0; MPSC: the batch's start marker (uintripc.h 2e)
        Assert.Equal(multi, claimed != 0);
        ring.Dispose(); // its lease is gone: with no other, the mapping would be too
        try
        {
            batch.TryAppend(1, 8, out _);
            Assert.Fail("appended to a batch of a disposed ring");
        }
        catch (ObjectDisposedException)
        {
        }

        batch.Dispose();
        Assert.Equal(claimed, *(long*)data); // no header written
    }

    [Fact]
    public void A_batch_discarded_by_a_later_write_appends_nothing_over_that_write()
    {
        using var region = SharedRegion.CreateAnonymous(RecordRing.Part(256, maxMessageLength: 32));
        using var ring = new RecordRing(region);
        Assert.True(ring.TryClaimBatch(64, out RecordBatch discarded));
        Assert.True(ring.TryWrite(1, new byte[8])); // SPSC: discards the batch, and takes its bytes
        try
        {
            discarded.TryAppend(2, 8, out _);
            Assert.Fail("appended to a discarded batch");
        }
        catch (InvalidOperationException)
        {
        }

        discarded.Dispose();
        var destination = new byte[32];
        Assert.True(ring.TryRead(out int type, destination, out int length));
        Assert.Equal((1, 8), (type, length));
        Assert.Equal(16, ring.ConsumerPosition);
    }

    [Fact]
    public void A_batch_discarded_by_a_later_claim_leaves_that_batchs_entries_alone()
    {
        // SPSC batches keep what they append in the ring object (one open claim per ring): an
        // append to the discarded batch must be refused before it records anything there.
        using var region = SharedRegion.CreateAnonymous(RecordRing.Part(256, maxMessageLength: 32));
        using var ring = new RecordRing(region);
        Assert.True(ring.TryClaimBatch(64, out RecordBatch discarded));
        Assert.True(ring.TryClaimBatch(64, out RecordBatch batch)); // discards the first
        Assert.True(batch.TryAppend(5, 8, out Span<byte> payload));
        payload.Fill(5);
        try
        {
            discarded.TryAppend(9, 24, out _);
            Assert.Fail("appended to a discarded batch");
        }
        catch (InvalidOperationException)
        {
        }

        batch.Commit();
        discarded.Dispose();
        var destination = new byte[32];
        Assert.True(ring.TryRead(out int type, destination, out int length));
        Assert.Equal((5, 8), (type, length));
        Assert.False(ring.TryRead(out _, destination, out _));
        Assert.Equal(16, ring.ConsumerPosition);
    }
}
