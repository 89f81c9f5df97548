using UintrIpc.Channels;
using UintrIpc.Memory;
using UintrIpc.Rings;

namespace UintrIpc.Tests.Rings;

/// <summary>
/// The claimed marker of an MPSC in-place slot claim, single or batch (uintripc.h 2d): the thread
/// a ring object caches writes it only when its intent is about to stop covering the claim (its
/// next claim, or the end of its registration), so a claim published before the next one costs
/// the same shared stores as a copy. These tests pin when the marker must be there, and that it never lands on
/// a slot that was published or skipped meanwhile. Slot words are read from the region.
/// </summary>
public sealed class DeferredClaimMarkerTests : IDisposable
{
    private readonly SharedRegion _region = SharedRegion.CreateAnonymous(SlotRing<long>.Part(8, multipleProducers: true));
    private readonly SlotRing<long> _consumer;
    private readonly RingMemory _memory;

    public DeferredClaimMarkerTests()
    {
        _consumer = new SlotRing<long>(_region);
        _memory = RingMemory.Of(_region, PartKind.MpscSlots);
    }

    [Fact]
    public void A_held_claim_is_marked_before_the_same_thread_claims_again()
    {
        using var producer = new SlotRing<long>(_region);
        Assert.True(producer.TryWrite(0)); // this thread becomes the cached one
        Assert.True(_consumer.TryRead(out _));

        Assert.True(producer.TryClaim(out SlotClaim<long> held));
        // Until the next claim the intent covers position 1: (1, one slot).
        Assert.Equal(1UL | (1UL << 32), _memory.ProducerWord(0, RingLayout.ProducerClaimOffset));

        Assert.True(producer.TryWrite(7)); // position 2: the intent moves on, so position 1 must be marked first
        Assert.True(ClaimMarker.IsSlotMarker(_memory.Sequence(1), 1), $"position 1 holds 0x{_memory.Sequence(1):x}, not its claimed marker");
        Assert.Equal(0u, ClaimMarker.TagOfSlot(_memory.Sequence(1)) & 0xFF); // names our entry (0)
        Assert.Equal(2UL | (1UL << 32), _memory.ProducerWord(0, RingLayout.ProducerClaimOffset));

        held.Item = 5;
        held.Publish();
        Assert.Equal([5L, 7L], ReadAll());
    }

    [Fact]
    public void A_claim_published_or_aborted_before_the_next_one_is_never_marked_afterwards()
    {
        using var producer = new SlotRing<long>(_region);
        Assert.True(producer.TryClaim(out SlotClaim<long> first)); // the first claim registers this thread as the cached one
        first.Item = 1;
        first.Publish();

        Assert.True(producer.TryClaim(out SlotClaim<long> published));
        published.Item = 2;
        published.Publish();
        Assert.True(producer.TryClaim(out SlotClaim<long> aborted));
        aborted.Abort();
        Assert.True(producer.TryWrite(3));

        Assert.Equal(2UL, _memory.Sequence(1)); // published: position + 1
        Assert.Equal(RingLayout.SlotSkipped | 3UL, _memory.Sequence(2)); // skipped, not re-marked
        Assert.Equal([1L, 2L, 3L], ReadAll());
    }

    [Fact]
    public void A_claim_the_consumer_skipped_is_not_marked_again_by_the_next_claim()
    {
        using var producer = new SlotRing<long>(_region);
        Assert.True(producer.TryWrite(0));
        Assert.True(_consumer.TryRead(out _));
        Assert.True(producer.TryClaim(out SlotClaim<long> held));

        // The manual unblock (a consumer that believes the producer dead) skips position 1.
        Assert.True(_consumer.TryUnblock(TimeSpan.Zero));
        Assert.Equal(RingLayout.SlotSkipped | 2UL, _memory.Sequence(1));
        Assert.True(producer.TryWrite(9)); // must not put a marker over the skip

        Assert.Equal(RingLayout.SlotSkipped | 2UL, _memory.Sequence(1));
        Assert.Equal([9L], ReadAll());
        held.Dispose();
    }

