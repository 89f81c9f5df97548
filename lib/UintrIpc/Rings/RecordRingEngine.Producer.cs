using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.Arm;
using UintrIpc.Memory;
using UintrIpc.Signaling;

namespace UintrIpc.Rings;

// The two ways to claim bytes. SPSC: the only producer owns the tail; it checks capacity
// against a cached head and publishes tail, padding and record length at commit, nothing
// before. MPSC: producers race for the tail with a CAS; the winner owns [tail, end), commits
// the padding at once and marks its record claimed (-len) until it commits.
internal sealed unsafe partial class RecordRingEngine
{
    /// <summary>Copies a message into the ring; false when there is no room.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal bool TryWrite(int type, ReadOnlySpan<byte> payload) => TryWrite(type, payload, 0);

    /// <summary>Copies a message into the ring by the thread whose managed id is <paramref name="thread"/> (MPSC; 0: read here, <see cref="TryClaimMpsc(int, int)"/>); false when there is no room.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal bool TryWrite(int type, ReadOnlySpan<byte> payload, int thread)
    {
        ThrowIfDisposed();
        if (type < 0)
        {
            ThrowNegativeType(type);
        }

        if (payload.Length > _maxMessageLength)
        {
            ThrowTooLong(nameof(payload), payload.Length);
        }

        int recordLength = HeaderSize + payload.Length;
        byte* record;
        if (_multiProducer)
        {
            long position = TryClaimMpsc(recordLength, thread);
            if (position < 0)
            {
                return false;
            }

            record = _data + ((int)position & _mask); // the padding, if any, ends the lap: the record is at index 0
            InlinedBytes.Copy(payload, new Span<byte>(record + HeaderSize, payload.Length));
            // Plain, after the payload: the claimed marker in the type word names us until then (2e, 2f).
            *(int*)(record + TypeOffset) = type;
            Volatile.Write(ref *(int*)record, recordLength); // release: type and payload before the length
            return true;
        }

        if (_local.OpenClaim != 0)
        {
            DiscardSpscClaim();
        }

        if (!TryReserveSpsc(recordLength, out long tail, out int padding, out int aligned))
        {
            return false;
        }

        PrefetchNextRecord(tail + padding + aligned, aligned);

        record = _data + (padding != 0 ? 0 : ((int)tail & _mask));
        *(int*)(record + TypeOffset) = type; // plain: published by the release of the length
        InlinedBytes.Copy(payload, new Span<byte>(record + HeaderSize, payload.Length));
        PublishSpsc(tail, padding, aligned, record, recordLength);
        return true;
    }

    /// <summary>Claims room for a message to be written in place.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal bool TryClaim(int type, int length, out RecordClaim claim) => TryClaim(type, length, 0, out claim);

    /// <summary>Claims room for a message to be written in place by the thread whose managed id is <paramref name="thread"/> (MPSC; 0: read here, <see cref="TryClaimMpsc(int, int)"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal bool TryClaim(int type, int length, int thread, out RecordClaim claim)
    {
        ThrowIfDisposed();
        if (type < 0)
        {
            ThrowNegativeType(type);
        }

        if ((uint)length > (uint)_maxMessageLength)
        {
            ThrowTooLong(nameof(length), length);
        }

        int recordLength = HeaderSize + length;
        byte* record;
        long token = 0;
        if (_multiProducer)
        {
            token = TryClaimMpsc(recordLength, thread);
            if (token < 0)
            {
                claim = default;
                return false;
            }

            record = _data + ((int)token & _mask); // the padding, if any, ends the lap: the record is at index 0
        }
        else
        {
            if (_local.OpenClaim != 0)
            {
                DiscardSpscClaim();
            }

            if (!TryReserveSpsc(recordLength, out long tail, out int padding, out int aligned))
            {
                claim = default;
                return false;
            }

            PrefetchNextRecord(tail + padding + aligned, aligned);

            record = _data + (padding != 0 ? 0 : ((int)tail & _mask));
            token = ++_local.ClaimToken;
            _local.ClaimTail = tail;
            _local.ClaimPadding = padding;
            _local.ClaimAligned = aligned;
            _local.OpenClaim = token;
        }

        // The type is written at commit: until then the MPSC header's type word holds the claimed marker.
        claim = new RecordClaim(this, record, recordLength, type, token);
        return true;
    }

