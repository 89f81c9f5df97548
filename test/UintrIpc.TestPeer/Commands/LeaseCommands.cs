using System.Globalization;
using System.Runtime.CompilerServices;
using UintrIpc.Channels;
using UintrIpc.Memory;
using UintrIpc.Rings;

namespace UintrIpc.TestPeer.Commands;

/// <summary>
/// Child-process side of the lease tests (test/UintrIpc.Tests/Memory/RegionLeaseTests.cs): the
/// scenarios that crash the whole process when a mapping goes away under a ring, so they run
/// here and the test only reads the exit code.
/// </summary>
internal static class LeaseCommands
{
    /// <summary>
    /// `lease-dispose-region-under-rings iterations`: one thread writes and reads a ring of each
    /// kind while the main thread disposes the region; the rings must go on working, and the
    /// memory must be unmapped only after the last ring is disposed. Prints "ok".
    /// </summary>
    [PeerCommand("lease-dispose-region-under-rings")]
    public static int DisposeRegionUnderRings(string[] args)
    {
        int iterations = int.Parse(args[0], CultureInfo.InvariantCulture);
        var region = SharedRegion.CreateAnonymous(
            SlotRing<long>.Part(64), SlotRing<long>.Part(64, multipleProducers: true, tag: 1), RecordRing.Part(1024), RecordRing.Part(1024, multipleProducers: true, tag: 1));
        var maps = RegionMaps.Of(region);
        var spsc = new SlotRing<long>(region);
        var mpsc = new SlotRing<long>(region, 1u);
        var spscRecords = new RecordRing(region);
        var mpscRecords = new RecordRing(region, 1u);
        using var started = new ManualResetEventSlim();
        string? failure = null;
        var worker = new Thread(() =>
        {
            Span<byte> buffer = stackalloc byte[8];
            for (long i = 0; i < iterations && failure is null; i++)
            {
                BitConverter.TryWriteBytes(buffer, i);
                bool ok = spsc.TryWrite(i) && spsc.TryRead(out long a) && a == i
                    && mpsc.TryWrite(i) && mpsc.TryRead(out long b) && b == i
                    && spscRecords.TryWrite(1, buffer) && spscRecords.TryRead(out _, buffer, out int n1) && n1 == 8 && BitConverter.ToInt64(buffer) == i
                    && mpscRecords.TryWrite(1, buffer) && mpscRecords.TryRead(out _, buffer, out int n2) && n2 == 8 && BitConverter.ToInt64(buffer) == i;
                if (!ok)
                {
                    failure = $"iteration {i}: a ring lost or changed a message";
                }

                if (i == 1000)
                {
                    started.Set();
                }
            }

            started.Set();
        });
        worker.Start();
        if (!started.Wait(TimeSpan.FromSeconds(30)))
        {
            Console.Error.WriteLine("the worker did not start");
            return 1;
        }

        region.Dispose(); // while the worker runs: the rings' leases keep the memory
        bool mappedAfterRegionDispose = maps.IsMapped();
        if (!worker.Join(TimeSpan.FromSeconds(60)))
        {
            Console.Error.WriteLine("the worker did not finish");
            return 1;
        }

        foreach (IDisposable ring in new object[] { spsc, mpsc, spscRecords, mpscRecords }.OfType<IDisposable>())
        {
            if (!maps.IsMapped())
            {
                failure ??= "the region was unmapped while a ring still held it";
            }

            ring.Dispose();
        }

        if (failure is null && !mappedAfterRegionDispose)
        {
            failure = "the region was unmapped by its Dispose while rings used it";
        }

        if (failure is null && maps.IsMapped())
        {
            failure = "the region is still mapped after every ring and the region were disposed";
        }

        Console.WriteLine(failure ?? "ok");
        return failure is null ? 0 : 1;
    }

    /// <summary>
    /// `lease-dispose-ring-under-call kind rounds`: the ring holds the last lease (its region is
    /// disposed first); a worker thread writes and reads it in a tight loop while the main thread
    /// disposes the ring. The worker must end with <see cref="ObjectDisposedException"/>, never
    /// touch unmapped memory (which ends this process with SIGSEGV), and the memory must be gone
    /// once the worker left. kind: spsc, mpsc, spsc-records, mpsc-records. Prints "ok".
    /// </summary>
    [PeerCommand("lease-dispose-ring-under-call")]
    public static int DisposeRingUnderCall(string[] args)
        => DisposeRingUnder(args[0], int.Parse(args[1], CultureInfo.InvariantCulture), static (ring, count) =>
        {
            Span<byte> buffer = stackalloc byte[8];
            if (ring is RecordRing r)
            {
                _ = r.TryWrite(1, buffer) && r.TryRead(out _, buffer, out _);
            }
            else
            {
                var s = (SlotRing<long>)ring;
                _ = s.TryWrite(count) && s.TryRead(out _);
            }
        });

