using SyscallForward.Executor;
using UintrIpc.Bootstrap;
using UintrIpc.Rpc;

namespace SyscallForward.Server;

/// <summary>
/// The forwarding server: an <see cref="RpcServer"/> whose handlers are the executor's opcodes
/// (interop/include/uintripc_fwd.h). Each RPC session is one executor client, with its own
/// descriptor table, opened when the session opens and closed (its files too) when it ends.
/// Opcodes outside the table are answered -ENOSYS by the RPC layer.
/// </summary>
public sealed class ForwardServer : IDisposable
{
    private readonly RpcServer _rpc;
    private readonly SyscallExecutor _executor;

    /// <summary>Creates a server of <paramref name="executor"/> (which it does not own).</summary>
    /// <param name="executor">Runs the calls.</param>
    /// <param name="options">RPC options (doorbells, sizes, workers).</param>
    /// <param name="blockingIo">Run read/write/open on the worker pool (a call that blocks, such as a write to a full pipe, then stalls no other call of its client).</param>
    public ForwardServer(SyscallExecutor executor, RpcServerOptions? options = null, bool blockingIo = false)
    {
        ArgumentNullException.ThrowIfNull(executor);
        _executor = executor;
        _rpc = new RpcServer(options);
        _rpc.SessionOpened += (_, session) => session.State = executor.Connect($"{session}, doorbell {session.Doorbell}");
        _rpc.SessionClosed += (_, session) =>
        {
            if (session.State is ClientSession client)
            {
                executor.Disconnect(client, session.CloseReason ?? "closed");
            }
        };

        foreach (ForwardOpcode opcode in Enum.GetValues<ForwardOpcode>())
        {
            bool io = opcode is ForwardOpcode.Read or ForwardOpcode.Write or ForwardOpcode.PRead or ForwardOpcode.PWrite or ForwardOpcode.OpenAt;
            if (blockingIo && io)
            {
                _rpc.MapBlocking((uint)opcode, Handle);
            }
            else
            {
                _rpc.Map((uint)opcode, Handle);
            }
        }
    }

    /// <summary>The RPC layer's counters (sessions, requests, unknown opcodes, bad blocks).</summary>
    internal RpcServerStatistics Statistics => _rpc.Statistics;

    /// <summary>Where it listens, once started.</summary>
    public string? Endpoint => _rpc.Endpoint;

    /// <summary>Starts listening (same user only, unless <paramref name="policy"/> says otherwise).</summary>
    public void Start(string endpoint, PeerPolicy? policy = null) => _rpc.Start(endpoint, policy);

    /// <inheritdoc />
    public void Dispose() => _rpc.Dispose();

    private long Handle(ref RpcRequest request)
    {
        var client = (ClientSession)request.Session.State!;
        RpcArgs a = request.Args;
        ReadOnlySpan<long> args = [a.A0, a.A1, a.A2, a.A3];
        long result = _executor.Execute(client, request.Opcode, args, request.Input, request.Output);
        if (result >= 0)
        {
            request.OutputLength = (ForwardOpcode)request.Opcode switch
            {
                ForwardOpcode.Read or ForwardOpcode.PRead => (int)result,
                ForwardOpcode.FStat => ForwardStat.Size,
                _ => 0,
            };
        }

        return result;
    }
}
