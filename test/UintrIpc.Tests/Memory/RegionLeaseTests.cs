using System.Runtime.CompilerServices;
using UintrIpc.Channels;
using UintrIpc.Memory;
using UintrIpc.Rings;
using UintrIpc.Tests.Infrastructure;
using UintrIpc.Tests.Rings;
using UintrIpc.TestPeer.Commands;

namespace UintrIpc.Tests.Memory;

/// <summary>
/// Finding 1 of the trust issue, region and ring side: the mapping is leased by the region and
/// by every ring; it goes away when the last lease is released, whatever disposes what, from
/// any thread; a disposed ring refuses every call instead of touching memory.
/// </summary>
[Collection(CrossProcessCollection.Name)]
public sealed class RegionLeaseTests(ITestOutputHelper output)
{
    private static SharedRegion FourRings() => SharedRegion.CreateAnonymous(
        SlotRing<long>.Part(16), SlotRing<long>.Part(16, multipleProducers: true, tag: 1), RecordRing.Part(256), RecordRing.Part(256, multipleProducers: true, tag: 1));

    [Fact]
    public void Disposing_the_region_while_another_thread_uses_its_rings_does_not_crash_and_unmaps_after_the_last_ring()
    {
        // In a child: before leases this took the whole process down (SIGSEGV on the unmapped ring).
        RunChildExpectingOk("lease-dispose-region-under-rings", "200000");
    }

    [Theory]
    [InlineData("spsc")]
    [InlineData("mpsc")]
    [InlineData("spsc-records")]
    [InlineData("mpsc-records")]
    public void Disposing_a_ring_that_holds_the_last_lease_while_another_thread_calls_it_does_not_crash(string kind)
    {
        // In a child: before MappingUse the ring's Dispose unmapped the memory under the running call (SIGSEGV in every kind).
        RunChildExpectingOk("lease-dispose-ring-under-call", kind, "500");
    }

    [Theory]
    [InlineData("spsc", "claims")]
    [InlineData("mpsc", "claims")]
    [InlineData("spsc-records", "claims")]
    [InlineData("mpsc-records", "claims")]
    [InlineData("spsc", "batches")]
    [InlineData("mpsc", "batches")]
    [InlineData("spsc-records", "batches")]
    [InlineData("mpsc-records", "batches")]
    [InlineData("mpsc", "unblock")]
    [InlineData("mpsc-records", "unblock")]
    [InlineData("spsc", "getters")]
    [InlineData("mpsc", "getters")]
    [InlineData("spsc-records", "getters")]
    [InlineData("mpsc-records", "getters")]
    [InlineData("spsc", "claim-writes")]
    [InlineData("mpsc", "claim-writes")]
    [InlineData("spsc-records", "claim-writes")]
    [InlineData("mpsc-records", "claim-writes")]
    [InlineData("spsc", "batch-writes")]
    [InlineData("mpsc", "batch-writes")]
    [InlineData("spsc-records", "batch-writes")]
    [InlineData("mpsc-records", "batch-writes")]
    public void Disposing_a_ring_that_holds_the_last_lease_while_another_thread_completes_or_writes_into_claims_unblocks_or_reads_getters_does_not_crash(string kind, string op)
    {
        // In a child: the completion's (unblock's, getter's) check of the disposed flag, then its
        // access, raced the unmap (SIGSEGV) before these calls recorded themselves in MappingUse.
        // Since poll0 a read there finds a zero page, no crash: unblock and getters run on a ring
        // whose positions are off zero and check what they read (review14: with Begin's depth store
        // removed they passed 6 of 6 before, fail 6 of 6 now).
        // The writes through a claim's Item or Payload, a batch's indexer and a record batch's
        // TryAppend (claim-writes, batch-writes) are recorded nowhere: with a read-only placeholder
        // after the last release they died (exit 134, 8 of 8); the placeholder is writable now.
        RunChildExpectingOk("lease-dispose-ring-under-completion", kind, op, "500");
    }

