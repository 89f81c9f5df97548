using System.Globalization;
using UintrIpc.Bench.Cli;
using UintrIpc.Bench.Results;
using UintrIpc.Bench.Workloads.Latency;
using UintrIpc.Bench.Workloads.Throughput;
using UintrIpc.Channels;
using UintrIpc.Rings;
using UintrIpc.Signaling;

namespace UintrIpc.Bench.Workloads;

/// <summary>Every .NET test of the harness, in run order, with the C test each is paired with.</summary>
internal static class Catalog
{
    /// <summary>
    /// C tests of a group that no .NET test is paired with, run once for the tables (the bare
    /// kernel mechanisms, for reference).
    /// </summary>
    public static IReadOnlyList<string> NativeOnly(BenchGroup group) => group switch
    {
        BenchGroup.Sleeping => ["c-futex-always-pingpong", "c-eventfd-pingpong", "c-signal-pingpong"],
        BenchGroup.Kernel => ["c-unix-seqpacket-pingpong"],
        _ => [],
    };

    public static IReadOnlyList<BenchCase> Build(BenchOptions options)
    {
        var cases = new List<BenchCase>();
        if (options.Rpc)
        {
            Rpc.RpcCatalog.Add(cases);
        }
        else if (!options.Sweep)
        {
            AddLatency(cases, options);
            AddThroughput(cases, options);
        }
        else
        {
            AddSweep(cases, options);
        }

        return cases;
    }

    private static void AddLatency(List<BenchCase> cases, BenchOptions options)
    {
        cases.Add(Latency("net-spin-cacheline", BenchGroup.Spinning, "dotnet", "cache-line", "none", "spinning", "c-spin-cacheline",
            "one cache line in a region, both spin: the .NET floor", BaselinePingPong.RunCacheLine, interleaved: true));
        cases.Add(Latency("net-slotring-spin", BenchGroup.Spinning, "uintripc", "slot-ring", "none", "spinning", "c-slotring-pingpong",
            "two SlotRing<long>, both consumers spin on TryRead", (c, ctx) => RingPingPong.Run(c, ctx, null, asleep: false), alsoPaired: ["c-spin-cacheline", "c-spin-twolines"], interleaved: true));
        var duplexRings = Latency("net-duplex-spin", BenchGroup.Spinning, "uintripc", "duplex-ring", "none", "spinning", "c-duplex-pingpong",
            "the two SlotRing<long> of one duplex part (slot k of both in one line), both consumers spin on TryRead",
            (c, ctx) => RingPingPong.Run(c, ctx, null, asleep: false, duplex: true), alsoPaired: ["c-spin-cacheline", "c-spin-rotating"], interleaved: true);
        cases.Add(duplexRings);
        // What a user gets from the public API over the same rings: run next to each repetition of
        // the rings alone (a companion) and of the C one-line floor, so both ratios are same-run pairs.
        cases.Add(Latency("net-duplex-channel-spin", BenchGroup.Spinning, "uintripc", "duplex-channel", "futex", "spinning", "c-spin-cacheline",
            "IpcDuplexChannel<long, long> handed over with SendChannel / ReceiveDuplexChannel, futex doorbell never rung: both sides write with " +
            "TryWrite (wake-up check after each publish) and spin on TryRead",
            DuplexChannelPingPong.Run, companions: [duplexRings], interleaved: true));
        // In a software-emulated CPU (the emulated uintr machine) the uintr rows run, labelled: their timings mean nothing for hardware.
        bool emulatedCpu = MachineInfo.IsEmulated(MachineInfo.CpuInfoModel());
        foreach (var kind in s_doorbells)
        {
            string name = DoorbellNames.Of(kind);
            var capability = Doorbells.Check(kind);
            string? skip = capability.IsAvailable ? null : capability.Reason;
            // Awake, no doorbell is rung: every kind runs the same path as the C futex-spin test.
            // The uintr rows have no C counterpart (the simulation is a software model; real user
            // interrupts have been available only in an emulated CPU), so no ratio or target uses them.
            bool unpaired = kind is DoorbellKind.UintrSimulated or DoorbellKind.Uintr;
            string label = kind == DoorbellKind.Uintr && emulatedCpu ? $"{name} (emulated)" : name;
            string where = kind == DoorbellKind.Uintr && emulatedCpu ? "; in an emulated CPU (QEMU TCG): it works end to end, its timings mean nothing for hardware" : "";
            cases.Add(Latency($"net-{name}-awake", BenchGroup.Spinning, "uintripc", "slot-ring", label, "spinning", unpaired ? null : "c-futex-spin-pingpong",
                $"slot rings + WaitBlock, {name} doorbell; spin {options.SpinBudget.TotalMicroseconds:0} us before parking{where}",
                (c, ctx) => RingPingPong.Run(c, ctx, kind, asleep: false), skip));
            cases.Add(Latency($"net-{name}-asleep", BenchGroup.Sleeping, "uintripc", "slot-ring", label, "asleep", unpaired ? null : AsleepBaseline(kind),
                $"slot rings + WaitBlock, {name} doorbell; parks at once (spin 0){where}",
                (c, ctx) => RingPingPong.Run(c, ctx, kind, asleep: true), skip));
        }

        cases.Add(Latency("net-pipe", BenchGroup.Kernel, "dotnet", "pipe", "kernel", "blocking", "c-pipe-pingpong",
            "System.IO.Pipes anonymous pipes, blocking 8-byte read/write", BaselinePingPong.RunPipe));
        cases.Add(Latency("net-unix-socket", BenchGroup.Kernel, "dotnet", "unix-socket", "kernel", "blocking", "c-unix-stream-pingpong",
            "System.Net.Sockets Unix stream socket, blocking Send/Receive", BaselinePingPong.RunSocket));
    }

