/*
 * slotring.h — one side of an SPSC slot ring, exactly as interop/include/uintripc.h §2a.
 *
 * Design: slot i is at data + i * pitch (the slot size, or a duplex part's pitch, §2h: the
 * slots of two rings interleave, slot i of both in one line); its first u64 is the sequence, equal to
 * position + 1 once the element of `position` is published. The producer owns `tail`,
 * the consumer owns `head`; each keeps its position in a local copy (`pos`) and only
 * publishes it. The producer reads `head` only when its cached copy says the ring is
 * full. The consumer polls the sequence of the slot it reads next, so one message costs
 * one cache-line transfer (slot) plus the tail/head publications nobody waits on.
 * A peer that dies leaves the other side polling until its deadline.
 * Everything read from the ring (head, sequences) is validated; a value outside the
 * protocol is reported as corruption (-1), never used as an index.
 */
#ifndef UIPC_NATIVE_SLOTRING_H
#define UIPC_NATIVE_SLOTRING_H

#include "mpsc.h"

#include <stdlib.h>

struct slot_ring {
    struct uipc_ring_control *ctl;
    uint8_t *data;
    uint64_t capacity, mask;
    uint32_t slot_size, element_size;
    uint64_t pitch;      /* bytes from one slot to the next (slot_pitch, or slot_size where it is 0) */
    uint64_t pos;        /* producer: tail; consumer: head (own copy, plain) */
    uint64_t published;  /* consumer: last head stored to ctl->head */
    uint64_t cache;      /* SPSC producer: last head read */
    uint64_t ahead;      /* SPSC producer: slots ahead it write-prefetches (0: none, a duplex part) */
    uint64_t prefetched_to; /* SPSC producer: the position up to which it asked for slots (the frontier) */
    uint64_t prefetch_max;  /* SPSC producer: the most slots one prefetch asks for (RING_PREFETCH_MAX bytes, at least 1) */
#if BENCH_SLOT_LAYOUT == SLOT_LAYOUT_SEQ_AFTER
    uint64_t seq_off;    /* from an element to its sequence (the element's lines) */
#elif BENCH_SLOT_LAYOUT == SLOT_LAYOUT_SEQ_LANE
    uint8_t *lane;       /* the sequences, 8 bytes apart, after the elements */
#endif
};

/* Write prefetch distance of the SPSC producer, as the library's SlotRingEngine (9 lines). */
#define RING_PREFETCH_DISTANCE (9 * 64)
/* The most bytes one prefetch asks for, as the library's SlotRingEngine (MaxPrefetchBytes). */
#define RING_PREFETCH_MAX (2 * UIPC_PREFETCH_WRITE_MAX)

/* The descriptor was validated by region_create/region_attach. */
static inline void ring_open(struct slot_ring *r, struct uipc_ring_control *ctl)
{
    r->ctl = ctl;
    r->data = (uint8_t *)ctl + ctl->descriptor.data_offset;
    r->capacity = ctl->descriptor.capacity;
    r->mask = r->capacity - 1;
    r->slot_size = ctl->descriptor.slot_size;
    r->pitch = ctl->descriptor.slot_pitch ? ctl->descriptor.slot_pitch : ctl->descriptor.slot_size;
    r->element_size = ctl->descriptor.element_size;
#if BENCH_SLOT_LAYOUT != SLOT_LAYOUT_72
    if (ctl->descriptor.reserved[0] != BENCH_SLOT_LAYOUT) /* region.c gives every SPSC slot ring this build's layout */
        abort();
#endif
#if BENCH_SLOT_LAYOUT == SLOT_LAYOUT_SEQ_AFTER
    r->seq_off = r->pitch - 64;
#elif BENCH_SLOT_LAYOUT == SLOT_LAYOUT_SEQ_LANE
    r->lane = r->data + r->capacity * r->pitch;
#endif
    r->pos = r->published = r->cache = r->prefetched_to = 0;
    /* Not in a duplex part: its lines hold the other direction's slots too (uintripc.h 2h). */
    r->ahead = r->pitch == r->slot_size || BENCH_SLOT_LAYOUT != SLOT_LAYOUT_72 ? (RING_PREFETCH_DISTANCE / r->slot_size ? RING_PREFETCH_DISTANCE / r->slot_size : 1) : 0;
    r->prefetch_max = RING_PREFETCH_MAX / r->slot_size ? RING_PREFETCH_MAX / r->slot_size : 1;
}

