/*
 * region.c — the benchmark's shared memory, laid out as a UintrIpc region
 * (interop/include/uintripc.h §1): header, part table, then
 *   USER tag 0         the bench control block (struct bench_ctl)
 *   USER tag 1         two cache lines (128 bytes apart) for the spin ping-pongs, then
 *                      from +4 KiB the 1,024 lines of the rotating one
 *   SPSC_SLOTS tag 0   requests, parent -> child (SPSC_RECORDS for the record-ring tests)
 *   SPSC_SLOTS tag 1   responses, child -> parent (a small ring in the throughput tests)
 *   WAIT_BLOCK tag 0   wake-up protocol of the requests' consumer (the child)
 *   WAIT_BLOCK tag 1   wake-up protocol of the responses' consumer (the parent)
 * or, for the duplex test, one DUPLEX_SLOTS part (§2h) in place of the two SPSC_SLOTS parts:
 * requests in ring 0, responses in ring 1, slot k of both in one line.
 * A memfd, so that a re-executed peer (--exec) can map it by inheriting the fd.
 */
#include "bench.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

_Static_assert(offsetof(struct bench_ctl, child_ready) == 256, "child-written fields on their own lines");
_Static_assert(sizeof(struct bench_ctl) <= 1024, "control block fits its part");

#define CTL_PART_SIZE  1024u
#define LINE_PART_SIZE (SPIN_ROTATE_OFFSET + SPIN_ROTATE_LINES * 64u)

static uint64_t align_up(uint64_t v, uint64_t a)
{
    return (v + a - 1) & ~(a - 1);
}

static uint32_t slot_size_of(uint32_t element_size)
{
    return (uint32_t)align_up(UIPC_SLOT_HEADER_SIZE + (uint64_t)element_size, 8);
}

/* Slot layout prototype (slotlay; bench.h SLOT_LAYOUT_*): every SPSC slot ring gets this build's
 * layout, recorded in its descriptor's reserved[0]; a duplex part keeps its own (2h). */
static const uint32_t build_layout = BENCH_SLOT_LAYOUT;

static uint64_t pitch_of(uint32_t layout, uint32_t element_size)
{
    switch (layout) {
    case SLOT_LAYOUT_PITCH128: return align_up(slot_size_of(element_size), 128);
    case SLOT_LAYOUT_SEQ_AFTER: return align_up(element_size, 64) + 64;
    case SLOT_LAYOUT_SEQ_LANE: return align_up(element_size, 8);
    default: return slot_size_of(element_size);
    }
}

static uint64_t layout_data_length(uint32_t layout, uint32_t element_size, uint64_t capacity)
{
    return capacity * pitch_of(layout, element_size) + (layout == SLOT_LAYOUT_SEQ_LANE ? capacity * UIPC_SLOT_HEADER_SIZE : 0);
}

static uint64_t data_length_of(uint32_t kind, uint32_t element_size, uint64_t capacity)
{
    return part_is_records(kind) ? capacity : capacity * slot_size_of(element_size); /* SPSC or MPSC slots */
}

/* MPSC rings carry a producer table (uintripc.h 2a, 2f) of one entry per producer process. */
static uint64_t producer_table_offset_of(uint32_t kind, uint32_t element_size, uint64_t capacity)
{
    return part_is_mpsc(kind) ? align_up(UIPC_RING_CONTROL_SIZE + data_length_of(kind, element_size, capacity), 128) : 0;
}

static uint64_t ring_length_of(uint32_t kind, uint32_t element_size, uint64_t capacity)
{
    uint64_t end = part_is_mpsc(kind)
        ? producer_table_offset_of(kind, element_size, capacity) + (uint64_t)BENCH_MAX_PRODUCERS * UIPC_PRODUCER_ENTRY_SIZE
        : UIPC_RING_CONTROL_SIZE + data_length_of(kind, element_size, capacity);
    return align_up(end, UIPC_PART_ALIGNMENT);
}

/* Duplex part (§2h): two control blocks, then capacity lines of pitch bytes. */
static uint64_t duplex_pitch_of(uint32_t element_size)
{
    return align_up(2 * (uint64_t)slot_size_of(element_size), UIPC_DUPLEX_PITCH_ALIGNMENT);
}

