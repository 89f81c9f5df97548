using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using UintrIpc.Channels;
using UintrIpc.Memory;

namespace UintrIpc.Rings;

// The consumer, the same for both ring kinds: poll the length word at head (acquire),
// validate the record, hand it over, and after the batch announce the release (releasing),
// zero what was consumed and publish the new head (release; uintripc.h 2e, 2g).
internal sealed unsafe partial class RecordRingEngine
{
    /// <summary>Hands every committed message, up to <paramref name="limit"/>, to the handler; returns how many.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal int Read<THandler>(ref THandler handler, int limit)
        where THandler : struct, IRecordHandler, allows ref struct
    {
        ThrowIfConsumerNotReady();
        if (limit < 0)
        {
            ThrowNegativeLimit(limit);
        }

        // An empty ring (a consumer that keeps up finds it so more often than not) is answered
        // here, inline, without the loop's call: the header at head, acquire, as RecordAt loads
        // it (which validates it when there is one). Single-thread twin, an empty poll of the
        // harness's port: 4.1-4.3 -> 3.1-3.4 ns.
        long head = _local.ConsumerHead;
        if (Volatile.Read(ref *(int*)(_data + ((nint)_mask & (nint)head))) <= 0 || limit == 0)
        {
            RepublishHeadIfRewritten(head);
            return 0;
        }

        if (_local.ReadEnd != NotReading)
        {
            throw ReadFromHandler(); // a handler of this ring's Read reads it again (see NotReading)
        }

        // Per Read call, not per record: who may dispose meanwhile (ReadingThread). The thread
        // first, then ReadEnd with release: a Dispose that sees this ReadEnd sees this thread.
        _local.ReadThread = ProducerThreadCache.CurrentThread;
        Volatile.Write(ref _local.ReadEnd, head);
        int count;
        try
        {
            count = ReadRecords(ref handler, limit, head);
        }
        finally
        {
            // A handler (or a corrupted record) threw: ReadRecords did not get to its release, and
            // what was consumed, the handler's own record included, goes back to the producers here.
            long end = _local.ReadEnd;
            if (end != NotReading)
            {
                _local.ReadEnd = NotReading;
                if (end != head)
                {
                    Release(head, (int)(end - head));
                }
            }
        }

        return count;
    }

    /// <summary>
    /// The loop of <see cref="Read{THandler}"/>, at least one record waiting at
    /// <paramref name="head"/>: each record's end goes to <see cref="LocalState.ReadEnd"/>, where
    /// Read's finally gives bytes back up to when a handler or a corrupted record throws; after
    /// the loop the bytes read are released here and ReadEnd is reset, so a Read that returns makes
    /// one call (this), not two (Release was a second out-of-line call from the finally: about
    /// 1.8 ns of a non-empty Read's 8.2, design-notes "mrread").
    /// </summary>
    /// <remarks>
    /// Out of line, in a frame of its own, with no handler region: a handler that calls
    /// anything (a copy's Memmove) makes every value live across the loop need one of the five
    /// callee-saved registers, and inlined into a caller's loop, which holds its own values there,
    /// or with the finally's position as a local the finally reads from the stack, the JIT kept the
    /// position in memory, stored and reloaded per record on the loop's critical path (the
    /// position's dependence on the header it loads: see <see cref="RecordAt"/>). Here this, the
    /// handler, the position, the lap's end and the limit get those registers and the count is
    /// the value kept in memory (a store and a load per record, off the critical path); each
    /// record's end is stored to this object (one store, as the finally's local was written
    /// through before). Single-thread twin of the harness's consumer, ns per record, inlined with
    /// the finally's local -> here (C): 64 B 8.0 -> 6.8 (5.5), 8 B level (4.3). The release after
    /// the loop takes its start from the private head, not from <paramref name="head"/>: kept live
    /// across the loop, head took a register and the handler's reference went to the stack (a load
    /// and a store per record). The shape (data, mask, longest message: private copies, never
    /// re-read from shared memory) is read into locals once per Read, not from this object per
    /// record: with a handler that calls nothing (the harness's) two or three loads per record
    /// fewer, at most one value (the handler's reference or the longest message) then reloaded
    /// from the stack instead. Cross-core twin, p10 ns per record (C): 8 B 3.55 -> 3.40-3.46 (3.43),
    /// 64 B 4.99-5.05 -> 4.69-4.76 (4.79-4.80); design-notes "mrcons".
    /// </remarks>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private int ReadRecords<THandler>(ref THandler handler, int limit, long head)
        where THandler : struct, IRecordHandler, allows ref struct
    {
        long position = head;
        long last = head + _capacity;
        byte* data = _data;
        int mask = _mask;
        int maxMessageLength = _maxMessageLength;
        int read = 0;
        while (read != limit && position < last)
        {
            long aligned = RecordAt(new RecordShape(data, mask, maxMessageLength), position, last, out byte* record, out int type, out int length);
            if (aligned == 0)
            {
                break;
            }

            // Consumed before the handler runs: a handler that throws does not get the
            // same message again.
            position += aligned;
            _local.ReadEnd = position;
            if (type != Padding)
            {
                read++;
                // No length check: RecordAt checked HeaderSize <= length <= the room to the end of the data area.
                handler.Handle(type, MemoryMarshal.CreateReadOnlySpan(ref record[HeaderSize], length - HeaderSize));
            }
        }

        long start = _local.ConsumerHead; // == head (see remarks)
        if (position != start)
        {
            ReleaseInline(start, (int)(position - start), null, oneRecordInline: false);
        }

        _local.ReadEnd = NotReading;
        return read;
    }

