using System.CommandLine;
using SyscallForward.Executor;
using UintrIpc;
using UintrIpc.Bootstrap;
using UintrIpc.Channels;
using UintrIpc.Rpc;

namespace SyscallForward.Server;

/// <summary>`serve`: the forwarding server on a bootstrap socket.</summary>
internal static class ServeCommand
{
    public static Command Create()
    {
        var socket = new Option<string>("--socket")
        {
            Description = "Where clients connect: a path, or @name for the abstract namespace.",
            Required = true,
        };
        var workers = new Option<bool>("--blocking-io") { Description = "Run read, write and open on the worker pool (for files whose reads and writes can block, such as FIFOs; opens never wait)." };
        var allow = new Option<ForwardOpcode[]>("--allow")
        {
            Description = "The opcodes served (default: all); the others are answered EPERM.",
            AllowMultipleArgumentsPerToken = true,
        };
        var allowUid = new Option<uint[]>("--allow-uid")
        {
            Description = "Also serve clients running as these user ids (default: only the server's own user, as SO_PEERCRED reports it).",
            AllowMultipleArgumentsPerToken = true,
        };
        var spin = new Option<double>("--spin-us")
        {
            Description = "How long an idle session spins for the next request before it yields, in microseconds.",
            DefaultValueFactory = _ => RpcServerOptions.DefaultSpinBudget.TotalMicroseconds,
        };
        var yield = new Option<double>("--yield-us")
        {
            Description = "How long it then yields the CPU before it sleeps in the doorbell, in microseconds.",
            DefaultValueFactory = _ => RpcServerOptions.DefaultYieldBudget.TotalMicroseconds,
        };
        foreach (var budget in new[] { spin, yield })
        {
            budget.Validators.Add(r =>
            {
                if (r.GetValueOrDefault<double>() is < 0 or > 1e6)
                {
                    r.AddError($"{r.Option.Name} is a time in microseconds from 0 to 1000000.");
                }
            });
        }

        var root = CommonOptions.Root();
        var confinement = CommonOptions.Confinement();
        var command = new Command("serve", "Serve forwarded system calls beneath a directory to clients of a bootstrap socket.")
        {
            socket, workers, allow, allowUid, spin, yield, root, confinement,
        };
        command.SetAction(result =>
        {
            ForwardOpcode[]? allowed = result.GetValue(allow);
            var options = new ExecutorOptions { Log = Console.Out };
            if (allowed is { Length: > 0 })
            {
                options = options with { Allowed = allowed.ToHashSet() };
            }

            uint[]? uids = result.GetValue(allowUid);
            PeerPolicy? policy = uids is { Length: > 0 } ? PeerPolicy.AllowUsers([(uint)Tmds.Linux.LibC.geteuid(), .. uids]) : null;
            var rpc = new RpcServerOptions
            {
                SpinBudget = TimeSpan.FromMicroseconds(result.GetValue(spin)),
                YieldBudget = TimeSpan.FromMicroseconds(result.GetValue(yield)),
            };
            return Run(result.GetValue(socket)!, result.GetValue(root)!.FullName, result.GetValue(confinement), options, rpc, result.GetValue(workers), policy);
        });
        return command;
    }

    private static int Run(string endpoint, string rootPath, ConfinementMode confinement, ExecutorOptions options, RpcServerOptions rpc, bool blockingIo, PeerPolicy? policy)
    {
        var log = Console.Out;
        try
        {
            using var executor = new SyscallExecutor(new ConfinedDirectory(rootPath, confinement), options);
            using var stop = CommonOptions.StopOnTermination(out var registrations);
            using (registrations)
            {
                var server = new ForwardServer(executor, rpc, blockingIo);
                using (server)
                {
                    server.Start(endpoint, policy);
                    log.WriteLine($"serve: ready pid={Environment.ProcessId} uid={(uint)Tmds.Linux.LibC.geteuid()} socket={endpoint} confinement={executor.Root.Mode} root={executor.Root.FullPath}");
                    stop.Token.WaitHandle.WaitOne();
                    log.WriteLine("serve: stopping");
                }

                // After Dispose: every session has ended and been counted.
                ServerCounts counts = server.Counts;
                log.WriteLine($"serve: stopped: {counts}");
                log.WriteLine(executor.Counters.Format(unknownElsewhere: counts.UnknownOpcodes));
            }

            return 0;
        }
        catch (UintrIpcException e)
        {
            Console.Error.WriteLine($"serve: {e.Message}");
            return 1;
        }
    }
}
