/*
 * bench.h — shared declarations of the native (C) baselines of the UintrIpc benchmarks.
 *
 * Design: one program, two real processes per test. The parent creates a UintrIpc region
 * (memfd, layout of interop/include/uintripc.h) holding a bench control block, two slot
 * rings, two wait blocks and one spin cache line; then forks (or forks and re-executes
 * itself with --peer, see proc.c). The child attaches, validates, reports ready and runs
 * its side; it reports results (CPU time, counters, errors) through the control block and
 * exits. The parent measures, reaps the child (bounded wait, SIGKILL on timeout) and
 * prints one JSON object per test on stdout. Every wait is bounded by a deadline in the
 * control block and by a SIGALRM watchdog (proc.c) that interrupts blocking system calls.
 */
#ifndef UIPC_NATIVE_BENCH_H
#define UIPC_NATIVE_BENCH_H

#include "uintripc.h"

#include <signal.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>
#include <x86intrin.h>

/* ---- options ------------------------------------------------------------------------ */

struct options {
    uint64_t iters_fast;   /* latency samples of spinning tests */
    uint64_t iters_kernel; /* latency samples of tests that sleep in the kernel */
    int      iters_given;
    int64_t  warmup;       /* -1: a tenth of the iterations */
    double   duration_s;   /* > 0: time budget per latency test (iterations become a cap) */
    double   timeout_s;    /* per-test watchdog */
    uint64_t spin_ns;      /* spin budget of the futex-spin variant */
    uint32_t capacity;     /* slots per ring */
    uint32_t batch;        /* head publication interval of the batched throughput variant */
    uint32_t producers;    /* producer processes of the MPSC throughput tests */
    uint64_t tput_count;   /* messages per throughput test, at most */
    uint64_t tput_bytes;   /* element bytes per throughput test, at most */
    const char *only;      /* comma-separated test or group names, NULL = all */
    int quick, pin, exec_mode, clock_tsc, list;
    unsigned repeat;       /* runs of the whole selection */
    unsigned run;          /* current run, 1-based, printed in each line */
};

/* ---- clock (clock.c) ---------------------------------------------------------------- */

extern int g_clock_tsc;
extern double g_tsc_ns_per_tick;
extern uint64_t g_tsc_base;
extern uint64_t g_mono_base;

static inline uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The clock of latency samples: CLOCK_MONOTONIC (default, the clock .NET's Stopwatch
 * reads) or rdtsc between lfences, scaled by a calibration against CLOCK_MONOTONIC. */
static inline uint64_t bench_now(void)
{
    if (g_clock_tsc) {
        _mm_lfence();
        uint64_t t = __rdtsc();
        _mm_lfence();
        return g_mono_base + (uint64_t)((double)(t - g_tsc_base) * g_tsc_ns_per_tick);
    }
    return mono_ns();
}

static inline uint64_t cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void clock_init(int use_tsc);
const char *clock_name(void);
uint64_t clock_overhead_ns(void);
double clock_tick_ns(void);
/* The step of a clock from the histogram of differences between pairs of its reads (clock_tick_ns). */
double clock_step_of(const uint32_t *seen, uint64_t range);
/* `--clock-step FILE`: the step clock_step_of finds in the differences in FILE (ns, one a line);
 * the .NET harness has the same mode (a test compares them). */
int clock_step_main(const char *file);

/* ---- the bench control block (a USER part of the region) ------------------------------ */

enum { PART_TAG_CTL = 0, PART_TAG_LINE = 1 };       /* tags of the USER parts */
enum { RING_REQUESTS = 0, RING_RESPONSES = 1 };     /* ring tags: parent->child, child->parent */
/* c-spin-rotating: one line per round trip, moving through SPIN_ROTATE_LINES 64-byte lines
 * that start SPIN_ROTATE_OFFSET bytes into the line part (its own pages). */
#define SPIN_ROTATE_LINES  1024u
#define SPIN_ROTATE_OFFSET 4096u
#define BENCH_STOP (1ull << 62)                      /* message value that ends a child loop */
#define BENCH_MAX_FDS 8
#define BENCH_MAX_PRODUCERS 8

