using System.Runtime.CompilerServices;
using UintrIpc.Channels;

namespace UintrIpc.Rings;

/// <summary>
/// The records appended to a <see cref="RecordBatch"/>, inline (no allocation): each its record
/// length (low 32 bits) and type (high 32 bits), kept privately until the commit writes them.
/// </summary>
[InlineArray(RecordBatch.MaxRecords)]
internal struct RecordBatchEntries
{
    private long _first;
}
