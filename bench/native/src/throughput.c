/*
 * throughput.c — one-way throughput of one SPSC slot ring (uintripc.h §2a) between two
 * processes: the parent produces, the child consumes, both spin.
 *
 * Design: the producer writes `warmup + count` elements; each element carries its position
 * in its first 8 bytes and is otherwise a copy of a source buffer. The consumer copies
 * each element out, checks the stamp, and gives the slot back: per message (head stored
 * after every element) or batched (head stored every `batch` elements and whenever the
 * consumer finds the ring empty, as the library's Drain; the producer then claims up to `batch`
 * slots, writes their elements in place and stores their sequences and the tail once the last
 * is written, as the library's SlotBatch: TryClaim(count), the indexer, Publish). The record-ring tests do the
 * same over an SPSC record ring (§2b): per message, or the consumer reads up to `batch`
 * records before it zeroes them and stores head (the library's Read(handler, limit)), and the
 * producer claims a range for up to RECORD_BATCH_MAX records at once, appends them in place and
 * publishes the tail once per range (the library's TryClaimBatch / RecordBatch). MPSC producers
 * register in the ring's producer table and store their intent before each claim (2f), as the
 * library's do.
 * The rate is timed by the consumer, from the end of the warm-up to the last element, on
 * CLOCK_MONOTONIC. CPU time per message is taken on each side over its own part of the
 * measured window. Both sides map every page of the ring before they start.
 */
#include "recordring.h"
#include "slotring.h"

#include <sched.h>
#include <linux/futex.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define SPIN_CHECK_MASK 1023u
#define STAMP_SEQUENCE  ((1ull << 48) - 1)
/* Records per batch claim: the library's RecordBatch.MaxRecords. */
#define RECORD_BATCH_MAX 32u

static int timed_out(uint64_t deadline_ns)
{
    return g_watchdog_fired || mono_ns() > deadline_ns;
}

/* The consumer's check of every message: producer id in bits 48.. of its stamp, that
 * producer's own sequence below, each producer's in order (an SPSC producer is id 0). */
struct stamp_check {
    uint64_t next[BENCH_MAX_PRODUCERS]; /* each producer's next sequence */
    uint32_t producers;
};

static inline int stamp_accept(struct stamp_check *s, uint64_t stamp)
{
    uint64_t id = stamp >> 48;
    if (id < s->producers && (stamp & STAMP_SEQUENCE) == s->next[id]) {
        s->next[id]++;
        return 1;
    }
    return 0;
}

/* The consumer's copy target: as long as the longest record the ring accepts (its validated
 * max_message_length), not only the expected size: record_read copies a record before the stamp
 * and length are checked, so a peer's longer record (another --size, or a hostile one) must not
 * write past it (review23). */
static uint8_t *record_sink(const struct record_ring *rx, uint32_t es)
{
    uint64_t longest = rx->max_message > es ? rx->max_message : es;
    return aligned_alloc(64, (longest + 8 + 63) & ~63ull);
}

/* One Read of up to `batch` records (the library's Read(handler, limit)): rring_next until the ring
 * is empty, `batch` records were read or accept() says stop; per record (padding skipped) the stamp
 * and the copy of the rest into `dst`, then accept(state, stamp, length). Returns the bytes read (to
 * release), or -1 when the ring is corrupt (*at: where). always_inline with a constant accept: the
 * compiler inlines both into each consumer, as one loop. */
static inline __attribute__((always_inline)) int64_t
record_read(struct record_ring *rx, uint32_t batch, uint8_t *dst, uint32_t *records, uint64_t *at,
            int (*accept)(void *state, uint64_t stamp, uint32_t length), void *state)
{
    uint64_t consumed = 0;
    *records = 0;
    for (;;) {
        const uint8_t *rec;
        int32_t type;
        uint32_t length;
        int64_t aligned = rring_next(rx, consumed, &rec, &type, &length);
        if (aligned < 0) {
            *at = rx->pos + consumed;
            return -1;
        }
        if (aligned == 0)
            break;
        consumed += (uint64_t)aligned;
        if (type == UIPC_RECORD_PADDING)
            continue;
        /* The length before the stamp (as the .NET handlers' RecordLength.Check): a record
         * shorter than its 8-byte stamp (a hostile or foreign peer; ours write >= 8) is passed
         * on with stamp 0 and read no further; accept counts it bad (length != es, es >= 8). */
        uint64_t stamp = 0;
        if (__builtin_expect(length >= 8, 1)) {
            memcpy(&stamp, rec + UIPC_RECORD_HEADER_SIZE, sizeof stamp);
            if (length > 8)
                memcpy(dst + 8, rec + UIPC_RECORD_HEADER_SIZE + 8, length - 8);
        }
        int stop = accept(state, stamp, length);
        if (++*records == batch || stop)
            break;
    }
    return (int64_t)consumed;
}

/* record_consumer's per-record work: the stamp check, the position, the warm-up's end. */
struct consumer_state {
    struct stamp_check check;
    uint64_t pos, bad, warmup, total, t0, cpu0, empty;
    uint32_t es;
};

static inline __attribute__((always_inline)) int consumer_accept(void *state, uint64_t stamp, uint32_t length)
{
    struct consumer_state *s = state;
    s->bad += !stamp_accept(&s->check, stamp) || length != s->es;
    s->pos++;
    if (s->pos == s->warmup) {
        s->t0 = mono_ns();
        s->cpu0 = cpu_ns();
        s->empty = 0;
    }
    return s->pos == s->total;
}

