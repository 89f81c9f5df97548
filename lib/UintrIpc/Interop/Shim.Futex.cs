using System.Runtime.InteropServices;

namespace UintrIpc.Interop;

internal static partial class Shim
{
    /// <summary>Result of <see cref="FutexWait"/>.</summary>
    internal const int FutexWoken = 0, FutexValueChanged = 1, FutexTimedOut = 2;

    /// <summary>
    /// FUTEX_WAIT on a shared (not private) word with a relative timeout; EINTR is retried in the shim.
    /// Returns <see cref="FutexWoken"/>, <see cref="FutexValueChanged"/>, <see cref="FutexTimedOut"/> or -errno.
    /// </summary>
    /// <remarks>No SuppressGCTransition: this call blocks.</remarks>
    [LibraryImport(Libraries.Shim, EntryPoint = "UintrIpc_FutexWait")]
    internal static unsafe partial int FutexWait(uint* word, uint expected, long timeoutNanoseconds);

    /// <summary>FUTEX_WAKE of up to <paramref name="count"/> waiters. Returns the number woken or -errno.</summary>
    /// <remarks>Never blocks, so the GC transition is suppressed.</remarks>
    [LibraryImport(Libraries.Shim, EntryPoint = "UintrIpc_FutexWake")]
    [SuppressGCTransition]
    internal static unsafe partial int FutexWake(uint* word, int count);
}
