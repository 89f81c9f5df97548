using UintrIpc.Bench.Processes;

namespace UintrIpc.Bench.Workloads.Rpc;

/// <summary>
/// A server child of the request/response tests (the forwarding server, the gRPC server): it
/// reports READY once it listens and then serves until the harness closes its stdin. The
/// harness is its client, so its CPU time is read from outside (its CPU-time clock).
/// </summary>
internal sealed class ServerProcess : IDisposable
{
    private readonly ChildProcess _child;

    private ServerProcess(ChildProcess child, string endpoint)
    {
        _child = child;
        Endpoint = endpoint;
    }

    /// <summary>Where it listens (an abstract name @..., or a socket path).</summary>
    public string Endpoint { get; }

    public int Pid => _child.Id;

    /// <summary>Its CPU time so far, all threads.</summary>
    public long CpuNanoseconds => CpuClock.OtherProcessNanoseconds(_child.Id);

    /// <summary>
    /// Starts the child with <paramref name="args"/> (which carry the endpoint) and waits for READY:
    /// this harness in the child role, or <paramref name="program"/> (a dll speaking the same line
    /// protocol, given the role's arguments without <c>--child ROLE</c>).
    /// </summary>
    public static ServerProcess Start(ChildArgs args, string endpoint, CaseContext ctx, string? program = null)
    {
        var child = ChildProcess.Start(args.Set("endpoint", endpoint), program);
        try
        {
            child.WaitForStart("READY", ctx.SetupTimeout);
            return new ServerProcess(child, endpoint);
        }
        catch
        {
            child.Dispose();
            throw;
        }
    }

    /// <summary>Server side of a role: serves until the harness goes away (stdin closes, see ChildHost) or the deadline.</summary>
    public static void ServeUntilStopped(ChildChannel channel, Deadline deadline)
    {
        channel.Ready();
        Thread.Sleep(deadline.Remaining);
    }

    public void Dispose() => _child.Dispose();
}