    /// <summary>The quick and full mode's throughput tests: the sizes at the default ring, and the main settings of 64 B.</summary>
    private static void AddThroughput(List<BenchCase> cases, BenchOptions o)
    {
        const int small = 1024, large = 64 * 1024;
        foreach (int size in BenchOptions.SlotSizes)
        {
            cases.Add(Ring(ThroughputTransport.SpscSlot, size, 1, small, batched: false, o.Consumer));
        }

        cases.Add(Ring(ThroughputTransport.SpscSlot, 64, 1, large, batched: false, o.Consumer));
        cases.Add(Ring(ThroughputTransport.SpscSlot, 64, 1, small, batched: true, o.Consumer));
        cases.Add(Ring(ThroughputTransport.SpscSlot, 64, 1, large, batched: true, o.Consumer));
        foreach (int p in new[] { 1, o.Producers })
        {
            cases.Add(Ring(ThroughputTransport.MpscSlot, 64, p, small, batched: false, o.Consumer));
        }

        cases.Add(Ring(ThroughputTransport.MpscSlot, 64, o.Producers, small, batched: true, o.Consumer));
        foreach (int size in o.RecordSizes)
        {
            cases.Add(Ring(ThroughputTransport.SpscRecord, size, 1, small, batched: true, o.Consumer));
        }

        cases.Add(Ring(ThroughputTransport.SpscRecord, 64, 1, small, batched: false, o.Consumer));
        cases.Add(Ring(ThroughputTransport.MpscRecord, 1024, o.Producers, small, batched: true, o.Consumer));
        foreach (int size in o.StreamSizes)
        {
            cases.Add(Throughput($"net-pipe-tput-s{size}", new ThroughputSpec(ThroughputTransport.Pipe, size, 1, 0, false), "pipe", null,
                "System.IO.Pipes anonymous pipe, blocking write / ReadExactly per message"));
            cases.Add(Throughput($"net-unix-socket-tput-s{size}", new ThroughputSpec(ThroughputTransport.Socket, size, 1, 0, false), "unix-socket", null,
                "System.Net.Sockets Unix stream socket, blocking Send / Receive per message"));
        }
    }

    /// <summary>--sweep: every ring kind, size, capacity and form (issue 11 item 1).</summary>
    private static void AddSweep(List<BenchCase> cases, BenchOptions o)
    {
        foreach (int size in BenchOptions.SlotSizes)
        {
            foreach (int capacity in o.SweepCapacities)
            {
                foreach (bool batched in new[] { false, true })
                {
                    cases.Add(Ring(ThroughputTransport.SpscSlot, size, 1, capacity, batched, o.Consumer));
                    cases.Add(Ring(ThroughputTransport.SpscRecord, size, 1, capacity, batched, o.Consumer));
                    cases.Add(Ring(ThroughputTransport.MpscSlot, size, o.Producers, capacity, batched, o.Consumer));
                    cases.Add(Ring(ThroughputTransport.MpscRecord, size, o.Producers, capacity, batched, o.Consumer));
                }
            }
        }
    }

    /// <summary>"1k" for 1024 slots, "64k" for 65536.</summary>
    public static string CapacityName(int slots) => slots % 1024 == 0 ? $"{slots / 1024}k" : slots.ToString(CultureInfo.InvariantCulture);

