namespace UintrIpc.Signaling;

/// <summary>
/// The producer's side of a doorbell. The wake-up protocol calls <see cref="Ring"/> only
/// when the consumer has announced that it sleeps, so a producer pays nothing while the
/// consumer is awake.
/// </summary>
internal abstract class DoorbellSender : IDisposable
{
    /// <summary>The mechanism.</summary>
    public abstract DoorbellKind Kind { get; }

    /// <summary>Wakes the consumer if it is blocked in its receiver (or makes its next wait return at once).</summary>
    public abstract void Ring();

    /// <summary>Releases the doorbell's resources.</summary>
    public void Dispose()
    {
        Dispose(disposing: true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Releases resources; <paramref name="disposing"/> is false from a finalizer.</summary>
    protected virtual void Dispose(bool disposing)
    {
    }
}
