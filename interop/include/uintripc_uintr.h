/*
 * uintripc_uintr.h — the user-interrupt doorbell of libuintripc.so: detection, receiver,
 * sender, and the software simulation ("uintr-sim") behind the same entry points.
 *
 * References are to /work/shared/reference/uintr-abi.md (§n).
 *
 * Modes. Every receiver and sender entry point takes or remembers a `simulated` flag:
 *   simulated == 0: the real path (out-of-tree Linux uintr syscalls, SENDUIPI, UIRET). It
 *     refuses with -EOPNOTSUPP unless UintrIpc_UintrDetect found a usable kernel variant
 *     (§5.1), so no uintr instruction and no unknown syscall number ever runs otherwise.
 *   simulated != 0: uintr-sim, a software model of the hardware semantics of §3.4 (posted
 *     bits, ON/SN, coalescing, one handler call per pending vector) that works on any
 *     kernel and across processes. It is a simulation: nothing is delivered
 *     asynchronously; the receiver "takes the notification" in UintrIpc_UintrWait and
 *     UintrIpc_UintrPoll.
 *
 * Threads. A receiver belongs to the thread that created it (the real handler is
 * registered per thread, §2.1, pitfall §6.5); Wait, Poll and Destroy must be called on
 * that thread (else -EPERM). One receiver per thread (else -EBUSY, like a second
 * uintr_register_handler). Senders may be used from any thread, except on variants C and D
 * whose UITT is per task (§1.2): there the index is only valid on the registering thread.
 *
 * Errors are -errno; EINTR never escapes (waits retry with the remaining time).
 */
#ifndef UINTRIPC_UINTR_H
#define UINTRIPC_UINTR_H

#include "uintripc.h"

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- detection (§5.1) ---------------------------------------------------------------- */

enum uipc_uintr_status {
    UIPC_UINTR_AVAILABLE   = 0,
    UIPC_UINTR_UNAVAILABLE = 1,
};

/* The §5.1 step that failed (UIPC_UINTR_STEP_NONE when available). */
enum uipc_uintr_step {
    UIPC_UINTR_STEP_NONE         = 0,
    UIPC_UINTR_STEP_ARCHITECTURE = 1, /* not x86-64 */
    UIPC_UINTR_STEP_CPU          = 2, /* CPUID.(EAX=7,ECX=0):EDX[5] */
    UIPC_UINTR_STEP_KERNEL       = 3, /* no kernel evidence, or variant not identifiable */
    UIPC_UINTR_STEP_PROBE        = 4, /* register/unregister probe on a dedicated thread */
};

/* Kernel evidence bits (uipc_uintr_detection.evidence, uipc_uintr_kernel_evidence.flags). */
#define UIPC_UINTR_EV_KALLSYMS_READ   0x01u /* /proc/kallsyms could be read */
#define UIPC_UINTR_EV_SYM_VECTOR_FD   0x02u /* __x64_sys_uintr_vector_fd (variant E) */
#define UIPC_UINTR_EV_SYM_CREATE_FD   0x04u /* __x64_sys_uintr_create_fd (variants C, D) */
#define UIPC_UINTR_EV_SYM_FUTEX_WAITV 0x08u /* __x64_sys_futex_waitv: 449 is taken (C, not D) */
#define UIPC_UINTR_EV_INTERRUPTS_UIS  0x10u /* /proc/interrupts has a "UIS:" row */
#define UIPC_UINTR_EV_CPUINFO_FLAG    0x20u /* /proc/cpuinfo flags has the word "uintr" (hint only) */
#define UIPC_UINTR_EV_INTERRUPTS_READ 0x40u /* /proc/interrupts could be read */
#define UIPC_UINTR_EV_CPUINFO_READ    0x80u /* /proc/cpuinfo could be read */
#define UIPC_UINTR_EV_SYM_471_TAKEN   0x100u /* __x64_sys_rseq_slice_yield: mainline owns 471, so
                                               a 471-based table (C, E) cannot be trusted (§5.1) */

/* How UintrIpc_UintrWait blocks on the real path. */
enum uipc_uintr_wait_mode {
    UIPC_UINTR_WAIT_NONE      = 0, /* not available */
    UIPC_UINTR_WAIT_SYSCALL   = 1, /* uintr_wait(usec, 0) with WAITING_RECEIVER (variant E, §8b) */
    UIPC_UINTR_WAIT_SLICED    = 2, /* no bounded uintr_wait (C, D, or E without
                                      CONFIG_X86_UINTR_BLOCKING): short sleeps, re-checking
                                      the pending word after each (the handler runs on the
                                      return to user mode, §2.6) */
};

