using UintrIpc.Channels;
using UintrIpc.Memory;
using UintrIpc.Rings;
using Xunit;

namespace UintrIpc.Tests.Rings;

// A Drain handler may unblock its own reader (TryUnblock, TrySkipDeadClaim): the slot it skips is
// not an element, so Drain's count stays the number of elements handed to the handler (at most
// the limit), also when the limit is reached right after the skip.
public sealed class DrainUnblockFromHandlerTests
{
    [Fact]
    public void A_handler_that_unblocks_at_the_limit_does_not_inflate_the_count()
    {
        using var region = SharedRegion.CreateAnonymous(SlotRing<long>.Part(8, multipleProducers: true));
        using var consumerMapping = SharedRegion.Attach(region.FileHandle);
        using var alive = new SlotRing<long>(region);
        using var dead = new SlotRing<long>(region);
        using var consumer = new SlotRing<long>(consumerMapping);

        Assert.Equal(2, alive.TryWrite([1, 2]));   // positions 0, 1
        Assert.True(dead.TryClaim(out var claim)); // position 2: claimed, never published
        claim.Item = -1;
        Assert.True(alive.TryWrite(3));            // position 3

        var handler = new UnblockingHandler(consumer, unblockAfter: 2);
        Assert.Equal(2, consumer.Drain(ref handler, 2));
        Assert.Equal(2, handler.Seen);

        // The skipped slot is stepped over; nothing is lost or handed out twice.
        var rest = new long[4];
        Assert.Equal(1, consumer.TryRead(rest));
        Assert.Equal(3, rest[0]);
        Assert.Equal(4, consumer.ConsumerPosition);
    }

    [Fact]
    public void A_handler_that_unblocks_before_the_limit_gets_the_elements_after_the_skip()
    {
        using var region = SharedRegion.CreateAnonymous(SlotRing<long>.Part(8, multipleProducers: true));
        using var consumerMapping = SharedRegion.Attach(region.FileHandle);
        using var alive = new SlotRing<long>(region);
        using var dead = new SlotRing<long>(region);
        using var consumer = new SlotRing<long>(consumerMapping);

        Assert.True(alive.TryWrite(1));            // position 0
        Assert.True(dead.TryClaim(out var claim)); // position 1: claimed, never published
        claim.Item = -1;
        Assert.Equal(2, alive.TryWrite([2, 3]));   // positions 2, 3

        var handler = new UnblockingHandler(consumer, unblockAfter: 1);
        Assert.Equal(3, consumer.Drain(ref handler, 8));
        Assert.Equal(3, handler.Seen);
        Assert.Equal(6, handler.Sum);
        Assert.Equal(4, consumer.ConsumerPosition);
    }

    private struct UnblockingHandler(SlotRing<long> reader, int unblockAfter) : ISlotHandler<long>
    {
        public int Seen;
        public long Sum;

        public void Handle(in long item)
        {
            Seen++;
            Sum += item;
            if (Seen == unblockAfter)
            {
                Assert.True(reader.TryUnblock(TimeSpan.Zero)); // the next position is the dead claim
            }
        }
    }
}
