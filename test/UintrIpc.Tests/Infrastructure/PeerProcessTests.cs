namespace UintrIpc.Tests.Infrastructure;

[Collection(CrossProcessCollection.Name)]
public sealed class PeerProcessTests(ITestOutputHelper output)
{
    [Fact]
    public void Echo_command_runs_in_a_child_process()
    {
        using var peer = PeerProcess.Start(output, "echo", "hello", "child");
        peer.AssertSuccess();
        Assert.Contains("hello child", peer.StandardOutput, StringComparison.Ordinal);
        Assert.NotEqual(Environment.ProcessId, peer.Pid);
    }

    [Fact]
    public void A_hanging_child_is_killed_on_timeout()
    {
        using var peer = PeerProcess.Start(output, "hang");
        Assert.Throws<TimeoutException>(() => peer.WaitForExit(TimeSpan.FromMilliseconds(300)));
        // Killed by the timeout: it has exited, and not successfully.
        Assert.NotEqual(0, peer.WaitForExit(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public void A_child_that_prints_nothing_for_the_quiet_bound_is_killed()
    {
        using var peer = PeerProcess.Start(output, "hang");
        var thrown = Assert.Throws<TimeoutException>(() => peer.WaitForExitWhileProgressing(TimeSpan.FromMilliseconds(300)));
        Assert.Contains("printed nothing for", thrown.Message, StringComparison.Ordinal);
        Assert.NotEqual(0, peer.WaitForExit(TimeSpan.FromSeconds(10)));
    }
}
