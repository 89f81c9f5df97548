using System.Numerics;
using UintrIpc.Memory;

namespace UintrIpc.Rings;

// A duplex part (uintripc.h 2h): two SPSC slot rings whose slots interleave, so that slot k of
// the requests (ring 0) and slot k of the responses (ring 1) share one line where both fit in
// 64 bytes: a lockstep exchange moves one line per round trip, not one line per direction.
//   +0 control of ring 0 | +512 control of ring 1 | +1024 capacity lines of `pitch` bytes
// Each ring is an ordinary SPSC slot ring whose data starts at its descriptor's data_offset and
// whose stride is the pitch; the engine needs nothing else.

/// <summary>Creates, addresses and validates duplex slot parts (uintripc.h 2h).</summary>
internal static unsafe class DuplexPart
{
    /// <summary>The ring carrying requests (its consumer answers them).</summary>
    internal const int Requests = 0;
    /// <summary>The ring carrying responses.</summary>
    internal const int Responses = 1;

    /// <summary>
    /// The ring <paramref name="ring"/> of a duplex part, as a part whose first byte is that
    /// ring's control block (<see cref="SharedRegion.PartPointer"/> accepts it): the tag is the
    /// ring's index, the length runs to the end of the duplex part.
    /// </summary>
    internal static RegionPart Ring(RegionPart duplex, int ring)
    {
        if (duplex.Kind != PartKind.DuplexSlots)
        {
            throw new RegionFormatException($"part {duplex.Index} kind", PartKind.DuplexSlots.ToString(), duplex.Kind.ToString());
        }

        ArgumentOutOfRangeException.ThrowIfNotEqual(ring is Requests or Responses, true, nameof(ring));
        long skip = (long)ring * RingLayout.ControlSize;
        return duplex with { Tag = (uint)ring, Offset = duplex.Offset + skip, Length = duplex.Length - skip };
    }

    /// <summary>Whether <paramref name="view"/> is a ring of the duplex part <paramref name="duplex"/> (see <see cref="Ring"/>).</summary>
    internal static bool IsRingOf(RegionPart view, RegionPart duplex)
        => duplex.Kind == PartKind.DuplexSlots && view.Index == duplex.Index && view.Kind == duplex.Kind && view.Tag <= Responses
           && view.Offset == duplex.Offset + ((long)view.Tag * RingLayout.ControlSize) && view.Length == duplex.Length - ((long)view.Tag * RingLayout.ControlSize);

    /// <summary>The part spec of a duplex part of <paramref name="capacity"/> lines (descriptors written by the region's creator).</summary>
    /// <param name="capacity">Slots per ring, a power of two, at least 2.</param>
    /// <param name="requestElement">Bytes of a request element.</param>
    /// <param name="requestTrailer">Bytes after it in its slot (a channel's checksum, uintripc.h 4a).</param>
    /// <param name="responseElement">Bytes of a response element.</param>
    /// <param name="responseTrailer">Bytes after it in its slot.</param>
    /// <param name="tag">The part's tag.</param>
    /// <param name="requestType">The request type's fingerprint (uintripc.h 2i), 0 = not recorded.</param>
    /// <param name="responseType">The response type's fingerprint, 0 = not recorded.</param>
    internal static PartSpec Create(int capacity, int requestElement, int requestTrailer, int responseElement, int responseTrailer, uint tag = 0,
        ulong requestType = 0, ulong responseType = 0)
    {
        if (capacity < 2 || !BitOperations.IsPow2(capacity))
        {
            throw new ArgumentOutOfRangeException(nameof(capacity), capacity, "The capacity of a duplex ring must be a power of two, at least 2.");
        }

        int slot0 = RingLayout.SlotSize(requestElement + requestTrailer);
        int slot1 = RingLayout.SlotSize(responseElement + responseTrailer);
        int pitch = RingLayout.DuplexPitch(slot0, slot1);
        // Runs on the zero-filled part before the region is published: plain stores (see PartSpec).
        return new PartSpec(PartKind.DuplexSlots, tag, RingLayout.DuplexSize(capacity, slot0, slot1), (address, _) =>
        {
            byte* part = (byte*)address;
            long span = ((long)(capacity - 1) * pitch);
            RingDescriptor.Write(part, PartKind.DuplexSlots, slot0, capacity, requestElement, requestElement, span + slot0, pitch, RingLayout.DuplexControlSize, requestType);
            RingDescriptor.Write(part + RingLayout.ControlSize, PartKind.DuplexSlots, slot1, capacity, responseElement, responseElement, span + slot1, pitch,
                RingLayout.ControlSize + slot0, responseType);
        });
    }

