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
/// (the next record's pointer, the segment's end, the count, the longest message) to registers, where
/// <see cref="RecordRingEngine.Read{THandler}"/> stored each record's end to the engine and the
/// handler's state through its reference (design-notes "pull"). <see cref="TryNext"/> only loads
/// from the mapping and writes nothing shared; it takes no MappingUse record: after the ring's
/// Dispose its range is a zero placeholder (<see cref="SafeMappingHandle.Retire"/>), where a
/// header reads 0 and the batch ends, and the engine (which holds the region, so the placeholder)
/// stays reachable through the ring object the caller completes the batch with.
/// </remarks>
internal unsafe ref struct RecordCursor
{
    // The loop's fields are the first four: no position, lap end or mask per record. The last four
    // are read on the rare paths (the wrap, padding, an invalid record) and by the completion.
    // With the position, the lap end, the data, the mask, the longest message and the limit in the
    // caller's loop, the JIT spilled the limit and the caller's sequence to the stack per record;
    // with this shape, it kept everything in registers once the record's end was computed after
    // the tests of its length and type (TryNext), not before (design-notes "pull", "spsc8").

    /// <summary>The next record's first byte in the data area (a private pointer, never from shared memory).</summary>
    private byte* _next;
    /// <summary>Where the current segment ends: the data area's end until the batch wraps, then the lap's end (<see cref="Start"/>'s index). A record must end at or before it.</summary>
    private byte* _end;
    /// <summary>Messages the batch may still take: counted down, so that the loop holds one value for the limit and the count, not two.</summary>
    private int _remaining;
    /// <summary>The longest payload (the engine's private copy, validated at attach).</summary>
    private readonly int _maxMessageLength;
    /// <summary>The data area's first byte (the engine's private copy, validated at attach); null for an inactive batch. Also what tells the completion that the batch is its ring's.</summary>
    internal readonly byte* Data;
    /// <summary>Where the batch began: the consumer's private head then (what the completion releases from); no record may end past <c>Start + capacity</c> (one lap).</summary>
    internal readonly long Start;
    /// <summary>Capacity - 1.</summary>
    private readonly int _mask;
    /// <summary>Messages this batch may take.</summary>
    private readonly int _limit;

    internal RecordCursor(RecordShape shape, long start, int limit)
    {
        Data = shape.Data;
        _mask = shape.Mask;
        _maxMessageLength = shape.MaxMessageLength;
        _limit = limit;
        _remaining = limit;
        Start = start;
        _next = shape.Data + ((nint)shape.Mask & (nint)start);
        _end = shape.Data + shape.Mask + 1; // the first segment ends at the data area's end (the lap's end too when start is at index 0)
    }

    /// <summary>Whether the batch was begun and not completed.</summary>
    internal readonly bool IsActive => Data != null;

    /// <summary>Messages taken (padding not counted).</summary>
    internal readonly int Count => _limit - _remaining;

    /// <summary>The end of the last record taken (padding included): what completion releases to. Derived from the next record's pointer: the start's lap base, plus a capacity once the batch wrapped (its segment end is then no longer the data area's end). <see cref="Start"/> for an inactive batch.</summary>
    internal readonly long Position
    {
        get
        {
            if (Data == null)
            {
                return Start;
            }

            long capacity = (long)_mask + 1;
            long position = (Start & -capacity) + (_next - Data);
            return _end != Data + capacity ? position + capacity : position;
        }
    }

    /// <summary>
    /// The next committed message of the batch, padding stepped over; false at the limit, at the
    /// lap's end or at a record not committed yet (a later call may find it). Validated as
    /// <see cref="RecordRingEngine.Read{THandler}"/> validates: a record that the fast test below
    /// does not pass as a message ending in the segment (padding, the wrap, anything invalid) goes
    /// through <see cref="RecordRingEngine.RecordAt"/> itself (acquire load of the header, then
    /// plain loads of type and payload), which throws what it throws, the record staying unreleased.
    /// </summary>
    /// <remarks>
    /// The fast test accepts exactly what RecordAt accepts as a message: 8 &lt;= length &lt;= 8 + the
    /// longest message (one unsigned compare), type &gt;= 0, and the aligned record ending at or
    /// before the segment's end. Before the wrap that end is the data area's, where RecordAt's
    /// room test is the same (room is a multiple of 8) and its lap test is implied (the lap ends
    /// at or after it); after the wrap it is the lap's end, which is RecordAt's lap test and
    /// implies its room test. Each value is read once (the header, acquire; then the type), and
    /// the rare path reads the record again and validates what it reads.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal bool TryNext(out int type, out ReadOnlySpan<byte> payload)
    {
        while (_remaining != 0)
        {
            byte* record = _next;
            if (record < _end)
            {
                // The header's two words in one acquire load (records are 8-aligned: one atomic load):
                // the length in the low word, the type in the high one, so the type's sign is the
                // word's. The producer writes the type before its release of the length, so a load
                // that sees the length sees that type, as RecordAt's acquire load and then plain load do.
                long word = Volatile.Read(ref *(long*)record);
                int header = (int)word;
                if (header <= 0)
                {
                    break;
                }

                // Tested before the record's end is computed: with the end computed first, the JIT had
                // no register left for it and the header word and stored both to the stack per record.
                if (word >= 0 && (uint)(header - RingLayout.RecordHeaderSize) <= (uint)_maxMessageLength)
                {
                    byte* following = record + (((nint)header + (RingLayout.RecordAlignment - 1)) & -RingLayout.RecordAlignment);
                    if (following <= _end)
                    {
                        _next = following;
                        _remaining--;
                        type = (int)(word >> 32);
                        payload = MemoryMarshal.CreateReadOnlySpan(ref record[RingLayout.RecordHeaderSize], header - RingLayout.RecordHeaderSize);
                        return true;
                    }
                }
            }

            if (!TryStepRare())
            {
                break;
            }
        }

        type = 0;
        payload = default;
        return false;
    }

    /// <summary>
    /// <see cref="TryNext"/>'s rare cases at <see cref="_next"/>: the end of a segment (the wrap to
    /// the data area's start: true; the lap's end: false), and a record the fast test did not
    /// pass, read and validated again by <see cref="RecordRingEngine.RecordAt"/>, which throws
    /// for an invalid one; padding is stepped over (true). False for a record not committed, and
    /// for a message: the fast test passes exactly what RecordAt passes as a message, so the
    /// record changed between the two reads (a peer rewrote a committed record): the batch ends
    /// before it and the next read reads it again. Inlined (a call taking this struct by
    /// reference would keep the caller's copy in memory), with no message to hand back, so that
    /// the loop's outputs have one source.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool TryStepRare()
    {
        byte* data = Data;
        byte* dataEnd = data + _mask + 1;
        if (_next >= _end)
        {
            if (_end != dataEnd || (Start & _mask) == 0)
            {
                return false; // the lap's end
            }

            _next = data; // the wrap: the second segment ends where the batch began, one lap on
            _end = data + ((nint)_mask & (nint)Start);
            return true;
        }

        long aligned = RecordRingEngine.RecordAt(new RecordShape(data, _mask, _maxMessageLength), Position, Start + _mask + 1, out byte* record, out int recordType, out _);
        if (aligned == 0 || recordType != RingLayout.PaddingRecordType)
        {
            return false;
        }

        _next = record + aligned; // RecordAt checked aligned <= the room to the data area's end and to the lap's end
        return true;
    }
}