struct uipc_uintr_detection {
    int32_t  status;        /* enum uipc_uintr_status */
    int32_t  failed_step;   /* enum uipc_uintr_step */
    int32_t  variant;       /* 'C', 'D', 'E' (§1.1) or 0 when not identified */
    int32_t  error;         /* errno of the probe (0 if it did not run or succeeded) */
    uint32_t cpuid_max_leaf;/* CPUID.0:EAX (0 when not x86-64) */
    uint32_t cpuid_7_0_edx; /* CPUID.(7,0):EDX (0 when leaf 7 is absent) */
    uint32_t evidence;      /* UIPC_UINTR_EV_* (only gathered once the CPU step passed) */
    int32_t  wait_mode;     /* enum uipc_uintr_wait_mode */
    char     reason[256];   /* NUL-terminated human-readable reason, names the failing check */
};

/* Runs the §5.1 detection once (cached; thread-safe) and copies the result. Returns
 * out->status. Never executes a uintr instruction or a syscall number it has not
 * identified from kernel symbol names. */
UIPC_EXPORT int32_t UintrIpc_UintrDetect(struct uipc_uintr_detection *out);

struct uipc_uintr_kernel_evidence {
    uint32_t flags;   /* UIPC_UINTR_EV_* */
    int32_t  variant; /* 'C', 'D', 'E' or 0, as identified from the symbol names */
};

/* The kernel-evidence step (§5.1 step 3) alone, on given files (NULL = the /proc file), so
 * that the variant identification can be tested with synthetic files. Returns 0. */
UIPC_EXPORT int32_t UintrIpc_UintrInspectKernel(const char *kallsyms_path, const char *interrupts_path,
                                                const char *cpuinfo_path,
                                                struct uipc_uintr_kernel_evidence *out);

/* ---- receiver --------------------------------------------------------------------------- */

/* Creates the calling thread's receiver. Real: registers the GPR-only handler (with
 * UINTR_HANDLER_FLAG_WAITING_RECEIVER where the variant has it, §8b) and executes STUI.
 * Simulated: creates the simulated UPID in a sealed memfd. *out_handle receives an opaque
 * handle. Returns 0 or -errno (-EOPNOTSUPP real path unavailable, -EBUSY this thread
 * already has a receiver). */
UIPC_EXPORT int32_t UintrIpc_UintrReceiverCreate(int32_t simulated, void **out_handle);

/* Tears the receiver down (CLUI + unregister_handler, or marks the simulated UPID as
 * unregistered with SN set so senders post without notifying) and frees it. Vector fds
 * are not closed: their owner closes them. Returns 0 or -errno (-EPERM on the wrong thread).
 *
 * Thread exit. A receiving thread that ends without Destroy is unregistered by the shim
 * (a pthread key destructor runs the same teardown on that thread), so no registration or
 * handler outlives it; the handle stays valid (counters readable, nothing delivered) until
 * UintrIpc_UintrReceiverRelease frees it. */
UIPC_EXPORT int32_t UintrIpc_UintrReceiverDestroy(void *handle);

/* Frees a receiver whose thread has exited (any thread). Returns 0, or -EBUSY while the
 * receiving thread still runs (tear it down there with UintrIpc_UintrReceiverDestroy). */
UIPC_EXPORT int32_t UintrIpc_UintrReceiverRelease(void *handle);

/* Creates the fd for `vector` (0..63) of this receiver: uintr_vector_fd / uintr_create_fd
 * (O_CLOEXEC), or in simulation a new O_CLOEXEC open file description of the UPID memfd
 * whose file position is the vector. Pass it to a sender (SCM_RIGHTS, or inheritance after
 * dup without FD_CLOEXEC). Returns the fd or -errno (-ENOSPC vector >= 64). */
UIPC_EXPORT int32_t UintrIpc_UintrVectorFd(void *handle, int32_t vector);

#define UIPC_UINTR_WOKEN     0
#define UIPC_UINTR_TIMED_OUT 1

