using System.Diagnostics;

namespace UintrIpc.Signaling;

/// <summary>
/// The consumer's idle strategy across processes: spin for a time budget, then yield for a
/// time budget, then park in a doorbell through the wake-up protocol
/// (<see cref="WaitBlock.Park{TProbe}"/>) with a bounded timeout, so a producer wakes it at
/// once and pays a system call only while it sleeps.
/// </summary>
/// <typeparam name="TProbe">The probe of the consumer's ring; a struct gets an inlined call and no allocation.</typeparam>
/// <remarks>
/// A kernel wake-up costs tens of µs on the machines we target (futex round trip about
/// 26 µs), so spinning a few µs first catches the next message of a busy stream without one.
/// Owned by the consumer thread. <see cref="Idle(int)"/> with work resets to spinning.
/// </remarks>
internal sealed class BackoffIdleStrategy<TProbe> : IIdleStrategy
    where TProbe : IWaitProbe
{
    private readonly WaitBlock _waitBlock;
    private readonly DoorbellReceiver _doorbell;
    private readonly TimeSpan _parkTimeout;
    private readonly Func<long>? _clock;
    private TProbe _probe;
    private BackoffPhaser _phaser;

    /// <summary>Creates a strategy with the default budgets (<see cref="BackoffDefaults"/>).</summary>
    public BackoffIdleStrategy(TProbe probe, WaitBlock waitBlock, DoorbellReceiver doorbell)
        : this(probe, waitBlock, doorbell, BackoffDefaults.SpinBudget, BackoffDefaults.YieldBudget, BackoffDefaults.ParkTimeout)
    {
    }

    /// <summary>Creates a strategy.</summary>
    /// <param name="probe">Tells whether the consumer's ring has work (checked after announcing the sleep).</param>
    /// <param name="waitBlock">The consumer's wait block.</param>
    /// <param name="doorbell">The consumer's doorbell receiver.</param>
    /// <param name="spinBudget">How long an idle spell spins before yielding.</param>
    /// <param name="yieldBudget">How long it then yields before parking.</param>
    /// <param name="parkTimeout">Bound of one park; a lost wake-up costs at most this much latency.</param>
    public BackoffIdleStrategy(TProbe probe, WaitBlock waitBlock, DoorbellReceiver doorbell, TimeSpan spinBudget, TimeSpan yieldBudget, TimeSpan parkTimeout)
        : this(probe, waitBlock, doorbell, spinBudget, yieldBudget, parkTimeout, clock: null)
    {
    }

    /// <summary>Test hook: <paramref name="clock"/> replaces Stopwatch.GetTimestamp.</summary>
    internal BackoffIdleStrategy(TProbe probe, WaitBlock waitBlock, DoorbellReceiver doorbell, TimeSpan spinBudget, TimeSpan yieldBudget, TimeSpan parkTimeout, Func<long>? clock)
    {
        if (probe is null)
        {
            // Folds away for struct probes (no boxing); catches a null class probe early.
            throw new ArgumentNullException(nameof(probe));
        }

        ArgumentNullException.ThrowIfNull(waitBlock);
        ArgumentNullException.ThrowIfNull(doorbell);
        WaitDeadline.Validate(parkTimeout);
        _probe = probe;
        _waitBlock = waitBlock;
        _doorbell = doorbell;
        _parkTimeout = parkTimeout;
        _clock = clock;
        _phaser = new BackoffPhaser(spinBudget, yieldBudget);
    }

    /// <summary>The current phase.</summary>
    public BackoffPhase Phase => _phaser.Phase;

    /// <summary>How many times this strategy parked in the doorbell.</summary>
    public long Parks { get; private set; }

    /// <inheritdoc />
    public void Idle(int workCount)
    {
        if (workCount > 0)
        {
            Reset();
            return;
        }

        Idle();
    }

    /// <inheritdoc />
    public void Idle()
    {
        if (!_phaser.SpinOrYield(_clock is null ? Stopwatch.GetTimestamp() : _clock()))
        {
            Parks++;
            _waitBlock.Park(ref _probe, _doorbell, _parkTimeout);
        }
    }

    /// <inheritdoc />
    public void Reset() => _phaser.Reset();
}
