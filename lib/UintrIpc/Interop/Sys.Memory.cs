using System.Runtime.InteropServices;

namespace UintrIpc.Interop;

/// <summary>The C library's memory functions, called directly (no GC transition).</summary>
internal static unsafe partial class Sys
{
    /// <summary>
    /// memset(3): what the C ring's release zeroes with (glibc's <c>rep stosb</c> from 2 KiB on this
    /// host). No GC transition: it does not block, and the longest call zeroes one read batch.
    /// </summary>
    [LibraryImport(Libraries.LibC, EntryPoint = "memset")]
    [SuppressGCTransition]
    internal static partial void* Memset(void* destination, int value, nuint length);
}
