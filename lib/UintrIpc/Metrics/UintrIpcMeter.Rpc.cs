using System.Diagnostics.Metrics;
using UintrIpc.Rpc;

namespace UintrIpc.Metrics;

// The RPC instruments: observable counters over the statistics servers and clients already keep
// (counted where a request batch is answered, or where a call fails), read only on collection.
internal sealed partial class UintrIpcMeter
{
    internal const string RpcEndpointTag = "uintripc.rpc.endpoint";
    internal const string RpcSessionTag = "uintripc.rpc.session.id";
    internal const string RpcSideTag = "uintripc.rpc.side";

    private readonly WeakSources<RpcServer> _servers = new(static s => s.IsDisposed);
    private readonly WeakSources<RpcClient> _clients = new(static c => c.IsDisposed);

    /// <summary>Reports a started server until it is disposed or collected.</summary>
    internal void Add(RpcServer server, string endpoint) => _servers.Add(server, Tag(RpcEndpointTag, endpoint));

    /// <summary>Reports a connected client until it is disposed or collected.</summary>
    internal void Add(RpcClient client, string endpoint)
        => _clients.Add(client, Tag(RpcEndpointTag, endpoint), Tag(RpcSessionTag, (long)client.SessionId));

    private static KeyValuePair<string, object?> ErrorType(string value) => Tag(ErrorTypeTag, value);

    private static KeyValuePair<string, object?> Tag(string key, object value) => new(key, value);

    private void CreateRpcInstruments()
    {
        Meter.CreateObservableCounter("uintripc.rpc.server.requests", () => _servers.Collect(static s => s.Statistics.Requests), "{request}", "Requests the server answered.");
        Meter.CreateObservableCounter("uintripc.rpc.server.session.opened", () => _servers.Collect(static s => s.Statistics.SessionsOpened), "{session}", "Clients that completed the handshake.");
        Meter.CreateObservableCounter("uintripc.rpc.server.session.closed", () => _servers.Collect(static s => s.Statistics.SessionsClosed), "{session}", "Sessions that ended and were reclaimed.");
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
        // The session's wait-block counters (shared memory), reported by the client for both sides.
        Meter.CreateObservableCounter("uintripc.rpc.session.sleeps", () => _clients.Collect(static c =>
        {
            var wake = c.WakeStatistics;
            return [(wake.ServerSleeps, Side("server")), (wake.ClientSleeps, Side("client"))];
        }), "{sleep}", "Times the server's session thread (waiting for requests) or a caller (waiting for its answer) blocked in its doorbell (tag uintripc.rpc.side).");
        Meter.CreateObservableCounter("uintripc.rpc.session.wakeups", () => _clients.Collect(static c =>
        {
            var wake = c.WakeStatistics;
            return [(wake.ServerWakeups, Side("server")), (wake.ClientWakeups, Side("client"))];
        }), "{wakeup}", "Doorbell rings that woke the server's session thread or a caller (tag uintripc.rpc.side).");
        Meter.CreateObservableCounter("uintripc.rpc.session.timeouts", () => _clients.Collect(static c =>
        {
            var wake = c.WakeStatistics;
            return [(wake.ServerTimeouts, Side("server")), (wake.ClientTimeouts, Side("client"))];
        }), "{timeout}", "Sleeps of either side that ended at their time limit (tag uintripc.rpc.side).");
    }

    private static KeyValuePair<string, object?> Side(string value) => Tag(RpcSideTag, value);
}