static int record_consumer(struct bench_region *r)
{
    struct bench_ctl *c = r->ctl;
    struct record_ring rx;
    rring_open(&rx, r->ring[RING_REQUESTS]);
    const uint32_t es = c->element_size, batch = c->batch ? c->batch : 1;
    const uint64_t warmup = c->warmup, total = c->warmup + c->iterations;
    uint8_t *dst = record_sink(&rx, es);
    if (!dst) {
        child_fail(r, "out of memory");
        return -1;
    }
    region_prefault(r);
    struct consumer_state st = { .check = { .producers = c->producers ? c->producers : 1 }, .warmup = warmup, .total = total,
                                 .cpu0 = cpu_ns(), .t0 = mono_ns(), .es = es };
    /* Release: ready to consume. */
    __atomic_store_n(&c->child_ready, 1, __ATOMIC_RELEASE);
    unsigned n = 0;
    while (st.pos < total) {
        uint32_t records;
        uint64_t at = 0;
        int64_t consumed = record_read(&rx, batch, dst, &records, &at, consumer_accept, &st);
        if (consumed < 0) {
            child_fail(r, "record ring corrupted at head %llu", (unsigned long long)at);
            return -1;
        }
        if (consumed)
            rring_release(&rx, (uint64_t)consumed);
        if (records == 0) {
            st.empty++;
            _mm_pause();
            if ((++n & SPIN_CHECK_MASK) == 0) {
                if (timed_out(c->deadline_ns)) {
                    child_fail(r, "timed out waiting for record %llu", (unsigned long long)st.pos);
                    return -1;
                }
                if (c->oversubscribed)
                    sched_yield(); /* let a producer that shares our CPU run */
            }
        } else {
            n = 0; /* one wait's polls, as the slot consumer's per-element counter and the .NET loops */
        }
    }
    c->child_t_end = mono_ns();
    c->child_cpu_ns = cpu_ns() - st.cpu0;
    c->child_t_start = st.t0;
    c->child_msgs = c->iterations;
    c->child_spins = st.empty;
    free(dst);
    if (st.bad) {
        child_fail(r, "%llu records carried the wrong stamp or length", (unsigned long long)st.bad);
        return -1;
    }
    return 0;
}

int throughput_child(struct bench_region *r)
{
    struct bench_ctl *c = r->ctl;
    if (part_is_records(r->ring[RING_REQUESTS]->descriptor.ring_kind))
        return record_consumer(r);
    struct slot_ring rx;
    ring_open(&rx, r->ring[RING_REQUESTS]);
    const uint32_t es = rx.element_size, batch = c->batch ? c->batch : 1;
    const uint64_t warmup = c->warmup, total = c->warmup + c->iterations;
    uint8_t *dst = aligned_alloc(64, (es + 63) & ~63u);
    if (!dst) {
        child_fail(r, "out of memory");
        return -1;
    }
    region_prefault(r);
    struct stamp_check check = { .producers = c->producers ? c->producers : 1 };
    uint64_t empty = 0, bad = 0, cpu0 = cpu_ns(), t0 = mono_ns();
    /* Release: ready to consume. */
    __atomic_store_n(&c->child_ready, 1, __ATOMIC_RELEASE);
    for (uint64_t pos = 0; pos < total; pos++) {
        const uint8_t *e;
        int rc;
        unsigned n = 0;
        while ((rc = ring_peek(&rx, &e)) != 1) {
            if (rc < 0) {
                child_fail(r, "ring corrupted at head %llu", (unsigned long long)pos);
                return -1;
            }
            if (batch > 1)
                ring_flush(&rx); /* give back what we consumed before we wait */
            empty++;
            _mm_pause();
            if ((++n & SPIN_CHECK_MASK) == 0) {
                if (timed_out(c->deadline_ns)) {
                    child_fail(r, "timed out waiting for element %llu", (unsigned long long)pos);
                    return -1;
                }
                if (c->oversubscribed)
                    sched_yield(); /* let a producer that shares our CPU run */
            }
        }
        uint64_t stamp;
        memcpy(&stamp, e, sizeof stamp);
        if (es > 8)
            memcpy(dst + 8, e + 8, es - 8);
        bad += !stamp_accept(&check, stamp);
        if (batch > 1) {
            ring_advance(&rx);
            if (rx.pos - rx.published >= batch)
                ring_flush(&rx);
        } else {
            ring_release(&rx);
        }
        if (pos + 1 == warmup) {
            t0 = mono_ns();
            cpu0 = cpu_ns();
            empty = 0;
        }
    }
    ring_flush(&rx);
    c->child_t_end = mono_ns();
    c->child_cpu_ns = cpu_ns() - cpu0;
    c->child_t_start = t0;
    c->child_msgs = c->iterations;
    c->child_spins = empty;
    free(dst);
    if (bad) {
        child_fail(r, "%llu elements carried the wrong stamp", (unsigned long long)bad);
        return -1;
    }
    return 0;
}

/* One producer over any ring kind; `kind` is a constant at each call site, so the compiler
 * specialises the loop for each. */
enum producer_kind { PRODUCE_SPSC, PRODUCE_RECORDS, PRODUCE_MPSC, PRODUCE_MPSC_RECORDS };

struct producer {
    struct slot_ring slot;
    struct record_ring rec;
    struct mpsc_producer mp; /* MPSC: its producer table entry, floor and head cache */
    uint32_t es, batch;
    uint64_t next, claimed; /* MPSC: the next claimed position and how many are left */
    uint64_t first;         /* MPSC, batched: the claim's first position */
    uint8_t *range;         /* records, batched: the open batch, `claimed` records, `next` appended */
};

