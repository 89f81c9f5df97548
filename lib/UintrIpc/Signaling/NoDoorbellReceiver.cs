using System.Diagnostics;

namespace UintrIpc.Signaling;

/// <summary>
/// No doorbell: nothing can wake this consumer, so <see cref="Wait"/> only idles for a short
/// slice (yielding the CPU to other runnable threads) and returns false; the consumer loop
/// re-checks its ring. Lowest latency, but the consumer keeps a core busy.
/// </summary>
internal sealed class NoDoorbellReceiver : DoorbellReceiver
{
    /// <summary>The default idle slice.</summary>
    public static readonly TimeSpan DefaultSlice = TimeSpan.FromMicroseconds(20);

    private readonly long _sliceTicks;

    /// <summary>Creates a receiver that idles at most <paramref name="slice"/> per wait.</summary>
    /// <param name="slice">How long one wait yields before returning; null for <see cref="DefaultSlice"/>.</param>
    public NoDoorbellReceiver(TimeSpan? slice = null)
    {
        TimeSpan s = slice ?? DefaultSlice;
        WaitDeadline.Validate(s);
        Slice = s;
        _sliceTicks = WaitDeadline.ToTicks(s);
    }

    /// <inheritdoc />
    public override DoorbellKind Kind => DoorbellKind.None;

    /// <summary>How long one wait idles at most.</summary>
    public TimeSpan Slice { get; }

    /// <summary>Yields for min(<paramref name="timeout"/>, <see cref="Slice"/>) and returns false: no ring can be seen.</summary>
    public override bool Wait(uint token, TimeSpan timeout)
    {
        WaitDeadline.Validate(timeout);
        long budget = Math.Min(_sliceTicks, WaitDeadline.ToTicks(timeout));
        long start = Stopwatch.GetTimestamp();
        do
        {
            if (!Thread.Yield())
            {
                Thread.SpinWait(8); // nothing else to run: pause instead of hammering sched_yield
            }
        }
        while (Stopwatch.GetTimestamp() - start < budget);
        return false;
    }
}
