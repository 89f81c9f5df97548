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
 * uintr_register_handler). Senders may be used from any thread, except on variant D
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
 * unregistered with SN set so senders post without notifying). Vector fds are not
 * closed: their owner closes them. Returns 0 or -errno (-EPERM on the wrong thread). */
UIPC_EXPORT int32_t UintrIpc_UintrReceiverDestroy(void *handle);

/* Creates the fd for `vector` (0..63) of this receiver: uintr_vector_fd / uintr_create_fd
 * (O_CLOEXEC), or in simulation a new O_CLOEXEC open file description of the UPID memfd
 * whose file position is the vector. Pass it to a sender (SCM_RIGHTS, or inheritance after
 * dup without FD_CLOEXEC). Returns the fd or -errno (-ENOSPC vector >= 64). */
UIPC_EXPORT int32_t UintrIpc_UintrVectorFd(void *handle, int32_t vector);

#define UIPC_UINTR_WOKEN     0
#define UIPC_UINTR_TIMED_OUT 1

/* Blocks (at most timeout_ns, >= 0) until at least one vector is pending, then takes the
 * pending bits into *out_vectors (bit v = vector v) and returns UIPC_UINTR_WOKEN; returns
 * UIPC_UINTR_TIMED_OUT with *out_vectors = 0 when the time is up. Loop: check pending ->
 * wait -> re-check (§8b); interruptions and spurious wake-ups just loop. On the real path
 * an interrupt landing between the check and uintr_wait is only seen at the end of the
 * wait slice (the kernel does not look for pending interrupts, §8b): bound the timeout. */
UIPC_EXPORT int32_t UintrIpc_UintrWait(void *handle, int64_t timeout_ns, uint64_t *out_vectors);

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

/* Releases a sender index. Must not race with UintrIpc_UintrSend on the same index. */
UIPC_EXPORT int32_t UintrIpc_UintrSenderUnregister(int32_t index);

/* SENDUIPI with the kernel index in RAX (§7), or the simulated post: PIR |= 1 << vector;
 * if ON and SN were clear, set ON and FUTEX_WAKE the receiver (§3.4). Never blocks.
 * Returns 0, -EINVAL for an index that is not registered. Sending to a receiver that has
 * gone away is silently lost, as on hardware (§3.4, §8b). */
UIPC_EXPORT int32_t UintrIpc_UintrSend(int32_t index);

/* Simulation only, for tests: sets ON and wakes the receiver without posting a bit (the
 * empty notification that the sender/receiver race can produce), i.e. a spurious wake-up. */
UIPC_EXPORT int32_t UintrIpc_UintrSimNotifyWithoutPost(int32_t index);

/* Mirrored by lib/UintrIpc/Interop/Shim.Uintr.cs (sequential layout, no padding). */
UIPC_STATIC_ASSERT(sizeof(struct uipc_uintr_detection) == 288, "uipc_uintr_detection is 288 bytes");
UIPC_STATIC_ASSERT(sizeof(struct uipc_uintr_kernel_evidence) == 8, "uipc_uintr_kernel_evidence is 8 bytes");
UIPC_STATIC_ASSERT(sizeof(struct uipc_uintr_sim_stats) == 56, "uipc_uintr_sim_stats is 56 bytes");

#ifdef __cplusplus
}
#endif
#endif /* UINTRIPC_UINTR_H */
