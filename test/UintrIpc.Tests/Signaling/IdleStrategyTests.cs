using System.Diagnostics;
using UintrIpc.Signaling;

namespace UintrIpc.Tests.Signaling;

public sealed class IdleStrategyTests
{
    /// <summary>A manual clock in Stopwatch ticks.</summary>
    private sealed class FakeClock
    {
        public long Now;

        public void Advance(TimeSpan t) => Now += (long)(t.TotalSeconds * Stopwatch.Frequency);
    }

    private static readonly TimeSpan Spin = TimeSpan.FromMicroseconds(10), Yield = TimeSpan.FromMicroseconds(40);

    [Fact]
    public void Backoff_moves_from_spinning_to_yielding_to_sleeping_by_elapsed_time_and_doubles_sleeps()
    {
        var clock = new FakeClock { Now = 1_000_000 };
        var sleeps = new List<TimeSpan>();
        var idle = new BackoffIdleStrategy(Spin, Yield, TimeSpan.FromMilliseconds(1), TimeSpan.FromMilliseconds(4), () => clock.Now, sleeps.Add);
        Assert.Equal(BackoffPhase.NotIdle, idle.Phase);

        idle.Idle();
        Assert.Equal(BackoffPhase.Spinning, idle.Phase);
        clock.Advance(Spin / 2);
        idle.Idle();
        Assert.Equal(BackoffPhase.Spinning, idle.Phase); // within the spin budget, however many passes

        clock.Advance(Spin);
        idle.Idle();
        Assert.Equal(BackoffPhase.Yielding, idle.Phase);
        clock.Advance(Yield / 2);
        idle.Idle();
        Assert.Equal(BackoffPhase.Yielding, idle.Phase);
        Assert.Empty(sleeps);

        clock.Advance(Yield);
        for (int i = 0; i < 4; i++)
        {
            idle.Idle();
        }

        Assert.Equal(BackoffPhase.Parking, idle.Phase);
        Assert.Equal([1, 2, 4, 4], sleeps.Select(s => s.TotalMilliseconds));
    }

    [Fact]
    public void Backoff_resets_when_work_is_found_and_the_next_spell_starts_with_spinning_and_the_shortest_sleep()
    {
        var clock = new FakeClock();
        var sleeps = new List<TimeSpan>();
        var idle = new BackoffIdleStrategy(TimeSpan.Zero, TimeSpan.Zero, TimeSpan.FromMilliseconds(1), TimeSpan.FromMilliseconds(8), () => clock.Now, sleeps.Add);

        idle.Idle(0);
        idle.Idle(0);
        Assert.Equal(BackoffPhase.Parking, idle.Phase); // zero budgets: straight to parking
        Assert.Equal([1, 2], sleeps.Select(s => s.TotalMilliseconds));

        idle.Idle(workCount: 3); // Aeron.NET PR #124: work resets the strategy
        Assert.Equal(BackoffPhase.NotIdle, idle.Phase);
        Assert.Equal(2, sleeps.Count); // and does not idle

        idle.Idle(0);
        Assert.Equal([1, 2, 1], sleeps.Select(s => s.TotalMilliseconds));
    }

    [Fact]
    public void Backoff_with_a_spin_budget_spins_again_after_a_reset()
    {
        var clock = new FakeClock();
        var idle = new BackoffIdleStrategy(Spin, TimeSpan.Zero, TimeSpan.Zero, TimeSpan.Zero, () => clock.Now, _ => { });
        idle.Idle();
        clock.Advance(Spin * 2);
        idle.Idle();
        Assert.Equal(BackoffPhase.Parking, idle.Phase);

        idle.Reset();
        idle.Idle();
        Assert.Equal(BackoffPhase.Spinning, idle.Phase); // the budget restarts from the reset
    }

    [Fact]
    public void Doorbell_backoff_parks_through_the_wait_block_only_after_its_budgets()
    {
        using var f = new WaitBlockRegion();
        var clock = new FakeClock();
        var receiver = new CountingDoorbellReceiver(result: false);
        var counter = new MessageCounter();
        var idle = new BackoffIdleStrategy<CounterProbe>(new CounterProbe(counter), f.Block, receiver, Spin, Yield, TimeSpan.FromMilliseconds(1), () => clock.Now);

        idle.Idle();
        clock.Advance(Spin);
        idle.Idle();
        Assert.Equal(BackoffPhase.Yielding, idle.Phase);
        Assert.Equal(0, receiver.Waits);

        clock.Advance(Yield);
        idle.Idle();
        idle.Idle();
        Assert.Equal(BackoffPhase.Parking, idle.Phase);
        Assert.Equal(2, receiver.Waits);
        Assert.Equal(2, idle.Parks);
        Assert.Equal(2ul, f.Block.ReadCounters().Timeouts);

        // Work arrives: the park's final probe sees it and does not block.
        counter.Publish();
        idle.Idle();
        Assert.Equal(2, receiver.Waits);
        Assert.Equal(3, idle.Parks);

        idle.Idle((int)counter.ConsumeAll());
        Assert.Equal(BackoffPhase.NotIdle, idle.Phase);
        idle.Idle();
        Assert.Equal(BackoffPhase.Spinning, idle.Phase);
    }

    [Fact]
    public void Budgets_and_periods_must_not_be_negative()
    {
        using var f = new WaitBlockRegion();
        var minus = TimeSpan.FromTicks(-1);
        Assert.Throws<ArgumentOutOfRangeException>(() => new BackoffIdleStrategy(minus, TimeSpan.Zero, TimeSpan.Zero, TimeSpan.Zero));
        Assert.Throws<ArgumentOutOfRangeException>(() => new BackoffIdleStrategy(TimeSpan.Zero, TimeSpan.Zero, TimeSpan.FromMilliseconds(2), TimeSpan.FromMilliseconds(1)));
        Assert.Throws<ArgumentOutOfRangeException>(() => new BackoffIdleStrategy<CounterProbe>(new CounterProbe(new MessageCounter()), f.Block, new CountingDoorbellReceiver(), TimeSpan.Zero, minus, TimeSpan.Zero));
        Assert.Throws<ArgumentOutOfRangeException>(() => new BackoffIdleStrategy<CounterProbe>(new CounterProbe(new MessageCounter()), f.Block, new CountingDoorbellReceiver(), TimeSpan.Zero, TimeSpan.Zero, Timeout.InfiniteTimeSpan));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SleepingIdleStrategy(minus));
    }

    [Fact]
    public void The_simple_strategies_run_every_contract_call_and_keep_their_settings()
    {
        IIdleStrategy[] strategies = [new BusySpinIdleStrategy(), new NoOpIdleStrategy(), new YieldingIdleStrategy(), new SleepingIdleStrategy(TimeSpan.Zero)];
        foreach (var s in strategies)
        {
            s.Idle();
            s.Idle(0);
            s.Idle(5);
            s.Reset();
        }

        Assert.Equal(TimeSpan.FromMilliseconds(3), new SleepingIdleStrategy(TimeSpan.FromMilliseconds(3)).Period);
    }
}
