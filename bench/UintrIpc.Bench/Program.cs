using Spectre.Console;
using UintrIpc.Bench;
using UintrIpc.Bench.Cli;
using UintrIpc.Bench.Processes;

// `--child ROLE ...`: this process is the other half of a test (see Processes/ChildHost.cs).
if (args is ["--child", ..])
{
    return ChildHost.Run(args.AsSpan(1));
}

BenchOptions options;
try
{
    options = BenchOptions.Parse(args);
}
catch (ArgumentException e)
{
    Console.Error.WriteLine(e.Message);
    Console.Error.WriteLine(BenchOptions.Usage);
    return 2;
}

if (options.Help)
{
    Console.WriteLine(BenchOptions.Usage);
    return 0;
}

try
{
    return new BenchRunner(options).Run();
}
catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException)
{
    AnsiConsole.MarkupLine($"[red]{Markup.Escape(e.Message)}[/]");
    return 1;
}
