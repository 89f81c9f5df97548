/* The receiver and sender entry points of the user-interrupt doorbell. Each dispatches on
 * its mode: the real path (syscalls of the detected variant, STUI/CLUI/SENDUIPI, gated by
 * detection, uintr-abi.md §5.1 step 5) or uintr-sim (uintr_sim.c). */
#define _GNU_SOURCE
#include "uintripc_uintr.h"
#include "uintr_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* Sleep slice of the sliced wait mode: bounds the latency of a wake-up when the variant
 * has no bounded uintr_wait (the handler runs when the sleep returns to user mode, §2.6). */
#define UIPC_UINTR_WAIT_SLICE_NS 50000

/* Variant E rejects usec > 1 000 000 000 (§1.3). */
#define UIPC_UINTR_MAX_WAIT_USEC 1000000000ull

/* The instructions, written with their mnemonics (binutils >= 2.36 knows them whatever the
 * -m flags). Only reachable after detection succeeded: on a CPU without CR4.UINTR they
 * raise #UD = SIGILL (§6.14). */
static inline void ui_stui(void) { __asm__ volatile("stui" ::: "memory"); }
static inline void ui_clui(void) { __asm__ volatile("clui" ::: "memory"); }
/* The index in RAX: GCC may pick another register for _senduipi, and the OS-F-4 QEMU
 * decoder only reads RAX (§5.2, §7). */
static inline void ui_senduipi(uint64_t index) { __asm__ volatile("senduipi %%rax" ::"a"(index) : "memory"); }

/* ---- receiver ------------------------------------------------------------------------------ */

static struct uipc_uintr_receiver *owned(void *handle)
{
    /* The handle must be the calling thread's receiver: the handler, UIF and the pending
     * word all belong to one OS thread. */
    return handle != NULL && handle == uipc_uintr_current ? handle : NULL;
}

UIPC_EXPORT int32_t UintrIpc_UintrReceiverCreate(int32_t simulated, void **out_handle)
{
    *out_handle = NULL;
    const struct uipc_uintr_variant *v = NULL;
    int32_t wait_mode = UIPC_UINTR_WAIT_NONE;
    if (!simulated && (v = uipc_uintr_ready(&wait_mode)) == NULL)
        return -EOPNOTSUPP;
    if (uipc_uintr_current != NULL)
        return -EBUSY;

    struct uipc_uintr_receiver *r;
    if (posix_memalign((void **)&r, 64, sizeof *r) != 0)
        return -ENOMEM;
    memset(r, 0, sizeof *r);
    r->simulated = simulated != 0;
    r->tid = (int32_t)gettid();
    r->sim_fd = -1;

    if (r->simulated) {
        int32_t rc = uipc_sim_receiver_init(r);
        if (rc != 0) {
            free(r);
            return rc;
        }
        uipc_uintr_current = r;
        *out_handle = r;
        return 0;
    }

    r->variant = v;
    /* Visible to the handler before it can run (same thread: program order suffices). */
    uipc_uintr_current = r;
    /* WAITING_RECEIVER only where detection saw the kernel accept it (§8b: without it a
     * receiver blocked in uintr_wait is not woken). */
    unsigned flags = wait_mode == UIPC_UINTR_WAIT_SYSCALL ? v->waiting_receiver_flag : 0;
    if (syscall(v->nr_register_handler, uipc_uintr_handler_address(), flags) != 0) {
        int e = errno;
        uipc_uintr_current = NULL;
        free(r);
        return -e;
    }
    ui_stui(); /* UIF is 0 until STUI (§2.1 step 3) */
    *out_handle = r;
    return 0;
}

UIPC_EXPORT int32_t UintrIpc_UintrReceiverDestroy(void *handle)
{
    struct uipc_uintr_receiver *r = owned(handle);
    if (r == NULL)
        return -EPERM;
    if (r->simulated) {
        uipc_sim_receiver_fini(r);
    } else {
        ui_clui(); /* no delivery while tearing down */
        if (syscall(r->variant->nr_unregister_handler, 0) != 0) {
            int e = errno;
            ui_stui();
            return -e;
        }
    }
    /* After unregistering nothing can be delivered, so the handler no longer reads it. */
    uipc_uintr_current = NULL;
    free(r);
    return 0;
}

UIPC_EXPORT int32_t UintrIpc_UintrVectorFd(void *handle, int32_t vector)
{
    struct uipc_uintr_receiver *r = owned(handle);
    if (r == NULL)
        return -EPERM;
    if (vector < 0 || vector >= (int32_t)UIPC_UINTR_VECTORS)
        return -ENOSPC; /* as uintr_vector_fd / uintr_create_fd (§1.2, §1.3) */
    if (r->simulated)
        return uipc_sim_vector_fd(r, vector);
    long fd = syscall(r->variant->nr_vector_fd, (uint64_t)vector, 0);
    return fd < 0 ? -errno : (int32_t)fd;
}

