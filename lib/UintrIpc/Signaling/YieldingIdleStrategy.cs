namespace UintrIpc.Signaling;

/// <summary>
/// Yields the CPU to other runnable threads (sched_yield) on every idle pass: low latency,
/// and it lets a producer on the same core run, but the core stays busy when nothing else runs.
/// </summary>
internal sealed class YieldingIdleStrategy : IIdleStrategy
{
    /// <inheritdoc />
    public void Idle(int workCount)
    {
        if (workCount <= 0)
        {
            Idle();
        }
    }

    /// <inheritdoc />
    public void Idle() => Thread.Yield();

    /// <inheritdoc />
    public void Reset()
    {
    }
}
