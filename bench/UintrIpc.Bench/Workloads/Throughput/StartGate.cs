using System.Runtime.CompilerServices;

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

    /// <summary>Announces this producer ready to measure (full fence: once per producer).</summary>
    public void Announce() => Interlocked.Increment(ref *ready);

    /// <summary>Whether every producer has announced (acquire: the other producers' increments).</summary>
    public bool AllReady => Volatile.Read(ref *ready) >= producers;
}
