using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using UintrIpc.Channels;
using UintrIpc.Memory;
using UintrIpc.Rings;
using UintrIpc.Tests.Signaling;

using static UintrIpc.Tests.Rings.RecordTestKit;

namespace UintrIpc.Tests.Rings;

/// <summary>
/// Batched record claims (RecordRing.TryClaimBatch): messages appended in place and committed
/// at once, read back exactly and in order; batches at the wrap and when nearly full; aborts
/// (also by disposing a copy, and in the middle of other producers' messages) that never stall
/// the consumer; several MPSC producer threads with exact counts; no allocation per batch.
/// </summary>
public sealed class RecordBatchTests
{
    /// <summary>Appends messages of the given lengths (payload byte i = type + i) and commits; returns how many were appended.</summary>
    private static int WriteBatch(RecordRing ring, int bytes, int firstType, params int[] lengths)
    {
        if (!ring.TryClaimBatch(bytes, out RecordBatch batch))
        {
            return 0;
        }

        using (batch)
        {
            for (int i = 0; i < lengths.Length; i++)
            {
                if (!batch.TryAppend(firstType + i, lengths[i], out Span<byte> payload))
                {
                    break;
                }

                Fill(payload, firstType + i);
            }

            batch.Commit();
            return batch.Count;
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Messages_appended_to_a_batch_are_read_exactly_and_in_order(bool multi)
    {
        using var region = Region(1024, multi);
        using var ring = new RecordRing(region);
        Assert.True(ring.TryClaimBatch(100, out RecordBatch batch));
        Assert.Equal(104, batch.BytesLeft);
        Assert.True(batch.TryAppend(1, 0, out _)); // 8 bytes
        Assert.True(batch.TryAppend(2, 13, out Span<byte> second)); // 24
        Fill(second, 2);
        Assert.True(batch.TryAppend(3, 56, out Span<byte> third)); // 64
        Fill(third, 3);
        Assert.Equal(8, batch.BytesLeft);
        Assert.False(batch.TryAppend(4, 1, out Span<byte> none)); // 16 bytes do not fit
        Assert.True(none.IsEmpty);
        Assert.False(ring.CanRead); // nothing visible before the commit
        batch.Commit();
        Assert.False(batch.IsActive);

        var messages = ReadAll(ring);
        Assert.Equal(3, messages.Count);
        AssertMessage(messages[0], 1, 0);
        AssertMessage(messages[1], 2, 13);
        AssertMessage(messages[2], 3, 56);
        Assert.Equal(multi ? 104 : 96, ring.ConsumerPosition); // MPSC: the unused 8 bytes became padding
        Assert.Equal(ring.ProducerPosition, ring.ConsumerPosition);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_batch_variable_reused_after_a_full_ring_starts_empty_each_time(bool multi)
    {
        // The batch is built in place in the out variable (its entries are not zeroed): a
        // failed claim and a later claim must still see nothing of the earlier batch.
        using var region = Region(256, multi);
        using var ring = new RecordRing(region);
        RecordBatch batch;
        for (int round = 0; round < 3; round++)
        {
            Assert.True(ring.TryClaimBatch(256, out batch));
            Assert.Equal(0, batch.Count);
            Assert.Equal(256, batch.BytesLeft);
            for (int i = 0; i < RecordBatch.MaxRecords; i++)
            {
                Assert.True(batch.TryAppend(round * 100 + i, 0, out _)); // 8 bytes each: 32 fill the ring
            }

            Assert.False(batch.TryAppend(0, 0, out _)); // MaxRecords
            batch.Commit();

            Assert.False(ring.TryClaimBatch(8, out batch)); // full
            Assert.False(batch.IsActive);
            Assert.Equal(0, batch.Count);
            Assert.Equal(0, batch.BytesLeft);
            batch.Dispose(); // no batch: nothing to abort
            Assert.Throws<InvalidOperationException>(() =>
            {
                Assert.False(ring.TryClaimBatch(8, out RecordBatch none));
                none.Commit();
            });

            var messages = ReadAll(ring);
            Assert.Equal(RecordBatch.MaxRecords, messages.Count);
            for (int i = 0; i < RecordBatch.MaxRecords; i++)
            {
                AssertMessage(messages[i], round * 100 + i, 0);
            }

            Assert.Equal(256L * (round + 1), ring.ConsumerPosition);
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Batches_at_the_wrap_and_when_nearly_full(bool multi)
    {
        using var region = Region(256, multi); // messages up to 32 bytes
        using var ring = new RecordRing(region);
        Assert.Equal(6, WriteBatch(ring, 192, 10, 24, 24, 24, 24, 24, 24)); // 6 x 32 bytes
        Assert.Equal(0, WriteBatch(ring, 72, 20, 8)); // 64 left
        Assert.Equal(6, ReadAll(ring).Count);

        // 64 bytes to the end: a batch of 96 starts at index 0 after padding to the end.
        Assert.Equal(3, WriteBatch(ring, 96, 30, 24, 24, 24));
        Assert.Equal(192 + 64 + 96, ring.ProducerPosition);
        var messages = ReadAll(ring);
        Assert.Equal(3, messages.Count);
        AssertMessage(messages[0], 30, 24);
        AssertMessage(messages[2], 32, 24);
        Assert.Equal(ring.ProducerPosition, ring.ConsumerPosition);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Abandoned_batch_never_stalls_the_consumer(bool multi)
    {
        using var region = Region(512, multi);
        using var ring = new RecordRing(region);
        Assert.Equal(1, WriteBatch(ring, 16, 1, 4));
        try
        {
            Assert.True(ring.TryClaimBatch(200, out RecordBatch batch));
            using (batch) // disposes a copy taken before the appends: the abort is judged from the ring
            {
                Assert.True(batch.TryAppend(5, 30, out Span<byte> payload));
                Fill(payload, 5);
                Assert.True(batch.TryAppend(6, 30, out _));
                throw new InvalidOperationException("the producer fails while filling");
            }
        }
        catch (InvalidOperationException)
        {
        }

        Assert.Equal(2, WriteBatch(ring, 64, 7, 10, 10));
        var messages = ReadAll(ring);
        Assert.Equal([1, 7, 8], messages.Select(m => m.Type));
        Assert.Equal(ring.ProducerPosition, ring.ConsumerPosition);
        for (int lap = 0; lap < 8; lap++)
        {
            Assert.Equal(3, WriteBatch(ring, 150, lap, 30, 30, 30)); // later batches delivered across laps
            Assert.Equal(3, ReadAll(ring).Count);
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Disposing_a_copy_after_the_commit_changes_nothing(bool multi)
    {
        using var region = Region(512, multi);
        using var ring = new RecordRing(region);
        Assert.True(ring.TryClaimBatch(64, out RecordBatch batch));
        using (batch)
        {
            Assert.True(batch.TryAppend(3, 8, out Span<byte> payload));
            Fill(payload, 3);
            batch.Commit();
        }

        Assert.Single(ReadAll(ring));
        Assert.Equal(1, WriteBatch(ring, 64, 4, 8));
        AssertMessage(Assert.Single(ReadAll(ring)), 4, 8);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Mpsc_batch_with_nothing_appended_holds_the_consumer_then_commits_or_aborts_to_padding(bool commit)
    {
        // The range (200 bytes) is longer than the longest record (40): its start marker claims 40
        // of it (uintripc.h 2e), and commit or abort must still turn the whole range into padding.
        using var region = Region(512, multi: true, maxMessageLength: 32);
        using var ring = new RecordRing(region);
        Assert.True(ring.TryClaimBatch(200, out RecordBatch batch));
        using (batch)
        {
            Assert.Equal(1, WriteBatch(ring, 32, 9, 16)); // claimed after the batch: waits behind it
            Assert.False(ring.TrySkipDeadClaim()); // marked by a live producer (this process)
            Assert.Empty(ReadAll(ring));
            Assert.Equal(0, ring.ConsumerPosition);
            if (commit)
            {
                batch.Commit();
            }
            else
            {
                batch.Abort();
            }
        }

        AssertMessage(Assert.Single(ReadAll(ring)), 9, 16);
        Assert.Equal(232, ring.ConsumerPosition);
    }

    [Fact]
    public void Mpsc_abort_between_other_producers_messages_leaves_padding()
    {
        using var region = Region(512, multi: true);
        using var ring = new RecordRing(region);
        Assert.True(ring.TryClaimBatch(128, out RecordBatch batch));
        Assert.True(batch.TryAppend(1, 20, out _));
        Assert.Equal(1, WriteBatch(ring, 32, 9, 16)); // claimed after the batch: waits behind it
        Assert.Empty(ReadAll(ring));
        batch.Abort();
        batch.Dispose(); // after Abort: nothing more
        AssertMessage(Assert.Single(ReadAll(ring)), 9, 16);
        Assert.Equal(160, ring.ConsumerPosition);
    }

    [Fact]
    public void Mpsc_abort_by_a_later_registered_producer_turns_its_marked_records_into_padding()
    {
        // The abort finds the records it may turn into padding by the claimed marker of the
        // batch's tag (the batch keeps only the marker): through a second ring object (a producer
        // registered second, another tag than the first's) every appended record is still found.
        using var region = Region(512, multi: true);
        using var first = new RecordRing(region);
        using var second = new RecordRing(region);
        Assert.Equal(1, WriteBatch(first, 32, 1, 16)); // registers the first producer
        Assert.True(second.TryClaimBatch(160, out RecordBatch batch));
        Assert.True(batch.TryAppend(2, 20, out _));
        Assert.True(batch.TryAppend(3, 36, out _));
        Assert.Equal(1, WriteBatch(first, 32, 9, 16)); // claimed after the batch: waits behind it
        AssertMessage(Assert.Single(ReadAll(first)), 1, 16);
        batch.Abort();
        AssertMessage(Assert.Single(ReadAll(first)), 9, 16);
        Assert.Equal(224, first.ConsumerPosition);
        Assert.Equal(first.ProducerPosition, first.ConsumerPosition);
    }

    [Fact]
    public void Mpsc_commit_of_a_stale_copy_never_publishes_another_producers_claim_on_the_reused_bytes()
    {
        // A copy of a batch committed after the original was committed and read: its bytes were
        // released, and another producer claimed them again with a header of the same length. The
        // copy's commit must see that the header is no longer ours (its claimed marker names the
        // other producer) and publish nothing, or the consumer reads the other's half-written record.
        using var region = Region(256, multi: true);
        using var first = new RecordRing(region);
        using var second = new RecordRing(region);
        Assert.True(first.TryClaimBatch(32, out RecordBatch batch));
        Assert.True(batch.TryAppend(1, 24, out Span<byte> payload)); // 32 bytes: the whole range
        Fill(payload, 1);
        RecordBatch copy = batch;
        batch.Commit();
        AssertMessage(Assert.Single(ReadAll(first)), 1, 24);
        Assert.Equal(7, WriteBatch(first, 224, 2, 24, 24, 24, 24, 24, 24, 24)); // the rest of the lap
        Assert.Equal(7, ReadAll(first).Count);

        Assert.True(second.TryClaimBatch(32, out RecordBatch other)); // position 256: the copy's bytes, start marker of length 32
        bool refused = false;
        try
        {
            copy.Commit();
        }
        catch (InvalidOperationException)
        {
            refused = true;
        }

        Assert.True(refused, "the stale copy's commit published the other producer's claim");
        Assert.Empty(ReadAll(first)); // nothing published: the other batch is still open
        Assert.True(other.TryAppend(9, 24, out Span<byte> otherPayload));
        Fill(otherPayload, 9);
        other.Commit();
        AssertMessage(Assert.Single(ReadAll(first)), 9, 24);
        Assert.Equal(first.ProducerPosition, first.ConsumerPosition);
    }

    [Fact]
    public void Mpsc_abort_finds_records_marked_with_a_tag_of_every_bit()
    {
        // The batch keeps its tag only in the claimed marker's word (the high half) and the abort
        // takes it back from there: a tag with every generation bit set (0x3fffff << 8) must come
        // back whole, or the abort leaves the records marked and the consumer waits behind them.
        using var region = Region(512, multi: true);
        var memory = RingMemory.Of(region, PartKind.MpscRecords);
        memory.ProducerWord(0, RingLayout.ProducerOwnerOffset) = 0x3F_FFFEUL << 32; // free, last generation 0x3ffffe: the next registration takes 0x3fffff
        using var ring = new RecordRing(region);
        Assert.True(ring.TryClaimBatch(160, out RecordBatch batch));
        Assert.True(batch.TryAppend(2, 20, out _));
        Assert.True(batch.TryAppend(3, 36, out _));
        Assert.Equal(0xBFFF_FF00u, (uint)(memory.RecordHeader(32) >> 32)); // the second record's marker: entry 0, generation 0x3fffff
        batch.Abort();
        Assert.Equal(1, WriteBatch(ring, 32, 9, 16));
        AssertMessage(Assert.Single(ReadAll(ring)), 9, 16);
        Assert.Equal(ring.ProducerPosition, ring.ConsumerPosition);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Lengths_out_of_range_throw_and_append_nothing(bool multi)
    {
        // The append adds the header to the length in 64 bits: a negative length is a huge one,
        // never a short record (in 32 bits -8 would make a record of 0 bytes and -1 one of 7).
        using var region = Region(1024, multi, maxMessageLength: 32);
        using var ring = new RecordRing(region);
        Assert.True(ring.TryClaimBatch(256, out RecordBatch batch));
        Assert.True(batch.TryAppend(1, 32, out Span<byte> longest)); // the ring's MaxMessageLength
        Fill(longest, 1);
        int left = batch.BytesLeft;
        foreach (int length in new[] { 33, 40, -1, -7, -8, -9, -16, -40, int.MinValue, int.MinValue + 8, int.MaxValue, int.MaxValue - 7 })
        {
            Assert.Equal((typeof(ArgumentOutOfRangeException), length), (CatchAppend(ref batch, length, count: 0), length));
            Assert.Equal((typeof(ArgumentOutOfRangeException), length), (CatchAppend(ref batch, length, count: 1), length));
            Assert.Equal((typeof(ArgumentOutOfRangeException), length), (CatchAppend(ref batch, length, count: 2), length));
            Assert.Equal((1, left), (batch.Count, batch.BytesLeft));
        }

        Assert.True(batch.TryAppend(2, 3, out Span<byte> last));
        Fill(last, 2);
        batch.Commit();
        var messages = ReadAll(ring);
        Assert.Equal(2, messages.Count);
        AssertMessage(messages[0], 1, 32);
        AssertMessage(messages[1], 2, 3);
    }

    /// <summary>What an append of <paramref name="length"/> bytes throws (count 0: the single append; else a run of that many).</summary>
    private static Type? CatchAppend(ref RecordBatch batch, int length, int count)
    {
        try
        {
            _ = count == 0 ? batch.TryAppend(0, length, out _) : batch.TryAppend(0, length, count, out _);
            return null;
        }
        catch (Exception e)
        {
            return e.GetType();
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Misuse_throws(bool multi)
    {
        using var region = Region(256, multi, maxMessageLength: 32);
        using var ring = new RecordRing(region);
        Assert.Throws<ArgumentOutOfRangeException>(() => ring.TryClaimBatch(4, out _));
        Assert.Throws<ArgumentOutOfRangeException>(() => ring.TryClaimBatch(257, out _));
        Assert.True(ring.TryClaimBatch(256, out RecordBatch batch));
        Assert.Equal(RecordBatch.MaxRecords, AppendEmpty(ref batch));
        Assert.True(batch.IsActive);
        try
        {
            batch.TryAppend(-1, 0, out _);
            Assert.Fail("negative type");
        }
        catch (ArgumentOutOfRangeException)
        {
        }

        try
        {
            batch.TryAppend(0, 33, out _);
            Assert.Fail("too long");
        }
        catch (ArgumentOutOfRangeException)
        {
        }

        batch.Commit();
        Assert.Equal(RecordBatch.MaxRecords, ReadAll(ring).Count);
        try
        {
            batch.Commit();
            Assert.Fail("committed twice");
        }
        catch (InvalidOperationException)
        {
        }

        if (!multi)
        {
            Assert.True(ring.TryClaimBatch(64, out RecordBatch superseded));
            Assert.True(superseded.TryAppend(1, 1, out _));
            Assert.True(ring.TryWrite(2, [7]));
            try
            {
                superseded.Commit();
                Assert.Fail("superseded");
            }
            catch (InvalidOperationException)
            {
            }

            Assert.Equal([2], ReadAll(ring).Select(m => m.Type));
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Appending_to_a_completed_batch_or_to_no_batch_throws_whatever_the_arguments(bool multi)
    {
        // TryAppend tells these apart only on its failing paths (no room, bad argument): the
        // state error must still come first.
        using var region = Region(256, multi, maxMessageLength: 32);
        using var ring = new RecordRing(region);
        Assert.True(ring.TryClaimBatch(64, out RecordBatch batch));
        Assert.True(batch.TryAppend(1, 4, out _));
        batch.Commit();
        RecordBatch none = default;
        foreach ((int type, int length) in new[] { (0, 0), (2, 32), (-1, 0), (0, 33) })
        {
            AssertAppendRefused(ref batch, type, length);
            AssertAppendRefused(ref none, type, length);
        }

        Assert.Equal(48, batch.BytesLeft); // 64 - align8(8 + 4)
        Assert.Equal(1, batch.Count);
        Assert.Single(ReadAll(ring));
    }

    [Theory]
    [InlineData(0, 0x0000_0001_FFFF_FFFCL)] // length 4: shorter than a header
    [InlineData(0, 0x0000_0001_0000_0010L)] // +16: not an appended (negative) length
    [InlineData(0, unchecked((long)0xFFFF_FFFF_FFFF_FFF0UL))] // type -1
    [InlineData(0, 0x0000_0001_FFFF_FFC0L)] // 64 bytes: past the appended records
    [InlineData(0, 0x0000_0001_FFFF_FFF8L)] // 8 bytes: the next "header" would be payload
    [InlineData(1, 0x0000_0002_FFFF_FFE8L)] // the second of equal records: 24 bytes, past the appended ones
    [InlineData(1, unchecked((long)0xFFFF_FFFF_FFFF_FFF0UL))] // the second: type -1, its length as appended
    public void Spsc_commit_over_a_header_a_peer_rewrote_stays_within_the_batch_and_never_stalls_the_consumer(int rewritten, long header)
    {
        // The SPSC commit of a range longer than 1 KiB reads each appended header back (a
        // private copy cost a store per record): a header a peer rewrote is checked before
        // anything of it is published, the walk never leaves the appended records, and from that
        // header on the batch becomes padding the consumer steps over; the commit then reports
        // the corruption. (A shorter range publishes from its copy: the next test.)
        using var region = Region(8192, multi: false);
        using var ring = new RecordRing(region);
        AppendTwoAndRewrite(ring, 2048, rewritten, header, out RecordBatch batch);
        try
        {
            batch.Commit();
            Assert.Fail("the commit published a batch whose header a peer rewrote");
        }
        catch (RingCorruptedException)
        {
        }

        var read = ReadAll(ring); // throws if the consumer met anything it does not accept
        Assert.Equal(ring.ProducerPosition, ring.ConsumerPosition); // nothing left that stalls it
        if (rewritten == 1)
        {
            Assert.Single(read); // the record before the rewritten header, as appended
            Assert.Equal(1, read[0].Type);
            Assert.Equal(Enumerable.Repeat((byte)0x5a, 8), read[0].Payload);
        }
        else
        {
            // Nothing appended is published; at most the peer's own (a valid empty record it forged).
            Assert.DoesNotContain(read, m => m.Payload.Length != 0);
        }

        Assert.True(ring.TryClaimBatch(2048, out RecordBatch next)); // the ring goes on
        using (next)
        {
            Assert.True(next.TryAppend(3, 8, out Span<byte> third));
            third.Fill(0x5c);
            next.Commit();
        }

        Assert.Equal([3], ReadAll(ring).Select(m => m.Type));
    }

    [Theory]
    [InlineData(0x0000_0001_FFFF_FFFCL)] // length 4: shorter than a header
    [InlineData(0x0000_0001_0000_0010L)] // +16: not an appended (negative) length
    [InlineData(unchecked((long)0xFFFF_FFFF_FFFF_FFF0UL))] // type -1
    [InlineData(0x0000_0001_FFFF_FFC0L)] // 64 bytes: past the appended records
    public void Spsc_commit_of_a_short_range_publishes_what_was_appended_over_a_header_a_peer_rewrote(long header)
    {
        // A range of at most 1 KiB keeps each record's length and type: its commit reads
        // nothing back, so a peer's rewrite neither moves the commit nor is published.
        using var region = Region(256, multi: false);
        using var ring = new RecordRing(region);
        AppendTwoAndRewrite(ring, 64, 0, header, out RecordBatch batch);
        batch.Commit();

        var read = ReadAll(ring);
        Assert.Equal([1, 2], read.Select(m => m.Type));
        Assert.Equal(Enumerable.Repeat((byte)0x5a, 8), read[0].Payload);
        Assert.Equal(Enumerable.Repeat((byte)0x5b, 8), read[1].Payload);
        Assert.Equal(ring.ProducerPosition, ring.ConsumerPosition);
    }

    [Theory]
    [InlineData(64)] // keeps its entries
    [InlineData(2048)] // reads its headers back
    public void Spsc_batch_claimed_mid_line_leaves_the_unread_record_before_it_intact(int range)
    {
        // The claim takes its range's lines with a store into each (TakeRangeLines): from the
        // range's start, never from the start of its first line, which here holds a committed
        // record the consumer has not read.
        using var region = Region(8192, multi: false);
        using var ring = new RecordRing(region);
        byte[] first = [1, 2, 3, 4, 5, 6, 7, 8];
        Assert.True(ring.TryWrite(7, first)); // 16 bytes: the batch starts mid-line
        Assert.Equal(2, WriteBatch(ring, range, 10, 8, 8));
        var read = ReadAll(ring);
        Assert.Equal([7, 10, 11], read.Select(m => m.Type));
        Assert.Equal(first, read[0].Payload);
        AssertMessage(read[1], 10, 8);
        AssertMessage(read[2], 11, 8);
        Assert.Equal(ring.ProducerPosition, ring.ConsumerPosition);
    }

    [Theory]
    [InlineData(64, 0UL, 0UL)] // keeps its entries: no header in the ring until the commit stores it
    [InlineData(2048, 0x0000_0003_FFFF_FFE8UL, 0x0000_0004_FFFF_FFF0UL)] // reads back: -len and the type from the append
    public void Spsc_batch_headers_before_the_commit_read_not_yet(int range, ulong firstBefore, ulong secondBefore)
    {
        using var region = Region(8192, multi: false);
        var memory = RingMemory.Of(region, PartKind.SpscRecords);
        using var ring = new RecordRing(region);
        Assert.True(ring.TryClaimBatch(range, out RecordBatch batch));
        Assert.True(batch.TryAppend(3, 16, out Span<byte> payload));
        Fill(payload, 3);
        Assert.True(batch.TryAppend(4, 8, out payload));
        Fill(payload, 4);
        Assert.Equal(firstBefore, memory.RecordHeader(0));
        Assert.Equal(secondBefore, memory.RecordHeader(24));
        Assert.False(ring.CanRead);
        batch.Commit();
        Assert.Equal(0x0000_0003_0000_0018UL, memory.RecordHeader(0)); // length 24, type 3
        Assert.Equal(0x0000_0004_0000_0010UL, memory.RecordHeader(24)); // length 16, type 4
        var read = ReadAll(ring);
        AssertMessage(read[0], 3, 16);
        AssertMessage(read[1], 4, 8);
    }

    [Theory]
    [InlineData(512)] // published from the entries
    [InlineData(2048)] // read back: records of one length compared in place, mixed ones walked
    public void Spsc_batches_of_mixed_lengths_are_read_exactly(int range)
    {
        using var region = Region(8192, multi: false);
        using var ring = new RecordRing(region);
        int[] lengths = [8, 0, 17, 8, 100, 3];
        Assert.Equal(lengths.Length, WriteBatch(ring, range, 10, lengths));
        Assert.Equal(3, WriteBatch(ring, range, 20, 24, 24, 24));
        var read = ReadAll(ring);
        Assert.Equal(lengths.Length + 3, read.Count);
        for (int i = 0; i < lengths.Length; i++)
        {
            AssertMessage(read[i], 10 + i, lengths[i]);
        }

        for (int i = 0; i < 3; i++)
        {
            AssertMessage(read[lengths.Length + i], 20 + i, 24);
        }
    }

    [Fact]
    public void Spsc_batches_of_large_records_are_read_exactly_over_several_laps()
    {
        // Records of 1 KiB or more: each append asks for the next record's lines, up to the
        // range's end (a range here ends at the data area's end on some laps, and at wraps).
        using var region = Region(32768, multi: false, maxMessageLength: 4096);
        using var ring = new RecordRing(region);
        int[][] batches = [[1016, 4096, 2000], [3000, 1016], [4096, 2048], [1500, 1017, 2500, 1024]];
        int type = 0;
        for (int lap = 0; lap < 12; lap++)
        {
            int[] lengths = batches[lap % batches.Length];
            int range = lengths.Sum(l => (RingLayout.RecordHeaderSize + l + 7) & ~7);
            Assert.Equal(lengths.Length, WriteBatch(ring, range, type, lengths));
            var read = ReadAll(ring);
            Assert.Equal(lengths.Length, read.Count);
            for (int i = 0; i < lengths.Length; i++)
            {
                AssertMessage(read[i], type + i, lengths[i]);
            }

            type += lengths.Length;
        }

        Assert.Equal(ring.ProducerPosition, ring.ConsumerPosition);
    }

    [Theory]
    [InlineData(1024)]
    [InlineData(4104)]
    [InlineData(16392)]
    [InlineData(1 << 20)]
    public unsafe void A_batch_records_prefetch_asks_for_at_most_4_KiB_of_the_next_record_and_nothing_past_the_range(int aligned)
    {
        // The bounds alone (a hint has no effect to observe): as the claim's range prefetch
        // (PrefetchLimit) and the single claims' write prefetch (UIPC_PREFETCH_WRITE_MAX), at most
        // 4 KiB of lines at once, since more evict each other before the stores reach them (a
        // record of 1 MiB asked for 16384 lines per append); never past the claimed range's end.
        byte* next = (byte*)0x1_0000; // never dereferenced
        Assert.Equal(Math.Min(aligned, 4096), RecordRingEngine.BatchRecordPrefetchEnd(next, aligned, next + (2 * (nint)aligned)) - next);
        Assert.Equal(Math.Min(aligned, 4096), RecordRingEngine.BatchRecordPrefetchEnd(next, aligned, next + aligned) - next);
        Assert.Equal(520, RecordRingEngine.BatchRecordPrefetchEnd(next, aligned, next + 520) - next); // the range ends first
        Assert.Equal(0, RecordRingEngine.BatchRecordPrefetchEnd(next, aligned, next) - next); // the last record of the range: nothing after it
    }

    /// <summary>Claims <paramref name="range"/> bytes, appends two 8-byte messages (types 1 and 2, bytes 0x5a and 0x5b), then writes <paramref name="header"/> over the header of message <paramref name="rewritten"/> (0 or 1), as a peer could.</summary>
    private static void AppendTwoAndRewrite(RecordRing ring, int range, int rewritten, long header, out RecordBatch batch)
    {
        Assert.True(ring.TryClaimBatch(range, out batch));
        Assert.True(batch.TryAppend(1, 8, out Span<byte> first));
        first.Fill(0x5a);
        Assert.True(batch.TryAppend(2, 8, out Span<byte> second));
        second.Fill(0x5b);
        Span<byte> target = rewritten == 0 ? first : second;
        Unsafe.WriteUnaligned(ref Unsafe.Subtract(ref MemoryMarshal.GetReference(target), RingLayout.RecordHeaderSize), header);
    }

    private static void AssertAppendRefused(ref RecordBatch batch, int type, int length)
    {
        try
        {
            batch.TryAppend(type, length, out _);
            Assert.Fail($"TryAppend({type}, {length}) on an inactive batch returned");
        }
        catch (InvalidOperationException)
        {
        }
    }

    /// <summary>Appends empty messages until the batch refuses; returns how many it took.</summary>
    private static int AppendEmpty(ref RecordBatch batch)
    {
        int appended = 0;
        while (batch.TryAppend(0, 0, out _))
        {
            appended++;
        }

        return appended;
    }

    [Fact]
    public void Mpsc_producer_threads_deliver_every_message_once_in_per_thread_order()
    {
        const int Producers = 3;
        int perProducer = Bounded.IsStress ? 100_000 : 10_000;
        using var region = Region(4096, multi: true);
        using var ring = new RecordRing(region);
        using var stop = new CancellationTokenSource(TestWait.Long);
        var threads = new List<TestThread>();
        for (int p = 0; p < Producers; p++)
        {
            int producer = p;
            threads.Add(new TestThread(() =>
            {
                var random = new Random(producer);
                int sent = 0;
                while (sent < perProducer && !stop.IsCancellationRequested)
                {
                    if (!ring.TryClaimBatch(random.Next(16, 300), out RecordBatch batch))
                    {
                        Thread.Yield();
                        continue;
                    }

                    using (batch)
                    {
                        int appended = 0;
                        while (sent + appended < perProducer && batch.TryAppend(producer, random.Next(4, 24), out Span<byte> payload))
                        {
                            BitConverter.TryWriteBytes(payload, sent + appended);
                            appended++;
                        }

                        if (random.Next(10) == 0)
                        {
                            continue; // abandoned: disposed uncommitted
                        }

                        batch.Commit();
                        sent += appended;
                    }
                }
            }, $"record batch producer {producer}"));
        }

        var next = new int[Producers];
        var handler = new CheckOrder(next);
        long total = 0;
        while (total < (long)Producers * perProducer && !stop.IsCancellationRequested)
        {
            int read = ring.Read(ref handler);
            total += read;
            if (read == 0)
            {
                Thread.Yield();
            }
        }

        threads.ForEach(t => t.Join());
        Assert.Equal(0, ring.Read(ref handler));
        Assert.Equal(Enumerable.Repeat(perProducer, Producers), next);
        Assert.Equal(ring.ProducerPosition, ring.ConsumerPosition);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Batches_allocate_nothing(bool multi)
        => Assert.Equal(0, AllocatedByBatches(multi, static (ref RecordBatch batch, byte round) =>
        {
            while (batch.TryAppend(1, 56, out Span<byte> payload))
            {
                payload[0] = round;
            }
        }));

    private readonly struct CheckOrder(int[] next) : IRecordHandler
    {
        public void Handle(int type, ReadOnlySpan<byte> payload)
        {
            int sequence = BitConverter.ToInt32(payload);
            if (sequence != next[type])
            {
                throw new InvalidOperationException($"producer {type}: message {sequence}, expected {next[type]}");
            }

            next[type]++;
        }
    }
}
