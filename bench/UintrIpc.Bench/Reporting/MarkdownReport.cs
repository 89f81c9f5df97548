using System.Globalization;
using System.Text;
using UintrIpc.Bench.Analysis;
using UintrIpc.Bench.Results;

namespace UintrIpc.Bench.Reporting;

/// <summary>report.md: the run as Markdown (tables, targets, machine, plots, method).</summary>
internal static class MarkdownReport
{
    /// <summary>How the numbers were taken; also pasted into docs/benchmarks.md.</summary>
    public const string Method = """
        - **Two real processes** per test: the harness (the measuring side) and a child it starts
          by re-executing its own dll (`dotnet UintrIpc.Bench.dll --child ROLE ...`). The region is
          an anonymous memfd the child inherits (nothing is left in /dev/shm); the parent's eventfd
          and uintr-sim vector fd reach the child by inheritance too, the child's reach the parent
          through `pidfd_getfd`. Every wait is bounded; children die with the harness (their stdin
          closes) and are killed when a test times out.
        - **C baselines** (bench/native, the same designs and protocols in C, forked child): the C
          test a .NET test is compared with runs **next to every repetition** of that .NET test,
          alternately right before and right after it (a "pair"): the host moves the vCPUs and
          the floor can change several-fold within seconds, so only numbers taken moments apart
          are compared. The ratio column is the **median of the per-pair ratios** with their
          range (min-max) and the number of pairs. The .NET row shows the repetition whose ratio
          is nearest that median ("run k/n"), and the `└` row under it the C run of the same pair:
          every figure in a row comes from the run that row names. C tests that no .NET test is
          paired with (the bare kernel mechanisms) run once and stand alone.
        - **Like for like**: the C futex, eventfd and signal baselines of the doorbell rows run
          the library's wake-up protocol (uintripc.h section 3, `WaitBlock`): slot ring + wait
          block + the same doorbell (FUTEX_WAIT/WAKE on the shared word, a non-blocking eventfd
          with ppoll, tgkill + sigtimedwait). The awake rows of every doorbell are paired with
          the C futex-spin test: awake, no doorbell is rung, so every kind runs the same path.
          `c-eventfd-pingpong` and `c-signal-pingpong` (no ring) only show the bare mechanisms.
          Record-ring rows are paired with a C SPSC record ring (section 2b) that consumes the same
          way (per record, or up to 64 records per head release); slot-ring rows with the C slot
          ring of the same capacity and form; MPSC slot-ring rows with a C MPSC slot ring (one CAS
          on tail per claim of one slot or a batch) fed by as many producer processes; MPSC
          record-ring rows with a C MPSC record ring (section 2e: one CAS on tail per record or per
          range of up to 32 records, each record marked claimed before its payload) likewise.
          The uintr-sim rows are a software model and have no baseline.
        - **Latency** = one round trip: the pinger reads `Stopwatch.GetTimestamp()`
          (CLOCK_MONOTONIC through the vDSO, the clock the C baseline reads), sends a 64-bit value,
          waits for the echo, reads the clock again. Samples go into a preallocated array and then
          into an HdrHistogram (3 significant digits); p50 ... max are over all samples.
        - **Warm-up**: every .NET test runs at least `--warmup-ms` (500 ms quick, 2 s full) and a
          tenth of its samples before measuring, so the library's methods have been promoted by
          tiered compilation (with dynamic PGO); the measuring loops themselves are
          `AggressiveOptimization`. A marker round trip separates warm-up from measurement.
        - **Consumer awake** (`spinning`): a consumer that finds its ring empty polls the slot it
          reads next with `pause` for up to the spin budget (50 us, the C `futex-spin` test's
          default) before it parks through `WaitBlock.Park`; the producer calls
          `WaitBlock.WakeIfSleeping` after every message (a full fence and one load while the
          consumer is awake). In a ping-pong the reply always comes within the budget, so this
          measures the protocol's cost when nobody sleeps.
        - **Consumer asleep**: spin budget 0: a consumer that finds its ring empty parks at once
          (announces the sleep, fence, re-checks the ring, blocks in its doorbell), so each message
          finds its consumer asleep and costs one doorbell ring and one kernel wake-up. The
          `wakes/msg` and `sleeps/msg` columns of results.csv show that this really happened (about
          1.0 each); the C `futex` test does the same (spin 0).
        - **Throughput**: the harness consumes, the child(ren) produce, both spin. Producers run
          their warm-up until the consumer flips a phase word in shared memory (after the warm-up
          time and a tenth of the count); the consumer times from the first measured message to
          the last on the monotonic clock. Every message carries its producer and sequence number in
          its first 8 bytes, checked by the consumer; the payload is copied in by the producer
          and out by the consumer, as in the C test.
        - **CPU per message**: each process reads its own CLOCK_PROCESS_CPUTIME_ID (all its
          threads) over its measured part and divides by the messages (round trips) it handled;
          the child reports its figure on stdout. `util` = CPU time / wall time: about 1.00 for a
          spinning side; well below means the side did not get its CPU and the run was disturbed.
        - **Ratio** (`x C`): latency = .NET p50 / C p50 of the same pair (below 1 is faster than
          C); throughput = .NET rate / C rate of the same pair (above 1 is faster). Each .NET test
          runs `--repeat` times (quick 1, full 3), the tests the targets use at least 5 times.
        - **Pinning** (`--pin`, the default): every thread of the measuring process (the harness:
          pinger or consumer; the C parent) on CPU 0, every thread of the other process (the .NET
          child, all its runtime threads included; the forked C child) on CPU 1; further MPSC
          producers wrap around to CPU 0.
        - **Ring pages** are mapped by both processes before measuring (a read per page), in .NET
          and in C, so that first-touch faults of large rings do not land in the measured part.
        - The machine is shared and virtual: the host moves vCPUs, and tails (p99 and up, max) are
          dominated by it. Compare numbers from the same run only.
        """;

