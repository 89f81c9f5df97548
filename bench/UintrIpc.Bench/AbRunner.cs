using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Spectre.Console;
using UintrIpc.Bench.Analysis;
using UintrIpc.Bench.Cli;
using UintrIpc.Bench.Processes;
using UintrIpc.Bench.Reporting;
using UintrIpc.Bench.Results;
using UintrIpc.Bench.Workloads;

namespace UintrIpc.Bench;

/// <summary>
/// A/B mode (--baseline-ref / --baseline-dir): builds the harness of another checkout of this
/// repository (a git worktree of the ref in a temporary folder, or the given folder) and runs
/// each selected test alternately with that build ("A", the baseline) and this one ("B"),
/// in adjacent pairs (A B, then B A, ...), each run a fresh harness process that pins itself
/// as usual. Reports, per test, the median of the per-pair ratios B / A with their range.
/// The baseline's harness must understand `--only =NAME --no-native --no-plots --out DIR` and
/// write results.json as this one does (any ref that contains this mode).
/// </summary>
internal sealed class AbRunner
{
    /// <summary>
    /// The tests of issue 11's check, when --only is not given: SPSC and MPSC (2 producers) at the
    /// default ring and at the best settings in the sweeps (batched, 64 Ki slots for the 75f5934
    /// build; 16 Ki batched for MPSC since), and the round trips.
    /// </summary>
    public static readonly string[] DefaultTests =
        ["net-spsc-slot-s64-c1k", "net-spsc-slot-batch-s64-c64k", "net-mpsc-slot-s64-c1k-p2", "net-mpsc-slot-batch-s64-c1k-p2", "net-mpsc-slot-batch-s64-c16k-p2", "net-mpsc-slot-batch-s64-c64k-p2", "net-slotring-spin", "net-spin-cacheline"];

    private static readonly string[] s_sweep = ["--sweep"];
    private static readonly string[] s_sweepFull = ["--sweep", "--full"];
    private readonly BenchOptions _options;

    public AbRunner(BenchOptions options) => _options = options;

