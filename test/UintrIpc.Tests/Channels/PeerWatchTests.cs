using UintrIpc.Channels;
using UintrIpc.Signaling;

namespace UintrIpc.Tests.Channels;

/// <summary>The watch owns the peer processes added to it, also those added after its Dispose.</summary>
public sealed class PeerWatchTests
{
    [Fact]
    public void A_process_added_after_the_watch_was_disposed_is_closed_at_once()
    {
        // A handover adds the reader's watch of its writer after the send: a channel disposed on
        // another thread meanwhile must not keep that pidfd open.
        var watch = PeerWatch.OfProducers();
        using var kept = ProcessHandle.Open(Environment.ProcessId);
        watch.Add(kept);
        watch.Dispose();
        Assert.True(kept.FileHandle!.IsClosed);

        using var late = ProcessHandle.Open(Environment.ProcessId);
        watch.Add(late);
        Assert.True(late.FileHandle!.IsClosed, "a process added after Dispose stayed open");
    }
}
