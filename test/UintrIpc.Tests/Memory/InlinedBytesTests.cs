using System.Runtime.InteropServices;
using UintrIpc.Memory;
using Xunit;

namespace UintrIpc.Tests.Memory;

/// <summary>
/// The record rings copy and zero message bytes with InlinedBytes: every length from 0 past the
/// inline limit, at every alignment of a vector and every offset in a cache line, must copy
/// exactly the source bytes and touch nothing around the destination range.
/// </summary>
public sealed unsafe class InlinedBytesTests
{
    private const int Guard = 64;

    public static TheoryData<int> Offsets => [0, 1, 3, 7, 8, 15, 31];

    [Theory]
    [MemberData(nameof(Offsets))]
    public void Copy_and_CopyOut_copy_exactly_the_source_bytes_for_every_length(int offset)
    {
        var random = new Random(offset);
        for (int length = 0; length <= InlinedBytes.CopyLimit + 70; length++)
        {
            byte[] source = new byte[length + offset];
            random.NextBytes(source);
            byte[] destination = new byte[offset + length + (2 * Guard)];
            destination.AsSpan().Fill(0xee);
            var target = destination.AsSpan(Guard + offset, length);

            InlinedBytes.Copy(source.AsSpan(offset, length), target);

            Assert.True(target.SequenceEqual(source.AsSpan(offset, length)), $"length {length}, offset {offset}");
            Assert.True(destination.AsSpan(0, Guard + offset).IndexOfAnyExcept((byte)0xee) < 0, $"bytes before the range changed (length {length})");
            Assert.True(destination.AsSpan(Guard + offset + length).IndexOfAnyExcept((byte)0xee) < 0, $"bytes after the range changed (length {length})");

            // The read's copy (inline only up to InlineLimit, then the span copy) at the same lengths.
            destination.AsSpan().Fill(0xee);
            InlinedBytes.CopyOut(source.AsSpan(offset, length), target);

            Assert.True(target.SequenceEqual(source.AsSpan(offset, length)), $"CopyOut: length {length}, offset {offset}");
            Assert.True(destination.AsSpan(0, Guard + offset).IndexOfAnyExcept((byte)0xee) < 0, $"CopyOut: bytes before the range changed (length {length})");
            Assert.True(destination.AsSpan(Guard + offset + length).IndexOfAnyExcept((byte)0xee) < 0, $"CopyOut: bytes after the range changed (length {length})");
        }
    }

    [Theory]
    [MemberData(nameof(Offsets))]
    public void Clear_zeroes_exactly_the_range_for_every_length(int offset)
    {
        byte[] buffer = new byte[offset + InlinedBytes.InlineLimit + 70 + (2 * Guard)];
        for (int length = 0; length <= InlinedBytes.InlineLimit + 70; length++)
        {
            AssertClearsExactly(buffer, offset, length);
        }
    }

    /// <summary>
    /// Clear zeroes inline up to <see cref="InlinedBytes.InlineLimit"/> and through the span method
    /// past it (a record Read zeroes what it read at once: 64 records of 64 B are 4608 bytes, of
    /// 1 KiB 66,048): exactly the range at lengths around those and around the limit.
    /// </summary>
    [Theory]
    [MemberData(nameof(Offsets))]
    public void Clear_zeroes_exactly_the_range_up_to_and_past_the_clear_limit(int offset)
    {
        int limit = InlinedBytes.InlineLimit;
        int[] lengths = [.. Enumerable.Range(4600, 20), .. Enumerable.Range(66040, 20), .. Enumerable.Range(limit - 70, 140)];
        byte[] buffer = new byte[offset + lengths.Max() + (2 * Guard)];
        foreach (int length in lengths)
        {
            AssertClearsExactly(buffer, offset, length);
        }
    }