    public int Run()
    {
        var known = Catalog.Build(_options).Select(c => c.Name).ToHashSet(StringComparer.Ordinal);
        var sweepOptions = BenchOptions.Parse(_options.Full ? s_sweepFull : s_sweep);
        var sweep = Catalog.Build(sweepOptions).Select(c => c.Name).ToHashSet(StringComparer.Ordinal);
        var tests = _options.Only.Count == 0 ? DefaultTests.ToList()
            : known.Concat(sweep).Distinct().Where(_options.Selects).ToList();
        if (tests.Count == 0)
        {
            AnsiConsole.MarkupLine("[red]No test matches --only.[/]");
            return 2;
        }

        string work = Path.Combine(Path.GetTempPath(), $"uintripc-ab-{Environment.ProcessId}");
        string outDir = _options.OutputDirectory ?? Path.Combine("results", "ab-" + DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture));
        Directory.CreateDirectory(outDir);
        var started = DateTimeOffset.UtcNow;
        var machine = MachineInfo.Capture();
        string? worktree = null;
        try
        {
            string label = _options.BaselineRef is { } r ? $"ref {r}" : $"checkout {_options.BaselineDir}";
            string source;
            if (_options.BaselineRef is { } gitRef)
            {
                worktree = Path.Combine(work, "src");
                string root = RepositoryRoot();
                string commit = Run("git", ["-C", root, "rev-parse", "--verify", gitRef + "^{commit}"], TimeSpan.FromSeconds(30)).Output.Trim();
                label = $"ref {gitRef} ({commit[..12]})";
                Run("git", ["-C", root, "worktree", "add", "--detach", worktree, commit], TimeSpan.FromMinutes(2));
                source = worktree;
            }
            else
            {
                source = Path.GetFullPath(_options.BaselineDir!);
            }

            AnsiConsole.MarkupLine($"A/B: building the baseline ({Markup.Escape(label)}) ...");
            string baselineBin = Path.Combine(work, "bin");
            Run("dotnet", ["build", "-c", "Release", Path.Combine(source, "bench", "UintrIpc.Bench"), "-o", baselineBin, "-nologo", "-v", "q"], TimeSpan.FromMinutes(15));
            string baselineDll = Path.Combine(baselineBin, "UintrIpc.Bench.dll");
            string candidateDll = typeof(AbRunner).Assembly.Location;

            var pairs = new List<AbPair>();
            foreach (string test in tests)
            {
                bool inSweep = _options.Sweep || !known.Contains(test); // with --sweep, "known" is the sweep
                for (int i = 1; i <= _options.AbPairs; i++)
                {
                    bool baselineFirst = i % 2 == 1;
                    BenchResult? a = null, b = null;
                    foreach (bool baseline in baselineFirst ? new[] { true, false } : [false, true])
                    {
                        string dir = Path.Combine(work, "runs", $"{test}-{i}-{(baseline ? "a" : "b")}");
                        var result = RunOne(baseline ? baselineDll : candidateDll, test, inSweep, dir);
                        if (baseline)
                        {
                            a = result;
                        }
                        else
                        {
                            b = result;
                        }
                    }

                    pairs.Add(new AbPair(test, i, baselineFirst, a, b));
                    AnsiConsole.MarkupLine(Markup.Escape($"{test} pair {i}: A {Headline(a)}, B {Headline(b)}"));
                }
            }

            var report = new AbReport(label, "dotnet run -c Release --project bench/UintrIpc.Bench -- " + _options.CommandLine, started, DateTimeOffset.UtcNow, machine with { LoadAverageAfter = MachineInfo.LoadAverage() }, pairs);
            string markdown = Markdown(report);
            File.WriteAllText(Path.Combine(outDir, "ab.md"), "# UintrIpc A/B\n\n" + markdown);
            File.WriteAllText(Path.Combine(outDir, "ab.json"), JsonSerializer.Serialize(report, s_json) + "\n");
            Console.WriteLine(markdown);
            if (_options.DocsFile is { } docs)
            {
                string docsDir = Path.GetDirectoryName(Path.GetFullPath(docs))!;
                Directory.CreateDirectory(Path.Combine(docsDir, "results"));
                File.WriteAllText(Path.Combine(docsDir, "results", "ab.json"), JsonSerializer.Serialize(report, s_json) + "\n");
                DocsWriter.ReplaceSection(docs, "ab", DocsSection(report));
            }

            return pairs.Any(p => p.Baseline is null || p.Candidate is null) ? 1 : 0;
        }
        finally
        {
            if (worktree is not null)
            {
                try
                {
                    Run("git", ["-C", RepositoryRoot(), "worktree", "remove", "--force", worktree], TimeSpan.FromMinutes(1));
                }
                catch (InvalidOperationException e)
                {
                    AnsiConsole.MarkupLine($"[yellow]{Markup.Escape(e.Message)}[/]");
                }
            }

            try
            {
                Directory.Delete(work, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    /// <summary>The A/B table: per test, the median ratio B / A of the pairs with its range, and the medians of each side.</summary>
    /// <summary>The generated docs section of an A/B run (what --check-docs expects from ab.json).</summary>
    public static string DocsSection(AbReport report) => "Generated from [results/ab.json](results/ab.json).\n\n" + Markdown(report);

    /// <summary>Reads an ab.json written by an A/B run.</summary>
    public static AbReport ReadReport(string file)
        => JsonSerializer.Deserialize<AbReport>(File.ReadAllText(file), s_json) ?? throw new InvalidDataException($"{file} holds no A/B report");

    public static string Markdown(AbReport report)
    {
        var inv = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.AppendLine(inv, $"A = baseline ({report.Baseline}), B = this build. Started {report.Started:yyyy-MM-dd HH:mm:ss} UTC, took {(report.Finished - report.Started).TotalSeconds:0} s, on {report.Machine.Cpus} x {report.Machine.CpuModel}, load average (/proc/loadavg) before {report.Machine.LoadAverageBefore}, after {report.Machine.LoadAverageAfter ?? "not recorded"}; command `{report.Command}`.");
        sb.AppendLine("Each pair runs the test once with each build, adjacent in time, alternating which goes first; every run is a fresh harness process, pinned as usual, without C baselines. "
            + "Ratio = B / A of the headline: for throughput above 1 means B is faster, for latency (p50) below 1 means B is faster.");
        sb.AppendLine();
        var rows = new List<string[]>();
        foreach (var test in report.Pairs.GroupBy(p => p.Test))
        {
            var complete = test.Where(p => p.Baseline?.Headline is not null && p.Candidate?.Headline is not null).ToList();
            var ratios = Spread.Of(complete.Select(p => p.Candidate!.Headline!.Value / p.Baseline!.Headline!.Value));
            var a = Spread.Of(complete.Select(p => p.Baseline!.Headline!.Value));
            var b = Spread.Of(complete.Select(p => p.Candidate!.Headline!.Value));
            bool latency = complete.FirstOrDefault()?.Baseline?.Kind == ResultKind.Latency;
            string Value(Spread? s) => s is not { } v ? "" : latency ? $"{Fmt.Us(v.Median)} us" : $"{Fmt.Millions(v.Median)} M msg/s";
            string p99(Func<AbPair, BenchResult?> side) => latency ? Fmt.Us(Spread.Of(complete.Select(p => side(p)!.Latency!.P99))?.Median) + " us" : "";
            rows.Add(
            [
                test.Key, latency ? "p50" : "rate", Value(a), Value(b), Fmt.Spread(ratios),
                latency ? $"{p99(p => p.Baseline)} / {p99(p => p.Candidate)}" : "",
                string.Join(", ", complete.Select(p => Fmt.Number(p.Candidate!.Headline!.Value / p.Baseline!.Headline!.Value, "0.00"))),
                test.Count() == complete.Count ? "" : $"{test.Count() - complete.Count} pair(s) failed: " + string.Join("; ", test.Select(p => p.Baseline?.Error ?? p.Candidate?.Error).Where(e => e is not null).Distinct()),
            ]);
        }

        MarkdownReport.AppendTable(sb, ["Test", "Headline", "A median", "B median", "B / A: median (range, pairs)", "p99 A / B (medians)", "B / A per pair", "Failures"], rows);
        AppendMixedPercentiles(sb, report);
        return sb.ToString();
    }

    /// <summary>
    /// Names the latency tests whose two builds computed their percentiles differently: a build
    /// before the clock-step interpolation (its rows carry no <c>clock_tick_ns</c>) reads them
    /// nearest-rank, so against a later one the method alone moves a p50 by up to half a step.
    /// </summary>
    private static void AppendMixedPercentiles(StringBuilder sb, AbReport report)
    {
        var mixed = report.Pairs.Where(p => p.Baseline?.Kind == ResultKind.Latency && p.Candidate?.Kind == ResultKind.Latency
                && PercentileMethod(p.Baseline) != PercentileMethod(p.Candidate))
            .GroupBy(p => p.Test).Select(g => g.First()).ToList();
        if (mixed.Count == 0)
        {
            return;
        }

        sb.AppendLine();
        string tests = string.Join(", ", mixed.Select(p => $"`{p.Test}`"));
        sb.AppendLine($"**Percentiles computed by different methods** in {tests}: A {PercentileMethod(mixed[0].Baseline!)}, B {PercentileMethod(mixed[0].Candidate!)}. "
            + "On a stepped clock the method alone moves a percentile by up to half a step (5 ns at 10 ns), so these ratios mix method "
            + "and code: compare builds that both interpolate (docs/design-notes.md, \"rtt\").");
    }

    /// <summary>How a latency row's percentiles were computed (LatencySummary; rows of older builds carry no step).</summary>
    private static string PercentileMethod(BenchResult r)
        => r.Extra is { } e && e.TryGetValue("clock_tick_ns", out double step) && step >= 2
            ? Fmt.Invariant($"interpolated within a {step:0.#} ns clock step")
            : "nearest-rank, as read";

    private BenchResult? RunOne(string dll, string test, bool sweep, string outDir)
    {
        var args = new List<string> { dll, "--only", "=" + test, "--no-native", "--no-plots", "--repeat", "1", "--out", outDir, "--timeout", ((long)_options.Timeout.TotalSeconds).ToString(CultureInfo.InvariantCulture) };
        if (sweep)
        {
            args.Add("--sweep");
        }
        else if (_options.Rpc)
        {
            args.Add("--rpc");
        }

        if (_options.Full)
        {
            args.Add("--full");
        }

        if (!_options.Pin)
        {
            args.Add("--no-pin");
        }

        // Both builds run this build's message count (the default moved with the sweep's, 2026-12).
        args.Add("--tput-count");
        args.Add(_options.ThroughputCount.ToString(CultureInfo.InvariantCulture));

        try
        {
            string results = Path.Combine(outDir, "results.json");
            if (Run("dotnet", args, _options.Timeout * 3, allowFailure: true) is { ExitCode: not 0 } failed && !File.Exists(results))
            {
                // Say why, not only that the file is missing: the run's own last words.
                throw new InvalidOperationException($"the harness wrote no results.json (exit code {failed.ExitCode}): {failed.Tail}");
            }

            var report = JsonReport.Read(results);
            return report.Results.FirstOrDefault(r => r.Name == test && !r.IsNative && r.Stage == RunStage.Main);
        }
        catch (Exception e) when (e is IOException or JsonException or InvalidDataException or InvalidOperationException)
        {
            return new BenchResult { Name = test, Kind = ResultKind.Throughput, Implementation = "uintripc", Transport = "unknown", Error = e.Message };
        }
    }

    private static string Headline(BenchResult? r) => r is null || !r.Ok ? "FAILED " + r?.Error
        : r.Kind == ResultKind.Latency ? $"p50 {Fmt.Us(r.Latency!.P50)} us" : $"{Fmt.Millions(r.Throughput!.MessagesPerSecond)} M msg/s";

    /// <summary>The folder holding UintrIpc.sln, above the current directory or this program.</summary>
    private static string RepositoryRoot()
    {
        foreach (string start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "UintrIpc.sln")))
                {
                    return dir.FullName;
                }
            }
        }

