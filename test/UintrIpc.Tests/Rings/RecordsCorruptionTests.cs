using UintrIpc.Memory;
using UintrIpc.Rings;

namespace UintrIpc.Tests.Rings;

/// <summary>
/// A hostile or broken peer writes bad values into the mapped ring: every one must end in
/// an exception on our side (RingCorruptedException for positions and records,
/// RegionFormatException for the descriptor), never a hang, a wrong message or an access
/// outside the ring. Capacity 256: max message 32, longest record 40 bytes.
/// </summary>
public abstract class RecordsCorruptionTests : IDisposable
{
    private readonly List<SharedRegion> _regions = [];

    private protected abstract PartKind Kind { get; }

    /// <summary>(name, index of the header, length word, type word).</summary>
    public static TheoryData<string, int, int, int> HostileHeaders => new()
    {
        { "length beyond the data area", 0, 1 << 20, 1 },
        { "length int.MaxValue", 0, int.MaxValue, 1 },
        { "length shorter than a header", 0, 4, 1 },
        { "length crossing the end", 240, 24, 1 },
        { "unaligned length crossing the end", 248, 9, 1 },
        { "payload longer than the maximum", 0, 8 + 33, 1 },
        { "padding neither to the end nor record-sized", 0, 48, RingLayout.PaddingRecordType },
        { "padding crossing the end", 240, 24, RingLayout.PaddingRecordType },
        { "negative type", 0, 16, -5 },
        { "type int.MinValue", 0, 16, int.MinValue },
    };

    public void Dispose()
    {
        foreach (var region in _regions)
        {
            region.Dispose();
        }

        GC.SuppressFinalize(this);
    }

    [Theory]
    [MemberData(nameof(HostileHeaders))]
    public void A_hostile_record_header_is_reported_by_every_read(string name, int index, int length, int type)
    {
        var (region, memory) = NewRegion();
        memory.Head = index;
        memory.Tail = index + 64;
        memory.WriteHeader(index, length, type);
        var ring = RecordRingUnderTest.Attach(Kind, region);

        var e = Assert.Throws<RingCorruptedException>(() => ring.Drain());
        Assert.Equal(index, e.Position);
        Assert.Throws<RingCorruptedException>(() => ring.TryRead(out _, new byte[64], out _));
        Assert.Throws<RingCorruptedException>(() => ring.CanRead);
        Assert.Equal(index, Assert.Throws<RingCorruptedException>(() => NextOfBatch(ring.Ring)).Position);
        // Nothing was consumed: the ring is left for inspection.
        Assert.Equal(index, ring.ConsumerPosition);
        Assert.False(string.IsNullOrEmpty(name));
    }

    [Theory]
    [MemberData(nameof(HostileHeaders))]
    public void Messages_before_a_hostile_header_are_delivered_and_consumed(string name, int index, int length, int type)
    {
        _ = name;
        var ring = WithMessageBefore(index, length, type, out long start);
        var handler = new CollectingHandler([]);
        Assert.Throws<RingCorruptedException>(() => ring.Read(ref handler));
        Assert.Equal(7, Assert.Single(handler.Messages).Type);
        Assert.Equal(start + 24, ring.ConsumerPosition);
    }

    [Theory]
    [MemberData(nameof(HostileHeaders))]
    public void A_read_batch_hands_out_the_messages_before_a_hostile_header_and_releases_them_when_completed(string name, int index, int length, int type)
    {
        _ = name;
        var ring = WithMessageBefore(index, length, type, out long start);

        Assert.True(ring.Ring.TryReadBatch(int.MaxValue, out RecordCursor batch));
        Assert.True(batch.TryNext(out int first, out ReadOnlySpan<byte> payload));
        Assert.Equal((7, 16), (first, payload.Length));
        long position = -1;
        try
        {
            batch.TryNext(out _, out _);
        }
        catch (RingCorruptedException e)
        {
            position = e.Position;
        }

        Assert.Equal(start + 24, position); // the hostile record's ring position (index + 256 when it is at 0)
        Assert.Equal(start, ring.ConsumerPosition); // nothing released before the completion
        ring.Ring.CompleteBatch(batch);
        Assert.Equal(start + 24, ring.ConsumerPosition); // the message taken, not the hostile record
        Assert.Equal(start + 24, Assert.Throws<RingCorruptedException>(() => NextOfBatch(ring.Ring)).Position);
    }

