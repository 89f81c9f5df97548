using System.Runtime.InteropServices;

namespace UintrIpc.Rpc;

/// <summary>
/// The answer to a call: the handler's 64-bit <see cref="Value"/> (negative: -errno, never
/// truncated) and how many bytes of output the server wrote.
/// </summary>
/// <param name="Value">The result: 0 or more is the handler's value, below 0 is -errno.</param>
/// <param name="OutputLength">Bytes of output copied into the caller's buffer (0 on error).</param>
public readonly record struct RpcResult(long Value, int OutputLength)
{
    /// <summary>Whether the server answered with an error (<see cref="Value"/> &lt; 0).</summary>
    public bool IsError => Value < 0;

    /// <summary>The errno of an error, 0 on success.</summary>
    public int Errno => Value < 0 ? (int)Math.Min(-Value, int.MaxValue) : 0;

    /// <summary>Returns <see cref="Value"/>, or throws a <see cref="UintrIpcException"/> carrying the errno.</summary>
    /// <param name="operation">What was called, for the message.</param>
    /// <exception cref="UintrIpcException">The server answered with an error.</exception>
    public long ThrowIfError(string operation = "remote call")
        => Value >= 0 ? Value : throw new UintrIpcException(operation, Errno);

    /// <inheritdoc />
    public override string ToString() => Value >= 0 ? $"{Value} ({OutputLength} bytes out)" : $"-{Marshal.GetPInvokeErrorMessage(Errno)} (errno {Errno})";
}
