using System.Runtime.InteropServices;

namespace UintrIpc.Interop;

internal static unsafe partial class Shim
{
    /// <summary>
    /// The shim's UintrIpc_PrefetchWrite(start, bytes) (uintripc.h): a write prefetch (PREFETCHW)
    /// of the lines of [start, start + bytes), which .NET has no intrinsic for. Resolved once;
    /// null where the shim cannot be loaded or the CPU lacks the instruction (callers then skip
    /// the hint). Called without a GC transition: it only issues prefetches and returns.
    /// </summary>
    internal static readonly delegate* unmanaged[SuppressGCTransition]<void*, nuint, void> PrefetchWrite = ResolvePrefetchWrite();

    private static delegate* unmanaged[SuppressGCTransition]<void*, nuint, void> ResolvePrefetchWrite()
    {
        if (!NativeLibrary.TryLoad(Libraries.Shim, typeof(Shim).Assembly, null, out nint shim)
            || !NativeLibrary.TryGetExport(shim, "UintrIpc_PrefetchWriteSupported", out nint supported)
            || ((delegate* unmanaged[SuppressGCTransition]<int>)supported)() == 0
            || !NativeLibrary.TryGetExport(shim, "UintrIpc_PrefetchWrite", out nint prefetch))
        {
            return null;
        }

        return (delegate* unmanaged[SuppressGCTransition]<void*, nuint, void>)prefetch;
    }
}
