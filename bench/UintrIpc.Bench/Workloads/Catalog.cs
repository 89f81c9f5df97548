using UintrIpc.Bench.Cli;
using UintrIpc.Bench.Results;
using UintrIpc.Bench.Workloads.Latency;
using UintrIpc.Bench.Workloads.Throughput;
using UintrIpc.Signaling;

namespace UintrIpc.Bench.Workloads;

/// <summary>Every .NET test of the harness, in run order, and the C tests of each group.</summary>
internal static class Catalog
{
    /// <summary>The C program's --only selection for each group.</summary>
    public static string NativeSelection(BenchGroup group) => group switch
    {
        BenchGroup.Spinning => "spin,slotring,futex-spin",
        BenchGroup.Sleeping => "c-futex-pingpong,futex-always,eventfd,signal",
        BenchGroup.Kernel => "pipe,unix",
        BenchGroup.Throughput => "tput",
        _ => throw new ArgumentOutOfRangeException(nameof(group)),
    };

    public static IReadOnlyList<BenchCase> Build(BenchOptions options)
    {
        var cases = new List<BenchCase>();
        cases.Add(Latency("net-spin-cacheline", BenchGroup.Spinning, "dotnet", "cache-line", "none", "spinning", "c-spin-cacheline",
            "one cache line in a region, both spin: the .NET floor", BaselinePingPong.RunCacheLine));
        cases.Add(Latency("net-slotring-spin", BenchGroup.Spinning, "uintripc", "slot-ring", "none", "spinning", "c-slotring-pingpong",
            "two SpscRing<long>, both consumers spin on TryRead", (c, ctx) => RingPingPong.Run(c, ctx, null, asleep: false), alsoPaired: ["c-spin-cacheline"]));
        foreach (var kind in s_doorbells)
        {
            string name = DoorbellNames.Of(kind);
            var capability = Doorbells.Check(kind);
            string? skip = capability.IsAvailable ? null : capability.Reason;
            cases.Add(Latency($"net-{name}-awake", BenchGroup.Spinning, "uintripc", "slot-ring", name, "spinning", "c-futex-spin-pingpong",
                $"slot rings + WaitBlock, {name} doorbell; spin {options.SpinBudget.TotalMicroseconds:0} us before parking",
                (c, ctx) => RingPingPong.Run(c, ctx, kind, asleep: false), skip));
            cases.Add(Latency($"net-{name}-asleep", BenchGroup.Sleeping, "uintripc", "slot-ring", name, "asleep", AsleepBaseline(kind),
                $"slot rings + WaitBlock, {name} doorbell; parks at once (spin 0)",
                (c, ctx) => RingPingPong.Run(c, ctx, kind, asleep: true), skip));
        }

        cases.Add(Latency("net-pipe", BenchGroup.Kernel, "dotnet", "pipe", "kernel", "blocking", "c-pipe-pingpong",
            "System.IO.Pipes anonymous pipes, blocking 8-byte read/write", BaselinePingPong.RunPipe));
        cases.Add(Latency("net-unix-socket", BenchGroup.Kernel, "dotnet", "unix-socket", "kernel", "blocking", "c-unix-stream-pingpong",
            "System.Net.Sockets Unix stream socket, blocking Send/Receive", BaselinePingPong.RunSocket));
        AddThroughput(cases, options);
        return cases;
    }

