namespace UintrIpc.Signaling;

/// <summary>
/// Spins with a pause instruction: the lowest wake-up latency, a core kept at 100%. Use only
/// with a core to spare (never on a 2-core machine shared with the producer).
/// </summary>
internal sealed class BusySpinIdleStrategy : IIdleStrategy
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
    public void Idle() => Thread.SpinWait(1); // one normalised pause: tells the core we spin

    /// <inheritdoc />
    public void Reset()
    {
    }
}
