using System.Runtime.CompilerServices;

namespace UintrIpc.Bench.Workloads.Throughput;

/// <summary>
/// Each producer's next expected sequence, inside the <see cref="MessageChecker"/> itself (as the C
/// consumer's stamp_check.next[BENCH_MAX_PRODUCERS]): an entry is then addressed from the checker's
/// reference, which the consumer's read loop holds in a register anyway, where a heap array needed
/// its own base register and the JIT spilled it per record.
/// </summary>
[InlineArray(Capacity)]
internal struct ProducerSequences
{
    /// <summary>The most producers a test runs (--producers is clamped to it).</summary>
    public const int Capacity = 64;

    private long _first;
}