static void init_duplex(uint8_t *part, uint32_t element_size, uint64_t capacity)
{
    uint32_t slot = slot_size_of(element_size);
    uint64_t pitch = duplex_pitch_of(element_size);
    for (int k = 0; k < 2; k++) {
        struct uipc_ring_descriptor *d = &((struct uipc_ring_control *)(part + k * UIPC_RING_CONTROL_SIZE))->descriptor;
        d->ring_kind = UIPC_PART_DUPLEX_SLOTS;
        d->slot_size = slot;
        d->capacity = capacity;
        d->element_size = element_size;
        d->max_message_length = element_size;
        d->slot_pitch = (uint32_t)pitch;
        /* From this ring's control block to its slot 0: ring 1's slots follow ring 0's in each line. */
        d->data_offset = k == 0 ? UIPC_DUPLEX_CONTROL_SIZE : UIPC_RING_CONTROL_SIZE + slot;
        d->data_length = (capacity - 1) * pitch + slot;
    }
}

/* Slot ring: capacity slots of element_size; record ring: capacity bytes, records of at
 * most element_size payload bytes. */
static void init_ring(struct uipc_ring_control *rc, uint32_t kind, uint32_t element_size, uint64_t capacity, uint32_t layout)
{
    struct uipc_ring_descriptor *d = &rc->descriptor;
    d->ring_kind = kind;
    d->slot_size = part_is_records(kind) ? 0 : slot_size_of(element_size);
    d->capacity = capacity;
    d->element_size = part_is_records(kind) ? 0 : element_size;
    d->max_message_length = element_size;
    d->data_offset = UIPC_RING_CONTROL_SIZE;
    d->data_length = data_length_of(kind, element_size, capacity);
    d->producer_slots = part_is_mpsc(kind) ? BENCH_MAX_PRODUCERS : 0;
    d->producer_table_offset = producer_table_offset_of(kind, element_size, capacity);
    if (layout != SLOT_LAYOUT_72) {
        d->reserved[0] = (uint8_t)layout;
        d->slot_pitch = (uint32_t)pitch_of(layout, element_size);
        d->data_length = layout_data_length(layout, element_size, capacity);
    }
    /* tail, head and every slot sequence / record header start at 0: the region is zero-filled. */
}

