using System.Runtime.Intrinsics.X86;
using UintrIpc.Channels;
using UintrIpc.Interop;
using UintrIpc.Memory;
using UintrIpc.Rings;

namespace UintrIpc.Tests.Rings;

/// <summary>The slot producers' write prefetch: available where the CPU has it, and only ever aimed at released slots (MPSC: its own batch's).</summary>
public sealed unsafe class WritePrefetchTests
{
    [Fact]
    public void Shim_ResolvesTheWritePrefetch_WhereTheCpuHasIt()
    {
        Assert.SkipUnless(X86Base.IsSupported, "x86-64 only (CPUID)");
        bool prfchw = (X86Base.CpuId(unchecked((int)0x80000001), 0).Ecx & (1 << 8)) != 0;
        Assert.Equal(prfchw, Shim.PrefetchWrite != null);
        if (prfchw)
        {
            long line = 0;
            Shim.PrefetchWrite(&line, sizeof(long)); // a hint: no effect to see, but it must return
            Assert.Equal(0, line);
        }
    }

    [Fact]
    public void Spsc_SingleClaims_AskForTheSlotsAheadABlockAtATime_OnlyWhileTheCachedHeadProvesThemReleased()
    {
        Assert.SkipWhen(Shim.PrefetchWrite == null, "no write prefetch on this machine");
        using var region = SharedRegion.CreateAnonymous(SlotRing<Wide64>.Part(64));
        var producer = new SlotRing<Wide64>(region);
        var consumer = new SlotRing<Wide64>(region);
        ref SlotRingEngine engine = ref producer.Engine;

        // 72-byte slots, 8 ahead: a claim asks only when the slot 8 on is past the frontier, then
        // for the slots up to 16 on (not its own): one call per 9 claims, for 9 slots.
        var frontiers = new List<(int Position, ulong To)>();
        ulong last = engine.PrefetchedTo;
        for (int i = 0; i < 64; i++)
        {
            Assert.True(producer.TryWrite(new Wide64 { A = i }));
            if (engine.PrefetchedTo != last)
            {
                last = engine.PrefetchedTo;
                frontiers.Add((i, last));
            }
        }

        // ... never past head + capacity by the cache (head 0: 64), and once there, no call at
        // all (claim 54 asked for 62 and 63 only; claims 56-63 find slot 64+ unproven).
        Assert.Equal([(0, 17ul), (9, 26ul), (18, 35ul), (27, 44ul), (36, 53ul), (45, 62ul), (54, 64ul)], frontiers);
        Assert.False(producer.TryWrite(new Wide64 { A = 64 })); // full

        for (int i = 0; i < 40; i++)
        {
            Assert.True(consumer.TryRead(out Wide64 item));
            Assert.Equal(i, item.A);
        }

        // The cache says head 0 until the ring looks full to it; then the refresh (head 40) proves
        // slots up to 104 released, and the claim of 64 asks for 65 to 80.
        Assert.Equal((0ul, 0ul), engine.PrefetchRange(64, 9)); // released, but the cache does not prove it yet
        Assert.True(producer.TryWrite(new Wide64 { A = 64 }));
        Assert.Equal(81ul, engine.PrefetchedTo);
    }