static inline __attribute__((always_inline)) uint8_t *
producer_claim(struct producer *p, enum producer_kind kind, uint64_t left, int *corrupt)
{
    if ((kind == PRODUCE_RECORDS && p->batch > 1) || kind == PRODUCE_MPSC_RECORDS) {
        /* A range for up to RECORD_BATCH_MAX records (TryClaimBatch; MPSC per message: one, TryClaim),
         * each record appended in place: SPSC with its length negated, MPSC marked claimed. */
        uint32_t aligned = record_align(UIPC_RECORD_HEADER_SIZE + p->es);
        if (p->claimed == 0) {
            uint64_t want = p->batch < RECORD_BATCH_MAX ? p->batch : RECORD_BATCH_MAX;
            want = want < left ? want : left;
            p->range = kind == PRODUCE_MPSC_RECORDS ? mrring_claim_range(&p->rec, &p->mp, want * aligned, corrupt)
                                                    : rring_claim_batch(&p->rec, want * aligned, corrupt);
            if (!p->range)
                return NULL;
            p->claimed = want;
            p->next = 0;
        }
        uint8_t *rec = p->range + p->next * aligned;
        if (kind == PRODUCE_MPSC_RECORDS) {
            mrring_mark_claimed(rec, p->es, p->mp.tag);
            if (p->batch <= 1) /* a single claim (TryClaim): its end is the floor the CAS set */
                mrring_prefetch_next(&p->rec, &p->mp, p->mp.floor, aligned);
        } else {
            rring_append(&p->rec, rec, p->es, 0);
            rring_prefetch_batch_record(rec + aligned, aligned, p->range + p->claimed * aligned);
        }
        return rec + UIPC_RECORD_HEADER_SIZE;
    }
    if (kind == PRODUCE_RECORDS) {
        uint8_t *rec = rring_claim(&p->rec, p->es, 0, corrupt);
        return rec ? rec + UIPC_RECORD_HEADER_SIZE : NULL;
    }
    if (kind == PRODUCE_MPSC) {
        if (p->claimed == 0) {
            uint64_t want = p->batch < left ? p->batch : left;
            p->claimed = mpsc_claim(&p->slot, &p->mp, want, &p->next, corrupt);
            if (p->claimed == 0)
                return NULL;
            p->first = p->next;
        }
        return (uint8_t *)(ring_seq(&p->slot, p->next) + 1);
    }
    if (p->batch > 1) {
        /* Up to `batch` slots (the harness's TryClaim(64)), each element written in place, their
         * sequences stored once the last is written (ring_publish_batch), as SlotBatch.Publish. */
        if (p->claimed == 0) {
            uint64_t want = p->batch < left ? p->batch : left;
            p->claimed = ring_claim_batch(&p->slot, want, corrupt);
            if (p->claimed == 0)
                return NULL;
            p->next = 0;
        }
        uint64_t position = p->slot.pos + p->next;
        return ring_elem(&p->slot, position, ring_seq(&p->slot, position));
    }
    return ring_claim(&p->slot, corrupt);
}

/* Returns 0, or -1 when an MPSC record claim was lost (its header is no longer ours). */
static inline __attribute__((always_inline)) int
producer_publish(struct producer *p, enum producer_kind kind, uint8_t *payload)
{
    if (kind == PRODUCE_MPSC_RECORDS) {
        /* Per message: the record now. Batched: every record of the range once the last is appended
         * (the library's CommitBatch; the range is exactly the records, no padding rest). */
        if (++p->next < p->claimed)
            return 0;
        uint32_t aligned = record_align(UIPC_RECORD_HEADER_SIZE + p->es);
        for (uint64_t i = 0; i < p->claimed; i++)
            if ((p->batch > 1 ? mrring_commit_batched(p->range + i * aligned, p->es, 0)
                              : mrring_commit(p->range + i * aligned, p->es, 0)) != 0)
                return -1;
        p->claimed = 0;
    } else if (kind == PRODUCE_RECORDS && p->batch > 1) {
        if (++p->next == p->claimed) {
            rring_commit_batch(&p->rec, p->range, (uint32_t)p->claimed, p->es, 0);
            p->claimed = 0;
        }
    } else if (kind == PRODUCE_RECORDS) {
        rring_commit(payload - UIPC_RECORD_HEADER_SIZE, p->es);
    } else if (kind == PRODUCE_MPSC && p->batch > 1) {
        /* Batched: every sequence of the claim once its last element is written, as the library's
         * MPSC SlotBatch.Publish (SlotRingEngine.PublishBatch), not each after its element. */
        p->next++;
        if (--p->claimed == 0)
            for (uint64_t position = p->first; position < p->next; position++)
                mpsc_publish(&p->slot, position);
    } else if (kind == PRODUCE_MPSC) {
        mpsc_publish(&p->slot, p->next++);
        p->claimed--;
    } else if (p->batch > 1) {
        if (++p->next == p->claimed) {
            ring_publish_batch(&p->slot, p->claimed);
            p->claimed = 0;
        }
    } else {
        ring_publish(&p->slot);
    }
    return 0;
}

/* Producer `id` writes warmup + count messages stamped (id << 48) | sequence; its CPU time
 * is taken over the last `count`. Returns 0, or -1 with *why set. */