    /// <summary>
    /// `lease-dispose-ring-under-completion kind op rounds`: as lease-dispose-ring-under-call, with
    /// the worker in a loop of one kind of call the ring's MappingUse did not cover: op claims
    /// (claim, then publish/commit, abort or dispose the claim), batches (the same with batches;
    /// record batches stay empty: an append's own stores are not covered), unblock (TryUnblock),
    /// getters (ProducerPosition, ConsumerPosition, Count, CanRead), polls (every consumer call
    /// on the empty ring: <see cref="PollEmpty"/>), claim-writes or batch-writes (the writes into
    /// claimed room that no record can cover: <see cref="WriteIntoClaims"/>, <see cref="WriteIntoBatches"/>).
    /// Each must end with <see cref="ObjectDisposedException"/> or land before the unmap, never touch unmapped
    /// (or read-only) memory; unblock and getters, which only read, run on an <see cref="Advance"/>d ring and
    /// check what they read: a read of the released range (a zero page since poll0, no crash) is a failure too.
    /// kind: spsc, mpsc, spsc-records, mpsc-records. Prints "ok".
    /// </summary>
    [PeerCommand("lease-dispose-ring-under-completion")]
    public static int DisposeRingUnderCompletion(string[] args)
    {
        if (args[1] == "polls")
        {
            PinToOneCpu(); // the worker, started later, inherits it (see PollEmpty)
        }

        Action<IDisposable, long> step = args[1] switch
        {
            "polls" => static (ring, count) => PollEmpty(ring),
            "claims" => static (ring, count) => CompleteClaims(ring, count),
            "batches" => static (ring, count) => CompleteBatches(ring, count),
            "unblock" => static (ring, count) => Unblock(ring),
            "getters" => static (ring, count) => CheckGetters(ring),
            "claim-writes" => static (ring, count) => WriteIntoClaims(ring, count),
            "batch-writes" => static (ring, count) => WriteIntoBatches(ring, count),
            _ => throw new ArgumentException($"unknown op {args[1]}"),
        };
        Action<IDisposable>? prepare = args[1] switch
        {
            "unblock" or "getters" => Advance,
            "polls" => static ring => Advance(ring, written: 70, read: 70), // past one lap (64 slots or records)
            _ => null,
        };
        return DisposeRingUnder(args[0], int.Parse(args[2], CultureInfo.InvariantCulture), step, prepare);
    }

    /// <summary>Messages written and read by <see cref="Advance"/>: positions that a zero page cannot pass for.</summary>
    private const int AdvancedWrites = 5, AdvancedReads = 2;

    /// <summary>
    /// Moves the ring's positions off zero (by default 5 written, 2 read; polls: past one lap, empty),
    /// so that a call that reads the released range reads values the ring never had: since poll0 that
    /// range is a zero page, not a hole, and a read there no longer ends the process (zeros look like a
    /// new ring's positions, and a slot's sequence 0 is "not yet" only on the first lap).
    /// </summary>
    private static void Advance(IDisposable ring) => Advance(ring, AdvancedWrites, AdvancedReads);

    private static void Advance(IDisposable ring, int written, int read)
    {
        Span<byte> buffer = stackalloc byte[8];
        bool ok = true;
        for (int i = 0; i < written; i++)
        {
            ok &= ring is RecordRing r ? r.TryWrite(1, buffer) : ((SlotRing<long>)ring).TryWrite(i);
            if (i >= written - read)
            {
                ok &= ring is RecordRing r2 ? r2.TryRead(out _, buffer, out _) : ((SlotRing<long>)ring).TryRead(out _);
            }
        }

        if (!ok)
        {
            throw new InvalidOperationException("could not advance the ring");
        }
    }

    /// <summary>TryUnblock on the <see cref="Advance"/>d ring: a published message at head, nothing to unblock (zeros read as tail 0 behind head: RingCorruptedException).</summary>
    private static void Unblock(IDisposable ring)
    {
        if (ring is RecordRing r ? r.TryUnblock(TimeSpan.Zero) : ((SlotRing<long>)ring).TryUnblock(TimeSpan.Zero))
        {
            throw new InvalidOperationException("TryUnblock skipped a published message");
        }
    }

    /// <summary>Every getter that reads shared memory, on the <see cref="Advance"/>d ring: each must read the ring's values (a zero page reads 0 and false).</summary>
    private static void CheckGetters(IDisposable ring)
    {
        long tail, head;
        bool canRead;
        long count = AdvancedWrites - AdvancedReads;
        if (ring is RecordRing r)
        {
            (tail, head, canRead) = (r.ProducerPosition, r.ConsumerPosition, r.CanRead);
        }
        else
        {
            var s = (SlotRing<long>)ring;
            (tail, head, count, canRead) = (s.ProducerPosition, s.ConsumerPosition, s.Count, s.CanRead);
        }

        // Records are 16 bytes each here, slots 1: either way tail : head is 5 : 2.
        if (head <= 0 || tail * AdvancedReads != head * AdvancedWrites || count != AdvancedWrites - AdvancedReads || !canRead)
        {
            throw new InvalidOperationException($"a getter read what the ring never held (tail {tail}, head {head}, count {count}, can read {canRead}): the released range, not the ring");
        }
    }