    [Fact]
    public void SpscBatch_PrefetchesItsSlotsAndTheSlotsAhead_FromWhereTheLastClaimStopped_OnlyReleasedOnes()
    {
        Assert.SkipWhen(Shim.PrefetchWrite == null, "no write prefetch on this machine");
        using var region = SharedRegion.CreateAnonymous(SlotRing<Wide64>.Part(256));
        var producer = new SlotRing<Wide64>(region);
        var consumer = new SlotRing<Wide64>(region);
        ref SlotRingEngine engine = ref producer.Engine;

        // 72-byte slots: 8 ahead, at most 8192 / 72 = 113 slots per claim.
        // Not the first slot of the claim: its stores come at once.
        Assert.Equal((1ul, 24ul), engine.PrefetchRange(0, 16));
        Assert.Equal((1ul, 114ul), engine.PrefetchRange(0, 200)); // capped per claim
        Assert.True(producer.TryClaim(16, out SlotBatch<Wide64> first));
        first.Publish();
        // The next claim starts where that one's prefetch ended (slot 24), not at its own start.
        Assert.Equal((24ul, 40ul), engine.PrefetchRange(16, 16));

        Assert.True(producer.TryClaim(240, out SlotBatch<Wide64> rest)); // the ring is full (by the cache, head 0)
        Assert.Equal(240, rest.Count);
        rest.Publish();
        Assert.Equal((0ul, 0ul), engine.PrefetchRange(256, 16)); // slot 256 is slot 0 of the next lap: not released

        for (int i = 0; i < 4; i++)
        {
            Assert.True(consumer.TryRead(out _));
        }

        Assert.Equal((0ul, 0ul), engine.PrefetchRange(256, 16)); // released, but the cache does not prove it yet
        Assert.True(producer.TryWrite(new Wide64 { A = 256 })); // full by the cache: refreshes it (head 4)
        Assert.Equal((258ul, 260ul), engine.PrefetchRange(257, 16)); // only up to head + capacity
    }

    [Theory]
    [InlineData(64, 1024, 200, 114ul, 8136)] // 72-byte slots: 113 after the claim's first (8 KiB), none asked for as they are taken
    [InlineData(16384, 4, 2, 2ul, 8192)]     // 16 KiB elements: one slot per claim, but only its first 8 KiB (two calls of the shim), not all of it before the first slot is written
    public void SpscBatch_AsksForAtMostTheLimitAtTheClaim_AndNothingMoreAsSmallOrHugeSlotsAreTaken(int elementSize, int slots, int count, ulong prefetchedTo, int bytes)
    {
        if (elementSize == 64)
        {
            AssertClaimAsksAtMostTheLimit<Wide64>(slots, count, prefetchedTo, bytes);
        }
        else
        {
            AssertClaimAsksAtMostTheLimit<Wide16K>(slots, count, prefetchedTo, bytes);
        }
    }

    /// <summary>A claim of <paramref name="count"/> asks for the slots after its first up to <paramref name="prefetchedTo"/>, <paramref name="bytes"/> of them; taking its elements asks for no more.</summary>
    private static void AssertClaimAsksAtMostTheLimit<T>(int slots, int count, ulong prefetchedTo, int bytes) where T : unmanaged
    {
        using SharedRegion region = PrefetchingSpscRegion<T>(slots);
        var producer = new SlotRing<T>(region);
        ref SlotRingEngine engine = ref producer.Engine;
        Assert.True(producer.TryClaim(count, out SlotBatch<T> batch));
        Assert.Equal(prefetchedTo, engine.PrefetchedTo); // capped per claim
        Assert.Equal((nuint)bytes, engine.PrefetchBytesOf(1, prefetchedTo));
        for (int i = 0; i < count; i++)
        {
            batch[i] = default;
        }

        Assert.Equal(prefetchedTo, engine.PrefetchedTo);
        batch.Publish();
    }

    [Fact]
    public void SpscBatch_OfLargeElements_AsksForEachNextSlotOfTheBatch_AsItsElementIsTaken()
    {
        // 4 KiB elements: the claim's 8 KiB covers one slot after the first; the indexer asks for
        // the others, each once, never beyond the batch (not claimed: maybe not released).
        using SharedRegion region = PrefetchingSpscRegion<Wide4K>(64);
        var producer = new SlotRing<Wide4K>(region);
        ref SlotRingEngine engine = ref producer.Engine;
        Assert.True(producer.TryClaim(16, out SlotBatch<Wide4K> batch));
        Assert.Equal(2ul, engine.PrefetchedTo); // the claim: slot 1
        for (int i = 0; i < 16; i++)
        {
            batch[i][0] = i;
            Assert.Equal((ulong)Math.Min(i + 2, 16), engine.PrefetchedTo);
        }

        _ = batch[3]; // again: asked for already
        Assert.Equal(16ul, engine.PrefetchedTo);
        batch.Publish();

        // TryWrite(span) the same: the claim's slot 17, then each next one up to the last written (23).
        Assert.Equal(8, producer.TryWrite(new Wide4K[8]));
        Assert.Equal(24ul, engine.PrefetchedTo);
    }

