using Tmds.Linux;
using UintrIpc.Interop;
using UintrIpc.Signaling;

namespace UintrIpc.Tests.Signaling;

/// <summary>
/// uintr-sim in one process: the hardware semantics of uintr-abi.md §3.4 (posted bits per
/// vector, coalescing, one handler call per pending vector, ON/SN) and the doorbell
/// contract (blocked wait woken, bounded wait, spurious wake-ups absorbed).
/// </summary>
public sealed class UintrSimulationTests
{
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(30);

    [Fact]
    public void Posted_bits_are_per_vector_and_taken_once()
    {
        UintrTestThread.Run(() =>
        {
            using var receiver = new UintrDoorbellReceiver(vector: 3, simulated: true);
            using var fd17 = receiver.OpenVectorFd(17);
            using var fd63 = receiver.OpenVectorFd(63);
            using var s3 = new UintrDoorbellSender(receiver.VectorFd, simulated: true);
            using var s17 = new UintrDoorbellSender(fd17, simulated: true);
            using var s63 = new UintrDoorbellSender(fd63, simulated: true);

            Assert.Equal(0ul, receiver.Poll());
            s3.Ring();
            s63.Ring();
            // Posted, not yet delivered: the bits sit in the simulated PIR with ON set.
            var stats = receiver.SimulationStats();
            Assert.Equal((1ul << 3) | (1ul << 63), stats.Pir);
            Assert.Equal(1u, stats.Status & 1u);
            Assert.Equal(0ul, receiver.HandlerCalls(3));

            Assert.Equal((1ul << 3) | (1ul << 63), receiver.Poll());
            Assert.Equal(1ul, receiver.HandlerCalls(3));
            Assert.Equal(1ul, receiver.HandlerCalls(63));
            Assert.Equal(0ul, receiver.HandlerCalls(17));
            Assert.Equal(0ul, receiver.Poll());

            s17.Ring();
            Assert.Equal(1ul << 17, receiver.Poll());
            Assert.Equal(1ul, receiver.HandlerCalls(17));
            stats = receiver.SimulationStats();
            Assert.Equal(0ul, stats.Pir);
            Assert.Equal(0u, stats.Status);
        });
    }

    [Fact]
    public void Sends_of_one_vector_before_delivery_coalesce_into_one_handler_call()
    {
        UintrTestThread.Run(() =>
        {
            using var receiver = new UintrDoorbellReceiver(vector: 5, simulated: true);
            using var sender = new UintrDoorbellSender(receiver.VectorFd, simulated: true);

            for (int i = 0; i < 100; i++)
            {
                sender.Ring();
            }

            var stats = receiver.SimulationStats();
            Assert.Equal(100ul, stats.Posts);
            Assert.Equal(1ul, stats.Notifications); // only the first found ON clear (§3.4)
            Assert.Equal(1ul << 5, stats.Pir);

            Assert.Equal(1ul << 5, receiver.Poll());
            Assert.Equal(1ul, receiver.HandlerCalls(5));
            Assert.Equal(1ul, receiver.SimulationStats().Deliveries);

            // After a delivery the next send notifies again and is a new handler call.
            sender.Ring();
            Assert.Equal(1ul << 5, receiver.Poll());
            Assert.Equal(2ul, receiver.HandlerCalls(5));
            stats = receiver.SimulationStats();
            Assert.Equal(101ul, stats.Posts);
            Assert.Equal(2ul, stats.Notifications);
        });
    }

    [Fact]
    public void Every_distinct_pending_vector_gets_exactly_one_handler_call()
    {
        UintrTestThread.Run(() =>
        {
            using var receiver = new UintrDoorbellReceiver(vector: 0, simulated: true);
            var senders = new List<UintrDoorbellSender>();
            try
            {
                for (int v = 0; v < UintrDoorbellReceiver.VectorCount; v++)
                {
                    using var fd = v == 0 ? null : receiver.OpenVectorFd(v);
                    senders.Add(new UintrDoorbellSender(fd ?? receiver.VectorFd, simulated: true));
                }

                // Each vector v is sent v + 1 times: still one call per vector.
                for (int v = 0; v < senders.Count; v++)
                {
                    for (int i = 0; i <= v; i++)
                    {
                        senders[v].Ring();
                    }
                }

                Assert.Equal(ulong.MaxValue, receiver.Poll());
                for (int v = 0; v < UintrDoorbellReceiver.VectorCount; v++)
                {
                    Assert.Equal(1ul, receiver.HandlerCalls(v));
                }

                Assert.Equal(1ul, receiver.SimulationStats().Notifications);
                Assert.Equal(64ul * 65 / 2, receiver.SimulationStats().Posts);
            }
            finally
            {
                senders.ForEach(s => s.Dispose());
            }
        });
    }

