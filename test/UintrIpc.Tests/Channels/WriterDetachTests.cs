using System.Threading.Channels;
using UintrIpc.Bootstrap;
using UintrIpc.Channels;
using UintrIpc.Tests.Bootstrap;
using UintrIpc.Tests.Infrastructure;

namespace UintrIpc.Tests.Channels;

/// <summary>
/// A writer disposed without Complete while its process lives on (uintripc.h 4b): its reader,
/// which knows the writer only by the process's pidfd, reads everything and then ends its wait
/// with PeerGoneException naming the detach, instead of waiting for data that never comes. A
/// writer that completes first ends the stream normally. The writers are real child processes
/// (UintrIpc.TestPeer, Commands/WriterDetachCommands.cs) that stay alive until told to exit, so
/// that nothing but the mark can end the reader's wait; each of the reader's waits is bounded by
/// <see cref="Long"/> from its last value (a wait that ran out is a failure, never the answer).
/// </summary>
[Collection(CrossProcessCollection.Name)]
public sealed class WriterDetachTests(ITestOutputHelper output) : IDisposable
{
    private static readonly TimeSpan StartUp = TimeSpan.FromSeconds(180); // a child's start-up on a loaded machine
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan Nothing = TimeSpan.FromMilliseconds(300);
    private const int Count = 100;
    private readonly SocketNames _sockets = new();

    /// <summary>How the reader reads: every value and then the wait that must end.</summary>
    public enum ReadWay
    {
        /// <summary>TryRead(out, timeout) in a loop.</summary>
        Sync,
        /// <summary>WaitToReadAsync, then TryRead while it finds values.</summary>
        WaitToReadAsync,
        /// <summary>ReadAsync without a deadline.</summary>
        ReadAsync,
        /// <summary>await foreach over ReadAllAsync.</summary>
        ReadAllAsync,
    }

    public void Dispose() => _sockets.Dispose();

    [Theory]
    [InlineData(false, ReadWay.Sync)]
    [InlineData(false, ReadWay.WaitToReadAsync)]
    [InlineData(false, ReadWay.ReadAsync)]
    [InlineData(false, ReadWay.ReadAllAsync)]
    [InlineData(true, ReadWay.Sync)]
    [InlineData(true, ReadWay.WaitToReadAsync)]
    [InlineData(true, ReadWay.ReadAsync)]
    [InlineData(true, ReadWay.ReadAllAsync)]
    public async Task A_writer_disposed_without_Complete_is_seen_by_its_reader_after_everything_it_wrote(bool messages, ReadWay way)
    {
        using var run = new WriterRun(output, _sockets, "detach", messages, multipleWriters: false);
        var reader = run.Reader;
        var writer = run.StartWriter(0, "dispose", "now");

        var values = new List<long>();
        var error = await Assert.ThrowsAsync<PeerGoneException>(() => reader.ReadToEndAsync(way, values));

        Assert.Equal(Enumerable.Range(0, Count).Select(i => (long)i), values);
        Assert.Contains("disposed its end without completing", error.Message, StringComparison.Ordinal);
        Assert.Contains("call Complete", error.Message, StringComparison.Ordinal);
        Assert.False(writer.HasExited); // the mark ended the wait, not the writer's exit
        writer.WriteLine("exit");
        writer.AssertSuccess(StartUp);
    }

