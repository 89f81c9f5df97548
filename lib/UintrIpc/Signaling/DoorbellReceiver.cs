namespace UintrIpc.Signaling;

/// <summary>
/// The consumer's side of a doorbell: where a consumer that found nothing to do blocks
/// until a producer rings, or until a timeout passes.
/// </summary>
/// <remarks>
/// Calling pattern (the wake-up protocol, see <c>WaitBlock</c>):
/// <code>
/// uint token = receiver.PrepareToWait();   // before announcing the sleep
/// announce sleep; full fence; re-check the ring;
/// if still empty: receiver.Wait(token, timeout);
/// </code>
/// A doorbell coalesces: one wake-up may cover many rings. <see cref="Wait"/> may return
/// true spuriously; callers always re-check the ring. Implementations are used by one
/// consumer thread at a time.
/// </remarks>
internal abstract class DoorbellReceiver : IDisposable
{
    /// <summary>The mechanism.</summary>
    public abstract DoorbellKind Kind { get; }

    /// <summary>
    /// Captures the doorbell's state before the consumer announces that it sleeps, so that
    /// a ring between the announcement and <see cref="Wait"/> is not lost (for a futex this
    /// is the current value of the wake word). Default: 0.
    /// </summary>
    public virtual uint PrepareToWait() => 0;

    /// <summary>
    /// Blocks until the doorbell rings (true, possibly spuriously) or <paramref name="timeout"/>
    /// passes (false). Never blocks longer than the timeout.
    /// </summary>
    public abstract bool Wait(uint token, TimeSpan timeout);

    /// <summary>
    /// The wait block a receiver is bound to (the futex word, the published consumer thread),
    /// or null for receivers that work with any. <see cref="WaitBlock.Park{TProbe}"/> refuses a
    /// receiver bound to another instance.
    /// </summary>
    internal virtual WaitBlock? BoundWaitBlock => null;

    /// <summary>Throws <see cref="InvalidOperationException"/> on a thread that may not wait on or dispose this receiver (thread-bound kinds); nothing otherwise.</summary>
    internal virtual void ThrowIfForeignThread()
    {
    }

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