static inline __attribute__((always_inline)) int
produce_loop(struct bench_region *r, enum producer_kind kind, uint32_t id, uint64_t warmup, uint64_t count,
             uint64_t *cpu, uint64_t *full, const char **why)
{
    struct bench_ctl *c = r->ctl;
    struct producer p;
    memset(&p, 0, sizeof p);
    if (kind == PRODUCE_RECORDS || kind == PRODUCE_MPSC_RECORDS)
        rring_open(&p.rec, r->ring[RING_REQUESTS]);
    else
        ring_open(&p.slot, r->ring[RING_REQUESTS]);
    if ((kind == PRODUCE_MPSC || kind == PRODUCE_MPSC_RECORDS) && mpsc_register(&p.mp, r->ring[RING_REQUESTS], id, getpid()) != 0) {
        *why = "no free entry in the producer table";
        return -1;
    }
    p.es = c->element_size;
    p.batch = c->batch ? c->batch : 1;
    const uint32_t es = p.es;
    const uint64_t total = warmup + count, tag = (uint64_t)id << 48;
    uint8_t *src = aligned_alloc(64, (es + 63) & ~63u);
    if (!src) {
        *why = "out of memory";
        return -1;
    }
    for (uint32_t i = 0; i < es; i++)
        src[i] = (uint8_t)(i * 31 + 7);
    uint64_t cpu0 = cpu_ns(), spins = 0;
    int rc = 0;
    for (uint64_t seq = 0; seq < total && rc == 0; seq++) {
        if (seq == warmup) {
            cpu0 = cpu_ns();
            spins = 0;
        }
        int corrupt = 0;
        unsigned n = 0;
        uint8_t *e;
        while (!(e = producer_claim(&p, kind, total - seq, &corrupt))) {
            if (corrupt) {
                *why = "consumer head corrupted";
                rc = -1;
                break;
            }
            spins++;
            _mm_pause();
            if ((++n & SPIN_CHECK_MASK) == 0) {
                if (timed_out(c->deadline_ns)) {
                    *why = "timed out waiting for ring space";
                    rc = -1;
                    break;
                }
                if (c->oversubscribed)
                    sched_yield(); /* let the consumer that shares our CPU run */
            }
        }
        if (rc != 0)
            break;
        uint64_t stamp = tag | seq;
        memcpy(e, &stamp, sizeof stamp);
        if (es > 8)
            memcpy(e + 8, src + 8, es - 8);
        if (producer_publish(&p, kind, e) != 0) {
            *why = "a claimed record's header changed before its commit";
            rc = -1;
        }
    }
    if (kind == PRODUCE_SPSC)
        ring_publish_tail(&p.slot);
    *cpu = cpu_ns() - cpu0;
    *full = spins;
    free(src);
    return rc;
}

/* Producer `id` of the test in `r`: returns 0, or -1 with *why set. */
static int produce(struct bench_region *r, uint32_t id, uint64_t *cpu, uint64_t *full, const char **why)
{
    struct bench_ctl *c = r->ctl;
    uint32_t producers = c->producers ? c->producers : 1;
    uint64_t warmup = c->warmup / producers, count = c->iterations / producers;
    switch (r->ring[RING_REQUESTS]->descriptor.ring_kind) {
    case UIPC_PART_SPSC_RECORDS: return produce_loop(r, PRODUCE_RECORDS, id, warmup, count, cpu, full, why);
    case UIPC_PART_MPSC_SLOTS: return produce_loop(r, PRODUCE_MPSC, id, warmup, count, cpu, full, why);
    case UIPC_PART_MPSC_RECORDS: return produce_loop(r, PRODUCE_MPSC_RECORDS, id, warmup, count, cpu, full, why);
    default: return produce_loop(r, PRODUCE_SPSC, id, warmup, count, cpu, full, why);
    }
}

/* The MPSC producers 1 .. producers - 1: forked children (the parent is producer 0), pinned to
 * CPU id % CPUs, so that on two CPUs the consumer (CPU 1) shares its CPU with one producer, as
 * in the .NET harness. Each reports its CPU time in ctl->extra_cpu_ns[id]. */
static pid_t start_producer(struct bench_region *r, uint32_t id, int pin)
{
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != r->ctl->parent_pid)
        _exit(3);
    if (pin)
        pin_to_cpu((int)(id % (uint32_t)sysconf(_SC_NPROCESSORS_ONLN)));
    uint64_t cpu = 0, full = 0;
    const char *why = NULL;
    int rc = produce(r, id, &cpu, &full, &why);
    r->ctl->extra_cpu_ns[id] = cpu;
    r->ctl->extra_full_polls[id] = full;
    if (rc != 0) {
        child_fail(r, "producer %u: %s", id, why ? why : "failed");
        __atomic_store_n(&r->ctl->extra_failed, 1, __ATOMIC_RELEASE);
    }
    _exit(rc == 0 ? 0 : 1);
}

/* Bytes of a record ring that matches a slot ring of `slots` slots of `es`-byte elements:
 * the next power of two of slots * align8(8 + es), and at least 8 records (max message <=
 * capacity / 8). The .NET harness uses the same rule (ThroughputRun.RecordCapacity). */
static uint64_t record_ring_bytes(uint32_t es, uint64_t slots)
{
    uint64_t bytes = slots * record_align(UIPC_RECORD_HEADER_SIZE + es), p = 1;
    while (p < bytes || p < 8ull * es)
        p <<= 1;
    return p;
}

