namespace UintrIpc.Bench.Analysis;

/// <summary>Median and range of a few values (ratios of pairs, or headlines of repetitions).</summary>
internal readonly record struct Spread(double Median, double Min, double Max, int Count)
{
    /// <summary>The median (the mean of the two middle values for an even count), min and max; null when empty.</summary>
    public static Spread? Of(IEnumerable<double> values)
    {
        var sorted = values.Where(v => !double.IsNaN(v)).Order().ToList();
        if (sorted.Count == 0)
        {
            return null;
        }

        int n = sorted.Count;
        double median = n % 2 == 1 ? sorted[n / 2] : (sorted[(n / 2) - 1] + sorted[n / 2]) / 2;
        return new Spread(median, sorted[0], sorted[^1], n);
    }
}
