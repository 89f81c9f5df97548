using UintrIpc.Bootstrap;
using UintrIpc.Channels;
using UintrIpc.Signaling;
using UintrIpc.Tests.Bootstrap;
using UintrIpc.Tests.Infrastructure;
using UintrIpc.Tests.Signaling;

namespace UintrIpc.Tests.Channels;

/// <summary>
/// A single-writer channel handed to a second writer process while the first lives: two writers
/// on an SPSC ring break it (each side then throws RingCorruptedException, design-notes user38),
/// so the second SendChannel is refused with a message naming MultipleWriters; so is a handover
/// racing another on a second thread, a handover of a channel whose Writer was created here, and
/// a Writer created here once the channel went to a running writer process. Both ends are in
/// this process (the writer process is this one, running): the refusal is decided before anything is sent.
/// </summary>
public sealed class SingleWriterHandoverTests(ITestOutputHelper output) : IDisposable
{
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(20);
    private static readonly TimeSpan Nothing = TimeSpan.FromMilliseconds(200);
    private readonly SocketNames _sockets = new();

    public void Dispose() => _sockets.Dispose();

    [Fact]
    public void A_second_handover_of_a_single_writer_slot_channel_is_refused()
    {
        using var first = BootstrapPair.Open(_sockets.NewPath());
        using var second = BootstrapPair.Open(_sockets.NewPath());
        using var channel = IpcChannel.CreateBounded<long>(8);
        first.ServerSide.SendChannel(channel);
        using var received = first.ClientSide.ReceiveChannel<long>(Long);

        var refused = Assert.Throws<InvalidOperationException>(() => second.ServerSide.SendChannel(channel));
        Assert.Contains("MultipleWriters", refused.Message, StringComparison.Ordinal);

        // The first writer is untouched.
        Assert.True(received.Writer.TryWrite(7));
        Assert.Equal(7, channel.Reader.Read(Long));
    }

