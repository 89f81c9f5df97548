namespace UintrIpc.Channels;

/// <summary>
/// Receives the messages that <see cref="Channels.IpcMessageReader.Read{THandler}(ref THandler, int)"/>
/// hands out, in place in shared memory.
/// </summary>
/// <remarks>
/// Implement it on a struct: <c>Read</c> is generic over the handler, so the call
/// is direct (and can be inlined), with no delegate or interface dispatch per message.
/// The struct is passed by reference, so it can count or accumulate in its own fields.
/// </remarks>
public interface IRecordHandler
{
    /// <summary>Handles one message.</summary>
    /// <param name="type">The message type given by the producer (>= 0).</param>
    /// <param name="payload">
    /// The message bytes, in shared memory: valid only during this call (copy what you keep),
    /// and written by another process, so treat them as untrusted input.
    /// </param>
    void Handle(int type, ReadOnlySpan<byte> payload);
}