    // Several writers only. A single writer's claims and completions record nothing (a record per
    // call would cost the SPSC channel's hot path), so racing them with the writer's Dispose is
    // outside its documented contract ("complete open claims first") and can leave a peer's view
    // short of or past the tail: the SPSC rows failed 3 of 64 runs under load (lead, stop 29).
    [Theory]
    [InlineData("mpsc", "claim-writes")]
    [InlineData("mpsc-messages", "claim-writes")]
    [InlineData("mpsc", "batch-writes")]
    [InlineData("mpsc-messages", "batch-writes")]
    public void Disposing_a_channel_writer_that_holds_the_last_lease_while_another_thread_writes_into_its_claims_leaves_a_ring_a_peer_reads_to_the_tail(string kind, string op)
    {
        // In a child: a channel writer's claims and batches (the writer's Dispose releases the
        // channel's last lease, which retires the mapping at once: channels keep it by their own
        // count). A peer's view must hold exactly the messages published, in order, up to the tail
        // (review16: on main the MPSC message claims failed, a batch's first header lost with the
        // mapping: the peer stalled 512 bytes before the tail, 1 of 1 runs; a claim starting after
        // the release read the placeholder's tail 0 and threw RingCorruptedException, 2 of 2).
        RunChildExpectingOk("lease-dispose-writer-under-claims", kind, op, "500");
    }

    [Theory]
    [InlineData("spsc")]
    [InlineData("mpsc")]
    [InlineData("spsc-records")]
    [InlineData("mpsc-records")]
    public void Disposing_a_ring_that_holds_the_last_lease_while_another_thread_polls_it_empty_does_not_crash(string kind)
    {
        // In a child, both threads on one CPU. Built for empty polls without a MappingUse record
        // (design-notes "poll0", not kept): with the release unmapping instead of retiring the
        // mapping, the next poll died (exit 134, 4 of 4 kinds). Polls are recorded again; a guard:
        // on a ring past its first lap (at position 0 a zero page reads as an empty new ring, and
        // with Begin's depth store removed this passed 4 of 4), where a poll of the released range
        // finds the shared head 0 and writes it back to the read-only page (exit 134, 4 of 4).
        RunChildExpectingOk("lease-dispose-ring-under-completion", kind, "polls", "500");
    }

    [Theory]
    [InlineData("spsc")]
    [InlineData("mpsc")]
    [InlineData("spsc-records")]
    [InlineData("mpsc-records")]
    public void A_write_into_a_claim_or_batch_after_the_last_release_reaches_no_shared_memory_and_its_completion_throws(string kind)
    {
        // In a child (a store to a read-only placeholder kills it: exit 134 on main), one thread:
        // claim, dispose the ring (last lease: retired at once), write, complete. A second mapping
        // of the same memory must not change; with Retire a no-op (the shared mapping kept) it did.
        RunChildExpectingOk("lease-write-claims-after-release", kind);
    }

    [Fact]
    public void The_placeholder_left_by_the_last_release_is_unmapped_once_the_rings_and_region_are_collected()
    {
        // In a child (its own /proc/self/maps): the private range that replaces a released mapping must not outlive the objects that could read it.
        RunChildExpectingOk("lease-placeholder-collected");
    }

    [Fact]
    public void A_release_whose_writable_placeholder_is_refused_leaves_the_read_only_one()
    {
        // In a child with a seccomp filter that fails only the writable placeholder's mmap (ENOMEM), as
        // strict overcommit may: Retire's fallback (claimw) must map the read-only one, not unmap the range.
        RunChildExpectingOk("lease-retire-writable-fails");
    }

    [Fact]
    public void A_release_whose_placeholder_cannot_be_mapped_unmaps_at_once_and_leaves_the_address_to_others()
    {
        // In a child with a seccomp filter that fails the placeholder's mmap (ENOMEM): before review14
        // the shared mapping stayed until the finalizer, which would unmap whatever held the address then.
        // W^X off: the runtime's code heap then maps no transient writable views, one of which took
        // the freed address between the release and the sentinel in a run (spsc1's merge).
        var noTransientViews = new Dictionary<string, string> { ["DOTNET_EnableWriteXorExecute"] = "0" };
        RunChildExpectingOk(noTransientViews, "lease-retire-fails");
    }

