using System.Diagnostics;

namespace UintrIpc.Signaling;

/// <summary>
/// Aeron's backoff strategy without a doorbell: spin for a time budget, yield for a time
/// budget, then sleep, doubling the sleep from a minimum to a maximum. Use it where nothing
/// can wake the consumer; with a wait block and a doorbell prefer
/// <see cref="BackoffIdleStrategy{TProbe}"/>, which wakes at once instead of after a sleep.
/// </summary>
internal sealed class BackoffIdleStrategy : IIdleStrategy
{
    private readonly TimeSpan _minSleep;
    private readonly TimeSpan _maxSleep;
    private readonly Func<long>? _clock;
    private readonly Action<TimeSpan> _sleep;
    private BackoffPhaser _phaser;
    private TimeSpan _nextSleep;

    /// <summary>Creates a strategy with the default budgets (<see cref="BackoffDefaults"/>).</summary>
    public BackoffIdleStrategy()
        : this(BackoffDefaults.SpinBudget, BackoffDefaults.YieldBudget, BackoffDefaults.MinSleep, BackoffDefaults.MaxSleep)
    {
    }

    /// <summary>Creates a strategy.</summary>
    /// <param name="spinBudget">How long an idle spell spins before yielding.</param>
    /// <param name="yieldBudget">How long it then yields before sleeping.</param>
    /// <param name="minSleep">The first sleep.</param>
    /// <param name="maxSleep">The longest sleep (sleeps double up to it).</param>
    public BackoffIdleStrategy(TimeSpan spinBudget, TimeSpan yieldBudget, TimeSpan minSleep, TimeSpan maxSleep)
        : this(spinBudget, yieldBudget, minSleep, maxSleep, clock: null, sleep: null)
    {
    }

    /// <summary>Test hook: <paramref name="clock"/> replaces Stopwatch.GetTimestamp, <paramref name="sleep"/> replaces Thread.Sleep.</summary>
    internal BackoffIdleStrategy(TimeSpan spinBudget, TimeSpan yieldBudget, TimeSpan minSleep, TimeSpan maxSleep, Func<long>? clock, Action<TimeSpan>? sleep)
    {
        WaitDeadline.Validate(minSleep);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxSleep, minSleep);
        _phaser = new BackoffPhaser(spinBudget, yieldBudget);
        _minSleep = minSleep;
        _maxSleep = maxSleep;
        _nextSleep = minSleep;
        _clock = clock;
        _sleep = sleep ?? Thread.Sleep;
    }

    /// <summary>The current phase.</summary>
    public BackoffPhase Phase => _phaser.Phase;

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
            _sleep(_nextSleep);
            _nextSleep = _nextSleep * 2 < _maxSleep ? _nextSleep * 2 : _maxSleep;
        }
    }

    /// <inheritdoc />
    public void Reset()
    {
        _phaser.Reset();
        _nextSleep = _minSleep;
    }
}
