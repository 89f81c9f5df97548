using UintrIpc.Interop;
using UintrIpc.Memory;
using UintrIpc.Rings;

namespace UintrIpc.Tests.Rings;

/// <summary>
/// The SPSC record producer's write prefetch of the next record: single claims of 1 KiB or more
/// only, whole lines, each once, and only lines the cached head proves released.
/// </summary>
public sealed unsafe class RecordPrefetchTests
{
    private const int Payload = 1024; // 1032-byte records

    [Fact]
    public void Large_records_ask_for_the_next_records_lines_only_up_to_the_cached_head_plus_capacity()
    {
        Assert.SkipWhen(Shim.PrefetchWrite == null, "no write prefetch on this machine");
        using var region = SharedRegion.CreateAnonymous(RecordRing.Part(8192));
        using var producer = new RecordRing(region);
        using var consumer = new RecordRing(region);
        var message = new byte[Payload];

        Assert.True(producer.TryWrite(1, message)); // [0, 1032): lines of [1024, 2064) -> [1024, 2048)
        Assert.Equal(2048, producer.PrefetchedTo);
        Assert.True(producer.TryClaim(1, Payload, out RecordClaim claim)); // a claim the same: [2048, 3096) -> 3072
        Assert.Equal(3072, producer.PrefetchedTo);
        claim.Commit();

        for (int i = 2; i < 7; i++)
        {
            Assert.True(producer.TryWrite(1, message));
        }

        // 7 records end at 7224; the next one's lines would reach 8256, past head 0 + capacity.
        Assert.Equal(8192, producer.PrefetchedTo);
        Assert.False(producer.TryWrite(1, message)); // padding to the end + a record: no room
        Assert.Equal(8192, producer.PrefetchedTo);

        var buffer = new byte[Payload];
        Assert.True(consumer.TryRead(out _, buffer, out _));
        Assert.True(consumer.TryRead(out _, buffer, out _)); // head 2064
        Assert.True(producer.TryWrite(1, message)); // padding [7224, 8192), the record [8192, 9224) at index 0
        Assert.Equal(10240, producer.PrefetchedTo); // [9216, 10256) clipped to head 2064 + 8192, whole lines

        while (consumer.TryRead(out _, buffer, out _))
        {
        }

        Assert.Equal(producer.ProducerPosition, consumer.ConsumerPosition);
    }

    [Fact]
    public void Small_records_and_mpsc_rings_ask_for_nothing()
    {
        using (var region = SharedRegion.CreateAnonymous(RecordRing.Part(8192)))
        using (var producer = new RecordRing(region))
        {
            for (int i = 0; i < 8; i++)
            {
                Assert.True(producer.TryWrite(1, new byte[1000])); // 1008-byte records: below the minimum
            }

            Assert.Equal(0, producer.PrefetchedTo);
        }

        using (var region = SharedRegion.CreateAnonymous(RecordRing.Part(8192, multipleProducers: true)))
        using (var producer = new RecordRing(region))
        {
            Assert.True(producer.TryWrite(1, new byte[Payload]));
            Assert.True(producer.TryClaim(1, Payload, out RecordClaim claim));
            claim.Commit();
            Assert.Equal(0, producer.PrefetchedTo); // MPSC: the bytes ahead are other producers' claims
        }
    }
}
