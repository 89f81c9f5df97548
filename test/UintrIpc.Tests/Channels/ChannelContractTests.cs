using System.Threading.Channels;
using UintrIpc.Channels;
using UintrIpc.Interop;
using UintrIpc.Signaling;
using UintrIpc.Tests.Signaling;

namespace UintrIpc.Tests.Channels;

/// <summary>
/// Behaviour every channel shares (the blocking and non-blocking surface), run once per ring
/// kind and doorbell kind (the idea of dotnet/runtime's ChannelTestBase). Each test runs on a dedicated thread that creates the
/// channel, because signal and uintr doorbells belong to the consumer's thread; producers on
/// other threads are started where a test needs them. Every wait is bounded.
/// </summary>
public abstract class ChannelContractTests
{
    private protected const int Capacity = 16;
    private protected static readonly TimeSpan Long = TimeSpan.FromSeconds(20);
    private protected static readonly TimeSpan Short = TimeSpan.FromMilliseconds(50);
    /// <summary>Parks that never time out within a test: a lost wake-up would show as a timeout.</summary>
    private protected static readonly ChannelWaitOptions LongParks = new() { MaxParkTime = TimeSpan.FromSeconds(30) };

    private protected abstract DoorbellKind Doorbell { get; }

    private protected abstract bool Messages { get; }

    private protected virtual bool MultipleProducers => false;

    /// <summary>Whether the channel carries message checksums (IpcChannelOptions.Checksums): every contract holds with them too.</summary>
    private protected virtual bool Checksums => false;

    private protected bool ThreadBound => Doorbell is DoorbellKind.Signal or DoorbellKind.Uintr or DoorbellKind.UintrSimulated;

    private protected bool CanSleep => Doorbell != DoorbellKind.None;

    [Fact]
    public void Elements_come_out_in_the_order_they_went_in()
    {
        Run(c =>
        {
            Assert.False(c.TryRead(out _));
            long next = 0;
            for (int round = 0; round < 5; round++)
            {
                for (int i = 0; i < 11; i++)
                {
                    Assert.True(c.TryWrite((round * 11) + i));
                }

                while (c.TryRead(out long value))
                {
                    Assert.Equal(next++, value);
                }
            }

            Assert.Equal(55, next);
        });
    }

    [Fact]
    public void A_full_ring_refuses_writes_until_the_consumer_reads()
    {
        Run(c =>
        {
            Assert.Equal(Capacity, c.Capacity);
            for (int i = 0; i < Capacity; i++)
            {
                Assert.True(c.TryWrite(i));
            }

            Assert.False(c.TryWrite(99));
            Assert.False(c.TryWrite(99, Short)); // backpressure timeout: still full
            Assert.True(c.TryRead(out long first));
            Assert.Equal(0, first);
            Assert.True(c.TryWrite(Capacity, Short));
            for (long i = 1; i <= Capacity; i++)
            {
                Assert.True(c.TryRead(out long value));
                Assert.Equal(i, value);
            }
        });
    }

    [Fact]
    public void Batches_write_what_fits_and_read_in_order()
    {
        Run(c =>
        {
            long[] items = Enumerable.Range(0, Capacity + 5).Select(i => (long)i).ToArray();
            Assert.Equal(Capacity, c.TryWrite(items));
            Assert.Equal(0, c.TryWrite(items.AsSpan(Capacity)));
            var read = new long[Capacity + 5];
            Assert.Equal(10, c.TryRead(read.AsSpan(0, 10)));
            Assert.Equal(Capacity - 10, c.TryRead(read.AsSpan(10)));
            Assert.Equal(items[..Capacity], read[..Capacity]);
            Assert.Equal(0, c.TryRead(read));
        });
    }

    [Fact]
    public void A_batch_checks_for_a_sleeping_consumer_once()
    {
        Run(c =>
        {
            var before = c.Counters;
            Assert.Equal(8, c.TryWrite(new long[8]));
            var after = c.Counters;
            // Slot rings publish a batch at once; message channels write one by one.
            Assert.Equal(Messages ? 8ul : 1ul, after.WakeupsSuppressed - before.WakeupsSuppressed);
            Assert.Equal(0ul, after.WakeupsSent);
        });
    }

