using System.Text;
using UintrIpc.Bench.Analysis;
using UintrIpc.Bench.Results;

namespace UintrIpc.Bench.Reporting;

/// <summary>What the --rpc report adds to (or says instead of) the ring report: its method and the wake-ups per call.</summary>
internal static class RpcReport
{
    public const string Method = """
        - **Two real processes** per test: the harness (the client, the measuring side) and a
          server child it starts (`dotnet UintrIpc.Bench.dll --child fwd-server|grpc-server`).
          `fwd-server` is the syscall-forwarding server of samples/SyscallForward (`ForwardServer`
          over `RpcServer`) serving a scratch directory; the harness calls it through the sample's
          `ForwardClient` (`RpcClient`), the C client `fwd_client --bench N` (a third process on the
          harness's CPU), or copies a file through its `ForwardedFileStream`. `grpc-server` is
          Kestrel with Grpc.AspNetCore (HTTP/2 only, on a Unix socket path), called with
          Grpc.Net.Client through a SocketsHttpHandler that connects to that socket; each unary
          call carries what the forwarded call carries (forward_bench.proto) and the server does
          the same work (nothing for a no-op, a pread of 4 KiB for a read).
        - **Pairs**: every repetition of a .NET test runs right next to the tests it is judged
          against, alternately before and after it: the C ping-pongs of bench/native (the slot-ring
          ping-pong with both sides spinning; the futex and eventfd ping-pongs of the library's
          wake-up protocol with both sides parking at once) and, run the same way, the .NET
          companions: the same system call made directly by the harness (`direct-*`, the cost
          floor) and the same call over gRPC. Ratios are medians of the per-pair ratios with their
          range; the `└` row under a test is the paired run of its ratio column.
        - **Server awake** (`spinning`): client and server keep the RPC layer's default waits
          (spin 2 us, yield 50 us, then sleep in the doorbell), as a user gets them; the calls come
          back to back, so the server is spinning when the next request arrives. **Server asleep**:
          both sides park at once (spin and yield budgets 0), as in the C futex ping-pong, so every
          call rings the server's doorbell and every answer the caller's (the rings/msg and
          sleeps/msg columns show about 1.00 each). The none doorbell has no sleep.
        - **Latency** = one forwarded call: `Stopwatch.GetTimestamp()` before the call and after
          its answer, samples in a preallocated array, then an HdrHistogram; warm-up and marker as
          in the ring tests. The C client times its own calls with CLOCK_MONOTONIC.
        - **Copy**: `CopyTo` with 256 KiB reads and writes of a file in the page cache, whole copies
          for at least a quarter second after a warm-up; the copy is checked against the source
          (SHA-256) after the timing. `direct-copy` does the same with unbuffered FileStreams.
        - **CPU**: the harness's own CLOCK_PROCESS_CPUTIME_ID, and the server's read from outside
          through its CPU-time clock (clock_getcpuclockid), over the measured part.
        - **Pinning** (`--pin`, the default): every thread of the harness on CPU 0, every thread of
          the server child on CPU 1 (Kestrel's included), the C client inherits CPU 0. The
          `same CPU` row puts the server on CPU 0 too; it is not paired and no target uses it.
        - The machine is shared and virtual: compare numbers from the same run only; tails are the host's.
        """;

    /// <summary>Wake-ups per call of each side (the session's wait-block counters, RpcClient.WakeStatistics).</summary>
    public static void AppendWakeups(StringBuilder sb, IReadOnlyList<CaseSummary> cases)
    {
        var rows = cases.Where(c => c.Row.Ok && c.Row.Extra is { } e && e.ContainsKey("server_woken_per_call")).ToList();
        if (rows.Count == 0)
        {
            return;
        }

        sb.AppendLine("Wake-ups per call (the session's wait-block counters over the whole test, warm-up included): a wake-up costs the side that slept a kernel round trip.");
        sb.AppendLine();
        MarkdownReport.AppendTable(sb, ["Test", "server woken/call", "client woken/call", "sleeps/msg", "wait timeouts"], rows.Select(c => new[]
        {
            c.Name, Fmt.Number(c.Row.Extra!["server_woken_per_call"], "0.000"), Fmt.Number(c.Row.Extra["client_woken_per_call"], "0.000"),
            Fmt.Number(c.Row.SleepsPerMsg, "0.00"), c.Row.Extra.TryGetValue("park_timeouts", out double t) ? Fmt.Number(t, "0") : "",
        }));
    }

    /// <summary>The ratio column's heading: the rpc tests compare with C and with .NET companions.</summary>
    public static string[] Relabel(string[] header) => [.. header.Select(h => h.Replace("x C ", "x base ", StringComparison.Ordinal))];
}
