/*
 * pingpong.c — round-trip latency between two processes, one transport per test.
 *
 * Design: the parent sends message v (1, 2, ...) and waits for the child to echo it;
 * one sample = bench_now() before the send to bench_now() after the reply. Warm-up
 * messages come first and are not sampled. BENCH_STOP ends the child's loop. Each
 * transport is a pair of inline send/recv functions per side; the loops are
 * always_inline and take them as constant function pointers, so every test compiles
 * to a loop with its transport inlined (no indirect call in the measured path).
 * Every receive is bounded: spins check the deadline every 1024 polls, kernel waits use
 * a 100 ms timeout (futex, sigtimedwait) or are interrupted by the watchdog (read/write).
 */
#include "transports.h"

#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

/* ---- the loops ------------------------------------------------------------------------ */

typedef int (*send_fn)(struct side *, uint64_t);
typedef int (*recv_fn)(struct side *, uint64_t *);

struct pp_result {
    uint64_t n, cpu_ns, wall_ns;
};

static inline __attribute__((always_inline)) int
parent_loop(struct side *s, uint64_t *samples, uint64_t warmup, uint64_t iters, uint64_t end_ns,
            send_fn snd, recv_fn rcv, struct pp_result *res)
{
    uint64_t v = 1, r = 0, n;
    for (uint64_t i = 0; i < warmup; i++, v++) {
        if (snd(s, v) != 0 || rcv(s, &r) != 0)
            return -1;
        if (r != v)
            return side_error(s, "reply %llu to message %llu", (unsigned long long)r, (unsigned long long)v);
    }
    side_reset_counters(s);
    uint64_t cpu0 = cpu_ns(), wall0 = mono_ns();
    for (n = 0; n < iters; n++, v++) {
        uint64_t t0 = bench_now();
        if (snd(s, v) != 0 || rcv(s, &r) != 0)
            return -1;
        uint64_t t1 = bench_now();
        samples[n] = t1 - t0;
        if (r != v)
            return side_error(s, "reply %llu to message %llu", (unsigned long long)r, (unsigned long long)v);
        if (end_ns && (n & 255) == 255 && mono_ns() > end_ns) {
            n++;
            break;
        }
    }
    res->cpu_ns = cpu_ns() - cpu0;
    res->wall_ns = mono_ns() - wall0;
    res->n = n;
    return snd(s, BENCH_STOP);
}

static inline __attribute__((always_inline)) int
child_loop(struct side *s, uint64_t warmup, send_fn snd, recv_fn rcv, struct pp_result *res)
{
    uint64_t v = 0, n = 0, cpu0 = cpu_ns();
    for (;;) {
        if (rcv(s, &v) != 0)
            return -1;
        if (v == BENCH_STOP)
            break;
        if (v > warmup) {
            if (v == warmup + 1) {
                side_reset_counters(s);
                cpu0 = cpu_ns();
            }
            n++;
        }
        if (snd(s, v) != 0)
            return -1;
    }
    res->cpu_ns = cpu_ns() - cpu0;
    res->n = n;
    return 0;
}

typedef int (*parent_fn)(struct side *, uint64_t *, uint64_t, uint64_t, uint64_t, struct pp_result *);
typedef int (*child_fn)(struct side *, uint64_t, struct pp_result *);

#define TRANSPORT(NAME, PSEND, PRECV, CSEND, CRECV)                                              \
    static int NAME##_parent(struct side *s, uint64_t *smp, uint64_t w, uint64_t it, uint64_t end, \
                             struct pp_result *r)                                                \
    {                                                                                            \
        return parent_loop(s, smp, w, it, end, PSEND, PRECV, r);                                 \
    }                                                                                            \
    static int NAME##_child(struct side *s, uint64_t w, struct pp_result *r)                     \
    {                                                                                            \
        return child_loop(s, w, CSEND, CRECV, r);                                                \
    }

TRANSPORT(line, line_parent_send, line_parent_recv, line_child_send, line_child_recv)
TRANSPORT(rot, rot_parent_send, rot_parent_recv, rot_child_send, rot_child_recv)
TRANSPORT(lines, lines_parent_send, lines_parent_recv, lines_child_send, lines_child_recv)
TRANSPORT(slot, slot_send, slot_recv, slot_send, slot_recv)
TRANSPORT(futex, futex_send, futex_recv, futex_send, futex_recv)
TRANSPORT(evring, evring_send, evring_recv, evring_send, evring_recv)
TRANSPORT(sigring, sigring_send, sigring_recv, sigring_send, sigring_recv)
TRANSPORT(futex_always, futex_always_send, futex_always_recv, futex_always_send, futex_always_recv)
TRANSPORT(fd, fd_send, fd_recv, fd_send, fd_recv)
TRANSPORT(sig, sig_send, sig_recv, sig_send, sig_recv)

