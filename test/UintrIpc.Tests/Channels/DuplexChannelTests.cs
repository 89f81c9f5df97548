using UintrIpc.Bootstrap;
using UintrIpc.Channels;
using UintrIpc.Memory;
using UintrIpc.Rings;
using UintrIpc.Signaling;
using UintrIpc.Tests.Bootstrap;
using UintrIpc.Tests.Signaling;

namespace UintrIpc.Tests.Channels;

/// <summary>
/// IpcDuplexChannel in one process (the cross-process case is in DuplexChannelCrossProcessTests):
/// request/response with exact counts, each direction's wake-up with the reader asleep, per-direction
/// completion, refusals of the wrong region, and the region's lifetime across both channels.
/// </summary>
public sealed class DuplexChannelTests : IDisposable
{
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(20);
    private readonly SocketNames _sockets = new();

    public void Dispose() => _sockets.Dispose();

    [Fact]
    public void Every_request_gets_its_response_in_order()
    {
        const int Count = 10_000;
        using var duplex = IpcChannel.CreateDuplex<long, long>(new IpcChannelOptions { Capacity = 4 });
        var server = new TestThread(() =>
        {
            for (long i = 0; i < Count; i++)
            {
                long request = duplex.Requests.Reader.Read(Long);
                Assert.Equal(i, request);
                Assert.True(duplex.Responses.Writer.TryWrite((2 * request) + 1, Long));
            }
        }, "server");
        for (long i = 0; i < Count; i++)
        {
            Assert.True(duplex.Requests.Writer.TryWrite(i, Long));
            Assert.Equal((2 * i) + 1, duplex.Responses.Reader.Read(Long));
        }

        server.Join(Long);
        Assert.Equal(0, duplex.Requests.Reader.Count);
        Assert.Equal(0, duplex.Responses.Reader.Count);
    }

    [Fact]
    public void Many_requests_in_flight_use_the_whole_ring_both_ways()
    {
        using var duplex = IpcChannel.CreateDuplex<int, long>(new IpcChannelOptions { Capacity = 8 });
        for (int round = 0; round < 5; round++)
        {
            for (int i = 0; i < 8; i++)
            {
                Assert.True(duplex.Requests.Writer.TryWrite((round * 8) + i));
            }

            Assert.False(duplex.Requests.Writer.TryWrite(-1)); // full
            for (int i = 0; i < 8; i++)
            {
                Assert.True(duplex.Requests.Reader.TryRead(out int request));
                Assert.True(duplex.Responses.Writer.TryWrite(request * 10L));
            }

            for (int i = 0; i < 8; i++)
            {
                Assert.True(duplex.Responses.Reader.TryRead(out long response));
                Assert.Equal(((round * 8) + i) * 10L, response);
            }
        }
    }

    [Theory]
    [InlineData(DoorbellKind.Futex)]
    [InlineData(DoorbellKind.EventFd)]
    public void A_sleeping_reader_is_woken_in_each_direction(DoorbellKind doorbell)
    {
        const int Count = 20;
        // Spin 0: each reader parks at once, so every message must ring its doorbell.
        var options = new IpcChannelOptions { Capacity = 4, Doorbell = doorbell, SpinBudget = TimeSpan.Zero, YieldBudget = TimeSpan.Zero, MaxParkTime = Long };
        using var duplex = IpcChannel.CreateDuplex<long, long>(options);
        var requests = duplex.Requests.Reader;
        var responses = duplex.Responses.Reader;
        var server = new TestThread(() =>
        {
            for (long i = 0; i < Count; i++)
            {
                long request = requests.Read(Long);
                WaitUntilSleeping(duplex, DuplexPart.Responses); // the client's reader is parked before the answer
                Assert.True(duplex.Responses.Writer.TryWrite(request + 1, Long));
            }
        }, "server");
        for (long i = 0; i < Count; i++)
        {
            WaitUntilSleeping(duplex, DuplexPart.Requests);
            Assert.True(duplex.Requests.Writer.TryWrite(i, Long));
            Assert.Equal(i + 1, responses.Read(Long));
        }

        server.Join(Long);
        foreach (var counters in new[] { requests.Counters, responses.Counters })
        {
            Assert.Equal(0ul, counters.Timeouts);
            Assert.True(counters.WakeupsSent >= Count, $"{counters}");
            Assert.True(counters.Sleeps >= Count, $"{counters}");
        }
    }

    [Fact]
    public void Completing_the_requests_leaves_the_responses_open()
    {
        using var duplex = IpcChannel.CreateDuplex<long, long>();
        Assert.True(duplex.Requests.Writer.TryWrite(7));
        duplex.Requests.Writer.Complete();
        Assert.True(duplex.Requests.IsCompleted);
        Assert.False(duplex.Responses.IsCompleted);
        Assert.False(duplex.Requests.Writer.TryWrite(8));

        Assert.True(duplex.Requests.Reader.TryRead(out long request));
        Assert.True(duplex.Responses.Writer.TryWrite(request * 6));
        Assert.False(duplex.Requests.Reader.TryRead(out _));
        Assert.True(duplex.Requests.Reader.IsCompleted); // completed and drained
        Assert.Equal(42, duplex.Responses.Reader.Read(Long));
        duplex.Responses.Writer.Complete();
        Assert.Throws<System.Threading.Channels.ChannelClosedException>(() => duplex.Responses.Reader.Read(Long));
    }

