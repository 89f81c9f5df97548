using UintrIpc.Channels;
using UintrIpc.Signaling;

namespace UintrIpc.Tests.Signaling;

public sealed class DoorbellsTests(ITestOutputHelper output)
{
    [Fact]
    public void Every_kind_is_reported_once_with_a_reason()
    {
        foreach (var c in Doorbells.All)
        {
            output.WriteLine(c.ToString());
        }

        Assert.Equal(Enum.GetValues<DoorbellKind>().Order(), Doorbells.All.Select(c => c.Kind).Order());
        Assert.All(Doorbells.All, c => Assert.False(string.IsNullOrWhiteSpace(c.Reason)));
    }

    [Fact]
    public void A_channel_gets_each_explicit_kind_that_passed_its_check_and_a_refusal_naming_the_reason_for_each_that_did_not()
    {
        // Here user interrupts fail (no CPU support); in the uintr lab every kind passes.
        Assert.Equal(Doorbells.Best, Doorbells.Choose(null, "X.Doorbell"));
        foreach (var c in Doorbells.All)
        {
            output.WriteLine(c.ToString());
            var options = new IpcChannelOptions { Doorbell = c.Kind };
            if (c.IsAvailable)
            {
                using var channel = IpcChannel.CreateMessages(options);
                Assert.Equal(c.Kind, channel.Doorbell);
            }
            else
            {
                var e = Assert.Throws<PlatformNotSupportedException>(() => IpcChannel.CreateMessages(options));
                Assert.Contains($"The {c.Kind} doorbell cannot work on this machine: {c.Reason}", e.Message, StringComparison.Ordinal);
            }
        }
    }

    [Theory]
    [InlineData(DoorbellKind.None)]
    [InlineData(DoorbellKind.Futex)]
    [InlineData(DoorbellKind.EventFd)]
    [InlineData(DoorbellKind.Signal)]
    public void The_kernel_doorbells_pass_their_self_test_on_linux(DoorbellKind kind)
    {
        var c = Doorbells.Check(kind);
        Assert.True(c.IsAvailable, c.ToString());
        Assert.True(IpcChannel.IsDoorbellAvailable(kind, out string reason));
        Assert.Equal(c.Reason, reason);
    }

    [Fact]
    public void Best_is_futex_whether_or_not_user_interrupts_work_and_never_the_simulation()
    {
        // Uintr is an explicit choice (IpcChannel.DefaultDoorbell remarks); UintrDefaultDoorbellTests
        // checks this on a machine where user interrupts work.
        Assert.Equal(DoorbellKind.Futex, Doorbells.Best);
        Assert.Equal(Doorbells.Best, IpcChannel.DefaultDoorbell);
    }

    [Fact]
    public void Uintr_availability_and_reason_come_from_the_layered_detection()
    {
        var c = Doorbells.Check(DoorbellKind.Uintr);
        var support = UintrSupport.Detect();
        Assert.Equal(support.IsAvailable, c.IsAvailable);
        if (!c.IsAvailable)
        {
            Assert.Equal(support.Reason, c.Reason);
        }
    }

    [Fact]
    public void The_simulation_passes_its_self_test_and_says_it_is_a_simulation()
    {
        var c = Doorbells.Check(DoorbellKind.UintrSimulated);
        Assert.True(c.IsAvailable, c.ToString());
        Assert.Contains("simulation", c.Reason, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void The_factory_builds_matching_pairs()
    {
        using var f = new WaitBlockRegion();
        foreach (var kind in new[] { DoorbellKind.None, DoorbellKind.Futex, DoorbellKind.EventFd, DoorbellKind.Signal })
        {
            using var receiver = Doorbells.CreateReceiver(kind, f.Block);
            using var sender = Doorbells.CreateSender(kind, f.Block, (receiver as EventFdDoorbellReceiver)?.FileHandle);
            Assert.Equal(kind, receiver.Kind);
            Assert.Equal(kind, sender.Kind);
        }

        Assert.Throws<ArgumentException>(() => Doorbells.CreateSender(DoorbellKind.EventFd, f.Block));
        Assert.Throws<ArgumentException>(() => Doorbells.CreateSender(DoorbellKind.UintrSimulated, f.Block));
        if (!UintrSupport.Detect().IsAvailable)
        {
            Assert.Throws<PlatformNotSupportedException>(() => Doorbells.CreateReceiver(DoorbellKind.Uintr, f.Block));
        }
    }

    [Fact]
    public void The_factory_builds_a_simulated_uintr_pair_that_wakes()
    {
        using var f = new WaitBlockRegion();
        bool woken = false;
        Exception? failure = null;
        // A uintr receiver binds to the thread that creates it: use a dedicated thread.
        var thread = new Thread(() =>
        {
            try
            {
                using var receiver = Doorbells.CreateReceiver(DoorbellKind.UintrSimulated, f.Block);
                using var sender = Doorbells.CreateSender(DoorbellKind.UintrSimulated, f.Block, ((UintrDoorbellReceiver)receiver).VectorFd);
                Assert.Equal(DoorbellKind.UintrSimulated, sender.Kind);
                uint token = receiver.PrepareToWait();
                sender.Ring();
                woken = receiver.Wait(token, TimeSpan.FromSeconds(10));
            }
            catch (Exception e)
            {
                failure = e;
            }
        });
        thread.Start();
        Assert.True(thread.Join(TimeSpan.FromSeconds(30)), "the receiver thread did not finish");
        Assert.Null(failure);
        Assert.True(woken);
    }
}
