using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using UintrIpc.Memory;
using UintrIpc.Rings;
using UintrIpc.Tests.Infrastructure;

namespace UintrIpc.Tests.Rings.CrossProcess;

/// <summary>
/// Recovery between real processes (uintripc.h 2f, 2g): a producer killed with SIGKILL inside a
/// claim has its claim skipped as soon as its death is known, a live one never, however slow;
/// producers killed at random while others go on lose nothing they published; a consumer killed
/// mid-stream is replaced by one that resumes exactly where the released position is.
/// </summary>
[Collection(CrossProcessCollection.Name)]
public sealed class RingRecoveryTests(ITestOutputHelper output) : IDisposable
{
    private static readonly TimeSpan ProgressTimeout = TimeSpan.FromSeconds(60);
    private static readonly bool s_stress = Environment.GetEnvironmentVariable("UINTRIPC_STRESS") == "1";
    private readonly ShmNames _names = new();
    private readonly List<PeerProcess> _peers = [];

    [Theory]
    [InlineData("slots")]
    [InlineData("records")]
    public void A_claim_is_skipped_once_its_producer_is_known_dead_and_never_while_it_lives(string kind)
    {
        string name = _names.New("dead");
        using var region = SharedRegion.CreateNamed(name, 0, kind == "slots" ? SlotRing<RingTestMessage>.Part(64, multipleProducers: true) : RecordRing.Part(4096, multipleProducers: true));
        var consumer = new Consumer(region, kind);

        // A live producer holds its claim until told to go on: the consumer asks a fixed number of
        // times meanwhile (no clock decides how often), and nothing is skipped or read.
        var slow = Start("ring-claim-and-hold", name, kind, "1", "stdin");
        slow.WaitForOutput("claimed");
        AssertLiveClaimKept(consumer, "claim");
        slow.WriteLine("publish");
        slow.AssertSuccess();
        Assert.Equal((1, 0L), consumer.Read());

        // A producer killed inside its claim: kept while it lives, skipped at the first call after its death.
        var victim = Start("ring-claim-and-hold", name, kind, "2", "120000");
        victim.WaitForOutput("claimed");
        AssertLiveClaimKept(consumer, "claim");
        victim.Kill();
        Assert.True(consumer.TrySkipDeadClaim(), "the dead producer's claim was not skipped");

        // The others get through.
        var other = Start("ring-produce-killable", name, kind, "3", "2000", "0");
        for (long i = 0; i < 2000; i++)
        {
            Assert.Equal((3, i), consumer.ReadWithin(ProgressTimeout));
        }

        other.AssertSuccess();
        Assert.Null(consumer.TryRead());
    }

    [Fact]
    public void A_batch_held_by_a_killed_producer_is_skipped_whole_at_the_first_call_after_its_death()
    {
        // The batch's markers are deferred (uintripc.h 2d): the consumer attributes the unmarked
        // slots by the dead producer's intent and skips all of them at once (2f b).
        string name = _names.New("deadbatch");
        using var region = SharedRegion.CreateNamed(name, 0, SlotRing<RingTestMessage>.Part(64, multipleProducers: true));
        var consumer = new Consumer(region, "slots");

        var victim = Start("ring-batch-claim-and-hold", name, "5", "2", "120000");
        victim.WaitForOutput("claimed 5");
        AssertLiveClaimKept(consumer, "batch");

        victim.Kill();
        Assert.True(consumer.TrySkipDeadClaim(), "the dead producer's batch was not skipped");
        Assert.Equal(5, consumer.Position);

        // A live producer's batch held until told to go on is kept, then read whole; then others get through.
        var slow = Start("ring-batch-claim-and-hold", name, "3", "4", "stdin");
        slow.WaitForOutput("claimed 3");
        AssertLiveClaimKept(consumer, "batch");
        slow.WriteLine("publish");
        slow.AssertSuccess();
        for (long i = 0; i < 3; i++)
        {
            Assert.Equal((4, i), consumer.ReadWithin(ProgressTimeout));
        }

        var other = Start("ring-produce-killable", name, "slot-batches", "3", "2000", "0");
        for (long i = 0; i < 2000; i++)
        {
            Assert.Equal((3, i), consumer.ReadWithin(ProgressTimeout));
        }

        other.AssertSuccess();
        Assert.Null(consumer.TryRead());
    }

