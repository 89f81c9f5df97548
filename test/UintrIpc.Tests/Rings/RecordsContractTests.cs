using System.Runtime.CompilerServices;
using UintrIpc.Channels;
using UintrIpc.Memory;
using UintrIpc.Rings;

namespace UintrIpc.Tests.Rings;

/// <summary>
/// Behaviour every record ring shares, run once per ring kind (like dotnet/runtime's
/// ChannelTestBase). Capacity 256 unless said otherwise: max message 32 bytes, so the
/// longest record takes 40 bytes.
/// </summary>
public abstract partial class RecordsContractTests : IDisposable
{
    private const int DefaultCapacity = 256;
    private readonly List<SharedRegion> _regions = [];

    private protected abstract PartKind Kind { get; }

    public void Dispose()
    {
        foreach (var region in _regions)
        {
            region.Dispose();
        }

        GC.SuppressFinalize(this);
    }

    private protected SharedRegion NewRegion(int capacity = DefaultCapacity, int maxMessageLength = 0)
    {
        var region = SharedRegion.CreateAnonymous(RecordRingUnderTest.Part(Kind, capacity, maxMessageLength));
        _regions.Add(region);
        return region;
    }

    private protected RecordRingUnderTest NewRing(int capacity = DefaultCapacity, int maxMessageLength = 0)
        => RecordRingUnderTest.Attach(Kind, NewRegion(capacity, maxMessageLength));

    private protected RecordRingUnderTest NewRing(out RecordRingMemory memory, int capacity = DefaultCapacity, int maxMessageLength = 0)
    {
        var region = NewRegion(capacity, maxMessageLength);
        memory = new RecordRingMemory(region, Kind);
        return RecordRingUnderTest.Attach(Kind, region);
    }

    [Fact]
    public void New_ring_is_empty()
    {
        var ring = NewRing();
        Assert.Equal(DefaultCapacity, ring.Capacity);
        Assert.Equal(DefaultCapacity / 8, ring.MaxMessageLength);
        Assert.False(ring.CanRead);
        Assert.False(ring.TryRead(out _, new byte[64], out _));
        Assert.Empty(ring.Drain());
        Assert.Equal(0, ring.ProducerPosition);
        Assert.Equal(0, ring.ConsumerPosition);
    }

    [Fact]
    public void Messages_come_out_in_order_with_their_types_and_payloads()
    {
        var ring = NewRing(out var memory);
        for (int i = 0; i < 5; i++)
        {
            Assert.True(ring.TryWrite(i * 10, ClaimAssert.Pattern(i * 3, i)));
        }

        Assert.True(ring.CanRead);
        // Memory image of the first record: length 8 + 0, type 0; the second: 8 + 3 at index 8.
        Assert.Equal(8, memory.LengthAt(0));
        Assert.Equal(11, memory.LengthAt(8));
        Assert.Equal(10, memory.TypeAt(8));

        var buffer = new byte[64];
        Assert.True(ring.TryRead(out int type, buffer, out int length));
        Assert.Equal((0, 0), (type, length));
        var rest = ring.Drain();
        Assert.Equal([10, 20, 30, 40], rest.Select(m => m.Type));
        for (int i = 1; i < 5; i++)
        {
            Assert.Equal(ClaimAssert.Pattern(i * 3, i), rest[i - 1].Payload);
        }

        Assert.False(ring.CanRead);
        Assert.Equal(ring.ProducerPosition, ring.ConsumerPosition);
    }

    [Fact]
    public void Full_ring_refuses_a_write_until_the_consumer_frees_room()
    {
        var ring = NewRing();
        // 8-byte payloads take 16 bytes: exactly 16 fit in 256.
        int written = 0;
        while (ring.TryWrite(1, new byte[8]))
        {
            Assert.True(++written <= 16, "more records fit than the capacity allows");
        }

        Assert.Equal(16, written);
        Assert.Equal(256, ring.ProducerPosition);
        Assert.False(ring.TryClaim(1, 8, out _));
        Assert.False(ring.TryWrite(1, ReadOnlySpan<byte>.Empty));

        Assert.Single(ring.Drain(limit: 1));
        Assert.True(ring.TryWrite(2, new byte[8]));
        Assert.False(ring.TryWrite(2, new byte[8]));
        Assert.Equal(16, ring.Drain().Count);
    }

