using System.Text.Json.Serialization;

namespace UintrIpc.Bench.Results;

/// <summary>
/// One row of the report: a latency test (round trips, nanoseconds) or a throughput test
/// (one way, messages per second), from the C baseline or from .NET. Flat on purpose, so
/// that the JSON, the CSV and the tables all show the same fields.
/// </summary>
internal sealed class BenchResult
{
    /// <summary>Unique test name, e.g. <c>net-futex-asleep</c> or <c>c-futex-pingpong</c>.</summary>
    public required string Name { get; init; }

    public required ResultKind Kind { get; init; }

    /// <summary>Who implements it: <c>c</c> (bench/native), <c>uintripc</c>, or <c>dotnet</c> (the BCL's pipes and sockets).</summary>
    public required string Implementation { get; init; }

    /// <summary>What carries the messages: cache-line, slot-ring, record-ring, pipe, unix-socket, eventfd, signal...</summary>
    public required string Transport { get; init; }

    /// <summary>How a waiting consumer is woken: none (spins), futex, eventfd, signal, uintr-sim, uintr, kernel (a blocking read).</summary>
    public string Doorbell { get; init; } = "none";

    /// <summary>spinning, asleep (parks at once, so every message is a kernel wake-up), or blocking (a read that blocks).</summary>
    public string Consumer { get; init; } = "spinning";

    /// <summary>Bytes per message (payload).</summary>
    public int MessageSize { get; init; } = 8;

    /// <summary>Producer processes (throughput).</summary>
    public int Producers { get; init; } = 1;

    /// <summary>Samples (latency) or messages (throughput) measured, after the warm-up.</summary>
    public long Count { get; init; }

    public long Warmup { get; init; }

    public LatencySummary? Latency { get; init; }

    /// <summary>
    /// A round trip measured in segments interleaved with its C floor (--floor-segments): each
    /// segment's percentiles, in run order; the pair's ratio is the median of the per-segment
    /// ratios (Analysis.Ratios). A C result's <see cref="Latency"/> is then its median segment's.
    /// </summary>
    public IReadOnlyList<LatencySummary>? Segments { get; set; }

    /// <summary>
    /// The host's mode next to a confirmation run (--mode-probe): the p50 round trip, ns, of the
    /// c-spin-cacheline probe right before and right after it (0: the probe failed); the probe
    /// between a pair's two runs is on both. Null when not probed (Analysis.HostMode).
    /// </summary>
    public IReadOnlyList<double>? ModeProbes { get; set; }

    public ThroughputSummary? Throughput { get; init; }

    /// <summary>CPU time of the sending side (pinger / producers together) per round trip or message, ns.</summary>
    public double? CpuNsPerMsgSender { get; init; }

    /// <summary>CPU time of the receiving side (echoer / consumer) per round trip or message, ns.</summary>
    public double? CpuNsPerMsgReceiver { get; init; }

    /// <summary>CPU time / wall time of the sending side over the measured part (1.0 = one core busy).</summary>
    public double? CpuUtilSender { get; init; }

    public double? CpuUtilReceiver { get; init; }

    /// <summary>Doorbell rings per message (both directions), from the wait blocks' counters.</summary>
    public double? WakesPerMsg { get; init; }

    /// <summary>Sleeps (parks that blocked) per message, both consumers together.</summary>
    public double? SleepsPerMsg { get; init; }

    /// <summary>Ring capacity in slots (record rings: the bytes of that many slots), 0 when not a ring throughput test.</summary>
    public int Capacity { get; init; }

    /// <summary>Whether the ends moved messages in batches (claim/publish many, drain many).</summary>
    public bool Batched { get; init; }

    /// <summary>
    /// Which repetition of its .NET test this run belongs to (1-based): a .NET run, or a C run
    /// made right before or after it (<see cref="PairedWith"/>); 0 for a C run made once for
    /// the tables.
    /// </summary>
    public int Repetition { get; set; }

    /// <summary>The .NET test this C run is paired with (same <see cref="Repetition"/>), or null.</summary>
    public string? PairedWith { get; set; }

    /// <summary>The stage of the run this result was taken in (omitted from results.json for the main stage, so older files read as such).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public RunStage Stage { get; set; }

    /// <summary>Name of the C test (as named in the results) a .NET run is compared with, if any.</summary>
    public string? Baseline { get; set; }

    /// <summary>How it was measured, in a few words (shown in the report).</summary>
    public string? Note { get; set; }

    /// <summary>Set when the test failed or was skipped; the other fields are then empty.</summary>
    public string? Error { get; init; }

    public bool Skipped { get; init; }

    /// <summary>Latency percentile curve (percentile, ns), for the plots.</summary>
    public IReadOnlyList<PercentilePoint>? Curve { get; init; }

    /// <summary>Raw fields of a C result that have no column here (futex counters...).</summary>
    public IReadOnlyDictionary<string, double>? Extra { get; init; }

    public bool Ok => Error is null;

    public bool IsNative => Implementation == "c";

    /// <summary>The number the ratio and the targets use: p50 (ns) or messages/s.</summary>
    public double? Headline => Kind == ResultKind.Latency ? Latency?.P50 : Throughput?.MessagesPerSecond;
}
