using Tmds.Linux;
using UintrIpc.Bootstrap;
using UintrIpc.Channels;
using UintrIpc.Memory;
using UintrIpc.Tests.Bootstrap;
using UintrIpc.Tests.Infrastructure;

namespace UintrIpc.Tests.Channels;

/// <summary>
/// A named channel's processes know each other through the role locks of its file (uintripc.h
/// 1f, OFD locks the kernel drops with the process): a second writer process of a single-writer
/// channel, or a second reader, is refused before it touches the ring and may take the role once
/// the holder has disposed its channel, exited or been killed; a channel whose creator was killed
/// is not opened, and its name is taken over by the next creator; a reader's wait ends with
/// PeerGoneException once the writer process has gone. The other processes are real
/// (UintrIpc.TestPeer, Commands/NamedRoleCommands.cs); the creator and reader are this one.
/// </summary>
[Collection(CrossProcessCollection.Name)]
public sealed class NamedChannelRoleTests(ITestOutputHelper output) : IDisposable
{
    private static readonly TimeSpan StartUp = TimeSpan.FromSeconds(180); // a child's start-up on a loaded machine
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan Nothing = TimeSpan.FromMilliseconds(200);
    private readonly ShmNames _names = new();
    private readonly SocketNames _sockets = new();

    public void Dispose()
    {
        _sockets.Dispose();
        _names.Dispose();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_second_writer_process_of_a_single_writer_named_channel_is_refused_until_the_first_has_gone(bool messages)
    {
        string kind = messages ? "message" : "slot";
        string name = _names.New("role");
        using var channel = NamedChannel.Create(messages, name, multipleWriters: false);
        channel.CreateReader();

        using var first = PeerProcess.Start(output, "named-write", kind, name, "0", "3", "stay");
        first.WaitForOutput("wrote 3", StartUp);
        using (var second = PeerProcess.Start(output, "named-write", kind, name, "100", "3", "stay"))
        {
            Assert.Equal(5, second.WaitForExit(StartUp));
            Assert.Contains("refused: ", second.StandardOutput, StringComparison.Ordinal);
            Assert.Contains("MultipleWriters", second.StandardOutput, StringComparison.Ordinal);
        }

        // Nor may this process write while the first writer process has the role.
        var refused = Assert.Throws<InvalidOperationException>(channel.CreateWriter);
        Assert.Contains("MultipleWriters", refused.Message, StringComparison.Ordinal);

        // The refused writer wrote nothing.
        Assert.Equal(new long[] { 0, 1, 2 }, channel.ReadExactly(3));
        Assert.Null(channel.TryRead(Nothing));

        // Disposed: the role is free.
        first.WriteLine("done");
        first.AssertSuccess(StartUp);
        using (var next = PeerProcess.Start(output, "named-write", kind, name, "10", "2", "exit"))
        {
            next.AssertSuccess(StartUp); // exits without disposing: the kernel drops its lock
        }

        Assert.Equal(new long[] { 10, 11 }, channel.ReadExactly(2));

        // Killed while holding it: free as well.
        using (var killed = PeerProcess.Start(output, "named-write", kind, name, "20", "1", "stay"))
        {
            killed.WaitForOutput("wrote 1", StartUp);
            killed.Kill();
        }

        using (var last = PeerProcess.Start(output, "named-write", kind, name, "30", "1", "exit"))
        {
            last.AssertSuccess(StartUp);
        }

        Assert.Equal(new long[] { 20, 30 }, channel.ReadExactly(2));
        Assert.Throws<PeerGoneException>(() => channel.TryRead(Long)); // drained, and no writer holds the role
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_named_channel_has_one_reader_process_at_a_time(bool messages)
    {
        string kind = messages ? "message" : "slot";
        string name = _names.New("role");
        using var channel = NamedChannel.Create(messages, name, multipleWriters: true); // readers are one with any writers

        using (var reader = PeerProcess.Start(output, "named-read", kind, name))
        {
            reader.WaitForOutput("reading", StartUp);
            var refused = Assert.Throws<InvalidOperationException>(channel.CreateReader);
            Assert.Contains("reader role", refused.Message, StringComparison.Ordinal);
            reader.WriteLine("done");
            reader.AssertSuccess(StartUp);
        }

        channel.CreateReader(); // the child disposed its reader: the role is free
        using var second = PeerProcess.Start(output, "named-read", kind, name);
        Assert.Equal(5, second.WaitForExit(StartUp));
        Assert.Contains("refused: ", second.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("reader role", second.StandardOutput, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Every_writer_process_of_a_multiple_writer_named_channel_may_write(bool messages)
    {
        string kind = messages ? "message" : "slot";
        string name = _names.New("role");
        using var channel = NamedChannel.Create(messages, name, multipleWriters: true);
        channel.CreateReader();
        using var a = PeerProcess.Start(output, "named-write", kind, name, "0", "3", "stay");
        using var b = PeerProcess.Start(output, "named-write", kind, name, "100", "3", "stay");
        a.WaitForOutput("wrote 3", StartUp);
        b.WaitForOutput("wrote 3", StartUp);
        channel.CreateWriter(); // and one here
        Assert.Equal(new long[] { 0, 1, 2, 100, 101, 102 }, channel.ReadExactly(6).Order());
        a.WriteLine("done");
        b.WriteLine("done");
        a.AssertSuccess(StartUp);
        b.AssertSuccess(StartUp);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_killed_creators_channel_is_not_opened_and_its_name_goes_to_the_next_creator(bool messages)
    {
        string kind = messages ? "message" : "slot";
        string name = _names.New("role");
        string path = Path.Combine(SharedRegion.SharedMemoryDirectory, name);
        using (var creator = PeerProcess.Start(output, "named-create", kind, name))
        {
            creator.WaitForOutput("created", StartUp);
            creator.Kill();
        }

        Assert.True(File.Exists(path)); // left behind
        var dead = Assert.Throws<UintrIpcException>(() => NamedChannel.Open(messages, name).Dispose());
        Assert.Contains("creator is gone", dead.Message, StringComparison.Ordinal);

        // Created again over the file the dead creator left, and usable by another process.
        using var channel = NamedChannel.Create(messages, name, multipleWriters: false);
        channel.CreateReader();
        using (var writer = PeerProcess.Start(output, "named-write", kind, name, "7", "2", "exit"))
        {
            writer.AssertSuccess(StartUp);
        }

        Assert.Equal(new long[] { 7, 8 }, channel.ReadExactly(2));
    }

    [Fact]
    public void A_named_multiple_writer_channel_waits_on_after_every_writer_was_disposed_without_completing()
    {
        // An inbox: clients open it by name, write and dispose; none may Complete a channel the
        // others share, and a moment with no client is no end (review28). Each client leaves the
        // detach mark (uintripc.h 4b) with no writer attached.
        string name = _names.New("inbox");
        using var inbox = IpcChannel.CreateBounded<long>(new IpcChannelOptions { Name = name, Capacity = 8, MultipleWriters = true, Doorbell = DoorbellKind.Futex });
        for (long client = 1; client <= 3; client++)
        {
            using (var opened = IpcChannel.OpenNamed<long>(name))
            {
                Assert.True(opened.Writer.TryWrite(client));
            }

            Assert.True(inbox.Reader.TryRead(out long value, Long));
            Assert.Equal(client, value);
            Assert.False(inbox.Reader.TryRead(out _, Nothing)); // its timeout, not PeerGoneException
        }
    }

    [Fact]
    public void A_name_whose_creator_lives_or_that_is_no_region_of_ours_is_never_replaced()
    {
        string name = _names.New("role");
        using var live = IpcChannel.CreateBounded<long>(new IpcChannelOptions { Name = name, Capacity = 8 });
        var e = Assert.Throws<UintrIpcException>(() => IpcChannel.CreateBounded<long>(new IpcChannelOptions { Name = name, Capacity = 8 }));
        Assert.Equal(LibC.EEXIST, e.Errno);
        Assert.Contains("creator is still running", e.Message, StringComparison.Ordinal);
        using (var opened = IpcChannel.OpenNamed<long>(name))
        {
            Assert.Equal(live.Region.Epoch, opened.Region.Epoch); // untouched
        }

        string other = _names.New("role");
        string path = Path.Combine(SharedRegion.SharedMemoryDirectory, other);
        byte[] foreign = [1, 2, 3, 4, 5, 6, 7, 8];
        File.WriteAllBytes(path, foreign);
        var notOurs = Assert.Throws<UintrIpcException>(() => IpcChannel.CreateBounded<long>(new IpcChannelOptions { Name = other, Capacity = 8 }));
        Assert.Equal(LibC.EEXIST, notOurs.Errno);
        Assert.Contains($"delete {path}", notOurs.Message, StringComparison.Ordinal);
        Assert.Equal(foreign, File.ReadAllBytes(path));
    }

    /// <summary>
    /// Four threads create one stale name at once, round after round (each round's winner
    /// disposes its region without removing the name, which leaves it stale for the next): the
    /// creator lock taken before the unlink lets exactly one of them have it, the others get EEXIST.
    /// </summary>
    [Fact]
    public void Creators_racing_for_a_stale_name_get_it_exactly_once()
    {
        const int Rounds = 60, Threads = 4;
        string name = _names.New("race");
        PartSpec part = new(PartKind.Arena, 0, 4096);
        SharedRegion.CreateNamed(name, 0, part).Dispose(); // stale: no creator lock
        var winners = new List<int>();
        using var barrier = new Barrier(Threads);
        for (int round = 0; round < Rounds; round++)
        {
            var results = new SharedRegion?[Threads];
            var errors = new Exception?[Threads];
            var threads = Enumerable.Range(0, Threads).Select(i => new Thread(() =>
            {
                barrier.SignalAndWait(Long);
                try
                {
                    results[i] = SharedRegion.CreateNamed(name, 0, part);
                }
                catch (UintrIpcException ex) when (ex.Errno == LibC.EEXIST)
                {
                    // Lost the name: results[i] stays null.
                }
                catch (Exception ex)
                {
                    errors[i] = ex;
                }
            })).ToList();
            threads.ForEach(t => t.Start());
            threads.ForEach(t => Assert.True(t.Join(Long)));
            Assert.All(errors, Assert.Null);
            var won = results.Where(r => r is not null).ToList();
            winners.Add(won.Count);
            if (won.Count == 1)
            {
                using var opened = SharedRegion.OpenNamed(name);
                Assert.Equal(won[0]!.Epoch, opened.Epoch); // the name leads to the winner's region
            }

            won.ForEach(r => r!.Dispose());
        }

        Assert.Equal(Enumerable.Repeat(1, Rounds), winners);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_readers_wait_ends_with_PeerGoneException_once_the_writer_process_has_gone(bool messages)
    {
        string kind = messages ? "message" : "slot";
        string name = _names.New("role");
        using var channel = NamedChannel.Create(messages, name, multipleWriters: false);
        channel.CreateReader();
        Assert.Null(channel.TryRead(Nothing)); // no writer yet: nothing has gone

        using (var writer = PeerProcess.Start(output, "named-write", kind, name, "0", "3", "exit"))
        {
            writer.AssertSuccess(StartUp); // ends without completing or disposing
        }

        Assert.Equal(new long[] { 0, 1, 2 }, channel.ReadExactly(3)); // drained first
        var gone = Assert.Throws<PeerGoneException>(() => channel.TryRead(Long));
        Assert.Contains("writer role lock is free", gone.Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// A reader process that holds the reader role but does not run (SIGSTOP; in the field a
    /// starved thread pool stops its heartbeat's timer, design-notes user39) is alive to the
    /// writer: a write waiting for room ends at its own timeout, not with PeerGoneException after
    /// the 1 s peer timeout, and once resumed the reader reads every value in order.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_stopped_reader_process_that_holds_the_reader_role_is_waited_for_and_then_reads_everything(bool messages)
    {
        const long Total = 1000;
        string kind = messages ? "message" : "slot";
        string name = _names.New("role");
        using var channel = NamedChannel.Create(messages, name, multipleWriters: false, peerTimeout: TimeSpan.FromSeconds(1));
        channel.CreateWriter();
        using var reader = PeerProcess.Start(output, "named-read-all", kind, name);
        reader.WaitForOutput("reading", StartUp);
        StoppedReader.WriteAcrossStop(reader, channel.TryWrite, channel.TryWrite, Total, Long);
        channel.Complete();
        reader.AssertSuccess(StartUp);
        Assert.Contains($"read {Total} in order True completed True", reader.StandardOutput, StringComparison.Ordinal);
    }

    /// <summary>
    /// A named channel handed to a writer process over a bootstrap: the receiver shares this
    /// object's open file description and takes no lock of its own, so the handover takes the
    /// writer role for it: a process that opens the name is refused while it writes; and a
    /// handover is refused while another process holds the role.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_single_writer_named_channel_handed_over_a_bootstrap_has_one_writer(bool messages)
    {
        string kind = messages ? "message" : "slot";
        string endpoint = _sockets.NewPath("role");
        using var server = BootstrapServer.Listen(endpoint);
        using (var channel = NamedChannel.Create(messages, _names.New("role"), multipleWriters: false))
        {
            using var receiver = PeerProcess.Start(output, "named-receive-write", kind, endpoint, "0", "3");
            using (var connection = server.Accept(StartUp))
            {
                channel.Send(connection);
            }

            receiver.WaitForOutput("wrote 3", StartUp);
            using (var second = PeerProcess.Start(output, "named-write", kind, channel.Name, "100", "3", "exit"))
            {
                Assert.Equal(5, second.WaitForExit(StartUp));
                Assert.Contains("holds its writer role", second.StandardOutput, StringComparison.Ordinal);
            }

            receiver.WriteLine("done");
            receiver.AssertSuccess(StartUp);
            Assert.Equal(new long[] { 0, 1, 2 }, channel.ReadExactly(3));
            Assert.Null(channel.TryRead(Nothing)); // completed: nothing more
        }

        using (var channel = NamedChannel.Create(messages, _names.New("role"), multipleWriters: false))
        {
            using var holder = PeerProcess.Start(output, "named-write", kind, channel.Name, "0", "1", "stay");
            holder.WaitForOutput("wrote 1", StartUp);
            BootstrapConnection? client = null;
            Exception? failed = null;
            var connecting = new Thread(() => // its handshake waits for the accept
            {
                try
                {
                    client = BootstrapConnection.Connect(endpoint, StartUp);
                }
                catch (Exception e)
                {
                    failed = e;
                }
            });
            connecting.Start();
            using (var connection = server.Accept(StartUp))
            {
                Assert.True(connecting.Join(StartUp));
                Assert.Null(failed);
                using var connected = client;
                var refused = Assert.Throws<InvalidOperationException>(() => channel.Send(connection));
                Assert.Contains("holds its writer role", refused.Message, StringComparison.Ordinal);
            }

            holder.WriteLine("done");
            holder.AssertSuccess(StartUp);
            Assert.Equal(new long[] { 0 }, channel.ReadExactly(1));
        }
    }

    /// <summary>
    /// Two channel objects of one single-writer name in one process each have their own open
    /// file description, so their writers are refused as those of two processes are; the role
    /// goes to the other object once the holder is disposed.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Two_channel_objects_of_a_single_writer_name_in_one_process_have_one_writer(bool messages)
    {
        string name = _names.New("role");
        using var creator = NamedChannel.Create(messages, name, multipleWriters: false);
        creator.CreateReader();
        using (var first = NamedChannel.Open(messages, name))
        {
            using var second = NamedChannel.Open(messages, name);
            first.CreateWriter();
            Assert.Contains("holds its writer role", Assert.Throws<InvalidOperationException>(second.CreateWriter).Message, StringComparison.Ordinal);
            Assert.Contains("holds its writer role", Assert.Throws<InvalidOperationException>(creator.CreateWriter).Message, StringComparison.Ordinal);
            Assert.True(first.TryWrite(1));
        }

        using var next = NamedChannel.Open(messages, name);
        next.CreateWriter();
        Assert.True(next.TryWrite(2));
        Assert.Equal(new long[] { 1, 2 }, creator.ReadExactly(2));
    }

    /// <summary>A named slot or message channel of long values (a message carries one in 8 bytes), as this process sees it.</summary>
    private sealed class NamedChannel : IDisposable
    {
        private readonly IpcChannel<long>? _slots;
        private readonly IpcMessageChannel? _messages;

        private NamedChannel(IpcChannel<long>? slots, IpcMessageChannel? messages) => (_slots, _messages) = (slots, messages);

        internal string Name => (_slots is not null ? _slots.Name : _messages!.Name)!;

        /// <summary>Hands the channel to the peer of <paramref name="connection"/>, its writer.</summary>
        internal void Send(BootstrapConnection connection)
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

        internal static NamedChannel Create(bool messages, string name, bool multipleWriters, TimeSpan? peerTimeout = null)
        {
            var options = new IpcChannelOptions { Name = name, Capacity = 64, BufferSize = 4096, MultipleWriters = multipleWriters, Doorbell = DoorbellKind.Futex, PeerTimeout = peerTimeout ?? TimeSpan.FromSeconds(5) };
            return messages ? new(null, IpcChannel.CreateMessages(options)) : new(IpcChannel.CreateBounded<long>(options), null);
        }

        internal static NamedChannel Open(bool messages, string name)
            => messages ? new(null, IpcChannel.OpenNamedMessages(name)) : new(IpcChannel.OpenNamed<long>(name), null);

        internal void CreateReader() => _ = _slots is not null ? _slots.Reader : (object)_messages!.Reader;

        internal void CreateWriter() => _ = _slots is not null ? _slots.Writer : (object)_messages!.Writer;

        /// <summary>Writes <paramref name="value"/> if there is room now.</summary>
        internal bool TryWrite(long value) => _slots is not null ? _slots.Writer.TryWrite(value) : _messages!.Writer.TryWrite(1, BitConverter.GetBytes(value));

        /// <summary>Writes <paramref name="value"/>, waiting up to <paramref name="timeout"/> for room.</summary>
        internal bool TryWrite(long value, TimeSpan timeout)
            => _slots is not null ? _slots.Writer.TryWrite(value, timeout) : _messages!.Writer.TryWrite(1, BitConverter.GetBytes(value), timeout);

        internal void Complete() => Assert.True(_slots is not null ? _slots.Writer.TryComplete() : _messages!.Writer.TryComplete());

        /// <summary>The next value, or null when none came within <paramref name="timeout"/>.</summary>
        internal long? TryRead(TimeSpan timeout)
        {
            if (_slots is not null)
            {
                return _slots.Reader.TryRead(out long value, timeout) ? value : null;
            }

            byte[] buffer = new byte[8];
            return _messages!.Reader.TryRead(out _, buffer, out int length, timeout) ? (length == 8 ? BitConverter.ToInt64(buffer) : throw new InvalidDataException($"a message of {length} bytes")) : null;
        }

        internal long[] ReadExactly(int count)
            => [.. Enumerable.Range(0, count).Select(_ => TryRead(Long) ?? throw new TimeoutException($"no value within {Long}"))];

        public void Dispose()
        {
            _slots?.Dispose();
            _messages?.Dispose();
        }
    }
}
