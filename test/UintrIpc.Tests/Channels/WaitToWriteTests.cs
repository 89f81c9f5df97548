using UintrIpc.Channels;
using UintrIpc.Signaling;
using UintrIpc.Tests.Signaling;

namespace UintrIpc.Tests.Channels;

/// <summary>
/// The writers' WaitToWrite (user43: no blocking way to wait for room before a batch claim):
/// true once the reader frees room, with the exact room it frees; false on timeout and on
/// completion; the argument and disposal rules of the readers' WaitToRead. The cross-process
/// cases (a dead reader, Dispose from another thread) are in ChannelTrustTests.
/// </summary>
public sealed class WaitToWriteTests
{
    private const int Capacity = 16;
    /// <summary>Measured from the last progress; the emulated machine is slow.</summary>
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(60);

    public static TheoryData<bool, bool> Kinds => new() { { false, false }, { false, true }, { true, false }, { true, true } };

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task Waits_until_the_reader_frees_room_and_then_exactly_that_room_is_free(bool messages, bool multipleProducers)
    {
        using var c = ChannelUnderTest.Create(messages, DoorbellKind.Futex, multipleProducers, Capacity);
        Assert.True(c.WaitToWrite(TimeSpan.Zero)); // empty: at once
        Assert.Equal(Capacity, FillRing(c, first: 0));
        Assert.False(c.WaitToWrite(TimeSpan.Zero));
        Assert.False(c.WaitToWrite(TimeSpan.FromMilliseconds(20))); // full: the timeout passes

        var waiter = Task.Factory.StartNew(() => c.WaitToWrite(Long), TaskCreationOptions.LongRunning);
        await Task.WhenAny(waiter, Task.Delay(50));
        Assert.False(waiter.IsCompleted, "WaitToWrite returned while the ring was full");
        const int Freed = 3;
        for (long i = 0; i < Freed; i++)
        {
            Assert.True(c.TryRead(out long value));
            Assert.Equal(i, value);
        }

        Assert.True(await waiter.WaitAsync(Long)); // TimeoutException: the wait did not see the reader's progress
        Assert.Equal(Freed, FillRing(c, first: Capacity)); // exactly the room freed
        Assert.False(c.WaitToWrite(TimeSpan.Zero));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_message_writer_waits_for_the_bytes_it_asks_for_not_one_record(bool multipleProducers)
    {
        using var c = (MessageChannelUnderTest)ChannelUnderTest.Create(messages: true, DoorbellKind.Futex, multipleProducers, Capacity);
        var writer = c.Producer;
        int record = c.RecordBytes;
        Assert.Equal(Capacity, FillRing(c, first: 0));
        Assert.True(c.TryRead(out _));
        Assert.True(c.TryRead(out _));
        Assert.True(writer.WaitToWrite(2 * record, TimeSpan.Zero));
        Assert.False(writer.WaitToWrite(3 * record, TimeSpan.Zero)); // two records free, not three
        Assert.True(c.TryRead(out _));
        Assert.True(writer.WaitToWrite(3 * record, TimeSpan.Zero));
        Assert.True(writer.TryClaimBatch(3 * record, out RecordBatch batch));
        for (int i = 0; i < 3; i++)
        {
            Assert.True(batch.TryAppend(1, 8, out Span<byte> payload));
            BitConverter.TryWriteBytes(payload, (long)(Capacity + i));
        }

        batch.Commit();
        Assert.False(writer.WaitToWrite(record, TimeSpan.Zero));
    }

    /// <summary>
    /// A range of more than half the ring that fits only from the start of the ring (uintripc.h 2e):
    /// the wait says go once the claim can pad to the lap's end; the claim pads and fails; the next
    /// wait waits for the range at the start, which the reader frees by consuming the padding.
    /// </summary>
    [Fact]
    public void A_range_that_fits_only_from_the_start_waits_for_the_padding_then_for_the_range()
    {
        using var c = (MessageChannelUnderTest)ChannelUnderTest.Create(messages: true, DoorbellKind.Futex, multipleProducers: false, Capacity);
        var writer = c.Producer;
        int bytes = 12 * c.RecordBytes; // 192 of 256
        for (long i = 0; i < 5; i++)
        {
            Assert.True(c.TryWrite(i));
            Assert.True(c.TryRead(out _));
        }

        // head = tail = 80: 176 bytes to the end, too few; the padding fits.
        Assert.True(writer.WaitToWrite(bytes, TimeSpan.Zero));
        Assert.False(writer.TryClaimBatch(bytes, out _)); // pads to the lap's end
        Assert.False(writer.WaitToWrite(bytes, TimeSpan.FromMilliseconds(20))); // the padding is unread
        Assert.False(c.TryRead(out _)); // consumes the padding
        Assert.True(writer.WaitToWrite(bytes, TimeSpan.Zero));
        Assert.True(writer.TryClaimBatch(bytes, out RecordBatch batch));
        batch.Dispose();
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task A_completed_channel_returns_false_at_once_even_with_room_and_ends_a_waiting_writer(bool messages, bool multipleProducers)
    {
        using var c = ChannelUnderTest.Create(messages, DoorbellKind.Futex, multipleProducers, Capacity);
        Assert.Equal(Capacity, FillRing(c, first: 0));
        var waiter = Task.Factory.StartNew(() => c.WaitToWrite(Long), TaskCreationOptions.LongRunning);
        await Task.WhenAny(waiter, Task.Delay(50));
        Assert.False(waiter.IsCompleted, "WaitToWrite returned while the ring was full");
        Assert.True(c.TryComplete());
        Assert.False(await waiter.WaitAsync(Long)); // TimeoutException: the completion did not end the wait

        Assert.True(c.TryRead(out _)); // room now, but completed
        Assert.False(c.WaitToWrite(Long)); // at once: Long would fail the test's time limit otherwise
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Arguments_and_disposal_follow_WaitToRead(bool messages, bool multipleProducers)
    {
        using var c = ChannelUnderTest.Create(messages, DoorbellKind.Futex, multipleProducers, Capacity);
        // Refused even with room: every wait is bounded.
        Assert.Throws<ArgumentOutOfRangeException>(() => c.WaitToWrite(Timeout.InfiniteTimeSpan));
        Assert.Throws<ArgumentOutOfRangeException>(() => c.WaitToWrite(TimeSpan.FromTicks(-1)));
        Assert.True(c.WaitToWrite(TimeSpan.MaxValue));
        if (c is MessageChannelUnderTest m)
        {
            Assert.Throws<ArgumentOutOfRangeException>(() => m.Producer.WaitToWrite(7, TimeSpan.Zero));
            Assert.Throws<ArgumentOutOfRangeException>(() => m.Producer.WaitToWrite((Capacity * m.RecordBytes) + 1, TimeSpan.Zero));
            Assert.True(m.Producer.WaitToWrite(Capacity * m.RecordBytes, TimeSpan.Zero)); // the whole ring, empty
        }

        (c as SlotChannelUnderTest)?.Producer.Dispose();
        (c as MessageChannelUnderTest)?.Producer.Dispose();
        Assert.Throws<ObjectDisposedException>(() => c.WaitToWrite(TimeSpan.Zero));
    }

    /// <summary>Writes first, first + 1, ... until the ring refuses; returns how many.</summary>
    private static int FillRing(ChannelUnderTest c, long first)
    {
        int n = 0;
        while (c.TryWrite(first + n))
        {
            n++;
            Assert.True(n <= Capacity, "the ring took more than its capacity");
        }

        return n;
    }
}
