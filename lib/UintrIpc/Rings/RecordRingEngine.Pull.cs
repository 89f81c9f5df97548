using System.Runtime.CompilerServices;

namespace UintrIpc.Rings;

// The pull-style read (RecordCursor): begun here at the private head, stepped by the caller,
// released here as a whole, with Read's release.
internal sealed unsafe partial class RecordRingEngine
{
    /// <summary>
    /// Begins a read batch of up to <paramref name="limit"/> messages at the consumer's private
    /// head; false (and an inactive batch) when no record is committed there. Nothing is
    /// consumed until <see cref="CompleteBatch"/>.
    /// </summary>
    /// <remarks>
    /// The empty ring is answered inline as <see cref="Read{THandler}"/>'s is (the header at head,
    /// acquire; the shared head republished if a peer rewrote it). True means a record is
    /// committed at head: rarely only padding (an aborted claim), and then the batch yields no
    /// message and its completion releases the padding.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal bool TryBeginBatch(int limit, out RecordCursor cursor)
    {
        ThrowIfConsumerNotReady();
        if (limit < 0)
        {
            ThrowNegativeLimit(limit);
        }

        long head = _local.ConsumerHead;
        if (Volatile.Read(ref *(int*)(_data + ((nint)_mask & (nint)head))) <= 0 || limit == 0) // acquire, as RecordAt's
        {
            RepublishHeadIfRewritten(head);
            cursor = default;
            return false;
        }

        if (_local.ReadEnd != NotReading)
        {
            throw ReadFromHandler(); // begun by a handler of this ring's Read: its records are released after it
        }

        cursor = new RecordCursor(new RecordShape(_data, _mask, _maxMessageLength), head, limit);
        return true;
    }

    /// <summary>
    /// Releases <c>[start, position)</c> of a batch (<see cref="RecordCursor"/>'s fields, passed
    /// by value: a reference to the caller's cursor would keep the JIT from holding it in registers) of this engine (<see cref="ReleaseInline"/>:
    /// releasing, the zeroes, then head, as Read's release). Nothing when the batch took nothing.
    /// </summary>
    /// <exception cref="ObjectDisposedException">The engine is disposed.</exception>
    /// <exception cref="InvalidOperationException">The batch is another engine's, another read released since it began, or a handler of Read completes it.</exception>
    /// <exception cref="ArgumentException">The batch's position is not on a record boundary of its lap.</exception>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    internal void CompleteBatch(byte* batchData, long start, long position)
    {
        ThrowIfDisposed();
        if (batchData != _data)
        {
            throw new InvalidOperationException("The read batch belongs to another ring.");
        }

        if (_local.ReadEnd != NotReading)
        {
            throw ReadFromHandler(); // Read releases from the private head after its handler returns
        }

        if (start != _local.ConsumerHead)
        {
            throw new InvalidOperationException($"Another read released messages while this batch (from position {start}) was open (the consumer is at {_local.ConsumerHead}): nothing was released. Complete a batch before reading again.");
        }

        if (position < start || position - start > _capacity || (position & (RingLayout.RecordAlignment - 1)) != 0)
        {
            throw new ArgumentException($"The batch's position {position} is not a record boundary within one capacity ({_capacity}) after its start {start}.", nameof(position));
        }

        if (position != start)
        {
            ReleaseInline(start, (int)(position - start), null, oneRecordInline: false);
        }
    }
}
