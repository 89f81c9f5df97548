using System.Diagnostics;
using UintrIpc.Channels;
using UintrIpc.Memory;
using UintrIpc.Rings;

namespace UintrIpc.Tests.Rings;

/// <summary>
/// What only the multi-producer ring does: claims are marked in the ring while open, and
/// the consumer can unblock the claim of a dead producer. Capacity 256: longest record 40.
/// </summary>
public sealed class RecordsMpscTests : IDisposable
{
    private readonly SharedRegion _region = SharedRegion.CreateAnonymous(RecordRing.Part(256, multipleProducers: true));
    private readonly RecordRing _ring;
    private readonly RecordRingMemory _memory;

    public RecordsMpscTests()
    {
        _ring = new RecordRing(_region);
        _memory = new RecordRingMemory(_region, PartKind.MpscRecords);
    }

    public void Dispose() => _region.Dispose();

    [Fact]
    public void An_open_claim_is_marked_negative_and_holds_back_later_records()
    {
        Assert.True(_ring.TryClaim(1, 10, out var claim));
        Assert.Equal(-18, _memory.LengthAt(0));
        Assert.Equal(24, _ring.ProducerPosition);
        Assert.True(_ring.TryWrite(2, new byte[4]));

        Assert.False(_ring.CanRead);
        Assert.Empty(Drain());
        Assert.Equal(0, _ring.ConsumerPosition);

        claim.Payload.Fill(9);
        claim.Commit();
        Assert.Equal(18, _memory.LengthAt(0));
        var messages = Drain();
        Assert.Equal([1, 2], messages.Select(m => m.Type));
        Assert.All(messages[0].Payload, b => Assert.Equal(9, b));
    }

    [Fact]
    public void A_wrapping_claim_commits_its_padding_at_once()
    {
        for (int i = 0; i < 10; i++)
        {
            Assert.True(_ring.TryWrite(i, new byte[16]));
        }

        Assert.Equal(10, Drain().Count);
        Assert.True(_ring.TryClaim(10, 16, out var claim));
        Assert.Equal(16, _memory.LengthAt(240));
        Assert.Equal(-24, _memory.LengthAt(0));

        // The padding is consumed; the claim is not ready.
        Assert.False(_ring.CanRead);
        Assert.Empty(Drain());
        Assert.Equal(256, _ring.ConsumerPosition);
        claim.Commit();
        Assert.Single(Drain());
    }

    [Fact]
    public void Several_open_claims_are_completed_in_any_order()
    {
        Assert.True(_ring.TryClaim(1, 4, out var a));
        Assert.True(_ring.TryClaim(2, 4, out var b));
        Assert.True(_ring.TryClaim(3, 4, out var c));
        c.Commit();
        b.Abort();
        Assert.Empty(Drain());
        a.Commit();
        Assert.Equal([1, 3], Drain().Select(m => m.Type));
    }

    [Fact]
    public void TryUnblock_does_nothing_when_nothing_is_blocked()
    {
        Assert.False(_ring.TryUnblock(TimeSpan.Zero));
        Assert.True(_ring.TryWrite(1, new byte[4]));
        Assert.False(_ring.TryUnblock(TimeSpan.Zero));
        Assert.Single(Drain());
        Assert.Throws<ArgumentOutOfRangeException>(() => _ring.TryUnblock(TimeSpan.FromTicks(-1)));
    }

    [Fact]
    public void TryUnblock_turns_a_claim_of_a_dead_producer_into_padding()
    {
        Assert.True(_ring.TryClaim(1, 10, out var dead));
        dead.Payload.Fill(0xEE);
        Assert.True(_ring.TryWrite(2, new byte[4]));
        Assert.Empty(Drain());

        Assert.True(_ring.TryUnblock(TimeSpan.Zero));
        Assert.Equal(18, _memory.LengthAt(0));
        Assert.Equal(RingLayout.PaddingRecordType, _memory.TypeAt(0));
        Assert.Equal(2, Assert.Single(Drain()).Type);
        Assert.True(_memory.FreeSpaceIsZero(_ring.ConsumerPosition, _ring.ProducerPosition));

        // The claim is gone: a late commit is refused rather than published into reused bytes.
        ClaimAssert.CompleteThrows(ref dead, commit: true);
    }

    [Fact]
    public void TryUnblock_waits_until_the_record_has_been_blocked_long_enough()
    {
        Assert.True(_ring.TryClaim(1, 10, out _));
        Assert.True(_ring.TryWrite(2, new byte[4]));
        var blockedFor = TimeSpan.FromMilliseconds(50);
        var watch = Stopwatch.StartNew();
        Assert.False(_ring.TryUnblock(blockedFor));
        var deadline = TimeSpan.FromSeconds(10);
        while (!_ring.TryUnblock(blockedFor))
        {
            Assert.True(watch.Elapsed < deadline, "TryUnblock never unblocked");
            Thread.Sleep(1);
        }

        // Never earlier than asked (a lower bound, so not sensitive to a slow machine).
        Assert.True(watch.Elapsed >= blockedFor, $"unblocked after {watch.Elapsed}");
        Assert.Equal(2, Assert.Single(Drain()).Type);
    }

