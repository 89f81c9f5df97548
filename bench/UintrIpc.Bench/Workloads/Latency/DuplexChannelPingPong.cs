using UintrIpc.Bench.Processes;
using UintrIpc.Bench.Results;
using UintrIpc.Bootstrap;
using UintrIpc.Channels;
using UintrIpc.Signaling;

namespace UintrIpc.Bench.Workloads.Latency;

/// <summary>
/// Round trips through the public API of a duplex channel (what a user gets): the child creates
/// an <see cref="IpcDuplexChannel{TRequest, TResponse}"/> of longs (futex doorbell, 1 Ki slots,
/// no checksums) and hands it over with <c>SendChannel(duplex, timeout)</c>; the harness receives
/// it with <c>ReceiveDuplexChannel</c> over the bootstrap socket it listens on. Both sides then
/// spin on the channel reader's TryRead and write with the writer's TryWrite (the wake-up check
/// after every publish included), see <see cref="ChannelSpinTransport"/>. The rings under it are
/// net-duplex-spin's.
/// </summary>
internal static class DuplexChannelPingPong
{
    private const int Capacity = 1024;

    public static BenchResult Run(BenchCase c, CaseContext ctx)
    {
        string endpoint = "@" + CaseContext.NewUniqueName();
        using var server = BootstrapServer.Listen(endpoint);
        using var child = ChildProcess.Start(ctx.ChildArgs("pingpong-duplex-channel").Set("endpoint", endpoint), null);
        using var connection = server.Accept(ctx.SetupTimeout);
        // This thread reads the responses: the reader is created (and used, and disposed) here.
        using var duplex = connection.ReceiveDuplexChannel<long, long>(ctx.SetupTimeout);
        child.WaitForStart("READY", ctx.SetupTimeout);
        var transport = new ChannelSpinTransport(duplex.Requests.Writer, duplex.Responses.Reader, ctx.Deadline);
        return BaselinePingPong.Measure(c, ctx, child, ref transport);
    }

    public static void Child(ChildArgs args, ChildChannel channel, Deadline deadline)
    {
        using var connection = BootstrapConnection.Connect(args.Get("endpoint"), deadline.Remaining);
        using var duplex = IpcChannel.CreateDuplex<long, long>(new IpcChannelOptions { Capacity = Capacity, Doorbell = DoorbellKind.Futex });
        connection.SendChannel(duplex, deadline.Remaining);
        var transport = new ChannelSpinTransport(duplex.Responses.Writer, duplex.Requests.Reader, deadline);
        channel.Ready();
        channel.Result(LatencyReport.EchoerPayload(PingPong.Echoer(ref transport)));
    }
}