    /// <summary>Copies the next message into <paramref name="destination"/>; false when there is none.</summary>
    /// <remarks>
    /// The common case, a ready consumer outside a Read with a message at head that fits (or none),
    /// runs here with no call at all: copy and zeroing inline (at most <see cref="InlinedBytes.InlineLimit"/>
    /// bytes), the release inlined. A call anywhere on it (a span copy's Memmove fallback, the
    /// finish of an interrupted release) made the JIT spill values live across it: eleven stack
    /// stores per message (now two; six callee-saved registers pushed either way), queued in the
    /// store buffer behind the zeroing's stores to lines the producer had just written. Everything else
    /// (disposed, an interrupted release, a read from a handler, padding at head, a message too
    /// long for the destination or for the inline copy) takes <see cref="TryReadGeneral"/>.
    /// In-process cross-core twin, 1 KiB records at 4 Ki slots, p10 ns per message, 6 of 6 alternated
    /// pairs: 58.3-60.1 -> 56.3-58.5. A payload of <see cref="FirstWordApartFrom"/> bytes or more is
    /// copied as its first word and then the rest, as the C consumer reads its stamp and copies the
    /// bytes after it: 58.0-58.9 -> 55.0-55.8, 6 of 6 (a C-like consumer in C# over the same ring
    /// 53-55; the caller reading its first word back from the destination, as the harness's checker
    /// does, is then served by a word store, not by the first line's 64-byte store: likely why).
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal bool TryRead(out int type, Span<byte> destination, out int length)
    {
        long head = _local.ConsumerHead;
        if (_disposed == 0 && _local.InterruptedRelease < 0 && _local.ReadEnd == NotReading)
        {
            long aligned = RecordAt(new RecordShape(_data, _mask, _maxMessageLength), head, head + _capacity, out byte* record, out int recordType, out int recordLength);
            if (aligned == 0)
            {
                RepublishHeadIfRewritten(head);
                type = 0;
                length = 0;
                return false;
            }

            // RecordAt checked HeaderSize <= length and aligned <= the room to the end of the data area.
            nuint payloadLength = (uint)(recordLength - HeaderSize);
            ref byte payload = ref record[HeaderSize];
            ref byte target = ref MemoryMarshal.GetReference(destination);
            if (recordType != Padding && payloadLength <= (uint)destination.Length && aligned <= InlinedBytes.InlineLimit
                && (nuint)Unsafe.ByteOffset(ref payload, ref target) >= payloadLength && (nuint)Unsafe.ByteOffset(ref target, ref payload) >= payloadLength)
            {
                if (payloadLength >= FirstWordApartFrom)
                {
                    Unsafe.WriteUnaligned(ref target, Unsafe.ReadUnaligned<long>(ref payload));
                    InlinedBytes.CopyInline(ref Unsafe.Add(ref payload, sizeof(long)), ref Unsafe.Add(ref target, sizeof(long)), payloadLength - sizeof(long));
                }
                else
                {
                    InlinedBytes.CopyInline(ref payload, ref target, payloadLength);
                }

                ReleaseInline(head, (int)aligned, record, oneRecordInline: true);
                type = recordType;
                length = (int)payloadLength;
                return true;
            }
        }

        return TryReadGeneral(out type, destination, out length);
    }