    [Fact]
    public void A_blocking_read_on_an_empty_channel_times_out()
    {
        Run(c =>
        {
            Assert.False(c.TryRead(out _, Short));
            Assert.False(c.WaitToRead(Short));
            Assert.Throws<TimeoutException>(() => c.Read(Short));
            if (CanSleep)
            {
                var counters = c.Counters;
                Assert.True(counters.Sleeps > 0, counters.ToString());
                Assert.Equal(counters.Sleeps, counters.Timeouts + counters.WakeupsSeen);
            }

            Assert.Throws<ArgumentOutOfRangeException>(() => c.TryRead(out _, Timeout.InfiniteTimeSpan));
        });
    }

    [Fact]
    public void Blocking_calls_take_timeouts_of_zero_one_tick_and_MaxValue_and_refuse_infinite_ones()
    {
        Run(c =>
        {
            Assert.False(c.TryRead(out _, TimeSpan.Zero));
            Assert.False(c.TryRead(out _, TimeSpan.FromTicks(1)));
            Assert.False(c.WaitToRead(TimeSpan.Zero));
            Assert.Throws<ArgumentOutOfRangeException>(() => c.WaitToRead(Timeout.InfiniteTimeSpan));

            // MaxValue: a wait that ends when a producer writes (no overflowed deadline in the past).
            var producer = new TestThread(() =>
            {
                WaitUntilAsleepOrIdle(c);
                Assert.True(c.TryWrite(7));
            }, "producer");
            Assert.True(c.TryRead(out long value, TimeSpan.MaxValue));
            Assert.Equal(7, value);
            producer.Join();

            Assert.Throws<ArgumentOutOfRangeException>(() => c.TryWrite(0, Timeout.InfiniteTimeSpan)); // refused even with room
            for (int i = 0; i < Capacity; i++)
            {
                Assert.True(c.TryWrite(i));
            }

            Assert.False(c.TryWrite(-1, TimeSpan.Zero));
            Assert.False(c.TryWrite(-1, TimeSpan.FromTicks(1)));
            var reader = new TestThread(() =>
            {
                Thread.Sleep(20);
                Assert.True(c.TryRead(out long first)); // non-blocking: any thread
                Assert.Equal(0, first);
            }, "reader");
            Assert.True(c.TryWrite(Capacity, TimeSpan.MaxValue));
            reader.Join();
        }, LongParks);
    }

    [Fact]
    public void A_sleeping_blocking_reader_is_woken_by_a_write_from_another_thread()
    {
        Run(c =>
        {
            const int Count = 20;
            int consumerTid = Sys.GetTid(); // Run's body is the consumer's thread
            var producer = new TestThread(() =>
            {
                for (int i = 0; i < Count; i++)
                {
                    WaitUntilAsleepOrIdle(c);
                    if (i == 0 && CanSleep)
                    {
                        // At least this ring reaches a reader blocked in the doorbell, not one
                        // between its announcement and its re-check.
                        TestWait.UntilBlockedInKernel(consumerTid);
                    }

                    Assert.True(c.TryWrite(i));
                }
            }, "producer");

            for (int i = 0; i < Count; i++)
            {
                Assert.Equal(i, c.Read(Long)); // parks of 30 s: only a ring ends one within Long
            }

            producer.Join();
            var counters = c.Counters;
            if (CanSleep)
            {
                // What the protocol promises (uintripc.h section 3), not that every write finds the
                // reader blocked: a write after the announcement may land during the reader's
                // re-check (no block; its ring is sent anyway, or suppressed once the reader is
                // awake again), and such a ring may end a later block at once.
                Assert.Equal(0ul, counters.Timeouts);
                Assert.Equal(counters.Sleeps, counters.WakeupsSeen);
                Assert.Equal((ulong)Count, counters.WakeupsSent + counters.WakeupsSuppressed);
                Assert.InRange(counters.Sleeps, 1ul, counters.WakeupsSent); // each block ended by its own ring
            }
        }, LongParks);
    }