    [Fact]
    public void A_record_that_would_cross_the_end_starts_at_zero_after_a_padding_record()
    {
        var ring = NewRing(out var memory);
        // 16-byte payloads take 24 bytes: ten of them end at 240, and the 16 bytes left are too few.
        for (int i = 0; i < 10; i++)
        {
            Assert.True(ring.TryWrite(i, ClaimAssert.Pattern(16, i)));
        }

        // The next record needs 16 (padding) + 24 bytes: no room until two are read.
        Assert.False(ring.TryWrite(10, ClaimAssert.Pattern(16, 10)));
        Assert.Equal(2, ring.Drain(limit: 2).Count);
        Assert.True(ring.TryWrite(10, ClaimAssert.Pattern(16, 10)));

        Assert.Equal(240 + 16 + 24, ring.ProducerPosition);
        Assert.Equal(16, memory.LengthAt(240));
        Assert.Equal(RingLayout.PaddingRecordType, memory.TypeAt(240));
        Assert.Equal(24, memory.LengthAt(0));
        Assert.Equal(10, memory.TypeAt(0));
        Assert.Equal(ClaimAssert.Pattern(16, 10), memory.Bytes(8, 16).ToArray());

        var rest = ring.Drain();
        Assert.Equal(Enumerable.Range(2, 9), rest.Select(m => m.Type));
        Assert.Equal(ClaimAssert.Pattern(16, 10), rest[^1].Payload);
        Assert.Equal(ring.ProducerPosition, ring.ConsumerPosition);
        Assert.True(memory.FreeSpaceIsZero(ring.ConsumerPosition, ring.ProducerPosition));
    }

    [Fact]
    public void A_record_that_ends_exactly_at_the_end_needs_no_padding()
    {
        var ring = NewRing(out var memory);
        // 24-byte payloads take 32 bytes: the eighth ends exactly at 256.
        for (int i = 0; i < 7; i++)
        {
            Assert.True(ring.TryWrite(i, new byte[24]));
        }

        Assert.Equal(7, ring.Drain().Count);
        Assert.True(ring.TryWrite(7, ClaimAssert.Pattern(24, 7)));
        Assert.Equal(256, ring.ProducerPosition);
        Assert.True(ring.TryWrite(8, ClaimAssert.Pattern(24, 8)));
        Assert.Equal(256 + 32, ring.ProducerPosition);

        Assert.Equal(32, memory.LengthAt(224));
        Assert.Equal(7, memory.TypeAt(224));
        Assert.Equal(32, memory.LengthAt(0));
        Assert.Equal(8, memory.TypeAt(0));

        var rest = ring.Drain();
        Assert.Equal([7, 8], rest.Select(m => m.Type));
        Assert.Equal(ClaimAssert.Pattern(24, 8), rest[1].Payload);
    }

    [Fact]
    public void A_committed_claim_delivers_what_was_written_in_place()
    {
        var ring = NewRing(out var memory);
        Assert.True(ring.TryClaim(7, 20, out var claim));
        Assert.Equal(20, claim.Length);
        Assert.Equal(20, claim.Payload.Length);
        ClaimAssert.Pattern(20, 3).CopyTo(claim.Payload);
        claim.Commit();
        Assert.True(claim.IsCompleted);

        Assert.Equal(28, memory.LengthAt(0));
        var messages = ring.Drain();
        Assert.Equal(7, Assert.Single(messages).Type);
        Assert.Equal(ClaimAssert.Pattern(20, 3), messages[0].Payload);
    }

