using UintrIpc.Memory;
using UintrIpc.Rings;
using UintrIpc.Tests.Infrastructure;

namespace UintrIpc.Tests.Rings.CrossProcess;

/// <summary>
/// The producer table survives thread churn (uintripc.h 2f): one long-lived MPSC ring object is
/// written by more distinct threads over time than the table has entries (each thread writes one
/// message and exits, as thread-pool threads come and go); a producer process killed afterwards
/// inside its claim is still skipped by the consumer by itself, as with few threads. The exited
/// threads' registrations are ended when new threads register, so their entries do not pile up.
/// </summary>
[Collection(CrossProcessCollection.Name)]
public sealed class ProducerThreadChurnTests(ITestOutputHelper output) : IDisposable
{
    /// <summary>More than the 64 entries of a default producer table.</summary>
    private const int Threads = 100;
    private static readonly TimeSpan ProgressTimeout = TimeSpan.FromSeconds(20);
    private readonly ShmNames _names = new();
    private readonly List<PeerProcess> _peers = [];

    [Theory]
    [InlineData("slot-claim")]
    [InlineData("record-batch")]
    public void A_killed_producers_claim_is_skipped_after_more_threads_than_entries_wrote_through_one_ring_object(string kind)
    {
        bool records = kind.StartsWith("record", StringComparison.Ordinal);
        string name = _names.New("churn");
        using var region = SharedRegion.CreateNamed(name, 0,
            records ? RecordRing.Part(8192, multipleProducers: true) : SlotRing<long>.Part(256, multipleProducers: true));
        var memory = RingMemory.Of(region, records ? PartKind.MpscRecords : PartKind.MpscSlots);
        using var recordConsumer = records ? new RecordRing(region) : null;
        using var slotConsumer = records ? null : new SlotRing<long>(region);
        Func<long?> read = records ? () => LongMessages.TryRead(recordConsumer!) : () => slotConsumer!.TryRead(out long v) ? v : null;
        Func<bool> skip = records ? recordConsumer!.TrySkipDeadClaim : slotConsumer!.TrySkipDeadClaim;

        using var recordProducer = records ? new RecordRing(region) : null;
        using var slotProducer = records ? null : new SlotRing<long>(region);
        Func<long, bool> write = records ? value => recordProducer!.TryWrite(1, LongMessages.Bytes(value)) : value => slotProducer!.TryWrite(value);

        // Each thread writes one message and exits; its Thread object is kept, so no two share a
        // managed thread id (ids of collected threads are reused).
        var exited = new List<Thread>();
        for (int i = 0; i < Threads; i++)
        {
            long value = 1000 + i;
            bool written = false;
            var thread = new Thread(() => written = write(value));
            thread.Start();
            Assert.True(thread.Join(ProgressTimeout), $"thread {i} did not finish");
            Assert.True(written, $"thread {i} found no room");
            exited.Add(thread);
            Assert.Equal(value, read());
        }

        Assert.Null(read());
        Assert.Equal(0u, memory.ControlWord(RingLayout.UnregisteredOffset)); // every thread had an entry
        Assert.Equal(1, EntriesOf(memory, Environment.ProcessId)); // the last thread's: the others were ended as new ones registered

        // A producer process writes 0, 1, 2, opens a claim (slot: unmarked, judged by its intent;
        // records: two marked records and an unwritten rest) and is killed with it open.
        var victim = Start("ring-dispose-open", name, kind, "die");
        victim.WaitForOutput("open");
        victim.Kill();
        var got = new List<long>();
        for (int i = 0; i < 3; i++)
        {
            got.Add(LongMessages.ReadWithin(read, skip, ProgressTimeout));
        }

        // The consumer skips the dead claim by itself, then a new thread of the long-lived object gets through.
        long last = 0;
        var writer = new Thread(() => last = write(7) ? 7 : -1);
        writer.Start();
        Assert.True(writer.Join(ProgressTimeout));
        Assert.Equal(7, last);
        got.Add(LongMessages.ReadWithin(read, skip, ProgressTimeout));
        Assert.Equal([0L, 1L, 2L, 7L], got);
        Assert.Null(read());
        GC.KeepAlive(exited);
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

    /// <summary>Entries of the producer table registered by <paramref name="pid"/> (owner's low 32 bits).</summary>
    private static int EntriesOf(RingMemory memory, int pid)
    {
        int count = 0;
        for (int entry = 0; entry < RingLayout.DefaultProducerSlots; entry++)
        {
            if ((uint)memory.ProducerWord(entry, RingLayout.ProducerOwnerOffset) == (uint)pid)
            {
                count++;
            }
        }

        return count;
    }

    private PeerProcess Start(string command, params string[] args)
    {
        var peer = PeerProcess.Start(output, command, args);
        _peers.Add(peer);
        return peer;
    }
}
