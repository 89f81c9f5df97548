using System.Globalization;
using UintrIpc.Bootstrap;
using UintrIpc.Channels;
using UintrIpc.Signaling;
using UintrIpc.Tests.Bootstrap;
using UintrIpc.Tests.Infrastructure;
using UintrIpc.Tests.Signaling;

namespace UintrIpc.Tests.Channels;

/// <summary>
/// Issue 7 for channels: misuse from another thread and a hostile or dead peer end in a clear
/// error, never a fault or a hang. Scenarios that could kill the process run in a child
/// (UintrIpc.TestPeer, ChannelTrustCommands).
/// </summary>
[Collection(CrossProcessCollection.Name)]
public sealed class ChannelTrustTests(ITestOutputHelper output) : IDisposable
{
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(60);
    private readonly ShmNames _names = new();
    private readonly SocketNames _sockets = new();

    public void Dispose()
    {
        _names.Dispose();
        _sockets.Dispose();
    }

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
    [InlineData("waitwrite")]
    public void Disposing_from_another_thread_ends_a_waiter_with_ObjectDisposedException(string operation)
    {
        using var peer = PeerProcess.Start(output, "channel-dispose-while-waiting", operation);
        peer.AssertSuccess(TimeSpan.FromSeconds(120));
        Assert.Equal(6, peer.StandardOutput.Split('\n').Count(line => line.EndsWith(": ObjectDisposedException", StringComparison.Ordinal)));
    }

    /// <summary>
    /// Peer liveness by heartbeat: a producer facing a full ring learns that the consumer's
    /// process was killed (SIGKILL) from the heartbeat standing still, and gets
    /// PeerGoneException instead of waiting out its 60 s timeout. While the consumer lives but
    /// does not read, the heartbeat moves and the write only times out. The same for a writer
    /// that only waits for room (<paramref name="waitOnly"/>: WaitToWrite, user43).
    /// </summary>
    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [InlineData(true, true)]
    public void A_waiting_writer_learns_from_the_heartbeat_that_the_consumer_was_killed(bool messages, bool waitOnly)
    {
        string name = _names.New("liveness");
        var options = new IpcChannelOptions
        {
            Capacity = 16, BufferSize = 256, MaxMessageLength = 8, Doorbell = DoorbellKind.Futex,
            Wait = new ChannelWaitOptions { PeerTimeout = TimeSpan.FromSeconds(1) },
        };
        using var channel = messages ? (IDisposable)IpcChannel.CreateMessages(options with { Name = name }) : IpcChannel.CreateBounded<long>(options with { Name = name });
        Func<long, TimeSpan, bool> write = channel switch
        {
            IpcChannel<long> slots => Writer(slots.Writer),
            _ => Writer(((IpcMessageChannel)channel).Writer),
        };
        Func<long, TimeSpan, bool> wait = !waitOnly ? write : channel switch
        {
            IpcChannel<long> slots => (_, t) => slots.Writer.WaitToWrite(t),
            _ => (_, t) => ((IpcMessageChannel)channel).Writer.WaitToWrite(16, t), // one record of 8 bytes
        };
        using var consumer = PeerProcess.Start(output, "channel-consume-and-hang", messages ? "message" : "slot", name);
        Assert.True(write(0, Long));
        consumer.WaitForOutput("consuming");
        while (write(1, TimeSpan.Zero))
        {
        }

        // Alive but not reading: three peer timeouts pass with the heartbeat moving, no error.
        Assert.False(wait(2, TimeSpan.FromSeconds(3)));

        consumer.Kill(); // SIGKILL
        var error = Record.Exception(() => wait(3, Long));
        output.WriteLine(error?.Message ?? "no error");
        Assert.IsType<PeerGoneException>(error);
        Assert.Contains("heartbeat", error.Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// Peer liveness by pidfd: a consumer that got its producer over bootstrap (SO_PEERCRED)
    /// drains what the producer wrote, then its blocking and async reads end with
    /// PeerGoneException once the producer process is killed, instead of waiting 60 s.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_waiting_reader_learns_that_the_producer_process_was_killed(bool messages)
    {
        const int Count = 10;
        string endpoint = _sockets.NewPath("liveness");
        new TestThread(() =>
        {
            using var server = BootstrapServer.Listen(endpoint);
            using var c = ChannelUnderTest.Create(messages, DoorbellKind.Futex, multipleProducers: false, capacity: 16, localWriter: false);
            using var producer = PeerProcess.Start(output, "channel-bootstrap-produce-and-hang", messages ? "message" : "slot", endpoint, Count.ToString(CultureInfo.InvariantCulture));
            using (var connection = server.Accept(Long))
            {
                if (c is SlotChannelUnderTest slot)
                {
                    connection.SendChannel(slot.Channel);
                }
                else
                {
                    connection.SendChannel(((MessageChannelUnderTest)c).Channel);
                }
            }

            for (long i = 0; i < Count; i++)
            {
                Assert.True(c.TryRead(out long value, Long));
                Assert.Equal(i, value);
            }

            producer.WaitForOutput("written");
            Exception? error = null;
            var reader = new TestThread(() => error = Record.Exception(() => c.TryRead(out _, Long)), "reader");
            TestWait.Until(() => c.WaitBlock.IsConsumerSleeping, "the reader to sleep");
            producer.Kill(); // SIGKILL
            reader.Join();
            output.WriteLine(error?.Message ?? "no error");
            Assert.IsType<PeerGoneException>(error);
            Assert.Throws<PeerGoneException>(() => c.ReadAsync().AsTask().GetAwaiter().GetResult());
            Assert.False(c.IsConsumerCompleted); // gone is not completed: the producer never completed
        }, "consumer").Join(TimeSpan.FromSeconds(120));
    }

    /// <summary>
    /// Peer liveness by pidfd, producer side: a producer that got its channel over bootstrap
    /// watches the consumer's process; once it is killed, a write waiting for room fails with
    /// PeerGoneException at once, well before the heartbeat's peer timeout (set to 60 s here).
    /// </summary>
    [Fact]
    public void A_waiting_writer_learns_from_the_pidfd_that_the_consumer_process_was_killed()
    {
        string endpoint = _sockets.NewPath("liveness");
        using var consumer = PeerProcess.Start(output, "channel-bootstrap-consume-and-hang", endpoint);
        consumer.WaitForOutput("listening");
        using var connection = BootstrapConnection.Connect(endpoint, Long);
        using var channel = connection.ReceiveChannel<long>(Long, new IpcChannelOptions { PeerTimeout = TimeSpan.FromSeconds(60) });
        var producer = channel.Writer;
        consumer.WaitForOutput("sent");
        while (producer.TryWrite(1))
        {
        }

        consumer.Kill(); // SIGKILL
        var error = Record.Exception(() => producer.TryWrite(2, TimeSpan.FromSeconds(30)));
        output.WriteLine(error?.Message ?? "no error");
        Assert.IsType<PeerGoneException>(error);
        Assert.Contains("has exited", error.Message, StringComparison.Ordinal);
    }

    private static Func<long, TimeSpan, bool> Writer(IpcChannelWriter<long> producer) => (v, t) => producer.TryWrite(v, t);

    private static Func<long, TimeSpan, bool> Writer(IpcMessageWriter producer) => (v, t) => producer.TryWrite(1, BitConverter.GetBytes(v), t);
}