    // SPSC single writes and claims of a raw ring (RecordRing), as the slot ring's (design-notes
    // "spscst", "sprec"): a quick path that throws nothing and calls nothing, so that the ring object
    // records the call with MappingUse.EnterRoleCall (two constant stores, no try/finally whose values
    // the JIT writes to the frame per message); anything out of the ordinary (disposed, an argument
    // out of range, an open claim to discard, padding at the lap's end, a head to reload, a claim_end
    // to publish, a record large enough to prefetch after) returns false, and the caller takes the
    // checked path (TryWrite, TryClaim) out of line, under the usual using.

    /// <summary>
    /// SPSC: the room for one record of <paramref name="recordLength"/> bytes at the private tail when
    /// the ring is not disposed, no claim is open, the record fits before the lap's end, the cached head
    /// proves room, the published claim_end covers it (2g) and it is below <see cref="PrefetchMinimum"/>.
    /// Reads only this object's private words.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool TryReserveSpscQuick(int recordLength, out long tail, out int aligned)
    {
        tail = _local.ProducerTail;
        aligned = Align(recordLength);
        long end = tail + aligned;
        return _disposed == 0
            && _local.OpenClaim == 0
            && aligned < PrefetchMinimum
            && aligned <= _capacity - ((int)tail & _mask)
            && (ulong)(end - _local.HeadCache) <= (ulong)_capacity
            && end <= _local.ClaimEndPublished;
    }

    /// <summary>SPSC: <see cref="TryWrite(int, ReadOnlySpan{byte}, int)"/> when nothing out of the ordinary stands in the way (<see cref="TryReserveSpscQuick"/>, a payload copied inline); false: nothing written, take the checked path. Throws nothing.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal bool TryWriteSpscQuick(int type, ReadOnlySpan<byte> payload)
    {
        nuint length = (uint)payload.Length;
        if (type < 0 || length > (uint)_maxMessageLength || length > (uint)InlinedBytes.CopyLimit
            || !TryReserveSpscQuick(HeaderSize + (int)length, out long tail, out int aligned))
        {
            return false;
        }

        byte* record = _data + ((int)tail & _mask);
        ref byte source = ref MemoryMarshal.GetReference(payload);
        ref byte destination = ref Unsafe.AsRef<byte>(record + HeaderSize);
        if ((nuint)Unsafe.ByteOffset(ref source, ref destination) < length || (nuint)Unsafe.ByteOffset(ref destination, ref source) < length)
        {
            return false; // a payload inside the record's own bytes: the checked path copies with memmove semantics
        }

        *(int*)(record + TypeOffset) = type; // plain: published by the release of the length
        InlinedBytes.CopyInline(ref source, ref destination, length);
        PublishSpsc(tail, 0, aligned, record, HeaderSize + (int)length);
        return true;
    }

    /// <summary>SPSC: <see cref="TryClaim(int, int, int, out RecordClaim)"/> when nothing out of the ordinary stands in the way (<see cref="TryReserveSpscQuick"/>); false: nothing claimed, take the checked path. Throws nothing; writes only private words.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal bool TryClaimSpscQuick(int type, int length, out RecordClaim claim)
    {
        if (type < 0 || (uint)length > (uint)_maxMessageLength || !TryReserveSpscQuick(HeaderSize + length, out long tail, out int aligned))
        {
            claim = default;
            return false;
        }

        long token = ++_local.ClaimToken;
        _local.ClaimTail = tail;
        _local.ClaimPadding = 0;
        _local.ClaimAligned = aligned;
        _local.OpenClaim = token;
        claim = new RecordClaim(this, _data + ((int)tail & _mask), HeaderSize + length, type, token);
        return true;
    }

