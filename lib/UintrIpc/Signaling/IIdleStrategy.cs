namespace UintrIpc.Signaling;

/// <summary>
/// What a consumer (or any duty-cycle loop) does when a pass found no work: the Aeron/Agrona
/// idle-strategy contract.
/// </summary>
/// <remarks>
/// Two calling patterns:
/// <code>
/// while (running) idle.Idle(DoWork());          // DoWork returns how much it did
///
/// idle.Reset();
/// while (!TryRead(out var message)) idle.Idle(); // wait for one item
/// </code>
/// <see cref="Idle(int)"/> with a positive count resets the strategy, so the next idle spell
/// starts from its cheapest, lowest-latency phase again (forgetting this was Aeron.NET's
/// PR #124 bug). An instance belongs to one thread.
/// </remarks>
internal interface IIdleStrategy
{
    /// <summary>Idles if <paramref name="workCount"/> is 0 or less; resets the strategy if work was done.</summary>
    void Idle(int workCount);

    /// <summary>Idles once (the caller found no work).</summary>
    void Idle();

    /// <summary>Returns to the first phase (call after work was found).</summary>
    void Reset();
}
