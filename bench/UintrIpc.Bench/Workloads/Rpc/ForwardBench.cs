using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Text.Json;
using SyscallForward.Client;
using UintrIpc.Bench.Results;
using UintrIpc.Bench.Workloads.Latency;
using UintrIpc.Bootstrap;
using UintrIpc.Rpc;

namespace UintrIpc.Bench.Workloads.Rpc;

/// <summary>
/// Forwarded calls to the syscall-forwarding server (samples/SyscallForward) in a child process:
/// no-ops and 4 KiB preads from the managed client (ForwardClient), a file copy through the
/// forwarded Stream, and no-ops from the C client (fwd_client --bench).
/// </summary>
internal static class ForwardBench
{
    /// <summary>Bytes of one forwarded read (the 4 KiB read test).</summary>
    public const int ReadSize = 4096;

    /// <summary>
    /// Forwarded no-ops (<paramref name="read"/> false) or 4 KiB preads at offset 0. Awake: both sides
    /// keep the library's default waits. Asleep: both park at once (as the C futex ping-pong), so every
    /// call rings the server and the answer rings the caller. <paramref name="serverCpu"/> 0 puts the
    /// server on the harness's CPU (the same-CPU test).
    /// </summary>
    public static BenchResult RunCalls(BenchCase c, CaseContext ctx, DoorbellKind doorbell, bool asleep, bool read, int serverCpu = 1)
    {
        using var scratch = RpcScratch.Create(ReadSize * 16);
        using var server = ServerProcess.Start(ForwardServerRole.Args(ctx, scratch, asleep, serverCpu), "@" + CaseContext.NewUniqueName(), ctx);
        var options = new RpcClientOptions { Doorbell = doorbell };
        if (asleep)
        {
            options = options with { Wait = ForwardServerRole.ParkAtOnce(options.Wait.MaxParkTime) };
        }

        using var client = ForwardClient.Connect(server.Endpoint, options, ctx.Options.Timeout);
        int fd = read ? client.Open(RpcScratch.DataFile, 0) : -1;
        var transport = new CallTransport(client, read ? new byte[ReadSize] : null, fd);
        return RpcMeasure.Latency(c, ctx, transport, server, () => client.Rpc.WakeStatistics);
    }

    /// <summary>Copies the data file to another file of the server's directory through ForwardedFileStream.CopyTo (forwarded reads and writes).</summary>
    public static BenchResult RunCopy(BenchCase c, CaseContext ctx)
    {
        using var scratch = RpcScratch.Create(ctx.Options.RpcCopyBytes);
        using var server = ServerProcess.Start(ForwardServerRole.Args(ctx, scratch, asleep: false), "@" + CaseContext.NewUniqueName(), ctx);
        using var client = ForwardClient.Connect(server.Endpoint, null, ctx.Options.Timeout);
        return RpcMeasure.Copy(c, ctx, scratch, () =>
        {
            using var source = client.OpenStream(RpcScratch.DataFile, FileAccess.Read);
            using var target = client.OpenStream(RpcScratch.CopyFile, FileAccess.Write, FileMode.Create);
            source.CopyTo(target, RpcMeasure.CopyChunk);
        }, server);
    }

    /// <summary>
    /// The C client (samples/SyscallForward/c-client, fwd_client --bench N) against the managed
    /// server: it times its own no-ops (same clock, percentiles over all samples) and prints
    /// "measuring" before the samples, when the server's CPU clock is read.
    /// </summary>
    public static BenchResult RunCClient(BenchCase c, CaseContext ctx)
    {
        string program = Path.Combine(AppContext.BaseDirectory, "fwd_client");
        if (!File.Exists(program))
        {
            return c.Failed($"{program} is missing: it is built with samples/SyscallForward (make in c-client)");
        }

        using var scratch = RpcScratch.Create(ReadSize);
        using var server = ServerProcess.Start(ForwardServerRole.Args(ctx, scratch, asleep: false), "@" + CaseContext.NewUniqueName(), ctx);
        long count = ctx.Options.SpinSamples;
        // Started from this (pinned) thread: the client inherits the harness's CPU.
        var psi = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string a in new[] { server.Endpoint, "--bench", count.ToString(System.Globalization.CultureInfo.InvariantCulture) })
        {
            psi.ArgumentList.Add(a);
        }

        using var process = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {program}");
        var stderr = process.StandardError.ReadToEndAsync();
        long serverCpu0 = 0;
        string? json = null;
        var deadline = ctx.Deadline;
        while (process.StandardOutput.ReadLine() is { } line)
        {
            if (line == "measuring")
            {
                serverCpu0 = server.CpuNanoseconds;
            }
            else if (line.StartsWith('{'))
            {
                json = line;
            }

            deadline.ThrowIfPassed("the C client");
        }

        long serverCpu = server.CpuNanoseconds - serverCpu0;
        if (!process.WaitForExit(TimeSpan.FromSeconds(10)) || process.ExitCode != 0 || json is null)
        {
            return c.Failed($"fwd_client failed (exit {(process.HasExited ? process.ExitCode : -1)}): {stderr.Result.Trim()}");
        }

        using var doc = JsonDocument.Parse(json);
        var e = doc.RootElement;
        double D(string name) => e.GetProperty(name).GetDouble();
        var summary = new LatencySummary(D("min"), D("p50"), D("p90"), D("p99"), D("p999"), D("max"), D("mean"));
        double wall = Math.Max(1, D("wall_ns"));
        double n = D("count");
        return c.Result((long)n, (long)D("warmup"), summary,
            [new(0, summary.Min), new(50, summary.P50), new(90, summary.P90), new(99, summary.P99), new(99.9, summary.P999), new(100, summary.Max)],
            cpuSender: D("cpu_ns") / n, cpuReceiver: serverCpu / n, utilSender: D("cpu_ns") / wall, utilReceiver: serverCpu / wall,
            wakesPerMsg: (D("server_woken") + D("client_woken")) / (2 * n), sleepsPerMsg: (D("server_sleeps") + D("client_sleeps")) / (2 * n),
            extra: new Dictionary<string, double>(StringComparer.Ordinal)
            {
                ["server_woken_per_call"] = D("server_woken") / n,
                ["client_woken_per_call"] = D("client_woken") / n,
            });
    }

    /// <summary>One forwarded call per round trip: a no-op, or a 4 KiB pread at offset 0 (which must return 4 KiB).</summary>
    private struct CallTransport(ForwardClient client, byte[]? buffer, int fd) : IPingTransport
    {
        private long _value;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Send(long value) => _value = value;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public long Receive()
        {
            if (buffer is null)
            {
                client.Nop();
            }
            else if (client.PRead(fd, buffer, 0) != buffer.Length)
            {
                throw new InvalidDataException("a forwarded 4 KiB pread came back short");
            }

            return _value;
        }
    }
}
