using System.Globalization;
using System.Text;
using UintrIpc.Bench.Analysis;
using UintrIpc.Bench.Results;

namespace UintrIpc.Bench.Reporting;

/// <summary>
/// The sweep's summary (issue 11 item 1): per message size and ring kind, the setting
/// (capacity, single or batched) with the highest rate, its CPU cost per message, and the
/// C ring of the same design at the same setting.
/// </summary>
internal static class SweepReport
{
    public static void AppendBest(StringBuilder sb, IReadOnlyList<CaseSummary> cases, string h)
    {
        var inv = CultureInfo.InvariantCulture;
        var rings = cases.Where(c => c.Row.Ok && c.Row.Kind == ResultKind.Throughput && c.Row.Capacity > 0).ToList();
        if (rings.Count == 0)
        {
            return;
        }

        sb.AppendLine(inv, $"{h} Best setting per message size");
        sb.AppendLine();
        sb.AppendLine("For each ring kind and size, the capacity and form (single messages or batches of 64) with the highest rate of the rows below (each row its run nearest the median); "
            + "CPU is each side's CPU time per message in that run. The C columns are the C ring of the same design at that setting, from the same pair; "
            + "C best is the highest C rate at any setting of that size (its median run).");
        sb.AppendLine();
        var cBest = BestNative(cases);
        var rows = new List<string[]>();
        foreach (var group in rings.GroupBy(c => (Kind: c.Row.Transport.Replace("-batched", "", StringComparison.Ordinal), c.Row.Producers, c.Row.MessageSize))
                     .OrderBy(g => g.Key.MessageSize).ThenBy(g => g.Key.Kind, StringComparer.Ordinal).ThenBy(g => g.Key.Producers))
        {
            var best = group.OrderByDescending(c => c.Row.Throughput!.MessagesPerSecond).First();
            var r = best.Row;
            var pair = best.Chosen;
            string cKind = group.Key.Kind.Replace("spsc-", "", StringComparison.Ordinal);
            cBest.TryGetValue((cKind, group.Key.MessageSize), out var nativeBest);
            rows.Add(
            [
                Fmt.Size(r.MessageSize), group.Key.Kind + (group.Key.Producers > 1 ? $" x{group.Key.Producers}" : ""),
                $"{Workloads.Catalog.CapacityName(r.Capacity)} slots, {(r.Batched ? "batched" : "single")}",
                Fmt.Millions(r.Throughput!.MessagesPerSecond), Fmt.MegaBytes(r.Throughput.BytesPerSecond),
                Fmt.Pair(Fmt.Ns(r.CpuNsPerMsgSender), Fmt.Ns(r.CpuNsPerMsgReceiver)),
                pair is null ? "" : Fmt.Millions(pair.Reference.Throughput?.MessagesPerSecond),
                Fmt.Spread(best.Ratio),
                nativeBest is null ? "" : $"{Fmt.Millions(nativeBest.Throughput!.MessagesPerSecond)} ({Workloads.Catalog.CapacityName(nativeBest.Capacity)}, {(nativeBest.Batched ? "batched" : "single")})",
            ]);
        }

        MarkdownReport.AppendTable(sb, ["Size", "Ring", "Best setting", "M msg/s", "MB/s", "CPU ns/msg snd/rcv", "C same setting M msg/s", "x C (pairs)", "C best M msg/s (setting)"], rows);
    }

    /// <summary>Per C ring kind ("slot", "record") and size: the C test whose median run is fastest, that run.</summary>
    private static Dictionary<(string Kind, int Size), BenchResult> BestNative(IReadOnlyList<CaseSummary> cases)
    {
        var medians = cases.SelectMany(c => c.PairedNative).Where(r => r.Ok && r.Kind == ResultKind.Throughput && r.Capacity > 0)
            .GroupBy(r => r.Name, StringComparer.Ordinal)
            .Select(g =>
            {
                double median = Spread.Of(g.Select(r => r.Throughput!.MessagesPerSecond))!.Value.Median;
                return g.OrderBy(r => Math.Abs(r.Throughput!.MessagesPerSecond - median)).First();
            });
        var best = new Dictionary<(string, int), BenchResult>();
        foreach (var r in medians)
        {
            string kind = r.Transport.Replace("spsc-", "", StringComparison.Ordinal).Replace("-batched", "", StringComparison.Ordinal);
            var key = (kind, r.MessageSize);
            if (!best.TryGetValue(key, out var b) || r.Throughput!.MessagesPerSecond > b.Throughput!.MessagesPerSecond)
            {
                best[key] = r;
            }
        }

        return best;
    }
}