static void loops_for(enum transport tr, parent_fn *p, child_fn *c)
{
    switch (tr) {
    case TR_SPIN_LINE: *p = line_parent; *c = line_child; break;
    case TR_SPIN_TWO_LINES: *p = lines_parent; *c = lines_child; break;
    case TR_SPIN_ROTATING: *p = rot_parent; *c = rot_child; break;
    case TR_SLOT_RING:
    case TR_DUPLEX: *p = slot_parent; *c = slot_child; break; /* the same slot rings, interleaved (§2h) */
    case TR_FUTEX:
    case TR_FUTEX_SPIN: *p = futex_parent; *c = futex_child; break;
    case TR_FUTEX_ALWAYS: *p = futex_always_parent; *c = futex_always_child; break;
    case TR_SIGNAL: *p = sig_parent; *c = sig_child; break;
    case TR_EVENTFD_RING: *p = evring_parent; *c = evring_child; break;
    case TR_SIGNAL_RING: *p = sigring_parent; *c = sigring_child; break;
    default: *p = fd_parent; *c = fd_child; break;
    }
}

/* ---- setup ------------------------------------------------------------------------------- */

static void side_open(struct side *s, struct bench_region *r, int parent)
{
    const struct bench_ctl *c = r->ctl;
    memset(s, 0, sizeof *s);
    s->reg = r;
    int out = parent ? RING_REQUESTS : RING_RESPONSES, in = parent ? RING_RESPONSES : RING_REQUESTS;
    ring_open(&s->tx, r->ring[out]);
    ring_open(&s->rx, r->ring[in]);
    s->tx_wait = r->wait[out];
    s->rx_wait = r->wait[in];
    s->line = r->line;
    s->tx_fd = parent ? c->fd_parent_tx : c->fd_child_tx;
    s->rx_fd = parent ? c->fd_parent_rx : c->fd_child_rx;
    s->signo = c->signo;
    sigemptyset(&s->sigset);
    if (s->signo)
        sigaddset(&s->sigset, s->signo);
    s->spin_ns = c->spin_ns;
    s->deadline_ns = c->deadline_ns;
}

/* Creates the transport's file descriptors (no O_CLOEXEC: an exec'd peer inherits them). */
static int transport_setup(enum transport tr, struct bench_ctl *c)
{
    int a[2], b[2];
    c->fd_parent_tx = c->fd_parent_rx = c->fd_child_tx = c->fd_child_rx = -1;
    c->fd_count = 0;
    switch (tr) {
    case TR_EVENTFD:
    case TR_EVENTFD_RING:
        /* The ring test's doorbell is non-blocking, as the library's (ppoll, then read). */
        a[0] = eventfd(0, tr == TR_EVENTFD_RING ? EFD_NONBLOCK : 0);
        b[0] = eventfd(0, tr == TR_EVENTFD_RING ? EFD_NONBLOCK : 0);
        if (a[0] < 0 || b[0] < 0) {
            perror("eventfd");
            return -1;
        }
        c->fd_parent_tx = c->fd_child_rx = a[0];
        c->fd_child_tx = c->fd_parent_rx = b[0];
        c->fds[c->fd_count++] = a[0];
        c->fds[c->fd_count++] = b[0];
        return 0;
    case TR_PIPE:
        if (pipe(a) != 0 || pipe(b) != 0) {
            perror("pipe");
            return -1;
        }
        c->fd_parent_tx = a[1];
        c->fd_child_rx = a[0];
        c->fd_child_tx = b[1];
        c->fd_parent_rx = b[0];
        c->fds[c->fd_count++] = a[0];
        c->fds[c->fd_count++] = a[1];
        c->fds[c->fd_count++] = b[0];
        c->fds[c->fd_count++] = b[1];
        return 0;
    case TR_UNIX_STREAM:
    case TR_UNIX_SEQPACKET:
        if (socketpair(AF_UNIX, tr == TR_UNIX_STREAM ? SOCK_STREAM : SOCK_SEQPACKET, 0, a) != 0) {
            perror("socketpair");
            return -1;
        }
        c->fd_parent_tx = c->fd_parent_rx = a[0];
        c->fd_child_tx = c->fd_child_rx = a[1];
        c->fds[c->fd_count++] = a[0];
        c->fds[c->fd_count++] = a[1];
        return 0;
    case TR_SIGNAL:
    case TR_SIGNAL_RING:
        c->signo = SIGRTMIN + 1;
        return 0;
    default:
        return 0;
    }
}

