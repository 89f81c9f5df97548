using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;
using UintrIpc.Channels;

namespace UintrIpc.Rings;

// Batches of records (RecordBatch): one range of the ring claimed at once (SPSC: reserved
// privately, the tail stored once at commit; MPSC: one CAS on the tail), records appended into
// it in place, committed together. MPSC and an SPSC range of at most 1 KiB keep each record's
// length and type privately (the batch's entries; an MPSC raw batch's first run once:
// RecordBatchEntries), and the commit publishes from that copy.
// Until the commit an MPSC record's header holds its length negated and the claimed marker
// (uintripc.h 2e, 2f); a short SPSC range has no header in the ring before the commit (0 reads
// "not yet"; one shared store per record fewer, design-notes "sprb8"); a longer SPSC range writes
// each header (length negated, type) at its append, and the commit reads it back (checked) and
// stores only each length, as the C ring does (a private copy cost a store per record, see
// CommitBatch; a channel's batch keeps them too, for its sink). The unused rest
// of an MPSC range becomes padding at commit; an SPSC tail covers only what was appended.
internal sealed unsafe partial class RecordRingEngine
{
    /// <summary>Claims <paramref name="bytes"/> (aligned to 8) of room for several records; false when there is none now.</summary>
    /// <remarks>
    /// One method per ring kind behind this choice, and the choice in the caller (one load and
    /// a branch there): each claim has a frame of its own, so the SPSC claim (the C producer's is
    /// a reservation and two private stores) saves no registers for the MPSC path's values, and
    /// no call is a dispatcher's. The claims are not inlined: the caller would hold both paths
    /// (a caller's run loop grew 1889 -> 3105 bytes and its frame, and measured 0.1 ns per record
    /// slower; docs/design-notes.md "recbatch8", "recfixed"). Optimized from their first call, as
    /// the commit: callers do not inline them (HotPathTierTests).
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal bool TryClaimBatch(int bytes, IRecordBatchSink? sink, out RecordBatch batch)
        => _multiProducer ? TryClaimMpscBatch(bytes, sink, ProducerThreadCache.CurrentThread, out batch) : TryClaimSpscBatch(bytes, sink, out batch);

    /// <summary>
    /// <see cref="TryClaimBatch(int, IRecordBatchSink?, out RecordBatch)"/> by the thread whose managed
    /// id is <paramref name="thread"/> (MPSC: a caller that holds it already, the raw ring's from its
    /// MappingUse record, spares the claim its own thread static's lookup).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal bool TryClaimBatch(int bytes, IRecordBatchSink? sink, int thread, out RecordBatch batch)
        => _multiProducer ? TryClaimMpscBatch(bytes, sink, thread, out batch) : TryClaimSpscBatch(bytes, sink, out batch);

    /// <summary>SPSC: the range reserved privately (nothing is published until the commit), the claim recorded as the open one.</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private bool TryClaimSpscBatch(int bytes, IRecordBatchSink? sink, out RecordBatch batch)
    {
        int aligned = CheckBatchBytes(bytes);
        if (_local.OpenClaim != 0)
        {
            DiscardSpscClaim();
        }

        if (!TryReserveSpsc(aligned, out long tail, out int padding, out _))
        {
            return NoBatch(aligned, sink, out batch);
        }

        byte* start = _data + (padding != 0 ? 0 : ((int)tail & _mask));
        long token = ++_local.ClaimToken;
        _local.ClaimTail = tail;
        _local.ClaimPadding = padding;
        _local.ClaimAligned = aligned;
        _local.OpenClaim = token;
        if (aligned <= ShortRangeBytes)
        {
            TakeRangeLines(start, aligned);
        }
        else
        {
            PrefetchRange(start, aligned); // taking a long range's lines measured slower (64 B, 4k ring: 0.81x, 6 of 6 pairs)
        }

        RecordBatch.Open(out batch, this, start, aligned, 0, token, multiProducer: false, keepsEntries: aligned <= ShortRangeBytes);
        if (sink is not null)
        {
            batch.ForChannel(sink);
        }

        return true;
    }