    /// <summary>
    /// The 512-bit loop aligns its stores to the destination's cache lines: at every offset of the
    /// destination in its line (a record's payload starts at any multiple of 8 after one), around
    /// every length where the number of stores changes, and up to the inline limits (the clear's and
    /// the copy's: 2 and 4 KiB with 256-bit vectors) and past them.
    /// </summary>
    [Fact]
    public void Copy_and_Clear_write_exactly_the_range_at_every_offset_in_a_line()
    {
        int[] lengths =
        [
            .. Enumerable.Range(0, 260), .. Enumerable.Range(1000, 90), .. Enumerable.Range(InlinedBytes.InlineLimit - 140, 210),
            .. Enumerable.Range(InlinedBytes.CopyLimit - 140, 210).Where(n => n >= InlinedBytes.InlineLimit + 70),
        ];
        int longest = lengths.Max();
        var random = new Random(64);
        byte* source = (byte*)NativeMemory.AlignedAlloc((nuint)(longest + 64), 64);
        byte* destination = (byte*)NativeMemory.AlignedAlloc((nuint)(longest + 64 + (2 * Guard)), 64);
        try
        {
            var all = new Span<byte>(destination, longest + 64 + (2 * Guard));
            foreach (int length in lengths)
            {
                for (int offset = 0; offset < 64; offset++)
                {
                    var expected = new Span<byte>(source + ((offset * 8) & 63), length); // the source at another offset
                    random.NextBytes(expected);
                    all.Fill(0xee);

                    InlinedBytes.Copy(expected, all.Slice(Guard + offset, length));

                    Assert.True(all.Slice(Guard + offset, length).SequenceEqual(expected), $"copy: length {length}, offset {offset}");
                    Assert.True(all[..(Guard + offset)].IndexOfAnyExcept((byte)0xee) < 0, $"copy: bytes before the range changed (length {length}, offset {offset})");
                    Assert.True(all[(Guard + offset + length)..].IndexOfAnyExcept((byte)0xee) < 0, $"copy: bytes after the range changed (length {length}, offset {offset})");

                    InlinedBytes.Clear(destination + Guard + offset, length);

                    Assert.True(all.Slice(Guard + offset, length).IndexOfAnyExcept((byte)0) < 0, $"clear: length {length}, offset {offset}: not all zero");
                    Assert.True(all[..(Guard + offset)].IndexOfAnyExcept((byte)0xee) < 0, $"clear: bytes before the range changed (length {length}, offset {offset})");
                    Assert.True(all[(Guard + offset + length)..].IndexOfAnyExcept((byte)0xee) < 0, $"clear: bytes after the range changed (length {length}, offset {offset})");
                }
            }
        }
        finally
        {
            NativeMemory.AlignedFree(source);
            NativeMemory.AlignedFree(destination);
        }
    }

    /// <summary>
    /// CopyInline (no checks, no call) copies any length, not only up to the inline limit, where it
    /// stops being the faster copy: the harness's record handler copies messages of up to 4 KiB with
    /// it, past the limit of a machine without 512-bit vectors (2 KiB).
    /// </summary>
    [Theory]
    [MemberData(nameof(Offsets))]
    public void CopyInline_copies_exactly_the_source_bytes_past_the_inline_limit(int offset)
    {
        var random = new Random(offset + 100);
        int limit = InlinedBytes.InlineLimit;
        int[] lengths = [.. Enumerable.Range(limit - 70, 140), .. Enumerable.Range((2 * limit) - 70, 140), 4088, 4096, 8192 + 9];
        foreach (int length in lengths)
        {
            byte[] source = new byte[length + offset];
            random.NextBytes(source);
            byte[] destination = new byte[offset + length + (2 * Guard)];
            destination.AsSpan().Fill(0xee);

            InlinedBytes.CopyInline(ref source[offset], ref destination[Guard + offset], (nuint)length);

            Assert.True(destination.AsSpan(Guard + offset, length).SequenceEqual(source.AsSpan(offset, length)), $"length {length}, offset {offset}");
            Assert.True(destination.AsSpan(0, Guard + offset).IndexOfAnyExcept((byte)0xee) < 0, $"bytes before the range changed (length {length})");
            Assert.True(destination.AsSpan(Guard + offset + length).IndexOfAnyExcept((byte)0xee) < 0, $"bytes after the range changed (length {length})");
        }
    }

    [Theory]
    [InlineData(5, 0)]
    [InlineData(0, 5)]
    [InlineData(40, 8)]
    [InlineData(8, 40)]
    public void Copy_between_overlapping_ranges_behaves_as_memmove(int from, int to)
    {
        byte[] expected = new byte[200];
        for (int i = 0; i < expected.Length; i++)
        {
            expected[i] = (byte)i;
        }

        byte[] actual = (byte[])expected.Clone();
        expected.AsSpan(from, 100).CopyTo(expected.AsSpan(to, 100));

        InlinedBytes.Copy(actual.AsSpan(from, 100), actual.AsSpan(to, 100));

        Assert.Equal(expected, actual);
    }

    [Fact]
    public void Copy_into_a_shorter_destination_throws()
        => Assert.Throws<ArgumentException>(() => InlinedBytes.Copy(new byte[10], new byte[9]));

    /// <summary>Clears <paramref name="length"/> bytes at <see cref="Guard"/> + <paramref name="offset"/> of a buffer of 0xee: exactly those bytes become zero.</summary>
    private static void AssertClearsExactly(byte[] buffer, int offset, int length)
    {
        buffer.AsSpan().Fill(0xee);
        fixed (byte* p = buffer)
        {
            InlinedBytes.Clear(p + Guard + offset, length);
        }

        Assert.True(buffer.AsSpan(Guard + offset, length).IndexOfAnyExcept((byte)0) < 0, $"length {length}: not all zero");
        Assert.True(buffer.AsSpan(0, Guard + offset).IndexOfAnyExcept((byte)0xee) < 0, $"bytes before the range changed (length {length})");
        Assert.True(buffer.AsSpan(Guard + offset + length).IndexOfAnyExcept((byte)0xee) < 0, $"bytes after the range changed (length {length})");
    }
}
