using System.Globalization;

namespace UintrIpc.Bench.Cli;

/// <summary>The command line of the harness (hand-parsed: System.CommandLine is not among the pinned packages).</summary>
internal sealed class BenchOptions
{
    public const string Usage = """
        usage: dotnet run -c Release --project bench/UintrIpc.Bench -- [options]

        Cross-process benchmarks of UintrIpc, side by side with the C baselines (bench/native)
        and .NET's pipes and Unix sockets, all measured in the same run.

          --quick            about a minute (the default)
          --full             more samples, more message sizes, more repeats
          --sweep            ring throughput only: SPSC and MPSC, slot and record rings, 8 B to
                             4 KiB, capacities 1 Ki to 64 Ki slots (4x apart; --full: 2x), single
                             messages and batches, each with its C baseline; then, per ring kind
                             and size, each side's three fastest settings again, once per round
                             (the pick: highest median); then the .NET pick again with its C ring
                             as adjacent alternating pairs (about 10 minutes)
          --pick-rounds N    rounds of that pick stage (default 3; 0, or --no-native: the sweep's
                             one run decides)
          --confirm-pairs N  pairs of that confirmation stage (default 5; where their ratios lie on
                             both sides of 1, N-1 more; 0 skips it)
          --mode-probe N     before, between and after the two runs of each confirmation pair, the
                             host's mode: c-spin-cacheline of N round trips (default 20000); a pair
                             whose probes differ by more than 1.25x is mixed and not counted in the
                             median (shown, and replaced by more pairs, at most 3x N in all); 0:
                             every pair counts, no probes
          --floor-segments N each pair of a spinning round trip (net-duplex-spin, net-slotring-spin,
                             net-spin-cacheline, net-duplex-channel-spin) and its C tests: the
                             samples in N segments, each next to a C run of its share (alternating
                             which goes first), the pair's ratio the median of the N segments'
                             (default 8; 0: the whole .NET run next to whole C runs)
          --rpc              request/response only: forwarded no-ops (server awake and asleep, each
                             doorbell), a forwarded 4 KiB read, a file copy through forwarded reads
                             and writes, the C client, each next to the same call made directly, the
                             C ping-pongs and gRPC over a Unix socket (about two minutes)
          --rpc-copy-mib N   size of the file the --rpc copy tests copy (default 64)
          --only LIST        comma-separated parts of test names to run (e.g. futex,s64);
                             =NAME selects exactly that test
          --list             print the tests the selection contains and exit
          --out DIR          results folder (default results/<timestamp>)
          --iters N          latency samples per spinning test (quick 100000, full 1000000)
          --sleep-iters N    latency samples per sleeping test (quick 3000, full 20000)
          --tput-count N     messages per ring throughput test at most (quick 2000000, sweep 8000000,
                             full 10000000)
          --producers N      producer processes of the MPSC "N producers" tests (default max(2, cpus))
          --repeat N         run each .NET test N times, each next to a run of its C baseline
                             (quick 1, full 3; without --repeat the tests of the targets run at
                             least 5 times)
          --timeout S        give up on one test after S seconds (default 60)
          --warmup-ms N      minimum warm-up per .NET test, for tiered JIT + PGO (quick 500, full 2000)
          --spin-us N        spin budget of the "awake" doorbell tests before parking (default 50, as the C test)
          --gap-us N         the pinger of the "asleep" doorbell tests waits N us after each reply
                             before the next ping (default 0: the consumers park at once instead)
          --no-pin           let the scheduler place the processes (default: every thread of the
                             measuring process on CPU 0, every thread of the other on CPU 1
                             (further producers wrap around), for .NET and C alike)
          --consumer WHERE   where a ring throughput test's .NET consumer runs: harness (the default:
                             in the harness process, a thread pinned to CPU 0), child (a fresh child
                             process per run pinned to CPU 0, as the C baseline's consumer), or both
                             (each row in the harness, with the child's run next to it as a
                             companion named <row>-child-consumer)
          --mixed SIDES      record rows only (SPSC and MPSC), to tell which side of a .NET row is
                             slower than C: c-producer, c-consumer or c-both run that side as the
                             C program (bench/native, --child) on the .NET row's ring and protocol
                             (every MPSC producer a C child); a C consumer runs in a child, as
                             --consumer child (default: none)
          --no-native        skip the C baselines (ratios are then empty)
          --no-plots         skip the PNG plots
          --docs FILE        also write the report into FILE (docs/benchmarks.md) between the
                             markers of this mode's section, the results to docs/results/ and the
                             plots to docs/img/
          --report-from JSON no run: rebuild the report (and with --docs, the docs section) from a
                             results.json written by an earlier run
          --check-docs FILE  no run: check that every generated section of FILE is exactly what
                             its results file (docs/results/<section>.json, or for the native
                             baselines docs/benchmarks-native-data/) generates
          --native-docs FILE no run: write the native baselines section of FILE
                             (docs/benchmarks-native.md) from the JSON lines committed in
                             benchmarks-native-data/ beside it
          --baseline-ref REF A/B: build REF of this repository (git worktree in a temporary folder)
                             and run the selected tests alternately with that build and this one
          --baseline-dir DIR A/B against the checkout in DIR (built there) instead
          --ab-pairs N       A/B pairs per test (default 5)
          --help             this text
        """;

