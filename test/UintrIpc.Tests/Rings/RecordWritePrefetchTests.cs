using UintrIpc.Interop;
using UintrIpc.Memory;
using UintrIpc.Rings;

namespace UintrIpc.Tests.Rings;

/// <summary>
/// The record producer's write prefetch ahead of a single claim: SPSC only, whole lines, once per
/// new line, and never a line the cached head does not prove released (exact ring positions).
/// </summary>
public sealed unsafe class RecordWritePrefetchTests
{
    private const int Capacity = 1024;
    private const int Ahead = 9 * 64;

    [Fact]
    public void Spsc_AsksForLinesAhead_OncePerLine_NeverPastTheCachedHead()
    {
        Assert.SkipWhen(Shim.PrefetchWrite == null, "no write prefetch on this machine");
        using var region = SharedRegion.CreateAnonymous(RecordRing.Part(Capacity));
        using var producer = new RecordRingEngine(region, region.Parts[0], PartKind.SpscRecords, lease: true);
        using var consumer = new RecordRingEngine(region, region.Parts[0], PartKind.SpscRecords, lease: true);
        byte[] payload = new byte[8]; // 16-byte records, 4 to a line

        int asked = 0;
        for (int i = 0; i < Capacity / 16; i++)
        {
            long end = 16L * (i + 1);
            long expected = Math.Min((end + Ahead) & ~63L, Capacity); // head 0 releases [0, 1024) only
            long before = producer.PrefetchedTo;
            bool asks = producer.PrefetchTarget(end - 16, end, out long from, out long to);
            Assert.Equal(expected > before, asks); // once per new line
            if (asks)
            {
                Assert.Equal((before, expected), (from, to));
                asked++;
            }

            if (i % 2 == 0)
            {
                Assert.True(producer.TryWrite(1, payload));
            }
            else
            {
                Assert.True(producer.TryClaim(1, payload.Length, out var claim));
                claim.Commit();
            }

            Assert.Equal(expected, producer.PrefetchedTo);
        }

        Assert.Equal(1 + ((Capacity - Ahead) / 64), asked); // the first 9 lines at once, then one per line
        Assert.False(producer.TryWrite(1, payload)); // full: nothing past head + capacity
        Assert.Equal(Capacity, producer.PrefetchedTo);

        for (int i = 0; i < 10; i++)
        {
            Assert.True(consumer.TryRead(out _, new byte[64], out _)); // head 160
        }

        // Full by the cache: the claim reloads head (160). Bytes up to 1184 are released, but
        // the line holding 1184 is not wholly: the prefetch stops at 1152.
        Assert.True(producer.TryWrite(1, payload));
        Assert.Equal(1152, producer.PrefetchedTo);
        Assert.False(producer.PrefetchTarget(1040, 1056, out _, out _));
    }

    [Fact]
    public void Spsc_AfterPaddingToTheLapEnd_GoesOnFromTheRecordInTheNextLap()
    {
        Assert.SkipWhen(Shim.PrefetchWrite == null, "no write prefetch on this machine");
        using var region = SharedRegion.CreateAnonymous(RecordRing.Part(Capacity));
        using var producer = new RecordRingEngine(region, region.Parts[0], PartKind.SpscRecords, lease: true);
        using var consumer = new RecordRingEngine(region, region.Parts[0], PartKind.SpscRecords, lease: true);
        for (int i = 0; i < 7; i++)
        {
            Assert.True(producer.TryWrite(1, new byte[120])); // 128-byte records: [0, 896)
        }

        Assert.Equal(Capacity, producer.PrefetchedTo);
        for (int i = 0; i < 7; i++)
        {
            Assert.True(consumer.TryRead(out _, new byte[128], out _)); // head 896
        }

        Assert.True(producer.TryWrite(1, new byte[8])); // [896, 912): fits by the cache (head 0)
        Assert.Equal(Capacity, producer.PrefetchedTo);
        // 112 bytes of padding, the record at [1024, 1152); the cache reloads (head 896).
        Assert.True(producer.TryWrite(1, new byte[120]));
        Assert.Equal(1152 + Ahead, producer.PrefetchedTo); // 1728 < 896 + 1024
    }

    [Fact]
    public void Mpsc_SingleClaims_AskForNothingAhead()
    {
        using var region = SharedRegion.CreateAnonymous(RecordRing.Part(Capacity, multipleProducers: true));
        using var producer = new RecordRingEngine(region, region.Parts[0], PartKind.MpscRecords, lease: true);
        for (int i = 0; i < 8; i++)
        {
            Assert.True(producer.TryWrite(1, new byte[8]));
            Assert.True(producer.TryClaim(1, 8, out var claim));
            claim.Commit();
        }

        Assert.Equal(0, producer.PrefetchedTo);
        Assert.False(producer.PrefetchTarget(256, 272, out _, out _));
    }
}