static inline uint64_t *ring_seq(const struct slot_ring *r, uint64_t pos)
{
#if BENCH_SLOT_LAYOUT == SLOT_LAYOUT_SEQ_AFTER
    return (uint64_t *)(r->data + (pos & r->mask) * r->pitch + r->seq_off);
#elif BENCH_SLOT_LAYOUT == SLOT_LAYOUT_SEQ_LANE
    return (uint64_t *)(r->lane + (pos & r->mask) * UIPC_SLOT_HEADER_SIZE);
#else
    return (uint64_t *)(r->data + (pos & r->mask) * r->pitch);
#endif
}

/* The element of `pos`, given its sequence's address. */
static inline uint8_t *ring_elem(const struct slot_ring *r, uint64_t pos, const uint64_t *seq)
{
#if BENCH_SLOT_LAYOUT == SLOT_LAYOUT_SEQ_AFTER
    (void)pos;
    return (uint8_t *)seq - r->seq_off;
#elif BENCH_SLOT_LAYOUT == SLOT_LAYOUT_SEQ_LANE
    (void)seq;
    return r->data + (pos & r->mask) * r->pitch;
#else
    (void)r, (void)pos;
    return (uint8_t *)(seq + 1);
#endif
}

/* The lines of the slots [from, to) (at most RING_PREFETCH_MAX bytes), the frontier moved to `to`. */
static inline void ring_prefetch_slots(struct slot_ring *r, uint64_t from, uint64_t to)
{
    r->prefetched_to = to;
#if BENCH_SLOT_LAYOUT == SLOT_LAYOUT_72
    uint64_t bytes = (to - from) * r->slot_size; /* pitch == slot size: not a duplex part */
    if (bytes > RING_PREFETCH_MAX)
        bytes = RING_PREFETCH_MAX;
    uint64_t ring_bytes = r->capacity * r->slot_size, start = (from & r->mask) * r->slot_size;
    for (uint64_t o = start & ~(uint64_t)63; o < start + bytes; o += 64) /* the range wraps to the first slot */
        __builtin_prefetch((const void *)(r->data + (o < ring_bytes ? o : o - ring_bytes)), 1, 3);
#else
    /* The slots' lines (pitch apart from data), and with a sequence lane the lane's lines of the same positions. */
    uint64_t bytes = (to - from) * r->pitch;
    if (bytes > RING_PREFETCH_MAX)
        bytes = RING_PREFETCH_MAX;
    uint64_t ring_bytes = r->capacity * r->pitch, start = (from & r->mask) * r->pitch;
    for (uint64_t o = start & ~(uint64_t)63; o < start + bytes; o += 64)
        __builtin_prefetch((const void *)(r->data + (o < ring_bytes ? o : o - ring_bytes)), 1, 3);
#if BENCH_SLOT_LAYOUT == SLOT_LAYOUT_SEQ_LANE
    uint64_t lane_bytes = r->capacity * UIPC_SLOT_HEADER_SIZE, lstart = (from & r->mask) * UIPC_SLOT_HEADER_SIZE;
    for (uint64_t o = lstart & ~(uint64_t)63; o < lstart + (to - from) * UIPC_SLOT_HEADER_SIZE; o += 64)
        __builtin_prefetch((const void *)(r->lane + (o < lane_bytes ? o : o - lane_bytes)), 1, 3);
#endif
#endif
}

/* SPSC producer: asks for ownership of the slots ahead a block at a time, as the library's
 * SlotRingEngine.PrefetchSlots does (UintrIpc_PrefetchWrite in interop/src/prefetch.c): only when
 * the slot `ahead` positions on is past the frontier and the cached head proves it released, then
 * the slots from the frontier (at least the next one) to 2 * `ahead` on, at most RING_PREFETCH_MAX
 * bytes: one block per `ahead` + 1 messages. The library issues it through a call (.NET has no
 * PREFETCHW intrinsic), so it asks per block, not per line; this ring asks for the same lines at the
 * same messages. Without it each line the producer writes is fetched from the consumer's core only
 * when its store reaches the head of the store buffer. */
