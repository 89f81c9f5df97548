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
    /// <summary>Tells the echoer that measurement starts (echoed like any value).</summary>
    public const long Mark = 1L << 59;

    /// <summary>Tells the echoer to stop (not echoed).</summary>
    public const long Stop = 1L << 60;

    /// <summary>Runs the pinger: the warm-up, a mark, then one round trip per sample.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static PingerOutcome Pinger<T>(ref T transport, long warmup, TimeSpan warmupTime, long[] samples, TimeSpan gap = default) where T : struct, IPingTransport
    {
        long v = 1;
        long gapTicks = (long)(gap.TotalSeconds * Stopwatch.Frequency);
        long warmEnd = Stopwatch.GetTimestamp() + (long)(warmupTime.TotalSeconds * Stopwatch.Frequency);
        for (; v <= warmup || Stopwatch.GetTimestamp() < warmEnd; v++)
        {
            Pause(gapTicks);
            transport.Send(v);
            long r = transport.Receive();
            if (r != v)
            {
                ThrowMismatch(v, r);
            }
        }

        long warmedUp = v - 1;
        transport.Send(Mark);
        long m = transport.Receive();
        if (m != Mark)
        {
            ThrowMismatch(Mark, m);
        }

        long cpu0 = CpuClock.ProcessNanoseconds();
        long wall0 = Stopwatch.GetTimestamp();
        for (int i = 0; i < samples.Length; i++, v++)
        {
            Pause(gapTicks);
            long start = Stopwatch.GetTimestamp();
            transport.Send(v);
            long r = transport.Receive();
            long end = Stopwatch.GetTimestamp();
            if (r != v)
            {
                ThrowMismatch(v, r);
            }

            samples[i] = end - start;
        }

        long wall = Stopwatch.GetTimestamp() - wall0;
        long cpu = CpuClock.ProcessNanoseconds() - cpu0;
        transport.Send(Stop);
        return new PingerOutcome(samples.Length, warmedUp, cpu, (long)(wall * 1e9 / Stopwatch.Frequency));
    }

    /// <summary>Runs the echoer until <see cref="Stop"/>; measures its own CPU time from the mark on.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static EchoerOutcome Echoer<T>(ref T transport) where T : struct, IPingTransport
    {
        long n = 0;
        long cpu0 = 0;
        bool marked = false;
        while (true)
        {
            long v = transport.Receive();
            if (v == Stop)
            {
                break;
            }

            transport.Send(v);
            if (v == Mark)
            {
                cpu0 = CpuClock.ProcessNanoseconds();
                marked = true;
                n = 0;
            }
            else
            {
                n++;
            }
        }

        return marked ? new EchoerOutcome(n, CpuClock.ProcessNanoseconds() - cpu0)
            : throw new InvalidDataException("the pinger stopped before the measured part");
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

/// <summary>What the pinger measured besides the samples.</summary>
internal readonly record struct PingerOutcome(long RoundTrips, long WarmupRoundTrips, long CpuNanoseconds, long WallNanoseconds);

/// <summary>What the echoer reports back: round trips echoed after the mark, and its own CPU time for them.</summary>
internal readonly record struct EchoerOutcome(long RoundTrips, long CpuNanoseconds);