    /// <summary>
    /// The method text plus what a pair is for the rows measured in segments interleaved with their
    /// C tests (--floor-segments); results without such rows keep the text they were taken under.
    /// </summary>
    private static string WithFloorSegments(string method, RunReport report)
    {
        var segmented = report.Results.Where(r => !r.IsNative && r.Segments is { Count: > 0 }).ToList();
        if (segmented.Count == 0)
        {
            return method;
        }

        string names = string.Join(", ", segmented.Select(r => $"`{r.Name}`").Distinct());
        int segments = segmented.Max(r => r.Segments!.Count);
        return method + Fmt.Invariant($"""

            - **Interleaved pairs** ({names}): the host switches between a fast and a slow mode of the
              one-line floor within seconds (the sweep's mode probes show both), so a whole .NET run
              and a whole C run side by side can each land in a different mode. For these rows a pair
              is one .NET run whose samples are taken in {segments} segments (`--floor-segments`), each
              right next to a run of every C test paired with it of that segment's share of the
              samples (C first in even segments of odd pairs and in odd segments of even pairs, after
              otherwise); while the C segment runs, the .NET echoer waits without a CPU (1 ms sleeps),
              and a re-warm of a quarter segment (at least 1,000 round trips) follows before the next
              .NET segment. The pair's ratio is the **median of its segments' p50 ratios** (.NET
              segment p50 / the C test's p50 of the same segment), its p99 ratio the median of the
              segments' p99 ratios. The .NET row's percentiles are over all its samples (the merged
              histogram); a C row shows its median segment (by p50). `--floor-segments 0` pairs whole
              runs as above.
            """);
    }

