using UintrIpc.Bench.Results;
using UintrIpc.Signaling;

namespace UintrIpc.Bench.Workloads.Rpc;

/// <summary>
/// The --rpc tests (issue 10 item 5): forwarded calls to the syscall-forwarding server in
/// another process, each next to what it is judged against in the same run: the C ping-pongs
/// of the same wake-up protocol, the same call made directly (the cost floor), gRPC over a
/// Unix socket.
/// </summary>
internal static class RpcCatalog
{
    public static void Add(List<BenchCase> cases)
    {
        var grpcNop = Catalog.Latency("grpc-nop", BenchGroup.Rpc, "grpc", "unix-socket", "kernel", "blocking", null,
            "Kestrel + Grpc.AspNetCore (HTTP/2 only) in a child, Grpc.Net.Client in the harness, one blocking unary call carrying a no-op",
            (c, ctx) => GrpcBench.RunCalls(c, ctx, read: false));
        foreach (var kind in new[] { DoorbellKind.Futex, DoorbellKind.EventFd, DoorbellKind.None })
        {
            string name = DoorbellNames.Of(kind);
            var capability = Doorbells.Check(kind);
            string? skip = capability.IsAvailable ? null : capability.Reason;
            cases.Add(Catalog.Latency($"fwd-nop-{name}-awake", BenchGroup.Rpc, "uintripc", "rpc-session", name, "spinning", "c-slotring-pingpong",
                $"forwarded no-op (ForwardClient.Nop), {name} doorbell, the RPC layer's default waits on both sides (spin 2 us, yield 50 us, then sleep)",
                (c, ctx) => ForwardBench.RunCalls(c, ctx, kind, asleep: false, read: false), skip,
                companions: kind == DoorbellKind.Futex ? [grpcNop] : null));
            cases.Add(Catalog.Latency($"fwd-nop-{name}-asleep", BenchGroup.Rpc, "uintripc", "rpc-session", name, "asleep",
                kind == DoorbellKind.EventFd ? "c-eventfd-ring-pingpong" : "c-futex-pingpong",
                $"forwarded no-op, {name} doorbell, server and caller park at once (as the C ping-pong): every call rings the server, every answer the caller",
                (c, ctx) => ForwardBench.RunCalls(c, ctx, kind, asleep: true, read: false),
                kind == DoorbellKind.None ? "the none doorbell has no sleep: a waiting side only spins and yields" : skip,
                companions: kind == DoorbellKind.Futex ? [grpcNop] : null));
        }

        var directRead = Catalog.Latency("direct-read-4k", BenchGroup.Rpc, "dotnet", "syscall", "none", "direct", null,
            "the same pread(2) of 4 KiB made by the harness itself (RandomAccess.Read): the cost floor", DirectBench.RunRead);
        var grpcRead = Catalog.Latency("grpc-read-4k", BenchGroup.Rpc, "grpc", "unix-socket", "kernel", "blocking", null,
            "gRPC as grpc-nop; the server preads 4 KiB and answers them as bytes", (c, ctx) => GrpcBench.RunCalls(c, ctx, read: true));
        cases.Add(Catalog.Latency("fwd-read-4k", BenchGroup.Rpc, "uintripc", "rpc-session", "futex", "spinning", null,
            "forwarded pread of 4 KiB at offset 0 (ForwardClient.PRead: the server reads into the arena, the client copies out), default waits",
            (c, ctx) => ForwardBench.RunCalls(c, ctx, DoorbellKind.Futex, asleep: false, read: true),
            companions: [directRead, grpcRead], baselineCompanion: directRead.Name));

        var directCopy = Copy("direct-copy", "dotnet", "syscall",
            $"FileStream.CopyTo (unbuffered) of the same file, {RpcMeasure.CopyChunk >> 10} KiB reads and writes: the cost floor", DirectBench.RunCopy, []);
        cases.Add(Copy("fwd-copy", "uintripc", "rpc-session",
            $"ForwardedFileStream.CopyTo: forwarded {RpcMeasure.CopyChunk >> 10} KiB reads and writes (futex doorbell, default waits)", ForwardBench.RunCopy, [directCopy]));

        cases.Add(Catalog.Latency("fwd-c-client-nop", BenchGroup.Rpc, "c-client", "rpc-session", "futex", "spinning", "c-slotring-pingpong",
            "the C client (samples/SyscallForward/c-client, spin 1 us, yield to 50 us) forwarding no-ops to the managed server",
            ForwardBench.RunCClient));
        cases.Add(Catalog.Latency("fwd-nop-futex-same-cpu", BenchGroup.Rpc, "uintripc", "rpc-session", "futex", "same CPU", null,
            "as fwd-nop-futex-awake with the server pinned to the harness's CPU: neither side can answer while the other spins (not a target; README, where the time goes)",
            (c, ctx) => ForwardBench.RunCalls(c, ctx, DoorbellKind.Futex, asleep: false, read: false, serverCpu: 0)));
    }

    private static BenchCase Copy(string name, string implementation, string transport, string note, Func<BenchCase, CaseContext, BenchResult> run, IReadOnlyList<BenchCase> companions)
    {
        BenchCase? self = null;
        self = new BenchCase
        {
            Name = name, Kind = ResultKind.Throughput, Group = BenchGroup.Rpc, Implementation = implementation, Transport = transport,
            MessageSize = RpcMeasure.CopyChunk, Note = note, Run = ctx => run(self!, ctx),
            Companions = companions, BaselineCompanion = companions.Count > 0 ? companions[0].Name : null,
        };
        return self;
    }
}
