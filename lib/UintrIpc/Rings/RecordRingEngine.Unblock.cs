using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace UintrIpc.Rings;

// Recovery from a producer that died between claim and commit. Only the consumer calls it.
// TrySkipDeadClaim acts only when the producer table (uintripc.h 2f) shows the claim's producer
// dead; TryUnblock (Agrona's Unblock) acts after a time, and its stores race with the claimed
// record's producer if that producer is in fact alive, which is why callers must only use it
// when they believe the producer is dead.
internal sealed unsafe partial class RecordRingEngine
{
    /// <summary>
    /// Turns the uncommitted record at head into padding once it has blocked the consumer
    /// for at least <paramref name="blockedFor"/>. True when it did.
    /// </summary>
    internal bool TryUnblock(TimeSpan blockedFor)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(blockedFor, TimeSpan.Zero);
        ThrowIfConsumerNotReady();
        // Head is ours (we are the consumer, and keep it privately), so both relations with
        // the tail (acquire) must hold.
        long head = _local.ConsumerHead;
        long tail = Volatile.Read(ref *_tail);
        CheckPosition("tail", tail);
        if (head > tail)
        {
            ThrowHeadAfterTail(head, tail);
        }

        if (tail - head > _capacity)
        {
            ThrowTailTooFarAhead(head, tail);
        }

        int index = (int)head & _mask;
        byte* record = _data + index;
        // Acquire: pairs with the producers' release stores of the length.
        int length = Volatile.Read(ref *(int*)record);
        if (head == tail || length > 0)
        {
            // Empty, or the record is committed: nothing blocks the consumer.
            _local.BlockedPosition = -1;
            return false;
        }

        long now = Stopwatch.GetTimestamp();
        if (_local.BlockedPosition != head)
        {
            // First sighting of this blocked record: start its clock.
            _local.BlockedPosition = head;
            _local.BlockedSince = now;
            if (blockedFor > TimeSpan.Zero)
            {
                return false;
            }
        }
        else if (Stopwatch.GetElapsedTime(_local.BlockedSince, now) < blockedFor)
        {
            return false;
        }

        int room = _capacity - index;
        if (length < 0)
        {
            // Claimed (-len) but never committed: the producer said how long it is.
            if (length < -room || -length < HeaderSize || Align(-length) > _maxRecordLength)
            {
                ThrowBadClaim(head, length, room);
            }

            WritePadding(record, -length);
        }
        else
        {
            // The tail covers bytes whose header is still 0: a producer won the CAS and died
            // before marking its record. Its length is unknown; find where the next header
            // written by another producer starts, within this lap and the tail.
            long used = tail - head;
            int limit = used < room ? index + (int)used : _capacity;
            int end = index + RingLayout.RecordAlignment;
            // Acquire loads: a header is published before its payload (the claim's store-store
            // barrier), and consumed bytes are all zero before head moves (a release a killed
            // consumer left is finished first, 2g), so the first non-zero word after a zero header
            // is a header (uintripc.h 2e).
            while (end < limit && Volatile.Read(ref *(int*)(_data + end)) == 0)
            {
                end += RingLayout.RecordAlignment;
            }

            if (end < limit && !StillZero(index, end))
            {
                // A producer wrote into the gap while we scanned: it is alive after all.
                return false;
            }

            FillWithPadding(index, end - index);
        }

