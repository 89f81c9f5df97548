using UintrIpc.Rings;

namespace UintrIpc.Channels;

/// <summary>The probe of a message channel's consumer: its record ring (padding looked through) and the completion flag.</summary>
internal readonly struct MessageChannelProbe(RecordRing ring, ChannelCore channel) : IChannelProbe
{
    public bool HasData => ring.CanRead;

    public bool IsCompleted => channel.IsCompleted;

    public bool HasWork => ring.CanRead || channel.IsCompleted;
}
