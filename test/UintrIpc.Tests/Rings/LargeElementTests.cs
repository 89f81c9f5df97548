using System.Runtime.CompilerServices;
using UintrIpc.Memory;
using UintrIpc.Rings;

namespace UintrIpc.Tests.Rings;

/// <summary>
/// Elements of 1 KiB and more are copied into and out of their slots by ElementCopy's vector
/// loop: every word must arrive, at every slot of several laps (a 4,104-byte element makes
/// each slot start at another offset in its cache line), through every copying read and write.
/// </summary>
public sealed class LargeElementTests
{
    private const int Capacity = 8;
    private const int Laps = 5;

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Single_writes_and_reads_carry_every_word(bool multipleProducers)
    {
        using var region = SharedRegion.CreateAnonymous(SlotRing<Large>.Part(Capacity, multipleProducers));
        var ring = new SlotRing<Large>(region);
        for (int n = 0; n < Capacity * Laps; n++)
        {
            Assert.True(ring.TryWrite(Large.Of(n)));
            Assert.True(ring.TryWrite(Large.Of(n + 1000)));
            Assert.True(ring.TryRead(out Large first));
            Assert.True(ring.TryRead(out Large second));
            first.AssertIs(n);
            second.AssertIs(n + 1000);
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Batch_writes_and_reads_carry_every_word(bool multipleProducers)
    {
        using var region = SharedRegion.CreateAnonymous(SlotRing<Large>.Part(Capacity, multipleProducers));
        var ring = new SlotRing<Large>(region);
        var batch = new Large[Capacity - 3];
        var read = new Large[Capacity];
        for (int lap = 0; lap < Laps * 2; lap++)
        {
            for (int i = 0; i < batch.Length; i++)
            {
                batch[i] = Large.Of((lap * 100) + i);
            }

            Assert.Equal(batch.Length, ring.TryWrite(batch));
            Assert.Equal(batch.Length, ring.TryRead(read));
            for (int i = 0; i < batch.Length; i++)
            {
                read[i].AssertIs((lap * 100) + i);
            }
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void An_empty_poll_leaves_the_item_as_it_was(bool multipleProducers)
    {
        // A spinning consumer polls TryRead: clearing a 4 KiB item on every empty poll cost more
        // than the poll itself (the C consumer only pauses). The item is not written then.
        using var region = SharedRegion.CreateAnonymous(SlotRing<Large>.Part(Capacity, multipleProducers));
        var ring = new SlotRing<Large>(region);
        Large item = Large.Of(7);
        Assert.False(ring.TryRead(out item));
        item.AssertIs(7);

        Assert.True(ring.TryWrite(Large.Of(8)));
        Assert.True(ring.TryRead(out item));
        item.AssertIs(8);
        Assert.False(ring.TryRead(out item));
        item.AssertIs(8);
    }

    [Fact]
    public void A_channel_reader_still_gives_default_when_nothing_is_waiting()
    {
        // ChannelReader<T>.TryRead's contract: the item is default when the read fails.
        using var channel = UintrIpc.Channels.IpcChannel.CreateBounded<Large>(Capacity);
        Assert.True(channel.Writer.TryWrite(Large.Of(9)));
        Assert.True(channel.Reader.TryRead(out Large item));
        item.AssertIs(9);
        Assert.False(channel.Reader.TryRead(out item));
        for (int i = 0; i < 513; i++)
        {
            Assert.True(item[i] == 0, $"word {i} of a failed read: {item[i]:x}, not default");
        }
    }

    /// <summary>4,104 bytes: above the vector loop's minimum, and not a multiple of a cache line.</summary>
    [InlineArray(513)]
    private struct Large
    {
        private long _word;

        public static Large Of(int n)
        {
            var large = default(Large);
            for (int i = 0; i < 513; i++)
            {
                large[i] = Word(n, i);
            }

            return large;
        }

        public readonly void AssertIs(int n)
        {
            for (int i = 0; i < 513; i++)
            {
                Assert.True(this[i] == Word(n, i), $"element {n}, word {i}: {this[i]:x} instead of {Word(n, i):x}");
            }
        }

        private static long Word(int n, int i) => unchecked(((long)n << 32) ^ (i * 0x9E3779B1L) ^ 0x5A5A);
    }
}