    /// <summary>
    /// Payloads from this length on are copied out by <see cref="TryRead"/> as a first word and the
    /// rest (see there). Measured at 1 KiB; at 256 B it lost 5 of 5 pairs (0.0-2.6 ns of 22), and
    /// 512 B is untried.
    /// </summary>
    private const int FirstWordApartFrom = 1024;

    /// <summary><see cref="TryRead"/> for all that its inline path leaves (see there): the checks, padding, long messages, throws.</summary>
    /// <remarks>Optimized from its first call: every message longer than the inline copy comes through here (HotPathTierTests).</remarks>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private bool TryReadGeneral(out int type, Span<byte> destination, out int length)
    {
        ThrowIfConsumerNotReady();
        if (_local.ReadEnd != NotReading)
        {
            throw ReadFromHandler();
        }

        return TryReadSlow(_local.ConsumerHead, out type, destination, out length);
    }

    /// <summary>The loop of <see cref="TryReadGeneral"/>: padding at head is released with the message after it; a message longer than <paramref name="destination"/> throws and stays.</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private bool TryReadSlow(long head, out int type, Span<byte> destination, out int length)
    {
        int consumed = 0;
        try
        {
            while (consumed < _capacity)
            {
                int aligned = NextRecord(head, consumed, out byte* record, out int recordType, out int recordLength);
                if (aligned == 0)
                {
                    break;
                }

                if (recordType == Padding)
                {
                    consumed += aligned;
                    continue;
                }

                int payloadLength = recordLength - HeaderSize;
                if (payloadLength > destination.Length)
                {
                    // The message stays in the ring (padding before it is released by finally).
                    ThrowDestinationTooSmall(payloadLength, destination.Length, nameof(destination));
                }

                InlinedBytes.CopyOut(new ReadOnlySpan<byte>(record + HeaderSize, payloadLength), destination);
                consumed += aligned;
                type = recordType;
                length = payloadLength;
                return true;
            }
        }
        finally
        {
            if (consumed != 0)
            {
                Release(head, consumed);
            }
        }

        type = 0;
        length = 0;
        return false;
    }

    /// <summary>
    /// Whether a committed message is waiting (padding before it is looked through, not
    /// consumed). Acquire loads, so it can re-check the ring after a consumer announced
    /// that it sleeps.
    /// </summary>
    internal bool CanRead => PeekPayloadLength() >= 0;

    /// <summary>
    /// The payload bytes of the next committed message, or -1 when none is waiting; consumes
    /// nothing (padding before it is looked through). Acquire loads, as <see cref="CanRead"/>.
    /// </summary>
    internal int PeekPayloadLength()
    {
        ThrowIfConsumerNotReady();
        long head = _local.ConsumerHead;
        int consumed = 0;
        while (consumed < _capacity)
        {
            int aligned = NextRecord(head, consumed, out _, out int type, out int length);
            if (aligned == 0)
            {
                return -1;
            }

            if (type != Padding)
            {
                return length - HeaderSize;
            }

            consumed += aligned;
        }

        return -1;
    }

