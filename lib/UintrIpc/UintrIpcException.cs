using System.Runtime.InteropServices;

namespace UintrIpc;

/// <summary>
/// A system call made by UintrIpc failed. <see cref="Errno"/> holds the errno value
/// (also in <see cref="Exception.HResult"/>), and the message says what was attempted
/// and, where we know it, what to do about it.
/// </summary>
public class UintrIpcException : IOException
{
    /// <summary>Creates an exception for a failed operation.</summary>
    /// <param name="operation">What was attempted, e.g. "memfd_create".</param>
    /// <param name="errno">The errno value (positive).</param>
    /// <param name="hint">What the caller can do about it, or null.</param>
    public UintrIpcException(string operation, int errno, string? hint = null)
        : base(Format(operation, errno, hint))
    {
        Operation = operation;
        Errno = errno;
        HResult = errno;
    }

    /// <summary>Creates an exception that carries no errno.</summary>
    public UintrIpcException(string message) : base(message) => Operation = string.Empty;

    /// <summary>Creates an exception that carries no errno, with an inner exception.</summary>
    public UintrIpcException(string message, Exception inner) : base(message, inner) => Operation = string.Empty;

    /// <summary>The errno value, or 0 when the failure was not a system call.</summary>
    public int Errno { get; }

    /// <summary>What was attempted.</summary>
    public string Operation { get; }

    /// <summary>Throws for the calling thread's last P/Invoke error.</summary>
    internal static UintrIpcException FromLastError(string operation, string? hint = null)
        => new(operation, Marshal.GetLastPInvokeError(), hint);

    private static string Format(string operation, int errno, string? hint)
    {
        string text = $"{operation} failed: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno}).";
        return hint is null ? text : text + " " + hint;
    }
}