    [Theory]
    [InlineData("records")]
    [InlineData("slots")]
    public void A_ring_disposed_inside_its_consumer_s_read_keeps_the_memory_until_the_read_returns(string kind)
    {
        // In a child: an unmap under the read crashes it (the read's release writes the ring).
        RunChildExpectingOk("lease-dispose-ring-in-read", kind);
    }

    [Theory]
    [InlineData("mpsc")]
    [InlineData("mpsc-records")]
    [InlineData("mpsc-record-batch")]
    public void A_ring_whose_last_use_is_a_write_in_progress_keeps_the_memory_through_gcs_and_finalizers(string kind)
    {
        // In a child, optimized from the start (tier-0 code keeps every reference alive): a mapping finalized under the write crashes it.
        var optimized = new Dictionary<string, string> { ["DOTNET_TieredCompilation"] = "0" };
        RunChildExpectingOk(optimized, "lease-collect-ring-in-write", kind, "500");
    }

    [Fact]
    public void A_ring_keeps_the_memory_mapped_after_its_region_is_disposed()
    {
        var region = FourRings();
        var maps = RegionMaps.Of(region);
        using var ring = new SlotRing<long>(region);
        region.Dispose();

        Assert.True(maps.IsMapped(), "the region's Dispose unmapped memory a ring still leases");
        Assert.True(ring.TryWrite(42));
        Assert.True(ring.TryRead(out long value));
        Assert.Equal(42, value);
    }

    [Fact]
    public void The_memory_is_unmapped_when_the_last_lease_is_released_in_any_order()
    {
        for (int order = 0; order < 3; order++)
        {
            var region = FourRings();
            var maps = RegionMaps.Of(region);
            var rings = new IDisposable[] { new SlotRing<long>(region, 0u), new SlotRing<long>(region, 1u), new RecordRing(region, 0u), new RecordRing(region, 1u) };
            var all = new List<IDisposable>(rings);
            all.Insert(order == 0 ? 0 : order == 1 ? all.Count : 2, region);
            for (int i = 0; i < all.Count; i++)
            {
                Assert.True(maps.IsMapped(), $"order {order}: unmapped after {i} of {all.Count} disposals");
                all[i].Dispose();
                all[i].Dispose(); // idempotent: a second Dispose releases nothing more
            }

            Assert.False(maps.IsMapped(), $"order {order}: still mapped after every lease was released");
        }
    }