/* Blocks (at most timeout_ns, >= 0) until at least one vector is pending, then takes the
 * pending bits into *out_vectors (bit v = vector v) and returns UIPC_UINTR_WOKEN; returns
 * UIPC_UINTR_TIMED_OUT with *out_vectors = 0 when the time is up. Interruptions and
 * spurious wake-ups just loop.
 *
 * The lost-wake-up window of the real path (variant E, uintr_wait(usec)) and how it is
 * bounded. The kernel's uintr_receiver_wait arms a timer and calls schedule(); only the
 * context switch (switch_uintr_prepare) points the UPID's notification vector at the
 * kernel vector that wakes a sleeping receiver. An interrupt posted between the receiver's
 * last look at its pending word and that switch is taken by the CPU's notification
 * processing while the thread is still running in the kernel (ON cleared, PIR moved to
 * UIRR), so nothing wakes the thread: it sleeps to the end of the slice and the handler
 * runs on the way out (uintr-abi.md §2.6, §8b). The kernel checks nothing before it
 * sleeps, so the window cannot be closed from user space; the shim makes it as short as
 * the ABI allows and bounds its cost:
 *   - Residual window: user part, the few register moves between the last atomic
 *     exchange of the pending word and the SYSCALL instruction (the slice length is
 *     computed before that exchange, so no clock read or call sits in between); kernel
 *     part, syscall entry -> hrtimer start -> schedule() -> switch_uintr_prepare, a few
 *     microseconds on hardware (not measured: no UINTR hardware here) and tens of
 *     microseconds on the emulated machine.
 *   - Cost: each wait sleeps in slices that start at UIPC_UINTR_FIRST_SLICE_NS and double
 *     up to UIPC_UINTR_MAX_SLICE_NS (or the time left). An interrupt lost in the window of
 *     a slice is seen when that slice ends, so the worst case is one slice, at most
 *     UIPC_UINTR_MAX_SLICE_NS (3.2 ms) whenever the ring comes; a ring that races with the
 *     start of a wait (the common case: a producer rings as soon as it sees the consumer's
 *     announcement) costs the first slice, 0.2 ms. Before this scheme a lost interrupt cost
 *     the whole wait (MaxParkTime, 100 ms by default). On the emulated machine, whose vCPUs
 *     the host deschedules for milliseconds, the window is hit far more often than it can
 *     be on hardware (see docs/user-interrupts.md); the bound holds there too.
 *   - Price: an idle wait returns from the kernel once per slice, about 35 times per 100 ms
 *     (a futex wait: once), i.e. a few hundred short wake-ups per second per idle consumer;
 *     none once an interrupt ends the wait. Not measured on hardware (none here).
 * uipc_uintr_receiver_stats.late_wakeups counts the slices that ended by their timer and
 * found an interrupt pending (it also counts a ring that coincided with the timer). */
#ifndef UIPC_UINTR_FIRST_SLICE_NS /* overridable at build time, only to measure the scheme against one long slice */
#define UIPC_UINTR_FIRST_SLICE_NS 200000
#endif
#ifndef UIPC_UINTR_MAX_SLICE_NS
#define UIPC_UINTR_MAX_SLICE_NS (16 * UIPC_UINTR_FIRST_SLICE_NS)
#endif

UIPC_EXPORT int32_t UintrIpc_UintrWait(void *handle, int64_t timeout_ns, uint64_t *out_vectors);

/* Counters of a receiver's waits on the real path (all zero in simulation). Written by the
 * receiving thread with relaxed stores; any thread may read them while the receiver exists. */
struct uipc_uintr_receiver_stats {
    uint64_t waits;             /* UintrIpc_UintrWait calls */
    uint64_t wait_syscalls;     /* uintr_wait slices entered */
    uint64_t slices_expired;    /* slices that ran to their end */
    uint64_t late_wakeups;      /* expired slices that found an interrupt pending: the window was hit */
    uint64_t late_max_slice_ns; /* the longest slice among those: the worst cost paid so far */
    uint32_t thread_exited;     /* 1: the receiving thread exited and the shim unregistered it */
    uint32_t reserved;
};

/* Copies the counters (any thread while the receiver exists). Returns 0 or -EINVAL. */
UIPC_EXPORT int32_t UintrIpc_UintrReceiverStats(void *handle, struct uipc_uintr_receiver_stats *out);

/* Never blocks: in simulation takes any posted notification first (the "delivery");
 * then takes the pending bits into *out_vectors. Returns 0 or -errno. */
UIPC_EXPORT int32_t UintrIpc_UintrPoll(void *handle, uint64_t *out_vectors);

/* Handler calls so far for `vector` (relaxed read; any thread while the receiver exists). */
UIPC_EXPORT uint64_t UintrIpc_UintrHandlerCalls(void *handle, int32_t vector);

/* The OS thread id (gettid) of the receiving thread. */
UIPC_EXPORT int32_t UintrIpc_UintrReceiverThreadId(void *handle);

struct uipc_uintr_sim_stats {
    uint64_t posts;            /* senduipi calls posted into the simulated UPID (all senders) */
    uint64_t notifications;    /* posts that found ON == 0 and SN == 0: set ON and woke (§3.4) */
    uint64_t deliveries;       /* notifications taken by the receiver that carried bits */
    uint64_t spurious_wakeups; /* wake-ups of a blocked wait that found nothing posted */
    uint64_t pir;              /* posted bits not yet delivered */
    uint32_t status;           /* UPID status: bit 0 ON, bit 1 SN */
    uint32_t reserved;
    uint64_t wake_word_address;/* the futex word a blocked wait sleeps on (for tests that
                                  check /proc/<tid>/syscall before sending) */
};

