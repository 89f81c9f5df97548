using System.Globalization;
using System.Text;
using System.Text.Json;

namespace UintrIpc.Bench.Reporting;

/// <summary>
/// The generated section of docs/benchmarks-native.md: the tables of one recorded run of
/// bench/native alone (<c>--quick --repeat 5</c>, unpinned and pinned), rendered from the JSON lines
/// committed in docs/benchmarks-native-data/ so that every number on that page has its source
/// beside it (--native-docs writes the section, --check-docs checks it).
/// </summary>
internal static class NativeBaselineReport
{
    /// <summary>The section's name between the GENERATED markers.</summary>
    public const string Section = "native-baselines";

    /// <summary>The folder of the JSON lines, relative to the docs file.</summary>
    public const string DataFolder = "benchmarks-native-data";

    private const string Unpinned = "quick-repeat5-unpinned.jsonl", Pinned = "quick-repeat5-pinned.jsonl";

    private static readonly CultureInfo s_inv = CultureInfo.InvariantCulture;

    /// <summary>Writes the section into <paramref name="docsFile"/> from the data folder beside it.</summary>
    public static void WriteDocs(string docsFile) =>
        DocsWriter.ReplaceSection(docsFile, Section, Body(Path.GetDirectoryName(Path.GetFullPath(docsFile))!));

    /// <summary>The section's text, from <paramref name="docsDir"/>/benchmarks-native-data/.</summary>
    public static string Body(string docsDir)
    {
        string folder = Path.Combine(docsDir, DataFolder);
        var unpinned = Read(Path.Combine(folder, Unpinned));
        var pinned = Read(Path.Combine(folder, Pinned));
        var sb = new StringBuilder();
        sb.Append($"Generated from [{DataFolder}/{Unpinned}]({DataFolder}/{Unpinned}) and [{DataFolder}/{Pinned}]({DataFolder}/{Pinned}); ")
          .Append($"regenerate with `dotnet run -c Release --project bench/UintrIpc.Bench -- --native-docs docs/benchmarks-native.md`. ")
          .Append("\"median [min..max]\" is over the five runs of each file; each run's value is itself a percentile over all of that run's samples.\n\n");
        Machine(sb, pinned.Env);
        Latency(sb, unpinned, pinned);
        Costs(sb, unpinned, pinned);
        Throughput(sb, unpinned, pinned);
        return sb.ToString();
    }

    private static void Machine(StringBuilder sb, JsonElement env)
    {
        sb.Append("Machine, as the files' `c-env` line records it: ")
          .Append(Inv($"`{env.GetProperty("cpu_model").GetString()}`, {env.GetProperty("cpus").GetInt32()} vCPUs, kernel `{env.GetProperty("kernel").GetString()}`, "))
          .Append(Inv($"clock `{env.GetProperty("clock").GetString()}` costing {env.GetProperty("clock_overhead_ns").GetInt32()} ns per read.\n\n"));
    }

    private static void Latency(StringBuilder sb, Run unpinned, Run pinned)
    {
        sb.Append("### Round-trip latency (µs)\n\n")
          .Append("| test | unpinned p50 median [min..max] | unpinned p99 median | pinned p50 median [min..max] | pinned p99 median | CPU per message, parent / child (pinned, median) |\n")
          .Append("|---|---|---|---|---|---|\n");
        foreach (string name in unpinned.Names("latency"))
        {
            var u = unpinned[name];
            var p = pinned[name];
            sb.Append(Inv($"| `{name}` | {Spread(u, "p50", 1000, Us)} | {Us(Median(u, "p99") / 1000)} | {Spread(p, "p50", 1000, Us)} | {Us(Median(p, "p99") / 1000)} | "))
              .Append(Inv($"{Us(Median(p, "cpu_ns_per_msg_parent") / 1000)} / {Us(Median(p, "cpu_ns_per_msg_child") / 1000)} |\n"));
        }

        var spinning = unpinned.Names("latency").Where(n => unpinned[n].All(r => r.GetProperty("count").GetInt64() > 10_000)).ToList();
        var sleeping = unpinned.Names("latency").Except(spinning).ToList();
        double spinUtil = Both(unpinned, pinned, spinning).Min(Util);
        var sleepUtils = Both(unpinned, pinned, sleeping).SelectMany(r => new[] { Value(r, "cpu_util_parent"), Value(r, "cpu_util_child") }).ToList();
        var futex = Both(unpinned, pinned, ["c-futex-pingpong"]).ToList();
        double waitedMin = futex.Min(r => Math.Min(Value(r, "futex_waits_parent"), Value(r, "futex_waits_child")) / Value(r, "count"));
        double waitedMax = futex.Max(r => Math.Max(Value(r, "futex_waits_parent"), Value(r, "futex_waits_child")) / Value(r, "count"));
        var spin = Both(unpinned, pinned, ["c-futex-spin-pingpong"]).ToList();
        double wakesSent = spin.Max(r => Value(r, "wakes_sent_parent") + Value(r, "wakes_sent_child"));
        double publishes = spin.Min(r => 2 * Value(r, "count"));
        sb.Append('\n')
          .Append(Inv($"- Spinning tests ({spinning.Count}, samples > 10 000): `cpu_util` at least {spinUtil:0.00} on both sides in every run. "))
          .Append(Inv($"Sleeping tests: `cpu_util` {sleepUtils.Min():0.00}-{sleepUtils.Max():0.00}.\n"))
          .Append(Inv($"- `c-futex-pingpong`: each side found the ring empty and waited on {100 * waitedMin:0}-{100 * waitedMax:0} % of messages (`futex_waits` / `count`), every run. "))
          .Append(Inv($"Time inside one `FUTEX_WAKE` that wakes a sleeping peer (`futex_wake_ns_avg_parent`), median of the runs: {Median(pinned["c-futex-pingpong"], "futex_wake_ns_avg_parent") / 1000:0.0} µs pinned, {Median(unpinned["c-futex-pingpong"], "futex_wake_ns_avg_parent") / 1000:0.0} µs unpinned.\n"))
          .Append(Inv($"- `c-futex-spin-pingpong` (the consumer awake): at most {wakesSent:0} wake-up sent per run of {publishes:0} publishes (both sides).\n\n"));
    }

