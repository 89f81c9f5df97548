using System.Threading.Channels;

namespace UintrIpc.Channels;

/// <summary>
/// <see cref="ChannelWriter{T}"/> over an <see cref="IpcProducer{T}"/>, so code written for
/// System.Threading.Channels can write to another process.
/// </summary>
/// <remarks>
/// <see cref="TryComplete"/> completes the channel for every producer; an exception passed to it
/// is not transmitted to the other process (the reader sees a normal completion).
/// </remarks>
internal sealed class IpcChannelWriter<T>(IpcProducer<T> producer) : ChannelWriter<T>
    where T : unmanaged
{
    public override bool TryWrite(T item) => producer.TryWrite(in item);

    public override ValueTask<bool> WaitToWriteAsync(CancellationToken cancellationToken = default) => producer.WaitToWriteAsync(cancellationToken);

    public override ValueTask WriteAsync(T item, CancellationToken cancellationToken = default) => producer.WriteAsync(item, cancellationToken);

    public override bool TryComplete(Exception? error = null) => producer.TryComplete();
}