    [Theory]
    [InlineData("batch")]
    [InlineData("single")]
    public void A_dead_producers_unmarked_claim_is_skipped_while_a_live_producer_that_lost_the_race_for_it_finds_the_ring_full(string claim)
    {
        // The live producer tries its claim from its floor, position 0, and loses the CAS to the
        // victim's in-place claim there: its intent (0, 1) covers position 0 too (2f b). It then finds
        // the ring full, and the ring stays full while the consumer waits at position 0. The victim's
        // claim carries no marker (deferred, 2d), so the consumer judges it by the intents covering it:
        // the live loser's must not keep it from skipping the dead winner's claim for good.
        string name = _names.New("loser");
        using var region = SharedRegion.CreateNamed(name, 0, SlotRing<RingTestMessage>.Part(8, multipleProducers: true));
        var consumer = new Consumer(region, "slots");
        using var loser = new SlotRing<RingTestMessage>(region); // attached at tail 0: its floor
        var victim = claim == "batch"
            ? Start("ring-batch-claim-and-hold", name, "8", "2", "120000")
            : Start("ring-claim-and-hold", name, "slots", "2", "120000");
        victim.WaitForOutput(claim == "batch" ? "claimed 8" : "claimed");
        if (claim == "single")
        {
            using var filler = new SlotRing<RingTestMessage>(region);
            for (int i = 0; i < 7; i++)
            {
                Assert.True(filler.TryWrite(RingTestMessage.Of(3, i)));
            }
        }

        Assert.False(loser.TryWrite(RingTestMessage.Of(1, 0)), "the ring was not full"); // lost the CAS from 0, then full
        victim.Kill();

        // Bounded: the loser keeps polling the full ring, as a producer waiting for room does.
        bool skipped = false;
        for (int round = 0; round < 200 && !skipped; round++)
        {
            Assert.False(loser.TryWrite(RingTestMessage.Of(1, 0)), "room before the dead claim was skipped");
            skipped = consumer.TrySkipDeadClaim();
            Thread.Sleep(1);
        }

        Assert.True(skipped, "the dead producer's claim was never skipped: the live loser's intent still covers it");
        Assert.Equal(claim == "batch" ? 8 : 1, consumer.Position);
        for (long i = 0; claim == "single" && i < 7; i++)
        {
            Assert.Equal((3, i), consumer.ReadWithin(ProgressTimeout));
        }

        Assert.True(loser.TryWrite(RingTestMessage.Of(1, 0)));
        Assert.Equal((1, 0L), consumer.ReadWithin(ProgressTimeout));
        Assert.Null(consumer.TryRead());
    }

