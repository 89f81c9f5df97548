using System.Collections.Concurrent;
using System.Diagnostics;
using Tmds.Linux;
using UintrIpc.Bootstrap;
using UintrIpc.Rpc;
using UintrIpc.Signaling;

namespace UintrIpc.TestPeer.Commands;

/// <summary>Servers and clients for the cross-process RPC tests (test/UintrIpc.Tests/Rpc).</summary>
internal static class RpcCommands
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(60);

    /// <summary>
    /// rpc-server &lt;endpoint&gt;: serves the test opcodes (RpcTestOps) until stdin says "quit"
    /// (or closes); prints "listening epoch E pid P" when ready and "served N" at the end.
    /// </summary>
    [PeerCommand("rpc-server")]
    public static int Server(string[] args)
    {
        using var server = RpcTestOps.CreateServer();
        server.SessionOpened += (_, e) => Console.WriteLine($"opened {e.Session.Id} pid {e.Session.Peer.Pid}");
        server.SessionClosed += (_, e) => Console.WriteLine($"closed {e.Session.Id}: {e.Reason}");
        server.Start(BootstrapEndpoint.Parse(args[0]));
        Console.WriteLine($"listening epoch {server.Epoch:x16} pid {Environment.ProcessId}");
        while (Console.ReadLine() is { } line && line != "quit")
        {
        }

        Console.WriteLine($"served {server.Statistics.Requests}");
        return 0;
    }

    /// <summary>
    /// rpc-client &lt;endpoint&gt; &lt;threads&gt; &lt;calls per thread&gt; [doorbell]: every thread makes
    /// its calls (sync and async in turn, add and echo), checking every answer; prints
    /// "ok calls N epoch E" and exits 0 when all were right.
    /// </summary>
    [PeerCommand("rpc-client")]
    public static int Client(string[] args)
    {
        var endpoint = BootstrapEndpoint.Parse(args[0]);
        int threads = int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture);
        int calls = int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture);
        DoorbellKind? doorbell = args.Length > 3 ? Enum.Parse<DoorbellKind>(args[3], ignoreCase: true) : null;
        using var client = RpcClient.Connect(endpoint, new RpcClientOptions { Doorbell = doorbell, MaxCalls = 16 });
        long ok = RpcTestOps.Hammer(client, threads, calls, seed: Environment.ProcessId);
        Console.WriteLine($"ok calls {ok} epoch {client.ServerEpoch:x16} stats {client.Statistics}");
        return ok == (long)threads * calls ? 0 : 1;
    }

    /// <summary>
    /// rpc-client-hold &lt;endpoint&gt;: starts a call that sleeps 30 s on the server, prints
    /// "calling", and waits to be killed.
    /// </summary>
    [PeerCommand("rpc-client-hold")]
    public static int ClientHold(string[] args)
    {
        using var client = RpcClient.Connect(BootstrapEndpoint.Parse(args[0]));
        Console.WriteLine($"connected session {client.SessionId}");
        var call = Task.Run(() => client.Call(RpcTestOps.Sleep, new RpcArgs(30_000, 1), s_timeout));
        Thread.Sleep(200); // let the request reach the server
        Console.WriteLine("calling");
        call.Wait(s_timeout);
        return 1; // the test kills us first
    }
}