    [Theory]
    [InlineData("slots")]
    [InlineData("records")]
    public void Claims_and_batches_completed_out_of_order_across_rings_or_dropped_leave_no_call_that_keeps_a_mapping(string kind)
    {
        // A completion records itself in the record its claim used (guard2): the MPSC claims of one
        // thread share its record, whatever ring they are on, and complete in any order; an SPSC
        // claim may be dropped (the next claim supersedes it). Neither may leave a call recorded:
        // the mapping would then stay after its last lease, for as long as the thread lives.
        var regionA = FourRings();
        var regionB = FourRings();
        var mapsA = RegionMaps.Of(regionA);
        var mapsB = RegionMaps.Of(regionB);
        IDisposable[] ringsA, ringsB;
        if (kind == "slots")
        {
            SlotRing<long> a = new(regionA, 1u), b = new(regionB, 1u), spsc = new(regionA, 0u);
            ringsA = [a, spsc];
            ringsB = [b];
            Assert.True(a.TryClaim(out SlotClaim<long> first));
            Assert.True(b.TryClaim(out SlotClaim<long> second));
            first.Item = 1;
            second.Item = 2;
            first.Publish(); // first claimed, first completed: not the reverse of the claims
            second.Publish();
            Assert.True(a.TryClaim(2, out SlotBatch<long> firstBatch));
            Assert.True(b.TryClaim(2, out SlotBatch<long> secondBatch));
            firstBatch.Abort();
            secondBatch.Publish(0);
            Assert.True(spsc.TryClaim(out SlotClaim<long> dropped));
            dropped.Item = 3; // never published nor disposed
            Assert.True(a.TryRead(out long one) && one == 1 && b.TryRead(out long two) && two == 2);
        }
        else
        {
            RecordRing a = new(regionA, 1u), b = new(regionB, 1u), spsc = new(regionA, 0u);
            ringsA = [a, spsc];
            ringsB = [b];
            Assert.True(a.TryClaim(1, 8, out RecordClaim first));
            Assert.True(b.TryClaim(2, 8, out RecordClaim second));
            first.Commit();
            second.Commit();
            Assert.True(a.TryClaimBatch(64, out RecordBatch firstBatch));
            Assert.True(b.TryClaimBatch(64, out RecordBatch secondBatch));
            Assert.True(firstBatch.TryAppend(3, 8, out _));
            Assert.True(secondBatch.TryAppend(4, 8, out _));
            firstBatch.Commit();
            secondBatch.Abort();
            Assert.True(spsc.TryClaim(5, 8, out RecordClaim dropped));
            dropped.Payload.Fill(5); // never committed nor disposed
            Assert.True(a.TryRead(out int one, new byte[8], out _) && one == 1 && b.TryRead(out int two, new byte[8], out _) && two == 2);
        }

        regionA.Dispose();
        regionB.Dispose();
        foreach (IDisposable ring in ringsB.Concat(ringsA))
        {
            ring.Dispose();
        }

        Assert.False(mapsB.IsMapped(), "the second ring's mapping stayed after its last lease: a call is still recorded on it");
        Assert.False(mapsA.IsMapped(), "the first ring's mapping stayed after its last lease: a call is still recorded on it");
    }

    [Fact]
    public void Disposals_racing_on_several_threads_unmap_exactly_once_after_the_last()
    {
        for (int round = 0; round < 50; round++)
        {
            var region = FourRings();
            var maps = RegionMaps.Of(region);
            IDisposable[] holders = [region, new SlotRing<long>(region, 0u), new SlotRing<long>(region, 1u), new RecordRing(region, 0u), new RecordRing(region, 1u)];
            using var go = new Barrier(holders.Length);
            var threads = holders.Select(h => new Thread(() =>
            {
                go.SignalAndWait(TimeSpan.FromSeconds(30));
                h.Dispose();
            })).ToArray();
            foreach (var t in threads)
            {
                t.Start();
            }

            foreach (var t in threads)
            {
                Assert.True(t.Join(TimeSpan.FromSeconds(30)));
            }

            Assert.False(maps.IsMapped());
            Assert.False(region.IsMapped);
        }
    }

    [Fact]
    public void An_spsc_producer_call_that_threw_is_over_so_the_last_dispose_unmaps_at_once()
    {
        // The SPSC single write and claim record their call without a try/finally on their quick path;
        // a ring full by the cached head goes out of line, where a hostile head throws: the call must
        // end there too, or its record says "in a call" for good and the memory is never unmapped.
        var region = SharedRegion.CreateAnonymous(SlotRing<long>.Part(16));
        var maps = RegionMaps.Of(region);
        var ring = new SlotRing<long>(region);
        for (int i = 0; i < 16; i++)
        {
            Assert.True(ring.TryWrite(i));
        }

        RingMemory.Of(region, PartKind.SpscSlots).Head = 1000; // ahead of the tail: impossible
        Assert.Throws<RingCorruptedException>(() => ring.TryWrite(16));
        Assert.Throws<RingCorruptedException>(() => ring.TryClaim(out _));
        region.Dispose();
        ring.Dispose();

        Assert.False(maps.IsMapped(), "the last lease's release kept the memory for a call that had thrown");
    }

