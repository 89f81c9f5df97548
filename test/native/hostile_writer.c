/*
 * hostile_writer.c — a peer that lies. It maps a live UintrIpc region (by path: a file under
 * /dev/shm, or /proc/<pid>/fd/<n> for a memfd) and writes bad values into the words a peer
 * can write: ring positions, slot sequence words, record headers, the ring descriptor, the
 * wait block (forging the consumer's pid and tid), the region header; or truncates the
 * file; or scribbles at random. Written only against interop/include/uintripc.h, like any
 * C peer; test/UintrIpc.Tests/Trust/HostileWriterTests.cs runs it against a .NET victim.
 *
 * usage: uintripc-hostile <path> <attack> [args...]
 *   tail <value> | head <value>            store a ring position (first ring part)
 *   tail-add <delta> | head-add <delta>    move a ring position by a signed delta
 *   seq <k> <value>                        slot rings: sequence word of the slot of head + k
 *   record <k> <length> <type>             record rings: header at byte head + k (mod capacity)
 *   capacity <value>                       the ring descriptor's capacity
 *   wait <pid> <tid> <millis>              forge consumer_pid/tid and consumer_state = SLEEPING,
 *                                          re-written every 50 us for <millis> ms
 *   header <magic|total_size|part_count|part0_offset|part0_length|state> <value>
 *   truncate <size>                        ftruncate the file
 *   scribble <seed> <millis>               random bad values in all of the above (no truncation)
 * Values are decimal or 0x-hex. Exit: 0 done, 1 usage, 2 cannot open or map, 3 not a region
 * with the part the attack needs, 4 the kernel refused the attack (errno printed).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "uintripc.h"

static uint8_t *base;
static size_t mapped;

static uint64_t parse(const char *s) { return strtoull(s, NULL, 0); }

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The part of one of the given kinds with the lowest index, or NULL. Bounds come from the
 * header, which the victim created: we are the liar here, not the one lied to, but we still
 * never map or touch past the file. */
static struct uipc_part *find_part(uint32_t kind_lo, uint32_t kind_hi)
{
    struct uipc_region_header *h = (struct uipc_region_header *)base;
    uint32_t n = h->part_count < UIPC_MAX_PARTS ? h->part_count : UIPC_MAX_PARTS;
    for (uint32_t i = 0; i < n; i++) {
        struct uipc_part *p = &h->parts[i];
        if (p->kind >= kind_lo && p->kind <= kind_hi && p->offset + p->length <= mapped)
            return p;
    }
    return NULL;
}

static struct uipc_ring_control *ring(struct uipc_part **part)
{
    struct uipc_part *p = find_part(UIPC_PART_SPSC_SLOTS, UIPC_PART_MPSC_RECORDS);
    if (p == NULL || p->length < UIPC_RING_CONTROL_SIZE) {
        fprintf(stderr, "no ring part\n");
        exit(3);
    }
    if (part != NULL)
        *part = p;
    return (struct uipc_ring_control *)(base + p->offset);
}

static struct uipc_wait_block *wait_block(void)
{
    struct uipc_part *p = find_part(UIPC_PART_WAIT_BLOCK, UIPC_PART_WAIT_BLOCK);
    if (p == NULL || p->length < UIPC_WAIT_BLOCK_SIZE) {
        fprintf(stderr, "no wait block\n");
        exit(3);
    }
    return (struct uipc_wait_block *)(base + p->offset);
}

/* The ring's capacity, checked against its part: we must not write outside the region either. */
static uint64_t capacity_of(struct uipc_part *p, struct uipc_ring_control *r, uint64_t unit)
{
    uint64_t capacity = r->descriptor.capacity;
    uint64_t data = p->length - UIPC_RING_CONTROL_SIZE;
    if (capacity == 0 || (capacity & (capacity - 1)) != 0 || capacity * unit > data) {
        fprintf(stderr, "ring descriptor unusable (capacity %llu)\n", (unsigned long long)capacity);
        exit(3);
    }
    return capacity;
}

