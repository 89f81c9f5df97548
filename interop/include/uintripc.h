/*
 * uintripc.h — the shared-memory layout of UintrIpc, for C peers and for the native shim.
 *
 * This header is the single C description of what lives in a UintrIpc region. The C#
 * side mirrors it in lib/UintrIpc/Memory/RegionLayout.cs and lib/UintrIpc/Rings/RingLayout.cs;
 * test/UintrIpc.Tests/Layout proves both agree (through UintrIpc_LayoutValue below, and by
 * compiling a C peer against this file). Change both in the same commit, and bump
 * UIPC_LAYOUT_VERSION when a byte moves.
 *
 * Everything is little-endian x86-64 / arm64, naturally aligned, and accessed with the
 * orderings stated per field:
 *   plain   = ordinary load/store, only by the owning side or before publication;
 *   acquire = __atomic_load_n(p, __ATOMIC_ACQUIRE)  (C#: Volatile.Read);
 *   release = __atomic_store_n(p, v, __ATOMIC_RELEASE) (C#: Volatile.Write);
 *   full    = a locked RMW or __atomic_thread_fence(__ATOMIC_SEQ_CST) (C#: Interlocked).
 *
 * A peer must not trust anything it reads from the region: every position, length and
 * offset written by the other side is checked against the layout before use.
 *
 * ------------------------------------------------------------------------------------
 * 1. Region
 * ------------------------------------------------------------------------------------
 *
 *   0                                  1024 (UIPC_REGION_HEADER_SIZE)
 *   +----------------------------------+-------------+-------------+----
 *   | uipc_region_header (+ part table)| part 0      | part 1      | ...
 *   +----------------------------------+-------------+-------------+----
 *
 * The creator zero-fills the region, writes every header field and every part, then
 * writes `magic` LAST with release semantics. An attacher waits (bounded) until it reads
 * the magic with acquire semantics, then validates: layout_version, header_size,
 * total_size == the mapped size, part_count <= UIPC_MAX_PARTS, and for each part
 * offset % UIPC_PART_ALIGNMENT == 0, offset >= header size, offset + length <= total_size,
 * parts do not overlap. Only then does it look inside a part.
 *
 * `epoch` is a random non-zero 64-bit value chosen each time a region is initialised: a
 * peer that remembers an epoch can tell a re-created region from the one it knew.
 * `state` moves READY -> CLOSED (release) when the creator shuts the region down.
 *
 * ------------------------------------------------------------------------------------
 * 2. Rings (part kinds UIPC_PART_SPSC_SLOTS .. UIPC_PART_MPSC_RECORDS)
 * ------------------------------------------------------------------------------------
 *
 * A ring part starts with a 512-byte control block, followed by the data area:
 *
 *   +0    uipc_ring_descriptor  (immutable after creation)
 *   +128  tail   u64  producer position (bytes for record rings, slots for slot rings)
 *   +256  head   u64  consumer position
 *   +384  consumer line: heartbeat
 *   +512  data area, `capacity` slots of `slot_size` bytes, or `capacity` bytes
 *
 * Positions are free-running 64-bit counters; index = position & (capacity - 1).
 * The producer-owned and consumer-owned words are 128 bytes apart so that adjacent-line
 * prefetching cannot make them share traffic. Invariant: head <= tail <= head + capacity.
 *
 * 2a. Slot rings (fixed-size elements): slot i is at data + i * slot_size:
 *
 *   +0  sequence u64   == position + 1 once the element for `position` is published
 *   +8  element        element_size bytes, slot_size = align8(8 + element_size)
 *
 *   Producer (SPSC): if tail - head_cache >= capacity, reload head (acquire) and re-check;
 *     write the element (plain); sequence = tail + 1 (release); tail = tail + 1 (release).
 *   Producer (MPSC): t = tail (acquire); check capacity against head (acquire);
 *     CAS tail t -> t + 1 (full); write element (plain); sequence = t + 1 (release).
 *   Consumer: s = slot[head].sequence (acquire); s == head + 1 means ready, read the
 *     element (plain), then head = head + 1 (release) to give the slot back.
 *     Any other value is "not yet" only if it is 0 (first lap: head < capacity) or
 *     (head + 1 - capacity), possibly | UIPC_SLOT_SKIPPED; anything else is corruption.
 *     A consumer polls the slot it reads next, so one message costs one cache-line
 *     transfer.
 *   MPSC unblock (producer died between claim and publish): the consumer, after a
 *     timeout, CASes the sequence from its old value to UIPC_SLOT_SKIPPED | (head + 1)
 *     and moves on. As with Agrona's Unblock, this is only safe when the producer is
 *     really dead. A producer may abort its own claim the same way: sequence =
 *     UIPC_SLOT_SKIPPED | (position + 1) (release). An MPSC consumer that finds
 *     UIPC_SLOT_SKIPPED | (head + 1) with head < tail (an aborted claim, or an unblock
 *     whose consumer stopped before moving head) steps over it: head = head + 1
 *     (release). SPSC rings never hold skip markers.
 *
 * 2b. Record rings (variable-length byte messages): records are 8-byte aligned:
 *
 *   +0  length  i32   record length including this header; 0 = nothing yet;
 *                     negative = claimed, being written (MPSC); positive = committed
 *   +4  type    i32   message type (>= 0), UIPC_RECORD_PADDING (-1) for padding/aborted
 *   +8  payload length - 8 bytes; the record occupies align8(length) bytes
 *
 *   A record never wraps: when it would not fit before the end of the data area, the
 *   producer claims the remainder as well and writes a padding record there; the real
 *   record starts at index 0. max_message_length (payload bytes) <= capacity / 8.
 *   Every byte outside [head, tail) is zero, so a header reads 0 until its producer
 *   writes it: producers rely on that, and the consumer polls the header, not the tail.
 *   Producer (SPSC): check capacity (head acquire); write type and payload (plain);
 *     tail += padding + aligned length (release); padding header, then length = +len
 *     (release). The tail goes first so that head <= tail holds for every observer.
 *   Producer (MPSC): CAS tail (full); padding header (type, then length release);
 *     length = -len (release) followed by a store-store fence, so the marker is visible
 *     before any payload byte; type, payload (plain); length = +len (release).
 *   Abort turns the record into padding (type -1, length +len).
 *   Consumer: len = length (acquire); <= 0 means not yet; validate 8 <= len, index +
 *     align8(len) <= capacity; type >= 0 with payload <= max_message_length, or type -1
 *     (padding) that fills exactly to the end or is no longer than the longest record
 *     align8(8 + max_message_length) (an aborted claim); a batch consumes at most
 *     capacity bytes. Read; zero the consumed bytes (plain) so a later lap never sees
 *     stale headers; head += consumed (release).
 *   MPSC unblock (producer died between claim and commit), consumer only, after a
 *     timeout: a record at head with length -len becomes padding of len; with length 0
 *     while tail > head, the consumer scans for the next non-zero header (within the lap
 *     and the tail), re-checks that the gap is still zero, and fills the gap with padding
 *     records. Only safe when the producer is really dead.
 *
 * ------------------------------------------------------------------------------------
 * 3. Wait block (part kind UIPC_PART_WAIT_BLOCK): the wake-up protocol of one consumer
 * ------------------------------------------------------------------------------------
 *   See uipc_wait_block below and lib/UintrIpc/Signaling for the protocol.
 */
