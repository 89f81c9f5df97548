/*
 * recordring.h — one side of a record ring, SPSC or MPSC, as interop/include/uintripc.h 2e.
 *
 * The producer reserves align8(8 + length) bytes (and the rest of the data area as padding
 * when the record would not fit before the end), stores the tail (release), writes the
 * padding header, then the record's type and payload, and publishes the length last
 * (release). The consumer polls the length at head (acquire), validates it, reads the
 * record, and gives bytes back by zeroing them and storing head (release): after every
 * record (per message) or after a batch of up to `batch` records (as the library's
 * Read(handler, limit) does). A batched producer reserves a range for several records, takes its
 * lines with a store each (a range of RRING_SHORT_RANGE bytes or less; a longer one is
 * read-prefetched), appends them (a range of RRING_SHORT_RANGE bytes or less: no header
 * until the commit; longer: each with its length negated), and publishes the tail once and then
 * each header (short) or length (the library's TryClaimBatch). An MPSC producer (mrring_*) claims a record or a batch's range
 * with one CAS (mpsc.h) and marks each record claimed before its payload; the consumer is the
 * same for both kinds. Everything read from the ring is validated; a value outside the
 * protocol is reported as corruption (-1), never used as an index.
 */
#ifndef UIPC_NATIVE_RECORDRING_H
#define UIPC_NATIVE_RECORDRING_H

#include "mpsc.h"

#include <string.h>

struct record_ring {
    struct uipc_ring_control *ctl;
    uint8_t *data;
    uint64_t capacity, mask;
    uint32_t max_message;
    uint64_t pos;        /* producer: tail; consumer: head (own copy, plain) */
    uint64_t published;  /* consumer: last head stored to ctl->head */
    uint64_t cache;      /* producer: last head read */
    uint64_t claim_tail; /* producer, batch: the tail the open batch starts at */
    uint64_t claim_padding; /* producer, batch: padding bytes before it (0 = none) */
    int claim_short;     /* producer, batch: the open range is RRING_SHORT_RANGE bytes or less */
    uint64_t nearly_full_room; /* SPSC producer: min(capacity / 8, UIPC_RECORD_NEARLY_FULL_ROOM) */
    int nearly_full;     /* SPSC producer: the last head re-read left less room than that */
    uint64_t claim_end;  /* SPSC producer: the last value stored to ctl->claim_end (0: none yet) */
    uint64_t prefetched_to; /* producer: the position up to which single claims asked for lines ahead */
};

/* SPSC producer: claim_end is stored this far ahead of a claim's end (2g; the library's ClaimEndSlack). */
#define RRING_CLAIM_END_SLACK 4096u

static inline uint32_t record_align(uint32_t n)
{
    return (n + UIPC_RECORD_ALIGNMENT - 1) & ~(UIPC_RECORD_ALIGNMENT - 1);
}

static inline void rring_open(struct record_ring *r, struct uipc_ring_control *ctl)
{
    r->ctl = ctl;
    r->data = (uint8_t *)ctl + ctl->descriptor.data_offset;
    r->capacity = ctl->descriptor.capacity;
    r->mask = r->capacity - 1;
    r->max_message = ctl->descriptor.max_message_length;
    r->pos = r->published = r->cache = r->claim_tail = r->claim_padding = r->claim_end = r->prefetched_to = 0;
    r->nearly_full_room = r->capacity / 8 < UIPC_RECORD_NEARLY_FULL_ROOM ? r->capacity / 8 : UIPC_RECORD_NEARLY_FULL_ROOM;
    r->nearly_full = 0;
}

/* Producer: a padding record of `padding` bytes (to the end of the data area) at `at`. */
static inline void rring_write_padding(uint8_t *at, uint64_t padding)
{
    int32_t *pad = (int32_t *)at;
    pad[1] = UIPC_RECORD_PADDING;                                /* plain: published by the length */
    __atomic_store_n(&pad[0], (int32_t)padding, __ATOMIC_RELEASE); /* release: the type before the length */
}

/* SPSC producer: UIPC_RECORD_HEAD_RELOAD_PAUSE_SPINS spin-loop hints before re-reading head after
 * a re-read found the ring nearly full (2e): head is re-read once per many records the consumer
 * gives back, not once per record (the library's SpinHint loop, the same count). */
static inline void rring_pause_before_head_reload(void)
{
    for (unsigned i = 0; i < UIPC_RECORD_HEAD_RELOAD_PAUSE_SPINS; i++)
        _mm_pause();
}