    [Fact]
    public void An_aborted_claim_is_skipped_by_the_consumer()
    {
        var ring = NewRing(out var memory);
        Assert.True(ring.TryClaim(5, 10, out var claim));
        claim.Payload.Fill(0xAB);
        claim.Abort();
        Assert.True(ring.TryWrite(6, ClaimAssert.Pattern(4, 6)));

        // The aborted claim is a padding record of its own length.
        Assert.Equal(18, memory.LengthAt(0));
        Assert.Equal(RingLayout.PaddingRecordType, memory.TypeAt(0));

        var messages = ring.Drain();
        Assert.Equal(6, Assert.Single(messages).Type);
        Assert.Equal(ClaimAssert.Pattern(4, 6), messages[0].Payload);
        Assert.Equal(24 + 16, ring.ConsumerPosition);
        Assert.True(memory.FreeSpaceIsZero(ring.ConsumerPosition, ring.ProducerPosition));
    }

    [Fact]
    public void Only_aborted_claims_leave_nothing_to_read()
    {
        var ring = NewRing();
        Assert.True(ring.TryClaim(1, 3, out var claim));
        claim.Abort();
        Assert.False(ring.CanRead);
        Assert.False(ring.TryRead(out _, new byte[32], out _));
        Assert.Equal(ring.ProducerPosition, ring.ConsumerPosition);
    }

    [Fact]
    public void Completing_a_claim_twice_throws()
    {
        var ring = NewRing();
        Assert.True(ring.TryClaim(1, 4, out var committed));
        committed.Commit();
        ClaimAssert.CompleteThrows(ref committed, commit: true);
        ClaimAssert.CompleteThrows(ref committed, commit: false);

        Assert.True(ring.TryClaim(1, 4, out var aborted));
        aborted.Abort();
        ClaimAssert.CompleteThrows(ref aborted, commit: false);
        ClaimAssert.CompleteThrows(ref aborted, commit: true);

        RecordClaim none = default;
        ClaimAssert.CompleteThrows(ref none, commit: true);
        Assert.Equal(0, none.Length);

        // The payload of a completed claim is off limits (the consumer may be reusing it).
        bool threw = false;
        try
        {
            _ = committed.Payload;
        }
        catch (InvalidOperationException)
        {
            threw = true;
        }

        Assert.True(threw);
        Assert.Single(ring.Drain());
    }

    [Fact]
    public void The_maximum_message_length_is_accepted_and_one_more_byte_is_rejected()
    {
        var ring = NewRing();
        Assert.True(ring.TryWrite(1, new byte[32]));
        Assert.Throws<ArgumentOutOfRangeException>(() => ring.TryWrite(1, new byte[33]));
        Assert.Throws<ArgumentOutOfRangeException>(() => ring.TryClaim(1, 33, out _));
        Assert.True(ring.TryClaim(2, 32, out var claim));
        claim.Commit();
        Assert.Equal([32, 32], ring.Drain().Select(m => m.Payload.Length));

        var small = NewRing(maxMessageLength: 10);
        Assert.Equal(10, small.MaxMessageLength);
        Assert.True(small.TryWrite(1, new byte[10]));
        Assert.Throws<ArgumentOutOfRangeException>(() => small.TryWrite(1, new byte[11]));
        Assert.Equal(10, Assert.Single(small.Drain()).Payload.Length);
    }

    [Fact]
    public void A_zero_length_payload_round_trips()
    {
        var ring = NewRing(out var memory);
        Assert.True(ring.TryWrite(3, ReadOnlySpan<byte>.Empty));
        Assert.True(ring.TryClaim(4, 0, out var claim));
        Assert.True(claim.Payload.IsEmpty);
        claim.Commit();
        Assert.Equal(16, ring.ProducerPosition);
        Assert.Equal(8, memory.LengthAt(0));
        Assert.Equal(8, memory.LengthAt(8));

        Assert.True(ring.TryRead(out int type, Span<byte>.Empty, out int length));
        Assert.Equal((3, 0), (type, length));
        Assert.True(ring.TryRead(out type, Span<byte>.Empty, out length));
        Assert.Equal((4, 0), (type, length));
        Assert.False(ring.TryRead(out _, Span<byte>.Empty, out _));
    }

