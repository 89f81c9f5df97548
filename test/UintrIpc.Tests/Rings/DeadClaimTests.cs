using UintrIpc.Memory;
using UintrIpc.Rings;
using UintrIpc.Tests.Infrastructure;

namespace UintrIpc.Tests.Rings;

/// <summary>
/// The consumer's judgement of a claim that holds it up (uintripc.h 2f), from the states producers
/// leave in the producer table: a claim is skipped only when every producer that may own it is
/// known dead, never when one of them is alive, unknown, or the claim is marked by a live one.
/// The dead producer is a real process that has exited; the live one is this process.
/// </summary>
[Collection(CrossProcessCollection.Name)]
public sealed unsafe class DeadClaimTests : IDisposable
{
    private static readonly ulong s_ourNamespace = PidNamespace.Current;
    private readonly int _deadPid;
    private readonly SharedRegion _region = SharedRegion.CreateAnonymous(SlotRing<long>.Part(8, multipleProducers: true));
    private readonly SlotRing<long> _ring;
    private readonly RingMemory _memory;

    public DeadClaimTests(ITestOutputHelper output)
    {
        using (var child = PeerProcess.Start(output, "echo", "gone"))
        {
            child.AssertSuccess();
            _deadPid = child.Pid;
        }

        Assert.SkipWhen(s_ourNamespace == 0, "/proc/self/ns/pid cannot be read here, so no producer can be judged");
        _ring = new SlotRing<long>(_region);
        _memory = RingMemory.Of(_region, PartKind.MpscSlots);
    }

    [Fact]
    public void A_dead_producers_claim_without_a_marker_is_skipped_to_the_end_of_its_intent()
    {
        _memory.Register(0, _deadPid, s_ourNamespace, start: 0, count: 3);
        _memory.Tail = 3; // its CAS succeeded; it died before publishing anything

        Assert.True(_ring.TrySkipDeadClaim());
        Assert.Equal(3, _ring.ConsumerPosition);
        Assert.True(_ring.TryWrite(42));
        Assert.True(_ring.TryRead(out long item));
        Assert.Equal(42, item);
    }

    [Fact]
    public void A_live_producer_covering_the_position_keeps_it_even_when_a_dead_one_covers_it_too()
    {
        // The dead producer lost the CAS race for position 0 (its intent is stale); we won it and are slow.
        _memory.Register(0, _deadPid, s_ourNamespace, start: 0, count: 1);
        _memory.Register(1, Environment.ProcessId, s_ourNamespace, start: 0, count: 1);
        _memory.Tail = 1;

        Assert.False(_ring.TrySkipDeadClaim());
        Assert.Equal(0, _ring.ConsumerPosition);

        // Our registration ends (its ring object was closed): nothing alive covers the position any more.
        _memory.ProducerWord(1, RingLayout.ProducerOwnerOffset) = 1UL << 32;
        Assert.True(_ring.TrySkipDeadClaim());
        Assert.Equal(1, _ring.ConsumerPosition);
    }

    [Fact]
    public void A_claimed_marker_decides_whose_claim_it_is()
    {
        _memory.Register(0, _deadPid, s_ourNamespace, start: 0, count: 1);
        _memory.Register(1, Environment.ProcessId, s_ourNamespace, start: 5, count: 1);
        _memory.Tail = 1;

        // Marked by the live producer (entry 1, generation 1), whose intent has moved on: kept.
        _memory.Sequence(0) = ClaimMarker.ForSlot(ClaimMarker.Tag(1, 1UL << 32), 0);
        Assert.False(_ring.TrySkipDeadClaim());
        Assert.False(_ring.TryRead(out _));

        // Marked by the dead one: skipped.
        _memory.Sequence(0) = ClaimMarker.ForSlot(ClaimMarker.Tag(0, 1UL << 32), 0);
        Assert.True(_ring.TrySkipDeadClaim());
        Assert.Equal(1, _ring.ConsumerPosition);
    }