    /// <summary>
    /// SPSC: commits (<paramref name="type"/>) or aborts (<see cref="Padding"/>) the open claim
    /// <paramref name="token"/> unless the ring is disposed or the claim no longer open; false: refused
    /// (<see cref="ThrowAppendRefused"/> says why). Throws nothing, so that a raw ring's claim records its
    /// commit without a try/finally (RecordClaim). The disposed flag is loaded after the caller's record
    /// (MappingUse's Dekker): the open claim alone does not prove the ring undisposed (a claim taken as
    /// Dispose looked at it stays open).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal bool TryCompleteSpsc(byte* record, int recordLength, int type, long token)
    {
        if (_disposed != 0 || _local.OpenClaim != token)
        {
            return false;
        }

        _local.OpenClaim = 0;
        *(int*)(record + TypeOffset) = type; // plain: published by the release of the length
        PublishSpsc(_local.ClaimTail, _local.ClaimPadding, _local.ClaimAligned, record, recordLength);
        return true;
    }

    /// <summary>SPSC: throws for a completion <see cref="TryCompleteSpsc"/> refused: <see cref="ObjectDisposedException"/> or, the claim no longer open, <see cref="InvalidOperationException"/>.</summary>
    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    internal void ThrowCompleteRefused() => ThrowAppendRefused();

    /// <summary>Commits or aborts a claim (called by <see cref="RecordClaim"/>, which checks it is not completed twice).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void Complete(byte* record, int recordLength, int type, long token, bool commit)
    {
        // The SPSC commit of the open claim, inlined into the producer's loop; everything else
        // (MPSC, a disposed ring, a claim that is no longer open) takes the checked path below.
        if (!_multiProducer && _local.OpenClaim == token) // 0 once disposed: a disposed ring takes the checked path
        {
            _local.OpenClaim = 0;
            *(int*)(record + TypeOffset) = commit ? type : Padding; // plain: published by the release of the length
            PublishSpsc(_local.ClaimTail, _local.ClaimPadding, _local.ClaimAligned, record, recordLength);
            return;
        }

        // The MPSC commit, inlined too (a call per message cost the producer's loop its
        // registers): the header must still hold our claim (2e).
        if (_multiProducer && _disposed == 0)
        {
            CommitMpsc(record, recordLength, commit ? type : Padding, token);
            return;
        }

        CompleteChecked(record, recordLength, type, token, commit);
    }

