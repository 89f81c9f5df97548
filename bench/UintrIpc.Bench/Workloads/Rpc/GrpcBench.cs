using System.Net.Sockets;
using System.Runtime.CompilerServices;
using Grpc.Net.Client;
using SyscallForward.Executor;
using UintrIpc.Bench.Processes;
using UintrIpc.Bench.Results;
using UintrIpc.Bench.Workloads.Latency;
using UintrIpc.Bench.Workloads.Rpc.Grpc;

namespace UintrIpc.Bench.Workloads.Rpc;

/// <summary>
/// What a .NET team would otherwise use: gRPC over a Unix domain socket. The server is Kestrel
/// with Grpc.AspNetCore (HTTP/2 only, logging off), bench/UintrIpc.Bench.GrpcServer, in a
/// child process; the client is
/// Grpc.Net.Client (SocketsHttpHandler connecting to the socket) in the harness, one unary
/// call per round trip carrying what the forwarded call carries (forward_bench.proto).
/// </summary>
internal static class GrpcBench
{
    /// <summary>Round trips of no-ops (<paramref name="read"/> false) or 4 KiB preads at offset 0.</summary>
    public static BenchResult RunCalls(BenchCase c, CaseContext ctx, bool read)
    {
        using var scratch = RpcScratch.Create(ForwardBench.ReadSize * 16);
        string socket = Path.Combine(scratch.Root, "grpc.sock");
        using var server = ServerProcess.Start(ctx.ChildArgs("grpc-server").Set("root", scratch.Root), socket, ctx, GrpcServerProgram);
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (_, token) =>
            {
                var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                try
                {
                    await s.ConnectAsync(new UnixDomainSocketEndPoint(socket), token).ConfigureAwait(false);
                    return new NetworkStream(s, ownsSocket: true);
                }
                catch
                {
                    s.Dispose();
                    throw;
                }
            },
        };
        using var channel = GrpcChannel.ForAddress("http://localhost", new GrpcChannelOptions { HttpHandler = handler, DisposeHttpClient = true });
        var request = read
            ? new ForwardRequest { Opcode = (uint)ForwardOpcode.PRead, A1 = 0, OutCapacity = ForwardBench.ReadSize }
            : new ForwardRequest { Opcode = (uint)ForwardOpcode.Nop };
        var transport = new CallTransport(new Forward.ForwardClient(channel), request, read ? ForwardBench.ReadSize : 0);
        return RpcMeasure.Latency(c, ctx, transport, server);
    }

    /// <summary>The server program, copied to grpc-server/ beside the harness by the build.</summary>
    private static string GrpcServerProgram => Path.Combine(AppContext.BaseDirectory, "grpc-server", "UintrIpc.Bench.GrpcServer.dll");

    /// <summary>One blocking unary call per round trip; checks the result (and the output length of a read).</summary>
    private struct CallTransport(Forward.ForwardClient client, ForwardRequest request, int expected) : IPingTransport
    {
        private long _value;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Send(long value) => _value = value;

        public long Receive()
        {
            ForwardReply reply = client.Call(request);
            return reply.Result == expected && reply.Output.Length == expected ? _value
                : throw new InvalidDataException($"gRPC call answered {reply.Result} with {reply.Output.Length} bytes, expected {expected}");
        }
    }
}
