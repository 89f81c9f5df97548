/*
 * layout_dump.c: prints the layout of interop/include/uintripc.h as a C compiler sees it,
 * for test/UintrIpc.Tests/Layout/CompiledLayoutTests.cs, which compiles and runs it and
 * compares every line with the C# constants.
 *
 * It deliberately does not use the shim's table (interop/src/layout.c): it is a second,
 * independent witness computed with offsetof/sizeof from the header alone.
 *
 * Output, one item per line:
 *   id NAME N       the numeric value of an enum uipc_layout_id member (and UIPC_L_COUNT)
 *   value NAME V    the layout value of that id, or of another named constant of the header
 */
#include <inttypes.h>
#include <stdio.h>
#include "uintripc.h"

#define L(id, expr) printf("id %s %d\nvalue %s %" PRId64 "\n", #id, (int)(id), #id, (int64_t)(expr))
#define C(name) printf("value %s %" PRId64 "\n", #name, (int64_t)(name))
#define OFF(type, field) offsetof(struct type, field)

int main(void)
{
    L(UIPC_L_MAGIC, UIPC_REGION_MAGIC);
    L(UIPC_L_VERSION, UIPC_LAYOUT_VERSION);
    L(UIPC_L_HEADER_SIZE, sizeof(struct uipc_region_header));
    L(UIPC_L_MAX_PARTS, sizeof(((struct uipc_region_header *)0)->parts) / sizeof(struct uipc_part));
    L(UIPC_L_PART_ALIGNMENT, UIPC_PART_ALIGNMENT);
    L(UIPC_L_OFF_MAGIC, OFF(uipc_region_header, magic));
    L(UIPC_L_OFF_VERSION, OFF(uipc_region_header, layout_version));
    L(UIPC_L_OFF_HEADER_SIZE, OFF(uipc_region_header, header_size));
    L(UIPC_L_OFF_REGION_KIND, OFF(uipc_region_header, region_kind));
    L(UIPC_L_OFF_PART_COUNT, OFF(uipc_region_header, part_count));
    L(UIPC_L_OFF_TOTAL_SIZE, OFF(uipc_region_header, total_size));
    L(UIPC_L_OFF_EPOCH, OFF(uipc_region_header, epoch));
    L(UIPC_L_OFF_CREATOR_PID, OFF(uipc_region_header, creator_pid));
    L(UIPC_L_OFF_STATE, OFF(uipc_region_header, state));
    L(UIPC_L_OFF_PARTS, OFF(uipc_region_header, parts));
    L(UIPC_L_PART_SIZE, sizeof(struct uipc_part));
    L(UIPC_L_PART_OFF_KIND, OFF(uipc_part, kind));
    L(UIPC_L_PART_OFF_TAG, OFF(uipc_part, tag));
    L(UIPC_L_PART_OFF_OFFSET, OFF(uipc_part, offset));
    L(UIPC_L_PART_OFF_LENGTH, OFF(uipc_part, length));
    L(UIPC_L_RING_CONTROL_SIZE, sizeof(struct uipc_ring_control));
    L(UIPC_L_RING_OFF_KIND, OFF(uipc_ring_descriptor, ring_kind));
    L(UIPC_L_RING_OFF_SLOT_SIZE, OFF(uipc_ring_descriptor, slot_size));
    L(UIPC_L_RING_OFF_CAPACITY, OFF(uipc_ring_descriptor, capacity));
    L(UIPC_L_RING_OFF_ELEMENT_SIZE, OFF(uipc_ring_descriptor, element_size));
    L(UIPC_L_RING_OFF_MAX_MESSAGE, OFF(uipc_ring_descriptor, max_message_length));
    L(UIPC_L_RING_OFF_DATA_OFFSET, OFF(uipc_ring_descriptor, data_offset));
    L(UIPC_L_RING_OFF_DATA_LENGTH, OFF(uipc_ring_descriptor, data_length));
    L(UIPC_L_RING_OFF_TAIL, OFF(uipc_ring_control, tail));
    L(UIPC_L_RING_OFF_HEAD, OFF(uipc_ring_control, head));
    L(UIPC_L_RING_OFF_HEARTBEAT, OFF(uipc_ring_control, consumer_heartbeat_ms));
    L(UIPC_L_SLOT_HEADER_SIZE, UIPC_SLOT_HEADER_SIZE);
    L(UIPC_L_RECORD_HEADER_SIZE, UIPC_RECORD_HEADER_SIZE);
    L(UIPC_L_RECORD_ALIGNMENT, UIPC_RECORD_ALIGNMENT);
    L(UIPC_L_RECORD_PADDING, UIPC_RECORD_PADDING);
    L(UIPC_L_WAIT_SIZE, sizeof(struct uipc_wait_block));
    L(UIPC_L_WAIT_OFF_STATE, OFF(uipc_wait_block, consumer_state));
    L(UIPC_L_WAIT_OFF_WAKE_WORD, OFF(uipc_wait_block, wake_word));
    L(UIPC_L_WAIT_OFF_DOORBELL_KIND, OFF(uipc_wait_block, doorbell_kind));
    L(UIPC_L_WAIT_OFF_PID, OFF(uipc_wait_block, consumer_pid));
    L(UIPC_L_WAIT_OFF_TID, OFF(uipc_wait_block, consumer_tid));
    L(UIPC_L_WAIT_OFF_SLEEPS, OFF(uipc_wait_block, sleeps));
    L(UIPC_L_WAIT_OFF_TIMEOUTS, OFF(uipc_wait_block, timeouts));
    L(UIPC_L_WAIT_OFF_WAKEUPS_SEEN, OFF(uipc_wait_block, wakeups_seen));
    L(UIPC_L_WAIT_OFF_WAKEUPS_SENT, OFF(uipc_wait_block, wakeups_sent));
    L(UIPC_L_WAIT_OFF_WAKEUPS_SUPPRESSED, OFF(uipc_wait_block, wakeups_suppressed));
    L(UIPC_L_RING_OFF_PRODUCER_SLOTS, OFF(uipc_ring_descriptor, producer_slots));
    L(UIPC_L_RING_OFF_PRODUCER_TABLE, OFF(uipc_ring_descriptor, producer_table_offset));
    L(UIPC_L_RING_OFF_UNREGISTERED, OFF(uipc_ring_control, unregistered));
    L(UIPC_L_RING_OFF_RELEASING, OFF(uipc_ring_control, releasing));
    L(UIPC_L_SLOT_CLAIMED, (int64_t)UIPC_SLOT_CLAIMED);
    L(UIPC_L_PRODUCER_ENTRY_SIZE, sizeof(struct uipc_producer_entry));
    L(UIPC_L_MAX_PRODUCER_SLOTS, UIPC_MAX_PRODUCER_SLOTS);
    L(UIPC_L_PRODUCER_NONE, UIPC_PRODUCER_NONE);
    L(UIPC_L_PRODUCER_REGISTERING, UIPC_PRODUCER_REGISTERING);
    L(UIPC_L_PRODUCER_OFF_OWNER, OFF(uipc_producer_entry, owner));
    L(UIPC_L_PRODUCER_OFF_CLAIM, OFF(uipc_producer_entry, claim));
    L(UIPC_L_PRODUCER_OFF_PID_NAMESPACE, OFF(uipc_producer_entry, pid_namespace));
    L(UIPC_L_WAIT_OFF_CHANNEL_FLAGS, OFF(uipc_wait_block, channel_flags));
    L(UIPC_L_CHANNEL_CHECKSUMS, UIPC_CHANNEL_CHECKSUMS);
    L(UIPC_L_CHECKSUM_SIZE, UIPC_CHECKSUM_SIZE);
    L(UIPC_L_RING_OFF_SLOT_PITCH, OFF(uipc_ring_descriptor, slot_pitch));
    L(UIPC_L_PART_DUPLEX_SLOTS, UIPC_PART_DUPLEX_SLOTS);
    L(UIPC_L_DUPLEX_CONTROL_SIZE, UIPC_DUPLEX_CONTROL_SIZE);
    L(UIPC_L_DUPLEX_PITCH_ALIGNMENT, UIPC_DUPLEX_PITCH_ALIGNMENT);
    L(UIPC_L_REGION_CHANNEL_DUPLEX, UIPC_REGION_CHANNEL_DUPLEX);
    L(UIPC_L_WAIT_OFF_CHANNEL_STATE, OFF(uipc_wait_block, channel_state));
    L(UIPC_L_RING_OFF_CLAIM_END, OFF(uipc_ring_control, claim_end));
    L(UIPC_L_LOCK_CREATOR, UIPC_LOCK_CREATOR);
    L(UIPC_L_LOCK_WRITER_0, UIPC_LOCK_WRITER(0));
    L(UIPC_L_LOCK_READER_0, UIPC_LOCK_READER(0));
    L(UIPC_L_LOCK_WRITER_1, UIPC_LOCK_WRITER(1));
    L(UIPC_L_RING_OFF_WRITERS, OFF(uipc_ring_control, writers));
    L(UIPC_L_RING_OFF_WRITERS_DETACHED, OFF(uipc_ring_control, writers_detached));
    L(UIPC_L_RING_OFF_ELEMENT_TYPE, OFF(uipc_ring_descriptor, element_type));
    printf("id UIPC_L_COUNT %d\n", (int)UIPC_L_COUNT);

    /* Constants of the header that have no layout id. */
    C(UIPC_CHANNEL_KNOWN_FLAGS);
    C(UIPC_REGION_HEADER_SIZE);
    C(UIPC_MAX_PARTS);
    C(UIPC_FALSE_SHARING_RANGE);
    C(UIPC_RING_CONTROL_SIZE);
    C(UIPC_RING_TAIL_OFFSET);
    C(UIPC_RING_HEAD_OFFSET);
    C(UIPC_RING_HEARTBEAT_OFFSET);
    C(UIPC_SLOT_SKIPPED);
    C(UIPC_MAX_POSITION);
    C(UIPC_DEFAULT_PRODUCER_SLOTS);
    C(UIPC_WAIT_BLOCK_SIZE);
    C(UIPC_DOORBELL_NONE);
    C(UIPC_DOORBELL_FUTEX);
    C(UIPC_DOORBELL_EVENTFD);
    C(UIPC_DOORBELL_SIGNAL);
    C(UIPC_DOORBELL_UINTR);
    C(UIPC_DOORBELL_UINTR_SIM);
    C(UIPC_SIGNAL_DEFAULT_OFFSET);
    C(UIPC_REGION_CHANNEL_SLOTS);
    C(UIPC_REGION_CHANNEL_MESSAGES);
    C(UIPC_HEARTBEAT_DETACHED);
    C(UIPC_STATE_READY);
    C(UIPC_STATE_CLOSED);
    C(UIPC_PART_NONE);
    C(UIPC_PART_SPSC_SLOTS);
    C(UIPC_PART_MPSC_SLOTS);
    C(UIPC_PART_SPSC_RECORDS);
    C(UIPC_PART_MPSC_RECORDS);
    C(UIPC_PART_WAIT_BLOCK);
    C(UIPC_PART_ARENA);
    C(UIPC_PART_USER);
    C(UIPC_CONSUMER_AWAKE);
    C(UIPC_CONSUMER_SLEEPING);
    return 0;
}
