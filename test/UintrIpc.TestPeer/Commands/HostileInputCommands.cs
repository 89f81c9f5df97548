using System.Diagnostics;
using System.Globalization;
using CsCheck;
using UintrIpc.Memory;
using UintrIpc.Rings;

namespace UintrIpc.TestPeer.Commands;

/// <summary>
/// The child side of test/UintrIpc.Tests/Trust/GeneratedSharedMemoryInputTests.cs: a generated
/// hostile peer writes values of its choosing (positions a lap ahead or behind, negative, huge;
/// record lengths and types at their boundaries; slot sequence words; bit flips in the header,
/// the part table and the ring descriptor) into a region that this process uses through a mapping
/// between guard pages (<see cref="GuardedAttach"/>), while it runs the documented API as the
/// consumer or the producer. A stray access faults at a guard page and kills this process (the
/// test reports the signal); any exception but the documented ones, a message read beyond its
/// destination, or a call that does not return within <see cref="HangBound"/> ends it with exit 6 or 5.
/// </summary>
internal static unsafe class HostileInputCommands
{
    private static readonly TimeSpan HangBound = TimeSpan.FromSeconds(20);

    /// <summary>Where the hostile peer writes.</summary>
    internal enum Target
    {
        Tail,
        Head,
        Releasing,
        ClaimEnd,
        RecordOrSlotWord,
        RecordType,
        DataByte,
        Descriptor,
        ProducerTable,
    }

    internal readonly record struct Poke(Target Where, int At, int Relative, long Value);

    internal sealed record RingCase(int CapacityShift, int MaxMessageLength, int Warmup, int Genuine, bool VictimConsumes, Poke[] Pokes)
    {
        public override string ToString() => $"capacity {1 << CapacityShift}, max {MaxMessageLength}, warmup {Warmup}, genuine {Genuine}, victim {(VictimConsumes ? "consumer" : "producer")}, pokes [{string.Join("; ", Pokes)}]";
    }

    private static readonly long[] s_absolute = [0, -1, -8, 1, 7, 8, 9, int.MaxValue, int.MinValue, long.MaxValue, long.MinValue, 1L << 62, (1L << 62) - 8, 1L << 63 >>> 1];

    private static readonly Gen<Poke> s_poke = Gen.Select(
        Gen.Enum<Target>(),
        Gen.Int[0, 1 << 16],
        Gen.Int[-3, 3],
        Gen.Frequency((3, Gen.Int[0, s_absolute.Length - 1].Select(i => s_absolute[i])), (2, Gen.Long[-600, 600]), (1, Gen.Long)),
        (where, at, relative, value) => new Poke(where, at, relative, value));

    internal static readonly Gen<RingCase> s_ringCase = Gen.Select(
        Gen.Int[6, 9], Gen.Int[0, 3], Gen.Int[0, 40], Gen.Int[0, 12], Gen.Bool, s_poke.Array[0, 4],
        (shift, max, warmup, genuine, consumes, pokes) => new RingCase(shift, max switch { 0 => 0, 1 => 1, 2 => Math.Min(17, (1 << shift) / 8), _ => (1 << shift) / 8 }, warmup, genuine, consumes, pokes));

    /// <summary>gen-hostile-ring &lt;records|slots&gt; &lt;spsc|mpsc&gt; &lt;seed&gt; &lt;cases&gt;: exits 0 when every case ended in a documented outcome.</summary>
    [PeerCommand("gen-hostile-ring")]
    public static int Ring(string[] args)
    {
        bool records = args[0] == "records", mpsc = args[1] == "mpsc";
        ulong seed = ulong.Parse(args[2], CultureInfo.InvariantCulture);
        int cases = int.Parse(args[3], CultureInfo.InvariantCulture);
        var outcomes = new SortedDictionary<string, int>(StringComparer.Ordinal);
        using var watchdog = new Watchdog();
        GeneratedCases.Check(s_ringCase, seed, cases, c =>
        {
            string outcome = records ? RecordCase(c, mpsc, watchdog) : SlotCase(c, mpsc, watchdog);
            outcomes[outcome] = outcomes.GetValueOrDefault(outcome) + 1;
        }, progressEvery: 10);
        Console.WriteLine($"summary: {cases} cases; {string.Join(", ", outcomes.Select(o => $"{o.Key} {o.Value}"))}");
        return 0;
    }

    internal sealed record HeaderCase(int Parts, (int Offset, int Bit, long Value, int Kind)[] Edits)
    {
        public override string ToString() => $"{Parts} parts, edits [{string.Join("; ", Edits)}]";
    }

