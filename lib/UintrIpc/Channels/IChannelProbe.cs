using UintrIpc.Signaling;

namespace UintrIpc.Channels;

/// <summary>
/// What a waiting consumer checks: data in its ring, or the channel completed. Both are
/// acquire reads of producer-written words with no side effect; <see cref="IWaitProbe.HasWork"/>
/// is "either", the condition that ends a wait.
/// </summary>
internal interface IChannelProbe : IWaitProbe
{
    /// <summary>Whether a message can be read now (the ring's CanRead).</summary>
    bool HasData { get; }

    /// <summary>Whether the channel was completed.</summary>
    bool IsCompleted { get; }
}
