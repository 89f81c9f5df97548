using UintrIpc.Signaling;

namespace UintrIpc.Rpc;

/// <summary>
/// How often each side of an RPC session slept in its doorbell and was woken: the counters of
/// the session's two wait blocks (uintripc_rpc.h section 5), since the session opened. A
/// wake-up is a system call for the side that rings and tens of microseconds for the side that
/// sleeps, so wake-ups per call tell where a call's time goes. The counters live in shared
/// memory: a misbehaving peer can falsify them (they are diagnostics, never used for decisions).
/// </summary>
/// <param name="ServerSleeps">Times the server's session thread blocked in its doorbell, waiting for requests.</param>
/// <param name="ServerWakeups">Doorbell rings that woke it (from the client's callers, and the server's own workers handing back results).</param>
/// <param name="ServerTimeouts">Its sleeps that ended at their time limit instead.</param>
/// <param name="ClientSleeps">Times a caller of the client blocked in its doorbell, waiting for responses.</param>
/// <param name="ClientWakeups">Doorbell rings that woke a caller (from the server).</param>
/// <param name="ClientTimeouts">Callers' sleeps that ended at their time limit instead.</param>
/// <param name="ServerWakeupsSuppressed">Wake checks for the server's session thread that found it awake (no system call): requests and handed-back results.</param>
/// <param name="ClientWakeupsSuppressed">Wake checks for the callers that found them awake (no system call): response batches.</param>
internal readonly record struct RpcWakeStatistics(
    long ServerSleeps,
    long ServerWakeups,
    long ServerTimeouts,
    long ClientSleeps,
    long ClientWakeups,
    long ClientTimeouts,
    long ServerWakeupsSuppressed,
    long ClientWakeupsSuppressed)
{
    /// <summary>The activity between <paramref name="earlier"/> and this reading (each counter's difference).</summary>
    public RpcWakeStatistics Since(RpcWakeStatistics earlier) => new(
        ServerSleeps - earlier.ServerSleeps, ServerWakeups - earlier.ServerWakeups, ServerTimeouts - earlier.ServerTimeouts,
        ClientSleeps - earlier.ClientSleeps, ClientWakeups - earlier.ClientWakeups, ClientTimeouts - earlier.ClientTimeouts,
        ServerWakeupsSuppressed - earlier.ServerWakeupsSuppressed, ClientWakeupsSuppressed - earlier.ClientWakeupsSuppressed);

    /// <summary>Reads both wait blocks (each counter with acquire; the caller keeps the region mapped).</summary>
    internal static RpcWakeStatistics Read(WaitBlock server, WaitBlock client)
    {
        WaitBlockCounters s = server.ReadCounters(), c = client.ReadCounters();
        return new((long)s.Sleeps, (long)s.WakeupsSent, (long)s.Timeouts, (long)c.Sleeps, (long)c.WakeupsSent, (long)c.Timeouts,
            (long)s.WakeupsSuppressed, (long)c.WakeupsSuppressed);
    }
}
