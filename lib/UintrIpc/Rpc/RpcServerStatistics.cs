namespace UintrIpc.Rpc;

/// <summary>Counters of an <see cref="RpcServer"/> since it started.</summary>
/// <param name="SessionsOpened">Clients that completed the handshake.</param>
/// <param name="SessionsClosed">Sessions that ended (and were reclaimed).</param>
/// <param name="HandshakesFailed">Connections that sent no valid hello (also none within <see cref="RpcServerOptions.HelloTimeout"/>, or hung up first), or asked for what the server does not offer.</param>
/// <param name="Requests">Requests answered.</param>
/// <param name="UnknownOpcodes">Requests answered with ENOSYS.</param>
/// <param name="BadBlocks">Requests whose data block was outside the arena (answered with EFAULT).</param>
/// <param name="HandlerFailures">Handlers that threw (answered with their errno, or EIO).</param>
/// <param name="ProtocolViolations">Sessions ended because the client corrupted its rings.</param>
internal readonly record struct RpcServerStatistics(
    long SessionsOpened,
    long SessionsClosed,
    long HandshakesFailed,
    long Requests,
    long UnknownOpcodes,
    long BadBlocks,
    long HandlerFailures,
    long ProtocolViolations);
