namespace UintrIpc.Signaling;

/// <summary>Whether one doorbell kind works on this machine, and why (not).</summary>
/// <param name="Kind">The doorbell kind.</param>
/// <param name="IsAvailable">Whether it passed its check on this machine.</param>
/// <param name="Reason">What the check found: why it is unavailable, or what was verified.</param>
internal readonly record struct DoorbellCapability(DoorbellKind Kind, bool IsAvailable, string Reason)
{
    /// <inheritdoc />
    public override string ToString() => $"{Kind}: {(IsAvailable ? "available" : "unavailable")} ({Reason})";
}
