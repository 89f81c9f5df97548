using System.Globalization;
using Tmds.Linux;
using UintrIpc.Interop;
using UintrIpc.Signaling;

namespace UintrIpc.Tests.Signaling;

/// <summary>
/// Hardware user interrupts in one process: delivery, vectors, bounded waits, thread binding
/// and teardown (the same semantics UintrSimulationTests checks on the simulation). They run
/// where detection succeeds (the emulated uintr machine of .ci/run) and skip with its reason
/// elsewhere.
/// </summary>
[Trait(RealUintr.TraitName, RealUintr.TraitValue)]
public sealed class UintrRealPathTests
{
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(30);

    [Fact]
    public void A_self_send_is_delivered_to_the_handler_and_ends_the_wait()
    {
        RealUintr.SkipUnlessAvailable();
        UintrTestThread.Run(() =>
        {
            using var receiver = new UintrDoorbellReceiver(vector: 3);
            Assert.Equal(DoorbellKind.Uintr, receiver.Kind);
            using var sender = new UintrDoorbellSender(receiver.VectorFd);

            sender.Ring();
            ulong vectors = receiver.WaitForVectors(TimeSpan.FromSeconds(10));

            Assert.Equal(1ul << 3, vectors);
            Assert.True(receiver.HandlerCalls(3) >= 1);
            Assert.Equal(0ul, receiver.HandlerCalls(4));
        });
    }

    [Fact]
    public void A_receiver_blocked_in_uintr_wait_is_woken_by_another_thread()
    {
        RealUintr.SkipUnlessAvailable();
        using var published = new ManualResetEventSlim();
        UintrDoorbellReceiver? receiver = null;
        ulong vectors = 0;
        var thread = UintrTestThread.Start(() =>
        {
            using var r = new UintrDoorbellReceiver(vector: 7);
            receiver = r;
            published.Set();
            vectors = r.WaitForVectors(Long);
        });
        Assert.True(published.Wait(UintrTestThread.Timeout));
        using (var sender = new UintrDoorbellSender(receiver!.VectorFd))
        {
            WaitUntilBlockedInUintrWait(receiver.OSThreadId, () => thread.IsAlive);
            sender.Ring();
            thread.Join(); // a lost wake-up would show as the 30 s wait ending with 0
        }

        Assert.Equal(1ul << 7, vectors);
    }

    [Fact]
    public void Posted_bits_are_per_vector_and_taken_once()
    {
        RealUintr.SkipUnlessAvailable();
        UintrTestThread.Run(() =>
        {
            using var receiver = new UintrDoorbellReceiver(vector: 3);
            using var fd17 = receiver.OpenVectorFd(17);
            using var fd63 = receiver.OpenVectorFd(63);
            using var s3 = new UintrDoorbellSender(receiver.VectorFd);
            using var s17 = new UintrDoorbellSender(fd17);
            using var s63 = new UintrDoorbellSender(fd63);

            Assert.Equal(0ul, receiver.Poll());
            s3.Ring();
            s63.Ring();
            Assert.Equal((1ul << 3) | (1ul << 63), PollUntilSet(receiver, (1ul << 3) | (1ul << 63)));
            Assert.Equal(0ul, receiver.HandlerCalls(17));
            Assert.Equal(0ul, receiver.Poll());

            s17.Ring();
            Assert.Equal(1ul << 17, PollUntilSet(receiver, 1ul << 17));
            Assert.Equal(1ul, receiver.HandlerCalls(3));
            Assert.Equal(1ul, receiver.HandlerCalls(17));
            Assert.Equal(1ul, receiver.HandlerCalls(63));
        });
    }

    [Fact]
    public void Every_vector_is_delivered_and_handled()
    {
        RealUintr.SkipUnlessAvailable();
        UintrTestThread.Run(() =>
        {
            using var receiver = new UintrDoorbellReceiver(vector: 0);
            var senders = new List<UintrDoorbellSender>();
            try
            {
                for (int v = 0; v < UintrDoorbellReceiver.VectorCount; v++)
                {
                    using var fd = v == 0 ? null : receiver.OpenVectorFd(v);
                    senders.Add(new UintrDoorbellSender(fd ?? receiver.VectorFd));
                }

                ulong seen = 0;
                for (int v = 0; v < senders.Count; v++)
                {
                    senders[v].Ring();
                    seen |= PollUntilSet(receiver, 1ul << v);
                }

                Assert.Equal(ulong.MaxValue, seen);
                for (int v = 0; v < UintrDoorbellReceiver.VectorCount; v++)
                {
                    Assert.Equal(1ul, receiver.HandlerCalls(v)); // one send, one delivery, one call
                }
            }
            finally
            {
                senders.ForEach(s => s.Dispose());
            }
        });
    }