/* Written by the parent before the fork (plain; fork/exec orders it), except where noted. */
struct bench_ctl {
    uint32_t test_index;      /* into the test table of main.c; the peer checks it */
    uint32_t element_size;
    uint64_t iterations;      /* latency: measured samples at most; throughput: messages */
    uint64_t warmup;
    uint64_t deadline_ns;     /* CLOCK_MONOTONIC: every loop gives up after this */
    uint64_t spin_ns;
    uint32_t batch;
    int32_t  parent_pid;
    int32_t  signo;
    int32_t  fd_parent_tx, fd_parent_rx, fd_child_tx, fd_child_rx;
    int32_t  fd_count;
    int32_t  fds[BENCH_MAX_FDS];  /* every fd of the transport, closed by the parent after */
    int32_t  pin_child_cpu;       /* -1: no pinning */
    uint32_t producers;           /* throughput: producer processes (MPSC: the parent and producers - 1 children) */
    uint32_t oversubscribed;      /* more spinning processes than CPUs: spinners yield now and then */
    uint8_t  pad0[256 - 116];
    /* child-written results: filled, then child_done = 1 (release); read after the reap */
    uint32_t child_ready;     /* release: attached and ready to run */
    uint32_t child_done;      /* release: results below are final */
    int32_t  child_status;    /* 0 ok, otherwise failed (child_error says why) */
    uint32_t pad1;
    uint64_t child_cpu_ns;    /* CPU time of the measured part */
    uint64_t child_msgs;      /* messages handled in the measured part */
    uint64_t child_t_start, child_t_end; /* throughput: consumer-side window (bench_now) */
    uint64_t child_sleeps, child_eagain, child_timeouts, child_wakes_sent, child_wakes_suppressed;
    uint64_t child_spins;     /* consumer: polls that found nothing (throughput) */
    uint64_t child_wake_ns;   /* time inside FUTEX_WAKE */
    char     child_error[200];
    uint64_t extra_cpu_ns[BENCH_MAX_PRODUCERS]; /* MPSC producer children (index = producer id) */
    uint32_t extra_failed;    /* a producer child failed (its error is in child_error if none was) */
    uint64_t extra_full_polls[BENCH_MAX_PRODUCERS]; /* MPSC producer children: polls that found the ring full */
};

/* ---- region (region.c) ---------------------------------------------------------------- */

/* Slot layout prototype (slotlay, bench only): a build's layout of every SPSC slot ring (make SLOT_LAYOUT=N,
 * BENCH_SLOT_LAYOUT), recorded in the descriptor's reserved[0] (region.c) and checked by ring_open:
 * SLOT_LAYOUT_72       today's: slot = sequence + element, pitch = slot size (72 at 64 B)
 * SLOT_LAYOUT_PITCH128 sequence + element from a 128-byte boundary, pitch 128 (lines 2i, 2i+1)
 * SLOT_LAYOUT_SEQ_AFTER element from a 128-byte boundary (its own line at 64 B), sequence at +64, pitch 128
 * SLOT_LAYOUT_SEQ_LANE  elements back to back (pitch 64 at 64 B), the sequences in an array after them */
#define SLOT_LAYOUT_72        0 /* macros, not an enum: slotring.h selects its code with #if */
#define SLOT_LAYOUT_PITCH128  1
#define SLOT_LAYOUT_SEQ_AFTER 2
#define SLOT_LAYOUT_SEQ_LANE  3
#ifndef BENCH_SLOT_LAYOUT
#define BENCH_SLOT_LAYOUT SLOT_LAYOUT_72
#endif

struct bench_region {
    uint8_t *base;
    size_t size;
    int fd;
    struct bench_ctl *ctl;
    struct uipc_ring_control *ring[2];   /* RING_REQUESTS, RING_RESPONSES */
    struct uipc_wait_block *wait[2];     /* wait[k]: the consumer of ring[k] */
    uint64_t *line;                      /* two 128-byte aligned cache lines, then the rotating lines (the spin tests) */
    uint8_t *user0;                      /* a .NET harness region (region_attach_harness): its control part */
};

/* The .NET harness's control part (bench/UintrIpc.Bench BenchRegions): the words of its throughput
 * protocol (--child, throughput.c harness_child_main), 128 bytes apart by writer. */
#define HARNESS_CONTROL_SIZE 1024u
#define HARNESS_PHASE_OFFSET 128u /* consumer: 1 after its warm-up (release), 2 after its span (futex wake) */
#define HARNESS_READY_OFFSET 256u /* producers: one increment each once ready to measure */
#define HARNESS_START_OFFSET 384u /* harness: 1 once every producer is ready (release) */

int region_create(struct bench_region *r, uint32_t ring_kind, uint32_t element_size, uint64_t capacity, uint64_t capacity1);
void region_prefault(const struct bench_region *r);
int region_attach(struct bench_region *r, int fd, char *err, size_t errlen);
int region_attach_harness(struct bench_region *r, int fd, char *err, size_t errlen);
void region_destroy(struct bench_region *r);

