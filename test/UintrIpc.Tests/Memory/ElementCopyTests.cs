using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using UintrIpc.Memory;
using Xunit;

namespace UintrIpc.Tests.Memory;

/// <summary>
/// The slot rings copy elements with ElementCopy: at every destination offset within a cache
/// line (a slot's element starts 8 bytes past one), an element below, at and above the vector
/// loop's minimum must arrive exactly, with nothing around it touched.
/// </summary>
public sealed unsafe class ElementCopyTests
{
    private const int Guard = 64;

    [Fact]
    public void A_small_element_is_copied_exactly_at_every_offset() => CopiesExactly<Element256>();

    [Fact]
    public void A_1_KiB_element_is_copied_exactly_at_every_offset() => CopiesExactly<Element1024>();

    [Fact]
    public void A_4_KiB_plus_8_element_is_copied_exactly_at_every_offset() => CopiesExactly<Element4104>();

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

                    ElementCopy.Copy(ref Unsafe.AsRef<T>(destination + Guard + offset), in Unsafe.AsRef<T>(source + sourceOffset));

                    Assert.True(all.Slice(Guard + offset, size).SequenceEqual(expected), $"size {size}, offset {offset}, source offset {sourceOffset}");
                    Assert.True(all[..(Guard + offset)].IndexOfAnyExcept((byte)0xee) < 0, $"bytes before the element changed (offset {offset})");
                    Assert.True(all[(Guard + offset + size)..].IndexOfAnyExcept((byte)0xee) < 0, $"bytes after the element changed (offset {offset})");
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
