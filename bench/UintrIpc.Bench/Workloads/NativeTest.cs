namespace UintrIpc.Bench.Workloads;

/// <summary>
/// One C test as a .NET test's baseline: the name its results carry here, the C program's
/// test name (its --only), and the arguments particular to this setting (capacity, batch,
/// message count), added to the group's.
/// </summary>
internal sealed record NativeTest(string Name, string Selection, IReadOnlyList<string> Args)
{
    /// <summary>A latency test: named as in the C program, no extra arguments.</summary>
    public static NativeTest Plain(string name) => new(name, name, []);
}