    [Fact]
    public void Nothing_is_skipped_when_liveness_cannot_be_known()
    {
        _memory.Tail = 1;
        _memory.ControlWord(RingLayout.UnregisteredOffset) = 1;
        Assert.False(_ring.TrySkipDeadClaim()); // no intent covers the position, but a producer without an entry may own it
        _memory.ControlWord(RingLayout.UnregisteredOffset) = 0;

        _memory.Register(0, _deadPid, s_ourNamespace + 1, start: 0, count: 1);
        Assert.False(_ring.TrySkipDeadClaim()); // another pid namespace: the pid names another process here

        _memory.Register(0, _deadPid, s_ourNamespace, start: 0, count: 1, generation: 2);
        _memory.ControlWord(RingLayout.UnregisteredOffset) = 1;
        Assert.False(_ring.TrySkipDeadClaim()); // a producer without an entry may own it

        _memory.ControlWord(RingLayout.UnregisteredOffset) = 0;
        Assert.True(_ring.TrySkipDeadClaim());
    }

    /// <summary>
    /// A peer moved the shared tail forward (the fuzz test's seed 603444086: tail = truth + 49):
    /// positions nobody claimed, so no marker and no registered intent covers them. Without
    /// entry-less producers no producer can own them (the winner of a position covers it), so
    /// the consumer skips them one slot per call, and what is written after them arrives.
    /// </summary>
    [Fact]
    public void Positions_of_a_tail_moved_forward_that_no_intent_covers_are_skipped()
    {
        Assert.True(_ring.TryWrite(1)); // registers this thread, intent [0, 1)
        Assert.True(_ring.TryRead(out long first));
        Assert.Equal(1, first);
        _memory.Tail = 1 + 5; // the lie: five positions nobody claimed
        Assert.True(_ring.TryWrite(42)); // claims position 6, its intent [6, 7)
        Assert.False(_ring.TryRead(out _));

        for (int i = 0; i < 5; i++)
        {
            Assert.True(_ring.TrySkipDeadClaim());
        }

        Assert.Equal(6, _ring.ConsumerPosition);
        Assert.False(_ring.TrySkipDeadClaim()); // the published element: nothing to skip
        Assert.True(_ring.TryRead(out long item));
        Assert.Equal(42, item);
    }

    [Fact]
    public void A_position_the_last_intent_of_an_ended_registration_covers_is_not_taken_for_one_nobody_claimed()
    {
        // Its object closed while a write on another thread had claimed position 0: that write still publishes (2d).
        _memory.Register(0, 0, s_ourNamespace, start: 0, count: 1);
        _memory.Tail = 1;
        Assert.False(_ring.TrySkipDeadClaim());
        Assert.Equal(0, _ring.ConsumerPosition);

        _memory.Register(0, 0, s_ourNamespace, start: 5, count: 1); // its last intent elsewhere: nobody claimed 0
        Assert.True(_ring.TrySkipDeadClaim());
        Assert.Equal(1, _ring.ConsumerPosition);
    }

    [Fact]
    public void Producers_register_once_per_thread_and_give_their_entries_back_on_dispose()
    {
        using (var producer = new SlotRing<long>(_region))
        {
            Assert.True(producer.TryWrite(1));
            Assert.True(producer.TryWrite(2));
            var other = new Thread(() => Assert.True(producer.TryWrite(3)));
            other.Start();
            other.Join();

            Assert.Equal(2, RegisteredEntries(Environment.ProcessId));
            // The intent of the first thread's last claim: position 1, one slot.
            Assert.Equal(1UL | (1UL << 32), _memory.ProducerWord(0, RingLayout.ProducerClaimOffset));
            Assert.Equal(s_ourNamespace, _memory.ProducerWord(0, RingLayout.ProducerPidNamespaceOffset));
        }

        Assert.Equal(0, RegisteredEntries(Environment.ProcessId));
    }

    [Fact]
    public void A_full_table_reuses_a_dead_producers_entry_whose_claims_are_consumed()
    {
        for (int i = 0; i < RingLayout.DefaultProducerSlots; i++)
        {
            _memory.Register(i, i == 7 ? _deadPid : Environment.ProcessId, s_ourNamespace, start: 0, count: 0);
        }

        using var producer = new SlotRing<long>(_region);
        Assert.True(producer.TryWrite(1));
        Assert.Equal((uint)Environment.ProcessId, (uint)_memory.ProducerWord(7, RingLayout.ProducerOwnerOffset));
        Assert.Equal(0u, _memory.ControlWord(RingLayout.UnregisteredOffset));

        // No entry left at all: the producer still writes, and marks the ring so nobody trusts the table.
        using var another = new SlotRing<long>(_region);
        Assert.True(another.TryWrite(2));
        Assert.Equal(1u, _memory.ControlWord(RingLayout.UnregisteredOffset));
    }

