using System.Globalization;
using System.Text;
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
        - **C baselines** (bench/native, the same protocols in C, forked child): each group of C
          tests runs once for the C rows of the tables, and the C test a .NET row is compared
          with runs again **right before that .NET test** ("paired"): the host moves the vCPUs
          and the floor can change several-fold within seconds, so only numbers taken moments
          apart are compared. The Baseline column shows the paired C value in brackets.
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
        - **Ratio** (`x C`): latency = this p50 / the paired C baseline's p50 (below 1 is faster
          than C); throughput = this rate / the paired C rate (above 1 is faster). With
          `--repeat N` (and always for the five tests the targets use, which run at least 5 times)
          the row is the repetition with the median headline and the ratio uses the median of the
          paired C runs; the targets' Data column lists every repetition. Where C has no test of the same design the Baseline column
          names the closest one (e.g. an SPSC slot ring for an MPSC or record ring).
        - The machine is shared and virtual: the host moves vCPUs, and tails (p99 and up, max) are
          dominated by it. Compare numbers from the same run only.
        """;

    public static void Write(RunReport report, string path, IReadOnlyList<string> plots)
    {
        var sb = new StringBuilder();
        var inv = CultureInfo.InvariantCulture;
        sb.AppendLine(inv, $"# UintrIpc benchmarks ({report.Mode} mode)");
        sb.AppendLine();
        sb.AppendLine(inv, $"Started {report.Started:yyyy-MM-dd HH:mm:ss} UTC, took {(report.Finished - report.Started).TotalSeconds:0} s.");
        sb.AppendLine(inv, $"Command: `{report.Command}`");
        sb.AppendLine();
        AppendMachine(sb, report);
        AppendTargets(sb, report.Targets);
        sb.AppendLine("## Round-trip latency (ping-pong between two processes)");
        sb.AppendLine();
        AppendTable(sb, ReportRows.LatencyHeader, ReportRows.LatencyRows(report.Results).Select(ReportRows.Latency));
        AppendDoorbellActivity(sb, report.Results);
        sb.AppendLine("## One-way throughput");
        sb.AppendLine();
        AppendTable(sb, ReportRows.ThroughputHeader, ReportRows.ThroughputRows(report.Results).Select(ReportRows.Throughput));
        if (plots.Count > 0)
        {
            sb.AppendLine("## Plots");
            sb.AppendLine();
            foreach (var p in plots)
            {
                sb.AppendLine(inv, $"![{Path.GetFileNameWithoutExtension(p)}]({Path.GetFileName(p)})");
                sb.AppendLine();
            }
        }

        sb.AppendLine("## How the numbers were taken");
        sb.AppendLine();
        sb.AppendLine(Method);
        sb.AppendLine();
        sb.AppendLine("C baselines run as:");
        sb.AppendLine();
        foreach (var c in report.NativeCommands)
        {
            sb.AppendLine(inv, $"    {c}");
        }

        File.WriteAllText(path, sb.ToString());
    }

    public static void AppendMachine(StringBuilder sb, RunReport report)
    {
        var inv = CultureInfo.InvariantCulture;
        var m = report.Machine;
        sb.AppendLine("## Machine");
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

    public static void AppendTargets(StringBuilder sb, IReadOnlyList<TargetVerdict> targets)
    {
        var inv = CultureInfo.InvariantCulture;
        sb.AppendLine("## Targets");
        sb.AppendLine();
        sb.AppendLine("| Target | Measured | Against | Ratio | Limit | Met | Data |");
        sb.AppendLine("|---|---|---|---|---|---|---|");
        foreach (var t in targets)
        {
            string met = t.Met switch { true => "yes", false => "**no**", null => "n/a" };
            sb.AppendLine(inv, $"| {Escape(t.Target)} | {t.Subject} | {t.Reference} | {Fmt.Ratio(t.Ratio)} | {Escape(t.Limit)} | {met} | {Escape(t.Explanation)} |");
        }

        sb.AppendLine();
    }

    /// <summary>How often the consumers really slept and were rung (wait-block counters of the .NET tests, futex counters of C).</summary>
    public static void AppendDoorbellActivity(StringBuilder sb, IEnumerable<BenchResult> results)
    {
        var rows = results.Where(r => r.Ok && r.Kind == ResultKind.Latency && (r.WakesPerMsg is not null || r.SleepsPerMsg is not null)).ToList();
        if (rows.Count == 0)
        {
            return;
        }

        sb.AppendLine("Doorbell activity: rings = doorbells rung per message, sleeps = consumer waits that blocked per message (two messages per round trip; 1.00 each means every message found its consumer asleep).");
        sb.AppendLine();
        AppendTable(sb, ["Test", "rings/msg", "sleeps/msg", "park timeouts"], rows.Select(r => new[]
        {
            r.Name, Fmt.Number(r.WakesPerMsg, "0.00"), Fmt.Number(r.SleepsPerMsg, "0.00"),
            r.Extra is { } e && e.TryGetValue("park_timeouts", out double t) ? Fmt.Number(t, "0") : r.Extra is { } c && c.TryGetValue("futex_timeouts_parent", out double tp) && c.TryGetValue("futex_timeouts_child", out double tc) ? Fmt.Number(tp + tc, "0") : "",
        }));
    }

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

    private static string Escape(string s) => s.Replace("|", "\\|", StringComparison.Ordinal).Replace("<=", "&le;", StringComparison.Ordinal).Replace(">=", "&ge;", StringComparison.Ordinal);
}
