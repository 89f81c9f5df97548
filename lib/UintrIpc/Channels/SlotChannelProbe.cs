using UintrIpc.Rings;

namespace UintrIpc.Channels;

/// <summary>The probe of a channel of T's reader: its ring's next slot, its positions and the completion flag.</summary>
internal readonly struct SlotChannelProbe<T>(SlotRing<T> ring, ChannelCore channel) : IChannelProbe
    where T : unmanaged
{
    public bool HasData => ring.CanRead;

    public bool IsCompleted => channel.IsCompleted;

    // Every claimed position was consumed (head == tail, acquire loads).
    public bool IsDrained => ring.Count == 0;

    public bool HasWork => ring.CanRead || (channel.IsCompleted && IsDrained);

    public bool TrySkipDeadClaim() => ring.Engine.TrySkipDeadClaim();
}
