using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Threading.Channels;

namespace UintrIpc.Channels;

/// <summary>
/// <see cref="ChannelReader{T}"/> over an <see cref="IpcConsumer{T}"/>, so code written for
/// System.Threading.Channels can read from another process.
/// </summary>
/// <remarks>
/// <see cref="Completion"/> completes (successfully) the first time a read through this adapter
/// finds the channel completed and drained; the producer side cannot transmit an exception.
/// </remarks>
internal sealed class IpcChannelReader<T>(IpcConsumer<T> consumer) : ChannelReader<T>
    where T : unmanaged
{
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public override Task Completion => _completion.Task;

    public override bool CanCount => true;

    public override int Count => consumer.Count;

    public override bool TryRead([MaybeNullWhen(false)] out T item)
    {
        if (consumer.TryRead(out item))
        {
            return true;
        }

        ObserveCompletion();
        return false;
    }

    public override ValueTask<bool> WaitToReadAsync(CancellationToken cancellationToken = default)
    {
        ValueTask<bool> wait = consumer.WaitToReadAsync(cancellationToken);
        if (wait.IsCompletedSuccessfully)
        {
            if (!wait.Result)
            {
                _completion.TrySetResult();
            }

            return wait;
        }

        return AwaitWait(wait);
    }

    public override ValueTask<T> ReadAsync(CancellationToken cancellationToken = default)
    {
        if (consumer.TryRead(out T item))
        {
            return new ValueTask<T>(item);
        }

        return ReadAsyncSlow(cancellationToken);
    }

    private void ObserveCompletion()
    {
        if (consumer.IsCompleted)
        {
            _completion.TrySetResult();
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<bool> AwaitWait(ValueTask<bool> wait)
    {
        bool result = await wait.ConfigureAwait(false);
        if (!result)
        {
            _completion.TrySetResult();
        }

        return result;
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<T> ReadAsyncSlow(CancellationToken cancellationToken)
    {
        while (await WaitToReadAsync(cancellationToken).ConfigureAwait(false))
        {
            if (consumer.TryRead(out T item))
            {
                return item;
            }
        }

        throw new ChannelClosedException();
    }
}