static void transport_teardown(struct bench_ctl *c, const sigset_t *sigs)
{
    for (int i = 0; i < c->fd_count; i++)
        close(c->fds[i]);
    c->fd_count = 0;
    if (c->signo) {
        /* Drop anything still pending before unblocking, so it cannot kill us later. */
        const struct timespec zero = { 0, 0 };
        while (sigtimedwait(sigs, NULL, &zero) > 0)
            ;
        sigprocmask(SIG_UNBLOCK, sigs, NULL);
    }
}

int pingpong_child(struct bench_region *r)
{
    struct bench_ctl *c = r->ctl;
    struct side s;
    side_open(&s, r, 0);
    s.peer = getppid(); /* from the kernel, not from shared memory (child_start checked it) */
    if (s.signo)
        sigprocmask(SIG_BLOCK, &s.sigset, NULL); /* inherited already; exec keeps it too */
    parent_fn pf;
    child_fn cf;
    loops_for(g_tests[c->test_index].tr, &pf, &cf);
    /* Release: everything above is done before the parent starts sending. */
    __atomic_store_n(&c->child_ready, 1, __ATOMIC_RELEASE);
    struct pp_result res = { 0, 0, 0 };
    int rc = cf(&s, c->warmup, &res);
    c->child_cpu_ns = res.cpu_ns;
    c->child_msgs = res.n;
    c->child_sleeps = s.waits;
    c->child_eagain = s.eagain;
    c->child_timeouts = s.timeouts;
    c->child_wakes_sent = s.wakes_sent;
    c->child_wakes_suppressed = s.wakes_suppressed;
    c->child_wake_ns = s.wake_ns;
    if (rc != 0)
        child_fail(r, "%s", s.err[0] ? s.err : "failed");
    return rc;
}

static double per_msg(uint64_t ns, uint64_t n)
{
    return n ? (double)ns / (double)n : 0.0 / 0.0;
}

