using UintrIpc.Signaling;

namespace UintrIpc.Tests.Signaling;

public sealed class DoorbellsTests(Xunit.Abstractions.ITestOutputHelper output)
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

    [Theory]
    [InlineData(DoorbellKind.None)]
    [InlineData(DoorbellKind.Futex)]
    [InlineData(DoorbellKind.EventFd)]
    [InlineData(DoorbellKind.Signal)]
    public void The_kernel_doorbells_pass_their_self_test_on_linux(DoorbellKind kind)
    {
        var c = Doorbells.Check(kind);
        Assert.True(c.IsAvailable, c.ToString());
    }

    [Fact]
    public void Best_is_uintr_when_available_otherwise_futex_and_never_the_simulation()
    {
        var expected = Doorbells.IsAvailable(DoorbellKind.Uintr) ? DoorbellKind.Uintr : DoorbellKind.Futex;
        Assert.Equal(expected, Doorbells.Best);
        Assert.NotEqual(DoorbellKind.UintrSimulated, Doorbells.Best);
    }

    [Fact]
    public void Uintr_is_never_assumed_available()
    {
        // Until the uintr detection is wired in, it must report unavailable with a reason;
        // afterwards this still holds on every machine without the CPU feature and kernel ABI.
        var c = Doorbells.Check(DoorbellKind.Uintr);
        if (c.IsAvailable)
        {
            Assert.DoesNotContain("not wired", c.Reason, StringComparison.Ordinal);
        }
        else
        {
            Assert.NotEmpty(c.Reason);
        }
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
        Assert.Throws<NotSupportedException>(() => Doorbells.CreateReceiver(DoorbellKind.Uintr, f.Block));
        Assert.Throws<NotSupportedException>(() => Doorbells.CreateSender(DoorbellKind.UintrSimulated, f.Block));
    }
}
