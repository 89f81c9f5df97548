using UintrIpc.Signaling;
using UintrIpc.Tests.Infrastructure;

namespace UintrIpc.Tests.Signaling;

/// <summary>
/// Issue 7, finding 3: the signal doorbell never signals a target taken from shared memory
/// without checking it. A forged wait block made the producer send SIGRTMIN+10 to its own
/// process, which killed it. Each case runs in a child (UintrIpc.TestPeer signal-hostile-target),
/// so a signal that gets through kills the child, not the test host.
/// </summary>
[Collection(CrossProcessCollection.Name)]
public sealed class SignalTargetTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("own-thread")]        // a thread of the producer's own process without a receiver
    [InlineData("unrelated-process")] // a process that is not the consumer
    [InlineData("not-the-consumer")]  // a consumer in another process, named by pidfd, but the wait block names a third
    public void A_forged_wait_block_cannot_make_the_producer_signal_anyone(string target)
    {
        Assert.SkipUnless(Doorbells.IsAvailable(DoorbellKind.Signal), Doorbells.Check(DoorbellKind.Signal).ToString());
        using var peer = PeerProcess.Start(output, "signal-hostile-target", target);
        peer.AssertSuccess();
        Assert.Contains($"{target}: alive, victim alive True, refused rings 1", peer.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public void A_producer_in_this_process_still_wakes_a_real_receiver_and_the_receiver_names_its_process()
    {
        using var f = new WaitBlockRegion(singleProducer: true);
        using var sender = new SignalDoorbellSender(f.Block);
        bool woken = false;
        int processFdPid = 0;
        new TestThread(() =>
        {
            using var receiver = new SignalDoorbellReceiver(f.Block);
            using (var handle = ProcessHandle.FromPidFd(receiver.ProcessFd!))
            {
                processFdPid = handle.Pid;
            }

            uint token = receiver.PrepareToWait();
            sender.Ring();
            woken = receiver.Wait(token, TimeSpan.FromSeconds(10));
        }, "consumer").Join();

        Assert.True(woken);
        Assert.Equal(0, sender.RefusedRings);
        Assert.Equal(Environment.ProcessId, processFdPid);
    }

    [Fact]
    public void A_process_handle_tells_whether_the_process_is_alive()
    {
        using var self = ProcessHandle.Open(Environment.ProcessId);
        Assert.False(self.HasExited);
        using var sleeper = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("sleep", "30") { UseShellExecute = false })!;
        using var child = ProcessHandle.Open(sleeper.Id);
        Assert.False(child.HasExited);
        sleeper.Kill();
        sleeper.WaitForExit();
        Assert.True(child.HasExited);
    }
}