    /// <summary>
    /// <see cref="CanRead"/> for a thread that watches the ring on the reading thread's behalf (a
    /// channel's async waiter): acquire loads only. The private positions, the release (2e), the
    /// finish of an interrupted one (2g) and the repair of a rewritten head are the reading
    /// thread's, which may be reading again when a watcher looks (a cancelled wait ends at once;
    /// its watcher looks once more): a watcher that loaded our head before a release and the
    /// shared head after it would otherwise put the shared head back. A shared head that is not
    /// ours counts as true (a spurious wake-up): the reading thread's next look publishes ours again.
    /// </summary>
    internal bool CanReadWhileWatching
    {
        get
        {
            ThrowIfDisposed();
            long head = _local.ConsumerHead;
            long last = head + _capacity;
            for (long position = head; position < last;)
            {
                long aligned = RecordAt(new RecordShape(_data, _mask, _maxMessageLength), position, last, out _, out int type, out _);
                if (aligned == 0)
                {
                    break;
                }

                if (type != Padding)
                {
                    return true;
                }

                position += aligned;
            }

            return Volatile.Read(ref *_head) != head; // acquire: only compared
        }
    }

    /// <summary><see cref="CanConsume"/> for a watching thread: acquire loads only (see <see cref="CanReadWhileWatching"/>).</summary>
    internal bool CanConsumeWhileWatching
    {
        get
        {
            ThrowIfDisposed();
            long head = _local.ConsumerHead;
            return RecordAt(new RecordShape(_data, _mask, _maxMessageLength), head, head + _capacity, out _, out _, out _) != 0;
        }
    }

    /// <summary>
    /// The managed thread id (<see cref="ProducerThreadCache.CurrentThread"/>: a thread static, where
    /// Environment.CurrentManagedThreadId is a call) of the thread inside a Read of this object, or 0
    /// when none is; polled by a Dispose on another thread (<see cref="Channels.ReadInProgress"/>).
    /// </summary>
    /// <remarks>
    /// ReadEnd (acquire) before ReadThread: Read stores its thread before its ReadEnd (release), so
    /// a ReadEnd seen set comes with that Read's thread or a later one's, never an earlier Read's
    /// thread or the initial 0. Two plain loads of a Read's stores in the other order could pair
    /// a new ReadEnd with the previous Read's thread: Dispose on that thread (outside any Read) was
    /// refused as a handler's, and before the first Read's thread was stored a 0 let Dispose go on
    /// while the Read ran.
    /// </remarks>
    internal int ReadingThread => Volatile.Read(ref _local.ReadEnd) != NotReading ? Volatile.Read(ref _local.ReadThread) : 0;

    /// <summary>This consumer's private head (uintripc.h 2c): after a read, the position just past the last record it consumed.</summary>
    internal long PrivateConsumerHead => _local.ConsumerHead;

    /// <summary>
    /// Whether the record at head is committed (a message, or padding to step over): something a
    /// read would consume. Acquire, like <see cref="CanRead"/>; a channel waiting for its end needs
    /// it, because padding alone (an aborted claim) is not readable but must be consumed.
    /// </summary>
    internal bool CanConsume
    {
        get
        {
            ThrowIfConsumerNotReady();
            return NextRecord(_local.ConsumerHead, 0, out _, out _, out _) != 0;
        }
    }

    /// <summary>
    /// Every consumer call starts here: disposed, or a release the previous consumer did not
    /// finish (it died while zeroing), which is finished first (uintripc.h 2g).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void ThrowIfConsumerNotReady()
    {
        ThrowIfDisposed();
        if (_local.InterruptedRelease >= 0)
        {
            FinishInterruptedRelease();
        }
    }

    /// <summary>
    /// Checks releasing (taken at attach) against head and tail, zeroes what the previous consumer
    /// released but did not zero, and publishes head = releasing (2g).
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void FinishInterruptedRelease()
    {
        long head = _local.InterruptedRelease;
        long releasing = _local.ConsumerHead;
        long tail = Volatile.Read(ref *_tail); // acquire, read after head (at attach)
        if ((releasing & (RingLayout.RecordAlignment - 1)) != 0 || releasing <= head || releasing > tail || releasing - head > _capacity)
        {
            throw Corrupted(new RingCorruptedException("releasing", releasing, $"a release in progress must end after the head {head}, at most at the tail {tail} and one capacity ({_capacity}) ahead, on a multiple of 8"));
        }

        _local.InterruptedRelease = -1;
        Zero(head, (int)(releasing - head));
        Volatile.Write(ref *_head, releasing); // release: the zeroes before the bytes are given back
    }

