using UintrIpc.Tests.Infrastructure;

namespace UintrIpc.Tests.Bench;

/// <summary>
/// Issue 11's duplex round trip against its C floor when the host switches modes within a run:
/// with --floor-segments a pair is one .NET run taken in segments, each next to a C run of its
/// share, and the pair's ratio is the median of the segments' ratios (p99 likewise), so a segment
/// whose two sides landed in different modes does not decide the pair. The harness rebuilds the
/// report from made-up results (--report-from) and the target rows are asserted exactly.
/// </summary>
[Collection(CrossProcessCollection.Name)]
public sealed class FloorSegmentPairingTests
{
    private const string Target = "| Duplex round trip p50 &le; 1.15x the same-run C cache-line floor (c-spin-cacheline) | net-duplex-spin | c-spin-cacheline | ";

    [Fact]
    public void A_pair_in_segments_is_the_median_of_its_segment_ratios_so_a_mode_switch_on_one_side_of_a_segment_does_not_decide_it()
    {
        string report = HarnessRun.ReportFrom("quick", Runs(segmented: true));
        // Pair 1: p50 segment ratios 400/120, 400/118, 400/390, 130/115, 128/116 = 3.33, 3.39, 1.03, 1.13, 1.10: median 1.13
        // (whole runs: 400 / the C median segment's 118 = 3.39); pair 2: 120/110 = 1.09 in every segment. Median of 1.13 and 1.09: 1.11.
        // p99: pair 1 500/150, 500/150, 500/480, 160/140, 150/145 = 3.33, 3.33, 1.04, 1.14, 1.03: median 1.14; pair 2 140/140 = 1.00.
        var row = Assert.Single(report.Split('\n'), l => l.StartsWith(Target, StringComparison.Ordinal));
        Assert.StartsWith(Target + "1.11x (1.09-1.13, 2 pairs) | &le; 1.15x | yes | ratios of the 2 pairs in run order: 1.13, 1.09;", row, StringComparison.Ordinal);
        Assert.EndsWith("; p99: 1.07x (1.00-1.14, 2 pairs) |", row, StringComparison.Ordinal);
        Assert.Contains("The pair's ratio is the **median of its segments' p50 ratios**", report, StringComparison.Ordinal);
        Assert.Contains("(`net-duplex-spin`)", report, StringComparison.Ordinal);
    }

    [Fact]
    public void Whole_runs_without_segments_keep_the_ratio_of_the_two_runs_headlines()
    {
        string report = HarnessRun.ReportFrom("quick", Runs(segmented: false));
        // The same runs' rows (the .NET merged p50 and the C median segment's) as whole runs: 400/118 = 3.39 and 120/110 = 1.09.
        var row = Assert.Single(report.Split('\n'), l => l.StartsWith(Target, StringComparison.Ordinal));
        Assert.StartsWith(Target + "2.24x (1.09-3.39, 2 pairs) | &le; 1.15x | **no** |", row, StringComparison.Ordinal);
        Assert.EndsWith("; p99: 2.17x (1.00-3.33, 2 pairs) |", row, StringComparison.Ordinal);
        Assert.DoesNotContain("Interleaved pairs", report, StringComparison.Ordinal);
    }

    /// <summary>
    /// Two pairs of net-duplex-spin and c-spin-cacheline, 5 segments each: in pair 1 the .NET side
    /// was in the slow mode for three segments, C for one of them only; pair 2 stayed in one mode.
    /// </summary>
    private static IEnumerable<Dictionary<string, object?>> Runs(bool segmented)
    {
        var pairs = new (double[] NetP50, double[] NetP99, double NetMergedP50, double NetMergedP99, double[] CP50, double[] CP99)[]
        {
            ([400, 400, 400, 130, 128], [500, 500, 500, 160, 150], 400, 500, [120, 118, 390, 115, 116], [150, 150, 480, 140, 145]),
            ([120, 120, 120, 120, 120], [140, 140, 140, 140, 140], 120, 140, [110, 110, 110, 110, 110], [140, 140, 140, 140, 140]),
        };
        for (int i = 0; i < pairs.Length; i++)
        {
            var p = pairs[i];
            // The C row is its median segment by p50, as the harness writes it.
            int median = Enumerable.Range(0, p.CP50.Length).OrderBy(k => p.CP50[k]).ElementAt(p.CP50.Length / 2);
            var c = Row("c-spin-cacheline", "c", "cache-line", p.CP50[median], p.CP99[median], i + 1);
            c["paired_with"] = "net-duplex-spin";
            var net = Row("net-duplex-spin", "uintripc", "duplex-ring", p.NetMergedP50, p.NetMergedP99, i + 1);
            net["baseline"] = "c-duplex-pingpong";
            if (segmented)
            {
                c["segments"] = Segments(p.CP50, p.CP99);
                net["segments"] = Segments(p.NetP50, p.NetP99);
            }

            yield return c;
            yield return net;
        }
    }

    private static List<Dictionary<string, double>> Segments(double[] p50, double[] p99) => p50.Zip(p99, Latency).ToList();

    private static Dictionary<string, double> Latency(double p50, double p99) => new()
    {
        ["min"] = p50 - 20, ["p50"] = p50, ["p90"] = p50 + 10, ["p99"] = p99, ["p999"] = p99 + 50, ["max"] = p99 + 1000, ["mean"] = p50 + 5,
    };

    private static Dictionary<string, object?> Row(string name, string implementation, string transport, double p50, double p99, int repetition) => new()
    {
        ["name"] = name, ["kind"] = "latency", ["implementation"] = implementation, ["transport"] = transport,
        ["count"] = 100_000, ["repetition"] = repetition, ["latency"] = Latency(p50, p99),
        ["cpu_ns_per_msg_sender"] = 100.0, ["cpu_ns_per_msg_receiver"] = 100.0,
    };
}
