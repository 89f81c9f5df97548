namespace UintrIpc.Rpc;

/// <summary>A session opened or closed.</summary>
/// <param name="session">The session.</param>
/// <param name="reason">Why it closed (null when it opened).</param>
public sealed class RpcSessionEventArgs(RpcSession session, string? reason) : EventArgs
{
    /// <summary>The session.</summary>
    public RpcSession Session { get; } = session;

    /// <summary>Why the session ended: the client disconnected or died, the server stopped, or the client broke the protocol; null for an opened session.</summary>
    public string? Reason { get; } = reason;
}
