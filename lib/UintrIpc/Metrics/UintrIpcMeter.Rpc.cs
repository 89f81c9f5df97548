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
                (statistics.HandshakesFailed, [ErrorType("handshake_failed")]),
                (statistics.UnknownOpcodes, [ErrorType("unknown_opcode")]),
                (statistics.BadBlocks, [ErrorType("bad_block")]),
                (statistics.HandlerFailures, [ErrorType("handler_failure")]),
                (statistics.ProtocolViolations, [ErrorType("protocol_violation")]),
            ];
        }), "{error}", "Requests and sessions the server answered with an error or ended (tag error.type).");
        Meter.CreateObservableCounter("uintripc.rpc.client.calls.abandoned", () => _clients.Collect(static c =>
        {
            var statistics = c.Statistics;
            return [(statistics.TimedOut, [ErrorType("timeout")]), (statistics.Cancelled, [ErrorType("cancelled")])];
        }), "{call}", "Calls the client gave up on (tag error.type: timeout or cancelled).");
        Meter.CreateObservableCounter("uintripc.rpc.client.responses.rejected", () => _clients.Collect(static c =>
        {
            var statistics = c.Statistics;
            return
            [
                (statistics.LateResponses, [ErrorType("late")]),
                (statistics.UnknownIds, [ErrorType("unknown_id")]),
                (statistics.StaleIds, [ErrorType("stale_id")]),
                (statistics.DuplicateIds, [ErrorType("duplicate_id")]),
                (statistics.InvalidResponses, [ErrorType("invalid")]),
            ];
        }), "{response}", "Responses the client set aside: late, or with an id or output no call allows (tag error.type).");
        // The session's wait-block counters (shared memory), both sides of each session, reported once per process.
        CreateSessionCounter("uintripc.rpc.session.sleeps", static w => (w.ServerSleeps, w.ClientSleeps), "{sleep}",
            "Times the server's session thread (waiting for requests) or a caller (waiting for its answer) blocked in its doorbell (tag uintripc.rpc.side).");
        CreateSessionCounter("uintripc.rpc.session.wakeups", static w => (w.ServerWakeups, w.ClientWakeups), "{wakeup}",
            "Doorbell rings that woke the server's session thread or a caller (tag uintripc.rpc.side).");
        CreateSessionCounter("uintripc.rpc.session.wakeups.suppressed", static w => (w.ServerWakeupsSuppressed, w.ClientWakeupsSuppressed), "{wakeup}",
            "Wake checks that found that side awake and rang nothing (tag uintripc.rpc.side).");
        CreateSessionCounter("uintripc.rpc.session.timeouts", static w => (w.ServerTimeouts, w.ClientTimeouts), "{timeout}",
            "Sleeps of either side that ended at their time limit (tag uintripc.rpc.side).");
    }

    /// <summary>
    /// A session counter: a client of this process reports its session, a server the sessions of
    /// clients in other processes (a client here reports its own), so a process reports each session once.
    /// </summary>
    private void CreateSessionCounter(string name, Func<RpcWakeStatistics, (long Server, long Client)> select, string unit, string description)
        => Meter.CreateObservableCounter(name, () =>
        {
            var measurements = _clients.Collect(c => BothSides(select(c.WakeStatistics)));
            measurements.AddRange(_servers.Collect(s => s.Sessions
                .Where(static session => session.Peer.Pid != Environment.ProcessId)
                .SelectMany(session => BothSides(select(session.WakeStatistics), Tag(RpcSessionTag, (long)session.Id)))
                .ToList()));
            return measurements;
        }, unit, description);

    /// <summary>The two sides' values, tagged with their side (and the session, when the source's tags lack it).</summary>
    private static (long, KeyValuePair<string, object?>[]?)[] BothSides((long Server, long Client) values, params KeyValuePair<string, object?>[] session)
        => [(values.Server, [.. session, Side("server")]), (values.Client, [.. session, Side("client")])];

    private static KeyValuePair<string, object?> Side(string value) => Tag(RpcSideTag, value);
}
