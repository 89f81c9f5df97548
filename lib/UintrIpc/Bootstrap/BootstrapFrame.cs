using System.Buffers.Binary;

namespace UintrIpc.Bootstrap;

/// <summary>Message types of the bootstrap protocol.</summary>
internal enum BootstrapFrameType : ushort
{
    /// <summary>Server to client, first message: the policy accepted the client. No payload, no descriptors.</summary>
    Accept = 1,

    /// <summary>Server to client, first and last message: the policy refused the client. Payload: the reason (UTF-8). No descriptors.</summary>
    Refused = 2,

    /// <summary>Either direction after Accept: an application payload and descriptors.</summary>
    Data = 3,
}

/// <summary>
/// The bootstrap wire format. Each message is one SOCK_SEQPACKET datagram: a 16-byte
/// header, then the payload; descriptors travel beside it in one SCM_RIGHTS control
/// message.
/// <code>
/// offset size field
///  0     4    magic 0x53424955 ("UIBS" in memory)
///  4     2    version (1)
///  6     2    type (BootstrapFrameType)
///  8     4    payload length (bytes after the header; must equal what arrived)
/// 12     4    descriptor count (must equal the descriptors that arrived)
/// </code>
/// Little-endian: both ends are on the same host.
/// </summary>
internal static class BootstrapFrame
{
    internal const uint Magic = 0x53424955;
    internal const ushort Version = 1;
    internal const int HeaderSize = 16;

    /// <summary>The longest refusal reason sent, in bytes (longer ones are cut).</summary>
    internal const int MaxReasonBytes = 1024;

    /// <summary>The largest datagram a peer may send us.</summary>
    internal const int MaxDatagram = HeaderSize + BootstrapMessage.MaxPayloadLength;

    internal static void WriteHeader(Span<byte> destination, BootstrapFrameType type, int payloadLength, int fdCount)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(destination, Magic);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[4..], Version);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[6..], (ushort)type);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[8..], (uint)payloadLength);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[12..], (uint)fdCount);
    }

    /// <summary>
    /// Checks a received datagram against its header and the descriptors that arrived with it;
    /// returns the message type, or the problem (for a BootstrapProtocolException) in <paramref name="problem"/>.
    /// </summary>
    internal static BootstrapFrameType Validate(ReadOnlySpan<byte> datagram, int fdsReceived, out string? problem)
    {
        problem = null;
        if (datagram.Length < HeaderSize)
        {
            problem = $"{datagram.Length} bytes is shorter than the {HeaderSize}-byte header";
            return default;
        }

        uint magic = BinaryPrimitives.ReadUInt32LittleEndian(datagram);
        if (magic != Magic)
        {
            problem = $"magic is 0x{magic:x8}, expected 0x{Magic:x8}";
            return default;
        }

        ushort version = BinaryPrimitives.ReadUInt16LittleEndian(datagram[4..]);
        if (version != Version)
        {
            problem = $"protocol version is {version}, this process speaks {Version}; use the same UintrIpc version on both sides";
            return default;
        }

        var type = (BootstrapFrameType)BinaryPrimitives.ReadUInt16LittleEndian(datagram[6..]);
        if (type is not (BootstrapFrameType.Accept or BootstrapFrameType.Refused or BootstrapFrameType.Data))
        {
            problem = $"unknown message type {(ushort)type}";
            return default;
        }

        uint length = BinaryPrimitives.ReadUInt32LittleEndian(datagram[8..]);
        if (length != (uint)(datagram.Length - HeaderSize))
        {
            problem = $"the header announces {length} payload bytes but {datagram.Length - HeaderSize} arrived";
            return default;
        }

        uint fds = BinaryPrimitives.ReadUInt32LittleEndian(datagram[12..]);
        if (fds != (uint)fdsReceived)
        {
            problem = $"the header announces {fds} descriptors but {fdsReceived} arrived";
            return default;
        }

        return type;
    }
}