    [Theory]
    [InlineData(false, ReadWay.Sync)]
    [InlineData(false, ReadWay.ReadAllAsync)]
    [InlineData(true, ReadWay.Sync)]
    [InlineData(true, ReadWay.ReadAllAsync)]
    public async Task A_writer_that_completes_and_then_disposes_ends_the_stream_normally(bool messages, ReadWay way)
    {
        using var run = new WriterRun(output, _sockets, "complete", messages, multipleWriters: false);
        var reader = run.Reader;
        var writer = run.StartWriter(0, "complete", "now");

        var values = new List<long>();
        await reader.ReadToEndAsync(way, values); // no exception: the normal end

        Assert.Equal(Enumerable.Range(0, Count).Select(i => (long)i), values);
        Assert.True(reader.IsCompleted);
        writer.WaitForOutput($"detached {Count}", StartUp);
        Assert.Null(reader.TryRead(Nothing)); // still the end, not an error, after the writer's Dispose
        writer.WriteLine("exit");
        writer.AssertSuccess(StartUp);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void With_several_writers_the_reader_reads_on_after_one_detached_and_ends_after_the_last(bool messages)
    {
        const long Second = 1L << 32;
        using var run = new WriterRun(output, _sockets, "mpsc", messages, multipleWriters: true);
        var reader = run.Reader;
        var first = run.StartWriter(0, "dispose", "gated");
        var second = run.StartWriter(Second, "dispose", "gated");

        first.WriteLine("go");
        Assert.Equal(Enumerable.Range(0, Count).Select(i => (long)i), reader.ReadExactly(Count));
        first.WaitForOutput($"detached {Count}", StartUp);
        Assert.Null(reader.TryRead(Nothing)); // the second writer is attached: a wait that times out, no error

        second.WriteLine("go");
        Assert.Equal(Enumerable.Range(0, Count).Select(i => Second + i), reader.ReadExactly(Count));
        var error = Assert.Throws<PeerGoneException>(() => reader.TryRead(Long));
        Assert.Contains("disposed its end without completing", error.Message, StringComparison.Ordinal);
        Assert.False(first.HasExited);
        Assert.False(second.HasExited);
        first.WriteLine("exit");
        second.WriteLine("exit");
        first.AssertSuccess(StartUp);
        second.AssertSuccess(StartUp);
    }

    /// <summary>
    /// review28: the first writer process ends, detached (its mark stays in the ring: the writers
    /// never clear it) or killed (the reader's verdict "every writer process has exited" was
    /// sticky); a writer process handed the channel after it has not attached yet when the reader
    /// next waits, and that wait ended at once with PeerGoneException although the new writer ran.
    /// The second child receives (and attaches) only when told, after the reader's wait.
    /// </summary>
    [Theory]
    [InlineData(false, false, false)]
    [InlineData(true, false, false)]
    [InlineData(false, true, false)]
    [InlineData(true, true, false)]
    [InlineData(false, false, true)]
    [InlineData(true, false, true)]
    [InlineData(false, true, true)]
    [InlineData(true, true, true)]
    public void A_writer_process_handed_the_channel_after_one_that_ended_is_waited_for(bool messages, bool multipleWriters, bool killFirst)
    {
        const long Second = 1L << 32;
        using var run = new WriterRun(output, _sockets, "again", messages, multipleWriters);
        var reader = run.Reader;
        var first = run.StartWriter(0, "dispose", killFirst ? "gated" : "now");
        if (killFirst)
        {
            first.Kill(); // attached, nothing written: only its exit can end the reader's wait
            first.WaitForExit(StartUp);
            Assert.Contains("has exited", Assert.Throws<PeerGoneException>(() => reader.TryRead(Long)).Message, StringComparison.Ordinal);
        }
        else
        {
            Assert.Equal(Enumerable.Range(0, Count).Select(i => (long)i), reader.ReadExactly(Count));
            Assert.Contains("disposed its end", Assert.Throws<PeerGoneException>(() => reader.TryRead(Long)).Message, StringComparison.Ordinal);
            first.WriteLine("exit");
            first.AssertSuccess(StartUp); // exited: a single-writer channel may be handed over again
        }

        var second = run.StartWriter(Second, "complete", "late", waitFor: "connected");
        Assert.Null(reader.TryRead(Nothing)); // handed over, not attached yet: a wait that times out, no error
        second.WriteLine("go");
        Assert.Equal(Enumerable.Range(0, Count).Select(i => Second + i), reader.ReadExactly(Count));
        Assert.Null(reader.TryRead(Long)); // completed: the normal end
        Assert.True(reader.IsCompleted);
        second.WriteLine("exit");
        second.AssertSuccess(StartUp);
    }

    /// <summary>
    /// review29: a MultipleWriters writer process handed the channel is waited for from the
    /// handover on (channels.md), also when the writer attached before it detaches in the
    /// meantime: the count of attached writers fell to 0 with the detach mark set, and the
    /// drained reader's wait ended with PeerGoneException although the second writer, handed the
    /// channel before, had not attached yet. The second child receives (and attaches) only when told.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_writer_process_handed_the_channel_is_waited_for_when_the_attached_one_detaches_first(bool messages)
    {
        const long Second = 1L << 32;
        using var run = new WriterRun(output, _sockets, "pending", messages, multipleWriters: true);
        var reader = run.Reader;
        var first = run.StartWriter(0, "dispose", "gated");
        var second = run.StartWriter(Second, "complete", "late", waitFor: "connected"); // handed over, not attached yet

        first.WriteLine("go");
        Assert.Equal(Enumerable.Range(0, Count).Select(i => (long)i), reader.ReadExactly(Count));
        first.WaitForOutput($"detached {Count}", StartUp);
        Assert.Null(reader.TryRead(Nothing)); // the second writer has the channel: a wait that times out, no error

        second.WriteLine("go");
        Assert.Equal(Enumerable.Range(0, Count).Select(i => Second + i), reader.ReadExactly(Count));
        Assert.Null(reader.TryRead(Long)); // completed: the normal end
        Assert.True(reader.IsCompleted);
        first.WriteLine("exit");
        second.WriteLine("exit");
        first.AssertSuccess(StartUp);
        second.AssertSuccess(StartUp);
    }

    /// <summary>
    /// leads43: a MultipleWriters writer process SIGKILLed never takes its 1 off the ring's count of
    /// attached writers (uintripc.h 4b). Its reader must not be told that every writer has gone while
    /// another handed-over writer process lives (it reads that one's values), and, the stale count
    /// standing, takes no detach verdict from the other's Dispose (4b: it waits for the exits of
    /// the handed-over processes); once the last writer process is killed too, it learns it from
    /// their pidfds within one wait, not at its own timeout.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_killed_writer_process_ends_the_readers_wait_only_when_no_other_writer_process_lives(bool messages)
    {
        const long Second = 1L << 32;
        using var run = new WriterRun(output, _sockets, "killed", messages, multipleWriters: true);
        var reader = run.Reader;
        var first = run.StartWriter(0, "dispose", "gated"); // attached (counted), nothing written
        var second = run.StartWriter(Second, "dispose", "gated");

        first.Kill();
        first.WaitForExit(StartUp);
        Assert.Null(reader.TryRead(Nothing)); // the second writer lives: a wait that times out, no error

        second.WriteLine("go");
        Assert.Equal(Enumerable.Range(0, Count).Select(i => Second + i), reader.ReadExactly(Count));
        second.WaitForOutput($"detached {Count}", StartUp);
        Assert.Null(reader.TryRead(Nothing)); // the killed writer's 1 still counts: no detach verdict (4b)

        second.Kill();
        second.WaitForExit(StartUp);
        Assert.Contains("has exited", Assert.Throws<PeerGoneException>(() => reader.TryRead(Long)).Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// review28: a MultipleWriters channel object that writes itself and also hands the channel to
    /// a writer process: once that process had exited, its reader's wait on the drained ring ended
    /// with PeerGoneException ("has exited") although this object's own writer was attached.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_reader_whose_own_channel_object_writes_is_not_ended_by_the_exit_of_its_writer_processes(bool messages)
    {
        using var run = new WriterRun(output, _sockets, "local", messages, multipleWriters: true);
        var reader = run.Reader;
        var peer = run.StartWriter(0, "dispose", "gated");
        reader.Write(-1); // this object's writer, attached before the child writes
        peer.WriteLine("go");
        Assert.Equal(new long[] { -1 }.Concat(Enumerable.Range(0, Count).Select(i => (long)i)), reader.ReadExactly(Count + 1));
        peer.WaitForOutput($"detached {Count}", StartUp);
        peer.WriteLine("exit");
        peer.AssertSuccess(StartUp);

        Assert.Null(reader.TryRead(Nothing)); // our own writer is attached: a wait that times out, no error
        reader.Write(7);
        Assert.Equal(7, reader.TryRead(Long));
    }

    [Fact]
    public void A_duplex_peer_that_disposes_without_completing_its_requests_is_seen_by_the_answering_side()
    {
        string endpoint = _sockets.NewPath("duplex");
        using var server = BootstrapServer.Listen(endpoint);
        using var duplex = IpcChannel.CreateDuplex<long, long>(new IpcChannelOptions { Capacity = 8 });
        using var peer = PeerProcess.Start(output, "channel-write-detach", "duplex", endpoint, "0", Count.ToString(System.Globalization.CultureInfo.InvariantCulture), "dispose", "now");
        using (var connection = server.Accept(StartUp))
        {
            connection.SendChannel(duplex, StartUp);
        }

        var requests = duplex.Requests.Reader;
        var responses = duplex.Responses.Writer;
        for (long i = 0; i < Count; i++)
        {
            Assert.True(requests.TryRead(out long request, Long), $"request {i}: none within {Long}");
            Assert.Equal(i, request);
            Assert.True(responses.TryWrite((2 * request) + 1, Long));
        }

        var error = Assert.Throws<PeerGoneException>(() => requests.TryRead(out _, Long));
        Assert.Contains("disposed its end without completing", error.Message, StringComparison.Ordinal);
        Assert.False(peer.HasExited);
        peer.WriteLine("exit");
        peer.AssertSuccess(StartUp);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void In_one_process_a_reader_sees_its_channel_objects_writer_disposed_and_a_new_writer_clears_it(bool complete)
    {
        using var channel = IpcChannel.CreateBounded<long>(new IpcChannelOptions { Capacity = 8, MultipleWriters = true, Doorbell = DoorbellKind.Futex });
        using var other = IpcChannel.AttachWriter<long>(channel.Region.FileHandle, null); // a second channel object of the region: a second writer
        var reader = channel.Reader;
        var writer = channel.Writer;
        Assert.True(writer.TryWrite(1));
        writer.Dispose();
        Assert.True(reader.TryRead(out long value, Long));
        Assert.Equal(1, value);
        Assert.False(reader.TryRead(out _, Nothing)); // the other writer object is attached: only a wait that times out

        var last = other.Writer;
        Assert.True(last.TryWrite(2));
        if (complete)
        {
            last.Complete();
        }

        last.Dispose();
        Assert.True(reader.TryRead(out value, Long));
        Assert.Equal(2, value);
        if (complete)
        {
            Assert.False(reader.TryRead(out _, Long)); // the normal end
            Assert.True(reader.IsCompleted);
        }
        else
        {
            Assert.Throws<PeerGoneException>(() => reader.TryRead(out _, Long));
        }
    }

    /// <summary>
    /// A case's frame: a bootstrap server of its own, this process's reader end and the writer
    /// processes started on it; Dispose ends the writers first (killed if still running), then the
    /// reader end and the server.
    /// </summary>
    private sealed class WriterRun : IDisposable
    {
        private readonly ITestOutputHelper _output;
        private readonly string _endpoint;
        private readonly bool _messages;
        private readonly BootstrapServer _server;
        private readonly List<PeerProcess> _writers = [];

        internal WriterRun(ITestOutputHelper output, SocketNames sockets, string name, bool messages, bool multipleWriters)
        {
            (_output, _messages, _endpoint) = (output, messages, sockets.NewPath(name));
            _server = BootstrapServer.Listen(_endpoint);
            Reader = ReaderEnd.Create(messages, multipleWriters);
        }

        internal ReaderEnd Reader { get; }

        /// <summary>
        /// Starts a writer process, hands it the channel and waits for its <paramref name="waitFor"/>
        /// line: "received" (its writer is attached), or "connected" for a child started "late".
        /// </summary>
        internal PeerProcess StartWriter(long first, string end, string start, string waitFor = "received")
        {
            var peer = PeerProcess.Start(_output, "channel-write-detach", _messages ? "message" : "slot", _endpoint, first.ToString(System.Globalization.CultureInfo.InvariantCulture),
                Count.ToString(System.Globalization.CultureInfo.InvariantCulture), end, start);
            _writers.Add(peer);
            using (var connection = _server.Accept(StartUp))
            {
                Reader.SendTo(connection);
            }

            peer.WaitForOutput(waitFor, StartUp);
            return peer;
        }

        public void Dispose()
        {
            for (int i = _writers.Count - 1; i >= 0; i--)
            {
                _writers[i].Dispose();
            }

            Reader.Dispose();
            _server.Dispose();
        }
    }

    /// <summary>This process's end: a slot channel of long or a message channel carrying a long in 8 bytes, and its reader.</summary>
    private sealed class ReaderEnd : IDisposable
    {
        private readonly IpcChannel<long>? _slots;
        private readonly IpcMessageChannel? _messages;

        private ReaderEnd(IpcChannel<long>? slots, IpcMessageChannel? messages) => (_slots, _messages) = (slots, messages);

        internal bool IsCompleted => _slots?.Reader.IsCompleted ?? _messages!.Reader.IsCompleted;

        internal static ReaderEnd Create(bool messages, bool multipleWriters)
        {
            // A small ring, so that the writer waits for the reader several times over; futex: async reads work.
            var options = new IpcChannelOptions { Capacity = 8, BufferSize = 1024, MultipleWriters = multipleWriters, Doorbell = DoorbellKind.Futex };
            return messages ? new(null, IpcChannel.CreateMessages(options)) : new(IpcChannel.CreateBounded<long>(options), null);
        }

        internal void SendTo(BootstrapConnection connection)
        {
            if (_slots is not null)
            {
                connection.SendChannel(_slots);
            }
            else
            {
                connection.SendChannel(_messages!);
            }
        }

        /// <summary>Writes <paramref name="value"/> with this object's own writer (created on first use).</summary>
        internal void Write(long value)
        {
            bool written = _slots is not null ? _slots.Writer.TryWrite(value, Long) : _messages!.Writer.TryWrite(1, BitConverter.GetBytes(value), Long);
            Assert.True(written, $"{value}: not written within {Long}");
        }

        /// <summary>The next value, or null when none came within <paramref name="timeout"/>.</summary>
        internal long? TryRead(TimeSpan timeout)
        {
            if (_slots is not null)
            {
                return _slots.Reader.TryRead(out long value, timeout) ? value : null;
            }

            byte[] buffer = new byte[8];
            return _messages!.Reader.TryRead(out _, buffer, out int length, timeout) ? ValueOf(buffer.AsSpan(0, length)) : null;
        }

        internal long[] ReadExactly(int count)
            => [.. Enumerable.Range(0, count).Select(_ => TryRead(Long) ?? throw new TimeoutException($"no value within {Long}"))];

        /// <summary>
        /// Reads every value into <paramref name="values"/> until the channel ends (returns) or a
        /// wait fails (throws); each wait is bounded by <see cref="Long"/> from the last value
        /// (then TimeoutException or OperationCanceledException: the wait did not end by itself).
        /// </summary>
        internal Task ReadToEndAsync(ReadWay way, List<long> values)
            => _slots is not null ? ReadToEndAsync(_slots.Reader, way, values, static v => v, this) : ReadToEndAsync(_messages!.Reader, way, values, static m => ValueOf(m.Payload.Span), this);

        public void Dispose()
        {
            _slots?.Dispose();
            _messages?.Dispose();
        }

        private static long ValueOf(ReadOnlySpan<byte> payload) => payload.Length == 8 ? BitConverter.ToInt64(payload) : throw new InvalidDataException($"a message of {payload.Length} bytes");

        private static async Task ReadToEndAsync<T>(ChannelReader<T> reader, ReadWay way, List<long> values, Func<T, long> valueOf, ReaderEnd end)
        {
            using var bound = new CancellationTokenSource(Long);
            switch (way)
            {
                case ReadWay.Sync:
                    while (end.TryRead(Long) is { } value)
                    {
                        values.Add(value);
                    }

                    if (!end.IsCompleted)
                    {
                        throw new TimeoutException($"no value within {Long}, and the channel did not end");
                    }

                    break;
                case ReadWay.WaitToReadAsync:
                    while (await reader.WaitToReadAsync(bound.Token))
                    {
                        while (reader.TryRead(out T? item))
                        {
                            values.Add(valueOf(item!));
                            bound.CancelAfter(Long);
                        }
                    }

                    break;
                case ReadWay.ReadAsync:
                    while (true)
                    {
                        T item;
                        try
                        {
                            item = await reader.ReadAsync(bound.Token);
                        }
                        catch (ChannelClosedException closed) when (closed is not PeerGoneException)
                        {
                            break; // the normal end (PeerGoneException is a ChannelClosedException too: it must reach the test)
                        }

                        values.Add(valueOf(item));
                        bound.CancelAfter(Long);
                    }

                    break;
                default:
                    await foreach (T item in reader.ReadAllAsync(bound.Token))
                    {
                        values.Add(valueOf(item));
                        bound.CancelAfter(Long);
                    }

                    break;
            }
        }
    }
}
