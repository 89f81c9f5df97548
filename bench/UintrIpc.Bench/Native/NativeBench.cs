using System.Diagnostics;
using System.Text.Json;
using UintrIpc.Bench.Results;

namespace UintrIpc.Bench.Native;

/// <summary>
/// Runs the C baselines (bench/native, <c>uintripc-native-bench</c>, copied next to the
/// bench by the build) and turns their JSON lines into results.
/// </summary>
internal sealed class NativeBench
{
    private readonly string _path;

    public NativeBench(string? path = null)
    {
        _path = path ?? DefaultPath;
    }

    /// <summary>The program copied next to the harness by the build.</summary>
    public static string DefaultPath => Path.Combine(AppContext.BaseDirectory, "uintripc-native-bench");

    public string ProgramPath => _path;

    public bool Exists => File.Exists(_path);

    /// <summary>The first line of the last run (<c>c-env</c>): CPU model, kernel, clock overhead.</summary>
    public JsonElement? Environment { get; private set; }

    /// <summary>The exact command lines run so far (for the report).</summary>
    public List<string> Commands { get; } = [];

    /// <summary>Runs the tests selected by <paramref name="only"/> (the program's --only syntax) with <paramref name="extraArgs"/>.</summary>
    public IReadOnlyList<BenchResult> Run(string only, IEnumerable<string> extraArgs, TimeSpan timeout)
    {
        if (!Exists)
        {
            return [Failed(only, $"{_path} is missing: build with `dotnet build bench/UintrIpc.Bench` (it runs make in bench/native).")];
        }

        var psi = new ProcessStartInfo(_path)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add("--only");
        psi.ArgumentList.Add(only);
        foreach (var a in extraArgs)
        {
            psi.ArgumentList.Add(a);
        }

        Commands.Add(string.Join(' ', ["uintripc-native-bench", .. psi.ArgumentList]));
        using var process = Process.Start(psi) ?? throw new InvalidOperationException($"Could not start {_path}.");
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit(TimeSpan.FromSeconds(5));
            return [Failed(only, $"the C baseline did not finish within {timeout.TotalSeconds:0} s")];
        }

        process.WaitForExit(); // drains the redirected streams
        var results = new List<BenchResult>();
        foreach (var line in stdout.Result.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!line.StartsWith('{'))
            {
                continue;
            }

            using var doc = JsonDocument.Parse(line);
            var e = doc.RootElement;
            string kind = e.GetProperty("kind").GetString() ?? string.Empty;
            if (kind == "env")
            {
                Environment = e.Clone();
                continue;
            }

