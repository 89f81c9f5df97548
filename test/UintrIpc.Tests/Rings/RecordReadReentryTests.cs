using UintrIpc.Channels;
using UintrIpc.Memory;
using UintrIpc.Rings;
using UintrIpc.Signaling;
using UintrIpc.Tests.Infrastructure;

namespace UintrIpc.Tests.Rings;

/// <summary>
/// A handler of a record ring's Read that reads the same ring: Read releases its records only
/// when it returns, so the inner read would start at the same head (the messages handed out
/// twice) and the outer Read's release would zero bytes the inner one gave back and a producer
/// may have written since (the consumer then waits at a zero header for good). Such a read is
/// refused, and every message written is read exactly once.
/// </summary>
public sealed class RecordReadReentryTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_read_from_the_handler_is_refused_and_every_message_is_read_once(bool multi)
    {
        PartKind kind = multi ? PartKind.MpscRecords : PartKind.SpscRecords;
        // 256 bytes, 32-byte messages in 40-byte records: six fill 240, the seventh needs 16 of padding and 40.
        using var region = SharedRegion.CreateAnonymous(RecordRingUnderTest.Part(kind, 256));
        var ring = RecordRingUnderTest.Attach(kind, region);
        var written = new List<int>();
        var read = new List<int>();
        for (int type = 0; type < 6; type++)
        {
            Assert.True(ring.TryWrite(type, new byte[32]));
            written.Add(type);
        }

        var handler = new ReadingAgainHandler(ring, read, written);
        Assert.Equal(6, ring.Read(ref handler));

        Assert.True(ring.TryWrite(8, new byte[32])); // room: the six were released
        written.Add(8);
        var rest = new CollectingHandler([]);
        ring.Read(ref rest);
        read.AddRange(rest.Messages.Select(m => m.Type));

        Assert.Equal(string.Join(",", written), string.Join(",", read)); // none twice, none lost
        Assert.Equal(ring.ProducerPosition, ring.ConsumerPosition);
        Assert.Equal(typeof(InvalidOperationException), handler.Inner.Outcome);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_channel_reader_refuses_a_read_from_its_handler(bool multipleWriters)
    {
        using var channel = IpcChannel.CreateMessages(new IpcChannelOptions { BufferSize = 4096, MaxMessageLength = 256, MultipleWriters = multipleWriters, Doorbell = DoorbellKind.Futex });
        for (int type = 0; type < 3; type++)
        {
            Assert.True(channel.Writer.TryWrite(type, new byte[16]));
        }

        var handler = new ChannelReadingAgainHandler(channel.Reader, []);
        Assert.Equal(3, channel.Reader.Read(ref handler));
        Assert.Equal([0, 1, 2], handler.Types);
        Assert.Equal(typeof(InvalidOperationException), handler.Outcome);
        Assert.False(channel.Reader.TryRead(out int _, new byte[256], out _)); // nothing handed out twice
    }

    [Fact]
    public void A_handler_that_disposes_every_end_of_the_channel_leaves_the_mapping_to_its_read()
    {
        // The reader's lease keeps the mapping while Read walks on to the next record and its
        // finally releases what was read: a handler that disposed the last holders would leave
        // Read touching unmapped memory (the process dies). The reader's Dispose is refused
        // there (nothing released, as on a wrong thread); after Read returns it goes through.
        var channel = IpcChannel.CreateMessages(new IpcChannelOptions { BufferSize = 4096, MaxMessageLength = 256, Doorbell = DoorbellKind.Futex });
        for (int type = 0; type < 3; type++)
        {
            Assert.True(channel.Writer.TryWrite(type, new byte[16]));
        }

        IpcMessageReader reader = channel.Reader;
        var handler = new DisposingHandler(channel, []);
        Assert.Equal(3, reader.Read(ref handler));
        Assert.Equal([0, 1, 2], handler.Types);
        Assert.Equal(typeof(InvalidOperationException), handler.Outcome); // the channel's Dispose: its reader refused

        Assert.False(reader.TryRead(out int _, new byte[256], out _));
        reader.Dispose();
        Assert.Throws<ObjectDisposedException>(() => reader.TryRead(out int _, new byte[256], out _));
    }

    /// <summary>On the first message, reads the ring again and (as a producer on the same thread) writes into the room that read gave back.</summary>
    private struct ReadingAgainHandler(RecordRingUnderTest ring, List<int> read, List<int> written) : IRecordHandler
    {
        public InnerRead Inner;

        public void Handle(int type, ReadOnlySpan<byte> payload)
        {
            read.Add(type);
            if (type != 0)
            {
                return;
            }

            try
            {
                if (ring.TryRead(out int again, new byte[64], out _))
                {
                    read.Add(again);
                }

                Inner.Outcome = typeof(void);
            }
            catch (Exception e)
            {
                Inner.Outcome = e.GetType();
            }

            if (ring.TryWrite(7, new byte[32]))
            {
                written.Add(7);
            }
        }
    }

    private struct InnerRead
    {
        public Type? Outcome;
    }

    /// <summary>On the first message, disposes the writer, then the channel object (which disposes the reader).</summary>
    private struct DisposingHandler(IpcMessageChannel channel, List<int> types) : IRecordHandler
    {
        public Type? Outcome;

        public readonly List<int> Types => types;

        public void Handle(int type, ReadOnlySpan<byte> payload)
        {
            types.Add(type);
            if (type != 0)
            {
                return;
            }

            channel.Writer.Dispose();
            Outcome = Thrown.By(channel.Dispose);
        }
    }

    private struct ChannelReadingAgainHandler(IpcMessageReader reader, List<int> types) : IRecordHandler
    {
        public Type? Outcome;

        public readonly List<int> Types => types;

        public void Handle(int type, ReadOnlySpan<byte> payload)
        {
            types.Add(type);
            if (type != 0)
            {
                return;
            }

            try
            {
                if (reader.TryRead(out IpcMessage again))
                {
                    types.Add(again.Type);
                }

                Outcome = typeof(void);
            }
            catch (Exception e)
            {
                Outcome = e.GetType();
            }
        }
    }
}