    [Fact]
    public void TryUnblock_restarts_the_clock_when_the_consumer_moved()
    {
        var blockedFor = TimeSpan.FromMilliseconds(20);
        Assert.True(_ring.TryClaim(1, 10, out var first));
        var watch = Stopwatch.StartNew();
        Assert.False(_ring.TryUnblock(blockedFor));
        while (watch.Elapsed <= blockedFor)
        {
            Thread.Sleep(1);
        }

        first.Commit();
        Assert.True(_ring.TryClaim(1, 10, out _));
        Assert.Single(Drain());
        // A new blocked record: its clock starts now, although the first one's has run out.
        Assert.False(_ring.TryUnblock(blockedFor));
    }

    [Fact]
    public void TryUnblock_skips_a_claim_whose_header_was_never_written()
    {
        // A producer won the CAS for 24 bytes and died before marking its record.
        _memory.Tail = 24;
        Assert.True(_ring.TryWrite(2, new byte[4]));
        Assert.Equal(12, _memory.LengthAt(24));
        Assert.Empty(Drain());

        Assert.True(_ring.TryUnblock(TimeSpan.Zero));
        Assert.Equal(24, _memory.LengthAt(0));
        Assert.Equal(RingLayout.PaddingRecordType, _memory.TypeAt(0));
        Assert.Equal(2, Assert.Single(Drain()).Type);
    }

    [Fact]
    public void TryUnblock_splits_a_long_unwritten_gap_into_record_sized_padding()
    {
        // Three dead claims of the longest record (40 bytes) back to back.
        _memory.Tail = 120;
        Assert.True(_ring.TryWrite(2, new byte[4]));
        Assert.True(_ring.TryUnblock(TimeSpan.Zero));
        Assert.Equal(40, _memory.LengthAt(0));
        Assert.Equal(40, _memory.LengthAt(40));
        Assert.Equal(40, _memory.LengthAt(80));
        Assert.Equal(2, Assert.Single(Drain()).Type);
        Assert.Equal(_ring.ProducerPosition, _ring.ConsumerPosition);
    }

    [Fact]
    public void TryUnblock_covers_an_unwritten_gap_up_to_the_tail()
    {
        _memory.Tail = 48;
        Assert.True(_ring.TryUnblock(TimeSpan.Zero));
        Assert.Empty(Drain());
        Assert.Equal(48, _ring.ConsumerPosition);
        Assert.True(_ring.TryWrite(1, new byte[4]));
        Assert.Single(Drain());
    }

    [Fact]
    public void TryUnblock_removes_a_dead_claim_that_wrapped_in_two_steps()
    {
        for (int i = 0; i < 10; i++)
        {
            Assert.True(_ring.TryWrite(i, new byte[16]));
        }

        Assert.Equal(10, Drain().Count);
        // The dead producer claimed 16 bytes of padding at 240 and a 24-byte record at 0, and wrote neither.
        _memory.Tail = 240 + 16 + 24;
        Assert.True(_ring.TryWrite(2, new byte[4]));

        Assert.True(_ring.TryUnblock(TimeSpan.Zero));
        Assert.Equal(16, _memory.LengthAt(240));
        Assert.Empty(Drain());
        Assert.Equal(256, _ring.ConsumerPosition);
        Assert.True(_ring.TryUnblock(TimeSpan.Zero));
        Assert.Equal(2, Assert.Single(Drain()).Type);
    }

    [Fact]
    public void TryUnblock_trusts_the_length_of_a_valid_claim_marker()
    {
        _memory.Tail = 24;
        _memory.WriteHeader(0, -20, 0);
        Assert.True(_ring.TryUnblock(TimeSpan.Zero));
        Assert.Equal(20, _memory.LengthAt(0));
        Assert.Empty(Drain());
        Assert.Equal(24, _ring.ConsumerPosition);
    }

    [Theory]
    [InlineData(-4)]
    [InlineData(-48)]
    [InlineData(int.MinValue)]
    public void TryUnblock_rejects_a_corrupt_claim_marker(int length)
    {
        _memory.Tail = 64;
        _memory.WriteHeader(0, length, 0);
        Assert.Throws<RingCorruptedException>(() => _ring.TryUnblock(TimeSpan.Zero));
    }

    [Fact]
    public void TryUnblock_rejects_corrupt_positions()
    {
        // The consumer's head is its own (at 16 after one message): tails are checked against it.
        Assert.True(_ring.TryWrite(1, new byte[8]));
        Assert.Single(Drain());
        _memory.Tail = 16 + 256 + 8;
        Assert.Throws<RingCorruptedException>(() => _ring.TryUnblock(TimeSpan.Zero));
        _memory.Tail = 8;
        Assert.Throws<RingCorruptedException>(() => _ring.TryUnblock(TimeSpan.Zero));
    }

    [Fact]
    public void A_commit_whose_claimed_header_a_peer_rewrote_reports_corruption_and_publishes_nothing()
    {
        Assert.True(_ring.TryClaim(1, 10, out var claim));
        _memory.WriteHeader(0, -26, _memory.TypeAt(0)); // another length than the claim's -18
        try
        {
            claim.Commit();
            Assert.Fail("Commit should have thrown RingCorruptedException.");
        }
        catch (RingCorruptedException)
        {
        }

        Assert.Equal(-26, _memory.LengthAt(0));
        Assert.Empty(Drain());
    }

