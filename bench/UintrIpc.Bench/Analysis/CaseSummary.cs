using UintrIpc.Bench.Results;

namespace UintrIpc.Bench.Analysis;

/// <summary>
/// Every repetition of one .NET test and its pairs with the C runs made next to them. The
/// row shown for the test is one real run (<see cref="Row"/>): the repetition whose ratio to
/// the baseline is nearest the median ratio (or, without a baseline, whose headline is nearest
/// the median headline), so every figure of the row comes from that run; the ratio column
/// shows the median of the per-pair ratios with their range.
/// </summary>
internal sealed class CaseSummary
{
    private readonly Dictionary<string, IReadOnlyList<PairedRatio>> _pairs;

    /// <param name="counts">Which pairs the median counts (all when null, or when it counts none; see <see cref="Counted"/>).</param>
    public CaseSummary(IReadOnlyList<BenchResult> runs, IReadOnlyList<BenchResult> pairedNative, Func<PairedRatio, bool>? counts = null)
    {
        Runs = runs;
        PairedNative = pairedNative;
        var first = runs[0];
        Name = first.Name;
        Baseline = first.Baseline;
        _pairs = pairedNative.GroupBy(c => c.Name).ToDictionary(g => g.Key, g => (IReadOnlyList<PairedRatio>)Pair(runs, g), StringComparer.Ordinal);
        Pairs = Baseline is { } b && _pairs.TryGetValue(b, out var p) ? p : [];
        var counted = counts is null ? Pairs : Pairs.Where(counts).ToList();
        Counted = counted.Count > 0 ? counted : Pairs;
        Ratio = Spread.Of(Counted.Select(x => x.Ratio));
        var ok = runs.Where(r => r.Ok && r.Headline is not null).ToList();
        if (Ratio is { } spread)
        {
            Chosen = Counted.OrderBy(x => Math.Abs(x.Ratio - spread.Median)).ThenBy(x => x.Ratio).First();
            Row = Chosen.Net;
        }
        else if (ok.Count > 0)
        {
            double median = Spread.Of(ok.Select(r => r.Headline!.Value))!.Value.Median;
            Row = ok.OrderBy(r => Math.Abs(r.Headline!.Value - median)).ThenBy(r => r.Headline).First();
        }
        else
        {
            Row = runs[^1];
        }

        Headline = Spread.Of(ok.Select(r => r.Headline!.Value));
    }

    public string Name { get; }

    /// <summary>Every repetition, in run order.</summary>
    public IReadOnlyList<BenchResult> Runs { get; }

    /// <summary>The run the row shows.</summary>
    public BenchResult Row { get; }

    public string? Baseline { get; }

    /// <summary>Every C run made next to a repetition (also failed ones).</summary>
    public IReadOnlyList<BenchResult> PairedNative { get; }

    /// <summary>The pairs with <see cref="Baseline"/>, in run order.</summary>
    public IReadOnlyList<PairedRatio> Pairs { get; }

    /// <summary>
    /// The pairs <see cref="Ratio"/> is over, in run order: those the summary's rule counts (the
    /// confirmation's: one host mode on both sides, Analysis.HostMode), or all when it counts none.
    /// </summary>
    public IReadOnlyList<PairedRatio> Counted { get; }

    /// <summary>The pair whose .NET run is <see cref="Row"/> (null without a baseline).</summary>
    public PairedRatio? Chosen { get; }

    /// <summary>Median and range of the per-pair ratios to <see cref="Baseline"/> (of the <see cref="Counted"/> pairs).</summary>
    public Spread? Ratio { get; }

    /// <summary>Median and range of the headlines of the repetitions.</summary>
    public Spread? Headline { get; }

    /// <summary>The pairs with another C test run next to each repetition (a target's second reference).</summary>
    public IReadOnlyList<PairedRatio> PairsWith(string reference) => _pairs.TryGetValue(reference, out var p) ? p : [];

    private static List<PairedRatio> Pair(IReadOnlyList<BenchResult> runs, IEnumerable<BenchResult> native)
    {
        var list = new List<PairedRatio>();
        foreach (var c in native)
        {
            var net = runs.FirstOrDefault(r => r.Repetition == c.Repetition);
            if (net is not null && Ratios.Of(net, c) is { } ratio)
            {
                list.Add(new PairedRatio(c.Repetition, net, c, ratio));
            }
        }

        return list;
    }
}