    /// <summary>
    /// Validates both descriptors of the duplex part at <paramref name="part"/> (immutable after
    /// publication: plain loads) and returns the geometry of ring <paramref name="ring"/>
    /// (uintripc.h 2h). Both are checked whichever ring is used: ring 1's slots lie where ring
    /// 0's slot size puts them.
    /// </summary>
    internal static RingDescriptor.Geometry Read(byte* part, long partLength, int ring, int slotTrailer)
    {
        if (partLength < RingLayout.DuplexControlSize)
        {
            throw new RegionFormatException("duplex part length", $">= {RingLayout.DuplexControlSize}", partLength.ToString());
        }

        byte* d0 = part;
        byte* d1 = part + RingLayout.ControlSize;
        foreach (nint d in (ReadOnlySpan<nint>)[(nint)d0, (nint)d1])
        {
            uint kind = *(uint*)((byte*)d + RingLayout.KindOffset);
            if (kind != (uint)PartKind.DuplexSlots)
            {
                throw new RegionFormatException("ring kind", PartKind.DuplexSlots.ToString(), ((PartKind)kind).ToString());
            }

            if (*(uint*)((byte*)d + RingLayout.ProducerSlotsOffset) != 0 || *(ulong*)((byte*)d + RingLayout.ProducerTableOffsetOffset) != 0)
            {
                throw new RegionFormatException("ring producer table", "none (0 entries at offset 0) for a duplex ring", "a table");
            }
        }

        ulong capacity = RingDescriptor.ReadCapacity(d0);
        if (RingDescriptor.ReadCapacity(d1) != capacity)
        {
            throw new RegionFormatException("duplex ring 1 capacity", capacity.ToString(), (*(ulong*)(d1 + RingLayout.CapacityOffset)).ToString());
        }

        uint slot0 = *(uint*)(d0 + RingLayout.SlotSizeOffset);
        uint slot1 = *(uint*)(d1 + RingLayout.SlotSizeOffset);
        // Bounded first, so that no sum below overflows; multiples of 8 keep every sequence word aligned.
        if (slot0 < 16 || slot1 < 16 || slot0 > int.MaxValue / 4 || slot1 > int.MaxValue / 4 || slot0 % 8 != 0 || slot1 % 8 != 0)
        {
            throw new RegionFormatException("duplex slot sizes", "multiples of 8 from 16 to 2^29", $"{slot0}/{slot1}");
        }

        uint pitch = (uint)RingLayout.DuplexPitch((int)slot0, (int)slot1);
        uint pitch0 = *(uint*)(d0 + RingLayout.SlotPitchOffset);
        uint pitch1 = *(uint*)(d1 + RingLayout.SlotPitchOffset);
        if (pitch0 != pitch || pitch1 != pitch)
        {
            throw new RegionFormatException("duplex slot pitch", $"{pitch} (align64 of both slot sizes) in both rings", $"{pitch0}/{pitch1}");
        }

        ulong end = RingLayout.DuplexControlSize + (capacity * pitch); // < 2^30 * 2^31: no overflow
        if (end > (ulong)partLength)
        {
            throw new RegionFormatException("duplex part length", $">= {end} ({capacity} lines of {pitch} bytes after the control blocks)", partLength.ToString());
        }

        ulong span = (capacity - 1) * pitch;
        ulong[] offsets = [RingLayout.DuplexControlSize, RingLayout.ControlSize + slot0];
        uint[] slots = [slot0, slot1];
        for (int r = 0; r < 2; r++)
        {
            byte* d = r == 0 ? d0 : d1;
            ulong dataOffset = *(ulong*)(d + RingLayout.DataOffsetOffset);
            if (dataOffset != offsets[r])
            {
                throw new RegionFormatException($"duplex ring {r} data offset", offsets[r].ToString(), dataOffset.ToString());
            }

            ulong dataLength = *(ulong*)(d + RingLayout.DataLengthOffset);
            if (dataLength != span + slots[r])
            {
                throw new RegionFormatException($"duplex ring {r} data length", $"{span + slots[r]} ((capacity - 1) x pitch + slot size)", dataLength.ToString());
            }
        }

        byte* own = ring == 0 ? d0 : d1;
        uint elementSize = *(uint*)(own + RingLayout.ElementSizeOffset);
        uint maxMessage = *(uint*)(own + RingLayout.MaxMessageLengthOffset);
        RingDescriptor.CheckSlotSize(slots[ring], elementSize, slotTrailer);
        return new RingDescriptor.Geometry(PartKind.DuplexSlots, (int)slots[ring], (long)capacity, (int)elementSize, (int)maxMessage, (long)(span + slots[ring]), 0, 0,
            (int)pitch, (long)offsets[ring]);
    }
}
