using System.Buffers.Binary;
using System.Globalization;
using UintrIpc.Memory;
using UintrIpc.Rings;
using UintrIpc.Tests.Infrastructure;

namespace UintrIpc.Tests.Rings.CrossProcess;

/// <summary>
/// MPSC record rings, intents that outlive their claim attempt (uintripc.h 2e, 2f). A producer
/// killed between its claim CAS and its claimed header leaves only its intent to attribute the
/// claim; a live producer whose CAS lost the race for that position must not keep covering it
/// while it polls the full ring, or the consumer never skips the dead claim. And a producer whose
/// batch is open must keep covering the batch's unwritten start while it polls a full ring, or a
/// dead producer's stale intent there would make the consumer skip a live batch; nor may a write
/// through the same ring object while the batch is open uncover it (the batch's start is marked).
/// </summary>
/// <remarks>
/// The race is made deterministic with <see cref="IClaimProbe"/>: the live producer's claim stops
/// between its intent store and its CAS (in this process) while a child process claims the same
/// position through the library's own claim and stops (to be killed) where the scenario needs it.
/// </remarks>
[Collection(CrossProcessCollection.Name)]
public sealed class RecordStaleIntentTests(ITestOutputHelper output) : IDisposable
{
    private const int Capacity = 4096;
    private const int RecordLength = 32; // header 8 + payload 24, aligned
    private const int Payload = RecordLength - 8;
    /// <summary>Bounds on a wait: rounds of 1 ms since the last progress.</summary>
    private const int Rounds = 500;
    private static readonly TimeSpan ProgressTimeout = TimeSpan.FromSeconds(60);
    [ThreadStatic]
    private static Action<long>? t_beforeCas;
    private readonly ShmNames _names = new();
    private readonly List<PeerProcess> _peers = [];

    [Theory]
    [InlineData("single")]
    [InlineData("batch")]
    public void A_dead_producers_headerless_claim_is_skipped_while_a_live_producer_that_lost_the_race_for_it_polls_the_full_ring(string claim)
    {
        string name = _names.New("recloser");
        using var region = SharedRegion.CreateNamed(name, 0, RecordRing.Part(Capacity, multipleProducers: true));
        using var consumer = new RecordRing(region);
        using var loser = new RecordRingEngine(region, region.Parts[0], PartKind.MpscRecords, lease: true);
        using var filler = new RecordRing(region);
        int victimBytes = claim == "single" ? RecordLength : 3 * RecordLength;
        int filled = (Capacity - victimBytes) / RecordLength;
        PeerProcess? victim = null;

        // The loser read tail 0 and stored its intent (0, 32); before its CAS, the victim claims
        // position 0 (single: the library's record claim, stopped between its CAS and its claimed
        // header; batch: a batch claim with nothing appended, whose first header holds the batch's
        // start marker since uintripc.h 2e marks it, so that variant no longer needs the intents),
        // and a filler takes the rest of the ring. The loser's CAS fails, and it finds the ring full.
        t_beforeCas = tail =>
        {
            t_beforeCas = null;
            Assert.Equal(0, tail);
            victim = claim == "single"
                ? Start("record-claim-stops", name, "after-cas", RecordLength.ToString(CultureInfo.InvariantCulture))
                : Start("record-batch-claim-and-hold", name, victimBytes.ToString(CultureInfo.InvariantCulture));
            victim.WaitForOutput("claimed 0");
            for (int i = 0; i < filled; i++)
            {
                Assert.True(filler.TryWrite(3, Message(3, i)), $"filler record {i} did not fit");
            }

            Assert.False(filler.TryWrite(3, Message(3, filled)), "the ring is not full");
        };
        Assert.Equal(-1, loser.TryClaimMpsc<BeforeCasProbe>(RecordLength)); // lost the CAS from 0, then full
        Assert.NotNull(victim);
        Assert.Equal(Capacity, Tail(region));

        // While the victim lives, its own intent attributes its headerless claim: the loser's
        // withdrawal uncovers nothing the consumer may skip.
        for (int round = 0; round < 20; round++)
        {
            Assert.False(loser.TryWrite(1, Message(1, 0)), "the ring is not full");
            Assert.False(consumer.TrySkipDeadClaim(), "a live producer's claim was skipped");
            Assert.Null(TryRead(consumer));
            Thread.Sleep(1);
        }

        victim.Kill();

        // Bounded: the loser keeps polling the full ring, as a producer waiting for room does.
        bool skipped = false;
        for (int round = 0; round < Rounds && !skipped; round++)
        {
            Assert.False(loser.TryWrite(1, Message(1, 0)), "room before the dead claim was skipped");
            skipped = consumer.TrySkipDeadClaim();
            Thread.Sleep(1);
        }

        Assert.True(skipped, "the dead producer's claim was never skipped: the live loser's intent still covers it");
        // Exactly the filler's records, in order; nothing of the victim's claim.
        for (int i = 0; i < filled; i++)
        {
            Assert.Equal((3, i), ReadWithin(consumer));
        }

        Assert.Equal(Capacity, consumer.ConsumerPosition);
        Assert.True(loser.TryWrite(1, Message(1, 0)));
        Assert.Equal((1, 0), ReadWithin(consumer));
        Assert.Null(TryRead(consumer));
    }

