using UintrIpc.Memory;
using UintrIpc.Rings;
using UintrIpc.Tests.Infrastructure;

namespace UintrIpc.Tests.Rings.CrossProcess;

/// <summary>
/// An ordinary Dispose of a producer's ring object while one of its claims is open (a batch, a
/// single in-place claim) never stalls the consumer nor leaves bytes it misreads: the producer,
/// a child process that lives on (so its pid never says it died), writes three messages, opens a
/// claim, fills it, disposes the ring object; the consumer here gets exactly the three committed
/// messages and then what a new producer writes, nothing of the open claim, within a bounded
/// time from its last progress (calling TrySkipDeadClaim when nothing is readable, as a channel
/// consumer does before it parks).
/// </summary>
[Collection(CrossProcessCollection.Name)]
public sealed class DisposeOpenClaimTests(ITestOutputHelper output) : IDisposable
{
    private const int Capacity = 1024;
    private static readonly TimeSpan ProgressTimeout = TimeSpan.FromSeconds(20);
    private readonly ShmNames _names = new();
    private readonly List<PeerProcess> _peers = [];

    [Theory]
    [InlineData("record-batch", true)]
    [InlineData("record-run", true)]
    [InlineData("record-batch-empty", true)]
    [InlineData("record-claim", true)]
    [InlineData("slot-claim", true)]
    [InlineData("slot-batch", true)]
    [InlineData("record-batch", false)]
    [InlineData("record-run", false)]
    [InlineData("record-claim", false)]
    [InlineData("slot-claim", false)]
    [InlineData("slot-batch", false)]
    public void The_consumer_gets_every_committed_message_past_a_claim_left_open_at_dispose(string kind, bool multipleProducers)
        => EveryCommittedMessageArrives(kind, multipleProducers, die: false);

    /// <summary>
    /// The producer is killed with its claim open instead (no Dispose, no finalizer): an MPSC claim
    /// is a dead producer's; an SPSC claim's bytes beyond the tail are the next producer's to clear.
    /// </summary>
    [Theory]
    [InlineData("record-batch", true)]
    [InlineData("record-run", true)]
    [InlineData("record-claim", true)]
    [InlineData("record-batch", false)]
    [InlineData("record-run", false)]
    [InlineData("record-claim", false)]
    [InlineData("slot-batch", false)]
    public void The_consumer_gets_every_committed_message_past_a_claim_left_open_by_a_killed_producer(string kind, bool multipleProducers)
        => EveryCommittedMessageArrives(kind, multipleProducers, die: true);

    private void EveryCommittedMessageArrives(string kind, bool multipleProducers, bool die)
    {
        bool records = kind.StartsWith("record", StringComparison.Ordinal);
        string name = _names.New("dispopen");
        using var region = SharedRegion.CreateNamed(name, 0,
            records ? RecordRing.Part(Capacity, multipleProducers: multipleProducers) : SlotRing<long>.Part(16, multipleProducers));
        using var recordConsumer = records ? new RecordRing(region) : null;
        using var slotConsumer = records ? null : new SlotRing<long>(region);
        Func<long?> read = records ? () => LongMessages.TryRead(recordConsumer!) : () => slotConsumer!.TryRead(out long v) ? v : null;
        Func<bool> skip = records ? recordConsumer!.TrySkipDeadClaim : slotConsumer!.TrySkipDeadClaim;

        var producer = die ? Start("ring-dispose-open", name, kind, "die") : Start("ring-dispose-open", name, kind);
        producer.WaitForOutput(die ? "open" : "disposed");
        if (die)
        {
            producer.Kill();
        }

        // A new producer (SPSC: the next one, now that the first is gone) writes one message at a
        // time, and the consumer reads each before the next is written: it polls the bytes after
        // each one while nothing else is there.
        using var recordProducer = records ? new RecordRing(region) : null;
        using var slotProducer = records ? null : new SlotRing<long>(region);
        var got = new List<long>();
        for (long value = 0; value < 3; value++)
        {
            got.Add(LongMessages.ReadWithin(read, skip, ProgressTimeout));
        }

        for (long value = 10; value < 13; value++)
        {
            Assert.True(records ? recordProducer!.TryWrite(1, LongMessages.Bytes(value)) : slotProducer!.TryWrite(value), $"no room for {value}");
            got.Add(LongMessages.ReadWithin(read, skip, ProgressTimeout));
            Assert.Null(read()); // nothing more: no bytes of the open claim are read as a message
        }

        Assert.Equal([0L, 1L, 2L, 10L, 11L, 12L], got);
        if (!die)
        {
            Assert.False(producer.HasExited, "the producer exited: its Dispose is not what was tested");
            producer.WriteLine("exit");
            producer.AssertSuccess();
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var peer in _peers)
        {
            peer.Dispose();
        }

        _names.Dispose();
    }

    private PeerProcess Start(string command, params string[] args)
    {
        var peer = PeerProcess.Start(output, command, args);
        _peers.Add(peer);
        return peer;
    }
}