    [Fact]
    public void Many_sender_threads_to_one_receiver_wake_it_every_time_and_never_cause_more_calls_than_sends()
    {
        RealUintr.SkipUnlessAvailable();
        const int Senders = 3, Rounds = 150;
        using var published = new ManualResetEventSlim();
        UintrDoorbellReceiver? receiver = null;
        int round = -1, woken = 0;
        ulong calls = 0;
        var thread = UintrTestThread.Start(() =>
        {
            using var r = new UintrDoorbellReceiver(vector: 5);
            receiver = r;
            published.Set();
            for (int i = 0; i < Rounds; i++)
            {
                Volatile.Write(ref round, i); // announce: the sender of this round rings now
                Assert.Equal(1ul << 5, r.WaitForVectors(Long)); // a lost interrupt ends this with 0
                woken++;
            }

            calls = r.HandlerCalls(5);
        });

        Assert.True(published.Wait(UintrTestThread.Timeout));
        var senders = Enumerable.Range(0, Senders).Select(s => new TestThread(() =>
        {
            using var sender = new UintrDoorbellSender(receiver!.VectorFd);
            for (int i = s; i < Rounds; i += Senders)
            {
                TestWait.SpinUntil(() => Volatile.Read(ref round) >= i || !thread.IsAlive, $"round {i}");
                sender.Ring();
            }
        }, $"sender {s}")).ToList();
        senders.ForEach(s => s.Join());
        thread.Join();

        Assert.Equal(Rounds, woken);
        Assert.Equal((ulong)Rounds, calls); // one send per round, each taken before the next
    }

    [Fact]
    public void Wait_times_out_when_nobody_sends()
    {
        RealUintr.SkipUnlessAvailable();
        UintrTestThread.Run(() =>
        {
            using var receiver = new UintrDoorbellReceiver(vector: 2);
            Assert.Equal(0ul, receiver.WaitForVectors(TimeSpan.FromMilliseconds(50)));
            Assert.False(receiver.Wait(receiver.PrepareToWait(), TimeSpan.Zero));
            Assert.Equal(0ul, receiver.HandlerCalls(2));
            var stats = receiver.WaitStatistics();
            Assert.True(stats.WaitSyscalls >= 2, $"a 50 ms wait sleeps in doubling slices from 200 us: {stats.WaitSyscalls} slices");
            Assert.Equal(0ul, stats.LateWakeups);
        });
    }

    [Fact]
    public void A_send_before_Wait_makes_Wait_return_at_once()
    {
        RealUintr.SkipUnlessAvailable();
        UintrTestThread.Run(() =>
        {
            using var receiver = new UintrDoorbellReceiver(vector: 4);
            using var sender = new UintrDoorbellSender(receiver.VectorFd);
            uint token = receiver.PrepareToWait();
            sender.Ring(); // between the announcement and the wait: must not be lost
            Assert.True(receiver.Wait(token, Long));
            Assert.Equal(1ul, receiver.HandlerCalls(4));
            Assert.Equal(0ul, receiver.WaitStatistics().WaitSyscalls); // seen before any uintr_wait
        });
    }

    [Fact]
    public void PrepareToWait_discards_rings_that_came_before_it()
    {
        RealUintr.SkipUnlessAvailable();
        UintrTestThread.Run(() =>
        {
            using var receiver = new UintrDoorbellReceiver(vector: 4);
            using var sender = new UintrDoorbellSender(receiver.VectorFd);
            sender.Ring();
            PollUntilCalled(receiver, 4);
            uint token = receiver.PrepareToWait();
            Assert.False(receiver.Wait(token, TimeSpan.FromMilliseconds(20)));
            Assert.Equal(1ul, receiver.HandlerCalls(4));
        });
    }

