namespace UintrIpc.Tests.Infrastructure;

/// <summary>
/// Runs every posted continuation at once, on the thread that completes the awaited operation
/// (inside its completion), with itself as the current context so that later awaits come back
/// here too: the earliest point at which an awaiting caller can observe anything.
/// </summary>
internal sealed class InlineSynchronizationContext : SynchronizationContext
{
    private int _posts;

    /// <summary>Continuations run inline so far (proves the inline path was taken).</summary>
    public int Posts => Volatile.Read(ref _posts);

    /// <summary>Starts <paramref name="body"/> with this context current; its awaits resume through <see cref="Post"/>.</summary>
    public Task Run(Func<Task> body)
    {
        var previous = Current;
        SetSynchronizationContext(this);
        try
        {
            return body();
        }
        finally
        {
            SetSynchronizationContext(previous);
        }
    }

    /// <inheritdoc />
    public override void Post(SendOrPostCallback d, object? state)
    {
        Interlocked.Increment(ref _posts);
        var previous = Current;
        SetSynchronizationContext(this);
        try
        {
            d(state);
        }
        finally
        {
            SetSynchronizationContext(previous);
        }
    }

    /// <inheritdoc />
    public override SynchronizationContext CreateCopy() => this;
}