    [Fact]
    public void Reads_of_a_limit_over_many_laps_hand_each_record_over_once_and_release_exactly_up_to_the_last()
    {
        // Read releases what it read at its end (also with padding at the wrap between records):
        // the shared head and our position end at the last record read, the bytes before it are
        // zeroed and the record after it is untouched.
        var ring = NewRing(out RecordRingMemory memory);
        int[] payloads = [8, 24, 16, 32, 8];
        var ends = new Queue<(int Type, long End)>();
        int written = 0, read = 0;
        while (read < 400)
        {
            while (ring.TryWrite(written, ClaimAssert.Pattern(payloads[written % payloads.Length], written)))
            {
                ends.Enqueue((written++, ring.ProducerPosition));
            }

            long before = ring.ConsumerPosition;
            var handler = new CollectingHandler([]);
            int got = ring.Read(ref handler, limit: 3);
            Assert.Equal(Math.Min(3, ends.Count), got);
            long end = before;
            foreach (var (type, _) in handler.Messages)
            {
                (int expected, end) = ends.Dequeue();
                Assert.Equal(expected, type);
            }

            read += got;
            Assert.Equal(end, ring.ConsumerPosition);
            Assert.Equal(end, memory.Head);
            Assert.True(memory.FreeSpaceIsZero(end, ring.ProducerPosition));
            if (ends.Count > 0)
            {
                Assert.True(memory.LengthAt((int)(end & (DefaultCapacity - 1))) > 0); // the next record (or padding before it) stays
            }
        }

        Assert.Equal(written - ends.Count, read);
    }

    [Fact]
    public void Read_hands_over_at_most_the_limit_in_order()
    {
        var ring = NewRing();
        for (int i = 0; i < 10; i++)
        {
            Assert.True(ring.TryWrite(i, ClaimAssert.Pattern(i, i)));
        }

        Assert.Empty(ring.Drain(limit: 0));
        Assert.Equal(0, ring.ConsumerPosition);
        Assert.Equal([0, 1, 2], ring.Drain(limit: 3).Select(m => m.Type));
        Assert.Equal(Enumerable.Range(3, 7), ring.Drain(limit: 100).Select(m => m.Type));
        Assert.Empty(ring.Drain());
        Assert.Equal(ring.ProducerPosition, ring.ConsumerPosition);
        var handler = new CollectingHandler([]);
        Assert.Throws<ArgumentOutOfRangeException>(() => ring.Read(ref handler, -1));
    }

    [Fact]
    public void A_ref_struct_handler_updates_the_callers_state_in_place()
    {
        // A handler may hold a ref to the caller's state (a ref struct), so that a read copies
        // nothing in or out per call: each message lands in the caller's own locals.
        var ring = NewRing();
        for (int i = 0; i < 5; i++)
        {
            Assert.True(ring.TryWrite(i, ClaimAssert.Pattern(8, i)));
        }

        int count = 0;
        long typeSum = 0;
        var handler = new CountingRefHandler(ref count, ref typeSum);
        Assert.Equal(2, ring.Read(ref handler, 2));
        Assert.Equal((2, 0L + 1), (count, typeSum));
        Assert.Equal(3, ring.Read(ref handler));
        Assert.Equal((5, 0L + 1 + 2 + 3 + 4), (count, typeSum));
        Assert.Equal(ring.ProducerPosition, ring.ConsumerPosition);
    }

    private readonly ref struct CountingRefHandler(ref int count, ref long typeSum) : IRecordHandler
    {
        private readonly ref int _count = ref count;
        private readonly ref long _typeSum = ref typeSum;

        public void Handle(int type, ReadOnlySpan<byte> payload)
        {
            Assert.Equal(ClaimAssert.Pattern(8, type), payload.ToArray());
            _count++;
            _typeSum += type;
        }
    }