    [Fact]
    public void An_spsc_record_producer_call_that_threw_is_over_so_the_last_dispose_unmaps_at_once()
    {
        // As the slot case above, for the record ring: TryWrite records its quick path without a
        // try/finally, and a claim's commit records itself in the producer role's record the same way;
        // a ring full by the cached head goes out of line, where a hostile head throws (the single
        // calls and the batch claim), and a refused commit throws after its record ended. Each call
        // must end, or the record says "in a call" for good and the memory is never unmapped.
        var region = SharedRegion.CreateAnonymous(RecordRing.Part(256));
        var maps = RegionMaps.Of(region);
        var ring = new RecordRing(region);
        byte[] message = new byte[8];
        Assert.True(ring.TryClaim(1, 8, out RecordClaim discarded));
        Assert.True(ring.TryWrite(1, message)); // discards the open claim
        InvalidOperationException? refused = null;
        try
        {
            discarded.Commit();
        }
        catch (InvalidOperationException e)
        {
            refused = e;
        }

        Assert.NotNull(refused);
        while (ring.TryWrite(1, message))
        {
        }

        RingMemory.Of(region, PartKind.SpscRecords).Head = 100_000; // ahead of the tail: impossible
        Assert.Throws<RingCorruptedException>(() => ring.TryWrite(1, message));
        Assert.Throws<RingCorruptedException>(() => ring.TryClaim(1, 8, out _));
        Assert.Throws<RingCorruptedException>(() => ring.TryClaimBatch(16, out _));
        region.Dispose();
        ring.Dispose();

        Assert.False(maps.IsMapped(), "the last lease's release kept the memory for a call that had thrown");
    }

    [Fact]
    public void An_spsc_producer_write_or_publish_that_was_refused_is_over_so_the_last_dispose_unmaps_at_once()
    {
        // A raw SPSC ring's quick write and publish mark their call in the private tail (spsc2) and
        // clear the mark on every way out: a write that finds the ring full, a publish or write that
        // finds the ring disposed. A mark left set says "in a call" for good: never unmapped.
        var region = SharedRegion.CreateAnonymous(SlotRing<long>.Part(16));
        var maps = RegionMaps.Of(region);
        var ring = new SlotRing<long>(region);
        for (int i = 0; i < 16; i++)
        {
            Assert.True(ring.TryWrite(i));
        }

        Assert.False(ring.TryWrite(16)); // full by the cached head, then by the shared one
        Assert.True(ring.TryRead(out long first) && first == 0);
        Assert.True(ring.TryClaim(out SlotClaim<long> claim));
        claim.Item = 16;
        ring.Dispose(); // the region's lease keeps the memory
        Assert.True(PublishThrowsDisposed(ref claim), "a publish on a disposed ring must throw");
        Assert.Throws<ObjectDisposedException>(() => ring.TryWrite(17));
        region.Dispose();

        Assert.False(maps.IsMapped(), "the last lease's release kept the memory for a write or publish that had been refused");
    }

    [Fact]
    public void An_mpsc_producer_call_that_was_refused_or_threw_is_over_so_the_last_dispose_unmaps_at_once()
    {
        // The MPSC single write, claim and publish record their call in the thread's record without a
        // try/finally on the cached thread's quick path (mpscst) and end it on every way out: a write and
        // a claim full by the cached head (then by the shared one), a tail moved back (the checked path
        // throws), a publish and a claim that find the ring disposed. A call left recorded keeps the
        // memory for good: never unmapped.
        var region = SharedRegion.CreateAnonymous(SlotRing<long>.Part(16, multipleProducers: true));
        var maps = RegionMaps.Of(region);
        var ring = new SlotRing<long>(region);
        for (int i = 0; i < 15; i++)
        {
            Assert.True(ring.TryWrite(i));
        }

        Assert.True(ring.TryClaim(out SlotClaim<long> last));
        last.Item = 15;
        last.Publish();
        Assert.False(ring.TryWrite(16)); // full by the cached head, then by the shared one
        Assert.False(ring.TryClaim(out _));
        Assert.True(ring.TryRead(out long first) && first == 0);
        Assert.True(ring.TryRead(out long second) && second == 1);
        Assert.True(ring.TryWrite(16)); // the checked write reloads the head: room for one more by the cache
        var memory = RingMemory.Of(region, PartKind.MpscSlots);
        memory.Tail = 3; // below the floor this object claimed to: impossible (the quick path's CAS sees it)
        Assert.Throws<RingCorruptedException>(() => ring.TryWrite(17));
        Assert.Throws<RingCorruptedException>(() => ring.TryClaim(out _));
        memory.Tail = 17;
        Assert.True(ring.TryClaim(out SlotClaim<long> claim));
        claim.Item = 17;
        ring.Dispose(); // the region's lease keeps the memory
        Assert.True(PublishThrowsDisposed(ref claim), "a publish on a disposed ring must throw");
        Assert.Throws<ObjectDisposedException>(() => ring.TryClaim(out _));
        Assert.Throws<ObjectDisposedException>(() => ring.TryWrite(18));
        region.Dispose();

        Assert.False(maps.IsMapped(), "the last lease's release kept the memory for an MPSC call that had been refused or had thrown");
    }

