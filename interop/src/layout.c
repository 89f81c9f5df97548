/* The layout table: lets the managed side prove its constants equal this header's. */
#include "uintripc.h"

#define OFF(type, field) ((int64_t)offsetof(struct type, field))

UIPC_EXPORT int64_t UintrIpc_LayoutValue(int32_t id)
{
    switch (id) {
    case UIPC_L_MAGIC: return UIPC_REGION_MAGIC;
    case UIPC_L_VERSION: return UIPC_LAYOUT_VERSION;
    case UIPC_L_HEADER_SIZE: return sizeof(struct uipc_region_header);
    case UIPC_L_MAX_PARTS: return UIPC_MAX_PARTS;
    case UIPC_L_PART_ALIGNMENT: return UIPC_PART_ALIGNMENT;
    case UIPC_L_OFF_MAGIC: return OFF(uipc_region_header, magic);
    case UIPC_L_OFF_VERSION: return OFF(uipc_region_header, layout_version);
    case UIPC_L_OFF_HEADER_SIZE: return OFF(uipc_region_header, header_size);
    case UIPC_L_OFF_REGION_KIND: return OFF(uipc_region_header, region_kind);
    case UIPC_L_OFF_PART_COUNT: return OFF(uipc_region_header, part_count);
    case UIPC_L_OFF_TOTAL_SIZE: return OFF(uipc_region_header, total_size);
    case UIPC_L_OFF_EPOCH: return OFF(uipc_region_header, epoch);
    case UIPC_L_OFF_CREATOR_PID: return OFF(uipc_region_header, creator_pid);
    case UIPC_L_OFF_STATE: return OFF(uipc_region_header, state);
    case UIPC_L_OFF_PARTS: return OFF(uipc_region_header, parts);
    case UIPC_L_PART_SIZE: return sizeof(struct uipc_part);
    case UIPC_L_PART_OFF_KIND: return OFF(uipc_part, kind);
    case UIPC_L_PART_OFF_TAG: return OFF(uipc_part, tag);
    case UIPC_L_PART_OFF_OFFSET: return OFF(uipc_part, offset);
    case UIPC_L_PART_OFF_LENGTH: return OFF(uipc_part, length);
    case UIPC_L_RING_CONTROL_SIZE: return sizeof(struct uipc_ring_control);
    case UIPC_L_RING_OFF_KIND: return OFF(uipc_ring_descriptor, ring_kind);
    case UIPC_L_RING_OFF_SLOT_SIZE: return OFF(uipc_ring_descriptor, slot_size);
    case UIPC_L_RING_OFF_CAPACITY: return OFF(uipc_ring_descriptor, capacity);
    case UIPC_L_RING_OFF_ELEMENT_SIZE: return OFF(uipc_ring_descriptor, element_size);
    case UIPC_L_RING_OFF_MAX_MESSAGE: return OFF(uipc_ring_descriptor, max_message_length);
    case UIPC_L_RING_OFF_DATA_OFFSET: return OFF(uipc_ring_descriptor, data_offset);
    case UIPC_L_RING_OFF_DATA_LENGTH: return OFF(uipc_ring_descriptor, data_length);
    case UIPC_L_RING_OFF_TAIL: return OFF(uipc_ring_control, tail);
    case UIPC_L_RING_OFF_HEAD: return OFF(uipc_ring_control, head);
    case UIPC_L_RING_OFF_HEARTBEAT: return OFF(uipc_ring_control, consumer_heartbeat_ms);
    case UIPC_L_SLOT_HEADER_SIZE: return UIPC_SLOT_HEADER_SIZE;
    case UIPC_L_RECORD_HEADER_SIZE: return UIPC_RECORD_HEADER_SIZE;
    case UIPC_L_RECORD_ALIGNMENT: return UIPC_RECORD_ALIGNMENT;
    case UIPC_L_RECORD_PADDING: return UIPC_RECORD_PADDING;
    case UIPC_L_WAIT_SIZE: return sizeof(struct uipc_wait_block);
    case UIPC_L_WAIT_OFF_STATE: return OFF(uipc_wait_block, consumer_state);
    case UIPC_L_WAIT_OFF_WAKE_WORD: return OFF(uipc_wait_block, wake_word);
    case UIPC_L_WAIT_OFF_DOORBELL_KIND: return OFF(uipc_wait_block, doorbell_kind);
    case UIPC_L_WAIT_OFF_PID: return OFF(uipc_wait_block, consumer_pid);
    case UIPC_L_WAIT_OFF_TID: return OFF(uipc_wait_block, consumer_tid);
    case UIPC_L_WAIT_OFF_SLEEPS: return OFF(uipc_wait_block, sleeps);
    case UIPC_L_WAIT_OFF_TIMEOUTS: return OFF(uipc_wait_block, timeouts);
    case UIPC_L_WAIT_OFF_WAKEUPS_SEEN: return OFF(uipc_wait_block, wakeups_seen);
    case UIPC_L_WAIT_OFF_WAKEUPS_SENT: return OFF(uipc_wait_block, wakeups_sent);
    case UIPC_L_WAIT_OFF_WAKEUPS_SUPPRESSED: return OFF(uipc_wait_block, wakeups_suppressed);
    case UIPC_L_RING_OFF_PRODUCER_SLOTS: return OFF(uipc_ring_descriptor, producer_slots);
    case UIPC_L_RING_OFF_PRODUCER_TABLE: return OFF(uipc_ring_descriptor, producer_table_offset);
    case UIPC_L_RING_OFF_UNREGISTERED: return OFF(uipc_ring_control, unregistered);
    case UIPC_L_RING_OFF_RELEASING: return OFF(uipc_ring_control, releasing);
    case UIPC_L_SLOT_CLAIMED: return (int64_t)UIPC_SLOT_CLAIMED;
    case UIPC_L_PRODUCER_ENTRY_SIZE: return sizeof(struct uipc_producer_entry);
    case UIPC_L_MAX_PRODUCER_SLOTS: return UIPC_MAX_PRODUCER_SLOTS;
    case UIPC_L_PRODUCER_NONE: return UIPC_PRODUCER_NONE;
    case UIPC_L_PRODUCER_REGISTERING: return UIPC_PRODUCER_REGISTERING;
    case UIPC_L_PRODUCER_OFF_OWNER: return OFF(uipc_producer_entry, owner);
    case UIPC_L_PRODUCER_OFF_CLAIM: return OFF(uipc_producer_entry, claim);
    case UIPC_L_PRODUCER_OFF_PID_NAMESPACE: return OFF(uipc_producer_entry, pid_namespace);
    case UIPC_L_WAIT_OFF_CHANNEL_FLAGS: return OFF(uipc_wait_block, channel_flags);
    case UIPC_L_CHANNEL_CHECKSUMS: return UIPC_CHANNEL_CHECKSUMS;
    case UIPC_L_CHECKSUM_SIZE: return UIPC_CHECKSUM_SIZE;
    case UIPC_L_RING_OFF_SLOT_PITCH: return OFF(uipc_ring_descriptor, slot_pitch);
    case UIPC_L_PART_DUPLEX_SLOTS: return UIPC_PART_DUPLEX_SLOTS;
    case UIPC_L_DUPLEX_CONTROL_SIZE: return UIPC_DUPLEX_CONTROL_SIZE;
    case UIPC_L_DUPLEX_PITCH_ALIGNMENT: return UIPC_DUPLEX_PITCH_ALIGNMENT;
    case UIPC_L_REGION_CHANNEL_DUPLEX: return UIPC_REGION_CHANNEL_DUPLEX;
    case UIPC_L_WAIT_OFF_CHANNEL_STATE: return OFF(uipc_wait_block, channel_state);
    case UIPC_L_RING_OFF_CLAIM_END: return OFF(uipc_ring_control, claim_end);
    case UIPC_L_LOCK_CREATOR: return UIPC_LOCK_CREATOR;
    case UIPC_L_LOCK_WRITER_0: return UIPC_LOCK_WRITER(0);
    case UIPC_L_LOCK_READER_0: return UIPC_LOCK_READER(0);
    case UIPC_L_LOCK_WRITER_1: return UIPC_LOCK_WRITER(1);
    case UIPC_L_RING_OFF_WRITERS: return OFF(uipc_ring_control, writers);
    case UIPC_L_RING_OFF_WRITERS_DETACHED: return OFF(uipc_ring_control, writers_detached);
    case UIPC_L_RING_OFF_ELEMENT_TYPE: return OFF(uipc_ring_descriptor, element_type);
    default: return UIPC_LAYOUT_UNKNOWN;
    }
}
