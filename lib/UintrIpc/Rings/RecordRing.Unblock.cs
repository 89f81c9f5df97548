using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace UintrIpc.Rings;

// Recovery from a producer that died between claim and commit (Agrona's Unblock). Only the
// consumer calls it. Its stores race with the claimed record's producer if that producer is
// in fact alive, which is why it waits until the record has been stuck for a while and why
// callers must only use it when they believe the producer is dead.
internal sealed unsafe partial class RecordRing
{
    /// <summary>
    /// Turns the uncommitted record at head into padding once it has blocked the consumer
    /// for at least <paramref name="blockedFor"/>. True when it did.
    /// </summary>
    internal bool TryUnblock(TimeSpan blockedFor)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(blockedFor, TimeSpan.Zero);
        ThrowIfDisposed();
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
            // barrier), and a consumer zeroes consumed bytes last to first (Release), so the first
            // non-zero word after a zero header is a header.
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

    [DoesNotReturn, MethodImpl(MethodImplOptions.NoInlining)]
    private void ThrowBadClaim(long position, int length, int room)
        => throw new RingCorruptedException("claimed record length", position, $"{length} does not mark a record of {HeaderSize} to {Math.Min(room, _maxRecordLength)} bytes");
}