    /// <summary>
    /// The method text for <paramref name="report"/>. Rows of builds that know the clock's step
    /// carry <c>clock_tick_ns</c> (C and .NET alike) and had their percentiles interpolated within
    /// it (<see cref="LatencySummary.Percentile"/>); older results keep the text they were taken under.
    /// </summary>
    private static string WithClockStep(string method, RunReport report)
    {
        double step = report.Results.Select(r => r.Extra is { } e && e.TryGetValue("clock_tick_ns", out double s) ? s : 0).DefaultIfEmpty(0).Max();
        if (step <= 0)
        {
            return method;
        }

        return method
            .Replace("into an HdrHistogram (3 significant digits); p50 ... max are over all samples.", "sorted; p50 ... p99.9 are over all samples, interpolated within the clock's step (below).", StringComparison.Ordinal)
            .Replace("then an HdrHistogram;", "percentiles within the clock's step;", StringComparison.Ordinal)
            + Fmt.Invariant($"""

            - **Clock step**: the clock (CLOCK_MONOTONIC, from the TSC) moved in steps of {step:0.#} ns in
              this run (`clock_tick_ns`), so a round trip reads as a whole number of steps.
              Both harnesses interpolate each percentile within its step: the samples of one step
              stand for lengths within +- half a step (a sample reads the step just above its length
              with the probability of the length's fraction of a step), and the nearest-rank sample
              moves within that bin by the share of the bin's samples the rank needs. Min and max are
              as read, the mean needs nothing (it is unbiased already).
            """);
    }

    public static void Write(RunReport report, string path, IReadOnlyList<string> plots) =>
        File.WriteAllText(path, $"# UintrIpc benchmarks ({report.Mode} mode)\n\n" + Body(report, plots, "##"));

    /// <summary>The report without its title; <paramref name="h"/> is the heading level of its sections ("##").</summary>
    public static string Body(RunReport report, IReadOnlyList<string> plots, string h)
    {
        var sb = new StringBuilder();
        var inv = CultureInfo.InvariantCulture;
        var cases = Ratios.Summarize(report.Results);
        var nativeOnly = Ratios.NativeOnly(report.Results).ToList();
        bool rpc = report.Mode.StartsWith("rpc", StringComparison.Ordinal);
        if (!rpc)
        {
            sb.AppendLine(UintrSentence(report));
            sb.AppendLine();
        }

        sb.AppendLine(inv, $"Started {report.Started:yyyy-MM-dd HH:mm:ss} UTC, took {(report.Finished - report.Started).TotalSeconds:0} s, on {report.Machine.Cpus} x {report.Machine.CpuModel}.");
        sb.AppendLine(inv, $"Command: `{report.Command}`.");
        sb.AppendLine(inv, $"Pinned: {report.Settings.GetValueOrDefault("Pinned", "?")}.");
        sb.AppendLine();
        var best = SweepBest.Of(cases, report.Results);
        // Only the targets whose test was selected (a sweep runs one of them).
        var targets = Targets.ForRun(cases, best);
        if (targets.Count > 0)
        {
            AppendTargets(sb, targets, h);
        }

        if (cases.Any(c => c.Row.Kind == ResultKind.Latency))
        {
            sb.AppendLine(inv, $"{h} Round-trip latency (ping-pong between two processes)");
            sb.AppendLine();
            AppendTable(sb, rpc ? RpcReport.Relabel(ReportRows.LatencyHeader) : ReportRows.LatencyHeader, ReportRows.Rows(cases, nativeOnly, ResultKind.Latency).Select(ReportRows.Latency));
            AppendAgainstKernel(sb, cases);
            AppendDoorbellActivity(sb, cases, nativeOnly);
            if (rpc)
            {
                RpcReport.AppendWakeups(sb, cases);
            }
        }

        if (cases.Any(c => c.Row.Kind == ResultKind.Throughput))
        {
            if (report.Mode.StartsWith("sweep", StringComparison.Ordinal))
            {
                SweepReport.AppendBest(sb, cases, best, h);
            }

            sb.AppendLine(inv, $"{h} One-way throughput");
            sb.AppendLine();
            AppendTable(sb, rpc ? RpcReport.Relabel(ReportRows.ThroughputHeader) : ReportRows.ThroughputHeader, ReportRows.Rows(cases, nativeOnly, ResultKind.Throughput).Select(ReportRows.Throughput));
        }

        if (plots.Count > 0)
        {
            sb.AppendLine(inv, $"{h} Plots");
            sb.AppendLine();
            foreach (var p in plots)
            {
                sb.AppendLine(inv, $"![{Path.GetFileNameWithoutExtension(p)}]({p})");
                sb.AppendLine();
            }
        }

        AppendMachine(sb, report, h);
        sb.AppendLine(inv, $"{h} How the numbers were taken");
        sb.AppendLine();
        sb.AppendLine(WithFloorSegments(WithClockStep(rpc ? RpcReport.Method : Method, report), report));
        sb.AppendLine();
        sb.AppendLine("C baselines run as (each command as often as the tests it is paired with):");
        sb.AppendLine();
        foreach (var c in report.NativeCommands.Distinct())
        {
            sb.AppendLine(inv, $"    {c}");
        }

        return sb.ToString();
    }