    [Fact]
    public void A_receiver_blocked_in_Wait_is_woken_by_a_send_from_another_thread()
    {
        using var published = new ManualResetEventSlim();
        UintrDoorbellReceiver? receiver = null;
        ulong wakeWord = 0;
        ulong vectors = 0;
        var thread = UintrTestThread.Start(() =>
        {
            using var r = new UintrDoorbellReceiver(vector: 9, simulated: true);
            receiver = r;
            wakeWord = r.SimulationStats().WakeWordAddress;
            published.Set();
            vectors = r.WaitForVectors(Long);
        });

        Assert.True(published.Wait(UintrTestThread.Timeout));
        using (var sender = new UintrDoorbellSender(receiver!.VectorFd, simulated: true))
        {
            UintrTestThread.WaitUntilBlockedInFutex(receiver.OSThreadId, wakeWord, () => thread.IsAlive);
            sender.Ring();
            thread.Join(); // a lost wake-up would show as the 30 s wait timing out with 0
        }

        Assert.Equal(1ul << 9, vectors);
    }

    [Fact]
    public void The_longest_timeout_blocks_until_a_send()
    {
        using var published = new ManualResetEventSlim();
        UintrDoorbellReceiver? receiver = null;
        ulong wakeWord = 0;
        ulong vectors = 0;
        var thread = UintrTestThread.Start(() =>
        {
            using var r = new UintrDoorbellReceiver(vector: 13, simulated: true);
            receiver = r;
            wakeWord = r.SimulationStats().WakeWordAddress;
            Assert.Throws<ArgumentOutOfRangeException>(() => r.WaitForVectors(TimeSpan.FromTicks(-1)));
            published.Set();
            vectors = r.WaitForVectors(TimeSpan.MaxValue); // the shim clamps it so that now + timeout cannot overflow
        });

        Assert.True(published.Wait(UintrTestThread.Timeout));
        using (var sender = new UintrDoorbellSender(receiver!.VectorFd, simulated: true))
        {
            // It really sleeps (a bad deadline would return at once and end the thread).
            UintrTestThread.WaitUntilBlockedInFutex(receiver.OSThreadId, wakeWord, () => thread.IsAlive);
            sender.Ring();
            thread.Join();
        }

        Assert.Equal(1ul << 13, vectors);
    }

    [Fact]
    public void Wait_times_out_when_nobody_sends()
    {
        UintrTestThread.Run(() =>
        {
            using var receiver = new UintrDoorbellReceiver(vector: 2, simulated: true);
            Assert.Equal(0ul, receiver.WaitForVectors(TimeSpan.FromMilliseconds(50)));
            Assert.False(receiver.Wait(receiver.PrepareToWait(), TimeSpan.Zero));
            Assert.Equal(0ul, receiver.HandlerCalls(2));
            Assert.Equal(0ul, receiver.SimulationStats().Notifications);
        });
    }

    [Fact]
    public void A_send_before_Wait_makes_Wait_return_at_once()
    {
        UintrTestThread.Run(() =>
        {
            using var receiver = new UintrDoorbellReceiver(vector: 4, simulated: true);
            using var sender = new UintrDoorbellSender(receiver.VectorFd, simulated: true);
            uint token = receiver.PrepareToWait();
            sender.Ring(); // between the announcement and the wait: must not be lost
            Assert.True(receiver.Wait(token, Long));
            Assert.Equal(1ul, receiver.HandlerCalls(4));
        });
    }

    [Fact]
    public void PrepareToWait_discards_rings_that_came_before_it()
    {
        UintrTestThread.Run(() =>
        {
            using var receiver = new UintrDoorbellReceiver(vector: 4, simulated: true);
            using var sender = new UintrDoorbellSender(receiver.VectorFd, simulated: true);
            sender.Ring();
            uint token = receiver.PrepareToWait();
            Assert.False(receiver.Wait(token, TimeSpan.FromMilliseconds(20)));
            Assert.Equal(1ul, receiver.HandlerCalls(4)); // delivered (counted) by PrepareToWait
        });
    }