    [Fact]
    public void The_longest_timeout_blocks_until_a_send()
    {
        RealUintr.SkipUnlessAvailable();
        using var published = new ManualResetEventSlim();
        UintrDoorbellReceiver? receiver = null;
        ulong vectors = 0;
        var thread = UintrTestThread.Start(() =>
        {
            using var r = new UintrDoorbellReceiver(vector: 13);
            receiver = r;
            Assert.Throws<ArgumentOutOfRangeException>(() => r.WaitForVectors(TimeSpan.FromTicks(-1)));
            published.Set();
            vectors = r.WaitForVectors(TimeSpan.MaxValue); // clamped; slices stay within uintr_wait's 1000 s limit
        });

        Assert.True(published.Wait(UintrTestThread.Timeout));
        using (var sender = new UintrDoorbellSender(receiver!.VectorFd))
        {
            WaitUntilBlockedInUintrWait(receiver.OSThreadId, () => thread.IsAlive);
            Thread.Sleep(50); // let it pass a few slices: it must keep sleeping, not return
            WaitUntilBlockedInUintrWait(receiver.OSThreadId, () => thread.IsAlive);
            sender.Ring();
            thread.Join();
        }

        Assert.Equal(1ul << 13, vectors);
    }

    [Fact]
    public void A_receiver_is_bound_to_its_thread()
    {
        RealUintr.SkipUnlessAvailable();
        UintrDoorbellReceiver? receiver = null;
        using var created = new ManualResetEventSlim();
        using var done = new ManualResetEventSlim();
        var owner = UintrTestThread.Start(() =>
        {
            using var r = new UintrDoorbellReceiver(vector: 8);
            receiver = r;
            created.Set();
            Assert.True(done.Wait(UintrTestThread.Timeout));
            // A second registration on the same thread is refused (uintr_register_handler's EBUSY).
            Assert.Equal(LibC.EBUSY, Assert.Throws<UintrIpcException>(() => new UintrDoorbellReceiver(vector: 9)).Errno);
        });

        try
        {
            Assert.True(created.Wait(UintrTestThread.Timeout));
            Assert.Throws<InvalidOperationException>(() => receiver!.WaitForVectors(TimeSpan.Zero));
            Assert.Throws<InvalidOperationException>(() => receiver!.Poll());
            Assert.Throws<InvalidOperationException>(receiver!.Dispose); // its thread still runs
            Assert.Equal(0ul, receiver.HandlerCalls(8));
        }
        finally
        {
            done.Set();
            owner.Join();
        }

        Assert.Throws<ObjectDisposedException>(() => receiver!.HandlerCalls(8));
    }

