using UintrIpc.Bootstrap;
using UintrIpc.Channels;
using UintrIpc.Tests.Bootstrap;
using UintrIpc.Tests.Infrastructure;

namespace UintrIpc.Tests.Channels;

/// <summary>
/// A reader process known by its pidfd that is alive but does not run (here SIGSTOP; in the field a
/// starved thread pool stops its heartbeat's timer, design-notes "A production service's week
/// (user39)") is waited for until the write's own timeout, not declared gone by its still heartbeat.
/// </summary>
[Collection(CrossProcessCollection.Name)]
public sealed class SlowReaderProcessTests(ITestOutputHelper output) : IDisposable
{
    private static readonly TimeSpan Long = PeerProcess.DefaultTimeout;
    private readonly SocketNames _sockets = new();

    public void Dispose() => _sockets.Dispose();

    [Fact]
    public void A_stopped_reader_process_is_waited_for_until_the_write_timeout_and_then_reads_everything()
    {
        string endpoint = _sockets.NewPath("slow");
        using var peer = PeerProcess.Start(output, "channel-bootstrap-send-and-read", endpoint);
        peer.WaitForOutput("listening", Long);
        using var connection = BootstrapConnection.Connect(endpoint, Long);
        // The shortest peer timeout: a still heartbeat would be judged after 1 s of the 5 s wait below.
        using var channel = connection.ReceiveChannel<long>(Long, new IpcChannelOptions { PeerTimeout = TimeSpan.FromSeconds(1) });
        var writer = channel.Writer;
        peer.WaitForOutput("sent", Long);

        const long Total = 1000;
        StoppedReader.WriteAcrossStop(peer, v => writer.TryWrite(v), (v, t) => writer.TryWrite(v, t), Total, Long);
        writer.Complete();
        peer.AssertSuccess(Long);
        Assert.Contains($"read {Total} completed True", peer.StandardOutput, StringComparison.Ordinal);
    }
}
