using UintrIpc.Channels;

namespace UintrIpc.Rings;

// A writer's wait for room (IpcMessageWriter.WaitToWrite): whether a claim of some bytes can go
// ahead now, from the shared positions alone. It writes nothing and keeps no cache, so it sees
// the consumer's progress at every look; the claim that follows checks everything again.
internal sealed unsafe partial class RecordRingEngine
{
    /// <summary>
    /// Whether <see cref="TryClaimBatch(int, IRecordBatchSink?, out RecordBatch)"/> of
    /// <paramref name="bytes"/> (or one record of that many bytes) can go ahead now: the range fits
    /// before the end of the data area, or after padding to it from index 0 (uintripc.h 2e). A range
    /// that never fits from this tail (more than half the ring) goes ahead once its padding fits: the
    /// claim then pads, returns false, and the range fits from the next lap's start.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="bytes"/> is not between 8 and the capacity.</exception>
    /// <exception cref="RingCorruptedException">The shared positions are impossible.</exception>
    internal bool HasRoomFor(int bytes)
    {
        int aligned = CheckBatchBytes(bytes);
        // Acquire both, head first (uintripc.h section 3: the consumer releases head, producers
        // publish the tail): the head only grows, so a tail read after it is never behind it
        // unless the positions are corrupt.
        long head = Volatile.Read(ref *_head);
        long tail = Volatile.Read(ref *_tail);
        CheckPosition("head", head);
        CheckPosition("tail", tail);
        if (head > tail)
        {
            ThrowHeadAfterTail(head, tail);
        }

        long used = tail - head; // more than the capacity: the consumer freed and producers refilled between our loads, so no room
        int toEnd = _capacity - ((int)tail & _mask);
        long needed = aligned <= toEnd ? aligned : toEnd + aligned <= _capacity ? toEnd + aligned : toEnd;
        return used + needed <= _capacity;
    }
}
