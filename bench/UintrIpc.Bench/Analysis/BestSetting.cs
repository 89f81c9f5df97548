namespace UintrIpc.Bench.Analysis;

/// <summary>The best setting of one ring kind at one message size in a sweep, and the confirmation of that setting against C.</summary>
/// <param name="Kind">spsc-slot, spsc-record, mpsc-slot or mpsc-record (single or batched is part of the setting).</param>
/// <param name="Producers">Producer processes.</param>
/// <param name="MessageSize">Bytes per message.</param>
/// <param name="Sweep">The sweep's summary of the .NET test <see cref="Net"/> picked (its one-pair row).</param>
/// <param name="Confirmed">The confirmation stage's pairs of this kind and size (the picked setting re-run next to its C ring), or null when there are none.</param>
/// <param name="Net">How the .NET setting was picked (<see cref="SettingPick"/>).</param>
/// <param name="Native">How the C ring's own best setting of this kind and size was picked, by the same rule; null without C runs.</param>
internal sealed record BestSetting(string Kind, int Producers, int MessageSize, CaseSummary Sweep, CaseSummary? Confirmed, SettingPick Net, SettingPick? Native)
{
    /// <summary>The ring as the tables name it: "mpsc-slot x2" for two producers.</summary>
    public string Ring => Kind + (Producers > 1 ? $" x{Producers}" : "");

    /// <summary>What the best-setting table shows: the confirmation when one of its pairs completed, otherwise the sweep's row.</summary>
    public CaseSummary Shown => Confirmed is { Ratio: not null } c ? c : Sweep;
}