            results.Add(Parse(e));
        }

        if (results.Count == 0)
        {
            results.Add(Failed(only, $"no results (exit code {process.ExitCode}): {stderr.Result.Trim()}"));
        }

        return results;
    }

    /// <summary>Turns one JSON line of the C program into a result.</summary>
    internal static BenchResult Parse(JsonElement e)
    {
        string name = e.GetProperty("name").GetString() ?? "c-unknown";
        var kind = e.GetProperty("kind").GetString() == "throughput" ? ResultKind.Throughput : ResultKind.Latency;
        var (transport, doorbell, consumer) = Describe(name);
        if (e.TryGetProperty("error", out var error))
        {
            return new BenchResult
            {
                Name = name, Kind = kind, Implementation = "c", Transport = transport, Doorbell = doorbell, Consumer = consumer,
                Error = error.GetString(),
            };
        }

        var extra = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var p in e.EnumerateObject())
        {
            if (p.Value.ValueKind == JsonValueKind.Number && !s_mapped.Contains(p.Name))
            {
                extra[p.Name] = p.Value.GetDouble();
            }
        }

        if (kind == ResultKind.Latency)
        {
            var summary = new LatencySummary(D(e, "min"), D(e, "p50"), D(e, "p90"), D(e, "p99"), D(e, "p999"), D(e, "max"), D(e, "mean"));
            return new BenchResult
            {
                Name = name, Kind = kind, Implementation = "c", Transport = transport, Doorbell = doorbell, Consumer = consumer,
                Count = L(e, "count"), Warmup = L(e, "warmup"),
                Latency = summary,
                Curve =
                [
                    new(0, summary.Min), new(50, summary.P50), new(90, summary.P90), new(99, summary.P99),
                    new(99.9, summary.P999), new(100, summary.Max),
                ],
                CpuNsPerMsgSender = N(e, "cpu_ns_per_msg_parent"), CpuNsPerMsgReceiver = N(e, "cpu_ns_per_msg_child"),
                CpuUtilSender = N(e, "cpu_util_parent"), CpuUtilReceiver = N(e, "cpu_util_child"),
                WakesPerMsg = PerMessage(e, "wakes_sent"),
                SleepsPerMsg = PerMessage(e, "futex_waits"),
                Extra = extra,
                Note = s_notes.GetValueOrDefault(name),
            };
        }

        int size = (int)L(e, "element_size");
        long count = L(e, "count");
        int slots = (int)L(e, "capacity_slots");
        int producers = Math.Max(1, (int)L(e, "producers"));
        bool batched = e.TryGetProperty("head_publish", out var hp) && hp.GetString() == "batched";
        return new BenchResult
        {
            // Named with the capacity (and the producers of the MPSC tests), as the .NET tests are.
            Name = (slots > 0 ? $"{name}-c{Workloads.Catalog.CapacityName(slots)}" : name)
                + (name.StartsWith("c-mpsc", StringComparison.Ordinal) ? $"-p{producers}" : ""),
            Producers = producers,
            Kind = kind, Implementation = "c", Transport = transport, Doorbell = doorbell, Consumer = consumer,
            MessageSize = size, Count = count, Warmup = L(e, "warmup"), Capacity = slots, Batched = batched,
            Throughput = new ThroughputSummary(D(e, "msgs_per_s"), D(e, "bytes_per_s"), D(e, "ns_per_msg"), D(e, "elapsed_ns")),
            // The C throughput test produces in the parent and consumes in the child.
            CpuNsPerMsgSender = N(e, "cpu_ns_per_msg_parent"), CpuNsPerMsgReceiver = N(e, "cpu_ns_per_msg_child"),
            CpuUtilSender = N(e, "cpu_util_parent"), CpuUtilReceiver = N(e, "cpu_util_child"),
            Extra = extra,
            Note = (name.Contains("record", StringComparison.Ordinal), batched) switch
            {
                (true, _) when name.Contains("mpsc", StringComparison.Ordinal) => $"{producers} producer processes, one CAS on tail per claim of {(batched ? $"a range of up to 32 records; head stored (after zeroing) per {L(e, "batch")} records" : "one record; head stored (after zeroing) per record")}",
                _ when name.Contains("mpsc", StringComparison.Ordinal) => $"{producers} producer processes, one CAS on tail per claim of {(batched ? $"up to {L(e, "batch")} slots" : "one slot")}",
                (false, false) => "producer stores tail and consumer head per message",
                (false, true) => $"producer stores tail and consumer head per {L(e, "batch")} messages",
                (true, false) => "head stored (after zeroing) per record",
                (true, true) => $"head stored (after zeroing) per {L(e, "batch")} records; tail per record",
            },
        };
    }

    private static readonly HashSet<string> s_mapped =
    [
        "count", "warmup", "min", "p50", "p90", "p99", "p999", "max", "mean", "cpu_ns_per_msg_parent", "cpu_ns_per_msg_child",
        "cpu_util_parent", "cpu_util_child", "element_size", "msgs_per_s", "bytes_per_s", "ns_per_msg", "elapsed_ns", "capacity_slots", "producers",
    ];

    private static readonly Dictionary<string, string> s_notes = new(StringComparer.Ordinal)
    {
        ["c-spin-cacheline"] = "one cache line, both spin: the floor",
        ["c-spin-rotating"] = "one cache line per round trip, moving through 1,024 lines: the floor averaged over lines",
        ["c-spin-twolines"] = "two cache lines, one per direction, both spin: the floor of a line per direction (no ring)",
        ["c-slotring-pingpong"] = "two SPSC slot rings, both consumers spin",
        ["c-duplex-pingpong"] = "the two SPSC slot rings of one duplex part (slot k of both in one line), both consumers spin",
        ["c-futex-spin-pingpong"] = "slot rings + the library's wake-up protocol, spin 50 us then FUTEX_WAIT",
        ["c-futex-pingpong"] = "slot rings + the library's wake-up protocol, parks at once (FUTEX_WAIT)",
        ["c-eventfd-ring-pingpong"] = "slot rings + the library's wake-up protocol, eventfd doorbell (ppoll + read), parks at once",
        ["c-signal-ring-pingpong"] = "slot rings + the library's wake-up protocol, tgkill doorbell (sigtimedwait), parks at once",
        ["c-futex-always-pingpong"] = "producer always FUTEX_WAKEs, consumer never spins",
        ["c-eventfd-pingpong"] = "blocking read/write of two eventfds (no ring)",
        ["c-pipe-pingpong"] = "two pipes, blocking 8-byte read/write",
        ["c-unix-stream-pingpong"] = "socketpair(AF_UNIX, SOCK_STREAM)",
        ["c-unix-seqpacket-pingpong"] = "socketpair(AF_UNIX, SOCK_SEQPACKET)",
        ["c-signal-pingpong"] = "sigqueue + sigtimedwait (no ring)",
    };

    private static (string Transport, string Doorbell, string Consumer) Describe(string name) => name switch
    {
        "c-spin-cacheline" => ("cache-line", "none", "spinning"),
        "c-spin-rotating" => ("rotating-line", "none", "spinning"),
        "c-spin-twolines" => ("two-lines", "none", "spinning"),
        "c-slotring-pingpong" => ("slot-ring", "none", "spinning"),
        "c-duplex-pingpong" => ("duplex-ring", "none", "spinning"),
        "c-futex-spin-pingpong" => ("slot-ring", "futex", "spinning"),
        "c-futex-pingpong" => ("slot-ring", "futex", "asleep"),
        "c-futex-always-pingpong" => ("slot-ring", "futex-always", "asleep"),
        "c-eventfd-pingpong" => ("eventfd", "eventfd", "blocking"),
        "c-pipe-pingpong" => ("pipe", "kernel", "blocking"),
        "c-unix-stream-pingpong" => ("unix-socket", "kernel", "blocking"),
        "c-unix-seqpacket-pingpong" => ("unix-seqpacket", "kernel", "blocking"),
        "c-signal-pingpong" => ("signal", "signal", "blocking"),
        "c-eventfd-ring-pingpong" => ("slot-ring", "eventfd", "asleep"),
        "c-signal-ring-pingpong" => ("slot-ring", "signal", "asleep"),
        _ when name.StartsWith("c-mpscring-tput-batch", StringComparison.Ordinal) => ("mpsc-slot-batched", "none", "spinning"),
        _ when name.StartsWith("c-mpscring-tput", StringComparison.Ordinal) => ("mpsc-slot", "none", "spinning"),
        _ when name.StartsWith("c-mpscrecordring-tput-batch", StringComparison.Ordinal) => ("mpsc-record-batched", "none", "spinning"),
        _ when name.StartsWith("c-mpscrecordring-tput", StringComparison.Ordinal) => ("mpsc-record", "none", "spinning"),
        _ when name.StartsWith("c-recordring-tput-batch", StringComparison.Ordinal) => ("spsc-record-batched", "none", "spinning"),
        _ when name.StartsWith("c-recordring-tput", StringComparison.Ordinal) => ("spsc-record", "none", "spinning"),
        _ when name.StartsWith("c-slotring-tput-batch", StringComparison.Ordinal) => ("spsc-slot-batched", "none", "spinning"),
        _ when name.StartsWith("c-slotring-tput", StringComparison.Ordinal) => ("spsc-slot", "none", "spinning"),
        _ => ("unknown", "none", "spinning"),
    };

    /// <summary>A counter both processes keep (name_parent + name_child), per message (two per round trip).</summary>
    private static double? PerMessage(JsonElement e, string counter)
    {
        if (!e.TryGetProperty(counter + "_parent", out var p) || !e.TryGetProperty(counter + "_child", out var c))
        {
            return null;
        }

        long count = L(e, "count");
        return count > 0 ? (p.GetDouble() + c.GetDouble()) / (2.0 * count) : null;
    }

    private static BenchResult Failed(string only, string error) => new()
    {
        Name = only, Kind = ResultKind.Latency, Implementation = "c", Transport = "unknown", Error = error,
    };

    private static double D(JsonElement e, string name) => e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : double.NaN;

    private static double? N(JsonElement e, string name) => e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : null;

    private static long L(JsonElement e, string name) => e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number
        ? (long)v.GetDouble() : 0;
}
