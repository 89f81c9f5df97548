using System.Runtime.InteropServices;

namespace UintrIpc.Rpc;

/// <summary>struct uipc_rpc_response of uintripc_rpc.h (section 2): one element of the response ring.</summary>
[StructLayout(LayoutKind.Explicit, Size = RpcLayout.ResponseSize)]
internal struct RpcWireResponse
{
    [FieldOffset(RpcLayout.ResponseIdOffset)] public ulong Id;
    [FieldOffset(RpcLayout.ResponseResultOffset)] public long Result;
    [FieldOffset(RpcLayout.ResponseOutLengthOffset)] public uint OutLength;
    [FieldOffset(RpcLayout.ResponseOutLengthOffset + 4)] public uint Reserved;
}