    internal static readonly Gen<HeaderCase> s_headerCase = Gen.Select(
        Gen.Int[1, 4],
        Gen.Select(Gen.Int[0, RegionLayout.HeaderSize - 1], Gen.Int[0, 7], Gen.Frequency((3, Gen.Int[0, s_absolute.Length - 1].Select(i => s_absolute[i])), (2, Gen.Long[-5000, 5000]), (1, Gen.Long)), Gen.Int[0, 3]).Array[1, 3],
        (parts, edits) => new HeaderCase(parts, edits));

    /// <summary>
    /// gen-hostile-header &lt;seed&gt; &lt;cases&gt;: bit flips and boundary values in the region header and
    /// its part table, then an attach between guard pages: refused with RegionFormatException, or
    /// every part it reports lies inside the mapping (its first and last byte are read).
    /// </summary>
    [PeerCommand("gen-hostile-header")]
    public static int Header(string[] args)
    {
        ulong seed = ulong.Parse(args[0], CultureInfo.InvariantCulture);
        int cases = int.Parse(args[1], CultureInfo.InvariantCulture);
        int refused = 0, attached = 0;
        GeneratedCases.Check(s_headerCase, seed, cases, c =>
        {
            var specs = Enumerable.Range(0, c.Parts).Select(i => new PartSpec(PartKind.User, (uint)i, 100 + (i * 1000))).ToArray();
            using var creator = SharedRegion.CreateAnonymous(specs);
            foreach (var (offset, bit, value, kind) in c.Edits)
            {
                byte* at = creator.BasePointer + offset;
                switch (kind)
                {
                    case 0: *at ^= (byte)(1 << bit); break;
                    case 1: *(long*)(creator.BasePointer + (offset & ~7)) = value; break;
                    case 2: *(int*)(creator.BasePointer + (offset & ~3)) = (int)value; break;
                    default:
                        // A part table entry's offset or length (the fields an attacher computes addresses from).
                        int entry = RegionLayout.PartsOffset + ((offset % RegionLayout.MaxParts) * RegionLayout.PartSize);
                        *(long*)(creator.BasePointer + entry + (bit % 2 == 0 ? RegionLayout.PartOffsetOffset : RegionLayout.PartLengthOffset)) = value;
                        break;
                }
            }

            if (*(uint*)(creator.BasePointer + RegionLayout.MagicOffset) == 0)
            {
                *(uint*)(creator.BasePointer + RegionLayout.MagicOffset) = 1; // a zero magic means "not initialised yet": the attach would only wait
            }

            try
            {
                var (region, guard) = GuardedAttach.Attach(creator.Size, () => SharedRegion.Attach(creator.FileHandle, TimeSpan.FromMilliseconds(10)), r => r);
                using (guard)
                using (region)
                {
                    foreach (var part in region.Parts)
                    {
                        Check(part.Offset >= RegionLayout.HeaderSize && part.Length >= 0 && part.Offset + part.Length <= region.Size, $"part {part} outside a {region.Size}-byte region");
                        if (part.Length > 0)
                        {
                            _ = Volatile.Read(ref region.BasePointer[part.Offset]);
                            _ = Volatile.Read(ref region.BasePointer[part.Offset + part.Length - 1]);
                        }
                    }
                }

                attached++;
            }
            catch (RegionFormatException)
            {
                refused++;
            }
        }, progressEvery: 100);
        Console.WriteLine($"summary: {cases} cases; refused {refused}, attached {attached}");
        return 0;
    }