int throughput_run(const struct test_def *t, unsigned index, const struct options *o)
{
    const uint32_t es = t->element_size;
    uint64_t count = o->tput_count;
    if (count * es > o->tput_bytes)
        count = o->tput_bytes / es;
    if (count < 100000)
        count = 100000;
    int records = t->tr == TR_TPUT_RECORD || t->tr == TR_TPUT_RECORD_BATCH || t->tr == TR_TPUT_MPSC_RECORD || t->tr == TR_TPUT_MPSC_RECORD_BATCH;
    int mpsc = t->tr == TR_TPUT_MPSC || t->tr == TR_TPUT_MPSC_BATCH || t->tr == TR_TPUT_MPSC_RECORD || t->tr == TR_TPUT_MPSC_RECORD_BATCH;
    uint32_t producers = mpsc ? o->producers : 1;
    if (mpsc && o->exec_mode) {
        fprintf(stderr, "%s: the MPSC tests do not run with --exec\n", t->name);
        return -1;
    }
    count -= count % producers; /* every producer sends the same share */
    uint64_t warmup = count / 10 - (count / 10) % producers;
    uint64_t capacity = records ? record_ring_bytes(es, o->capacity) : o->capacity;
    struct bench_region r;
    uint32_t kind = records ? (mpsc ? UIPC_PART_MPSC_RECORDS : UIPC_PART_SPSC_RECORDS) : mpsc ? UIPC_PART_MPSC_SLOTS : UIPC_PART_SPSC_SLOTS;
    if (region_create(&r, kind, es, capacity, 2) != 0)
        return -1;
    struct bench_ctl *c = r.ctl;
    c->test_index = index;
    c->element_size = es;
    c->iterations = count;
    c->warmup = warmup;
    c->batch = t->tr == TR_TPUT_BATCH || t->tr == TR_TPUT_RECORD_BATCH || t->tr == TR_TPUT_MPSC_BATCH || t->tr == TR_TPUT_MPSC_RECORD_BATCH ? o->batch : 1;
    c->producers = producers;
    c->oversubscribed = producers + 1 > (uint32_t)sysconf(_SC_NPROCESSORS_ONLN);
    c->parent_pid = getpid();
    c->pin_child_cpu = o->pin ? 1 : -1;
    c->fd_parent_tx = c->fd_parent_rx = c->fd_child_tx = c->fd_child_rx = -1;
    c->deadline_ns = mono_ns() + (uint64_t)(o->timeout_s * 1e9);

    const char *why = NULL;
    char whybuf[240];
    uint64_t cpu = 0, cpu0 = 0, full = 0, full0 = 0;
    int rc = -1, reap = -1;
    region_prefault(&r);
    watchdog_arm(o->timeout_s + 0.5);
    pid_t pid = child_start(&r, o->exec_mode, throughput_child);
    if (pid < 0)
        why = "fork failed";
    else if (child_wait_ready(&r, pid, c->deadline_ns) != 0)
        why = c->child_error[0] ? c->child_error : "child did not become ready";
    pid_t extra[BENCH_MAX_PRODUCERS] = { 0 };
    if (pid > 0 && !why) {
        for (uint32_t id = 1; id < producers; id++)
            extra[id] = start_producer(&r, id, o->pin);
        rc = produce(&r, 0, &cpu0, &full0, &why);
    }
    cpu = cpu0;
    full = full0;
    for (uint32_t id = 1; id < producers; id++) {
        if (extra[id] > 0 && child_reap(extra[id], rc == 0 ? c->deadline_ns + 1000000000u : mono_ns() + 2000000000u) != 0 && rc == 0) {
            rc = -1;
            why = c->child_error[0] ? c->child_error : "a producer child failed";
        }
        cpu += c->extra_cpu_ns[id];
        full += c->extra_full_polls[id];
    }
    if (pid > 0)
        reap = child_reap(pid, rc == 0 ? c->deadline_ns + 1000000000u : mono_ns() + 2000000000u);
    watchdog_disarm();
    if (rc == 0 && (reap != 0 || c->child_status != 0)) {
        rc = -1;
        snprintf(whybuf, sizeof whybuf, "child: %s (exit %d)", c->child_error[0] ? c->child_error : "failed", reap);
        why = whybuf;
    }
    const char *publish = c->batch > 1 ? "batched" : "per-message";
    if (rc != 0) {
        json_begin(t->name);
        json_str("kind", "throughput");
        json_str("error", why ? why : "failed");
        json_u64("run", o->run);
        json_end();
        fprintf(stderr, "%-28s FAILED: %s\n", t->name, why ? why : "failed");
    } else {
        double secs = (double)(c->child_t_end - c->child_t_start) / 1e9;
        double mps = (double)count / secs;
        json_begin(t->name);
        json_str("kind", "throughput");
        json_str("unit", "msg/s");
        json_u64("element_size", es);
        json_str("ring", records ? (mpsc ? "mpsc-record" : "record") : mpsc ? "mpsc-slot" : "slot");
        json_u64("producers", producers);
        json_u64("slot_size", r.ring[0]->descriptor.slot_size);
        json_u64("capacity", r.ring[0]->descriptor.capacity);
        json_u64("capacity_slots", o->capacity);
        json_str("head_publish", publish);
        json_u64("batch", c->batch);
        json_u64("count", count);
        json_u64("warmup", warmup);
        json_u64("elapsed_ns", c->child_t_end - c->child_t_start);
        json_f64("msgs_per_s", mps);
        json_f64("bytes_per_s", mps * es);
        json_f64("ns_per_msg", secs * 1e9 / (double)count);
        json_f64("cpu_ns_per_msg_parent", (double)cpu / (double)count);
        json_f64("cpu_ns_per_msg_child", (double)c->child_cpu_ns / (double)c->child_msgs);
        json_f64p("cpu_util_parent", (double)cpu / (double)(c->child_t_end - c->child_t_start), 3);
        json_f64p("cpu_util_child", (double)c->child_cpu_ns / (double)(c->child_t_end - c->child_t_start), 3);
        json_u64("producer_full_polls", full); /* every producer's, as the .NET harness sums them */
        for (uint32_t id = 0; producers > 1 && id < producers; id++) { /* producer 1 shares the consumer's CPU on 2 CPUs */
            char key[40];
            snprintf(key, sizeof key, "producer%u_full_polls", id);
            json_u64(key, id == 0 ? full0 : c->extra_full_polls[id]);
            snprintf(key, sizeof key, "producer%u_cpu_ns", id);
            json_u64(key, id == 0 ? cpu0 : c->extra_cpu_ns[id]);
        }
        json_u64("consumer_empty_polls", c->child_spins);
        json_str("mode", o->exec_mode ? "exec" : "fork");
        json_u64("pinned", (uint64_t)o->pin);
        json_u64("run", o->run);
        json_end();
        fprintf(stderr, "%-28s %8.2f M msg/s  %8.1f MB/s  %6.1f ns/msg  cpu/msg %6.1f / %6.1f ns  "
                        "util %.2f / %.2f  (n=%llu)\n",
                t->name, mps / 1e6, mps * es / 1e6, secs * 1e9 / (double)count, (double)cpu / (double)count,
                (double)c->child_cpu_ns / (double)c->child_msgs, (double)cpu / 1e9 / secs,
                (double)c->child_cpu_ns / 1e9 / secs, (unsigned long long)count);
    }
    region_destroy(&r);
    return rc;
}

