using UintrIpc.Rings;

namespace UintrIpc.Channels;

/// <summary>
/// Room claimed in a message channel for one message, written in place through
/// <see cref="Payload"/> (zero copy), then published with <see cref="Commit"/>, which also wakes
/// the reader if it sleeps, or dropped with <see cref="Abort"/>. Returned by
/// <see cref="IpcMessageWriter.TryClaim"/>. Disposing a claim that was neither committed nor
/// aborted aborts it, so a <c>using</c> makes the claim exception-safe.
/// </summary>
/// <remarks>
/// Complete every claim exactly once and soon, on the thread that claimed it (Dispose on another
/// thread does nothing). On a multi-writer channel an abandoned claim blocks the reader at
/// that message, so dispose every claim:
/// <!-- snippet-context writer
/// using var channel = IpcChannel.CreateMessages();
/// IpcMessageWriter writer = channel.Writer;
/// int type = 1, length = 64;
/// static void Fill(Span<byte> payload) => payload.Fill(7);
/// -->
/// <!-- snippet: fragment writer -->
/// <code>
/// if (writer.TryClaim(type, length, out MessageClaim claim))
/// {
///     using (claim) { Fill(claim.Payload); claim.Commit(); } // an exception in Fill aborts it
/// }
/// </code>
/// </remarks>
public ref struct MessageClaim
{
    private readonly ProducerCore? _producer;
    private readonly long _id;
    /// <summary>Whether the record also holds the message's checksum, after the payload (uintripc.h 4a).</summary>
    private readonly bool _checksum;
    private RecordClaim _claim;

    internal MessageClaim(RecordClaim claim, ProducerCore producer, bool checksum)
    {
        _claim = claim;
        _producer = producer;
        _checksum = checksum;
        _id = OpenClaims.Open();
    }

    /// <summary>The message bytes to fill, in shared memory, exactly the claimed length.</summary>
    /// <exception cref="InvalidOperationException">The claim is completed (or this is a default value).</exception>
    public readonly Span<byte> Payload => _checksum ? _claim.Payload[..^MessageChecksum.Size] : _claim.Payload;

    /// <summary>Bytes of the payload.</summary>
    public readonly int Length => _checksum ? _claim.Length - MessageChecksum.Size : _claim.Length;

    /// <summary>Whether <see cref="Commit"/> or <see cref="Abort"/> was called (on this claim or a copy of it, on this thread).</summary>
    public readonly bool IsCompleted => _claim.IsCompleted || (_producer is not null && !OpenClaims.IsOpen(_id));

    /// <summary>Publishes the message and wakes the reader if it sleeps.</summary>
    /// <exception cref="InvalidOperationException">The claim was completed already, discarded by a later claim (single writer), or taken over by <see cref="IpcMessageReader.TryUnblock(TimeSpan)"/> (several writers).</exception>
    public void Commit()
    {
        Close();
        if (_checksum)
        {
            MessageChecksum.Seal(_claim.Parts.Type, _claim.Payload); // computed at commit, over what was written
        }

        _claim.Commit();
        _producer!.Wake();
    }

    /// <summary>Drops the message (its room becomes padding the reader skips) and wakes the reader if it sleeps behind it.</summary>
    /// <exception cref="InvalidOperationException">The claim was completed already (also through a copy).</exception>
    public void Abort()
    {
        Close();
        _claim.Abort();
        // Messages committed after this one waited behind it (MPSC), and a consumer of a
        // completed channel waits for every claim to end.
        _producer!.Wake();
    }

    /// <summary>
    /// Aborts the claim unless it was committed or aborted (through any copy); nothing for a default
    /// value, and nothing once the writer was disposed (its Dispose left the claim to the reader,
    /// which skips it; the writer's doorbell and maybe the memory are gone).
    /// </summary>
    public void Dispose()
    {
        // Close first: exactly one copy (this thread) wins the right to abort.
        if (_producer is not null && !_claim.IsCompleted && OpenClaims.Close(_id) && !_producer.IsDisposed)
        {
            _claim.Dispose(); // decided from the ring's state: a claim the reader took over is left alone, no throw
            _producer.Wake();
        }
    }

    /// <summary>Ends the claim's registration; a copy that was completed already (or another thread) cannot complete it again.</summary>
    private readonly void Close()
    {
        if (_producer is not null && !_claim.IsCompleted && !OpenClaims.Close(_id))
        {
            throw new InvalidOperationException("The claim was already committed or aborted (through a copy), or this is not the thread that claimed it.");
        }
    }
}
