using System.Diagnostics;
using UintrIpc.Bench.Processes;
using UintrIpc.Bench.Results;
using UintrIpc.Bench.Workloads.Latency;
using UintrIpc.Rpc;

namespace UintrIpc.Bench.Workloads.Rpc;

/// <summary>The measuring loops of the request/response tests: round trips (the ping-pong pinger) and file copies.</summary>
internal static class RpcMeasure
{
    /// <summary>Bytes per read and write of the copy tests (the demo's CopyToAsync buffer).</summary>
    public const int CopyChunk = 256 * 1024;

    /// <summary>
    /// Round trips through <paramref name="transport"/> (a call per round trip), as the ring
    /// ping-pongs: warm-up, mark, samples. Tests whose server sleeps or blocks (asleep, gRPC)
    /// take --sleep-iters samples, the others --iters. <paramref name="wakes"/> reads the session's wait-block
    /// counters (rings and sleeps per message, two messages per call), where there is a session.
    /// </summary>
    public static BenchResult Latency<T>(BenchCase c, CaseContext ctx, T transport, ServerProcess? server, Func<RpcWakeStatistics>? wakes = null)
        where T : struct, IPingTransport
    {
        long count = c.Consumer is "asleep" or "blocking" ? ctx.Options.SleepSamples : ctx.Options.SpinSamples;
        var samples = new long[count];
        var marked = new ServerMarkedTransport<T>(transport, server);
        RpcWakeStatistics before = wakes?.Invoke() ?? default;
        var pinger = PingPong.Pinger(ref marked, Math.Max(1, count / 10), ctx.Options.WarmupTime, samples);
        double? serverCpu = server is null ? null : server.CpuNanoseconds - marked.ServerCpuAtMark;
        if (wakes is null)
        {
            return LatencyReport.Build(c, samples, pinger, serverCpu);
        }

        RpcWakeStatistics w = wakes().Since(before);
        double messages = 2.0 * (pinger.WarmupRoundTrips + 1 + pinger.RoundTrips);
        var extra = new Dictionary<string, double>(StringComparer.Ordinal)
        {
            ["park_timeouts"] = w.ServerTimeouts + w.ClientTimeouts,
            ["server_woken_per_call"] = w.ServerWakeups / (messages / 2),
            ["client_woken_per_call"] = w.ClientWakeups / (messages / 2),
        };
        return LatencyReport.Build(c, samples, pinger, serverCpu, (w.ServerWakeups + w.ClientWakeups) / messages, (w.ServerSleeps + w.ClientSleeps) / messages, extra);
    }

    /// <summary>
    /// Copies the scratch data file with <paramref name="copy"/> (one whole copy per call): warm-up
    /// copies for the warm-up time (at least one), then copies for at least a quarter second (at
    /// least two), timed as a whole. One "message" is one chunk of <see cref="CopyChunk"/> bytes.
    /// </summary>
    public static BenchResult Copy(BenchCase c, CaseContext ctx, RpcScratch scratch, Action copy, ServerProcess? server)
    {
        long fileBytes = new FileInfo(scratch.DataPath).Length;
        var warmEnd = Stopwatch.GetTimestamp() + (long)(ctx.Options.WarmupTime.TotalSeconds * Stopwatch.Frequency);
        long warmups = 0;
        do
        {
            copy();
            warmups++;
            ctx.Deadline.ThrowIfPassed("the warm-up copies");
        }
        while (Stopwatch.GetTimestamp() < warmEnd);

        long serverCpu0 = server?.CpuNanoseconds ?? 0;
        long cpu0 = CpuClock.ProcessNanoseconds();
        long start = Stopwatch.GetTimestamp();
        long copies = 0;
        long minTicks = Stopwatch.Frequency / 4;
        do
        {
            copy();
            copies++;
            ctx.Deadline.ThrowIfPassed("the measured copies");
        }
        while (copies < 2 || Stopwatch.GetTimestamp() - start < minTicks);

        double elapsedNs = (Stopwatch.GetTimestamp() - start) * 1e9 / Stopwatch.Frequency;
        long cpu = CpuClock.ProcessNanoseconds() - cpu0;
        double? serverCpu = server is null ? null : server.CpuNanoseconds - serverCpu0;
        Check(scratch, fileBytes);
        long chunks = copies * ((fileBytes + CopyChunk - 1) / CopyChunk);
        return c.Result(chunks, warmups, throughput: ThroughputSummary.From(chunks, CopyChunk, elapsedNs),
            cpuSender: cpu / (double)chunks, cpuReceiver: serverCpu / chunks, utilSender: cpu / elapsedNs, utilReceiver: serverCpu / elapsedNs,
            extra: new Dictionary<string, double>(StringComparer.Ordinal) { ["copies"] = copies, ["file_bytes"] = fileBytes });
    }

    /// <summary>The copy is the source, byte for byte (outside the timing).</summary>
    private static void Check(RpcScratch scratch, long length)
    {
        using var a = File.OpenRead(scratch.DataPath);
        using var b = File.OpenRead(scratch.CopyPath);
        if (b.Length != length || !System.Security.Cryptography.SHA256.HashData(a).AsSpan().SequenceEqual(System.Security.Cryptography.SHA256.HashData(b)))
        {
            throw new InvalidDataException($"{scratch.CopyPath} is not a copy of {scratch.DataPath}");
        }
    }
}
