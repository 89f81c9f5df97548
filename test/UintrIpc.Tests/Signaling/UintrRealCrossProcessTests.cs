using System.Globalization;
using Tmds.Linux;
using UintrIpc.Bootstrap;
using UintrIpc.Channels;
using UintrIpc.Signaling;
using UintrIpc.Tests.Bootstrap;
using UintrIpc.Tests.Infrastructure;

namespace UintrIpc.Tests.Signaling;

/// <summary>
/// Hardware user interrupts between processes (UintrIpc.TestPeer, Commands/UintrCommands.cs):
/// a receiver blocked in uintr_wait woken by another process, vector fds passed over the
/// bootstrap socket, many sender processes to one receiver, and each side outliving the other.
/// </summary>
[Trait(RealUintr.TraitName, RealUintr.TraitValue)]
[Collection(CrossProcessCollection.Name)]
public sealed class UintrRealCrossProcessTests(ITestOutputHelper output) : IDisposable
{
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(60); // measured from the last value; includes a child's start-up, which takes tens of seconds on the emulated uintr machine
    private readonly SocketNames _sockets = new();

    public void Dispose() => _sockets.Dispose();

    [Fact]
    public void A_receiver_blocked_in_uintr_wait_is_woken_by_a_sender_in_another_process()
    {
        RealUintr.SkipUnlessAvailable();
        const int Vector = 21, Count = 20;
        using var published = new ManualResetEventSlim();
        using var peerDone = new ManualResetEventSlim();
        UintrDoorbellReceiver? receiver = null;
        ulong firstWake = 0, calls = 0;
        int wakes = 0;
        var thread = UintrTestThread.Start(() =>
        {
            using var r = new UintrDoorbellReceiver(Vector);
            receiver = r;
            published.Set();
            firstWake = r.WaitForVectors(Long);
            wakes = 1;
            // The child pauses after each ring, so most find this thread asleep again.
            while (!peerDone.IsSet)
            {
                if (r.WaitForVectors(TimeSpan.FromMilliseconds(100)) != 0)
                {
                    wakes++;
                }
            }

            wakes += r.Poll() != 0 ? 1 : 0;
            calls = r.HandlerCalls(Vector);
        });

        try
        {
            Assert.True(published.Wait(UintrTestThread.Timeout));
            using var peer = StartPeer("uintr-send", receiver!.VectorFd, ["real"], [Count.ToString(CultureInfo.InvariantCulture), "20"]);
            peer.WaitForOutput("registered");
            UintrRealPathTests.WaitUntilBlockedInUintrWait(receiver.OSThreadId, () => thread.IsAlive);
            peer.WriteLine("go");
            peer.AssertSuccess();
            Assert.Contains($"sent {Count}", peer.StandardOutput, StringComparison.Ordinal);
        }
        finally
        {
            peerDone.Set();
            thread.Join();
        }

        output.WriteLine($"{Count} sends from another process: {wakes} wake-ups, {calls} handler calls");
        Assert.Equal(1ul << Vector, firstWake); // woken by the other process, not by the 30 s timeout
        Assert.InRange(calls, 1ul, (ulong)Count); // coalescing: never more calls than sends
        Assert.InRange((ulong)wakes, 1ul, calls);
    }

    [Fact]
    public void A_vector_fd_sent_over_the_bootstrap_socket_reaches_a_receiver_in_another_process_and_a_dead_receiver_costs_the_sender_nothing()
    {
        RealUintr.SkipUnlessAvailable();
        const int Wakes = 3;
        string endpoint = _sockets.NewPath("uintr");
        using var server = BootstrapServer.Listen(endpoint);
        using var peer = PeerProcess.Start(output, "uintr-receive", endpoint, "9", Wakes.ToString(CultureInfo.InvariantCulture));
        UintrDoorbellSender sender;
        using (var connection = server.Accept(Long))
        using (var message = connection.Receive(Long))
        {
            Assert.Equal(peer.Pid, connection.Peer.Pid);
            Assert.Equal("uintr"u8.ToArray(), message.Payload.ToArray());
            Assert.Equal(1, message.FdCount);
            using var vectorFd = message.TakeFd(0); // the child's uvec fd, passed with SCM_RIGHTS
            sender = new UintrDoorbellSender(vectorFd);
        }

        using (sender)
        {
            for (int n = 1; n <= Wakes; n++)
            {
                // Ring until the child reports this wake-up (a ring before it waits is kept pending, never lost).
                sender.Ring();
                peer.WaitForOutput($"woken {n}", Long);
            }

            peer.WriteLine("exit");
            peer.AssertSuccess();

            // The receiver's process is gone: SENDUIPI to its UPID neither faults nor reports.
            for (int i = 0; i < 100; i++)
            {
                sender.Ring();
            }
        }
    }

