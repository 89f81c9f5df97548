using System.Diagnostics;
using Tmds.Linux;

namespace UintrIpc.Signaling;

/// <summary>
/// A deadline on the monotonic clock for bounded waits that may be interrupted (EINTR) and
/// must then continue with the time that is left, never with the full timeout again.
/// </summary>
/// <remarks>
/// Every conversion saturates: a timeout up to <see cref="TimeSpan.MaxValue"/> becomes a deadline
/// about 70 years away (<see cref="MaxTicks"/>), never an overflowed one in the past; the shim
/// clamps its deadline the same way (interop/src/futex.c).
/// </remarks>
internal readonly struct WaitDeadline
{
    /// <summary>The longest wait in Stopwatch ticks: far enough to mean "until woken", small enough that now + it never overflows.</summary>
    internal static readonly long MaxTicks = long.MaxValue / 4;

    private const long NanosecondsPerSecond = 1_000_000_000;

    private readonly long _end;

    private WaitDeadline(long end) => _end = end;

    /// <summary>A deadline <paramref name="timeout"/> from now.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The timeout is negative (including infinite): every wait is bounded.</exception>
    internal static WaitDeadline After(TimeSpan timeout)
    {
        Validate(timeout);
        return new WaitDeadline(EndAfter(timeout));
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

    /// <summary>A non-negative duration in Stopwatch ticks, saturated at <see cref="MaxTicks"/>.</summary>
    internal static long ToTicks(TimeSpan t)
    {
        double ticks = t.TotalSeconds * Stopwatch.Frequency;
        return ticks <= 0 ? 0 : ticks >= MaxTicks ? MaxTicks : (long)ticks;
    }

    /// <summary>A non-negative duration in nanoseconds, saturated at the nanoseconds of <see cref="MaxTicks"/>.</summary>
    internal static long ToNanoseconds(TimeSpan t) => TicksToNanoseconds(ToTicks(t));

    /// <summary>The Stopwatch timestamp <paramref name="timeout"/> from now (saturated).</summary>
    internal static long EndAfter(TimeSpan timeout) => Stopwatch.GetTimestamp() + ToTicks(timeout);

    /// <summary>Nanoseconds left, 0 once passed.</summary>
    internal long RemainingNanoseconds
    {
        get
        {
            long left = _end - Stopwatch.GetTimestamp();
            return left <= 0 ? 0 : TicksToNanoseconds(left);
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

    private static long TicksToNanoseconds(long ticks)
    {
        double ns = ticks * ((double)NanosecondsPerSecond / Stopwatch.Frequency);
        return ns >= long.MaxValue / 2 ? long.MaxValue / 2 : (long)ns;
    }
}
