using SyscallForward.Metrics;

namespace SyscallForward.Server;

/// <summary>What a <see cref="ForwardServer"/>'s RPC layer counted (the meter's uintripc.rpc.server.* instruments).</summary>
/// <param name="SessionsOpened">Clients that completed the handshake.</param>
/// <param name="SessionsClosed">Sessions that ended and were reclaimed.</param>
/// <param name="HandshakesFailed">Connections refused during the handshake.</param>
/// <param name="Requests">Requests answered.</param>
/// <param name="UnknownOpcodes">Requests for an opcode the server does not map (answered -ENOSYS).</param>
/// <param name="BadBlocks">Requests whose data block lay outside the arena (answered -EFAULT).</param>
/// <param name="HandlerFailures">Handlers that threw.</param>
/// <param name="ProtocolViolations">Sessions ended because the client corrupted its rings.</param>
internal readonly record struct ServerCounts(
    long SessionsOpened,
    long SessionsClosed,
    long HandshakesFailed,
    long Requests,
    long UnknownOpcodes,
    long BadBlocks,
    long HandlerFailures,
    long ProtocolViolations)
{
    /// <summary>The counts of the server listening at <paramref name="endpoint"/> in <paramref name="reading"/>.</summary>
    public static ServerCounts Of(IReadOnlyCollection<RpcMeasurement> reading, string endpoint)
    {
        var mine = reading.Where(m => Equals(m.Tags.GetValueOrDefault(RpcMeterReading.EndpointTag), endpoint)).ToList();
        long Total(string instrument) => mine.Where(m => m.Instrument == instrument).Sum(m => m.Value);
        long Errors(string type) => mine.Sum("uintripc.rpc.server.errors", RpcMeterReading.ErrorTypeTag, type);
        return new(
            Total("uintripc.rpc.server.session.opened"), Total("uintripc.rpc.server.session.closed"), Errors("handshake_failed"),
            Total("uintripc.rpc.server.requests"), Errors("unknown_opcode"), Errors("bad_block"), Errors("handler_failure"), Errors("protocol_violation"));
    }
}
