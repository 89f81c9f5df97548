using UintrIpc.Bench.Results;

namespace UintrIpc.Bench.Analysis;

/// <summary>A setting that may be the best of its side (.NET or C) for one ring kind and size: its sweep run and its pick-stage runs.</summary>
/// <param name="Name">The test (.NET or C) at this setting.</param>
/// <param name="Sweep">Its sweep run (the one its row shows): what made it a candidate.</param>
/// <param name="Rounds">Its runs of the pick stage, one per round, in run order (empty without a pick stage).</param>
internal sealed record PickCandidate(string Name, BenchResult Sweep, IReadOnlyList<BenchResult> Rounds)
{
    /// <summary>Median and range of the rates of its completed pick rounds; null when none completed.</summary>
    public Spread? RoundRate => Spread.Of(Rounds.Where(r => r.Ok && r.Throughput is not null).Select(r => r.Throughput!.MessagesPerSecond));

    /// <summary>The rate a table shows for it: the median of its pick rounds, or its sweep run's without them.</summary>
    public double Rate => RoundRate?.Median ?? Sweep.Throughput!.MessagesPerSecond;
}
