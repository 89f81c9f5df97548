using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace UintrIpc.Memory;

/// <summary>
/// Copies one fixed-size ring element. An assignment of a struct larger than the JIT unrolls
/// (128 B with 256-bit vectors, 256 B with 512-bit ones) compiles to a call of the runtime's copy
/// helper (CoreLib's Memmove, which hands copies above 2 KiB to glibc through a GC transition,
/// and glibc gives those of 2,112 bytes or more to <c>rep movsb</c>); a slot's element also starts
/// 8 bytes past a cache line (its sequence comes first; with a pitch of 8 past a line, the next
/// slot's 16, and so on), so every wide store of a plain loop may split a line. Such elements are
/// copied inline instead, with stores aligned to the destination's cache lines: with 512-bit
/// vectors from <see cref="VectorLoopMinimum"/> on by the record rings' loop
/// (<see cref="InlinedBytes.CopyLines"/>; measured on a Xeon with AVX-512, docs/design-notes.md:
/// 4 KiB into a slot ring in L2, one thread, 89 -> 81 ns; 1 KiB 15 -> 9.5 ns; kept as it was, this
/// host has no AVX-512), with 256-bit vectors only from <see cref="QuadLoopMinimum"/> on by
/// <see cref="InlinedBytes.CopyQuadLines"/> (four loads then four stores per 128 bytes, glibc's
/// loop shape). The latter measured on an AMD EPYC with AVX2 (docs/design-notes.md "slot4k"):
/// one thread into / out of a ring of slots in L2, ns per element, assignment -> loop: 136 B
/// 8.6 / 7.7 -> 4.8 / 4.0, 256 B 13.2 / 12.5 -> 6.7 / 6.2, 1 KiB 35.2 / 33.8 -> 23.9 / 22.0, 4 KiB
/// 133.5 / 107.1 -> 85.0 / 68.7; a producer and a consumer on two cores, 4 KiB, in the host's fast
/// mode, 277-467 -> 153-244 (the C ring with glibc's memcpy 254-477 in the same runs), but in its
/// slow mode a read out of a slot above 2 KiB is faster with glibc's: <see cref="CopyOut"/>.
/// Smaller elements (with 512-bit vectors those below <see cref="VectorLoopMinimum"/>), and machines
/// without 256-bit vectors, keep the assignment.
/// <c>sizeof(T)</c> and the <c>IsHardwareAccelerated</c> properties are JIT-time constants: each
/// element type compiles to one path.
/// </summary>
internal static class ElementCopy
{
    /// <summary>The smallest element copied with the 512-bit loop (256 B measured level with the assignment).</summary>
    internal const int VectorLoopMinimum = 1024;

    /// <summary>
    /// The smallest element copied with the 256-bit loop where there are no 512-bit vectors: the
    /// JIT unrolls an assignment of up to 128 bytes there (four vector pairs, no call), and calls the
    /// helper from 129 on (136 B measured 1.8x the loop's time, see the summary).
    /// </summary>
    internal const int QuadLoopMinimum = 129;

    /// <summary>
    /// Copies an element out of a slot (a consumer's read): as <see cref="Copy"/>, but elements above
    /// <see cref="InlinedBytes.NarrowLoopLimit"/> keep the assignment without 512-bit vectors (glibc read a
    /// 4 KiB element out of a slot the other core had just written faster than the 256-bit loop). 4 KiB, a producer and
    /// a consumer on two cores, in the host's slow mode (every cross-core line slow: 4 KiB at 470-870
    /// ns per element), consumer-timed p10: the loop writing the slot and the assignment reading it
    /// 441-525, the loop on both sides 583-765, the assignment on both sides 492-612, the C ring
    /// (glibc memcpy both sides) 457-621 in the same runs; prefetching the element's lines before the
    /// loop changed nothing (662-719). One side alone the loop reads faster (docs/design-notes.md "slot4k").
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe void CopyOut<T>(ref T destination, in T source) where T : unmanaged
    {
        if (!Vector512.IsHardwareAccelerated && sizeof(T) > InlinedBytes.NarrowLoopLimit)
        {
            destination = source;
            return;
        }

        Copy(ref destination, in source);
    }

    /// <summary>Copies <paramref name="source"/> to <paramref name="destination"/> (not overlapping); into a slot, or anywhere that is not a read out of one (<see cref="CopyOut"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe void Copy<T>(ref T destination, in T source) where T : unmanaged
    {
        if (Vector512.IsHardwareAccelerated)
        {
            if (sizeof(T) >= VectorLoopMinimum)
            {
                InlinedBytes.CopyLines(ref Unsafe.As<T, byte>(ref destination), ref Unsafe.As<T, byte>(ref Unsafe.AsRef(in source)), (nuint)sizeof(T));
                return;
            }
        }
        else if (Vector256.IsHardwareAccelerated && sizeof(T) >= QuadLoopMinimum)
        {
            InlinedBytes.CopyQuadLines(ref Unsafe.As<T, byte>(ref destination), ref Unsafe.As<T, byte>(ref Unsafe.AsRef(in source)), (nuint)sizeof(T));
            return;
        }

        destination = source;
    }
}
