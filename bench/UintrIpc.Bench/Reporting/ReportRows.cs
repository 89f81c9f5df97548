using System.Globalization;
using UintrIpc.Bench.Analysis;
using UintrIpc.Bench.Results;

namespace UintrIpc.Bench.Reporting;

/// <summary>
/// The rows of the latency and throughput tables, shared by the console and the Markdown
/// report. Each .NET test gives one row, its run nearest the median (named "run k/n"), and
/// right under it the C run of the same pair ("└ c-...", figures of that C run); the ratio
/// column of the .NET row is the median of all its pairs' ratios with their range.
/// </summary>
internal static class ReportRows
{
    public static readonly string[] LatencyHeader =
        ["Test", "Impl", "Transport", "Doorbell", "Consumer", "p50 us", "p90 us", "p99 us", "p99.9 us", "max us", "CPU ns/rt snd/rcv", "util snd/rcv", "x C p50 (pairs)"];

    public static readonly string[] ThroughputHeader =
        ["Test", "Impl", "Transport", "Size", "Slots", "Prod", "M msg/s", "MB/s", "ns/msg", "CPU ns/msg snd/rcv", "util snd/rcv", "x C rate (pairs)"];

    /// <summary>The runs shown, in order: .NET rows each followed by its paired C run, then the C runs made for the tables.</summary>
    public static IEnumerable<(BenchResult Run, string Label, string Ratio)> Rows(IReadOnlyList<CaseSummary> cases, IEnumerable<BenchResult> nativeOnly, ResultKind kind)
    {
        foreach (var c in cases.Where(c => c.Row.Kind == kind))
        {
            int n = c.Runs.Count;
            string label = n > 1 ? $"{c.Name} (run {c.Row.Repetition}/{n})" : c.Name;
            string ratio = Fmt.Spread(c.Ratio);
            if (c.Row.Ok && c.Baseline is not null && c.Ratio is null)
            {
                ratio = $"no pair with {c.Baseline}";
            }

            yield return (c.Row, label, ratio);
            if (c.Chosen is { } pair)
            {
                yield return (pair.Reference, $"└ {pair.Reference.Name} (run {pair.Repetition}/{n})", "");
            }
            else if (c.PairedNative.FirstOrDefault(x => !x.Ok) is { } failed)
            {
                yield return (failed, $"└ {failed.Name}", ""); // a failed baseline still shows why
            }
        }

        foreach (var r in nativeOnly.Where(r => r.Kind == kind))
        {
            yield return (r, r.Name, "");
        }
    }

    public static string[] Latency((BenchResult Run, string Label, string Ratio) row)
    {
        var r = row.Run;
        return r.Ok
            ?
            [
                row.Label, r.Implementation, r.Transport, r.Doorbell, r.Consumer,
                Fmt.Us(r.Latency?.P50), Fmt.Us(r.Latency?.P90), Fmt.Us(r.Latency?.P99), Fmt.Us(r.Latency?.P999), Fmt.Us(r.Latency?.Max),
                Fmt.Pair(Fmt.Ns(r.CpuNsPerMsgSender), Fmt.Ns(r.CpuNsPerMsgReceiver)), Fmt.Pair(Fmt.Util(r.CpuUtilSender), Fmt.Util(r.CpuUtilReceiver)),
                row.Ratio,
            ]
            : [row.Label, r.Implementation, r.Transport, r.Doorbell, r.Consumer, Status(r), "", "", "", "", "", "", ""];
    }

    public static string[] Throughput((BenchResult Run, string Label, string Ratio) row)
    {
        var r = row.Run;
        string slots = r.Capacity > 0 ? Workloads.Catalog.CapacityName(r.Capacity) : "";
        string producers = r.Producers.ToString(CultureInfo.InvariantCulture);
        return r.Ok
            ?
            [
                row.Label, r.Implementation, r.Transport, Fmt.Size(r.MessageSize), slots, producers,
                Fmt.Millions(r.Throughput?.MessagesPerSecond), Fmt.MegaBytes(r.Throughput?.BytesPerSecond), Fmt.Ns(r.Throughput?.NanosecondsPerMessage),
                Fmt.Pair(Fmt.Ns(r.CpuNsPerMsgSender), Fmt.Ns(r.CpuNsPerMsgReceiver)), Fmt.Pair(Fmt.Util(r.CpuUtilSender), Fmt.Util(r.CpuUtilReceiver)),
                row.Ratio,
            ]
            : [row.Label, r.Implementation, r.Transport, Fmt.Size(r.MessageSize), slots, producers, Status(r), "", "", "", "", ""];
    }

    public static string Status(BenchResult r) => r.Skipped ? "skipped: " + r.Error : "FAILED: " + r.Error;
}