static int32_t real_wait(struct uipc_uintr_receiver *r, int64_t timeout_ns, uint64_t *out)
{
    int32_t wait_mode = UIPC_UINTR_WAIT_NONE;
    uipc_uintr_ready(&wait_mode);
    int64_t deadline = uipc_monotonic_ns() + timeout_ns;
    for (;;) {
        /* check -> wait -> re-check (§8b): the handler may have run at any point. */
        uint64_t bits = __atomic_exchange_n(&r->pending, 0, __ATOMIC_ACQUIRE);
        if (bits != 0) {
            *out = bits;
            return UIPC_UINTR_WOKEN;
        }
        int64_t left = deadline - uipc_monotonic_ns();
        if (left <= 0) {
            *out = 0;
            return UIPC_UINTR_TIMED_OUT;
        }
        if (wait_mode == UIPC_UINTR_WAIT_SYSCALL) {
            /* An interrupt landing between the exchange above and this call is not seen
             * by the kernel, which sleeps to the end of the slice (§2.6, §8b): the
             * caller's timeout bounds that cost. usec == 0 would return at once. */
            uint64_t usec = ((uint64_t)left + 999) / 1000;
            if (usec > UIPC_UINTR_MAX_WAIT_USEC)
                usec = UIPC_UINTR_MAX_WAIT_USEC;
            if (syscall(r->variant->nr_wait, usec, 0) != 0 && errno != EINTR)
                return -errno;
            /* 0 = slice over, EINTR = a user interrupt (handler already ran) or a signal. */
        } else {
            int64_t slice = left < UIPC_UINTR_WAIT_SLICE_NS ? left : UIPC_UINTR_WAIT_SLICE_NS;
            struct timespec ts = { .tv_sec = 0, .tv_nsec = slice };
            nanosleep(&ts, NULL); /* EINTR: just re-check */
        }
    }
}

UIPC_EXPORT int32_t UintrIpc_UintrWait(void *handle, int64_t timeout_ns, uint64_t *out_vectors)
{
    *out_vectors = 0;
    struct uipc_uintr_receiver *r = owned(handle);
    if (r == NULL)
        return -EPERM;
    if (timeout_ns < 0)
        return -EINVAL;
    /* Keep now + timeout from overflowing (this is still 146 years). */
    if (timeout_ns > INT64_MAX / 2)
        timeout_ns = INT64_MAX / 2;
    return r->simulated ? uipc_sim_wait(r, timeout_ns, out_vectors) : real_wait(r, timeout_ns, out_vectors);
}

UIPC_EXPORT int32_t UintrIpc_UintrPoll(void *handle, uint64_t *out_vectors)
{
    *out_vectors = 0;
    struct uipc_uintr_receiver *r = owned(handle);
    if (r == NULL)
        return -EPERM;
    if (r->simulated)
        uipc_sim_deliver(r);
    /* Skip the locked exchange when nothing is pending (a spinning receiver polls often). */
    if (__atomic_load_n(&r->pending, __ATOMIC_ACQUIRE) != 0)
        *out_vectors = __atomic_exchange_n(&r->pending, 0, __ATOMIC_ACQUIRE);
    return 0;
}

UIPC_EXPORT uint64_t UintrIpc_UintrHandlerCalls(void *handle, int32_t vector)
{
    struct uipc_uintr_receiver *r = handle;
    if (r == NULL || vector < 0 || vector >= (int32_t)UIPC_UINTR_VECTORS)
        return 0;
    return __atomic_load_n(&r->handler_calls[vector], __ATOMIC_RELAXED);
}

UIPC_EXPORT int32_t UintrIpc_UintrReceiverThreadId(void *handle)
{
    struct uipc_uintr_receiver *r = handle;
    return r == NULL ? -EINVAL : r->tid;
}

UIPC_EXPORT int32_t UintrIpc_UintrSimStats(void *handle, struct uipc_uintr_sim_stats *out)
{
    struct uipc_uintr_receiver *r = handle;
    memset(out, 0, sizeof *out);
    if (r == NULL || !r->simulated || r->sim_upid == NULL)
        return -EINVAL;
    const struct uipc_uintr_sim_upid *u = r->sim_upid;
    out->posts = __atomic_load_n(&u->posts, __ATOMIC_RELAXED);
    out->notifications = __atomic_load_n(&u->notifications, __ATOMIC_RELAXED);
    out->deliveries = __atomic_load_n(&r->sim_deliveries, __ATOMIC_RELAXED);
    out->spurious_wakeups = __atomic_load_n(&r->sim_spurious_wakeups, __ATOMIC_RELAXED);
    out->pir = __atomic_load_n(&u->pir, __ATOMIC_ACQUIRE);
    out->status = __atomic_load_n(&u->status, __ATOMIC_ACQUIRE);
    out->wake_word_address = (uint64_t)(uintptr_t)&u->wake_word;
    return 0;
}

/* ---- sender -------------------------------------------------------------------------------- */