    private static void Costs(StringBuilder sb, Run unpinned, Run pinned)
    {
        sb.Append("### One-process costs (ns per call)\n\n")
          .Append("| test | p50, median [min..max] of 5 runs (unpinned) | pinned |\n|---|---|---|\n");
        foreach (string name in unpinned.Names("cost"))
        {
            sb.Append(Inv($"| `{name}` | {Spread(unpinned[name], "p50", 1, v => v.ToString("0", s_inv))} | {Median(pinned[name], "p50"):0} |\n"));
        }

        sb.Append('\n');
    }

    private static void Throughput(StringBuilder sb, Run unpinned, Run pinned)
    {
        var names = unpinned.Names("throughput");
        var capacities = names.SelectMany(n => unpinned[n]).Select(r => r.GetProperty("capacity").GetInt64()).Distinct().ToList();
        sb.Append(Inv($"### One-way slot-ring throughput ({string.Join(", ", capacities)} slots)\n\n"))
          .Append("| test | element B | unpinned M msg/s median [min..max] | GB/s | pinned M msg/s median [min..max] | GB/s |\n|---|---|---|---|---|---|\n");
        foreach (string name in names)
        {
            var u = unpinned[name];
            var p = pinned[name];
            sb.Append(Inv($"| `{name}` | {u[0].GetProperty("element_size").GetInt32()} | {Spread(u, "msgs_per_s", 1e6, v => v.ToString("0", s_inv))} | {Median(u, "bytes_per_s") / 1e9:0.0} | "))
              .Append(Inv($"{Spread(p, "msgs_per_s", 1e6, v => v.ToString("0", s_inv))} | {Median(p, "bytes_per_s") / 1e9:0.0} |\n"));
        }

        var disturbed = new List<string>();
        foreach (var (file, run) in new[] { ("unpinned", unpinned), ("pinned", pinned) })
        {
            disturbed.AddRange(names.SelectMany(n => run[n]).Where(r => Util(r) < 0.96)
                .Select(r => Inv($"{file} `{r.GetProperty("name").GetString()}` run {r.GetProperty("run").GetInt32()} at {Util(r):0.00}")));
        }

        var polls = names.Where(n => n.EndsWith("-s64", StringComparison.Ordinal)).SelectMany(n => Both(unpinned, pinned, [n]))
            .Select(r => Value(r, "consumer_empty_polls") / Value(r, "count")).ToList();
        sb.Append('\n')
          .Append(Inv($"- `cpu_util` at least 0.96 on both sides in every throughput run{(disturbed.Count == 0 ? "" : " but " + string.Join(", ", disturbed))}.\n"))
          .Append(Inv($"- 64-byte rows: the consumer found the ring empty {polls.Min():0.00}-{polls.Max():0.00} times per message (`consumer_empty_polls` / `count`).\n"));
    }

    /// <summary>Sub-microsecond values with two decimals, others with three significant digits (as the page always had them).</summary>
    private static string Us(double v) => v.ToString(v < 10 ? "0.00" : v < 100 ? "0.0" : "0", s_inv);

    private static string Spread(List<JsonElement> runs, string field, double unit, Func<double, string> format)
    {
        var values = runs.Select(r => Value(r, field) / unit).ToList();
        return $"{format(MedianOf(values))} [{format(values.Min())}..{format(values.Max())}]";
    }

    private static double Util(JsonElement r) => Math.Min(Value(r, "cpu_util_parent"), Value(r, "cpu_util_child"));

    private static IEnumerable<JsonElement> Both(Run unpinned, Run pinned, IEnumerable<string> names) =>
        names.SelectMany(n => unpinned[n].Concat(pinned[n]));

    private static double Value(JsonElement r, string field) => r.GetProperty(field).GetDouble();

    private static double Median(List<JsonElement> runs, string field) => MedianOf(runs.Select(r => Value(r, field)).ToList());

    private static double MedianOf(List<double> values)
    {
        var sorted = values.Order().ToList();
        int n = sorted.Count;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[(n / 2) - 1] + sorted[n / 2]) / 2;
    }

    private static string Inv(FormattableString s) => s.ToString(s_inv);

    private static Run Read(string file)
    {
        if (!File.Exists(file))
        {
            throw new IOException($"{file} is missing: the native baselines section is generated from it (restore it from git).");
        }

        var rows = File.ReadLines(file).Where(l => l.Length > 0).Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToList();
        return new Run(rows.First(r => r.GetProperty("kind").GetString() == "env"), rows.Where(r => r.GetProperty("kind").GetString() != "env").ToList());
    }

    /// <summary>One file: its environment line and its result lines, by test name in file order.</summary>
    private sealed record Run(JsonElement Env, List<JsonElement> Rows)
    {
        public List<JsonElement> this[string name] => Rows.Where(r => r.GetProperty("name").GetString() == name).ToList();

        public List<string> Names(string kind) =>
            Rows.Where(r => r.GetProperty("kind").GetString() == kind).Select(r => r.GetProperty("name").GetString()!).Distinct().ToList();
    }
}
