namespace UintrIpc.Bench.Results;

/// <summary>One point of a latency percentile curve.</summary>
internal readonly record struct PercentilePoint(double Percentile, double Nanoseconds)
{
    /// <summary>Percentiles sampled for the curves: dense in the tail, where the "nines" are.</summary>
    public static readonly double[] Grid =
    [
        0, 10, 20, 30, 40, 50, 60, 70, 75, 80, 85, 90, 92.5, 95, 96, 97, 97.5, 98, 98.5, 99,
        99.25, 99.5, 99.75, 99.9, 99.95, 99.99,
    ];
}