    [Fact]
    public void Disposing_the_ring_marks_a_held_claim_so_the_consumer_can_skip_it()
    {
        var producer = new SlotRing<long>(_region);
        Assert.True(producer.TryWrite(0));
        Assert.True(_consumer.TryRead(out _));
        Assert.True(producer.TryClaim(out SlotClaim<long> held));
        Assert.Equal(0UL, _memory.Sequence(1)); // deferred: nothing written to the slot yet

        producer.Dispose(); // the registration ends: the intent no longer attributes position 1
        Assert.True(ClaimMarker.IsSlotMarker(_memory.Sequence(1), 1), $"position 1 holds 0x{_memory.Sequence(1):x}, not its claimed marker");
        Assert.True(_consumer.TrySkipDeadClaim(), "the claim of a closed ring object was not skipped");
        Assert.Equal(2, _consumer.ConsumerPosition);
        bool threw = false;
        try
        {
            held.Publish();
        }
        catch (ObjectDisposedException)
        {
            threw = true;
        }

        Assert.True(threw, "a claim of a disposed ring was published");
    }

    [Fact]
    public void Another_thread_of_the_same_ring_object_marks_its_claim_at_once()
    {
        using var producer = new SlotRing<long>(_region);
        Assert.True(producer.TryWrite(0)); // this thread is the cached one
        ulong sequence = 0;
        var other = new Thread(() =>
        {
            Assert.True(producer.TryClaim(out SlotClaim<long> claim));
            sequence = _memory.Sequence(1);
            claim.Item = 4;
            claim.Publish();
        });
        other.Start();
        Assert.True(other.Join(TimeSpan.FromSeconds(30)));

        Assert.True(ClaimMarker.IsSlotMarker(sequence, 1), $"the other thread's claim held 0x{sequence:x}, not its claimed marker");
        Assert.Equal([0L, 4L], ReadAll());
    }

    [Fact]
    public void A_held_batch_is_marked_before_the_same_thread_claims_again()
    {
        using var producer = new SlotRing<long>(_region);
        Assert.True(producer.TryWrite(0)); // this thread becomes the cached one
        Assert.True(_consumer.TryRead(out _));

        Assert.True(producer.TryClaim(3, out SlotBatch<long> held));
        for (ulong position = 1; position <= 3; position++)
        {
            Assert.Equal(0UL, _memory.Sequence(position)); // deferred: the intent (1, 3 slots) attributes them
        }

        Assert.Equal(1UL | (3UL << 32), _memory.ProducerWord(0, RingLayout.ProducerClaimOffset));
        Assert.True(producer.TryWrite(7)); // position 4: the intent moves on, so positions 1-3 must be marked first
        for (ulong position = 1; position <= 3; position++)
        {
            Assert.True(ClaimMarker.IsSlotMarker(_memory.Sequence(position), position), $"position {position} holds 0x{_memory.Sequence(position):x}, not its claimed marker");
            Assert.Equal(0u, ClaimMarker.TagOfSlot(_memory.Sequence(position)) & 0xFF); // names our entry (0)
        }

        held[0] = 1;
        held[1] = 2;
        held[2] = 3;
        held.Publish();
        Assert.Equal([1L, 2L, 3L, 7L], ReadAll());
    }

    [Fact]
    public void A_batch_published_or_aborted_before_the_next_claim_is_never_marked_afterwards()
    {
        using var producer = new SlotRing<long>(_region);
        Assert.True(producer.TryWrite(0)); // this thread becomes the cached one
        Assert.True(producer.TryClaim(2, out SlotBatch<long> published));
        published[0] = 1;
        published[1] = 2;
        published.Publish(1); // the first published, the second given up
        Assert.True(producer.TryClaim(2, out SlotBatch<long> aborted));
        aborted.Abort();
        Assert.True(producer.TryWrite(5));

        Assert.Equal(2UL, _memory.Sequence(1));
        Assert.Equal(RingLayout.SlotSkipped | 3UL, _memory.Sequence(2));
        Assert.Equal(RingLayout.SlotSkipped | 4UL, _memory.Sequence(3));
        Assert.Equal(RingLayout.SlotSkipped | 5UL, _memory.Sequence(4));
        Assert.Equal([0L, 1L, 5L], ReadAll());
    }

    [Fact]
    public void A_batch_copy_published_after_the_original_throws_while_the_slots_are_unmarked()
    {
        using var producer = new SlotRing<long>(_region);
        Assert.True(producer.TryWrite(0));
        Assert.True(producer.TryClaim(2, out SlotBatch<long> batch));
        SlotBatch<long> copy = batch;
        batch[0] = 1;
        batch[1] = 2;
        batch.Publish();
        bool threw = false;
        try
        {
            copy.Publish();
        }
        catch (InvalidOperationException)
        {
            threw = true;
        }

        Assert.True(threw, "a copy published the original's slots again");
        copy.Dispose(); // decided from the slots: published ones are left alone
        Assert.True(producer.TryWrite(3)); // and the next claim marks nothing of it
        Assert.Equal(2UL, _memory.Sequence(1));
        Assert.Equal(3UL, _memory.Sequence(2));
        Assert.Equal([0L, 1L, 2L, 3L], ReadAll());
    }

