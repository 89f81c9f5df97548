using System.Runtime.InteropServices;
using Tmds.Linux;
using UintrIpc.Interop;
using UintrIpc.Memory;
using UintrIpc.Signaling;

namespace UintrIpc.Tests.Signaling;

/// <summary>Each doorbell kind in one process, receiver and sender on different threads.</summary>
public sealed unsafe class DoorbellTests
{
    public static TheoryData<DoorbellKind> BlockingKinds => [DoorbellKind.Futex, DoorbellKind.EventFd, DoorbellKind.Signal];

    /// <summary>Each blocking kind, with a 20 s timeout and with <see cref="TimeSpan.MaxValue"/> (a wait that ends when woken: issue 7, finding 4).</summary>
    public static TheoryData<DoorbellKind, bool> BlockingKindsAndUntilWoken => new()
    {
        { DoorbellKind.Futex, false }, { DoorbellKind.EventFd, false }, { DoorbellKind.Signal, false },
        { DoorbellKind.Futex, true }, { DoorbellKind.EventFd, true }, { DoorbellKind.Signal, true },
    };

    [Theory]
    [MemberData(nameof(BlockingKindsAndUntilWoken))]
    public void A_ring_wakes_a_receiver_blocked_in_the_kernel(DoorbellKind kind, bool maxValueTimeout)
    {
        using var f = new WaitBlockRegion();
        using var ready = new ManualResetEventSlim();
        DoorbellReceiver? receiver = null;
        int tid = 0;
        bool woken = false;

        var consumer = new TestThread(() =>
        {
            using var r = Doorbells.CreateReceiver(kind, f.Block);
            receiver = r;
            tid = Sys.GetTid();
            uint token = r.PrepareToWait();
            ready.Set();
            woken = r.Wait(token, maxValueTimeout ? TimeSpan.MaxValue : TimeSpan.FromSeconds(20));
        }, "consumer");

        Assert.True(ready.Wait(TestWait.Long));
        using var sender = Doorbells.CreateSender(kind, f.Block, (receiver as EventFdDoorbellReceiver)?.FileHandle);
        TestWait.UntilBlockedInKernel(tid);
        sender.Ring();
        consumer.Join();

        Assert.True(woken);
    }

    [Theory]
    [MemberData(nameof(BlockingKinds))]
    public void A_wait_that_is_not_rung_times_out(DoorbellKind kind)
    {
        using var f = new WaitBlockRegion();
        using var receiver = Doorbells.CreateReceiver(kind, f.Block);

        Assert.False(receiver.Wait(receiver.PrepareToWait(), TimeSpan.FromMilliseconds(30)));
        Assert.False(receiver.Wait(receiver.PrepareToWait(), TimeSpan.Zero));
    }

    [Theory]
    [MemberData(nameof(BlockingKinds))]
    public void Several_rings_coalesce_into_one_wake_up(DoorbellKind kind)
    {
        using var f = new WaitBlockRegion();
        using var receiver = Doorbells.CreateReceiver(kind, f.Block);
        using var sender = Doorbells.CreateSender(kind, f.Block, (receiver as EventFdDoorbellReceiver)?.FileHandle);
        uint token = receiver.PrepareToWait();

        // Rung from another thread, before the wait: none of them may be lost...
        new TestThread(() =>
        {
            for (int i = 0; i < 5; i++)
            {
                sender.Ring();
            }
        }, "producer").Join();

        Assert.True(receiver.Wait(token, TimeSpan.FromSeconds(10)));
        // ...and together they make one wake-up: the next wait blocks until its timeout.
        Assert.False(receiver.Wait(receiver.PrepareToWait(), TimeSpan.FromMilliseconds(30)));
    }

    [Theory]
    [MemberData(nameof(BlockingKinds))]
    public void Waits_refuse_a_negative_timeout(DoorbellKind kind)
    {
        using var f = new WaitBlockRegion();
        using var receiver = Doorbells.CreateReceiver(kind, f.Block);
        Assert.Throws<ArgumentOutOfRangeException>(() => receiver.Wait(receiver.PrepareToWait(), TimeSpan.FromMilliseconds(-5)));
    }

