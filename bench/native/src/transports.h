/*
 * transports.h — the send/receive pairs of the ping-pong tests, one per transport, as
 * inline functions so that pingpong.c's loops compile with the transport inlined.
 *
 * Design: `struct side` is one process's view: the ring it produces into (tx) and the one
 * it consumes (rx), the wait blocks, the spin line, its fds and its peer's pid. Every
 * function returns 0 or -1 with s->err set; every receive is bounded (spins check the
 * deadline every SPIN_CHECK_MASK + 1 polls, kernel waits time out after KERNEL_WAIT_NS or
 * are interrupted by the watchdog). Shared-memory orderings are stated at each access.
 */
#ifndef UIPC_NATIVE_TRANSPORTS_H
#define UIPC_NATIVE_TRANSPORTS_H

#include "slotring.h"

#include <errno.h>
#include <linux/futex.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define SPIN_CHECK_MASK 1023u
#define KERNEL_WAIT_NS  100000000L /* one futex/sigtimedwait wait; the deadline bounds the loop */

struct side {
    struct bench_region *reg;
    struct slot_ring tx, rx;
    struct uipc_wait_block *tx_wait;  /* wait block of the consumer of our tx ring (the peer) */
    struct uipc_wait_block *rx_wait;  /* our own wait block */
    uint64_t *line;
    uint64_t line_last;               /* last value seen on the peer's line (spin tests) */
    uint64_t rot;                     /* round trips done (c-spin-rotating: picks the line) */
    int tx_fd, rx_fd;
    pid_t peer;
    int signo;
    sigset_t sigset;
    uint64_t spin_ns, deadline_ns;
    uint64_t waits, eagain, timeouts, wakes_sent, wakes_suppressed;
    uint64_t wake_ns;                 /* time spent inside FUTEX_WAKE */
    char err[160];
};