    /// <summary>A ring whose head is 24 bytes before the hostile header at <paramref name="index"/> (wrapping to the end of the lap when it is at 0), a message of type 7 there.</summary>
    private RecordRingUnderTest WithMessageBefore(int index, int length, int type, out long start)
    {
        var (region, memory) = NewRegion();
        start = index >= 24 ? index - 24 : 256 - 24;
        memory.Head = start;
        memory.Tail = start + 24 + 64;
        var ring = RecordRingUnderTest.Attach(Kind, region);
        memory.WriteHeader((int)(start & 255), 8 + 16, 7);
        memory.WriteHeader(index, length, type);
        return ring;
    }

    /// <summary>Begins a pull batch and takes its first message (a ref struct cannot live in a lambda).</summary>
    private static bool NextOfBatch(RecordRing ring)
    {
        Assert.True(ring.TryReadBatch(int.MaxValue, out RecordCursor batch));
        return batch.TryNext(out _, out _);
    }

    [Fact]
    public void A_record_that_would_overlap_the_start_of_the_batch_is_reported()
    {
        // Each record is valid on its own, but after the padding at 128 the records from 0
        // reach back into the start of the batch (whose header is not zeroed yet): a batch
        // never consumes more than one lap.
        var ring = WithRecordsOverlappingTheStart();
        var handler = new CollectingHandler([]);
        var e = Assert.Throws<RingCorruptedException>(() => ring.Read(ref handler));
        Assert.Equal(128 + 128 + 120, e.Position);
        Assert.Equal(3, handler.Messages.Count);
        Assert.Equal(128 + 128 + 120, ring.ConsumerPosition);
    }

    [Fact]
    public void A_record_that_would_overlap_the_start_of_a_read_batch_is_reported()
    {
        // The same ring through a pull batch: after the wrap its records must end at the batch's
        // start (its segment's end is then the lap's end, not the data area's).
        var ring = WithRecordsOverlappingTheStart();
        Assert.True(ring.Ring.TryReadBatch(int.MaxValue, out RecordCursor batch));
        int taken = 0;
        long position = -1;
        try
        {
            while (taken < 8 && batch.TryNext(out _, out _))
            {
                taken++;
            }
        }
        catch (RingCorruptedException e)
        {
            position = e.Position;
        }

        Assert.Equal(3, taken);
        Assert.Equal(128 + 128 + 120, position);
        Assert.Equal(128, ring.ConsumerPosition); // nothing released before the completion
        ring.Ring.CompleteBatch(batch);
        Assert.Equal(128 + 128 + 120, ring.ConsumerPosition);
    }

    /// <summary>A ring whose head is 128, with padding to the lap's end there and then records of 40 bytes from 0 to 160: the fourth reaches back past the head.</summary>
    private RecordRingUnderTest WithRecordsOverlappingTheStart()
    {
        var (region, memory) = NewRegion();
        memory.Head = 128;
        memory.Tail = 128 + 256;
        memory.WriteHeader(128, 128, RingLayout.PaddingRecordType);
        for (int i = 0; i <= 120; i += 40)
        {
            memory.WriteHeader(i, 40, 1);
        }

        return RecordRingUnderTest.Attach(Kind, region);
    }

    [Fact]
    public void Attach_rejects_a_head_after_the_tail()
    {
        var (region, memory) = NewRegion();
        memory.Head = 64;
        memory.Tail = 0;
        var e = Assert.Throws<RingCorruptedException>(() => RecordRingUnderTest.Attach(Kind, region));
        Assert.Equal("head", e.What);
    }

    [Fact]
    public void Attach_rejects_a_tail_more_than_a_capacity_ahead()
    {
        var (region, memory) = NewRegion();
        memory.Head = 8;
        memory.Tail = 8 + 256 + 8;
        var e = Assert.Throws<RingCorruptedException>(() => RecordRingUnderTest.Attach(Kind, region));
        Assert.Equal("tail", e.What);
    }

    [Theory]
    [InlineData(3L, 8L)]
    [InlineData(0L, 5L)]
    [InlineData(long.MinValue, 0L)]
    [InlineData(-8L, 0L)]
    public void Attach_rejects_unaligned_or_negative_positions(long head, long tail)
    {
        var (region, memory) = NewRegion();
        memory.Head = head;
        memory.Tail = tail;
        Assert.Throws<RingCorruptedException>(() => RecordRingUnderTest.Attach(Kind, region));
    }

    [Fact]
    public void A_producer_detects_a_head_moved_after_the_tail()
    {
        var (region, memory) = NewRegion();
        var ring = RecordRingUnderTest.Attach(Kind, region);
        memory.Head = 512;
        AssertProducerFailsWithin(ring, "head");
    }

    [Fact]
    public void A_producer_detects_a_tail_moved_too_far_ahead()
    {
        var (region, memory) = NewRegion();
        var ring = RecordRingUnderTest.Attach(Kind, region);
        memory.Tail = 512;
        if (Kind == PartKind.SpscRecords)
        {
            // The only producer keeps its tail privately and never reads it back (finding 8).
            AssertSharedPositionIgnored(ring, region);
            return;
        }

        AssertProducerFailsWithin(ring, "tail");
    }