    /// <summary>MPSC: the range claimed with one CAS and its start marked ours (2e).</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private bool TryClaimMpscBatch(int bytes, IRecordBatchSink? sink, int thread, out RecordBatch batch)
    {
        int aligned = CheckBatchBytes(bytes);
        byte* start = TryClaimRangeMpsc(aligned, thread, out long position, out uint tag);
        if (start == null)
        {
            return NoBatch(aligned, sink, out batch);
        }

        MarkBatchStart(start, aligned, tag);
        if (aligned > MpscRangePrefetchMinimum)
        {
            PrefetchRange(start, aligned);
        }

        RecordBatch.Open(out batch, this, start, aligned, tag, position, multiProducer: true, keepsEntries: false); // one entry per run (a channel's batch: ForChannel keeps each)
        if (sink is not null)
        {
            batch.ForChannel(sink); // after the range's values are stored: none of them lives across its calls
        }

        return true;
    }

    /// <summary>Checks the bytes a batch claims (and that the ring is open); returns them aligned to 8.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal int CheckBatchBytes(int bytes)
    {
        ThrowIfDisposed();
        if (bytes < HeaderSize || bytes > _capacity)
        {
            ThrowBatchBytes(bytes);
        }

        return Align(bytes); // the capacity is a multiple of 8: still within it
    }

    /// <summary>
    /// A batch claim that found no room: pads to the lap's end if the range can only fit from the start.
    /// Inlined, the padding's call only for a range of more than half the ring: a producer polling a
    /// full ring paid a call and a frame per poll (single thread, MPSC full-ring claim p10
    /// 13.2-16.3 -> 12.2-13.2 ns, docs/design-notes.md "mrprod").
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool NoBatch(int aligned, IRecordBatchSink? sink, out RecordBatch batch)
    {
        if (aligned > _capacity / 2)
        {
            PadToLapEnd(aligned, sink);
        }

        RecordBatch.None(out batch);
        return false;
    }

    /// <summary><see cref="NoBatch"/> of a range of more than half the ring: <see cref="TryPadToLapEnd"/>, and the sink told when it padded.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void PadToLapEnd(int aligned, IRecordBatchSink? sink)
    {
        if (TryPadToLapEnd(aligned))
        {
            sink?.Completed(); // a reader asleep consumes the padding, so that the range fits at the start
        }
    }

    /// <summary>
    /// The cold path of an append refused by <see cref="BatchRecordLimit"/> or by its batch's room:
    /// throws for a negative <paramref name="type"/>, a <paramref name="length"/> out of range
    /// (<paramref name="trailer"/> bytes follow the payload) and a disposed ring; returns when none
    /// of these holds (the batch has no room).
    /// </summary>
    internal void ThrowIfAppendRefused(int type, int length, int trailer)
    {
        if (type < 0)
        {
            ThrowNegativeType(type);
        }

        if ((ulong)(uint)length + (uint)trailer > (ulong)_maxMessageLength) // 64-bit, as the append's compare: nothing wraps
        {
            ThrowTooLong(nameof(length), length);
        }

        ThrowIfDisposed();
    }

    /// <summary>
    /// SPSC, a batch that keeps no entries (a long range without a channel's sink): writes the
    /// <paramref name="header"/> (length negated, type) of a record appended to it, invisible to
    /// the consumer until the commit, which reads it back. The caller checked the claim is open
    /// (<see cref="ThrowIfSpscClaimLost"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void AppendToSpscBatch(byte* record, long header)
        => *(long*)record = header; // plain: the consumer reads a length <= 0 as "not yet", and the commit's release publishes both