    private static void AddThroughput(List<BenchCase> cases, BenchOptions o)
    {
        foreach (int size in BenchOptions.SlotSizes)
        {
            cases.Add(Throughput($"net-spsc-slot-tput-s{size}", ThroughputTransport.SpscSlot, "slot-ring", size, 1, $"c-slotring-tput-s{size}",
                "SpscRing<T>: TryClaim+Publish / TryRead (head released per element, as the C test)"));
        }

        foreach (int size in BenchOptions.SlotSizes)
        {
            cases.Add(Throughput($"net-spsc-slot-drain-tput-s{size}", ThroughputTransport.SpscSlotDrain, "slot-ring-drain", size, 1, $"c-slotring-tput-batch-s{size}",
                "SpscRing<T>: TryClaim+Publish / Drain (head released every quarter ring; C batches every 64)"));
        }

        foreach (int size in o.RecordSizes)
        {
            cases.Add(Throughput($"net-spsc-record-tput-s{size}", ThroughputTransport.SpscRecord, "record-ring", size, 1, CSlot(size),
                "SpscRecordRing: TryClaim+Commit / Read (C has slot rings only: same size, other design)"));
        }

        foreach (int size in o.MpscSlotSizes)
        {
            foreach (int p in new[] { 1, o.Producers })
            {
                cases.Add(Throughput($"net-mpsc-slot-tput-s{size}-p{p}", ThroughputTransport.MpscSlot, "mpsc-slot-ring", size, p, CSlot(size),
                    $"MpscRing<T>, {p} producer process(es): TryClaim+Publish / TryRead (C baseline is SPSC)"));
            }
        }

        foreach (int size in o.MpscRecordSizes)
        {
            foreach (int p in new[] { 1, o.Producers })
            {
                cases.Add(Throughput($"net-mpsc-record-tput-s{size}-p{p}", ThroughputTransport.MpscRecord, "mpsc-record-ring", size, p, CSlot(size),
                    $"MpscRecordRing, {p} producer process(es): TryClaim+Commit / Read (C baseline is an SPSC slot ring)"));
            }
        }

        foreach (int size in o.StreamSizes)
        {
            cases.Add(Throughput($"net-pipe-tput-s{size}", ThroughputTransport.Pipe, "pipe", size, 1, CSlot(size),
                "System.IO.Pipes anonymous pipe, blocking write / ReadExactly per message"));
            cases.Add(Throughput($"net-unix-socket-tput-s{size}", ThroughputTransport.Socket, "unix-socket", size, 1, CSlot(size),
                "System.Net.Sockets Unix stream socket, blocking Send / Receive per message"));
        }
    }

    /// <summary>The C slot-ring throughput test of <paramref name="size"/>, if C has one.</summary>
    private static string? CSlot(int size) => Array.IndexOf(BenchOptions.SlotSizes, size) >= 0 ? $"c-slotring-tput-s{size}" : null;

    private static BenchCase Throughput(string name, ThroughputTransport transport, string transportName, int size, int producers, string? baseline, string note)
    {
        BenchCase? self = null;
        self = new BenchCase
        {
            Name = name, Kind = ResultKind.Throughput, Group = BenchGroup.Throughput,
            Implementation = transport is ThroughputTransport.Pipe or ThroughputTransport.Socket ? "dotnet" : "uintripc",
            Transport = transportName, MessageSize = size, Producers = producers, Baseline = baseline, Note = note,
            Run = ctx => ThroughputRun.Run(self!, ctx, transport),
        };
        return self;
    }

    /// <summary>Doorbells measured with the rings, in report order.</summary>
    private static readonly DoorbellKind[] s_doorbells =
        [DoorbellKind.Futex, DoorbellKind.EventFd, DoorbellKind.Signal, DoorbellKind.UintrSimulated, DoorbellKind.Uintr];

    /// <summary>The C test closest to a sleeping consumer woken by <paramref name="kind"/>.</summary>
    private static string AsleepBaseline(DoorbellKind kind) => kind switch
    {
        DoorbellKind.EventFd => "c-eventfd-pingpong",
        DoorbellKind.Signal => "c-signal-pingpong",
        _ => "c-futex-pingpong", // futex; uintr-sim wakes its receiver with FUTEX_WAKE; no C uintr test exists
    };

    private static BenchCase Latency(string name, BenchGroup group, string impl, string transport, string doorbell, string consumer,
        string? baseline, string note, Func<BenchCase, CaseContext, BenchResult> run, string? skip = null, string[]? alsoPaired = null)
    {
        BenchCase? self = null;
        self = new BenchCase
        {
            Name = name, Kind = ResultKind.Latency, Group = group, Implementation = impl, Transport = transport, Doorbell = doorbell,
            Consumer = consumer, Baseline = baseline, Note = note, Run = ctx => run(self!, ctx), SkipReason = skip, AlsoPaired = alsoPaired ?? [],
        };
        return self;
    }
}
