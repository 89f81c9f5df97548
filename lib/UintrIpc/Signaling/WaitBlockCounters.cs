namespace UintrIpc.Signaling;

/// <summary>A snapshot of the counters of a wait block (each read with acquire semantics, not as one atomic set).</summary>
/// <param name="Sleeps">Times the consumer blocked in its doorbell.</param>
/// <param name="Timeouts">Blocking waits that ended by timeout.</param>
/// <param name="WakeupsSeen">Blocking waits that ended by a wake-up (possibly spurious).</param>
/// <param name="WakeupsSent">Times a producer rang the doorbell.</param>
/// <param name="WakeupsSuppressed">Publishes that found the consumer awake (or another producer ringing) and rang nothing. With several producers a producer counts here first and moves the count to <paramref name="WakeupsSent"/> when it rings, so while one is ringing this may be one too high; exact once producers are quiet.</param>
internal readonly record struct WaitBlockCounters(ulong Sleeps, ulong Timeouts, ulong WakeupsSeen, ulong WakeupsSent, ulong WakeupsSuppressed);
