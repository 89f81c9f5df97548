using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace UintrIpc.Memory;

/// <summary>
/// Copies and zeroes message bytes with vector code inlined into the caller, for the
/// per-message paths of the record rings. Span.CopyTo and Span.Clear call CoreLib's Memmove
/// and ClearWithoutReferences, which run as precompiled ReadyToRun code (legacy SSE encoding)
/// until tiered compilation replaces them: called once per message from AVX code that left
/// the upper vector halves dirty, each call cost about 150 ns on the benchmark machine (a 64 B
/// record ring ran at 0.05x the C ring until the JIT had rejitted them). With 512-bit vectors,
/// lengths of a line or more are copied and zeroed with stores aligned to the destination's
/// cache lines (<see cref="CopyLines"/>, which the slot rings' <see cref="ElementCopy"/> uses
/// too; without them it uses <see cref="CopyQuadLines"/>): a record's payload starts 8 bytes
/// after its header, itself only 8-aligned, so a plain 256-bit loop split a line with every other
/// store. Writes longer than <see cref="CopyLimit"/>, reads and clears longer than <see cref="InlineLimit"/>
/// go to the span methods, whose large copies run in native code (a call through a GC transition).
/// </summary>
internal static class InlinedBytes
{
    /// <summary>
    /// Longest clear done inline, and the longest record (with its header) TryRead's inline path
    /// takes, copy and zeroing (longer ones are dominated by the bytes, not the call): with 512-bit
    /// vectors 4 KiB, else 2 KiB (copies: <see cref="CopyLimit"/>). Single thread, a record ring out of L2, ns per
    /// record produced / read, the line-aligned loop against the old paths: 2 KiB messages 83 / 61
    /// against the 256-bit loop's 94 / 77; 4 KiB produced 163-168 against glibc's 172-178 (through
    /// the GC transition); 8 KiB 334-339 against glibc's 312-319 (its rep movsb wins from there on).
    /// </summary>
    internal static int InlineLimit => Vector512.IsHardwareAccelerated ? LineLoopLimit : NarrowLoopLimit;

    /// <summary>The longest copy or clear done by the 512-bit line-aligned loop.</summary>
    private const int LineLoopLimit = 4096;

    /// <summary>
    /// The longest copy done inline where the line loop is not used (reads without 512-bit vectors,
    /// writes with 128-bit ones only; slot elements too, <see cref="ElementCopy.CopyOut{T}"/>): above it
    /// CoreLib's Memmove hands the copy to glibc (<c>rep movsb</c> from 2,112 bytes on the EPYC host).
    /// </summary>
    internal const int NarrowLoopLimit = 2048;

    /// <summary>
    /// Longest write into a record done inline by <see cref="Copy"/>: 4 KiB with 256-bit vectors too
    /// (the quad loop, <see cref="CopyQuads"/>), 2 KiB with 128-bit ones only. Above 2 KiB Span.CopyTo
    /// hands the copy to glibc through a GC transition (<c>rep movsb</c> from 2,112 bytes on the AMD
    /// EPYC host, AVX2, no AVX-512). In-process twin, 4 KiB records, p10 ns per record, the quad loop
    /// against the span copy (docs/design-notes.md "recbig"): one thread 107 against 145; TryWrite
    /// alone after the other core read the ring, adjacent builds, 178-232 against 266-403 (C's producer
    /// 0.66-1.27x against 1.09-1.42x); TryWrite with the other core reading, consumer-timed, 157-200
    /// against 164-209 (3 of 3). Reads keep the span copy above 2 KiB (<see cref="CopyOut"/>).
    /// </summary>
    internal static int CopyLimit => Vector256.IsHardwareAccelerated ? LineLoopLimit : NarrowLoopLimit;

    /// <summary>
    /// Copies <paramref name="source"/> to <paramref name="destination"/> (which must be at least as
    /// long): a write into a ring's record, inline up to <see cref="CopyLimit"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Copy(ReadOnlySpan<byte> source, Span<byte> destination) => CopyUpTo(source, destination, CopyLimit);

