using HdrHistogram;

namespace UintrIpc.Bench.Results;

/// <summary>Round-trip percentiles in nanoseconds.</summary>
internal sealed record LatencySummary(double Min, double P50, double P90, double P99, double P999, double Max, double Mean)
{
    /// <summary>Highest value the histograms track: 60 s in ns (anything above is clamped, and the test would have timed out).</summary>
    public const long HighestTrackable = 60_000_000_000L;

    /// <summary>Records raw samples (Stopwatch ticks) into an HdrHistogram (3 significant digits) and summarises them.</summary>
    public static (LatencySummary Summary, IReadOnlyList<PercentilePoint> Curve) FromTicks(ReadOnlySpan<long> ticks)
    {
        var histogram = new LongHistogram(HighestTrackable, 3);
        double toNs = 1e9 / System.Diagnostics.Stopwatch.Frequency;
        foreach (long t in ticks)
        {
            histogram.RecordValue(Math.Clamp((long)Math.Round(t * toNs), 1, HighestTrackable));
        }

        return (FromHistogram(histogram), CurveOf(histogram));
    }

    public static LatencySummary FromHistogram(HistogramBase h) => new(
        h.GetValueAtPercentile(0),
        h.GetValueAtPercentile(50),
        h.GetValueAtPercentile(90),
        h.GetValueAtPercentile(99),
        h.GetValueAtPercentile(99.9),
        h.GetMaxValue(),
        h.GetMean());

    /// <summary>The percentile curve at the points the plots use (0 to 99.99 and the max).</summary>
    public static IReadOnlyList<PercentilePoint> CurveOf(HistogramBase h)
    {
        var points = new List<PercentilePoint>();
        foreach (double p in PercentilePoint.Grid)
        {
            points.Add(new PercentilePoint(p, h.GetValueAtPercentile(p)));
        }

        points.Add(new PercentilePoint(100, h.GetMaxValue()));
        return points;
    }
}
