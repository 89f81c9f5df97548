using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace UintrIpc.Memory;

/// <summary>
/// Copies one fixed-size ring element. An assignment of a struct of 1 KiB or more compiles to a
/// call of the runtime's copy helper (CoreLib's Memmove, which hands copies above 2 KiB to glibc
/// through a GC transition); a slot's element also starts 8 bytes past a cache line (its
/// sequence comes first), so every wide store of a plain loop splits a line. With 512-bit
/// vectors these elements are copied inline instead, by the record rings' line-aligned loop
/// (<see cref="InlinedBytes.CopyLines"/>: one store at the start, then stores aligned to the
/// destination's cache lines, one store that ends at the end; docs/design-notes.md: 4 KiB
/// into a slot ring in L2, one thread, 89 -> 81 ns; 1 KiB 15 -> 9.5 ns). Smaller elements, and
/// machines without 512-bit vectors (a 256-bit loop lost to the helper), keep the assignment.
/// <c>sizeof(T)</c> and <c>Vector512.IsHardwareAccelerated</c> are JIT-time constants: each
/// element type compiles to one of the two paths.
/// </summary>
internal static class ElementCopy
{
    /// <summary>The smallest element copied with the vector loop (256 B measured level with the assignment).</summary>
    internal const int VectorLoopMinimum = 1024;

    /// <summary>Copies <paramref name="source"/> to <paramref name="destination"/> (not overlapping).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe void Copy<T>(ref T destination, in T source) where T : unmanaged
    {
        if (sizeof(T) < VectorLoopMinimum || !Vector512.IsHardwareAccelerated)
        {
            destination = source;
            return;
        }

        InlinedBytes.CopyLines(ref Unsafe.As<T, byte>(ref destination), ref Unsafe.As<T, byte>(ref Unsafe.AsRef(in source)), (nuint)sizeof(T));
    }
}
