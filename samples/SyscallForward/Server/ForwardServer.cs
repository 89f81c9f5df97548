using SyscallForward.Executor;
using SyscallForward.Metrics;
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
    private long _sessionsOpened, _sessionsClosed;
    private ServerCounts? _countsAtStop;

    /// <summary>Creates a server of <paramref name="executor"/> (which it does not own).</summary>
    /// <param name="executor">Runs the calls.</param>
    /// <param name="options">RPC options (doorbells, sizes, workers).</param>
    /// <param name="blockingIo">Run read/write/open on the worker pool (a call that blocks, such as a write to a full pipe, then stalls no other call of its client).</param>
    public ForwardServer(SyscallExecutor executor, RpcServerOptions? options = null, bool blockingIo = false)
    {
        ArgumentNullException.ThrowIfNull(executor);
        _executor = executor;
        _rpc = new RpcServer(options);
        _rpc.SessionOpened += (_, session) =>
        {
            session.State = executor.Connect($"{session}, doorbell {session.Doorbell}", OpenClientProcess(session), session.Closing);
            Interlocked.Increment(ref _sessionsOpened);
        };
        _rpc.SessionClosed += (_, session) =>
        {
            Interlocked.Increment(ref _sessionsClosed);
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

    /// <summary>
    /// The RPC layer's counters, read through the meter (docs/metrics.md). The meter stops
    /// reporting a server when it is disposed, so after <see cref="Dispose"/> these are the
    /// requests and errors counted up to the stop, and the sessions (counted here, from the
    /// session events) up to the last one that ended during the stop.
    /// </summary>
    internal ServerCounts Counts
    {
        get
        {
            ServerCounts rpc = _countsAtStop ?? (_rpc.Endpoint is { } endpoint ? ServerCounts.Of(RpcMeterReading.Take(), endpoint) : default);
            return rpc with { SessionsOpened = Volatile.Read(ref _sessionsOpened), SessionsClosed = Volatile.Read(ref _sessionsClosed) };
        }
    }

    /// <summary>
    /// The client's pidfd as the library pinned it at connect (not a pidfd_open of its pid now, which
    /// could name a process that took the pid of a client gone meanwhile); null when there is none.
    /// </summary>
    private static Microsoft.Win32.SafeHandles.SafeFileHandle? OpenClientProcess(RpcSession session)
    {
        try
        {
            return session.OpenPeerProcess();
        }
        catch (UintrIpc.UintrIpcException)
        {
            return null; // ESRCH: gone before it was pinned; its session ends on the closed socket
        }
    }

    /// <summary>Where it listens, once started.</summary>
    public string? Endpoint => _rpc.Endpoint;

    /// <summary>Starts listening (same user only, unless <paramref name="policy"/> says otherwise).</summary>
    public void Start(string endpoint, PeerPolicy? policy = null) => _rpc.Start(endpoint, policy);

    /// <summary>Stops the server: ends every session (their files are closed) and stops listening.</summary>
    public void Dispose()
    {
        _countsAtStop ??= Counts;
        _rpc.Dispose();
    }

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
