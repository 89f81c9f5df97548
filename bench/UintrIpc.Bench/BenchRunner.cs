using System.Globalization;
using Spectre.Console;
using UintrIpc.Bench.Analysis;
using UintrIpc.Bench.Cli;
using UintrIpc.Bench.Native;
using UintrIpc.Bench.Processes;
using UintrIpc.Bench.Reporting;
using UintrIpc.Bench.Results;
using UintrIpc.Bench.Workloads;
using UintrIpc.Bench.Workloads.Throughput;
using UintrIpc.Signaling;

namespace UintrIpc.Bench;

/// <summary>Runs the selected tests group by group, each repetition next to its C baseline, then writes the reports.</summary>
internal sealed class BenchRunner
{
    private readonly BenchOptions _options;
    private readonly NativeBench _native = new();

    /// <summary>How long the sweep's confirmation stage took (for the settings: what the stage adds to a sweep).</summary>
    private TimeSpan? _confirmationTime;

    /// <summary>How long the sweep's pick stage took.</summary>
    private TimeSpan? _pickTime;

    /// <summary>Repetitions (at least) of the tests the targets use.</summary>
    private const int TargetRepeats = 5;

    public BenchRunner(BenchOptions options) => _options = options;

    public int Run()
    {
        if (_options.CheckDocs is { } check)
        {
            return CheckDocs(check);
        }

        if (_options.NativeDocs is { } nativeDocs)
        {
            NativeBaselineReport.WriteDocs(nativeDocs);
            AnsiConsole.MarkupLine($"Docs: section [bold]{NativeBaselineReport.Section}[/] of {Markup.Escape(nativeDocs)}");
            return 0;
        }

        if (_options.ReportFrom is { } from)
        {
            var loaded = JsonReport.Read(from);
            Publish(loaded, _options.OutputDirectory ?? Path.Combine("results", "from-" + Path.GetFileNameWithoutExtension(from)), from);
            return 0;
        }

        if (_options.IsAb)
        {
            return new AbRunner(_options).Run();
        }

        var cases = Catalog.Build(_options).Where(c => _options.Selects(c.Name)).ToList();
        if (_options.List)
        {
            foreach (var c in cases)
            {
                string paired = string.Join(", ", c.PairedTests.Select(t => t.Name).Concat(c.Companions.Select(t => t.Name)));
                AnsiConsole.MarkupLine($"  {Markup.Escape(c.Name),-40} {Markup.Escape(paired)}{(c.SkipReason is { } s ? $" [yellow](skipped: {Markup.Escape(s)})[/]" : "")}");
            }

            return 0;
        }

        if (cases.Count == 0)
        {
            AnsiConsole.MarkupLine("[red]No test matches --only.[/]");
            return 2;
        }

        if (_options.Pin)
        {
            // Every thread of the harness (the measuring side) on CPU 0; children re-pin to theirs.
            Affinity.PinProcess(0);
        }

        string outDir = _options.OutputDirectory ?? Path.Combine("results", DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture));
        Directory.CreateDirectory(outDir);
        var started = DateTimeOffset.UtcNow;
        var machine = MachineInfo.Capture();
        var doorbells = Doorbells.All.Select(d => new DoorbellInfo(DoorbellNames.Of(d.Kind), d.IsAvailable, d.Reason)).ToList();
        var results = new List<BenchResult>();
        var groups = cases.GroupBy(c => c.Group).OrderBy(g => g.Key).ToList();