    [Fact]
    public void A_message_whose_handler_throws_counts_as_consumed()
    {
        var ring = NewRing();
        for (int i = 0; i < 3; i++)
        {
            Assert.True(ring.TryWrite(i, new byte[8]));
        }

        var handler = new ThrowingHandler { ThrowAt = 1 };
        Assert.Throws<InvalidOperationException>(() => ring.Read(ref handler));
        Assert.Equal(2 * 16, ring.ConsumerPosition);
        Assert.Equal(2, Assert.Single(ring.Drain()).Type);
    }

    [Fact]
    public void A_throwing_handler_in_optimized_code_keeps_its_state_and_its_bytes_are_released_before_the_exception_arrives()
    {
        // Read inlined into an optimized caller (its finally cloned into the normal exit, so an
        // exception runs a separate copy): the handler's fields, kept in registers meanwhile,
        // and the release must both be complete when the caller's catch runs.
        var region = NewRegion();
        var memory = new RecordRingMemory(region, Kind);
        using var ring = new RecordRing(region);
        for (int i = 0; i < 5; i++)
        {
            Assert.True(ring.TryWrite(i, new byte[8])); // 16 bytes each
        }

        var (seen, positionInCatch) = ReadUntilTheHandlerThrows(ring, throwAt: 2);
        Assert.Equal(3, seen);
        Assert.Equal(3 * 16, positionInCatch);
        for (int index = 0; index < 3 * 16; index += 8)
        {
            Assert.Equal(0, memory.LengthAt(index)); // released bytes are zeroed (uintripc.h 2e)
        }

        var rest = new CollectingHandler([]);
        Assert.Equal(2, ring.Read(ref rest));
        Assert.Equal(ring.ProducerPosition, ring.ConsumerPosition);
    }