    [Fact]
    public void A_producer_rings_nothing_while_the_consumer_is_awake()
    {
        Run(c =>
        {
            for (int i = 0; i < 100; i++)
            {
                Assert.True(c.TryWrite(i));
                Assert.True(c.TryRead(out long value));
                Assert.Equal(i, value);
            }

            var counters = c.Counters;
            Assert.Equal(0ul, counters.WakeupsSent);
            Assert.Equal(100ul, counters.WakeupsSuppressed);
            Assert.Equal(0ul, counters.Sleeps);
        });
    }

    [Fact]
    public void Completion_lets_the_consumer_drain_then_reports_the_end()
    {
        Run(c =>
        {
            Assert.True(c.TryWrite(1));
            Assert.True(c.TryWrite(2));
            Assert.True(c.TryComplete());
            Assert.False(c.TryComplete());
            Assert.True(c.IsChannelCompleted);
            Assert.False(c.IsConsumerCompleted); // two elements still wait

            Assert.False(c.TryWrite(3));
            Assert.Throws<ChannelClosedException>(() => c.TryWrite(3, Short));
            Assert.Throws<ChannelClosedException>(() => Await(c.WriteAsync(3)));

            Assert.True(c.WaitToRead(Short));
            Assert.Equal(1, c.Read(Short));
            Assert.True(c.TryRead(out long second, Short));
            Assert.Equal(2, second);
            Assert.True(c.IsConsumerCompleted);
            Assert.False(c.TryRead(out _));
            Assert.False(c.TryRead(out _, Long)); // returns at once: nothing more can come
            Assert.False(c.WaitToRead(Long));
            Assert.Throws<ChannelClosedException>(() => c.Read(Long));
            if (!ThreadBound)
            {
                Assert.False(Await(c.WaitToReadAsync()));
                Assert.Throws<ChannelClosedException>(() => Await(c.ReadAsync()));
            }
        });
    }

    [Fact]
    public void Completion_wakes_a_sleeping_reader()
    {
        Run(c =>
        {
            var completer = new TestThread(() =>
            {
                WaitUntilAsleepOrIdle(c);
                Assert.True(c.TryComplete());
            }, "completer");

            Assert.False(c.TryRead(out _, Long));
            completer.Join();
            Assert.True(c.IsConsumerCompleted);
            Assert.Equal(0ul, c.Counters.Timeouts);
        }, LongParks);
    }

    [Fact]
    public void A_waiting_writer_proceeds_when_the_consumer_makes_room()
    {
        Run(c =>
        {
            for (int i = 0; i < Capacity; i++)
            {
                Assert.True(c.TryWrite(i));
            }

            ValueTask write = c.WriteAsync(Capacity);
            Assert.False(write.IsCompleted);
            Assert.True(c.TryRead(out long first));
            Assert.Equal(0, first);
            Await(write);

            using var cts = new CancellationTokenSource();
            ValueTask blocked = c.WriteAsync(-1, cts.Token);
            cts.Cancel();
            Assert.ThrowsAny<OperationCanceledException>(() => Await(blocked));
            for (long i = 1; i <= Capacity; i++)
            {
                Assert.True(c.TryRead(out long value));
                Assert.Equal(i, value); // the cancelled write wrote nothing
            }

            Assert.False(c.TryRead(out _));
        });
    }

    private protected static T Await<T>(ValueTask<T> task)
    {
        var t = task.AsTask();
        Assert.True(((IAsyncResult)t).AsyncWaitHandle.WaitOne(Long), "the operation did not complete in time");
        return t.GetAwaiter().GetResult();
    }

    private protected static void Await(ValueTask task)
    {
        var t = task.AsTask();
        Assert.True(((IAsyncResult)t).AsyncWaitHandle.WaitOne(Long), "the operation did not complete in time");
        t.GetAwaiter().GetResult();
    }