/* The per-process sender table: our index -> what to send to. 256 entries like the UITT
 * (§3.3, §6.6).
 * Design: entries change under s_senders_lock; `mode` is written last on registration
 * (release) and first on unregistration, and UintrIpc_UintrSend reads it with acquire, so
 * a sender that sees a mode also sees the rest of the entry. Unregistering an index while
 * another thread sends on it is a caller error (the managed side holds a reference on the
 * index during each send). */
#define UIPC_MAX_SENDERS 256

enum { SENDER_FREE = 0, SENDER_REAL = 1, SENDER_SIM = 2 };

struct sender {
    uint32_t mode;
    uint32_t vector;                  /* sim */
    int64_t kernel_index;             /* real: the uipi_index */
    int32_t fd;                       /* real, fd-semantics variants: our dup of the uintr fd */
    struct uipc_uintr_sim_upid *upid; /* sim */
};

static struct sender s_senders[UIPC_MAX_SENDERS];
static pthread_mutex_t s_senders_lock = PTHREAD_MUTEX_INITIALIZER;

static int32_t claim_slot(void)
{
    for (int32_t i = 0; i < UIPC_MAX_SENDERS; i++)
        if (__atomic_load_n(&s_senders[i].mode, __ATOMIC_RELAXED) == SENDER_FREE)
            return i;
    return -ENOSPC; /* as a full UITT (§1.2) */
}

static int32_t register_real(int32_t vector_fd, struct sender *e)
{
    const struct uipc_uintr_variant *v = uipc_uintr_ready(NULL);
    if (v == NULL)
        return -EOPNOTSUPP;
    int32_t fd = -1;
    if (v->unregister_sender_by_fd) {
        /* unregister_sender(uintr_fd) needs the fd later, and the caller may close its own. */
        fd = fcntl(vector_fd, F_DUPFD_CLOEXEC, 0);
        if (fd < 0)
            return -errno;
    }
    long index = syscall(v->nr_register_sender, vector_fd, 0);
    if (index < 0) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        return -e;
    }
    e->kernel_index = index;
    e->fd = fd;
    return 0;
}

UIPC_EXPORT int32_t UintrIpc_UintrSenderRegister(int32_t vector_fd, int32_t simulated)
{
    if (!simulated && uipc_uintr_ready(NULL) == NULL)
        return -EOPNOTSUPP;
    pthread_mutex_lock(&s_senders_lock);
    int32_t index = claim_slot();
    if (index >= 0) {
        struct sender *e = &s_senders[index];
        int32_t rc = simulated ? uipc_sim_attach(vector_fd, &e->upid, &e->vector) : register_real(vector_fd, e);
        if (rc == 0)
            __atomic_store_n(&e->mode, simulated ? SENDER_SIM : SENDER_REAL, __ATOMIC_RELEASE);
        else
            index = rc;
    }
    pthread_mutex_unlock(&s_senders_lock);
    return index;
}

UIPC_EXPORT int32_t UintrIpc_UintrSenderUnregister(int32_t index)
{
    if (index < 0 || index >= UIPC_MAX_SENDERS)
        return -EINVAL;
    int32_t rc = 0;
    pthread_mutex_lock(&s_senders_lock);
    struct sender *e = &s_senders[index];
    uint32_t mode = __atomic_load_n(&e->mode, __ATOMIC_RELAXED);
    if (mode == SENDER_FREE) {
        rc = -EINVAL;
    } else {
        __atomic_store_n(&e->mode, SENDER_FREE, __ATOMIC_RELEASE);
        if (mode == SENDER_SIM) {
            uipc_sim_detach(e->upid);
        } else {
            const struct uipc_uintr_variant *v = uipc_uintr_ready(NULL);
            long arg = v->unregister_sender_by_fd ? e->fd : e->kernel_index;
            if (syscall(v->nr_unregister_sender, arg, 0) != 0)
                rc = -errno;
            if (e->fd >= 0)
                close(e->fd);
        }
        memset(e, 0, sizeof *e);
    }
    pthread_mutex_unlock(&s_senders_lock);
    return rc;
}

UIPC_EXPORT int32_t UintrIpc_UintrSend(int32_t index)
{
    if ((uint32_t)index >= UIPC_MAX_SENDERS)
        return -EINVAL;
    const struct sender *e = &s_senders[index];
    switch (__atomic_load_n(&e->mode, __ATOMIC_ACQUIRE)) {
    case SENDER_SIM:
        uipc_sim_post(e->upid, e->vector);
        return 0;
    case SENDER_REAL:
        /* A SENDER_REAL entry exists only after detection succeeded (§5.1 step 5). */
        ui_senduipi((uint64_t)e->kernel_index);
        return 0;
    default:
        return -EINVAL;
    }
}

UIPC_EXPORT int32_t UintrIpc_UintrSimNotifyWithoutPost(int32_t index)
{
    if ((uint32_t)index >= UIPC_MAX_SENDERS)
        return -EINVAL;
    const struct sender *e = &s_senders[index];
    if (__atomic_load_n(&e->mode, __ATOMIC_ACQUIRE) != SENDER_SIM)
        return -EINVAL;
    uipc_sim_notify(e->upid);
    return 0;
}