    /// <summary>
    /// Each consumer call of the ring on its empty ring (slots: TryRead of one and of a span, Drain;
    /// records: Read, TryRead). With this thread and the disposing one on one CPU, the worker is
    /// often preempted between a poll's disposed check and the next poll's loads, and the Dispose,
    /// barrier and release then run in full: with polls that read without a MappingUse record
    /// (design-notes "poll0"), a release that left a hole ended this process at the next load.
    /// </summary>
    private static void PollEmpty(IDisposable ring)
    {
        var counter = new CountingHandler();
        bool found;
        if (ring is RecordRing r)
        {
            found = r.Read(ref counter) != 0 | r.TryRead(out _, stackalloc byte[8], out _);
        }
        else
        {
            var s = (SlotRing<long>)ring;
            found = s.TryRead(out _) | s.TryRead(stackalloc long[4]) != 0 | s.Drain(ref counter) != 0;
        }

        if (found || counter.Count != 0)
        {
            throw new InvalidOperationException("an empty ring returned a message");
        }
    }

    /// <summary>Pins the calling thread (and the threads it starts afterwards) to the lowest CPU it may run on.</summary>
    private static unsafe void PinToOneCpu()
    {
        Tmds.Linux.cpu_set_t set = default;
        if (Tmds.Linux.LibC.sched_getaffinity(0, (Tmds.Linux.size_t)sizeof(Tmds.Linux.cpu_set_t), &set) != 0)
        {
            throw new InvalidOperationException("sched_getaffinity failed");
        }

        byte* bits = (byte*)&set;
        int cpu = 0;
        while ((bits[cpu / 8] & (1 << (cpu % 8))) == 0)
        {
            cpu++;
        }

        Tmds.Linux.cpu_set_t one = default;
        ((byte*)&one)[cpu / 8] = (byte)(1 << (cpu % 8));
        if (Tmds.Linux.LibC.sched_setaffinity(0, (Tmds.Linux.size_t)sizeof(Tmds.Linux.cpu_set_t), &one) != 0)
        {
            throw new InvalidOperationException($"sched_setaffinity to CPU {cpu} failed");
        }
    }

    /// <summary>Counts what a Drain or Read hands over.</summary>
    private struct CountingHandler : IRecordHandler, ISlotHandler<long>
    {
        public int Count { get; private set; }

        public void Handle(int type, ReadOnlySpan<byte> payload) => Count++;

        public void Handle(in long item) => Count++;
    }

    /// <summary>One round of claims: one completed each way (publish/commit, abort, dispose), then the ring read empty.</summary>
    private static void CompleteClaims(IDisposable ring, long count)
    {
        if (ring is RecordRing r)
        {
            if (r.TryClaim(1, 8, out RecordClaim c))
            {
                c.Commit();
            }

            if (r.TryClaim(1, 8, out c))
            {
                c.Abort();
            }

            if (r.TryClaim(1, 8, out c))
            {
                c.Dispose();
            }

            ReadEmpty(r);
            return;
        }

        var s = (SlotRing<long>)ring;
        if (s.TryClaim(out SlotClaim<long> claim))
        {
            claim.Publish();
        }

        if (s.TryClaim(out claim))
        {
            claim.Abort();
        }

        if (s.TryClaim(out claim))
        {
            claim.Dispose();
        }

        ReadEmpty(s);
    }

    /// <summary>Reads the ring until it is empty (a round's end: the next round's claims find room).</summary>
    private static void ReadEmpty(IDisposable ring)
    {
        Span<byte> buffer = stackalloc byte[64];
        if (ring is RecordRing r)
        {
            while (r.TryRead(out _, buffer, out _))
            {
            }

            return;
        }

        var s = (SlotRing<long>)ring;
        while (s.TryRead(out _))
        {
        }
    }

    /// <summary>Stores per claimed element or payload in <see cref="WriteIntoClaims"/> and <see cref="WriteIntoBatches"/>: most of a round is spent writing into claimed room, so the Dispose lands there.</summary>
    private const int WritesPerClaim = 64;

    /// <summary>
    /// One claim (slots: SlotClaim.Item; records: RecordClaim.Payload) written <see cref="WritesPerClaim"/>
    /// times, then published or committed, then the ring read empty. The writes go through the
    /// ref or span the claim handed out: nothing records them, so a Dispose on another thread
    /// that releases the last lease can retire the mapping under them (design-notes "claimw").
    /// </summary>
    private static void WriteIntoClaims(IDisposable ring, long count)
    {
        if (ring is RecordRing r)
        {
            if (r.TryClaim(1, 64, out RecordClaim c))
            {
                for (int i = 0; i < WritesPerClaim; i++)
                {
                    c.Payload.Fill((byte)i);
                }

                c.Commit();
            }

            ReadEmpty(r);
            return;
        }

        var s = (SlotRing<long>)ring;
        if (s.TryClaim(out SlotClaim<long> claim))
        {
            for (int i = 0; i < WritesPerClaim; i++)
            {
                Volatile.Write(ref claim.Item, count + i); // each one a store to the slot
            }

            claim.Publish();
        }

        ReadEmpty(s);
    }

