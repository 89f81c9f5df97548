using CsCheck;
using UintrIpc.Memory;
using UintrIpc.Rings;
using ClaimParts = (UintrIpc.Rings.RecordRingEngine? Ring, nint Record, int RecordLength, int Type, long Token);

namespace UintrIpc.Tests.Rings;

/// <summary>
/// Model-based test: random sequences of writes, claims, commits, aborts and reads with
/// random sizes on small rings (where wrap and padding happen all the time), run against
/// the ring and against a plain queue model with its own byte accounting. After every step
/// the results, both positions, CanRead and the zeroed free space must agree. CsCheck
/// shrinks a failing sequence to a short one and prints its seed.
/// </summary>
public sealed class RecordsModelTests
{
    private static readonly long Iterations = Environment.GetEnvironmentVariable("UINTRIPC_STRESS") == "1" ? 20_000 : 300;

    private enum OpKind
    {
        Write,
        Claim,
        Commit,
        Abort,
        Read,
        TryRead,
        CompleteAgain,
    }

    private static readonly Gen<Op> s_op = Gen.Select(
        Gen.Frequency(
            (30, Gen.Const(OpKind.Write)),
            (14, Gen.Const(OpKind.Claim)),
            (10, Gen.Const(OpKind.Commit)),
            (5, Gen.Const(OpKind.Abort)),
            (14, Gen.Const(OpKind.Read)),
            (14, Gen.Const(OpKind.TryRead)),
            (3, Gen.Const(OpKind.CompleteAgain))),
        Gen.Int[0, 1000],
        Gen.Int[-3, 1000],
        Gen.Int[0, 1000],
        (kind, type, size, arg) => new Op(kind, type, size, arg));

    // Capacity 64..512; the max message length is capacity / 8 or smaller (odd ones too).
    private static readonly Gen<Case> s_case = Gen.Select(Gen.Int[6, 9], Gen.Int[0, 3], s_op.Array[1, 300],
        (shift, maxChoice, ops) =>
        {
            int capacity = 1 << shift;
            int max = maxChoice switch { 0 => 0, 1 => 1, 2 => capacity / 16, _ => (capacity / 8) - 1 };
            return new Case(capacity, max, ops);
        });

    [Fact]
    public void Spsc_ring_matches_the_model() => s_case.Sample(c => Run(PartKind.SpscRecords, c), iter: Iterations, print: Print);

    [Fact]
    public void Mpsc_ring_matches_the_model() => s_case.Sample(c => Run(PartKind.MpscRecords, c), iter: Iterations, print: Print);

    private static string Print(Case c) => $"capacity={c.Capacity} max={c.MaxMessageLength} ops=[{string.Join(", ", c.Ops)}]";

