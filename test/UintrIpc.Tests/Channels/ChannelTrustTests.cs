using UintrIpc.Tests.Infrastructure;

namespace UintrIpc.Tests.Channels;

/// <summary>
/// Issue 7 for channels: misuse from another thread and a hostile or dead peer end in a clear
/// error, never a fault or a hang. Scenarios that could kill the process run in a child
/// (UintrIpc.TestPeer, ChannelTrustCommands).
/// </summary>
[Collection(CrossProcessCollection.Name)]
public sealed class ChannelTrustTests(ITestOutputHelper output)
{
    /// <summary>
    /// Finding 1: disposing a channel and its endpoint from another thread while a blocking or
    /// async read (or a write on a full ring) waits ended with an AccessViolationException and
    /// exit 134 (the region was unmapped under the waiter). Every waiter must end with
    /// ObjectDisposedException instead, for every channel kind and doorbell.
    /// </summary>
    [Theory]
    [InlineData("read")]
    [InlineData("wait")]
    [InlineData("handler")]
    [InlineData("async")]
    [InlineData("write")]
    public void Disposing_from_another_thread_ends_a_waiter_with_ObjectDisposedException(string operation)
    {
        using var peer = PeerProcess.Start(output, "channel-dispose-while-waiting", operation);
        peer.AssertSuccess(TimeSpan.FromSeconds(120));
        Assert.Equal(6, peer.StandardOutput.Split('\n').Count(line => line.EndsWith(": ObjectDisposedException", StringComparison.Ordinal)));
    }
}
