namespace UintrIpc.Channels;

/// <summary>The probe of a slot channel's consumer: its ring's next slot, its positions and the completion flag.</summary>
internal readonly struct SlotChannelProbe<T>(SlotRingAccess<T> ring, ChannelCore channel) : IChannelProbe
    where T : unmanaged
{
    public bool HasData => ring.CanRead;

    public bool IsCompleted => channel.IsCompleted;

    public bool IsDrained => ring.IsDrained;

    public bool HasWork => ring.CanRead || (channel.IsCompleted && ring.IsDrained);

    public bool TrySkipDeadClaim() => ring.TrySkipDeadClaim();
}