/* Address of the data at position `pos` of a ring, masked into its data area. */
static uint8_t *data_at(struct uipc_ring_control *r, uint64_t capacity, uint64_t pos, uint64_t unit)
{
    return (uint8_t *)r + UIPC_RING_CONTROL_SIZE + (pos & (capacity - 1)) * unit;
}

static void store64(void *p, uint64_t v) { __atomic_store_n((uint64_t *)p, v, __ATOMIC_RELEASE); }
static void store32(void *p, uint32_t v) { __atomic_store_n((uint32_t *)p, v, __ATOMIC_RELEASE); }

static int attack_header(const char *field, uint64_t v)
{
    struct uipc_region_header *h = (struct uipc_region_header *)base;
    if (!strcmp(field, "magic")) store32(&h->magic, (uint32_t)v);
    else if (!strcmp(field, "total_size")) store64(&h->total_size, v);
    else if (!strcmp(field, "part_count")) store32(&h->part_count, (uint32_t)v);
    else if (!strcmp(field, "part0_offset")) store64(&h->parts[0].offset, v);
    else if (!strcmp(field, "part0_length")) store64(&h->parts[0].length, v);
    else if (!strcmp(field, "state")) store32(&h->state, (uint32_t)v);
    else return 1;
    return 0;
}

/* xorshift64*: reproducible from the seed the test prints. */
static uint64_t rng;
static uint64_t next_random(void)
{
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return rng * 0x2545F4914F6CDD1Dull;
}

/* A value a liar would pick: near the truth, at a boundary, or anything. */
static uint64_t bad_value(uint64_t truth)
{
    switch (next_random() % 8) {
    case 0: return truth + 1;
    case 1: return truth - 1;
    case 2: return truth + (next_random() % 4096) - 2048;
    case 3: return 0;
    case 4: return UINT64_MAX;
    case 5: return UIPC_SLOT_SKIPPED | (truth & ~UIPC_SLOT_SKIPPED);
    case 6: return (uint64_t)1 << 62;
    default: return next_random();
    }
}