    /// <summary>
    /// SPSC batch, a record of <paramref name="aligned"/> bytes (at least <see cref="PrefetchMinimum"/>)
    /// appended: asks for the lines of the record after it (read prefetch, as <see cref="PrefetchRange"/>), <paramref name="next"/> to at
    /// most <paramref name="limit"/>, the claimed range's end: the bytes after it may still be
    /// the consumer's. The claim asks for the range's first <see cref="PrefetchLimit"/> bytes only
    /// (more evict each other before the appends reach them), so without this each later record's
    /// lines were fetched one by one as its stores reached the head of the store buffer. The C
    /// producer (rring_claim_batch) prefetches nothing. In-process cross-core twin of the
    /// harness's batched row (RecordBatchProducer / SpscRecordReadConsumer, 1 Ki records), p10
    /// ns per message, alternated: 4 KiB 243-261 -> 220-238 (C 235-251), 1 KiB 64.9-66.3 -> 61.4-63.8
    /// (C 64.8-67.1), 256 B (below the minimum) level. PREFETCHW through the shim measured level
    /// with none at 4 KiB (250-253). The size test is in the append, a compare per record.
    /// A hint: nothing is read, nothing can fault.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void PrefetchBatchRecord(byte* next, nint aligned, byte* limit)
        => PrefetchLines(next, BatchRecordPrefetchEnd(next, aligned, limit));

    /// <summary>
    /// The end of the bytes <see cref="PrefetchBatchRecord"/> asks for from <paramref name="next"/>:
    /// the next record's first <see cref="PrefetchLimit"/> bytes at most (as the claim's range and
    /// the single claims' write prefetch: more lines asked at once evict each other before the
    /// stores reach them, and a record of 1 MiB asked for 16384 lines per append), never past
    /// <paramref name="limit"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static byte* BatchRecordPrefetchEnd(byte* next, nint aligned, byte* limit)
    {
        byte* end = next + Math.Min(aligned, PrefetchLimit);
        return end < limit ? end : limit;
    }

    /// <summary>
    /// MPSC: marks a record appended to a batch claimed: <paramref name="header"/> is its length
    /// negated and <see cref="ClaimedMarkerWord"/> of the batch's tag (its type is kept by the
    /// batch until the commit). No disposed check here: the append's compare with
    /// <see cref="BatchRecordLimit"/> (0 once disposed) made it.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void AppendToMpscBatch(byte* record, ulong header) => MarkClaimed(record, header);

    /// <summary>SPSC: the one check of <see cref="AppendToSpscBatch"/>, for a run of records appended at once.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void ThrowIfSpscClaimLost(long token)
    {
        if (_local.OpenClaim != token)
        {
            ThrowAppendRefused();
        }
    }

    /// <summary>
    /// The claimed marker of <paramref name="tag"/> in the high half of a header (2e, 2f): a
    /// batch computes it once, each append ORs its length in.
    /// </summary>
    internal static ulong ClaimedMarkerWord(uint tag) => (ulong)(uint)ClaimMarker.ForRecord(tag) << 32;

    /// <summary>Commits the <paramref name="count"/> records appended to a batch (<paramref name="used"/> of its <paramref name="aligned"/> bytes; MPSC: marked with <paramref name="marker"/>, <see cref="ClaimedMarkerWord"/>).</summary>
    /// <remarks>
    /// One method per path behind this choice, as <see cref="TryClaimBatch(int, IRecordBatchSink?, out RecordBatch)"/>: the short SPSC commit is a few stores per batch, as the C producer's.
    /// Optimized from its first call, as the commit was before the split: the MPSC commit is
    /// inlined only here, and tier-0 code (no inlining) ran it as a call to tier-0 code of its own
    /// until tiering caught up, which a short run never sees (HotPathTierTests).
    /// </remarks>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    internal void CommitBatch(byte* start, int aligned, int used, ref RecordBatchEntries entries, int count, long token, ulong marker)
    {
        if (_multiProducer)
        {
            CommitMpscBatch(start, aligned, used, ref entries, count, token, marker);
        }
        else if (KeepsEntries(aligned))
        {
            CommitSpscEntries(start, used, ref entries, count, token);
        }
        else
        {
            CommitSpscReadBack(start, used, count, token);
        }
    }

