using System.Diagnostics;

namespace UintrIpc.Tests.Rings;

/// <summary>Deadlines for waits in tests, and the stress switch.</summary>
public static class Bounded
{
    /// <summary>UINTRIPC_STRESS=1 makes the concurrency tests run longer.</summary>
    public static bool IsStress => Environment.GetEnvironmentVariable("UINTRIPC_STRESS") == "1";

    /// <summary>Generous: a wait that takes this long is a hang, not a slow machine.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(IsStress ? 300 : 30);

    /// <summary>Runs <paramref name="action"/> on another thread and fails if it does not finish in time.</summary>
    public static void Run(Action action, TimeSpan? timeout = null)
    {
        var task = Task.Factory.StartNew(action, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        Assert.True(task.Wait(timeout ?? Timeout), "The operation did not finish in time: it hangs.");
    }

    /// <summary>Asserts that <paramref name="action"/> throws <typeparamref name="TException"/> promptly (never hangs).</summary>
    public static TException Throws<TException>(Action action) where TException : Exception
    {
        TException? caught = null;
        Run(() => caught = Assert.Throws<TException>(action));
        return caught!;
    }

    /// <summary>Yields (never pure spinning: the machine has 2 cores) until <paramref name="condition"/> holds or the deadline passes.</summary>
    public static void WaitUntil(Func<bool> condition, string what, TimeSpan? timeout = null)
    {
        long deadline = Stopwatch.GetTimestamp() + (long)((timeout ?? Timeout).TotalSeconds * Stopwatch.Frequency);
        var spin = new SpinWait();
        while (!condition())
        {
            if (Stopwatch.GetTimestamp() > deadline)
            {
                Assert.Fail($"Timed out waiting for {what}.");
            }

            spin.SpinOnce(sleep1Threshold: -1);
        }
    }
}

/// <summary>A deadline for loops on worker threads (which report failure instead of asserting).</summary>
public readonly struct Deadline(TimeSpan timeout)
{
    private readonly long _end = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);

    public bool Passed => Stopwatch.GetTimestamp() > _end;

    /// <summary>Backs off once (spin a little, then yield) and throws <see cref="TimeoutException"/> after the deadline.</summary>
    public void Pause(ref SpinWait spin, string what)
    {
        if (Passed)
        {
            throw new TimeoutException($"Timed out: {what}.");
        }

        spin.SpinOnce(sleep1Threshold: -1);
    }
}