    [Fact]
    public void A_handler_that_threw_carries_its_state_into_the_next_read()
    {
        // Read runs the handler on a copy in its own frame and writes it back (on return and on a
        // throw): the caller's variable is what the next Read starts from.
        var ring = NewRing();
        for (int i = 0; i < 5; i++)
        {
            Assert.True(ring.TryWrite(i, new byte[8])); // 16 bytes each
        }

        var handler = new ThrowingHandler { ThrowAt = 1 };
        Assert.Throws<InvalidOperationException>(() => ring.Read(ref handler));
        Assert.Equal(2, handler.Seen); // the record it threw on and the one before
        Assert.Equal(2 * 16, ring.ConsumerPosition);
        handler.ThrowAt = 3; // the fourth record handled in all, the second of this Read
        Assert.Throws<InvalidOperationException>(() => ring.Read(ref handler));
        Assert.Equal(4, handler.Seen);
        Assert.Equal(4 * 16, ring.ConsumerPosition);
        handler.ThrowAt = -1;
        Assert.Equal(1, ring.Read(ref handler));
        Assert.Equal(5, handler.Seen);
        Assert.Equal(ring.ProducerPosition, ring.ConsumerPosition);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static (int Seen, long PositionInCatch) ReadUntilTheHandlerThrows(RecordRing ring, int throwAt)
    {
        var handler = new ThrowingHandler { ThrowAt = throwAt };
        try
        {
            ring.Read(ref handler);
        }
        catch (InvalidOperationException)
        {
            return (handler.Seen, ring.ConsumerPosition);
        }

        return (-1, -1);
    }

    [Fact]
    public void A_throwing_handler_after_padding_releases_the_padding_and_its_message()
    {
        var ring = NewRing();
        for (int i = 0; i < 6; i++)
        {
            Assert.True(ring.TryWrite(i, new byte[32])); // 6 x 40 bytes
        }

        Assert.Equal(6, ring.Drain().Count);
        // 16 bytes are left before the end: padding there, A at 0 (40 bytes), B after it.
        Assert.True(ring.TryWrite(10, new byte[32]));
        Assert.True(ring.TryWrite(11, new byte[8]));
        var handler = new ThrowingHandler { ThrowAt = 0 };
        Assert.Throws<InvalidOperationException>(() => ring.Read(ref handler));
        Assert.Equal(240 + 16 + 40, ring.ConsumerPosition);
        Assert.Equal(11, Assert.Single(ring.Drain()).Type);
        Assert.Equal(ring.ProducerPosition, ring.ConsumerPosition);
    }

    [Fact]
    public void TryRead_into_a_too_small_buffer_throws_and_keeps_the_message()
    {
        var ring = NewRing();
        // Put the message after a padding record, which may be consumed meanwhile.
        for (int i = 0; i < 10; i++)
        {
            Assert.True(ring.TryWrite(i, new byte[16]));
        }

        Assert.Equal(10, ring.Drain().Count);
        Assert.True(ring.TryWrite(42, ClaimAssert.Pattern(20, 42)));

        Assert.Throws<ArgumentException>(() => ring.TryRead(out _, new byte[19], out _));
        Assert.True(ring.CanRead);
        var buffer = new byte[32];
        Assert.True(ring.TryRead(out int type, buffer, out int length));
        Assert.Equal((42, 20), (type, length));
        Assert.Equal(ClaimAssert.Pattern(20, 42), buffer[..20]);
        Assert.Equal(ring.ProducerPosition, ring.ConsumerPosition);
    }

    [Fact]
    public void Invalid_arguments_are_rejected()
    {
        foreach (int capacity in new[] { 0, 32, 63, 100, 1000, -256, int.MinValue, int.MaxValue })
        {
            Assert.Throws<ArgumentOutOfRangeException>(() => RecordRingUnderTest.Part(Kind, capacity));
        }

        Assert.Throws<ArgumentOutOfRangeException>(() => RecordRingUnderTest.Part(Kind, 256, maxMessageLength: 33));
        Assert.Throws<ArgumentOutOfRangeException>(() => RecordRingUnderTest.Part(Kind, 256, maxMessageLength: -1));
        Assert.Equal(RingLayout.RecordRingSize(64, Kind == PartKind.MpscRecords ? RingLayout.DefaultProducerSlots : 0), RecordRingUnderTest.Part(Kind, 64).Length);

        var ring = NewRing();
        Assert.Throws<ArgumentOutOfRangeException>(() => ring.TryWrite(-1, new byte[1]));
        Assert.Throws<ArgumentOutOfRangeException>(() => ring.TryWrite(int.MinValue, new byte[1]));
        Assert.Throws<ArgumentOutOfRangeException>(() => ring.TryClaim(-1, 1, out _));
        Assert.Throws<ArgumentOutOfRangeException>(() => ring.TryClaim(1, -1, out _));
        Assert.Equal(0, ring.ProducerPosition);

        Assert.Throws<ArgumentNullException>(() => RecordRingUnderTest.Attach(Kind, null!));
        // The mode comes from the part; a slot ring is not a record ring; two rings with one tag need the part.
        using (var region = SharedRegion.CreateAnonymous(RecordRingUnderTest.Part(Kind, 256)))
        using (var attached = new RecordRing(region))
        {
            Assert.Equal(Kind == PartKind.MpscRecords, attached.MultipleProducers);
        }

        using var slots = SharedRegion.CreateAnonymous(SlotRing<long>.Part(8, multipleProducers: Kind == PartKind.MpscRecords));
        Assert.Throws<KeyNotFoundException>(() => new RecordRing(slots));
        Assert.Throws<ArgumentException>(() => new RecordRing(slots, slots.Parts[0]));
        using var both = SharedRegion.CreateAnonymous(RecordRing.Part(256), RecordRing.Part(256, multipleProducers: true));
        Assert.Throws<ArgumentException>(() => new RecordRing(both));
        using var chosen = new RecordRing(both, both.FindPart(Kind));
        Assert.Equal(Kind == PartKind.MpscRecords, chosen.MultipleProducers);
    }

    [Fact]
    public void Tags_select_among_rings_of_one_region()
    {
        using var region = SharedRegion.CreateAnonymous(
            RecordRingUnderTest.Part(Kind, 64, tag: 0), RecordRingUnderTest.Part(Kind, 128, tag: 1));
        var requests = RecordRingUnderTest.Attach(Kind, region, tag: 0);
        var responses = RecordRingUnderTest.Attach(Kind, region, tag: 1);
        Assert.Equal(64, requests.Capacity);
        Assert.Equal(128, responses.Capacity);
        Assert.True(responses.TryWrite(1, new byte[3]));
        Assert.Empty(requests.Drain());
        Assert.Single(responses.Drain());
    }

    [Fact]
    public unsafe void A_second_mapping_of_the_same_memfd_sees_the_same_ring()
    {
        var region = NewRegion();
        var producer = RecordRingUnderTest.Attach(Kind, region);
        Assert.True(producer.TryWrite(1, ClaimAssert.Pattern(12, 1)));

        using var attached = SharedRegion.Attach(region.FileHandle);
        Assert.NotEqual((nint)region.BasePointer, (nint)attached.BasePointer);
        var consumer = RecordRingUnderTest.Attach(Kind, attached);
        Assert.Equal(producer.ProducerPosition, consumer.ProducerPosition);
        Assert.Equal(ClaimAssert.Pattern(12, 1), Assert.Single(consumer.Drain()).Payload);
        Assert.Equal(consumer.ConsumerPosition, producer.ConsumerPosition);

        // And the other way round, across a wrap (each side keeps its own position: new objects
        // take the roles over from the shared positions).
        (producer, consumer) = (RecordRingUnderTest.Attach(Kind, region), RecordRingUnderTest.Attach(Kind, attached));
        for (int round = 0; round < 40; round++)
        {
            Assert.True(consumer.TryWrite(round, ClaimAssert.Pattern(round % 33, round)));
            var message = Assert.Single(producer.Drain());
            Assert.Equal(round, message.Type);
            Assert.Equal(ClaimAssert.Pattern(round % 33, round), message.Payload);
        }
    }

    [Fact]
    public void The_consumer_zeroes_what_it_consumed()
    {
        var ring = NewRing(out var memory);
        var random = new Random(7);
        for (int round = 0; round < 200; round++)
        {
            Assert.True(ring.TryWrite(round, ClaimAssert.Pattern(random.Next(33), round)));
            if (round % 3 == 0)
            {
                ring.Drain();
                Assert.True(memory.FreeSpaceIsZero(ring.ConsumerPosition, ring.ProducerPosition));
            }
        }

        ring.Drain();
        Assert.Equal(ring.ProducerPosition, ring.ConsumerPosition);
        Assert.True(memory.FreeSpaceIsZero(ring.ConsumerPosition, ring.ProducerPosition));
    }

    [Fact]
    public void Padding_at_the_end_is_accepted_and_consumed()
    {
        // A padding record filling the rest of the lap, and one of an aborted claim's size.
        var region = NewRegion();
        var memory = new RecordRingMemory(region, Kind);
        memory.Head = 240;
        memory.WriteHeader(240, 16, RingLayout.PaddingRecordType);
        memory.WriteHeader(0, 40, RingLayout.PaddingRecordType);
        memory.WriteHeader(40, 9, 3);
        memory.Tail = 240 + 16 + 40 + 16;
        var attached = RecordRingUnderTest.Attach(Kind, region);
        Assert.True(attached.CanRead);
        var message = Assert.Single(attached.Drain());
        Assert.Equal((3, 1), (message.Type, message.Payload.Length));
        Assert.Equal(240 + 16 + 40 + 16, attached.ConsumerPosition);
    }
}

public sealed class SpscRecordsContractTests : RecordsContractTests
{
    private protected override PartKind Kind => PartKind.SpscRecords;
}

public sealed class MpscRecordsContractTests : RecordsContractTests
{
    private protected override PartKind Kind => PartKind.MpscRecords;
}