    private static string RecordCase(RingCase c, bool mpsc, Watchdog watchdog)
    {
        int capacity = 1 << c.CapacityShift;
        using var creator = SharedRegion.CreateAnonymous(RecordRing.Part(capacity, c.MaxMessageLength, mpsc));
        using var peer = new RecordRing(creator); // the peer's ring object: its genuine traffic, then its lies
        var (victimRegion, guard) = GuardedAttach.Attach(creator.Size, () => SharedRegion.Attach(creator.FileHandle), r => r);
        using (guard)
        using (victimRegion)
        {
            using var victim = new RecordRing(victimRegion);
            int max = victim.MaxMessageLength;
            var payload = new byte[max];
            var destination = new byte[max + 64];
            var consumer = c.VictimConsumes ? victim : peer;
            var producer = c.VictimConsumes ? peer : victim;
            for (int i = 0; i < c.Warmup; i++)
            {
                // Moves the positions around the ring (wraps, padding records) before the lies.
                if (!producer.TryWrite(i, payload.AsSpan(0, i % (max + 1))) || !consumer.TryRead(out _, destination, out _))
                {
                    throw new InvalidOperationException($"warm-up message {i} did not go through");
                }
            }

            int written = 0;
            while (written < c.Genuine && producer.TryWrite(written, Fill(payload, written, written % (max + 1))))
            {
                written++;
            }

            byte* ring = creator.BasePointer + creator.FindPart(mpsc ? PartKind.MpscRecords : PartKind.SpscRecords, 0).Offset;
            foreach (var poke in c.Pokes)
            {
                Apply(ring, capacity, poke, records: true, headerSize: RingLayout.RecordHeaderSize);
            }

            string outcome = "delivered";
            try
            {
                if (c.VictimConsumes)
                {
                    // Reads until empty or refused: at most one read per 8 bytes of ring and a lap more.
                    int read = 0;
                    for (int n = 0; n < (2 * capacity / 8) + 4; n++)
                    {
                        destination.AsSpan().Fill(0xEE);
                        watchdog.Arm("TryRead");
                        bool got = victim.TryRead(out int type, destination.AsSpan(0, max), out int length);
                        watchdog.Disarm();
                        if (!got)
                        {
                            break;
                        }

                        Check(length >= 0 && length <= max, $"a message of {length} bytes from a ring of {max}-byte messages");
                        Check(destination.AsSpan(max).IndexOfAnyExcept((byte)0xEE) < 0, "the read wrote past its destination");
                        if (c.Pokes.Length == 0)
                        {
                            Check(type == read && destination.AsSpan(0, length).SequenceEqual(Fill(payload, read, read % (max + 1))), $"message {read} is not the one written");
                        }

                        read++;
                    }

                    Check(c.Pokes.Length > 0 || read == written, $"{read} of {written} messages arrived and no error");
                }
                else
                {
                    for (int n = 0; n < (2 * capacity / 8) + 4; n++)
                    {
                        watchdog.Arm("TryWrite");
                        bool wrote = victim.TryWrite(n, Fill(payload, n, n % (max + 1)));
                        watchdog.Disarm();
                        if (!wrote)
                        {
                            outcome = "full";
                            break;
                        }
                    }
                }
            }
            catch (RingCorruptedException)
            {
                outcome = "RingCorruptedException";
            }

            return outcome + "; " + AttachAgain(creator, r => new RecordRing(r));
        }
    }

    private static string SlotCase(RingCase c, bool mpsc, Watchdog watchdog)
    {
        int capacity = 1 << c.CapacityShift;
        using var creator = SharedRegion.CreateAnonymous(SlotRing<long>.Part(capacity, mpsc));
        using var peer = new SlotRing<long>(creator);
        var (victimRegion, guard) = GuardedAttach.Attach(creator.Size, () => SharedRegion.Attach(creator.FileHandle), r => r);
        using (guard)
        using (victimRegion)
        {
            using var victim = new SlotRing<long>(victimRegion);
            var consumer = c.VictimConsumes ? victim : peer;
            var producer = c.VictimConsumes ? peer : victim;
            for (int i = 0; i < c.Warmup * 3; i++)
            {
                if (!producer.TryWrite(i) || !consumer.TryRead(out _))
                {
                    throw new InvalidOperationException($"warm-up element {i} did not go through");
                }
            }

            int written = 0;
            while (written < c.Genuine && producer.TryWrite(1000 + written))
            {
                written++;
            }

            byte* ring = creator.BasePointer + creator.FindPart(mpsc ? PartKind.MpscSlots : PartKind.SpscSlots, 0).Offset;
            foreach (var poke in c.Pokes)
            {
                Apply(ring, capacity, poke, records: false, headerSize: mpsc ? RingLayout.SlotHeaderSize : 0);
            }

            string outcome = "delivered";
            try
            {
                for (int n = 0; n < (2 * capacity) + 4; n++)
                {
                    watchdog.Arm(c.VictimConsumes ? "TryRead" : "TryWrite");
                    bool done = c.VictimConsumes ? victim.TryRead(out long item) && Expect(c.Pokes.Length == 0, item, 1000 + n) : victim.TryWrite(n);
                    watchdog.Disarm();
                    if (!done)
                    {
                        Check(!c.VictimConsumes || c.Pokes.Length > 0 || n == written, $"{n} of {written} elements arrived and no error");
                        outcome = c.VictimConsumes ? "delivered" : "full";
                        break;
                    }
                }
            }
            catch (RingCorruptedException)
            {
                outcome = "RingCorruptedException";
            }

            return outcome + "; " + AttachAgain(creator, r => new SlotRing<long>(r));
        }
    }

    private static bool Expect(bool exact, long item, long expected)
    {
        Check(!exact || item == expected, $"element {item} where {expected} was written");
        return true;
    }

    /// <summary>A fresh attach of the lied-to region, between guard pages: usable, or refused with a validation error.</summary>
    private static string AttachAgain(SharedRegion creator, Func<SharedRegion, IDisposable> ring)
    {
        var (region, guard) = GuardedAttach.Attach(creator.Size, () => SharedRegion.Attach(creator.FileHandle), r => r);
        using (guard)
        using (region)
        {
            try
            {
                ring(region).Dispose();
                return "attach ok";
            }
            catch (Exception e) when (e is RegionFormatException or RingCorruptedException)
            {
                return "attach refused";
            }
        }
    }

