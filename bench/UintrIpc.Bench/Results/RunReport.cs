namespace UintrIpc.Bench.Results;

/// <summary>
/// Everything one run produced, as written to results.json: every measured run (each
/// repetition of each .NET test, each C run paired with it, each C run made for the tables),
/// so that the report can be rebuilt from the file alone (--report-from).
/// </summary>
internal sealed record RunReport(
    string Mode,
    string Command,
    DateTimeOffset Started,
    DateTimeOffset Finished,
    MachineInfo Machine,
    IReadOnlyList<string> NativeCommands,
    IReadOnlyList<DoorbellInfo> Doorbells,
    IReadOnlyList<BenchResult> Results,
    IReadOnlyDictionary<string, string> Settings);

/// <summary>A doorbell kind and whether it works here (from Doorbells.All).</summary>
internal sealed record DoorbellInfo(string Kind, bool Available, string Reason);