/* ---- a child of the .NET harness (--child produce|consume) ---------------------------------
 * The C producer or consumer of a record ring test (SPSC, or MPSC with each producer a child of
 * its own, registered in the ring's producer table at its id) run by the .NET harness in place of its
 * own child (bench option --mixed): the same ring in the harness's region (inherited fd), the
 * same loops as above (producer_claim / producer_publish, rring_next / rring_release), and the
 * harness's protocol around them (ThroughputLoops, StartGate, MessageChecker): stamps as
 * MessageHeader (warm bit 62, producer << 48, sequence), the phase word, the ready count and the
 * start word of its control part, READY and RESULT lines on stdout. Bench-only: it lets each side
 * of the library be measured against the other side in C, cross-process. */

#define HARNESS_WARM_BIT (1ull << 62)

struct harness_args {
    const char *role;
    int region_fd, cpu, id, producers, batched, oversubscribed;
    uint32_t size;
    uint64_t count, total, warmup, warmup_ms, deadline_ms;
};

static const char *harness_arg(int argc, char **argv, const char *key)
{
    for (int i = 3; i + 1 < argc; i += 2)
        if (strncmp(argv[i], "--", 2) == 0 && strcmp(argv[i] + 2, key) == 0)
            return argv[i + 1];
    return NULL;
}

static uint64_t harness_u64(int argc, char **argv, const char *key, uint64_t fallback)
{
    const char *v = harness_arg(argc, argv, key);
    return v ? strtoull(v, NULL, 10) : fallback;
}

static void harness_futex_wake(uint32_t *word)
{
    syscall(SYS_futex, word, FUTEX_WAKE, INT32_MAX, NULL, NULL, 0);
}

/* The harness's producer (ThroughputLoops.Produce): warm-up messages until the consumer flips the
 * phase, then announced, until every producer has; then exactly `count` measured messages, CPU and
 * wall time over them; then it waits for the consumer's span to end before it reports. `kind` is a
 * constant at each call, so the loop is specialised as produce_loop's. Oversubscribed (a producer
 * shares the consumer's CPU): a yield every 1024 polls of one wait, as the harness's Spin.Step. */
static inline __attribute__((always_inline)) int
harness_produce(struct bench_region *r, const struct harness_args *a, uint64_t deadline, enum producer_kind kind)
{
    struct bench_ctl ctl;
    memset(&ctl, 0, sizeof ctl);
    ctl.element_size = a->size;
    ctl.batch = a->batched ? 64 : 1; /* Batch.Size: the harness's TryWrite(max 64) */
    ctl.deadline_ns = deadline;
    r->ctl = &ctl;
    uint64_t *phase = (uint64_t *)(r->user0 + HARNESS_PHASE_OFFSET), *ready = (uint64_t *)(r->user0 + HARNESS_READY_OFFSET);
    struct producer p;
    memset(&p, 0, sizeof p);
    rring_open(&p.rec, r->ring[RING_REQUESTS]);
    if (kind == PRODUCE_MPSC_RECORDS && mpsc_register(&p.mp, r->ring[RING_REQUESTS], (uint32_t)a->id, getpid()) != 0) {
        printf("ERROR no free entry %d in the producer table\n", a->id);
        return -1;
    }
    p.es = a->size;
    p.batch = ctl.batch;
    uint8_t *src = aligned_alloc(64, (a->size + 63) & ~63u);
    if (!src)
        return -1;
    for (uint32_t i = 0; i < a->size; i++)
        src[i] = (uint8_t)(i * 31 + 7);
    printf("READY {}\n");
    fflush(stdout);
    const uint64_t tag = (uint64_t)a->id << 48;
    uint64_t end = UINT64_MAX, warm = HARNESS_WARM_BIT, warmup = 0, cpu0 = 0, wall0 = 0, spins = 0;
    int announced = 0;
    for (uint64_t seq = 0; seq < end; seq++) {
        if ((seq & 63) == 0 && warm) { /* the harness checks every 64 messages (WarmupDone) */
            if (!announced && __atomic_load_n(phase, __ATOMIC_ACQUIRE) != 0) {
                __atomic_fetch_add(ready, 1, __ATOMIC_SEQ_CST);
                announced = 1;
            }
            if (announced && __atomic_load_n(ready, __ATOMIC_ACQUIRE) >= (uint64_t)a->producers) {
                warm = 0;
                warmup = seq;
                end = seq + a->count;
                spins = 0;
                cpu0 = cpu_ns();
                wall0 = mono_ns();
            } else if ((seq & 4095) == 0 && timed_out(deadline)) {
                fprintf(stderr, "timed out in the warm-up\n");
                return -1;
            }
        }
        int corrupt = 0;
        unsigned n = 0;
        uint8_t *e;
        while (!(e = producer_claim(&p, kind, end - seq, &corrupt))) {
            if (corrupt) {
                printf("ERROR consumer head corrupted\n");
                return -1;
            }
            spins++;
            _mm_pause();
            if ((++n & SPIN_CHECK_MASK) == 0) {
                if (timed_out(deadline)) {
                    printf("ERROR timed out waiting for ring space\n");
                    return -1;
                }
                if (a->oversubscribed)
                    sched_yield(); /* let the consumer that shares our CPU run */
            }
        }
        uint64_t stamp = warm | tag | seq;
        memcpy(e, &stamp, sizeof stamp);
        if (a->size > 8)
            memcpy(e + 8, src + 8, a->size - 8);
        if (producer_publish(&p, kind, e) != 0) {
            printf("ERROR a claimed record's header changed before its commit\n");
            return -1;
        }
    }
    uint64_t cpu = cpu_ns() - cpu0, wall = mono_ns() - wall0;
    while (__atomic_load_n(phase, __ATOMIC_ACQUIRE) < 2) { /* StartGate.WaitForSpanEnd */
        if (timed_out(deadline)) {
            printf("ERROR timed out waiting for the end of the consumer's span\n");
            return -1;
        }
        usleep(1000);
    }
    printf("RESULT {\"messages\":%llu,\"warmup_messages\":%llu,\"cpu_ns\":%llu,\"wall_ns\":%llu,\"full_polls\":%llu,\"after_span\":true}\n",
           (unsigned long long)a->count, (unsigned long long)warmup, (unsigned long long)cpu, (unsigned long long)wall,
           (unsigned long long)spins);
    fflush(stdout);
    free(src);
    return 0;
}

