using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace UintrIpc.Channels;

/// <summary>
/// Messages of one type and length appended to a <see cref="RecordBatch"/> at once by
/// <see cref="RecordBatch.TryAppend(int, int, int, out RecordRun)"/>: write each in place through
/// the indexer. Valid until the batch is committed or aborted (the bytes are then the consumer's).
/// </summary>
/// <remarks>
/// One check of room and count covers the whole run, and the headers are written in one loop, so
/// a message costs little more than its own bytes: for many small messages of one shape (the
/// batch's per-message <see cref="RecordBatch.TryAppend(int, int, out Span{byte})"/> checks and
/// updates the batch once per message).
/// </remarks>
public readonly unsafe ref struct RecordRun
{
    private readonly byte* _first;
    private readonly nint _stride;
    private readonly int _length;
    private readonly int _count;

    internal RecordRun(byte* first, nint stride, int length, int count)
    {
        _first = first;
        _stride = stride;
        _length = length;
        _count = count;
    }

    /// <summary>Messages in the run.</summary>
    public int Count => _count;

    /// <summary>Payload bytes of each message.</summary>
    public int Length => _length;

    /// <summary>The payload of message <paramref name="index"/> of the run, in shared memory, exactly <see cref="Length"/> bytes; previous contents unspecified.</summary>
    /// <param name="index">0 to <see cref="Count"/> - 1.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="index"/> is outside the run.</exception>
    public Span<byte> this[int index]
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get
        {
            if ((uint)index >= (uint)_count)
            {
                ThrowIndex(index, _count); // static: an instance call would take the run's address and keep it out of registers
            }

            // No length check: the batch checked that the run's records lie within its range.
            return MemoryMarshal.CreateSpan(ref _first[(nint)index * _stride], _length);
        }
    }

    [DoesNotReturn]
    private static void ThrowIndex(int index, int count)
        => throw new ArgumentOutOfRangeException(nameof(index), index, $"The run holds {count} messages.");
}