    private static void Apply(byte* ring, int capacity, Poke poke, bool records, int headerSize)
    {
        long* tail = (long*)(ring + RingLayout.TailOffset), head = (long*)(ring + RingLayout.HeadOffset);
        long Near(long position) => position + (poke.Relative * (poke.At % 3 == 0 ? capacity : 8)) + (poke.At % 3 == 2 ? poke.Value : 0);
        byte* data = ring + RingLayout.ControlSize;
        int slotPitch = records ? 8 : headerSize + sizeof(long);
        // Aim at the records or slots around the positions: where the consumer reads next, where the producer claims.
        long around = (poke.At % 2 == 0 ? Volatile.Read(ref *head) : Volatile.Read(ref *tail)) + (poke.Relative * slotPitch);
        int index = records ? (int)(((around % capacity) + capacity) % capacity) & ~7 : (int)((((around % capacity) + capacity) % capacity) * slotPitch);
        // All plain stores of a racing peer: the victim runs on this thread afterwards, so no ordering is needed here.
        switch (poke.Where)
        {
            case Target.Tail: *tail = poke.At % 4 == 3 ? poke.Value : Near(*tail); break;
            case Target.Head: *head = poke.At % 4 == 3 ? poke.Value : Near(*head); break;
            case Target.Releasing: *(long*)(ring + RingLayout.ReleasingOffset) = poke.At % 2 == 0 ? poke.Value : Near(*head); break;
            case Target.ClaimEnd: *(long*)(ring + RingLayout.ClaimEndOffset) = poke.At % 2 == 0 ? poke.Value : Near(*tail); break;
            case Target.RecordOrSlotWord:
                if (records)
                {
                    *(int*)(data + index) = (int)poke.Value;
                }
                else if (headerSize > 0)
                {
                    *(ulong*)(data + index) = (ulong)Near(*tail) | (poke.At % 5 == 0 ? RingLayout.SlotClaimed : 0) | (poke.At % 7 == 0 ? RingLayout.SlotSkipped : 0);
                }
                else
                {
                    *(long*)(data + index) = poke.Value;
                }

                break;
            case Target.RecordType: *(int*)(data + index + (records ? 4 : 0)) = poke.At % 2 == 0 ? RingLayout.PaddingRecordType : (int)poke.Value; break;
            case Target.DataByte: data[poke.At % capacity] ^= (byte)(1 << (int)((ulong)poke.Value % 8)); break;
            case Target.Descriptor: ring[poke.At % RingLayout.ProducerTableOffsetOffset + 8] ^= (byte)(1 << (int)((ulong)poke.Value % 8)); break;
            case Target.ProducerTable:
                long table = *(long*)(ring + RingLayout.ProducerTableOffsetOffset);
                if (table > 0 && table < RingLayout.ProducerTableOffset(capacity) + 4096)
                {
                    *(long*)(ring + table + ((poke.At % 4) * RingLayout.ProducerEntrySize) + ((poke.At >> 2) % 3 * 8)) = poke.Value;
                }

                break;
        }

    }

    private static byte[] Fill(byte[] buffer, int sequence, int length)
    {
        var bytes = buffer.AsSpan(0, length);
        for (int i = 0; i < bytes.Length; i++)
        {
            bytes[i] = (byte)(sequence + (i * 7));
        }

        return buffer[..length];
    }

    private static void Check(bool condition, string what)
    {
        if (!condition)
        {
            throw new InvalidOperationException(what);
        }
    }

    /// <summary>Ends the process with exit 5 when an armed call has not returned within <see cref="HangBound"/>.</summary>
    private sealed class Watchdog : IDisposable
    {
        private readonly Thread _thread;
        private volatile string? _call;
        private long _since;
        private volatile bool _stop;

        public Watchdog()
        {
            _thread = new Thread(Watch) { IsBackground = true, Name = "hostile-input watchdog" };
            _thread.Start();
        }

        public void Arm(string call)
        {
            Volatile.Write(ref _since, Stopwatch.GetTimestamp());
            _call = call;
        }

        public void Disarm() => _call = null;

        public void Dispose()
        {
            _stop = true;
            _thread.Join();
        }

        private void Watch()
        {
            while (!_stop)
            {
                Thread.Sleep(100);
                if (_call is { } call && Stopwatch.GetElapsedTime(Volatile.Read(ref _since)) > HangBound)
                {
                    Console.WriteLine($"HANG: {call} did not return within {HangBound.TotalSeconds} s");
                    Console.Out.Flush();
                    Environment.Exit(5);
                }
            }
        }
    }
}
