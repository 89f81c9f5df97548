using UintrIpc.Memory;
using UintrIpc.Rings;

namespace UintrIpc.Tests.Rings;

/// <summary>
/// The duplex part (uintripc.h 2h): slot k of both rings in one line, and every descriptor
/// field an attacher depends on is checked (a peer that lies about the pitch, the offsets or the
/// part's length is refused before a slot is touched).
/// </summary>
public sealed unsafe class DuplexPartTests
{
    private const int Capacity = 8;

    [Fact]
    public void Slot_k_of_both_rings_shares_one_line()
    {
        using var region = SharedRegion.CreateAnonymous(0, DuplexPart.Create(Capacity, sizeof(long), 0, sizeof(long), 0));
        var part = region.FindPart(PartKind.DuplexSlots, 0);
        Assert.Equal(RingLayout.DuplexControlSize + (Capacity * 64L), part.Length);
        using var requests = new SlotRing<long>(region, DuplexPart.Ring(part, DuplexPart.Requests));
        using var responses = new SlotRing<long>(region, DuplexPart.Ring(part, DuplexPart.Responses));
        byte* data = region.PartPointer(part) + RingLayout.DuplexControlSize;
        for (long k = 0; k < 2 * Capacity; k++)
        {
            Assert.True(requests.TryWrite(1000 + k));
            Assert.True(responses.TryWrite(2000 + k));
            byte* line = data + ((k % Capacity) * 64);
            // Request at +0 (sequence) and +8 (element), response at +16 and +24: one 64-byte line.
            Assert.Equal((ulong)k + 1, *(ulong*)line);
            Assert.Equal(1000 + k, *(long*)(line + 8));
            Assert.Equal((ulong)k + 1, *(ulong*)(line + 16));
            Assert.Equal(2000 + k, *(long*)(line + 24));
            Assert.True(requests.TryRead(out long request));
            Assert.True(responses.TryRead(out long response));
            Assert.Equal((1000 + k, 2000 + k), (request, response));
        }
    }

    [Fact]
    public void Elements_of_different_sizes_get_a_pitch_of_whole_lines()
    {
        // 8 + 40 = 48 and 8 + 24 = 32: 80 bytes round up to two lines.
        using var region = SharedRegion.CreateAnonymous(0, DuplexPart.Create(Capacity, 40, 0, 24, 0));
        var part = region.FindPart(PartKind.DuplexSlots, 0);
        var g0 = RingDescriptor.Read(region, DuplexPart.Ring(part, 0));
        var g1 = RingDescriptor.Read(region, DuplexPart.Ring(part, 1));
        Assert.Equal((128, 128), (g0.SlotPitch, g1.SlotPitch));
        Assert.Equal((RingLayout.DuplexControlSize, RingLayout.ControlSize + 48L), (g0.DataOffset, g1.DataOffset));
        Assert.Equal((7L * 128 + 48, 7L * 128 + 32), (g0.DataLength, g1.DataLength));
    }

    public static TheoryData<string, int, int, long> Corruptions => new()
    {
        // field, descriptor (0 or 1), offset in it, value
        { "pitch 0", 0, RingLayout.SlotPitchOffset, 0 },
        { "pitch not align64", 1, RingLayout.SlotPitchOffset, 48 },
        { "pitch too large", 0, RingLayout.SlotPitchOffset, 128 },
        { "ring 0 data offset", 0, RingLayout.DataOffsetOffset, RingLayout.ControlSize },
        { "ring 1 data offset", 1, RingLayout.DataOffsetOffset, RingLayout.DuplexControlSize },
        { "data length", 1, RingLayout.DataLengthOffset, Capacity * 64 },
        { "capacities differ", 1, RingLayout.CapacityOffset, 4 },
        { "kind", 1, RingLayout.KindOffset, (long)PartKind.SpscSlots },
        { "slot size", 0, RingLayout.SlotSizeOffset, 24 },
        { "producer table", 1, RingLayout.ProducerSlotsOffset, 1 },
    };