#ifndef UINTRIPC_H
#define UINTRIPC_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
#define UIPC_STATIC_ASSERT static_assert
extern "C" {
#else
#define UIPC_STATIC_ASSERT _Static_assert
#endif

#define UIPC_REGION_MAGIC        0x43504955u /* "UIPC" as bytes 55 49 50 43 */
#define UIPC_LAYOUT_VERSION      1u
#define UIPC_REGION_HEADER_SIZE  1024u
#define UIPC_MAX_PARTS           16u
#define UIPC_PART_ALIGNMENT      128u
/* Distance between words written by different sides (two 64-byte lines). */
#define UIPC_FALSE_SHARING_RANGE 128u

enum uipc_region_state {
    UIPC_STATE_READY  = 1,
    UIPC_STATE_CLOSED = 2,
};

enum uipc_part_kind {
    UIPC_PART_NONE         = 0,
    UIPC_PART_SPSC_SLOTS   = 1,
    UIPC_PART_MPSC_SLOTS   = 2,
    UIPC_PART_SPSC_RECORDS = 3,
    UIPC_PART_MPSC_RECORDS = 4,
    UIPC_PART_WAIT_BLOCK   = 5,
    UIPC_PART_ARENA        = 6,
    UIPC_PART_USER         = 0x100, /* and above: application-defined */
};

/* One entry of the part table (32 bytes). */
struct uipc_part {
    uint32_t kind;     /* enum uipc_part_kind */
    uint32_t tag;      /* application tag telling parts of one kind apart (e.g. 0 = requests) */
    uint64_t offset;   /* from the start of the region, multiple of UIPC_PART_ALIGNMENT */
    uint64_t length;   /* bytes */
    uint64_t reserved;
};

/* The region header (UIPC_REGION_HEADER_SIZE bytes, the rest reserved and zero). */
struct uipc_region_header {
    uint32_t magic;          /*  0 written last by the creator (release) */
    uint16_t layout_version; /*  4 */
    uint16_t header_size;    /*  6 == UIPC_REGION_HEADER_SIZE */
    uint32_t region_kind;    /*  8 application-defined kind of region (0 = generic) */
    uint32_t part_count;     /* 12 <= UIPC_MAX_PARTS */
    uint64_t total_size;     /* 16 bytes mapped, equals the file size */
    uint64_t epoch;          /* 24 random, non-zero, new on every initialisation */
    int32_t  creator_pid;    /* 32 */
    uint32_t state;          /* 36 enum uipc_region_state (release on change) */
    uint8_t  reserved0[24];  /* 40 */
    struct uipc_part parts[UIPC_MAX_PARTS]; /* 64 .. 576 */
    uint8_t  reserved1[UIPC_REGION_HEADER_SIZE - 576];
};

/* ---- rings ---------------------------------------------------------------------- */

#define UIPC_RING_CONTROL_SIZE   512u
#define UIPC_RING_TAIL_OFFSET    128u
#define UIPC_RING_HEAD_OFFSET    256u
#define UIPC_RING_HEARTBEAT_OFFSET 384u
#define UIPC_SLOT_HEADER_SIZE    8u
#define UIPC_SLOT_SKIPPED        (1ull << 63)
#define UIPC_RECORD_HEADER_SIZE  8u
#define UIPC_RECORD_ALIGNMENT    8u
#define UIPC_RECORD_PADDING      (-1)

/* Immutable description of a ring, at the start of its part. */
struct uipc_ring_descriptor {
    uint32_t ring_kind;          /*  0 the part kind again, as a cross-check */
    uint32_t slot_size;          /*  4 slot rings: align8(8 + element_size); record rings: 0 */
    uint64_t capacity;           /*  8 slots (slot rings) or data bytes (record rings); power of two */
    uint32_t element_size;       /* 16 slot rings: bytes per element; record rings: 0 */
    uint32_t max_message_length; /* 20 record rings: max payload bytes; slot rings: element_size */
    uint64_t data_offset;        /* 24 from the ring part start; == UIPC_RING_CONTROL_SIZE */
    uint64_t data_length;        /* 32 bytes of the data area */
    uint8_t  reserved[88];       /* 40 .. 128 */
};

struct uipc_ring_control {
    struct uipc_ring_descriptor descriptor;   /*   0 */
    uint64_t tail;                            /* 128 producer-owned (MPSC: CAS by producers) */
    uint8_t  pad_tail[120];
    uint64_t head;                            /* 256 consumer-owned */
    uint8_t  pad_head[120];
    int64_t  consumer_heartbeat_ms;           /* 384 consumer-owned, CLOCK_MONOTONIC ms */
    uint8_t  pad_consumer[120];
};

/* ---- wait block (wake-up protocol of one consumer) --------------------------------- */

#define UIPC_WAIT_BLOCK_SIZE 384u

enum uipc_consumer_state {
    UIPC_CONSUMER_AWAKE    = 0,
    UIPC_CONSUMER_SLEEPING = 1, /* announced: the producer must ring the doorbell */
};

struct uipc_wait_block {
    /* consumer-owned line */
    uint32_t consumer_state;  /*   0 enum uipc_consumer_state; set, then full fence, then re-check */
    uint32_t wake_word;       /*   4 futex word: producers increment it before FUTEX_WAKE */
    uint32_t doorbell_kind;   /*   8 which doorbell the consumer blocks in */
    int32_t  consumer_pid;    /*  12 */
    int32_t  consumer_tid;    /*  16 thread that blocks (signal/uintr doorbells) */
    uint32_t reserved0;       /*  20 */
    uint64_t sleeps;          /*  24 times the consumer blocked */
    uint64_t timeouts;        /*  32 waits that ended by timeout */
    uint64_t wakeups_seen;    /*  40 waits that ended by a wake-up */
    uint8_t  pad0[80];        /*  48 .. 128 */
    /* producer-written line */
    uint64_t wakeups_sent;       /* 128 doorbell rung */
    uint64_t wakeups_suppressed; /* 136 publishes that found the consumer awake */
    uint8_t  pad1[112];          /* 144 .. 256 */
    uint8_t  reserved[128];      /* 256 .. 384 */
};

/* ---- compile-time proof of the layout ----------------------------------------------- */

UIPC_STATIC_ASSERT(sizeof(struct uipc_part) == 32, "uipc_part is 32 bytes");
UIPC_STATIC_ASSERT(offsetof(struct uipc_region_header, magic) == 0, "magic at 0");
UIPC_STATIC_ASSERT(offsetof(struct uipc_region_header, layout_version) == 4, "version at 4");
UIPC_STATIC_ASSERT(offsetof(struct uipc_region_header, header_size) == 6, "header_size at 6");
UIPC_STATIC_ASSERT(offsetof(struct uipc_region_header, region_kind) == 8, "region_kind at 8");
UIPC_STATIC_ASSERT(offsetof(struct uipc_region_header, part_count) == 12, "part_count at 12");
UIPC_STATIC_ASSERT(offsetof(struct uipc_region_header, total_size) == 16, "total_size at 16");
UIPC_STATIC_ASSERT(offsetof(struct uipc_region_header, epoch) == 24, "epoch at 24");
UIPC_STATIC_ASSERT(offsetof(struct uipc_region_header, creator_pid) == 32, "creator_pid at 32");
UIPC_STATIC_ASSERT(offsetof(struct uipc_region_header, state) == 36, "state at 36");
UIPC_STATIC_ASSERT(offsetof(struct uipc_region_header, parts) == 64, "parts at 64");
UIPC_STATIC_ASSERT(sizeof(struct uipc_region_header) == UIPC_REGION_HEADER_SIZE, "header size");
UIPC_STATIC_ASSERT(sizeof(struct uipc_ring_descriptor) == 128, "descriptor is one 128-byte block");
UIPC_STATIC_ASSERT(offsetof(struct uipc_ring_control, tail) == UIPC_RING_TAIL_OFFSET, "tail");
UIPC_STATIC_ASSERT(offsetof(struct uipc_ring_control, head) == UIPC_RING_HEAD_OFFSET, "head");
UIPC_STATIC_ASSERT(offsetof(struct uipc_ring_control, consumer_heartbeat_ms) == UIPC_RING_HEARTBEAT_OFFSET, "heartbeat");
UIPC_STATIC_ASSERT(sizeof(struct uipc_ring_control) == UIPC_RING_CONTROL_SIZE, "control block size");
UIPC_STATIC_ASSERT(offsetof(struct uipc_wait_block, wakeups_sent) == 128, "producer line at 128");
UIPC_STATIC_ASSERT(sizeof(struct uipc_wait_block) == UIPC_WAIT_BLOCK_SIZE, "wait block size");

/* ---- shim exports (libuintripc.so) ------------------------------------------------- */

#if defined(UINTRIPC_BUILDING_SHIM)
#define UIPC_EXPORT __attribute__((visibility("default")))
#else
#define UIPC_EXPORT
#endif

/* Layout table: one id per constant, so the managed side can prove it agrees. Returns
 * UIPC_LAYOUT_UNKNOWN (INT64_MIN, a value no constant has; -1 is a real value: the padding
 * record type) for an unknown id. Ids are stable; add at the end. */
#define UIPC_LAYOUT_UNKNOWN INT64_MIN
enum uipc_layout_id {
    UIPC_L_MAGIC = 0, UIPC_L_VERSION, UIPC_L_HEADER_SIZE, UIPC_L_MAX_PARTS, UIPC_L_PART_ALIGNMENT,
    UIPC_L_OFF_MAGIC, UIPC_L_OFF_VERSION, UIPC_L_OFF_HEADER_SIZE, UIPC_L_OFF_REGION_KIND,
    UIPC_L_OFF_PART_COUNT, UIPC_L_OFF_TOTAL_SIZE, UIPC_L_OFF_EPOCH, UIPC_L_OFF_CREATOR_PID,
    UIPC_L_OFF_STATE, UIPC_L_OFF_PARTS, UIPC_L_PART_SIZE, UIPC_L_PART_OFF_KIND, UIPC_L_PART_OFF_TAG,
    UIPC_L_PART_OFF_OFFSET, UIPC_L_PART_OFF_LENGTH,
    UIPC_L_RING_CONTROL_SIZE, UIPC_L_RING_OFF_KIND, UIPC_L_RING_OFF_SLOT_SIZE, UIPC_L_RING_OFF_CAPACITY,
    UIPC_L_RING_OFF_ELEMENT_SIZE, UIPC_L_RING_OFF_MAX_MESSAGE, UIPC_L_RING_OFF_DATA_OFFSET,
    UIPC_L_RING_OFF_DATA_LENGTH, UIPC_L_RING_OFF_TAIL, UIPC_L_RING_OFF_HEAD, UIPC_L_RING_OFF_HEARTBEAT,
    UIPC_L_SLOT_HEADER_SIZE, UIPC_L_RECORD_HEADER_SIZE, UIPC_L_RECORD_ALIGNMENT, UIPC_L_RECORD_PADDING,
    UIPC_L_WAIT_SIZE, UIPC_L_WAIT_OFF_STATE, UIPC_L_WAIT_OFF_WAKE_WORD, UIPC_L_WAIT_OFF_DOORBELL_KIND,
    UIPC_L_WAIT_OFF_PID, UIPC_L_WAIT_OFF_TID, UIPC_L_WAIT_OFF_SLEEPS, UIPC_L_WAIT_OFF_TIMEOUTS,
    UIPC_L_WAIT_OFF_WAKEUPS_SEEN, UIPC_L_WAIT_OFF_WAKEUPS_SENT, UIPC_L_WAIT_OFF_WAKEUPS_SUPPRESSED,
    UIPC_L_COUNT
};
UIPC_EXPORT int64_t UintrIpc_LayoutValue(int32_t id);

/* Futex on a 32-bit word in shared memory (no FUTEX_PRIVATE_FLAG, so it works across
 * processes). Wait returns 0 when woken (or spuriously), 1 when the word did not hold
 * `expected` (EAGAIN), 2 on timeout; -errno on error. EINTR is retried inside with the
 * remaining time. Every wait is bounded: timeout_ns < 0 is refused (-EINVAL); the deadline
 * now + timeout_ns saturates at INT64_MAX ns of CLOCK_MONOTONIC instead of overflowing, so
 * INT64_MAX means "until woken" and still ends at the first wake. */
UIPC_EXPORT int32_t UintrIpc_FutexWait(uint32_t *word, uint32_t expected, int64_t timeout_ns);
/* Wakes up to `count` waiters; returns how many were woken, or -errno. */
UIPC_EXPORT int32_t UintrIpc_FutexWake(uint32_t *word, int32_t count);

#ifdef __cplusplus
}
#endif
#endif /* UINTRIPC_H */
