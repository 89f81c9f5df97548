/*
 * echo_peer.c: a UintrIpc peer written in plain C against interop/include/uintripc.h only
 * (no shim, no C# runtime), to prove that the header is a usable contract.
 *
 *   uintripc-echo-peer <shm-name> <count> [timeout-ms]
 *
 * Opens the named region /dev/shm/<shm-name>, validates its header as the library does
 * (SharedRegion.cs), finds two SPSC slot rings of 16-byte elements (tag 0: requests, tag 1:
 * replies), and for <count> messages reads {sequence, value} from ring 0 and writes
 * {sequence, value * 2 + 1} to ring 1, following §2 of the header exactly: we are the only
 * consumer of ring 0 and the only producer of ring 1.
 *
 * Exit codes: 0 done; 1 usage or system error; 2 invalid region or ring (the message names
 * the field); 3 the other side made no progress for <timeout-ms> (default 30000).
 * Nothing read from the region is trusted: every offset, length and position is checked
 * before it is used.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "uintripc.h"

#define EXIT_SYSTEM  1
#define EXIT_INVALID 2
#define EXIT_TIMEOUT 3

/* The element both sides agree on (C#: EchoMessage in CPeerEchoTests.cs). */
struct echo_msg {
    uint64_t sequence;
    int64_t  value;
};
UIPC_STATIC_ASSERT(sizeof(struct echo_msg) == 16, "16-byte element");

/* One SPSC slot ring as seen from one side. `own` is our position (head when we consume,
 * tail when we produce), kept locally because nobody else writes it; `other` caches the
 * peer's position (producer side only). */
struct ring {
    uint8_t  *data;
    uint64_t *tail;
    uint64_t *head;
    uint64_t  capacity;
    uint32_t  slot_size;
    uint64_t  own;
    uint64_t  other;
};

static const char *s_prog = "uintripc-echo-peer";

static void die(int code, const char *fmt, ...) __attribute__((noreturn, format(printf, 2, 3)));
static void die(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: ", s_prog);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(code);
}

#define INVALID(field, expected_fmt, ...) \
    die(EXIT_INVALID, "invalid region: %s should be " expected_fmt, field, __VA_ARGS__)

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Backoff while the other side has not moved: spin briefly, then yield the CPU (on a
 * 2-core machine the other side may need ours). Returns 0 once the deadline passed. */
static int keep_waiting(unsigned *spins, int64_t deadline)
{
    if (++*spins < 64)
        return 1;
    sched_yield();
    return (*spins & 255) != 0 || now_ms() < deadline;
}

static uint64_t file_size(int fd)
{
    struct stat st;
    if (fstat(fd, &st) != 0)
        die(EXIT_SYSTEM, "fstat: %s", strerror(errno));
    return (uint64_t)st.st_size;
}

/* Opens and maps the region, waiting (bounded) for the creator to size and publish it,
 * then validates the header and the part table. */
static const struct uipc_region_header *open_region(const char *name, int64_t timeout_ms, uint64_t *size_out)
{
    char path[512];
    if (strchr(name, '/') || snprintf(path, sizeof path, "/dev/shm/%s", name) >= (int)sizeof path)
        die(EXIT_SYSTEM, "'%s' is not a valid region name", name);
    int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0)
        die(EXIT_SYSTEM, "open %s: %s%s", path, strerror(errno), errno == ENOENT ? " (has the creator started?)" : "");

    int64_t deadline = now_ms() + timeout_ms;
    uint64_t size;
    unsigned spins = 0;
    while ((size = file_size(fd)) < UIPC_REGION_HEADER_SIZE) {
        if (!keep_waiting(&spins, deadline))
            INVALID("file size", ">= %u bytes", UIPC_REGION_HEADER_SIZE);
    }

    void *map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (map == MAP_FAILED)
        die(EXIT_SYSTEM, "mmap of %" PRIu64 " bytes: %s", size, strerror(errno));
    close(fd); /* the mapping keeps the file alive */
    const struct uipc_region_header *h = map;

    /* Acquire: pairs with the creator's release store of the magic, which it writes last;
     * every other header field and every part is visible once we see it. */
    uint32_t magic;
    spins = 0;
    while ((magic = __atomic_load_n(&h->magic, __ATOMIC_ACQUIRE)) != UIPC_REGION_MAGIC) {
        if (magic != 0)
            INVALID("magic", "0x%08x but is 0x%08x (not a UintrIpc region)", UIPC_REGION_MAGIC, magic);
        if (!keep_waiting(&spins, deadline))
            INVALID("magic", "0x%08x but is 0 (the creator did not publish within %" PRId64 " ms)", UIPC_REGION_MAGIC, timeout_ms);
    }

    /* The header is immutable after publication (except `state`): plain loads. */
    if (h->layout_version != UIPC_LAYOUT_VERSION)
        INVALID("layout_version", "%u but is %u", UIPC_LAYOUT_VERSION, h->layout_version);
    if (h->header_size != UIPC_REGION_HEADER_SIZE)
        INVALID("header_size", "%u but is %u", UIPC_REGION_HEADER_SIZE, h->header_size);
    if (h->total_size != size)
        INVALID("total_size", "%" PRIu64 " (the file size) but is %" PRIu64, size, h->total_size);
    if (h->part_count > UIPC_MAX_PARTS)
        INVALID("part_count", "<= %u but is %u", UIPC_MAX_PARTS, h->part_count);
    if (h->epoch == 0)
        INVALID("epoch", "non-zero but is %d", 0);

    uint64_t lowest = UIPC_REGION_HEADER_SIZE;
    for (uint32_t i = 0; i < h->part_count; i++) {
        const struct uipc_part *p = &h->parts[i];
        char field[32];
        snprintf(field, sizeof field, "parts[%u].offset", i);
        if (p->offset % UIPC_PART_ALIGNMENT != 0)
            INVALID(field, "a multiple of %u but is %" PRIu64, UIPC_PART_ALIGNMENT, p->offset);
        if (p->offset < lowest || p->offset > size)
            INVALID(field, "between %" PRIu64 " and %" PRIu64 " but is %" PRIu64, lowest, size, p->offset);
        if (p->length > size - p->offset) {
            snprintf(field, sizeof field, "parts[%u].length", i);
            INVALID(field, "<= %" PRIu64 " but is %" PRIu64, size - p->offset, p->length);
        }
        lowest = p->offset + p->length;
    }

    *size_out = size;
    return h;
}

