using UintrIpc.Memory;
using UintrIpc.Signaling;

namespace UintrIpc.Tests.Signaling;

public sealed unsafe class WaitBlockTests(ITestOutputHelper output)
{
    [Fact]
    public void A_fresh_wait_block_has_an_awake_consumer_and_zero_counters()
    {
        using var f = new WaitBlockRegion();
        Assert.False(f.Block.IsConsumerSleeping);
        Assert.Equal(default, f.Block.ReadCounters());
        Assert.Equal(PartKind.WaitBlock, WaitBlock.Part(7).Kind);
        Assert.Equal(7u, WaitBlock.Part(7).Tag);
        Assert.Equal(WaitBlockLayout.Size, WaitBlock.Part().Length);
    }

    [Fact]
    public void A_part_of_another_kind_is_refused()
    {
        using var region = SharedRegion.CreateAnonymous(new PartSpec(PartKind.Arena, 0, 4096));
        Assert.Throws<RegionFormatException>(() => new WaitBlock(region, region.FindPart(PartKind.Arena)));
        Assert.Throws<KeyNotFoundException>(() => new WaitBlock(region));
    }

    [Fact]
    public void A_producer_whose_consumer_is_awake_rings_nothing_and_counts_suppressed()
    {
        using var f = new WaitBlockRegion(singleProducer: true);
        var sender = new CountingDoorbellSender();
        for (int i = 0; i < 1000; i++)
        {
            f.Block.WakeIfSleeping(sender);
        }

        Assert.Equal(0, sender.Rings);
        var c = f.Block.ReadCounters();
        Assert.Equal(0ul, c.WakeupsSent);
        Assert.Equal(1000ul, c.WakeupsSuppressed);
    }

    [Fact]
    public void Many_producers_count_every_suppressed_wake_up_exactly()
    {
        using var f = new WaitBlockRegion(singleProducer: false);
        var sender = new CountingDoorbellSender();
        const int Threads = 4, PerThread = 20_000;
        var threads = Enumerable.Range(0, Threads)
            .Select(i => new TestThread(() =>
            {
                for (int n = 0; n < PerThread; n++)
                {
                    f.Block.WakeIfSleeping(sender);
                }
            }, $"producer {i}"))
            .ToList();
        threads.ForEach(t => t.Join());

        Assert.Equal(0, sender.Rings);
        Assert.Equal((ulong)(Threads * PerThread), f.Block.ReadCounters().WakeupsSuppressed);
    }

    [Fact]
    public void Exactly_one_of_many_producers_rings_an_announced_sleep()
    {
        using var f = new WaitBlockRegion(singleProducer: false);
        var sender = new CountingDoorbellSender();
        const int Threads = 4;
        for (int round = 1; round <= 200; round++)
        {
            *f.StateWord = WaitBlockLayout.ConsumerSleeping; // the consumer announced a sleep
            using var go = new ManualResetEventSlim();
            var threads = Enumerable.Range(0, Threads)
                .Select(i => new TestThread(() =>
                {
                    go.Wait(TestWait.Long);
                    f.Block.WakeIfSleeping(sender);
                }, $"producer {i}"))
                .ToList();
            go.Set();
            threads.ForEach(t => t.Join());

            Assert.Equal(round, sender.Rings);
            Assert.False(f.Block.IsConsumerSleeping);
        }

        var c = f.Block.ReadCounters();
        Assert.Equal(200ul, c.WakeupsSent);
        Assert.Equal(200ul * (Threads - 1), c.WakeupsSuppressed);
    }

    [Theory]
    [InlineData(2u)]
    [InlineData(0xFFFF_FFFFu)]
    [InlineData(0x8000_0001u)]
    public void A_garbage_consumer_state_is_treated_as_sleeping_rung_once_and_repaired(uint garbage)
    {
        using var f = new WaitBlockRegion(singleProducer: true);
        var sender = new CountingDoorbellSender();
        *f.StateWord = garbage;

        f.Block.WakeIfSleeping(sender);
        f.Block.WakeIfSleeping(sender);

        Assert.Equal(1, sender.Rings);
        Assert.Equal(WaitBlockLayout.ConsumerAwake, *f.StateWord);
        var c = f.Block.ReadCounters();
        Assert.Equal(1ul, c.WakeupsSent);
        Assert.Equal(1ul, c.WakeupsSuppressed);
    }