    /// <summary>
    /// One batch written in place (slots: every element through the indexer, <see cref="WritesPerClaim"/>
    /// times; records: TryAppend until the batch is full, each payload filled), then published or
    /// committed, then the ring read empty. As <see cref="WriteIntoClaims"/>, with a record
    /// batch's appends storing headers too.
    /// </summary>
    private static void WriteIntoBatches(IDisposable ring, long count)
    {
        if (ring is RecordRing r)
        {
            if (r.TryClaimBatch(512, out RecordBatch b))
            {
                while (b.TryAppend(1, 24, out Span<byte> payload))
                {
                    for (int i = 0; i < WritesPerClaim / 8; i++)
                    {
                        payload.Fill((byte)i);
                    }
                }

                b.Commit();
            }

            ReadEmpty(r);
            return;
        }

        var s = (SlotRing<long>)ring;
        if (s.TryClaim(8, out SlotBatch<long> batch))
        {
            for (int i = 0; i < WritesPerClaim; i++)
            {
                for (int k = 0; k < batch.Count; k++)
                {
                    Volatile.Write(ref batch[k], count + i);
                }
            }

            batch.Publish();
        }

        ReadEmpty(s);
    }

    /// <summary>One round of batches: one completed each way (publish/commit, abort, dispose), then the ring read empty.</summary>
    private static void CompleteBatches(IDisposable ring, long count)
    {
        if (ring is RecordRing r)
        {
            if (r.TryClaimBatch(64, out RecordBatch b))
            {
                b.Commit();
            }

            if (r.TryClaimBatch(64, out b))
            {
                b.Abort();
            }

            if (r.TryClaimBatch(64, out b))
            {
                b.Dispose();
            }

            ReadEmpty(r);
            return;
        }

        var s = (SlotRing<long>)ring;
        if (s.TryClaim(4, out SlotBatch<long> batch))
        {
            batch.Publish();
        }

        if (s.TryClaim(4, out batch))
        {
            batch.Abort();
        }

        if (s.TryClaim(4, out batch))
        {
            batch.Dispose();
        }

        ReadEmpty(s);
    }

    /// <summary>
    /// The rounds of the dispose-under-call commands: a ring of <paramref name="kind"/> holding the
    /// last lease, a worker running <paramref name="step"/> (with its count of steps) until it
    /// throws <see cref="ObjectDisposedException"/>, the main thread disposing the ring after a
    /// varying number of steps; then the memory must be unmapped. 0 and "ok", or 1 and the failure.
    /// <paramref name="prepare"/>: run on each ring before its region's Dispose (<see cref="Advance"/>).
    /// </summary>
    private static int DisposeRingUnder(string kind, int rounds, Action<IDisposable, long> step, Action<IDisposable>? prepare = null)
    {
        for (int round = 0; round < rounds; round++)
        {
            bool records = kind.EndsWith("records", StringComparison.Ordinal);
            bool multi = kind.StartsWith("mpsc", StringComparison.Ordinal);
            var region = SharedRegion.CreateAnonymous(records ? RecordRing.Part(1024, multipleProducers: multi) : SlotRing<long>.Part(64, multi));
            var maps = RegionMaps.Of(region);
            IDisposable ring = records ? new RecordRing(region) : new SlotRing<long>(region);
            prepare?.Invoke(ring);
            using var peer = SharedRegion.Attach(region.FdHandle); // a peer's view of the same memory (CheckPeerView)
            region.Dispose(); // the ring's lease is now the last one
            long calls = 0;
            string? failure = null;
            var worker = new Thread(() =>
            {
                try
                {
                    while (true)
                    {
                        step(ring, calls);
                        Volatile.Write(ref calls, calls + 1);
                    }
                }
                catch (ObjectDisposedException)
                {
                    // the expected end
                }
                catch (Exception e)
                {
                    failure = $"round {round}: {e}";
                }
            });
            worker.Start();
            long target = 1 + (round % 64); // dispose after a varying number of calls, so the race lands everywhere in one
            long deadline = Environment.TickCount64 + 30_000;
            while (Volatile.Read(ref calls) < target && worker.IsAlive && Environment.TickCount64 < deadline)
            {
                Thread.SpinWait(round % 7);
            }

            ring.Dispose();
            if (!worker.Join(TimeSpan.FromSeconds(30)))
            {
                Console.Error.WriteLine($"round {round}: the worker did not end after the ring was disposed");
                return 1;
            }

            // A call that was running when the last lease went defers the unmap (1 ms, backing off to 100 ms).
            long unmapDeadline = Environment.TickCount64 + 10_000;
            while (maps.IsMapped() && Environment.TickCount64 < unmapDeadline)
            {
                Thread.Sleep(1);
            }

            if (failure is null && maps.IsMapped())
            {
                failure = $"round {round}: still mapped 10 s after the ring's Dispose and the worker's end";
            }

            failure ??= CheckPeerView(peer, records, multi, round);

            if (failure is not null)
            {
                Console.WriteLine(failure);
                return 1;
            }
        }

        Console.WriteLine("ok");
        return 0;
    }