    [Fact]
    public void The_wrong_region_or_element_type_is_refused()
    {
        using (var channel = IpcChannel.CreateBounded<long>(8))
        {
            Assert.Throws<RegionFormatException>(() => ChannelCore.AttachDuplex(SharedRegion.Attach(channel.Region.FileHandle), null));
        }

        using var duplex = IpcChannel.CreateDuplex<long, int>();
        Assert.Throws<RegionFormatException>(() => IpcChannel.Attach<long>(duplex.Region.FileHandle));
        Assert.Throws<RegionFormatException>(() => new IpcDuplexChannel<int, int>(ChannelCore.AttachDuplex(SharedRegion.Attach(duplex.Region.FileHandle), null)));
        Assert.Throws<ArgumentException>(() => IpcChannel.CreateDuplex<long, long>(new IpcChannelOptions { Name = "duplex-not-named" }));
        Assert.Throws<ArgumentException>(() => IpcChannel.CreateDuplex<long, long>(new IpcChannelOptions { MultipleWriters = true }));
        // What was refused released its mapping and leases: the duplex still works.
        Assert.True(duplex.Requests.Writer.TryWrite(1));
        Assert.Equal(1, duplex.Requests.Reader.Read(Long));
    }

    [Fact]
    public void One_direction_disposed_leaves_the_other_working()
    {
        var duplex = IpcChannel.CreateDuplex<long, long>();
        var responses = duplex.Responses;
        duplex.Requests.Dispose();
        Assert.Throws<ObjectDisposedException>(() => duplex.Requests.Writer);
        Assert.True(responses.Writer.TryWrite(5));
        Assert.Equal(5, responses.Reader.Read(Long));

        // The duplex gone too: the responses' reader and writer still hold the mapping.
        var reader = responses.Reader;
        var writer = responses.Writer;
        duplex.Dispose();
        Assert.Throws<ObjectDisposedException>(() => reader.TryRead(out _));
        Assert.Throws<ObjectDisposedException>(() => writer.TryWrite(6));
    }

    [Fact]
    public void Disposing_ends_a_reader_waiting_on_another_thread()
    {
        var duplex = IpcChannel.CreateDuplex<long, long>(new IpcChannelOptions { Doorbell = DoorbellKind.Futex, MaxParkTime = Long });
        var reader = duplex.Responses.Reader;
        var waiting = new TestThread(() => Assert.ThrowsAny<ObjectDisposedException>(() => reader.Read(Long)), "reader");
        WaitUntilSleeping(duplex, DuplexPart.Responses);
        duplex.Dispose();
        waiting.Join(Long);
    }

    [Theory]
    [InlineData(DuplexPart.Requests)]
    [InlineData(DuplexPart.Responses)]
    public unsafe void A_forged_sequence_ends_a_blocking_read_with_corruption_in_either_direction(int ring)
    {
        using var duplex = IpcChannel.CreateDuplex<long, long>(new IpcChannelOptions { Capacity = 8, Doorbell = DoorbellKind.Futex, MaxParkTime = Long });
        var reader = ring == DuplexPart.Requests ? duplex.Requests.Reader : duplex.Responses.Reader;
        var writer = ring == DuplexPart.Requests ? duplex.Requests.Writer : duplex.Responses.Writer;
        Assert.True(writer.TryWrite(1));
        Assert.Equal(1, reader.Read(Long));
        // Slot 1 of this ring: its line is 64 bytes from slot 0's, responses 16 bytes into it.
        var part = duplex.Region.FindPart(PartKind.DuplexSlots, 0);
        ulong* sequence = (ulong*)(duplex.Region.PartPointer(part) + RingLayout.DuplexControlSize + 64 + (ring * 16));
        var blocked = new TestThread(() => Assert.Throws<RingCorruptedException>(() => reader.Read(Long)), "reader");
        WaitUntilSleeping(duplex, ring);
        Volatile.Write(ref *sequence, 99UL); // neither "not yet" (0) nor published (2)
        writer.Complete(); // rings the doorbell: the woken reader checks the ring before the end
        blocked.Join(Long);
        Assert.Throws<RingCorruptedException>(() => reader.TryRead(out _)); // and stays refused, without waiting
    }