    /// <summary>
    /// SPSC, the claim's checks and the one position update of the batch: the tail, stored (release)
    /// before the lengths so that head &lt;= tail holds for every observer (2e), and the padding
    /// before the range. Returns the tail before the padding, or -1 when nothing was appended.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private long PublishSpscBatchTail(int used, long token)
    {
        ThrowIfDisposed();
        if (_local.OpenClaim != token)
        {
            ThrowAppendRefused(); // a Dispose since the check above closed it: ObjectDisposedException
        }

        _local.OpenClaim = 0;
        if (used == 0)
        {
            return -1; // nothing was written: the bytes are still zero, the tail stays
        }

        long tail = _local.ClaimTail;
        int padding = _local.ClaimPadding;
        _local.ProducerTail = tail + padding + used;
        Volatile.Write(ref *_tail, tail + padding + used);
        if (padding != 0)
        {
            WritePadding(_data + ((int)tail & _mask), padding);
        }

        return tail;
    }

    /// <summary>SPSC, a short range (small records): published from the batch's entries, as MPSC.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void CommitSpscEntries(byte* start, int used, ref RecordBatchEntries entries, int count, long token)
    {
        if (PublishSpscBatchTail(used, token) < 0)
        {
            return;
        }

        byte* record = start;
        ReadOnlySpan<long> appended = entries; // sliced once: no bounds check per record
        foreach (long entry in appended[..count])
        {
            Volatile.Write(ref *(long*)record, entry); // release, length and type in one store: the payload before both (2e)
            record += EntryAligned(entry);
        }
    }

    /// <summary>
    /// The bytes the record of a batch entry takes, aligned (its length is the entry's low half:
    /// 8 .. the longest record, below <see cref="MaxCapacity"/>). The mask keeps the bits below
    /// MaxCapacity, which drops the type and fits an instruction's immediate: no mask register
    /// and no widening move per record.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static nint EntryAligned(long entry) => (nint)((entry + (RingLayout.RecordAlignment - 1)) & (MaxCapacity - RingLayout.RecordAlignment));

    /// <summary>SPSC, a longer range: each appended header read back and checked, only its length stored.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void CommitSpscReadBack(byte* start, int used, int count, long token)
    {
        long tail = PublishSpscBatchTail(used, token);
        if (tail < 0)
        {
            return;
        }

        int padding = _local.ClaimPadding;
        byte* record = start;
        // Each header as appended (length negated, type) read back, not kept in a private
        // copy: in the producer's loop every store counts once the ring's lines miss (stores
        // retire in order, so the store buffer bounds how many lines are fetched at once), and
        // the copy was one more store per record than the C producer's (single thread, 256 B
        // records, 3 stores more per record cost 3.4 ns). The bytes are ours until the tail
        // passes them, but shared: a peer may have rewritten a header, so each is checked
        // before its length is published, and the walk stays within the appended bytes.
        byte* end = start + used;
        // Records of one length (the usual batch): each header is compared with the first's
        // length at a known place, so the loads do not wait for each other; otherwise (or at
        // the first header that differs) the walk below, each step after its header's load.
        int firstLength = -*(int*)record; // plain: checked below, by the loop and the walk
        nint firstAligned = Align(firstLength);
        if ((uint)(firstLength - HeaderSize) <= (uint)_maxMessageLength && firstAligned * count == used)
        {
            for (; record < end; record += firstAligned)
            {
                long header = *(long*)record; // plain, as below
                if ((int)header != -firstLength || header < 0)
                {
                    break; // not as appended: the walk checks it
                }

                Volatile.Write(ref *(int*)record, firstLength); // release: payload (and the type, stored at the append) before the length
            }
        }

        while (record < end)
        {
            long header = *(long*)record; // plain: our own append's store (or a peer's, checked)
            int recordLength = -(int)header;
            nint recordAligned = Align(recordLength);
            if ((uint)(recordLength - HeaderSize) > (uint)_maxMessageLength || recordAligned > end - record || header < 0)
            {
                PadRewrittenRest(record, end, tail + padding, start); // never returns
            }

            // Release: payload (and the type, stored at the append) before the length. The
            // type word is left as appended, as the C producer leaves it.
            Volatile.Write(ref *(int*)record, recordLength);
            record += recordAligned;
        }
    }