/* ---- processes and watchdog (proc.c) ---------------------------------------------------- */

extern volatile sig_atomic_t g_watchdog_fired;
void watchdog_install(void);
void watchdog_arm(double seconds);
void watchdog_disarm(void);
int pin_to_cpu(int cpu);
/* Starts the child: fork, then either child_fn(r) or exec of this program with --peer. */
pid_t child_start(struct bench_region *r, int exec_mode, int (*child_fn)(struct bench_region *));
/* Waits for the child until deadline_ns (CLOCK_MONOTONIC), then SIGKILLs it. Returns the
 * exit status (0 ok), or -1 when it had to be killed or died of a signal. */
int child_reap(pid_t pid, uint64_t deadline_ns);
int child_wait_ready(struct bench_region *r, pid_t pid, uint64_t deadline_ns);
void child_fail(struct bench_region *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int peer_main(int argc, char **argv);

/* ---- output (stats.c) ------------------------------------------------------------------ */

struct lat_stats {
    uint64_t count, min, max;
    double p50, p90, p99, p999, mean;
};
/* Sorts samples; tick_ns: the clock's step (clock_tick_ns) the percentiles interpolate within,
 * 0 for samples that are not single clock differences (the cost tests' block means). */
void lat_compute(uint64_t *samples, uint64_t n, double tick_ns, struct lat_stats *st);
/* `--percentiles STEP FILE`: p50 p90 p99 p999 of the samples in FILE (ns, one a line) for a clock
 * of that step, as lat_compute; the .NET harness has the same mode (a test compares them). */
int percentiles_main(double tick_ns, const char *file);

void json_begin(const char *name);
void json_str(const char *key, const char *value);
void json_u64(const char *key, uint64_t value);
void json_i64(const char *key, int64_t value);
void json_f64(const char *key, double value);  /* one decimal */
void json_f64p(const char *key, double value, int decimals);
void json_end(void);

/* Ring part kinds (uintripc.h 2): record rings (SPSC or MPSC), MPSC rings (slots or records). */
static inline int part_is_records(uint32_t kind)
{
    return kind == UIPC_PART_SPSC_RECORDS || kind == UIPC_PART_MPSC_RECORDS;
}

static inline int part_is_mpsc(uint32_t kind)
{
    return kind == UIPC_PART_MPSC_SLOTS || kind == UIPC_PART_MPSC_RECORDS;
}

/* ---- tests ------------------------------------------------------------------------------ */

enum test_kind { KIND_LATENCY, KIND_THROUGHPUT, KIND_COST };
enum transport {
    TR_SPIN_LINE, TR_SPIN_TWO_LINES, TR_SPIN_ROTATING, TR_SLOT_RING, TR_DUPLEX, TR_FUTEX, TR_FUTEX_SPIN, TR_FUTEX_ALWAYS,
    TR_EVENTFD, TR_PIPE, TR_UNIX_STREAM, TR_UNIX_SEQPACKET, TR_SIGNAL,
    TR_EVENTFD_RING, TR_SIGNAL_RING,
    TR_TPUT, TR_TPUT_BATCH, TR_TPUT_RECORD, TR_TPUT_RECORD_BATCH, TR_TPUT_MPSC, TR_TPUT_MPSC_BATCH,
    TR_TPUT_MPSC_RECORD, TR_TPUT_MPSC_RECORD_BATCH,
    TR_COST_SYSCALL, TR_COST_FUTEX_WAKE, TR_COST_EVENTFD,
};

struct test_def {
    const char *name;   /* JSON name */
    const char *shrt;   /* --only name; also selected by any prefix ending before a dash */
    enum test_kind kind;
    enum transport tr;
    int sleeps;         /* latency: sleeps in the kernel (fewer default iterations) */
    uint32_t element_size;
};

extern const struct test_def g_tests[];
extern const unsigned g_test_count;

/* pingpong.c */
int pingpong_run(const struct test_def *t, unsigned index, const struct options *o);
int pingpong_child(struct bench_region *r);
/* throughput.c */
int throughput_run(const struct test_def *t, unsigned index, const struct options *o);
int throughput_child(struct bench_region *r);
int harness_child_main(int argc, char **argv);
/* cost.c (one process) */
int cost_run(const struct test_def *t, unsigned index, const struct options *o);

#endif
