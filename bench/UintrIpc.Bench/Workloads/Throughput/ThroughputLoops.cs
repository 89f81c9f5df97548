using System.Diagnostics;
using System.Runtime.CompilerServices;
using UintrIpc.Bench.Processes;

namespace UintrIpc.Bench.Workloads.Throughput;

/// <summary>
/// The one-way loops. Phase protocol (control part of the region): producers send warm-up
/// messages until the consumer sets the phase word (release) after its warm-up (a count and a
/// minimum time, for tiered compilation, and its JIT is quiet: <see cref="JitQuiet"/>); each
/// producer goes on with warm-up messages until its own JIT is quiet too, then starts its CPU clock and sends
/// exactly its share of measured messages, one per call or a batch per call (the port decides). The consumer times from the first measured
/// message to the last. AggressiveOptimization as in the latency loops.
/// </summary>
internal static unsafe class ThroughputLoops
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static ProducerOutcome Produce<TPort>(ref TPort port, int producer, long count, long* phase, in Deadline deadline, bool yieldSometimes)
        where TPort : struct, IProducerPort
    {
        long sequence = 0;
        int polls = 0;
        TPort ends = port; // a local copy, as in Consume
        var jit = new JitQuiet(Stopwatch.GetTimestamp());
        while (true)
        {
            int n = ends.TryWrite(producer, sequence, Batch.Size, warm: true);
            if (n == 0)
            {
                Spin.Step(ref polls, deadline, "room in the ring (warm-up)", yieldSometimes);
                continue;
            }

            long before = sequence;
            sequence += n;
            // Acquire: the consumer's flip; checked every 64 messages (a shared line it writes once).
            if ((before >> 6) != (sequence >> 6) && Volatile.Read(ref *phase) != 0 && jit.IsQuiet(Stopwatch.GetTimestamp()))
            {
                break;
            }

            if ((before >> 12) != (sequence >> 12))
            {
                JitQuiet.LetBackgroundThreadsRun();
                deadline.ThrowIfPassed("the end of the warm-up");
            }
        }

        long warmup = sequence;
        long end = sequence + count;
        long cpu0 = CpuClock.ProcessNanoseconds();
        long wall0 = Stopwatch.GetTimestamp();
        while (sequence < end)
        {
            int n = ends.TryWrite(producer, sequence, (int)Math.Min(Batch.Size, end - sequence), warm: false);
            if (n == 0)
            {
                Spin.Step(ref polls, deadline, "room in the ring", yieldSometimes);
            }

            sequence += n;
        }

        return new ProducerOutcome(count, warmup, CpuClock.ProcessNanoseconds() - cpu0,
            (long)((Stopwatch.GetTimestamp() - wall0) * 1e9 / Stopwatch.Frequency));
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Consume<TPort>(ref TPort port, ref MessageChecker checker, long warmup, TimeSpan warmupTime, long* phase, in Deadline deadline, bool yieldSometimes)
        where TPort : struct, IConsumerPort
    {
        long warmEnd = Stopwatch.GetTimestamp() + (long)(warmupTime.TotalSeconds * Stopwatch.Frequency);
        bool flipped = false;
        int polls = 0;
        int iterations = 0;
        // Local copies, so that the JIT can keep the checker's fields and the port's references in
        // registers instead of reloading them through the caller's references on every message.
        var local = checker;
        TPort ends = port;
        var jit = new JitQuiet(Stopwatch.GetTimestamp());
        while (!local.Done)
        {
            if (ends.Poll(ref local) == 0)
            {
                Spin.Step(ref polls, deadline, "messages", yieldSometimes);
            }

            if (!flipped && (++iterations & 4095) == 0)
            {
                JitQuiet.LetBackgroundThreadsRun();
            }

            if (!flipped && (iterations & 255) == 0 && local.WarmupMessages >= warmup && Stopwatch.GetTimestamp() >= warmEnd
                && jit.IsQuiet(Stopwatch.GetTimestamp()))
            {
                // Release: producers read it with acquire and start their measured part.
                Volatile.Write(ref *phase, 1);
                flipped = true;
            }
        }

        checker = local;
    }
}

/// <summary>What a producer reports: measured messages, warm-up messages, its CPU and wall time for the measured part.</summary>
internal readonly record struct ProducerOutcome(long Messages, long WarmupMessages, long CpuNanoseconds, long WallNanoseconds);