/* The harness's consumer child (ConsumerChild, ThroughputLoops.Consume, MessageChecker): READY, the
 * start word, then reads of up to `batch` records as record_consumer; the phase flipped once the
 * warm-up count and time are reached; the span from the poll that brought the first measured
 * message to the one that brought the last. */
/* The harness consumer's per-record work (MessageChecker.Check): one producer's sequence (SPSC), or
 * the stamp's producer's (MPSC, stamp_accept: the harness's AcceptFromMany), the warm bit. */
struct harness_state {
    uint64_t next, measured, warmups, warm_in_span, bad, total;
    struct stamp_check many;
    uint32_t es;
};

static inline __attribute__((always_inline)) int harness_count(struct harness_state *s, uint64_t stamp)
{
    if (stamp & HARNESS_WARM_BIT) {
        s->warmups++;
        s->warm_in_span += s->measured != 0;
    } else {
        s->measured++;
    }
    return s->measured == s->total;
}

static inline __attribute__((always_inline)) int harness_accept(void *state, uint64_t stamp, uint32_t length)
{
    struct harness_state *s = state;
    s->bad += (stamp & ~HARNESS_WARM_BIT) != s->next || length != s->es;
    s->next++;
    return harness_count(s, stamp);
}

static inline __attribute__((always_inline)) int harness_accept_many(void *state, uint64_t stamp, uint32_t length)
{
    struct harness_state *s = state;
    s->bad += !stamp_accept(&s->many, stamp & ~HARNESS_WARM_BIT) || length != s->es;
    return harness_count(s, stamp);
}

/* `accept` is a constant at each call (harness_accept or harness_accept_many), so record_read inlines it. */
static inline __attribute__((always_inline)) int
harness_consume(struct bench_region *r, const struct harness_args *a, uint64_t deadline,
                int (*accept)(void *state, uint64_t stamp, uint32_t length))
{
    uint64_t *phase = (uint64_t *)(r->user0 + HARNESS_PHASE_OFFSET), *start = (uint64_t *)(r->user0 + HARNESS_START_OFFSET);
    struct record_ring rx;
    rring_open(&rx, r->ring[RING_REQUESTS]);
    const uint32_t es = a->size, batch = a->batched ? 64 : 1;
    uint8_t *dst = record_sink(&rx, es);
    if (!dst)
        return -1;
    printf("READY {}\n");
    fflush(stdout);
    while (__atomic_load_n(start, __ATOMIC_ACQUIRE) == 0) {
        if (timed_out(deadline)) {
            printf("ERROR timed out waiting for the producers to be ready\n");
            return -1;
        }
        usleep(1000);
    }
    struct harness_state st = { .total = a->total, .many = { .producers = (uint32_t)a->producers }, .es = es };
    uint64_t warm_end = mono_ns() + a->warmup_ms * 1000000ull, at_start = 0, empty = 0, t0 = 0, cpu0 = 0, iterations = 0;
    int flipped = 0;
    unsigned n = 0;
    while (st.measured < a->total) {
        uint32_t records;
        uint64_t at = 0;
        int64_t consumed = record_read(&rx, batch, dst, &records, &at, accept, &st);
        if (consumed < 0) {
            printf("ERROR record ring corrupted at head %llu\n", (unsigned long long)at);
            return -1;
        }
        if (consumed)
            rring_release(&rx, (uint64_t)consumed);
        if (records == 0) {
            empty++;
            _mm_pause();
            if ((++n & SPIN_CHECK_MASK) == 0) {
                if (timed_out(deadline)) {
                    printf("ERROR timed out waiting for record %llu\n", (unsigned long long)st.measured);
                    return -1;
                }
                if (a->oversubscribed)
                    sched_yield(); /* let a producer that shares our CPU run */
            }
        } else {
            n = 0;
            if (at_start == 0 && st.measured != 0) { /* MessageChecker.StartSpanIfMeasuring */
                at_start = st.measured;
                cpu0 = cpu_ns();
                t0 = mono_ns();
                empty = 0;
            }
        }
        if (!flipped && (++iterations & 255) == 0 && st.warmups >= a->warmup && mono_ns() >= warm_end) {
            __atomic_store_n(phase, 1, __ATOMIC_RELEASE); /* the producers start their measured part */
            flipped = 1;
        }
    }
    uint64_t t1 = mono_ns(), cpu = cpu_ns() - cpu0;
    __atomic_store_n(phase, 2, __ATOMIC_RELEASE); /* StartGate.EndSpan */
    harness_futex_wake((uint32_t *)phase);
    if (st.bad) {
        printf("ERROR %llu records carried the wrong stamp or length\n", (unsigned long long)st.bad);
        return -1;
    }
    uint64_t before = at_start > 0 ? at_start - 1 : 0;
    printf("RESULT {\"in_span\":%llu,\"warmup_messages\":%llu,\"elapsed_ns\":%llu,\"cpu_ns\":%llu,\"empty_polls\":%llu,"
           "\"warmup_in_span\":%llu,\"measured_before_span\":%llu,\"pid\":%d}\n",
           (unsigned long long)(st.measured - before + st.warm_in_span), (unsigned long long)st.warmups, (unsigned long long)(t1 - t0),
           (unsigned long long)cpu, (unsigned long long)empty, (unsigned long long)st.warm_in_span, (unsigned long long)before, (int)getpid());
    fflush(stdout);
    free(dst);
    return 0;
}