        throw new InvalidOperationException("Could not find the repository (UintrIpc.sln) above the current directory: run the A/B mode from the checkout.");
    }

    /// <summary>Runs a program to completion (bounded); returns its stdout; throws with its output when it fails.</summary>
    /// <summary>Runs <paramref name="program"/>; its exit code, standard output, and the last 2,000 characters of both streams.</summary>
    private static ProgramRun Run(string program, IEnumerable<string> args, TimeSpan timeout, bool allowFailure = false)
    {
        var psi = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {program}");
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeout))
        {
            p.Kill(entireProcessTree: true);
            p.WaitForExit(5000);
            throw new InvalidOperationException($"{program} {string.Join(' ', psi.ArgumentList)} did not finish within {timeout.TotalSeconds:0} s");
        }

        p.WaitForExit();
        string both = (stdout.Result + stderr.Result).Trim();
        var run = new ProgramRun(p.ExitCode, stdout.Result, both[Math.Max(0, both.Length - 2000)..]);
        if (run.ExitCode != 0 && !allowFailure)
        {
            throw new InvalidOperationException($"{program} {string.Join(' ', psi.ArgumentList)} failed with exit code {run.ExitCode}: {run.Tail}");
        }

        return run;
    }

    private readonly record struct ProgramRun(int ExitCode, string Output, string Tail);

    private static readonly JsonSerializerOptions s_json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull,
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };
}

/// <summary>One A/B pair: the same test run once with the baseline build (A) and once with this build (B), adjacent in time.</summary>
internal sealed record AbPair(string Test, int Pair, bool BaselineFirst, BenchResult? Baseline, BenchResult? Candidate);

/// <summary>An A/B run, as written to ab.json.</summary>
internal sealed record AbReport(string Baseline, string Command, DateTimeOffset Started, DateTimeOffset Finished, MachineInfo Machine, IReadOnlyList<AbPair> Pairs);
