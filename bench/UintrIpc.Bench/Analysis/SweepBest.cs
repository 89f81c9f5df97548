using UintrIpc.Bench.Results;

namespace UintrIpc.Bench.Analysis;

/// <summary>
/// Picks the best setting per ring kind and message size from a sweep (the highest rate of the
/// rows, each its run nearest the median): what the sweep's confirmation stage re-runs as
/// alternating pairs with C, and what the "Best setting per message size" table shows.
/// </summary>
internal static class SweepBest
{
    /// <summary>
    /// One entry per ring kind and size of <paramref name="sweep"/> (ordered by size, kind, producers),
    /// each with the confirmation summary of the same kind and size from <paramref name="confirmation"/>, if any.
    /// </summary>
    public static IReadOnlyList<BestSetting> Of(IReadOnlyList<CaseSummary> sweep, IReadOnlyList<CaseSummary> confirmation)
    {
        var confirmed = confirmation.ToLookup(c => KeyOf(c.Row));
        return sweep.Where(c => c.Row.Ok && c.Row.Kind == ResultKind.Throughput && c.Row.Capacity > 0)
            .GroupBy(c => KeyOf(c.Row))
            .OrderBy(g => g.Key.MessageSize).ThenBy(g => g.Key.Kind, StringComparer.Ordinal).ThenBy(g => g.Key.Producers)
            .Select(g => new BestSetting(g.Key.Kind, g.Key.Producers, g.Key.MessageSize,
                g.OrderByDescending(c => c.Row.Throughput!.MessagesPerSecond).First(), confirmed[g.Key].FirstOrDefault()))
            .ToList();
    }

    /// <summary>The tests the confirmation stage re-runs: per ring kind and size, the best setting of the sweep, where it has a C ring of the same design.</summary>
    public static IReadOnlyList<string> ToConfirm(IReadOnlyList<CaseSummary> sweep) =>
        Of(sweep, []).Where(b => b.Sweep.Baseline is not null).Select(b => b.Sweep.Name).ToList();

    private static (string Kind, int Producers, int MessageSize) KeyOf(BenchResult r) =>
        (r.Transport.Replace("-batched", "", StringComparison.Ordinal), r.Producers, r.MessageSize);
}
