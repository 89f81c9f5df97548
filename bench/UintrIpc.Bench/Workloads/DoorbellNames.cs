namespace UintrIpc.Bench.Workloads;

/// <summary>Short names of the doorbell kinds, as the report and the child arguments spell them.</summary>
internal static class DoorbellNames
{
    public static string Of(DoorbellKind kind) => kind switch
    {
        DoorbellKind.None => "none",
        DoorbellKind.Futex => "futex",
        DoorbellKind.EventFd => "eventfd",
        DoorbellKind.Signal => "signal",
        DoorbellKind.Uintr => "uintr",
        DoorbellKind.UintrSimulated => "uintr-sim",
        _ => kind.ToString().ToLowerInvariant(),
    };

    public static DoorbellKind Parse(string name) =>
        Enum.GetValues<DoorbellKind>().FirstOrDefault(k => Of(k) == name, (DoorbellKind)uint.MaxValue) is var k && k != (DoorbellKind)uint.MaxValue
            ? k : throw new ArgumentException($"Unknown doorbell '{name}'.");
}
