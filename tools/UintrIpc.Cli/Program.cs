using System.CommandLine;
using UintrIpc.Cli;
using UintrIpc.Cli.Bench;
using UintrIpc.Cli.Info;
using UintrIpc.Cli.Inspect;

// uintr-ipc: what this machine supports for UintrIpc, and a live view of its shared-memory regions.
var root = new RootCommand($"""
    uintr-ipc: what this machine supports for UintrIpc (user interrupts, doorbells, page sizes),
    and a live view of UintrIpc shared-memory regions (rings, wait blocks, counters, peers).

    {ExitCodes.Summary}
    """)
{
    InfoCommand.Create(),
    InspectCommand.Create(),
    BenchCommand.Create(),
};

ParseResult parsed = root.Parse(args);
if (parsed.Errors.Count > 0)
{
    foreach (var error in parsed.Errors)
    {
        Console.Error.WriteLine($"uintr-ipc: {error.Message}");
    }

    string command = parsed.CommandResult.Command == root ? "uintr-ipc" : "uintr-ipc " + parsed.CommandResult.Command.Name;
    Console.Error.WriteLine($"Run '{command} --help' for the usage.");
    return ExitCodes.Usage;
}

try
{
    return await parsed.InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
}
catch (CliException e)
{
    Console.Error.WriteLine($"uintr-ipc: {e.Message}");
    return e.ExitCode;
}
catch (OperationCanceledException)
{
    return ExitCodes.Ok; // Ctrl+C ends --watch
}
catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException)
{
    Console.Error.WriteLine($"uintr-ipc: unexpected failure: {e}");
    return ExitCodes.Failure;
}
