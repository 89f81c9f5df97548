using System.Globalization;
using Tmds.Linux;
using UintrIpc.Signaling;
using UintrIpc.Tests.Infrastructure;

namespace UintrIpc.Tests.Signaling;

/// <summary>
/// uintr-sim between processes: the vector fd is inherited by a child (UintrIpc.TestPeer,
/// command uintr-sim-send), which registers a sender from it and rings, as a real uvec fd
/// would be used after fork or SCM_RIGHTS.
/// </summary>
[Collection(CrossProcessCollection.Name)]
public sealed class UintrSimulationCrossProcessTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(30);

    [Fact]
    public void A_receiver_blocked_in_Wait_is_woken_by_a_sender_in_another_process()
    {
        const int Vector = 21;
        const int Count = 50;
        using var published = new ManualResetEventSlim();
        using var peerDone = new ManualResetEventSlim();
        UintrDoorbellReceiver? receiver = null;
        ulong wakeWord = 0, firstWake = 0, rest = 0, calls = 0;
        UintrIpc.Interop.Shim.UintrSimStats stats = default;

        var thread = UintrTestThread.Start(() =>
        {
            using var r = new UintrDoorbellReceiver(Vector, simulated: true);
            receiver = r;
            wakeWord = r.SimulationStats().WakeWordAddress;
            published.Set();
            firstWake = r.WaitForVectors(Long);

            // The remaining sends may have coalesced or be still posted: take them once the peer is done.
            Assert.True(peerDone.Wait(UintrTestThread.Timeout), "the peer did not finish");
            rest = r.Poll();
            calls = r.HandlerCalls(Vector);
            stats = r.SimulationStats();
        });

        try
        {
            Assert.True(published.Wait(UintrTestThread.Timeout));
            using var peer = StartSenderPeer(receiver!, Count);
            peer.WaitForOutput("registered");
            UintrTestThread.WaitUntilBlockedInFutex(receiver!.OSThreadId, wakeWord, () => thread.IsAlive);
            peer.WriteLine("go");
            peer.AssertSuccess();
            Assert.Contains($"sent {Count}", peer.StandardOutput, StringComparison.Ordinal);
        }
        finally
        {
            peerDone.Set();
            thread.Join();
        }

        output.WriteLine($"handler calls {calls}, posts {stats.Posts}, notifications {stats.Notifications}, deliveries {stats.Deliveries}");
        Assert.Equal(1ul << Vector, firstWake); // woken by the other process, not by the 30 s timeout
        Assert.Equal((ulong)Count, stats.Posts); // every post of the child landed in our UPID
        Assert.InRange(calls, 1ul, (ulong)Count); // coalescing: never more calls than sends
        Assert.Equal(calls, stats.Deliveries); // one vector only: one handler call per delivery
        Assert.True(rest is 0 or 1ul << Vector, $"unexpected vectors 0x{rest:x}"); // later sends: the same vector or none
        Assert.Equal(0ul, stats.Pir); // nothing left undelivered
    }

    [Fact]
    public void A_sender_in_another_process_survives_a_receiver_that_has_gone()
    {
        const int Count = 20;
        using var published = new ManualResetEventSlim();
        using var disposeNow = new ManualResetEventSlim();
        UintrDoorbellReceiver? receiver = null;
        var thread = UintrTestThread.Start(() =>
        {
            using var r = new UintrDoorbellReceiver(vector: 30, simulated: true);
            receiver = r;
            published.Set();
            Assert.True(disposeNow.Wait(UintrTestThread.Timeout));
        });

        try
        {
            Assert.True(published.Wait(UintrTestThread.Timeout));
            using var peer = StartSenderPeer(receiver!, Count);
            peer.WaitForOutput("registered");
            disposeNow.Set();
            thread.Join(); // the receiver is disposed and its thread has exited

            peer.WriteLine("go");
            peer.AssertSuccess(); // the child's sends to the dead receiver neither failed nor faulted
            Assert.Contains($"sent {Count}", peer.StandardOutput, StringComparison.Ordinal);
        }
        finally
        {
            disposeNow.Set();
            thread.Join();
        }
    }

    /// <summary>
    /// Starts `uintr-sim-send fd count` with the receiver's vector fd inherited: a dup
    /// without FD_CLOEXEC (F_DUPFD, not F_DUPFD_CLOEXEC) survives the exec; ours is closed
    /// as soon as the child has started.
    /// </summary>
    private PeerProcess StartSenderPeer(UintrDoorbellReceiver receiver, int count)
    {
        int inheritable = LibC.fcntl(receiver.VectorFd.Fd, LibC.F_DUPFD, 3);
        Assert.True(inheritable >= 0, "fcntl(F_DUPFD) failed");
        try
        {
            return PeerProcess.Start(output, "uintr-sim-send",
                inheritable.ToString(CultureInfo.InvariantCulture), count.ToString(CultureInfo.InvariantCulture));
        }
        finally
        {
            Assert.Equal(0, LibC.close(inheritable));
        }
    }
}
