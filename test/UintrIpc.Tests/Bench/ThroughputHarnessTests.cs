using System.Text.Json;
using UintrIpc.Tests.Infrastructure;

namespace UintrIpc.Tests.Bench;

/// <summary>
/// The throughput tests of the benchmark harness and of its C baselines deliver every message:
/// their consumers check each producer's stamps in order and the lengths, and fail the test
/// otherwise, so a passing run with the exact count proves the batched claims lose nothing.
/// </summary>
[Collection(CrossProcessCollection.Name)]
public sealed class ThroughputHarnessTests
{
    private const int Messages = 200_000;

    [Fact]
    public void C_batched_record_and_mpsc_producers_deliver_every_message_in_order()
    {
        var lines = HarnessRun.NativeCounts("throughput", TimeSpan.FromSeconds(120),
            "--only", "rtput-batch-s8,rtput-batch-s64,rtput-s64,mtput-s64,mtput-batch-s64", "--tput-count", Messages.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--capacity", "1024", "--producers", "2");
        Assert.Equal(
            new Dictionary<string, long>
            {
                ["c-recordring-tput-batch-s8"] = Messages, ["c-recordring-tput-batch-s64"] = Messages, ["c-recordring-tput-s64"] = Messages,
                ["c-mpscring-tput-s64"] = Messages, ["c-mpscring-tput-batch-s64"] = Messages,
            },
            lines);
    }

    [Fact]
    public void C_slot_throughput_runs_with_a_re_executed_consumer()
    {
        // --exec: the consumer is a fresh process image that attaches and validates every part and ring
        // descriptor (region.c), so the region as created must pass its own checks: the responses ring
        // is laid out for the test's element size and its part has to be sized for that too.
        var lines = HarnessRun.NativeCounts("throughput", TimeSpan.FromSeconds(120),
            "--only", "tput-s8,tput-s64,tput-batch-s64", "--tput-count", Messages.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--capacity", "1024", "--exec");
        Assert.Equal(
            new Dictionary<string, long> { ["c-slotring-tput-s8"] = Messages, ["c-slotring-tput-s64"] = Messages, ["c-slotring-tput-batch-s64"] = Messages },
            lines);
    }

    [Theory]
    [InlineData(1024)]
    [InlineData(64)] // one batch fills the ring: every claim reloads head, and some get fewer slots than asked for
    public void C_batched_spsc_slot_producer_delivers_every_message_in_order(int capacity)
    {
        // A count that is no multiple of the batch: the last claim is short. The producer writes a
        // batch's elements in place, then its sequences (ring_claim_batch, ring_publish_batch); an
        // element written to another slot of the batch arrives with the wrong stamp.
        const int count = Messages + 3;
        var lines = HarnessRun.NativeCounts("throughput", TimeSpan.FromSeconds(120),
            "--only", "tput-batch-s8,tput-batch-s64", "--tput-count", count.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--capacity", capacity.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(new Dictionary<string, long> { ["c-slotring-tput-batch-s8"] = count, ["c-slotring-tput-batch-s64"] = count }, lines);
    }

    [Theory]
    [InlineData(1024, new[] { 8, 64, 256, 1024, 4096 })]
    [InlineData(64, new[] { 64 })] // a ring of 8 KiB: full rings, head reloads and padding every few claims
    public void C_mpsc_record_producers_deliver_every_message_in_order(int capacity, int[] sizes)
    {
        // Two producer processes, single and batched claims: the consumer checks each producer's
        // stamps in order and every length, so the exact counts prove no record was lost or torn.
        var inv = System.Globalization.CultureInfo.InvariantCulture;
        var lines = HarnessRun.NativeCounts("throughput", TimeSpan.FromSeconds(180),
            "--only", string.Join(',', sizes.SelectMany(s => new[] { $"mrtput-s{s}", $"mrtput-batch-s{s}" })),
            "--tput-count", Messages.ToString(inv), "--capacity", capacity.ToString(inv), "--producers", "2");
        Assert.Equal(
            sizes.SelectMany(s => new[] { $"c-mpscrecordring-tput-s{s}", $"c-mpscrecordring-tput-batch-s{s}" }).ToDictionary(n => n, _ => (long)Messages),
            lines);
    }

    [Fact]
    public void Harness_batched_record_producers_deliver_every_message_in_order()
    {
        // 8 B: the stamp-only loops (SPSC: a run appended, read through the batch loop), one producer and two; 64 B: the copying one;
        // 256 B: the copy of 129-256 bytes without a loop where there are 512-bit vectors (StampAndRestUpTo256), the copying one elsewhere.
        string[] tests = ["net-spsc-record-batch-s8-c1k", "net-spsc-record-batch-s64-c1k", "net-spsc-record-batch-s256-c1k",
            "net-mpsc-record-batch-s8-c1k-p2", "net-mpsc-record-batch-s64-c1k-p2", "net-mpsc-record-batch-s256-c1k-p2"];
        var results = HarnessRun.Results(TimeSpan.FromSeconds(240), "--sweep", "--only", string.Join(',', tests.Select(t => "=" + t)), "--no-native", "--no-plots", "--no-pin",
            "--tput-count", Messages.ToString(System.Globalization.CultureInfo.InvariantCulture), "--warmup-ms", "50");
        var counts = results.ToDictionary(r => r.Key, r => (r.Value.GetProperty("ok").GetBoolean(), r.Value.GetProperty("count").GetInt64()));
        Assert.Equal(tests.ToDictionary(t => t, _ => (true, (long)Messages)), counts);
        AssertRateCountsTheSpan(results);
        AssertProducersReportedAfterTheSpan(results);
    }

    [Theory]
    [InlineData("c-producer")]
    [InlineData("c-consumer")]
    public void Mixed_spsc_record_rows_deliver_every_message_in_order(string mixed)
    {
        // --mixed: one side is the C program on the .NET row's ring and protocol. The .NET side checks
        // every record (the reader's validation, the stamps in order), the C consumer every stamp and
        // length: exact counts prove the two ring codes agree on the layout (8 B: ranges that never
        // wrap; 64 B: padding every lap; per message and batched).
        AssertMixedRowsDeliverEveryMessage(mixed, ["net-spsc-record-batch-s8-c1k", "net-spsc-record-batch-s64-c1k", "net-spsc-record-s64-c1k"]);
    }

    [Theory]
    [InlineData("c-producer")]
    [InlineData("c-consumer")]
    public void Mixed_mpsc_record_rows_deliver_every_message_in_order(string mixed)
    {
        // --mixed on the MPSC record rows: two C producer processes (each registered in the ring's
        // producer table at its id, marking each record claimed) with the .NET consumer, or the two
        // .NET producers with the C consumer checking each producer's stamps in order: 8 B and 64 B
        // batched ranges (the sweep's rows), and per message (64 B: padding every lap).
        AssertMixedRowsDeliverEveryMessage(mixed, ["net-mpsc-record-batch-s8-c1k-p2", "net-mpsc-record-batch-s64-c1k-p2", "net-mpsc-record-s64-c1k-p2"]);
    }

    /// <summary>The rows run with --mixed <paramref name="mixed"/>: each delivers exactly its count, with the span's arithmetic, every producer reporting after the span.</summary>
    private static void AssertMixedRowsDeliverEveryMessage(string mixed, string[] tests)
    {
        var results = HarnessRun.Results(TimeSpan.FromSeconds(240), "--sweep", "--only", string.Join(',', tests.Select(t => "=" + t)), "--no-native", "--no-plots", "--no-pin",
            "--mixed", mixed, "--tput-count", Messages.ToString(System.Globalization.CultureInfo.InvariantCulture), "--warmup-ms", "50");
        var counts = results.ToDictionary(r => r.Key, r => (r.Value.GetProperty("ok").GetBoolean(), r.Value.GetProperty("count").GetInt64()));
        Assert.Equal(tests.ToDictionary(t => t, _ => (true, (long)Messages)), counts);
        AssertRateCountsTheSpan(results);
        AssertProducersReportedAfterTheSpan(results);
    }

    [Fact]
    public void Harness_mpsc_record_rows_run_next_to_their_C_baseline()
    {
        // The pairing of issue 11 item 1: each MPSC record row names the C MPSC record ring of its
        // size, form, capacity and producers as its baseline, and the sweep runs that C test beside it.
        string[] tests = ["net-mpsc-record-s64-c1k-p2", "net-mpsc-record-batch-s8-c1k-p2"];
        var results = HarnessRun.Results(TimeSpan.FromSeconds(240), "--sweep", "--only", string.Join(',', tests.Select(t => "=" + t)), "--no-plots", "--no-pin", "--repeat", "1",
            "--confirm-pairs", "0", "--tput-count", Messages.ToString(System.Globalization.CultureInfo.InvariantCulture), "--warmup-ms", "50");
        var rows = results.ToDictionary(r => r.Key, r => (r.Value.GetProperty("ok").GetBoolean(), r.Value.GetProperty("count").GetInt64(),
            r.Value.TryGetProperty("baseline", out var b) ? b.GetString() : null));
        Assert.Equal(
            new Dictionary<string, (bool, long, string?)>
            {
                ["net-mpsc-record-s64-c1k-p2"] = (true, Messages, "c-mpscrecordring-tput-s64-c1k-p2"),
                ["c-mpscrecordring-tput-s64-c1k-p2"] = (true, Messages, null),
                ["net-mpsc-record-batch-s8-c1k-p2"] = (true, Messages, "c-mpscrecordring-tput-batch-s8-c1k-p2"),
                ["c-mpscrecordring-tput-batch-s8-c1k-p2"] = (true, Messages, null),
            },
            rows);
    }

    [Fact]
    public void Harness_slot_producers_from_aligned_elements_deliver_every_message_in_order()
    {
        // Single and batched, SPSC and MPSC, 8- and 64-byte elements: the ports copy from and into
        // 64-byte aligned elements, the loops run their warm-up and measured parts separately.
        string[] tests = ["net-spsc-slot-s8-c1k", "net-spsc-slot-s64-c1k", "net-spsc-slot-batch-s64-c1k", "net-mpsc-slot-s8-c1k-p2", "net-mpsc-slot-batch-s64-c1k-p2"];
        var results = HarnessRun.Results(TimeSpan.FromSeconds(240), "--sweep", "--only", string.Join(',', tests.Select(t => "=" + t)), "--no-native", "--no-plots", "--no-pin", "--repeat", "1",
            "--tput-count", Messages.ToString(System.Globalization.CultureInfo.InvariantCulture), "--warmup-ms", "50");
        var counts = results.ToDictionary(r => r.Key, r => (r.Value.GetProperty("ok").GetBoolean(), r.Value.GetProperty("count").GetInt64()));
        Assert.Equal(tests.ToDictionary(t => t, _ => (true, (long)Messages)), counts);

        AssertRateCountsTheSpan(results);
        AssertProducersReportedAfterTheSpan(results);
    }

    /// <summary>
    /// Every producer reports (and exits) only after the consumer's measured span has ended
    /// (StartGate.WaitForSpanEnd): the harness is pinned to the consumer's CPU, and a report read
    /// in the span (its JSON, the child's exit, the runtime's SIGCHLD handling) ran on that CPU, up
    /// to 3-8 ms of a 23 ms span at 1 KiB (design-notes "mpsc1k"), where the C consumer shares its
    /// CPU with nothing of the kind. Exact: the count of producers whose report saw the span ended.
    /// </summary>
    private static void AssertProducersReportedAfterTheSpan(Dictionary<string, JsonElement> results)
    {
        foreach (var (test, r) in results)
        {
            int producers = r.GetProperty("producers").GetInt32();
            Assert.True(producers >= 1, test);
            Assert.Equal((test, (double)producers), (test, r.GetProperty("extra").GetProperty("producers_reported_after_span").GetDouble()));
        }
    }

    [Fact]
    public void Harness_ring_consumers_run_in_a_fresh_process_of_their_own_and_deliver_every_message()
    {
        // Every ring kind and form with --consumer child: the consumer runs in a child of its own (role
        // "consume"), as the C baseline's does, not in the long-lived harness: a process other than the
        // harness, a new one per run, delivering the exact count with the span's arithmetic, gone afterwards.
        string[] tests = ["net-spsc-slot-s1024-c1k", "net-spsc-slot-batch-s64-c1k", "net-spsc-record-s64-c1k", "net-spsc-record-batch-s64-c1k",
            "net-mpsc-slot-s64-c1k-p2", "net-mpsc-slot-batch-s64-c1k-p2", "net-mpsc-record-s64-c1k-p2", "net-mpsc-record-batch-s64-c1k-p2"];
        var (results, harnessPid) = HarnessRun.ResultsWithPid(TimeSpan.FromSeconds(240), "--sweep", "--only", string.Join(',', tests.Select(t => "=" + t)),
            "--no-native", "--no-plots", "--no-pin", "--repeat", "1", "--tput-count", Messages.ToString(System.Globalization.CultureInfo.InvariantCulture), "--warmup-ms", "50",
            "--consumer", "child");
        var counts = results.ToDictionary(r => r.Key, r => (r.Value.GetProperty("ok").GetBoolean(), r.Value.GetProperty("count").GetInt64()));
        Assert.Equal(tests.ToDictionary(t => t, _ => (true, (long)Messages)), counts);
        AssertRateCountsTheSpan(results);

        var consumers = results.Values.Select(r => (int)r.GetProperty("extra").GetProperty("consumer_pid").GetDouble()).ToList();
        Assert.DoesNotContain(harnessPid, consumers);
        Assert.Equal(tests.Length, consumers.Distinct().Count()); // a fresh process per run
        foreach (int pid in consumers)
        {
            // Gone (or the number reused by another program: pid_max is far above what a test run starts).
            string cmdline = Path.Combine("/proc", pid.ToString(System.Globalization.CultureInfo.InvariantCulture), "cmdline");
            Assert.False(File.Exists(cmdline) && File.ReadAllText(cmdline).Contains("consume", StringComparison.Ordinal), $"consumer {pid} still runs");
        }
    }

    /// <summary>
    /// The rate counts every message of the measured span, also a slower producer's warm-up
    /// messages consumed in it (as the C consumer counts positions), and not the measured ones
    /// the span's starting poll delivered after its first (the span starts after that poll, so
    /// fewer than one poll's batch of 64): rate x span = count - those + warm-up in span.
    /// </summary>
    private static void AssertRateCountsTheSpan(Dictionary<string, JsonElement> results)
    {
        foreach (var (test, r) in results)
        {
            var t = r.GetProperty("throughput");
            double inSpan = t.GetProperty("messages_per_second").GetDouble() * t.GetProperty("elapsed_nanoseconds").GetDouble() / 1e9;
            long warmInSpan = r.GetProperty("extra").GetProperty("consumer_warmup_in_span").GetInt64();
            long beforeSpan = r.GetProperty("extra").GetProperty("consumer_measured_before_span").GetInt64();
            Assert.InRange(beforeSpan, 0, 63);
            Assert.True(Math.Abs(inSpan - (Messages - beforeSpan + warmInSpan)) < 1e-6 * Messages, $"{test}: rate x span {inSpan}, count {Messages} - before the span {beforeSpan} + warm-up in span {warmInSpan}");
        }
    }

    [Fact]
    public void Harness_mpsc_producers_start_their_measured_parts_together()
    {
        // Each producer starts measuring only once every producer's JIT is quiet (StartGate): the
        // others then send at most the messages up to their next check (64) and one batch (64)
        // before they measure too. Without the gate, a producer whose JIT went quiet later sent
        // warm-up messages through another's whole measured part (up to 17.8 M in docs/results).
        string[] tests = ["net-mpsc-slot-s64-c1k-p3", "net-mpsc-slot-batch-s64-c16k-p3"];
        var results = HarnessRun.AllResults(TimeSpan.FromSeconds(240), "--sweep", "--only", string.Join(',', tests.Select(t => "=" + t)), "--no-native", "--no-plots", "--no-pin", "--repeat", "2",
            "--producers", "3", "--tput-count", Messages.ToString(System.Globalization.CultureInfo.InvariantCulture), "--warmup-ms", "50");
        Assert.Equal(tests.SelectMany(t => new[] { t, t }).Order(), results.Select(r => r.GetProperty("name").GetString()).Order());
        foreach (var r in results)
        {
            string test = r.GetProperty("name").GetString()!;
            Assert.True(r.GetProperty("ok").GetBoolean(), test);
            long warmInSpan = r.GetProperty("extra").GetProperty("consumer_warmup_in_span").GetInt64();
            Assert.True(warmInSpan <= 2 * 2 * 64, $"{test}: {warmInSpan} warm-up messages consumed in the measured span");
        }
    }
}