static long scribble(uint64_t seed, int64_t millis)
{
    struct uipc_part *p;
    struct uipc_ring_control *r = ring(&p);
    struct uipc_part *w = find_part(UIPC_PART_WAIT_BLOCK, UIPC_PART_WAIT_BLOCK);
    int slots = p->kind == UIPC_PART_SPSC_SLOTS || p->kind == UIPC_PART_MPSC_SLOTS;
    uint64_t unit = slots ? r->descriptor.slot_size : 1;
    uint64_t capacity = capacity_of(p, r, unit); /* before we scribble over it */
    rng = seed ? seed : 1;
    long writes = 0;
    int64_t end = now_ms() + millis;
    while (now_ms() < end) {
        uint64_t head = __atomic_load_n(&r->head, __ATOMIC_ACQUIRE);
        uint64_t tail = __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE);
        switch (next_random() % 8) {
        case 0: store64(&r->tail, bad_value(tail)); break;
        case 1: store64(&r->head, bad_value(head)); break;
        case 2:
        case 3: {
            uint64_t pos = head + next_random() % 8;
            if (slots) {
                store64(data_at(r, capacity, pos, unit), bad_value(pos + 1));
            } else {
                uint8_t *rec = data_at(r, capacity, pos & ~7ull, 1);
                if (next_random() & 1) store32(rec, (uint32_t)bad_value(16));
                else store32(rec + 4, (uint32_t)bad_value(1));
            }
            break;
        }
        case 4:
            if (w != NULL) {
                struct uipc_wait_block *b = (struct uipc_wait_block *)(base + w->offset);
                /* Never a pid or tid: forging those is the `wait` attack, aimed by the test. */
                if (next_random() & 1) store32(&b->consumer_state, (uint32_t)bad_value(1));
                else store32(&b->wake_word, (uint32_t)next_random());
            }
            break;
        case 5: store64(&r->descriptor.capacity, bad_value(capacity)); break;
        case 6: store32(&((struct uipc_region_header *)base)->state, (uint32_t)bad_value(1)); break;
        default: store64(&r->consumer_heartbeat_ms, next_random()); break;
        }
        writes++;
        if (writes % 16 == 0)
            usleep(200); /* let the victim run into what we wrote */
    }
    return writes;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s <path> <attack> [args...]\n", argv[0]);
        return 1;
    }
    const char *attack = argv[2];
    int fd = open(argv[1], O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        fprintf(stderr, "open %s: %s\n", argv[1], strerror(errno));
        return 2;
    }
    if (!strcmp(attack, "truncate") && argc == 4) {
        if (ftruncate(fd, (off_t)parse(argv[3])) != 0) {
            printf("truncate refused: errno %d (%s)\n", errno, strerror(errno));
            return 4;
        }
        printf("truncated to %llu\n", (unsigned long long)parse(argv[3]));
        return 0;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || st.st_size < (off_t)sizeof(struct uipc_region_header)) {
        fprintf(stderr, "%s is too small for a region\n", argv[1]);
        return 2;
    }
    mapped = (size_t)st.st_size;
    base = mmap(NULL, mapped, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (base == MAP_FAILED) {
        fprintf(stderr, "mmap: %s\n", strerror(errno));
        return 2;
    }
    if (((struct uipc_region_header *)base)->magic != UIPC_REGION_MAGIC) {
        fprintf(stderr, "not a UintrIpc region\n");
        return 3;
    }

    struct uipc_part *p;
    if ((!strcmp(attack, "tail") || !strcmp(attack, "head")) && argc == 4) {
        struct uipc_ring_control *r = ring(NULL);
        store64(attack[0] == 't' ? &r->tail : &r->head, parse(argv[3]));
    } else if ((!strcmp(attack, "tail-add") || !strcmp(attack, "head-add")) && argc == 4) {
        struct uipc_ring_control *r = ring(NULL);
        uint64_t *word = attack[0] == 't' ? &r->tail : &r->head;
        store64(word, __atomic_load_n(word, __ATOMIC_ACQUIRE) + (uint64_t)strtoll(argv[3], NULL, 0));
    } else if (!strcmp(attack, "seq") && argc == 5) {
        struct uipc_ring_control *r = ring(&p);
        if (p->kind != UIPC_PART_SPSC_SLOTS && p->kind != UIPC_PART_MPSC_SLOTS) return 3;
        uint64_t unit = r->descriptor.slot_size;
        store64(data_at(r, capacity_of(p, r, unit), r->head + parse(argv[3]), unit), parse(argv[4]));
    } else if (!strcmp(attack, "record") && argc == 6) {
        struct uipc_ring_control *r = ring(&p);
        if (p->kind != UIPC_PART_SPSC_RECORDS && p->kind != UIPC_PART_MPSC_RECORDS) return 3;
        uint8_t *rec = data_at(r, capacity_of(p, r, 1), (r->head + parse(argv[3])) & ~7ull, 1);
        store32(rec + 4, (uint32_t)strtol(argv[5], NULL, 0));
        store32(rec, (uint32_t)strtol(argv[4], NULL, 0));
    } else if (!strcmp(attack, "capacity") && argc == 4) {
        store64(&ring(NULL)->descriptor.capacity, parse(argv[3]));
    } else if (!strcmp(attack, "wait") && argc == 6) {
        struct uipc_wait_block *b = wait_block();
        int64_t end = now_ms() + (int64_t)parse(argv[5]);
        long rounds = 0;
        do {
            store32(&b->consumer_pid, (uint32_t)parse(argv[3]));
            store32(&b->consumer_tid, (uint32_t)parse(argv[4]));
            store32(&b->consumer_state, UIPC_CONSUMER_SLEEPING);
            rounds++;
            usleep(50);
        } while (now_ms() < end);
        printf("forged the wait block %ld times\n", rounds);
    } else if (!strcmp(attack, "header") && argc == 5) {
        if (attack_header(argv[3], parse(argv[4])) != 0) return 1;
    } else if (!strcmp(attack, "scribble") && argc == 5) {
        printf("scribble seed %llu: %ld writes\n", (unsigned long long)parse(argv[3]), scribble(parse(argv[3]), (int64_t)parse(argv[4])));
    } else {
        fprintf(stderr, "unknown attack or wrong arguments: %s\n", attack);
        return 1;
    }
    munmap(base, mapped);
    close(fd);
    return 0;
}