static inline void ring_prefetch_ahead(struct slot_ring *r)
{
    uint64_t ahead = r->pos + r->ahead;
    if (ahead < r->prefetched_to || r->ahead == 0 || ahead - r->cache >= r->capacity)
        return;
    uint64_t from = r->prefetched_to > r->pos + 1 ? r->prefetched_to : r->pos + 1;
    uint64_t to = ahead + 1 + r->ahead;
    if (to > r->cache + r->capacity)
        to = r->cache + r->capacity; /* released: the cache is never ahead of the real head */
    if (to > from + r->prefetch_max)
        to = from + r->prefetch_max;
    ring_prefetch_slots(r, from, to);
}

/* Producer: the element area of the next slot; NULL when full (*corrupt = 1 when the
 * consumer's head is impossible). */
static inline uint8_t *ring_claim(struct slot_ring *r, int *corrupt)
{
    if (r->pos - r->cache >= r->capacity) {
        /* Acquire: the consumer read the slot before it released head. */
        uint64_t h = __atomic_load_n(&r->ctl->head, __ATOMIC_ACQUIRE);
        if (h > r->pos || r->pos - h > r->capacity) {
            *corrupt = 1;
            return NULL;
        }
        r->cache = h;
        if (r->pos - h >= r->capacity)
            return NULL;
    }
    ring_prefetch_ahead(r);
    return ring_elem(r, r->pos, ring_seq(r, r->pos));
}

/* Producer: publish the claimed slot. */
static inline void ring_publish(struct slot_ring *r)
{
    /* Release: the element (plain stores) is visible before the sequence says so. */
    __atomic_store_n(ring_seq(r, r->pos), r->pos + 1, __ATOMIC_RELEASE);
    r->pos++;
    /* Release: tail is informational (nobody spins on it in an SPSC slot ring). */
    __atomic_store_n(&r->ctl->tail, r->pos, __ATOMIC_RELEASE);
}

/* Producer, batched: publish the claimed slot's sequence only ... */
static inline void ring_publish_sequence(struct slot_ring *r)
{
    /* Release: as in ring_publish; the consumer polls the sequence, not the tail. */
    __atomic_store_n(ring_seq(r, r->pos), r->pos + 1, __ATOMIC_RELEASE);
    r->pos++;
}

/* ... and the tail once per batch. */
static inline void ring_publish_tail(struct slot_ring *r)
{
    if (__atomic_load_n(&r->ctl->tail, __ATOMIC_RELAXED) != r->pos) /* own word */
        __atomic_store_n(&r->ctl->tail, r->pos, __ATOMIC_RELEASE);
}

/* Producer, batched as the library's SlotBatch (TryClaim(count), fill, Publish): up to `want`
 * free slots from pos, 0 when full (*corrupt = 1 when the consumer's head is impossible); the head
 * reloaded only when the cache shows too few. Asks for the batch's slots after its first and the
 * `ahead` after them, from the frontier, released only, as SlotRingEngine.PrefetchSlots. The
 * caller writes the elements of pos .. pos + n - 1 (ring_elem), then ring_publish_batch. */
static inline uint64_t ring_claim_batch(struct slot_ring *r, uint64_t want, int *corrupt)
{
    uint64_t room = r->capacity - (r->pos - r->cache);
    if (room < want) {
        /* Acquire: the consumer read the slots before it released head. */
        uint64_t h = __atomic_load_n(&r->ctl->head, __ATOMIC_ACQUIRE);
        if (h > r->pos || r->pos - h > r->capacity) {
            *corrupt = 1;
            return 0;
        }
        r->cache = h;
        room = r->capacity - (r->pos - h);
    }
    uint64_t n = room < want ? room : want;
    if (n != 0 && r->ahead != 0) {
        uint64_t from = r->prefetched_to > r->pos + 1 ? r->prefetched_to : r->pos + 1;
        uint64_t to = r->pos + n + r->ahead;
        if (to > r->cache + r->capacity)
            to = r->cache + r->capacity;
        if (to > from + r->prefetch_max)
            to = from + r->prefetch_max;
        if (to > from)
            ring_prefetch_slots(r, from, to);
    }
    return n;
}

