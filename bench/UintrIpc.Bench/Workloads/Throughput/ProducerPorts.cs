using System.Buffers.Binary;
using System.Diagnostics;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using UintrIpc.Channels;
using UintrIpc.Memory;
using UintrIpc.Rings;

namespace UintrIpc.Bench.Workloads.Throughput;

// The producer ends, one struct per transport and form. The single-message ring producers
// claim a slot or record, copy the message from a source buffer into it and stamp the header
// in place, then publish: the C producer does the same (stamp into the slot, memcpy of the
// rest). Stamping the source buffer and then copying it would add a store-forwarding stall
// (an 8-byte store read back by a wide load) that belongs to the harness, not to the ring.
// Record payloads are copied with the library's InlinedBytes (vector code inlined here), not
// Span.CopyTo: CoreLib's Memmove runs precompiled code until tiered compilation replaces it,
// which a short warm-up does not always see, while the C baseline's memcpy is compiled code.
// Slot elements are copied with the library's ElementCopy (the ring's own TryWrite copy): a
// struct assignment above 128 B (256 B with 512-bit vectors) calls the runtime's copy helper,
// and above 2 KiB glibc through a GC transition, where the C producer calls memcpy directly;
// ElementCopy copies those elements inline instead.
// The slot producers' source elements are 64-byte aligned, as the C producer's source buffer
// (AlignedElements). The batched slot producers claim a batch in place (SPSC: the tail stored once
// per batch, as the C batched producer; MPSC: one CAS) and copy + stamp each element from one
// source, as the C ones do. The batched record producers claim a range for
// up to RecordBatch.MaxRecords records with TryClaimBatch, append each in place (copy + stamp)
// and commit the range with one tail store (SPSC) or the one CAS that claimed it (MPSC); the C
// batched record producer does the same (rring_claim_batch, RECORD_BATCH_MAX).

/// <summary>SlotRing&lt;T&gt;.TryClaim (SPSC; MPSC: a CAS on tail, the ring knows), copy + stamp in place, Publish.</summary>
internal readonly struct SlotProducer<T>(SlotRing<T> ring) : IProducerPort where T : unmanaged
{
    private readonly AlignedElements<T> _source = new(1);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int TryWrite(int producer, long firstSequence, int max, bool warm)
    {
        if (!ring.TryClaim(out SlotClaim<T> claim))
        {
            return 0;
        }

        SlotPayload.Fill(ref claim.Item, in _source.First, MessageHeader.Make(producer, firstSequence, warm));
        claim.Publish();
        return 1;
    }
}

/// <summary>
/// SlotRing&lt;T&gt;.TryClaim (SPSC or MPSC) of up to <see cref="Batch.Size"/> slots, each copied +
/// stamped in place from one source element, one Publish: what the C batched producers do (SPSC:
/// ring_claim_batch, stamp and memcpy into each slot, then ring_publish_batch: the sequences and the
/// tail once the last is written, as Publish; MPSC: one CAS for the batch, then each slot's element
/// and its sequence, one slot after the other), now that such a batch stores no claimed markers. The SPSC
/// producer used to stamp a buffer of 64 elements and hand it to TryWrite(span): at 4 KiB that
/// source is 256 KiB, read from L2 where the C producer's one element stays in L1.
/// </summary>
internal readonly struct SlotBatchProducer<T>(SlotRing<T> ring) : IProducerPort where T : unmanaged
{
    private readonly AlignedElements<T> _source = new(1);

    // Not inlined into the loop that calls it, as RecordBatchProducer: the batch's loop keeps its
    // own values in registers.
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    public int TryWrite(int producer, long firstSequence, int max, bool warm)
    {
        if (!ring.TryClaim(Math.Min(max, Batch.Size), out SlotBatch<T> batch))
        {
            return 0;
        }

        long header = MessageHeader.Make(producer, firstSequence, warm); // + i: the sequence is the low bits
        ref T source = ref _source.First; // once: the loop's stores to the slots could alias the field
        for (int i = 0; i < batch.Count; i++)
        {
            SlotPayload.Fill(ref batch[i], in source, header + i);
        }

        batch.Publish();
        return batch.Count;
    }
}

/// <summary>RecordRing.TryClaim, copy + stamp in place, Commit.</summary>
internal readonly struct SpscRecordProducer(RecordRing ring, int size) : IProducerPort
{
    private readonly AlignedElements<byte> _payload = RecordPayload.Source(size);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int TryWrite(int producer, long firstSequence, int max, bool warm)
    {
        if (!ring.TryClaim(0, _payload.Length, out RecordClaim claim))
        {
            return 0;
        }

        RecordPayload.Fill(_payload.All, claim.Payload, MessageHeader.Make(producer, firstSequence, warm));
        claim.Commit();
        return 1;
    }

    internal static byte[] Payload(int size)
    {
        var payload = new byte[size];
        payload.AsSpan().Fill(0x5a);
        return payload;
    }
}

