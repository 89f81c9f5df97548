/* uintr-sim: a software model of user-interrupt delivery (uintr-abi.md §3.2-§3.4) behind
 * the same entry points as the real path, for machines without UINTR. It is a
 * simulation: nothing interrupts the receiver; it takes notifications when it waits or
 * polls. What it keeps from the hardware: one UPID per receiving thread with ON, SN and a
 * 64-bit PIR; SENDUIPI = locked OR into PIR, then a notification only if ON and SN were
 * clear; the receiver's notification processing clears ON and moves PIR to its pending
 * bits; one handler call per pending vector, highest first, so N sends of one vector
 * before a delivery coalesce into one call (§3.4, observed on an emulated system in §8b).
 * The "notification IPI" is a FUTEX_WAKE on a word in the UPID page.
 *
 * Cross-process: the UPID lives in a sealed memfd. A vector fd is a separate open file
 * description of that memfd (opened through /proc/self/fd) whose file position is the
 * vector, the way a real uvec fd's file carries {UPID, vector} (§2.1). It travels like a
 * real one (SCM_RIGHTS, inheritance); a sender maps it. The receiver never reads or
 * writes through vector fds, so their positions stay put; a sender validates the value. */
#define _GNU_SOURCE
#include "uintripc_uintr.h"
#include "uintr_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

int64_t uipc_monotonic_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ---- receiver ------------------------------------------------------------------------------ */

int32_t uipc_sim_receiver_init(struct uipc_uintr_receiver *r)
{
    int fd = memfd_create("uintr-sim-upid", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (fd < 0)
        return -errno;
    /* Fixed size for good: a sender holding the fd can neither shrink it (SIGBUS for
     * everyone mapping it) nor grow it. */
    if (ftruncate(fd, UIPC_SIM_UPID_SIZE) != 0 ||
        fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) != 0) {
        int e = errno;
        close(fd);
        return -e;
    }
    void *p = mmap(NULL, UIPC_SIM_UPID_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) {
        int e = errno;
        close(fd);
        return -e;
    }
    struct uipc_uintr_sim_upid *u = p; /* zero-filled by ftruncate: ON = SN = PIR = 0 */
    u->version = UIPC_SIM_UPID_VERSION;
    u->receiver_pid = getpid();
    u->receiver_tid = r->tid;
    u->receiver_state = UIPC_SIM_RECEIVER_REGISTERED;
    /* Publication: senders read magic with acquire and only then the rest. */
    __atomic_store_n(&u->magic, UIPC_SIM_UPID_MAGIC, __ATOMIC_RELEASE);
    r->sim_fd = fd;
    r->sim_upid = u;
    return 0;
}

/* Like the kernel on unregister (§3.2 "SN ... after unregister"): later posts set PIR bits
 * that nobody reads and wake nobody. Senders keep their own mappings, so they never fault. */
void uipc_sim_receiver_fini(struct uipc_uintr_receiver *r)
{
    struct uipc_uintr_sim_upid *u = r->sim_upid;
    __atomic_store_n(&u->receiver_state, UIPC_SIM_RECEIVER_UNREGISTERED, __ATOMIC_RELEASE);
    __atomic_fetch_or(&u->status, UIPC_SIM_SN, __ATOMIC_SEQ_CST);
    munmap(u, UIPC_SIM_UPID_SIZE);
    close(r->sim_fd);
    r->sim_upid = NULL;
    r->sim_fd = -1;
}

int32_t uipc_sim_vector_fd(struct uipc_uintr_receiver *r, int32_t vector)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", r->sim_fd);
    /* A new open file description (dup would share the file position with the others). */
    int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    if (lseek(fd, vector, SEEK_SET) != vector) {
        int e = errno;
        close(fd);
        return -e;
    }
    return fd;
}

/* The receiver's processing of a notification (§3.4): clear ON, then take PIR, then run
 * the handler logic once per vector, highest vector first (§2.3). Clearing ON before
 * taking PIR means a sender that posts after our exchange finds ON clear and notifies
 * again, so its bit is not stranded. */
uint64_t uipc_sim_deliver(struct uipc_uintr_receiver *r)
{
    struct uipc_uintr_sim_upid *u = r->sim_upid;
    /* Cheap test first (acquire loads) so that a spinning receiver does no locked
     * operation while nothing was sent. PIR can be non-zero with ON clear only for the
     * moment between a sender's OR and its ON update, hence both are read. */
    if ((__atomic_load_n(&u->status, __ATOMIC_ACQUIRE) & UIPC_SIM_ON) == 0 &&
        __atomic_load_n(&u->pir, __ATOMIC_ACQUIRE) == 0)
        return 0;
    __atomic_fetch_and(&u->status, ~UIPC_SIM_ON, __ATOMIC_SEQ_CST);
    uint64_t bits = __atomic_exchange_n(&u->pir, 0, __ATOMIC_SEQ_CST);
    for (int v = (int)UIPC_UINTR_VECTORS - 1; v >= 0; v--)
        if (bits & (1ull << v))
            uipc_uintr_record(r, (unsigned)v);
    if (bits != 0)
        __atomic_fetch_add(&r->sim_deliveries, 1, __ATOMIC_RELAXED);
    return bits;
}

static long futex_wait(uint32_t *word, uint32_t expected, int64_t timeout_ns)
{
    struct timespec rel = { .tv_sec = timeout_ns / 1000000000, .tv_nsec = timeout_ns % 1000000000 };
    /* Not FUTEX_PRIVATE_FLAG: the word is in a MAP_SHARED page and senders are other processes. */
    return syscall(SYS_futex, word, FUTEX_WAIT, expected, &rel, NULL, 0);
}

