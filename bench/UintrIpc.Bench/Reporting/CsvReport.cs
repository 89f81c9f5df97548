using System.Globalization;
using System.Text;
using UintrIpc.Bench.Results;

namespace UintrIpc.Bench.Reporting;

/// <summary>results.csv: one line per result, flat columns, invariant culture, times in ns.</summary>
internal static class CsvReport
{
    private static readonly string[] s_header =
    [
        "name", "kind", "implementation", "transport", "doorbell", "consumer", "message_size", "producers", "count", "warmup",
        "min_ns", "p50_ns", "p90_ns", "p99_ns", "p999_ns", "max_ns", "mean_ns",
        "msgs_per_s", "bytes_per_s", "ns_per_msg",
        "cpu_ns_per_msg_sender", "cpu_ns_per_msg_receiver", "cpu_util_sender", "cpu_util_receiver", "wakes_per_msg", "sleeps_per_msg",
        "capacity", "batched", "repetition", "paired_with", "baseline", "stage", "error",
    ];

    public static void Write(IEnumerable<BenchResult> results, string path)
    {
        var sb = new StringBuilder();
        sb.AppendLine(string.Join(',', s_header));
        foreach (var r in results)
        {
            var l = r.Latency;
            var t = r.Throughput;
            object?[] cells =
            [
                r.Name, r.Kind.ToString().ToLowerInvariant(), r.Implementation, r.Transport, r.Doorbell, r.Consumer, r.MessageSize, r.Producers, r.Count, r.Warmup,
                l?.Min, l?.P50, l?.P90, l?.P99, l?.P999, l?.Max, l?.Mean,
                t?.MessagesPerSecond, t?.BytesPerSecond, t?.NanosecondsPerMessage,
                r.CpuNsPerMsgSender, r.CpuNsPerMsgReceiver, r.CpuUtilSender, r.CpuUtilReceiver, r.WakesPerMsg, r.SleepsPerMsg,
                r.Capacity, r.Batched, r.Repetition, r.PairedWith, r.Baseline, r.Stage.ToString().ToLowerInvariant(), r.Error,
            ];
            sb.AppendLine(string.Join(',', cells.Select(Cell)));
        }

        File.WriteAllText(path, sb.ToString());
    }

    private static string Cell(object? value) => value switch
    {
        null => "",
        double d when double.IsNaN(d) => "",
        double d => d.ToString("0.###", CultureInfo.InvariantCulture),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        string s when s.AsSpan().IndexOfAny(",\"\n") >= 0 => "\"" + s.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"",
        _ => value.ToString() ?? "",
    };
}