    /// <summary>
    /// <see cref="Copy"/> for a read out of a ring's record: inline only up to <see cref="InlineLimit"/>
    /// (2 KiB without 512-bit vectors), longer ones by the span copy (glibc). TryRead of 4 KiB records
    /// the other core had just written, with the span copy against the quad loop (in-process twin,
    /// consumer-timed p10 ns per record, adjacent builds, 3 of 3): 243-267 against 334-350, and alone
    /// after the other core's fill 248-468 against 359-406 (docs/design-notes.md "recbig"; the slot
    /// rings' reads keep glibc's above 2 KiB too, <see cref="ElementCopy.CopyOut{T}"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void CopyOut(ReadOnlySpan<byte> source, Span<byte> destination) => CopyUpTo(source, destination, InlineLimit);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void CopyUpTo(ReadOnlySpan<byte> source, Span<byte> destination, int inlineLimit)
    {
        nuint length = (uint)source.Length;
        if ((uint)destination.Length < length)
        {
            throw DestinationTooShort(); // a throw here, not in the helper: the JIT then knows the path ends (no values kept live across it)
        }

        ref byte src = ref MemoryMarshal.GetReference(source);
        ref byte dst = ref MemoryMarshal.GetReference(destination);
        // Overlapping spans (never the case between a caller's buffer and a ring record) keep memmove semantics.
        if (length > (uint)inlineLimit || (nuint)Unsafe.ByteOffset(ref src, ref dst) < length || (nuint)Unsafe.ByteOffset(ref dst, ref src) < length)
        {
            source.CopyTo(destination);
            return;
        }

        CopyInline(ref src, ref dst, length);
    }

    /// <summary>
    /// <see cref="Copy"/> without its checks and without any call: the two ranges disjoint (the caller
    /// checked). Any length is copied; up to <see cref="CopyLimit"/> this is the faster copy, above it
    /// the span copy's native code. A caller with no call of its own on its hot path then needs no
    /// callee-saved registers for it.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void CopyInline(ref byte src, ref byte dst, nuint length)
    {
        if (Vector512.IsHardwareAccelerated && length >= (nuint)Vector512<byte>.Count)
        {
            CopyLines(ref dst, ref src, length);
            return;
        }

        if (Vector256.IsHardwareAccelerated && length >= (nuint)Vector256<byte>.Count)
        {
            nuint last = length - (nuint)Vector256<byte>.Count;
            if (last <= (nuint)Vector256<byte>.Count)
            {
                // Up to two vectors (a 64 B message's 56 bytes after its stamp): two stores, no loop.
                Vector256.LoadUnsafe(ref src).StoreUnsafe(ref dst);
                Vector256.LoadUnsafe(ref src, last).StoreUnsafe(ref dst, last);
                return;
            }

            CopyQuads(ref src, ref dst, length);
            return;
        }

        if (Vector128.IsHardwareAccelerated && length >= (nuint)Vector128<byte>.Count)
        {
            nuint last = length - (nuint)Vector128<byte>.Count;
            for (nuint i = 0; i < last; i += (nuint)Vector128<byte>.Count)
            {
                Vector128.LoadUnsafe(ref src, i).StoreUnsafe(ref dst, i);
            }

            Vector128.LoadUnsafe(ref src, last).StoreUnsafe(ref dst, last);
            return;
        }

        CopyShort(ref src, ref dst, length);
    }

    /// <summary>Zeroes <paramref name="length"/> bytes at <paramref name="destination"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe void Clear(byte* destination, int length)
    {
        nuint n = (uint)length;
        if (n > (uint)InlineLimit)
        {
            new Span<byte>(destination, length).Clear();
            return;
        }

        ClearInline(destination, n);
    }