    /// <summary>
    /// After a dispose-under-call round: the ring as a peer sees it (its own mapping of the memory)
    /// must be whole, read by a fresh consumer (claims of the disposed ring object skipped as a dead
    /// producer's) up to its tail. Since claimw the placeholder is writable, so a store of a call the
    /// release did not see in use no longer ends the process: it lands half in the shared memory and
    /// half in the placeholder, which only a peer's view shows (a tail without its record or
    /// sequence: the consumer stops before the tail; a sequence without its tail: it reads past it).
    /// The same check found the SPSC record Dispose zeroing a claim that a racing commit published (review15),
    /// and MPSC slot claims whose markers Dispose missed and their publish wrote to the placeholder (mpscbw:
    /// TrySkipDeadClaim, what a user calls, could not pass them; only TryUnblock could).
    /// </summary>
    private static string? CheckPeerView(SharedRegion peer, bool records, bool multi, int round)
    {
        using IDisposable ring = records ? new RecordRing(peer) : new SlotRing<long>(peer);
        Span<byte> buffer = stackalloc byte[1024]; // at least the ring's MaxMessageLength
        for (int i = 0; i < 10_000; i++) // at most 64 slots or 1 KiB of records are left
        {
            bool progressed = ring is RecordRing r
                ? r.TryRead(out _, buffer, out _) || (multi && r.TrySkipDeadClaim())
                : ((SlotRing<long>)ring).TryRead(out _) || (multi && ((SlotRing<long>)ring).TrySkipDeadClaim());
            if (!progressed)
            {
                break;
            }
        }

        (long tail, long head) = ring is RecordRing rr ? (rr.ProducerPosition, rr.ConsumerPosition) : (((SlotRing<long>)ring).ProducerPosition, ((SlotRing<long>)ring).ConsumerPosition);
        return head == tail ? null : $"round {round}: a peer's consumer ends at {head}, the ring's tail is {tail} (a publish torn: split by the release, or undone by the Dispose)";
    }

    /// <summary>
    /// `lease-dispose-ring-in-read kind`: the ring holds the last lease (its region is disposed
    /// first); inside the handler of a consumer read (RecordRing.Read or SlotRing.Drain) another
    /// thread disposes the ring. The memory must stay mapped until the read has returned (its
    /// release then writes the ring: an unmapped ring ends this process with SIGSEGV), and be
    /// unmapped after it. The consumer's calls record themselves in their own record (MappingUse.ForRole).
    /// kind: records, slots. Prints "ok".
    /// </summary>
    [PeerCommand("lease-dispose-ring-in-read")]
    public static int DisposeRingInRead(string[] args)
    {
        bool records = args[0] == "records";
        var region = SharedRegion.CreateAnonymous(records ? RecordRing.Part(1024) : SlotRing<long>.Part(64));
        var maps = RegionMaps.Of(region);
        IDisposable ring = records ? new RecordRing(region) : new SlotRing<long>(region);
        region.Dispose(); // the ring's lease is now the last one
        var handler = new DisposingHandler(ring, maps);
        int read;
        if (ring is RecordRing r)
        {
            _ = r.TryWrite(1, stackalloc byte[8]);
            read = r.Read(ref handler);
        }
        else
        {
            var s = (SlotRing<long>)ring;
            _ = s.TryWrite(42);
            read = s.Drain(ref handler);
        }

        if (read != 1 || handler.MappedAfterDispose != true)
        {
            Console.WriteLine($"read {read}, mapped in the handler after the ring's Dispose: {handler.MappedAfterDispose}");
            return 1;
        }

        // The unmap was deferred to a 1 ms retry.
        long unmapDeadline = Environment.TickCount64 + 10_000;
        while (maps.IsMapped() && Environment.TickCount64 < unmapDeadline)
        {
            Thread.Sleep(1);
        }

        if (maps.IsMapped())
        {
            Console.WriteLine("still mapped 10 s after the read returned");
            return 1;
        }

        Console.WriteLine("ok");
        return 0;
    }

    /// <summary>
    /// `lease-write-claims-after-release kind`: the late writes of <see cref="WriteIntoClaims"/>,
    /// made certain: on one thread, a claim (SlotClaim / RecordClaim) and a batch (SlotBatch / an
    /// appended RecordBatch payload) are taken on a ring holding the last lease of its mapping, the
    /// ring is disposed (the mapping retired), and then each is written and completed. A second
    /// mapping of the same memory (a peer's view, <see cref="SharedRegion.Attach(System.Runtime.InteropServices.SafeHandle, TimeSpan?)"/>)
    /// must not change: the writes land in the private placeholder, not in the ring; every
    /// completion must throw <see cref="ObjectDisposedException"/>. A store to a read-only
    /// placeholder ends this process (SIGSEGV). kind: spsc, mpsc, spsc-records, mpsc-records. Prints "ok".
    /// </summary>
    [PeerCommand("lease-write-claims-after-release")]
    public static unsafe int WriteClaimsAfterRelease(string[] args)
    {
        string kind = args[0];
        bool records = kind.EndsWith("records", StringComparison.Ordinal);
        bool multi = kind.StartsWith("mpsc", StringComparison.Ordinal);
        var failures = new List<string>();
        foreach (bool batch in new[] { false, true })
        {
            var region = SharedRegion.CreateAnonymous(records ? RecordRing.Part(1024, multipleProducers: multi) : SlotRing<long>.Part(64, multi));
            using var peer = SharedRegion.Attach(region.FdHandle); // another mapping of the same memory, as a peer process has
            IDisposable ring = records ? new RecordRing(region) : new SlotRing<long>(region);
            region.Dispose(); // the ring's lease is now the last one of this mapping
            var peerView = new ReadOnlySpan<byte>(peer.BasePointer, (int)peer.Size);
            string what = $"{kind} {(batch ? "batch" : "claim")}";
            string? failure = records ? WriteRecordsAfterRelease((RecordRing)ring, batch, peerView) : WriteSlotsAfterRelease((SlotRing<long>)ring, batch, peerView);
            if (failure is not null)
            {
                failures.Add($"{what}: {failure}");
            }
        }

        Console.WriteLine(failures.Count == 0 ? "ok" : string.Join("; ", failures));
        return failures.Count == 0 ? 0 : 1;
    }