/* ... then publishes them: every element is written before any of their sequences is stored, as
 * SlotBatch.Publish, so the consumer reads the batch after the producer is done with its lines.
 * Publishing each sequence right after its element lets a consumer that keeps up poll the line the
 * producer writes next (in-process twin, pairs of adjacent runs, rate of this over that: 64 B at
 * 1 Ki slots median 1.43, 8 B 1.25, 64 B at 64 Ki slots level; docs/design-notes.md, batch64).
 * The tail once per batch. */
static inline void ring_publish_batch(struct slot_ring *r, uint64_t n)
{
    for (uint64_t i = 0; i < n; i++)
        ring_publish_sequence(r);
    ring_publish_tail(r);
}

/* MPSC producer (uintripc.h 2d): claims up to `want` slots with one CAS on tail (mpsc.h), as the
 * library's SlotRing.TryWrite(span) does on an MPSC ring; returns how many (0 = full) and the first position. */
static inline uint64_t mpsc_claim(struct slot_ring *r, struct mpsc_producer *m, uint64_t want, uint64_t *first, int *corrupt)
{
    uint64_t tail = mpsc_tail(m, corrupt);
    if (*corrupt)
        return 0;
    int refreshed = 0;
    for (;;) {
        uint64_t used = tail - m->cache; /* huge when the cache is ahead of a stale tail */
        uint64_t room = used < r->capacity ? r->capacity - used : 0;
        if (room < want && (room == 0 || !refreshed)) {
            refreshed = 1;
            int rc = mpsc_refresh_head(m, &tail);
            if (rc < 0) {
                *corrupt = 1;
                return 0;
            }
            if (rc > 0 && tail - m->cache >= r->capacity) {
                mpsc_withdraw_intent(m); /* full: as the library's slot producer (2f) */
                return 0;
            }
            continue;
        }
        uint64_t n = room < want ? room : want;
        int rc = mpsc_try_claim(m, &tail, n);
        if (rc > 0) {
            *first = tail;
            return n;
        }
        if (rc < 0) {
            *corrupt = 1;
            return 0;
        }
    }
}

/* MPSC producer: publish the claimed slot of `position`. Every slot of a claim is published
 * before this producer's next mpsc_claim (its next intent), so no claimed marker is due (2d:
 * the intent covers the claim until then), as with the library's cached producer thread. */
static inline void mpsc_publish(struct slot_ring *r, uint64_t position)
{
    /* Release: the element (plain stores) is visible before the sequence says so. */
    __atomic_store_n(ring_seq(r, position), position + 1, __ATOMIC_RELEASE);
}

/* Consumer: 1 = the element at head is ready (*elem), 0 = not yet, -1 = corrupt. */
static inline int ring_peek(const struct slot_ring *r, const uint8_t **elem)
{
    const uint64_t *seq = ring_seq(r, r->pos);
    /* Acquire: pairs with the producer's release of the sequence. */
    uint64_t s = __atomic_load_n(seq, __ATOMIC_ACQUIRE);
    if (__builtin_expect(s == r->pos + 1, 1)) {
        *elem = ring_elem(r, r->pos, seq);
        return 1;
    }
    if (s == 0 || s == r->pos + 1 - r->capacity)
        return 0;
    return -1;
}

/* Consumer: take the element, publish head now (per-message) ... */
static inline void ring_release(struct slot_ring *r)
{
    r->pos++;
    r->published = r->pos;
    /* Release: our reads of the slot happen before the producer may overwrite it. */
    __atomic_store_n(&r->ctl->head, r->pos, __ATOMIC_RELEASE);
}

/* ... or only locally, publishing later with ring_flush (batched). */
static inline void ring_advance(struct slot_ring *r)
{
    r->pos++;
}

static inline void ring_flush(struct slot_ring *r)
{
    if (r->published != r->pos) {
        r->published = r->pos;
        __atomic_store_n(&r->ctl->head, r->pos, __ATOMIC_RELEASE); /* as ring_release */
    }
}

#endif