        AnsiConsole.MarkupLine($"UintrIpc bench, [bold]{_options.Mode}[/] mode: {cases.Count} .NET tests{(_options.Native ? ", each next to its C baseline" : "")}; load average {Markup.Escape(machine.LoadAverageBefore)}");
        AnsiConsole.Progress()
            .AutoRefresh(false) // no render thread competing with the measured processes for the CPUs
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
            .Start(progress =>
            {
                var overall = progress.AddTask("all tests", maxValue: cases.Count + groups.Count);
                var current = progress.AddTask("starting", maxValue: 1);
                progress.Refresh();
                foreach (var group in groups)
                {
                    if (_options.Native && Catalog.NativeOnly(group.Key) is { Count: > 0 } only)
                    {
                        current.Description = Markup.Escape($"C: {string.Join(',', only)}");
                        progress.Refresh();
                        results.AddRange(_native.Run(string.Join(',', only), NativeArgs(group.Key, null), _options.Timeout * 10));
                    }

                    overall.Increment(1);
                    foreach (var c in group)
                    {
                        current.Description = Markup.Escape(c.Name);
                        progress.Refresh();
                        var runs = RunRepeated(c, Repeats(c));
                        results.AddRange(runs);
                        overall.Increment(1);
                        current.Description = Markup.Escape($"{c.Name}: {Summary(runs.Where(r => !r.IsNative).ToList())}");
                        progress.Refresh();
                    }
                }

                if (PickStage())
                {
                    // Each cell's candidates of both sides within one stretch of time, so that the
                    // host's speed modes fall on .NET and C, and on every candidate, alike.
                    var plan = SweepBest.ToPick(Ratios.Summarize(results));
                    overall.MaxValue += plan.Count;
                    long pickStarted = System.Diagnostics.Stopwatch.GetTimestamp();
                    foreach (var cell in plan)
                    {
                        current.Description = Markup.Escape($"picking among {string.Join(", ", cell.Select(x => x.Test))}");
                        progress.Refresh();
                        results.AddRange(RunPickRounds(cell.Select(x => (cases.First(c => c.Name == x.Test), x.Net, x.Native)).ToList()));
                        overall.Increment(1);
                    }

                    _pickTime = System.Diagnostics.Stopwatch.GetElapsedTime(pickStarted);
                }

                if (ConfirmationStage())
                {
                    // Chosen from the sweep's rows and pick rounds as the report will choose them
                    // (SweepBest), so the table's best setting per kind and size is the one confirmed.
                    var confirm = SweepBest.ToConfirm(Ratios.Summarize(results), results).Select(name => cases.First(x => x.Name == name)).ToList();
                    overall.MaxValue += confirm.Count;
                    long confirmStarted = System.Diagnostics.Stopwatch.GetTimestamp();
                    foreach (var c in confirm)
                    {
                        current.Description = Markup.Escape($"confirming {c.Name}");
                        progress.Refresh();
                        var runs = RunConfirmationPairs(c, _options.ConfirmPairs, first: 1);
                        int made = _options.ConfirmPairs;
                        while (SweepBest.MorePairs(new CaseSummary(runs.Where(r => r.PairedWith is null).ToList(), runs.Where(r => r.PairedWith is not null).ToList(), HostMode.Counts), _options.ConfirmPairs) is > 0 and var more)
                        {
                            runs.AddRange(RunConfirmationPairs(c, more, first: made + 1));
                            made += more;
                        }

                        foreach (var r in runs)
                        {
                            r.Stage = RunStage.Confirmation;
                        }

                        results.AddRange(runs);
                        overall.Increment(1);
                        current.Description = Markup.Escape($"confirmed {c.Name}: {Summary(runs.Where(r => !r.IsNative).ToList())}");
                        progress.Refresh();
                    }

                    _confirmationTime = System.Diagnostics.Stopwatch.GetElapsedTime(confirmStarted);
                }

                current.Description = "done";
                current.Value = 1;
                progress.Refresh();
            });