    [Fact]
    public void SpscBatch_Of1KiBElements_KeepsThreeToSevenSlotsAhead_WithACallPerFour_WithinTheBatch()
    {
        // 1 KiB elements (1,032-byte slots, 7 per 8 KiB): the claim asks for slots 1-7; then once
        // fewer than 3 past the next slot are asked for, up to 7 past it in one call, never past the
        // batch. Each next slot alone (a call per slot, 1 ahead) was too late and too many calls (slot1k).
        using SharedRegion region = PrefetchingSpscRegion<Wide1K>(128);
        var producer = new SlotRing<Wide1K>(region);
        ref SlotRingEngine engine = ref producer.Engine;
        Assert.True(producer.TryClaim(64, out SlotBatch<Wide1K> batch));
        Assert.Equal(8ul, engine.PrefetchedTo); // the claim: slots 1-7
        int moves = 0;
        ulong last = engine.PrefetchedTo;
        for (int i = 0; i < 64; i++)
        {
            batch[i][0] = i;
            ulong next = (ulong)i + 1;
            Assert.True(engine.PrefetchedTo >= Math.Min(next + 3, 64), $"after slot {i}: asked for up to {engine.PrefetchedTo}, fewer than 3 past {next}");
            Assert.True(engine.PrefetchedTo <= Math.Min(next + 7, 64), $"after slot {i}: asked for up to {engine.PrefetchedTo}, more than 7 past {next} or past the batch");
            if (engine.PrefetchedTo != last)
            {
                moves++;
                last = engine.PrefetchedTo;
            }
        }

        Assert.Equal(64ul, engine.PrefetchedTo);
        Assert.Equal(14, moves); // 8 -> 12 -> ... -> 64: 4 slots a call
        batch.Publish();
    }

    [Fact]
    public void MpscBatch_Of1KiBElements_KeepsThreeToSevenOfItsOwnSlotsAhead_NeverPastTheBatch()
    {
        // As the SPSC batch (above), on an MPSC ring: after the claim's CAS the batch's slots are
        // this producer's alone, so its indexer asks for them ahead as the SPSC one does; past
        // the batch nothing (other producers' claims). Two batches, the second from slot 40.
        Assert.SkipWhen(Shim.PrefetchWrite == null, "no write prefetch on this machine");
        using var region = SharedRegion.CreateAnonymous(SlotRing<Wide1K>.Part(128, multipleProducers: true));
        var producer = new SlotRing<Wide1K>(region);
        ref SlotRingEngine engine = ref producer.Engine;
        foreach ((ulong start, int count) in new[] { (0ul, 40), (40ul, 64) })
        {
            ulong end = start + (ulong)count;
            Assert.True(producer.TryClaim(count, out SlotBatch<Wide1K> batch));
            Assert.Equal((long)start, batch.Position);
            Assert.Equal(start + 8, engine.PrefetchedTo); // the claim: slots 1-7 of the batch
            int moves = 0;
            ulong last = engine.PrefetchedTo;
            for (int i = 0; i < count; i++)
            {
                batch[i][0] = i;
                ulong next = start + (ulong)i + 1;
                Assert.True(engine.PrefetchedTo >= Math.Min(next + 3, end), $"after slot {start + (ulong)i}: asked for up to {engine.PrefetchedTo}, fewer than 3 past {next}");
                Assert.True(engine.PrefetchedTo <= Math.Min(next + 7, end), $"after slot {start + (ulong)i}: asked for up to {engine.PrefetchedTo}, more than 7 past {next} or past the batch (end {end})");
                if (engine.PrefetchedTo != last)
                {
                    moves++;
                    last = engine.PrefetchedTo;
                }
            }

            Assert.Equal(end, engine.PrefetchedTo);
            Assert.Equal((count - 8) / 4, moves); // 4 slots a call
            batch.Publish();
        }
    }