/* Producer: whether `aligned` bytes (and `*padding` before them when they would cross the end)
 * fit before the consumer's head (read only when the cached copy says no). */
static inline int rring_reserve(struct record_ring *r, uint64_t aligned, uint64_t *padding, int *corrupt)
{
    uint64_t index = r->pos & r->mask, to_end = r->capacity - index;
    *padding = aligned > to_end ? to_end : 0;
    uint64_t end = r->pos + *padding + aligned;
    if (end - r->cache > r->capacity) {
        if (r->nearly_full)
            rring_pause_before_head_reload();
        /* Acquire: the consumer zeroed and read the bytes before it released head. */
        uint64_t h = __atomic_load_n(&r->ctl->head, __ATOMIC_ACQUIRE);
        if (h > r->pos || r->pos - h > r->capacity) {
            *corrupt = 1;
            return 0;
        }
        r->cache = h;
        r->nearly_full = end - r->pos <= UIPC_RECORD_PAUSE_MAX_CLAIM && h + r->capacity < end + r->nearly_full_room;
        if (end - h > r->capacity)
            return 0;
    }
    /* Before any byte of the claim is written (2g): the end of what we may write beyond the
     * tail, a slack ahead so that most claims only compare. Plain: only a producer attaching
     * after we died reads it, and a killed process's retired stores all land; the compiler
     * keeps it before the claim's stores only if it cannot prove them apart, so a compiler
     * barrier makes that explicit. */
    if (end > r->claim_end) {
        r->claim_end = end + RRING_CLAIM_END_SLACK;
        __atomic_store_n(&r->ctl->claim_end, r->claim_end, __ATOMIC_RELAXED);
        __atomic_signal_fence(__ATOMIC_SEQ_CST);
    }
    return 1;
}

/* Producer, a single record of `aligned` bytes claimed up to `end`, `head_cache` its last head read:
 * asks for the lines of as many bytes after it (the next record), whole lines from where the last call
 * stopped, only lines the cached head proves released, within one lap; records of RRING_PREFETCH_MIN
 * bytes or more only. As the
 * library's RecordRingEngine.PrefetchNextRecord (UintrIpc_PrefetchWrite in interop/src/prefetch.c). */
#define RRING_PREFETCH_MIN 1024u
static inline void rring_prefetch_ahead(struct record_ring *r, uint64_t head_cache, uint64_t end, uint32_t aligned)
{
    if (aligned < RRING_PREFETCH_MIN)
        return;
    uint64_t from = r->prefetched_to > (end & ~63ull) ? r->prefetched_to : (end & ~63ull);
    uint64_t to = end + aligned < head_cache + r->capacity ? end + aligned : head_cache + r->capacity;
    to &= ~63ull;
    if (to > (from & ~r->mask) + r->capacity)
        to = (from & ~r->mask) + r->capacity;
    if (to <= from)
        return;
    r->prefetched_to = to;
    const uint8_t *at = r->data + (from & r->mask);
    uint64_t bytes = to - from < UIPC_PREFETCH_WRITE_MAX ? to - from : UIPC_PREFETCH_WRITE_MAX;
    for (uint64_t line = 0; line < bytes; line += 64)
        __builtin_prefetch(at + line, 1, 3);
}

/* MPSC producer, a single record of `aligned` bytes claimed up to `end` (mrring_claim_range of one
 * record): the same hint as the SPSC claim's, bounded by the producer's cached head. The bytes
 * after a claim are the next claim of whichever producer wins it, most often the same one. As the
 * library's TryClaimMpsc. */
#define MRRING_PREFETCH_MAX 1024u /* the most bytes asked for: the library's MpscPrefetchBytes */
static inline void mrring_prefetch_next(struct record_ring *r, const struct mpsc_producer *m, uint64_t end, uint32_t aligned)
{
    rring_prefetch_ahead(r, m->cache, end, aligned < MRRING_PREFETCH_MAX ? aligned : MRRING_PREFETCH_MAX);
}

/* Producer: room for a record of `length` payload bytes; returns the record (its header
 * still 0) or NULL when full (*corrupt = 1 when the consumer's head is impossible). The
 * tail and the padding are published here, the length by rring_commit. */