    public bool Full { get; private set; }

    public bool Sweep { get; private set; }

    /// <summary>--rpc: the request/response tests (their own mode and docs section).</summary>
    public bool Rpc { get; private set; }

    /// <summary>Bytes of the file the --rpc copy tests copy.</summary>
    public long RpcCopyBytes { get; private set; } = 64L << 20;

    public string? DocsFile { get; private set; }

    public string? ReportFrom { get; private set; }

    public string? CheckDocs { get; private set; }

    /// <summary>--native-docs: the docs file whose native baselines section is rendered from its committed JSON lines.</summary>
    public string? NativeDocs { get; private set; }

    public string? BaselineRef { get; private set; }

    public string? BaselineDir { get; private set; }

    public int AbPairs { get; private set; } = 5;

    /// <summary>
    /// Pairs of the sweep's confirmation stage (0: none): the best .NET setting of each ring kind
    /// and size and the C ring of that setting, run as this many adjacent alternating pairs.
    /// </summary>
    public int ConfirmPairs { get; private set; } = 5;

    /// <summary>
    /// Segments per pair of an interleaved spinning round trip and its C tests (0: whole runs side by
    /// side, the definition before the host flipped modes within runs; see FloorSegments).
    /// </summary>
    public int FloorSegments { get; private set; } = 8;

    /// <summary>
    /// Round trips of the host-mode probe (c-spin-cacheline) run before, between and after the two runs
    /// of each confirmation pair (0: no probes, every pair counts; see Analysis/HostMode).
    /// </summary>
    public int ModeProbe { get; private set; } = 20_000;

    /// <summary>
    /// Rounds of the sweep's pick stage (0: none, the sweep's one run per setting decides): per ring
    /// kind and size, each side's three fastest settings of the sweep run once per round, and the
    /// highest median is the best setting (Analysis/SettingPick).
    /// </summary>
    public int PickRounds { get; private set; } = 3;

    public bool IsAb => BaselineRef is not null || BaselineDir is not null;

    public List<string> Only { get; } = [];

    public bool List { get; private set; }

    public string? OutputDirectory { get; private set; }

    public long? Iterations { get; private set; }

    public long? SleepIterations { get; private set; }

    public int Producers { get; private set; } = Math.Max(2, Environment.ProcessorCount);

    public TimeSpan Timeout { get; private set; } = TimeSpan.FromSeconds(60);

    public TimeSpan SpinBudget { get; private set; } = TimeSpan.FromMicroseconds(50);

    /// <summary>
    /// Pin the measuring process to CPU 0 and the child's to CPU 1 (the C baseline's --pin).
    /// On by default: unpinned, the kernel sometimes puts both processes on one vCPU, where a
    /// wake-up is a plain context switch (4-9 us instead of 30-50 us) and a spinner starves its
    /// peer, so unpinned results are bimodal (docs/benchmarks-native.md).
    /// </summary>
    public bool Pin { get; private set; } = true;

    public int? RepeatOverride { get; private set; }

    /// <summary>How many times each .NET test and its paired C baseline run.</summary>
    public int Repeat => RepeatOverride ?? (Full ? 3 : 1);

