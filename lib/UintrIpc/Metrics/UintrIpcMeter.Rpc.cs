using System.Diagnostics.Metrics;
using UintrIpc.Bootstrap;
using UintrIpc.Rpc;

namespace UintrIpc.Metrics;

// The RPC instruments: observable counters over the statistics servers and clients already keep
// (counted where a request batch is answered, or where a call fails), read only on collection.
internal sealed partial class UintrIpcMeter
{
    internal const string RpcEndpointTag = "uintripc.rpc.endpoint";
    internal const string RpcSessionTag = "uintripc.rpc.session.id";

    private readonly WeakSources<RpcServer> _servers = new(static s => s.IsDisposed);
    private readonly WeakSources<RpcClient> _clients = new(static c => c.IsDisposed);

    /// <summary>Reports a started server until it is disposed or collected.</summary>
    internal void Add(RpcServer server, BootstrapEndpoint endpoint) => _servers.Add(server, Tag(RpcEndpointTag, endpoint.ToString()));

    /// <summary>Reports a connected client until it is disposed or collected.</summary>
    internal void Add(RpcClient client, BootstrapEndpoint endpoint)
        => _clients.Add(client, Tag(RpcEndpointTag, endpoint.ToString()), Tag(RpcSessionTag, (long)client.SessionId));

    private static KeyValuePair<string, object?> ErrorType(string value) => Tag(ErrorTypeTag, value);

    private static KeyValuePair<string, object?> Tag(string key, object value) => new(key, value);

    private void CreateRpcInstruments()
    {
        Meter.CreateObservableCounter("uintripc.rpc.server.requests", () => _servers.Collect(static s => s.Statistics.Requests), "{request}", "Requests the server answered.");
        Meter.CreateObservableUpDownCounter("uintripc.rpc.server.sessions", () => _servers.Collect(static s => s.Statistics.SessionsOpened - s.Statistics.SessionsClosed), "{session}", "Sessions open now.");
        Meter.CreateObservableCounter("uintripc.rpc.server.errors", () => _servers.Collect(static s =>
        {
            var statistics = s.Statistics;
            return
            [
                (statistics.HandshakesFailed, ErrorType("handshake_failed")),
                (statistics.UnknownOpcodes, ErrorType("unknown_opcode")),
                (statistics.BadBlocks, ErrorType("bad_block")),
                (statistics.HandlerFailures, ErrorType("handler_failure")),
                (statistics.ProtocolViolations, ErrorType("protocol_violation")),
            ];
        }), "{error}", "Requests and sessions the server answered with an error or ended (tag error.type).");
        Meter.CreateObservableCounter("uintripc.rpc.client.calls.abandoned", () => _clients.Collect(static c =>
        {
            var statistics = c.Statistics;
            return [(statistics.TimedOut, ErrorType("timeout")), (statistics.Cancelled, ErrorType("cancelled"))];
        }), "{call}", "Calls the client gave up on (tag error.type: timeout or cancelled).");
        Meter.CreateObservableCounter("uintripc.rpc.client.responses.rejected", () => _clients.Collect(static c =>
        {
            var statistics = c.Statistics;
            return
            [
                (statistics.LateResponses, ErrorType("late")),
                (statistics.UnknownIds, ErrorType("unknown_id")),
                (statistics.StaleIds, ErrorType("stale_id")),
                (statistics.DuplicateIds, ErrorType("duplicate_id")),
                (statistics.InvalidResponses, ErrorType("invalid")),
            ];
        }), "{response}", "Responses the client set aside: late, or with an id or output no call allows (tag error.type).");
    }
}
