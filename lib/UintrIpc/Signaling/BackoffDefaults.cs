namespace UintrIpc.Signaling;

/// <summary>Default budgets of the backoff idle strategies, chosen from the measured costs in DESIGN.md.</summary>
internal static class BackoffDefaults
{
    /// <summary>10 µs of spinning: below the ~26-50 µs a kernel wake-up costs on our machines, so a busy stream never pays one.</summary>
    public static readonly TimeSpan SpinBudget = TimeSpan.FromMicroseconds(10);

    /// <summary>40 µs of yielding: lets a producer sharing the core run before we commit to a kernel sleep.</summary>
    public static readonly TimeSpan YieldBudget = TimeSpan.FromMicroseconds(40);

    /// <summary>100 ms bound on one park: a lost wake-up (a bug) costs at most this, and an idle consumer wakes 10 times a second.</summary>
    public static readonly TimeSpan ParkTimeout = TimeSpan.FromMilliseconds(100);

    /// <summary>1 ms: the first sleep of <see cref="BackoffIdleStrategy"/> (Thread.Sleep's resolution).</summary>
    public static readonly TimeSpan MinSleep = TimeSpan.FromMilliseconds(1);

    /// <summary>16 ms: the longest sleep of <see cref="BackoffIdleStrategy"/>.</summary>
    public static readonly TimeSpan MaxSleep = TimeSpan.FromMilliseconds(16);
}
