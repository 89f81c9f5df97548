using UintrIpc.Channels;
using UintrIpc.Tests.Infrastructure;

namespace UintrIpc.Tests.Channels;

/// <summary>
/// A writer of a named channel waiting for room, whose reader process was killed: while the
/// channel's creator lives a reader may open the name again and read on, so a free reader role
/// is no verdict (the still heartbeat decides after the peer timeout, KillTests). When the reader
/// was the creator (a service that creates its inbox and reads it), nobody can come back to this
/// region: OpenNamed refuses it, and the restarted service makes a new region under the name. The
/// writer used to wait out its peer timeout (5 s by default) for nothing; now it is told at once
/// (uintripc.h section 4, design-notes user43). Real processes (TestPeer named-create, named-read).
/// </summary>
[Collection(CrossProcessCollection.Name)]
public sealed class CreatorGoneWriterTests(ITestOutputHelper output) : IDisposable
{
    private static readonly TimeSpan StartUp = TimeSpan.FromSeconds(180); // a child's start-up on a loaded machine
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(30);
    private static readonly IpcChannelOptions NoHeartbeatVerdict = new() { PeerTimeout = TimeSpan.FromSeconds(60) };
    private readonly ShmNames _names = new();

    public void Dispose() => _names.Dispose();

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_writer_waiting_for_room_is_told_at_once_when_the_reader_that_created_the_channel_was_killed(bool messages)
    {
        string name = _names.New("creatorgone");
        using var creator = PeerProcess.Start(output, "named-create", Kind(messages), name, "read");
        creator.WaitForOutput("created", StartUp);
        using var writer = new Writer(messages, name);
        long next = writer.Fill();

        creator.Kill();
        Assert.NotEqual(0, creator.WaitForExit(StartUp));

        var gone = Assert.Throws<PeerGoneException>(() => writer.TryWrite(next, Long));
        Assert.Contains("and so has the channel's creator", gone.Message, StringComparison.Ordinal);
        Assert.Contains("open the name again once its creator runs", gone.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_killed_reader_whose_creator_lives_is_still_waited_for(bool messages)
    {
        string name = _names.New("creatorlives");
        using var creator = PeerProcess.Start(output, "named-create", Kind(messages), name);
        creator.WaitForOutput("created", StartUp);
        using var reader = PeerProcess.Start(output, "named-read", Kind(messages), name);
        reader.WaitForOutput("reading", StartUp);
        using var writer = new Writer(messages, name);
        long next = writer.Fill();

        reader.Kill();
        Assert.NotEqual(0, reader.WaitForExit(StartUp));

        // A restarted reader could open the name and read on: no verdict, the write times out.
        Assert.False(writer.TryWrite(next, TimeSpan.FromSeconds(1)));
        creator.WriteLine("done");
        creator.AssertSuccess(StartUp);
    }

    /// <summary>
    /// A process that opened the name while the creator lived may take the reader role after the
    /// creator has gone (it opened the channel object first and makes its Reader later): both locks
    /// free is no verdict while no reader was ever seen. It used to be PeerGoneException at once
    /// (review31), and the reader then read what the writer had been told nobody would.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_reader_made_after_the_creator_left_by_a_process_that_opened_the_name_before_is_waited_for(bool messages)
    {
        string name = _names.New("latereader");
        using var creator = PeerProcess.Start(output, "named-create", Kind(messages), name);
        creator.WaitForOutput("created", StartUp);
        using var late = PeerProcess.Start(output, "named-read-all", Kind(messages), name, "wait");
        late.WaitForOutput("opened", StartUp);
        using var writer = new Writer(messages, name);
        long next = writer.Fill();

        creator.WriteLine("done"); // its channel object disposed: the creator lock is free, the name removed
        creator.AssertSuccess(StartUp);

        Assert.False(writer.TryWrite(next, TimeSpan.FromSeconds(1))); // no verdict: the write times out
        late.WriteLine("go");
        Assert.True(writer.TryWrite(next, Long), "the late reader did not make room");
        Assert.True(writer.TryComplete());
        late.WaitForOutput($"read {next + 1} in order True completed True", Long);
        late.AssertSuccess(StartUp);
    }

    private static string Kind(bool messages) => messages ? "message" : "slot";

    /// <summary>This process's writer of the named channel, opened with a peer timeout no test waits for.</summary>
    private sealed class Writer(bool messages, string name) : IDisposable
    {
        private readonly IpcChannel<long>? _slots = messages ? null : IpcChannel.OpenNamed<long>(name, NoHeartbeatVerdict);
        private readonly IpcMessageChannel? _messages = messages ? IpcChannel.OpenNamedMessages(name, NoHeartbeatVerdict) : null;

        /// <summary>Writes 0, 1, 2, ... until the ring is full; returns the next value.</summary>
        internal long Fill()
        {
            long next = 0;
            while (TryWrite(next, TimeSpan.Zero))
            {
                next++;
            }

            Assert.True(next > 0, "nothing could be written");
            return next;
        }

        internal bool TryComplete() => _slots is not null ? _slots.Writer.TryComplete() : _messages!.Writer.TryComplete();

        internal bool TryWrite(long value, TimeSpan timeout)
            => _slots is not null ? _slots.Writer.TryWrite(value, timeout) : _messages!.Writer.TryWrite(1, BitConverter.GetBytes(value), timeout);

        public void Dispose()
        {
            _slots?.Dispose();
            _messages?.Dispose();
        }
    }
}