    [Theory]
    [InlineData("slots")]
    [InlineData("slot-batches")]
    [InlineData("records")]
    public void Producers_killed_at_random_lose_nothing_they_published_and_stall_nobody(string kind)
    {
        const int Producers = 3;
        const int FinalIncarnation = 999;
        const int FinalCount = 500;
        int kills = s_stress ? 200 : 15;
        // The seed picks victims and delays; UINTRIPC_KILL_SEED=n repeats its choices (not the timing).
        int seed = Environment.GetEnvironmentVariable("UINTRIPC_KILL_SEED") is { Length: > 0 } s ? int.Parse(s, CultureInfo.InvariantCulture) : Random.Shared.Next();
        var random = new Random(seed);
        output.WriteLine($"{kind}: UINTRIPC_KILL_SEED={seed}");
        string name = _names.New("kill");
        using var region = SharedRegion.CreateNamed(name, 0, kind != "records" ? SlotRing<RingTestMessage>.Part(1024, multipleProducers: true) : RecordRing.Part(32 * 1024, multipleProducers: true));
        var consumer = new Consumer(region, kind);

        // Producer ids: slot p * 1000 + incarnation; each incarnation numbers its messages from 0.
        var next = new Dictionary<int, long>();
        var finalCounts = new int[Producers];
        var running = new PeerProcess[Producers];
        var incarnation = new int[Producers];
        for (int p = 0; p < Producers; p++)
        {
            running[p] = Start("ring-produce-killable", name, kind, Id(p, 0).ToString(CultureInfo.InvariantCulture), "100000000", "2000");
        }

        long skips = 0;
        long read = 0;
        int killed = 0;
        var lastProgress = Stopwatch.StartNew();
        bool stop = false;
        Exception? failure = null;
        // The consumer reads all along on its own thread, so that producers are mostly inside their
        // claims when killed. Background, and stopped in the finally: a failure of the kill loop
        // leaves no thread spinning on a region that is being removed.
        var reader = new Thread(() =>
        {
            try
            {
                while (!Volatile.Read(ref stop))
                {
                    Drain();
                }
            }
            catch (Exception e)
            {
                failure = e;
            }
        })
        { IsBackground = true };
        reader.Start();
        Exception? killerFailure = null; // this thread's, e.g. a new incarnation that never got its first message in
        try
        {
            for (; killed < kills && Volatile.Read(ref failure) is null; killed++)
            {
                int victim = random.Next(Producers);
                running[victim].WaitForOutput("ready");
                Thread.Sleep(random.Next(1, 20));
                running[victim].Kill();
                incarnation[victim]++;
                running[victim] = Start("ring-produce-killable", name, kind, Id(victim, incarnation[victim]).ToString(CultureInfo.InvariantCulture), "100000000", "2000");
            }

            // The last incarnations write a known number of messages and exit; every one of them must arrive.
            for (int p = 0; p < Producers; p++)
            {
                running[p].Kill();
                running[p] = Start("ring-produce-killable", name, kind, Id(p, FinalIncarnation).ToString(CultureInfo.InvariantCulture), FinalCount.ToString(CultureInfo.InvariantCulture), "0");
            }

            running.ToList().ForEach(p => p.AssertSuccess());

            // Bounded by the reader's own wait, which is measured from its last progress (Drain): this
            // loop ends when the reader fails, or when it has read every last message.
            while (Volatile.Read(ref failure) is null && Enumerable.Range(0, Producers).Any(p => Volatile.Read(ref finalCounts[p]) < FinalCount))
            {
                Thread.Sleep(1);
            }
        }
        catch (Exception e)
        {
            killerFailure = e;
        }
        finally
        {
            Volatile.Write(ref stop, true);
            reader.Join();
        }

        // Both, when both failed: a stuck claim also keeps the next incarnation from printing "ready".
        Assert.True(failure is null && killerFailure is null, $"{Describe()}\nreader: {failure}\nkiller: {killerFailure}");
        output.WriteLine(Describe());
        Assert.True(skips > 0, $"no kill landed inside a claim: the automatic skip was not exercised ({Describe()})");

        string Describe() => $"{kind}, UINTRIPC_KILL_SEED={seed}: {killed} of {kills} kills, {read} messages in order, {skips} dead claims skipped";

        void Drain()
        {
            if (consumer.TryRead() is (int id, long sequence))
            {
                long expected = next.GetValueOrDefault(id);
                if (sequence != expected)
                {
                    Assert.Fail($"producer {id}: message {sequence} after {expected - 1} (lost, duplicated or reordered)"); // formatted only then: no garbage per message
                }

                next[id] = expected + 1;
                read++;
                if (id % 1000 == FinalIncarnation)
                {
                    Interlocked.Increment(ref finalCounts[id / 1000]); // a last incarnation
                }

                lastProgress.Restart();
                return;
            }

            if (consumer.TrySkipDeadClaim())
            {
                skips++;
                lastProgress.Restart();
            }

            if (lastProgress.Elapsed >= ProgressTimeout)
            {
                Assert.Fail($"nothing read or skipped for {ProgressTimeout.TotalSeconds} s at position {consumer.Position}: a stuck claim");
            }
        }
    }