/// <summary>RecordRing.TryClaim, copy + stamp in place, Commit.</summary>
internal readonly struct MpscRecordProducer(RecordRing ring, int size) : IProducerPort
{
    private readonly AlignedElements<byte> _payload = RecordPayload.Source(size);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int TryWrite(int producer, long firstSequence, int max, bool warm)
    {
        if (!ring.TryClaim(0, _payload.Length, out RecordClaim claim))
        {
            return 0;
        }

        RecordPayload.Fill(_payload.All, claim.Payload, MessageHeader.Make(producer, firstSequence, warm));
        claim.Commit();
        return 1;
    }
}

/// <summary>
/// RecordRing.TryClaimBatch of up to <see cref="RecordBatch.MaxRecords"/> records (SPSC or MPSC),
/// each appended, copied + stamped in place, then one Commit; 8-byte messages appended as one run
/// (the stamp alone per record, as C's producer at 8 B).
/// </summary>
internal readonly struct RecordBatchProducer(RecordRing ring, int size) : IProducerPort
{
    private readonly AlignedElements<byte> _payload = RecordPayload.Source(size);
    private readonly int _recordBytes = RecordPayload.RecordBytes(size);

    // Not inlined into the loop that calls it (the C producer's loop is inlined): inside that
    // large method the JIT kept the loop counter, the payload span and the source on the stack,
    // several stores per record that a user's own batch-filling method would not have.
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    public int TryWrite(int producer, long firstSequence, int max, bool warm)
    {
        int n = Math.Min(max, RecordBatch.MaxRecords);
        if (!ring.TryClaimBatch(n * _recordBytes, out RecordBatch batch))
        {
            return 0;
        }

        ReadOnlySpan<byte> source = _payload.All;
        long header = MessageHeader.Make(producer, firstSequence, warm); // + i: the sequence is the low bits
        if (source.Length == sizeof(long))
        {
            // The stamp alone, as the C producer stores it at 8 B, into records appended as one run:
            // C's batch is one length (rring_append does nothing in a short range, rring_commit_batch
            // takes the length), and the run is the library's form of it, its checks once per batch.
            // TryAppend per record cost about 40 instructions, 10 of them loads of the batch's fields
            // from the frame (the batch is address-exposed), against C's 6 (design-notes "perf43").
            if (!batch.TryAppend(0, sizeof(long), n, out RecordRun run))
            {
                throw NoRoom(0, n);
            }

            for (int i = 0; i < run.Count; i++)
            {
                Unsafe.WriteUnaligned(ref MemoryMarshal.GetReference(run[i]), header + i); // 8 bytes: the run's length
            }
        }
        else
        {
            for (int i = 0; i < n; i++)
            {
                if (!batch.TryAppend(0, source.Length, out Span<byte> payload))
                {
                    throw NoRoom(i, n);
                }

                RecordPayload.Fill(source, payload, header + i);
            }
        }

        batch.Commit();
        return n;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static InvalidOperationException NoRoom(int appended, int claimed) => new InvalidOperationException($"a batch claimed for {claimed} records took only {appended}");
}

/// <summary>
/// RecordRing.TryClaimBatch of up to <see cref="RecordBatch.MaxRecords"/> records, appended as one
/// run of the message size (RecordBatch.TryAppend(type, length, count)), each copied + stamped in
/// place, then one Commit: the C batched producer also fills a range claimed for records of one
/// size, with no per-record check (mrring_mark_claimed, the stamp and the copy per record).
/// </summary>
internal readonly struct RecordRunProducer(RecordRing ring, int size) : IProducerPort
{
    private readonly AlignedElements<byte> _payload = RecordPayload.Source(size);
    private readonly int _recordBytes = RecordPayload.RecordBytes(size);

    // Not inlined into the loop that calls it, as RecordBatchProducer.
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    public int TryWrite(int producer, long firstSequence, int max, bool warm)
    {
        int n = Math.Min(max, RecordBatch.MaxRecords);
        if (!ring.TryClaimBatch(n * _recordBytes, out RecordBatch batch))
        {
            return 0;
        }

        ReadOnlySpan<byte> source = _payload.All;
        if (!batch.TryAppend(0, source.Length, n, out RecordRun run))
        {
            throw new InvalidOperationException($"a batch claimed for {n} records took no run of them");
        }

        long header = MessageHeader.Make(producer, firstSequence, warm); // + i: the sequence is the low bits
        if (source.Length == sizeof(long))
        {
            for (int i = 0; i < run.Count; i++)
            {
                Unsafe.WriteUnaligned(ref MemoryMarshal.GetReference(run[i]), header + i); // the stamp alone, as RecordBatchProducer at 8 B
            }
        }
        else
        {
            for (int i = 0; i < run.Count; i++)
            {
                RecordPayload.Fill(source, run[i], header + i);
            }
        }

        batch.Commit();
        return n;
    }
}

/// <summary>
/// A slot element as the C slot producers write it: the stamp into its first 8 bytes, the rest
/// (if any) copied from the source, so an 8-byte element is one store, as there (C: the stamp,
/// then memcpy of bytes 8.. when there are more than 8; here the whole element, then the stamp).
/// </summary>
internal static class SlotPayload
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Fill<T>(ref T item, in T source, long header) where T : unmanaged
    {
        if (Unsafe.SizeOf<T>() > sizeof(long))
        {
            ElementCopy.Copy(ref item, in source);
        }

        Unsafe.As<T, long>(ref item) = header;
    }
}

