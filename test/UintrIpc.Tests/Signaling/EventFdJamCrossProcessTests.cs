using System.Diagnostics;
using System.Globalization;
using Tmds.Linux;
using UintrIpc.Signaling;
using UintrIpc.Tests.Bootstrap;
using UintrIpc.Tests.Infrastructure;

namespace UintrIpc.Tests.Signaling;

/// <summary>
/// A hostile eventfd consumer in another process (UintrIpc.TestPeer eventfd-toggle-jam, review22)
/// keeps its counter full and toggles O_NONBLOCK on the file description it shares with our
/// sender in a loop, so that a ring which saw the flag set writes after it was cleared and waits
/// behind the full counter. The process's watcher thread must free every such ring.
/// </summary>
[Collection(CrossProcessCollection.Name)]
public sealed unsafe class EventFdJamCrossProcessTests(ITestOutputHelper output)
{
    /// <summary>No ring may stay in write(2) this long (the watcher frees one within about a second).</summary>
    private static readonly TimeSpan NoProgress = TimeSpan.FromSeconds(15);

    [Fact]
    public void Rings_that_a_consumer_toggling_O_NONBLOCK_jams_in_write_are_freed()
    {
        const int Freed = 3;
        using var receiver = new EventFdDoorbellReceiver();
        int inheritable = LibC.fcntl(receiver.FileHandle.Fd, LibC.F_DUPFD, 3); // without FD_CLOEXEC: the peer inherits it
        Assert.True(inheritable >= 0, "fcntl(F_DUPFD) failed");
        PeerProcess peer;
        try
        {
            peer = PeerProcess.Start(output, "eventfd-toggle-jam", inheritable.ToString(CultureInfo.InvariantCulture), "120");
        }
        finally
        {
            Assert.Equal(0, LibC.close(inheritable));
        }

        using var sender = new EventFdDoorbellSender(receiver.FileHandle);
        long freedBefore = JammedEventFdWrites.CountersRead;
        long rings = 0;
        bool stop = false;
        var ringer = new Thread(() =>
        {
            while (!Volatile.Read(ref stop) && JammedEventFdWrites.CountersRead - freedBefore < Freed)
            {
                sender.Ring();
                Interlocked.Increment(ref rings);
            }
        }) { IsBackground = true, Name = "ringer" };
        try
        {
            peer.WaitForOutput("jamming");
            ringer.Start();
            long seen = -1;
            var lastProgress = Stopwatch.StartNew();
            while (ringer.IsAlive && lastProgress.Elapsed < NoProgress)
            {
                long now = Interlocked.Read(ref rings);
                if (now != seen)
                {
                    seen = now;
                    lastProgress.Restart();
                }

                Thread.Sleep(10);
            }

            Assert.False(ringer.IsAlive, $"a ring stayed in write(2) for {NoProgress.TotalSeconds} s after {Interlocked.Read(ref rings)} rings ({JammedEventFdWrites.CountersRead - freedBefore} freed)");
            output.WriteLine($"{Interlocked.Read(ref rings)} rings, {JammedEventFdWrites.CountersRead - freedBefore} jammed writes freed");
        }
        finally
        {
            // Also on failure: the peer goes, then a ring still waiting is freed by emptying the counter here.
            Volatile.Write(ref stop, true);
            peer.Kill();
            peer.Dispose();
            for (int i = 0; i < 100 && ringer.IsAlive && !ringer.Join(100); i++)
            {
                _ = EventFdDoorbellReceiver.ReadCounter(receiver.FileHandle.Fd, readWhereNoWaitIsRefused: false);
            }
        }
    }
}
