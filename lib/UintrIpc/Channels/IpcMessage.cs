namespace UintrIpc.Channels;

/// <summary>A message of an <see cref="IpcMessageChannel"/>: its type and its payload bytes.</summary>
/// <param name="Type">The type the writer gave it (0 or more).</param>
/// <param name="Payload">
/// Its bytes: a copy owned by the receiver (<see cref="IpcMessageReader.TryRead(out IpcMessage)"/>,
/// <see cref="IpcMessageReader.ReadAsync(CancellationToken)"/>), or the filled part of the
/// caller's buffer (<see cref="IpcMessageReader.ReadAsync(Memory{byte}, CancellationToken)"/>).
/// </param>
public readonly record struct IpcMessage(int Type, ReadOnlyMemory<byte> Payload);
