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

static void receiver_unref(struct uipc_uintr_receiver *r)
{
    /* acq_rel: the last owner sees every write of the others before it frees. */
    if (__atomic_sub_fetch(&r->refs, 1, __ATOMIC_ACQ_REL) == 0)
        free(r);
}

/* Undoes the registration on the receiving thread. Real: CLUI first, so that nothing is
 * delivered while tearing down; after unregister_handler nothing can be delivered, so the
 * handler no longer reads uipc_uintr_current. */
static int32_t receiver_teardown(struct uipc_uintr_receiver *r)
{
    if (r->simulated) {
        uipc_sim_receiver_fini(r);
    } else {
        ui_clui();
        if (syscall(r->variant->nr_unregister_handler, 0) != 0) {
            int e = errno;
            ui_stui();
            return -e;
        }
    }
    uipc_uintr_current = NULL;
    return 0;
}

/* Thread exit without Destroy: the pthread key destructor runs on the exiting thread,
 * where the registration can still be undone (initial-exec TLS is valid until the key
 * destructors have run). The handle's reference keeps the memory for its owner. */
static pthread_key_t s_thread_key;
static pthread_once_t s_thread_key_once = PTHREAD_ONCE_INIT;

static void receiver_thread_exit(void *value)
{
    struct uipc_uintr_receiver *r = value;
    if (r != uipc_uintr_current)
        return; /* torn down already */
    if (receiver_teardown(r) != 0)
        uipc_uintr_current = NULL; /* the kernel frees the registration with the thread (uintr_free) */
    __atomic_store_n(&r->thread_exited, 1, __ATOMIC_RELEASE);
    receiver_unref(r);
}

static void thread_key_init(void)
{
    if (pthread_key_create(&s_thread_key, receiver_thread_exit) != 0)
        abort(); /* PTHREAD_KEYS_MAX keys exhausted at load time: nothing sensible to do */
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
    pthread_once(&s_thread_key_once, thread_key_init);

    struct uipc_uintr_receiver *r;
    if (posix_memalign((void **)&r, 64, sizeof *r) != 0)
        return -ENOMEM;
    memset(r, 0, sizeof *r);
    r->simulated = simulated != 0;
    r->tid = (int32_t)gettid();
    r->sim_fd = -1;
    r->refs = 2; /* the registration and the handle */

    if (r->simulated) {
        int32_t rc = uipc_sim_receiver_init(r);
        if (rc != 0) {
            free(r);
            return rc;
        }
    } else {
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
    }
    uipc_uintr_current = r;
    pthread_setspecific(s_thread_key, r); /* cannot fail: the key exists and so does this thread */
    *out_handle = r;
    return 0;
}

UIPC_EXPORT int32_t UintrIpc_UintrReceiverDestroy(void *handle)
{
    struct uipc_uintr_receiver *r = owned(handle);
    if (r == NULL)
        return -EPERM;
    int32_t rc = receiver_teardown(r);
    if (rc != 0)
        return rc;
    pthread_setspecific(s_thread_key, NULL);
    receiver_unref(r); /* the registration */
    receiver_unref(r); /* the handle */
    return 0;
}

UIPC_EXPORT int32_t UintrIpc_UintrReceiverRelease(void *handle)
{
    struct uipc_uintr_receiver *r = handle;
    if (r == NULL)
        return -EINVAL;
    if (!__atomic_load_n(&r->thread_exited, __ATOMIC_ACQUIRE))
        return -EBUSY;
    receiver_unref(r);
    return 0;
}

