using System.Diagnostics;
using System.Runtime.CompilerServices;
using UintrIpc.Signaling;

namespace UintrIpc.Channels;

/// <summary>
/// Backpressure for a producer facing a full ring: spin for the spin budget, yield for the yield
/// budget, then sleep 1 ms at a time, until a deadline. The consumer does not signal free room
/// (a channel is one-way), so a producer polls; the sleep keeps a blocked producer near 0% CPU.
/// </summary>
internal struct ProducerBackoff
{
    private static readonly TimeSpan s_sleep = BackoffDefaults.MinSleep;

    private readonly long _end;
    private BackoffPhaser _phaser;

    /// <summary>A backoff that gives up after <paramref name="timeout"/> (null: never; the caller then needs a cancellation token).</summary>
    /// <exception cref="ArgumentOutOfRangeException">A negative timeout.</exception>
    internal ProducerBackoff(ChannelWaitOptions options, TimeSpan? timeout)
    {
        _phaser = new BackoffPhaser(options.SpinBudget, options.YieldBudget);
        if (timeout is { } t)
        {
            WaitDeadline.Validate(t);
            _end = WaitDeadline.EndAfter(t);
        }
        else
        {
            _end = long.MaxValue;
        }
    }

    /// <summary>Idles one step on this thread; false once the deadline has passed.</summary>
    internal bool Idle()
    {
        long now = Stopwatch.GetTimestamp();
        if (now >= _end)
        {
            return false;
        }

        if (!_phaser.SpinOrYield(now))
        {
            Thread.Sleep(s_sleep);
        }

        return true;
    }

    /// <summary>Idles one step asynchronously (spin inline, then Task.Yield, then Task.Delay).</summary>
    /// <exception cref="OperationCanceledException">The token was cancelled.</exception>
    internal ValueTask IdleAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        switch (_phaser.Next(Stopwatch.GetTimestamp()))
        {
            case BackoffPhase.Spinning:
                Thread.SpinWait(1);
                return default;
            case BackoffPhase.Yielding:
                return YieldAsync();
            default:
                return new ValueTask(Task.Delay(s_sleep, cancellationToken));
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private static async ValueTask YieldAsync() => await Task.Yield();
}
