namespace UintrIpc.Channels;

/// <summary>A message read from an <see cref="IpcMessageChannel"/>, copied out of shared memory.</summary>
/// <param name="Type">The type the producer gave it (0 or more).</param>
/// <param name="Payload">Its bytes (a copy owned by the receiver).</param>
public readonly record struct IpcMessage(int Type, ReadOnlyMemory<byte> Payload);
