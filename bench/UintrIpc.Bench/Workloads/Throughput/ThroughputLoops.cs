using System.Diagnostics;
using System.Runtime.CompilerServices;
using UintrIpc.Bench.Processes;

namespace UintrIpc.Bench.Workloads.Throughput;

/// <summary>
/// The one-way loops. Phase protocol (control part of the region): producers send warm-up
/// messages until the consumer sets the phase word (release) after its warm-up (a count and a
/// minimum time, for tiered compilation, and its JIT is quiet: <see cref="JitQuiet"/>); each
/// producer goes on with warm-up messages until its own JIT is quiet too and every producer has
/// said so (<see cref="StartGate"/>), then starts its CPU clock and sends
/// exactly its share of measured messages, one per call or a batch per call (the port decides). The consumer times from the first measured
/// message to the last. AggressiveOptimization as in the latency loops.
/// </summary>
internal static unsafe class ThroughputLoops
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static ProducerOutcome Produce<TPort>(ref TPort port, int producer, long count, StartGate gate, in Deadline deadline, bool yieldSometimes)
        where TPort : struct, IProducerPort
    {
        long sequence = 0;
        int polls = 0;
        TPort ends = port; // a local copy, as in Consume
        Precompile(nameof(ProduceMeasured), typeof(TPort));
        Precompile(nameof(WaitForRoom), typeof(TPort));
        var jit = new JitQuiet(Stopwatch.GetTimestamp());
        bool announced = false;
        while (true)
        {
            int n = ends.TryWrite(producer, sequence, Batch.Size, warm: true);
            if (n == 0)
            {
                Spin.Step(ref polls, deadline, "room in the ring (warm-up)", yieldSometimes);
                continue;
            }

            polls = 0; // counts one wait, as the C loops do (see ProduceMeasured)

            long before = sequence;
            sequence += n;
            if ((before >> 6) != (sequence >> 6) && WarmupDone(ref jit, ref announced, before, sequence, gate, deadline))
            {
                break;
            }
        }

        long warmup = sequence;
        long cpu0 = CpuClock.ProcessNanoseconds();
        long wall0 = Stopwatch.GetTimestamp();
        long fullPolls = ProduceMeasured(ref ends, producer, sequence, sequence + count, deadline, yieldSometimes);
        var outcome = new ProducerOutcome(count, warmup, CpuClock.ProcessNanoseconds() - cpu0,
            (long)((Stopwatch.GetTimestamp() - wall0) * 1e9 / Stopwatch.Frequency), fullPolls);
        gate.WaitForSpanEnd(deadline); // report (and exit) only after the consumer measured: see WaitForSpanEnd
        return outcome;
    }

    /// <summary>
    /// The measured part of <see cref="Produce{TPort}"/>, alone in its method: with only its own
    /// few values live, the JIT keeps them in registers. Spilled values cost stores per message,
    /// and a producer's stores queue behind its store to the slot, which waits for the consumer's
    /// copy of the line: a producer with eight more (cache-hitting) stores per message ran at
    /// half the rate cross-core (a 4096-message burst microbenchmark, p10 4.5 vs 10.7 ns).
    /// The wait for room is out of line (<see cref="WaitForRoom{TPort}"/>), so that only the loop's
    /// own values are live across its calls, as in the C producer's loop (produce_loop).
    /// </summary>
    /// <returns>The polls that found the ring full (the C producer's producer_full_polls).</returns>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static long ProduceMeasured<TPort>(ref TPort ends, int producer, long sequence, long end, in Deadline deadline, bool yieldSometimes)
        where TPort : struct, IProducerPort
    {
        long full = 0;
        while (sequence < end)
        {
            int n = ends.TryWrite(producer, sequence, (int)Math.Min(Batch.Size, end - sequence), warm: false);
            if (n == 0)
            {
                n = WaitForRoom(ref ends, producer, sequence, end, deadline, yieldSometimes, ref full); // full lives on the frame, written only here
            }

            sequence += n;
        }

        return full;
    }

    /// <summary>
    /// <see cref="ProduceMeasured{TPort}"/>'s wait after a write found the ring full: polls until a
    /// write succeeds; returns the messages it wrote and adds the polls that found the ring full, the
    /// first included, to <paramref name="full"/>. A deadline check and a yield every 1024 polls of
    /// one wait, as the C producer (its counter is per message).
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static int WaitForRoom<TPort>(ref TPort ends, int producer, long sequence, long end, in Deadline deadline, bool yieldSometimes, ref long full)
        where TPort : struct, IProducerPort
    {
        int polls = 0;
        int written;
        do
        {
            Spin.Step(ref polls, deadline, "room in the ring", yieldSometimes);
        }
        while ((written = ends.TryWrite(producer, sequence, (int)Math.Min(Batch.Size, end - sequence), warm: false)) == 0);

        full += polls;
        return written;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Consume<TPort>(ref TPort port, ref MessageChecker checker, long warmup, TimeSpan warmupTime, long* phase, in Deadline deadline, bool yieldSometimes)
        where TPort : struct, IConsumerPort
    {
        long warmEnd = Stopwatch.GetTimestamp() + (long)(warmupTime.TotalSeconds * Stopwatch.Frequency);
        int polls = 0;
        int iterations = 0;
        // Local copies, so that the JIT can keep the checker's fields and the port's references in
        // registers instead of reloading them through the caller's references on every message.
        var local = checker;
        TPort ends = port;
        Precompile(nameof(ConsumeMeasured), typeof(TPort));
        MessageChecker.PrecompileSpanEdges();
        var jit = new JitQuiet(Stopwatch.GetTimestamp());
        while (!local.Done)
        {
            if (ends.Poll(ref local) == 0)
            {
                Spin.Step(ref polls, deadline, "messages", yieldSometimes);
            }
            else
            {
                polls = 0; // one wait's polls, as in ConsumeMeasured
                local.StartSpanIfMeasuring(); // none yet (producers measure after the flip); a safeguard
            }

            if ((++iterations & 255) == 0 && WarmupDone(ref jit, iterations, local.WarmupMessages >= warmup, warmEnd))
            {
                // Release: producers read it with acquire and start their measured part.
                Volatile.Write(ref *phase, 1);
                break;
            }
        }

        // After the flip: the same loop without the warm-up's checks (the C consumer's loop has none).
        local.EmptyPolls = ConsumeMeasured(ref ends, ref local, deadline, yieldSometimes);
        StartGate.EndSpan(phase); // the producers report and exit from here on (StartGate.WaitForSpanEnd)
        checker = local;
    }

    /// <summary>The consumer's loop after the flip, alone in its method for the reason <see cref="ProduceMeasured{TPort}"/> is.</summary>
    /// <returns>The polls that found nothing (the C consumer's consumer_empty_polls).</returns>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static long ConsumeMeasured<TPort>(ref TPort ends, ref MessageChecker checker, in Deadline deadline, bool yieldSometimes)
        where TPort : struct, IConsumerPort
    {
        int polls = 0;
        long empty = 0;
        var local = checker; // in registers, as Consume's copy
        TPort port = ends;
        while (!local.Done)
        {
            if (port.Poll(ref local) == 0)
            {
                empty++;
                Spin.Step(ref polls, deadline, "messages", yieldSometimes);
            }
            else
            {
                // A yield only after 1024 polls of one wait, as the C consumer (its counter is per
                // element): counted across waits, a consumer that finds the ring empty about once
                // per message yielded its CPU to the producer sharing it every ~1000 messages.
                polls = 0;
                if (local.StartSpanIfMeasuring()) // here, not per message: see MessageChecker.Accept
                {
                    empty = 0; // counted within the span, as the C consumer's (reset at its first measured element)
                }
            }
        }

        local.FinishSpan();
        checker = local;
        return empty;
    }

    /// <summary>
    /// Compiles a measured loop before the warm-up: compiled at its first call, its JIT time
    /// (about 2 ms) fell inside the producer's CPU clock and wall time (the sender's CPU per
    /// 1 KiB message read 54 ns where the loop spent 45, utilisation 1.2).
    /// </summary>
    private static void Precompile(string loop, Type port)
    {
        var method = typeof(ThroughputLoops).GetMethod(loop, System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static)
            ?? throw new MissingMethodException(nameof(ThroughputLoops), loop);
        RuntimeHelpers.PrepareMethod(method.MethodHandle, [port.TypeHandle]);
    }

    /// <summary>
    /// The producer's warm-up check, every 64 messages (out of line, as the consumer's): once the
    /// consumer has flipped the phase and this process's JIT is quiet, announces this producer;
    /// true once every producer has; every 4096 messages it lets the JIT's threads run and checks
    /// the deadline.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static bool WarmupDone(ref JitQuiet jit, ref bool announced, long before, long sequence, StartGate gate, in Deadline deadline)
    {
        if (!announced && gate.Flipped && jit.IsQuiet(Stopwatch.GetTimestamp()))
        {
            gate.Announce();
            announced = true;
        }

        if (announced && gate.AllReady)
        {
            return true;
        }

        if ((before >> 12) != (sequence >> 12))
        {
            JitQuiet.LetBackgroundThreadsRun();
            deadline.ThrowIfPassed("the end of the warm-up");
        }

        return false;
    }

    /// <summary>
    /// The consumer's warm-up check, every 256 polls (out of line: its clock reads and yield stay
    /// out of the polling loop): every 4096 polls it lets the JIT's threads run; true once the
    /// warm-up count and time are reached and the JIT is quiet.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static bool WarmupDone(ref JitQuiet jit, int iterations, bool countReached, long warmEnd)
    {
        if ((iterations & 4095) == 0)
        {
            JitQuiet.LetBackgroundThreadsRun();
        }

        return countReached && Stopwatch.GetTimestamp() >= warmEnd && jit.IsQuiet(Stopwatch.GetTimestamp());
    }
}

/// <summary>What a producer reports: measured messages, warm-up messages, its CPU and wall time and the polls that found the ring full, for the measured part.</summary>
internal readonly record struct ProducerOutcome(long Messages, long WarmupMessages, long CpuNanoseconds, long WallNanoseconds, long FullPolls = 0);
