namespace UintrIpc.Rings;

/// <summary>
/// Byte layout of a ring part, mirrored from <c>interop/include/uintripc.h</c>
/// (struct uipc_ring_control, the slot and record formats). A test proves the two agree.
/// </summary>
/// <remarks>
/// <code>
///  +0    descriptor (immutable): kind u32 | slotSize u32 | capacity u64 | elementSize u32 | maxMessage u32 | dataOffset u64 | dataLength u64
///  +40   producerSlots u32 | +44 slotPitch u32 | +48 producerTableOffset u64 (MPSC; 0 for SPSC) | +56 elementType u64 (slot rings; 0 = not recorded)
///  +128  tail  u64   producer-owned       +136 unregistered u32 (MPSC)   +144 claim_end u64 (SPSC records)
///        +152 writers u32 | +156 writers_detached u32 (channels: uintripc.h 4b)
///  +256  head  u64   consumer-owned       +264 releasing u64 (record rings)
///  +384  consumer heartbeat i64 (ms)
///  +512  data, then (MPSC) the producer table: owner u64 | claim u64 | pidNamespace u64, 128 bytes each
///  slot:   sequence u64 (= position + 1 when published) | element
///  record: length i32 (0 none, &lt;0 being written, &gt;0 committed) | type i32 | payload, 8-aligned
/// </code>
/// </remarks>
internal static class RingLayout
{
    /// <summary>Bytes before the data area.</summary>
    public const int ControlSize = 512;
    /// <summary>u32: the part kind again, as a cross-check.</summary>
    public const int KindOffset = 0;
    /// <summary>u32: bytes per slot (slot rings), 0 for record rings.</summary>
    public const int SlotSizeOffset = 4;
    /// <summary>u64: slots, or data bytes for record rings; a power of two.</summary>
    public const int CapacityOffset = 8;
    /// <summary>u32: bytes per element (slot rings), 0 for record rings.</summary>
    public const int ElementSizeOffset = 16;
    /// <summary>u32: maximum payload bytes of one message.</summary>
    public const int MaxMessageLengthOffset = 20;
    /// <summary>u64: offset of the data area from the ring start.</summary>
    public const int DataOffsetOffset = 24;
    /// <summary>u64: bytes in the data area.</summary>
    public const int DataLengthOffset = 32;
    /// <summary>u32: MPSC producer table entries (0 for SPSC rings).</summary>
    public const int ProducerSlotsOffset = 40;
    /// <summary>u32: bytes from one slot to the next; 0 means the slot size (every ring but a duplex one, uintripc.h 2d, 2h).</summary>
    public const int SlotPitchOffset = 44;
    /// <summary>u64: MPSC producer table offset from the ring start (0 for SPSC rings).</summary>
    public const int ProducerTableOffsetOffset = 48;
    /// <summary>u64: fingerprint of the element type a slot ring's creator declared, 0 = not recorded (uintripc.h 2i).</summary>
    public const int ElementTypeOffset = 56;
    /// <summary>Bytes before the data of a duplex part: the control blocks of its two rings (uintripc.h 2h).</summary>
    public const int DuplexControlSize = 2 * ControlSize;
    /// <summary>A duplex part's pitch is a multiple of this: one line holds slot k of both rings where they fit.</summary>
    public const int DuplexPitchAlignment = 64;
    /// <summary>u64 producer position.</summary>
    public const int TailOffset = 128;
    /// <summary>u32: non-zero once an MPSC producer claimed without a producer table entry.</summary>
    public const int UnregisteredOffset = 136;
    /// <summary>u64, SPSC record rings: at least the end of the producer's open claim; a new producer clears only up to it (uintripc.h 2g).</summary>
    public const int ClaimEndOffset = 144;
    /// <summary>u32, channels: writer objects attached (uintripc.h 4b).</summary>
    public const int WritersOffset = 152;
    /// <summary>u32, channels: 1 once a writer detached (uintripc.h 4b).</summary>
    public const int WritersDetachedOffset = 156;
    /// <summary>u64 consumer position.</summary>
    public const int HeadOffset = 256;
    /// <summary>u64, record rings: the head a release is zeroing up to (a restarted consumer resumes there).</summary>
    public const int ReleasingOffset = 264;
    /// <summary>i64 consumer heartbeat, CLOCK_MONOTONIC milliseconds.</summary>
    public const int HeartbeatOffset = 384;

