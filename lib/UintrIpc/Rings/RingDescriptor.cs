using System.Numerics;
using UintrIpc.Memory;

namespace UintrIpc.Rings;

/// <summary>
/// Writes and validates the immutable descriptor at the start of every ring part
/// (struct uipc_ring_descriptor). Shared by all ring kinds.
/// </summary>
internal static unsafe class RingDescriptor
{
    /// <summary>Geometry of a validated ring (uintripc.h struct uipc_ring_descriptor).</summary>
    /// <param name="Kind">The part kind.</param>
    /// <param name="SlotSize">Slot rings: sequence + element (+ checksum), 8-aligned; record rings: 0.</param>
    /// <param name="Capacity">Slots, or data bytes of a record ring.</param>
    /// <param name="ElementSize">Slot rings: bytes of an element.</param>
    /// <param name="MaxMessageLength">Longest payload.</param>
    /// <param name="DataLength">Bytes from the first slot or byte to the end of the last.</param>
    /// <param name="ProducerSlots">MPSC: entries of the producer table.</param>
    /// <param name="ProducerTableOffset">MPSC: where the producer table starts.</param>
    /// <param name="SlotPitch">Slot rings: bytes from one slot to the next (the slot size, or a duplex part's pitch); record rings: 0.</param>
    /// <param name="DataOffset">From the ring's control block to its first slot or byte.</param>
    internal readonly record struct Geometry(PartKind Kind, int SlotSize, long Capacity, int ElementSize, int MaxMessageLength, long DataLength, int ProducerSlots, long ProducerTableOffset,
        int SlotPitch, long DataOffset);

    /// <summary>Whether rings of <paramref name="kind"/> have several producers (and a producer table).</summary>
    internal static bool IsMultiProducer(PartKind kind) => kind is PartKind.MpscSlots or PartKind.MpscRecords;

    /// <summary>Writes a descriptor into zero-filled memory (before the region is published: plain stores); <paramref name="elementType"/>: a slot ring's element type fingerprint (uintripc.h 2i), 0 = not recorded.</summary>
    internal static void Write(byte* ring, PartKind kind, int slotSize, long capacity, int elementSize, int maxMessageLength, long dataLength,
        int slotPitch = 0, long dataOffset = RingLayout.ControlSize, ulong elementType = 0)
    {
        if (IsMultiProducer(kind))
        {
            *(uint*)(ring + RingLayout.ProducerSlotsOffset) = RingLayout.DefaultProducerSlots;
            *(ulong*)(ring + RingLayout.ProducerTableOffsetOffset) = (ulong)RingLayout.ProducerTableOffset(dataLength);
        }

        *(uint*)(ring + RingLayout.KindOffset) = (uint)kind;
        *(uint*)(ring + RingLayout.SlotSizeOffset) = (uint)slotSize;
        *(ulong*)(ring + RingLayout.CapacityOffset) = (ulong)capacity;
        *(uint*)(ring + RingLayout.ElementSizeOffset) = (uint)elementSize;
        *(uint*)(ring + RingLayout.MaxMessageLengthOffset) = (uint)maxMessageLength;
        *(ulong*)(ring + RingLayout.DataOffsetOffset) = (ulong)dataOffset;
        *(ulong*)(ring + RingLayout.DataLengthOffset) = (ulong)dataLength;
        *(uint*)(ring + RingLayout.SlotPitchOffset) = (uint)slotPitch;
        *(ulong*)(ring + RingLayout.ElementTypeOffset) = elementType;
    }

    /// <summary>
    /// The element type fingerprint a slot ring's creator recorded, 0 = none (uintripc.h 2i).
    /// Immutable after publication: a plain load. Untrusted like every field: it only decides
    /// whether a type of the already checked size is refused.
    /// </summary>
    internal static ulong ReadElementType(byte* ring) => *(ulong*)(ring + RingLayout.ElementTypeOffset);

    /// <summary>Reads the descriptor of the ring <paramref name="part"/> names: a ring part, or one ring of a duplex part (<see cref="DuplexPart.Ring"/>).</summary>
    internal static Geometry Read(SharedRegion region, RegionPart part, int slotTrailer = 0)
        => Read(region.PartPointer(part), part.Length, part.Kind, slotTrailer, part.Kind == PartKind.DuplexSlots ? (int)part.Tag : 0);

