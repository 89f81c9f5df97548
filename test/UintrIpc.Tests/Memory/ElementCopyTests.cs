using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using UintrIpc.Memory;
using Xunit;

namespace UintrIpc.Tests.Memory;

/// <summary>
/// The slot rings copy elements with ElementCopy: at every destination offset within a cache
/// line (a slot's element starts 8 to 56 bytes past one), an element below, at and above each
/// vector loop's minimum must arrive exactly, with nothing around it touched. Without 512-bit
/// vectors elements from 129 bytes on take the 256-bit loop (ElementCopy.QuadLoopMinimum): at
/// 129 to 192 bytes its loop body may not run at all (the two head vectors and the last four cover
/// it), at 200 it runs once. CopyOut (a read out of a slot) keeps the assignment above 2 KiB.
/// </summary>
public sealed unsafe class ElementCopyTests
{
    private const int Guard = 64;

    [Theory]
    [InlineData(128)]
    [InlineData(129)]
    [InlineData(136)]
    [InlineData(192)]
    [InlineData(200)]
    [InlineData(256)]
    [InlineData(1024)]
    [InlineData(2056)]
    [InlineData(4104)]
    public void An_element_is_copied_exactly_at_every_offset(int size)
    {
        switch (size)
        {
            case 128: CopiesExactly<Element128>(); break;
            case 129: CopiesExactly<Element129>(); break;
            case 136: CopiesExactly<Element136>(); break;
            case 192: CopiesExactly<Element192>(); break;
            case 200: CopiesExactly<Element200>(); break;
            case 256: CopiesExactly<Element256>(); break;
            case 1024: CopiesExactly<Element1024>(); break;
            case 2056: CopiesExactly<Element2056>(); break;
            case 4104: CopiesExactly<Element4104>(); break;
            default: Assert.Fail($"no element type of {size} bytes"); break;
        }
    }

    private static void CopiesExactly<T>() where T : unmanaged
    {
        int size = sizeof(T);
        var random = new Random(size);
        byte* source = (byte*)NativeMemory.AlignedAlloc((nuint)(size + 64), 64);
        byte* destination = (byte*)NativeMemory.AlignedAlloc((nuint)(size + 64 + (2 * Guard)), 64);
        try
        {
            for (int sourceOffset = 0; sourceOffset < 64; sourceOffset += 8)
            {
                for (int offset = 0; offset < 64; offset++)
                {
                    var expected = new Span<byte>(source + sourceOffset, size);
                    random.NextBytes(expected);
                    var all = new Span<byte>(destination, size + 64 + (2 * Guard));
                    all.Fill(0xee);

                    foreach (bool copyOut in (ReadOnlySpan<bool>)[false, true])
                    {
                        all.Fill(0xee);
                        if (copyOut)
                        {
                            ElementCopy.CopyOut(ref Unsafe.AsRef<T>(destination + Guard + offset), in Unsafe.AsRef<T>(source + sourceOffset));
                        }
                        else
                        {
                            ElementCopy.Copy(ref Unsafe.AsRef<T>(destination + Guard + offset), in Unsafe.AsRef<T>(source + sourceOffset));
                        }

                        string what = $"{(copyOut ? "CopyOut" : "Copy")}, size {size}, offset {offset}, source offset {sourceOffset}";
                        Assert.True(all.Slice(Guard + offset, size).SequenceEqual(expected), what);
                        Assert.True(all[..(Guard + offset)].IndexOfAnyExcept((byte)0xee) < 0, $"bytes before the element changed ({what})");
                        Assert.True(all[(Guard + offset + size)..].IndexOfAnyExcept((byte)0xee) < 0, $"bytes after the element changed ({what})");
                    }
                }
            }
        }
        finally
        {
            NativeMemory.AlignedFree(source);
            NativeMemory.AlignedFree(destination);
        }
    }

#pragma warning disable CA1823, IDE0044, IDE0051 // the fields only give the structs their size
    [InlineArray(16)]
    private struct Element128
    {
        private long _e;
    }

    [InlineArray(129)]
    private struct Element129
    {
        private byte _e;
    }

    [InlineArray(17)]
    private struct Element136
    {
        private long _e;
    }

    [InlineArray(24)]
    private struct Element192
    {
        private long _e;
    }

    [InlineArray(25)]
    private struct Element200
    {
        private long _e;
    }

    [InlineArray(257)]
    private struct Element2056
    {
        private long _e;
    }

    [InlineArray(32)]
    private struct Element256
    {
        private long _e;
    }

    [InlineArray(128)]
    private struct Element1024
    {
        private long _e;
    }

    [InlineArray(513)]
    private struct Element4104
    {
        private long _e;
    }
#pragma warning restore CA1823, IDE0044, IDE0051
}