    [Fact]
    public void A_producer_detects_an_unaligned_tail()
    {
        var (region, memory) = NewRegion();
        var ring = RecordRingUnderTest.Attach(Kind, region);
        memory.Tail = 12;
        if (Kind == PartKind.SpscRecords)
        {
            AssertSharedPositionIgnored(ring, region); // as above
            return;
        }

        Assert.Throws<RingCorruptedException>(() => ring.TryWrite(1, new byte[4]));
        Assert.Throws<RingCorruptedException>(() => ring.TryClaim(1, 4, out _));
    }

    [Fact]
    public void A_consumer_ignores_an_unaligned_head()
    {
        // The consumer keeps its head privately and never reads it back (finding 8): a peer
        // rewriting it cannot make the consumer fail, skip or repeat a message.
        var (region, memory) = NewRegion();
        var ring = RecordRingUnderTest.Attach(Kind, region);
        Assert.True(ring.TryWrite(1, new byte[4]));
        memory.Head = 4;
        Assert.True(ring.CanRead);
        Assert.Equal(1, Assert.Single(ring.Drain()).Type);
        Assert.Equal(16, memory.Head);
    }

    /// <summary>The producer writes where its own position says, and the consumer reads it all.</summary>
    private static void AssertSharedPositionIgnored(RecordRingUnderTest producer, SharedRegion region)
    {
        for (int i = 0; i < 3; i++)
        {
            Assert.True(producer.TryWrite(i, new byte[8]));
        }

        var consumer = RecordRingUnderTest.Attach(PartKind.SpscRecords, region);
        Assert.Equal([0, 1, 2], consumer.Drain().Select(m => m.Type));
    }

    [Fact]
    public unsafe void Attach_rejects_a_bad_descriptor()
    {
        // Capacity that is not a power of two.
        var (region, memory) = NewRegion();
        *(ulong*)(memory.Descriptor + RingLayout.CapacityOffset) = 100;
        Assert.Throws<RegionFormatException>(() => RecordRingUnderTest.Attach(Kind, region));

        // Max message length above capacity / 8.
        (region, memory) = NewRegion();
        *(uint*)(memory.Descriptor + RingLayout.MaxMessageLengthOffset) = 33;
        Assert.Throws<RegionFormatException>(() => RecordRingUnderTest.Attach(Kind, region));

        // A consistent descriptor of a ring smaller than a record ring may be.
        (region, memory) = NewRegion();
        *(ulong*)(memory.Descriptor + RingLayout.CapacityOffset) = 32;
        *(ulong*)(memory.Descriptor + RingLayout.DataLengthOffset) = 32;
        *(uint*)(memory.Descriptor + RingLayout.MaxMessageLengthOffset) = 4;
        var e = Assert.Throws<RegionFormatException>(() => RecordRingUnderTest.Attach(Kind, region));
        Assert.Contains("capacity", e.Field, StringComparison.Ordinal);

        // The descriptor says the other ring kind.
        (region, memory) = NewRegion();
        var other = Kind == PartKind.SpscRecords ? PartKind.MpscRecords : PartKind.SpscRecords;
        *(uint*)(memory.Descriptor + RingLayout.KindOffset) = (uint)other;
        Assert.Throws<RegionFormatException>(() => RecordRingUnderTest.Attach(Kind, region));
    }

    /// <summary>Writes until the producer has to look at the head: it must throw, never report "full" or write.</summary>
    private static void AssertProducerFailsWithin(RecordRingUnderTest ring, string what)
    {
        for (int i = 0; i <= 256 / 16; i++)
        {
            bool written;
            try
            {
                written = ring.TryWrite(1, new byte[8]);
            }
            catch (RingCorruptedException e)
            {
                Assert.Equal(what, e.What);
                return;
            }

            Assert.True(written, "a corrupt ring was reported as full");
        }

        Assert.Fail("the producer never noticed the corrupt position");
    }

    private (SharedRegion Region, RecordRingMemory Memory) NewRegion()
    {
        var region = SharedRegion.CreateAnonymous(RecordRingUnderTest.Part(Kind, 256));
        _regions.Add(region);
        return (region, new RecordRingMemory(region, Kind));
    }
}

public sealed class SpscRecordsCorruptionTests : RecordsCorruptionTests
{
    private protected override PartKind Kind => PartKind.SpscRecords;
}

public sealed class MpscRecordsCorruptionTests : RecordsCorruptionTests
{
    private protected override PartKind Kind => PartKind.MpscRecords;
}