    /// <summary>The sentence at the top: whether user interrupts were measured on real hardware here.</summary>
    public static string UintrSentence(RunReport report)
    {
        var uintr = report.Doorbells.FirstOrDefault(d => d.Kind == "uintr");
        if (uintr is { Available: true } && MachineInfo.IsEmulated(report.Machine.CpuModel))
        {
            return $"**User interrupts were measured in an emulated CPU** ({report.Machine.CpuModel}: QEMU's software CPU model with UINTR, the emulated uintr machine): the uintr rows show that the path works end to end between two processes; their timings mean nothing for hardware, and they are excluded from every ratio and target, as are the uintr-sim rows (a software model in the shim).";
        }

        return uintr is { Available: true }
            ? "User interrupts were measured on this machine's hardware (uintr rows); the uintr-sim rows are a software model and have no ratio."
            : $"**User interrupts were not measured on real hardware**: {uintr?.Reason ?? "the uintr doorbell was not probed"}. The uintr rows are skipped; the uintr-sim rows are a software model of user interrupts (in the shim, not hardware) and are excluded from every ratio.";
    }

    public static void AppendMachine(StringBuilder sb, RunReport report, string h)
    {
        var inv = CultureInfo.InvariantCulture;
        var m = report.Machine;
        sb.AppendLine(inv, $"{h} Machine and settings");
        sb.AppendLine();
        sb.AppendLine(inv, $"- CPU: {m.CpuModel}, {m.Cpus} CPUs (nproc)");
        sb.AppendLine(inv, $"- Kernel: `{m.Uname}`");
        sb.AppendLine(inv, $"- Runtime: {m.Runtime} on {m.Os}; tiered compilation {(m.TieredCompilation ? "on" : "off")}, dynamic PGO {(m.TieredPgo ? "on" : "off")}");
        sb.AppendLine(inv, $"- Load average before / after: {m.LoadAverageBefore} / {m.LoadAverageAfter}");
        foreach (var (k, v) in report.Settings)
        {
            sb.AppendLine(inv, $"- {k}: {v}");
        }

        sb.AppendLine();
        sb.AppendLine("Doorbells on this machine:");
        sb.AppendLine();
        sb.AppendLine("| Doorbell | Available | Why |");
        sb.AppendLine("|---|---|---|");
        foreach (var d in report.Doorbells)
        {
            sb.AppendLine(inv, $"| {d.Kind} | {(d.Available ? "yes" : "no")} | {Escape(d.Reason)} |");
        }

        sb.AppendLine();
        sb.AppendLine("<details><summary>lscpu</summary>");
        sb.AppendLine();
        sb.AppendLine("```");
        sb.AppendLine(m.Lscpu);
        sb.AppendLine("```");
        sb.AppendLine();
        sb.AppendLine("</details>");
        sb.AppendLine();
    }

    public static void AppendTargets(StringBuilder sb, IReadOnlyList<TargetVerdict> targets, string h)
    {
        var inv = CultureInfo.InvariantCulture;
        sb.AppendLine(inv, $"{h} Targets");
        sb.AppendLine();
        sb.AppendLine("Judged on the median of the per-pair ratios; the Data column lists every pair's ratio and the figures of the pair nearest the median.");
        sb.AppendLine();
        sb.AppendLine("| Target | Measured | Against | Ratio: median (range, pairs) | Limit | Met | Data |");
        sb.AppendLine("|---|---|---|---|---|---|---|");
        foreach (var t in targets)
        {
            string met = t.Met switch { true => "yes", false => "**no**", null => "n/a" };
            sb.AppendLine(inv, $"| {Escape(t.Target)} | {t.Subject} | {t.Reference} | {Fmt.Spread(t.Ratio)} | {Escape(t.Limit)} | {met} | {Escape(t.Explanation)} |");
        }

        sb.AppendLine();
    }

