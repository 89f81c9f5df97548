using System.Runtime.CompilerServices;
using UintrIpc.Channels;

namespace UintrIpc.Rings;

/// <summary>
/// The records appended to a <see cref="RecordBatch"/> of an MPSC ring, inline (no allocation):
/// each its record length (low 32 bits) and type (high 32 bits), kept privately until the commit
/// writes them (the type word holds the claimed marker until then). An SPSC batch keeps none:
/// its headers hold length and type already.
/// </summary>
[InlineArray(RecordBatch.MaxRecords)]
internal struct RecordBatchEntries
{
    private long _first;
}
