using Tmds.Linux;
using UintrIpc;
using UintrIpc.Rpc;

namespace SyscallForward.Client;

/// <summary>
/// A forwarded call's answer checked against interop/include/uintripc_fwd.h before the caller
/// uses it: the server is not trusted. A read that claims more bytes than it delivered would hand
/// the caller stale buffer bytes as data; a count past the request would slice past the buffer.
/// </summary>
internal static class ForwardAnswer
{
    // Linux errno values are 1..4095 (MAX_ERRNO); a result below -4095 is no errno.
    private const long MaxErrno = 4095;

    /// <summary>
    /// The answer's value when it lies in [<paramref name="min"/>, <paramref name="max"/>] (and, for a
    /// read, <paramref name="delivered"/> says it must equal the bytes of output; for fstat,
    /// <paramref name="output"/> the bytes of output it needs).
    /// </summary>
    /// <exception cref="UintrIpcException">The server's errno; or EPROTO for an answer the protocol does not allow.</exception>
    public static long Check(RpcResult result, string operation, long min, long max, bool delivered = false, int output = 0)
    {
        long value = result.Value;
        if (value < 0 && value >= -MaxErrno)
        {
            throw new UintrIpcException(operation, result.Errno);
        }

        if (value < min || value > max || (delivered && value != result.OutputLength) || result.OutputLength < output)
        {
            throw new UintrIpcException(operation, LibC.EPROTO,
                $"the server's answer breaks uintripc_fwd.h: {value} with {result.OutputLength} bytes of output, where {min}..{max}{(delivered ? " equal to the bytes of output" : "")}{(output > 0 ? $" with {output} bytes of output" : "")} was due");
        }

        return value;
    }
}
