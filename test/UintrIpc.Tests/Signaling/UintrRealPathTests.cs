using UintrIpc.Signaling;

namespace UintrIpc.Tests.Signaling;

/// <summary>Hardware user interrupts: run only where detection succeeds, skipped with its reason elsewhere.</summary>
public sealed class UintrRealPathTests
{
    [Fact]
    public void A_self_send_is_delivered_to_the_handler_and_ends_the_wait()
    {
        var support = UintrSupport.Detect();
        Assert.SkipUnless(support.IsAvailable, support.Reason);

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
        var support = UintrSupport.Detect();
        Assert.SkipUnless(support.IsAvailable, support.Reason);

        using var fdReady = new ManualResetEventSlim();
        UintrDoorbellReceiver? receiver = null;
        ulong vectors = 0;
        var thread = UintrTestThread.Start(() =>
        {
            using var r = new UintrDoorbellReceiver(vector: 7);
            receiver = r;
            fdReady.Set();
            vectors = r.WaitForVectors(TimeSpan.FromSeconds(20));
        });
        Assert.True(fdReady.Wait(UintrTestThread.Timeout));
        using (var sender = new UintrDoorbellSender(receiver!.VectorFd))
        {
            sender.Ring();
        }

        thread.Join();
        Assert.Equal(1ul << 7, vectors);
    }
}