    /// <summary>MPSC: each record's claimed marker checked (acquire), then its type and length stored.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] // one call for an MPSC commit, as TryClaimMpscBatch
    private void CommitMpscBatch(byte* start, int aligned, int used, ref RecordBatchEntries entries, int count, long token, ulong marker)
    {
        ThrowIfDisposed();
        byte* record = start;
        if (count == 0 && !IsUnappendedAndOurs(start, aligned, token))
        {
            ThrowClaimLost(); // a copy of a batch completed before (its padding would cover what it published)
        }

        ReadOnlySpan<long> marked = entries; // sliced once: no bounds check per record
        // Acquire: the first header as one value, still our length negated and our claimed marker.
        // A copy of a batch committed before finds its bytes consumed and maybe claimed again by
        // another producer with the same length: only the marker then tells that it is not ours.
        // The first record alone: while it is ours the consumer has not passed it (an uncommitted
        // record stops it), so none of the range was released and claimed again (once per batch:
        // per record it cost an MPSC batch of 32 8-byte records 0.7 ns per record).
        if (count != 0 && (ulong)Volatile.Read(ref *(long*)start) != ((uint)-(int)marked[0] | marker))
        {
            throw ClaimLostOrCorrupted(start, (int)marked[0], *(int*)start, token);
        }

        int published = 0;
        if (count > 1 && marked[0] < 0)
        {
            // The batch starts with a run kept as one entry, its count in the next (RecordBatchEntries):
            // private memory, written by the append; checked anyway, as it bounds the walk.
            long run = marked[0] & ~RecordBatchEntries.RunFlag;
            published = (int)marked[1];
            if ((uint)(published - 2) > (uint)(count - 2))
            {
                throw BadRunEntry(published, count); // thrown here: the JIT then keeps no value of the loop below across a call
            }

            for (int i = 0; i < published; i++)
            {
                record = PublishBatchRecord(record, run, start, token);
            }
        }

        foreach (long entry in marked[published..count])
        {
            record = PublishBatchRecord(record, entry, start, token);
        }

        if (used < aligned)
        {
            FillWithPadding((int)(start - _data) + used, aligned - used); // the unused rest, pieces the consumer accepts
        }
    }

    /// <summary>
    /// MPSC commit: publishes the record at <paramref name="record"/> of the batch at <paramref name="start"/>
    /// (ring position <paramref name="token"/>) as <paramref name="entry"/> (length, type) if it is
    /// still ours; returns the record after it.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private byte* PublishBatchRecord(byte* record, long entry, byte* start, long token)
    {
        // Acquire: the consumer may have taken the record (TryUnblock); then it is no longer ours.
        int mismatch = Volatile.Read(ref *(int*)record) + (int)entry; // 0: still our -len (the entry holds +len)
        if (mismatch != 0)
        {
            // The length read, from the difference: the loop keeps no copy of it per record.
            throw ClaimLostOrCorrupted(record, (int)entry, mismatch - (int)entry, token + (record - start));
        }

        // Release, length and type in one 64-bit store (the claimed marker replaced at once):
        // the payload before both (2e). One store and no shift per record, where the type
        // (plain) and then the length took two and the type's extraction.
        Volatile.Write(ref *(long*)record, entry);
        return record + EntryAligned(entry);
    }

