using System.Globalization;

namespace UintrIpc.Bench.Analysis;

/// <summary>
/// Whether a confirmation pair's two runs were taken in one mode of the host. The host switches
/// between a fast and a slow mode (the one-line round trip c-spin-cacheline reads about 0.12 or
/// 0.35-0.41 us) for seconds to minutes, and a pair whose .NET run and C run fall in different modes
/// reads 0.3x or 3x whatever the code; so each pair is bracketed by short probes (before, between,
/// after: --mode-probe) and counts only when all of them agree within <see cref="Tolerance"/>. The
/// rule looks at the probes only, never at which side was faster, so it applies to .NET and C alike.
/// </summary>
internal static class HostMode
{
    /// <summary>The largest ratio of a pair's probes (highest p50 / lowest) that still counts as one mode.</summary>
    public const double Tolerance = 1.25;

    /// <summary>True when both runs of the pair were probed and every probe agrees; false when they differ or one failed; null when not probed.</summary>
    public static bool? OneMode(PairedRatio pair)
    {
        if (pair.Net.ModeProbes is not { Count: > 0 } net || pair.Reference.ModeProbes is not { Count: > 0 } c)
        {
            return null;
        }

        var all = net.Concat(c).ToList();
        return all.All(p => p > 0) && all.Max() / all.Min() <= Tolerance;
    }

    /// <summary>Whether any of the summary's pairs carries host-mode probes.</summary>
    public static bool Probed(CaseSummary summary) => summary.Pairs.Any(p => OneMode(p) is not null);

    /// <summary>Whether the confirmation's median counts the pair: unless its probes show two modes (pairs taken without probes all count).</summary>
    public static bool Counts(PairedRatio pair) => OneMode(pair) != false;

    /// <summary>"0.31 (mixed: .NET 118/352, C 352/361 ns)" for a pair not counted, "1.02" otherwise.</summary>
    public static string Describe(PairedRatio pair)
    {
        string ratio = pair.Ratio.ToString("0.00", CultureInfo.InvariantCulture);
        return Counts(pair) ? ratio : $"{ratio} (mixed: .NET {Probes(pair.Net)}, C {Probes(pair.Reference)} ns)";
    }

    private static string Probes(Results.BenchResult run) =>
        string.Join('/', run.ModeProbes!.Select(p => p > 0 ? p.ToString("0", CultureInfo.InvariantCulture) : "failed"));
}
