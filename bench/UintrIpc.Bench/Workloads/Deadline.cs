using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace UintrIpc.Bench.Workloads;

/// <summary>An absolute time limit in Stopwatch ticks: every loop of the harness checks one, so a bug costs a timeout, never a hang.</summary>
internal readonly struct Deadline
{
    private readonly long _end;

    public Deadline(TimeSpan budget) => _end = Stopwatch.GetTimestamp() + (long)(budget.TotalSeconds * Stopwatch.Frequency);

    private Deadline(long end) => _end = end;

    public static Deadline FromTicks(long end) => new(end);

    public long EndTicks => _end;

    public bool HasPassed => Stopwatch.GetTimestamp() >= _end;

    public TimeSpan Remaining => TimeSpan.FromSeconds(Math.Max(0, _end - Stopwatch.GetTimestamp()) / (double)Stopwatch.Frequency);

    /// <summary>Throws <see cref="TimeoutException"/> once the deadline has passed.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void ThrowIfPassed(string waitingFor)
    {
        if (Stopwatch.GetTimestamp() >= _end)
        {
            Throw(waitingFor);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Throw(string waitingFor) => throw new TimeoutException($"timed out waiting for {waitingFor}");
}
