/*
 * mpsc.h — what every MPSC producer does before it writes, slot ring or record ring
 * (interop/include/uintripc.h 2d, 2e, 2f), as the library's producers do it: register once in
 * the ring's producer table; per claim, a fresh tail checked against the producer's floor,
 * room checked against a cached head (reloaded, validated, only when the cache says no), the
 * intent stored in its entry, one CAS on tail. The ring kinds differ only in how many units a
 * claim takes (slots, or padding + record bytes): slotring.h and recordring.h compute that and
 * call the pieces below.
 */
#ifndef UIPC_NATIVE_MPSC_H
#define UIPC_NATIVE_MPSC_H

#include "bench.h"

struct mpsc_producer {
    struct uipc_ring_control *ctl;
    uint64_t capacity;
    uint64_t cache;   /* last head read */
    uint64_t floor;   /* the highest tail this producer claimed up to (2c): the shared tail never goes below it */
    uint64_t *intent; /* the claim word of its producer table entry (2f) */
    uint32_t tag;     /* (generation & 0x3fffff) << 8 | entry index: what its claimed markers carry */
};

/* Registers in entry `id` of the producer table (2f). Returns -1 when the entry is taken. */
static inline int mpsc_register(struct mpsc_producer *m, struct uipc_ring_control *ctl, uint32_t id, int32_t pid)
{
    const struct uipc_ring_descriptor *d = &ctl->descriptor;
    if (id >= d->producer_slots)
        return -1;
    struct uipc_producer_entry *e = (struct uipc_producer_entry *)((uint8_t *)ctl + d->producer_table_offset) + id;
    uint64_t free_owner = 0, generation = 1ull << 32;
    /* Full (CAS): the entry is ours from free; being set up until the release below. */
    if (!__atomic_compare_exchange_n(&e->owner, &free_owner, generation | UIPC_PRODUCER_REGISTERING, 0, __ATOMIC_SEQ_CST, __ATOMIC_RELAXED))
        return -1;
    e->pid_namespace = 0;
    e->claim = 0;
    /* Release: the entry's fields before its owner. */
    __atomic_store_n(&e->owner, generation | (uint32_t)pid, __ATOMIC_RELEASE);
    m->ctl = ctl;
    m->capacity = d->capacity;
    m->cache = m->floor = 0;
    m->intent = &e->claim;
    m->tag = (uint32_t)((generation >> 32) & 0x3fffff) << 8 | id;
    return 0;
}

/* The tail to claim from (acquire: the freshest for the CAS, which is the real fence); 0 with
 * *corrupt = 1 when it is below the floor (moved back) or beyond any position. */
static inline uint64_t mpsc_tail(const struct mpsc_producer *m, int *corrupt)
{
    uint64_t tail = __atomic_load_n(&m->ctl->tail, __ATOMIC_ACQUIRE);
    if (tail < m->floor || tail >= UIPC_MAX_POSITION)
        *corrupt = 1;
    return tail;
}

/* The cache said "no room" at `*tail`: reload head (acquire: the consumer read, and zeroed,
 * what it released) and validate it against a tail read before it (2b). 1 = cache refreshed
 * (check again), 0 = `*tail` was stale and is reloaded (start over), -1 = corrupt. */
static inline int mpsc_refresh_head(struct mpsc_producer *m, uint64_t *tail)
{
    uint64_t h = __atomic_load_n(&m->ctl->head, __ATOMIC_ACQUIRE);
    if (h > *tail) {
        /* Others' claims past our stale tail may have been consumed; only an unchanged tail proves head wrong. */
        uint64_t fresh = __atomic_load_n(&m->ctl->tail, __ATOMIC_ACQUIRE);
        if (fresh == *tail || fresh < m->floor)
            return -1;
        *tail = fresh;
        return 0;
    }
    if (*tail - h > m->capacity)
        return -1;
    m->cache = h;
    return 1;
}

/* The slot producer found the ring full: withdraw the intent (2f; a failed CAS's may cover
 * another producer's claim, and a full ring stores no other). Every claim of ours is published
 * by now. Only when it still covers something, so polling a full ring stores nothing. */
static inline void mpsc_withdraw_intent(struct mpsc_producer *m)
{
    if (__atomic_load_n(m->intent, __ATOMIC_RELAXED) >> 32) /* own word */
        __atomic_store_n(m->intent, 0, __ATOMIC_RELEASE);
}

/* The record producer's CAS failed: withdraw the intent (2f). It covers the winner's claim, none
 * of ours (they lie before the tail we read); kept while the ring stays full, it would keep the
 * consumer from skipping that claim if its producer died before its header. Not on a full ring:
 * there the intent of our last claim goes on covering an open batch's unwritten start (2e). */
static inline void mpsc_withdraw_lost_intent(struct mpsc_producer *m)
{
    /* Release; the failed CAS (full) ordered the intent before it. */
    __atomic_store_n(m->intent, 0, __ATOMIC_RELEASE);
}

/* Stores the intent for [*tail, *tail + n) and CASes tail over it. 1 = ours; 0 = lost, `*tail`
 * holds the tail the CAS found; -1 = that tail is below the floor. */
static inline int mpsc_try_claim(struct mpsc_producer *m, uint64_t *tail, uint64_t n)
{
    /* Release: the intent attributes the claim (2f); the CAS below is a full fence. */
    __atomic_store_n(m->intent, (*tail & 0xffffffffu) | n << 32, __ATOMIC_RELEASE);
    /* Full (CAS): [tail, tail + n) is this producer's alone; on failure `*tail` is reloaded. */
    if (__atomic_compare_exchange_n(&m->ctl->tail, tail, *tail + n, 0, __ATOMIC_SEQ_CST, __ATOMIC_ACQUIRE)) {
        m->floor = *tail + n;
        return 1;
    }
    return *tail < m->floor || *tail >= UIPC_MAX_POSITION ? -1 : 0;
}

#endif