    [Theory]
    [InlineData("spsc-slots")]
    [InlineData("mpsc-records")]
    public void A_restarted_consumer_resumes_at_the_released_position(string kind)
    {
        // Exactly once for what a consumer released, at least once for what it handled: every message is
        // handled; one handled twice was handled by a consumer that was killed before it released it, and
        // the next consumer starts exactly at the position the killed one released (no replay, no skip).
        const long Count = 30_000;
        string name = _names.New("restart");
        string logPath = Path.Combine(SharedRegion.SharedMemoryDirectory, _names.New("log"));
        bool slots = kind == "spsc-slots";
        using var region = SharedRegion.CreateNamed(name, 0, slots ? SlotRing<RingTestMessage>.Part(256) : RecordRing.Part(4096, multipleProducers: true));
        ulong epoch = region.Epoch;
        var producer = new Thread(() => Produce(region, slots, Count)) { IsBackground = true };
        producer.Start();

        var random = new Random();
        var releasedAtKill = new List<long>();
        for (int kill = 0; kill < 4; kill++)
        {
            var consumer = Start("ring-consume-log", name, kind, logPath, (Count - 1).ToString(CultureInfo.InvariantCulture));
            consumer.WaitForOutput("started");
            Thread.Sleep(random.Next(5, 40));
            consumer.Kill();
            releasedAtKill.Add(Released(region, slots) / (slots ? 1 : 16)); // in messages
        }

        // The last one, started on a region that is still the one it knew (same epoch), runs to the end.
        using (var again = SharedRegion.OpenNamed(name))
        {
            Assert.Equal(epoch, again.Epoch);
        }

        var last = Start("ring-consume-log", name, kind, logPath, (Count - 1).ToString(CultureInfo.InvariantCulture));
        last.AssertSuccess();
        producer.Join();

        // The log: -1, then what each consumer handled, in order.
        var segments = new List<List<long>>();
        var log = ReadLog(logPath);
        Assert.True(log.Count > 0 && log[0] == -1, $"the log starts with {string.Join(", ", log.Take(5))}");
        foreach (long s in log)
        {
            if (s == -1)
            {
                segments.Add([]);
            }
            else
            {
                segments[^1].Add(s);
            }
        }

        Assert.Equal(releasedAtKill.Count + 1, segments.Count);
        for (int k = 0; k < releasedAtKill.Count; k++)
        {
            // The next consumer that handled anything starts exactly where this one released.
            if (segments[k + 1].Count > 0)
            {
                Assert.Equal(releasedAtKill[k], segments[k + 1][0]);
            }
        }

        var counts = new int[Count];
        foreach (var segment in segments)
        {
            for (int i = 0; i < segment.Count; i++)
            {
                if (i > 0 && segment[i] != segment[i - 1] + 1)
                {
                    Assert.Fail($"a consumer handled {segment[i]} after {segment[i - 1]}");
                }

                counts[segment[i]]++;
            }
        }

        for (long s = 0; s < Count; s++)
        {
            // Once, unless a killed consumer handled it after the position it released (at most a batch of 64).
            int allowed = 1 + releasedAtKill.Count(r => s >= r && s < r + 64);
            Assert.True(counts[s] >= 1 && counts[s] <= allowed, $"message {s} handled {counts[s]} times (at most {allowed} allowed)");
        }

        output.WriteLine($"{kind}: {counts.Sum()} handled for {Count} messages; released at the kills: {string.Join(", ", releasedAtKill)}");
        File.Delete(logPath);
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

    private static int Id(int producer, int incarnation) => (producer * 1000) + incarnation;

    /// <summary>Asks the consumer a fixed number of times about a claim a live peer holds (until the test lets it go on): never skipped, nothing readable.</summary>
    private static void AssertLiveClaimKept(Consumer consumer, string what)
    {
        const int Asks = 50;
        for (int ask = 0; ask < Asks; ask++)
        {
            Assert.False(consumer.TrySkipDeadClaim(), $"a live producer's {what} was skipped (ask {ask + 1} of {Asks})");
            Assert.Null(consumer.TryRead());
            Thread.Yield();
        }
    }

    /// <summary>The position a killed consumer released: head, or for record rings releasing when it is ahead (2g).</summary>
    private static unsafe long Released(SharedRegion region, bool slots)
    {
        byte* ring = region.PartPointer(region.Parts[0]);
        long head = Volatile.Read(ref *(long*)(ring + RingLayout.HeadOffset));
        return slots ? head : Math.Max(head, Volatile.Read(ref *(long*)(ring + RingLayout.ReleasingOffset)));
    }

    private static List<long> ReadLog(string path)
    {
        byte[] bytes = File.ReadAllBytes(path);
        return Enumerable.Range(0, bytes.Length / 8).Select(i => BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(i * 8))).ToList();
    }

