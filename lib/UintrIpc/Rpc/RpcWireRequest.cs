using System.Runtime.InteropServices;

namespace UintrIpc.Rpc;

/// <summary>struct uipc_rpc_request of uintripc_rpc.h (section 2): one element of the request ring.</summary>
[StructLayout(LayoutKind.Explicit, Size = RpcLayout.RequestSize)]
internal struct RpcWireRequest
{
    [FieldOffset(RpcLayout.RequestIdOffset)] public ulong Id;
    [FieldOffset(RpcLayout.RequestOpcodeOffset)] public uint Opcode;
    [FieldOffset(RpcLayout.RequestDataOffsetOffset)] public uint DataOffset;
    [FieldOffset(RpcLayout.RequestInLengthOffset)] public uint InLength;
    [FieldOffset(RpcLayout.RequestOutCapacityOffset)] public uint OutCapacity;
    [FieldOffset(RpcLayout.RequestArgsOffset)] public RpcArgs Args;
}
