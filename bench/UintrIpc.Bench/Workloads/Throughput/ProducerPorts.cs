using System.Buffers.Binary;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using UintrIpc.Rings;

namespace UintrIpc.Bench.Workloads.Throughput;

// The producer ends, one struct per transport. The ring producers claim room in the ring,
// copy the message from a source buffer into it and stamp the header in place, then publish:
// the C producer does the same (stamp into the slot, memcpy of the rest). Stamping the source
// buffer and then copying it would add a store-forwarding stall (an 8-byte store read back by
// a wide load) that belongs to the harness, not to the ring.

/// <summary>SpscRing&lt;T&gt;.TryClaim, copy + stamp in place, Publish.</summary>
internal readonly struct SpscSlotProducer<T>(SpscRing<T> ring) : IProducerPort where T : unmanaged
{
    private readonly T[] _source = new T[1];

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryWrite(long header)
    {
        if (!ring.TryClaim(out SlotClaim<T> claim))
        {
            return false;
        }

        ref T item = ref claim.Item;
        item = _source[0];
        Unsafe.As<T, long>(ref item) = header;
        claim.Publish();
        return true;
    }
}

/// <summary>MpscRing&lt;T&gt;.TryClaim (a CAS on tail), copy + stamp in place, Publish.</summary>
internal readonly struct MpscSlotProducer<T>(MpscRing<T> ring) : IProducerPort where T : unmanaged
{
    private readonly T[] _source = new T[1];

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryWrite(long header)
    {
        if (!ring.TryClaim(out SlotClaim<T> claim))
        {
            return false;
        }

        ref T item = ref claim.Item;
        item = _source[0];
        Unsafe.As<T, long>(ref item) = header;
        claim.Publish();
        return true;
    }
}

/// <summary>SpscRecordRing.TryClaim, copy + stamp in place, Commit.</summary>
internal readonly struct SpscRecordProducer(SpscRecordRing ring, int size) : IProducerPort
{
    private readonly byte[] _payload = Payload(size);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryWrite(long header)
    {
        if (!ring.TryClaim(0, _payload.Length, out RecordClaim claim))
        {
            return false;
        }

        Span<byte> payload = claim.Payload;
        _payload.CopyTo(payload);
        BinaryPrimitives.WriteInt64LittleEndian(payload, header);
        claim.Commit();
        return true;
    }

    internal static byte[] Payload(int size)
    {
        var payload = new byte[size];
        payload.AsSpan().Fill(0x5a);
        return payload;
    }
}

/// <summary>MpscRecordRing.TryClaim, copy + stamp in place, Commit.</summary>
internal readonly struct MpscRecordProducer(MpscRecordRing ring, int size) : IProducerPort
{
    private readonly byte[] _payload = SpscRecordProducer.Payload(size);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryWrite(long header)
    {
        if (!ring.TryClaim(0, _payload.Length, out RecordClaim claim))
        {
            return false;
        }

        Span<byte> payload = claim.Payload;
        _payload.CopyTo(payload);
        BinaryPrimitives.WriteInt64LittleEndian(payload, header);
        claim.Commit();
        return true;
    }
}

/// <summary>A blocking Stream.Write of the whole message (anonymous pipe).</summary>
internal readonly struct StreamProducer(Stream stream, int size) : IProducerPort
{
    private readonly byte[] _payload = SpscRecordProducer.Payload(size);

    public bool TryWrite(long header)
    {
        BinaryPrimitives.WriteInt64LittleEndian(_payload, header);
        stream.Write(_payload);
        return true;
    }
}

/// <summary>A blocking Socket.Send of the whole message (Unix stream socket).</summary>
internal readonly struct SocketProducer(Socket socket, int size) : IProducerPort
{
    private readonly byte[] _payload = SpscRecordProducer.Payload(size);

    public bool TryWrite(long header)
    {
        BinaryPrimitives.WriteInt64LittleEndian(_payload, header);
        SocketIo.SendAll(socket, _payload);
        return true;
    }
}