    private static void Produce(SharedRegion region, bool slots, long count)
    {
        using var slotRing = slots ? new SlotRing<RingTestMessage>(region) : null;
        using var recordRing = slots ? null : new RecordRing(region);
        Span<byte> payload = stackalloc byte[8];
        var lastProgress = Stopwatch.StartNew();
        for (long i = 0; i < count; i++)
        {
            if (i % 10 == 0)
            {
                Thread.Sleep(1); // paced, so that the stream outlasts the consumers' restarts
            }

            BinaryPrimitives.WriteInt64LittleEndian(payload, i);
            while (!(slotRing?.TryWrite(RingTestMessage.Of(0, i)) ?? recordRing!.TryWrite(1, payload)))
            {
                if (lastProgress.Elapsed > ProgressTimeout)
                {
                    return; // the test fails on its own timeout
                }

                Thread.Yield();
            }

            lastProgress.Restart();
        }
    }

    private PeerProcess Start(string command, params string[] args)
    {
        var peer = PeerProcess.Start(null, command, args);
        _peers.Add(peer);
        return peer;
    }

    /// <summary>The consumer of an MPSC ring of either kind, reading (producer, sequence).</summary>
    private sealed class Consumer(SharedRegion region, string kind)
    {
        private readonly SlotRing<RingTestMessage>? _slots = kind != "records" ? new SlotRing<RingTestMessage>(region) : null;
        private readonly RecordRing? _records = kind != "records" ? null : new RecordRing(region);
        private readonly byte[] _buffer = new byte[512];

        public long Position => _slots?.ConsumerPosition ?? _records!.ConsumerPosition;

        public bool TrySkipDeadClaim() => _slots?.TrySkipDeadClaim() ?? _records!.TrySkipDeadClaim();

        public (int Producer, long Sequence)? TryRead()
        {
            if (_slots is not null)
            {
                if (!_slots.TryRead(out var m))
                {
                    return null;
                }

                Assert.Equal(RingTestMessage.Of(m.Producer, m.Sequence), m);
                return (m.Producer, m.Sequence);
            }

            if (!_records!.TryRead(out int type, _buffer, out int length))
            {
                return null;
            }

            int producer = BinaryPrimitives.ReadInt32LittleEndian(_buffer);
            int sequence = BinaryPrimitives.ReadInt32LittleEndian(_buffer.AsSpan(4));
            Assert.Equal(type, producer);
            Assert.Equal(length, BinaryPrimitives.ReadInt32LittleEndian(_buffer.AsSpan(8)));
            return (producer, sequence);
        }

        public (int Producer, long Sequence) Read() => TryRead() ?? throw new InvalidOperationException("nothing to read");

        public (int Producer, long Sequence) ReadWithin(TimeSpan timeout)
        {
            var watch = Stopwatch.StartNew();
            while (true)
            {
                if (TryRead() is { } message)
                {
                    return message;
                }

                Assert.True(watch.Elapsed < timeout, "nothing to read");
                Thread.Yield();
            }
        }
    }
}
