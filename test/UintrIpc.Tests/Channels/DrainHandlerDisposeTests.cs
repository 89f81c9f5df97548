using UintrIpc.Channels;
using UintrIpc.Signaling;
using UintrIpc.Tests.Infrastructure;

namespace UintrIpc.Tests.Channels;

/// <summary>
/// A handler of a channel reader's Drain that reads the reader, or disposes every end of the channel: Drain goes on
/// to the next slot and publishes its position when the handler returns, in the mapping the
/// reader's lease keeps. Were that lease released, the process would die on unmapped memory; the
/// reader's Dispose is refused there (nothing released), and goes through after Drain returns.
/// </summary>
public sealed class DrainHandlerDisposeTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_drain_handler_that_disposes_every_end_of_the_channel_leaves_the_mapping_to_the_drain(bool multipleWriters)
    {
        var channel = IpcChannel.CreateBounded<long>(new IpcChannelOptions { Capacity = 16, MultipleWriters = multipleWriters, Doorbell = DoorbellKind.Futex });
        for (long i = 0; i < 3; i++)
        {
            Assert.True(channel.Writer.TryWrite(i));
        }

        IpcChannelReader<long> reader = channel.Reader;
        var handler = new DisposingHandler(channel, []);
        Assert.Equal(3, reader.Drain(ref handler));
        Assert.Equal([0, 1, 2], handler.Items);
        Assert.Equal(typeof(InvalidOperationException), handler.Outcome); // the channel's Dispose: its reader refused

        Assert.False(reader.TryRead(out long _));
        reader.Dispose();
        Assert.Throws<ObjectDisposedException>(() => reader.TryRead(out long _));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_read_from_a_drain_handler_is_refused_and_nothing_is_handed_out_twice(bool multipleWriters)
    {
        // Drain keeps its position in a register: a read from its handler would take the next
        // element and Drain would hand it out again (or, once a writer reused the slot, misjudge it).
        using var channel = IpcChannel.CreateBounded<long>(new IpcChannelOptions { Capacity = 16, MultipleWriters = multipleWriters, Doorbell = DoorbellKind.Futex });
        for (long i = 0; i < 3; i++)
        {
            Assert.True(channel.Writer.TryWrite(i));
        }

        var handler = new ReadingHandler(channel.Reader, []);
        Assert.Equal(3, channel.Reader.Drain(ref handler));
        Assert.Equal([0, 1, 2], handler.Items);
        Assert.Equal(typeof(InvalidOperationException), handler.Outcome);
        Assert.False(channel.Reader.TryRead(out long _));
    }

    /// <summary>On the first element, reads the reader again (one element, then a span).</summary>
    private struct ReadingHandler(IpcChannelReader<long> reader, List<long> items) : ISlotHandler<long>
    {
        public Type? Outcome;

        public readonly List<long> Items => items;

        public void Handle(in long item)
        {
            items.Add(item);
            if (item != 0)
            {
                return;
            }

            try
            {
                if (reader.TryRead(out long again))
                {
                    items.Add(again);
                }

                Outcome = typeof(void);
            }
            catch (Exception e)
            {
                Outcome = e.GetType();
            }

            try
            {
                long[] more = new long[4];
                int n = reader.TryRead(more);
                items.AddRange(more.AsSpan(0, n).ToArray());
            }
            catch (InvalidOperationException)
            {
            }
        }
    }

    /// <summary>On the first element, disposes the writer, then the channel object (which disposes the reader).</summary>
    private struct DisposingHandler(IpcChannel<long> channel, List<long> items) : ISlotHandler<long>
    {
        public Type? Outcome;

        public readonly List<long> Items => items;

        public void Handle(in long item)
        {
            items.Add(item);
            if (item != 0)
            {
                return;
            }

            channel.Writer.Dispose();
            Outcome = Thrown.By(channel.Dispose);
        }
    }
}