    /// <summary>The doorbell rows against .NET's own pipe and Unix socket round trips (not paired: separate tests).</summary>
    private static void AppendAgainstKernel(StringBuilder sb, IReadOnlyList<CaseSummary> cases)
    {
        var pipe = cases.FirstOrDefault(c => c.Name == "net-pipe" && c.Row.Ok);
        var socket = cases.FirstOrDefault(c => c.Name == "net-unix-socket" && c.Row.Ok);
        // Not the uintr and uintr-sim rows: a software model, or an emulated CPU, excluded from every ratio.
        var rings = cases.Where(c => c.Row.Ok && c.Row.Kind == ResultKind.Latency && c.Row.Implementation == "uintripc" && !c.Row.Doorbell.StartsWith("uintr", StringComparison.Ordinal)).ToList();
        if (pipe is null || socket is null || rings.Count == 0)
        {
            return;
        }

        sb.AppendLine("Against .NET's pipe and Unix socket (not paired: separate tests; each ratio divides the p50s of the rows shown above):");
        sb.AppendLine();
        AppendTable(sb, ["Test", "p50 us", $"x {pipe.Name} p50", $"x {socket.Name} p50"], rings.Select(c => new[]
        {
            c.Name, Fmt.Us(c.Row.Latency?.P50), Fmt.Ratio(Ratios.Of(c.Row, pipe.Row)), Fmt.Ratio(Ratios.Of(c.Row, socket.Row)),
        }));
    }

    /// <summary>How often the consumers really slept and were rung (wait-block counters of the .NET tests, those of C).</summary>
    private static void AppendDoorbellActivity(StringBuilder sb, IReadOnlyList<CaseSummary> cases, IEnumerable<BenchResult> nativeOnly)
    {
        var rows = ReportRows.Rows(cases, nativeOnly, ResultKind.Latency)
            .Where(x => x.Run.Ok && (x.Run.WakesPerMsg is not null || x.Run.SleepsPerMsg is not null)).ToList();
        if (rows.Count == 0)
        {
            return;
        }

        sb.AppendLine("Doorbell activity: rings = doorbells rung per message, sleeps = consumer waits that blocked per message (two messages per round trip; 1.00 each means every message found its consumer asleep).");
        sb.AppendLine();
        AppendTable(sb, ["Test", "rings/msg", "sleeps/msg", "wait timeouts"], rows.Select(x => new[]
        {
            x.Label, Fmt.Number(x.Run.WakesPerMsg, "0.00"), Fmt.Number(x.Run.SleepsPerMsg, "0.00"), Timeouts(x.Run),
        }));
    }

    private static string Timeouts(BenchResult r) =>
        r.Extra is { } e && e.TryGetValue("park_timeouts", out double t) ? Fmt.Number(t, "0")
        : r.Extra is { } c && c.TryGetValue("futex_timeouts_parent", out double tp) && c.TryGetValue("futex_timeouts_child", out double tc) ? Fmt.Number(tp + tc, "0")
        : "";

    public static void AppendTable(StringBuilder sb, string[] header, IEnumerable<string[]> rows)
    {
        sb.AppendLine("| " + string.Join(" | ", header.Select(Escape)) + " |");
        sb.AppendLine("|" + string.Concat(header.Select((_, i) => i == 0 ? "---|" : "--:|")));
        foreach (var row in rows)
        {
            sb.AppendLine("| " + string.Join(" | ", row.Select(Escape)) + " |");
        }

        sb.AppendLine();
    }

    public static string Escape(string s) => s.Replace("|", "\\|", StringComparison.Ordinal).Replace("<=", "&le;", StringComparison.Ordinal).Replace(">=", "&ge;", StringComparison.Ordinal);
}
