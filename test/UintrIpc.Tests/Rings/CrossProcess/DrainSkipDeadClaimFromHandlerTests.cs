using UintrIpc.Channels;
using UintrIpc.Memory;
using UintrIpc.Rings;
using UintrIpc.Tests.Infrastructure;

namespace UintrIpc.Tests.Rings.CrossProcess;

/// <summary>
/// A Drain handler skips the claim of a producer process killed inside it (TrySkipDeadClaim of
/// its own reader) just as the drain reaches its limit: the count stays the elements handed over,
/// and the element after the skipped slot is read next, once.
/// </summary>
[Collection(CrossProcessCollection.Name)]
public sealed class DrainSkipDeadClaimFromHandlerTests : IDisposable
{
    private readonly ShmNames _names = new();
    private readonly List<PeerProcess> _peers = [];

    [Fact]
    public void A_dead_claim_skipped_by_the_handler_at_the_limit_is_not_counted()
    {
        string name = _names.New("drainskip");
        using var region = SharedRegion.CreateNamed(name, 0, SlotRing<RingTestMessage>.Part(64, multipleProducers: true));
        using var producer = new SlotRing<RingTestMessage>(region);
        using var consumer = new SlotRing<RingTestMessage>(region);

        Assert.True(producer.TryWrite(RingTestMessage.Of(1, 0))); // position 0
        Assert.True(producer.TryWrite(RingTestMessage.Of(1, 1))); // position 1
        var victim = PeerProcess.Start(null, "ring-claim-and-hold", name, "slots", "2", "120000");
        _peers.Add(victim);
        victim.WaitForOutput("claimed");                          // position 2, held
        Assert.True(producer.TryWrite(RingTestMessage.Of(1, 2))); // position 3
        victim.Kill();

        var handler = new SkippingHandler(consumer, skipAfter: 2);
        Assert.Equal(2, consumer.Drain(ref handler, 2));
        Assert.Equal(2, handler.Seen);
        Assert.True(handler.Skipped, "the dead producer's claim was not skipped");

        Assert.True(consumer.TryRead(out var next));
        Assert.Equal(RingTestMessage.Of(1, 2), next);
        Assert.False(consumer.TryRead(out _));
        Assert.Equal(4, consumer.ConsumerPosition);
    }

    public void Dispose()
    {
        foreach (var peer in _peers)
        {
            peer.Dispose();
        }

        _names.Dispose();
    }

    private struct SkippingHandler(SlotRing<RingTestMessage> reader, int skipAfter) : ISlotHandler<RingTestMessage>
    {
        public int Seen;
        public bool Skipped;

        public void Handle(in RingTestMessage item)
        {
            Assert.Equal(RingTestMessage.Of(1, Seen), item);
            Seen++;
            if (Seen == skipAfter)
            {
                Skipped = reader.TrySkipDeadClaim(); // the next position is the killed producer's claim
            }
        }
    }
}