    /// <summary>
    /// Reads the descriptor of a ring part and checks it against the part's length and the
    /// caller's expectations. The descriptor is immutable after publication: plain loads.
    /// Slot rings: <paramref name="slotTrailer"/> bytes after the element belong to the slot (a channel's checksum, uintripc.h 4a).
    /// </summary>
    internal static Geometry Read(byte* ring, long partLength, PartKind expectedKind, int slotTrailer = 0, int duplexRing = 0)
    {
        if (expectedKind == PartKind.DuplexSlots)
        {
            return DuplexPart.Read(ring - ((long)duplexRing * RingLayout.ControlSize), partLength + ((long)duplexRing * RingLayout.ControlSize), duplexRing, slotTrailer);
        }

        if (partLength < RingLayout.ControlSize)
        {
            throw new RegionFormatException("ring part length", $">= {RingLayout.ControlSize}", partLength.ToString());
        }

        uint kind = *(uint*)(ring + RingLayout.KindOffset);
        if (kind != (uint)expectedKind)
        {
            throw new RegionFormatException("ring kind", expectedKind.ToString(), ((PartKind)kind).ToString());
        }

        ulong capacity = ReadCapacity(ring);
        ulong dataOffset = *(ulong*)(ring + RingLayout.DataOffsetOffset);
        if (dataOffset != RingLayout.ControlSize)
        {
            throw new RegionFormatException("ring data offset", RingLayout.ControlSize.ToString(), dataOffset.ToString());
        }

        ulong dataLength = *(ulong*)(ring + RingLayout.DataLengthOffset);
        if (dataLength > (ulong)(partLength - RingLayout.ControlSize))
        {
            throw new RegionFormatException("ring data length", $"<= {partLength - RingLayout.ControlSize} (inside the part)", dataLength.ToString());
        }

        uint slotSize = *(uint*)(ring + RingLayout.SlotSizeOffset);
        uint elementSize = *(uint*)(ring + RingLayout.ElementSizeOffset);
        uint maxMessage = *(uint*)(ring + RingLayout.MaxMessageLengthOffset);
        uint pitch = *(uint*)(ring + RingLayout.SlotPitchOffset);
        bool slots = expectedKind is PartKind.SpscSlots or PartKind.MpscSlots;
        if (slots)
        {
            CheckSlotSize(slotSize, elementSize, slotTrailer);
            if (pitch != 0 && pitch != slotSize)
            {
                throw new RegionFormatException("ring slot pitch", $"0 or the slot size {slotSize}", pitch.ToString());
            }

            pitch = slotSize;
            if (dataLength != capacity * slotSize)
            {
                throw new RegionFormatException("ring data length", $"{capacity * slotSize} (capacity x slot size)", dataLength.ToString());
            }
        }
        else
        {
            if (slotSize != 0 || elementSize != 0 || pitch != 0)
            {
                throw new RegionFormatException("record ring slot/element size/pitch", "0", $"{slotSize}/{elementSize}/{pitch}");
            }

            if (capacity < RecordRingEngine.MinCapacity)
            {
                throw new RegionFormatException("record ring capacity", $">= {RecordRingEngine.MinCapacity}", capacity.ToString());
            }

            if (dataLength != capacity)
            {
                throw new RegionFormatException("ring data length", $"{capacity} (the capacity)", dataLength.ToString());
            }

            if (maxMessage == 0 || maxMessage > capacity / 8)
            {
                throw new RegionFormatException("ring max message length", $"between 1 and {capacity / 8} (capacity / 8)", maxMessage.ToString());
            }
        }

        uint producerSlots = *(uint*)(ring + RingLayout.ProducerSlotsOffset);
        ulong tableOffset = *(ulong*)(ring + RingLayout.ProducerTableOffsetOffset);
        if (IsMultiProducer(expectedKind))
        {
            if (producerSlots == 0 || producerSlots > RingLayout.MaxProducerSlots)
            {
                throw new RegionFormatException("ring producer slots", $"between 1 and {RingLayout.MaxProducerSlots}", producerSlots.ToString());
            }

            // dataLength <= partLength - 512 was checked, so neither sum overflows.
            ulong expectedOffset = (ulong)RingLayout.ProducerTableOffset((long)dataLength);
            if (tableOffset != expectedOffset || tableOffset + ((ulong)producerSlots * RingLayout.ProducerEntrySize) > (ulong)partLength)
            {
                throw new RegionFormatException("ring producer table offset", $"{expectedOffset} with {producerSlots} entries inside the part of {partLength} bytes", tableOffset.ToString());
            }
        }
        else if (producerSlots != 0 || tableOffset != 0)
        {
            throw new RegionFormatException("ring producer table", "none (0 entries at offset 0) for a single-producer ring", $"{producerSlots} entries at {tableOffset}");
        }

        return new Geometry(expectedKind, (int)slotSize, (long)capacity, (int)elementSize, (int)maxMessage, (long)dataLength, (int)producerSlots, (long)tableOffset,
            (int)pitch, RingLayout.ControlSize);
    }

    /// <summary>Reads and checks a ring's capacity: a power of two, 2 .. 2^30 (uintripc.h 2a).</summary>
    internal static ulong ReadCapacity(byte* ring)
    {
        ulong capacity = *(ulong*)(ring + RingLayout.CapacityOffset);
        if (capacity < 2 || capacity > int.MaxValue || !BitOperations.IsPow2(capacity))
        {
            throw new RegionFormatException("ring capacity", "a power of two between 2 and 2^30", capacity.ToString());
        }

        return capacity;
    }

    /// <summary>Slot rings: slot_size == align8(8 + element_size + trailer), element_size > 0 (uintripc.h 2a).</summary>
    internal static void CheckSlotSize(uint slotSize, uint elementSize, int slotTrailer)
    {
        if (elementSize == 0 || elementSize > int.MaxValue / 2 || slotSize != (uint)RingLayout.SlotSize((int)elementSize + slotTrailer))
        {
            string trailer = slotTrailer == 0 ? "" : $" + {slotTrailer} checksum bytes";
            throw new RegionFormatException("ring slot size", $"align8(8 + element size {elementSize}{trailer})", slotSize.ToString());
        }
    }
}
