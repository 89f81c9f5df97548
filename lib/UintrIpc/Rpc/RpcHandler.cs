namespace UintrIpc.Rpc;

/// <summary>
/// Serves one opcode: returns the result (0 or more), or -errno. An exception is answered
/// with -errno of a <see cref="UintrIpcException"/>, else -EIO; it never ends the session, and
/// <see cref="RpcServer.HandlerFailed"/> hears of it (log it there: nothing else keeps it).
/// </summary>
/// <param name="request">The request; write output to <see cref="RpcRequest.Output"/> and set <see cref="RpcRequest.OutputLength"/>.</param>
public delegate long RpcHandler(ref RpcRequest request);
