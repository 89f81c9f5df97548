using UintrIpc.Bench.Results;

namespace UintrIpc.Bench.Analysis;

/// <summary>
/// Picks the best setting per ring kind and message size from a sweep (<see cref="SettingPick"/>:
/// the sweep's three fastest settings, decided by the median of their pick-stage rounds), for .NET
/// and by the same rule for C: what the sweep's confirmation stage re-runs as alternating pairs
/// with C, and what the "Best setting per message size" table shows.
/// </summary>
internal static class SweepBest
{
    /// <summary>
    /// One entry per ring kind and size of <paramref name="sweep"/> (ordered by size, kind, producers),
    /// picked with the pick-stage runs of <paramref name="results"/>, each with the confirmation summary of
    /// the same kind and size, if any.
    /// </summary>
    public static IReadOnlyList<BestSetting> Of(IReadOnlyList<CaseSummary> sweep, IReadOnlyList<BenchResult> results)
    {
        var confirmed = Ratios.Summarize(results, RunStage.Confirmation, HostMode.Counts).ToLookup(c => KeyOf(c.Row));
        var rounds = results.Where(r => r.Stage == RunStage.Pick).ToLookup(r => r.Name, StringComparer.Ordinal);
        return Cells(sweep)
            .Select(g =>
            {
                var net = SettingPick.Of(g.Select(c => (c.Name, c.Row)), rounds);
                var native = NativeRuns(g).ToList();
                return new BestSetting(g.Key.Kind, g.Key.Producers, g.Key.MessageSize, g.First(c => c.Name == net.Picked.Name),
                    confirmed[g.Key].FirstOrDefault(), net, native.Count > 0 ? SettingPick.Of(native, rounds) : null);
            })
            .ToList();
    }

    /// <summary>
    /// What the pick stage runs, per ring kind and size: the sweep test of each candidate setting, with
    /// which sides to run (a C candidate runs the C ring of that test). Sides with one candidate only are left out.
    /// </summary>
    public static IReadOnlyList<IReadOnlyList<(string Test, bool Net, bool Native)>> ToPick(IReadOnlyList<CaseSummary> sweep) =>
        Of(sweep, [])
            .Select(b =>
            {
                var net = b.Net.Candidates.Count > 1 ? b.Net.Candidates.Select(c => c.Name).ToHashSet(StringComparer.Ordinal) : [];
                var native = b.Native is { Candidates.Count: > 1 } n ? n.Candidates.Select(c => c.Sweep.PairedWith!).ToHashSet(StringComparer.Ordinal) : [];
                return (IReadOnlyList<(string, bool, bool)>)sweep.Select(c => c.Name).Where(t => net.Contains(t) || native.Contains(t))
                    .Select(t => (t, net.Contains(t), native.Contains(t))).ToList();
            })
            .Where(cell => cell.Count > 0)
            .ToList();

    /// <summary>The tests the confirmation stage re-runs: per ring kind and size, the .NET setting picked, where it has a C ring of the same design.</summary>
    public static IReadOnlyList<string> ToConfirm(IReadOnlyList<CaseSummary> sweep, IReadOnlyList<BenchResult> results) =>
        Of(sweep, results).Where(b => b.Sweep.Baseline is not null).Select(b => b.Sweep.Name).ToList();

    /// <summary>
    /// Whether a confirmation needs more pairs: its ratios lie on both sides of 1 (with five pairs, the
    /// range is the 94% interval of the median by the sign test, so it cannot tell which side is faster).
    /// </summary>
    public static bool Undecided(Spread? ratio) => ratio is { Min: < 1, Max: > 1 };

    /// <summary>At most this many times <c>--confirm-pairs</c> pairs run in one confirmation, mixed ones included: a host that flips modes every few seconds would otherwise never give enough counted pairs.</summary>
    public const int MaxPairsFactor = 3;

    /// <summary>
    /// Pairs a confirmation runs next, after those made so far (<paramref name="summary"/>'s): as many
    /// as its counted pairs (not in mixed host modes, <see cref="HostMode"/>) fall short of
    /// <paramref name="pairs"/>, or of 2 x <paramref name="pairs"/> - 1 where their ratios lie on both
    /// sides of 1 (<see cref="Undecided"/>), and no more than <see cref="MaxPairsFactor"/> x
    /// <paramref name="pairs"/> in all. Asked again after each batch, so a mixed pair is replaced
    /// until the count is reached, also when its replacement was mixed too (replaced once only, one
    /// 256 B row of the stop-33 sweep counted 2 pairs of 8).
    /// </summary>
    public static int MorePairs(CaseSummary summary, int pairs)
    {
        int made = summary.Pairs.Count;
        int counted = summary.Pairs.Count(HostMode.Counts);
        int wanted = Undecided(summary.Ratio) ? (2 * pairs) - 1 : pairs;
        return Math.Max(0, Math.Min(wanted - counted, (MaxPairsFactor * pairs) - made));
    }

    /// <summary>The sweep's completed ring throughput rows, by ring kind and size, ordered by size, kind and producers.</summary>
    private static IEnumerable<IGrouping<(string Kind, int Producers, int MessageSize), CaseSummary>> Cells(IReadOnlyList<CaseSummary> sweep) =>
        sweep.Where(c => c.Row.Ok && c.Row.Kind == ResultKind.Throughput && c.Row.Capacity > 0 && c.Row.Throughput is not null)
            .GroupBy(c => KeyOf(c.Row))
            .OrderBy(g => g.Key.MessageSize).ThenBy(g => g.Key.Kind, StringComparer.Ordinal).ThenBy(g => g.Key.Producers);

    /// <summary>Per C test paired with the cell's .NET tests: its run nearest the median of its completed sweep runs.</summary>
    private static IEnumerable<(string Name, BenchResult Run)> NativeRuns(IEnumerable<CaseSummary> cell) =>
        cell.SelectMany(c => c.PairedNative)
            .Where(r => r.IsNative && r.Ok && r.Kind == ResultKind.Throughput && r.Capacity > 0 && r.Throughput is not null)
            .GroupBy(r => r.Name, StringComparer.Ordinal)
            .Select(g =>
            {
                double median = Spread.Of(g.Select(r => r.Throughput!.MessagesPerSecond))!.Value.Median;
                return (g.Key, g.OrderBy(r => Math.Abs(r.Throughput!.MessagesPerSecond - median)).First());
            });

    private static (string Kind, int Producers, int MessageSize) KeyOf(BenchResult r) =>
        (r.Transport.Replace("-batched", "", StringComparison.Ordinal), r.Producers, r.MessageSize);
}