    /// <summary>Waits until the consumer announced a sleep (doorbells that sleep), or briefly (none).</summary>
    private protected void WaitUntilAsleepOrIdle(ChannelUnderTest c)
    {
        if (CanSleep)
        {
            TestWait.Until(() => c.WaitBlock.IsConsumerSleeping, "the consumer to announce its sleep");
        }
        else
        {
            Thread.Sleep(1);
        }
    }

    /// <summary>Creates the channel on a dedicated thread, runs <paramref name="body"/> there, disposes it there.</summary>
    private protected void Run(Action<ChannelUnderTest> body, ChannelWaitOptions? wait = null)
    {
        RealUintr.SkipUnlessDoorbellAvailable(Doorbell);
        // A SkipException thrown by the body is rethrown here by Join, so the test shows as skipped.
        new TestThread(() =>
        {
            using var c = ChannelUnderTest.Create(Messages, Doorbell, MultipleProducers, Capacity, wait, Checksums);
            Assert.Equal(Doorbell, c.Doorbell);
            body(c);
        }, $"consumer ({Doorbell})").Join(TimeSpan.FromSeconds(60));
    }
}

/// <summary>Async reads, for the doorbells any thread can wait on (futex, eventfd, none).</summary>
public abstract class AsyncChannelContractTests : ChannelContractTests
{
    [Fact]
    public void Async_reads_complete_when_data_arrives()
    {
        Run(c =>
        {
            Assert.True(c.TryWrite(7));
            ValueTask<long> ready = c.ReadAsync();
            Assert.True(ready.IsCompletedSuccessfully); // synchronous when an element waits
            Assert.Equal(7, ready.Result);

            for (int i = 0; i < 10; i++)
            {
                ValueTask<long> read = c.ReadAsync();
                Assert.False(read.IsCompleted); // nothing written yet: it cannot have completed
                WaitUntilAsleepOrIdle(c);
                Assert.True(c.TryWrite(100 + i));
                Assert.Equal(100 + i, Await(read));
            }

            ValueTask<bool> wait = c.WaitToReadAsync();
            Assert.False(wait.IsCompleted);
            Assert.True(c.TryWrite(5));
            Assert.True(Await(wait));
            Assert.True(c.TryRead(out long five));
            Assert.Equal(5, five);
            if (CanSleep)
            {
                Assert.Equal(0ul, c.Counters.Timeouts);
            }
        }, LongParks);
    }

    [Fact]
    public void An_async_wait_sees_completion_as_false()
    {
        Run(c =>
        {
            ValueTask<bool> wait = c.WaitToReadAsync();
            WaitUntilAsleepOrIdle(c);
            Assert.True(c.TryComplete());
            Assert.False(Await(wait));
        }, LongParks);
    }

    [Fact]
    public void Cancelled_async_reads_lose_no_element()
    {
        Run(c =>
        {
            const int Count = 300;
            var received = new List<long>();
            int cancelled = 0;
            var producer = new TestThread(() =>
            {
                var random = new Random(42);
                for (int i = 0; i < Count; i++)
                {
                    Assert.True(c.TryWrite(i, Long));
                    if (random.Next(4) == 0)
                    {
                        Thread.Sleep(random.Next(2));
                    }
                }
            }, "producer");

            var rng = new Random(7);
            long deadline = Environment.TickCount64 + (long)Long.TotalMilliseconds;
            while (received.Count == 0 || received[^1] != Count - 1)
            {
                Assert.True(Environment.TickCount64 < deadline, $"received {received.Count}, cancelled {cancelled}");
                using var cts = new CancellationTokenSource();
                ValueTask<long> read = c.ReadAsync(cts.Token);
                if (rng.Next(2) == 0)
                {
                    cts.Cancel(); // races with the producer's next element
                }
                else
                {
                    cts.CancelAfter(rng.Next(1, 3));
                }

                try
                {
                    received.Add(Await(read));
                }
                catch (OperationCanceledException)
                {
                    cancelled++;
                }
            }

            producer.Join();
            while (c.TryRead(out long rest))
            {
                received.Add(rest);
            }

            // Every element arrives exactly once, in order, whatever was cancelled.
            Assert.Equal(Enumerable.Range(0, Count).Select(i => (long)i), received);
            Assert.True(cancelled > 0, "no read was cancelled; the test did not test anything");
        });
    }

