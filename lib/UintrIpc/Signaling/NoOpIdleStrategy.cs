namespace UintrIpc.Signaling;

/// <summary>Does nothing: the loop re-polls at once. Even more aggressive than <see cref="BusySpinIdleStrategy"/>.</summary>
internal sealed class NoOpIdleStrategy : IIdleStrategy
{
    /// <inheritdoc />
    public void Idle(int workCount)
    {
    }

    /// <inheritdoc />
    public void Idle()
    {
    }

    /// <inheritdoc />
    public void Reset()
    {
    }
}