/* Finds the SPSC slot ring with `tag` and validates its descriptor for 16-byte elements;
 * `consumer` says which side of it we are. */
static struct ring find_ring(const struct uipc_region_header *h, uint32_t tag, int consumer)
{
    const struct uipc_part *part = NULL;
    for (uint32_t i = 0; i < h->part_count && part == NULL; i++) {
        if (h->parts[i].kind == UIPC_PART_SPSC_SLOTS && h->parts[i].tag == tag)
            part = &h->parts[i];
    }
    if (part == NULL)
        die(EXIT_INVALID, "invalid region: no SPSC slot ring (part kind %d) with tag %u", UIPC_PART_SPSC_SLOTS, tag);
    if (part->length < UIPC_RING_CONTROL_SIZE)
        INVALID("ring part length", ">= %u but is %" PRIu64, UIPC_RING_CONTROL_SIZE, part->length);

    uint8_t *base = (uint8_t *)h + part->offset;
    struct uipc_ring_control *c = (struct uipc_ring_control *)base;
    const struct uipc_ring_descriptor *d = &c->descriptor; /* immutable: plain loads */
    uint32_t slot_size = (UIPC_SLOT_HEADER_SIZE + sizeof(struct echo_msg) + 7) & ~7u;
    if (d->ring_kind != UIPC_PART_SPSC_SLOTS)
        INVALID("ring_kind", "%d but is %u", UIPC_PART_SPSC_SLOTS, d->ring_kind);
    if (d->capacity < 2 || d->capacity > (1ull << 30) || (d->capacity & (d->capacity - 1)) != 0)
        INVALID("capacity", "a power of two between 2 and 2^30 but is %" PRIu64, d->capacity);
    if (d->max_message_length != d->element_size)
        INVALID("max_message_length", "%u (the element size) but is %u", d->element_size, d->max_message_length);
    if (d->element_size != sizeof(struct echo_msg))
        INVALID("element_size", "%zu but is %u", sizeof(struct echo_msg), d->element_size);
    if (d->slot_size != slot_size)
        INVALID("slot_size", "%u but is %u", slot_size, d->slot_size);
    if (d->data_offset != UIPC_RING_CONTROL_SIZE)
        INVALID("data_offset", "%u but is %" PRIu64, UIPC_RING_CONTROL_SIZE, d->data_offset);
    if (d->data_length != d->capacity * slot_size || d->data_length > part->length - UIPC_RING_CONTROL_SIZE)
        INVALID("data_length", "%" PRIu64 " (capacity x slot size, inside the part of %" PRIu64 " bytes) but is %" PRIu64,
                d->capacity * slot_size, part->length, d->data_length);

    struct ring r = {
        .data = base + UIPC_RING_CONTROL_SIZE,
        .tail = &c->tail,
        .head = &c->head,
        .capacity = d->capacity,
        .slot_size = slot_size,
    };
    /* Both positions once, to start where the ring is and to check its invariant (§2b; the
     * other side is not running yet, so one read of each is exact). From here on each side
     * keeps its own position privately and only publishes it (§2c). */
    uint64_t head = __atomic_load_n(r.head, __ATOMIC_ACQUIRE);
    uint64_t tail = __atomic_load_n(r.tail, __ATOMIC_ACQUIRE);
    if (head >= UIPC_MAX_POSITION || tail >= UIPC_MAX_POSITION)
        die(EXIT_INVALID, "invalid ring %u: position %" PRIu64 " is not below UIPC_MAX_POSITION", tag, head > tail ? head : tail);
    if (head > tail || tail - head > r.capacity)
        die(EXIT_INVALID, "invalid ring %u: head %" PRIu64 " and tail %" PRIu64 " break head <= tail <= head + capacity",
            tag, head, tail);
    r.own = consumer ? head : tail;
    r.other = consumer ? tail : head;
    return r;
}

