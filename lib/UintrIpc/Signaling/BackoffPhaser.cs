using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace UintrIpc.Signaling;

/// <summary>
/// The spin -> yield -> park state machine shared by the backoff strategies. Budgets are
/// TIME (Stopwatch ticks), not iteration counts: what matters is how long a consumer may burn
/// a core before a kernel wake-up (tens of µs here) becomes the cheaper option, and an
/// iteration's duration varies with the CPU and the pause instruction.
/// </summary>
/// <remarks>
/// Padded: the mutable state sits alone in its cache lines (128 bytes before and after, the
/// adjacent-line prefetch distance) so that hot data of other objects allocated next to the
/// strategy cannot share a line with it. Owned by one thread: plain fields.
/// </remarks>
[StructLayout(LayoutKind.Explicit, Size = 128 + 32 + 128)]
internal struct BackoffPhaser
{
    [FieldOffset(128)] private readonly long _spinTicks;
    [FieldOffset(136)] private readonly long _yieldTicks;
    [FieldOffset(144)] private long _phaseStart;
    [FieldOffset(152)] private BackoffPhase _phase;

    internal BackoffPhaser(TimeSpan spinBudget, TimeSpan yieldBudget)
    {
        WaitDeadline.Validate(spinBudget);
        WaitDeadline.Validate(yieldBudget);
        _spinTicks = ToTicks(spinBudget);
        _yieldTicks = ToTicks(yieldBudget);
    }

    internal readonly BackoffPhase Phase => _phase;

    /// <summary>Advances the phase for an idle pass at time <paramref name="now"/> (Stopwatch ticks) and returns what to do.</summary>
    internal BackoffPhase Next(long now)
    {
        switch (_phase)
        {
            case BackoffPhase.NotIdle:
                Enter(BackoffPhase.Spinning, now);
                goto case BackoffPhase.Spinning;
            case BackoffPhase.Spinning:
                if (now - _phaseStart < _spinTicks)
                {
                    return BackoffPhase.Spinning;
                }

                Enter(BackoffPhase.Yielding, now);
                goto case BackoffPhase.Yielding;
            case BackoffPhase.Yielding:
                if (now - _phaseStart < _yieldTicks)
                {
                    return BackoffPhase.Yielding;
                }

                Enter(BackoffPhase.Parking, now);
                return BackoffPhase.Parking;
            default:
                return BackoffPhase.Parking;
        }
    }

    /// <summary>
    /// Advances the phase for an idle pass at <paramref name="now"/> and, while spinning or
    /// yielding, does one step of it (SpinWait(1) or Thread.Yield); false in the parking phase,
    /// where the caller parks or sleeps.
    /// </summary>
    internal bool SpinOrYield(long now)
    {
        switch (Next(now))
        {
            case BackoffPhase.Spinning:
                Thread.SpinWait(1);
                return true;
            case BackoffPhase.Yielding:
                Thread.Yield();
                return true;
            default:
                return false;
        }
    }

    /// <summary>
    /// Polls of a probe per clock read while spinning. A clock read (vDSO clock_gettime) costs
    /// about two pause instructions here, and a round trip is a few polls, so reading it on every
    /// poll doubled the time to notice a message (bench/native's ping-pongs read it every 1024
    /// polls); 32 keeps the spin budget within about a microsecond.
    /// </summary>
    internal const int PollsPerClockRead = 32;

    /// <summary>
    /// <see cref="SpinOrYield(long)"/> for a caller with a probe: spinning polls
    /// <paramref name="probe"/> (a shared load, no stores) up to <see cref="PollsPerClockRead"/>
    /// times with a pause between polls and returns as soon as it has work, so the clock is read
    /// once per batch of polls rather than once per poll.
    /// </summary>
    internal bool SpinOrYield<TProbe>(long now, ref TProbe probe)
        where TProbe : struct, IWaitProbe
    {
        switch (Next(now))
        {
            case BackoffPhase.Spinning:
                for (int i = 0; i < PollsPerClockRead && !probe.HasWork; i++)
                {
                    SpinHint.Pause();
                }

                return true;
            case BackoffPhase.Yielding:
                Thread.Yield();
                return true;
            default:
                return false;
        }
    }

    /// <summary>Back to <see cref="BackoffPhase.NotIdle"/>: the next idle spell starts with spinning.</summary>
    internal void Reset() => _phase = BackoffPhase.NotIdle;

    internal static long ToTicks(TimeSpan t) => WaitDeadline.ToTicks(t);

    private void Enter(BackoffPhase phase, long now)
    {
        _phase = phase;
        _phaseStart = now;
    }
}