int region_create(struct bench_region *r, uint32_t kind, uint32_t element_size, uint64_t capacity, uint64_t capacity1)
{
    memset(r, 0, sizeof *r);
    r->fd = -1;
    if (capacity == 0 || (capacity & (capacity - 1)) != 0 || capacity1 == 0 || (capacity1 & (capacity1 - 1)) != 0) {
        fprintf(stderr, "capacity %llu or %llu is not a power of two\n", (unsigned long long)capacity, (unsigned long long)capacity1);
        return -1;
    }
    if (part_is_records(kind) && (uint64_t)element_size * 8 > capacity) {
        fprintf(stderr, "record ring of %llu bytes for messages of %u bytes: max_message_length <= capacity / 8\n",
                (unsigned long long)capacity, element_size);
        return -1;
    }
    int duplex = kind == UIPC_PART_DUPLEX_SLOTS;
    if (duplex && capacity1 != capacity) {
        fprintf(stderr, "a duplex part has one capacity for both rings\n");
        return -1;
    }
    uint64_t ring_len = duplex ? UIPC_DUPLEX_CONTROL_SIZE + capacity * duplex_pitch_of(element_size) : ring_length_of(kind, element_size, capacity);
    if (kind == UIPC_PART_SPSC_SLOTS && build_layout != SLOT_LAYOUT_72)
        ring_len = align_up(UIPC_RING_CONTROL_SIZE + layout_data_length(build_layout, element_size, capacity), UIPC_PART_ALIGNMENT);
    /* The responses ring carries elements of the requests ring's size (init_ring below), 8 bytes beside a record ring. */
    uint32_t es1 = part_is_records(kind) ? 8 : element_size;
    uint64_t ring1_len = build_layout != SLOT_LAYOUT_72
        ? align_up(UIPC_RING_CONTROL_SIZE + layout_data_length(build_layout, es1, capacity1), UIPC_PART_ALIGNMENT)
        : ring_length_of(UIPC_PART_SPSC_SLOTS, es1, capacity1);
    struct { uint32_t kind, tag; uint64_t len; } parts[] = {
        { UIPC_PART_USER, PART_TAG_CTL, CTL_PART_SIZE },
        { UIPC_PART_USER, PART_TAG_LINE, LINE_PART_SIZE },
        { UIPC_PART_WAIT_BLOCK, RING_REQUESTS, UIPC_WAIT_BLOCK_SIZE },
        { UIPC_PART_WAIT_BLOCK, RING_RESPONSES, UIPC_WAIT_BLOCK_SIZE },
        { kind, RING_REQUESTS, ring_len },
        { UIPC_PART_SPSC_SLOTS, RING_RESPONSES, ring1_len }, /* left out of a duplex region */
    };
    const unsigned NPARTS = duplex ? 5 : 6;
    uint64_t offsets[6], off = UIPC_REGION_HEADER_SIZE;
    for (unsigned i = 0; i < NPARTS; i++) {
        /* Rings start on a page so that slot lines never straddle a neighbour part. */
        off = align_up(off, parts[i].kind == UIPC_PART_SPSC_SLOTS || part_is_mpsc(parts[i].kind)
                                || part_is_records(parts[i].kind) || duplex ? 4096 : UIPC_PART_ALIGNMENT);
        offsets[i] = off;
        off += parts[i].len;
    }
    uint64_t total = align_up(off, 4096);

    /* No MFD_CLOEXEC: a re-executed peer inherits the fd. */
    r->fd = memfd_create("uintripc-native-bench", 0);
    if (r->fd < 0 || ftruncate(r->fd, (off_t)total) != 0) {
        perror("memfd_create/ftruncate");
        region_destroy(r);
        return -1;
    }
    r->base = mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_SHARED, r->fd, 0);
    if (r->base == MAP_FAILED) {
        perror("mmap");
        r->base = NULL;
        region_destroy(r);
        return -1;
    }
    r->size = total;

    struct uipc_region_header *h = (struct uipc_region_header *)r->base;
    h->layout_version = UIPC_LAYOUT_VERSION;
    h->header_size = UIPC_REGION_HEADER_SIZE;
    h->region_kind = 0;
    h->part_count = NPARTS;
    h->total_size = total;
    h->epoch = ((uint64_t)getpid() << 32) ^ __rdtsc() ^ 1; /* non-zero is all the bench needs */
    h->creator_pid = getpid();
    h->state = UIPC_STATE_READY;
    for (unsigned i = 0; i < NPARTS; i++) {
        h->parts[i].kind = parts[i].kind;
        h->parts[i].tag = parts[i].tag;
        h->parts[i].offset = offsets[i];
        h->parts[i].length = parts[i].len;
    }
    r->ctl = (struct bench_ctl *)(r->base + offsets[0]);
    r->line = (uint64_t *)(r->base + offsets[1]);
    for (int k = 0; k < 2; k++) {
        r->ring[k] = (struct uipc_ring_control *)(r->base + (duplex ? offsets[4] + k * UIPC_RING_CONTROL_SIZE : offsets[4 + k]));
        r->wait[k] = (struct uipc_wait_block *)(r->base + offsets[2 + k]);
        r->wait[k]->channel_state = UIPC_STATE_READY;
    }
    if (duplex) {
        init_duplex(r->base + offsets[4], element_size, capacity);
    } else {
        init_ring(r->ring[0], kind, element_size, capacity, kind == UIPC_PART_SPSC_SLOTS ? build_layout : SLOT_LAYOUT_72);
        init_ring(r->ring[1], UIPC_PART_SPSC_SLOTS, es1, capacity1, build_layout);
    }
    /* Magic last, release: an attacher that sees it sees every field above. */
    __atomic_store_n(&h->magic, UIPC_REGION_MAGIC, __ATOMIC_RELEASE);
    return 0;
}

#define FAIL(...) do { snprintf(err, errlen, __VA_ARGS__); return -1; } while (0)

