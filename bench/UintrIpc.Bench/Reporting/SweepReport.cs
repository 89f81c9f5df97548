using System.Globalization;
using System.Text;
using UintrIpc.Bench.Analysis;
using UintrIpc.Bench.Results;

namespace UintrIpc.Bench.Reporting;

/// <summary>
/// The sweep's summary (issue 11 item 1): per message size and ring kind, the setting
/// (capacity, single or batched) with the highest rate, its CPU cost per message, and the
/// C ring of the same design at the same setting: from the confirmation stage's pairs when the
/// run made them, otherwise from the sweep's one pair.
/// </summary>
internal static class SweepReport
{
    /// <param name="best">The best setting per ring kind and size (<see cref="SweepBest.Of"/>), with their confirmation pairs if the run made them.</param>
    public static void AppendBest(StringBuilder sb, IReadOnlyList<CaseSummary> cases, IReadOnlyList<BestSetting> best, string h)
    {
        var inv = CultureInfo.InvariantCulture;
        if (best.Count == 0)
        {
            return;
        }

        sb.AppendLine(inv, $"{h} Best setting per message size");
        sb.AppendLine();
        // Results without a confirmation stage (written before it existed, or with --confirm-pairs 0) keep the one-pair table.
        bool confirmed = best.Any(b => b.Confirmed is not null);
        sb.AppendLine(confirmed
            ? "For each ring kind and size, the capacity and form (single messages or batches of 64) with the highest rate of the one-pair rows below (each row its run nearest the median). "
                + "Each such setting that has a C ring of the same design then ran again with that C ring as adjacent pairs, alternating which goes first (the confirmation stage, `--confirm-pairs`): "
                + "x C is the median of those pairs' ratios (range, pairs), and the rate, CPU and C columns are the figures of the pair nearest that median (CPU is each side's CPU time per message). "
                + "Rows without a C ring show their sweep run. C best is the highest C rate at any setting of that size in the sweep (its median run)."
            : "For each ring kind and size, the capacity and form (single messages or batches of 64) with the highest rate of the rows below (each row its run nearest the median); "
                + "CPU is each side's CPU time per message in that run. The C columns are the C ring of the same design at that setting, from the same pair; "
                + "C best is the highest C rate at any setting of that size (its median run).");
        sb.AppendLine();
        var cBest = BestNative(cases);
        var rows = new List<string[]>();
        foreach (var b in best)
        {
            var shown = b.Shown;
            var r = shown.Row;
            var pair = shown.Chosen;
            cBest.TryGetValue((b.Kind.Replace("spsc-", "", StringComparison.Ordinal), b.MessageSize), out var nativeBest);
            rows.Add(
            [
                Fmt.Size(r.MessageSize), b.Ring, Fmt.Setting(r),
                Fmt.Millions(r.Throughput!.MessagesPerSecond), Fmt.MegaBytes(r.Throughput.BytesPerSecond),
                Fmt.Pair(Fmt.Ns(r.CpuNsPerMsgSender), Fmt.Ns(r.CpuNsPerMsgReceiver)),
                pair is null ? "" : Fmt.Millions(pair.Reference.Throughput?.MessagesPerSecond),
                b.Confirmed is { Ratio: null } failed ? $"confirmation failed: {failed.Runs.Concat(failed.PairedNative).FirstOrDefault(x => !x.Ok)?.Error ?? "no pair completed"}" : Fmt.Spread(shown.Ratio),
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
