using System.Buffers.Binary;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using UintrIpc.Channels;
using UintrIpc.Memory;
using UintrIpc.Rings;

namespace UintrIpc.Bench.Workloads.Throughput;

// The consumer ends, one struct per transport and form (one message per call, or a batch
// handed over in place with one head release). Each copies the payload out into a heap buffer
// (the C consumer copies into a local buffer, 64-byte aligned as every consumer's buffer here but
// the streams'), so larger messages cost a real copy on both sides, and hands the header to
// the checker; the record Read consumers, as the C record consumer, read the header in place
// and copy the bytes after it.

/// <summary>SlotRing&lt;T&gt;.TryRead (SPSC): one element per call, head released after each (as c-slotring-tput-sN).</summary>
internal readonly struct SpscSlotConsumer<T>(SlotRing<T> ring) : IConsumerPort where T : unmanaged
{
    private readonly AlignedElements<T> _sink = new(1);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Poll(ref MessageChecker checker)
    {
        ref T item = ref _sink.First;
        if (!ring.TryRead(out item))
        {
            return 0;
        }

        checker.Accept(Unsafe.As<T, long>(ref item));
        return 1;
    }
}

/// <summary>SlotRing&lt;T&gt;.Drain (SPSC) of up to <see cref="Batch.Size"/> elements in place (head released per call; the C batched consumer per 64).</summary>
internal readonly struct SpscSlotDrainConsumer<T>(SlotRing<T> ring) : IConsumerPort where T : unmanaged
{
    private readonly SlotCopyHandler<T>.Sink _sink = new();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Poll(ref MessageChecker checker)
    {
        long warmup = checker.WarmupMessages;
        var handler = new SlotCopyHandler<T>(_sink, ref checker);
        int drained = ring.Drain(ref handler, Batch.Size);
        checker.CountMeasured(drained, warmup); // once per drain, not per message (see MessageChecker.Check)
        return drained;
    }
}

/// <summary>SlotRing&lt;T&gt;.Drain (MPSC) of up to <see cref="Batch.Size"/> elements in place.</summary>
internal readonly struct MpscSlotDrainConsumer<T>(SlotRing<T> ring) : IConsumerPort where T : unmanaged
{
    private readonly SlotCopyHandler<T>.Sink _sink = new();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Poll(ref MessageChecker checker)
    {
        long warmup = checker.WarmupMessages;
        var handler = new SlotCopyHandler<T>(_sink, ref checker);
        int drained = ring.Drain(ref handler, Batch.Size);
        checker.CountMeasured(drained, warmup); // once per drain, not per message (see MessageChecker.Check)
        return drained;
    }
}

/// <summary>SlotRing&lt;T&gt;.TryRead (MPSC).</summary>
internal readonly struct MpscSlotConsumer<T>(SlotRing<T> ring) : IConsumerPort where T : unmanaged
{
    private readonly AlignedElements<T> _sink = new(1);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Poll(ref MessageChecker checker)
    {
        ref T item = ref _sink.First;
        if (!ring.TryRead(out item))
        {
            return 0;
        }

        checker.Accept(Unsafe.As<T, long>(ref item));
        return 1;
    }
}

/// <summary>Copies each drained element out and checks its header (a ref struct: it holds the consumer's checker by reference); the port counts the drained messages after the drain.</summary>
internal readonly ref struct SlotCopyHandler<T>(SlotCopyHandler<T>.Sink sink, ref MessageChecker checker) : ISlotHandler<T> where T : unmanaged
{
    private readonly ref MessageChecker _checker = ref checker;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Handle(in T item)
    {
        if (Unsafe.SizeOf<T>() > sizeof(long))
        {
            // As the ring's TryRead copies; an 8-byte element is its header alone, which the C
            // consumer reads and does not copy (it copies bytes 8.. when there are more).
            ElementCopy.CopyOut(ref sink.Last, in item);
        }

        _checker.Check(Unsafe.As<T, long>(ref Unsafe.AsRef(in item)));
    }

    /// <summary>Where the copies go: memory the copy cannot be optimised away into, 64-byte aligned as the C consumer's.</summary>
    internal sealed class Sink
    {
        private readonly AlignedElements<T> _last = new(1);

        public ref T Last
        {
            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            get => ref _last.First;
        }
    }
}

/// <summary>RecordRing.TryReadBatch of up to <see cref="Batch.Size"/> records in place (zeroed and head released per batch, as C batched), every size (see <see cref="RecordReads.Poll{TCount}"/>); measured messages counted once per batch.</summary>
internal readonly struct SpscRecordReadConsumer(RecordRing ring, int size) : IConsumerPort
{
    private readonly AlignedElements<byte> _sink = new(size);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Poll(ref MessageChecker checker) => RecordReads.Poll<CountPerRead>(ring, _sink, ref checker);
}

