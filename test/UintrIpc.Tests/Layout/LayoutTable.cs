using System.Runtime.CompilerServices;
using UintrIpc.Memory;
using UintrIpc.Rings;
using UintrIpc.Signaling;

namespace UintrIpc.Tests.Layout;

/// <summary>
/// Which C# constant mirrors which C name of interop/include/uintripc.h. The C names are
/// either layout ids (checked against the shim and the compiled header) or other constants
/// of the header (checked against the compiled header). The tests also demand that every
/// layout id and every public constant of the three C# layout classes appears here, so
/// nothing can be added on one side and forgotten on the other.
/// </summary>
internal static class LayoutTable
{
    /// <summary>One pairing: the C name, the C# expression (for messages) and its value.</summary>
    internal readonly record struct Entry(string CName, string CSharp, long Value);

    /// <summary>Every pairing.</summary>
    internal static readonly Entry[] Entries =
    [
        // Region header (struct uipc_region_header, struct uipc_part).
        E(LayoutId.UIPC_L_MAGIC, RegionLayout.Magic),
        E(LayoutId.UIPC_L_VERSION, RegionLayout.LayoutVersion),
        E(LayoutId.UIPC_L_HEADER_SIZE, RegionLayout.HeaderSize),
        E(LayoutId.UIPC_L_MAX_PARTS, RegionLayout.MaxParts),
        E(LayoutId.UIPC_L_PART_ALIGNMENT, RegionLayout.PartAlignment),
        E(LayoutId.UIPC_L_OFF_MAGIC, RegionLayout.MagicOffset),
        E(LayoutId.UIPC_L_OFF_VERSION, RegionLayout.VersionOffset),
        E(LayoutId.UIPC_L_OFF_HEADER_SIZE, RegionLayout.HeaderSizeOffset),
        E(LayoutId.UIPC_L_OFF_REGION_KIND, RegionLayout.RegionKindOffset),
        E(LayoutId.UIPC_L_OFF_PART_COUNT, RegionLayout.PartCountOffset),
        E(LayoutId.UIPC_L_OFF_TOTAL_SIZE, RegionLayout.TotalSizeOffset),
        E(LayoutId.UIPC_L_OFF_EPOCH, RegionLayout.EpochOffset),
        E(LayoutId.UIPC_L_OFF_CREATOR_PID, RegionLayout.CreatorPidOffset),
        E(LayoutId.UIPC_L_OFF_STATE, RegionLayout.StateOffset),
        E(LayoutId.UIPC_L_OFF_PARTS, RegionLayout.PartsOffset),
        E(LayoutId.UIPC_L_PART_SIZE, RegionLayout.PartSize),
        E(LayoutId.UIPC_L_PART_OFF_KIND, RegionLayout.PartKindOffset),
        E(LayoutId.UIPC_L_PART_OFF_TAG, RegionLayout.PartTagOffset),
        E(LayoutId.UIPC_L_PART_OFF_OFFSET, RegionLayout.PartOffsetOffset),
        E(LayoutId.UIPC_L_PART_OFF_LENGTH, RegionLayout.PartLengthOffset),
        C("UIPC_REGION_HEADER_SIZE", RegionLayout.HeaderSize),
        C("UIPC_MAX_PARTS", RegionLayout.MaxParts),
        C("UIPC_FALSE_SHARING_RANGE", RegionLayout.FalseSharingRange),
        C("UIPC_STATE_READY", (long)RegionState.Ready),
        C("UIPC_STATE_CLOSED", (long)RegionState.Closed),
        C("UIPC_PART_NONE", (long)PartKind.None),
        C("UIPC_PART_SPSC_SLOTS", (long)PartKind.SpscSlots),
        C("UIPC_PART_MPSC_SLOTS", (long)PartKind.MpscSlots),
        C("UIPC_PART_SPSC_RECORDS", (long)PartKind.SpscRecords),
        C("UIPC_PART_MPSC_RECORDS", (long)PartKind.MpscRecords),
        C("UIPC_PART_WAIT_BLOCK", (long)PartKind.WaitBlock),
        C("UIPC_PART_ARENA", (long)PartKind.Arena),
        C("UIPC_PART_USER", (long)PartKind.User),

        // Rings (struct uipc_ring_descriptor, struct uipc_ring_control, slots, records).
        E(LayoutId.UIPC_L_RING_CONTROL_SIZE, RingLayout.ControlSize),
        E(LayoutId.UIPC_L_RING_OFF_KIND, RingLayout.KindOffset),
        E(LayoutId.UIPC_L_RING_OFF_SLOT_SIZE, RingLayout.SlotSizeOffset),
        E(LayoutId.UIPC_L_RING_OFF_CAPACITY, RingLayout.CapacityOffset),
        E(LayoutId.UIPC_L_RING_OFF_ELEMENT_SIZE, RingLayout.ElementSizeOffset),
        E(LayoutId.UIPC_L_RING_OFF_MAX_MESSAGE, RingLayout.MaxMessageLengthOffset),
        E(LayoutId.UIPC_L_RING_OFF_DATA_OFFSET, RingLayout.DataOffsetOffset),
        E(LayoutId.UIPC_L_RING_OFF_DATA_LENGTH, RingLayout.DataLengthOffset),
        E(LayoutId.UIPC_L_RING_OFF_TAIL, RingLayout.TailOffset),
        E(LayoutId.UIPC_L_RING_OFF_HEAD, RingLayout.HeadOffset),
        E(LayoutId.UIPC_L_RING_OFF_HEARTBEAT, RingLayout.HeartbeatOffset),
        E(LayoutId.UIPC_L_SLOT_HEADER_SIZE, RingLayout.SlotHeaderSize),
        E(LayoutId.UIPC_L_RECORD_HEADER_SIZE, RingLayout.RecordHeaderSize),
        E(LayoutId.UIPC_L_RECORD_ALIGNMENT, RingLayout.RecordAlignment),
        E(LayoutId.UIPC_L_RECORD_PADDING, RingLayout.PaddingRecordType),
        C("UIPC_RING_CONTROL_SIZE", RingLayout.ControlSize),
        C("UIPC_RING_TAIL_OFFSET", RingLayout.TailOffset),
        C("UIPC_RING_HEAD_OFFSET", RingLayout.HeadOffset),
        C("UIPC_RING_HEARTBEAT_OFFSET", RingLayout.HeartbeatOffset),
        C("UIPC_SLOT_SKIPPED", unchecked((long)RingLayout.SlotSkipped)),
        C("UIPC_MAX_POSITION", (long)RingLayout.MaxPosition),
        E(LayoutId.UIPC_L_RING_OFF_PRODUCER_SLOTS, RingLayout.ProducerSlotsOffset),
        E(LayoutId.UIPC_L_RING_OFF_PRODUCER_TABLE, RingLayout.ProducerTableOffsetOffset),
        E(LayoutId.UIPC_L_RING_OFF_UNREGISTERED, RingLayout.UnregisteredOffset),
        E(LayoutId.UIPC_L_RING_OFF_RELEASING, RingLayout.ReleasingOffset),
        E(LayoutId.UIPC_L_SLOT_CLAIMED, (long)RingLayout.SlotClaimed),
        E(LayoutId.UIPC_L_PRODUCER_ENTRY_SIZE, RingLayout.ProducerEntrySize),
        E(LayoutId.UIPC_L_MAX_PRODUCER_SLOTS, RingLayout.MaxProducerSlots),
        E(LayoutId.UIPC_L_PRODUCER_NONE, RingLayout.ProducerNone),
        E(LayoutId.UIPC_L_PRODUCER_REGISTERING, RingLayout.ProducerRegistering),
        E(LayoutId.UIPC_L_PRODUCER_OFF_OWNER, RingLayout.ProducerOwnerOffset),
        E(LayoutId.UIPC_L_PRODUCER_OFF_CLAIM, RingLayout.ProducerClaimOffset),
        E(LayoutId.UIPC_L_PRODUCER_OFF_PID_NAMESPACE, RingLayout.ProducerPidNamespaceOffset),
        C("UIPC_DEFAULT_PRODUCER_SLOTS", RingLayout.DefaultProducerSlots),

        // Wait block (struct uipc_wait_block).
        E(LayoutId.UIPC_L_WAIT_SIZE, WaitBlockLayout.Size),
        E(LayoutId.UIPC_L_WAIT_OFF_STATE, WaitBlockLayout.ConsumerStateOffset),
        E(LayoutId.UIPC_L_WAIT_OFF_WAKE_WORD, WaitBlockLayout.WakeWordOffset),
        E(LayoutId.UIPC_L_WAIT_OFF_DOORBELL_KIND, WaitBlockLayout.DoorbellKindOffset),
        E(LayoutId.UIPC_L_WAIT_OFF_PID, WaitBlockLayout.ConsumerPidOffset),
        E(LayoutId.UIPC_L_WAIT_OFF_TID, WaitBlockLayout.ConsumerTidOffset),
        E(LayoutId.UIPC_L_WAIT_OFF_SLEEPS, WaitBlockLayout.SleepsOffset),
        E(LayoutId.UIPC_L_WAIT_OFF_TIMEOUTS, WaitBlockLayout.TimeoutsOffset),
        E(LayoutId.UIPC_L_WAIT_OFF_WAKEUPS_SEEN, WaitBlockLayout.WakeupsSeenOffset),
        E(LayoutId.UIPC_L_WAIT_OFF_WAKEUPS_SENT, WaitBlockLayout.WakeupsSentOffset),
        E(LayoutId.UIPC_L_WAIT_OFF_WAKEUPS_SUPPRESSED, WaitBlockLayout.WakeupsSuppressedOffset),
        C("UIPC_WAIT_BLOCK_SIZE", WaitBlockLayout.Size),
        C("UIPC_CONSUMER_AWAKE", WaitBlockLayout.ConsumerAwake),
        C("UIPC_CONSUMER_SLEEPING", WaitBlockLayout.ConsumerSleeping),
        C("UIPC_DOORBELL_NONE", (long)DoorbellKind.None),
        C("UIPC_DOORBELL_FUTEX", (long)DoorbellKind.Futex),
        C("UIPC_DOORBELL_EVENTFD", (long)DoorbellKind.EventFd),
        C("UIPC_DOORBELL_SIGNAL", (long)DoorbellKind.Signal),
        C("UIPC_DOORBELL_UINTR", (long)DoorbellKind.Uintr),
        C("UIPC_DOORBELL_UINTR_SIM", (long)DoorbellKind.UintrSimulated),
        C("UIPC_SIGNAL_DEFAULT_OFFSET", SignalDoorbellReceiver.DefaultSignalOffset),
        C("UIPC_REGION_CHANNEL_SLOTS", UintrIpc.Channels.ChannelCore.SlotRegionKind),
        C("UIPC_REGION_CHANNEL_MESSAGES", UintrIpc.Channels.ChannelCore.MessageRegionKind),
        C("UIPC_HEARTBEAT_DETACHED", UintrIpc.Channels.ConsumerHeartbeat.Detached),
        E(LayoutId.UIPC_L_WAIT_OFF_CHANNEL_FLAGS, WaitBlockLayout.ChannelFlagsOffset),
        E(LayoutId.UIPC_L_CHANNEL_CHECKSUMS, WaitBlockLayout.ChannelChecksums),
        C("UIPC_CHANNEL_KNOWN_FLAGS", WaitBlockLayout.KnownChannelFlags),
        E(LayoutId.UIPC_L_CHECKSUM_SIZE, UintrIpc.Channels.MessageChecksum.Size),
        E(LayoutId.UIPC_L_RING_OFF_SLOT_PITCH, RingLayout.SlotPitchOffset),
        E(LayoutId.UIPC_L_PART_DUPLEX_SLOTS, (long)PartKind.DuplexSlots),
        E(LayoutId.UIPC_L_DUPLEX_CONTROL_SIZE, RingLayout.DuplexControlSize),
        E(LayoutId.UIPC_L_DUPLEX_PITCH_ALIGNMENT, RingLayout.DuplexPitchAlignment),
        E(LayoutId.UIPC_L_REGION_CHANNEL_DUPLEX, UintrIpc.Channels.ChannelCore.DuplexRegionKind),
        E(LayoutId.UIPC_L_WAIT_OFF_CHANNEL_STATE, WaitBlockLayout.ChannelStateOffset),
        E(LayoutId.UIPC_L_RING_OFF_CLAIM_END, RingLayout.ClaimEndOffset),
        E(LayoutId.UIPC_L_LOCK_CREATOR, RegionLocks.CreatorByte),
        E(LayoutId.UIPC_L_LOCK_WRITER_0, RegionLocks.WriterByte(0)),
        E(LayoutId.UIPC_L_LOCK_READER_0, RegionLocks.ReaderByte(0)),
        E(LayoutId.UIPC_L_LOCK_WRITER_1, RegionLocks.WriterByte(1)),
        E(LayoutId.UIPC_L_RING_OFF_WRITERS, RingLayout.WritersOffset),
        E(LayoutId.UIPC_L_RING_OFF_WRITERS_DETACHED, RingLayout.WritersDetachedOffset),
        E(LayoutId.UIPC_L_RING_OFF_ELEMENT_TYPE, RingLayout.ElementTypeOffset),
    ];

    /// <summary>The entry of a layout id; fails the calling test when the id has none.</summary>
    internal static Entry Of(LayoutId id)
    {
        var matches = Entries.Where(e => e.CName == id.ToString()).ToArray();
        Assert.True(matches.Length == 1, $"{id} must have exactly one C# counterpart in LayoutTable, has {matches.Length}.");
        return matches[0];
    }

    private static Entry E(LayoutId id, long value, [CallerArgumentExpression(nameof(value))] string csharp = "") => new(id.ToString(), csharp, value);

    private static Entry C(string cName, long value, [CallerArgumentExpression(nameof(value))] string csharp = "") => new(cName, csharp, value);
}
