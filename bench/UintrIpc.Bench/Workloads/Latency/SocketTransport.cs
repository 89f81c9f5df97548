using System.Buffers.Binary;
using System.Net.Sockets;
using System.Runtime.CompilerServices;

namespace UintrIpc.Bench.Workloads.Latency;

/// <summary>8-byte messages over a connected Unix stream socket (System.Net.Sockets), blocking Send/Receive with a receive timeout.</summary>
internal readonly struct SocketTransport : IPingTransport
{
    private readonly Socket _socket;

    public SocketTransport(Socket socket) => _socket = socket;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Send(long value)
    {
        Span<byte> b = stackalloc byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(b, value);
        SocketIo.SendAll(_socket, b);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public long Receive()
    {
        Span<byte> b = stackalloc byte[8];
        SocketIo.ReceiveExactly(_socket, b);
        return BinaryPrimitives.ReadInt64LittleEndian(b);
    }
}
