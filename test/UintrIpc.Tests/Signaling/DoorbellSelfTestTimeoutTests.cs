using UintrIpc.Channels;
using UintrIpc.Signaling;
using UintrIpc.Tests.Infrastructure;

namespace UintrIpc.Tests.Signaling;

/// <summary>
/// A doorbell self-test that runs out of time (a busy machine) through Doorbells' self-test seam.
/// In the non-parallel collection: the seam replaces the process's signal self-test for a moment.
/// </summary>
[Collection(CrossProcessCollection.Name)]
public sealed class DoorbellSelfTestTimeoutTests
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public void A_self_test_that_ran_out_of_time_neither_refuses_an_explicit_choice_nor_is_kept()
    {
        using var gate = new ManualResetEventSlim();
        int runs = 0;
        DoorbellCapability HeldUntilReleased()
        {
            Interlocked.Increment(ref runs);
            // Held, it outlasts any limit (the limit only keeps the test short); released, it passes.
            TimeSpan limit = gate.IsSet ? s_timeout : TimeSpan.FromMilliseconds(1);
            return Doorbells.GuardOnOwnThread(DoorbellKind.Signal, () => gate.Wait(s_timeout) ? null : "never released", "held self-test", limit);
        }

        var original = Doorbells.ReplaceSelfTest(DoorbellKind.Signal, HeldUntilReleased);
        try
        {
            var slow = Doorbells.Check(DoorbellKind.Signal);
            Assert.True(slow.IsInconclusive, slow.ToString());
            Assert.False(slow.IsAvailable);
            Assert.Contains("runs again on the next check", slow.Reason, StringComparison.Ordinal);

            // A busy moment is no verdict: the explicit choice stands (uxfix refused it here).
            using (var channel = IpcChannel.CreateBounded<long>(new IpcChannelOptions { Doorbell = DoorbellKind.Signal }))
            {
                Assert.Equal(DoorbellKind.Signal, channel.Doorbell);
            }

            // Not kept: the next check tests again, and its verdict is kept.
            gate.Set();
            var passed = Doorbells.Check(DoorbellKind.Signal);
            Assert.True(passed.IsAvailable, passed.ToString());
            int runsAfterVerdict = Volatile.Read(ref runs);
            Assert.Equal(DoorbellKind.Signal, Doorbells.Choose(DoorbellKind.Signal, "IpcChannelOptions.Doorbell"));
            Assert.Equal(runsAfterVerdict, Volatile.Read(ref runs));
        }
        finally
        {
            Doorbells.ReplaceSelfTest(DoorbellKind.Signal, original);
        }
    }
}