    /// <summary>
    /// MPSC: publishes a claimed record (or turns it into padding) if its header still says
    /// claimed (-len); the value read is the one reported, never read again: a record taken
    /// from us may be claimed anew by another producer with the same length.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void CommitMpsc(byte* record, int recordLength, int type, long position)
    {
        // Acquire: TryUnblock may have taken the record (the producer was presumed dead);
        // then it is no longer ours and committing would publish into reused bytes.
        int length = Volatile.Read(ref *(int*)record);
        if (length != -recordLength)
        {
            throw ClaimLostOrCorrupted(record, recordLength, length, position);
        }

        *(int*)(record + TypeOffset) = type; // plain: published by the release below
        Volatile.Write(ref *(int*)record, recordLength); // release: type and payload before the length
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private void CompleteChecked(byte* record, int recordLength, int type, long token, bool commit)
    {
        ThrowIfDisposed();
        if (_multiProducer)
        {
            CommitMpsc(record, recordLength, commit ? type : Padding, token);
            return;
        }

        if (_local.OpenClaim != token)
        {
            ThrowAppendRefused(); // a Dispose since the check above closed it: ObjectDisposedException
        }

        _local.OpenClaim = 0;
        *(int*)(record + TypeOffset) = commit ? type : Padding; // plain: published by the release of the length

        PublishSpsc(_local.ClaimTail, _local.ClaimPadding, _local.ClaimAligned, record, recordLength);
    }

    /// <summary>
    /// Aborts a claim that its owner disposed without completing, if it is still open: SPSC
    /// when it is the open claim (<paramref name="token"/>), MPSC when the consumer has not
    /// passed its position (<paramref name="token"/>) and it still carries its claim marker.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal void Abandon(byte* record, int recordLength, long token)
    {
        if (_disposed != 0)
        {
            return; // the ring's lease is gone: touch nothing
        }

        if (!_multiProducer)
        {
            if (_local.OpenClaim == token)
            {
                Complete(record, recordLength, Padding, token, commit: false);
            }

            return;
        }

        // Acquire loads. An uncommitted record stops the consumer, so a head past it means it was
        // committed and consumed (and the bytes may now hold another producer's claim).
        if (Volatile.Read(ref *_head) > token || Volatile.Read(ref *(int*)record) != -recordLength)
        {
            return;
        }

        *(int*)(record + TypeOffset) = Padding; // plain: published by the CAS below
        // Full fence CAS: only the claim marker we wrote becomes padding (TryUnblock writes the same).
        Interlocked.CompareExchange(ref *(int*)record, recordLength, -recordLength);
    }

    /// <summary>
    /// SPSC capacity check for one record: checks against the cached head first and reloads
    /// the head (acquire) only when that is not enough.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool TryReserveSpsc(int recordLength, out long tail, out int padding, out int aligned)
    {
        tail = _local.ProducerTail; // ours: the shared copy is only published
        aligned = Align(recordLength);
        int toEnd = _capacity - ((int)tail & _mask);
        padding = aligned > toEnd ? toEnd : 0;
        long end = tail + padding + aligned;
        // Unsigned: a cache (or a corrupt tail) that makes the difference negative reloads too.
        if ((ulong)(end - _local.HeadCache) > (ulong)_capacity)
        {
            if (_local.HeadReloadFoundNearlyFull != 0)
            {
                // Inline spin hints, no call: a call here made the JIT keep the claim's values in
                // callee-saved registers on the fast path too (TryClaimBatch 376 -> 403 instructions).
                for (int i = 0; i < HeadReloadPauseSpins; i++)
                {
                    SpinHint.Pause();
                }
            }

            // Acquire: pairs with the consumer's release of head, so the bytes it freed are
            // zero before we write them.
            long head = Volatile.Read(ref *_head);
            CheckPosition("head", head);
            // The tail is ours and stable, so both relations must hold.
            if (head > tail)
            {
                ThrowHeadAfterTail(head, tail);
            }

            if (tail - head > _capacity)
            {
                ThrowTailTooFarAhead(head, tail);
            }

            _local.HeadCache = head;
            // Only for claims of at most PauseMaxClaimBytes: the head line's round trip per claim is
            // a large part of a short claim's transfers; a long one (1 KiB) lost cross-process with it.
            _local.HeadReloadFoundNearlyFull = end - tail <= PauseMaxClaimBytes && head + _capacity - end < _nearlyFullRoom ? 1 : 0;
            if (end - head > _capacity)
            {
                return false;
            }
        }

        // Before any byte of the claim is written: the end of what we may write beyond the tail
        // (2g claim_end), which bounds our successor's clear if we are killed with the claim open.
        // Stored ClaimEndSlack ahead, so only about one claim per that many bytes stores: a compare
        // otherwise. Only a producer that attaches after we died reads it, and a killed process's
        // retired stores all land, so no fence is needed; what matters is that the store is emitted
        // before the claim's stores. A volatile store (a plain mov on x64, once per ClaimEndSlack
        // bytes), not a plain one whose place among the claim's stores would rest on the JIT's
        // alias analysis; the C ring uses a compiler barrier.
        if (end > _local.ClaimEndPublished)
        {
            long claimEnd = end + ClaimEndSlack;
            _local.ClaimEndPublished = claimEnd;
            Volatile.Write(ref *(_tail + ((RingLayout.ClaimEndOffset - RingLayout.TailOffset) / sizeof(long))), claimEnd);
        }

        return true;
    }

    /// <summary>
    /// Bytes an SPSC producer publishes its claim_end ahead of its claim's end (uintripc.h 2g):
    /// a store per this many bytes of records, not per claim; a successor's clear reads at most
    /// this much more than the killed claim wrote.
    /// </summary>
    private const int ClaimEndSlack = 4096;

    /// <summary>
    /// SPSC: <see cref="LocalState.OpenClaim"/> from attach until this object's first write or
    /// claim, which finds it not 0 (as it would an open claim of its own: no extra check per
    /// message) and calls <see cref="DiscardSpscClaim"/>, which clears the free bytes instead. No
    /// claim token is negative, so no claim ever matches it.
    /// </summary>
    private const long PredecessorClaim = -1;

    /// <summary>
    /// SPSC, before this object's first record: zeroes the bytes a previous producer killed with
    /// a claim open left beyond the tail, its headers and payload (a closed claim zeroed them,
    /// 2e). The consumer reads them as headers once our records end where theirs did not. Only
    /// [tail, claim_end) where the predecessor wrote (2g), within [tail, head + capacity); only
    /// what is not zero is written. Plain stores, ordered before our first publish by its
    /// release stores; the consumer reads nothing there before it.
    /// </summary>
    private void ClearPredecessorClaim()
    {
        long tail = _local.ProducerTail;
        long head = Volatile.Read(ref *_head); // acquire: the consumer zeroed what it released before it
        CheckPosition("head", head);
        if (head > tail)
        {
            ThrowHeadAfterTail(head, tail);
        }

        if (tail - head > _capacity)
        {
            ThrowTailTooFarAhead(head, tail);
        }

        // Any value (a peer may have forged it): below the tail nothing was left; beyond head +
        // capacity, or negative (unsigned: huge), the whole free area as without the word.
        long claimEnd = Volatile.Read(ref *(_tail + ((RingLayout.ClaimEndOffset - RingLayout.TailOffset) / sizeof(long)))); // acquire
        long end = (ulong)claimEnd <= (ulong)(head + _capacity) ? claimEnd : head + _capacity;
        if (end <= tail)
        {
            return;
        }

        int bytes = (int)(end - tail); // at most the free area: a capacity or less
        int index = (int)tail & _mask;
        int first = Math.Min(bytes, _capacity - index);
        ClearUnlessZero(new Span<byte>(_data + index, first));
        ClearUnlessZero(new Span<byte>(_data, bytes - first)); // the part that wraps to the start
    }

    private static void ClearUnlessZero(Span<byte> bytes)
    {
        int from = bytes.IndexOfAnyExcept((byte)0);
        if (from >= 0)
        {
            bytes[from..(bytes.LastIndexOfAnyExcept((byte)0) + 1)].Clear();
        }
    }

    /// <summary>Publishes an SPSC record (and its padding): tail first, then the lengths.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void PublishSpsc(long tail, int padding, int aligned, byte* record, int recordLength)
    {
        // Release, and before the lengths: the consumer cannot consume past the tail, so
        // head <= tail holds for every observer.
        _local.ProducerTail = tail + padding + aligned;
        Volatile.Write(ref *_tail, tail + padding + aligned);
        if (padding != 0)
        {
            WritePadding(_data + ((int)tail & _mask), padding);
        }

        Volatile.Write(ref *(int*)record, recordLength); // release: type and payload before the length
    }

    /// <summary>
    /// Forgets an SPSC claim that was neither committed nor aborted (e.g. the code filling it
    /// threw). Nothing of it was published; its bytes are zeroed again so that later records'
    /// headers inside them read 0.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void DiscardSpscClaim()
    {
        if (_local.OpenClaim == PredecessorClaim)
        {
            ClearPredecessorClaim();
            _local.OpenClaim = 0;
            return;
        }

        long tail = _local.ClaimTail;
        int start = _local.ClaimPadding != 0 ? 0 : ((int)tail & _mask);
        // Plain: the bytes are unpublished and ours (the tail has not moved past them).
        new Span<byte>(_data + start, _local.ClaimAligned).Clear();
        _local.OpenClaim = 0;
    }

    /// <summary>
    /// MPSC claim: CAS the shared tail over the record (and the padding before it when the
    /// record would cross the end), commit the padding, mark the record claimed (-len).
    /// Returns the record's position (its index is position &amp; mask), or -1 when there is no room.
    /// </summary>
    /// <remarks>A position, not a pointer and an out position: out values of a call live in the caller's frame, a store and a load per message.</remarks>
    /// <param name="recordLength">The record's length.</param>
    /// <param name="thread">The caller's managed thread id when it holds it (a ring object's call: its MappingUse record's), else 0 (read here: a thread static, a call into the runtime's TLS getter).</param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private long TryClaimMpsc(int recordLength, int thread) => TryClaimMpsc<NoClaimProbe>(recordLength, thread);

    /// <summary><see cref="TryClaimMpsc(int, int)"/> with <typeparamref name="TProbe"/> at its racy points; tests call it with their own probe.</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    internal long TryClaimMpsc<TProbe>(int recordLength, int thread = 0)
        where TProbe : struct, IClaimProbe
    {
        int aligned = Align(recordLength);
        long position = ClaimRangeMpsc<TProbe>(aligned, thread != 0 ? thread : ProducerThreadCache.CurrentThread, out uint tag); // managed ids start at 1
        if (position >= 0)
        {
            TProbe.AfterCas(position);
            MarkClaimed(_data + ((int)position & _mask), recordLength, tag);
            // After the marker (its store-store barrier orders it before the payload either way): the
            // next record's first lines, as an SPSC claim asks for them (see PrefetchNextRecord), at
            // most MpscPrefetchBytes of them.
            PrefetchNextRecord(position + aligned, Math.Min(aligned, MpscPrefetchBytes));
        }

        return position;
    }

    /// <summary>
    /// MPSC: release, one 64-bit store: length -len (claimed, not free) and the claimed marker
    /// naming us in the type word (2e, 2f); then store-store, so the marker is visible before any
    /// payload byte and TryUnblock's scan of a zero header never mistakes our payload for a header.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void MarkClaimed(byte* record, int recordLength, uint tag)
        => MarkClaimed(record, (uint)-recordLength | ClaimedMarkerWord(tag));

    /// <summary>MarkClaimed of a header already built (length negated, claimed marker).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void MarkClaimed(byte* record, ulong header)
    {
        Volatile.Write(ref *(ulong*)record, header);
        Volatile.WriteBarrier();
    }

    /// <summary>
    /// MPSC: CAS the shared tail over <paramref name="aligned"/> bytes (and the padding before
    /// them when they would cross the end), commit the padding. Returns the first byte of the
    /// range (still zero), or null when there is no room.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private byte* TryClaimRangeMpsc(int aligned, int thread, out long position, out uint tag)
    {
        position = ClaimRangeMpsc<NoClaimProbe>(aligned, thread, out tag);
        if (position < 0)
        {
            position = 0;
            return null;
        }

        return _data + ((int)position & _mask);
    }

    /// <summary>
    /// <see cref="TryClaimRangeMpsc"/>, inlined into the claim of one record: returns the range's
    /// position (after its padding, if any), or -1 when there is no room.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private long ClaimRangeMpsc<TProbe>(int aligned, int thread, out uint tag)
        where TProbe : struct, IClaimProbe
    {
        ulong* intent = _local.Producer.Intent(thread, _producers!, out tag, out _);
        long tail;
        int index;
        int padding;
        while (true)
        {
            // Acquire, before the tail: a floor another thread of this object stored after its
            // claim is then at most the tail we read next.
            long floor = Volatile.Read(ref _local.ProducerTail);
            // Acquire: the freshest tail for the CAS below (which is the real fence).
            tail = Volatile.Read(ref *_tail);
            CheckPosition("tail", tail);
            if (tail < floor)
            {
                ThrowTailMovedBack(tail, floor);
            }

            index = (int)tail & _mask;
            int toEnd = _capacity - index;
            padding = aligned > toEnd ? toEnd : 0;
            long end = tail + padding + aligned;
            // The cache is shared by this instance's producer threads; a racing store may put
            // an older head back, which only makes the check more conservative.
            if ((ulong)(end - Volatile.Read(ref _local.HeadCache)) > (ulong)_capacity)
            {
                // Acquire: pairs with the consumer's release of head (freed bytes are zero).
                long head = Volatile.Read(ref *_head);
                CheckPosition("head", head);
                if (head > tail)
                {
                    // Other producers' records past our stale tail may have been consumed since;
                    // only an unchanged tail proves the head is wrong.
                    if (Volatile.Read(ref *_tail) == tail)
                    {
                        ThrowHeadAfterTail(head, tail);
                    }

                    continue;
                }

                // Head was read after the tail and only grows: this must hold.
                if (tail - head > _capacity)
                {
                    ThrowTailTooFarAhead(head, tail);
                }

                Volatile.Write(ref _local.HeadCache, head);
                if (end - head > _capacity)
                {
                    return -1;
                }
            }

            // Release: our intent attributes the claim until its marker is written; the CAS below is a
            // full fence, so it is visible before the claim is (2f).
            Volatile.Write(ref *intent, ClaimMarker.Intent((ulong)tail, (ulong)(padding + aligned)));
            TProbe.BeforeCas(tail);
            // Full fence: the bytes [tail, end) are ours once this succeeds.
            if (Interlocked.CompareExchange(ref *_tail, end, tail) == tail)
            {
                Volatile.Write(ref _local.ProducerTail, end); // release (after the CAS): a floor; a racing thread's smaller value only weakens it
                break;
            }

            WithdrawLostIntent(intent);
        }

        if (padding != 0)
        {
            WritePadding(_data + index, padding);
        }

        return tail + padding;
    }

    /// <summary>
    /// MPSC, our claim CAS failed: our intent covers the winner's claim, none of ours (ours lie before
    /// the tail we read), so it stops covering anything (claim = 0, uintripc.h 2f). Kept, it would be a
    /// live producer's cover of another producer's position: if the winner died before its claimed
    /// header and the ring stayed full (we then store no other intent, nor does anyone claim there),
    /// the consumer, which skips only what dead producers alone cover, would wait at it for good.
    /// Only here, not when the ring is found full: a full ring leaves the intent of our last successful
    /// claim in place, which must go on covering our open batch's first unwritten header (2e).
    /// </summary>
    /// <remarks>Inlined: one store on the path of a lost race; a call would make the claim loop keep its values across it.</remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void WithdrawLostIntent(ulong* intent)
        => Volatile.Write(ref *intent, ClaimMarker.NoIntent); // release; the failed CAS (full fence) ordered the intent before

    /// <summary>
    /// MPSC: our claimed header changed. The consumer may have taken the record (TryUnblock, or
    /// TrySkipDeadClaim on a forged verdict): then it is padding of our length, or the head has
    /// passed it. Anything else was written by someone with no right to the record.
    /// </summary>
    /// <remarks>
    /// Returns the exception for the caller to throw: a call the JIT must assume returns makes
    /// the loop around it keep its values in memory (the batch commit stored four per record).
    /// </remarks>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private Exception ClaimLostOrCorrupted(byte* record, int recordLength, int length, long position)
    {
        // Disposed since the completion's check: a channel's completion records no use of the
        // mapping, so its writer's Dispose may have released it (the last lease) and the header was
        // read from the placeholder (zero), not the ring; the claim counts as a closed ring object's
        // (uintripc.h 2f). Acquire: Dispose sets the flag before the release (design-notes "review16").
        if (Volatile.Read(ref _disposed) != 0)
        {
            return DisposedException();
        }

        // Acquire: a consumer that unblocked us released its head after turning the record into padding.
        long head = Volatile.Read(ref *_head);
        CheckPosition("head", head);
        long tail = Volatile.Read(ref *_tail); // acquire, after the head: a true head is at most this
        if (head > tail)
        {
            ThrowHeadAfterTail(head, tail);
        }

        int type = *(int*)(record + TypeOffset); // plain: only compared, the length above was read with acquire
        if (head > position || (length == recordLength && type == Padding))
        {
            return ClaimLost();
        }

        return Corrupted(new RingCorruptedException("claimed record", position, $"its header length is {length}, the claim wrote {-recordLength}"));
    }

    [DoesNotReturn]
    private static void ThrowClaimLost() => throw ClaimLost();

    private static InvalidOperationException ClaimLost()
        => new InvalidOperationException(
            "The claim is no longer valid: it was already completed through a copy, discarded by a later claim or write of the producer (SPSC), or unblocked by the consumer (MPSC TryUnblock).");
}
