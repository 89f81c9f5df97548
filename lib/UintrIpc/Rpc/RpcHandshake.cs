using System.Buffers.Binary;
using UintrIpc.Signaling;

namespace UintrIpc.Rpc;

/// <summary>The hello and welcome messages of uintripc_rpc.h section 6 (struct uipc_rpc_hello, struct uipc_rpc_welcome).</summary>
internal static class RpcHandshake
{
    internal readonly record struct Hello(DoorbellKind Doorbell, uint MaxCalls, ulong ArenaLength);

    internal readonly record struct Welcome(int Status, DoorbellKind Doorbell, uint MaxCalls, ulong ArenaLength, ulong RegionEpoch, ulong ServerEpoch, ulong SessionId);

    internal static void Write(Span<byte> destination, in Hello hello)
    {
        destination[..RpcLayout.HelloSize].Clear();
        WriteStart(destination, hello.Doorbell);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[RpcLayout.HelloMaxCallsOffset..], hello.MaxCalls);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[RpcLayout.HelloArenaLengthOffset..], hello.ArenaLength);
    }

    /// <summary>Parses a hello; null with a problem when it is not one this version understands.</summary>
    internal static Hello? ReadHello(ReadOnlySpan<byte> payload, out string? problem)
    {
        if (!CheckStart(payload, RpcLayout.HelloSize, "hello", out problem))
        {
            return null;
        }

        return new Hello(
            (DoorbellKind)BinaryPrimitives.ReadUInt16LittleEndian(payload[RpcLayout.HandshakeDoorbellOffset..]),
            BinaryPrimitives.ReadUInt32LittleEndian(payload[RpcLayout.HelloMaxCallsOffset..]),
            BinaryPrimitives.ReadUInt64LittleEndian(payload[RpcLayout.HelloArenaLengthOffset..]));
    }

    internal static void Write(Span<byte> destination, in Welcome welcome)
    {
        destination[..RpcLayout.WelcomeSize].Clear();
        WriteStart(destination, welcome.Doorbell);
        BinaryPrimitives.WriteInt32LittleEndian(destination[RpcLayout.WelcomeStatusOffset..], welcome.Status);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[RpcLayout.WelcomeMaxCallsOffset..], welcome.MaxCalls);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[RpcLayout.WelcomeArenaLengthOffset..], welcome.ArenaLength);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[RpcLayout.WelcomeRegionEpochOffset..], welcome.RegionEpoch);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[RpcLayout.WelcomeServerEpochOffset..], welcome.ServerEpoch);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[RpcLayout.WelcomeSessionIdOffset..], welcome.SessionId);
    }

    /// <summary>Parses a welcome; null with a problem when it is not one this version understands.</summary>
    internal static Welcome? ReadWelcome(ReadOnlySpan<byte> payload, out string? problem)
    {
        if (!CheckStart(payload, RpcLayout.WelcomeSize, "welcome", out problem))
        {
            return null;
        }

        return new Welcome(
            BinaryPrimitives.ReadInt32LittleEndian(payload[RpcLayout.WelcomeStatusOffset..]),
            (DoorbellKind)BinaryPrimitives.ReadUInt16LittleEndian(payload[RpcLayout.HandshakeDoorbellOffset..]),
            BinaryPrimitives.ReadUInt32LittleEndian(payload[RpcLayout.WelcomeMaxCallsOffset..]),
            BinaryPrimitives.ReadUInt64LittleEndian(payload[RpcLayout.WelcomeArenaLengthOffset..]),
            BinaryPrimitives.ReadUInt64LittleEndian(payload[RpcLayout.WelcomeRegionEpochOffset..]),
            BinaryPrimitives.ReadUInt64LittleEndian(payload[RpcLayout.WelcomeServerEpochOffset..]),
            BinaryPrimitives.ReadUInt64LittleEndian(payload[RpcLayout.WelcomeSessionIdOffset..]));
    }

    private static void WriteStart(Span<byte> destination, DoorbellKind doorbell)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(destination, RpcLayout.Magic);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[4..], RpcLayout.Version);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[RpcLayout.HandshakeDoorbellOffset..], (ushort)doorbell);
    }

    private static bool CheckStart(ReadOnlySpan<byte> payload, int size, string what, out string? problem)
    {
        problem = payload.Length != size ? $"an RPC {what} is {size} bytes, this one {payload.Length}"
            : BinaryPrimitives.ReadUInt32LittleEndian(payload) != RpcLayout.Magic ? $"not an RPC {what} (magic 0x{BinaryPrimitives.ReadUInt32LittleEndian(payload):x8})"
            : BinaryPrimitives.ReadUInt16LittleEndian(payload[4..]) is var v && v != RpcLayout.Version ? $"RPC {what} version {v}, this process speaks {RpcLayout.Version}; use the same UintrIpc version on both sides"
            : null;
        return problem is null;
    }
}
