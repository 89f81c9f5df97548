namespace UintrIpc.Signaling;

/// <summary>
/// Sleeps for a fixed period on every idle pass: cheap on CPU, but adds up to the period to
/// the latency (Thread.Sleep's resolution is 1 ms on Linux). Prefer
/// <see cref="BackoffIdleStrategy{TProbe}"/>, which blocks in a doorbell and wakes at once.
/// </summary>
internal sealed class SleepingIdleStrategy : IIdleStrategy
{
    /// <summary>Creates a strategy sleeping <paramref name="period"/> per idle pass.</summary>
    /// <param name="period">How long to sleep; zero yields the rest of the time slice.</param>
    public SleepingIdleStrategy(TimeSpan period)
    {
        WaitDeadline.Validate(period);
        Period = period;
    }

    /// <summary>The sleep per idle pass.</summary>
    public TimeSpan Period { get; }

    /// <inheritdoc />
    public void Idle(int workCount)
    {
        if (workCount <= 0)
        {
            Idle();
        }
    }

    /// <inheritdoc />
    public void Idle() => Thread.Sleep(Period);

    /// <inheritdoc />
    public void Reset()
    {
    }
}