static inline uint8_t *rring_claim(struct record_ring *r, uint32_t length, int32_t type, int *corrupt)
{
    uint32_t aligned = record_align(UIPC_RECORD_HEADER_SIZE + length);
    uint64_t padding;
    if (!rring_reserve(r, aligned, &padding, corrupt))
        return NULL;
    uint64_t index = r->pos & r->mask, end = r->pos + padding + aligned;
    rring_prefetch_ahead(r, r->cache, end, aligned); /* SPSC: bounded by the cached head */
    /* Release: head <= tail holds for every observer before any header says "ready". */
    __atomic_store_n(&r->ctl->tail, end, __ATOMIC_RELEASE);
    if (padding) {
        rring_write_padding(r->data + index, padding);
        index = 0;
    }
    uint8_t *rec = r->data + index;
    ((int32_t *)rec)[1] = type; /* plain: published by the release of the length */
    r->pos = end;
    return rec;
}

static inline void rring_commit(uint8_t *rec, uint32_t length)
{
    /* Release: type and payload are complete before the consumer sees the length. */
    __atomic_store_n((int32_t *)rec, (int32_t)(UIPC_RECORD_HEADER_SIZE + length), __ATOMIC_RELEASE);
}

/* A batch range of at most this many bytes writes no header before its commit (the library's
 * ShortRangeBytes: its batch keeps each header privately and the commit stores it). */
#define RRING_SHORT_RANGE 1024u
/* The most bytes of a claimed range whose lines are taken at the claim (the library's PrefetchLimit). */
#define RRING_TAKE_LINES_LIMIT 4096u

/* Producer, batch, a range of RRING_SHORT_RANGE bytes or less: stores zero into the first word
 * of each of its lines (from `start`, which may be mid-line), a write prefetch that asks
 * for every line at once before the appends' stores reach them (they sit modified in the
 * consumer's cache, which zeroed them). The bytes are ours and zero already. As the library's
 * RecordRingEngine.TakeRangeLines. */
static inline void rring_take_lines(uint8_t *start, uint64_t bytes)
{
    uint8_t *end = start + (bytes < RRING_TAKE_LINES_LIMIT ? bytes : RRING_TAKE_LINES_LIMIT);
    uint64_t zero = 0;
    memcpy(start, &zero, sizeof zero);
    for (uint8_t *line = (uint8_t *)(((uintptr_t)start + 64) & ~(uintptr_t)63); line < end; line += 64)
        memcpy(line, &zero, sizeof zero);
    __atomic_signal_fence(__ATOMIC_SEQ_CST); /* the compiler keeps them before the appends' stores */
}

/* Producer, batch: a range longer than RRING_SHORT_RANGE: read-prefetches its first
 * RRING_TAKE_LINES_LIMIT bytes (taking them measured slower at 64 B). As the library's
 * RecordRingEngine.PrefetchRange. */
static inline void rring_prefetch_range(const uint8_t *start, uint64_t bytes)
{
    const uint8_t *end = start + (bytes < RRING_TAKE_LINES_LIMIT ? bytes : RRING_TAKE_LINES_LIMIT);
    for (const uint8_t *line = (const uint8_t *)((uintptr_t)start & ~(uintptr_t)63); line < end; line += 64)
        __builtin_prefetch(line, 0, 3);
}

/* Producer, batch (uintripc.h 2e, the library's TryClaimBatch): reserves `bytes` (records are
 * appended into them) privately and takes their lines; returns the first byte or NULL when
 * there is no room. Nothing is published until rring_commit_batch. */
static inline uint8_t *rring_claim_batch(struct record_ring *r, uint64_t bytes, int *corrupt)
{
    uint64_t padding;
    if (!rring_reserve(r, bytes, &padding, corrupt))
        return NULL;
    r->claim_tail = r->pos;
    r->claim_padding = padding;
    r->claim_short = bytes <= RRING_SHORT_RANGE;
    uint8_t *start = r->data + (padding ? 0 : (r->pos & r->mask));
    if (r->claim_short)
        rring_take_lines(start, bytes);
    else
        rring_prefetch_range(start, bytes);
    return start;
}

/* Producer, batch: a record appended at `rec`. A long range: its header holds -len and the type
 * until the commit (plain: a length <= 0 reads "not yet"). A short range: nothing (the header
 * stays 0, "not yet"; the commit stores it). */
static inline void rring_append(const struct record_ring *r, uint8_t *rec, uint32_t length, int32_t type)
{
    if (r->claim_short)
        return;
    uint64_t header = (uint32_t)-(int32_t)(UIPC_RECORD_HEADER_SIZE + length) | (uint64_t)(uint32_t)type << 32;
    memcpy(rec, &header, sizeof header);
}

