using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using Tmds.Linux;
using UintrIpc.Channels;
using UintrIpc.Memory;
using UintrIpc.Rings;
using UintrIpc.Tests.Infrastructure;

namespace UintrIpc.Tests.Rings.CrossProcess;

/// <summary>A message of the cross-process ring tests (same layout as the peer's RingTestMessage).</summary>
public readonly record struct RingTestMessage(int Producer, int Padding, long Sequence, long Check)
{
    /// <summary>The message <paramref name="sequence"/> of <paramref name="producer"/>, with its check word.</summary>
    public static RingTestMessage Of(int producer, long sequence)
        => new(producer, 0, sequence, unchecked((sequence * (long)0x9E3779B97F4A7C15) ^ producer));
}

/// <summary>
/// The rings between real processes: child producers (test/UintrIpc.TestPeer RingCommands)
/// and a consumer in this process, over a memfd passed by inheritance and over a named
/// region; several producer processes into one MPSC ring; a producer killed mid-claim.
/// Every message is checked (producer, per-producer order, content), counts are exact.
/// </summary>
[Collection(CrossProcessCollection.Name)]
public sealed unsafe class RingCrossProcessTests(ITestOutputHelper output) : IDisposable
{
    private static readonly TimeSpan ConsumeTimeout = TimeSpan.FromSeconds(60);
    private static readonly bool s_stress = Environment.GetEnvironmentVariable("UINTRIPC_STRESS") == "1";
    private readonly ShmNames _names = new();
    private readonly List<PeerProcess> _peers = [];

    private static int SlotCount => s_stress ? 2_000_000 : 100_000;

    private static int RecordCount => s_stress ? 200_000 : 20_000;

    [Fact]
    public void Spsc_slots_child_producer_over_an_inherited_memfd()
    {
        using var region = SharedRegion.CreateAnonymous(SlotRing<RingTestMessage>.Part(256));
        var ring = new SlotRing<RingTestMessage>(region);
        int fd = Inheritable(region);
        try
        {
            Start("ring-produce-slots", "fd", Arg(fd), "spsc", "0", Arg(SlotCount));
        }
        finally
        {
            Assert.Equal(0, LibC.close(fd));
        }

        ConsumeSlots(ring.TryRead, producers: 1, SlotCount);
        AssertChildrenSucceeded();
    }

    [Fact]
    public void Spsc_slots_child_producer_over_a_named_region()
    {
        string name = _names.New("spsc");
        using var region = SharedRegion.CreateNamed(name, 0, SlotRing<RingTestMessage>.Part(64));
        var ring = new SlotRing<RingTestMessage>(region);
        Start("ring-produce-slots", "name", name, "spsc", "0", Arg(SlotCount));
        ConsumeSlots(ring.TryRead, producers: 1, SlotCount);
        AssertChildrenSucceeded();
    }

    [Fact]
    public void Mpsc_slots_several_producer_processes_into_one_consumer()
    {
        string name = _names.New("mpsc");
        using var region = SharedRegion.CreateNamed(name, 0, SlotRing<RingTestMessage>.Part(256, multipleProducers: true));
        var ring = new SlotRing<RingTestMessage>(region);
        const int Producers = 3;
        for (int p = 0; p < Producers; p++)
        {
            Start("ring-produce-slots", "name", name, "mpsc", Arg(p), Arg(SlotCount / Producers));
        }

        ConsumeSlots(ring.TryRead, Producers, SlotCount / Producers);
        AssertChildrenSucceeded();
    }

    [Fact]
    public void Spsc_records_child_producer_with_random_sizes_across_wraps()
    {
        using var region = SharedRegion.CreateAnonymous(RecordRing.Part(16 * 1024));
        var ring = new RecordRing(region);
        int fd = Inheritable(region);
        try
        {
            Start("ring-produce-records", "fd", Arg(fd), "spsc", "0", Arg(RecordCount), "11");
        }
        finally
        {
            Assert.Equal(0, LibC.close(fd));
        }

        ConsumeRecords(ring.Read, producers: 1, RecordCount);
        AssertChildrenSucceeded();
    }

    [Fact]
    public void Mpsc_records_several_producer_processes_into_one_consumer()
    {
        string name = _names.New("mpscr");
        using var region = SharedRegion.CreateNamed(name, 0, RecordRing.Part(16 * 1024, multipleProducers: true));
        var ring = new RecordRing(region);
        const int Producers = 3;
        for (int p = 0; p < Producers; p++)
        {
            Start("ring-produce-records", "name", name, "mpsc", Arg(p), Arg(RecordCount / Producers), Arg(100 + p));
        }

        ConsumeRecords(ring.Read, Producers, RecordCount / Producers);
        AssertChildrenSucceeded();
    }