    [Theory]
    [InlineData(DoorbellKind.Futex)]
    [InlineData(DoorbellKind.EventFd)]
    public void A_duplex_handed_over_a_bootstrap_connection_works_both_ways(DoorbellKind doorbell)
    {
        const int Count = 200;
        using var pair = BootstrapPair.Open(_sockets.NewPath());
        var parks = new IpcChannelOptions { Capacity = 8, Doorbell = doorbell, SpinBudget = TimeSpan.Zero, YieldBudget = TimeSpan.Zero, MaxParkTime = Long };
        using var duplex = IpcChannel.CreateDuplex<long, long>(parks);
        IpcDuplexChannel<long, long>? received = null;
        var client = new TestThread(() => received = pair.ClientSide.ReceiveDuplexChannel<long, long>(Long, parks), "client");
        pair.ServerSide.SendChannel(duplex, Long);
        client.Join(Long);
        using (received)
        {
            Assert.NotSame(duplex.Region, received!.Region); // its own mapping, as in another process
            Assert.Equal(doorbell, received.Doorbell);
            var server = new TestThread(() =>
            {
                for (long i = 0; i < Count; i++)
                {
                    Assert.True(duplex.Responses.Writer.TryWrite(duplex.Requests.Reader.Read(Long) * 3, Long));
                }
            }, "server");
            for (long i = 0; i < Count; i++)
            {
                Assert.True(received.Requests.Writer.TryWrite(i, Long));
                Assert.Equal(3 * i, received.Responses.Reader.Read(Long));
            }

            server.Join(Long);
            Assert.Equal(0ul, duplex.Requests.Reader.Counters.Timeouts);
            Assert.Equal(0ul, received.Responses.Reader.Counters.Timeouts);
        }
    }

    [Fact]
    public void A_duplex_reply_or_a_duplex_of_other_types_is_refused()
    {
        using var pair = BootstrapPair.Open(_sockets.NewPath());
        using var duplex = IpcChannel.CreateDuplex<long, long>(new IpcChannelOptions { Doorbell = DoorbellKind.Futex });
        using var channel = IpcChannel.CreateBounded<long>(8);
        // A plain channel where a duplex is expected, and the other way round.
        pair.ServerSide.SendChannel(channel);
        Assert.Throws<BootstrapProtocolException>(() => pair.ClientSide.ReceiveDuplexChannel<long, long>(Long));
        var sender = new TestThread(() => Assert.ThrowsAny<Exception>(() => pair.ServerSide.SendChannel(duplex, TimeSpan.FromSeconds(2))), "sender");
        Assert.Throws<BootstrapProtocolException>(() => pair.ClientSide.ReceiveChannel<long>(Long));
        sender.Join(Long);
        // Other element types (a duplex is handed over once, whatever the outcome: a new one).
        using var duplex2 = IpcChannel.CreateDuplex<long, long>(new IpcChannelOptions { Doorbell = DoorbellKind.Futex });
        var sender2 = new TestThread(() => Assert.ThrowsAny<Exception>(() => pair.ServerSide.SendChannel(duplex2, TimeSpan.FromSeconds(2))), "sender2");
        Assert.Throws<BootstrapProtocolException>(() => pair.ClientSide.ReceiveDuplexChannel<long, int>(Long));
        sender2.Join(Long);
    }

    [Fact]
    public void Other_element_types_or_another_kind_are_refused_saying_what_to_do_not_blaming_the_version()
    {
        using var pair = BootstrapPair.Open(_sockets.NewPath());
        using var duplex = IpcChannel.CreateDuplex<long, long>(new IpcChannelOptions { Doorbell = DoorbellKind.Futex });
        var sender = new TestThread(() => Assert.ThrowsAny<Exception>(() => pair.ServerSide.SendChannel(duplex, TimeSpan.FromSeconds(2))), "sender");
        var types = Assert.Throws<BootstrapProtocolException>(() => pair.ClientSide.ReceiveDuplexChannel<int, long>(Long));
        sender.Join(Long);
        Assert.Contains("8-byte requests and 8-byte responses, this side expects 4 and 8", types.Message);
        Assert.Contains("receive it with types of those sizes", types.Message);
        Assert.DoesNotContain("version", types.Message);

        using var channel = IpcChannel.CreateBounded<long>(8);
        pair.ServerSide.SendChannel(channel);
        var size = Assert.Throws<BootstrapProtocolException>(() => pair.ClientSide.ReceiveChannel<int>(Long));
        Assert.Contains("the channel's elements are 8 bytes, sizeof(Int32) is 4", size.Message);
        Assert.Contains("receive it with types of those sizes", size.Message);
        Assert.DoesNotContain("version", size.Message);

        using var channel2 = IpcChannel.CreateBounded<long>(8);
        pair.ServerSide.SendChannel(channel2);
        var kind = Assert.Throws<BootstrapProtocolException>(() => pair.ClientSide.ReceiveDuplexChannel<long, long>(Long));
        Assert.Contains("receive it with ReceiveChannel<T>", kind.Message);
        Assert.DoesNotContain("version", kind.Message);
    }

    /// <summary>Waits (bounded) until the reader of ring <paramref name="ring"/> has announced that it sleeps (its wait block has the ring's index as tag).</summary>
    private static void WaitUntilSleeping<TRequest, TResponse>(IpcDuplexChannel<TRequest, TResponse> duplex, int ring)
        where TRequest : unmanaged
        where TResponse : unmanaged
        => TestWait.Until(() => new WaitBlock(duplex.Region, (uint)ring).IsConsumerSleeping, $"the reader of ring {ring} to park");
}
