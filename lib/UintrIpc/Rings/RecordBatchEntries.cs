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
/// </summary>
[InlineArray(RecordBatch.MaxRecords)]
internal struct RecordBatchEntries
{
    private long _first;
}
