using UintrIpc.Rings;

namespace UintrIpc.Channels;

/// <summary>The probe of a channel of T's reader: its ring's next slot, its positions and the completion flag.</summary>
internal readonly struct SlotChannelProbe<T>(SlotRing<T> ring, ChannelCore channel) : IChannelProbe
    where T : unmanaged
{
    public bool HasData => ring.Engine.CanRead;

    public bool IsCompleted => channel.IsCompleted;

    // Every claimed position was consumed: the tail (acquire) against our own head (2c), not the
    // shared copy a peer could move. An SPSC tail may lag the published sequences (2b), hence <=.
    public bool IsDrained => (ulong)ring.Engine.ProducerPosition <= ring.Engine.ConsumerHead;

    public bool WasWritten => ring.Engine.ConsumerHead != 0 || ring.Engine.ProducerPosition != 0;

    public bool HasWork => ring.Engine.CanRead || (channel.IsCompleted && IsDrained);

    // A slot ring's CanRead has no side effect (one acquire load): the same for the async waiter.
    public bool WatchHasData => HasData;

    public bool WatchHasWork => HasWork;

    public bool TrySkipDeadClaim() => ring.Engine.TrySkipDeadClaim();
}
