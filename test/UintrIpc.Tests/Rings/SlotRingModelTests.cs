using CsCheck;
using UintrIpc.Rings;

namespace UintrIpc.Tests.Rings;

/// <summary>
/// Model-based check (CsCheck): random sequences of every producer and consumer operation,
/// run on a real ring and on a bounded <see cref="Queue{T}"/> model; every result and the
/// final positions must agree. Failures shrink to a short operation list with a seed.
/// </summary>
public abstract class SlotRingModelTests
{
    private protected abstract ISlotRingFactory Factory { get; }

    [Fact]
    public void RandomOperationSequences_MatchTheQueueModel()
    {
        var initial = Gen.Int[1, 4].Select(shift =>
        {
            int capacity = 1 << shift;
            var region = ThrowawayRegions.Create(Factory.Part<long>(capacity));
            return (new RingUnderTest(Factory.Attach<long>(region)), new RingModel(capacity, Factory.AbortLeavesHole));
        });

        GenOperation<RingUnderTest, RingModel>[] operations =
        [
            Gen.Long[0, 999].Operation<RingUnderTest, RingModel>(v => $" TryWrite({v})",
                (a, v) => a.Log.Add($"TryWrite={a.Ring.TryWrite(v)}"),
                (m, v) => m.Log.Add($"TryWrite={m.TryWrite(v)}")),
            Gen.Long[0, 999].Array[0, 6].Operation<RingUnderTest, RingModel>(v => $" TryWrite([{string.Join(',', v)}])",
                (a, v) => a.Log.Add($"TryWriteBatch={a.Ring.TryWrite(v)}"),
                (m, v) => m.Log.Add($"TryWriteBatch={m.TryWrite(v)}")),
            Gen.Long[0, 999].Operation<RingUnderTest, RingModel>(v => $" ClaimPublish({v})",
                (a, v) => a.Log.Add($"ClaimPublish={a.Ring.TryClaimAndPublish(v)}"),
                (m, v) => m.Log.Add($"ClaimPublish={m.TryWrite(v)}")),
            Gen.Const(0).Operation<RingUnderTest, RingModel>(_ => " ClaimAbort",
                (a, _) => a.Log.Add($"ClaimAbort={a.Ring.TryClaim(static (ref SlotClaim<long> c) => c.Abort())}"),
                (m, _) => m.Log.Add($"ClaimAbort={m.ClaimAbort()}")),
            Gen.Const(0).Operation<RingUnderTest, RingModel>(_ => " TryRead",
                (a, _) => a.Log.Add(a.Ring.TryRead(out long item) ? $"TryRead={item}" : "TryRead=none"),
                (m, _) => m.Log.Add(m.Read(1) is [long item] ? $"TryRead={item}" : "TryRead=none")),
            Gen.Int[0, 6].Operation<RingUnderTest, RingModel>(n => $" TryRead(span {n})",
                (a, n) =>
                {
                    var buffer = new long[n];
                    int read = a.Ring.TryRead(buffer);
                    a.Log.Add($"TryReadBatch=[{string.Join(',', buffer[..read])}]");
                },
                (m, n) => m.Log.Add($"TryReadBatch=[{string.Join(',', m.Read(n))}]")),
            Gen.Int[0, 6].Operation<RingUnderTest, RingModel>(n => $" Drain({n})",
                (a, n) => a.Log.Add($"Drain=[{string.Join(',', a.Ring.DrainToList(n))}]"),
                (m, n) => m.Log.Add($"Drain=[{string.Join(',', m.Read(n))}]")),
            Gen.Const(0).Operation<RingUnderTest, RingModel>(_ => " CanRead",
                (a, _) => a.Log.Add($"CanRead={a.Ring.CanRead}"),
                (m, _) => m.Log.Add($"CanRead={m.CanRead}")),
        ];

        initial.SampleModelBased(
            operations,
            equal: (a, m) => a.Log.SequenceEqual(m.Log)
                && a.Ring.Count == m.Count
                && a.Ring.ProducerPosition == m.Produced
                && a.Ring.ConsumerPosition == m.Consumed,
            iter: Bounded.IsStress ? 20_000 : 1_000,
            printActual: a => a.ToString(),
            printModel: m => m.ToString());
    }

    /// <summary>The real ring and the results it gave.</summary>
    internal sealed class RingUnderTest(TestRing<long> ring)
    {
        public TestRing<long> Ring { get; } = ring;
        public List<string> Log { get; } = [];

        public override string ToString()
            => $"capacity={Ring.Capacity} tail={Ring.ProducerPosition} head={Ring.ConsumerPosition} count={Ring.Count} log=[{string.Join("; ", Log)}]";
    }

    /// <summary>
    /// A bounded FIFO queue. Aborted MPSC claims are holes: they take a slot until the consumer
    /// steps over them, exactly like a skipped slot in the ring.
    /// </summary>
    public sealed class RingModel(int capacity, bool abortLeavesHole)
    {
        private readonly Queue<long?> _entries = new();

        public List<string> Log { get; } = [];
        public long Produced { get; private set; }
        public long Consumed { get; private set; }
        public int Count => _entries.Count;
        public bool CanRead => _entries.Count > 0;

        public bool TryWrite(long value) => TryWrite([value]) == 1;

        public int TryWrite(long[] values)
        {
            int count = Math.Min(values.Length, capacity - _entries.Count);
            for (int i = 0; i < count; i++)
            {
                _entries.Enqueue(values[i]);
            }

            Produced += count;
            return count;
        }

        public bool ClaimAbort()
        {
            if (_entries.Count == capacity)
            {
                return false;
            }

            if (abortLeavesHole)
            {
                _entries.Enqueue(null);
                Produced++;
            }

            return true;
        }

        /// <summary>What a drain with this limit returns: holes in front of each element are stepped over.</summary>
        public List<long> Read(int limit)
        {
            var read = new List<long>();
            while (read.Count < limit && _entries.TryDequeue(out long? entry))
            {
                Consumed++;
                if (entry is long value)
                {
                    read.Add(value);
                }
            }

            return read;
        }

        public override string ToString()
            => $"capacity={capacity} produced={Produced} consumed={Consumed} entries=[{string.Join(',', _entries.Select(e => e?.ToString() ?? "hole"))}] log=[{string.Join("; ", Log)}]";
    }
}

/// <summary>Model-based check of <see cref="SlotRing{T}"/>.</summary>
public sealed class SpscRingModelTests : SlotRingModelTests
{
    private protected override ISlotRingFactory Factory => SpscFactory.Instance;
}

/// <summary>Model-based check of <see cref="SlotRing{T}"/>.</summary>
public sealed class MpscRingModelTests : SlotRingModelTests
{
    private protected override ISlotRingFactory Factory => MpscFactory.Instance;
}