static int check_ring(const struct uipc_ring_control *rc, uint32_t kind, uint64_t part_len, char *err, size_t errlen)
{
    const struct uipc_ring_descriptor *d = &rc->descriptor;
    uint64_t cap = d->capacity;
    if (d->ring_kind != kind)
        FAIL("ring kind %u is not the part kind %u", d->ring_kind, kind);
    if (cap == 0 || (cap & (cap - 1)) != 0 || cap > (1ull << 32))
        FAIL("ring capacity %llu is not a power of two <= 2^32", (unsigned long long)cap);
    if (part_is_records(kind)) {
        if (d->slot_size != 0 || d->max_message_length > cap / 8)
            FAIL("record ring: slot size %u, max message %u of %llu bytes", d->slot_size, d->max_message_length, (unsigned long long)cap);
    } else if (d->element_size > (1u << 20) || d->slot_size != slot_size_of(d->element_size)) {
        FAIL("slot size %u does not match element size %u", d->slot_size, d->element_size);
    }
    uint32_t layout = d->reserved[0];
    if (layout != (kind == UIPC_PART_SPSC_SLOTS ? build_layout : SLOT_LAYOUT_72))
        FAIL("slot layout %u of a ring of kind %u", layout, kind);
    if (layout != SLOT_LAYOUT_72 ? d->slot_pitch != pitch_of(layout, d->element_size) : d->slot_pitch != 0 && d->slot_pitch != d->slot_size)
        FAIL("slot pitch %u of a ring with %u-byte slots", d->slot_pitch, d->slot_size);
    if (d->data_offset != UIPC_RING_CONTROL_SIZE
        || d->data_length != (layout != SLOT_LAYOUT_72 ? layout_data_length(layout, d->element_size, cap) : data_length_of(kind, d->max_message_length, cap))
        || d->data_offset + d->data_length > part_len)
        FAIL("ring data area (%llu at %llu, layout %u) does not fit its part of %llu", (unsigned long long)d->data_length, (unsigned long long)d->data_offset, layout, (unsigned long long)part_len);
    if (part_is_mpsc(kind)
            ? d->producer_slots < 1 || d->producer_slots > UIPC_MAX_PRODUCER_SLOTS
              || d->producer_table_offset != align_up(d->data_offset + d->data_length, 128)
              || d->producer_table_offset + (uint64_t)d->producer_slots * UIPC_PRODUCER_ENTRY_SIZE > part_len
            : d->producer_slots != 0 || d->producer_table_offset != 0)
        FAIL("ring producer table (%u entries at %llu) does not fit its part", d->producer_slots, (unsigned long long)d->producer_table_offset);
    return 0;
}

/* The attach checks of a duplex part (§2h), both rings. */
static int check_duplex(const uint8_t *part, uint64_t part_len, char *err, size_t errlen)
{
    if (part_len < UIPC_DUPLEX_CONTROL_SIZE)
        FAIL("duplex part of %llu bytes", (unsigned long long)part_len);
    const struct uipc_ring_descriptor *d[2];
    for (int k = 0; k < 2; k++)
        d[k] = &((const struct uipc_ring_control *)(part + k * UIPC_RING_CONTROL_SIZE))->descriptor;
    uint64_t cap = d[0]->capacity;
    if (cap < 2 || (cap & (cap - 1)) != 0 || cap > (1ull << 30) || d[1]->capacity != cap)
        FAIL("duplex capacities %llu/%llu", (unsigned long long)cap, (unsigned long long)d[1]->capacity);
    for (int k = 0; k < 2; k++)
        if (d[k]->ring_kind != UIPC_PART_DUPLEX_SLOTS || d[k]->element_size == 0 || d[k]->element_size > (1u << 20)
            || d[k]->slot_size != slot_size_of(d[k]->element_size) || d[k]->producer_slots != 0 || d[k]->producer_table_offset != 0)
            FAIL("duplex ring %d: kind %u, slot size %u of element %u", k, d[k]->ring_kind, d[k]->slot_size, d[k]->element_size);
    uint64_t pitch = align_up((uint64_t)d[0]->slot_size + d[1]->slot_size, UIPC_DUPLEX_PITCH_ALIGNMENT);
    if (d[0]->slot_pitch != pitch || d[1]->slot_pitch != pitch || UIPC_DUPLEX_CONTROL_SIZE + cap * pitch > part_len)
        FAIL("duplex pitch %u/%u, expected %llu within the part", d[0]->slot_pitch, d[1]->slot_pitch, (unsigned long long)pitch);
    if (d[0]->data_offset != UIPC_DUPLEX_CONTROL_SIZE || d[1]->data_offset != UIPC_RING_CONTROL_SIZE + d[0]->slot_size)
        FAIL("duplex data offsets %llu/%llu", (unsigned long long)d[0]->data_offset, (unsigned long long)d[1]->data_offset);
    for (int k = 0; k < 2; k++)
        if (d[k]->data_length != (cap - 1) * pitch + d[k]->slot_size)
            FAIL("duplex ring %d data length %llu", k, (unsigned long long)d[k]->data_length);
    return 0;
}

/* Attaches to the region of `fd`: validates the header, every part's bounds and every ring
 * descriptor. harness = 0: this program's own layout (every part required); harness = 1: a .NET
 * harness region (bench/UintrIpc.Bench BenchRegions: its control part, USER tag 0, in r->user0;
 * ring tag 0 required). */
