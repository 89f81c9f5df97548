using UintrIpc.Channels;
using UintrIpc.Memory;
using UintrIpc.Rings;

namespace UintrIpc.Tests.Rings;

/// <summary>
/// A record batch larger than half the ring (up to the whole capacity is allowed) that would
/// cross the end: it cannot fit from where the tail is, however much the consumer frees, so
/// the claim must make its way to the start of the data area rather than fail for good.
/// </summary>
public sealed class RecordBatchWrapTests
{
    [Theory]
    [InlineData(false, 256)]
    [InlineData(true, 256)]
    [InlineData(false, 200)]
    [InlineData(true, 200)]
    public void A_batch_too_long_for_the_rest_of_the_lap_is_claimed_once_the_consumer_has_drained(bool multi, int bytes)
    {
        using var region = SharedRegion.CreateAnonymous(RecordRing.Part(256, maxMessageLength: 32, multipleProducers: multi));
        using var ring = new RecordRing(region);
        var destination = new byte[32];
        for (int i = 0; i < 5; i++)
        {
            Assert.True(ring.TryWrite(1, new byte[8])); // the tail at 80: 176 bytes to the end
        }

        var drained = new CollectingHandler([]);
        Assert.Equal(5, ring.Read(ref drained));

        int attempts = 0;
        RecordBatch batch;
        while (!ring.TryClaimBatch(bytes, out batch))
        {
            Assert.True(++attempts < 4, $"a {bytes}-byte batch was refused {attempts} times by a drained ring");
            Assert.False(ring.TryRead(out _, destination, out _)); // nothing but padding to read
        }

        using (batch)
        {
            Assert.True(batch.TryAppend(2, 16, out Span<byte> payload));
            payload.Fill(2);
            batch.Commit();
        }

        Assert.True(ring.TryRead(out int type, destination, out int length));
        Assert.Equal((2, 16), (type, length));
        Assert.False(ring.TryRead(out _, destination, out _));
        Assert.Equal(ring.ProducerPosition, ring.ConsumerPosition);
    }
}