    [Fact]
    public void An_empty_notification_wakes_the_wait_which_goes_back_to_sleep_until_a_real_send()
    {
        using var published = new ManualResetEventSlim();
        UintrDoorbellReceiver? receiver = null;
        ulong wakeWord = 0;
        ulong vectors = 0;
        var thread = UintrTestThread.Start(() =>
        {
            using var r = new UintrDoorbellReceiver(vector: 11, simulated: true);
            receiver = r;
            wakeWord = r.SimulationStats().WakeWordAddress;
            published.Set();
            vectors = r.WaitForVectors(Long);
        });

        Assert.True(published.Wait(UintrTestThread.Timeout));
        using (var sender = new UintrDoorbellSender(receiver!.VectorFd, simulated: true))
        {
            UintrTestThread.WaitUntilBlockedInFutex(receiver.OSThreadId, wakeWord, () => thread.IsAlive);
            sender.NotifyWithoutPostForTest();

            // The wait noticed the empty notification and went back to sleep on the same word.
            WaitUntil(() => receiver.SimulationStats().SpuriousWakeups >= 1);
            UintrTestThread.WaitUntilBlockedInFutex(receiver.OSThreadId, wakeWord, () => thread.IsAlive);
            Assert.True(thread.IsAlive);

            sender.Ring();
            thread.Join();
        }

        Assert.Equal(1ul << 11, vectors);
    }

    [Fact]
    public void An_empty_notification_alone_ends_in_a_timeout()
    {
        UintrTestThread.Run(() =>
        {
            using var receiver = new UintrDoorbellReceiver(vector: 12, simulated: true);
            using var sender = new UintrDoorbellSender(receiver.VectorFd, simulated: true);
            sender.NotifyWithoutPostForTest(); // ON set, futex word bumped, nothing posted
            Assert.Equal(0ul, receiver.WaitForVectors(TimeSpan.FromMilliseconds(50)));
            Assert.Equal(0ul, receiver.HandlerCalls(12));
            // The wait took the notification (ON cleared) and found nothing to deliver.
            var stats = receiver.SimulationStats();
            Assert.Equal(1ul, stats.Notifications);
            Assert.Equal(0ul, stats.Deliveries);
            Assert.Equal(0u, stats.Status);
        });
    }

    [Fact]
    public void Sending_to_a_receiver_that_has_gone_is_silently_lost()
    {
        SafeFdHandle? keptFd = null;
        UintrDoorbellSender? sender = null;
        try
        {
            UintrTestThread.Run(() =>
            {
                using var receiver = new UintrDoorbellReceiver(vector: 6, simulated: true);
                sender = new UintrDoorbellSender(receiver.VectorFd, simulated: true);
                keptFd = receiver.OpenVectorFd(6); // outlives the receiver
            });

            // The receiver and its thread are gone: rings neither throw nor fault.
            for (int i = 0; i < 10; i++)
            {
                sender!.Ring();
            }

            // A new sender to the dead receiver is refused like uintr_register_sender's ESHUTDOWN.
            var e = Assert.Throws<UintrIpcException>(() => new UintrDoorbellSender(keptFd!, simulated: true));
            Assert.Equal(LibC.ESHUTDOWN, e.Errno);
        }
        finally
        {
            sender?.Dispose();
            keptFd?.Dispose();
        }
    }

    [Fact]
    public void A_disposed_sender_refuses_to_ring()
    {
        UintrTestThread.Run(() =>
        {
            using var receiver = new UintrDoorbellReceiver(vector: 1, simulated: true);
            var sender = new UintrDoorbellSender(receiver.VectorFd, simulated: true);
            sender.Dispose();
            Assert.Throws<ObjectDisposedException>(sender.Ring);
            Assert.Equal(0ul, receiver.Poll());
        });
    }

    [Fact]
    public void Fds_that_are_not_uintr_sim_vector_fds_are_rejected()
    {
        int efd = LibC.eventfd(0, LibC.EFD_CLOEXEC);
        Assert.True(efd >= 0);
        using var eventFd = new SafeFdHandle(efd, ownsHandle: true);
        Assert.Equal(LibC.EOPNOTSUPP, Assert.Throws<UintrIpcException>(() => new UintrDoorbellSender(eventFd, simulated: true)).Errno);

        // A sealed memfd of the simulated UPID's size, but zeros instead of the UPID magic.
        using var zeros = SealedMemfd(4096);
        Assert.Equal(LibC.EOPNOTSUPP, Assert.Throws<UintrIpcException>(() => new UintrDoorbellSender(zeros, simulated: true)).Errno);

        // A memfd of the wrong size (could be truncated under a mapping: never mapped).
        using var small = SealedMemfd(64);
        Assert.Equal(LibC.EOPNOTSUPP, Assert.Throws<UintrIpcException>(() => new UintrDoorbellSender(small, simulated: true)).Errno);

        // A real UPID memfd whose file position (the vector) was moved out of range.
        UintrTestThread.Run(() =>
        {
            using var receiver = new UintrDoorbellReceiver(vector: 1, simulated: true);
            using var fd = receiver.OpenVectorFd(1);
            Assert.Equal(64, LibC.lseek(fd.Fd, 64, LibC.SEEK_SET));
            Assert.Equal(LibC.EOPNOTSUPP, Assert.Throws<UintrIpcException>(() => new UintrDoorbellSender(fd, simulated: true)).Errno);
        });

        Assert.Equal(-LibC.EBADF, Shim.UintrSenderRegister(int.MaxValue, 1));
    }

