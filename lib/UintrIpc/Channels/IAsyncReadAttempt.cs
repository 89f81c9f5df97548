namespace UintrIpc.Channels;

/// <summary>The non-blocking read an async read retries after each wait: a reader's TryRead of one item.</summary>
internal interface IAsyncReadAttempt<TResult>
{
    /// <summary>Reads once; true when it got an item.</summary>
    bool TryRead(out TResult result);

    /// <summary>The reader's WaitToReadAsync (disposal checked, completion observed).</summary>
    ValueTask<bool> WaitToReadAsync(CancellationToken cancellationToken);
}