    [Fact]
    public void A_second_handover_of_a_single_writer_message_channel_is_refused()
    {
        using var first = BootstrapPair.Open(_sockets.NewPath());
        using var second = BootstrapPair.Open(_sockets.NewPath());
        using var channel = IpcChannel.CreateMessages(new IpcChannelOptions { BufferSize = 4096 });
        first.ServerSide.SendChannel(channel);
        using var received = first.ClientSide.ReceiveMessageChannel(Long);

        var refused = Assert.Throws<InvalidOperationException>(() => second.ServerSide.SendChannel(channel));
        Assert.Contains("MultipleWriters", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_multiple_writer_channel_goes_to_every_writer()
    {
        using var first = BootstrapPair.Open(_sockets.NewPath());
        using var second = BootstrapPair.Open(_sockets.NewPath());
        using var channel = IpcChannel.CreateBounded<long>(new IpcChannelOptions { Capacity = 8, MultipleWriters = true });
        first.ServerSide.SendChannel(channel);
        second.ServerSide.SendChannel(channel);
        using var a = first.ClientSide.ReceiveChannel<long>(Long);
        using var b = second.ClientSide.ReceiveChannel<long>(Long);
        Assert.True(a.Writer.TryWrite(1));
        Assert.True(b.Writer.TryWrite(2));
        Assert.True(channel.Writer.TryWrite(3)); // and a writer here too
        Assert.Equal(1, channel.Reader.Read(Long));
        Assert.Equal(2, channel.Reader.Read(Long));
        Assert.Equal(3, channel.Reader.Read(Long));
    }

    /// <summary>
    /// Eight threads, each with a connection of its own, hand one single-writer channel over at
    /// once (released by a barrier), round after round: exactly one handover per round goes
    /// through, the others throw InvalidOperationException naming MultipleWriters (the check, the
    /// send and the reader's watch of the writer are one step per channel).
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Racing_handovers_of_one_single_writer_channel_reach_exactly_one_writer(bool messages)
    {
        const int Threads = 8;
        const int Rounds = 300;
        var pairs = new List<BootstrapPair>();
        try
        {
            for (int i = 0; i < Threads; i++)
            {
                pairs.Add(BootstrapPair.Open(_sockets.NewPath()));
            }

            var options = new IpcChannelOptions { Capacity = 8, BufferSize = 4096, Doorbell = DoorbellKind.Futex };
            IDisposable? channel = null;
            var sent = new bool[Threads];
            var errors = new Exception?[Threads];
            var wins = new int[Rounds];
            var unexpected = new List<string>();
            using var barrier = new Barrier(Threads + 1);
            var racers = Enumerable.Range(0, Threads).Select(t => new TestThread(() =>
            {
                for (int round = 0; round < Rounds; round++)
                {
                    Assert.True(barrier.SignalAndWait(Long), "start");
                    errors[t] = Record.Exception(() =>
                    {
                        if (channel is IpcChannel<long> slots)
                        {
                            pairs[t].ServerSide.SendChannel(slots);
                        }
                        else
                        {
                            pairs[t].ServerSide.SendChannel((IpcMessageChannel)channel!);
                        }
                    });
                    sent[t] = errors[t] is null;
                    Assert.True(barrier.SignalAndWait(Long), "end");
                }
            }, $"racer {t}")).ToList();

            for (int round = 0; round < Rounds; round++)
            {
                channel = messages ? IpcChannel.CreateMessages(options) : IpcChannel.CreateBounded<long>(options);
                _ = channel is IpcChannel<long> c ? c.Reader : (object)((IpcMessageChannel)channel).Reader; // futex: any thread may create it; here, before the race
                Assert.True(barrier.SignalAndWait(Long), "start");
                Assert.True(barrier.SignalAndWait(Long), "end");
                for (int t = 0; t < Threads; t++)
                {
                    if (sent[t])
                    {
                        wins[round]++;
                        using IDisposable received = messages ? pairs[t].ClientSide.ReceiveMessageChannel(Long) : pairs[t].ClientSide.ReceiveChannel<long>(Long);
                    }
                    else if (errors[t] is not InvalidOperationException { Message: var m } || !m.Contains("MultipleWriters", StringComparison.Ordinal))
                    {
                        unexpected.Add($"round {round}, thread {t}: {errors[t]}");
                    }
                }

                channel.Dispose();
            }

            racers.ForEach(r => r.Join(Long));
            Assert.Empty(unexpected);
            Assert.Equal(Enumerable.Repeat(1, Rounds), wins);
        }
        finally
        {
            pairs.ForEach(p => p.Dispose());
        }
    }

    [Fact]
    public void A_single_writer_slot_channel_whose_writer_was_created_here_is_not_handed_over()
    {
        using var pair = BootstrapPair.Open(_sockets.NewPath());
        using var channel = IpcChannel.CreateBounded<long>(8);
        var writer = channel.Writer;

        var refused = Assert.Throws<InvalidOperationException>(() => pair.ServerSide.SendChannel(channel));
        Assert.Contains("MultipleWriters", refused.Message, StringComparison.Ordinal);
        Assert.Contains("Writer was created in this process", refused.Message, StringComparison.Ordinal);
        Assert.Throws<TimeoutException>(() => pair.ClientSide.Receive(Nothing).Dispose()); // nothing was sent

        // The channel works on in this process.
        Assert.True(writer.TryWrite(7));
        Assert.Equal(7, channel.Reader.Read(Long));
    }

    [Fact]
    public void A_single_writer_message_channel_whose_writer_was_created_here_is_not_handed_over()
    {
        using var pair = BootstrapPair.Open(_sockets.NewPath());
        using var channel = IpcChannel.CreateMessages(new IpcChannelOptions { BufferSize = 4096 });
        var writer = channel.Writer;

        var refused = Assert.Throws<InvalidOperationException>(() => pair.ServerSide.SendChannel(channel));
        Assert.Contains("MultipleWriters", refused.Message, StringComparison.Ordinal);
        Assert.Throws<TimeoutException>(() => pair.ClientSide.Receive(Nothing).Dispose());
        Assert.True(writer.TryWrite(3, [1, 2]));
        Assert.True(channel.Reader.TryRead(out int type, new byte[8], out int length, Long));
        Assert.Equal((3, 2), (type, length));
    }

    [Fact]
    public void A_single_writer_channel_handed_to_a_running_writer_process_gets_no_writer_here()
    {
        using var pair = BootstrapPair.Open(_sockets.NewPath());
        using var channel = IpcChannel.CreateBounded<long>(8);
        using var messageChannel = IpcChannel.CreateMessages(new IpcChannelOptions { BufferSize = 4096 });
        pair.ServerSide.SendChannel(channel);
        pair.ServerSide.SendChannel(messageChannel);
        using var received = pair.ClientSide.ReceiveChannel<long>(Long);
        using var receivedMessages = pair.ClientSide.ReceiveMessageChannel(Long);

        var refused = Assert.Throws<InvalidOperationException>(() => channel.Writer);
        Assert.Contains("MultipleWriters", refused.Message, StringComparison.Ordinal);
        Assert.Contains("MultipleWriters", Assert.Throws<InvalidOperationException>(() => messageChannel.Writer).Message, StringComparison.Ordinal);
        Assert.Throws<InvalidOperationException>(() => channel.Writer); // every time

        // The writer process's writer is untouched.
        Assert.True(received.Writer.TryWrite(7));
        Assert.Equal(7, channel.Reader.Read(Long));
    }

    /// <summary>
    /// The writer a real process got is the channel's one writer while it runs; once it was killed
    /// (it wrote three values and did not complete) the creating process may write itself, after
    /// what the dead writer left (the ring's tail is read on attach).
    /// </summary>
    [Fact]
    public void Once_its_writer_process_has_exited_a_single_writer_channel_may_get_a_writer_here()
    {
        const int Count = 3;
        string endpoint = _sockets.NewPath("exited");
        using var server = BootstrapServer.Listen(endpoint);
        using var channel = IpcChannel.CreateBounded<long>(new IpcChannelOptions { Capacity = 16, Doorbell = DoorbellKind.Futex });
        using var producer = PeerProcess.Start(output, "channel-bootstrap-produce-and-hang", "slot", endpoint, Count.ToString(System.Globalization.CultureInfo.InvariantCulture));
        using (var connection = server.Accept(Long))
        {
            connection.SendChannel(channel);
        }

        producer.WaitForOutput("written");
        Assert.Contains("MultipleWriters", Assert.Throws<InvalidOperationException>(() => channel.Writer).Message, StringComparison.Ordinal);
        producer.Kill();
        producer.WaitForExit(Long);

        var writer = channel.Writer;
        Assert.True(writer.TryWrite(99));
        for (long i = 0; i < Count; i++)
        {
            Assert.Equal(i, channel.Reader.Read(Long));
        }

        Assert.Equal(99, channel.Reader.Read(Long));
    }

    [Fact]
    public void A_duplex_whose_request_writer_was_created_here_is_not_handed_over_and_a_handed_duplex_gets_no_request_writer_here()
    {
        using var pair = BootstrapPair.Open(_sockets.NewPath());
        using (var used = IpcChannel.CreateDuplex<long, long>(new IpcChannelOptions { Doorbell = DoorbellKind.Futex }))
        {
            Assert.True(used.Requests.Writer.TryWrite(1));
            var refused = Assert.Throws<InvalidOperationException>(() => pair.ServerSide.SendChannel(used, Nothing));
            Assert.Contains("request writer", refused.Message, StringComparison.Ordinal);
            Assert.Throws<TimeoutException>(() => pair.ClientSide.Receive(Nothing).Dispose());
            Assert.Equal(1, used.Requests.Reader.Read(Long)); // still usable here
        }

        using var duplex = IpcChannel.CreateDuplex<long, long>(new IpcChannelOptions { Doorbell = DoorbellKind.Futex });
        IpcDuplexChannel<long, long>? received = null;
        var receiver = new TestThread(() => received = pair.ClientSide.ReceiveDuplexChannel<long, long>(Long), "receiver");
        pair.ServerSide.SendChannel(duplex, Long);
        receiver.Join(Long);
        using (received)
        {
            Assert.Contains("one duplex per peer", Assert.Throws<InvalidOperationException>(() => duplex.Requests.Writer).Message, StringComparison.Ordinal);
            Assert.Contains("one duplex per peer", Assert.Throws<InvalidOperationException>(() => received!.Responses.Writer).Message, StringComparison.Ordinal); // the requesting side: the answering process writes the responses
            Assert.True(received!.Requests.Writer.TryWrite(5));
            Assert.Equal(5, duplex.Requests.Reader.Read(Long));
        }
    }
}
