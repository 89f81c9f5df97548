using UintrIpc.Interop;
using UintrIpc.Memory;
using UintrIpc.Rings;

namespace UintrIpc.Tests.Rings;

/// <summary>
/// The record producer's write prefetch of the next record (SPSC and MPSC): single claims of 1 KiB
/// or more only, whole lines, each once, and only lines the cached head proves released.
/// </summary>
public sealed unsafe class RecordPrefetchTests
{
    private const int Payload = 1024; // 1032-byte records

    [Theory]
    [InlineData(false)]
    [InlineData(true)] // the next record is the next claim of whichever producer claims first: this one's while it claims alone
    public void Large_records_ask_for_the_next_records_lines_only_up_to_the_cached_head_plus_capacity(bool multipleProducers)
    {
        Assert.SkipWhen(Shim.PrefetchWrite == null, "no write prefetch on this machine");
        using var region = SharedRegion.CreateAnonymous(RecordRing.Part(8192, multipleProducers: multipleProducers));
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
    public void The_next_records_lines_stop_at_the_end_of_the_data_area_when_the_head_allows_more()
    {
        // The cached head allows lines past the lap's end: only the lap's clip keeps the hint
        // inside the data area (in the first test both limits fall on the same place).
        Assert.SkipWhen(Shim.PrefetchWrite == null, "no write prefetch on this machine");
        using var region = SharedRegion.CreateAnonymous(RecordRing.Part(8192));
        using var producer = new RecordRing(region);
        using var consumer = new RecordRing(region);
        var message = new byte[Payload];
        var buffer = new byte[Payload];

        // Lap 0: seven records to 7224, one read; the eighth reloads head (1032), pads to 8192 and
        // ends at 9224; everything read.
        for (int i = 0; i < 7; i++)
        {
            Assert.True(producer.TryWrite(1, message));
        }

        Assert.True(consumer.TryRead(out _, buffer, out _));
        Assert.True(producer.TryWrite(1, message));
        while (consumer.TryRead(out _, buffer, out _))
        {
        }

        // Lap 1: the first record reloads head 9224, so records up to 17416 fit without another.
        // The one at [14384, 15416) ends in the lap's last 1032 bytes: the next record's lines
        // would reach 16448, the cached head allows 17416, the lap ends at 16384.
        while (producer.ProducerPosition < 15416)
        {
            Assert.True(producer.TryWrite(1, message));
            Assert.True(consumer.TryRead(out _, buffer, out _));
        }

        Assert.Equal(15416, producer.ProducerPosition);
        Assert.Equal(16384, producer.PrefetchedTo);
    }

    [Fact]
    public void Small_records_ask_for_nothing()
    {
        using var region = SharedRegion.CreateAnonymous(RecordRing.Part(8192));
        using var producer = new RecordRing(region);
        for (int i = 0; i < 8; i++)
        {
            Assert.True(producer.TryWrite(1, new byte[1000])); // 1008-byte records: below the minimum
        }

        Assert.Equal(0, producer.PrefetchedTo);

        using var mpscRegion = SharedRegion.CreateAnonymous(RecordRing.Part(8192, multipleProducers: true));
        using var mpscProducer = new RecordRing(mpscRegion);
        Assert.True(mpscProducer.TryWrite(1, new byte[1000]));
        Assert.True(mpscProducer.TryClaim(1, 1000, out RecordClaim claim));
        claim.Commit();
        Assert.Equal(0, mpscProducer.PrefetchedTo);
    }

    [Fact]
    public void Mpsc_single_claims_ask_for_at_most_the_first_kibibyte_of_the_next_record()
    {
        // At 4 KiB the whole next record (64 lines) cost the 2-producer row 8 % (design-notes "mpsc4k").
        Assert.SkipWhen(Shim.PrefetchWrite == null, "no write prefetch on this machine");
        using var region = SharedRegion.CreateAnonymous(RecordRing.Part(32768, multipleProducers: true));
        using var producer = new RecordRing(region);
        var message = new byte[4000];

        Assert.True(producer.TryWrite(1, message)); // [0, 4008): lines of [4008, 5032) -> [3968, 4992)
        Assert.Equal(4992, producer.PrefetchedTo);
        Assert.True(producer.TryWrite(1, message)); // [4008, 8016): [8016, 9040) -> 9024
        Assert.Equal(9024, producer.PrefetchedTo);
    }
}