/* Counters of a simulated receiver (any thread while it exists). -EINVAL on a real one. */
UIPC_EXPORT int32_t UintrIpc_UintrSimStats(void *handle, struct uipc_uintr_sim_stats *out);

/* ---- sender ------------------------------------------------------------------------------ */

/* Registers this process as a sender to the vector behind `vector_fd` and returns an index
 * (0..255) into the shim's per-process sender table, or -errno. Real: uintr_register_sender.
 * Simulated: validates and maps the UPID memfd (-EOPNOTSUPP if it is not a uintr-sim vector
 * fd, -ESHUTDOWN if the receiver has unregistered). The fd may be closed afterwards. */
UIPC_EXPORT int32_t UintrIpc_UintrSenderRegister(int32_t vector_fd, int32_t simulated);

/* Releases a sender index: uintr_unregister_sender, closes the shim's duplicate of the
 * vector fd, frees the table entry. Must not race with UintrIpc_UintrSend on the same index.
 * Variants C and D (UITT per task, §1.2): only the registering thread can disconnect its
 * connection; from another thread this returns -EPERM without a system call and keeps the
 * entry, so that the caller can hand the index to the registering thread, or give it up
 * with UintrIpc_UintrSenderAbandon. */
UIPC_EXPORT int32_t UintrIpc_UintrSenderUnregister(int32_t index);

/* Frees a per-task entry (C, D) without unregistering it from the kernel (any thread): for
 * an index whose registering thread will not unregister it. Closes the shim's duplicate of
 * the vector fd; the kernel's connection then ends when the vector file's last descriptor
 * closes (uintrfd_release, §1.2), or on D when the registering task exits. Returns 0, or
 * -EINVAL for an index that is not a per-task real entry. */
UIPC_EXPORT int32_t UintrIpc_UintrSenderAbandon(int32_t index);

/* Kernel sender registrations of this process's table that have not been unregistered
 * (abandoned ones stay counted): a leak check for tests and diagnostics. */
UIPC_EXPORT int64_t UintrIpc_UintrSenderKernelRegistrations(void);

/* Test only: on != 0 makes the senders registered from now on per task whatever the variant
 * (sends and unregisters from another thread refused with -EPERM, as on C and D), so that the
 * per-task rules can be exercised on a variant E kernel (the uintr lab's). Never set it outside tests. */
UIPC_EXPORT void UintrIpc_UintrTestSendersPerTask(int32_t on);

/* SENDUIPI with the kernel index in RAX (§7), or the simulated post: PIR |= 1 << vector;
 * if ON and SN were clear, set ON and FUTEX_WAKE the receiver (§3.4). Never blocks.
 * Any thread (variant E): the first send of a thread that has not registered a sender
 * itself first makes two non-blocking system calls that program its UITT MSR (SENDUIPI
 * from an unprepared thread is #UD = SIGILL on the lab's kernel). Variants C and D (UITT
 * per task): only the registering thread, else -EPERM.
 * Returns 0, -EINVAL for an index that is not registered, -EPERM (C, D: wrong thread), or
 * the errno of preparing the thread. Sending to a receiver that has gone away is silently
 * lost, as on hardware (§3.4, §8b). */
UIPC_EXPORT int32_t UintrIpc_UintrSend(int32_t index);

/* Simulation only, for tests: sets ON and wakes the receiver without posting a bit (the
 * empty notification that the sender/receiver race can produce), i.e. a spurious wake-up. */
UIPC_EXPORT int32_t UintrIpc_UintrSimNotifyWithoutPost(int32_t index);

/* Mirrored by lib/UintrIpc/Interop/Shim.Uintr.cs (sequential layout, no padding). */
UIPC_STATIC_ASSERT(sizeof(struct uipc_uintr_detection) == 288, "uipc_uintr_detection is 288 bytes");
UIPC_STATIC_ASSERT(sizeof(struct uipc_uintr_kernel_evidence) == 8, "uipc_uintr_kernel_evidence is 8 bytes");
UIPC_STATIC_ASSERT(sizeof(struct uipc_uintr_sim_stats) == 56, "uipc_uintr_sim_stats is 56 bytes");
UIPC_STATIC_ASSERT(sizeof(struct uipc_uintr_receiver_stats) == 48, "uipc_uintr_receiver_stats is 48 bytes");

#ifdef __cplusplus
}
#endif
#endif /* UINTRIPC_UINTR_H */