int32_t uipc_sim_wait(struct uipc_uintr_receiver *r, int64_t timeout_ns, uint64_t *out)
{
    struct uipc_uintr_sim_upid *u = r->sim_upid;
    int64_t deadline = uipc_monotonic_ns() + timeout_ns;
    int woken = 0;
    for (;;) {
        uipc_sim_deliver(r);
        uint64_t bits = __atomic_exchange_n(&r->pending, 0, __ATOMIC_ACQUIRE);
        if (bits != 0) {
            *out = bits;
            return UIPC_UINTR_WOKEN;
        }
        if (woken) {
            /* Woken (or the futex word had moved) but nothing was posted: an empty
             * notification or a spurious futex return. Keep waiting. */
            __atomic_fetch_add(&r->sim_spurious_wakeups, 1, __ATOMIC_RELAXED);
            woken = 0;
        }
        int64_t left = deadline - uipc_monotonic_ns();
        if (left <= 0) {
            *out = 0;
            return UIPC_UINTR_TIMED_OUT;
        }
        /* Read the word before looking at ON: a sender sets ON before it increments the
         * word, so either we see ON here, or the word differs from `token` and FUTEX_WAIT
         * returns at once, or the sender's FUTEX_WAKE finds us queued. */
        uint32_t token = __atomic_load_n(&u->wake_word, __ATOMIC_ACQUIRE);
        if (__atomic_load_n(&u->status, __ATOMIC_ACQUIRE) & UIPC_SIM_ON)
            continue; /* a notification is outstanding: deliver it */
        if (futex_wait(&u->wake_word, token, left) == 0 || errno == EAGAIN)
            woken = 1;
        else if (errno != ETIMEDOUT && errno != EINTR)
            return -errno;
        /* ETIMEDOUT and EINTR: loop; the deadline test decides. */
    }
}

/* ---- sender ---------------------------------------------------------------------------------- */

int32_t uipc_sim_attach(int32_t vector_fd, struct uipc_uintr_sim_upid **out_upid, uint32_t *out_vector)
{
    /* Validate before mapping: a memfd sealed against shrinking can never SIGBUS us, and
     * anything that is not one (a socket, an eventfd, a plain file) is not a vector fd. */
    int seals = fcntl(vector_fd, F_GET_SEALS);
    if (seals < 0)
        return errno == EBADF ? -EBADF : -EOPNOTSUPP;
    struct stat st;
    if (fstat(vector_fd, &st) != 0)
        return -errno;
    if (!(seals & F_SEAL_SHRINK) || st.st_size != UIPC_SIM_UPID_SIZE)
        return -EOPNOTSUPP;
    off_t vector = lseek(vector_fd, 0, SEEK_CUR);
    if (vector < 0 || vector >= (off_t)UIPC_UINTR_VECTORS)
        return -EOPNOTSUPP;
    void *p = mmap(NULL, UIPC_SIM_UPID_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, vector_fd, 0);
    if (p == MAP_FAILED)
        return -errno;
    struct uipc_uintr_sim_upid *u = p;
    if (__atomic_load_n(&u->magic, __ATOMIC_ACQUIRE) != UIPC_SIM_UPID_MAGIC ||
        u->version != UIPC_SIM_UPID_VERSION) {
        munmap(p, UIPC_SIM_UPID_SIZE);
        return -EOPNOTSUPP;
    }
    /* Like uintr_register_sender's ESHUTDOWN (§1.2, §1.3): the receiver is gone. */
    if (__atomic_load_n(&u->receiver_state, __ATOMIC_ACQUIRE) != UIPC_SIM_RECEIVER_REGISTERED) {
        munmap(p, UIPC_SIM_UPID_SIZE);
        return -ESHUTDOWN;
    }
    *out_upid = u;
    *out_vector = (uint32_t)vector;
    return 0;
}

void uipc_sim_detach(struct uipc_uintr_sim_upid *upid)
{
    munmap(upid, UIPC_SIM_UPID_SIZE);
}

/* The simulated notification IPI: bump the futex word (after ON was set, see uipc_sim_wait)
 * and wake the receiver if it sleeps. */
static void notify(struct uipc_uintr_sim_upid *u)
{
    __atomic_fetch_add(&u->notifications, 1, __ATOMIC_SEQ_CST);
    __atomic_fetch_add(&u->wake_word, 1, __ATOMIC_SEQ_CST);
    syscall(SYS_futex, &u->wake_word, FUTEX_WAKE, 1, NULL, NULL, 0);
}

/* Sets ON if ON and SN are clear; true when this caller set it (and must notify). */
static int set_outstanding(struct uipc_uintr_sim_upid *u)
{
    uint32_t status = __atomic_load_n(&u->status, __ATOMIC_ACQUIRE);
    while ((status & (UIPC_SIM_ON | UIPC_SIM_SN)) == 0) {
        if (__atomic_compare_exchange_n(&u->status, &status, status | UIPC_SIM_ON, 0,
                                        __ATOMIC_SEQ_CST, __ATOMIC_ACQUIRE))
            return 1;
    }
    return 0;
}

/* SENDUIPI (§3.4): PIR[vector] <- 1; if SN == 0 && ON == 0 then ON <- 1 and notify. */
void uipc_sim_post(struct uipc_uintr_sim_upid *u, uint32_t vector)
{
    __atomic_fetch_add(&u->posts, 1, __ATOMIC_RELAXED);
    __atomic_fetch_or(&u->pir, 1ull << vector, __ATOMIC_SEQ_CST);
    if (set_outstanding(u))
        notify(u);
}

void uipc_sim_notify(struct uipc_uintr_sim_upid *u)
{
    if (set_outstanding(u))
        notify(u);
}