    [Fact]
    public void Only_one_wait_at_a_time()
    {
        Run(c =>
        {
            ValueTask<bool> first = c.WaitToReadAsync();
#pragma warning disable CA2012 // the call must throw before it returns a ValueTask
            Assert.Throws<InvalidOperationException>(() => { _ = c.WaitToReadAsync(); });
#pragma warning restore CA2012
            Assert.Throws<InvalidOperationException>(() => c.WaitToRead(Short));
            Assert.True(c.TryWrite(1));
            Assert.True(Await(first));
            Assert.Equal(1, Await(c.ReadAsync())); // the consumer is usable again
        });
    }

    [Fact]
    public void Disposing_the_consumer_fails_a_pending_async_read()
    {
        Run(c =>
        {
            ValueTask<long> read = c.ReadAsync();
            WaitUntilAsleepOrIdle(c);
            c.DisposeConsumer();
            Assert.Throws<ObjectDisposedException>(() => Await(read));
            Assert.Throws<ObjectDisposedException>(() => c.TryRead(out _));
        });
    }
}

/// <summary>Signal and uintr doorbells belong to the consumer's thread: async waits are refused.</summary>
public abstract class ThreadBoundChannelContractTests : ChannelContractTests
{
    [Fact]
    public void Async_reads_are_refused_for_thread_bound_doorbells()
    {
        Run(c =>
        {
#pragma warning disable CA2012 // the call must throw before it returns a ValueTask
            var e = Assert.Throws<NotSupportedException>(() => { _ = c.WaitToReadAsync(); });
#pragma warning restore CA2012
            Assert.Contains("Futex", e.Message, StringComparison.Ordinal);
            Assert.Throws<NotSupportedException>(() => Await(c.ReadAsync()));
            Assert.True(c.TryWrite(3));
            Assert.Equal(3, Await(c.ReadAsync())); // an element waiting is read without a wait
        });
    }
}

/// <summary>Multi-producer channels: several producer threads at once.</summary>
public abstract class MpscChannelContractTests : AsyncChannelContractTests
{
    private protected override bool MultipleProducers => true;

    [Fact]
    public void Many_producer_threads_deliver_every_element_in_per_producer_order()
    {
        Run(c =>
        {
            const int Producers = 3;
            const int PerProducer = 2000;
            var threads = Enumerable.Range(0, Producers).Select(p => new TestThread(() =>
            {
                for (int i = 0; i < PerProducer; i++)
                {
                    Assert.True(c.TryWrite(((long)p << 32) | (uint)i, Long));
                }
            }, $"producer {p}")).ToList();

            var next = new int[Producers];
            for (int n = 0; n < Producers * PerProducer; n++)
            {
                long value = c.Read(Long);
                int p = (int)(value >> 32);
                Assert.Equal(next[p]++, (int)(value & 0xFFFF_FFFF));
            }

            threads.ForEach(t => t.Join());
            Assert.All(next, n => Assert.Equal(PerProducer, n));
            Assert.False(c.TryRead(out _));
        }, LongParks);
    }
}

public sealed class SpscSlotFutexChannelTests : AsyncChannelContractTests
{
    private protected override DoorbellKind Doorbell => DoorbellKind.Futex;

    private protected override bool Messages => false;
}

public sealed class SpscSlotEventFdChannelTests : AsyncChannelContractTests
{
    private protected override DoorbellKind Doorbell => DoorbellKind.EventFd;

    private protected override bool Messages => false;
}

public sealed class SpscSlotNoDoorbellChannelTests : AsyncChannelContractTests
{
    private protected override DoorbellKind Doorbell => DoorbellKind.None;

    private protected override bool Messages => false;
}

public sealed class SpscSlotSignalChannelTests : ThreadBoundChannelContractTests
{
    private protected override DoorbellKind Doorbell => DoorbellKind.Signal;

