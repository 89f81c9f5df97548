using UintrIpc.Bench.Results;

namespace UintrIpc.Bench.Reporting;

/// <summary>The columns of the latency and throughput tables, shared by the console and the Markdown report.</summary>
internal static class ReportRows
{
    public static readonly string[] LatencyHeader =
        ["Test", "Impl", "Transport", "Doorbell", "Consumer", "p50 us", "p90 us", "p99 us", "p99.9 us", "max us", "CPU ns/rt snd/rcv", "util snd/rcv", "Baseline", "x C p50"];

    /// <summary>The console's narrower latency table (the name says implementation and transport).</summary>
    public static readonly string[] LatencyConsoleHeader =
        ["Test", "Doorbell", "Consumer", "p50 us", "p90 us", "p99 us", "p99.9 us", "max us", "CPU ns/rt", "util", "x C"];

    public static readonly string[] ThroughputConsoleHeader =
        ["Test", "Size", "Prod", "M msg/s", "MB/s", "ns/msg", "CPU ns/msg", "util", "x C"];

    public static readonly string[] ThroughputHeader =
        ["Test", "Impl", "Transport", "Size", "Prod", "M msg/s", "MB/s", "ns/msg", "CPU ns/msg snd/rcv", "util snd/rcv", "Baseline", "x C rate"];

    public static string[] Latency(BenchResult r) => r.Ok
        ?
        [
            r.Name, r.Implementation, r.Transport, r.Doorbell, r.Consumer,
            Fmt.Us(r.Latency?.P50), Fmt.Us(r.Latency?.P90), Fmt.Us(r.Latency?.P99), Fmt.Us(r.Latency?.P999), Fmt.Us(r.Latency?.Max),
            Fmt.Pair(Fmt.Ns(r.CpuNsPerMsgSender), Fmt.Ns(r.CpuNsPerMsgReceiver)), Fmt.Pair(Fmt.Util(r.CpuUtilSender), Fmt.Util(r.CpuUtilReceiver)),
            BaselineCell(r), Fmt.Ratio(r.Ratio),
        ]
        : [r.Name, r.Implementation, r.Transport, r.Doorbell, r.Consumer, Status(r), "", "", "", "", "", "", r.Baseline ?? "", ""];

    /// <summary>Drops the columns of <paramref name="full"/> that <paramref name="header"/> does not have.</summary>
    public static string[] Project(string[] full, string[] fullHeader, string[] header, IReadOnlyDictionary<string, string> renames) =>
        header.Select(h => renames.TryGetValue(h, out var f) ? f : h).Select(h => full[Array.IndexOf(fullHeader, h)]).ToArray();

    public static string[] Throughput(BenchResult r) => r.Ok
        ?
        [
            r.Name, r.Implementation, r.Transport, Fmt.Size(r.MessageSize), r.Producers.ToString(System.Globalization.CultureInfo.InvariantCulture),
            Fmt.Millions(r.Throughput?.MessagesPerSecond), Fmt.MegaBytes(r.Throughput?.BytesPerSecond), Fmt.Ns(r.Throughput?.NanosecondsPerMessage),
            Fmt.Pair(Fmt.Ns(r.CpuNsPerMsgSender), Fmt.Ns(r.CpuNsPerMsgReceiver)), Fmt.Pair(Fmt.Util(r.CpuUtilSender), Fmt.Util(r.CpuUtilReceiver)),
            BaselineCell(r), Fmt.Ratio(r.Ratio),
        ]
        : [r.Name, r.Implementation, r.Transport, Fmt.Size(r.MessageSize), r.Producers.ToString(System.Globalization.CultureInfo.InvariantCulture), Status(r), "", "", "", "", r.Baseline ?? "", ""];

    /// <summary>The baseline's name and, when it ran just before this test, its headline then (p50 us or M msg/s).</summary>
    public static string BaselineCell(BenchResult r) =>
        r.Baseline is not { } b ? ""
        : r.Paired.TryGetValue(b, out double v) ? $"{b} ({(r.Kind == ResultKind.Latency ? Fmt.Us(v) : Fmt.Millions(v))})"
        : b;

    public static string Status(BenchResult r) => r.Skipped ? "skipped: " + r.Error : "FAILED: " + r.Error;

    /// <summary>Latency rows in a stable order: by consumer state, then C before .NET.</summary>
    public static IEnumerable<BenchResult> LatencyRows(IEnumerable<BenchResult> results) =>
        results.Where(r => r.Kind == ResultKind.Latency);

    public static IEnumerable<BenchResult> ThroughputRows(IEnumerable<BenchResult> results) =>
        results.Where(r => r.Kind == ResultKind.Throughput)
            .OrderBy(r => r.Transport.StartsWith("slot", StringComparison.Ordinal) ? 0 : r.Transport.StartsWith("record", StringComparison.Ordinal) ? 1 : 2)
            .ThenBy(r => r.Transport, StringComparer.Ordinal)
            .ThenBy(r => r.Producers)
            .ThenBy(r => r.MessageSize)
            .ThenBy(r => r.IsNative ? 0 : 1);
}
