using System.Runtime.CompilerServices;
using UintrIpc.Channels;

namespace UintrIpc.Rings;

/// <summary>
/// The records appended to a <see cref="RecordBatch"/>, inline (no allocation): each its header
/// as the commit publishes it, record length (low 32 bits) and type (high 32 bits), kept
/// privately until the commit writes them with one 64-bit store each (until then the header in
/// shared memory holds the length negated, and MPSC the claimed marker in the type word). The
/// commit publishes from here, so it reads nothing back from shared memory (a peer may rewrite
/// an unpublished header).
/// An MPSC raw ring's batch that starts with a run of two or more records appended at once
/// (<see cref="RecordBatch.TryAppend(int, int, int, out RecordRun)"/>) keeps that run as entry 0
/// with <see cref="RunFlag"/> set and the run's record count in entry 1, the run's other entries
/// not written: its commit publishes the run from entry 0, the records after it from their own
/// entries. Every other batch keeps one entry per record, which is what a channel's sink and the
/// SPSC commit read.
/// </summary>
[InlineArray(RecordBatch.MaxRecords)]
internal struct RecordBatchEntries
{
    /// <summary>
    /// Set in the entry of a run of two or more records kept once (MPSC raw ring): bit 63, the
    /// sign bit of the type half, which an entry's type (&gt;= 0) never sets.
    /// </summary>
    internal const long RunFlag = long.MinValue;

    private long _first;
}
