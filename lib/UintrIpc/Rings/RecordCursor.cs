using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using UintrIpc.Memory;

namespace UintrIpc.Rings;

/// <summary>
/// A pull-style read batch of a record ring (System.IO.Pipelines' TryRead/AdvanceTo shape):
/// begun at the consumer's private head (<see cref="RecordRingEngine.TryBeginBatch"/>), stepped
/// by the caller's loop (<see cref="TryNext"/>), released as a whole by
/// <see cref="RecordRingEngine.CompleteBatch"/>. Nothing is released before that, so no record's
/// end is stored for a throw: a batch not completed is simply read again by the next read.
/// </summary>
/// <remarks>
/// A ref struct the caller holds as a local: the JIT promotes the fields its loop uses
/// (position, lap end, count, limit, the shape) to registers, where
/// <see cref="RecordRingEngine.Read{THandler}"/> stored each record's end to the engine and the
/// handler's state through its reference (design-notes "pull"). <see cref="TryNext"/> only loads
/// from the mapping and writes nothing shared; it takes no MappingUse record: after the ring's
/// Dispose its range is a zero placeholder (<see cref="SafeMappingHandle.Retire"/>), where a
/// header reads 0 and the batch ends, and the engine (which holds the region, so the placeholder)
/// stays reachable through the ring object the caller completes the batch with.
/// </remarks>
internal unsafe ref struct RecordCursor
{
    /// <summary>The first byte of the data area (a private copy, validated at attach); null for an inactive batch (then <see cref="Limit"/> is 0 and <see cref="TryNext"/> returns false). Also what tells the completion that the batch is its ring's.</summary>
    internal readonly byte* Data;
    /// <summary>Capacity - 1.</summary>
    internal readonly int Mask;
    /// <summary>The longest payload.</summary>
    internal readonly int MaxMessageLength;
    /// <summary>Messages this batch may take.</summary>
    internal readonly int Limit;
    /// <summary>The consumer's private head when the batch began plus the capacity: no record may end past it (one lap). No field holds the start (<see cref="Start"/>) nor the engine (the completion knows its own and compares <see cref="Data"/>): every field more was one more value the caller's loop kept live, and the JIT spilled some of them per record.</summary>
    internal readonly long Last;
    /// <summary>The end of the last record taken (padding included): what completion releases to.</summary>
    internal long Position;
    /// <summary>Messages the batch may still take: counted down, so that the loop holds one value for the limit and the count, not two.</summary>
    internal int Remaining;

    internal RecordCursor(RecordShape shape, long start, long last, int limit)
    {
        Data = shape.Data;
        Mask = shape.Mask;
        MaxMessageLength = shape.MaxMessageLength;
        Limit = limit;
        Remaining = limit;
        Last = last;
        Position = start;
    }

    /// <summary>Whether the batch was begun and not completed.</summary>
    internal readonly bool IsActive => Data != null;

    /// <summary>Messages taken (padding not counted).</summary>
    internal readonly int Count => Limit - Remaining;

    /// <summary>Where the batch began: the consumer's private head then (what the completion releases from).</summary>
    internal readonly long Start => Last - Mask - 1;

    /// <summary>
    /// The next committed message of the batch, padding stepped over; false at the limit, at the
    /// lap's end or at a record not committed yet (a later call may find it). Validated as
    /// <see cref="RecordRingEngine.Read{THandler}"/> validates (<see cref="RecordRingEngine.RecordAt"/>:
    /// acquire load of the header, then plain loads of type and payload); throws what it throws,
    /// the record staying unreleased.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal bool TryNext(out int type, out ReadOnlySpan<byte> payload)
    {
        // The position is the field itself, not a local copy stored back: a copy was one more value live in the caller's loop.
        while (Remaining != 0 && Position < Last)
        {
            long aligned = RecordRingEngine.RecordAt(new RecordShape(Data, Mask, MaxMessageLength), Position, Last, out byte* record, out int recordType, out int length);
            if (aligned == 0)
            {
                break;
            }

            Position += aligned;
            if (recordType != RingLayout.PaddingRecordType)
            {
                Remaining--;
                type = recordType;
                // No length check: RecordAt checked HeaderSize <= length <= the room to the end of the data area.
                payload = MemoryMarshal.CreateReadOnlySpan(ref record[RingLayout.RecordHeaderSize], length - RingLayout.RecordHeaderSize);
                return true;
            }
        }

        type = 0;
        payload = default;
        return false;
    }
}
