using UintrIpc.Rings;

namespace UintrIpc.Channels;

/// <summary>
/// Room claimed in a message channel for one message, written in place through
/// <see cref="Payload"/> (zero copy), then published with <see cref="Commit"/>, which also wakes
/// the consumer if it sleeps, or dropped with <see cref="Abort"/>. Returned by
/// <see cref="IpcMessageProducer.TryClaim"/>.
/// </summary>
/// <remarks>
/// Complete every claim exactly once and soon, on the thread that claimed it. On a
/// multi-producer channel an abandoned claim blocks the consumer at that message, so wrap the
/// writing in try/catch and <see cref="Abort"/> on failure. See <see cref="RecordClaim"/>.
/// </remarks>
public ref struct MessageClaim
{
    private readonly IpcMessageProducer? _producer;
    private RecordClaim _claim;

    internal MessageClaim(RecordClaim claim, IpcMessageProducer producer)
    {
        _claim = claim;
        _producer = producer;
    }

    /// <summary>The message bytes to fill, in shared memory, exactly the claimed length.</summary>
    /// <exception cref="InvalidOperationException">The claim is completed (or this is a default value).</exception>
    public readonly Span<byte> Payload => _claim.Payload;

    /// <summary>Bytes of the payload.</summary>
    public readonly int Length => _claim.Length;

    /// <summary>Whether <see cref="Commit"/> or <see cref="Abort"/> was called.</summary>
    public readonly bool IsCompleted => _claim.IsCompleted;

    /// <summary>Publishes the message and wakes the consumer if it sleeps.</summary>
    /// <exception cref="InvalidOperationException">The claim was completed already, or superseded (see <see cref="RecordClaim.Commit"/>).</exception>
    public void Commit()
    {
        _claim.Commit();
        _producer!.WakeConsumer();
    }

    /// <summary>Drops the message (its room becomes padding the consumer skips).</summary>
    /// <exception cref="InvalidOperationException">The claim was completed already.</exception>
    public void Abort() => _claim.Abort();
}
