using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace UintrIpc.TestPeer.Commands;

/// <summary>
/// A slot-ring message of the kill test: who wrote it, its per-producer sequence, a random salt
/// and a checksum over all of it, so that a torn, stale or foreign element is recognised.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
public readonly record struct KillSlot(int Producer, int Incarnation, ulong Sequence, ulong Salt, ulong Checksum);

/// <summary>Builds and checks kill-test messages: slot elements and record payloads.</summary>
public static class KillMessage
{
    /// <summary>Bytes of a record payload before its filler: producer, incarnation, sequence, salt.</summary>
    public const int RecordHeaderLength = 24;

    /// <summary>The shortest record payload: the header and the checksum.</summary>
    public const int MinRecordLength = RecordHeaderLength + sizeof(ulong);

    /// <summary>A slot message with its checksum.</summary>
    public static KillSlot Slot(int producer, int incarnation, ulong sequence, ulong salt)
        => new(producer, incarnation, sequence, salt, Mix(producer, incarnation, sequence, salt));

    /// <summary>Whether <paramref name="message"/>'s checksum matches its fields.</summary>
    public static bool IsIntact(in KillSlot message)
        => message.Checksum == Mix(message.Producer, message.Incarnation, message.Sequence, message.Salt);

    /// <summary>Writes a record payload of <paramref name="length"/> bytes (at least <see cref="MinRecordLength"/>); returns the length.</summary>
    public static int Record(Span<byte> buffer, int length, int producer, int incarnation, ulong sequence, ulong salt)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(length, MinRecordLength);
        Span<byte> body = buffer[..length];
        BinaryPrimitives.WriteInt32LittleEndian(body, producer);
        BinaryPrimitives.WriteInt32LittleEndian(body[4..], incarnation);
        BinaryPrimitives.WriteUInt64LittleEndian(body[8..], sequence);
        BinaryPrimitives.WriteUInt64LittleEndian(body[16..], salt);
        for (int i = RecordHeaderLength; i < length - sizeof(ulong); i++)
        {
            body[i] = (byte)(salt >> (i % 8 * 8) ^ (ulong)i);
        }

        BinaryPrimitives.WriteUInt64LittleEndian(body[^sizeof(ulong)..], Fnv1a(body[..^sizeof(ulong)]));
        return length;
    }

    /// <summary>Reads a record payload; false when it is too short or its checksum does not match.</summary>
    public static bool TryReadRecord(ReadOnlySpan<byte> payload, out int producer, out ulong sequence)
    {
        producer = -1;
        sequence = 0;
        if (payload.Length < MinRecordLength
            || BinaryPrimitives.ReadUInt64LittleEndian(payload[^sizeof(ulong)..]) != Fnv1a(payload[..^sizeof(ulong)]))
        {
            return false;
        }

        producer = BinaryPrimitives.ReadInt32LittleEndian(payload);
        sequence = BinaryPrimitives.ReadUInt64LittleEndian(payload[8..]);
        return true;
    }

    private static ulong Mix(int producer, int incarnation, ulong sequence, ulong salt)
    {
        ulong h = 0x9E3779B97F4A7C15;
        foreach (ulong v in (ReadOnlySpan<ulong>)[(ulong)(uint)producer, (ulong)(uint)incarnation, sequence, salt])
        {
            h = (h ^ v) * 0xFF51AFD7ED558CCD;
            h ^= h >> 33;
        }

        return h;
    }

    private static ulong Fnv1a(ReadOnlySpan<byte> bytes)
    {
        ulong h = 0xCBF29CE484222325;
        foreach (byte b in bytes)
        {
            h = (h ^ b) * 0x100000001B3;
        }

        return h;
    }
}
