using System.Buffers.Binary;
using UintrIpc.Bootstrap;
using UintrIpc.Channels;
using UintrIpc.Memory;
using UintrIpc.Rings;
using UintrIpc.Signaling;
using UintrIpc.Tests.Bootstrap;
using UintrIpc.Tests.Infrastructure;

namespace UintrIpc.Tests.Channels;

/// <summary>
/// The failures of the duplex bootstrap pair. The answering side (SendChannel) whose peer never
/// replies is left completed and without a response writer, and says why; the requesting side
/// (ReceiveDuplexChannel) refusing a hostile message, or finding the peer gone before its reply,
/// closes every descriptor and unmaps what it mapped. In the non-parallel collection: the
/// descriptor and mapping counts are this process's.
/// </summary>
[Collection(CrossProcessCollection.Name)]
public sealed class DuplexHandoverFailureTests : IDisposable
{
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(20);
    private readonly SocketNames _sockets = new();

    public void Dispose() => _sockets.Dispose();

    [Theory]
    [InlineData(DoorbellKind.Futex, false)]
    [InlineData(DoorbellKind.EventFd, false)]
    [InlineData(DoorbellKind.Futex, true)]
    public void A_peer_that_never_replies_leaves_the_duplex_completed_and_without_a_response_writer(DoorbellKind doorbell, bool cancel)
    {
        using var pair = BootstrapPair.Open(_sockets.NewPath());
        using var duplex = IpcChannel.CreateDuplex<long, long>(new IpcChannelOptions { Doorbell = doorbell });
        using var cts = new CancellationTokenSource();
        if (cancel)
        {
            cts.CancelAfter(TimeSpan.FromMilliseconds(200));
            Assert.ThrowsAny<OperationCanceledException>(() => pair.ServerSide.SendChannel(duplex, Long, cts.Token));
        }
        else
        {
            Assert.Throws<TimeoutException>(() => pair.ServerSide.SendChannel(duplex, TimeSpan.FromMilliseconds(200)));
        }

        // The peer got the region (and never answered).
        using (var sent = pair.ClientSide.Receive(Long))
        {
            Assert.True(sent.FdCount >= 1);
        }

        var refused = Assert.Throws<InvalidOperationException>(() => duplex.Responses.Writer);
        Assert.Contains("handing it to the peer failed", refused.Message, StringComparison.Ordinal);
        Assert.IsAssignableFrom(cancel ? typeof(OperationCanceledException) : typeof(TimeoutException), refused.InnerException);
        Assert.Throws<InvalidOperationException>(() => duplex.Responses.Writer); // every time, not only the first
        Assert.True(duplex.Requests.IsCompleted);
        Assert.True(duplex.Responses.IsCompleted);
        Assert.False(duplex.Requests.Reader.TryRead(out _));
        Assert.True(duplex.Requests.Reader.Completion.IsCompleted);

        // Not handed over a second time: nothing is sent.
        Assert.Throws<InvalidOperationException>(() => pair.ServerSide.SendChannel(duplex, TimeSpan.FromMilliseconds(200)));
        Assert.Throws<TimeoutException>(() => pair.ClientSide.Receive(TimeSpan.FromMilliseconds(100)));
    }

    [Theory]
    [InlineData(DoorbellKind.Futex)]
    [InlineData(DoorbellKind.EventFd)]
    public async Task A_failed_handover_wakes_a_request_reader_sleeping_on_another_thread(DoorbellKind doorbell)
    {
        // Parks of a minute: without the completion's wake check (uintripc.h section 5) the reader
        // would sleep on after the duplex completed, and no wake-up would be counted.
        var wait = new ChannelWaitOptions { MaxParkTime = TimeSpan.FromMinutes(1) };
        using var pair = BootstrapPair.Open(_sockets.NewPath());
        using var duplex = IpcChannel.CreateDuplex<long, long>(new IpcChannelOptions { Doorbell = doorbell, Wait = wait });
        var reader = duplex.Requests.Reader;
        var read = Task.Factory.StartNew(() => reader.TryRead(out _, TimeSpan.FromSeconds(50)), TaskCreationOptions.LongRunning);
        var waitBlock = new WaitBlock(duplex.Region, DuplexPart.Requests);
        using (var stop = new CancellationTokenSource(Long))
        {
            while (!waitBlock.IsConsumerSleeping && !read.IsCompleted && !stop.IsCancellationRequested)
            {
                Thread.Yield();
            }
        }

        Assert.True(waitBlock.IsConsumerSleeping);
        Assert.Throws<TimeoutException>(() => pair.ServerSide.SendChannel(duplex, TimeSpan.FromMilliseconds(200)));
        Assert.Equal(1ul, waitBlock.ReadCounters().WakeupsSent); // the completion rang the sleeping reader once
        Assert.False(await read.WaitAsync(Long)); // ended: completed and drained
        Assert.True(reader.IsCompleted);
    }