    private static void Run(PartKind kind, Case c)
    {
        using var region = SharedRegion.CreateAnonymous(RecordRingUnderTest.Part(kind, c.Capacity, c.MaxMessageLength));
        var ring = RecordRingUnderTest.Attach(kind, region);
        var memory = new RecordRingMemory(region, kind);
        bool mpsc = kind == PartKind.MpscRecords;
        int max = ring.MaxMessageLength;
        var model = new RingModel(mpsc, c.Capacity, max);
        var open = new List<(ClaimParts Parts, RingModel.Claim Model)>();
        var finished = new List<ClaimParts>();

        for (int step = 0; step < c.Ops.Length; step++)
        {
            var op = c.Ops[step];
            string at = $"step {step} ({op})";
            int size = op.Size switch { -1 => max, -2 => 0, -3 => Math.Max(0, max - 1), _ => op.Size % (max + 1) };
            if (!mpsc && open.Count > 0 && op.Kind is OpKind.Write or OpKind.Claim)
            {
                // The SPSC producer discards an open claim when it writes or claims again.
                finished.Add(open[0].Parts);
                open.Clear();
            }

            switch (op.Kind)
            {
                case OpKind.Write:
                {
                    byte[] payload = ClaimAssert.Pattern(size, step);
                    Assert.True(model.Write(op.Type, payload) == ring.TryWrite(op.Type, payload), at);
                    break;
                }

                case OpKind.Claim:
                {
                    byte[] payload = ClaimAssert.Pattern(size, step);
                    var expected = model.TryClaim(op.Type, payload);
                    bool claimed = ring.TryClaim(op.Type, size, out var claim);
                    Assert.True((expected is not null) == claimed, at);
                    if (claimed)
                    {
                        Assert.Equal(size, claim.Payload.Length);
                        payload.CopyTo(claim.Payload);
                        open.Add((claim.Parts, expected!));
                    }

                    break;
                }

                case OpKind.Commit or OpKind.Abort when open.Count > 0:
                {
                    int pick = op.Arg % open.Count;
                    var (parts, expected) = open[pick];
                    open.RemoveAt(pick);
                    var claim = RecordClaim.FromParts(parts);
                    if (op.Kind == OpKind.Commit)
                    {
                        claim.Commit();
                    }
                    else
                    {
                        claim.Abort();
                    }

                    model.Complete(expected, op.Kind == OpKind.Commit);
                    finished.Add(parts);
                    break;
                }

                case OpKind.CompleteAgain when !mpsc && finished.Count > 0:
                {
                    // SPSC tracks its one claim, so a stale copy is always refused. (On MPSC a copy
                    // is refused only while the header differs; the contract forbids copies.)
                    var claim = RecordClaim.FromParts(finished[op.Arg % finished.Count]);
                    ClaimAssert.CompleteThrows(ref claim, commit: op.Arg % 2 == 0);
                    break;
                }

                case OpKind.Read:
                {
                    int limit = op.Arg > 900 ? int.MaxValue : op.Arg % 6;
                    var expected = model.Read(limit);
                    var actual = ring.Drain(limit);
                    Assert.True(expected.Count == actual.Count, $"{at}: read {actual.Count}, model {expected.Count}");
                    for (int i = 0; i < expected.Count; i++)
                    {
                        Assert.True(expected[i].Type == actual[i].Type, at);
                        Assert.True(expected[i].Payload.AsSpan().SequenceEqual(actual[i].Payload), at);
                    }

                    break;
                }

                case OpKind.TryRead:
                {
                    int next = model.NextMessageLength;
                    int bufferSize = op.Size switch { -1 => max, -2 => 0, -3 => Math.Max(0, next - 1), _ => op.Size % (max + 1) };
                    var expected = model.TryRead(bufferSize);
                    var buffer = new byte[bufferSize];
                    bool threw = false;
                    bool read = false;
                    int type = 0;
                    int length = 0;
                    try
                    {
                        read = ring.TryRead(out type, buffer, out length);
                    }
                    catch (ArgumentException)
                    {
                        threw = true;
                    }

                    Assert.True(expected.Throws == threw, $"{at}: threw {threw}");
                    Assert.True(expected.Read == read, $"{at}: read {read}");
                    if (read)
                    {
                        Assert.True(expected.Type == type, at);
                        Assert.True(expected.Payload!.AsSpan().SequenceEqual(buffer.AsSpan(0, length)), at);
                    }

                    break;
                }
            }

            Assert.True(model.Tail == ring.ProducerPosition, $"{at}: tail {ring.ProducerPosition}, model {model.Tail}");
            Assert.True(model.Head == ring.ConsumerPosition, $"{at}: head {ring.ConsumerPosition}, model {model.Head}");
            Assert.True(model.CanRead == ring.CanRead, $"{at}: CanRead");
            Assert.True(FreeSpaceIsZero(memory, model), $"{at}: free space not zero");
        }
    }

    /// <summary>Every byte outside [head, tail) is zero, except an open SPSC claim (written, not published).</summary>
    private static bool FreeSpaceIsZero(RecordRingMemory memory, RingModel model)
    {
        int mask = model.Capacity - 1;
        var (from, to) = model.OpenSpscRecord;
        for (long p = model.Tail; p < model.Head + model.Capacity; p++)
        {
            int index = (int)(p & mask);
            if ((index < from || index >= to) && memory.Bytes(index, 1)[0] != 0)
            {
                return false;
            }
        }

        return true;
    }

    private readonly record struct Op(OpKind Kind, int Type, int Size, int Arg)
    {
        public override string ToString() => $"{Kind}(type {Type}, size {Size}, arg {Arg})";
    }

    private readonly record struct Case(int Capacity, int MaxMessageLength, Op[] Ops);
}

/// <summary>
/// The reference model: a queue of entries in ring order plus byte positions, written from
/// the protocol description (align to 8, padding before a record that would cross the end,
/// capacity = tail - head), independent of the ring's code.
/// </summary>
internal sealed class RingModel(bool mpsc, int capacity, int maxMessageLength)
{
    private readonly List<Entry> _entries = [];
    private Claim? _spscOpen;

    public enum EntryKind
    {
        Padding,
        Aborted,
        Message,
        Open,
    }