    /// <summary>
    /// Positions (slots or bytes) stay below this: a slot sequence (position + 1) then never
    /// reaches the skip bit, and position + capacity never overflows. At 10^9 messages a second
    /// it takes 146 years to get there.
    /// </summary>
    public const ulong MaxPosition = 1UL << 62;

    /// <summary>Bytes of the per-slot sequence word.</summary>
    public const int SlotHeaderSize = 8;
    /// <summary>Set in a slot sequence by a consumer that skipped the slot of a dead producer.</summary>
    public const ulong SlotSkipped = 1UL << 63;
    /// <summary>Set in a slot sequence claimed for in-place writing; the entry index and generation follow (uintripc.h 2d).</summary>
    public const ulong SlotClaimed = 1UL << 62;

    /// <summary>Bytes of one producer table entry.</summary>
    public const int ProducerEntrySize = 128;
    /// <summary>Most entries of a producer table (an index fits a byte; 255 means none).</summary>
    public const int MaxProducerSlots = 255;
    /// <summary>Entries of the producer table of MPSC rings created by this library.</summary>
    public const int DefaultProducerSlots = 64;
    /// <summary>Entry index in a claimed marker of a producer without an entry.</summary>
    public const int ProducerNone = 255;
    /// <summary>pid field of an entry being registered.</summary>
    public const long ProducerRegistering = 0xFFFFFFFF;
    /// <summary>u64: pid (low 32 bits) | generation (high 32 bits); pid 0 = free.</summary>
    public const int ProducerOwnerOffset = 0;
    /// <summary>u64: the intent of the latest claim attempt, (start &amp; 0xffffffff) | count &lt;&lt; 32.</summary>
    public const int ProducerClaimOffset = 8;
    /// <summary>u64: inode of the producer's pid namespace (0 unknown).</summary>
    public const int ProducerPidNamespaceOffset = 16;

    /// <summary>Bytes of a record header (length + type).</summary>
    public const int RecordHeaderSize = 8;
    /// <summary>Records start on multiples of this.</summary>
    public const int RecordAlignment = 8;
    /// <summary>Record type of padding and of aborted claims.</summary>
    public const int PaddingRecordType = -1;

    /// <summary>Bytes a slot takes for an element of <paramref name="elementSize"/> bytes.</summary>
    public static int SlotSize(int elementSize) => (SlotHeaderSize + elementSize + 7) & ~7;

    /// <summary>Bytes of a slot ring part holding <paramref name="capacity"/> elements (and <paramref name="producerSlots"/> table entries).</summary>
    public static long SlotRingSize(int capacity, int elementSize, int producerSlots = 0)
        => RingSize(ControlSize + ((long)capacity * SlotSize(elementSize)), producerSlots);

    /// <summary>Bytes of a record ring part with <paramref name="capacity"/> data bytes (and <paramref name="producerSlots"/> table entries).</summary>
    public static long RecordRingSize(int capacity, int producerSlots = 0) => RingSize(ControlSize + (long)capacity, producerSlots);

    /// <summary>Bytes from one line of a duplex part to the next: both rings' slots, rounded up to a line (uintripc.h 2h).</summary>
    public static int DuplexPitch(int slotSize0, int slotSize1) => (slotSize0 + slotSize1 + DuplexPitchAlignment - 1) & ~(DuplexPitchAlignment - 1);

    /// <summary>Bytes of a duplex part of <paramref name="capacity"/> lines.</summary>
    public static long DuplexSize(int capacity, int slotSize0, int slotSize1) => DuplexControlSize + ((long)capacity * DuplexPitch(slotSize0, slotSize1));

    /// <summary>Where the producer table starts: after the data area, 128-aligned.</summary>
    public static long ProducerTableOffset(long dataLength) => (ControlSize + dataLength + 127) & ~127L;

    private static long RingSize(long controlAndData, int producerSlots)
        => producerSlots == 0 ? controlAndData : ProducerTableOffset(controlAndData - ControlSize) + ((long)producerSlots * ProducerEntrySize);
}
