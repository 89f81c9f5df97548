using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using UintrIpc.Rings;

namespace UintrIpc.Channels;

/// <summary>
/// A range of a record ring claimed at once by <see cref="Channels.IpcMessageWriter.TryClaimBatch(int, out RecordBatch)"/>
/// (or by the record ring under it): append messages into it in place with
/// <see cref="TryAppend"/>, then publish them all with <see cref="Commit"/>, one position update
/// for the batch (SPSC: one store of the tail; MPSC: the one CAS that claimed the range).
/// Zero-copy and allocation-free.
/// </summary>
/// <remarks>
/// <para>The consumer sees none of the messages before <see cref="Commit"/>. Each message
/// takes align8(8 + length) bytes of the range; a batch holds at most <see cref="MaxRecords"/>
/// messages. MPSC: the room the messages did not use becomes padding at commit, which the
/// consumer steps over.</para>
/// <para>Use the batch in a <c>using</c>: disposed uncommitted, it is aborted (judged from the
/// ring's state, so disposing a copy after committing the original changes nothing), and the
/// consumer never stalls at it: SPSC, nothing of it was visible; MPSC, its room becomes
/// padding. Complete it from the thread that claimed it. SPSC: one claim or batch at a time (a
/// later write or claim discards it). MPSC: until the commit, the thread should claim nothing
/// else through the same ring object, so that a producer that dies meanwhile is known dead at
/// the batch's first unwritten byte (uintripc.h 2f).</para>
/// </remarks>
public unsafe ref struct RecordBatch
{
    /// <summary>The most messages one batch holds.</summary>
    public const int MaxRecords = 32;

    // Not readonly: Open and None write them in place, in the claim's out parameter (a
    // constructor would build a temporary and copy its 300 bytes, once per claim).
    private RecordRingEngine? _ring;
    /// <summary>A channel's checksums and wake-up; null on a raw ring.</summary>
    private IRecordBatchSink? _sink;
    private byte* _start;
    /// <summary>SPSC: the open claim's token; MPSC: the ring position of the range.</summary>
    private long _token;
    private int _bytes;
    private int _trailer;
    private uint _tag;
    private int _used;
    private int _count;
    private bool _completed;
    private RecordBatchEntries _entries;

    /// <summary>Makes <paramref name="batch"/> a batch of the claimed range, in place.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Open(out RecordBatch batch, RecordRingEngine ring, IRecordBatchSink? sink, byte* start, int bytes, uint tag, long token)
    {
        // Entries 0 .. _count are written before they are read: the other 256 bytes (private,
        // never shared) need no zeroing per batch.
        Unsafe.SkipInit(out batch);
        batch._ring = ring;
        batch._sink = sink;
        batch._start = start;
        batch._bytes = bytes;
        batch._tag = tag;
        batch._token = token;
        batch._trailer = sink?.Trailer ?? 0;
        batch._used = 0;
        batch._count = 0;
        batch._completed = false;
    }

    /// <summary>Makes <paramref name="batch"/> no batch (as <c>default</c>), in place: a claim retried on a full ring zeroes no entries.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void None(out RecordBatch batch)
    {
        Unsafe.SkipInit(out batch);
        batch._ring = null;
        batch._sink = null;
        batch._start = null;
        batch._bytes = 0;
        batch._tag = 0;
        batch._token = 0;
        batch._trailer = 0;
        batch._used = 0;
        batch._count = 0;
        batch._completed = false;
    }

    /// <summary>Messages appended so far.</summary>
    public readonly int Count => _count;

    /// <summary>Bytes of the range not used yet (a message of n bytes takes align8(8 + n)).</summary>
    public readonly int BytesLeft => _bytes - _used;

    /// <summary>Whether the batch can still take messages and be committed or aborted.</summary>
    [MemberNotNullWhen(true, nameof(_ring))]
    public readonly bool IsActive => _ring is not null && !_completed;

    /// <summary>
    /// Appends a message of <paramref name="length"/> bytes to the batch; write it in place
    /// through <paramref name="payload"/>. Returns false, and appends nothing, when the batch
    /// has no room left for it (<see cref="BytesLeft"/>) or holds <see cref="MaxRecords"/> messages.
    /// </summary>
    /// <param name="type">Message type, &gt;= 0.</param>
    /// <param name="length">0 to the ring's MaxMessageLength bytes.</param>
    /// <param name="payload">The message bytes in shared memory, exactly <paramref name="length"/> long; previous contents unspecified.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="type"/> is negative or <paramref name="length"/> is out of range.</exception>
    /// <exception cref="InvalidOperationException">The batch is not active, or (SPSC) a later write or claim discarded it.</exception>
    /// <exception cref="ObjectDisposedException">The ring (or the writer) that claimed the batch was disposed.</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] // once per message: a call would cost more than its body
    public bool TryAppend(int type, int length, out Span<byte> payload)
    {
        if (!IsActive)
        {
            ThrowNotActive();
        }

        int recordLength = _ring.BatchRecordLength(type, length, _trailer);
        int aligned = RecordRingEngine.Align(recordLength);
        if (_count == MaxRecords || aligned > _bytes - _used)
        {
            payload = default;
            return false;
        }

        byte* record = _start + _used;
        _ring.AppendToBatch(record, recordLength, type, _tag, _token);
        _entries[_count++] = (uint)recordLength | ((long)type << 32);
        _used += aligned;
        payload = new Span<byte>(record + RingLayout.RecordHeaderSize, length);
        return true;
    }

    /// <summary>Publishes every appended message, in order, with one position update.</summary>
    /// <exception cref="InvalidOperationException">
    /// The batch was already committed or aborted, discarded by a later claim or write (SPSC),
    /// or a message of it was taken over by <see cref="Channels.IpcMessageReader.TryUnblock(TimeSpan)"/> (MPSC).
    /// </exception>
    public void Commit()
    {
        if (!IsActive)
        {
            ThrowNotActive();
        }

        if (_sink is not null)
        {
            byte* record = _start;
            for (int i = 0; i < _count; i++)
            {
                int recordLength = (int)_entries[i];
                _sink.Committing((int)(_entries[i] >> 32), new Span<byte>(record + RingLayout.RecordHeaderSize, recordLength - RingLayout.RecordHeaderSize));
                record += RecordRingEngine.Align(recordLength);
            }
        }

        _ring.CommitBatch(_start, _bytes, _used, ref _entries, _count, _token);
        _completed = true;
        _sink?.Completed();
    }

    /// <summary>Drops every message of the batch: SPSC, nothing becomes visible; MPSC, the range becomes padding the consumer skips.</summary>
    /// <exception cref="InvalidOperationException">The batch was already committed or aborted.</exception>
    public void Abort()
    {
        if (!IsActive)
        {
            ThrowNotActive();
        }

        _ring.ThrowIfDisposed();
        GiveUp();
    }

    /// <summary>Aborts the batch unless it was committed or aborted (see the remarks of <see cref="RecordBatch"/>).</summary>
    public void Dispose()
    {
        if (IsActive)
        {
            GiveUp();
        }
    }

    private void GiveUp()
    {
        _completed = true;
        _ring!.AbandonBatch(_start, _bytes, _token, _tag);
        _sink?.Completed(); // MPSC: messages after the range waited behind it
    }

    [DoesNotReturn, MethodImpl(MethodImplOptions.NoInlining)]
    private readonly void ThrowNotActive()
        => throw new InvalidOperationException(_ring is null
            ? "This is not a batch: use the batch returned by a successful TryClaimBatch."
            : "The batch was already committed or aborted.");
}
