using UintrIpc.Bench.Results;

namespace UintrIpc.Bench.Analysis;

/// <summary>Headline ratios, and the grouping of a run's results into per-test summaries.</summary>
internal static class Ratios
{
    /// <summary>
    /// subject / reference on the headline (p50 or messages/s); null when either is missing or
    /// failed. Two runs measured in the same interleaved segments (<see cref="BenchResult.Segments"/>,
    /// as many on both sides): the median of the per-segment p50 ratios.
    /// </summary>
    public static double? Of(BenchResult subject, BenchResult reference) =>
        PerSegment(subject, reference, l => l.P50) ?? Plain(subject.Headline, reference.Headline, subject, reference);

    /// <summary>subject / reference on the p99 (latency), per segment as <see cref="Of"/>; null when either has none.</summary>
    public static double? OfP99(BenchResult subject, BenchResult reference) =>
        PerSegment(subject, reference, l => l.P99) ?? Plain(subject.Latency?.P99, reference.Latency?.P99, subject, reference);

    /// <summary>The median of the segments' ratios on <paramref name="figure"/>; null unless both carry the same number of segments.</summary>
    private static double? PerSegment(BenchResult subject, BenchResult reference, Func<LatencySummary, double> figure)
    {
        if (!subject.Ok || !reference.Ok || subject.Segments is not { Count: > 0 } s || reference.Segments is not { } c || c.Count != s.Count)
        {
            return null;
        }

        return Spread.Of(s.Zip(c, (a, b) => figure(b) > 0 ? figure(a) / figure(b) : double.NaN))?.Median;
    }

    private static double? Plain(double? subjectFigure, double? referenceFigure, BenchResult subject, BenchResult reference) =>
        subject.Ok && reference.Ok && subjectFigure is { } s && referenceFigure is { } c && c > 0 && !double.IsNaN(s) && !double.IsNaN(c) ? s / c : null;

    /// <summary>
    /// One summary per .NET test of <paramref name="stage"/>, in run order, with the runs paired
    /// with it (C tests, and .NET companions); the stages are summarized apart, so the sweep's
    /// one-pair rows and the confirmation's pairs of the same test stay separate. <paramref name="counts"/>:
    /// which pairs each summary's median counts (<see cref="CaseSummary.Counted"/>).
    /// </summary>
    public static IReadOnlyList<CaseSummary> Summarize(IReadOnlyList<BenchResult> results, RunStage stage = RunStage.Main, Func<PairedRatio, bool>? counts = null)
    {
        var ofStage = results.Where(r => r.Stage == stage).ToList();
        var paired = ofStage.Where(r => r.PairedWith is not null).ToLookup(r => r.PairedWith!, StringComparer.Ordinal);
        return ofStage.Where(r => !r.IsNative && r.PairedWith is null)
            .GroupBy(r => r.Name, StringComparer.Ordinal)
            .Select(g => new CaseSummary(g.OrderBy(r => r.Repetition).ToList(), paired[g.Key].ToList(), counts))
            .ToList();
    }

    /// <summary>C runs made once for the tables (not paired with a .NET test).</summary>
    public static IEnumerable<BenchResult> NativeOnly(IReadOnlyList<BenchResult> results) =>
        results.Where(r => r.IsNative && r.PairedWith is null && r.Stage == RunStage.Main);
}