    /// <summary>Pause between a reply and the next ping in the "asleep" tests (0 = none).</summary>
    public TimeSpan Gap { get; private set; } = TimeSpan.Zero;

    public TimeSpan? WarmupTimeOverride { get; private set; }

    /// <summary>Minimum warm-up of every .NET test (tiered compilation promotes hot methods after 100+ ms).</summary>
    public TimeSpan WarmupTime => WarmupTimeOverride ?? TimeSpan.FromMilliseconds(Full ? 2000 : 500);

    /// <summary>Where ring throughput consumers run (--consumer): the harness's process, a child of their own, or both side by side.</summary>
    public ConsumerPlacement Consumer { get; private set; } = ConsumerPlacement.Harness;

    /// <summary>--mixed: the record rows' producers run as the C program (bench/native --child produce).</summary>
    public bool CProducer { get; private set; }

    /// <summary>--mixed: the record rows' consumer run as the C program, in a child (bench/native --child consume).</summary>
    public bool CConsumer { get; private set; }

    public bool Native { get; private set; } = true;

    public bool Plots { get; private set; } = true;

    public bool Help { get; private set; }

    /// <summary>The command line as given (for the report).</summary>
    public string CommandLine { get; private set; } = string.Empty;

    public string Mode => Rpc ? (Full ? "rpc-full" : "rpc") : (Sweep, Full) switch
    {
        (true, true) => "sweep-full",
        (true, false) => "sweep",
        (false, true) => "full",
        _ => "quick",
    };

    /// <summary>Ring capacities (slots) of --sweep.</summary>
    public int[] SweepCapacities => Full ? [1024, 2048, 4096, 8192, 16384, 32768, 65536] : [1024, 4096, 16384, 65536];

    /// <summary>Latency samples of a spinning test.</summary>
    public long SpinSamples => Iterations ?? (Full ? 1_000_000 : 100_000);

    /// <summary>Latency samples of a test whose consumer sleeps.</summary>
    public long SleepSamples => SleepIterations ?? (Full ? 20_000 : 3_000);

    /// <summary>
    /// At most this many messages per ring throughput test (a tenth more as warm-up). The sweep
    /// runs 8 Mi: its 8 B rows move 150-190 M msg/s, and 2 Mi made spans of about 11 ms, in which
    /// one scheduler hiccup of either side's other threads swung a row by 10 % (design-notes, slot8).
    /// </summary>
    public long ThroughputCount => ThroughputCountOverride ?? (Full ? 10_000_000 : Sweep ? 8_000_000 : 2_000_000);

    public long? ThroughputCountOverride { get; private set; }

    /// <summary>At most this many payload bytes per throughput test.</summary>
    public long ThroughputBytes => Full ? 2L << 30 : 256L << 20;

    /// <summary>At most this many messages per pipe / socket throughput test (a system call per message each side).</summary>
    public long StreamThroughputCount => Math.Min(ThroughputCount, Full ? 1_000_000 : 200_000);

    /// <summary>Message sizes of the slot-ring throughput tests (the C baseline's sizes).</summary>
    public static int[] SlotSizes => [8, 64, 256, 1024, 4096];

    /// <summary>Message sizes of the batched record-ring throughput tests at 1 Ki slots.</summary>
    public int[] RecordSizes => Full ? [8, 64, 256, 1024, 4096, 16384] : [64, 1024, 4096];

    /// <summary>Message sizes of the pipe and Unix-socket throughput tests.</summary>
    public int[] StreamSizes => Full ? [8, 64, 256, 1024, 4096, 16384, 65536] : [64, 4096, 65536];

