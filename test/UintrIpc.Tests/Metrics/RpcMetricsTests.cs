using UintrIpc.Bootstrap;
using UintrIpc.Channels;
using UintrIpc.Rpc;
using UintrIpc.TestPeer.Commands;
using UintrIpc.Tests.Bootstrap;
using UintrIpc.Tests.Infrastructure;
using UintrIpc.Tests.Signaling;

namespace UintrIpc.Tests.Metrics;

/// <summary>
/// The RPC instruments after a known workload (server and client in this process, meeting
/// through the bootstrap socket and the region): requests, sessions, errors by type, calls
/// abandoned and responses set aside; and a server whose clients are other processes, which
/// reports each session's wake-up counters itself.
/// </summary>
[Collection(CrossProcessCollection.Name)]
public sealed partial class RpcMetricsTests(ITestOutputHelper output)
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public void Server_and_client_report_requests_sessions_and_errors_by_type()
    {
        using var factory = new TestMeterFactory();
        using var listener = new InstrumentReader(i => i.Meter.Scope == factory);
        var endpoint = SocketNames.NewAbstract("rpc-metrics");
        string ep = endpoint;
        using var server = RpcTestOps.CreateServer(new RpcServerOptions { WorkerThreads = 2, Wait = new ChannelWaitOptions { MeterFactory = factory } });
        server.Start(endpoint);
        var client = RpcClient.Connect(endpoint, new RpcClientOptions
        {
            Doorbell = DoorbellKind.Futex, Wait = new ChannelWaitOptions { MeterFactory = factory, MaxParkTime = TimeSpan.FromMilliseconds(20) },
        });
        try
        {
            for (int i = 0; i < 3; i++)
            {
                Assert.Equal(i + 1, client.Call(RpcTestOps.Add, new RpcArgs(i, 1), s_timeout).Value);
            }

            Assert.True(client.Call(999, default, s_timeout).IsError); // ENOSYS: unknown_opcode
            Assert.True(client.Call(RpcTestOps.Throw, new RpcArgs(5), s_timeout).IsError); // handler_failure
            Assert.Throws<TimeoutException>(() => client.Call(RpcTestOps.Sleep, new RpcArgs(300, 1), TimeSpan.FromMilliseconds(30)));
            Assert.Equal(3, client.Call(RpcTestOps.Sleep, new RpcArgs(400, 3), s_timeout).Value); // outlasts the first: reads its late answer

            // The server counts a batch after answering it: the count may trail the last answer briefly.
            TestWait.Until(() => listener.Collect()[("uintripc.rpc.server.requests", ep)] == 7, "the server to count 7 requests");
            var values = listener.Collect();
            output.WriteLine(string.Join('\n', values.Select(v => $"{v.Key.Instrument} {v.Key.Key} = {v.Value}")));
            Assert.Equal(1, values[("uintripc.rpc.server.sessions", ep)]);
            Assert.Equal(1, values[("uintripc.rpc.server.session.opened", ep)]);
            Assert.Equal(0, values[("uintripc.rpc.server.session.closed", ep)]);
            Assert.Equal(1, values[("uintripc.rpc.server.errors", ep + "|unknown_opcode")]);
            Assert.Equal(1, values[("uintripc.rpc.server.errors", ep + "|handler_failure")]);
            Assert.Equal(0, values[("uintripc.rpc.server.errors", ep + "|bad_block")]);
            Assert.Equal(0, values[("uintripc.rpc.server.errors", ep + "|handshake_failed")]);
            Assert.Equal(0, values[("uintripc.rpc.server.errors", ep + "|protocol_violation")]);
            Assert.Equal(1, values[("uintripc.rpc.client.calls.abandoned", ep + "|timeout")]);
            Assert.Equal(0, values[("uintripc.rpc.client.calls.abandoned", ep + "|cancelled")]);
            Assert.Equal(1, values[("uintripc.rpc.client.responses.rejected", ep + "|late")]);
            Assert.Equal(0, values[("uintripc.rpc.client.responses.rejected", ep + "|unknown_id")]);

            // The session's wake-up counters move on their own (an idle side's parks time out):
            // each instrument lies between two readings of the client's WakeStatistics around it.
            var before = client.WakeStatistics;
            values = listener.Collect();
            var after = client.WakeStatistics;
            Assert.True(after.ClientSleeps > 0 && after.ClientWakeups > 0, $"the callers of the 300 ms calls never slept and were woken: {after}");
            Assert.InRange(values[("uintripc.rpc.session.sleeps", ep + "|client")], before.ClientSleeps, after.ClientSleeps);
            Assert.InRange(values[("uintripc.rpc.session.wakeups", ep + "|client")], before.ClientWakeups, after.ClientWakeups);
            Assert.InRange(values[("uintripc.rpc.session.timeouts", ep + "|client")], before.ClientTimeouts, after.ClientTimeouts);
            Assert.InRange(values[("uintripc.rpc.session.sleeps", ep + "|server")], before.ServerSleeps, after.ServerSleeps);
            Assert.InRange(values[("uintripc.rpc.session.wakeups", ep + "|server")], before.ServerWakeups, after.ServerWakeups);
            Assert.InRange(values[("uintripc.rpc.session.timeouts", ep + "|server")], before.ServerTimeouts, after.ServerTimeouts);
        }
        finally
        {
            client.Dispose();
        }

        // A disposed client is no longer reported; the server sees its session end.
        TestWait.Until(() => listener.Collect()[("uintripc.rpc.server.sessions", ep)] == 0, "the server to close the session");
        Assert.Equal((1, 1), (listener.Collect()[("uintripc.rpc.server.session.opened", ep)], listener.Collect()[("uintripc.rpc.server.session.closed", ep)]));
        Assert.DoesNotContain(listener.Collect().Keys, k => k.Instrument.StartsWith("uintripc.rpc.client.", StringComparison.Ordinal) && k.Key.StartsWith(ep, StringComparison.Ordinal));
        server.Dispose();
        Assert.DoesNotContain(listener.Collect().Keys, k => k.Key.StartsWith(ep, StringComparison.Ordinal));
    }

    [Fact]
    public void A_server_reports_the_wakeups_of_each_session_whose_client_is_another_process()
    {
        using var factory = new TestMeterFactory();
        string endpoint = SocketNames.NewAbstract("rpc-metrics-server");
        // The session thread sleeps at once and for as long as allowed: nothing moves the counters while both sides are idle.
        var asleep = new ChannelWaitOptions { SpinBudget = TimeSpan.Zero, YieldBudget = TimeSpan.Zero, MaxParkTime = ChannelWaitOptions.MaxParkTimeLimit, MeterFactory = factory };
        using var server = RpcTestOps.CreateServer(new RpcServerOptions { WorkerThreads = 0, Wait = asleep });
        server.Start(endpoint);
        int[] calls = [5, 8];
        var peers = calls.Select(n => PeerProcess.Start(output, "rpc-client-asleep", endpoint, $"{n}")).ToList();
        try
        {
            var sessions = new List<(long Id, Dictionary<string, long> Counts)>();
            foreach (var peer in peers)
            {
                peer.WaitForOutput("ClientWakeupsSuppressed");
                var line = PeerReading().Match(peer.StandardOutput);
                Assert.True(line.Success, peer.StandardOutput);
                sessions.Add((long.Parse(line.Groups["id"].Value, System.Globalization.CultureInfo.InvariantCulture),
                    Counter().Matches(line.Groups["counts"].Value).ToDictionary(m => m.Groups[1].Value, m => long.Parse(m.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture))));
            }

            // The clients are idle and the session threads asleep: this process's meter reads what each client read.
            var reading = SessionCounters(factory, endpoint);
            output.WriteLine(string.Join('\n', reading.Select(r => $"{r.Key} = {r.Value}")));
            for (int i = 0; i < calls.Length; i++)
            {
                var (id, counts) = sessions[i];
                Assert.Equal(calls[i], counts["ServerWakeups"]); // each request found the session thread asleep: one ring each
                Assert.Equal(0, counts["ServerWakeupsSuppressed"]);
                Assert.Equal(0, counts["ServerTimeouts"]);
                Assert.Equal(calls[i], counts["ClientWakeups"] + counts["ClientWakeupsSuppressed"]); // one wake check per answer
                foreach (string side in new[] { "server", "client" })
                {
                    string prefix = side == "server" ? "Server" : "Client";
                    Assert.Equal(counts[prefix + "Sleeps"], reading[("uintripc.rpc.session.sleeps", id, side)]);
                    Assert.Equal(counts[prefix + "Wakeups"], reading[("uintripc.rpc.session.wakeups", id, side)]);
                    Assert.Equal(counts[prefix + "WakeupsSuppressed"], reading[("uintripc.rpc.session.wakeups.suppressed", id, side)]);
                    Assert.Equal(counts[prefix + "Timeouts"], reading[("uintripc.rpc.session.timeouts", id, side)]);
                }
            }

            Assert.Equal(calls.Length * 2 * 4, reading.Count); // these sessions only, each side of each once
        }
        finally
        {
            foreach (var peer in peers)
            {
                peer.WriteLine("quit");
                peer.AssertSuccess();
                peer.Dispose();
            }
        }

        // Sessions that ended are no longer reported.
        TestWait.Until(() => server.Sessions.Count == 0, "the server to close both sessions");
        Assert.Empty(SessionCounters(factory, endpoint));
    }

    /// <summary>The session instruments of <paramref name="endpoint"/> that <paramref name="factory"/>'s meter reports, by (instrument, session, side); each exactly once.</summary>
    private static Dictionary<(string Instrument, long Session, string Side), long> SessionCounters(TestMeterFactory factory, string endpoint)
    {
        var reading = new Dictionary<(string, long, string), long>();
        using var listener = new System.Diagnostics.Metrics.MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Scope == factory && instrument.Name.StartsWith("uintripc.rpc.session.", StringComparison.Ordinal))
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            var byKey = tags.ToArray().ToDictionary(t => t.Key, t => t.Value);
            if (Equals(byKey["uintripc.rpc.endpoint"], endpoint))
            {
                reading.Add((instrument.Name, (long)byKey["uintripc.rpc.session.id"]!, (string)byKey["uintripc.rpc.side"]!), value); // throws on a second report
            }
        });
        listener.Start();
        listener.RecordObservableInstruments();
        return reading;
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"session (?<id>\d+) RpcWakeStatistics \{(?<counts>[^}]*)\}")]
    private static partial System.Text.RegularExpressions.Regex PeerReading();

    [System.Text.RegularExpressions.GeneratedRegex(@"(\w+) = (-?\d+)")]
    private static partial System.Text.RegularExpressions.Regex Counter();
}
