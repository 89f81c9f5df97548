using UintrIpc.Rings;

namespace UintrIpc.Channels;

/// <summary>The probe of a message channel's consumer: its record ring (padding looked through), its positions and the completion flag.</summary>
internal readonly struct MessageChannelProbe(RecordRingEngine ring, ChannelCore channel) : IChannelProbe
{
    public bool HasData => ring.CanRead;

    public bool IsCompleted => channel.IsCompleted;

    // The tail (acquire) against our own head (2c): the shared head is only a published copy,
    // which a peer could move up to the tail to end the channel before its messages are read.
    public bool IsDrained => ring.ProducerPosition == ring.PrivateConsumerHead;

    public bool WasWritten => ring.PrivateConsumerHead != 0 || ring.ProducerPosition != 0;

    // After completion, padding at head (a claim aborted because it came after the completion)
    // is work too: the read consumes it on the way to head == tail.
    public bool HasWork => ring.CanRead || (channel.IsCompleted && (ring.CanConsume || IsDrained));

    // The async waiter's forms: no side effect (CanRead keeps the reading thread's duties, 2c, 2g).
    public bool WatchHasData => ring.CanReadWhileWatching;

    public bool WatchHasWork => ring.CanReadWhileWatching || (channel.IsCompleted && (ring.CanConsumeWhileWatching || IsDrained));

    public bool TrySkipDeadClaim() => channel.MultipleProducers && ring.TrySkipDeadClaim();
}
