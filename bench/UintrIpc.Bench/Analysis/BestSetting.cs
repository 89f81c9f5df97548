namespace UintrIpc.Bench.Analysis;

/// <summary>The best setting of one ring kind at one message size in a sweep, and the confirmation of that setting against C.</summary>
/// <param name="Kind">spsc-slot, spsc-record, mpsc-slot or mpsc-record (single or batched is part of the setting).</param>
/// <param name="Producers">Producer processes.</param>
/// <param name="MessageSize">Bytes per message.</param>
/// <param name="Sweep">The test of this kind and size whose shown row (its run nearest the median) has the highest rate in the sweep.</param>
/// <param name="Confirmed">The confirmation stage's pairs of this kind and size (the sweep's best re-run next to its C ring), or null when there are none.</param>
internal sealed record BestSetting(string Kind, int Producers, int MessageSize, CaseSummary Sweep, CaseSummary? Confirmed)
{
    /// <summary>The ring as the tables name it: "mpsc-slot x2" for two producers.</summary>
    public string Ring => Kind + (Producers > 1 ? $" x{Producers}" : "");

    /// <summary>What the best-setting table shows: the confirmation when one of its pairs completed, otherwise the sweep's row.</summary>
    public CaseSummary Shown => Confirmed is { Ratio: not null } c ? c : Sweep;
}
