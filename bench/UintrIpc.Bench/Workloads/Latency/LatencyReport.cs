using System.Text.Json;
using UintrIpc.Bench.Results;

namespace UintrIpc.Bench.Workloads.Latency;

/// <summary>Turns the pinger's samples and the echoer's report into a result row.</summary>
internal static class LatencyReport
{
    /// <summary>The echoer's RESULT payload.</summary>
    public static object EchoerPayload(EchoerOutcome o, object? extra = null) => new { round_trips = o.RoundTrips, cpu_ns = o.CpuNanoseconds, extra };

    public static BenchResult Build(BenchCase c, long[] samples, PingerOutcome pinger, JsonElement echoer,
        double? wakesPerMsg = null, double? sleepsPerMsg = null, IReadOnlyDictionary<string, double>? extra = null)
    {
        long echoed = echoer.GetProperty("round_trips").GetInt64();
        if (echoed != pinger.RoundTrips)
        {
            throw new InvalidDataException($"the echoer counted {echoed} measured round trips, the pinger {pinger.RoundTrips}");
        }

        return Build(c, samples, pinger, echoer.GetProperty("cpu_ns").GetDouble(), wakesPerMsg, sleepsPerMsg, extra);
    }

    /// <summary>
    /// A row whose samples were taken in <paramref name="floor"/>'s segments: as <see cref="Build(BenchCase, long[], PingerOutcome, JsonElement, double?, double?, IReadOnlyDictionary{string, double}?)"/>
    /// (the percentiles over all samples) with each segment's own percentiles.
    /// </summary>
    public static BenchResult Build(BenchCase c, long[] samples, PingerOutcome pinger, JsonElement echoer, FloorSegments? floor)
    {
        var result = Build(c, samples, pinger, echoer);
        if (floor is not null)
        {
            result.Segments = Enumerable.Range(0, floor.Count)
                .Select(k => FloorSegments.Range(k, floor.Count, samples.Length))
                .Select(r => LatencySummary.FromTicks(samples.AsSpan(r.Start, r.Length)).Summary)
                .ToList();
        }

        return result;
    }

    /// <summary>A row from the pinger's samples and the other side's CPU time over the measured part (null: no other side, e.g. a direct system call).</summary>
    public static BenchResult Build(BenchCase c, long[] samples, PingerOutcome pinger, double? otherCpuNs,
        double? wakesPerMsg = null, double? sleepsPerMsg = null, IReadOnlyDictionary<string, double>? extra = null)
    {
        var (summary, curve) = LatencySummary.FromTicks(samples);
        var withStep = new Dictionary<string, double>(extra ?? new Dictionary<string, double>(), StringComparer.Ordinal)
        {
            ["clock_tick_ns"] = ClockStep.Nanoseconds, // as the C rows: the step the percentiles were interpolated within
        };
        double wall = Math.Max(1, pinger.WallNanoseconds);
        return c.Result(
            pinger.RoundTrips, pinger.WarmupRoundTrips, summary, curve,
            cpuSender: pinger.CpuNanoseconds / (double)pinger.RoundTrips,
            cpuReceiver: otherCpuNs / pinger.RoundTrips,
            utilSender: pinger.CpuNanoseconds / wall,
            utilReceiver: otherCpuNs / wall,
            wakesPerMsg: wakesPerMsg, sleepsPerMsg: sleepsPerMsg, extra: withStep);
    }
}