static int __attribute__((format(printf, 2, 3))) side_error(struct side *s, const char *fmt, ...)
{
    if (!s->err[0]) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(s->err, sizeof s->err, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static inline int over_deadline(const struct side *s)
{
    return g_watchdog_fired || mono_ns() > s->deadline_ns;
}

/* Inside a spin loop: pause, and every SPIN_CHECK_MASK+1 polls give up at the deadline. */
#define SPIN_OR_FAIL(s, n, what)                                                        \
    do {                                                                                \
        _mm_pause();                                                                    \
        if ((++(n) & SPIN_CHECK_MASK) == 0 && over_deadline(s))                         \
            return side_error((s), "timed out waiting for %s", (what));                 \
    } while (0)

static long sys_futex(uint32_t *word, int op, uint32_t val, const struct timespec *ts)
{
    /* No FUTEX_PRIVATE_FLAG: the word is in a MAP_SHARED region used by two processes. */
    return syscall(SYS_futex, word, op, val, ts, NULL, 0);
}

/* FUTEX_WAKE, timed (futex-always): what ringing the doorbell costs the producer (the clock
 * reads are small next to the system call, and only taken when a wake is due). */
static inline int futex_wake_timed(struct side *s, uint32_t *word)
{
    uint64_t t0 = mono_ns();
    long rc = sys_futex(word, FUTEX_WAKE, 1, NULL);
    s->wake_ns += mono_ns() - t0;
    return rc < 0 ? side_error(s, "FUTEX_WAKE: %s", strerror(errno)) : 0;
}

/* ---- one shared cache line, both sides spinning ------------------------------------
 * The parent writes v << 1 (even), the child answers (v << 1) | 1 (odd) on the same
 * word: one line bounces, which is the floor of any shared-memory round trip. */

static inline int line_parent_send(struct side *s, uint64_t v)
{
    __atomic_store_n(s->line, v << 1, __ATOMIC_RELEASE); /* release: pairs with the peer's acquire */
    return 0;
}

static inline int line_parent_recv(struct side *s, uint64_t *v)
{
    uint64_t x;
    unsigned n = 0;
    while (!((x = __atomic_load_n(s->line, __ATOMIC_ACQUIRE)) & 1))
        SPIN_OR_FAIL(s, n, "the reply on the line");
    *v = x >> 1;
    return 0;
}

static inline int line_child_send(struct side *s, uint64_t v)
{
    __atomic_store_n(s->line, (v << 1) | 1, __ATOMIC_RELEASE);
    return 0;
}

static inline int line_child_recv(struct side *s, uint64_t *v)
{
    uint64_t x;
    unsigned n = 0;
    while (((x = __atomic_load_n(s->line, __ATOMIC_ACQUIRE)) & 1) || x == s->line_last)
        SPIN_OR_FAIL(s, n, "a ping on the line");
    s->line_last = x;
    *v = x >> 1;
    return 0;
}

/* ---- one cache line per round trip, moving through 1,024 lines ---------------------
 * The one-line exchange above, but round trip k uses line k mod 1,024 (64 bytes apart, as
 * the slots of a duplex part, uintripc.h 2h). A fixed line's cost depends on where it
 * lands (its home slice: 176-263 ns between lines on the project's machines), and a ring
 * uses all of its lines in turn, so this is the one-line floor averaged over lines.
 * A line holds the child's odd answer from the lap before (or 0), so the child waits for
 * an even, non-zero value; the parent waits for the odd answer on the line it wrote. */

static inline uint64_t *rot_line(struct side *s)
{
    return s->line + (SPIN_ROTATE_OFFSET + (s->rot & (SPIN_ROTATE_LINES - 1)) * 64u) / sizeof(uint64_t);
}

static inline int rot_parent_send(struct side *s, uint64_t v)
{
    __atomic_store_n(rot_line(s), v << 1, __ATOMIC_RELEASE); /* release: pairs with the child's acquire */
    return 0;
}

static inline int rot_parent_recv(struct side *s, uint64_t *v)
{
    uint64_t x;
    unsigned n = 0;
    while (!((x = __atomic_load_n(rot_line(s), __ATOMIC_ACQUIRE)) & 1))
        SPIN_OR_FAIL(s, n, "the reply on the rotating line");
    s->rot++;
    *v = x >> 1;
    return 0;
}

static inline int rot_child_send(struct side *s, uint64_t v)
{
    __atomic_store_n(rot_line(s), (v << 1) | 1, __ATOMIC_RELEASE);
    s->rot++;
    return 0;
}

static inline int rot_child_recv(struct side *s, uint64_t *v)
{
    uint64_t x;
    unsigned n = 0;
    while (((x = __atomic_load_n(rot_line(s), __ATOMIC_ACQUIRE)) & 1) || x == 0)
        SPIN_OR_FAIL(s, n, "a ping on the rotating line");
    *v = x >> 1;
    return 0;
}

/* ---- two cache lines, one per direction, both sides spinning -----------------------
 * The parent writes v on the first line, the child echoes it on the second, 128 bytes on
 * (its own line and prefetch pair): no ring, no positions. The floor of any design that
 * gives each direction its own line, as every pair of rings does. Values only grow, so a
 * side waits for a value other than the last it saw. */

static inline uint64_t *two_lines_out(struct side *s, int parent) { return parent ? s->line : s->line + 16; }

static inline int two_lines_send(struct side *s, uint64_t v, int parent)
{
    __atomic_store_n(two_lines_out(s, parent), v, __ATOMIC_RELEASE); /* release: pairs with the peer's acquire */
    return 0;
}

static inline int two_lines_recv(struct side *s, uint64_t *v, int parent)
{
    const uint64_t *in = two_lines_out(s, !parent);
    uint64_t x;
    unsigned n = 0;
    while ((x = __atomic_load_n(in, __ATOMIC_ACQUIRE)) == s->line_last) /* acquire: a new value */
        SPIN_OR_FAIL(s, n, "a value on the peer's line");
    s->line_last = x;
    *v = x;
    return 0;
}

static inline int lines_parent_send(struct side *s, uint64_t v) { return two_lines_send(s, v, 1); }
static inline int lines_parent_recv(struct side *s, uint64_t *v) { return two_lines_recv(s, v, 1); }
static inline int lines_child_send(struct side *s, uint64_t v) { return two_lines_send(s, v, 0); }
static inline int lines_child_recv(struct side *s, uint64_t *v) { return two_lines_recv(s, v, 0); }

/* ---- two SPSC slot rings (uintripc.h §2a), spinning --------------------------------- */

static inline int ring_try_recv(struct side *s, uint64_t *v)
{
    const uint8_t *e;
    int rc = ring_peek(&s->rx, &e);
    if (rc <= 0)
        return rc < 0 ? side_error(s, "ring corrupted at head %llu", (unsigned long long)s->rx.pos) : 0;
    memcpy(v, e, sizeof *v);
    ring_release(&s->rx);
    return 1;
}

static inline int slot_send(struct side *s, uint64_t v)
{
    int corrupt = 0;
    unsigned n = 0;
    uint8_t *e;
    while (!(e = ring_claim(&s->tx, &corrupt))) {
        if (corrupt)
            return side_error(s, "ring head corrupted");
        SPIN_OR_FAIL(s, n, "ring space");
    }
    memcpy(e, &v, sizeof v);
    ring_publish(&s->tx);
    return 0;
}

static inline int slot_recv(struct side *s, uint64_t *v)
{
    unsigned n = 0;
    int rc;
    while ((rc = ring_try_recv(s, v)) == 0)
        SPIN_OR_FAIL(s, n, "a ring element");
    return rc < 0 ? -1 : 0;
}

/* ---- the wake-up protocol of the library (UintrIpc.Signaling.WaitBlock, uintripc.h §3) ----
 * Consumer, when its ring is empty (after spinning up to spin_ns): token = the doorbell's
 * state before the announcement (futex: wake_word, acquire); consumer_state = SLEEPING with
 * a full fence (xchg); re-check the ring; block in the doorbell with a bounded timeout
 * unless work arrived; consumer_state = AWAKE (xchg). Producer, after each publish: full
 * fence; read consumer_state; if not AWAKE, CAS it to AWAKE (full) and, when the CAS wins,
 * ring the doorbell (futex: wake_word++ then FUTEX_WAKE; eventfd: write 1; signal:
 * tgkill of the consumer thread, whose id comes from fork, not from shared memory). */

enum doorbell { DB_FUTEX, DB_EVENTFD, DB_SIGNAL };

static inline int doorbell_ring(struct side *s, enum doorbell db)
{
    uint64_t t0 = mono_ns();
    if (db == DB_FUTEX) {
        /* Full (locked add): a consumer that has not reached FUTEX_WAIT sees a changed word. */
        __atomic_fetch_add(&s->tx_wait->wake_word, 1, __ATOMIC_SEQ_CST);
        if (sys_futex(&s->tx_wait->wake_word, FUTEX_WAKE, INT32_MAX, NULL) < 0)
            return side_error(s, "FUTEX_WAKE: %s", strerror(errno));
    } else if (db == DB_EVENTFD) {
        uint64_t one = 1;
        while (write(s->tx_fd, &one, sizeof one) != sizeof one) {
            if (errno == EAGAIN)
                break; /* counter at its maximum: a wake-up is pending already */
            if (errno != EINTR || over_deadline(s))
                return side_error(s, "write to eventfd: %s", strerror(errno));
        }
    } else if (syscall(SYS_tgkill, s->peer, s->peer, s->signo) != 0 && errno != ESRCH && errno != EAGAIN) {
        return side_error(s, "tgkill: %s", strerror(errno));
    }
    s->wake_ns += mono_ns() - t0;
    return 0;
}

static inline int wake_if_sleeping(struct side *s, enum doorbell db)
{
    struct uipc_wait_block *w = s->tx_wait;
    /* Full fence: the publication is visible before we read consumer_state; pairs with
     * the consumer's xchg between announcing sleep and re-checking the ring (Dekker). */
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    uint32_t state = __atomic_load_n(&w->consumer_state, __ATOMIC_ACQUIRE);
    /* Full (CAS): exactly one producer takes each announced sleep over and rings. */
    if (state != UIPC_CONSUMER_AWAKE
        && __atomic_compare_exchange_n(&w->consumer_state, &state, UIPC_CONSUMER_AWAKE, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
        if (doorbell_ring(s, db) != 0)
            return -1;
        /* Release, plain read: producer-owned line, one producer. */
        __atomic_store_n(&w->wakeups_sent, w->wakeups_sent + 1, __ATOMIC_RELEASE);
        s->wakes_sent++;
    } else {
        __atomic_store_n(&w->wakeups_suppressed, w->wakeups_suppressed + 1, __ATOMIC_RELEASE);
        s->wakes_suppressed++;
    }
    return 0;
}

/* One bounded wait in the doorbell; 1 = woken (possibly spuriously), 0 = timed out. */
static inline int doorbell_wait(struct side *s, enum doorbell db, uint32_t token)
{
    const struct timespec to = { 0, KERNEL_WAIT_NS };
    s->waits++;
    if (db == DB_FUTEX) {
        if (sys_futex(&s->rx_wait->wake_word, FUTEX_WAIT, token, &to) == 0)
            return 1;
        switch (errno) {
        case EAGAIN: s->eagain++; return 1;
        case ETIMEDOUT: s->timeouts++; return 0;
        case EINTR: return 1;
        default: return side_error(s, "FUTEX_WAIT: %s", strerror(errno));
        }
    }
    if (db == DB_EVENTFD) {
        struct pollfd pfd = { .fd = s->rx_fd, .events = POLLIN };
        int rc = ppoll(&pfd, 1, &to, NULL);
        if (rc > 0) {
            uint64_t count;
            if (read(s->rx_fd, &count, sizeof count) < 0 && errno != EAGAIN && errno != EINTR)
                return side_error(s, "read from eventfd: %s", strerror(errno));
            return 1;
        }
        if (rc == 0) {
            s->timeouts++;
            return 0;
        }
        return errno == EINTR ? 1 : side_error(s, "ppoll: %s", strerror(errno));
    }
    siginfo_t si;
    int sig = sigtimedwait(&s->sigset, &si, &to);
    if (sig == s->signo) {
        const struct timespec zero = { 0, 0 };
        while (sigtimedwait(&s->sigset, &si, &zero) == s->signo)
            ; /* coalesce: one wake-up for every signal pending */
        return 1;
    }
    if (errno == EAGAIN) {
        s->timeouts++;
        return 0;
    }
    return errno == EINTR ? 1 : side_error(s, "sigtimedwait: %s", strerror(errno));
}

static inline int protocol_send(struct side *s, uint64_t v, enum doorbell db)
{
    if (slot_send(s, v) != 0)
        return -1;
    return wake_if_sleeping(s, db);
}

static inline int protocol_recv(struct side *s, uint64_t *v, enum doorbell db)
{
    int rc = ring_try_recv(s, v);
    if (rc != 0)
        return rc < 0 ? -1 : 0;
    if (s->spin_ns) {
        uint64_t t0 = mono_ns();
        for (unsigned n = 1;; n++) {
            _mm_pause();
            if ((rc = ring_try_recv(s, v)) != 0)
                return rc < 0 ? -1 : 0;
            if ((n & 63) == 0 && mono_ns() - t0 >= s->spin_ns)
                break;
        }
    }
    struct uipc_wait_block *w = s->rx_wait;
    for (;;) {
        /* Acquire, before the announcement: a ring after it changes the word. */
        uint32_t token = db == DB_FUTEX ? __atomic_load_n(&w->wake_word, __ATOMIC_ACQUIRE) : 0;
        /* Full (xchg): the announcement is visible before we re-check the ring. */
        __atomic_exchange_n(&w->consumer_state, UIPC_CONSUMER_SLEEPING, __ATOMIC_SEQ_CST);
        int woken = 1;
        if ((rc = ring_try_recv(s, v)) == 0) {
            woken = doorbell_wait(s, db, token);
            if (woken < 0)
                return -1;
        }
        /* Full (xchg): a producer that took the sleep over by CAS finds AWAKE already. */
        __atomic_exchange_n(&w->consumer_state, UIPC_CONSUMER_AWAKE, __ATOMIC_SEQ_CST);
        if (rc == 0) {
            /* Release, plain read: consumer-owned counters. */
            __atomic_store_n(&w->sleeps, w->sleeps + 1, __ATOMIC_RELEASE);
            if (woken)
                __atomic_store_n(&w->wakeups_seen, w->wakeups_seen + 1, __ATOMIC_RELEASE);
            else
                __atomic_store_n(&w->timeouts, w->timeouts + 1, __ATOMIC_RELEASE);
            rc = ring_try_recv(s, v);
        }
        if (rc != 0)
            return rc < 0 ? -1 : 0;
        if (over_deadline(s))
            return side_error(s, "timed out in the doorbell");
    }
}

static inline int futex_send(struct side *s, uint64_t v) { return protocol_send(s, v, DB_FUTEX); }
static inline int futex_recv(struct side *s, uint64_t *v) { return protocol_recv(s, v, DB_FUTEX); }
static inline int evring_send(struct side *s, uint64_t v) { return protocol_send(s, v, DB_EVENTFD); }
static inline int evring_recv(struct side *s, uint64_t *v) { return protocol_recv(s, v, DB_EVENTFD); }
static inline int sigring_send(struct side *s, uint64_t v) { return protocol_send(s, v, DB_SIGNAL); }
static inline int sigring_recv(struct side *s, uint64_t *v) { return protocol_recv(s, v, DB_SIGNAL); }

/* One bounded FUTEX_WAIT of the futex-always test, with its outcome counted. */
static inline int futex_wait_once(struct side *s, struct uipc_wait_block *w, uint32_t seen)
{
    const struct timespec to = { 0, KERNEL_WAIT_NS };
    s->waits++;
    w->sleeps++; /* plain: consumer-owned line */
    if (sys_futex(&w->wake_word, FUTEX_WAIT, seen, &to) == 0) {
        w->wakeups_seen++;
        return 0;
    }
    switch (errno) {
    case EAGAIN: s->eagain++; return 0;
    case ETIMEDOUT: s->timeouts++; w->timeouts++; return 0;
    case EINTR: return 0;
    default: return side_error(s, "FUTEX_WAIT: %s", strerror(errno));
    }
}

/* Always: the producer always increments and wakes, the consumer never spins. */
static inline int futex_always_send(struct side *s, uint64_t v)
{
    if (slot_send(s, v) != 0)
        return -1;
    /* Full (locked add), after the release of the slot: a consumer that reads the new
     * word with acquire also sees the element. */
    __atomic_fetch_add(&s->tx_wait->wake_word, 1, __ATOMIC_SEQ_CST);
    if (futex_wake_timed(s, &s->tx_wait->wake_word) != 0)
        return -1;
    s->tx_wait->wakeups_sent++;
    s->wakes_sent++;
    return 0;
}

static inline int futex_always_recv(struct side *s, uint64_t *v)
{
    struct uipc_wait_block *w = s->rx_wait;
    for (;;) {
        /* Acquire, before the ring check: if the element is missed, `seen` is older than
         * the producer's increment, so FUTEX_WAIT returns EAGAIN or is woken. */
        uint32_t seen = __atomic_load_n(&w->wake_word, __ATOMIC_ACQUIRE);
        int rc = ring_try_recv(s, v);
        if (rc != 0)
            return rc < 0 ? -1 : 0;
        if (futex_wait_once(s, w, seen) != 0)
            return -1;
        if (over_deadline(s))
            return side_error(s, "timed out in FUTEX_WAIT");
    }
}

/* ---- file descriptors: eventfd, pipe, Unix sockets (8-byte messages) ---------------- */

static inline int fd_send(struct side *s, uint64_t v)
{
    size_t done = 0;
    while (done < sizeof v) {
        ssize_t k = write(s->tx_fd, (const char *)&v + done, sizeof v - done);
        if (k > 0)
            done += (size_t)k;
        else if (k < 0 && errno == EINTR && !over_deadline(s))
            continue;
        else if (k < 0 && errno == EINTR)
            return side_error(s, "timed out in write");
        else
            return side_error(s, "write: %s", k < 0 ? strerror(errno) : "closed");
    }
    return 0;
}

static inline int fd_recv(struct side *s, uint64_t *v)
{
    size_t done = 0;
    while (done < sizeof *v) {
        ssize_t k = read(s->rx_fd, (char *)v + done, sizeof *v - done);
        if (k > 0)
            done += (size_t)k;
        else if (k < 0 && errno == EINTR && !over_deadline(s))
            continue;
        else if (k < 0 && errno == EINTR)
            return side_error(s, "timed out in read");
        else
            return side_error(s, "read: %s", k < 0 ? strerror(errno) : "end of file");
    }
    return 0;
}

/* ---- real-time signal: sigqueue + sigtimedwait (the signal is blocked in both) ------ */

static inline int sig_send(struct side *s, uint64_t v)
{
    union sigval sv;
    sv.sival_ptr = (void *)(uintptr_t)v;
    if (sigqueue(s->peer, s->signo, sv) != 0)
        return side_error(s, "sigqueue: %s", strerror(errno));
    return 0;
}

static inline int sig_recv(struct side *s, uint64_t *v)
{
    const struct timespec to = { 0, KERNEL_WAIT_NS };
    siginfo_t si;
    for (;;) {
        int sig = sigtimedwait(&s->sigset, &si, &to);
        if (sig == s->signo) {
            if (si.si_code != SI_QUEUE || si.si_pid != s->peer)
                return side_error(s, "signal %d from pid %d, code %d", sig, (int)si.si_pid, si.si_code);
            *v = (uint64_t)(uintptr_t)si.si_value.sival_ptr;
            return 0;
        }
        if (sig < 0 && errno != EAGAIN && errno != EINTR)
            return side_error(s, "sigtimedwait: %s", strerror(errno));
        if (over_deadline(s))
            return side_error(s, "timed out in sigtimedwait");
    }
}

/* The counters describe the measured part only. */
static inline void side_reset_counters(struct side *s)
{
    s->waits = s->eagain = s->timeouts = s->wakes_sent = s->wakes_suppressed = s->wake_ns = 0;
}

#endif
