using UintrIpc.Signaling;

namespace UintrIpc.Channels;

/// <summary>
/// What a waiting consumer checks: data in its ring, or the channel completed and drained.
/// All are acquire reads of producer-written words. <see cref="HasData"/> and
/// <see cref="IWaitProbe.HasWork"/> of a record ring also keep the consumer's own duties when
/// they find nothing (finish an interrupted release, uintripc.h 2g; publish our head again over
/// a rewritten one, 2c), so only the reading thread calls them; a thread that waits on its behalf
/// (the async waiter) calls <see cref="WatchHasData"/> and <see cref="WatchHasWork"/>, which have
/// no side effect, and <see cref="TrySkipDeadClaim"/> only while the reading thread cannot read.
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

    /// <summary>
    /// Whether anything was ever written to the ring: our own head moved, or the tail (acquire, a
    /// peer's word: a lie makes a named reader take its writers for gone sooner, no worse than a
    /// released role lock). For the named writers' liveness (uintripc.h 1f), never per message.
    /// </summary>
    bool WasWritten { get; }

    /// <summary>
    /// <see cref="HasData"/> for a thread other than the reading one: no side effect. May be a
    /// spurious true (a look whose fix is the reading thread's), never a missed message.
    /// </summary>
    bool WatchHasData { get; }

    /// <summary><see cref="IWaitProbe.HasWork"/> for a thread other than the reading one: no side effect.</summary>
    bool WatchHasWork { get; }

    /// <summary>MPSC: skips the claim holding up the ring when its producer is known to be dead (uintripc.h 2f).</summary>
    bool TrySkipDeadClaim();
}