    /// <summary>A slot claim or batch taken, its ring disposed, then written and published (<see cref="WriteClaimsAfterRelease"/>); null or what went wrong.</summary>
    private static string? WriteSlotsAfterRelease(SlotRing<long> ring, bool batch, ReadOnlySpan<byte> peerView)
    {
        if (batch)
        {
            if (!ring.TryClaim(4, out SlotBatch<long> slots))
            {
                return "the empty ring refused the batch";
            }

            byte[] before = ReleaseAndLook(ring, peerView);
            for (int k = 0; k < slots.Count; k++)
            {
                slots[k] = -1L; // after the release: lands in the placeholder
            }

            return Unchanged(before, peerView) ?? Refused(ref slots, static (ref SlotBatch<long> b) => b.Publish());
        }

        if (!ring.TryClaim(out SlotClaim<long> claim))
        {
            return "the empty ring refused the claim";
        }

        byte[] seen = ReleaseAndLook(ring, peerView);
        claim.Item = -1L;
        return Unchanged(seen, peerView) ?? Refused(ref claim, static (ref SlotClaim<long> c) => c.Publish());
    }

    /// <summary>A record claim or an appended batch record taken, its ring disposed, then its payload written and committed (<see cref="WriteClaimsAfterRelease"/>); null or what went wrong.</summary>
    private static string? WriteRecordsAfterRelease(RecordRing ring, bool batch, ReadOnlySpan<byte> peerView)
    {
        if (batch)
        {
            if (!ring.TryClaimBatch(256, out RecordBatch records) || !records.TryAppend(1, 64, out Span<byte> payload))
            {
                return "the empty ring refused the batch or its append";
            }

            byte[] before = ReleaseAndLook(ring, peerView);
            payload.Fill(0xA5); // after the release: lands in the placeholder
            return Unchanged(before, peerView) ?? Refused(ref records, static (ref RecordBatch b) => b.Commit());
        }

        if (!ring.TryClaim(1, 64, out RecordClaim claim))
        {
            return "the empty ring refused the claim";
        }

        byte[] seen = ReleaseAndLook(ring, peerView);
        claim.Payload.Fill(0xA5);
        return Unchanged(seen, peerView) ?? Refused(ref claim, static (ref RecordClaim c) => c.Commit());
    }

    private delegate void Completion<TClaim>(ref TClaim claim)
        where TClaim : allows ref struct;

    /// <summary>Disposes <paramref name="ring"/> (the last lease: the mapping is retired at once, no call being in it) and copies what the peer sees then.</summary>
    private static byte[] ReleaseAndLook(IDisposable ring, ReadOnlySpan<byte> peerView)
    {
        ring.Dispose();
        return peerView.ToArray();
    }

    private static string? Unchanged(byte[] before, ReadOnlySpan<byte> peerView)
    {
        int at = peerView.SequenceEqual(before) ? -1 : before.AsSpan().CommonPrefixLength(peerView);
        return at < 0 ? null : $"a write after the release reached the shared memory (byte {at}: {before[at]:x2} -> {peerView[at]:x2})";
    }

    /// <summary>Completes a claim or batch (a ref struct: by reference) of a disposed ring: null if that threw <see cref="ObjectDisposedException"/>, else what happened.</summary>
    private static string? Refused<TClaim>(ref TClaim claim, Completion<TClaim> complete)
        where TClaim : allows ref struct
    {
        try
        {
            complete(ref claim);
            return "the completion on the disposed ring returned normally";
        }
        catch (ObjectDisposedException)
        {
            return null;
        }
        catch (Exception e)
        {
            return $"the completion threw {e.GetType().Name}, not ObjectDisposedException: {e.Message}";
        }
    }

    /// <summary>
    /// `lease-placeholder-collected`: a region per ring kind, its ring used (a message, an empty
    /// poll), then the ring and the region disposed and dropped. The release leaves a private
    /// writable placeholder where each mapping was (an access racing it finds memory); it must be
    /// there after the Dispose and be gone once the regions are collected (full GCs and the
    /// finalizers, waiting up to 10 s from the last placeholder that went). Prints "ok".
    /// </summary>
    [PeerCommand("lease-placeholder-collected")]
    public static int PlaceholderCollected(string[] args)
    {
        (RegionMaps Maps, long Size)[] regions = UseAndDisposeOneRegionPerKind();
        int left = regions.Count(r => r.Maps.IsPlaceholder(r.Size));
        if (left != regions.Length || regions.Any(r => r.Maps.IsMapped()))
        {
            Console.WriteLine($"after the Dispose: {left} of {regions.Length} placeholders, shared mappings left: {regions.Count(r => r.Maps.IsMapped())}");
            return 1;
        }

        long deadline = Environment.TickCount64 + 10_000;
        while (left > 0 && Environment.TickCount64 < deadline)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            int now = regions.Count(r => r.Maps.IsPlaceholder(r.Size));
            if (now < left)
            {
                left = now;
                deadline = Environment.TickCount64 + 10_000; // measured from the last progress
            }

            Thread.Sleep(1);
        }