    /// <summary>A ring throughput test and its C baseline of the same design and setting.</summary>
    private static BenchCase Ring(ThroughputTransport transport, int size, int producers, int capacity, bool batched, ConsumerPlacement placement)
    {
        var spec = new ThroughputSpec(transport, size, producers, capacity, batched);
        string kind = transport switch
        {
            ThroughputTransport.SpscSlot => "spsc-slot",
            ThroughputTransport.MpscSlot => "mpsc-slot",
            ThroughputTransport.SpscRecord => "spsc-record",
            _ => "mpsc-record",
        };
        string form = batched ? "-batch" : "";
        string name = $"net-{kind}{form}-s{size}-c{CapacityName(capacity)}" + (spec.IsMultiProducer ? $"-p{producers}" : "");
        NativeTest? baseline = null;
        if (size <= 4096)
        {
            string ring = (spec.IsRecord, spec.IsMultiProducer) switch
            {
                (true, true) => "mpscrecordring",
                (true, false) => "recordring",
                (false, true) => "mpscring",
                _ => "slotring",
            };
            string c = $"c-{ring}-tput{form}-s{size}";
            var inv = CultureInfo.InvariantCulture;
            baseline = new NativeTest($"{c}-c{CapacityName(capacity)}" + (spec.IsMultiProducer ? $"-p{producers}" : ""), c,
                ["--capacity", capacity.ToString(inv), "--batch", Batch.Size.ToString(inv), "--producers", producers.ToString(inv)]);
        }

        string note = (transport, batched) switch
        {
            (ThroughputTransport.SpscSlot or ThroughputTransport.MpscSlot, false) => "TryClaim + Publish / TryRead (tail and head stored per message)",
            (ThroughputTransport.SpscSlot, true) => $"TryWrite(span of {Batch.Size}) / Drain(limit {Batch.Size}) (tail and head stored per batch)",
            (ThroughputTransport.MpscSlot, true) => $"TryClaim({Batch.Size}) + copy and stamp in place + Publish / Drain(limit {Batch.Size}) (one CAS on tail and one head store per batch)",
            (_, false) => "TryClaim + Commit / TryRead (head stored per record)",
            (ThroughputTransport.MpscRecord, true) => $"TryClaimBatch of {RecordBatch.MaxRecords} records, appended as one run (TryAppend(type, length, count)) + Commit / Read(limit {Batch.Size}) (one CAS on tail per claimed range, head per batch)",
            _ => $"TryClaimBatch of {RecordBatch.MaxRecords} records{(size == sizeof(long) ? ", appended as one run (TryAppend(type, length, count))" : "")} + Commit / Read(limit {Batch.Size}) (tail stored per claimed range, head per batch)",
        };
        if (spec.IsMultiProducer)
        {
            note += $"; {producers} producer process(es)";
        }

        // --consumer both: the same test with its consumer in a child, run next to each repetition as its C baseline is.
        var companions = placement == ConsumerPlacement.Both
            ? new[] { Throughput(name + "-child-consumer", spec with { ConsumerInChild = true }, kind + (batched ? "-batched" : ""), null, note + "; consumer in a child process") }
            : [];
        return Throughput(name, spec with { ConsumerInChild = placement == ConsumerPlacement.Child }, kind + (batched ? "-batched" : ""), baseline, note, companions);
    }

    private static BenchCase Throughput(string name, ThroughputSpec spec, string transportName, NativeTest? baseline, string note, BenchCase[]? companions = null)
    {
        BenchCase? self = null;
        self = new BenchCase
        {
            Name = name, Kind = ResultKind.Throughput, Group = BenchGroup.Throughput,
            Implementation = spec.IsRing ? "uintripc" : "dotnet",
            Transport = transportName, MessageSize = spec.Size, Producers = spec.Producers, Capacity = spec.Capacity, Batched = spec.Batched,
            Baseline = baseline, Note = note, Run = ctx => ThroughputRun.Run(self!, ctx, spec), Spec = spec, Companions = companions ?? [],
        };
        return self;
    }

    /// <summary>Doorbells measured with the rings, in report order.</summary>
    private static readonly DoorbellKind[] s_doorbells =
        [DoorbellKind.Futex, DoorbellKind.EventFd, DoorbellKind.Signal, DoorbellKind.UintrSimulated, DoorbellKind.Uintr];

    /// <summary>The C test of a sleeping consumer woken by <paramref name="kind"/>: ring + wait block + the same doorbell.</summary>
    private static string AsleepBaseline(DoorbellKind kind) => kind switch
    {
        DoorbellKind.EventFd => "c-eventfd-ring-pingpong",
        DoorbellKind.Signal => "c-signal-ring-pingpong",
        _ => "c-futex-pingpong",
    };

    internal static BenchCase Latency(string name, BenchGroup group, string impl, string transport, string doorbell, string consumer,
        string? baseline, string note, Func<BenchCase, CaseContext, BenchResult> run, string? skip = null, string[]? alsoPaired = null,
        IReadOnlyList<BenchCase>? companions = null, string? baselineCompanion = null, bool interleaved = false)
    {
        BenchCase? self = null;
        self = new BenchCase
        {
            Name = name, Kind = ResultKind.Latency, Group = group, Implementation = impl, Transport = transport, Doorbell = doorbell,
            Consumer = consumer, Baseline = baseline is null ? null : NativeTest.Plain(baseline), Note = note, Run = ctx => run(self!, ctx),
            SkipReason = skip, AlsoPaired = (alsoPaired ?? []).Select(NativeTest.Plain).ToList(),
            Companions = companions ?? [], BaselineCompanion = baselineCompanion, InterleavesFloor = interleaved,
        };
        return self;
    }
}
