using UintrIpc.Metrics;

namespace UintrIpc.Rpc;

/// <summary>
/// The session with the server ended while a call was outstanding or before it started: the
/// server exited or closed the session (ECONNRESET), shut down (ESHUTDOWN), broke the protocol
/// (EPROTO), or the client was disposed. The call's result is unknown; connect again.
/// </summary>
public sealed class RpcConnectionLostException : UintrIpcException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="errno">ECONNRESET, ESHUTDOWN, EPROTO or ECANCELED.</param>
    /// <param name="reason">What happened.</param>
    public RpcConnectionLostException(int errno, string reason)
        : base("RPC session", errno, reason + " Outstanding calls may or may not have run; connect again (RpcClient.Connect) to continue.")
    {
        ErrorCounts.CountRpcConnectionLost(); // the uintripc.errors instrument
        Reason = reason;
    }

    /// <summary>What happened to the session.</summary>
    public string Reason { get; }
}