    [Fact]
    public void An_mpsc_single_write_or_claim_that_meets_a_hostile_tail_from_a_peer_is_over_so_the_last_dispose_unmaps_at_once()
    {
        // The cached thread's quick write and claim (mpscst) record their call without a try/finally, so
        // they must throw nothing: a tail they cannot use goes to the checked path, which throws inside
        // its using (review17). A peer's own mapping plays the hostile peer: a tail far ahead of the head
        // (quick: no room by the cached head; checked: the head's check), at 2^62 and at 2^64-1 (quick:
        // out of range; checked: CheckedTail). A call left recorded keeps the memory for good.
        var region = SharedRegion.CreateAnonymous(SlotRing<long>.Part(16, multipleProducers: true));
        var maps = RegionMaps.Of(region);
        using var peer = SharedRegion.Attach(region.FileHandle);
        var hostile = RingMemory.Of(peer, PartKind.MpscSlots);
        var ring = new SlotRing<long>(region);
        Assert.True(ring.TryWrite(0)); // registers: this thread is the object's cached producer from here
        foreach (ulong tail in new[] { 1 + (1UL << 40), 1UL << 62, ulong.MaxValue })
        {
            hostile.Tail = tail;
            Assert.Throws<RingCorruptedException>(() => ring.TryWrite(1));
            Assert.Throws<RingCorruptedException>(() => ring.TryClaim(out _));
        }

        hostile.Tail = 1;
        Assert.True(ring.TryWrite(1)); // the quick path again
        Assert.True(ring.TryRead(out long first) && first == 0);
        Assert.True(ring.TryRead(out long second) && second == 1);
        ring.Dispose();
        region.Dispose();

        Assert.False(maps.IsMapped(), "the last lease's release kept the memory for an MPSC call that met a hostile tail");
    }

    /// <summary>Publishes <paramref name="claim"/>; whether it threw <see cref="ObjectDisposedException"/> (a ref struct cannot go into Assert.Throws' lambda).</summary>
    private static bool PublishThrowsDisposed(ref SlotClaim<long> claim)
    {
        try
        {
            claim.Publish();
            return false;
        }
        catch (ObjectDisposedException)
        {
            return true;
        }
    }

    [Fact]
    public void A_disposed_ring_refuses_every_call()
    {
        using var region = FourRings();
        var spsc = new SlotRing<long>(region);
        var mpsc = new SlotRing<long>(region, 1u);
        var spscRecords = new RecordRing(region);
        var mpscRecords = new RecordRing(region, 1u);
        spsc.Dispose();
        mpsc.Dispose();
        spscRecords.Dispose();
        mpscRecords.Dispose();

        Assert.Throws<ObjectDisposedException>(() => spsc.TryWrite(1));
        Assert.Throws<ObjectDisposedException>(() => spsc.TryRead(out _));
        Assert.Throws<ObjectDisposedException>(() => spsc.TryClaim(out _));
        Assert.Throws<ObjectDisposedException>(() => spsc.CanRead);
        Assert.Throws<ObjectDisposedException>(() => mpsc.TryWrite(1));
        Assert.Throws<ObjectDisposedException>(() => mpsc.TryWrite([1L, 2L]));
        Assert.Throws<ObjectDisposedException>(() => mpsc.TryRead(new long[2]));
        Assert.Throws<ObjectDisposedException>(() => mpsc.TryUnblock(TimeSpan.Zero));
        Assert.Throws<ObjectDisposedException>(() => spscRecords.TryWrite(0, [1]));
        Assert.Throws<ObjectDisposedException>(() => spscRecords.TryRead(out _, new byte[8], out _));
        Assert.Throws<ObjectDisposedException>(() => mpscRecords.TryClaim(0, 1, out _));
        Assert.Throws<ObjectDisposedException>(() => mpscRecords.CanRead);
    }