static int attach(struct bench_region *r, int fd, int harness, char *err, size_t errlen)
{
    memset(r, 0, sizeof *r);
    r->fd = fd;
    struct stat st;
    if (fstat(fd, &st) != 0 || st.st_size < (off_t)UIPC_REGION_HEADER_SIZE)
        FAIL("fd %d is not a region (fstat: %s)", fd, strerror(errno));
    r->size = (size_t)st.st_size;
    r->base = mmap(NULL, r->size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (r->base == MAP_FAILED) {
        r->base = NULL;
        FAIL("mmap: %s", strerror(errno));
    }
    const struct uipc_region_header *h = (const struct uipc_region_header *)r->base;
    /* Acquire pairs with the creator's release of the magic. The creator finished before
     * the fork, so no waiting is needed here. */
    if (__atomic_load_n(&h->magic, __ATOMIC_ACQUIRE) != UIPC_REGION_MAGIC)
        FAIL("bad magic");
    if (h->layout_version != UIPC_LAYOUT_VERSION || h->header_size != UIPC_REGION_HEADER_SIZE)
        FAIL("layout version %u / header size %u not supported", h->layout_version, h->header_size);
    if (h->total_size != r->size || h->part_count > UIPC_MAX_PARTS)
        FAIL("total size %llu / part count %u invalid", (unsigned long long)h->total_size, h->part_count);
    for (uint32_t i = 0; i < h->part_count; i++) {
        const struct uipc_part *p = &h->parts[i];
        if (p->offset % UIPC_PART_ALIGNMENT != 0 || p->offset < UIPC_REGION_HEADER_SIZE
            || p->length > r->size || p->offset > r->size - p->length)
            FAIL("part %u out of bounds", i);
        for (uint32_t j = 0; j < i; j++) {
            const struct uipc_part *q = &h->parts[j];
            if (p->offset < q->offset + q->length && q->offset < p->offset + p->length)
                FAIL("parts %u and %u overlap", j, i);
        }
        uint8_t *at = r->base + p->offset;
        if (harness && p->kind == UIPC_PART_USER && p->tag == 0 && p->length >= HARNESS_CONTROL_SIZE)
            r->user0 = at;
        else if (harness && p->kind == UIPC_PART_USER)
            continue;
        else if (p->kind == UIPC_PART_USER && p->tag == PART_TAG_CTL && p->length >= sizeof(struct bench_ctl))
            r->ctl = (struct bench_ctl *)at;
        else if (p->kind == UIPC_PART_USER && p->tag == PART_TAG_LINE && p->length >= LINE_PART_SIZE)
            r->line = (uint64_t *)at;
        else if ((p->kind == UIPC_PART_SPSC_SLOTS || part_is_mpsc(p->kind) || part_is_records(p->kind)) && p->tag < 2
                 && p->length >= UIPC_RING_CONTROL_SIZE) {
            r->ring[p->tag] = (struct uipc_ring_control *)at;
            if (check_ring(r->ring[p->tag], p->kind, p->length, err, errlen) != 0)
                return -1;
        } else if (p->kind == UIPC_PART_DUPLEX_SLOTS && p->tag == 0) {
            if (check_duplex(at, p->length, err, errlen) != 0)
                return -1;
            r->ring[0] = (struct uipc_ring_control *)at;
            r->ring[1] = (struct uipc_ring_control *)(at + UIPC_RING_CONTROL_SIZE);
        } else if (p->kind == UIPC_PART_WAIT_BLOCK && p->tag < 2 && p->length >= UIPC_WAIT_BLOCK_SIZE)
            r->wait[p->tag] = (struct uipc_wait_block *)at;
    }
    if (harness ? !r->user0 || !r->ring[0] : !r->ctl || !r->line || !r->ring[0] || !r->ring[1] || !r->wait[0] || !r->wait[1])
        FAIL("a part is missing");
    return 0;
}

int region_attach(struct bench_region *r, int fd, char *err, size_t errlen)
{
    return attach(r, fd, 0, err, errlen);
}

int region_attach_harness(struct bench_region *r, int fd, char *err, size_t errlen)
{
    return attach(r, fd, 1, err, errlen);
}

/* Maps every page of the region into this process now (a read of one byte per page), so
 * that page faults of large rings do not land in the measured part. The .NET harness does
 * the same on both sides. */
void region_prefault(const struct bench_region *r)
{
    uint64_t sum = 0;
    for (size_t off = 0; off < r->size; off += 4096)
        sum += __atomic_load_n(r->base + off, __ATOMIC_RELAXED);
    __asm__ volatile("" : : "r"(sum));
}

void region_destroy(struct bench_region *r)
{
    if (r->base)
        munmap(r->base, r->size);
    if (r->fd >= 0)
        close(r->fd);
    r->base = NULL;
    r->fd = -1;
}