/// <summary>RecordRing.TryReadBatch of up to <see cref="Batch.Size"/> records in place; every record checked as the C MPSC consumer checks it, measured messages counted per record in a local (see <see cref="ManyPerRecord"/>).</summary>
internal readonly struct MpscRecordReadConsumer(RecordRing ring, int size) : IConsumerPort
{
    private readonly AlignedElements<byte> _sink = new(size);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Poll(ref MessageChecker checker) => RecordReads.Poll<ManyPerRecord>(ring, _sink, ref checker);
}

/// <summary>
/// The record ports' one poll, a pull batch as C's consumer loop (RecordRing.TryReadBatch, then
/// TryNext in this loop, then one release): each record's length and stamp checked and the rest
/// of its payload copied out here, with the loop's state (the batch's next record and count, the
/// single producer's next sequence, the MPSC count of measured messages) in this frame's locals;
/// the checker's counters are stored once per batch. Read with a handler
/// (<see cref="PollWithHandler{TCount}"/>) stores the record's end, the handler's sequence through
/// its reference and a spill per record; the batch's loop, JitDisasm (SPSC 8 B), none since spsc8,
/// and SPSC 8 B runs it too since its producer appends runs (see <see cref="Poll{TCount}"/>; design-notes "rstore", "pull", "spsc8", "perf43").
/// </summary>
internal static class RecordReads
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Poll<TCount>(RecordRing ring, AlignedElements<byte> sink, ref MessageChecker checker)
        where TCount : struct, IRecordCount
    {
        if (sink.Length != sizeof(long))
        {
            if (StampAndRestUpTo256.Fits(sink))
            {
                return PollBatch<TCount, StampAndRestUpTo256>(ring, new StampAndRestUpTo256(sink), ref checker);
            }

            return PollBatch<TCount, StampAndRest>(ring, new StampAndRest(sink), ref checker);
        }

        // The batch's loop at 8 B too, now that the SPSC 8 B producer appends runs: spsc8 found it the
        // faster consumer (no store per record; single-thread twin 3.93-4.05 -> 2.80-2.87 ns per
        // record; cross-core with a run producer 6.15-7.50 against Read's 8.50-12.50) but kept Read
        // because with a producer that appended per record the pair ran slower (design-notes "spsc8", "perf43").
        return PollBatch<TCount, StampOnly>(ring, default, ref checker);
    }

    /// <remarks>
    /// Out of line, one loop per instantiation: inlined into the consumer's loop with its three
    /// loops (and, through <see cref="Poll{TCount}"/>, both payload forms: six), the JIT kept the
    /// batch's shape, position and the header on the stack (a 616-byte frame, loads and stores per
    /// record; single-thread twin, SPSC 8 B: 7.7 ns per record against Read's 3.9).
    /// </remarks>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)] // optimized from its first call, as the ring's ReadRecords
    private static int PollBatch<TCount, TPayload>(RecordRing ring, TPayload payloads, ref MessageChecker checker)
        where TCount : struct, IRecordCount
        where TPayload : struct, IRecordPayload, allows ref struct
    {
        if (!ring.TryReadBatch(Batch.Size, out RecordCursor batch))
        {
            return 0;
        }

        ReadOnlySpan<byte> payload;
        if (TCount.PerRecord)
        {
            long measured = 0;
            while (batch.TryNext(out _, out payload))
            {
                if (checker.CheckFromMany(payloads.Stamp(payload), measured))
                {
                    measured++;
                }
            }

            checker.AddMeasured(measured);
        }
        else if (checker.SingleProducer)
        {
            long warmup = checker.WarmupMessages;
            long first = checker.NextSingle;
            long next = first;
            while (batch.TryNext(out _, out payload))
            {
                checker.CheckSingle(payloads.Stamp(payload), next);
                next++;
            }

            checker.NextSingle = next;
            int taken = (int)(next - first); // the batch's Count, from the sequence: the batch's limit is then not live in the loop
            checker.CountMeasured(taken, warmup); // once per batch, as the slot drains (see MessageChecker.Check)
            ring.CompleteBatch(batch);
            return taken;
        }
        else
        {
            return PollChecked(ring, batch, payloads, ref checker);
        }

        ring.CompleteBatch(batch);
        return batch.Count;
    }

    /// <summary>An SPSC port's batch with several producers (not a harness row): every record through <see cref="MessageChecker.Check"/>, out of line.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static int PollChecked<TPayload>(RecordRing ring, RecordCursor batch, TPayload payloads, ref MessageChecker checker)
        where TPayload : struct, IRecordPayload, allows ref struct
    {
        long warmup = checker.WarmupMessages;
        while (batch.TryNext(out _, out ReadOnlySpan<byte> payload))
        {
            checker.Check(payloads.Stamp(payload));
        }

        checker.CountMeasured(batch.Count, warmup);
        ring.CompleteBatch(batch);
        return batch.Count;
    }

    /// <summary>RecordRing.Read with the stamp handler at 8 B, the copying one above: no port's since perf43 (the SPSC 8 B port's before, see <see cref="Poll{TCount}"/>), kept for the twins' comparison of Read with the batch loop.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int PollWithHandler<TCount>(RecordRing ring, AlignedElements<byte> sink, ref MessageChecker checker)
        where TCount : struct, IRecordCount
    {
        long warmup = checker.WarmupMessages;
        int read;
        if (sink.Length == sizeof(long))
        {
            var stamps = new RecordStampHandler<TCount>(ref checker); // see RecordStampHandler
            read = ring.Read(ref stamps, Batch.Size);
        }
        else
        {
            var handler = new RecordCopyHandler<TCount>(sink, ref checker);
            read = ring.Read(ref handler, Batch.Size);
        }

        if (!TCount.PerRecord)
        {
            checker.CountMeasured(read, warmup); // once per Read, as the slot drains (see MessageChecker.Check)
        }

        return read;
    }
}

