using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace UintrIpc.Channels;

// CRC-32C of channel messages (uintripc.h 4a: initial value and final xor 0xFFFFFFFF, reflected
// polynomial 0x82F63B78). BitOperations.Crc32C is one step of the hardware crc32 instruction
// (SSE4.2, arm64 CRC32) without the inversions, and a table in software elsewhere: 8 bytes per
// step, then the tail. Little-endian loads feed the bytes in memory order, as the C reference.

/// <summary>The checksum of channels created with <see cref="IpcChannelOptions.Checksums"/>.</summary>
internal static unsafe class MessageChecksum
{
    /// <summary>Bytes of a checksum in a slot or a record (UIPC_CHECKSUM_SIZE).</summary>
    internal const int Size = 4;

    /// <summary>CRC-32C of <paramref name="length"/> bytes: a slot channel's element (uipc_crc32c).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static uint Compute(byte* data, nuint length) => ~Update(uint.MaxValue, data, length);

    /// <summary>
    /// CRC-32C of a message record: its committed header (length word, then type word) and the
    /// <paramref name="length"/> message bytes (uipc_message_crc32c).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static uint ComputeMessage(int recordLength, int type, byte* message, nuint length)
        => ~Update(BitOperations.Crc32C(uint.MaxValue, (uint)recordLength | ((ulong)(uint)type << 32)), message, length);

    /// <summary>
    /// Writes the checksum into the last 4 bytes of a claimed record's payload (the message is
    /// the bytes before them), before the commit publishes both (plain stores, uintripc.h 4a).
    /// </summary>
    /// <param name="type">The record's type.</param>
    /// <param name="payload">The claimed payload, in the ring (unmanaged memory: no GC move).</param>
    internal static void Seal(int type, Span<byte> payload)
    {
        byte* message = (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetReference(payload));
        int length = payload.Length - Size;
        Unsafe.WriteUnaligned(message + length, ComputeMessage(Rings.RingLayout.RecordHeaderSize + payload.Length, type, message, (nuint)length));
    }

    private static uint Update(uint crc, byte* p, nuint length)
    {
        for (; length >= 8; p += 8, length -= 8)
        {
            crc = BitOperations.Crc32C(crc, Unsafe.ReadUnaligned<ulong>(p));
        }

        if (length >= 4)
        {
            crc = BitOperations.Crc32C(crc, Unsafe.ReadUnaligned<uint>(p));
            p += 4;
            length -= 4;
        }

        if (length >= 2)
        {
            crc = BitOperations.Crc32C(crc, Unsafe.ReadUnaligned<ushort>(p));
            p += 2;
            length -= 2;
        }

        return length != 0 ? BitOperations.Crc32C(crc, *p) : crc;
    }
}
