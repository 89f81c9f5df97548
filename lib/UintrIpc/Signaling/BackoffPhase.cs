namespace UintrIpc.Signaling;

/// <summary>The phase of a backoff idle strategy.</summary>
internal enum BackoffPhase
{
    /// <summary>Work was found on the last pass (or the strategy was reset).</summary>
    NotIdle = 0,
    /// <summary>Spinning with pause instructions, within the spin budget.</summary>
    Spinning = 1,
    /// <summary>Yielding the CPU, within the yield budget.</summary>
    Yielding = 2,
    /// <summary>Parked: blocked in a doorbell (or sleeping) until woken or a bounded timeout.</summary>
    Parking = 3,
}
