using System.Globalization;
using System.Text;
using UintrIpc.Bench.Analysis;
using UintrIpc.Bench.Results;

namespace UintrIpc.Bench.Reporting;

/// <summary>
/// The sweep's summary (issue 11 item 1): per message size and ring kind, the setting
/// (capacity, single or batched) picked as the best (<see cref="SettingPick"/>: by the median of
/// the pick stage's rounds when the run has them, otherwise by the sweep's one run), its CPU cost
/// per message, and the C ring of the same design at the same setting: from the confirmation
/// stage's pairs when the run made them, otherwise from the sweep's one pair; with a pick stage,
/// also every candidate's rounds and every pair's ratio, so the reader sees the spread.
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
        // Results without a pick stage (written before it existed, or with --pick-rounds 0) keep the text and table they had.
        bool picked = best.Any(b => b.Net.HasRounds);
        // Results without a confirmation stage (written before it existed, or with --confirm-pairs 0) keep the one-pair table.
        bool confirmed = best.Any(b => b.Confirmed is not null);
        // Results whose confirmation pairs carry no host-mode probes (taken before them, or with --mode-probe 0) keep their text.
        bool probed = best.Any(b => b.Confirmed is { } c && HostMode.Probed(c));
        sb.AppendLine(picked
            ? "How the best setting is picked (a rule fixed before any rate is seen, the same for .NET and C): for each ring kind and size, each side's three settings "
                + "(capacity, single messages or batches of 64) with the highest rate in the one-pair rows below are its candidates. The pick stage (`--pick-rounds`) then ran every candidate "
                + "once per round, the .NET and C candidates of a kind and size together (C first in odd rounds, .NET first in even ones, the settings in reverse order in even rounds), "
                + "so that the host's speed modes fall on both sides and on every candidate alike; each side's best setting is its candidate with the highest median rate over the rounds "
                + "(the sweep's run does not count: it made the candidate for being high). "
                + (confirmed
                    ? "The .NET best setting then ran again with the C ring of the same setting as adjacent pairs, alternating which goes first (the confirmation stage, `--confirm-pairs`; "
                        + "where the ratios of those pairs lay on both sides of 1, one pair fewer again): x C is the median of all its pairs' ratios (range, pairs, how many of them above 1, and the sign test's reading of those signs: "
                        + "were neither side faster, each pair would be above 1 with probability one half, so the row reads behind or ahead when the count's one-sided binomial tail is below 0.05, "
                        + "else neither side shown faster; approximate, as the number of pairs depends on their ratios where they lay on both sides of 1), "
                        + "and the rate, CPU and C columns are the figures of the pair nearest that median (CPU is each side's CPU time per message). Rows without a C ring show their sweep run. "
                    : "The rate, CPU and C columns are the figures of the picked setting's sweep row and its pair. ")
                + (probed ? ModeProbeMethod : "")
                + "C best is the C ring's own best setting by the same rule, with its median rate over the rounds. The table after this one lists every candidate's rates and every pair's ratio."
            : confirmed
            ? "For each ring kind and size, the capacity and form (single messages or batches of 64) with the highest rate of the one-pair rows below (each row its run nearest the median). "
                + "Each such setting that has a C ring of the same design then ran again with that C ring as adjacent pairs, alternating which goes first (the confirmation stage, `--confirm-pairs`): "
                + "x C is the median of those pairs' ratios (range, pairs), and the rate, CPU and C columns are the figures of the pair nearest that median (CPU is each side's CPU time per message). "
                + "Rows without a C ring show their sweep run. " + (probed ? ModeProbeMethod : "") + "C best is the highest C rate at any setting of that size in the sweep (its median run)."
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
                b.Confirmed is { Ratio: null } failed ? $"confirmation failed: {failed.Runs.Concat(failed.PairedNative).FirstOrDefault(x => !x.Ok)?.Error ?? "no pair completed"}"
                    : picked || probed ? AboveOne(shown) : Fmt.Spread(shown.Ratio),
                picked ? (b.Native is { } n ? $"{Fmt.Millions(n.Picked.Rate)} ({Short(n.Picked.Sweep)})" : "")
                    : nativeBest is null ? "" : $"{Fmt.Millions(nativeBest.Throughput!.MessagesPerSecond)} ({Short(nativeBest)})",
            ]);
        }

        MarkdownReport.AppendTable(sb, ["Size", "Ring", "Best setting", "M msg/s", "MB/s", "CPU ns/msg snd/rcv", "C same setting M msg/s", "x C (pairs)", "C best M msg/s (setting)"], rows);
        if (picked || probed)
        {
            AppendPicks(sb, best, h, probed);
        }
    }

    /// <summary>
    /// Median (range, pairs, how many above 1) of a summary's counted pair ratios: the sign of each pair beside the median.
    /// </summary>
    /// With host-mode probes, also how many pairs were mixed (not counted, <see cref="HostMode"/>).
    public static string AboveOne(CaseSummary c)
    {
        int mixed = c.Pairs.Count(p => !HostMode.Counts(p));
        string modes = !HostMode.Probed(c) ? ""
            : mixed == c.Pairs.Count ? ", every pair in mixed modes: all counted"
            : $", {mixed} more in mixed modes not counted";
        int above = c.Counted.Count(p => p.Ratio > 1);
        return Fmt.Spread(c.Ratio, note: $"{above} above 1{modes}; {SignTest.Verdict(above, c.Counted.Count)}");
    }

    /// <summary>What a confirmation pair is when its runs carry host-mode probes (--mode-probe).</summary>
    private static readonly string ModeProbeMethod =
        "Each confirmation pair ran with a probe of the host's mode (c-spin-cacheline, a few thousand round trips: the host switches between a fast and a slow mode "
        + "for seconds to minutes, and a pair whose .NET run and C run fall in different modes reads far from 1 whatever the code) right before, between and after its two runs. "
        + $"A pair whose probes differ by more than {HostMode.Tolerance.ToString("0.00", CultureInfo.InvariantCulture)}x (highest p50 / lowest) is mixed: it is shown with its probes in the next table "
        + $"but not counted in x C or in its range, and another pair ran in its place, again while the replacements were mixed, up to {SweepBest.MaxPairsFactor}x the pairs asked for in all (the rule looks at the probes only, not at which side was faster; where every pair was mixed, all count). ";

    /// <summary>Every candidate's sweep run and pick rounds, and every confirmation pair's ratio, per ring kind and size.</summary>
    private static void AppendPicks(StringBuilder sb, IReadOnlyList<BestSetting> best, string h, bool probed)
    {
        sb.AppendLine(CultureInfo.InvariantCulture, $"{h} How each best setting was picked");
        sb.AppendLine();
        sb.AppendLine("Per candidate: M msg/s of its sweep run; of its pick rounds in run order; their median in brackets. The picked candidate is in bold. "
            + "x C per pair: the confirmation pairs' ratios in run order" + (probed ? "; a mixed pair with its probes' p50s before/after the .NET run and before/after the C run, ns." : "."));
        sb.AppendLine();
        var rows = best.Select(b => new[]
        {
            Fmt.Size(b.MessageSize), b.Ring, Candidates(b.Net), b.Native is { } n ? Candidates(n) : "",
            b.Confirmed is { } c ? string.Join(", ", c.Pairs.Select(HostMode.Describe)) : "",
        });
        MarkdownReport.AppendTable(sb, ["Size", "Ring", ".NET candidates: sweep; rounds [median]", "C candidates: sweep; rounds [median]", "x C per pair"], rows);
    }

    /// <summary>"**4k batched** 71.0; 69.1, 71.2, 20.0 [69.1]" per candidate, fastest sweep run first.</summary>
    private static string Candidates(SettingPick pick) =>
        string.Join("<br>", pick.Candidates.Select(c =>
        {
            string name = Short(c.Sweep).Replace(",", "", StringComparison.Ordinal);
            string rounds = string.Join(", ", c.Rounds.Select(r => r.Ok ? Fmt.Millions(r.Throughput?.MessagesPerSecond) : "failed"));
            return $"{(c == pick.Picked ? $"**{name}**" : name)} {Fmt.Millions(c.Sweep.Throughput!.MessagesPerSecond)}"
                + (c.Rounds.Count > 0 ? $"; {rounds}" : "") + (c.RoundRate is { } m ? $" [{Fmt.Millions(m.Median)}]" : "");
        }));

    /// <summary>"16k, batched": a ring throughput run's setting, short.</summary>
    private static string Short(BenchResult r) => $"{Workloads.Catalog.CapacityName(r.Capacity)}, {(r.Batched ? "batched" : "single")}";

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
