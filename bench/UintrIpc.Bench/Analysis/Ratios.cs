using UintrIpc.Bench.Results;

namespace UintrIpc.Bench.Analysis;

/// <summary>Headline ratios, and the grouping of a run's results into per-test summaries.</summary>
internal static class Ratios
{
    /// <summary>subject / reference on the headline (p50 or messages/s); null when either is missing or failed.</summary>
    public static double? Of(BenchResult subject, BenchResult reference) =>
        subject.Ok && reference.Ok && subject.Headline is { } s && reference.Headline is { } c && c > 0 && !double.IsNaN(s) && !double.IsNaN(c) ? s / c : null;

    /// <summary>
    /// One summary per .NET test of <paramref name="stage"/>, in run order, with the runs paired
    /// with it (C tests, and .NET companions); the stages are summarized apart, so the sweep's
    /// one-pair rows and the confirmation's pairs of the same test stay separate.
    /// </summary>
    public static IReadOnlyList<CaseSummary> Summarize(IReadOnlyList<BenchResult> results, RunStage stage = RunStage.Main)
    {
        var ofStage = results.Where(r => r.Stage == stage).ToList();
        var paired = ofStage.Where(r => r.PairedWith is not null).ToLookup(r => r.PairedWith!, StringComparer.Ordinal);
        return ofStage.Where(r => !r.IsNative && r.PairedWith is null)
            .GroupBy(r => r.Name, StringComparer.Ordinal)
            .Select(g => new CaseSummary(g.OrderBy(r => r.Repetition).ToList(), paired[g.Key].ToList()))
            .ToList();
    }

    /// <summary>C runs made once for the tables (not paired with a .NET test).</summary>
    public static IEnumerable<BenchResult> NativeOnly(IReadOnlyList<BenchResult> results) =>
        results.Where(r => r.IsNative && r.PairedWith is null && r.Stage == RunStage.Main);
}
