using System.Runtime.CompilerServices;
using UintrIpc.Channels;

namespace UintrIpc.Rings;

/// <summary>
/// The records appended to a <see cref="RecordBatch"/>, inline (no allocation): each its record
/// length negated (low 32 bits) and type (high 32 bits), the SPSC header as appended, kept
/// privately until the commit writes them (MPSC: the type word holds the claimed marker until
/// then). The commit publishes from here, so it reads nothing back from shared memory (a peer
/// may rewrite an unpublished header).
/// </summary>
[InlineArray(RecordBatch.MaxRecords)]
internal struct RecordBatchEntries
{
    private long _first;
}
