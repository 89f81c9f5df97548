using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace UintrIpc.Bench.Workloads.Latency;

/// <summary>
/// 8-byte messages over two .NET streams (anonymous pipes from System.IO.Pipes): blocking
/// read and write, a system call each. Bounded because the other side's death or deadline
/// closes its end and the read returns end of file.
/// </summary>
internal readonly struct StreamTransport : IPingTransport
{
    private readonly Stream _tx;
    private readonly Stream _rx;

    public StreamTransport(Stream tx, Stream rx)
    {
        _tx = tx;
        _rx = rx;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Send(long value)
    {
        Span<byte> b = stackalloc byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(b, value);
        _tx.Write(b);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public long Receive()
    {
        Span<byte> b = stackalloc byte[8];
        _rx.ReadExactly(b);
        return BinaryPrimitives.ReadInt64LittleEndian(b);
    }
}
