using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using UintrIpc.Rings;

namespace UintrIpc.Channels;

/// <summary>
/// Verifies each message's checksum (uintripc.h 4a: the 4 bytes after the message, over the
/// committed header and the message) and hands the message without it to the inner handler.
/// Only channels created with checksums use it.
/// </summary>
/// <typeparam name="THandler">The handler the verified messages go to, held by value: copy it back after the read.</typeparam>
internal unsafe struct CheckedRecordHandler<THandler>(THandler inner) : IRecordHandler
    where THandler : struct, IRecordHandler
{
    /// <summary>The wrapped handler (its state after the read).</summary>
    public THandler Inner = inner;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Handle(int type, ReadOnlySpan<byte> payload)
    {
        Inner.Handle(type, Verify(type, payload));
    }

    /// <summary>The message of a record's payload (message, then checksum) once its checksum matched.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static ReadOnlySpan<byte> Verify(int type, ReadOnlySpan<byte> payload)
    {
        int length = payload.Length - MessageChecksum.Size;
        if (length < 0)
        {
            Mismatch(payload.Length, $"its {payload.Length} payload bytes cannot hold a {MessageChecksum.Size}-byte checksum");
        }

        // The payload is in the ring (unmanaged memory, no GC move); plain reads after the length's acquire.
        byte* message = (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetReference(payload));
        uint stored = Unsafe.ReadUnaligned<uint>(message + length);
        uint computed = MessageChecksum.ComputeMessage(RingLayout.RecordHeaderSize + payload.Length, type, message, (nuint)length);
        if (computed != stored)
        {
            Mismatch(payload.Length, $"the record holds 0x{stored:x8} but the CRC-32C of its header and {length} message bytes is 0x{computed:x8}; the message was dropped");
        }

        return payload[..length];
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Mismatch(int payloadLength, string detail)
        => throw new ChecksumMismatchException(detail, (RingLayout.RecordHeaderSize + payloadLength + RingLayout.RecordAlignment - 1) & ~(RingLayout.RecordAlignment - 1));
}