/// <summary>
/// A record's payload as the C record producers write it: the stamp into its first 8 bytes, the
/// rest copied from the source (there: memcpy of bytes 8.. when there are more than 8), so both sides store each byte once.
/// </summary>
internal static class RecordPayload
{
    /// <summary>Ring bytes one record of <paramref name="size"/> payload bytes takes: its header and the payload, rounded up to 8.</summary>
    public static int RecordBytes(int size) => (RingLayout.RecordHeaderSize + size + 7) & ~7;

    /// <summary>A record producer's source: 64-byte aligned, as the C producer's (aligned_alloc(64, ...)).</summary>
    public static AlignedElements<byte> Source(int size)
    {
        var source = new AlignedElements<byte>(size); // every message has its 8-byte header
        source.All.Fill(0x5a);
        return source;
    }

    /// <summary>
    /// Stamps <paramref name="payload"/> and copies the rest of <paramref name="source"/> into it: the
    /// payload is a record the ring just handed out for exactly source.Length bytes (>= 8), so, as
    /// the C producer (a store, then memcpy of es - 8 bytes: no checks), no bounds, length or overlap
    /// checks and no call on any path (the consumer's RecordCopyHandler copies the same way).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Fill(ReadOnlySpan<byte> source, Span<byte> payload, long header)
    {
        Debug.Assert(payload.Length == source.Length && source.Length >= MessageHeaderBytes);
        ref byte destination = ref MemoryMarshal.GetReference(payload);
        Unsafe.WriteUnaligned(ref destination, header);
        if (source.Length > MessageHeaderBytes)
        {
            // InlinedBytes.Copy checked the lengths, both overlaps and its inline limit and kept a
            // never-taken Memmove call in each producer's loop (35 of 77 instructions per 64 B record,
            // RecordBatchProducer); CopyInline copies any length inline, the source and the ring's
            // record never overlap.
            InlinedBytes.CopyInline(
                ref Unsafe.Add(ref MemoryMarshal.GetReference(source), MessageHeaderBytes),
                ref Unsafe.Add(ref destination, MessageHeaderBytes),
                (uint)(source.Length - MessageHeaderBytes));
        }
    }

    private const int MessageHeaderBytes = sizeof(long);
}

/// <summary>A blocking Stream.Write of the whole message (anonymous pipe).</summary>
internal readonly struct StreamProducer(Stream stream, int size) : IProducerPort
{
    private readonly byte[] _payload = SpscRecordProducer.Payload(size);

    public int TryWrite(int producer, long firstSequence, int max, bool warm)
    {
        BinaryPrimitives.WriteInt64LittleEndian(_payload, MessageHeader.Make(producer, firstSequence, warm));
        stream.Write(_payload);
        return 1;
    }
}

/// <summary>A blocking Socket.Send of the whole message (Unix stream socket).</summary>
internal readonly struct SocketProducer(Socket socket, int size) : IProducerPort
{
    private readonly byte[] _payload = SpscRecordProducer.Payload(size);

    public int TryWrite(int producer, long firstSequence, int max, bool warm)
    {
        BinaryPrimitives.WriteInt64LittleEndian(_payload, MessageHeader.Make(producer, firstSequence, warm));
        SocketIo.SendAll(socket, _payload);
        return 1;
    }
}