    /// <summary><see cref="Clear"/> without any call: <paramref name="n"/> at most <see cref="InlineLimit"/> (the caller checked).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static unsafe void ClearInline(byte* destination, nuint n)
    {
        if (Vector512.IsHardwareAccelerated && n >= (nuint)Vector512<byte>.Count)
        {
            // As CopyLines: one store at the start, the rest aligned to the destination's lines.
            nuint end = n - (nuint)Vector512<byte>.Count;
            Vector512<byte>.Zero.Store(destination);
            for (nuint i = (nuint)Vector512<byte>.Count - ((nuint)destination & (nuint)(Vector512<byte>.Count - 1)); i < end; i += (nuint)Vector512<byte>.Count)
            {
                Vector512<byte>.Zero.Store(destination + i);
            }

            Vector512<byte>.Zero.Store(destination + end);
            return;
        }

        if (Vector256.IsHardwareAccelerated && n >= (nuint)Vector256<byte>.Count)
        {
            nuint last = n - (nuint)Vector256<byte>.Count;
            for (nuint i = 0; i < last; i += (nuint)Vector256<byte>.Count)
            {
                Vector256<byte>.Zero.Store(destination + i);
            }

            Vector256<byte>.Zero.Store(destination + last);
            return;
        }

        if (Vector128.IsHardwareAccelerated && n >= (nuint)Vector128<byte>.Count)
        {
            nuint last = n - (nuint)Vector128<byte>.Count;
            for (nuint i = 0; i < last; i += (nuint)Vector128<byte>.Count)
            {
                Vector128<byte>.Zero.Store(destination + i);
            }

            Vector128<byte>.Zero.Store(destination + last);
            return;
        }

        for (nuint i = 0; i < n; i++)
        {
            destination[i] = 0;
        }
    }

    /// <summary>
    /// Copies <paramref name="length"/> bytes (at least 64, not overlapping) with 512-bit vectors:
    /// one store at the start, then stores aligned to the destination's cache lines, one store that
    /// ends at the end. Each line is then written by one store (none split across two lines),
    /// whatever the destination's offset in its line. Only where <c>Vector512.IsHardwareAccelerated</c>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static unsafe void CopyLines(ref byte dst, ref byte src, nuint length)
    {
        nuint last = length - (nuint)Vector512<byte>.Count;
        Vector512.LoadUnsafe(ref src).StoreUnsafe(ref dst);
        // From the destination's next cache line on (an address only for the offsets: the
        // stores are unaligned instructions, so a moved heap destination only costs speed).
        nuint i = (nuint)Vector512<byte>.Count - ((nuint)Unsafe.AsPointer(ref dst) & (nuint)(Vector512<byte>.Count - 1));
        for (; i < last; i += (nuint)Vector512<byte>.Count)
        {
            Vector512.LoadUnsafe(ref src, i).StoreUnsafe(ref dst, i);
        }

        Vector512.LoadUnsafe(ref src, last).StoreUnsafe(ref dst, last);
    }

    /// <summary>
    /// Copies <paramref name="length"/> bytes (more than 64, not overlapping) with 256-bit vectors,
    /// four loads and then their four stores per 128 bytes (glibc's memcpy loop has this shape); the
    /// last four end at the end (they may overlap the ones before). With a loop of one load and its
    /// store per vector a 1 KiB record ring's consumer took 46-49 ns per record where C's (glibc
    /// memcpy) took 35-37, reading the same ring alone after the other CPU filled it (the same port
    /// calling memcpy: 37-39; destination-aligned stores in that loop: 47-50); with this shape its
    /// time is 0.93-1.06x C's in the same processes, against 1.10-1.15x (rec1k). The stores are not
    /// aligned: a record's payload is only 8-aligned.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void CopyQuads(ref byte src, ref byte dst, nuint length)
    {
        const nuint V = 32; // Vector256<byte>.Count
        if (length <= 4 * V)
        {
            // 65..128 bytes: two vectors from the start, two ending at the end.
            Vector256<byte> a = Vector256.LoadUnsafe(ref src);
            Vector256<byte> b = Vector256.LoadUnsafe(ref src, V);
            Vector256<byte> c = Vector256.LoadUnsafe(ref src, length - (2 * V));
            Vector256<byte> d = Vector256.LoadUnsafe(ref src, length - V);
            a.StoreUnsafe(ref dst);
            b.StoreUnsafe(ref dst, V);
            c.StoreUnsafe(ref dst, length - (2 * V));
            d.StoreUnsafe(ref dst, length - V);
            return;
        }

        nuint end = length - (4 * V);
        for (nuint i = 0; i < end; i += 4 * V)
        {
            CopyQuad(ref src, ref dst, i);
        }

        CopyQuad(ref src, ref dst, end);
    }

