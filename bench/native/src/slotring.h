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

#include "bench.h"

struct slot_ring {
    struct uipc_ring_control *ctl;
    uint8_t *data;
    uint64_t capacity, mask;
    uint32_t slot_size, element_size;
    uint64_t pitch;      /* bytes from one slot to the next (slot_pitch, or slot_size where it is 0) */
    uint64_t pos;        /* producer: tail; consumer: head (own copy, plain) */
    uint64_t published;  /* consumer: last head stored to ctl->head */
    uint64_t cache;      /* producer: last head read */
    uint64_t *intent;    /* MPSC producer: the claim word of its producer table entry (2f) */
};

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
    r->pos = r->published = r->cache = 0;
    r->intent = NULL;
}

static inline uint64_t *ring_seq(const struct slot_ring *r, uint64_t pos)
{
    return (uint64_t *)(r->data + (pos & r->mask) * r->pitch);
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
    return (uint8_t *)(ring_seq(r, r->pos) + 1);
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

/* MPSC producer: registers in entry `id` of the producer table (uintripc.h 2f), as the library's
 * producers do, so that its claims carry the same intent store. Returns -1 when the entry is taken. */
static inline int mpsc_register(struct slot_ring *r, uint32_t id, int32_t pid)
{
    const struct uipc_ring_descriptor *d = &r->ctl->descriptor;
    if (id >= d->producer_slots)
        return -1;
    struct uipc_producer_entry *e = (struct uipc_producer_entry *)((uint8_t *)r->ctl + d->producer_table_offset) + id;
    uint64_t free_owner = 0, generation = 1ull << 32;
    /* Full (CAS): the entry is ours from free; being set up until the release below. */
    if (!__atomic_compare_exchange_n(&e->owner, &free_owner, generation | UIPC_PRODUCER_REGISTERING, 0, __ATOMIC_SEQ_CST, __ATOMIC_RELAXED))
        return -1;
    e->pid_namespace = 0;
    e->claim = 0;
    /* Release: the entry's fields before its owner. */
    __atomic_store_n(&e->owner, generation | (uint32_t)pid, __ATOMIC_RELEASE);
    r->intent = &e->claim;
    return 0;
}

/* MPSC producer (uintripc.h §2a): claims up to `want` slots with one CAS on tail, as the
 * library's SlotRing.TryWrite(span) does on an MPSC ring; returns how many (0 = full) and the first position.
 * `cache` is this producer's last head read. */
static inline uint64_t mpsc_claim(struct slot_ring *r, uint64_t want, uint64_t *first, int *corrupt)
{
    /* Acquire: a fresh tail to try the CAS with. */
    uint64_t tail = __atomic_load_n(&r->ctl->tail, __ATOMIC_ACQUIRE);
    int refreshed = 0;
    for (;;) {
        uint64_t used = tail - r->cache; /* huge when the cache is ahead of a stale tail */
        uint64_t room = used < r->capacity ? r->capacity - used : 0;
        if (room < want && (room == 0 || !refreshed)) {
            refreshed = 1;
            /* Acquire: the consumer read the slots before it released head. */
            uint64_t h = __atomic_load_n(&r->ctl->head, __ATOMIC_ACQUIRE);
            if (h > tail) {
                uint64_t fresh = __atomic_load_n(&r->ctl->tail, __ATOMIC_ACQUIRE);
                if (fresh == tail) {
                    *corrupt = 1;
                    return 0;
                }
                tail = fresh; /* our tail was stale */
                continue;
            }
            if (tail - h > r->capacity) {
                *corrupt = 1;
                return 0;
            }
            r->cache = h;
            if (tail - h >= r->capacity) {
                /* Full: withdraw the intent (2f; a failed CAS's may cover another producer's claim,
                 * and a full ring stores no other). Every claim of ours is published by now. */
                if (__atomic_load_n(r->intent, __ATOMIC_RELAXED) >> 32) /* own word */
                    __atomic_store_n(r->intent, 0, __ATOMIC_RELEASE);
                return 0;
            }
            continue;
        }
        uint64_t n = room < want ? room : want;
        /* Release: the intent attributes the claim (2f); the CAS below is a full fence. */
        __atomic_store_n(r->intent, (tail & 0xffffffffu) | n << 32, __ATOMIC_RELEASE);
        /* Full (CAS): [tail, tail + n) is this producer's alone; on failure `tail` is reloaded. */
        if (__atomic_compare_exchange_n(&r->ctl->tail, &tail, tail + n, 0, __ATOMIC_SEQ_CST, __ATOMIC_ACQUIRE)) {
            *first = tail;
            return n;
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
        *elem = (const uint8_t *)(seq + 1);
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
