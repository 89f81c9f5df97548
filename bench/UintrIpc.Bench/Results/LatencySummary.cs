namespace UintrIpc.Bench.Results;

/// <summary>Round-trip percentiles in nanoseconds.</summary>
internal sealed record LatencySummary(double Min, double P50, double P90, double P99, double P999, double Max, double Mean)
{
    /// <summary>
    /// Summarises raw samples (Stopwatch ticks) read on a clock that moves in steps of
    /// <see cref="ClockStep.Nanoseconds"/>: min, max and mean as read, the percentiles
    /// interpolated within the step (<see cref="Percentile"/>), as the C baseline computes them.
    /// </summary>
    public static (LatencySummary Summary, IReadOnlyList<PercentilePoint> Curve) FromTicks(ReadOnlySpan<long> ticks)
    {
        if (ticks.IsEmpty)
        {
            return (new LatencySummary(0, 0, 0, 0, 0, 0, 0), [new PercentilePoint(100, 0)]);
        }

        double toNs = 1e9 / System.Diagnostics.Stopwatch.Frequency;
        var ns = new long[ticks.Length];
        double sum = 0;
        for (int i = 0; i < ticks.Length; i++)
        {
            ns[i] = Math.Max(0, (long)Math.Round(ticks[i] * toNs));
            sum += ns[i];
        }

        Array.Sort(ns);
        double step = ClockStep.Nanoseconds;
        var summary = new LatencySummary(
            ns[0], Percentile(ns, 0.50, step), Percentile(ns, 0.90, step), Percentile(ns, 0.99, step),
            Percentile(ns, 0.999, step), ns[^1], sum / ns.Length);
        var curve = new List<PercentilePoint>();
        foreach (double p in PercentilePoint.Grid)
        {
            curve.Add(new PercentilePoint(p, p == 0 ? ns[0] : Percentile(ns, p / 100, step)));
        }

        curve.Add(new PercentilePoint(100, ns[^1]));
        return (summary, curve);
    }

    /// <summary>
    /// Percentile <paramref name="q"/> (0..1) of <paramref name="sorted"/> samples read on a clock
    /// that moves in steps of <paramref name="step"/> ns: as the C baseline's (bench/native/src/stats.c).
    /// </summary>
    /// <remarks>
    /// A sample of true length D reads as the step multiple just below or just above D, the latter
    /// with the probability of D's fraction of a step (the start's phase is random), so the samples
    /// of one step v stand for lengths within v +- step/2: the nearest-rank sample v, moved within
    /// that bin by the share of the bin's samples the rank needs. Without a step (below 2 ns), the
    /// nearest-rank sample itself.
    /// </remarks>
    public static double Percentile(ReadOnlySpan<long> sorted, double q, double step)
    {
        int n = sorted.Length;
        int k = (int)Math.Clamp((long)((q * n) + 0.999999999), 1, n);
        double v = sorted[k - 1];
        if (step < 2)
        {
            return v;
        }

        double lo = v - (step / 2);
        double below = CountBelow(sorted, lo);
        double inBin = CountBelow(sorted, v + (step / 2)) - below;
        return lo + (step * Math.Clamp(((q * n) - below) / inBin, 0, 1));
    }

    private static int CountBelow(ReadOnlySpan<long> sorted, double x)
    {
        int lo = 0, hi = sorted.Length;
        while (lo < hi)
        {
            int mid = lo + ((hi - lo) / 2);
            if (sorted[mid] < x)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }

        return lo;
    }
}