    [Fact]
    public void A_dead_producers_record_claim_without_a_header_becomes_padding()
    {
        using var region = SharedRegion.CreateAnonymous(RecordRing.Part(256, multipleProducers: true));
        using var ring = new RecordRing(region);
        var memory = RingMemory.Of(region, PartKind.MpscRecords);
        memory.Register(0, _deadPid, s_ourNamespace, start: 0, count: 24);
        memory.Tail = 24;
        Assert.False(ring.TryRead(out _, new byte[32], out _));

        Assert.True(ring.TrySkipDeadClaim());
        Assert.True(ring.TryWrite(5, [1, 2, 3]));
        Assert.True(ring.TryRead(out int type, new byte[32], out int length));
        Assert.Equal((5, 3), (type, length));
        Assert.Equal(40, ring.ConsumerPosition);
    }

    /// <summary>
    /// A record claim whose registration ended (its ring object was disposed, pid 0): past its
    /// first header, right after a record of it that the consumer skipped (marked by that
    /// registration), the intent attributes the rest of a batch left open, skipped as a dead
    /// producer's (2f b). At its first header (the intent's start, or the lap start after its
    /// padding) the claim may still be in flight on another thread, about to write that header;
    /// after a committed record the zero header is not that registration's batch rest (a live
    /// producer committing its batch where a 2^32-stale intent covers it): kept.
    /// </summary>
    [Theory]
    [InlineData(32, "none", false)] // the claim's first header, at its intent's start
    [InlineData(32, "marked", true)] // a header after a record of the claim, skipped: the rest of a batch
    [InlineData(32, "committed", false)] // a header after a committed record
    [InlineData(224, "padding", false)] // the first header after the claim's padding to the end of the lap
    public void An_ended_registrations_record_claim_is_skipped_right_after_its_skipped_record_only(int start, string first, bool skipped)
    {
        const int Capacity = 256;
        using var region = SharedRegion.CreateAnonymous(RecordRing.Part(Capacity, multipleProducers: true));
        var memory = RingMemory.Of(region, PartKind.MpscRecords);
        memory.Head = (ulong)start;
        memory.Tail = (ulong)start;
        using var ring = new RecordRing(region);
        memory.Register(0, 0, s_ourNamespace, start: (ulong)start, count: 64); // ended: pid 0, generation 1
        memory.Tail = (ulong)start + 64;
        int written = first == "padding" ? 32 : 16; // the padding to the end of the lap, or a record
        if (first != "none")
        {
            uint tagOfEnded = ClaimMarker.Tag(0, 1UL << 32);
            memory.RecordHeader((ulong)start) = first switch
            {
                "marked" => (uint)-written | ((ulong)(uint)ClaimMarker.ForRecord(tagOfEnded) << 32),
                "padding" => (uint)written | (unchecked((ulong)(uint)RingLayout.PaddingRecordType) << 32),
                _ => (uint)written | (5UL << 32),
            };
            if (first == "marked")
            {
                Assert.True(ring.TrySkipDeadClaim()); // the ended registration's record becomes padding
            }

            _ = ring.TryRead(out _, new byte[64], out _); // reads it (or steps over the padding)
            Assert.Equal(start + written, ring.ConsumerPosition);
        }

        Assert.Equal(skipped, ring.TrySkipDeadClaim());
        Assert.False(ring.TryRead(out _, new byte[64], out _));
        Assert.Equal(skipped ? start + 64 : start + (first == "none" ? 0 : written), ring.ConsumerPosition);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _ring?.Dispose();
        _region.Dispose();
    }

    private int RegisteredEntries(int pid)
        => Enumerable.Range(0, RingLayout.DefaultProducerSlots).Count(i => (uint)_memory.ProducerWord(i, RingLayout.ProducerOwnerOffset) == (uint)pid);
}