    [Theory]
    [MemberData(nameof(Corruptions))]
    public void A_lying_descriptor_is_refused_whichever_ring_attaches(string what, int descriptor, int offset, long value)
    {
        using var region = SharedRegion.CreateAnonymous(0, DuplexPart.Create(Capacity, sizeof(long), 0, sizeof(long), 0));
        var part = region.FindPart(PartKind.DuplexSlots, 0);
        byte* field = region.PartPointer(part) + (descriptor * RingLayout.ControlSize) + offset;
        if (offset is RingLayout.CapacityOffset or RingLayout.DataOffsetOffset or RingLayout.DataLengthOffset)
        {
            *(long*)field = value;
        }
        else
        {
            *(uint*)field = (uint)value;
        }

        foreach (int ring in new[] { DuplexPart.Requests, DuplexPart.Responses })
        {
            var e = Assert.ThrowsAny<RegionFormatException>(() => new SlotRing<long>(region, DuplexPart.Ring(part, ring)));
            Assert.False(string.IsNullOrEmpty(e.Message), what);
        }
    }

    [Fact]
    public void A_part_shorter_than_its_lines_is_refused()
    {
        // The descriptors of 8 lines in a part that holds 4: slots 4..7 would lie past the part.
        var full = DuplexPart.Create(Capacity, sizeof(long), 0, sizeof(long), 0);
        var shortPart = full with { Length = RingLayout.DuplexControlSize + (4 * 64) };
        using var region = SharedRegion.CreateAnonymous(0, shortPart, new PartSpec(PartKind.User, 0, 4096));
        var part = region.FindPart(PartKind.DuplexSlots, 0);
        Assert.Throws<RegionFormatException>(() => new SlotRing<long>(region, DuplexPart.Ring(part, 0)));
        Assert.Throws<RegionFormatException>(() => new SlotRing<long>(region, DuplexPart.Ring(part, 1)));
    }

    [Fact]
    public void Ordinary_rings_refuse_a_pitch_other_than_their_slot_size()
    {
        using var region = SharedRegion.CreateAnonymous(0, SlotRing<long>.Part(Capacity, tag: 0), RecordRing.Part(4096, 64, tag: 1));
        var slots = region.FindPart(PartKind.SpscSlots, 0);
        var records = region.FindPart(PartKind.SpscRecords, 1);
        *(uint*)(region.PartPointer(slots) + RingLayout.SlotPitchOffset) = 16; // the slot size: allowed
        using (new SlotRing<long>(region, slots))
        {
        }

        *(uint*)(region.PartPointer(slots) + RingLayout.SlotPitchOffset) = 64;
        Assert.Throws<RegionFormatException>(() => new SlotRing<long>(region, slots));
        *(uint*)(region.PartPointer(records) + RingLayout.SlotPitchOffset) = 8;
        Assert.Throws<RegionFormatException>(() => new RecordRing(region, records));
    }

    [Fact]
    public void Only_the_rings_of_a_duplex_part_are_views_of_it()
    {
        using var region = SharedRegion.CreateAnonymous(0, DuplexPart.Create(Capacity, sizeof(long), 0, sizeof(long), 0), SlotRing<long>.Part(Capacity, tag: 3));
        var duplex = region.FindPart(PartKind.DuplexSlots, 0);
        var ring = region.FindPart(PartKind.SpscSlots, 3);
        Assert.Throws<RegionFormatException>(() => DuplexPart.Ring(ring, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => DuplexPart.Ring(duplex, 2));
        // A forged view (another offset) is not a part of the region.
        Assert.Throws<ArgumentException>(() => region.PartPointer(DuplexPart.Ring(duplex, 1) with { Offset = duplex.Offset + 64 }));
        Assert.Throws<ArgumentException>(() => region.PartPointer(duplex with { Tag = 1 }));
    }

    [Fact]
    public void A_hostile_sequence_in_either_ring_is_corruption_not_a_wait()
    {
        using var region = SharedRegion.CreateAnonymous(0, DuplexPart.Create(Capacity, sizeof(long), 0, sizeof(long), 0));
        var part = region.FindPart(PartKind.DuplexSlots, 0);
        using var requests = new SlotRing<long>(region, DuplexPart.Ring(part, 0));
        using var responses = new SlotRing<long>(region, DuplexPart.Ring(part, 1));
        byte* line = region.PartPointer(part) + RingLayout.DuplexControlSize;
        *(ulong*)(line + 16) = 12345; // ring 1's slot 0: neither 0 nor 1
        Assert.Throws<RingCorruptedException>(() => responses.TryRead(out _));
        Assert.False(requests.TryRead(out _)); // ring 0 is untouched: empty
        *(ulong*)line = RingLayout.SlotSkipped | 1; // a skip marker in an SPSC ring
        Assert.Throws<RingCorruptedException>(() => requests.TryRead(out _));
    }
}