/// <summary>What a record port does with a payload before the check: its length checked, its stamp read, the rest copied out.</summary>
internal interface IRecordPayload
{
    /// <summary>Checks the payload's length, copies what follows the stamp, and returns the stamp.</summary>
    long Stamp(ReadOnlySpan<byte> payload);
}

/// <summary>8-byte messages: each is its stamp alone, read in place and not copied, as the C consumer does; the length compared with a constant.</summary>
internal readonly struct StampOnly : IRecordPayload
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public long Stamp(ReadOnlySpan<byte> payload)
    {
        RecordLength.Check(payload.Length, sizeof(long));
        return Unsafe.ReadUnaligned<long>(ref MemoryMarshal.GetReference(payload)); // 8 bytes: checked above
    }
}

/// <summary>Longer messages: the stamp read in place, the rest copied into the sink with no call on any path (see <see cref="RecordCopyHandler{TCount}"/>).</summary>
internal readonly ref struct StampAndRest : IRecordPayload
{
    /// <summary>Where the bytes after the stamp go (the sink's, sliced once per poll).</summary>
    private readonly Span<byte> _rest;
    /// <summary>The one length every message has (>= 8, its stamp).</summary>
    private readonly int _length;

    public StampAndRest(AlignedElements<byte> sink)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(sink.Length, sizeof(long)); // every message has its stamp
        _rest = sink.All[sizeof(long)..];
        _length = sink.Length;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public long Stamp(ReadOnlySpan<byte> payload)
    {
        RecordLength.Check(payload.Length, _length);
        ref byte stamp = ref MemoryMarshal.GetReference(payload);
        InlinedBytes.CopyInline(ref Unsafe.Add(ref stamp, sizeof(long)), ref MemoryMarshal.GetReference(_rest), (uint)_rest.Length);
        return Unsafe.ReadUnaligned<long>(ref stamp);
    }
}

