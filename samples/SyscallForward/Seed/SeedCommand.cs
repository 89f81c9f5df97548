using System.CommandLine;
using SyscallForward.Executor;
using UintrIpc;

namespace SyscallForward.Seed;

/// <summary>`seed`: serves the original design's v1 queue page (interop/include/uintripc_seed_v1.h).</summary>
internal static class SeedCommand
{
    public static Command Create()
    {
        var page = new Option<FileInfo>("--page")
        {
            Description = "The file or device holding the data buffer and the queue page (e.g. /dev/nimbos).",
            Required = true,
        };
        var device = new Option<bool>("--device") { Description = "Use /dev/nimbos offsets: data buffer at 0, queue page at 0x1000 (default: a plain file, queue page after the 1 MiB buffer)." };
        var dataOffset = new Option<long?>("--data-offset") { Description = "File offset of the 1 MiB data buffer (overrides the default)." };
        var queueOffset = new Option<long?>("--queue-offset") { Description = "File offset of the 4 KiB queue page (overrides the default)." };
        var signal = new Option<int>("--signal")
        {
            Description = "The real-time signal the RTOS side raises (thread-directed to the tid printed at start); 0 to poll only.",
            DefaultValueFactory = _ => 44,
        };
        var poll = new Option<int>("--poll-ms") { Description = "The longest wait between two looks at the ring.", DefaultValueFactory = _ => 100 };
        var waitForPage = new Option<int>("--wait-for-page-ms") { Description = "How long to wait for the RTOS side to initialise the page.", DefaultValueFactory = _ => 10_000 };
        var root = CommonOptions.Root();
        var confinement = CommonOptions.Confinement();

        var command = new Command("seed", "Serve the original design's v1 syscall queue page (magic 0x4643537f) in place of its Linux-side program.")
        {
            page, device, dataOffset, queueOffset, signal, poll, waitForPage, root, confinement,
        };
        command.SetAction(result =>
        {
            bool isDevice = result.GetValue(device);
            long data = result.GetValue(dataOffset) ?? 0;
            long queue = result.GetValue(queueOffset) ?? (isDevice ? SeedQueuePage.DeviceQueueOffset : SeedQueuePage.FileQueueOffset);
            return Run(result.GetValue(page)!.FullName, data, queue, result.GetValue(root)!.FullName, result.GetValue(confinement),
                result.GetValue(signal), TimeSpan.FromMilliseconds(result.GetValue(poll)), TimeSpan.FromMilliseconds(result.GetValue(waitForPage)));
        });
        return command;
    }

    private static int Run(string pagePath, long dataOffset, long queueOffset, string rootPath, ConfinementMode confinement, int signal, TimeSpan poll, TimeSpan waitForPage)
    {
        var log = Console.Out;
        try
        {
            using var executor = new SyscallExecutor(new ConfinedDirectory(rootPath, confinement), new ExecutorOptions { Log = log });
            using var page = SeedQueuePage.Map(pagePath, dataOffset, queueOffset, waitForPage);
            using var stop = CommonOptions.StopOnTermination(out var registrations);
            using (registrations)
            {
                var server = new SeedServer(page, executor, log);
                server.Run(signal, poll, (pid, tid) => log.WriteLine(
                    $"seed: ready pid={pid} tid={tid} signal={signal} capacity={page.Capacity} confinement={executor.Root.Mode} root={executor.Root.FullPath}"), stop.Token);
                log.WriteLine($"seed: stopped: {server.Statistics}");
                log.WriteLine(executor.Counters.Format());
            }

            return 0;
        }
        catch (UintrIpcException e)
        {
            Console.Error.WriteLine($"seed: {e.Message}");
            return 1;
        }
    }
}