    [Fact]
    public void MpscBatches_OpenAtOnce_AskOnlyForTheirOwnSlots_WhateverTheSharedFrontierSays()
    {
        // The frontier (_prefetchedTo) is one hint for all of an MPSC object's threads: a later
        // claim moves it past an earlier batch's end, an earlier one's fill must then ask for
        // nothing (not from the frontier on: the later batch's or beyond), and the later batch
        // keeps its own slots ahead, never past its end (review32).
        Assert.SkipWhen(Shim.PrefetchWrite == null, "no write prefetch on this machine");
        using var region = SharedRegion.CreateAnonymous(SlotRing<Wide1K>.Part(128, multipleProducers: true));
        var producer = new SlotRing<Wide1K>(region);
        ref SlotRingEngine engine = ref producer.Engine;
        Assert.True(producer.TryClaim(16, out SlotBatch<Wide1K> first)); // [0, 16)
        Assert.Equal(8ul, engine.PrefetchedTo);
        Assert.True(producer.TryClaim(32, out SlotBatch<Wide1K> second)); // [16, 48)
        Assert.Equal(24ul, engine.PrefetchedTo); // slots 17-23, its own
        for (int i = 0; i < 16; i++)
        {
            first[i][0] = i;
            Assert.Equal(24ul, engine.PrefetchedTo); // nothing asked for: the frontier is past the first batch's end
        }

        first.Publish();
        for (int i = 0; i < 32; i++)
        {
            second[i][0] = i;
            ulong next = 16 + (ulong)i + 1;
            Assert.True(engine.PrefetchedTo <= Math.Min(next + 7, 48ul), $"after slot {next - 1}: asked for up to {engine.PrefetchedTo}, past the second batch's end (48) or 7 past {next}");
        }

        Assert.Equal(48ul, engine.PrefetchedTo);
        second.Publish();
    }

    /// <summary>An SPSC slot ring's region of <paramref name="slots"/> elements; the test is skipped where the CPU has no write prefetch.</summary>
    private static SharedRegion PrefetchingSpscRegion<T>(int slots) where T : unmanaged
    {
        Assert.SkipWhen(Shim.PrefetchWrite == null, "no write prefetch on this machine");
        return SharedRegion.CreateAnonymous(SlotRing<T>.Part(slots));
    }

    [System.Runtime.CompilerServices.InlineArray(128)]
    private struct Wide1K
    {
        private long _first;
    }

    [System.Runtime.CompilerServices.InlineArray(512)]
    private struct Wide4K
    {
        private long _first;
    }

    [System.Runtime.CompilerServices.InlineArray(2048)]
    private struct Wide16K
    {
        private long _first;
    }

    [Fact]
    public void Mpsc_AsksForNothingPastItsClaims_AndSmallSlots_AreAskedForABlockAtATime()
    {
        // MPSC single writes and batches of small elements: no prefetch (the slots ahead are other producers' claims).
        using var mpscRegion = SharedRegion.CreateAnonymous(SlotRing<Wide64>.Part(16, multipleProducers: true));
        var mpsc = new SlotRing<Wide64>(mpscRegion);
        Assert.True(mpsc.TryWrite(new Wide64 { A = 1 }));
        Assert.True(mpsc.TryClaim(4, out SlotBatch<Wide64> small));
        for (int i = 0; i < 4; i++)
        {
            small[i].A = i;
        }

        small.Publish();
        Assert.Equal(0ul, mpsc.Engine.PrefetchedTo);

        Assert.SkipWhen(Shim.PrefetchWrite == null, "no write prefetch on this machine");
        using var region = SharedRegion.CreateAnonymous(SlotRing<long>.Part(256));
        var ring = new SlotRing<long>(region);
        ref SlotRingEngine engine = ref ring.Engine;
        // 16-byte slots, 36 ahead (4 to a line): one call per 37 single claims, each for 37 slots.
        int calls = 0;
        ulong last = engine.PrefetchedTo;
        for (int i = 0; i < 148; i++)
        {
            Assert.True(ring.TryWrite(i));
            if (engine.PrefetchedTo != last)
            {
                Assert.Equal((ulong)i + 73, engine.PrefetchedTo);
                last = engine.PrefetchedTo;
                calls++;
            }
        }

        Assert.Equal(4, calls);
    }

    [System.Runtime.InteropServices.StructLayout(System.Runtime.InteropServices.LayoutKind.Sequential, Size = 64)]
    private struct Wide64
    {
        public long A;
    }
}
