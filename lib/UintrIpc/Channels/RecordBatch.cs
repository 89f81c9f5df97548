using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using UintrIpc.Memory;
using UintrIpc.Rings;

namespace UintrIpc.Channels;

/// <summary>
/// A range of a record ring claimed at once by <see cref="Channels.IpcMessageWriter.TryClaimBatch(int, out RecordBatch)"/>
/// (or by the record ring under it): append messages into it in place with
/// <see cref="TryAppend(int, int, out Span{byte})"/> (or several of one type and length at once,
/// <see cref="TryAppend(int, int, int, out RecordRun)"/>), then publish them all with <see cref="Commit"/>, one position update
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
/// <para>Pass the batch to a helper that appends by reference (<c>ref RecordBatch</c>): a copy
/// appends at the same place as the original, and one of them then loses what the other
/// appended.</para>
/// <para>The ring (or writer) disposed while the batch is open leaves it to the consumer, which
/// skips it (SPSC: nothing of it was visible; MPSC: a closed ring object's claims count as a dead
/// producer's, uintripc.h 2f). The batch then throws <see cref="ObjectDisposedException"/> and
/// its <see cref="Dispose"/> does nothing. Appends and payload writes that race that Dispose on
/// another thread do not crash the process: once the ring's memory is released (its last lease),
/// they land in private memory that nothing reads as a ring; the messages are lost.</para>
/// </remarks>
public unsafe ref struct RecordBatch
{
    /// <summary>The most messages one batch holds.</summary>
    public const int MaxRecords = 32;

    // Not readonly: Open and None write them in place, in the claim's out parameter (a
    // constructor would build a temporary and copy it, once per claim). An append reads and
    // writes only the first block (_next, _limit, _count and the constants it checks against)
    // and the ring's BatchRecordLimit: the batch lives in the caller's frame with its address
    // taken (the claim's out parameter, the commit's entries, their variable index), so every
    // store the append or its caller makes may alias it, and each of its fields costs a load per
    // append. So the append reads as few of them as it can.
    private byte* _next;
    /// <summary>The end of the range while the batch is active; null once completed (and in no batch), so that one room check also turns away a completed batch, and one compare tells <see cref="IsActive"/>.</summary>
    private byte* _limit;
    /// <summary>Messages appended (0 .. <see cref="MaxRecords"/>); native-sized, so that it indexes the entries without a widening move.</summary>
    private nint _count;
    /// <summary>Bytes each record holds after the payload (a channel's checksum), or 0.</summary>
    private int _trailer;
    /// <summary>MPSC: the claimed marker naming us, in a header's type word (the high half); SPSC: 0. One value tells the kind, gives the marker an append stores and the one an abort looks for.</summary>
    private ulong _claimedMarker;
    /// <summary>Whether a run's appends keep each record's header in <see cref="_entries"/>: a channel's batch (Seal reads each) and a short SPSC range (see <see cref="RecordRingEngine.KeepsEntries"/>). An MPSC raw ring's batch keeps one per run instead (<see cref="RecordBatchEntries"/>); its single appends keep theirs whatever this says.</summary>
    private bool _keepEntries;
    /// <summary>SPSC, a range the commit publishes from the entries (<see cref="RecordRingEngine.KeepsEntries"/>): a single append writes no header into the ring (0 reads "not yet" until the commit stores it). False for MPSC.</summary>
    private bool _headersAtCommit;
    private RecordRingEngine? _ring;
    /// <summary>A channel's checksums and wake-up; null on a raw ring.</summary>
    private IRecordBatchSink? _sink;
    private byte* _start;
    private byte* _end;
    /// <summary>SPSC: the open claim's token; MPSC: the ring position of the range.</summary>
    private long _token;
    /// <summary>Each appended record's header as the commit publishes it (length, type), when <see cref="_keepEntries"/>: the commit publishes from here (MPSC: the header holds the claimed marker until then; SPSC, a short range: the ring has no header until then); with a channel's sink, what Seal hands it. A long SPSC range's commit reads the headers back from the ring (it keeps none without a sink).</summary>
    private RecordBatchEntries _entries;
    /// <summary>The record the batch was claimed in, where its completion records its use of the mapping (MappingUse); null: a channel's batch.</summary>
    private MappingUse? _use;

    /// <summary>
    /// Makes <paramref name="batch"/> a batch of the claimed range, in place. <paramref name="multiProducer"/>
    /// and <paramref name="keepsEntries"/> (<see cref="RecordRingEngine.KeepsEntries"/>) are the
    /// claiming path's: it knows its ring kind, so they cost no load of the ring's fields.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Open(out RecordBatch batch, RecordRingEngine ring, byte* start, int bytes, uint tag, long token, bool multiProducer, bool keepsEntries)
    {
        // Entries are written before they are read (0 .. _count): the other bytes
        // (private, never shared) need no zeroing per batch.
        Unsafe.SkipInit(out batch);
        batch._next = start;
        batch._limit = start + bytes;
        batch._count = 0;
        batch._trailer = 0;
        batch._claimedMarker = multiProducer ? RecordRingEngine.ClaimedMarkerWord(tag) : 0;
        batch._keepEntries = keepsEntries;
        batch._headersAtCommit = keepsEntries && !multiProducer;
        batch._ring = ring;
        batch._sink = null;
        batch._start = start;
        batch._end = start + bytes;
        batch._token = token;
        batch._use = null;
    }

    /// <summary>
    /// Makes a batch just opened a channel's: <paramref name="sink"/> seals its messages (checksums)
    /// and is told of its completion, every appended header is kept for it. Out of line, after
    /// <see cref="Open"/>: the interface call in the claim made the JIT keep the range's start and
    /// position in its frame across it, a store and a load each per batch on a raw ring too.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    internal void ForChannel(IRecordBatchSink sink)
    {
        _trailer = sink.Trailer; // the ring's MaxMessageLength holds it (checked at a checksum channel's attach); TryAppend checks anyway
        _keepEntries = true;
        _sink = sink;
    }

    /// <summary>Makes <paramref name="batch"/> no batch (as <c>default</c>), in place: a claim retried on a full ring zeroes no entries.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void None(out RecordBatch batch)
    {
        Unsafe.SkipInit(out batch);
        batch._next = null;
        batch._limit = null;
        batch._count = 0;
        batch._trailer = 0;
        batch._claimedMarker = 0;
        batch._keepEntries = false;
        batch._headersAtCommit = false;
        batch._ring = null;
        batch._sink = null;
        batch._start = null;
        batch._end = null;
        batch._token = 0;
        batch._use = null;
    }

    /// <summary>Makes the completion record its use of the mapping in <paramref name="use"/>, the record the ring object's claim call used.</summary>
    internal void RecordIn(MappingUse use) => _use = use;

    /// <summary>Messages appended so far.</summary>
    public readonly int Count => (int)_count;

    /// <summary>Bytes of the range not used yet (a message of n bytes takes align8(8 + n)).</summary>
    public readonly int BytesLeft => (int)(_end - _next);

    /// <summary>Whether the batch can still take messages and be committed or aborted.</summary>
    [MemberNotNullWhen(true, nameof(_ring))]
#pragma warning disable CS8775 // _ring is set whenever _limit is (Open), and _limit is null in no batch (None, default)
    public readonly bool IsActive => _limit != null;
#pragma warning restore CS8775

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
        // One compare per condition, each of a value loaded once: the record's end with the
        // range's (no batch and a completed one have none: _limit is null), the count, and the
        // record length (64-bit: a negative length cannot wrap) with the ring's BatchRecordLimit,
        // which also turns away a disposed ring (0 then). The cold path tells the cases apart.
        // Throws written here, with a helper that only builds the exception: the JIT then knows
        // these paths end, and keeps no value of the caller's loop live across them (a call it
        // must assume returns costs the loop spills of its registers, per message).
        nuint recordLength = RecordLength(length);
        nuint aligned = RecordRingEngine.Align(recordLength);
        byte* record = _next;
        nint count = _count; // once: each store below (shared memory, the entries) would make the JIT load it again
        byte* end = record + aligned; // no overflow: aligned < 2^33
        if (type < 0 || end > _limit || (nuint)count >= MaxRecords || recordLength > _ring!.BatchRecordLimit) // >=: the entry index below needs no bounds check
        {
            InvalidOperationException? refused = AppendRefused(type, length);
            if (refused is not null)
            {
                throw refused;
            }

            payload = default;
            return false;
        }

        // Active, not disposed, in range. The entry is the header as the commit publishes it
        // (length, type; RecordBatchEntries), the header stored now holds the length negated
        // (SPSC with the type, MPSC with our claimed marker). Both built first, so that the
        // fields they need are loaded before the stores (each makes the JIT load the batch's
        // fields again).
        long entry = (long)recordLength | ((long)type << 32);
        ulong marker = _claimedMarker;
        if (marker != 0)
        {
            RecordRingEngine.AppendToMpscBatch(record, (uint)-(int)recordLength | marker);
            Entry(count) = entry; // MPSC always keeps them (the commit publishes from it): no test of _keepEntries per record
        }
        else
        {
            _ring.ThrowIfSpscClaimLost(_token); // one compare: the claim is still open (not discarded, the ring not disposed)
            if (_headersAtCommit)
            {
                Entry(count) = entry; // a short range: the commit stores the header from it; the ring's stays 0 ("not yet") until then
            }
            else
            {
                RecordRingEngine.AppendToSpscBatch(record, (uint)-(int)recordLength | ((long)type << 32)); // a long range: the commit reads it back
                if ((nint)aligned >= RecordRingEngine.PrefetchMinimum)
                {
                    RecordRingEngine.PrefetchBatchRecord(end, (nint)aligned, _limit); // the next record's lines, within the range
                }

                if (_keepEntries)
                {
                    Entry(count) = entry; // a channel's Seal reads it
                }
            }
        }

        _count = count + 1;
        _next = end;
        // No length check: the compare with BatchRecordLimit put length (>= 0, unsigned) within
        // the ring's MaxMessageLength less the trailer, and the room check record + 8 + length
        // within the claimed range.
        payload = MemoryMarshal.CreateSpan(ref record[RingLayout.RecordHeaderSize], length);
        return true;
    }

    /// <summary>
    /// Appends <paramref name="count"/> messages of one <paramref name="type"/> and
    /// <paramref name="length"/> at once (a run, as that many <see cref="TryAppend(int, int, out Span{byte})"/>
    /// calls would); write each in place through <paramref name="run"/>. Returns false, and appends
    /// nothing, when the batch has no room left for all of them (<see cref="BytesLeft"/>) or would
    /// then hold more than <see cref="MaxRecords"/> messages.
    /// </summary>
    /// <param name="type">Message type, &gt;= 0.</param>
    /// <param name="length">0 to the ring's MaxMessageLength bytes, each message.</param>
    /// <param name="count">1 to <see cref="MaxRecords"/> messages.</param>
    /// <param name="run">The messages' payloads in shared memory.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="type"/> is negative, or <paramref name="length"/> or <paramref name="count"/> is out of range.</exception>
    /// <exception cref="InvalidOperationException">The batch is not active, or (SPSC) a later write or claim discarded it.</exception>
    /// <exception cref="ObjectDisposedException">The ring (or the writer) that claimed the batch was disposed.</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] // the run's fields then stay in the caller's registers
    public bool TryAppend(int type, int length, int count, out RecordRun run)
    {
        if ((uint)(count - 1) >= MaxRecords)
        {
            throw BadRun(count);
        }

        // The checks of the single append, for the run's end (count <= MaxRecords and aligned < 2^33:
        // the product cannot overflow).
        nuint recordLength = RecordLength(length);
        nint aligned = (nint)RecordRingEngine.Align(recordLength);
        byte* record = _next;
        nint first = _count;
        if (type < 0 || record + (aligned * count) > _limit || count > MaxRecords - first || recordLength > _ring!.BatchRecordLimit)
        {
            InvalidOperationException? refused = AppendRefused(type, length);
            if (refused is not null)
            {
                throw refused;
            }

            run = default;
            return false;
        }

        // As TryAppend for each record, with the checks once: the entry (the header as the commit
        // publishes it) and the header in shared memory (length negated; SPSC: and the type,
        // MPSC: and our claimed marker).
        long entry = (long)recordLength | ((long)type << 32);
        ulong marker = _claimedMarker;
        ulong header;
        if (marker != 0)
        {
            header = (uint)-(int)recordLength | marker; // not disposed: BatchRecordLimit was not 0
        }
        else
        {
            _ring.ThrowIfSpscClaimLost(_token);
            header = (uint)-(int)recordLength | ((ulong)type << 32);
        }

        if (first == 0 && count > 1 && marker != 0 && !_keepEntries)
        {
            // MPSC, a raw ring's batch that starts with a run: the run's header once, marked, and
            // its count in the next entry (RecordBatchEntries), one 16-byte store, not a copy per
            // record; the commit publishes the run from it. A batch's stores each cost about a
            // cycle before the next claim's CAS completes: single thread, runs of 32 8-byte
            // records, 2.08-2.14 -> 1.89-1.90 ns per record (C 1.97; docs/design-notes.md
            // "mrbat3"). Entry 1 is within the entries: count >= 2.
            Vector128.Create(entry | RecordBatchEntries.RunFlag, count).StoreUnsafe(ref Entry(0));
        }
        else if (_keepEntries || marker != 0)
        {
            // The private copies first, in a loop of their own, then the headers. The store buffer
            // commits in order, so a store that hits (an entry) queued behind one that misses (a
            // header: its line was the consumer's) holds a buffer entry until that line arrives;
            // interleaved, a run's 64 stores left fewer entries for the payloads' stores and so
            // fewer of their lines were fetched at once. Cross-core twin, 1 KiB records in runs of
            // 32: produce 88 -> 62 ns/msg (the C twin with the same interleaving: 64 -> 88);
            // docs/design-notes.md, "recmpsc9". Four at a time where vectors allow: the second
            // loop then costs 8 B runs (records share lines, the order does not matter) nothing
            // measurable; one loop per record size measured slower there (the JIT spilled).
            Span<long> entries = ((Span<long>)_entries).Slice((int)first, count); // checked once: none below
            ref long copies = ref MemoryMarshal.GetReference(entries);
            int i = 0;
            if (Vector256.IsHardwareAccelerated)
            {
                Vector256<long> four = Vector256.Create(entry);
                for (; i <= entries.Length - Vector256<long>.Count; i += Vector256<long>.Count)
                {
                    four.StoreUnsafe(ref copies, (nuint)i);
                }
            }

            for (; i < entries.Length; i++)
            {
                Unsafe.Add(ref copies, i) = entry;
            }
        }

        // MPSC: the claimed markers (2e); SPSC: the headers (a long range's commit reads them back, as in
        // TryAppend; a short range's commit stores them again from the entries, but a run without them
        // measured slower cross-core: 8 B runs of 32, twin p10 3.1 -> 3.5 ns/msg, design-notes "sprb8").
        byte* at = record;
        for (int i = 0; i < count; i++, at += aligned)
        {
            Volatile.Write(ref *(ulong*)at, header); // release (MPSC, 2e; SPSC: the same store on x64, published by the commit)
        }

        Volatile.WriteBarrier(); // MPSC: store-store, every marker of the run before any payload byte (2e)
        _count = first + count;
        _next = record + aligned * count;
        run = new RecordRun(record + RingLayout.RecordHeaderSize, aligned, length, count);
        return true;
    }

    /// <summary>Publishes every appended message, in order, with one position update.</summary>
    /// <exception cref="InvalidOperationException">
    /// The batch was already committed or aborted, discarded by a later claim or write (SPSC),
    /// or a message of it was taken over by <see cref="Channels.IpcMessageReader.TryUnblock(TimeSpan)"/> (MPSC).
    /// </exception>
    /// <exception cref="RingCorruptedException">
    /// SPSC, a batch of more than 1 KiB: a peer rewrote the header of an appended message before the commit; the messages
    /// before it are published, the rest of the batch is skipped by the consumer.
    /// </exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] // once per batch: the caller calls the engine's commit directly (one call, not two: about 1.5 ns per batch, design-notes "mrprod")
    public void Commit()
    {
        if (!IsActive)
        {
            ThrowNotActive();
        }

        using MappingUse.Call call = MappingUse.Enter(_use, _ring.Region); // before the disposed check: the mapping stays until the batch is published
        if (_sink is not null)
        {
            Seal(_sink);
        }

        _ring.CommitBatch(_start, (int)(_end - _start), (int)(_next - _start), ref _entries, (int)_count, _token, _claimedMarker);
        Complete();
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

    /// <summary>Hands each appended message to the channel (its checksum) before the commit publishes it.</summary>
    private readonly void Seal(IRecordBatchSink sink)
    {
        byte* record = _start;
        for (int i = 0; i < _count; i++)
        {
            int recordLength = (int)_entries[i];
            sink.Committing((int)(_entries[i] >> 32), new Span<byte>(record + RingLayout.RecordHeaderSize, recordLength - RingLayout.RecordHeaderSize));
            record += RecordRingEngine.Align(recordLength);
        }
    }

    private void Complete() => _limit = null;

    private void GiveUp()
    {
        Complete();
        using MappingUse.Call call = MappingUse.Enter(_use, _ring!.Region); // before the disposed check: the mapping stays until the padding is written
        if (_ring!.IsDisposed)
        {
            return; // its Dispose left the batch to the consumer (uintripc.h 2e); the channel's doorbell and maybe the memory are gone
        }

        _ring.AbandonBatch(_start, (int)(_end - _start), _token, (int)(_claimedMarker >> 32));
        _sink?.Completed(); // MPSC: messages after the range waited behind it
    }

    /// <summary>
    /// An append refused by its checks: the exception to throw (no active batch; or, from the
    /// ring, a negative type, a length out of range or a disposed ring, thrown there), or null when
    /// the batch has no room for it.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private readonly InvalidOperationException? AppendRefused(int type, int length)
    {
        if (!IsActive)
        {
            return NotActive();
        }

        _ring.ThrowIfAppendRefused(type, length, _trailer);
        return null;
    }

    /// <summary>A run's TryAppend with a count out of range: the exception to throw.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private readonly Exception BadRun(int count)
        => IsActive ? new ArgumentOutOfRangeException(nameof(count), count, $"A run holds 1 to {MaxRecords} messages.") : NotActive();

    /// <summary>
    /// The record length (header, payload, trailer) of an append of <paramref name="length"/> bytes,
    /// in 64 bits: a negative length is a huge one (never wrapping into range), for the compare with
    /// BatchRecordLimit. At least 8: no batch (and no completed one) has room for it.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private readonly nuint RecordLength(int length) => (nuint)(uint)length + (uint)_trailer + RingLayout.RecordHeaderSize;

    /// <summary>The entry of message <paramref name="index"/>, unchecked: the caller checked it against <see cref="MaxRecords"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    [UnscopedRef]
    private ref long Entry(nint index) => ref Unsafe.Add(ref Unsafe.As<RecordBatchEntries, long>(ref _entries), index);

    [DoesNotReturn]
    private readonly void ThrowNotActive() => throw NotActive();

    [MethodImpl(MethodImplOptions.NoInlining)]
    private readonly InvalidOperationException NotActive()
        => new(_ring is null
            ? "This is not a batch: use the batch returned by a successful TryClaimBatch."
            : "The batch was already committed or aborted.");
}