UIPC_EXPORT int32_t UintrIpc_UintrReceiverStats(void *handle, struct uipc_uintr_receiver_stats *out)
{
    struct uipc_uintr_receiver *r = handle;
    memset(out, 0, sizeof *out);
    if (r == NULL)
        return -EINVAL;
    out->waits = __atomic_load_n(&r->waits, __ATOMIC_RELAXED);
    out->wait_syscalls = __atomic_load_n(&r->wait_syscalls, __ATOMIC_RELAXED);
    out->slices_expired = __atomic_load_n(&r->slices_expired, __ATOMIC_RELAXED);
    out->late_wakeups = __atomic_load_n(&r->late_wakeups, __ATOMIC_RELAXED);
    out->late_max_slice_ns = __atomic_load_n(&r->late_max_slice_ns, __ATOMIC_RELAXED);
    out->thread_exited = __atomic_load_n(&r->thread_exited, __ATOMIC_ACQUIRE);
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

/* uintr_wait(usec, 0) as a bare SYSCALL instruction, so that the last look at the pending
 * word is followed only by register moves (the user part of the window, see the header).
 * Returns 0 (slice over) or -errno (-EINTR: woken by an interrupt or a signal). */
static inline long uintr_wait_syscall(long nr, uint64_t usec)
{
    register uint64_t a0 __asm__("rdi") = usec;
    register uint64_t a1 __asm__("rsi") = 0;
    long ret;
    __asm__ volatile("syscall" : "=a"(ret) : "0"(nr), "r"(a0), "r"(a1) : "rcx", "r11", "memory");
    return ret;
}

static void count(uint64_t *counter)
{
    /* Only the receiving thread writes: a relaxed load and store, no locked instruction. */
    __atomic_store_n(counter, __atomic_load_n(counter, __ATOMIC_RELAXED) + 1, __ATOMIC_RELAXED);
}

/* One slice of a blocking wait (variant E): check -> uintr_wait -> the caller re-checks.
 * Returns 1 if the pending word was set before the syscall (*bits taken), 0 after the
 * slice (or an interruption), -errno on failure. */
static int real_wait_slice(struct uipc_uintr_receiver *r, int64_t slice_ns, uint64_t *bits)
{
    uint64_t usec = ((uint64_t)slice_ns + 999) / 1000; /* >= 1: usec == 0 would return at once */
    if (usec > UIPC_UINTR_MAX_WAIT_USEC)
        usec = UIPC_UINTR_MAX_WAIT_USEC;
    long nr = r->variant->nr_wait;
    count(&r->wait_syscalls);
    /* The last look (acquire, pairs with the handler's release OR), right before SYSCALL. */
    *bits = __atomic_exchange_n(&r->pending, 0, __ATOMIC_ACQUIRE);
    if (*bits != 0)
        return 1;
    long rc = uintr_wait_syscall(nr, usec);
    if (rc == 0) {
        /* The slice ran out. An interrupt that is pending now (its handler ran on the way
         * back to user mode) was posted in the window and waited for the timer. */
        count(&r->slices_expired);
        if (__atomic_load_n(&r->pending, __ATOMIC_ACQUIRE) != 0) {
            count(&r->late_wakeups);
            if ((uint64_t)slice_ns > __atomic_load_n(&r->late_max_slice_ns, __ATOMIC_RELAXED))
                __atomic_store_n(&r->late_max_slice_ns, (uint64_t)slice_ns, __ATOMIC_RELAXED);
        }
        return 0;
    }
    return rc == -EINTR ? 0 : (int)rc;
}

static int32_t real_wait(struct uipc_uintr_receiver *r, int64_t timeout_ns, uint64_t *out)
{
    int32_t wait_mode = UIPC_UINTR_WAIT_NONE;
    uipc_uintr_ready(&wait_mode);
    count(&r->waits);
    int64_t deadline = uipc_monotonic_ns() + timeout_ns;
    int64_t slice = UIPC_UINTR_FIRST_SLICE_NS;
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
            int rc = real_wait_slice(r, left < slice ? left : slice, &bits);
            if (rc < 0)
                return rc;
            if (rc == 1) {
                *out = bits;
                return UIPC_UINTR_WOKEN;
            }
            slice = slice * 2 <= UIPC_UINTR_MAX_SLICE_NS ? slice * 2 : UIPC_UINTR_MAX_SLICE_NS;
        } else {
            int64_t s = left < UIPC_UINTR_WAIT_SLICE_NS ? left : UIPC_UINTR_WAIT_SLICE_NS;
            struct timespec ts = { .tv_sec = 0, .tv_nsec = s };
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
    int32_t fd;                       /* real: our dup of the vector fd (unregister by fd, thread activation) */
    int32_t owner_tid;                /* real: the registering thread */
    int32_t uitt_per_process;         /* real: the variant's UITT is per process (E), else per task */
    struct uipc_uintr_sim_upid *upid; /* sim */
};

/* Sending threads. SENDUIPI needs the sending thread's own UITT MSR (IA32_UINTR_TT), which
 * the kernel programs only in uintr_register_sender on that thread: on the lab's variant E
 * kernel a SENDUIPI from any other thread of the process takes #UD = SIGILL (checked; the
 * lazy #UD fix-up of later uintr-next trees, uintr-abi.md §2.2, is not there). The UITT
 * itself is per process in variant E, so a thread's first send "activates" it once: it
 * registers a sender for the entry's vector fd (which programs this thread's MSR) and
 * unregisters that extra index again; every index of the process is then valid on this
 * thread. Two non-blocking system calls, once per sending thread. Variants C and D keep a
 * UITT per task: there an index is refused (-EPERM) on any thread but the registering one. */
static __thread uint8_t t_sender_ready __attribute__((tls_model("initial-exec")));
static __thread int32_t t_tid __attribute__((tls_model("initial-exec")));

static int32_t this_tid(void)
{
    if (t_tid == 0)
        t_tid = (int32_t)gettid();
    return t_tid;
}

/* Programs this thread's sender MSRs (variant E). 0, or -errno of uintr_register_sender
 * (-ESHUTDOWN: the receiver is gone, which a caller treats as "nothing to send to"). */
static int32_t activate_sending_thread(const struct sender *e)
{
    const struct uipc_uintr_variant *v = uipc_uintr_ready(NULL);
    long extra = syscall(v->nr_register_sender, e->fd, 0);
    if (extra < 0)
        return -errno;
    syscall(v->nr_unregister_sender, extra, 0); /* E: by index; frees only the extra entry */
    t_sender_ready = 1;
    return 0;
}

static struct sender s_senders[UIPC_MAX_SENDERS];
static pthread_mutex_t s_senders_lock = PTHREAD_MUTEX_INITIALIZER;

/* Kernel sender registrations of the table not yet unregistered (the activation's extra
 * index is not counted: it is unregistered at once). Changed under s_senders_lock; read
 * relaxed (a count, nothing is published through it). */
static int64_t s_kernel_senders;

/* Test switch: new real senders behave as on a per-task variant (C, D) whatever the
 * variant, so the lab's variant E kernel can show per-task behaviour. Relaxed: read under
 * s_senders_lock when an entry is made; the test sets it before it makes senders. */
static int32_t s_test_per_task;

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
    /* unregister_sender(uintr_fd) and the activation of other threads need the fd later,
     * and the caller may close its own. */
    int32_t fd = fcntl(vector_fd, F_DUPFD_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    long index = syscall(v->nr_register_sender, vector_fd, 0);
    if (index < 0) {
        int e = errno;
        close(fd);
        return -e;
    }
    e->kernel_index = index;
    e->fd = fd;
    e->owner_tid = this_tid();
    e->uitt_per_process = v->uitt_per_process && !__atomic_load_n(&s_test_per_task, __ATOMIC_RELAXED);
    s_kernel_senders++;
    t_sender_ready = 1; /* the registration programmed this thread's MSRs */
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

/* Unregisters (abandon == 0) or abandons an entry, under the table lock. */
static int32_t release_sender(int32_t index, int abandon)
{
    if (index < 0 || index >= UIPC_MAX_SENDERS)
        return -EINVAL;
    int32_t rc = 0;
    pthread_mutex_lock(&s_senders_lock);
    struct sender *e = &s_senders[index];
    uint32_t mode = __atomic_load_n(&e->mode, __ATOMIC_RELAXED);
    int per_task = mode == SENDER_REAL && !e->uitt_per_process;
    if (mode == SENDER_FREE || (abandon && !per_task)) {
        rc = -EINVAL; /* only per-task real entries are ever abandoned */
    } else if (!abandon && per_task && e->owner_tid != this_tid()) {
        /* C, D: only the registering task can disconnect (§1.2, man page 5); from another
         * one the call fails, or on D (by fd) could disconnect that task's own connection
         * to the same vector. No system call; the entry stays for the owner or for
         * UintrIpc_UintrSenderAbandon. */
        rc = -EPERM;
    } else {
        /* Release: a sender that still sees the mode sees the whole entry (callers do not race). */
        __atomic_store_n(&e->mode, SENDER_FREE, __ATOMIC_RELEASE);
        if (mode == SENDER_SIM) {
            uipc_sim_detach(e->upid);
        } else if (!abandon) {
            const struct uipc_uintr_variant *v = uipc_uintr_ready(NULL);
            long arg = v->unregister_sender_by_fd ? e->fd : e->kernel_index;
            if (syscall(v->nr_unregister_sender, arg, 0) != 0)
                rc = -errno;
            else
                s_kernel_senders--;
        }
        if (mode == SENDER_REAL && e->fd >= 0)
            close(e->fd);
        memset(e, 0, sizeof *e);
    }
    pthread_mutex_unlock(&s_senders_lock);
    return rc;
}

UIPC_EXPORT int32_t UintrIpc_UintrSenderUnregister(int32_t index)
{
    return release_sender(index, 0);
}

UIPC_EXPORT int32_t UintrIpc_UintrSenderAbandon(int32_t index)
{
    return release_sender(index, 1);
}

UIPC_EXPORT int64_t UintrIpc_UintrSenderKernelRegistrations(void)
{
    pthread_mutex_lock(&s_senders_lock);
    int64_t n = s_kernel_senders;
    pthread_mutex_unlock(&s_senders_lock);
    return n;
}

UIPC_EXPORT void UintrIpc_UintrTestSendersPerTask(int32_t on)
{
    __atomic_store_n(&s_test_per_task, on != 0, __ATOMIC_RELAXED);
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
        if (!e->uitt_per_process) {
            if (e->owner_tid != this_tid())
                return -EPERM; /* C, D: the index is valid on the registering task only */
        } else if (__builtin_expect(!t_sender_ready, 0)) {
            int32_t rc = activate_sending_thread(e);
            if (rc == -ESHUTDOWN)
                return 0; /* the receiver is gone: lost, as a send to it would be (§8b) */
            if (rc != 0)
                return rc;
        }
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
