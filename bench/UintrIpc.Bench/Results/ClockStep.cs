using System.Diagnostics;

namespace UintrIpc.Bench.Results;

/// <summary>
/// The step in ns of the clock latency samples are read on (Stopwatch, CLOCK_MONOTONIC). A VM's
/// TSC may advance in coarse steps (on the project's AMD host 26 ticks of 2.6 GHz at once, 10 ns),
/// and CLOCK_MONOTONIC with it: a round trip of about 120 ns then reads as 110, 120 or 130 and a
/// nearest-rank p50 moves in 10 ns steps. <see cref="LatencySummary"/> interpolates within it.
/// </summary>
/// <remarks>
/// Measured as the C baseline's <c>clock_tick_ns</c> (bench/native/src/clock.c): pairs of reads
/// with 0..255 dependent adds between them (about 0.3 ns each) give differences over a few hundred
/// ns, read by <see cref="Of"/>. Not pauses: one takes 25 ns on the AMD host (about 40 on recent
/// Intel), so on a fine clock the differences fell in narrow clusters that far apart and read as a
/// step of that length.
/// </remarks>
internal static class ClockStep
{
    /// <summary>The longest difference counted, in ns (longer ones are preemptions).</summary>
    public const int Range = 4096;

    private static readonly Lazy<double> s_nanoseconds = new(Measure);
    private static ulong s_delay;

    /// <summary>The clock's step in ns (1 for a clock that resolves every ns), measured once.</summary>
    public static double Nanoseconds => s_nanoseconds.Value;

    private static double Measure()
    {
        const int Pairs = 40_000;
        var seen = new int[Range];
        double toNs = 1e9 / Stopwatch.Frequency;
        ulong delay = 1;
        for (int i = 0; i < Pairs; i++)
        {
            long a = Stopwatch.GetTimestamp();
            for (int k = i & 255; k > 0; k--)
            {
                delay = (delay * 3) + 1; // dependent: one add per iteration, as the C baseline's
            }

            long d = (long)Math.Round((Stopwatch.GetTimestamp() - a) * toNs);
            if (d is >= 0 and < Range)
            {
                seen[d]++;
            }
        }

        s_delay = delay; // used: the loop stays
        return Of(seen);
    }

    /// <summary>
    /// The step of a clock from a histogram of differences between pairs of its reads
    /// (<paramref name="seen"/>[d]: how many pairs read d ns apart), as the C baseline's
    /// <c>clock_step_of</c>: values seen by fewer than 1 in 4096 pairs do not count (preempted
    /// pairs, scattered one by one: taken as clusters they made a fine clock read as a step of 100
    /// ns and more); runs of consecutive values seen are clusters; the step is the median distance
    /// between the starts of adjacent clusters, 1 when there are fewer than 3.
    /// </summary>
    public static double Of(ReadOnlySpan<int> seen)
    {
        long pairs = 0;
        foreach (int n in seen)
        {
            pairs += n;
        }

        long least = Math.Max(2, pairs / 4096); // a value seen less often is a stretched pair
        var gaps = new List<long>();
        long previousStart = -1;
        for (int d = 0; d < seen.Length; d++)
        {
            if (seen[d] < least || (d > 0 && seen[d - 1] >= least))
            {
                continue; // not the start of a cluster
            }

            if (previousStart >= 0)
            {
                gaps.Add(d - previousStart);
            }

            previousStart = d;
        }

        if (gaps.Count < 2)
        {
            return 1;
        }

        gaps.Sort();
        return gaps[gaps.Count / 2];
    }
}