    /// <summary>
    /// Gives up a batch unless it was committed (also through a copy), judged from the ring's
    /// state: SPSC, the open claim's bytes are zeroed again; MPSC, every record still marked
    /// with our claim (<paramref name="marker"/>, <see cref="ClaimMarker.ForRecord"/> of the
    /// batch's tag; SPSC: 0) becomes padding, and the unwritten rest padding too.
    /// </summary>
    internal void AbandonBatch(byte* start, int aligned, long token, int marker)
    {
        if (_disposed != 0)
        {
            return; // the ring's lease is gone: touch nothing
        }

        if (!_multiProducer)
        {
            if (_local.OpenClaim == token)
            {
                DiscardSpscClaim();
            }

            return;
        }

        // Acquire: an uncommitted record stops the consumer, so a head past the range means it
        // was committed and consumed (and the bytes may now hold another producer's claim).
        if (Volatile.Read(ref *_head) > token)
        {
            return;
        }

        for (int at = 0; at < aligned;)
        {
            // Acquire: the header as one value (length, and the type word's marker).
            ulong header = Volatile.Read(ref *(ulong*)(start + at));
            int length = (int)(uint)header;
            if (length == 0)
            {
                if (IsUnwrittenAndOurs(start + at, token + at))
                {
                    FillWithPadding((int)(start - _data) + at, aligned - at); // never appended: still zero, still ours
                }

                return;
            }

            // Committed (through a copy), taken by the consumer, or not a record we marked: leave it.
            if (length > 0 || (int)(header >> 32) != marker || -length < HeaderSize || Align(-length) > Math.Min(_maxRecordLength, aligned - at))
            {
                return;
            }

            *(int*)(start + at + TypeOffset) = Padding; // plain: published by the CAS below
            // Full fence CAS: only the claimed length we wrote becomes padding (TryUnblock writes the same).
            Interlocked.CompareExchange(ref *(int*)(start + at), -length, length);
            at += Align(-length);
        }
    }

    /// <summary>
    /// Whether a batch of a range of <paramref name="bytes"/> keeps each appended header
    /// privately and its commit publishes from that copy (MPSC always, an MPSC raw batch's first
    /// run as one entry: <see cref="RecordBatchEntries"/>; SPSC up to <see cref="ShortRangeBytes"/>);
    /// longer SPSC ranges read the headers back at commit.
    /// </summary>
    internal bool KeepsEntries(int bytes) => _multiProducer || bytes <= ShortRangeBytes;

    /// <summary>
    /// SPSC ranges up to this many bytes keep their entries. With 8-byte records (a 512-byte
    /// range) the cheaper producer of the read-back made the pair slower cross-process (quiet A/B
    /// 0.93x): the consumer is the limit there, and a fuller ring costs it more.
    /// </summary>
    private const int ShortRangeBytes = 1024;

    /// <summary>
    /// SPSC commit: the header at <paramref name="record"/> is not one an append wrote (a peer
    /// rewrote it). The tail already covers it, so the rest of the appended bytes becomes padding
    /// the consumer accepts (it would otherwise wait at this header for ever); the records before
    /// it are published. Then the batch ends in a <see cref="RingCorruptedException"/>.
    /// </summary>
    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void PadRewrittenRest(byte* record, byte* end, long startPosition, byte* start)
    {
        long header = *(long*)record;
        FillWithPadding((int)(record - _data), (int)(end - record));
        throw Corrupted(new RingCorruptedException("appended record header", startPosition + (record - start), $"0x{header:x16} is not the length negated and the type that the append wrote"));
    }

