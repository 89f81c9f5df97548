namespace UintrIpc.Signaling;

/// <summary>
/// Tells a consumer that is about to sleep whether work has arrived: the last check of the
/// wake-up protocol, made after the consumer announced its sleep and issued a full fence
/// (see <see cref="WaitBlock.Park{TProbe}(ref TProbe, DoorbellReceiver, TimeSpan)"/>).
/// </summary>
/// <remarks>
/// <para>
/// <see cref="HasWork"/> must read the producer-written state with acquire semantics
/// (<c>Volatile.Read</c>) and must not consume anything. For a ring
/// it is the consumer's <c>CanRead</c>: poll the sequence or length word of the next slot or
/// record. A ring consumer type can implement this interface directly
/// (<c>bool IWaitProbe.HasWork => CanRead;</c>), or a small struct can wrap it.
/// </para>
/// <para>
/// Pass a struct where possible: generic methods constrained on this interface are then
/// specialised per probe type and the call is inlined, with no interface dispatch.
/// </para>
/// </remarks>
internal interface IWaitProbe
{
    /// <summary>Whether at least one message is ready to be consumed (acquire read; no side effects).</summary>
    bool HasWork { get; }
}
