namespace UintrIpc.Metrics;

/// <summary>
/// Errors raised in this process, counted where the exception is created: a path that already
/// pays for an exception (and, for a lost peer, a system call or a clock read), never the data
/// path. Process-wide, because the ring that detects a corruption does not know its channel.
/// </summary>
internal static class ErrorCounts
{
    private static long s_peerGone;
    private static long s_ringCorrupted;
    private static long s_rpcConnectionLost;

    internal static long PeerGone => Volatile.Read(ref s_peerGone);

    internal static long RingCorrupted => Volatile.Read(ref s_ringCorrupted);

    internal static long RpcConnectionLost => Volatile.Read(ref s_rpcConnectionLost);

    internal static void CountPeerGone() => Interlocked.Increment(ref s_peerGone);

    internal static void CountRingCorrupted() => Interlocked.Increment(ref s_ringCorrupted);

    internal static void CountRpcConnectionLost() => Interlocked.Increment(ref s_rpcConnectionLost);
}