        var report = new RunReport(
            _options.Mode, "dotnet run -c Release --project bench/UintrIpc.Bench" + (_options.CommandLine.Length > 0 ? " -- " + _options.CommandLine : ""),
            started, DateTimeOffset.UtcNow, machine with { LoadAverageAfter = MachineInfo.LoadAverage() },
            _native.Commands.Distinct().ToList(), doorbells, results, Settings());
        Publish(report, outDir, null);
        return results.Any(r => !r.Ok && !r.Skipped) ? 1 : 0;
    }

    /// <summary>Writes report.md, results.json, results.csv and plots to <paramref name="outDir"/>, the console tables, and with --docs the docs section.</summary>
    private void Publish(RunReport report, string outDir, string? sourceJson)
    {
        Directory.CreateDirectory(outDir);
        var shown = ShownRuns(report);
        var plots = _options.Plots ? WritePlots(shown, outDir) : [];
        MarkdownReport.Write(report, Path.Combine(outDir, "report.md"), plots.Select(Path.GetFileName).ToList()!);
        string json = Path.Combine(outDir, "results.json");
        if (sourceJson is null || Path.GetFullPath(sourceJson) != Path.GetFullPath(json))
        {
            JsonReport.Write(report, json);
        }

        CsvReport.Write(report.Results, Path.Combine(outDir, "results.csv"));
        ConsoleReport.Write(report, outDir);
        if (_options.DocsFile is { } docs)
        {
            WriteDocs(report, docs, plots, sourceJson);
        }
    }

    private static void WriteDocs(RunReport report, string docsFile, IReadOnlyList<string> plots, string? sourceJson)
    {
        string docsDir = Path.GetDirectoryName(Path.GetFullPath(docsFile))!;
        string section = report.Mode;
        string resultsFile = Path.Combine(docsDir, "results", section + ".json");
        Directory.CreateDirectory(Path.GetDirectoryName(resultsFile)!);
        if (sourceJson is null || Path.GetFullPath(sourceJson) != Path.GetFullPath(resultsFile))
        {
            JsonReport.Write(report, resultsFile);
        }

        foreach (var plot in plots)
        {
            Directory.CreateDirectory(Path.Combine(docsDir, "img"));
            File.Copy(plot, Path.Combine(docsDir, "img", $"{section}-{Path.GetFileName(plot)}"), overwrite: true);
        }

        var docPlots = DocPlots(docsDir, section);

        DocsWriter.ReplaceSection(docsFile, section, DocsSection(report, docPlots));
        AnsiConsole.MarkupLine($"Docs: section [bold]{Markup.Escape(section)}[/] of {Markup.Escape(docsFile)}, {Markup.Escape(resultsFile)}");
    }

    /// <summary>The plots of a section present in docs/img, as paths relative to the docs file.</summary>
    private static List<string> DocPlots(string docsDir, string section) =>
        PlotWriter.FileNames.Select(f => $"img/{section}-{f}").Where(f => File.Exists(Path.Combine(docsDir, f))).ToList();

    /// <summary>The generated docs section of a run (plots given as paths relative to the docs file).</summary>
    private static string DocsSection(RunReport report, IReadOnlyList<string> docPlots)
    {
        string section = report.Mode;
        string header = $"Generated from [results/{section}.json](results/{section}.json) (the run's every measurement). "
            + $"Regenerate this section from it with `dotnet run -c Release --project bench/UintrIpc.Bench -- --report-from docs/results/{section}.json --docs docs/benchmarks.md`; "
            + $"re-run the measurement with `{(report.Command.Contains("--docs", StringComparison.Ordinal) ? report.Command : report.Command + " --docs docs/benchmarks.md")}`.\n\n";
        return header + MarkdownReport.Body(report, docPlots, "###");
    }

    /// <summary>
    /// --check-docs: every generated section of <paramref name="docsFile"/> that has a results file
    /// in docs/results/ must be exactly what the harness generates from that file (no hand edits,
    /// no stale tables). Returns 0 when all match.
    /// </summary>
    public static int CheckDocs(string docsFile)
    {
        string docsDir = Path.GetDirectoryName(Path.GetFullPath(docsFile))!;
        string text = File.ReadAllText(docsFile);
        int checkedSections = 0, stale = 0;
        foreach (string json in Directory.EnumerateFiles(Path.Combine(docsDir, "results"), "*.json").Order(StringComparer.Ordinal))
        {
            string section = Path.GetFileNameWithoutExtension(json);
            if (Generated(text, section) is not { } actual)
            {
                continue; // a results file without a section is not shown
            }

            string expected = (section == "ab" ? AbRunner.DocsSection(AbRunner.ReadReport(json))
                : DocsSection(JsonReport.Read(json), DocPlots(docsDir, section))).TrimEnd();
            checkedSections++;
            if (!string.Equals(expected, actual, StringComparison.Ordinal))
            {
                stale++;
                Console.Error.WriteLine($"{docsFile}: section '{section}' is not what {json} generates; {(section == "ab" ? "re-run the A/B with --baseline-ref REF --docs " + docsFile : $"regenerate it with --report-from {Path.GetRelativePath(Directory.GetCurrentDirectory(), json)} --docs {docsFile}")}");
            }
        }

        if (Generated(text, NativeBaselineReport.Section) is { } native)
        {
            checkedSections++;
            if (!string.Equals(NativeBaselineReport.Body(docsDir).TrimEnd(), native, StringComparison.Ordinal))
            {
                stale++;
                Console.Error.WriteLine($"{docsFile}: section '{NativeBaselineReport.Section}' is not what {NativeBaselineReport.DataFolder}/ generates; regenerate it with --native-docs {docsFile}");
            }
        }

        Console.WriteLine($"{checkedSections} generated section(s) of {docsFile} checked against their results files, {stale} differ");
        return stale == 0 ? 0 : 1;
    }

    /// <summary>The text between the markers of <paramref name="section"/> in <paramref name="text"/>, or null when it has no such section.</summary>
    private static string? Generated(string text, string section)
    {
        string begin = DocsWriter.Begin(section), end = DocsWriter.End(section);
        int b = text.IndexOf(begin, StringComparison.Ordinal), e = text.IndexOf(end, StringComparison.Ordinal);
        return b < 0 || e < b ? null : text[(b + begin.Length)..e].Trim('\n');
    }

    /// <summary>The runs the tables show (for the plots): each .NET row, its paired C run, and the C runs made for the tables.</summary>
    private static List<BenchResult> ShownRuns(RunReport report)
    {
        var cases = Ratios.Summarize(report.Results);
        var nativeOnly = Ratios.NativeOnly(report.Results).ToList();
        return [.. ReportRows.Rows(cases, nativeOnly, ResultKind.Latency).Select(x => x.Run), .. ReportRows.Rows(cases, nativeOnly, ResultKind.Throughput).Select(x => x.Run)];
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
    /// Whether this run has the sweep's confirmation stage: only with C baselines to confirm
    /// against (the A/B mode's runs pass --no-native, so they stay one run per test).
    /// </summary>
    private bool ConfirmationStage() => _options.Sweep && _options.Native && _options.ConfirmPairs > 0;

    /// <summary>
    /// Whether this run has the sweep's pick stage: as the confirmation stage, only with C baselines
    /// (a pick for .NET alone would not be the same rule as C's; --no-native runs stay one run per test).
    /// </summary>
    private bool PickStage() => _options.Sweep && _options.Native && _options.PickRounds > 0;

    /// <summary>How often the case runs: --repeat times, the target tests at least 5.</summary>
    private int Repeats(BenchCase c) =>
        // An explicit --repeat is obeyed (the A/B mode passes 1); otherwise the targets' tests run at least 5 times.
        c.SkipReason is not null ? 1
            : _options.RepeatOverride is { } given ? given
            : Targets.Subjects.Contains(c.Name) ? Math.Max(TargetRepeats, _options.Repeat) : _options.Repeat;

    /// <summary>
    /// Runs the case <paramref name="repeat"/> times, each repetition next to a run of its C
    /// baselines: odd repetitions C first, even ones .NET first, so that a drift of the machine
    /// during the run does not always favour the same side.
    /// </summary>
    private List<BenchResult> RunRepeated(BenchCase c, int repeat, int first = 1)
    {
        var runs = new List<BenchResult>();
        for (int i = first; i < first + repeat; i++)
        {
            bool netFirst = i % 2 == 0;
            if (Interleaved(c))
            {
                runs.AddRange(RunInterleaved(c, i, cFirst: !netFirst));
                continue;
            }

            if (!netFirst)
            {
                runs.AddRange(RunPaired(c, i));
            }

            var r = RunCase(c);
            r.Repetition = i;
            runs.Add(r);
            if (netFirst)
            {
                runs.AddRange(RunPaired(c, i));
            }
        }

        return runs;
    }

    /// <summary>
    /// <paramref name="repeat"/> confirmation pairs as <see cref="RunRepeated"/> makes them, each with the
    /// host-mode probe (--mode-probe) before, between and after its two runs: each run carries the
    /// probes on either side of it (<see cref="BenchResult.ModeProbes"/>, Analysis.HostMode).
    /// </summary>
    private List<BenchResult> RunConfirmationPairs(BenchCase c, int repeat, int first)
    {
        if (_options.ModeProbe == 0 || !_options.Native)
        {
            return RunRepeated(c, repeat, first);
        }

        var runs = new List<BenchResult>();
        for (int i = first; i < first + repeat; i++)
        {
            // The order of RunRepeated: C first in odd pairs, .NET first in even ones.
            bool netFirst = i % 2 == 0;
            double before = ModeProbe();
            List<BenchResult> one = netFirst ? [RunCase(c)] : RunPaired(c, i);
            double between = ModeProbe();
            List<BenchResult> other = netFirst ? RunPaired(c, i) : [RunCase(c)];
            double after = ModeProbe();
            one.ForEach(r => r.ModeProbes = [before, between]);
            other.ForEach(r => r.ModeProbes = [between, after]);
            foreach (var r in one.Concat(other))
            {
                r.Repetition = i;
                runs.Add(r);
            }
        }

        return runs;
    }

    /// <summary>The host's mode now: the p50 round trip (ns) of a c-spin-cacheline run of --mode-probe round trips; 0 when it failed.</summary>
    private double ModeProbe()
    {
        var inv = CultureInfo.InvariantCulture;
        List<string> args = ["--timeout", ((long)_options.Timeout.TotalSeconds).ToString(inv), "--iters", _options.ModeProbe.ToString(inv)];
        if (_options.Pin)
        {
            args.Add("--pin");
        }

        var probe = _native.Run("c-spin-cacheline", args, _options.Timeout * 2);
        return probe.Count == 1 && probe[0] is { Ok: true, Latency.P50: > 0 and var p50 } ? p50 : 0;
    }

    /// <summary>
    /// The pick stage of one ring kind and size: --pick-rounds rounds, each running every candidate
    /// once (its .NET test, its C ring, or both next to each other), C first in odd rounds and
    /// .NET first in even ones, the settings in reverse order in even rounds, so that no side and
    /// no candidate always runs first.
    /// </summary>
    private List<BenchResult> RunPickRounds(IReadOnlyList<(BenchCase Case, bool Net, bool Native)> candidates)
    {
        var runs = new List<BenchResult>();
        for (int round = 1; round <= _options.PickRounds; round++)
        {
            bool netFirst = round % 2 == 0;
            foreach (var (c, net, native) in netFirst ? candidates.Reverse() : candidates)
            {
                var these = new List<BenchResult>();
                if (native && !netFirst)
                {
                    these.AddRange(RunNative(c, round));
                }

                if (net)
                {
                    var r = RunCase(c);
                    r.Repetition = round;
                    these.Add(r);
                }

                if (native && netFirst)
                {
                    these.AddRange(RunNative(c, round));
                }

                these.ForEach(r => r.Stage = RunStage.Pick);
                runs.AddRange(these);
            }
        }

        return runs;
    }

    /// <summary>Runs the C tests and the .NET companions <paramref name="c"/> is paired with, now, tagged with the repetition.</summary>
    private List<BenchResult> RunPaired(BenchCase c, int repetition, bool native = true)
    {
        var paired = new List<BenchResult>();
        if (c.SkipReason is not null)
        {
            return paired;
        }

        foreach (var companion in c.Companions)
        {
            var r = RunCase(companion);
            r.Repetition = repetition;
            r.PairedWith = c.Name;
            paired.Add(r);
        }

        if (native)
        {
            paired.AddRange(RunNative(c, repetition));
        }

        return paired;
    }

    /// <summary>Whether <paramref name="c"/>'s pairs with its C tests are interleaved segments (--floor-segments).</summary>
    private bool Interleaved(BenchCase c) =>
        c.InterleavesFloor && c.SkipReason is null && _options.Native && _options.FloorSegments > 0 && c.PairedTests.Any();

    /// <summary>
    /// One pair of an interleaved case: its companions whole (before it when <paramref name="cFirst"/>,
    /// else after), and the .NET run in --floor-segments segments, each next to a run of its C tests
    /// of the segment's share of the samples (segment 0 C first when <paramref name="cFirst"/>, then
    /// alternating). Each C test's result is its median segment (p50) with every segment attached.
    /// </summary>
    private List<BenchResult> RunInterleaved(BenchCase c, int repetition, bool cFirst)
    {
        var runs = new List<BenchResult>();
        if (cFirst)
        {
            runs.AddRange(RunPaired(c, repetition, native: false));
        }

        var segments = new List<BenchResult>();
        var floor = new Workloads.Latency.FloorSegments(_options.FloorSegments, cFirst, (_, iters) => segments.AddRange(RunNative(c, repetition, iters)));
        var net = RunCase(c, floor);
        net.Repetition = repetition;
        runs.Add(net);
        runs.AddRange(segments.GroupBy(r => r.Name, StringComparer.Ordinal).Select(MedianSegment));
        if (!cFirst)
        {
            runs.AddRange(RunPaired(c, repetition, native: false));
        }

        return runs;
    }

    /// <summary>The C result of one test's segments: a failed one if any failed, else the segment of the median p50 carrying all of them.</summary>
    private static BenchResult MedianSegment(IEnumerable<BenchResult> segments)
    {
        var all = segments.ToList();
        if (all.FirstOrDefault(r => !r.Ok || r.Latency is null) is { } failed)
        {
            return failed;
        }

        var median = all.OrderBy(r => r.Latency!.P50).ElementAt((all.Count - 1) / 2);
        median.Segments = all.Select(r => r.Latency!).ToList();
        return median;
    }

    /// <summary>Runs the C tests <paramref name="c"/> is paired with (none with --no-native), now, tagged with the repetition; <paramref name="iters"/> overrides the group's --iters.</summary>
    private List<BenchResult> RunNative(BenchCase c, int repetition, long? iters = null)
    {
        var paired = new List<BenchResult>();
        if (c.SkipReason is not null || !_options.Native)
        {
            return paired;
        }

        foreach (var setting in c.PairedTests.GroupBy(t => string.Join(' ', t.Args)))
        {
            var tests = setting.ToList();
            var args = NativeArgs(c.Group, c);
            if (iters is { } n && args.IndexOf("--iters") is int at and >= 0)
            {
                args[at + 1] = n.ToString(CultureInfo.InvariantCulture);
            }

            args.AddRange(tests[0].Args);
            foreach (var r in _native.Run(string.Join(',', tests.Select(t => t.Selection)), args, _options.Timeout * 2))
            {
                r.Repetition = repetition;
                r.PairedWith = c.Name;
                paired.Add(r);
            }
        }

        return paired;
    }

    private BenchResult RunCase(BenchCase c, Workloads.Latency.FloorSegments? floor = null)
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
                result = c.Run(new CaseContext(_options) { Floor = floor });
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

    /// <summary>The C program's arguments for a group (and a throughput case: the same message count as .NET).</summary>
    private List<string> NativeArgs(BenchGroup group, BenchCase? c)
    {
        var inv = CultureInfo.InvariantCulture;
        var args = new List<string>
        {
            "--timeout", ((long)_options.Timeout.TotalSeconds).ToString(inv),
            "--spin-ns", ((long)(_options.SpinBudget.TotalMilliseconds * 1e6)).ToString(inv),
        };
        switch (group)
        {
            case BenchGroup.Spinning:
                args.AddRange(["--iters", _options.SpinSamples.ToString(inv)]);
                break;
            case BenchGroup.Sleeping or BenchGroup.Kernel:
                args.AddRange(["--iters", _options.SleepSamples.ToString(inv)]);
                break;
            case BenchGroup.Rpc:
                // As many round trips as the forwarded test it is paired with (RpcMeasure.Latency).
                args.AddRange(["--iters", (c?.Consumer == "asleep" ? _options.SleepSamples : _options.SpinSamples).ToString(inv)]);
                break;
            default:
                long count = c?.Spec is { } spec ? ThroughputRun.MessageCount(_options, spec) : _options.ThroughputCount;
                args.AddRange(["--tput-count", count.ToString(inv), "--tput-bytes", (count * Math.Max(1, c?.MessageSize ?? 1)).ToString(inv)]);
                break;
        }

        if (_options.Pin)
        {
            args.Add("--pin");
        }

        return args;
    }

    private Dictionary<string, string> Settings()
    {
        var settings = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["Latency samples (spinning / sleeping)"] = $"{_options.SpinSamples} / {_options.SleepSamples}",
            ["Minimum warm-up per .NET test"] = $"{_options.WarmupTime.TotalMilliseconds:0} ms",
            ["Spin budget of the awake doorbell tests"] = _options.Rpc ? "the RPC layer's defaults: spin 2 us, yield 50 us, then sleep (RpcServerOptions.DefaultSpinBudget, DefaultYieldBudget)" : $"{_options.SpinBudget.TotalMicroseconds:0} us",
            ["File copied by the copy tests"] = $"{_options.RpcCopyBytes >> 20} MiB, {Workloads.Rpc.RpcMeasure.CopyChunk >> 10} KiB per read and write",
            ["Throughput messages (rings / pipes and sockets)"] = $"{_options.ThroughputCount} / {_options.StreamThroughputCount}, at most {_options.ThroughputBytes >> 20} MiB of payload, at least 4 ring laps",
            ["MPSC producers (N)"] = _options.Producers.ToString(CultureInfo.InvariantCulture),
            ["Batch (batched forms)"] = $"{Batch.Size} messages",
            ["Pause between reply and next ping in the asleep tests"] = $"{_options.Gap.TotalMicroseconds:0} us",
            ["Repeats per .NET test, each next to a C run"] = _options.RepeatOverride is { } r ? $"{r}"
                : $"{_options.Repeat} (at least {TargetRepeats} for the tests the targets use: {string.Join(", ", Targets.Subjects)})",
            ["Ring throughput consumer (.NET)"] = _options.Consumer switch
            {
                ConsumerPlacement.Child => "a fresh child process per run (as the C baseline's), pinned as the measuring process",
                ConsumerPlacement.Both => "in the harness process; next to each run, the same test with its consumer in a fresh child process (<row>-child-consumer)",
                _ => "a thread of the harness process, pinned as the measuring process",
            },
            ["Pinned"] = _options.Pin
                ? "yes: every thread of the measuring process (harness, C parent) on CPU 0, every thread of the other process (.NET child, C child) on CPU 1, further MPSC producers wrap around"
                : "no",
        };
        if (_options.Sweep)
        {
            if (PickStage())
            {
                settings["Pick stage"] = $"per ring kind and size, each side's {SettingPick.Size} fastest settings of the sweep (.NET and C alike), each run once per round in {_options.PickRounds} rounds; "
                    + "the highest median over the rounds is the side's best setting"
                    + (_pickTime is { } picked ? $"; it took {picked.TotalSeconds:0} s of the run" : "");
            }

            settings["Confirmation stage"] = ConfirmationStage()
                ? $"the best setting of each ring kind with a C ring and size, run again with that C ring as {_options.ConfirmPairs} adjacent pairs, alternating which goes first"
                    + (_options.ModeProbe > 0 ? $", each pair with a host-mode probe (c-spin-cacheline, {_options.ModeProbe} round trips) before, between and after its runs; a pair whose probes differ by more than {HostMode.Tolerance}x is mixed, not counted, and replaced by another pair (again while the replacements are mixed, at most {SweepBest.MaxPairsFactor * _options.ConfirmPairs} pairs in all)" : "")
                    + (_options.ConfirmPairs > 1 ? $", {_options.ConfirmPairs - 1} more where their {(_options.ModeProbe > 0 ? "counted " : "")}ratios lay on both sides of 1" : "")
                    + (_confirmationTime is { } took ? $"; it took {took.TotalSeconds:0} s of the run" : "")
                : "none";
        }

        return settings;
    }

    private static string Summary(List<BenchResult> runs)
    {
        var ok = runs.Where(r => r.Ok && r.Headline is not null).ToList();
        if (ok.Count == 0)
        {
            return runs.Count > 0 && runs[0].Skipped ? "skipped" : "FAILED";
        }

        return runs[0].Kind == ResultKind.Latency
            ? "p50 " + string.Join(", ", ok.Select(r => Fmt.Us(r.Latency!.P50))) + " us"
            : string.Join(", ", ok.Select(r => Fmt.Millions(r.Throughput!.MessagesPerSecond))) + " M msg/s";
    }
}