    public int Capacity => capacity;

    public long Head { get; private set; }

    public long Tail { get; private set; }

    /// <summary>Data-area indices [from, to) of the open SPSC claim's record, or (0, 0).</summary>
    public (int From, int To) OpenSpscRecord => _spscOpen is { } c ? (c.RecordIndex, c.RecordIndex + c.Aligned) : (0, 0);

    public bool CanRead
    {
        get
        {
            foreach (var e in _entries)
            {
                if (e.Kind == EntryKind.Message)
                {
                    return true;
                }

                if (e.Kind == EntryKind.Open)
                {
                    return false;
                }
            }

            return false;
        }
    }

    /// <summary>Payload length of the next readable message, or 0.</summary>
    public int NextMessageLength => _entries.FirstOrDefault(e => e.Kind is EntryKind.Message or EntryKind.Open) is { Kind: EntryKind.Message } m ? m.Payload.Length : 0;

    public bool Write(int type, byte[] payload)
    {
        _spscOpen = null;
        if (!Reserve(payload.Length, out int padding, out int aligned))
        {
            return false;
        }

        Append(padding, new Entry(EntryKind.Message, type, payload, aligned));
        return true;
    }

    public Claim? TryClaim(int type, byte[] payload)
    {
        _spscOpen = null;
        if (!Reserve(payload.Length, out int padding, out int aligned))
        {
            return null;
        }

        var claim = new Claim(type, payload, padding, aligned, padding != 0 ? 0 : (int)(Tail & (capacity - 1)));
        if (mpsc)
        {
            // MPSC claims move the tail and commit the padding at once.
            claim.Entry = new Entry(EntryKind.Open, type, payload, aligned);
            Append(padding, claim.Entry);
        }
        else
        {
            _spscOpen = claim;
        }

        return claim;
    }

    public void Complete(Claim claim, bool commit)
    {
        var kind = commit ? EntryKind.Message : EntryKind.Aborted;
        if (mpsc)
        {
            claim.Entry!.Kind = kind;
        }
        else
        {
            _spscOpen = null;
            Append(claim.Padding, new Entry(kind, claim.Type, claim.Payload, claim.Aligned));
        }
    }

    public List<(int Type, byte[] Payload)> Read(int limit)
    {
        var read = new List<(int, byte[])>();
        while (read.Count < limit && _entries.Count > 0 && _entries[0].Kind != EntryKind.Open)
        {
            var e = Pop();
            if (e.Kind == EntryKind.Message)
            {
                read.Add((e.Type, e.Payload));
            }
        }

        return read;
    }

    public (bool Read, bool Throws, int Type, byte[]? Payload) TryRead(int bufferSize)
    {
        while (_entries.Count > 0 && _entries[0].Kind != EntryKind.Open)
        {
            if (_entries[0].Kind != EntryKind.Message)
            {
                Pop();
                continue;
            }

            if (_entries[0].Payload.Length > bufferSize)
            {
                return (false, true, 0, null);
            }

            var e = Pop();
            return (true, false, e.Type, e.Payload);
        }

        return (false, false, 0, null);
    }

    private bool Reserve(int payloadLength, out int padding, out int aligned)
    {
        Assert.InRange(payloadLength, 0, maxMessageLength);
        aligned = (8 + payloadLength + 7) / 8 * 8;
        int toEnd = capacity - (int)(Tail % capacity);
        padding = aligned > toEnd ? toEnd : 0;
        return Tail + padding + aligned - Head <= capacity;
    }

    private void Append(int padding, Entry entry)
    {
        if (padding != 0)
        {
            _entries.Add(new Entry(EntryKind.Padding, -1, [], padding));
        }

        _entries.Add(entry);
        Tail += padding + entry.Bytes;
    }

    private Entry Pop()
    {
        var e = _entries[0];
        _entries.RemoveAt(0);
        Head += e.Bytes;
        return e;
    }

    public sealed class Entry(EntryKind kind, int type, byte[] payload, int bytes)
    {
        public EntryKind Kind { get; set; } = kind;
        public int Type => type;
        public byte[] Payload => payload;
        public int Bytes => bytes;
    }

    public sealed class Claim(int type, byte[] payload, int padding, int aligned, int recordIndex)
    {
        public int Type => type;
        public byte[] Payload => payload;
        public int Padding => padding;
        public int Aligned => aligned;
        public int RecordIndex => recordIndex;
        public Entry? Entry { get; set; }
    }
}