    private protected override bool Messages => false;
}

public sealed class SpscSlotUintrSimChannelTests : ThreadBoundChannelContractTests
{
    private protected override DoorbellKind Doorbell => DoorbellKind.UintrSimulated;

    private protected override bool Messages => false;
}

public sealed class MpscSlotFutexChannelTests : MpscChannelContractTests
{
    private protected override DoorbellKind Doorbell => DoorbellKind.Futex;

    private protected override bool Messages => false;
}

public sealed class MpscSlotEventFdChannelTests : MpscChannelContractTests
{
    private protected override DoorbellKind Doorbell => DoorbellKind.EventFd;

    private protected override bool Messages => false;
}

public sealed class SpscMessageFutexChannelTests : AsyncChannelContractTests
{
    private protected override DoorbellKind Doorbell => DoorbellKind.Futex;

    private protected override bool Messages => true;
}

public sealed class SpscMessageSignalChannelTests : ThreadBoundChannelContractTests
{
    private protected override DoorbellKind Doorbell => DoorbellKind.Signal;

    private protected override bool Messages => true;
}

public sealed class MpscMessageEventFdChannelTests : MpscChannelContractTests
{
    private protected override DoorbellKind Doorbell => DoorbellKind.EventFd;

    private protected override bool Messages => true;
}

public sealed class SpscMessageUintrSimChannelTests : ThreadBoundChannelContractTests
{
    private protected override DoorbellKind Doorbell => DoorbellKind.UintrSimulated;

    private protected override bool Messages => true;
}

/// <summary>Hardware user interrupts (runs in the emulated uintr machine of .ci/run; skipped with the detection reason elsewhere).</summary>
[Trait(RealUintr.TraitName, RealUintr.TraitValue)]
public sealed class SpscSlotUintrChannelTests : ThreadBoundChannelContractTests
{
    private protected override DoorbellKind Doorbell => DoorbellKind.Uintr;

    private protected override bool Messages => false;
}

/// <summary>Hardware user interrupts with a message channel (see <see cref="SpscSlotUintrChannelTests"/>).</summary>
[Trait(RealUintr.TraitName, RealUintr.TraitValue)]
public sealed class SpscMessageUintrChannelTests : ThreadBoundChannelContractTests
{
    private protected override DoorbellKind Doorbell => DoorbellKind.Uintr;

    private protected override bool Messages => true;
}

/// <summary>Checksums on (IpcChannelOptions.Checksums): the same contracts, every element verified.</summary>
public sealed class SpscSlotFutexChecksumChannelTests : AsyncChannelContractTests
{
    private protected override DoorbellKind Doorbell => DoorbellKind.Futex;

    private protected override bool Messages => false;

    private protected override bool Checksums => true;
}

/// <summary>Checksums on, several writers.</summary>
public sealed class MpscSlotFutexChecksumChannelTests : MpscChannelContractTests
{
    private protected override DoorbellKind Doorbell => DoorbellKind.Futex;

    private protected override bool Messages => false;

    private protected override bool Checksums => true;
}

/// <summary>Checksums on, a message channel.</summary>
public sealed class SpscMessageFutexChecksumChannelTests : AsyncChannelContractTests
{
    private protected override DoorbellKind Doorbell => DoorbellKind.Futex;

    private protected override bool Messages => true;

    private protected override bool Checksums => true;
}

/// <summary>Checksums on, a message channel with several writers.</summary>
public sealed class MpscMessageEventFdChecksumChannelTests : MpscChannelContractTests
{
    private protected override DoorbellKind Doorbell => DoorbellKind.EventFd;

    private protected override bool Messages => true;

    private protected override bool Checksums => true;
}

/// <summary>Checksums on, a thread-bound doorbell (blocking reads on the reader's thread).</summary>
public sealed class SpscMessageSignalChecksumChannelTests : ThreadBoundChannelContractTests
{
    private protected override DoorbellKind Doorbell => DoorbellKind.Signal;

    private protected override bool Messages => true;

    private protected override bool Checksums => true;
}
