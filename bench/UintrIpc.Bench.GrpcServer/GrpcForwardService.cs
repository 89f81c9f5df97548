using Google.Protobuf;
using Grpc.Core;
using Microsoft.Win32.SafeHandles;
using UintrIpc.Bench.Workloads.Rpc.Grpc;

namespace UintrIpc.Bench.GrpcServer;

/// <summary>
/// The gRPC server's handler: what the forwarding server does for the same two calls, a no-op
/// (answers 0) and a pread of the data file (out_capacity bytes at offset a1), so the gRPC row
/// does the same work and differs only in the transport.
/// </summary>
internal sealed class GrpcForwardService(SafeFileHandle file) : Forward.ForwardBase
{
    public override Task<ForwardReply> Call(ForwardRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        // The opcodes of interop/include/uintripc_fwd.h: UIPC_FWD_NOP 0, UIPC_FWD_PREAD 6.
        switch (request.Opcode)
        {
            case 0:
                return Task.FromResult(new ForwardReply { Result = 0 });
            case 6:
                byte[] buffer = new byte[Math.Min(request.OutCapacity, 1u << 20)];
                int n = RandomAccess.Read(file, buffer, request.A1);
                return Task.FromResult(new ForwardReply { Result = n, Output = UnsafeByteOperations.UnsafeWrap(buffer.AsMemory(0, n)) });
            default:
                return Task.FromResult(new ForwardReply { Result = -38 }); // -ENOSYS, as the forwarding server
        }
    }
}
