using Spectre.Console;
using UintrIpc.Bench;
using UintrIpc.Bench.Cli;
using UintrIpc.Bench.Processes;
using UintrIpc.Bench.Results;

// `--child ROLE ...`: this process is the other half of a test (see Processes/ChildHost.cs).
if (args is ["--child", ..])
{
    return ChildHost.Run(args.AsSpan(1));
}

// `--percentiles STEP FILE`: p50 p90 p99 p999 of the samples in FILE (ns, one a line) for a clock of
// that step, as the latency rows compute them; the C baseline has the same mode (a test compares them).
if (args is ["--percentiles", var step, var file])
{
    var samples = File.ReadAllLines(file).Where(l => l.Length > 0)
        .Select(l => long.Parse(l, System.Globalization.CultureInfo.InvariantCulture)).Order().ToArray();
    double stepNs = double.Parse(step, System.Globalization.CultureInfo.InvariantCulture);
    var ps = PercentilePoint.Grid.Where(p => p is 50 or 90 or 99 or 99.9)
        .Select(p => LatencySummary.Percentile(samples, p / 100, stepNs));
    Console.WriteLine(string.Join(' ', ps.Select(p => p.ToString("0.0", System.Globalization.CultureInfo.InvariantCulture))));
    return 0;
}

// `--clock-step FILE`: the step ClockStep finds in the differences in FILE (ns, one a line); the C baseline has the same mode.
if (args is ["--clock-step", var differences])
{
    var seen = new int[ClockStep.Range];
    foreach (string line in File.ReadLines(differences).Where(l => l.Length > 0))
    {
        long d = long.Parse(line, System.Globalization.CultureInfo.InvariantCulture);
        if (d is >= 0 and < ClockStep.Range)
        {
            seen[d]++;
        }
    }

    Console.WriteLine(ClockStep.Of(seen).ToString("0.0", System.Globalization.CultureInfo.InvariantCulture));
    return 0;
}

// `--ab-report FILE`: the table of an A/B run's ab.json, as the run printed it (e.g. docs/results/ab.json).
if (args is ["--ab-report", var abFile])
{
    Console.WriteLine(AbRunner.Markdown(AbRunner.ReadReport(abFile)));
    return 0;
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