        _local.BlockedPosition = -1;
        return true;
    }

    /// <summary>
    /// MPSC: turns the uncommitted claim at head into padding when its producer is known to be
    /// dead (uintripc.h 2f), never a live producer's. True when it did.
    /// </summary>
    internal bool TrySkipDeadClaim()
    {
        ThrowIfConsumerNotReady();
        if (_producers is null)
        {
            return false;
        }

        long head = _local.ConsumerHead;
        // Committed padding at head (a claim skipped or aborted, not stepped over yet: a channel's
        // reader looks through it and parks) is looked through, as CanRead does: the claim that
        // holds the consumer up is the first uncommitted record after it, e.g. the unwritten rest
        // of a batch after its skipped records. Consumes nothing.
        int ahead = 0;
        while (true)
        {
            int aligned = NextRecord(head, ahead, out _, out int committedType, out _);
            if (aligned == 0)
            {
                break;
            }

            if (committedType != Padding || (ahead += aligned) >= _capacity)
            {
                return false; // a message to read, or a lap of padding: nothing holds the consumer up
            }
        }

        long position = head + ahead;
        int index = (int)position & _mask;
        byte* record = _data + index;
        // Acquire: the whole header (length, and the claimed marker in the type word) as one value.
        ulong header = Volatile.Read(ref *(ulong*)record);
        int length = (int)(uint)header;
        if (length > 0)
        {
            return false; // committed since: nothing holds the consumer up
        }

        long tail = Volatile.Read(ref *_tail); // acquire, after our private head
        CheckPosition("tail", tail);
        if (head > tail)
        {
            ThrowHeadAfterTail(head, tail);
        }

        if (tail - head > _capacity)
        {
            ThrowTailTooFarAhead(head, tail);
        }

        if (tail <= position)
        {
            return false; // nothing claimed
        }

        int room = _capacity - index;
        if (length < 0)
        {
            int type = (int)(header >> 32);
            if (!ClaimMarker.IsRecordMarker(type) || !_producers.IsMarkerOwnerDead(ClaimMarker.TagOfRecord(type)))
            {
                return false; // alive, unknown, or committing right now (the type is already the message's)
            }

            if (length < -room || -length < HeaderSize || Align(-length) > _maxRecordLength)
            {
                ThrowBadClaim(position, length, room);
            }

            *(int*)(record + TypeOffset) = Padding; // plain: published by the CAS below
            // Full fence CAS from the claimed length: the dead producer's record becomes padding.
            if (Interlocked.CompareExchange(ref *(int*)record, -length, length) != length)
            {
                return false;
            }

            // A zero header right after it may be the unwritten rest of that producer's batch (2f b).
            _local.DeadRecordEnd = position + Align(-length);
            _local.DeadRecordTag = ClaimMarker.TagOfRecord(type);
            return true;
        }

        // No header yet: the producer is between its CAS and its marker (2f, b). An ended
        // registration's intent counts only right after a record of it that we skipped.
        uint endedTag = position == _local.DeadRecordEnd ? _local.DeadRecordTag : ProducerTable.NoEndedTag;
        if (!_producers.TryFindDeadIntent((ulong)position, endedTag, out ulong intentEnd, out _)
            || Volatile.Read(ref *(ulong*)record) != 0) // acquire: a marker since cancels
        {
            return false;
        }

        long end = Math.Min((long)Math.Min(intentEnd, (ulong)tail), head + _capacity);
        if (end - position > room)
        {
            // The dead claim wrapped: its padding to the end of the lap first, then the rest from index 0.
            FillWithPadding(0, (int)(end - position - room));
            WritePadding(record, room);
        }
        else
        {
            FillWithPadding(index, (int)(end - position));
        }

        return true;
    }

    /// <summary>Re-reads the headers in [from, to) after the scan found one past them (Agrona's scan back).</summary>
    private bool StillZero(int from, int to)
    {
        for (int i = from; i < to; i += RingLayout.RecordAlignment)
        {
            if (Volatile.Read(ref *(int*)(_data + i)) != 0)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// Makes [index, index + gap) padding that a consumer accepts: one record when it reaches
    /// the end of the data area, otherwise pieces no longer than the longest record, the
    /// first (where the consumer looks) last.
    /// </summary>
    private void FillWithPadding(int index, int gap)
    {
        int first = index + gap == _capacity ? gap : Math.Min(gap, _maxRecordLength);
        for (int at = index + first; at < index + gap;)
        {
            int piece = Math.Min(index + gap - at, _maxRecordLength);
            WritePadding(_data + at, piece);
            at += piece;
        }

        WritePadding(_data + index, first);
    }

    [DoesNotReturn]
    private void ThrowBadClaim(long position, int length, int room)
        => throw Corrupted(new RingCorruptedException("claimed record length", position, $"{length} does not mark a record of {HeaderSize} to {Math.Min(room, _maxRecordLength)} bytes"));
}