/* Producer, batch: a record of `aligned` bytes appended, `next` the byte after it, `limit` the
 * range's end: read-prefetches the next record's lines (at most RRING_PREFETCH_LIMIT bytes of
 * them), never past the range (the bytes after it may still be the consumer's); records of
 * RRING_PREFETCH_MIN bytes or more only. As the library's RecordRingEngine.PrefetchBatchRecord,
 * called by RecordBatch.TryAppend. */
#define RRING_PREFETCH_LIMIT 4096u /* the library's PrefetchLimit */
static inline void rring_prefetch_batch_record(const uint8_t *next, uint32_t aligned, const uint8_t *limit)
{
    if (aligned < RRING_PREFETCH_MIN)
        return;
    const uint8_t *end = next + (aligned < RRING_PREFETCH_LIMIT ? aligned : RRING_PREFETCH_LIMIT);
    if (end > limit)
        end = limit;
    for (uintptr_t line = (uintptr_t)next & ~(uintptr_t)63; line < (uintptr_t)end; line += 64)
        __builtin_prefetch((const void *)line, 0, 3);
}

/* Producer, batch: publishes `count` appended records of `length` payload bytes and `type` from
 * `start`: the tail once, then each length (2e); a short range each header, length and type in
 * one store (release). */
static inline void rring_commit_batch(struct record_ring *r, uint8_t *start, uint32_t count, uint32_t length, int32_t type)
{
    uint32_t aligned = record_align(UIPC_RECORD_HEADER_SIZE + length);
    r->pos = r->claim_tail + r->claim_padding + (uint64_t)count * aligned;
    /* Release, before the lengths: head <= tail holds for every observer. */
    __atomic_store_n(&r->ctl->tail, r->pos, __ATOMIC_RELEASE);
    if (r->claim_padding)
        rring_write_padding(r->data + (r->claim_tail & r->mask), r->claim_padding);
    if (r->claim_short) {
        /* Release: the payload before the header (the library's CommitSpscEntries). */
        uint64_t header = (UIPC_RECORD_HEADER_SIZE + length) | (uint64_t)(uint32_t)type << 32;
        for (uint32_t i = 0; i < count; i++, start += aligned)
            __atomic_store_n((uint64_t *)start, header, __ATOMIC_RELEASE);
        return;
    }
    for (uint32_t i = 0; i < count; i++, start += aligned)
        rring_commit(start, length);
}

/* MPSC producer (2e, the library's TryClaimRangeMpsc): claims `aligned` bytes, and the rest of
 * the lap before them as padding when they would cross the end, with one intent and one CAS
 * (mpsc.h); publishes the padding at once. Returns the first byte (still zero), or NULL when
 * there is no room (*corrupt = 1 when tail or head is impossible). A record claim and a batch's
 * range are claimed alike; the caller marks the range's first record (mrring_mark_claimed) before
 * it claims again, which 2e asks of a batch's start (the library marks it at the claim). */
static inline uint8_t *mrring_claim_range(struct record_ring *r, struct mpsc_producer *m, uint64_t aligned, int *corrupt)
{
    uint64_t tail = mpsc_tail(m, corrupt), index, padding;
    if (*corrupt)
        return NULL;
    for (;;) {
        index = tail & r->mask;
        uint64_t to_end = r->capacity - index;
        padding = aligned > to_end ? to_end : 0;
        uint64_t end = tail + padding + aligned;
        if (end - m->cache > r->capacity) {
            int rc = mpsc_refresh_head(m, &tail);
            if (rc < 0) {
                *corrupt = 1;
                return NULL;
            }
            if (rc == 0)
                continue;
            if (end - m->cache > r->capacity)
                return NULL;
        }
        int rc = mpsc_try_claim(m, &tail, padding + aligned);
        if (rc > 0)
            break;
        mpsc_withdraw_lost_intent(m); /* lost the race (2f), as the library's record claim */
        if (rc < 0) {
            *corrupt = 1;
            return NULL;
        }
    }
    if (padding) {
        rring_write_padding(r->data + index, padding);
        index = 0;
    }
    return r->data + index;
}

/* MPSC producer: marks the record at `rec` claimed (2e): ONE 64-bit release store of length
 * -len and the claimed marker naming this producer in the type word, then a store-store fence
 * so the marker is visible before any payload byte. Never deferred: it shares the header store
 * (the library's MarkClaimed, for a single claim and for each record appended to a batch). */
