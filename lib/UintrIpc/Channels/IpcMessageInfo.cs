namespace UintrIpc.Channels;

/// <summary>What <see cref="IpcMessageConsumer.ReadAsync(Memory{byte}, CancellationToken)"/> copied into the caller's buffer.</summary>
/// <param name="Type">The type the producer gave the message (0 or more).</param>
/// <param name="Length">Bytes of payload written to the buffer.</param>
public readonly record struct IpcMessageInfo(int Type, int Length);
