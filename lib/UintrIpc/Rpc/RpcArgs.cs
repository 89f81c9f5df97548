using System.Runtime.InteropServices;

namespace UintrIpc.Rpc;

/// <summary>The four inline 64-bit arguments of a request (args[4] of struct uipc_rpc_request).</summary>
/// <param name="A0">First argument.</param>
/// <param name="A1">Second argument.</param>
/// <param name="A2">Third argument.</param>
/// <param name="A3">Fourth argument.</param>
[StructLayout(LayoutKind.Sequential)]
public readonly record struct RpcArgs(long A0 = 0, long A1 = 0, long A2 = 0, long A3 = 0)
{
    /// <summary>Argument <paramref name="index"/> (0 to 3).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="index"/> is not 0 to 3.</exception>
    public long this[int index] => index switch
    {
        0 => A0,
        1 => A1,
        2 => A2,
        3 => A3,
        _ => throw new ArgumentOutOfRangeException(nameof(index), index, "A request has four arguments (0 to 3)."),
    };
}