int harness_child_main(int argc, char **argv)
{
    struct harness_args a = {
        .role = argc >= 3 ? argv[2] : "",
        .region_fd = (int)harness_u64(argc, argv, "region-fd", (uint64_t)-1),
        .cpu = (int)harness_u64(argc, argv, "cpu", (uint64_t)-1),
        .id = (int)harness_u64(argc, argv, "id", 0),
        .producers = (int)harness_u64(argc, argv, "producers", 1),
        .batched = harness_arg(argc, argv, "batched") && strcasecmp(harness_arg(argc, argv, "batched"), "true") == 0,
        .size = (uint32_t)harness_u64(argc, argv, "size", 8),
        .count = harness_u64(argc, argv, "count", 0),
        .total = harness_u64(argc, argv, "total", 0),
        .warmup = harness_u64(argc, argv, "warmup", 0),
        .warmup_ms = (uint64_t)strtod(harness_arg(argc, argv, "warmup-ms") ? harness_arg(argc, argv, "warmup-ms") : "0", NULL),
        .deadline_ms = harness_u64(argc, argv, "deadline-ms", 120000),
        .oversubscribed = harness_arg(argc, argv, "oversubscribed") && strcasecmp(harness_arg(argc, argv, "oversubscribed"), "true") == 0,
    };
    const char *transport = harness_arg(argc, argv, "transport");
    setvbuf(stdout, NULL, _IOLBF, 0);
    prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive the harness */
    int mpsc = transport && strcasecmp(transport, "MpscRecord") == 0;
    if (!transport || (!mpsc && strcasecmp(transport, "SpscRecord") != 0) || a.producers < 1 || a.producers > (mpsc ? BENCH_MAX_PRODUCERS : 1)
        || a.id < 0 || a.id >= a.producers) {
        printf("ERROR the C child runs SPSC and MPSC record tests only (transport %s, %d producers, id %d)\n", transport ? transport : "?", a.producers, a.id);
        return 2;
    }
    if (a.cpu >= 0)
        pin_to_cpu(a.cpu);
    struct bench_region r;
    char err[200];
    if (region_attach_harness(&r, a.region_fd, err, sizeof err) != 0) {
        printf("ERROR %s\n", err);
        return 2;
    }
    if (part_is_mpsc(r.ring[RING_REQUESTS]->descriptor.ring_kind) != mpsc || !part_is_records(r.ring[RING_REQUESTS]->descriptor.ring_kind)) {
        printf("ERROR ring 0 is not an %s record ring\n", mpsc ? "MPSC" : "SPSC");
        return 2;
    }
    /* The stamp takes 8 bytes, and a record longer than the ring's limit is never claimed. */
    if (a.size < 8 || a.size > r.ring[RING_REQUESTS]->descriptor.max_message_length) {
        printf("ERROR --size %u is not between 8 and the ring's longest message, %u\n", a.size, r.ring[RING_REQUESTS]->descriptor.max_message_length);
        return 2;
    }
    region_prefault(&r);
    uint64_t deadline = mono_ns() + a.deadline_ms * 1000000ull;
    int produce = strcmp(a.role, "produce") == 0;
    int rc = produce && mpsc ? harness_produce(&r, &a, deadline, PRODUCE_MPSC_RECORDS)
           : produce ? harness_produce(&r, &a, deadline, PRODUCE_RECORDS)
           : strcmp(a.role, "consume") == 0 && mpsc ? harness_consume(&r, &a, deadline, harness_accept_many)
           : strcmp(a.role, "consume") == 0 ? harness_consume(&r, &a, deadline, harness_accept)
           : (printf("ERROR unknown role %s\n", a.role), -1);
    r.ctl = NULL;
    region_destroy(&r);
    return rc == 0 ? 0 : 1;
}