    [Fact]
    public async Task Thread_pool_threads_cannot_be_receivers()
    {
        RealUintr.SkipUnlessAvailable();
        var e = await Task.Run(() => Assert.Throws<InvalidOperationException>(() => new UintrDoorbellReceiver()))
            .WaitAsync(UintrTestThread.Timeout);
        Assert.Contains("thread-pool", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Fds_that_are_not_vector_fds_are_rejected_by_the_kernel()
    {
        RealUintr.SkipUnlessAvailable();
        int efd = LibC.eventfd(0, LibC.EFD_CLOEXEC);
        Assert.True(efd >= 0);
        using var eventFd = new SafeFdHandle(efd, ownsHandle: true);
        // uintr_register_sender: "EOPNOTSUPP not a uvec fd" (uintr-abi.md §1.3).
        Assert.Equal(LibC.EOPNOTSUPP, Assert.Throws<UintrIpcException>(() => new UintrDoorbellSender(eventFd)).Errno);
        // A uintr-sim vector fd is no hardware vector fd either.
        UintrTestThread.Run(() =>
        {
            using var simulated = new UintrDoorbellReceiver(vector: 1, simulated: true);
            Assert.Equal(LibC.EOPNOTSUPP, Assert.Throws<UintrIpcException>(() => new UintrDoorbellSender(simulated.VectorFd)).Errno);
        });
    }

    [Fact]
    public void A_disposed_sender_refuses_to_ring_and_the_hardware_path_says_what_it_is()
    {
        RealUintr.SkipUnlessAvailable();
        UintrTestThread.Run(() =>
        {
            using var receiver = new UintrDoorbellReceiver(vector: 1);
            var sender = new UintrDoorbellSender(receiver.VectorFd);
            Assert.Equal(DoorbellKind.Uintr, sender.Kind);
            Assert.False(receiver.IsSimulated);
            Assert.Contains("hardware user interrupts, variant E", receiver.ToString(), StringComparison.Ordinal);
            Assert.Contains("hardware user interrupts, variant E", sender.ToString(), StringComparison.Ordinal);
            sender.Dispose();
            Assert.Throws<ObjectDisposedException>(sender.Ring);
            Assert.Equal(0ul, receiver.Poll());
            Assert.Equal(0ul, receiver.HandlerCalls(1));
        });
    }

    [Fact]
    public void Sending_to_a_receiver_whose_thread_has_gone_is_silently_lost()
    {
        RealUintr.SkipUnlessAvailable();
        UintrDoorbellSender? sender = null;
        try
        {
            UintrTestThread.Run(() =>
            {
                using var receiver = new UintrDoorbellReceiver(vector: 6);
                sender = new UintrDoorbellSender(receiver.VectorFd);
            });

            // The receiver is disposed and its thread gone: SENDUIPI neither faults nor reports.
            for (int i = 0; i < 100; i++)
            {
                sender!.Ring();
            }
        }
        finally
        {
            sender?.Dispose();
        }
    }

    [Fact]
    public void A_thread_that_exits_without_Dispose_is_unregistered_on_its_way_out()
    {
        RealUintr.SkipUnlessAvailable();
        UintrDoorbellReceiver? receiver = null;
        UintrDoorbellSender? sender = null;
        try
        {
            UintrTestThread.Run(() =>
            {
                receiver = new UintrDoorbellReceiver(vector: 10); // deliberately not disposed here
                sender = new UintrDoorbellSender(receiver.VectorFd);
                sender.Ring();
                PollUntilCalled(receiver, 10);
            });

            // Join returns when the managed thread is done; the OS thread's exit (and the shim's
            // thread-exit hook, which unregisters the receiver) follows a moment later.
            TestWait.Until(() => receiver!.WaitStatistics().ThreadExited == 1, "the receiving thread's exit to unregister it");
            Assert.Equal(1ul, receiver!.HandlerCalls(10)); // counters stay readable
            for (int i = 0; i < 20; i++)
            {
                sender!.Ring(); // nobody receives: silently lost, no fault
            }

            Assert.Equal(1ul, receiver.HandlerCalls(10)); // the handler is no longer registered anywhere
            receiver.Dispose(); // from another thread: allowed once the thread has exited
            Assert.Throws<ObjectDisposedException>(() => receiver.HandlerCalls(10));
            Assert.True(receiver.VectorFd.IsClosed);
        }
        finally
        {
            sender?.Dispose();
            receiver?.Dispose();
        }
    }

    [Fact]
    public void A_new_receiver_on_a_fresh_thread_works_after_another_thread_exited_registered()
    {
        RealUintr.SkipUnlessAvailable();
        UintrDoorbellReceiver? abandoned = null;
        UintrTestThread.Run(() => abandoned = new UintrDoorbellReceiver(vector: 2));
        try
        {
            // The unregistration at thread exit freed whatever the shim keeps per thread.
            UintrTestThread.Run(() =>
            {
                using var receiver = new UintrDoorbellReceiver(vector: 2);
                using var sender = new UintrDoorbellSender(receiver.VectorFd);
                sender.Ring();
                Assert.Equal(1ul << 2, receiver.WaitForVectors(Long));
            });
        }
        finally
        {
            abandoned?.Dispose();
        }
    }

    /// <summary>Polls (bounded) until every bit of <paramref name="expected"/> was taken; returns what was taken.</summary>
    internal static ulong PollUntilSet(UintrDoorbellReceiver receiver, ulong expected)
    {
        ulong seen = 0;
        TestWait.SpinUntil(() => ((seen |= receiver.Poll()) & expected) == expected, $"vectors 0x{expected:x}");
        return seen;
    }

    private static void PollUntilCalled(UintrDoorbellReceiver receiver, int vector)
        => TestWait.SpinUntil(() => receiver.HandlerCalls(vector) > 0, $"the handler call of vector {vector}");

    /// <summary>
    /// Waits (bounded) until OS thread <paramref name="tid"/> of this process sits in
    /// uintr_wait (syscall 476 of variant E in /proc/self/task/&lt;tid&gt;/syscall): it really sleeps.
    /// </summary>
    internal static void WaitUntilBlockedInUintrWait(int tid, Func<bool> stillRunning)
    {
        string path = $"/proc/self/task/{tid}/syscall";
        string last = "";
        TestWait.Until(() =>
        {
            Assert.True(stillRunning(), $"thread {tid} ended before it blocked; last {path}: {last}");
            last = File.ReadAllText(path);
            return last.StartsWith(476.ToString(CultureInfo.InvariantCulture) + " ", StringComparison.Ordinal);
        }, $"thread {tid} to block in uintr_wait (syscall 476)");
    }
}
