/*
 * cost.c — what one call costs the caller when nobody is on the other side (one process):
 * a plain system call, FUTEX_WAKE on a word nobody waits on (a producer that always rings
 * the futex doorbell), and write(2) to an eventfd nobody reads (the same for eventfd).
 *
 * Design: calls are timed in blocks of COST_BLOCK; the result is the distribution of the
 * per-call mean of each block (a block hit by preemption is an outlier, not a bias).
 */
#include "bench.h"

#include <errno.h>
#include <linux/futex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <unistd.h>

#define COST_BLOCK 100u

struct cost_ctx {
    int efd;
    uint32_t word;
};

static inline int call_getppid(struct cost_ctx *c)
{
    (void)c;
    return syscall(SYS_getppid) > 0 ? 0 : -1; /* syscall(): never a cached libc value */
}

static inline int call_futex_wake(struct cost_ctx *c)
{
    /* Shared (not private) futex, as the doorbell uses: the kernel hashes the page too. */
    return syscall(SYS_futex, &c->word, FUTEX_WAKE, 1, NULL, NULL, 0) >= 0 ? 0 : -1;
}

static inline int call_eventfd_write(struct cost_ctx *c)
{
    uint64_t one = 1;
    return write(c->efd, &one, sizeof one) == sizeof one ? 0 : -1;
}

static inline __attribute__((always_inline)) int
time_blocks(struct cost_ctx *c, uint64_t *samples, uint64_t blocks, int (*call)(struct cost_ctx *))
{
    for (uint64_t b = 0; b < blocks; b++) {
        uint64_t t0 = bench_now();
        for (unsigned i = 0; i < COST_BLOCK; i++)
            if (call(c) != 0)
                return -1;
        samples[b] = (bench_now() - t0 + COST_BLOCK / 2) / COST_BLOCK;
    }
    return 0;
}

int cost_run(const struct test_def *t, unsigned index, const struct options *o)
{
    (void)index;
    uint64_t calls = o->iters_fast, blocks = calls / COST_BLOCK ? calls / COST_BLOCK : 1;
    uint64_t warm = blocks / 10 ? blocks / 10 : 1;
    uint64_t *samples = calloc(blocks, sizeof *samples);
    struct cost_ctx c = { -1, 0 };
    int rc = -1;
    const char *why = "out of memory";
    if (!samples)
        goto out;
    if (t->tr == TR_COST_EVENTFD) {
        /* Non-blocking: a full counter (2^64 - 2) would fail with EAGAIN rather than hang;
         * no run comes near it. */
        c.efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (c.efd < 0) {
            why = "eventfd failed";
            goto out;
        }
    }
    uint64_t cpu0 = 0, cpu1 = 0;
    for (int pass = 0; pass < 2; pass++) {
        uint64_t n = pass ? blocks : warm;
        if (pass)
            cpu0 = cpu_ns();
        switch (t->tr) {
        case TR_COST_SYSCALL: rc = time_blocks(&c, samples, n, call_getppid); break;
        case TR_COST_FUTEX_WAKE: rc = time_blocks(&c, samples, n, call_futex_wake); break;
        default: rc = time_blocks(&c, samples, n, call_eventfd_write); break;
        }
        if (pass)
            cpu1 = cpu_ns();
        if (rc != 0) {
            why = strerror(errno);
            goto out;
        }
    }
    struct lat_stats st;
    lat_compute(samples, blocks, 0, &st); /* block means: no clock step to undo */
    json_begin(t->name);
    json_str("kind", "cost");
    json_str("unit", "ns");
    json_str("clock", clock_name());
    json_u64("count", blocks * COST_BLOCK);
    json_u64("block", COST_BLOCK);
    json_u64("min", st.min);
    json_f64("p50", st.p50);
    json_f64("p90", st.p90);
    json_f64("p99", st.p99);
    json_u64("max", st.max);
    json_f64("mean", st.mean);
    json_f64("cpu_ns_per_call", (double)(cpu1 - cpu0) / (double)(blocks * COST_BLOCK));
    json_u64("run", o->run);
    json_end();
    fprintf(stderr, "%-28s p50 %8.3f us  p90 %8.3f  p99 %8.3f  (per call, blocks of %u, n=%llu)\n",
            t->name, st.p50 / 1e3, st.p90 / 1e3, st.p99 / 1e3, COST_BLOCK,
            (unsigned long long)(blocks * COST_BLOCK));
out:
    if (rc != 0) {
        json_begin(t->name);
        json_str("kind", "cost");
        json_str("error", why);
        json_u64("run", o->run);
        json_end();
        fprintf(stderr, "%-28s FAILED: %s\n", t->name, why);
    }
    if (c.efd >= 0)
        close(c.efd);
    free(samples);
    return rc;
}