        Console.WriteLine(left == 0 ? "ok" : $"{left} of {regions.Length} placeholders still mapped 10 s after the last one went, with full GCs");
        return left == 0 ? 0 : 1;
    }

    /// <summary>
    /// `lease-retire-writable-fails`: only the writable placeholder's mmap fails (ENOMEM through
    /// <see cref="FailingRetire"/>, as strict overcommit may refuse it). The last release must then
    /// leave the read-only placeholder in the range: neither the shared mapping (its memory held until
    /// the finalizer) nor a hole (which another mmap could take and the finalizer then unmap). Prints "ok".
    /// </summary>
    [PeerCommand("lease-retire-writable-fails")]
    public static int RetireWritableFails(string[] args)
    {
        FailingRetire.Install(writableOnly: true);
        var region = SharedRegion.CreateAnonymous(SlotRing<long>.Part(64));
        var maps = RegionMaps.Of(region);
        var ring = new SlotRing<long>(region);
        _ = ring.TryWrite(1) && ring.TryRead(out _);
        region.Dispose();
        ring.Dispose(); // the last release: its placeholder
        bool shared = maps.IsMapped(), readOnly = maps.IsPlaceholder(region.Size, "r--p"), writable = maps.IsPlaceholder(region.Size);
        GC.KeepAlive(region); // the placeholder stays while the region is reachable (collected, its handle unmaps it)
        Console.WriteLine(!shared && readOnly && !writable ? "ok" : $"after the last release: shared mapping {shared}, read-only placeholder {readOnly}, writable placeholder {writable}");
        return !shared && readOnly && !writable ? 0 : 1;
    }

    /// <summary>
    /// `lease-retire-fails`: the placeholder's mmap fails (ENOMEM through <see cref="FailingRetire"/>).
    /// The last release must then unmap the region at once (not leave its memory to the finalizer),
    /// and once the region is collected, its handle's finalizer must not unmap a mapping that took
    /// the address since (a sentinel here; another region or the GC heap in life). Prints "ok".
    /// </summary>
    [PeerCommand("lease-retire-fails")]
    public static unsafe int RetireFails(string[] args)
    {
        FailingRetire.Install();
        // One region only: with the placeholder refused its address is free at once, and a second
        // region made after it could take it.
        (RegionMaps maps, long size) = UseAndDisposeOneRegionPerKind("spsc")[0];
        if (maps.IsMapped())
        {
            Console.WriteLine("the shared mapping is still there after the last release, whose placeholder failed");
            return 1;
        }

        // The freed range may already hold the runtime's own mappings (its code heap's doublemapper
        // took it in a CI run): then those are what the finalizer must leave alone, with or without a
        // sentinel in the rest of the range.
        var length = (Tmds.Linux.size_t)(ulong)size;
        void* sentinel = Tmds.Linux.LibC.mmap((void*)maps.Address, length, Tmds.Linux.LibC.PROT_READ | Tmds.Linux.LibC.PROT_WRITE, Tmds.Linux.LibC.MAP_PRIVATE | Tmds.Linux.LibC.MAP_ANONYMOUS | Tmds.Linux.LibC.MAP_FIXED_NOREPLACE, -1, 0);
        bool ours = sentinel == (void*)maps.Address;
        try
        {
            HashSet<ulong> before = MappedPages((ulong)maps.Address, (ulong)size);
            if (before.Count == 0)
            {
                Console.WriteLine("neither the sentinel nor anything else holds the region's address");
                return 1;
            }

            for (int i = 0; i < 3; i++)
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
            }

            bool kept = before.IsSubsetOf(MappedPages((ulong)maps.Address, (ulong)size));
            Console.WriteLine(kept ? "ok" : $"the collected region's handle unmapped the {(ours ? "sentinel" : "mappings")} that took its address");
            return kept ? 0 : 1;
        }
        finally
        {
            if (ours)
            {
                _ = Tmds.Linux.LibC.munmap(sentinel, length);
            }
        }
    }

    /// <summary>The pages of [start, start + length) that /proc/self/maps shows mapped.</summary>
    private static HashSet<ulong> MappedPages(ulong start, ulong length)
    {
        var pages = new HashSet<ulong>();
        foreach (string line in File.ReadLines("/proc/self/maps"))
        {
            string[] range = line.Split(' ')[0].Split('-');
            ulong from = Math.Max(start, ulong.Parse(range[0], NumberStyles.HexNumber, CultureInfo.InvariantCulture));
            ulong to = Math.Min(start + length, ulong.Parse(range[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture));
            for (ulong page = from; page < to; page += 4096)
            {
                _ = pages.Add(page);
            }
        }

        return pages;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static (RegionMaps Maps, long Size)[] UseAndDisposeOneRegionPerKind(params string[] kinds)
    {
        kinds = kinds.Length > 0 ? kinds : ["spsc", "mpsc", "spsc-records", "mpsc-records"];
        var result = new List<(RegionMaps, long)>();
        Span<byte> buffer = stackalloc byte[8];
        foreach (string kind in kinds)
        {
            bool records = kind.EndsWith("records", StringComparison.Ordinal);
            bool multi = kind.StartsWith("mpsc", StringComparison.Ordinal);
            var region = SharedRegion.CreateAnonymous(records ? RecordRing.Part(1024, multipleProducers: multi) : SlotRing<long>.Part(64, multi));
            result.Add((RegionMaps.Of(region), region.Size));
            IDisposable ring = records ? new RecordRing(region) : new SlotRing<long>(region);
            if (ring is RecordRing r)
            {
                _ = r.TryWrite(1, buffer) && r.TryRead(out _, buffer, out _) && !r.TryRead(out _, buffer, out _);
            }
            else
            {
                var s = (SlotRing<long>)ring;
                _ = s.TryWrite(1) && s.TryRead(out _) && !s.TryRead(out _);
            }

            region.Dispose();
            ring.Dispose();
        }

        return [.. result];
    }

    /// <summary>
    /// `lease-collect-ring-in-write kind iterations`: neither the region nor the ring is disposed
    /// and the only use of the ring is an MPSC write in progress of a 128 KiB element (slots) or
    /// message (records): after its claim the engine no longer reads the ring object, so nothing
    /// references the ring or its region while the element is copied in. Another thread runs full
    /// GCs and the finalizers all along: were the region's SafeMappingHandle finalized (munmap)
    /// under the copy, this process would die with SIGSEGV. Run it with optimized code from the
    /// start (DOTNET_TieredCompilation=0: tier-0 code keeps every reference to the method's end).
    /// kind: mpsc, mpsc-records, or mpsc-record-batch (a batch claimed on a ring object nothing else
    /// references, then its message copied in and committed: only the batch holds the ring's
    /// memory until its commit). Prints "ok".
    /// </summary>
    [PeerCommand("lease-collect-ring-in-write")]
    public static int CollectRingInWrite(string[] args)
    {
        int iterations = int.Parse(args[1], CultureInfo.InvariantCulture);
        bool stop = false;
        var collector = new Thread(() =>
        {
            while (!Volatile.Read(ref stop))
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
            }
        });
        collector.Start();
        int written = 0;
        for (int i = 0; i < iterations; i++)
        {
            written += args[0] switch
            {
                "mpsc-records" => WriteToUnreachableRecordRing(),
                "mpsc-record-batch" => CommitToUnreachableRecordRing(),
                _ => WriteToUnreachableSlotRing(),
            }
                ? 1 : 0;
        }

        Volatile.Write(ref stop, true);
        if (!collector.Join(TimeSpan.FromSeconds(30)))
        {
            Console.Error.WriteLine("the collecting thread did not stop");
            return 1;
        }

        Console.WriteLine(written == iterations ? "ok" : $"written {written} of {iterations}");
        return written == iterations ? 0 : 1;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static bool WriteToUnreachableSlotRing()
        => new SlotRing<LargeElement>(SharedRegion.CreateAnonymous(SlotRing<LargeElement>.Part(2, multipleProducers: true))).TryWrite(in s_largeElement.Value);

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static bool WriteToUnreachableRecordRing()
        => new RecordRing(SharedRegion.CreateAnonymous(RecordRing.Part(1 << 20, LargeElement.Bytes, multipleProducers: true))).TryWrite(1, s_largeMessage);

    /// <summary>A batch of one 128 KiB message on a ring that is unreachable once claimed: appended and committed here.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static bool CommitToUnreachableRecordRing()
    {
        RecordBatch batch = ClaimOnUnreachableRecordRing();
        if (!batch.TryAppend(1, s_largeMessage.Length, out Span<byte> payload))
        {
            return false;
        }

        s_largeMessage.CopyTo(payload);
        batch.Commit();
        return true;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static RecordBatch ClaimOnUnreachableRecordRing()
    {
        var ring = new RecordRing(SharedRegion.CreateAnonymous(RecordRing.Part(1 << 20, LargeElement.Bytes, multipleProducers: true)));
        return ring.TryClaimBatch(RingLayout.RecordHeaderSize + LargeElement.Bytes, out RecordBatch batch) ? batch : throw new InvalidOperationException("an empty ring refused the batch");
    }

    private static readonly StrongBox<LargeElement> s_largeElement = new();
    private static readonly byte[] s_largeMessage = new byte[LargeElement.Bytes];

    /// <summary>128 KiB: a copy long enough for a GC and a finalizer to run beside it.</summary>
    [InlineArray(Bytes / sizeof(long))]
    private struct LargeElement
    {
        public const int Bytes = 128 * 1024;
        private long _element;
    }

    /// <summary>Disposes the ring from another thread while handling the first message, then looks whether the memory is still mapped.</summary>
    private struct DisposingHandler(IDisposable ring, RegionMaps maps) : IRecordHandler, ISlotHandler<long>
    {
        public bool? MappedAfterDispose { get; private set; }

        public void Handle(int type, ReadOnlySpan<byte> payload) => DisposeAndLook();

        public void Handle(in long item) => DisposeAndLook();

        private void DisposeAndLook()
        {
            var disposer = new Thread(ring.Dispose);
            disposer.Start();
            if (!disposer.Join(TimeSpan.FromSeconds(30)))
            {
                throw new TimeoutException("the ring's Dispose did not return in 30 s");
            }

            MappedAfterDispose = maps.IsMapped();
        }
    }
}