    /// <summary>
    /// A range longer than the bytes to the end of the data area, and than the capacity less
    /// them, never fits from this tail however much the consumer frees (2e: padding to the end,
    /// then the range from index 0): the padding is claimed alone, as a record of its own, so
    /// that a later claim starts the next lap. True when padding was published.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private bool TryPadToLapEnd(int aligned)
    {
        // MPSC: acquire, only to decide whether to try (the claim reads the tail again).
        long tail = _multiProducer ? Volatile.Read(ref *_tail) : _local.ProducerTail;
        CheckPosition("tail", tail);
        int toEnd = _capacity - ((int)tail & _mask);
        if (aligned <= toEnd || toEnd + aligned <= _capacity)
        {
            return false;
        }

        if (_multiProducer)
        {
            // Another producer may have moved the tail: whatever range this gets, padding fills it.
            byte* range = TryClaimRangeMpsc(toEnd, ProducerThreadCache.CurrentThread, out _, out _);
            if (range != null)
            {
                FillWithPadding((int)(range - _data), toEnd);
            }

            return range != null;
        }

        if (!TryReserveSpsc(toEnd, out tail, out _, out _))
        {
            return false;
        }

        byte* padding = _data + ((int)tail & _mask);
        *(int*)(padding + TypeOffset) = Padding; // plain: published by the release of the length
        PublishSpsc(tail, 0, toEnd, padding, toEnd);
        return true;
    }

    /// <summary>
    /// MPSC: marks a batch's first header claimed by us before anything is appended (uintripc.h 2e),
    /// as a record of the range's length, at most the longest record. Only our intent attributes a
    /// zero header, and our next claim (a write while the batch is open) moves it away: a dead
    /// producer's stale intent there alone would then make the consumer skip our live batch (2f b).
    /// The first append writes its own marked header over it; commit and abort treat it as ours.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void MarkBatchStart(byte* start, int aligned, uint tag)
        => MarkClaimed(start, BatchStartLength(aligned), tag); // release, store-store; before any intent store of ours that follows

    /// <summary>The length the start marker of a batch range of <paramref name="aligned"/> bytes claims: one the consumer accepts (2e).</summary>
    private int BatchStartLength(int aligned) => Math.Min(aligned, _maxRecordLength);

    /// <summary>
    /// MPSC, a commit with nothing appended: whether the range's first header is still our start
    /// marker and not released by a consumer (a copy of the batch completed it before otherwise).
    /// </summary>
    private bool IsUnappendedAndOurs(byte* start, int aligned, long position)
    {
        ulong header = Volatile.Read(ref *(ulong*)start); // acquire, before releasing (as IsUnwrittenAndOurs)
        return (int)(uint)header == -BatchStartLength(aligned) && ClaimMarker.IsRecordMarker((int)(header >> 32))
            && Volatile.Read(ref *_releasing) <= position;
    }

    /// <summary>
    /// MPSC: whether the header at <paramref name="record"/> (ring position <paramref name="position"/>)
    /// of our range was never written: zero, and not zeroed by a consumer that released it. A
    /// consumer stores releasing before it zeroes (2e), so releasing read after the zero covers
    /// the header if the zero is the consumer's; its head may not have moved yet.
    /// </summary>
    private bool IsUnwrittenAndOurs(byte* record, long position)
        => Volatile.Read(ref *(long*)record) == 0 && Volatile.Read(ref *_releasing) <= position; // acquire loads, in this order

    /// <summary>The most bytes of a claimed range asked for at once (64 lines).</summary>
    private const int PrefetchLimit = 4096;

    /// <summary>
    /// MPSC: a claimed range of at most this many bytes is not prefetched (32 records of 8 B take
    /// 512 B, 8 of 64 B 576): its few lines' prefetches cost the claim more than the appends then
    /// wait for them. The C producer prefetches no range (mrring_claim_range). See
    /// docs/design-notes.md "mrbatch2" for the numbers.
    /// </summary>
    private const int MpscRangePrefetchMinimum = 512;