    [Fact]
    public void A_producer_polling_a_full_ring_with_its_batch_open_keeps_the_batch_from_being_skipped()
    {
        // A producer killed between its intent store and its CAS leaves an intent covering position
        // 0, which the live producer then claims as a batch, appending nothing yet. While the batch
        // is open the live producer polls the full ring; the batch must not look like the dead
        // producer's claim (its start marker names the live producer, 2e; before it, its intent).
        string name = _names.New("recbatch");
        using var region = SharedRegion.CreateNamed(name, 0, RecordRing.Part(Capacity, multipleProducers: true));
        using var consumer = new RecordRing(region);
        using var producer = new RecordRing(region);
        using var filler = new RecordRing(region);
        LeaveDeadIntentAtZero(name);

        const int BatchBytes = 3 * RecordLength;
        Assert.True(producer.TryClaimBatch(BatchBytes, out var batch));
        using (batch)
        {
            int filled = (Capacity - BatchBytes) / RecordLength;
            for (int i = 0; i < filled; i++)
            {
                Assert.True(filler.TryWrite(3, Message(3, i)), $"filler record {i} did not fit");
            }

            for (int round = 0; round < 50; round++)
            {
                Assert.False(producer.TryWrite(1, Message(1, 9)), "the ring is not full");
                Assert.False(consumer.TrySkipDeadClaim(), "the open batch of a live producer was skipped");
                Assert.Null(TryRead(consumer));
                Thread.Sleep(1);
            }

            for (int i = 0; i < 2; i++)
            {
                Assert.True(batch.TryAppend(1, Payload, out var payload));
                Message(1, i).CopyTo(payload);
            }

            batch.Commit();
            for (int i = 0; i < 2; i++)
            {
                Assert.Equal((1, i), ReadWithin(consumer));
            }

            for (int i = 0; i < filled; i++)
            {
                Assert.Equal((3, i), ReadWithin(consumer));
            }
        }

        Assert.Null(TryRead(consumer));
        Assert.Equal(Capacity, consumer.ConsumerPosition);
    }

    [Fact]
    public void A_producer_that_writes_while_its_batch_is_open_keeps_the_batch_from_being_skipped()
    {
        // As above, a dead producer's intent covers position 0 and a live producer claims its batch
        // there, appending nothing yet. Then the live producer writes one record through the same
        // ring object: its intent moves to that record, and the batch's first header must still
        // not look like the dead producer's claim, or the consumer pads over the live batch (its
        // appends land behind head, its first message is lost): the start marker (2e) names it.
        string name = _names.New("recbwr");
        using var region = SharedRegion.CreateNamed(name, 0, RecordRing.Part(Capacity, multipleProducers: true));
        using var consumer = new RecordRing(region);
        using var producer = new RecordRing(region);
        LeaveDeadIntentAtZero(name);

        const int BatchBytes = 3 * RecordLength;
        Assert.True(producer.TryClaimBatch(BatchBytes, out var batch));
        using (batch)
        {
            Assert.True(producer.TryWrite(1, Message(1, 9)));
            for (int round = 0; round < 50; round++)
            {
                Assert.False(consumer.TrySkipDeadClaim(), "the open batch of a live producer was skipped");
                Assert.Null(TryRead(consumer));
                Thread.Sleep(1);
            }

            for (int i = 0; i < 2; i++)
            {
                Assert.True(batch.TryAppend(1, Payload, out var payload));
                Message(1, i).CopyTo(payload);
            }

            batch.Commit();
        }

        Assert.Equal((1, 0), ReadWithin(consumer));
        Assert.Equal((1, 1), ReadWithin(consumer));
        Assert.Equal((1, 9), ReadWithin(consumer));
        Assert.Null(TryRead(consumer));
        Assert.Equal(BatchBytes + RecordLength, consumer.ConsumerPosition);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        t_beforeCas = null;
        foreach (var peer in _peers)
        {
            peer.Dispose();
        }

        _names.Dispose();
    }

    private static unsafe long Tail(SharedRegion region)
        => Volatile.Read(ref *(long*)(region.PartPointer(region.Parts[0]) + RingLayout.TailOffset)); // acquire

    private static byte[] Message(int producer, int sequence)
    {
        var bytes = new byte[Payload];
        BinaryPrimitives.WriteInt32LittleEndian(bytes, producer);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(4), sequence);
        return bytes;
    }

    private static (int Producer, int Sequence)? TryRead(RecordRing consumer)
    {
        var buffer = new byte[Payload];
        if (!consumer.TryRead(out int type, buffer, out int length))
        {
            return null;
        }

        Assert.Equal(Payload, length);
        int producer = BinaryPrimitives.ReadInt32LittleEndian(buffer);
        Assert.Equal(type, producer);
        return (producer, BinaryPrimitives.ReadInt32LittleEndian(buffer.AsSpan(4)));
    }

    /// <summary>The next message; fails when none comes for <see cref="ProgressTimeout"/>.</summary>
    private static (int Producer, int Sequence) ReadWithin(RecordRing consumer)
    {
        var watch = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            if (TryRead(consumer) is { } message)
            {
                return message;
            }

            Assert.True(watch.Elapsed < ProgressTimeout, "nothing to read");
            Thread.Sleep(1);
        }
    }

    /// <summary>A child producer killed between its intent store (position 0) and its CAS: a dead intent covers 0.</summary>
    private void LeaveDeadIntentAtZero(string name)
    {
        var dead = Start("record-claim-stops", name, "before-cas", RecordLength.ToString(CultureInfo.InvariantCulture));
        dead.WaitForOutput("intent 0");
        dead.Kill();
    }

    private PeerProcess Start(string command, params string[] args)
    {
        var peer = PeerProcess.Start(output, command, args);
        _peers.Add(peer);
        return peer;
    }

    /// <summary>Runs the test's step between the loser's intent store and its CAS.</summary>
    private struct BeforeCasProbe : IClaimProbe
    {
        public static void BeforeCas(long tail) => t_beforeCas?.Invoke(tail);

        public static void AfterCas(long position)
        {
        }
    }
}