    [Fact]
    public void A_futex_wait_with_a_stale_token_returns_at_once()
    {
        using var f = new WaitBlockRegion();
        using var receiver = new FutexDoorbellReceiver(f.Block);
        using var sender = new FutexDoorbellSender(f.Block);
        uint token = receiver.PrepareToWait();
        sender.Ring();

        Assert.Equal(token + 1, receiver.PrepareToWait());
        Assert.True(receiver.Wait(token, TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public void The_eventfd_is_pollable_and_TryConsume_resets_it()
    {
        using var receiver = new EventFdDoorbellReceiver();
        using var sender = new EventFdDoorbellSender(receiver.FileHandle.Fd);
        Assert.Equal(0, PollIn(receiver.FileHandle));

        sender.Ring();
        sender.Ring();
        Assert.Equal(1, PollIn(receiver.FileHandle));
        Assert.True(receiver.TryConsume());
        Assert.False(receiver.TryConsume());
        Assert.Equal(0, PollIn(receiver.FileHandle));
    }

    [Fact]
    public void An_eventfd_sender_refuses_a_descriptor_that_is_not_an_eventfd()
    {
        using var region = SharedRegion.CreateAnonymous(WaitBlock.Part());
        Assert.Throws<ArgumentException>(() => new EventFdDoorbellSender(region.FileHandle));
    }

    [Fact]
    public void An_eventfd_sender_does_not_wait_on_a_counter_the_consumer_filled_after_clearing_O_NONBLOCK()
    {
        // The consumer owns the file description: it can clear O_NONBLOCK and fill the counter,
        // so that a write of 1 would wait for a read that never comes.
        using var receiver = BlockingEventFd();
        int fd = receiver.FileHandle.Fd;
        using var sender = new EventFdDoorbellSender(receiver.FileHandle);
        sender.Ring(); // room in the counter: a blocking descriptor is still rung
        Assert.Equal(1, PollIn(receiver.FileHandle));
        ulong full = ulong.MaxValue - 2; // 1 + this = the largest count an eventfd holds
        Assert.Equal(8, LibC.write(fd, &full, 8));

        ulong drained = RingOnThreadThenDrain(sender, fd, "Ring waited in write(2) on a full counter");
        Assert.Equal(ulong.MaxValue - 1, drained); // the stuck ring added nothing: its wake-up was pending already
    }

    [Fact]
    public void An_eventfd_sender_does_not_wait_on_a_counter_a_kernel_completion_pushed_past_the_write_limit()
    {
        // write(2) fills a counter to 2^64-2 at most, but a kernel completion adds 1 more (AIO's
        // IOCB_FLAG_RESFD, io_uring's registered eventfd): at 2^64-1 poll reports POLLERR, not POLLOUT.
        using var receiver = BlockingEventFd();
        int fd = receiver.FileHandle.Fd;
        using var sender = new EventFdDoorbellSender(receiver.FileHandle);
        ulong full = ulong.MaxValue - 1;
        Assert.Equal(8, LibC.write(fd, &full, 8));
        string? why = KernelCompletion.SignalEventFd(fd);
        Assert.SkipWhen(why is not null, $"no AIO here to push the counter to its kernel maximum: {why}");

        ulong drained = RingOnThreadThenDrain(sender, fd, "Ring waited in write(2) on a counter at 2^64-1");
        Assert.Equal(ulong.MaxValue, drained); // the completion's 1 on top of the write limit; the ring added nothing
    }

    [Fact]
    public void An_eventfd_receiver_does_not_wait_in_read_when_a_producer_cleared_O_NONBLOCK_and_took_the_count()
    {
        // A producer shares the file description: it can clear O_NONBLOCK and read the counter
        // between the receiver's poll and its read. This is the read that then finds it empty.
        using var receiver = BlockingEventFd();
        int fd = receiver.FileHandle.Fd;

        bool? consumed = null;
        var read = new Thread(() => consumed = receiver.TryConsume()) { IsBackground = true };
        read.Start();
        bool returned = read.Join(TimeSpan.FromSeconds(10));
        ulong one = 1;
        Assert.Equal(8, LibC.write(fd, &one, 8)); // lets a read stuck in read(2) return, also when the test fails
        read.Join(TimeSpan.FromSeconds(10));
        Assert.True(returned, "TryConsume waited in read(2) on an empty counter");
        Assert.False(consumed);
        Assert.True(receiver.TryConsume()); // and still reads a ring
    }

    [Fact]
    public void An_eventfd_sender_outlives_the_descriptor_it_was_built_from()
    {
        using var receiver = new EventFdDoorbellReceiver();
        int dup = LibC.dup(receiver.FileHandle.Fd);
        var sender = new EventFdDoorbellSender(dup);
        Assert.Equal(0, LibC.close(dup));

        sender.Ring();
        sender.Dispose();
        Assert.True(receiver.Wait(0, TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public void The_signal_receiver_blocks_its_signal_on_its_own_thread_only_and_dispose_restores_the_mask()
    {
        using var f = new WaitBlockRegion();
        int signal = SignalDoorbellReceiver.DefaultSignalNumber;
        int testTid = Sys.GetTid();
        bool before = true, during = false, after = true, elsewhere = true;
        int published = 0, tid = 0;

        new TestThread(() =>
        {
            tid = Sys.GetTid();
            before = TestWait.IsSignalBlocked(tid, signal);
            var receiver = new SignalDoorbellReceiver(f.Block);
            during = TestWait.IsSignalBlocked(tid, signal);
            elsewhere = TestWait.IsSignalBlocked(testTid, signal);
            published = SignalDoorbellReceiver.ReadConsumerThread(f.Block).Tid;
            receiver.Dispose();
            after = TestWait.IsSignalBlocked(tid, signal);
        }, "consumer").Join();

        Assert.Equal(44, signal); // glibc: SIGRTMIN (34) + 10, the seed design's number
        Assert.False(before);
        Assert.True(during);
        Assert.False(elsewhere);
        Assert.Equal(tid, published);
        Assert.False(after);
        Assert.Equal(0, SignalDoorbellReceiver.ReadConsumerThread(f.Block).Tid);
    }

    [Fact]
    public void Pending_signals_are_drained_before_the_mask_is_restored_and_later_rings_go_nowhere()
    {
        // If a pending signal survived into the unblocked mask, its default action would
        // terminate this test process: reaching the asserts is part of the proof.
        using var f = new WaitBlockRegion();
        using var sender = new SignalDoorbellSender(f.Block);
        int tid = 0;
        bool after = true;

        new TestThread(() =>
        {
            tid = Sys.GetTid();
            var receiver = new SignalDoorbellReceiver(f.Block);
            sender.Ring();
            sender.Ring();
            sender.Ring();
            receiver.Dispose();
            after = TestWait.IsSignalBlocked(tid, receiver.SignalNumber);
            sender.Ring(); // the wait block no longer names a thread: nothing is sent
            Thread.Sleep(20);
        }, "consumer").Join();

        Assert.False(after);
    }

    [Fact]
    public void A_signal_receiver_belongs_to_its_thread()
    {
        using var f = new WaitBlockRegion();
        using var receiver = new SignalDoorbellReceiver(f.Block);
        Exception? waitError = null, disposeError = null;

        new TestThread(() =>
        {
            waitError = Record.Exception(() => receiver.Wait(0, TimeSpan.Zero));
            disposeError = Record.Exception(receiver.Dispose);
        }, "other").Join();

        Assert.IsType<InvalidOperationException>(waitError);
        Assert.IsType<InvalidOperationException>(disposeError);
    }

    [Fact]
    public void The_runtime_activation_signal_and_non_realtime_signals_are_refused()
    {
        using var f = new WaitBlockRegion();
        int rtmin = Sys.SigRtMin();
        Assert.Throws<ArgumentOutOfRangeException>(() => new SignalDoorbellReceiver(f.Block, rtmin));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SignalDoorbellReceiver(f.Block, LibC.SIGUSR1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SignalDoorbellSender(f.Block, rtmin));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SignalDoorbellReceiver(f.Block, Sys.SigRtMax() + 1));
    }

    [Fact]
    public void A_signal_that_has_a_handler_in_this_process_is_refused()
    {
        using var f = new WaitBlockRegion();
        int signal = Sys.SigRtMin() + 11;
        using var registration = PosixSignalRegistration.Create((PosixSignal)signal, _ => { });

        Assert.Throws<InvalidOperationException>(() => new SignalDoorbellReceiver(f.Block, signal));
    }

    [Fact]
    public void The_no_doorbell_never_reports_a_ring()
    {
        using var receiver = new NoDoorbellReceiver(TimeSpan.FromMicroseconds(50));
        using var sender = new NoDoorbellSender();
        sender.Ring();
        Assert.False(receiver.Wait(receiver.PrepareToWait(), TimeSpan.FromSeconds(1)));
        Assert.Equal(DoorbellKind.None, receiver.Kind);
        Assert.Throws<ArgumentOutOfRangeException>(() => new NoDoorbellReceiver(TimeSpan.FromTicks(-1)));
    }

    /// <summary>An eventfd receiver whose O_NONBLOCK a hostile peer cleared (the flag is the shared file description's).</summary>
    private static EventFdDoorbellReceiver BlockingEventFd()
    {
        var receiver = new EventFdDoorbellReceiver();
        int fd = receiver.FileHandle.Fd;
        Assert.Equal(0, LibC.fcntl(fd, LibC.F_SETFL, LibC.fcntl(fd, LibC.F_GETFL, 0) & ~LibC.O_NONBLOCK));
        return receiver;
    }

    /// <summary>Rings on a thread joined for 10 s, then drains the counter (which frees a ring stuck in write(2), also when the test fails): the count drained.</summary>
    private static ulong RingOnThreadThenDrain(EventFdDoorbellSender sender, int fd, string stuck)
    {
        var ring = new Thread(sender.Ring) { IsBackground = true };
        ring.Start();
        bool returned = ring.Join(TimeSpan.FromSeconds(10));
        ulong drained;
        Assert.Equal(8, LibC.read(fd, &drained, 8));
        ring.Join(TimeSpan.FromSeconds(10));
        Assert.True(returned, stuck);
        return drained;
    }

    private static int PollIn(SafeHandle fd)
    {
        var pfd = new pollfd { fd = (int)fd.DangerousGetHandle(), events = LibC.POLLIN };
        int rc = LibC.poll(&pfd, 1, 0);
        Assert.True(rc >= 0);
        return rc;
    }
}