    [Theory]
    [InlineData("slots")]
    [InlineData("records")]
    public void A_producer_killed_mid_claim_is_unblocked_and_the_others_get_through(string kind)
    {
        string name = _names.New("dead");
        bool slots = kind == "slots";
        using var region = SharedRegion.CreateNamed(name, 0, slots ? SlotRing<RingTestMessage>.Part(64, multipleProducers: true) : RecordRing.Part(4096, multipleProducers: true));
        var slotRing = slots ? new SlotRing<RingTestMessage>(region) : null;
        var recordRing = slots ? null : new RecordRing(region);

        // The victim claims the first position and never publishes; then it is killed.
        using (var victim = PeerProcess.Start(output, "ring-claim-and-hang", name, kind))
        {
            victim.WaitForOutput("claimed");
            victim.Kill();
        }

        Assert.False(slots ? slotRing!.TryRead(out _) : recordRing!.TryRead(out _, new byte[recordRing.MaxMessageLength], out _));
        Assert.True(slots ? slotRing!.TryUnblock(TimeSpan.Zero) : recordRing!.TryUnblock(TimeSpan.Zero), "the dead claim was not skipped");

        int count = slots ? 20_000 : 5_000;
        if (slots)
        {
            Start("ring-produce-slots", "name", name, "mpsc", "1", Arg(count));
            ConsumeSlots(slotRing!.TryRead, producers: 1, count, firstProducer: 1);
        }
        else
        {
            Start("ring-produce-records", "name", name, "mpsc", "1", Arg(count), "5");
            ConsumeRecords(recordRing!.Read, producers: 1, count, firstProducer: 1);
        }

        AssertChildrenSucceeded();
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var peer in _peers)
        {
            peer.Dispose();
        }

        _names.Dispose();
    }

    private delegate bool TryReadSlot(out RingTestMessage message);

    private delegate int ReadRecords(ref RecordChecker checker, int limit);

    private void ConsumeSlots(TryReadSlot tryRead, int producers, int perProducer, int firstProducer = 0)
    {
        var next = new long[producers];
        long total = 0, expected = (long)producers * perProducer;
        var deadline = Stopwatch.StartNew();
        var spin = default(SpinWait);
        while (total < expected)
        {
            if (tryRead(out var m))
            {
                int p = m.Producer - firstProducer;
                Assert.InRange(p, 0, producers - 1);
                Assert.Equal(RingTestMessage.Of(m.Producer, next[p]), m); // per-producer order and content
                next[p]++;
                total++;
                spin = default;
                continue;
            }

            Assert.True(deadline.Elapsed < ConsumeTimeout, $"received {total} of {expected} in {ConsumeTimeout.TotalSeconds} s; children: {string.Join(" | ", _peers.Select(x => x.StandardError))}");
            spin.SpinOnce(sleep1Threshold: -1);
        }

        Assert.All(next, n => Assert.Equal(perProducer, n));
        WaitForChildren();
        Assert.False(tryRead(out _), "more messages than were sent");
    }

    private void ConsumeRecords(ReadRecords read, int producers, int perProducer, int firstProducer = 0)
    {
        var checker = new RecordChecker(producers, firstProducer);
        long expected = (long)producers * perProducer;
        var deadline = Stopwatch.StartNew();
        var spin = default(SpinWait);
        while (checker.Total < expected)
        {
            if (read(ref checker, 256) > 0)
            {
                spin = default;
                continue;
            }

            Assert.True(deadline.Elapsed < ConsumeTimeout, $"received {checker.Total} of {expected}");
            spin.SpinOnce(sleep1Threshold: -1);
        }

        Assert.Null(checker.Failure);
        Assert.All(checker.Next, n => Assert.Equal(perProducer, n));
        WaitForChildren();
        Assert.Equal(0, read(ref checker, 1));
    }

    private void Start(string command, params string[] args) => _peers.Add(PeerProcess.Start(output, command, args));

    private void WaitForChildren()
    {
        foreach (var peer in _peers)
        {
            peer.WaitForExit();
        }
    }

    private void AssertChildrenSucceeded()
    {
        foreach (var peer in _peers)
        {
            peer.AssertSuccess();
        }
    }

    private static int Inheritable(SharedRegion region)
    {
        // A duplicate without FD_CLOEXEC is inherited by the child; its number goes on the command line.
        int fd = LibC.fcntl(region.FdHandle.Fd, LibC.F_DUPFD, 3);
        Assert.True(fd >= 3, $"fcntl(F_DUPFD) failed: errno {LibC.errno}");
        return fd;
    }

    private static string Arg(long value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>Checks each record: type = producer, (producer, sequence, length) prefix, derived body, per-producer order.</summary>
    private struct RecordChecker(int producers, int firstProducer) : IRecordHandler
    {
        public readonly long[] Next = new long[producers];
        public long Total;
        public string? Failure;

        public void Handle(int type, ReadOnlySpan<byte> payload)
        {
            int p = type - firstProducer;
            if ((uint)p >= (uint)Next.Length || payload.Length < 12)
            {
                Failure ??= $"record of type {type} with {payload.Length} bytes";
                return;
            }

            int producer = BinaryPrimitives.ReadInt32LittleEndian(payload);
            int sequence = BinaryPrimitives.ReadInt32LittleEndian(payload[4..]);
            int length = BinaryPrimitives.ReadInt32LittleEndian(payload[8..]);
            if (producer != type || sequence != Next[p] || length != payload.Length)
            {
                Failure ??= $"producer {producer} (type {type}) sequence {sequence} (expected {Next[p]}) length {length} (payload {payload.Length})";
            }

            for (int i = 12; i < payload.Length; i++)
            {
                if (payload[i] != (byte)((sequence * 31) + (i * 7) + producer))
                {
                    Failure ??= $"producer {producer} sequence {sequence}: byte {i} corrupt";
                    break;
                }
            }

            Next[p]++;
            Total++;
        }
    }
}