    /// <summary>
    /// Copies <paramref name="length"/> bytes (at least 128, not overlapping) with 256-bit vectors, as
    /// <see cref="CopyQuads"/> but with stores aligned to the destination's cache lines: two vectors at
    /// the start, then four loads and their four stores per 128 bytes from the destination's next
    /// line on, the last four ending at the end (they may overlap the ones before). For
    /// <see cref="ElementCopy"/>: a slot's element starts 0 to 56 bytes past a line, and 4 KiB
    /// elements written into a ring the other core reads took 143-244 ns per element this way against
    /// 155-255 with <see cref="CopyQuads"/>' unaligned stores (same runs, lower in 14 of 15 by 1-8 %;
    /// docs/design-notes.md "slot4k"). Only where <c>Vector256.IsHardwareAccelerated</c>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static unsafe void CopyQuadLines(ref byte dst, ref byte src, nuint length)
    {
        const nuint V = 32; // Vector256<byte>.Count
        nuint end = length - (4 * V);
        Vector256<byte> a = Vector256.LoadUnsafe(ref src);
        Vector256<byte> b = Vector256.LoadUnsafe(ref src, V);
        a.StoreUnsafe(ref dst);
        b.StoreUnsafe(ref dst, V);
        // From the destination's next cache line on (at most 64 bytes in, so the two stores above
        // reach it; an address only for the offsets, as in CopyLines).
        for (nuint i = (2 * V) - ((nuint)Unsafe.AsPointer(ref dst) & ((2 * V) - 1)); i < end; i += 4 * V)
        {
            CopyQuad(ref src, ref dst, i);
        }

        CopyQuad(ref src, ref dst, end);
    }

    /// <summary>128 bytes from <paramref name="at"/>: the four loads, then their four stores.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void CopyQuad(ref byte src, ref byte dst, nuint at)
    {
        const nuint V = 32; // Vector256<byte>.Count
        Vector256<byte> a = Vector256.LoadUnsafe(ref src, at);
        Vector256<byte> b = Vector256.LoadUnsafe(ref src, at + V);
        Vector256<byte> c = Vector256.LoadUnsafe(ref src, at + (2 * V));
        Vector256<byte> d = Vector256.LoadUnsafe(ref src, at + (3 * V));
        a.StoreUnsafe(ref dst, at);
        b.StoreUnsafe(ref dst, at + V);
        c.StoreUnsafe(ref dst, at + (2 * V));
        d.StoreUnsafe(ref dst, at + (3 * V));
    }

    /// <summary>Fewer bytes than one vector (or no vector hardware): two overlapping words, or single bytes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void CopyShort(ref byte src, ref byte dst, nuint length)
    {
        if (length >= 8)
        {
            // Without vectors this covers up to 16 bytes; longer copies loop over words.
            nuint last = length - 8;
            for (nuint i = 0; i < last; i += 8)
            {
                Unsafe.WriteUnaligned(ref Unsafe.Add(ref dst, i), Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref src, i)));
            }

            Unsafe.WriteUnaligned(ref Unsafe.Add(ref dst, last), Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref src, last)));
            return;
        }

        if (length >= 4)
        {
            uint head = Unsafe.ReadUnaligned<uint>(ref src);
            uint tail = Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref src, length - 4));
            Unsafe.WriteUnaligned(ref dst, head);
            Unsafe.WriteUnaligned(ref Unsafe.Add(ref dst, length - 4), tail);
            return;
        }

        for (nuint i = 0; i < length; i++)
        {
            Unsafe.Add(ref dst, i) = Unsafe.Add(ref src, i);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static ArgumentException DestinationTooShort()
        => new ArgumentException("The destination is shorter than the source.", "destination");
}
