using UintrIpc.Bench.Cli;
using UintrIpc.Bench.Processes;

namespace UintrIpc.Bench.Workloads;

/// <summary>What a running case needs from the harness: options, its deadline, unique names, child arguments.</summary>
internal sealed class CaseContext
{
    private static int s_counter;

    public CaseContext(BenchOptions options)
    {
        Options = options;
        Deadline = new Deadline(options.Timeout);
    }

    public BenchOptions Options { get; }

    /// <summary>The C floor runs to interleave with the measurement in segments (spinning round trips with --floor-segments), or null.</summary>
    public Latency.FloorSegments? Floor { get; init; }

    /// <summary>The case's own time limit; children get the same budget plus a little.</summary>
    public Deadline Deadline { get; }

    /// <summary>How long a starting child may go without progress (output or CPU time) before it reports READY (<see cref="ChildProcess.WaitForStart"/>).</summary>
    public TimeSpan SetupTimeout => TimeSpan.FromSeconds(Math.Min(30, Options.Timeout.TotalSeconds));

    /// <summary>A name (for abstract Unix sockets) no other case or run uses.</summary>
    public static string NewUniqueName() => $"uintripc-bench-{Environment.ProcessId}-{Interlocked.Increment(ref s_counter)}";

    /// <summary>Child arguments for <paramref name="role"/>, with the deadline and pinning set.</summary>
    public ChildArgs ChildArgs(string role, int cpu = 1)
    {
        var args = new ChildArgs(role).Set("deadline-ms", (long)Options.Timeout.TotalMilliseconds + 2000);
        if (Options.Pin)
        {
            args.Set("cpu", cpu % Environment.ProcessorCount);
        }

        return args;
    }
}