/// <summary>
/// <see cref="StampAndRest"/> for a rest of 129 to 256 bytes (the 256 B rows' 248) where there are
/// 512-bit vectors: two vectors from the start and two ending at the end, the four loads before
/// the stores, no loop (glibc's memcpy shape for this length). <see cref="InlinedBytes.CopyInline"/>'s
/// line-aligned loop (kept for copies into the ring) cost this loop the destination's offset, a
/// loop of two and frame stores with their reloads per record (JitDisasm of PollBatch at 256 B);
/// into the private sink, a store across two lines crosses no core. In-process twin, 256 B, p10
/// ns per record against the loop's: one thread 6.87 / 7.61 and 5.15 / 5.36, cross-core 6.16 /
/// 6.36 and 9.60 / 10.00 (design-notes "rec44").
/// </summary>
internal readonly ref struct StampAndRestUpTo256 : IRecordPayload
{
    private const int Vector = 64; // Vector512<byte>.Count
    private readonly ref byte _rest;
    private readonly nuint _restLength;
    private readonly int _length;

    public StampAndRestUpTo256(AlignedElements<byte> sink)
    {
        if (!Fits(sink))
        {
            throw new ArgumentOutOfRangeException(nameof(sink), sink.Length, "Needs a message of 137 to 264 bytes and 512-bit vectors; use StampAndRest.");
        }

        _rest = ref sink.All[sizeof(long)];
        _restLength = (nuint)(sink.Length - sizeof(long));
        _length = sink.Length;
    }

    /// <summary>Whether a message of the sink's length has 129 to 256 bytes after its stamp, and there are 512-bit vectors.</summary>
    public static bool Fits(AlignedElements<byte> sink)
        => Vector512.IsHardwareAccelerated && sink.Length - sizeof(long) is > 2 * Vector and <= 4 * Vector;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public long Stamp(ReadOnlySpan<byte> payload)
    {
        RecordLength.Check(payload.Length, _length); // so the payload holds the stamp and _restLength more bytes
        ref byte stamp = ref MemoryMarshal.GetReference(payload);
        ref byte source = ref Unsafe.Add(ref stamp, sizeof(long));
        nuint n = _restLength;
        Vector512<byte> a = Vector512.LoadUnsafe(ref source);
        Vector512<byte> b = Vector512.LoadUnsafe(ref source, Vector);
        Vector512<byte> c = Vector512.LoadUnsafe(ref source, n - (2 * Vector));
        Vector512<byte> d = Vector512.LoadUnsafe(ref source, n - Vector);
        a.StoreUnsafe(ref _rest);
        b.StoreUnsafe(ref _rest, Vector);
        c.StoreUnsafe(ref _rest, n - (2 * Vector));
        d.StoreUnsafe(ref _rest, n - Vector);
        return Unsafe.ReadUnaligned<long>(ref stamp);
    }
}

/// <summary>How a record handler counts measured messages: in <see cref="MessageChecker.Accept"/> per record, or once per Read by the port.</summary>
internal interface IRecordCount
{
    /// <summary>True: the handler counts each record; false: it only checks, and the port counts the Read's records after it.</summary>
    static abstract bool PerRecord { get; }

    /// <summary>Checks one record's stamp (and counts it when <see cref="PerRecord"/>).</summary>
    static abstract void Take(ref MessageChecker checker, long header);
}

/// <summary>
/// The MPSC port's: checked by the stamp's producer whatever the number of producers, as the C
/// MPSC consumer (`stamp_accept`), and counted per record (a load and a store of Measured per
/// record, in memory: the checker is held by reference). Counting once per Read cost the MPSC
/// port at 8 B in the twins (design-notes "harness" and "mpsccheck").
/// </summary>
internal readonly struct ManyPerRecord : IRecordCount
{
    public static bool PerRecord => true;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Take(ref MessageChecker checker, long header) => checker.AcceptFromMany(header);
}

/// <summary>
/// Checked per record, counted once per Read (as the slot drains): the SPSC port's. Its one
/// producer sends its warm-up before its measured messages, so no warm-up record follows a
/// measured one in a Read (<see cref="MessageChecker.WarmupInSpan"/> stays exact).
/// </summary>
internal readonly struct CountPerRead : IRecordCount
{
    public static bool PerRecord => false;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Take(ref MessageChecker checker, long header) => checker.Check(header);
}

/// <summary>RecordRing.TryRead: one record copied out, zeroed and head released per message (as C per message).</summary>
internal readonly struct SpscRecordConsumer(RecordRing ring, int size) : IConsumerPort
{
    private readonly AlignedElements<byte> _sink = new(size);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Poll(ref MessageChecker checker)
    {
        if (!ring.TryRead(out _, _sink.All, out int length))
        {
            return 0;
        }

        RecordLength.Check(length, _sink.Length);
        checker.Accept(BinaryPrimitives.ReadInt64LittleEndian(_sink.All));
        return 1;
    }
}

/// <summary>RecordRing.TryRead: one record per call.</summary>
internal readonly struct MpscRecordConsumer(RecordRing ring, int size) : IConsumerPort
{
    private readonly AlignedElements<byte> _sink = new(size);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Poll(ref MessageChecker checker)
    {
        if (!ring.TryRead(out _, _sink.All, out int length))
        {
            return 0;
        }

        RecordLength.Check(length, _sink.Length);
        checker.AcceptFromMany(BinaryPrimitives.ReadInt64LittleEndian(_sink.All)); // as the MPSC Read port
        return 1;
    }
}

