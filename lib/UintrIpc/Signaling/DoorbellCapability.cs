namespace UintrIpc.Signaling;

/// <summary>Whether one doorbell kind works on this machine, and why (not).</summary>
/// <param name="Kind">The doorbell kind.</param>
/// <param name="IsAvailable">Whether it passed its check on this machine.</param>
/// <param name="Reason">What the check found: why it is unavailable, or what was verified.</param>
internal readonly record struct DoorbellCapability(DoorbellKind Kind, bool IsAvailable, string Reason)
{
    /// <summary>The check ran out of time: it says nothing about the machine, and is not kept (<see cref="Doorbells.Check"/>).</summary>
    public bool IsInconclusive { get; init; }

    /// <summary>
    /// The check failed because the native shim (libuintripc.so) could not be loaded: the
    /// application was deployed without it, which says nothing about what this machine can do.
    /// </summary>
    public bool IsShimMissing { get; init; }

    /// <inheritdoc />
    public override string ToString() => $"{Kind}: {(IsAvailable ? "available" : "unavailable")} ({Reason})";
}
