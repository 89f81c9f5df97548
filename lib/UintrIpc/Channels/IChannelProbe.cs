using UintrIpc.Signaling;

namespace UintrIpc.Channels;

/// <summary>
/// What a waiting consumer checks: data in its ring, or the channel completed and drained.
/// All are acquire reads of producer-written words with no side effect.
/// <see cref="IWaitProbe.HasWork"/> is the condition that ends a wait:
/// <c>HasData || (IsCompleted &amp;&amp; IsDrained)</c>.
/// </summary>
internal interface IChannelProbe : IWaitProbe
{
    /// <summary>Whether a message can be read now (the ring's CanRead).</summary>
    bool HasData { get; }

    /// <summary>Whether the channel was completed (read it before the ring).</summary>
    bool IsCompleted { get; }

    /// <summary>
    /// Whether every claimed position was consumed (head == tail). After completion, claims made
    /// before it may still be in progress: the end is reached only when the ring is drained.
    /// </summary>
    bool IsDrained { get; }

    /// <summary>MPSC: skips the claim holding up the ring when its producer is known to be dead (uintripc.h 2f).</summary>
    bool TrySkipDeadClaim();
}