    private static unsafe SafeFdHandle SealedMemfd(long size)
    {
        byte* name = stackalloc byte[] { (byte)'t', 0 };
        var fd = new SafeFdHandle(LibC.memfd_create(name, LibC.MFD_CLOEXEC | LibC.MFD_ALLOW_SEALING), ownsHandle: true);
        Assert.False(fd.IsInvalid);
        Assert.Equal(0, LibC.ftruncate(fd.Fd, size));
        Assert.Equal(0, LibC.fcntl(fd.Fd, LibC.F_ADD_SEALS, LibC.F_SEAL_SHRINK | LibC.F_SEAL_GROW));
        return fd;
    }

    [Fact]
    public void A_receiver_is_bound_to_its_thread()
    {
        UintrDoorbellReceiver? receiver = null;
        using var created = new ManualResetEventSlim();
        using var done = new ManualResetEventSlim();
        var owner = UintrTestThread.Start(() =>
        {
            using var r = new UintrDoorbellReceiver(vector: 8, simulated: true);
            receiver = r;
            created.Set();
            Assert.True(done.Wait(UintrTestThread.Timeout));

            // A second receiver on the same thread is refused (one registration per thread).
            Assert.Equal(LibC.EBUSY, Assert.Throws<UintrIpcException>(() => new UintrDoorbellReceiver(vector: 9, simulated: true)).Errno);
        });

        try
        {
            Assert.True(created.Wait(UintrTestThread.Timeout));
            Assert.Throws<InvalidOperationException>(() => receiver!.WaitForVectors(TimeSpan.Zero));
            Assert.Throws<InvalidOperationException>(() => receiver!.Poll());
            Assert.Throws<InvalidOperationException>(receiver!.Dispose);
            Assert.Equal(0ul, receiver.HandlerCalls(8)); // counters are readable from any thread
        }
        finally
        {
            done.Set();
            owner.Join();
        }

        Assert.Throws<ObjectDisposedException>(() => receiver!.HandlerCalls(8));
    }

    [Fact]
    public void A_receiver_left_by_an_ended_thread_disposes_from_any_thread_right_after_Join()
    {
        // The shim unregisters at the OS thread's exit, a moment after Join returns: Dispose
        // waits for that exit instead of failing (it raced and threw in the emulated uintr job).
        for (int round = 0; round < 200; round++)
        {
            var receiver = UintrTestThread.Run(() => new UintrDoorbellReceiver(vector: round % 64, simulated: true));
            receiver.Dispose();
            Assert.Throws<ObjectDisposedException>(() => receiver.HandlerCalls(0));
        }
    }

    [Fact]
    public async Task Thread_pool_threads_cannot_be_receivers()
    {
        var e = await Task.Run(() => Assert.Throws<InvalidOperationException>(() => new UintrDoorbellReceiver(simulated: true)))
            .WaitAsync(UintrTestThread.Timeout);
        Assert.Contains("thread-pool", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_simulation_says_it_is_one()
    {
        UintrTestThread.Run(() =>
        {
            using var receiver = new UintrDoorbellReceiver(vector: 1, simulated: true);
            using var sender = new UintrDoorbellSender(receiver.VectorFd, simulated: true);
            Assert.Equal(DoorbellKind.UintrSimulated, receiver.Kind);
            Assert.Equal(DoorbellKind.UintrSimulated, sender.Kind);
            Assert.True(receiver.IsSimulated);
            Assert.Contains("simulation", receiver.ToString(), StringComparison.Ordinal);
            Assert.Contains("simulation", sender.ToString(), StringComparison.Ordinal);
        });
    }

    private static void WaitUntil(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + UintrTestThread.Timeout;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("condition not reached in time");
            }

            Thread.Sleep(1);
        }
    }
}