    /// <summary>
    /// Empty at our head, so every release is published and the shared head must be ours (only
    /// the consumer writes it, 2c): a peer that rewrote it would hold the producers back while we
    /// wait for them, so we publish ours again. The compare inline (a load of our own line per
    /// empty poll, as the slot ring's), the store out of line: the call on every empty poll cost
    /// about 0.4 ns of its 4.6 (single-thread twin, the harness's handler), and a consumer that
    /// keeps up polls an empty ring more often than it reads (cross-process, 8 B: 0.15-0.4 empty
    /// polls per message; C: 0.01). Acquire read.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void RepublishHeadIfRewritten(long head)
    {
        if (Volatile.Read(ref *_head) != head)
        {
            RepublishHead(head);
        }
    }

    /// <summary>Stores our head again (release, as in Release) unless a release the previous consumer left is still to finish (2g).</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void RepublishHead(long head)
    {
        if (_local.InterruptedRelease < 0)
        {
            Volatile.Write(ref *_head, head);
        }
    }

    /// <summary>
    /// Reads and validates the record <paramref name="consumed"/> bytes after
    /// <paramref name="head"/>. Returns the bytes it occupies, or 0 when it is not committed yet.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int NextRecord(long head, int consumed, out byte* record, out int type, out int length)
    {
        int aligned = (int)RecordAt(new RecordShape(_data, _mask, _maxMessageLength), head + consumed, head + _capacity, out record, out type, out length); // at most the capacity
        if (aligned == 0 && consumed == 0)
        {
            RepublishHeadIfRewritten(head);
        }

        return aligned;
    }

    /// <summary>
    /// The record at <paramref name="position"/> on the ring's <paramref name="shape"/>, checked
    /// to end by <paramref name="last"/> (one capacity after the head the read started at); 0
    /// when it is not committed yet.
    /// </summary>
    /// <remarks>
    /// In a reading loop the next position depends on this record's length, so the steps from
    /// position to header load to aligned length are the loop's critical path (each record's
    /// checks and handler run beside it): they are 64-bit here (the length sign-extended by its
    /// load), as the C consumer's, where 32-bit steps added a sign extension before the index and
    /// one before the position's add (single-thread twin of the harness's consumer, SPSC 8 B:
    /// 5.06 -> 4.32 ns per record, C 4.33).
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static long RecordAt(in RecordShape shape, long position, long last, out byte* record, out int type, out int length)
    {
        nint mask = shape.Mask;
        nint index = mask & (nint)position;
        record = shape.Data + index;
        // Acquire: pairs with the producer's release of the length, so type and payload are visible.
        long header = Volatile.Read(ref *(int*)record);
        length = (int)header;
        if (header <= 0)
        {
            type = 0;
            return 0;
        }

        type = *(int*)(record + TypeOffset); // plain: ordered by the acquire above
        // Every value is read once and checked before use (a peer may change the memory under us).
        nint room = mask + 1 - index; // a multiple of 8: align8(length) <= room when length <= room
        if (header < HeaderSize || header > room)
        {
            throw BadLength(position, length, (int)room);
        }

        long aligned = (header + (RingLayout.RecordAlignment - 1)) & -RingLayout.RecordAlignment;
        if (type >= 0)
        {
            if (length - HeaderSize > shape.MaxMessageLength)
            {
                throw RecordTooLong(position, length, shape.MaxMessageLength);
            }
        }
        else if (type != Padding)
        {
            throw BadType(position, type);
        }
        else if (aligned != room && aligned > Align(HeaderSize + shape.MaxMessageLength))
        {
            // Padding is either the rest of the lap or an aborted/unblocked claim (at most a longest record).
            throw BadPadding(position, length, (int)room, Align(HeaderSize + shape.MaxMessageLength));
        }

        if (aligned > last - position)
        {
            throw BatchOverrun(position, length, shape.Mask + 1 - (int)(last - position), shape.Mask + 1);
        }

        return aligned;
    }