    /// <summary>
    /// Asks for the first lines of a claimed range at once. The consumer zeroed them last (they
    /// are in its cache); without this, each line is fetched only when the appends' stores reach
    /// it, one after another behind the store buffer. Only the range: the bytes after it may
    /// still be the consumer's (SPSC: a full ring frees just enough for the claim), and a line
    /// pulled from there while it reads and zeroes them crosses cores up to three times instead
    /// of once; MPSC, they are the next producer's claim, being written now. At most <see cref="PrefetchLimit"/> bytes: the lines of a long range (32 records of
    /// 1 KiB) asked for at once evict each other before the appends reach them. Single thread,
    /// 8 MiB ring, produce ns per record, 2x the range before -> now: 256 B 18.5-19.5 -> 12.4-12.9,
    /// 1 KiB 73-75 -> 40.6-42, 4 KiB 566-642 -> 244-298 (loaded machine); MPSC cross-process, 64 B
    /// records gained from it, 1 KiB and 4 KiB lost without the limit. A hint: no value is
    /// read, nothing can fault.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void PrefetchRange(byte* start, int bytes)
        => PrefetchLines(start, start + Math.Min(bytes, PrefetchLimit)); // a claimed range never crosses the end of the data area: no wrap

    /// <summary>
    /// SPSC, a range of at most <see cref="ShortRangeBytes"/>: stores zero into the first word of
    /// each of its cache lines (from <paramref name="start"/> itself, which may be mid-line: the
    /// bytes before it may be records not yet consumed), a write prefetch that needs
    /// no PREFETCHW. The consumer zeroed these lines last, so they sit modified in its cache: the
    /// appends' stores then missed one line after another, each behind the stores queued before it
    /// (stores commit in order; an append also stores its entry and the batch's fields, which hit),
    /// and a read prefetch brought a line shared, to be taken again by the first store. These
    /// stores ask for every line at once and own them before the appends begin. Harmless: the
    /// range is ours (released by the consumer, zero, behind the published claim_end, 2g) and
    /// its bytes are zero already; nothing reads them before the commit. The C ring does the same
    /// (rring_claim_batch). Cross-core twin of the sweep's 8 B row (one append per record, 64 KiB
    /// ring): docs/design-notes.md "sprb8". A longer range keeps the read prefetch: taking the first
    /// 4 KiB of a 64 B row's 4.6 KiB range cost it cross-process (design-notes "take lines, short
    /// ranges only (lead)").
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void TakeRangeLines(byte* start, int bytes)
    {
        byte* end = start + bytes; // a claimed range never crosses the end of the data area
        *(long*)start = 0; // plain: the range's first word (bytes >= 8), its first line
        for (byte* line = (byte*)(((nint)start + 64) & ~(nint)63); line < end; line += 64)
        {
            *(long*)line = 0; // plain, as above; line + 8 <= end: both are multiples of 8
        }
    }

    /// <summary>Read prefetch of the cache lines from the one <paramref name="start"/> is in (it may be mid-line) to <paramref name="end"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void PrefetchLines(byte* start, byte* end)
    {
        if (Sse.IsSupported)
        {
            for (byte* line = (byte*)((nint)start & ~(nint)63); line < end; line += 64) // a cache line
            {
                Sse.Prefetch0(line);
            }
        }
    }

    /// <summary>An SPSC append or commit whose claim is not open: the ring was disposed (also by another thread during the call), or the claim completed or discarded.</summary>
    /// <remarks>
    /// The disposed flag is read again (acquire), after the claim's check: Dispose sets it before it
    /// closes the claim, and a plain load let the JIT reuse the caller's earlier one. Inlined, so
    /// that the JIT sees this path end (a call it must assume returns costs an append loop spills).
    /// </remarks>
    [DoesNotReturn]
    private void ThrowAppendRefused()
    {
        if (Volatile.Read(ref _disposed) != 0)
        {
            ThrowDisposed();
        }

        ThrowClaimLost();
    }

    /// <summary>The exception for an MPSC batch's run entry whose count does not fit its batch: the append wrote it, so this is a defect here, not a peer's doing.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static InvalidOperationException BadRunEntry(int records, int count)
        => new($"The batch's first run counts {records} records of the {count} appended: its private entries were corrupted.");

    [DoesNotReturn]
    private void ThrowBatchBytes(int bytes)
        => throw new ArgumentOutOfRangeException(nameof(bytes), bytes, $"A batch claims {HeaderSize} to {_capacity} bytes (the ring's capacity).");
}