    [Fact]
    public void Park_announces_the_sleep_then_returns_without_blocking_when_the_probe_finds_work()
    {
        using var f = new WaitBlockRegion();
        var receiver = new CountingDoorbellReceiver();
        var probe = new FixedProbe(hasWork: true);

        Assert.True(f.Block.Park(ref probe, receiver, TimeSpan.FromSeconds(5)));

        Assert.Equal(1, probe.Calls);
        Assert.Equal(1, receiver.Prepares);
        Assert.Equal(0, receiver.Waits);
        Assert.False(f.Block.IsConsumerSleeping);
        Assert.Equal(0ul, f.Block.ReadCounters().Sleeps);
    }

    [Fact]
    public void A_ring_that_lands_during_the_recheck_is_owed_to_a_sleep_that_never_blocked()
    {
        // The race behind the once-flaky cross-process test: the producer sees the announcement,
        // publishes and rings while the consumer's re-check already finds the message. The ring
        // is sent and the sleep taken over, but no block happened and no wake-up is seen.
        using var f = new WaitBlockRegion(singleProducer: true);
        var sender = new CountingDoorbellSender();
        var receiver = new CountingDoorbellReceiver();
        var probe = new ProducerDuringRecheck(f.Block, sender);

        Assert.True(f.Block.Park(ref probe, receiver, TimeSpan.FromSeconds(5)));

        Assert.Equal(0, receiver.Waits);
        Assert.Equal(1, sender.Rings);
        Assert.Equal(1L, f.Block.SleepsTakenOver);
        var c = f.Block.ReadCounters();
        Assert.Equal(1ul, c.WakeupsSent);
        Assert.Equal(0ul, c.Sleeps);
        Assert.Equal(0ul, c.WakeupsSeen);
    }

    [Fact]
    public void Park_is_sleeping_during_the_wait_passes_the_token_and_counts_timeouts_and_wake_ups()
    {
        using var f = new WaitBlockRegion();
        var probe = new FixedProbe(hasWork: false);
        bool sleepingDuringWait = false;
        var timingOut = new CountingDoorbellReceiver(result: false) { DuringWait = () => sleepingDuringWait = f.Block.IsConsumerSleeping };

        Assert.False(f.Block.Park(ref probe, timingOut, TimeSpan.FromMilliseconds(1)));
        Assert.True(sleepingDuringWait);
        Assert.Equal(42u, timingOut.LastToken);
        Assert.False(f.Block.IsConsumerSleeping);
        Assert.Equal(DoorbellKind.Futex, f.Block.ConsumerDoorbellKind);

        var woken = new CountingDoorbellReceiver(result: true, kind: DoorbellKind.EventFd);
        Assert.True(f.Block.Park(ref probe, woken, TimeSpan.FromMilliseconds(1)));
        Assert.Equal(DoorbellKind.EventFd, f.Block.ConsumerDoorbellKind);

        var c = f.Block.ReadCounters();
        Assert.Equal(2ul, c.Sleeps);
        Assert.Equal(1ul, c.Timeouts);
        Assert.Equal(1ul, c.WakeupsSeen);
    }

    [Fact]
    public void Park_with_no_doorbell_never_announces_a_sleep()
    {
        using var f = new WaitBlockRegion();
        var probe = new FixedProbe(hasWork: false);
        bool sleepingDuringWait = true;
        var none = new CountingDoorbellReceiver(result: false, kind: DoorbellKind.None) { DuringWait = () => sleepingDuringWait = f.Block.IsConsumerSleeping };

        Assert.False(f.Block.Park(ref probe, none, TimeSpan.FromMilliseconds(1)));

        Assert.Equal(1, none.Waits);
        Assert.False(sleepingDuringWait);
        Assert.Equal(default, f.Block.ReadCounters());
    }