static inline void mrring_mark_claimed(uint8_t *rec, uint32_t length, uint32_t tag)
{
    uint64_t header = (uint32_t)-(int32_t)(UIPC_RECORD_HEADER_SIZE + length) | (uint64_t)(0x80000000u | tag) << 32;
    __atomic_store_n((uint64_t *)rec, header, __ATOMIC_RELEASE);
    __atomic_thread_fence(__ATOMIC_RELEASE); /* store-store: the marker before the payload */
}

/* MPSC producer: commits a marked record (the library's Complete / CommitBatch, per record): the
 * header must still say -len (acquire: a consumer that unblocked the claim made it padding);
 * then the type (plain) and length = +len (release). 0, or -1 when the claim is no longer ours. */
static inline int mrring_commit(uint8_t *rec, uint32_t length, int32_t type)
{
    int32_t len = (int32_t)(UIPC_RECORD_HEADER_SIZE + length);
    if (__atomic_load_n((int32_t *)rec, __ATOMIC_ACQUIRE) != -len)
        return -1;
    ((int32_t *)rec)[1] = type; /* plain: published by the release of the length */
    /* Release: type and payload are complete before the consumer sees the length. */
    __atomic_store_n((int32_t *)rec, len, __ATOMIC_RELEASE);
    return 0;
}

/* MPSC producer: commits a record appended to a batch (the library's CommitBatch, per record): the
 * same check as mrring_commit, then length = +len and the type as ONE 64-bit store (release),
 * as the library publishes a batch from its private copies of the headers. */
static inline int mrring_commit_batched(uint8_t *rec, uint32_t length, int32_t type)
{
    int32_t len = (int32_t)(UIPC_RECORD_HEADER_SIZE + length);
    if (__atomic_load_n((int32_t *)rec, __ATOMIC_ACQUIRE) != -len)
        return -1;
    /* Release: the payload is complete before the consumer sees the length (and the type with it). */
    __atomic_store_n((uint64_t *)rec, (uint32_t)len | (uint64_t)(uint32_t)type << 32, __ATOMIC_RELEASE);
    return 0;
}

/* Consumer: the next record after `consumed` bytes of the current batch. Returns its
 * aligned size (0 = nothing yet, -1 = corrupt); *rec, *type, *length describe it. */
static inline int64_t rring_next(const struct record_ring *r, uint64_t consumed, const uint8_t **rec,
                                 int32_t *type, uint32_t *length)
{
    uint64_t position = r->pos + consumed, index = position & r->mask;
    const uint8_t *p = r->data + index;
    /* Acquire: pairs with the producer's release of the length. */
    int32_t len = __atomic_load_n((const int32_t *)p, __ATOMIC_ACQUIRE);
    if (len <= 0)
        return 0;
    uint64_t room = r->capacity - index;
    int32_t t = ((const int32_t *)p)[1];
    if (len < (int32_t)UIPC_RECORD_HEADER_SIZE || (uint64_t)len > room)
        return -1;
    uint32_t aligned = record_align((uint32_t)len);
    if (t >= 0 ? (uint32_t)len - UIPC_RECORD_HEADER_SIZE > r->max_message
               : (t != UIPC_RECORD_PADDING || (aligned != room && aligned > record_align(UIPC_RECORD_HEADER_SIZE + r->max_message))))
        return -1;
    if (aligned > r->capacity - consumed)
        return -1;
    *rec = p;
    *type = t;
    *length = (uint32_t)len - UIPC_RECORD_HEADER_SIZE;
    return aligned;
}

/* Consumer: announce the release (releasing, 2e, 2g), zero `consumed` bytes from head (so a
 * later lap never sees stale headers) and give them back, as the library's Release. */
static inline void rring_release(struct record_ring *r, uint64_t consumed)
{
    /* Release: our reads of the batch are done; the store-store fence keeps the zeroes from
     * becoming visible before it (a successor never sees zeroed headers it does not cover). */
    __atomic_store_n(&r->ctl->releasing, r->pos + consumed, __ATOMIC_RELEASE);
    __atomic_thread_fence(__ATOMIC_RELEASE);
    uint64_t index = r->pos & r->mask, first = r->capacity - index;
    if (first > consumed)
        first = consumed;
    memset(r->data + index, 0, first);
    if (consumed > first)
        memset(r->data, 0, consumed - first);
    r->pos += consumed;
    /* Release: our reads and the zeroing happen before the producer may reuse the bytes. */
    __atomic_store_n(&r->ctl->head, r->pos, __ATOMIC_RELEASE);
}

#endif
