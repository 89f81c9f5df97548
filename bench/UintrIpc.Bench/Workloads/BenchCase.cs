using UintrIpc.Bench.Results;

namespace UintrIpc.Bench.Workloads;

/// <summary>
/// One .NET test of the harness: what it measures (copied into its result row), which C test
/// of the same run it is compared with, and how to run it (on a dedicated thread of the harness).
/// </summary>
internal sealed class BenchCase
{
    public required string Name { get; init; }

    public required ResultKind Kind { get; init; }

    /// <summary>Which group it runs in: the C tests of a group run just before its .NET tests.</summary>
    public required BenchGroup Group { get; init; }

    public required string Implementation { get; init; }

    public required string Transport { get; init; }

    public string Doorbell { get; init; } = "none";

    public string Consumer { get; init; } = "spinning";

    public int MessageSize { get; init; } = 8;

    public int Producers { get; init; } = 1;

    public int Capacity { get; init; }

    public bool Batched { get; init; }

    /// <summary>The throughput setting (ring throughput tests), for the C baseline's message count.</summary>
    public Throughput.ThroughputSpec? Spec { get; init; }

    /// <summary>The C test of the same design and setting it is compared with (ratio column), if any.</summary>
    public NativeTest? Baseline { get; init; }

    public string? Note { get; init; }

    /// <summary>The companion whose ratio fills the ratio column when no C test does (the direct call: the cost floor).</summary>
    public string? BaselineCompanion { get; init; }

    /// <summary>Further C tests to run next to this one (a target compares it with them too).</summary>
    public IReadOnlyList<NativeTest> AlsoPaired { get; init; } = [];

    /// <summary>
    /// Other .NET tests run next to every repetition of this one, as its C tests are (the same
    /// call made directly, the same call over gRPC): their runs are paired with it like C runs.
    /// </summary>
    public IReadOnlyList<BenchCase> Companions { get; init; } = [];

    /// <summary>
    /// Whether its C tests can run in segments interleaved with its own measurement (a spinning
    /// round trip whose echoer can hold without a CPU, see <see cref="Latency.FloorSegments"/>).
    /// </summary>
    public bool InterleavesFloor { get; init; }

    /// <summary>Every C test paired with this one.</summary>
    public IEnumerable<NativeTest> PairedTests => Baseline is null ? AlsoPaired : [Baseline, .. AlsoPaired];

    /// <summary>Runs the test; throws on failure (the runner turns that into an error row).</summary>
    public required Func<CaseContext, BenchResult> Run { get; init; }

    /// <summary>Set when the test cannot run here (e.g. no uintr hardware): the reason, shown as a skipped row.</summary>
    public string? SkipReason { get; init; }

    /// <summary>A result row with this case's description and the given measurements.</summary>
    public BenchResult Result(
        long count, long warmup, LatencySummary? latency = null, IReadOnlyList<PercentilePoint>? curve = null, ThroughputSummary? throughput = null,
        double? cpuSender = null, double? cpuReceiver = null, double? utilSender = null, double? utilReceiver = null,
        double? wakesPerMsg = null, double? sleepsPerMsg = null, IReadOnlyDictionary<string, double>? extra = null) => new()
        {
            Name = Name, Kind = Kind, Implementation = Implementation, Transport = Transport, Doorbell = Doorbell, Consumer = Consumer,
            MessageSize = MessageSize, Producers = Producers, Capacity = Capacity, Batched = Batched, Baseline = Baseline?.Name ?? BaselineCompanion, Note = Note,
            Count = count, Warmup = warmup, Latency = latency, Curve = curve, Throughput = throughput,
            CpuNsPerMsgSender = cpuSender, CpuNsPerMsgReceiver = cpuReceiver, CpuUtilSender = utilSender, CpuUtilReceiver = utilReceiver,
            WakesPerMsg = wakesPerMsg, SleepsPerMsg = sleepsPerMsg, Extra = extra,
        };

    /// <summary>An error or skipped row for this case.</summary>
    public BenchResult Failed(string error, bool skipped = false) => new()
    {
        Name = Name, Kind = Kind, Implementation = Implementation, Transport = Transport, Doorbell = Doorbell, Consumer = Consumer,
        MessageSize = MessageSize, Producers = Producers, Capacity = Capacity, Batched = Batched, Baseline = Baseline?.Name ?? BaselineCompanion, Note = Note,
        Error = error, Skipped = skipped,
    };
}
