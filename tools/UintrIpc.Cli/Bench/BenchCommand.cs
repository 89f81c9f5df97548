using System.CommandLine;
using System.Diagnostics;

namespace UintrIpc.Cli.Bench;

/// <summary>
/// `uintr-ipc bench [-- harness options]`: runs the benchmark harness (bench/UintrIpc.Bench) of
/// a UintrIpc source tree, or says how to get one. The harness builds C baselines and starts
/// child processes of its own, so it lives in the repository, not in this tool.
/// </summary>
internal static class BenchCommand
{
    private const string Harness = "bench/UintrIpc.Bench/UintrIpc.Bench.csproj";

    internal static Command Create()
    {
        var repo = new Option<DirectoryInfo?>("--repo") { Description = "The UintrIpc source tree (default: the current directory or one above it)." };
        var dryRun = new Option<bool>("--dry-run") { Description = "Print the command instead of running it." };
        var harnessArgs = new Argument<string[]>("harness-options")
        {
            Description = "Passed to the harness after '--' (for example -- --full, -- --only latency, -- --help).",
            Arity = ArgumentArity.ZeroOrMore,
        };
        var command = new Command("bench", $"""
            Runs the benchmark matrix (bench/UintrIpc.Bench: latency and throughput between two real
            processes, C baselines in the same run, results under results/): dotnet run -c Release
            --project {Harness}. Needs a UintrIpc source tree with the .NET SDK, gcc and make.
            """)
        {
            repo, dryRun, harnessArgs,
        };
        command.SetAction(async (parse, cancellation) =>
        {
            string? root = FindRepository(parse.GetValue(repo)?.FullName ?? Environment.CurrentDirectory);
            if (root is null)
            {
                throw new CliException(ExitCodes.NotFound, $"""
                    no UintrIpc source tree here ({parse.GetValue(repo)?.FullName ?? Environment.CurrentDirectory} and the folders above have no {Harness}).
                    The benchmark harness is part of the UintrIpc repository, not of this tool: clone it, then run
                    'uintr-ipc bench' inside it (or 'uintr-ipc bench --repo <clone>', or 'dotnet run -c Release --project {Harness}' there).
                    """);
            }

            var psi = new ProcessStartInfo("dotnet") { UseShellExecute = false, WorkingDirectory = root };
            foreach (string a in (string[])["run", "-c", "Release", "--project", Path.Combine(root, Harness), "--", .. parse.GetValue(harnessArgs) ?? []])
            {
                psi.ArgumentList.Add(a);
            }

            if (parse.GetValue(dryRun))
            {
                Console.WriteLine($"cd {root} && dotnet {string.Join(' ', psi.ArgumentList)}");
                return ExitCodes.Ok;
            }

            using var process = Process.Start(psi) ?? throw new CliException(ExitCodes.Failure, "could not start dotnet: is the .NET SDK on PATH?");
            try
            {
                await process.WaitForExitAsync(cancellation);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                throw;
            }

            return process.ExitCode;
        });
        return command;
    }

    private static string? FindRepository(string start)
    {
        for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, Harness)))
            {
                return dir.FullName;
            }
        }

        return null;
    }
}
