namespace UintrIpc.Signaling;

/// <summary>No doorbell: <see cref="Ring"/> does nothing; the consumer finds work by polling.</summary>
internal sealed class NoDoorbellSender : DoorbellSender
{
    /// <inheritdoc />
    public override DoorbellKind Kind => DoorbellKind.None;

    /// <inheritdoc />
    public override void Ring()
    {
    }
}