    [Fact]
    public void Appended_batch_records_carry_this_producers_claimed_marker_until_the_commit()
    {
        // The marker a single claim writes names this producer (2e, 2f); each record appended to
        // a batch must carry the same one (the batch builds it once), its length negated.
        Assert.True(_ring.TryClaim(9, 8, out var single));
        int marker = _memory.TypeAt(0);
        Assert.Equal(0x8000_0000u, (uint)marker & 0xC000_0000u);
        single.Commit();

        Assert.True(_ring.TryClaimBatch(2 * 16, out var batch));
        Assert.True(batch.TryAppend(1, 8, out _));
        Assert.True(batch.TryAppend(2, 0, out _));
        Assert.Equal((-16, marker), (_memory.LengthAt(16), _memory.TypeAt(16)));
        Assert.Equal((-8, marker), (_memory.LengthAt(32), _memory.TypeAt(32)));

        batch.Commit();
        Assert.Equal((16, 1), (_memory.LengthAt(16), _memory.TypeAt(16)));
        Assert.Equal((8, 2), (_memory.LengthAt(32), _memory.TypeAt(32)));
        Assert.Equal([9, 1, 2], Drain().Select(m => m.Type));
    }

    [Fact]
    public void A_batch_commit_checks_every_claimed_header_and_stops_at_a_rewritten_one()
    {
        Assert.True(_ring.TryClaimBatch(3 * 16, out var batch));
        for (int i = 0; i < 3; i++)
        {
            Assert.True(batch.TryAppend(i + 1, 8, out var payload));
            payload.Fill((byte)i);
        }

        _memory.WriteHeader(16, 16, 7); // the second record: published by someone else
        Assert.IsType<RingCorruptedException>(CommitFails(ref batch));
        Assert.Equal(16, _memory.LengthAt(0)); // the first was committed
        Assert.Equal(1, _memory.TypeAt(0));
        Assert.Equal(16, _memory.LengthAt(16)); // the rewritten one left as it was
        Assert.Equal(7, _memory.TypeAt(16));
        Assert.Equal(-16, _memory.LengthAt(32)); // the third not published
    }

    [Theory]
    [InlineData(16, RingLayout.PaddingRecordType, typeof(InvalidOperationException), null)] // taken as padding of its length: no longer ours
    [InlineData(24, 7, typeof(RingCorruptedException), "its header length is 24, the claim wrote -16")]
    [InlineData(-24, 0, typeof(RingCorruptedException), "its header length is -24, the claim wrote -16")]
    public void A_batch_commit_judges_a_later_record_by_the_header_it_found_there(int length, int type, Type expected, string? message)
    {
        // The commit's loop keeps no copy of the length it read (it keeps the sum with the entry's):
        // what it reports must still be that length, which tells a claim lost from a corrupted one.
        Assert.True(_ring.TryClaimBatch(3 * 16, out var batch));
        for (int i = 0; i < 3; i++)
        {
            Assert.True(batch.TryAppend(i + 1, 8, out _));
        }

        _memory.WriteHeader(32, length, type); // the third record
        Exception refused = CommitFails(ref batch);
        Assert.IsType(expected, refused);
        if (message is not null)
        {
            Assert.Contains(message, refused.Message, StringComparison.Ordinal);
        }

        Assert.Equal((16, 1), (_memory.LengthAt(0), _memory.TypeAt(0))); // the first two were committed
        Assert.Equal((16, 2), (_memory.LengthAt(16), _memory.TypeAt(16)));
        Assert.Equal((length, type), (_memory.LengthAt(32), _memory.TypeAt(32))); // left as found
    }

    [Fact]
    public void A_batch_whose_records_the_consumer_unblocked_is_refused_at_commit()
    {
        Assert.True(_ring.TryClaimBatch(2 * 16, out var batch));
        Assert.True(batch.TryAppend(1, 8, out _));
        Assert.True(batch.TryAppend(2, 8, out _));
        Assert.True(_ring.TryWrite(3, new byte[4]));

        Assert.True(_ring.TryUnblock(TimeSpan.Zero));
        Assert.Equal(RingLayout.PaddingRecordType, _memory.TypeAt(0));
        Assert.IsType<InvalidOperationException>(CommitFails(ref batch));
        Assert.Equal(RingLayout.PaddingRecordType, _memory.TypeAt(0)); // not published over the padding
    }

    /// <summary>What the batch's Commit throws (a lambda cannot capture a ref struct).</summary>
    private static Exception CommitFails(ref RecordBatch batch)
    {
        try
        {
            batch.Commit();
        }
        catch (Exception e)
        {
            return e;
        }

        Assert.Fail("Commit should have thrown.");
        return null!;
    }

    private List<(int Type, byte[] Payload)> Drain()
    {
        var handler = new CollectingHandler([]);
        _ring.Read(ref handler);
        return handler.Messages;
    }
}
