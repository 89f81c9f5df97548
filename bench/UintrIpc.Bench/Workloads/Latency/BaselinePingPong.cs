using System.IO.Pipes;
using System.Net.Sockets;
using UintrIpc.Bench.Processes;
using UintrIpc.Bench.Results;

namespace UintrIpc.Bench.Workloads.Latency;

/// <summary>
/// Round trips without the rings: the bare shared cache line (the .NET floor), and .NET's own
/// alternatives: anonymous pipes (System.IO.Pipes) and a Unix stream socket (System.Net.Sockets).
/// </summary>
internal static unsafe class BaselinePingPong
{
    public static BenchResult RunCacheLine(BenchCase c, CaseContext ctx)
    {
        using var region = BenchRegions.Create(BenchRegions.ControlPart());
        using var child = ChildProcess.Start(ctx.ChildArgs("pingpong-line"), region);
        child.WaitForStart("READY", ctx.SetupTimeout);
        var transport = new CacheLineTransport(BenchRegions.Control(region) + BenchRegions.LineOffset, pinger: true, ctx.Deadline);
        return Measure(c, ctx, child, ref transport);
    }

    public static void CacheLineChild(ChildArgs args, ChildChannel channel, Deadline deadline)
    {
        using var region = BenchRegions.Open(args);
        var transport = new CacheLineTransport(BenchRegions.Control(region) + BenchRegions.LineOffset, pinger: false, deadline);
        channel.Ready();
        channel.Result(LatencyReport.EchoerPayload(PingPong.Echoer(ref transport)));
    }

    public static BenchResult RunPipe(BenchCase c, CaseContext ctx)
    {
        using var toChild = new AnonymousPipeServerStream(PipeDirection.Out, HandleInheritability.Inheritable);
        using var fromChild = new AnonymousPipeServerStream(PipeDirection.In, HandleInheritability.Inheritable);
        var args = ctx.ChildArgs("pingpong-pipe")
            .Set("rx", toChild.GetClientHandleAsString())
            .Set("tx", fromChild.GetClientHandleAsString());
        using var child = ChildProcess.Start(args);
        // Our copies of the child's ends go, so that the child's exit gives us end of file.
        toChild.DisposeLocalCopyOfClientHandle();
        fromChild.DisposeLocalCopyOfClientHandle();
        child.WaitForStart("READY", ctx.SetupTimeout);
        var transport = new StreamTransport(toChild, fromChild);
        return Measure(c, ctx, child, ref transport);
    }

    public static void PipeChild(ChildArgs args, ChildChannel channel, Deadline deadline)
    {
        using var rx = new AnonymousPipeClientStream(PipeDirection.In, args.Get("rx"));
        using var tx = new AnonymousPipeClientStream(PipeDirection.Out, args.Get("tx"));
        var transport = new StreamTransport(tx, rx);
        channel.Ready();
        channel.Result(LatencyReport.EchoerPayload(PingPong.Echoer(ref transport)));
    }

    public static BenchResult RunSocket(BenchCase c, CaseContext ctx)
    {
        string name = SocketIo.AbstractName();
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(SocketIo.EndPoint(name));
        listener.Listen(1);
        using var child = ChildProcess.Start(ctx.ChildArgs("pingpong-socket").Set("endpoint", name));
        using var socket = Accept(listener, ctx.SetupTimeout);
        socket.ReceiveTimeout = (int)ctx.Options.Timeout.TotalMilliseconds;
        child.WaitForStart("READY", ctx.SetupTimeout);
        var transport = new SocketTransport(socket);
        return Measure(c, ctx, child, ref transport);
    }

    public static void SocketChild(ChildArgs args, ChildChannel channel, Deadline deadline)
    {
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        socket.Connect(SocketIo.EndPoint(args.Get("endpoint")));
        socket.ReceiveTimeout = (int)Math.Max(1, deadline.Remaining.TotalMilliseconds);
        var transport = new SocketTransport(socket);
        channel.Ready();
        channel.Result(LatencyReport.EchoerPayload(PingPong.Echoer(ref transport)));
    }

    /// <summary>Accepts one connection, waiting at most <paramref name="timeout"/>.</summary>
    public static Socket Accept(Socket listener, TimeSpan timeout)
    {
        if (!listener.Poll(timeout, SelectMode.SelectRead))
        {
            throw new TimeoutException($"no connection within {timeout.TotalSeconds:0} s");
        }

        return listener.Accept();
    }

    /// <summary>The pinger's side: samples, then the echoer's report, then the row.</summary>
    public static BenchResult Measure<T>(BenchCase c, CaseContext ctx, ChildProcess child, ref T transport) where T : struct, IPingTransport
    {
        long samples = c.Consumer == "spinning" ? ctx.Options.SpinSamples : ctx.Options.SleepSamples;
        var buffer = new long[samples];
        var pinger = PingPong.Pinger(ref transport, Math.Max(1, samples / 10), ctx.Options.WarmupTime, buffer, floor: ctx.Floor);
        var echoer = child.WaitFor("RESULT", ctx.Deadline.Remaining + TimeSpan.FromSeconds(5));
        return LatencyReport.Build(c, buffer, pinger, echoer, ctx.Floor);
    }
}
