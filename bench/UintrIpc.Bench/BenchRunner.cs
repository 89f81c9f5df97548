using System.Globalization;
using Spectre.Console;
using UintrIpc.Bench.Analysis;
using UintrIpc.Bench.Cli;
using UintrIpc.Bench.Native;
using UintrIpc.Bench.Reporting;
using UintrIpc.Bench.Results;
using UintrIpc.Bench.Workloads;
using UintrIpc.Signaling;

namespace UintrIpc.Bench;

/// <summary>Runs the selected tests group by group (C first, then .NET), then writes the reports.</summary>
internal sealed class BenchRunner
{
    private readonly BenchOptions _options;
    private readonly NativeBench _native = new();

    /// <summary>Repetitions (at least) of the tests the targets use.</summary>
    private const int TargetRepeats = 5;

    public BenchRunner(BenchOptions options) => _options = options;

    public int Run()
    {
        var cases = Catalog.Build(_options).Where(c => _options.Selects(c.Name)).ToList();
        if (_options.List)
        {
            foreach (var group in cases.GroupBy(c => c.Group))
            {
                AnsiConsole.MarkupLine($"[bold]{group.Key}[/] (C: {Markup.Escape(Catalog.NativeSelection(group.Key))})");
                foreach (var c in group)
                {
                    AnsiConsole.MarkupLine($"  {Markup.Escape(c.Name),-36} {Markup.Escape(c.Note ?? string.Empty)}{(c.SkipReason is { } s ? $" [yellow](skipped: {Markup.Escape(s)})[/]" : "")}");
                }
            }

            return 0;
        }

        if (cases.Count == 0)
        {
            AnsiConsole.MarkupLine("[red]No test matches --only.[/]");
            return 2;
        }

        string outDir = _options.OutputDirectory ?? Path.Combine("results", DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture));
        Directory.CreateDirectory(outDir);
        var started = DateTimeOffset.UtcNow;
        var machine = MachineInfo.Capture();
        var doorbells = Doorbells.All.Select(d => new DoorbellInfo(DoorbellNames.Of(d.Kind), d.IsAvailable, d.Reason)).ToList();
        var results = new List<BenchResult>();
        var groups = cases.GroupBy(c => c.Group).OrderBy(g => g.Key).ToList();

        AnsiConsole.MarkupLine($"UintrIpc bench, [bold]{_options.Mode}[/] mode: {cases.Count} .NET tests{(_options.Native ? " + C baselines" : "")}; load average {Markup.Escape(machine.LoadAverageBefore)}");
        AnsiConsole.Progress()
            .AutoRefresh(false) // no render thread competing with the measured processes for the CPUs
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
            .Start(progress =>
            {
                var overall = progress.AddTask("all tests", maxValue: cases.Count + (_options.Native ? groups.Count : 0));
                var current = progress.AddTask("starting", maxValue: 1);
                progress.Refresh();
                foreach (var group in groups)
                {
                    if (_options.Native)
                    {
                        current.Description = Markup.Escape($"C baselines: {Catalog.NativeSelection(group.Key)}");
                        progress.Refresh();
                        results.AddRange(_native.Run(Catalog.NativeSelection(group.Key), NativeArgs(group.Key), _options.Timeout * 20));
                        overall.Increment(1);
                    }

                    foreach (var c in group)
                    {
                        current.Description = Markup.Escape(c.Name);
                        progress.Refresh();
                        var r = RunRepeated(c);
                        results.Add(r);
                        overall.Increment(1);
                        current.Description = Markup.Escape($"{c.Name}: {Summary(r)}");
                        progress.Refresh();
                    }
                }

                current.Description = "done";
                current.Value = 1;
                progress.Refresh();
            });

        Comparisons.ApplyRatios(results);
        var report = new RunReport(
            _options.Mode, "dotnet run -c Release --project bench/UintrIpc.Bench" + (_options.CommandLine.Length > 0 ? " -- " + _options.CommandLine : ""),
            started, DateTimeOffset.UtcNow, machine with { LoadAverageAfter = MachineInfo.LoadAverage() },
            _native.Commands.Distinct().ToList(), doorbells, results, Comparisons.EvaluateTargets(results), Settings());