int pingpong_run(const struct test_def *t, unsigned index, const struct options *o)
{
    uint64_t iters = t->sleeps ? o->iters_kernel : o->iters_fast;
    uint64_t warmup = o->warmup >= 0 ? (uint64_t)o->warmup : iters / 10;
    double budget = o->timeout_s + (o->duration_s > 0 ? o->duration_s : 0);
    struct bench_region r;
    /* The duplex test: requests in ring 0 and responses in ring 1 of one duplex part, so the
     * child answers in the line that carried the request (uintripc.h 2h). */
    if (region_create(&r, t->tr == TR_DUPLEX ? UIPC_PART_DUPLEX_SLOTS : UIPC_PART_SPSC_SLOTS, 8, o->capacity, o->capacity) != 0)
        return -1;
    struct bench_ctl *c = r.ctl;
    c->test_index = index;
    c->element_size = 8;
    c->iterations = iters;
    c->warmup = warmup;
    c->spin_ns = t->tr == TR_FUTEX_SPIN ? o->spin_ns : 0;
    c->batch = 1;
    c->parent_pid = getpid();
    c->pin_child_cpu = o->pin ? 1 : -1;

    uint64_t *samples = malloc((iters ? iters : 1) * sizeof *samples);
    if (!samples) {
        perror("malloc");
        region_destroy(&r);
        return -1;
    }
    memset(samples, 0, iters * sizeof *samples); /* fault the pages in now, not while timing */
    c->deadline_ns = mono_ns() + (uint64_t)(budget * 1e9);

    int rc = -1, reap = -1;
    sigset_t sigs;
    sigemptyset(&sigs);
    const char *why = "transport setup failed";
    char whybuf[240];
    struct side s;
    struct pp_result res = { 0, 0, 0 };
    pid_t pid = -1;
    if (transport_setup(t->tr, c) != 0)
        goto out;
    if (c->signo) {
        sigaddset(&sigs, c->signo);
        sigprocmask(SIG_BLOCK, &sigs, NULL); /* before the fork: the child inherits it */
    }
    watchdog_arm(budget + 0.5);
    pid = child_start(&r, o->exec_mode, pingpong_child);
    if (pid < 0) {
        why = "fork failed";
        goto out;
    }
    if (child_wait_ready(&r, pid, c->deadline_ns) != 0) {
        why = c->child_error[0] ? c->child_error : "child did not become ready";
        goto out;
    }
    parent_fn pf;
    child_fn cf;
    loops_for(t->tr, &pf, &cf);
    side_open(&s, &r, 1);
    s.peer = pid;
    uint64_t end_ns = o->duration_s > 0 ? mono_ns() + (uint64_t)(o->duration_s * 1e9) : 0;
    rc = pf(&s, samples, warmup, iters, end_ns, &res);
    if (rc != 0) {
        snprintf(whybuf, sizeof whybuf, "parent: %s", s.err);
        why = whybuf;
    }
out:
    if (pid > 0) {
        reap = child_reap(pid, rc == 0 ? c->deadline_ns + 1000000000u : mono_ns() + 2000000000u);
        pid = -1;
    }
    watchdog_disarm();
    if (rc == 0 && (reap != 0 || c->child_status != 0)) {
        rc = -1;
        snprintf(whybuf, sizeof whybuf, "child: %s (exit %d)",
                 c->child_error[0] ? c->child_error : "failed", reap);
        why = whybuf;
    }
    if (rc != 0) {
        json_begin(t->name);
        json_str("kind", "latency");
        json_str("error", why);
        json_u64("run", o->run);
        json_end();
        fprintf(stderr, "%-28s FAILED: %s\n", t->name, why);
    } else {
        struct lat_stats st;
        lat_compute(samples, res.n, clock_tick_ns(), &st);
        json_begin(t->name);
        json_str("kind", "latency");
        json_str("unit", "ns");
        json_str("clock", clock_name());
        json_u64("count", st.count);
        json_u64("warmup", warmup);
        json_f64("clock_tick_ns", clock_tick_ns());
        json_u64("min", st.min);
        json_f64("p50", st.p50);
        json_f64("p90", st.p90);
        json_f64("p99", st.p99);
        json_f64("p999", st.p999);
        json_u64("max", st.max);
        json_f64("mean", st.mean);
        json_f64("cpu_ns_per_msg_parent", per_msg(res.cpu_ns, res.n));
        json_f64("cpu_ns_per_msg_child", per_msg(c->child_cpu_ns, c->child_msgs));
        json_u64("wall_ns", res.wall_ns);
        json_f64p("cpu_util_parent", per_msg(res.cpu_ns, res.wall_ns), 3);
        json_f64p("cpu_util_child", per_msg(c->child_cpu_ns, res.wall_ns), 3);
        if (t->tr == TR_FUTEX || t->tr == TR_FUTEX_SPIN || t->tr == TR_FUTEX_ALWAYS || t->tr == TR_EVENTFD_RING || t->tr == TR_SIGNAL_RING) {
            json_u64("spin_ns", c->spin_ns);
            json_u64("futex_waits_parent", s.waits);
            json_u64("futex_eagain_parent", s.eagain);
            json_u64("futex_timeouts_parent", s.timeouts);
            json_u64("wakes_sent_parent", s.wakes_sent);
            json_u64("wakes_suppressed_parent", s.wakes_suppressed);
            json_f64("futex_wake_ns_avg_parent", per_msg(s.wake_ns, s.wakes_sent));
            json_u64("futex_waits_child", c->child_sleeps);
            json_u64("futex_eagain_child", c->child_eagain);
            json_u64("futex_timeouts_child", c->child_timeouts);
            json_u64("wakes_sent_child", c->child_wakes_sent);
            json_u64("wakes_suppressed_child", c->child_wakes_suppressed);
            json_f64("futex_wake_ns_avg_child", per_msg(c->child_wake_ns, c->child_wakes_sent));
        }
        json_str("mode", o->exec_mode ? "exec" : "fork");
        json_u64("pinned", (uint64_t)o->pin);
        json_u64("run", o->run);
        json_end();
        fprintf(stderr, "%-28s p50 %8.3f us  p90 %8.3f  p99 %8.3f  p99.9 %8.3f  max %9.3f  "
                        "cpu/msg %7.3f / %7.3f us  util %.2f / %.2f  (n=%llu)\n",
                t->name, st.p50 / 1e3, st.p90 / 1e3, st.p99 / 1e3, st.p999 / 1e3, st.max / 1e3,
                per_msg(res.cpu_ns, res.n) / 1e3, per_msg(c->child_cpu_ns, c->child_msgs) / 1e3,
                per_msg(res.cpu_ns, res.wall_ns), per_msg(c->child_cpu_ns, res.wall_ns),
                (unsigned long long)st.count);
    }
    transport_teardown(c, &sigs);
    free(samples);
    region_destroy(&r);
    return rc;
}