    /// <summary>
    /// Gives consumed bytes back (2e): releasing first, so that a consumer that dies while zeroing
    /// leaves its successor the end of the batch (2g); then the zeroes; then head. Not inlined:
    /// a finally that calls it stays small enough for the JIT to clone (see Read).
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private void Release(long head, int consumed) => ReleaseInline(head, consumed, null, oneRecordInline: false);

    /// <summary>
    /// <see cref="Release"/>'s body. With <paramref name="oneRecordInline"/> (a constant at each call),
    /// <paramref name="consumed"/> bytes are the one record at <paramref name="record"/>, ending
    /// within the lap (RecordAt checked) and at most <see cref="InlinedBytes.InlineLimit"/>: its
    /// zeroing is then one inline clear without a call (<see cref="TryRead"/>'s inline path).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void ReleaseInline(long head, int consumed, byte* record, bool oneRecordInline)
    {
        long end = head + consumed;
        // Release: our reads of the batch are done. The store-store barrier keeps the zeroing
        // below from becoming visible before it (a successor must never see zeroed headers
        // without the releasing that covers them).
        Volatile.Write(ref *_releasing, end);
        Volatile.WriteBarrier();
        if (oneRecordInline)
        {
            InlinedBytes.ClearInline(record, (uint)consumed); // plain, as Zero's
        }
        else
        {
            Zero(head, consumed);
        }

        _local.ConsumerHead = end;
        Volatile.Write(ref *_head, end); // release: the zeroes (and our reads) before a producer reuses the bytes
    }

    /// <summary>Zeroes <paramref name="count"/> bytes from <paramref name="position"/> (plain: they are the consumer's until head moves).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Zero(long position, int count)
    {
        int index = (int)position & _mask;
        int first = Math.Min(count, _capacity - index);
        InlinedBytes.Clear(_data + index, first);
        if (count > first)
        {
            InlinedBytes.Clear(_data, count - first);
        }
    }

    /// <summary>
    /// <see cref="LocalState.ReadEnd"/> outside a Read. Inside one, its records are released only
    /// when it returns (its position is the loop's, in a register): a read from its handler would
    /// start at the same head, hand the records out again, and release bytes the outer Read
    /// releases once more when it ends, zeroing a record a producer may have written there since
    /// (the consumer then waits at a zero header for good). So such a read is refused.
    /// </summary>
    private const long NotReading = -1;

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static InvalidOperationException ReadFromHandler()
        => new("A handler of Read read from the same ring: its records are released only after Read returns. Read the next message after Read returns.");

    [DoesNotReturn]
    private static void ThrowNegativeLimit(int limit)
        => throw new ArgumentOutOfRangeException(nameof(limit), limit, "The limit must not be negative.");

    [DoesNotReturn]
    private static void ThrowDestinationTooSmall(int needed, int available, string paramName)
        => throw new ArgumentException($"The next message has {needed} bytes but the destination holds {available}; it was not consumed. Pass a buffer of MaxMessageLength bytes.", paramName);

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static RingCorruptedException BadLength(long position, int length, int room)
        => new RingCorruptedException("record length", position, $"{length} is not between {HeaderSize} and the {room} bytes left before the end of the data area");

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static RingCorruptedException RecordTooLong(long position, int length, int maxMessageLength)
        => new RingCorruptedException("record length", position, $"the payload of {length - HeaderSize} bytes exceeds the maximum message length {maxMessageLength}");

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static RingCorruptedException BadType(long position, int type)
        => new RingCorruptedException("record type", position, $"{type} is negative but not the padding type {Padding}");

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static RingCorruptedException BadPadding(long position, int length, int room, int maxRecordLength)
        => new RingCorruptedException("padding record", position, $"its length {length} neither fills the {room} bytes to the end nor fits a record of at most {maxRecordLength} bytes");

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static RingCorruptedException BatchOverrun(long position, int length, int consumed, int capacity)
        => new RingCorruptedException("record length", position, $"{length} runs past one capacity ({capacity}) of records after the head ({consumed} bytes consumed)");
}
