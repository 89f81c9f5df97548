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

    /// <summary>
    /// Headlines (p50 or messages/s) of C tests run right before this test (median over
    /// --repeat), by name: the ratio uses these rather than the group's C rows, because the host
    /// can move the vCPUs (and change the floor several-fold) within seconds.
    /// </summary>
    public Dictionary<string, double> Paired { get; init; } = new(StringComparer.Ordinal);

    /// <summary>Every paired C run's headline, by name, in run order (one per repetition).</summary>
    public Dictionary<string, List<double>> PairedRuns { get; init; } = new(StringComparer.Ordinal);

    /// <summary>The headline of each repetition (--repeat), in run order; the row shows the median one.</summary>
    public IReadOnlyList<double>? Repeats { get; set; }

    /// <summary>Name of the C baseline of the same run this row is compared with.</summary>
    public string? Baseline { get; set; }

    /// <summary>
    /// Latency: this p50 / the baseline's p50 (below 1 = faster than C). Throughput: this
    /// rate / the baseline's rate (above 1 = faster than C).
    /// </summary>
    public double? Ratio { get; set; }

    /// <summary>How it was measured, in a few words (shown in the report).</summary>
    public string? Note { get; init; }

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
