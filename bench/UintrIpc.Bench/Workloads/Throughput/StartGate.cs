using System.Runtime.CompilerServices;
using UintrIpc.Interop;

namespace UintrIpc.Bench.Workloads.Throughput;

/// <summary>
/// Where a producer learns that it may start its measured part: the consumer's phase word
/// (flipped after the consumer's warm-up) and the producers' ready count, which each producer
/// increments once the phase is flipped and its own JIT is quiet. A producer starts measuring
/// only when every producer has announced, so that the measured parts of several producers
/// overlap as the C producers' do (they all start at once, with no JIT to wait for). Without
/// it, one producer could finish its measured messages before another started (the JIT of a
/// process sharing its CPU goes quiet later): the consumer's span then covered the producers one
/// after the other, with the late one's warm-up messages in between, and the MPSC rate was
/// that of one producer at a time (docs/design-notes.md).
/// </summary>
internal readonly unsafe struct StartGate(long* phase, long* ready, int producers)
{
    /// <summary>The gate of the throughput test in <paramref name="control"/> (the control part, BenchRegions).</summary>
    public static StartGate In(byte* control, int producers)
        => new((long*)(control + BenchRegions.PhaseOffset), (long*)(control + BenchRegions.ReadyOffset), producers);

    /// <summary>Whether the consumer has flipped the phase (acquire: a shared line it writes once).</summary>
    public bool Flipped
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => Volatile.Read(ref *phase) != 0;
    }

    /// <summary>The phase once the consumer's measured span has ended (after <c>1</c>, the flip).</summary>
    public const long SpanEnded = 2;

    /// <summary>Whether the consumer's measured span has ended (acquire).</summary>
    public bool SpanOver => Volatile.Read(ref *phase) >= SpanEnded;

    /// <summary>
    /// Consumer, after its span: ends it for the producers (release) and wakes those waiting in
    /// <see cref="WaitForSpanEnd"/> (a futex on the phase word's low half).
    /// </summary>
    public static void EndSpan(long* phase)
    {
        Volatile.Write(ref *phase, SpanEnded);
        int woken = Shim.FutexWake((uint*)phase, int.MaxValue);
        if (woken < 0)
        {
            throw new UintrIpcException("FUTEX_WAKE on the phase word", -woken);
        }
    }

    /// <summary>
    /// Producer, after its measured part: blocks (no CPU) until the consumer's span has ended, so
    /// that what a producer does after it (its report, its exit, and the harness's handling of both:
    /// JSON, stdout, SIGCHLD) does not run while the consumer measures. The harness is pinned to the
    /// consumer's CPU and a second producer shares that CPU; the C producers report through the shared
    /// control block into a parent that ignores SIGCHLD. Bounded by <paramref name="deadline"/>.
    /// </summary>
    public void WaitForSpanEnd(in Deadline deadline)
    {
        while (!SpanOver)
        {
            deadline.ThrowIfPassed("the end of the consumer's measured span");
            int rc = Shim.FutexWait((uint*)phase, 1, 10_000_000); // returns at once unless the phase still reads 1
            if (rc < 0 && rc != -4)
            {
                throw new UintrIpcException("FUTEX_WAIT on the phase word", -rc); // EINTR (4) only asks again
            }
        }
    }

    /// <summary>Announces this producer ready to measure (full fence: once per producer).</summary>
    public void Announce() => Interlocked.Increment(ref *ready);

    /// <summary>Whether every producer has announced (acquire: the other producers' increments).</summary>
    public bool AllReady => Volatile.Read(ref *ready) >= producers;
}
