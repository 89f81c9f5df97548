using System.Buffers.Binary;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using UintrIpc.Rings;

namespace UintrIpc.Bench.Workloads.Throughput;

// The producer ends, one struct per transport. Each keeps its message in a heap buffer, sets
// the header in place and copies the whole message into the transport (the C producer copies
// from a source buffer into the slot the same way).

/// <summary>SpscRing&lt;T&gt;.TryWrite: one copy of T into the slot.</summary>
internal readonly struct SpscSlotProducer<T>(SpscRing<T> ring) : IProducerPort where T : unmanaged
{
    private readonly T[] _source = new T[1];

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryWrite(long header)
    {
        ref T message = ref _source[0];
        Unsafe.As<T, long>(ref message) = header;
        return ring.TryWrite(in message);
    }
}

/// <summary>MpscRing&lt;T&gt;.TryWrite (claims its slot with a CAS on tail).</summary>
internal readonly struct MpscSlotProducer<T>(MpscRing<T> ring) : IProducerPort where T : unmanaged
{
    private readonly T[] _source = new T[1];

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryWrite(long header)
    {
        ref T message = ref _source[0];
        Unsafe.As<T, long>(ref message) = header;
        return ring.TryWrite(in message);
    }
}

/// <summary>SpscRecordRing.TryWrite(type, payload).</summary>
internal readonly struct SpscRecordProducer(SpscRecordRing ring, int size) : IProducerPort
{
    private readonly byte[] _payload = Payload(size);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryWrite(long header)
    {
        BinaryPrimitives.WriteInt64LittleEndian(_payload, header);
        return ring.TryWrite(0, _payload);
    }

    internal static byte[] Payload(int size)
    {
        var payload = new byte[size];
        payload.AsSpan().Fill(0x5a);
        return payload;
    }
}

/// <summary>MpscRecordRing.TryWrite(type, payload).</summary>
internal readonly struct MpscRecordProducer(MpscRecordRing ring, int size) : IProducerPort
{
    private readonly byte[] _payload = SpscRecordProducer.Payload(size);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryWrite(long header)
    {
        BinaryPrimitives.WriteInt64LittleEndian(_payload, header);
        return ring.TryWrite(0, _payload);
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
