using UintrIpc.Memory;
using UintrIpc.Rings;

namespace UintrIpc.Tests.Rings;

/// <summary>
/// The claimed marker of an MPSC in-place slot claim (uintripc.h 2d): the thread a ring object
/// caches writes it only when its intent is about to stop covering the claim (its next claim, or
/// the end of its registration), so a claim published before the next one costs the same shared
/// stores as a copy. These tests pin when the marker must be there, and that it never lands on
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
        Assert.True(producer.TryClaim(out SlotClaim<long> first)); // the first claim registers (and marks at once)
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