    [Fact]
    public void A_failing_doorbell_leaves_the_consumer_awake()
    {
        using var f = new WaitBlockRegion();
        var probe = new FixedProbe(hasWork: false);
        var failing = new CountingDoorbellReceiver { DuringWait = () => throw new InvalidOperationException("boom") };

        Assert.Throws<InvalidOperationException>(() => f.Block.Park(ref probe, failing, TimeSpan.FromSeconds(1)));
        Assert.False(f.Block.IsConsumerSleeping);
    }

    [Fact]
    public void The_producer_and_consumer_paths_do_not_allocate()
    {
        using var f = new WaitBlockRegion(singleProducer: true);
        using var sender = new FutexDoorbellSender(f.Block);
        using var receiver = new FutexDoorbellReceiver(f.Block);
        var counter = new MessageCounter();
        var busy = new CounterProbe(counter);
        var idle = new BackoffIdleStrategy<CounterProbe>(busy, f.Block, receiver, TimeSpan.Zero, TimeSpan.Zero, TimeSpan.Zero);

        void Exercise(int n)
        {
            for (int i = 0; i < n; i++)
            {
                f.Block.WakeIfSleeping(sender);                  // consumer awake: suppressed
                *f.StateWord = WaitBlockLayout.ConsumerSleeping;
                f.Block.WakeIfSleeping(sender);                  // consumer asleep: FUTEX_WAKE
                f.Block.Park(ref busy, receiver, TimeSpan.Zero); // no work: announce, probe, wait (0)
                counter.Publish();
                f.Block.Park(ref busy, receiver, TimeSpan.Zero); // work: announce, probe, return
                idle.Idle();                                     // backoff parks, finds work
                idle.Idle((int)counter.ConsumeAll());
            }
        }

        Exercise(2_000); // warm up (tiered JIT)
        long before = GC.GetAllocatedBytesForCurrentThread();
        Exercise(2_000);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void Park_refuses_a_receiver_created_for_another_wait_block_instance()
    {
        using var f = new WaitBlockRegion();
        var other = new WaitBlock(f.Region);
        using var receiver = new FutexDoorbellReceiver(other);
        var probe = new FixedProbe(hasWork: false);

        Assert.Throws<ArgumentException>(() => f.Block.Park(ref probe, receiver, TimeSpan.Zero));
        Assert.False(f.Block.IsConsumerSleeping);
        Assert.False(other.Park(ref probe, receiver, TimeSpan.Zero));
    }

    [Fact]
    public void Park_refuses_an_unbounded_wait()
    {
        using var f = new WaitBlockRegion();
        var probe = new FixedProbe(hasWork: false);
        Assert.Throws<ArgumentOutOfRangeException>(() => f.Block.Park(ref probe, new CountingDoorbellReceiver(), Timeout.InfiniteTimeSpan));
    }

    [Fact]
    public void A_parked_consumer_is_woken_by_WakeIfSleeping()
    {
        using var f = new WaitBlockRegion(singleProducer: true);
        using var receiver = new FutexDoorbellReceiver(f.Block);
        using var sender = new FutexDoorbellSender(f.Block);
        var counter = new MessageCounter();
        bool woken = false;

        var consumer = new TestThread(() =>
        {
            var probe = new CounterProbe(counter);
            woken = f.Block.Park(ref probe, receiver, TimeSpan.FromSeconds(10));
        }, "consumer");

        TestWait.Until(() => f.Block.IsConsumerSleeping, "the consumer to announce its sleep");
        counter.Publish();
        f.Block.WakeIfSleeping(sender);
        consumer.Join();

        Assert.True(woken);
        var c = f.Block.ReadCounters();
        Assert.Equal(1ul, c.WakeupsSent);
        Assert.Equal(0ul, c.WakeupsSuppressed);
        Assert.Equal(0ul, c.Timeouts);
        Assert.Equal(c.Sleeps, c.WakeupsSeen); // it either blocked and was woken, or saw the ring's word change
    }

    [Theory]
    [InlineData(DoorbellKind.Futex)]
    [InlineData(DoorbellKind.EventFd)]
    [InlineData(DoorbellKind.Signal)]
    public void No_wake_up_is_lost_when_the_consumer_sleeps_between_bursts(DoorbellKind kind)
    {
        // The producer publishes a burst, then waits until the consumer has consumed it, so
        // the next burst starts exactly while the consumer goes from "ring empty" to parking:
        // the window a lost wake-up needs. A lost wake-up strands the burst until the 2 s
        // park timeout, which the consumer counts: the test requires zero timeouts.
        const int Bursts = 2000, BurstSize = 3;
        const long Total = Bursts * BurstSize;
        using var f = new WaitBlockRegion(singleProducer: true);
        var counter = new MessageCounter();
        using var ready = new ManualResetEventSlim();
        DoorbellReceiver? receiver = null;
        int stranded = 0;

        var consumer = new TestThread(() =>
        {
            // The signal receiver must be created on the consumer thread.
            receiver = Doorbells.CreateReceiver(kind, f.Block);
            ready.Set();
            var probe = new CounterProbe(counter);
            var random = new Random(kind.GetHashCode());
            try
            {
                while (counter.Consumed < Total)
                {
                    if (counter.ConsumeAll() != 0)
                    {
                        continue;
                    }

                    // Like an idle strategy between its last poll and parking: a short, varying
                    // gap in which the producer's next burst can land.
                    Thread.SpinWait(random.Next(64));
                    if (!f.Block.Park(ref probe, receiver, TimeSpan.FromSeconds(2)) && probe.HasWork)
                    {
                        Volatile.Write(ref stranded, 1); // timed out with work waiting: a lost wake-up
                        return;
                    }
                }
            }
            finally
            {
                receiver.Dispose();
            }
        }, "consumer");

        Assert.True(ready.Wait(TestWait.Long));
        using var sender = Doorbells.CreateSender(kind, f.Block, (receiver as EventFdDoorbellReceiver)?.FileHandle);
        for (int b = 1; b <= Bursts && Volatile.Read(ref stranded) == 0; b++)
        {
            for (int i = 0; i < BurstSize; i++)
            {
                counter.Publish();
                f.Block.WakeIfSleeping(sender);
            }

            TestWait.SpinUntil(() => counter.Consumed == (long)b * BurstSize || Volatile.Read(ref stranded) != 0, "the consumer to take the burst");
        }

        consumer.Join(TimeSpan.FromSeconds(60));

        var c = f.Block.ReadCounters();
        output.WriteLine($"{kind}: {c}");
        Assert.True(stranded == 0, $"a wake-up was lost: {c}");
        Assert.Equal(0ul, c.Timeouts);
        Assert.Equal(Total, counter.Consumed);
        Assert.Equal((ulong)Total, c.WakeupsSent + c.WakeupsSuppressed);
        Assert.True(c.Sleeps > 0 && c.WakeupsSent > 0, $"the consumer really slept and was rung: {c}");
        Assert.Equal(c.Sleeps, c.WakeupsSeen + c.Timeouts);
    }

    [Fact]
    public void No_wake_up_is_lost_under_a_free_running_producer_racing_the_consumer()
    {
        // No coordination at all: the producer publishes with irregular pauses, the consumer
        // parks whenever it finds nothing. Lost wake-ups would show as 5 s timeouts.
        const int Messages = 30_000;
        using var f = new WaitBlockRegion(singleProducer: true);
        using var receiver = new FutexDoorbellReceiver(f.Block);
        using var sender = new FutexDoorbellSender(f.Block);
        var counter = new MessageCounter();

        var consumer = new TestThread(() =>
        {
            var idle = new BackoffIdleStrategy<CounterProbe>(new CounterProbe(counter), f.Block, receiver, TimeSpan.Zero, TimeSpan.Zero, TimeSpan.FromSeconds(5));
            while (counter.Consumed < Messages)
            {
                idle.Idle((int)counter.ConsumeAll());
            }
        }, "consumer");

        var random = new Random(12345);
        for (int i = 0; i < Messages; i++)
        {
            counter.Publish();
            f.Block.WakeIfSleeping(sender);
            int pause = random.Next(8);
            if (pause == 0)
            {
                Thread.Yield();
            }
            else
            {
                Thread.SpinWait(pause * 20);
            }
        }

        consumer.Join(TimeSpan.FromSeconds(120));
        var c = f.Block.ReadCounters();
        output.WriteLine(c.ToString());
        Assert.Equal(Messages, counter.Consumed);
        Assert.Equal(0ul, c.Timeouts);
        Assert.Equal((ulong)Messages, c.WakeupsSent + c.WakeupsSuppressed);
        Assert.Equal(c.Sleeps, c.WakeupsSeen);
    }

    [Fact]
    public void Several_producers_count_every_wake_check_exactly_once_and_lose_no_wake_up()
    {
        // Several producers, each publishing with a plain release store (no fence of its own,
        // as a slot publish is), so the wake check's own fence is all that orders it before
        // the state load: with several producers that is the suppressed count's atomic
        // increment. Irregular pauses make the consumer sleep often, so producers race for
        // its sleeps. Lost wake-ups would show as 5 s timeouts; every wake check counts once.
        const int Producers = 3, PerProducer = 20_000, Stride = 16; // one cache line per producer's count
        using var f = new WaitBlockRegion(singleProducer: false);
        using var receiver = new FutexDoorbellReceiver(f.Block);
        using var sender = new FutexDoorbellSender(f.Block);
        var published = new long[Producers * Stride];
        long consumed = 0;

        var consumer = new TestThread(() =>
        {
            var idle = new BackoffIdleStrategy<PublishedProbe>(new PublishedProbe(published, Stride, () => Volatile.Read(ref consumed)), f.Block, receiver, TimeSpan.Zero, TimeSpan.Zero, TimeSpan.FromSeconds(5));
            while (Volatile.Read(ref consumed) < Producers * PerProducer)
            {
                long total = PublishedProbe.Sum(published, Stride);
                long taken = total - consumed;
                Volatile.Write(ref consumed, total);
                idle.Idle((int)taken);
            }
        }, "consumer");

        var producers = Enumerable.Range(0, Producers).Select(p => new TestThread(() =>
        {
            var random = new Random(p);
            for (int i = 1; i <= PerProducer; i++)
            {
                Volatile.Write(ref published[p * Stride], i); // release only: the publish
                f.Block.WakeIfSleeping(sender);
                int pause = random.Next(16);
                if (pause == 0)
                {
                    Thread.Yield();
                }
                else
                {
                    Thread.SpinWait(pause * 20);
                }
            }
        }, $"producer {p}")).ToList();
        producers.ForEach(t => t.Join());
        consumer.Join(TimeSpan.FromSeconds(120));

        var c = f.Block.ReadCounters();
        output.WriteLine(c.ToString());
        Assert.Equal(Producers * PerProducer, consumed);
        Assert.Equal(0ul, c.Timeouts);
        Assert.Equal((ulong)(Producers * PerProducer), c.WakeupsSent + c.WakeupsSuppressed);
        Assert.Equal(f.Block.SleepsTakenOver, (long)c.WakeupsSent); // each sleep taken over was rung exactly once
        Assert.Equal(c.Sleeps, c.WakeupsSeen);
        Assert.True(c.WakeupsSent > 0, $"the producers really rang: {c}");
    }

    /// <summary>Work means the producers' counts add up to more than the consumer took (acquire reads).</summary>
    private readonly struct PublishedProbe(long[] published, int stride, Func<long> consumed) : IWaitProbe
    {
        public bool HasWork => Sum(published, stride) > consumed();

        public static long Sum(long[] published, int stride)
        {
            long sum = 0;
            for (int i = 0; i < published.Length; i += stride)
            {
                sum += Volatile.Read(ref published[i]);
            }

            return sum;
        }
    }

    /// <summary>A probe that plays a producer publishing and waking during the consumer's re-check.</summary>
    private struct ProducerDuringRecheck(WaitBlock block, DoorbellSender sender) : IWaitProbe
    {
        public readonly bool HasWork
        {
            get
            {
                block.WakeIfSleeping(sender);
                return true;
            }
        }
    }
}
