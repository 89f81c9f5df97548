using UintrIpc.Bench.Results;

namespace UintrIpc.Bench.Analysis;

/// <summary>
/// How one side (.NET or C) of one ring kind and size got its best setting. The rule is fixed
/// before any rate is seen and is the same for both sides: the <see cref="Size"/> settings with
/// the highest rate in the sweep (one run each) are the candidates; the pick stage runs each of
/// them once per round; the candidate with the highest median over its rounds is picked. A sweep
/// run never counts in that median (a candidate is there because its sweep run was high, so it
/// would favour whichever side's run hit a fast mode of the host). Without pick rounds (results
/// from before the stage, or --pick-rounds 0) the sweep's fastest run decides, as it did.
/// </summary>
/// <param name="Candidates">Fastest sweep run first.</param>
/// <param name="Picked">The candidate picked.</param>
internal sealed record SettingPick(IReadOnlyList<PickCandidate> Candidates, PickCandidate Picked)
{
    /// <summary>Candidates per side, ring kind and size.</summary>
    public const int Size = 3;

    /// <summary>Whether the pick rests on pick-stage rounds (not only on the sweep's runs).</summary>
    public bool HasRounds => Candidates.Any(c => c.RoundRate is not null);

    /// <summary>The pick among one side's settings of one ring kind and size.</summary>
    /// <param name="sweep">Each setting's test and its sweep run (completed throughput runs only).</param>
    /// <param name="rounds">Pick-stage runs by test name.</param>
    public static SettingPick Of(IEnumerable<(string Name, BenchResult Run)> sweep, ILookup<string, BenchResult> rounds)
    {
        var candidates = sweep
            .OrderByDescending(s => s.Run.Throughput!.MessagesPerSecond).ThenBy(s => s.Name, StringComparer.Ordinal)
            .Take(Size)
            .Select(s => new PickCandidate(s.Name, s.Run, rounds[s.Name].OrderBy(r => r.Repetition).ToList()))
            .ToList();
        var picked = candidates.Where(c => c.RoundRate is not null).OrderByDescending(c => c.RoundRate!.Value.Median).FirstOrDefault()
            ?? candidates[0];
        return new SettingPick(candidates, picked);
    }
}
