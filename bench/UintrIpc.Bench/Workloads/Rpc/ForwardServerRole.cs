using SyscallForward.Executor;
using SyscallForward.Server;
using UintrIpc.Bench.Processes;
using UintrIpc.Bootstrap;
using UintrIpc.Channels;
using UintrIpc.Rpc;

namespace UintrIpc.Bench.Workloads.Rpc;

/// <summary>
/// Child role <c>fwd-server</c>: the syscall-forwarding server of samples/SyscallForward
/// (ForwardServer over RpcServer), serving <c>--root</c> on <c>--endpoint</c>, with the library's
/// default waits or, with <c>--asleep 1</c>, a session thread that parks at once.
/// </summary>
internal static class ForwardServerRole
{
    public static ChildArgs Args(CaseContext ctx, RpcScratch scratch, bool asleep, int cpu = 1) =>
        ctx.ChildArgs("fwd-server", cpu).Set("root", scratch.Root).Set("asleep", asleep ? 1 : 0);

    /// <summary>Waits of a side that parks at once (the asleep tests), in slices as long as the library's.</summary>
    public static ChannelWaitOptions ParkAtOnce(TimeSpan slice) => new() { SpinBudget = TimeSpan.Zero, YieldBudget = TimeSpan.Zero, MaxParkTime = slice };

    public static void Run(ChildArgs args, ChildChannel channel, Deadline deadline)
    {
        var options = new RpcServerOptions();
        if (args.GetInt("asleep") != 0)
        {
            options = options with { Wait = ParkAtOnce(options.Wait.MaxParkTime) };
        }

        using var executor = new SyscallExecutor(new ConfinedDirectory(args.Get("root")), new ExecutorOptions { GrantStdout = false });
        using var server = new ForwardServer(executor, options);
        server.Start(args.Get("endpoint"));
        ServerProcess.ServeUntilStopped(channel, deadline);
    }
}
