using System.Diagnostics;
using System.Runtime.CompilerServices;
using UintrIpc.Bench.Processes;

namespace UintrIpc.Bench.Workloads.Latency;

/// <summary>
/// The round-trip loops. The pinger sends 1, 2, 3, ... and waits for each echo; one sample is
/// Stopwatch.GetTimestamp (CLOCK_MONOTONIC through the vDSO, the C baseline's clock) before the
/// send to the same after the reply, stored raw in a preallocated array and turned into a
/// histogram afterwards, so the loop does nothing but send, receive and read the clock.
/// </summary>
/// <remarks>
/// Warm-up: at least <c>warmup</c> round trips AND at least <c>warmupTime</c>, so that the
/// library's methods have gone through tiered compilation (tier 0, instrumented, tier 1 with
/// PGO: the first promotion waits 100 ms after the last tier-0 compile) before sampling
/// starts. The loops themselves are AggressiveOptimization: they run once per process and
/// would otherwise stay in tier 0 / OSR code. One <see cref="Mark"/> round trip separates
/// warm-up from measurement (the echoer starts its CPU clock there), <see cref="Stop"/> ends it.
/// </remarks>
internal static class PingPong
{
    /// <summary>Tells the echoer that measurement starts, or resumes after a hold (echoed like any value).</summary>
    public const long Mark = 1L << 59;

    /// <summary>Tells the echoer to stop (not echoed).</summary>
    public const long Stop = 1L << 60;

    /// <summary>Tells the echoer to hold (echoed; it then waits for the next value without a CPU while the C floor runs).</summary>
    public const long Hold = 1L << 58;

    /// <summary>
    /// Runs the pinger: the warm-up, a mark, then one round trip per sample; with
    /// <paramref name="floor"/>, the samples in its segments, each next to its C floor run (the
    /// echoer holds meanwhile) and each after a hold preceded by an unmeasured re-warm.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static PingerOutcome Pinger<T>(ref T transport, long warmup, TimeSpan warmupTime, long[] samples, TimeSpan gap = default, FloorSegments? floor = null)
        where T : struct, IPingTransport
    {
        long v = 1;
        long gapTicks = (long)(gap.TotalSeconds * Stopwatch.Frequency);
        long warmEnd = Stopwatch.GetTimestamp() + (long)(warmupTime.TotalSeconds * Stopwatch.Frequency);
        for (; v <= warmup || Stopwatch.GetTimestamp() < warmEnd; v++)
        {
            Pause(gapTicks);
            RoundTrip(ref transport, v);
        }

        long warmedUp = v - 1;
        RoundTrip(ref transport, Mark);
        int segments = floor?.Count ?? 1;
        long cpu = 0, wall = 0;
        for (int k = 0; k < segments; k++)
        {
            var (start, length) = FloorSegments.Range(k, segments, samples.Length);
            if (floor is not null && floor.FloorFirst(k))
            {
                HoldForFloor(ref transport, floor, length, k, ref v);
            }

            long cpu0 = CpuClock.ProcessNanoseconds();
            long wall0 = Stopwatch.GetTimestamp();
            var segment = samples.AsSpan(start, length); // i < Length: no bounds check per sample
            for (int i = 0; i < segment.Length; i++, v++)
            {
                Pause(gapTicks);
                long t0 = Stopwatch.GetTimestamp();
                transport.Send(v);
                long r = transport.Receive();
                long t1 = Stopwatch.GetTimestamp();
                if (r != v)
                {
                    ThrowMismatch(v, r);
                }

                segment[i] = t1 - t0;
            }

            wall += Stopwatch.GetTimestamp() - wall0;
            cpu += CpuClock.ProcessNanoseconds() - cpu0;
            if (floor is not null && !floor.FloorFirst(k))
            {
                HoldForFloor(ref transport, floor, length, k, ref v);
            }
        }

        transport.Send(Stop);
        return new PingerOutcome(samples.Length, warmedUp, cpu, (long)(wall * 1e9 / Stopwatch.Frequency));
    }

    /// <summary>
    /// The echoer holds (its CPU clock and count stop), segment <paramref name="k"/>'s C floor runs
    /// (<paramref name="length"/> round trips), then an unmeasured re-warm of a quarter segment (at
    /// least 1000) absorbs the echoer's wake-up from its hold, and a mark restarts its clock and count.
    /// </summary>
    private static void HoldForFloor<T>(ref T transport, FloorSegments floor, int length, int k, ref long v) where T : struct, IPingTransport
    {
        RoundTrip(ref transport, Hold);
        floor.RunFloor(k, length);
        for (long i = Math.Max(1000, length / 4); i > 0; i--, v++)
        {
            RoundTrip(ref transport, v);
        }

        RoundTrip(ref transport, Mark);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void RoundTrip<T>(ref T transport, long v) where T : struct, IPingTransport
    {
        transport.Send(v);
        long r = transport.Receive();
        if (r != v)
        {
            ThrowMismatch(v, r);
        }
    }

    /// <summary>
    /// Runs the echoer until <see cref="Stop"/>; counts the round trips and measures its own CPU
    /// time from a mark to a hold or the stop (the measured parts), waits without a CPU after a hold.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static EchoerOutcome Echoer<T>(ref T transport) where T : struct, IPingTransport
    {
        long n = 0, cpu = 0, cpu0 = 0;
        bool marked = false, counting = false, held = false;
        while (true)
        {
            long v = held ? transport.ReceiveIdle() : transport.Receive();
            held = v == Hold;
            if (v == Stop)
            {
                break;
            }

            transport.Send(v);
            if (v == Mark)
            {
                cpu0 = CpuClock.ProcessNanoseconds();
                marked = counting = true;
            }
            else if (held && counting)
            {
                cpu += CpuClock.ProcessNanoseconds() - cpu0;
                counting = false;
            }
            else if (counting)
            {
                n++;
            }
        }

        if (counting)
        {
            cpu += CpuClock.ProcessNanoseconds() - cpu0;
        }

        return marked ? new EchoerOutcome(n, cpu) : throw new InvalidDataException("the pinger stopped before the measured part");
    }

    /// <summary>Busy-waits <paramref name="ticks"/> (the --gap-us option: the echoer surely parks before the next ping).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Pause(long ticks)
    {
        if (ticks > 0)
        {
            long end = Stopwatch.GetTimestamp() + ticks;
            while (Stopwatch.GetTimestamp() < end)
            {
                Spin.Pause();
            }
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowMismatch(long expected, long received)
        => throw new InvalidDataException($"round trip {expected} came back as {received}");
}

/// <summary>What the pinger measured besides the samples (CPU and wall time over the measured round trips only).</summary>
internal readonly record struct PingerOutcome(long RoundTrips, long WarmupRoundTrips, long CpuNanoseconds, long WallNanoseconds);

/// <summary>What the echoer reports back: round trips echoed after the mark, and its own CPU time for them.</summary>
internal readonly record struct EchoerOutcome(long RoundTrips, long CpuNanoseconds);