    /// <summary>
    /// The peer attached the duplex and its response reader sleeps (futex: the wait block's word,
    /// no descriptor needed to ring it) when this side's handover fails before the reply (here:
    /// cancelled): the completion's wake check for that reader (uintripc.h section 5) ends its
    /// read now, not after its park slice of a minute.
    /// </summary>
    [Fact]
    public async Task A_failed_handover_wakes_the_peers_response_reader_sleeping_on_a_futex()
    {
        var wait = new ChannelWaitOptions { MaxParkTime = TimeSpan.FromMinutes(1) };
        using var pair = BootstrapPair.Open(_sockets.NewPath());
        using var duplex = IpcChannel.CreateDuplex<long, long>(new IpcChannelOptions { Doorbell = DoorbellKind.Futex });
        using var cancel = new CancellationTokenSource();
        var send = Task.Run(() => pair.ServerSide.SendChannel(duplex, Long, cancel.Token));

        // The peer, by hand: it attaches the region and reads responses, but has not replied yet.
        IpcDuplexChannel<long, long> peer;
        using (var message = pair.ClientSide.Receive(Long))
        using (var regionFd = message.TakeFd(0))
        {
            peer = new IpcDuplexChannel<long, long>(ChannelCore.AttachDuplex(SharedRegion.Attach(regionFd), wait));
        }

        using (peer)
        {
            var reader = peer.Responses.Reader;
            var read = Task.Factory.StartNew(() => reader.TryRead(out _, TimeSpan.FromSeconds(50)), TaskCreationOptions.LongRunning);
            var waitBlock = new WaitBlock(peer.Region, DuplexPart.Responses);
            using (var stop = new CancellationTokenSource(Long))
            {
                while (!waitBlock.IsConsumerSleeping && !read.IsCompleted && !stop.IsCancellationRequested)
                {
                    Thread.Yield();
                }
            }

            Assert.True(waitBlock.IsConsumerSleeping);
            await cancel.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => send);
            Assert.True(duplex.Responses.IsCompleted);
            Assert.False(await read.WaitAsync(Long)); // ended: completed and drained, not after the minute
            Assert.Equal(1ul, waitBlock.ReadCounters().WakeupsSent); // the failed handover rang the sleeping reader once
        }
    }

    [Fact]
    public void A_duplex_that_attached_peer_sees_completed_after_the_handover_failed()
    {
        using var pair = BootstrapPair.Open(_sockets.NewPath());
        using var duplex = IpcChannel.CreateDuplex<long, long>(new IpcChannelOptions { Doorbell = DoorbellKind.Futex });
        // The peer attaches too late: this side has stopped waiting for its reply.
        Assert.Throws<TimeoutException>(() => pair.ServerSide.SendChannel(duplex, TimeSpan.FromMilliseconds(100)));
        using var received = pair.ClientSide.ReceiveDuplexChannel<long, long>(Long);
        Assert.False(received.Requests.Writer.TryWrite(1)); // completed: refused at once
        Assert.False(received.Responses.Reader.TryRead(out _, TimeSpan.FromSeconds(5))); // ends (completed), does not wait 5 s for an answer
        Assert.True(received.Responses.Reader.Completion.IsCompleted);
    }

    [Fact]
    public void A_hostile_duplex_message_is_refused_with_every_descriptor_closed_and_nothing_mapped()
    {
        using var pair = BootstrapPair.Open(_sockets.NewPath());
        using var notADuplex = IpcChannel.CreateBounded<long>(8);
        using var eventFd = TestFds.EventFd();
        using var duplex = IpcChannel.CreateDuplex<long, long>(new IpcChannelOptions { Doorbell = DoorbellKind.Futex });
        var region = notADuplex.Region.FileHandle;
        var cases = new (byte[] Payload, System.Runtime.InteropServices.SafeHandle[] Fds, Type Expected)[]
        {
            (Payload(DoorbellKind.EventFd, 8, 8), [region, eventFd], typeof(RegionFormatException)), // a plain channel's region where a duplex is announced
            (Payload(DoorbellKind.EventFd, 8, 8), [duplex.Region.FileHandle, eventFd], typeof(BootstrapProtocolException)), // the region's doorbell is futex
            (Payload(DoorbellKind.Futex, 8, 8), [region, eventFd, eventFd], typeof(BootstrapProtocolException)), // descriptors the kind does not carry
            (Payload(DoorbellKind.Futex, 8, 4), [region], typeof(BootstrapProtocolException)), // other response type
            (Payload(DoorbellKind.EventFd, 8, 8)[..16], [region, eventFd], typeof(BootstrapProtocolException)), // truncated
        };
        void RefuseAll()
        {
            foreach (var (payload, fds, expected) in cases)
            {
                pair.ServerSide.Send(payload, fds);
                var e = Record.Exception(() => pair.ClientSide.ReceiveDuplexChannel<long, long>(Long));
                Assert.True(e is not null && expected.IsAssignableFrom(e.GetType()), $"{expected.Name} expected: {e}");
            }
        }

        RefuseAll(); // once first: what the runtime opens lazily
        AssertNothingLeft(RefuseAll, region, duplex.Region.FileHandle);
    }

    [Fact]
    public void A_peer_gone_before_the_reply_leaves_no_descriptor_and_nothing_mapped()
    {
        using var duplex = IpcChannel.CreateDuplex<long, long>(new IpcChannelOptions { Doorbell = DoorbellKind.EventFd });
        using var eventFd = TestFds.EventFd();
        void PeerGone()
        {
            using var pair = BootstrapPair.Open(_sockets.NewPath());
            // A well-formed duplex message, then the peer closes its end before the reply.
            pair.ServerSide.Send(Payload(DoorbellKind.EventFd, 8, 8), duplex.Region.FileHandle, eventFd);
            pair.ServerSide.Dispose();
            Assert.IsAssignableFrom<UintrIpcException>(Record.Exception(() => pair.ClientSide.ReceiveDuplexChannel<long, long>(Long)));
        }

        PeerGone();
        AssertNothingLeft(
            () =>
        {
            for (int i = 0; i < 3; i++)
            {
                PeerGone();
            }
        },
            duplex.Region.FileHandle);
    }

    /// <summary>
    /// Runs <paramref name="scenario"/> and checks that it left no descriptor open and no more
    /// mappings of the <paramref name="regions"/> it was given (by inode: other tests' regions
    /// are unmapped by finalizers at any time, so a count of every memfd mapping is not stable).
    /// </summary>
    private static void AssertNothingLeft(Action scenario, params System.Runtime.InteropServices.SafeHandle[] regions)
    {
        var inodes = regions.Select(InodeOf).ToHashSet();
        var fds = ProcessDescriptors.List().Select(d => d.Target).ToList();
        int maps = MappingsOf(inodes);
        scenario();
        var after = ProcessDescriptors.List().Select(d => d.Target).ToList();
        foreach (string before in fds)
        {
            after.Remove(before);
        }

        Assert.True(after.Count == 0, $"left open: {string.Join(", ", after)}");
        Assert.Equal(maps, MappingsOf(inodes));
    }

    /// <summary>A duplex channel message (IpcChannel.Bootstrap.cs, kind 3): magic, version 1, kind, doorbell, request and response sizes.</summary>
    private static byte[] Payload(DoorbellKind doorbell, int requestSize, int responseSize)
    {
        var p = new byte[20];
        BinaryPrimitives.WriteUInt32LittleEndian(p, 0x48434955);
        BinaryPrimitives.WriteUInt16LittleEndian(p.AsSpan(4), 1);
        BinaryPrimitives.WriteUInt16LittleEndian(p.AsSpan(6), 3);
        BinaryPrimitives.WriteUInt32LittleEndian(p.AsSpan(8), (uint)doorbell);
        BinaryPrimitives.WriteInt32LittleEndian(p.AsSpan(12), requestSize);
        BinaryPrimitives.WriteInt32LittleEndian(p.AsSpan(16), responseSize);
        return p;
    }

    /// <summary>Mappings of memfds in this process (/proc/self/maps).</summary>
    /// <summary>Lines of /proc/self/maps (address perms offset dev inode path) that map one of <paramref name="inodes"/>.</summary>
    private static int MappingsOf(HashSet<ulong> inodes) => File.ReadLines("/proc/self/maps")
        .Select(l => l.Split(' ', 6, StringSplitOptions.RemoveEmptyEntries))
        .Count(f => f.Length >= 5 && ulong.TryParse(f[4], out ulong inode) && inodes.Contains(inode));

    private static unsafe ulong InodeOf(System.Runtime.InteropServices.SafeHandle fd)
    {
        Tmds.Linux.stat st;
        Assert.Equal(0, Tmds.Linux.LibC.fstat((int)fd.DangerousGetHandle(), &st));
        return (ulong)st.st_ino;
    }
}