    [Fact]
    public void No_ring_attaches_and_no_lease_is_taken_once_the_memory_is_gone()
    {
        var region = FourRings();
        var part = region.FindPart(PartKind.SpscSlots);
        region.Dispose();

        Assert.Throws<ObjectDisposedException>(() => new SlotRing<long>(region, part));
        Assert.False(region.TryAddLease());
        Assert.Throws<ObjectDisposedException>(region.AddLease);
    }

    [Fact]
    public void A_lease_taken_while_a_ring_holds_the_memory_keeps_it_after_the_ring_and_region_are_gone()
    {
        // What a blocking wait does: take a lease for its duration, whatever is disposed meanwhile.
        var region = FourRings();
        var maps = RegionMaps.Of(region);
        var ring = new SlotRing<long>(region);
        region.Dispose();
        region.AddLease();
        ring.Dispose();
        Assert.True(maps.IsMapped());
        region.ReleaseLease();
        Assert.False(maps.IsMapped());
        Assert.Throws<InvalidOperationException>(region.ReleaseLease);
    }

    [Fact]
    public void Rings_and_their_region_that_were_never_disposed_are_collected_once_unreachable()
    {
        // The consumers' MappingUse records once held their region from a static list: a ring or
        // channel end that was never disposed kept its mapping until the process ended.
        WeakReference region = UseFourRingsAndDropThem();
        for (int i = 0; i < 5 && region.IsAlive; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }

        Assert.False(region.IsAlive, "an undisposed region whose rings were used is still reachable after 5 full collections");
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static WeakReference UseFourRingsAndDropThem()
    {
        SharedRegion region = FourRings();
        var spsc = new SlotRing<long>(region, 0u);
        var mpsc = new SlotRing<long>(region, 1u);
        var records = new RecordRing(region, 0u);
        var mpscRecords = new RecordRing(region, 1u);
        Assert.True(spsc.TryWrite(1) && spsc.TryRead(out long one) && one == 1);
        Assert.True(mpsc.TryWrite(2) && mpsc.TryRead(out long two) && two == 2);
        Assert.True(records.TryWrite(3, [3]) && records.TryRead(out int three, new byte[8], out _) && three == 3);
        Assert.True(mpscRecords.TryWrite(4, [4]) && mpscRecords.TryRead(out int four, new byte[8], out _) && four == 4);
        return new WeakReference(region);
    }

    /// <summary>Runs the test peer's <paramref name="command"/> in a child process, which must exit 0 having printed "ok".</summary>
    private void RunChildExpectingOk(string command, params string[] args) => RunChildExpectingOk(null, command, args);

    /// <summary>As <see cref="RunChildExpectingOk(string, string[])"/>, with <paramref name="environment"/> added to the child's.</summary>
    private void RunChildExpectingOk(IReadOnlyDictionary<string, string>? environment, string command, params string[] args)
    {
        using var peer = PeerProcess.StartWrapped(output, [], environment, command, args);
        int exit = peer.WaitForExit();
        Assert.True(exit == 0, $"the child exited with {exit}: {peer.StandardOutput} {peer.StandardError}");
        Assert.Contains("ok", peer.StandardOutput, StringComparison.Ordinal);
    }
}