    [Fact]
    public void A_receiver_outlives_a_sender_process_that_is_killed_while_ringing()
    {
        RealUintr.SkipUnlessAvailable();
        using var published = new ManualResetEventSlim();
        using var killed = new ManualResetEventSlim();
        UintrDoorbellReceiver? receiver = null;
        int wakesBeforeKill = 0;
        ulong afterKill = 0, fromNewSender = 0;
        var thread = UintrTestThread.Start(() =>
        {
            using var r = new UintrDoorbellReceiver(vector: 17);
            receiver = r;
            published.Set();
            while (!killed.IsSet || r.Poll() != 0)
            {
                if (r.WaitForVectors(TimeSpan.FromMilliseconds(50)) != 0)
                {
                    wakesBeforeKill++;
                }
            }

            // Nothing rings any more: the next wait runs to its timeout.
            afterKill = r.WaitForVectors(TimeSpan.FromMilliseconds(200));
            // A new sender (here, another thread of this process) still wakes it.
            using var next = new UintrDoorbellSender(r.VectorFd);
            next.Ring();
            fromNewSender = r.WaitForVectors(Long);
        });

        try
        {
            Assert.True(published.Wait(UintrTestThread.Timeout));
            using var peer = StartPeer("uintr-send", receiver!.VectorFd, ["real"], ["1000000", "1"]);
            peer.WaitForOutput("registered");
            peer.WriteLine("go");
            TestWait.Until(() => Volatile.Read(ref wakesBeforeKill) >= 5 || !thread.IsAlive, "five wake-ups from the ringing child");
            peer.Kill(); // SIGKILL, mid-ring
            Assert.True(peer.WaitForExit() != 0);
        }
        finally
        {
            killed.Set();
            thread.Join();
        }

        Assert.True(wakesBeforeKill >= 5);
        Assert.Equal(0ul, afterKill);
        Assert.Equal(1ul << 17, fromNewSender);
    }

    [Fact]
    public void Many_producer_processes_wake_one_consumer_of_an_mpsc_channel_and_every_value_arrives_in_order()
    {
        RealUintr.SkipUnlessAvailable();
        const int Producers = 3, PerProducer = 600;
        WaitBlockCounters counters = default;
        new TestThread(() =>
        {
            using var channel = IpcChannel.CreateBounded<long>(new IpcChannelOptions
            {
                Capacity = 64,
                MultipleWriters = true,
                Doorbell = DoorbellKind.Uintr,
                Wait = new ChannelWaitOptions { MaxParkTime = TimeSpan.FromSeconds(20) },
            });
            var consumer = channel.Reader;
            var peers = new List<PeerProcess>();
            try
            {
                for (int p = 0; p < Producers; p++)
                {
                    peers.Add(StartPeer("channel-produce-tagged", consumer.Core.DoorbellFd!, [], [p.ToString(CultureInfo.InvariantCulture), PerProducer.ToString(CultureInfo.InvariantCulture), "25"], channel.Region.FileHandle));
                }

                var next = new int[Producers];
                WaitBlockCounters? started = null;
                for (int n = 0; n < Producers * PerProducer; n++)
                {
                    Assert.True(consumer.TryRead(out long value, Long), $"value {n} did not arrive; {consumer.Counters}");
                    started ??= consumer.Counters; // parks before the first value waited for the children to start
                    int p = (int)(value >> 32);
                    Assert.Equal(next[p]++, (int)(value & 0xFFFF_FFFF));
                }

                // Each producer keeps its writer until now: one that detached before another attached
                // (process starts are seconds apart in the emulated machine) left the reader no
                // writer, and its drained wait ended with PeerGoneException (uintripc.h 4b).
                peers.ForEach(peer => peer.WriteLine("exit"));
                peers.ForEach(peer => peer.AssertSuccess());
                Assert.All(next, n => Assert.Equal(PerProducer, n));
                Assert.False(consumer.TryRead(out _));
                var end = consumer.Counters;
                counters = new WaitBlockCounters(end.Sleeps - started!.Value.Sleeps, end.Timeouts - started.Value.Timeouts,
                    end.WakeupsSeen - started.Value.WakeupsSeen, end.WakeupsSent - started.Value.WakeupsSent, end.WakeupsSuppressed - started.Value.WakeupsSuppressed);
            }
            finally
            {
                peers.ForEach(peer => peer.Dispose());
            }
        }, "consumer").Join(TimeSpan.FromSeconds(240));

        output.WriteLine($"{Producers} producer processes: {counters}");
        Assert.True(counters.Sleeps > 0, "the consumer never slept, so no interrupt was needed");
        Assert.True(counters.WakeupsSent > 0);
        Assert.Equal(0ul, counters.Timeouts); // once the producers ran, every sleep ended by a SENDUIPI (20 s parks)
    }

    /// <summary>
    /// Starts a peer with inheritable duplicates (no FD_CLOEXEC) of <paramref name="regionFd"/>
    /// (when given) and <paramref name="vectorFd"/>: arguments are <paramref name="before"/>,
    /// [region fd], vector fd, <paramref name="after"/>. Our duplicates are closed once it started.
    /// </summary>
    private PeerProcess StartPeer(string command, System.Runtime.InteropServices.SafeHandle vectorFd, string[] before, string[] after, System.Runtime.InteropServices.SafeHandle? regionFd = null)
    {
        int region = regionFd is null ? -1 : Inheritable(regionFd);
        int vector = Inheritable(vectorFd);
        try
        {
            string[] fds = region < 0 ? [Fd(vector)] : [Fd(region), Fd(vector)];
            return PeerProcess.Start(output, command, [.. before, .. fds, .. after]);
        }
        finally
        {
            Assert.Equal(0, LibC.close(vector));
            if (region >= 0)
            {
                Assert.Equal(0, LibC.close(region));
            }
        }
    }

    private static string Fd(int fd) => fd.ToString(CultureInfo.InvariantCulture);

    private static int Inheritable(System.Runtime.InteropServices.SafeHandle handle)
    {
        int fd = LibC.fcntl((int)handle.DangerousGetHandle(), LibC.F_DUPFD, 3);
        Assert.True(fd >= 0, $"fcntl(F_DUPFD) failed: errno {LibC.errno}");
        return fd;
    }
}
