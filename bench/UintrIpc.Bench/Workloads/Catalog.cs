using UintrIpc.Bench.Cli;
using UintrIpc.Bench.Results;
using UintrIpc.Bench.Workloads.Latency;

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
        cases.Add(Latency("net-pipe", BenchGroup.Kernel, "dotnet", "pipe", "kernel", "blocking", "c-pipe-pingpong",
            "System.IO.Pipes anonymous pipes, blocking 8-byte read/write", BaselinePingPong.RunPipe));
        cases.Add(Latency("net-unix-socket", BenchGroup.Kernel, "dotnet", "unix-socket", "kernel", "blocking", "c-unix-stream-pingpong",
            "System.Net.Sockets Unix stream socket, blocking Send/Receive", BaselinePingPong.RunSocket));
        return cases;
    }

    private static BenchCase Latency(string name, BenchGroup group, string impl, string transport, string doorbell, string consumer,
        string? baseline, string note, Func<BenchCase, CaseContext, BenchResult> run)
    {
        BenchCase? self = null;
        self = new BenchCase
        {
            Name = name, Kind = ResultKind.Latency, Group = group, Implementation = impl, Transport = transport, Doorbell = doorbell,
            Consumer = consumer, Baseline = baseline, Note = note, Run = ctx => run(self!, ctx),
        };
        return self;
    }
}
