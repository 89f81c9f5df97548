using System.Diagnostics;
using Tmds.Linux;

namespace UintrIpc.Signaling;

/// <summary>
/// A deadline on the monotonic clock for bounded waits that may be interrupted (EINTR) and
/// must then continue with the time that is left, never with the full timeout again.
/// </summary>
internal readonly struct WaitDeadline
{
    private const long NanosecondsPerSecond = 1_000_000_000;

    private readonly long _end;

    private WaitDeadline(long end) => _end = end;

    /// <summary>A deadline <paramref name="timeout"/> from now.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The timeout is negative (including infinite): every wait is bounded.</exception>
    internal static WaitDeadline After(TimeSpan timeout)
    {
        Validate(timeout);
        long ticks = (long)Math.Min(timeout.TotalSeconds * Stopwatch.Frequency, long.MaxValue / 2);
        return new WaitDeadline(Stopwatch.GetTimestamp() + ticks);
    }

    /// <summary>Throws unless <paramref name="timeout"/> is zero or positive.</summary>
    internal static void Validate(TimeSpan timeout)
    {
        if (timeout < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(timeout), timeout,
                "Every wait in UintrIpc is bounded: pass a non-negative timeout (a lost wake-up then costs one timeout, never a hang).");
        }
    }

    /// <summary>Nanoseconds left, 0 once passed.</summary>
    internal long RemainingNanoseconds
    {
        get
        {
            long left = _end - Stopwatch.GetTimestamp();
            return left <= 0 ? 0 : (long)(left * ((double)NanosecondsPerSecond / Stopwatch.Frequency));
        }
    }

    /// <summary>Whether the deadline has passed.</summary>
    internal bool HasPassed => Stopwatch.GetTimestamp() >= _end;

    /// <summary>The remaining time as a relative timespec (for ppoll and sigtimedwait).</summary>
    internal timespec RemainingTimespec()
    {
        long ns = RemainingNanoseconds;
        return new timespec { tv_sec = ns / NanosecondsPerSecond, tv_nsec = (long_t)(ns % NanosecondsPerSecond) };
    }
}