static uint64_t *slot_sequence(const struct ring *r, uint64_t position)
{
    /* capacity is a validated power of two, so the index is inside the data area. */
    return (uint64_t *)(r->data + (position & (r->capacity - 1)) * r->slot_size);
}

/* Consumer side of §2d: poll the sequence of the slot we read next. */
static struct echo_msg consume(struct ring *r, int64_t timeout_ms)
{
    uint64_t head = r->own;
    uint64_t *seq = slot_sequence(r, head);
    int64_t deadline = now_ms() + timeout_ms;
    unsigned spins = 0;
    for (;;) {
        /* Acquire: pairs with the producer's release store of the sequence, which follows its
         * plain writes of the element. */
        uint64_t s = __atomic_load_n(seq, __ATOMIC_ACQUIRE);
        if (s == head + 1)
            break;
        /* "Not yet": the slot is still empty (first lap) or holds the previous lap's element. */
        int not_yet = head < r->capacity ? s == 0 : s == head + 1 - r->capacity;
        if (!not_yet)
            die(EXIT_INVALID, "invalid ring 0: slot sequence %" PRIu64 " at position %" PRIu64 " (expected %" PRIu64 " or the previous lap's)",
                s, head, head + 1);
        if (!keep_waiting(&spins, deadline))
            die(EXIT_TIMEOUT, "no message at position %" PRIu64 " of ring 0 within %" PRId64 " ms", head, timeout_ms);
    }

    struct echo_msg m;
    memcpy(&m, (uint8_t *)seq + UIPC_SLOT_HEADER_SIZE, sizeof m); /* plain: ordered by the acquire above */
    r->own = head + 1;
    /* Release: our read of the element happens before the producer may reuse the slot. */
    __atomic_store_n(r->head, r->own, __ATOMIC_RELEASE);
    return m;
}

/* Producer side of §2d (SPSC); the head read is checked against our own tail (§2c). */
static void produce(struct ring *r, const struct echo_msg *m, int64_t timeout_ms)
{
    uint64_t tail = r->own;
    int64_t deadline = now_ms() + timeout_ms;
    unsigned spins = 0;
    while (tail - r->other >= r->capacity) {
        /* Acquire: pairs with the consumer's release of head; its reads of the slot we are
         * about to overwrite are done. */
        uint64_t head = __atomic_load_n(r->head, __ATOMIC_ACQUIRE);
        if (head < r->other || head > tail)
            die(EXIT_INVALID, "invalid ring 1: head moved from %" PRIu64 " to %" PRIu64 " with tail %" PRIu64, r->other, head, tail);
        r->other = head;
        if (tail - head < r->capacity)
            break;
        if (!keep_waiting(&spins, deadline))
            die(EXIT_TIMEOUT, "ring 1 stayed full (head %" PRIu64 ", tail %" PRIu64 ") for %" PRId64 " ms", head, tail, timeout_ms);
    }

    uint64_t *seq = slot_sequence(r, tail);
    memcpy((uint8_t *)seq + UIPC_SLOT_HEADER_SIZE, m, sizeof *m); /* plain: published below */
    /* Release: the element is visible before the sequence that announces it. */
    __atomic_store_n(seq, tail + 1, __ATOMIC_RELEASE);
    r->own = tail + 1;
    /* Release: the position follows the published slot. */
    __atomic_store_n(r->tail, r->own, __ATOMIC_RELEASE);
}

int main(int argc, char **argv)
{
    if (argc < 3 || argc > 4) {
        fprintf(stderr, "usage: %s <shm-name> <count> [timeout-ms]\n", s_prog);
        return EXIT_SYSTEM;
    }
    char *end;
    errno = 0;
    unsigned long long count = strtoull(argv[2], &end, 10);
    if (errno != 0 || *end != '\0')
        die(EXIT_SYSTEM, "count '%s' is not a number", argv[2]);
    long long timeout_ms = 30000;
    if (argc == 4) {
        timeout_ms = strtoll(argv[3], &end, 10);
        if (errno != 0 || *end != '\0' || timeout_ms <= 0)
            die(EXIT_SYSTEM, "timeout '%s' is not a positive number of milliseconds", argv[3]);
    }

    uint64_t size;
    const struct uipc_region_header *h = open_region(argv[1], timeout_ms, &size);
    struct ring requests = find_ring(h, 0, 1);
    struct ring replies = find_ring(h, 1, 0);
    printf("attached epoch %016" PRIx64 " size %" PRIu64 " capacities %" PRIu64 "/%" PRIu64 "\n",
           h->epoch, size, requests.capacity, replies.capacity);
    fflush(stdout);

    for (unsigned long long i = 0; i < count; i++) {
        struct echo_msg m = consume(&requests, timeout_ms);
        m.value = (int64_t)((uint64_t)m.value * 2 + 1); /* wraps like C# unchecked arithmetic */
        produce(&replies, &m, timeout_ms);
    }

    printf("echoed %llu\n", count);
    return 0;
}