/// <summary>
/// Checks each record's length and header and copies the rest of its payload out (a ref struct:
/// it holds the consumer's checker by reference, as the slot drain's handler does). By value, the
/// checker was copied into the handler and back on every read, also on every empty poll (eight
/// fields each way, two with write barriers): a consumer that keeps up polls an empty ring more
/// often than it reads a message (single-thread twin: an empty poll 6.0 -> 5.0 ns; reads of 64
/// records level; the consumer loop 3484 -> 1991 bytes of code).
/// </summary>
internal readonly ref struct RecordCopyHandler<TCount> : IRecordHandler
    where TCount : struct, IRecordCount
{
    private readonly ref MessageChecker _checker;
    /// <summary>Where the bytes after the stamp go (the sink's, sliced once per read, not per record).</summary>
    private readonly Span<byte> _rest;
    /// <summary>The one length every message has (>= 8, its stamp): one compare per record, as C's `length != es`.</summary>
    private readonly int _length;

    public RecordCopyHandler(AlignedElements<byte> sink, ref MessageChecker checker)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(sink.Length, sizeof(long)); // every message has its stamp
        _checker = ref checker;
        _rest = sink.All[sizeof(long)..];
        _length = sink.Length;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Handle(int type, ReadOnlySpan<byte> payload)
    {
        // The length compared with a value the handler holds (C: with es, a register), not
        // with the sink's field, and the stamp and the rest taken without further bounds
        // checks: the length is _length >= 8.
        RecordLength.Check(payload.Length, _length);
        ref byte stamp = ref MemoryMarshal.GetReference(payload);
        // As the C consumer: the stamp read from the record, the rest (if any) copied out.
        TCount.Take(ref _checker, Unsafe.ReadUnaligned<long>(ref stamp));
        if (_rest.Length != 0)
        {
            // The copy with no call on any path (C: memcpy of length - 8 bytes, a call): the span
            // copy's Memmove fallback, never taken, made the JIT keep the read loop's count on the
            // stack (a store and a load per record) and cost its limit and overlap checks; the
            // ring's record and the heap sink never overlap, and CopyInline copies any length (its
            // limit is where it stops being the faster copy: 4 KiB with 512-bit vectors, the
            // harness's longest message). Twin, p10 ns per record: st 64 B 4.76 -> 4.33 (C 4.74),
            // x2 5.38-5.51 -> 5.01-5.03 (C 4.79-4.80), st 256 B 8.26-8.31 -> 7.84-7.91 (mrcons).
            InlinedBytes.CopyInline(ref Unsafe.Add(ref stamp, sizeof(long)), ref MemoryMarshal.GetReference(_rest), (uint)_rest.Length);
        }
    }

}

/// <summary>The one length every message of a run has: anything else is a bad record.</summary>
internal static class RecordLength
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Check(int actual, int expected)
    {
        if (actual != expected)
        {
            throw BadLength(actual, expected);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static InvalidDataException BadLength(int actual, int expected) => new InvalidDataException($"a record of {actual} bytes, expected {expected}");
}

/// <summary>
/// The record handler of 8-byte messages: each is its stamp alone, checked and not copied, as
/// the C consumer does (it copies bytes 8.. when there are more). Its own type, not a branch
/// in <see cref="RecordCopyHandler{TCount}"/>: its length is a constant (the check compares with 8, and no
/// copy's size dispatch is in the loop). It was made when the copy could call Memmove, and a call
/// anywhere in the ring's read loop made the JIT keep the loop's values on the stack (the copy
/// calls nothing since mrcons).
/// </summary>
internal readonly ref struct RecordStampHandler<TCount>(ref MessageChecker checker) : IRecordHandler
    where TCount : struct, IRecordCount
{
    private readonly ref MessageChecker _checker = ref checker;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Handle(int type, ReadOnlySpan<byte> payload)
    {
        RecordLength.Check(payload.Length, sizeof(long));
        TCount.Take(ref _checker, Unsafe.ReadUnaligned<long>(ref MemoryMarshal.GetReference(payload))); // 8 bytes: checked above
    }
}

/// <summary>A blocking ReadExactly of one message (anonymous pipe).</summary>
internal readonly struct StreamConsumer(Stream stream, int size) : IConsumerPort
{
    private readonly byte[] _sink = new byte[size];

    public int Poll(ref MessageChecker checker)
    {
        stream.ReadExactly(_sink);
        checker.Accept(BinaryPrimitives.ReadInt64LittleEndian(_sink));
        return 1;
    }
}

/// <summary>A blocking receive of exactly one message (Unix stream socket).</summary>
internal readonly struct SocketConsumer(Socket socket, int size) : IConsumerPort
{
    private readonly byte[] _sink = new byte[size];

    public int Poll(ref MessageChecker checker)
    {
        SocketIo.ReceiveExactly(socket, _sink);
        checker.Accept(BinaryPrimitives.ReadInt64LittleEndian(_sink));
        return 1;
    }
}
