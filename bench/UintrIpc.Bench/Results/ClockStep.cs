using System.Diagnostics;
using UintrIpc.Bench.Workloads;

namespace UintrIpc.Bench.Results;

/// <summary>
/// The step in ns of the clock latency samples are read on (Stopwatch, CLOCK_MONOTONIC). A VM's
/// TSC may advance in coarse steps (on the project's AMD host 26 ticks of 2.6 GHz at once, 10 ns),
/// and CLOCK_MONOTONIC with it: a round trip of about 120 ns then reads as 110, 120 or 130 and a
/// nearest-rank p50 moves in 10 ns steps. <see cref="LatencySummary"/> interpolates within it.
/// </summary>
/// <remarks>
/// Measured as the C baseline's <c>clock_tick_ns</c> (bench/native/src/clock.c): pairs of reads
/// with 0..15 pauses between them give differences over a few hundred ns; a fine clock shows
/// every ns value, a stepped one only multiples of its step (each +-1 ns from rounding). Runs of
/// consecutive values seen are clusters; the step is the median distance between the starts of
/// adjacent clusters, 1 when there are fewer than 3.
/// </remarks>
internal static class ClockStep
{
    private static readonly Lazy<double> s_nanoseconds = new(Measure);

    /// <summary>The clock's step in ns (1 for a clock that resolves every ns), measured once.</summary>
    public static double Nanoseconds => s_nanoseconds.Value;

    private static double Measure()
    {
        const int Pairs = 40_000;
        const int Range = 4096;
        var seen = new int[Range];
        double toNs = 1e9 / Stopwatch.Frequency;
        for (int i = 0; i < Pairs; i++)
        {
            long a = Stopwatch.GetTimestamp();
            for (int k = i & 15; k > 0; k--)
            {
                Spin.Pause();
            }

            long d = (long)Math.Round((Stopwatch.GetTimestamp() - a) * toNs);
            if (d is >= 0 and < Range)
            {
                seen[d]++;
            }
        }

        var gaps = new List<long>();
        long previousStart = -1;
        for (long d = 0; d < Range; d++)
        {
            if (seen[d] == 0 || (d > 0 && seen[d - 1] != 0))
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