    public static BenchOptions Parse(string[] args)
    {
        var o = new BenchOptions { CommandLine = string.Join(' ', args) };
        for (int i = 0; i < args.Length; i++)
        {
            string a = args[i];
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{a} needs a value.");
            switch (a)
            {
                case "--quick": o.Full = false; break;
                case "--full": o.Full = true; break;
                case "--sweep": o.Sweep = true; break;
                case "--rpc": o.Rpc = true; break;
                case "--rpc-copy-mib": o.RpcCopyBytes = Math.Clamp(Positive(a, Next()), 1, 4096) << 20; break;
                case "--docs": o.DocsFile = Next(); break;
                case "--report-from": o.ReportFrom = Next(); break;
                case "--check-docs": o.CheckDocs = Next(); break;
                case "--native-docs": o.NativeDocs = Next(); break;
                case "--baseline-ref": o.BaselineRef = Next(); break;
                case "--baseline-dir": o.BaselineDir = Next(); break;
                case "--confirm-pairs": o.ConfirmPairs = (int)Math.Min(NonNegative(a, Next()), 99); break;
                case "--mode-probe": o.ModeProbe = (int)Math.Min(NonNegative(a, Next()), 10_000_000); break;
                case "--floor-segments": o.FloorSegments = (int)Math.Min(NonNegative(a, Next()), 1000); break;
                case "--pick-rounds": o.PickRounds = (int)Math.Min(NonNegative(a, Next()), 99); break;
                case "--ab-pairs": o.AbPairs = (int)Math.Clamp(Positive(a, Next()), 1, 99); break;
                case "--only": o.Only.AddRange(Next().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)); break;
                case "--list": o.List = true; break;
                case "--out": o.OutputDirectory = Next(); break;
                case "--iters": o.Iterations = Positive(a, Next()); break;
                case "--sleep-iters": o.SleepIterations = Positive(a, Next()); break;
                case "--tput-count": o.ThroughputCountOverride = Positive(a, Next()); break;
                case "--producers": o.Producers = (int)Math.Clamp(Positive(a, Next()), 1, 64); break;
                case "--timeout": o.Timeout = TimeSpan.FromSeconds(Positive(a, Next())); break;
                case "--spin-us": o.SpinBudget = TimeSpan.FromMicroseconds(long.Parse(Next(), CultureInfo.InvariantCulture)); break;
                case "--warmup-ms": o.WarmupTimeOverride = TimeSpan.FromMilliseconds(long.Parse(Next(), CultureInfo.InvariantCulture)); break;
                case "--gap-us": o.Gap = TimeSpan.FromMicroseconds(long.Parse(Next(), CultureInfo.InvariantCulture)); break;
                case "--repeat": o.RepeatOverride = (int)Math.Clamp(Positive(a, Next()), 1, 99); break;
                case "--pin": o.Pin = true; break;
                case "--no-pin": o.Pin = false; break;
                case "--consumer": o.Consumer = Enum.TryParse(Next(), ignoreCase: true, out ConsumerPlacement c) && Enum.IsDefined(c) ? c
                    : throw new ArgumentException("--consumer takes harness, child or both."); break;
                case "--mixed":
                    (o.CProducer, o.CConsumer) = Next() switch
                    {
                        "none" => (false, false),
                        "c-producer" => (true, false),
                        "c-consumer" => (false, true),
                        "c-both" => (true, true),
                        _ => throw new ArgumentException("--mixed takes none, c-producer, c-consumer or c-both."),
                    };
                    break;
                case "--no-native": o.Native = false; break;
                case "--no-plots": o.Plots = false; break;
                case "-h" or "--help": o.Help = true; break;
                default: throw new ArgumentException($"Unknown option '{a}' (see --help).");
            }
        }

        return o;
    }

    /// <summary>Whether a test with <paramref name="name"/> is selected by --only.</summary>
    public bool Selects(string name) => Only.Count == 0 || Only.Exists(p => p.StartsWith('=')
        ? name.Equals(p[1..], StringComparison.OrdinalIgnoreCase)
        : name.Contains(p, StringComparison.OrdinalIgnoreCase));

    private static long Positive(string option, string value) => AtLeast(1, option, value);

    private static long NonNegative(string option, string value) => AtLeast(0, option, value);

    private static long AtLeast(long min, string option, string value) =>
        long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out long v) && v >= min ? v
            : throw new ArgumentException($"{option}: expected a number of at least {min}, got '{value}'.");
}

/// <summary>Where a ring throughput test's .NET consumer runs (--consumer).</summary>
internal enum ConsumerPlacement
{
    /// <summary>In the harness process (a thread of it, pinned to the measuring CPU).</summary>
    Harness,

    /// <summary>In a fresh child process per run, pinned to the measuring CPU, as the C baseline's consumer.</summary>
    Child,

    /// <summary>In the harness, with a run in a child next to each (a companion row).</summary>
    Both,
}