        var plots = _options.Plots ? WritePlots(results, outDir) : [];
        MarkdownReport.Write(report, Path.Combine(outDir, "report.md"), plots);
        JsonReport.Write(report, Path.Combine(outDir, "results.json"));
        CsvReport.Write(results, Path.Combine(outDir, "results.csv"));
        ConsoleReport.Write(report, outDir);
        return results.Any(r => !r.Ok && !r.Skipped) ? 1 : 0;
    }

    private static IReadOnlyList<string> WritePlots(IReadOnlyList<BenchResult> results, string outDir)
    {
        try
        {
            return PlotWriter.WriteAll(results, outDir);
        }
        catch (Exception e) when (e is TypeInitializationException or DllNotFoundException or IOException)
        {
            AnsiConsole.MarkupLine($"[yellow]Plots skipped: {Markup.Escape(e.Message)}[/]");
            return [];
        }
    }

    /// <summary>
    /// Runs the case --repeat times, each time right after its C baseline(s), and keeps the
    /// repetition with the median headline, with the median of the paired C headlines.
    /// </summary>
    private BenchResult RunRepeated(BenchCase c)
    {
        var runs = new List<(BenchResult Result, Dictionary<string, double> Paired)>();
        // A target's verdict should not hang on one run: the host's placement of the vCPUs flips
        // the floor (and ring throughput) several-fold within seconds.
        int repeat = Comparisons.TargetSubjects.Contains(c.Name) ? Math.Max(TargetRepeats, _options.Repeat) : _options.Repeat;
        for (int i = 0; i < repeat; i++)
        {
            var paired = RunPairedBaselines(c);
            runs.Add((RunCase(c), paired));
        }

        var ok = runs.Where(r => r.Result.Ok && r.Result.Headline is not null).OrderBy(r => r.Result.Headline).ToList();
        if (ok.Count == 0)
        {
            return runs[^1].Result;
        }

        var chosen = ok[(ok.Count - 1) / 2].Result;
        foreach (var name in runs.SelectMany(r => r.Paired.Keys).Distinct())
        {
            var values = runs.Where(r => r.Paired.ContainsKey(name)).Select(r => r.Paired[name]).ToList();
            chosen.PairedRuns[name] = values;
            var sorted = values.Order().ToList();
            chosen.Paired[name] = sorted[(sorted.Count - 1) / 2];
        }

        chosen.Repeats = runs.Where(r => r.Result.Ok).Select(r => r.Result.Headline!.Value).ToList();
        return chosen;
    }

    /// <summary>Runs the C tests <paramref name="c"/> is compared with, now, and returns their headlines.</summary>
    private Dictionary<string, double> RunPairedBaselines(BenchCase c)
    {
        var paired = new Dictionary<string, double>(StringComparer.Ordinal);
        if (!_options.Native || c.SkipReason is not null || c.Baseline is null)
        {
            return paired;
        }

        string[] names = [c.Baseline, .. c.AlsoPaired];
        foreach (var r in _native.Run(string.Join(',', names), NativeArgs(c.Group), _options.Timeout * 2))
        {
            if (r.Ok && r.Headline is { } h && names.Contains(r.Name))
            {
                paired[r.Name] = h;
            }
        }

        return paired;
    }

    private BenchResult RunCase(BenchCase c)
    {
        if (c.SkipReason is { } reason)
        {
            return c.Failed(reason, skipped: true);
        }

        // Garbage from the last case is collected now, not during the next measurement.
        GC.Collect();
        GC.WaitForPendingFinalizers();
        BenchResult? result = null;
        var thread = new Thread(() =>
        {
            try
            {
                result = c.Run(new CaseContext(_options));
            }
            catch (Exception e)
            {
                result = c.Failed($"{e.GetType().Name}: {e.Message}");
            }
        })
        { IsBackground = true, Name = c.Name };
        thread.Start();
        if (!thread.Join(_options.Timeout + TimeSpan.FromSeconds(30)))
        {
            return c.Failed($"did not finish within {_options.Timeout.TotalSeconds + 30:0} s (thread abandoned)");
        }

        return result ?? c.Failed("no result");
    }

    private List<string> NativeArgs(BenchGroup group)
    {
        var args = new List<string>
        {
            "--timeout", ((long)_options.Timeout.TotalSeconds).ToString(CultureInfo.InvariantCulture),
            "--spin-ns", ((long)(_options.SpinBudget.TotalMilliseconds * 1e6)).ToString(CultureInfo.InvariantCulture),
        };
        switch (group)
        {
            case BenchGroup.Spinning:
                args.AddRange(["--iters", _options.SpinSamples.ToString(CultureInfo.InvariantCulture)]);
                break;
            case BenchGroup.Sleeping or BenchGroup.Kernel:
                args.AddRange(["--iters", _options.SleepSamples.ToString(CultureInfo.InvariantCulture)]);
                break;
            default:
                args.AddRange(["--tput-count", _options.ThroughputCount.ToString(CultureInfo.InvariantCulture), "--tput-bytes", _options.ThroughputBytes.ToString(CultureInfo.InvariantCulture)]);
                break;
        }

        if (_options.Pin)
        {
            args.Add("--pin");
        }

        return args;
    }

    private Dictionary<string, string> Settings() => new(StringComparer.Ordinal)
    {
        ["Latency samples (spinning / sleeping)"] = $"{_options.SpinSamples} / {_options.SleepSamples}",
        ["Minimum warm-up per .NET test"] = $"{_options.WarmupTime.TotalMilliseconds:0} ms",
        ["Spin budget of the awake doorbell tests"] = $"{_options.SpinBudget.TotalMicroseconds:0} us",
        ["Throughput messages (rings / pipes and sockets)"] = $"{_options.ThroughputCount} / {_options.StreamThroughputCount}, at most {_options.ThroughputBytes >> 20} MiB of payload",
        ["MPSC producers (N)"] = _options.Producers.ToString(CultureInfo.InvariantCulture),
        ["Pause between reply and next ping in the asleep tests"] = $"{_options.Gap.TotalMicroseconds:0} us",
        ["Repeats per .NET test"] = $"{_options.Repeat} (at least {TargetRepeats} for the tests the targets use: {string.Join(", ", Comparisons.TargetSubjects)})",
        ["Pinned"] = _options.Pin ? "yes (CPU 0 and 1)" : "no",
    };

    private static string Summary(BenchResult r) => !r.Ok ? (r.Skipped ? "skipped" : "FAILED")
        : r.Kind == ResultKind.Latency ? $"p50 {Fmt.Us(r.Latency?.P50)} us"
        : $"{Fmt.Millions(r.Throughput?.MessagesPerSecond)} M msg/s";
}