    [Fact]
    public void Disposing_the_ring_marks_a_held_batch_so_the_consumer_can_skip_it()
    {
        var producer = new SlotRing<long>(_region);
        Assert.True(producer.TryWrite(0));
        Assert.True(_consumer.TryRead(out _));
        Assert.True(producer.TryClaim(3, out SlotBatch<long> held));
        Assert.Equal(0UL, _memory.Sequence(1)); // deferred: nothing written to the slots yet

        producer.Dispose(); // the registration ends: the intent no longer attributes positions 1-3
        for (ulong position = 1; position <= 3; position++)
        {
            Assert.True(ClaimMarker.IsSlotMarker(_memory.Sequence(position), position), $"position {position} holds 0x{_memory.Sequence(position):x}, not its claimed marker");
        }

        int skips = 0;
        while (_consumer.TrySkipDeadClaim())
        {
            skips++; // a marker names one slot: one per call
        }

        Assert.Equal(3, skips);
        Assert.Equal(4, _consumer.ConsumerPosition);
        bool threw = false;
        try
        {
            held.Publish();
        }
        catch (ObjectDisposedException)
        {
            threw = true;
        }

        Assert.True(threw, "a batch of a disposed ring was published");
        held.Dispose(); // touches nothing
        Assert.Equal(RingLayout.SlotSkipped | 2UL, _memory.Sequence(1));
    }

    [Fact]
    public void Another_thread_of_the_same_ring_object_marks_its_batch_at_once()
    {
        using var producer = new SlotRing<long>(_region);
        Assert.True(producer.TryWrite(0)); // this thread is the cached one
        var sequences = new ulong[2];
        var other = new Thread(() =>
        {
            Assert.True(producer.TryClaim(2, out SlotBatch<long> batch));
            sequences[0] = _memory.Sequence(1);
            sequences[1] = _memory.Sequence(2);
            batch[0] = 4;
            batch[1] = 5;
            batch.Publish();
        });
        other.Start();
        Assert.True(other.Join(TimeSpan.FromSeconds(30)));

        Assert.True(ClaimMarker.IsSlotMarker(sequences[0], 1), $"the other thread's batch held 0x{sequences[0]:x}, not its claimed marker");
        Assert.True(ClaimMarker.IsSlotMarker(sequences[1], 2), $"the other thread's batch held 0x{sequences[1]:x}, not its claimed marker");
        Assert.Equal([0L, 4L, 5L], ReadAll());
    }

    [Fact]
    public void A_held_batch_is_marked_before_a_poll_of_the_full_ring_withdraws_the_intent()
    {
        using var producer = new SlotRing<long>(_region);
        Assert.True(producer.TryClaim(8, out SlotBatch<long> held)); // the whole ring, markers deferred
        Assert.Equal(0UL | (8UL << 32), _memory.ProducerWord(0, RingLayout.ProducerClaimOffset));

        Assert.False(producer.TryWrite(9)); // full: the intent is withdrawn (2f), so the batch must be marked first
        Assert.Equal(ClaimMarker.NoIntent, _memory.ProducerWord(0, RingLayout.ProducerClaimOffset));
        for (ulong position = 0; position < 8; position++)
        {
            Assert.True(ClaimMarker.IsSlotMarker(_memory.Sequence(position), position), $"position {position} holds 0x{_memory.Sequence(position):x}, not its claimed marker");
        }

        Assert.False(_consumer.TrySkipDeadClaim()); // the markers name a live registration
        for (int i = 0; i < 8; i++)
        {
            held[i] = i;
        }

        held.Publish();
        Assert.Equal([0L, 1L, 2L, 3L, 4L, 5L, 6L, 7L], ReadAll());
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _consumer.Dispose();
        _region.Dispose();
    }

    private long[] ReadAll()
    {
        var items = new List<long>();
        while (_consumer.TryRead(out long item))
        {
            items.Add(item);
        }

        return [.. items];
    }
}
