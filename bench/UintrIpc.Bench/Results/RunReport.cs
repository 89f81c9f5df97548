namespace UintrIpc.Bench.Results;

/// <summary>Everything one run produced, as written to results.json.</summary>
internal sealed record RunReport(
    string Mode,
    string Command,
    DateTimeOffset Started,
    DateTimeOffset Finished,
    MachineInfo Machine,
    IReadOnlyList<string> NativeCommands,
    IReadOnlyList<DoorbellInfo> Doorbells,
    IReadOnlyList<BenchResult> Results,
    IReadOnlyList<TargetVerdict> Targets,
    IReadOnlyDictionary<string, string> Settings);

/// <summary>A doorbell kind and whether it works here (from Doorbells.All).</summary>
internal sealed record DoorbellInfo(string Kind, bool Available, string Reason);
