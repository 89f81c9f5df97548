/* Shared between the uintr translation units of the shim. Included by uintr_handler.c,
 * which is compiled -mgeneral-regs-only: keep this header to integer types and inline
 * integer code. Section numbers refer to shared/reference/uintr-abi.md. */
#ifndef UINTR_INTERNAL_H
#define UINTR_INTERNAL_H

#include <stdint.h>

#define UIPC_UINTR_VECTORS 64u /* vectors 0..63 per receiving thread (§2.1) */

/* One receiving thread.
 * Design: `pending` and `handler_calls` are written only on the receiving thread, by the
 * handler (real: asynchronously, at any instruction boundary of that thread, §2.3) or by
 * the simulated delivery. Both use single locked RMW instructions, so a handler that
 * interrupts the thread between two instructions of UintrIpc_UintrWait/Poll cannot lose
 * an update; the consumer takes `pending` with an atomic exchange (acquire, pairing with
 * the handler's release OR). Other threads only read `handler_calls` (relaxed). */
struct uipc_uintr_receiver {
    uint64_t pending;                           /* bit v: vector v seen, not yet taken */
    uint64_t handler_calls[UIPC_UINTR_VECTORS]; /* handler invocations per vector */
    int32_t simulated;
    int32_t tid;
    /* Lifetime: one reference for the registration (dropped by Destroy or at thread exit),
     * one for the caller's handle (dropped by Destroy or Release); freed at zero. */
    uint32_t refs;                              /* atomic */
    uint32_t thread_exited;                     /* 1 once unregistered at thread exit (release) */
    /* Real-path wait counters: the receiving thread writes them (relaxed), anyone reads. */
    uint64_t waits;                             /* UintrIpc_UintrWait calls */
    uint64_t wait_syscalls;                     /* uintr_wait slices entered */
    uint64_t slices_expired;                    /* slices that ran to their end */
    uint64_t late_wakeups;                      /* ... and found an interrupt pending (lost-wake-up window) */
    uint64_t late_max_slice_ns;                 /* the longest such slice: the worst cost paid */
    const struct uipc_uintr_variant *variant;   /* real path */
    int32_t sim_fd;                             /* simulated UPID memfd */
    int32_t reserved;
    struct uipc_uintr_sim_upid *sim_upid;       /* its MAP_SHARED mapping */
    uint64_t sim_deliveries;                    /* receiver thread writes, relaxed */
    uint64_t sim_spurious_wakeups;              /* receiver thread writes, relaxed */
};

/* The receiver of the current thread, read by the handler. initial-exec so the handler
 * reaches it with one %fs-relative load and no call into __tls_get_addr (which is not
 * GPR-only); 8 bytes of static TLS. Set before the handler is registered, cleared after it
 * is unregistered. Defined in uintr_handler.c. */
extern __thread struct uipc_uintr_receiver *uipc_uintr_current
    __attribute__((tls_model("initial-exec")));

/* What one handler invocation records (§7: "atomically OR 1ull << vector into pending
 * with __ATOMIC_RELEASE ... plus a per-vector counter. Nothing else."). The real handler
 * and the simulated delivery both call this, so the simulation runs the same logic. */
static inline void uipc_uintr_record(struct uipc_uintr_receiver *r, unsigned vector)
{
    __atomic_fetch_or(&r->pending, 1ull << vector, __ATOMIC_RELEASE);
    __atomic_fetch_add(&r->handler_calls[vector], 1, __ATOMIC_RELAXED);
}

/* The address of the real handler (uintr_handler.c), for uintr_register_handler. A
 * function rather than a declaration of the handler, because its interrupt-attribute
 * prototype only makes sense in the -muintr translation unit. */
uint64_t uipc_uintr_handler_address(void);

/* ---- variants (§1, §7) ---------------------------------------------------------------- */

struct uipc_uintr_variant {
    char letter;                  /* 'C', 'D', 'E' */
    const char *description;
    long nr_register_handler;
    long nr_unregister_handler;
    long nr_vector_fd;            /* uintr_vector_fd (E) / uintr_create_fd (C, D) */
    long nr_register_sender;
    long nr_unregister_sender;
    int unregister_sender_by_fd;  /* 1: (uintr_fd, flags); 0: (uipi_index, flags) */
    long nr_wait;
    int wait_takes_usec;          /* 1: uintr_wait(usec, flags) (E); 0: uintr_wait(flags) */
    int no_hw_errno;              /* "kernel support but feature disabled" (§5.1 step 4) */
    unsigned waiting_receiver_flag; /* UINTR_HANDLER_FLAG_WAITING_RECEIVER or 0 (§1.3) */
    int uitt_per_process;         /* 1: one UITT per process, indices valid on every thread (E, §1.3); 0: per task (D, §1.2; C assumed alike) */
};

/* The table entry for 'C', 'D' or 'E', or NULL. */
const struct uipc_uintr_variant *uipc_uintr_variant_get(int letter);

/* The detected variant and wait mode when detection succeeded, else NULL (runs detection). */
const struct uipc_uintr_variant *uipc_uintr_ready(int32_t *wait_mode);

/* ---- simulation (uintr_sim.c) ------------------------------------------------------------ */

/* The simulated UPID (§3.2) as it lives in a sealed memfd of UIPC_SIM_UPID_SIZE bytes
 * shared by the receiver and every sender process.
 * Design: the receiver writes every field, then `magic` last (release); a sender validates
 * magic (acquire), version and the size before use. `status` and `pir` are changed only
 * with locked RMW operations (full fences), in the order of §3.4: a sender ORs into PIR
 * first, then sets ON if ON and SN are clear; the receiver clears ON first, then exchanges
 * PIR with 0. Whatever the interleaving, a posted bit is either taken by a delivery that
 * follows the post or leaves ON set (which makes the next wait return), so no post is lost;
 * the price is an occasional notification with an empty PIR (a spurious wake-up).
 * `wake_word` is the futex word: a notifying sender increments it after setting ON, so a
 * receiver that read the word before checking ON cannot sleep through the notification.
 * Peer death: a sender's mapping keeps the page alive; posts to a receiver that is gone
 * land in a page nobody reads (SN is set on unregister, so they do not even wake). */
struct uipc_uintr_sim_upid {
    uint32_t magic;          /*  0 UIPC_SIM_UPID_MAGIC, written last (release) */
    uint32_t version;        /*  4 UIPC_SIM_UPID_VERSION */
    uint32_t status;         /*  8 bit 0 ON, bit 1 SN (§3.2); locked RMW only */
    uint32_t wake_word;      /* 12 futex word, +1 per notification (full) */
    uint64_t pir;            /* 16 posted requests, bit v = vector v (§3.2 bits 127:64); locked RMW */
    int32_t  receiver_pid;   /* 24 */
    int32_t  receiver_tid;   /* 28 */
    uint32_t receiver_state; /* 32 UIPC_SIM_RECEIVER_* (release on change) */
    uint32_t reserved0;      /* 36 */
    uint64_t posts;          /* 40 diagnostic, relaxed (no hardware equivalent) */
    uint64_t notifications;  /* 48 diagnostic, full */
};

#define UIPC_SIM_UPID_MAGIC   0x4d495355u /* "USIM" */
#define UIPC_SIM_UPID_VERSION 1u
#define UIPC_SIM_UPID_SIZE    4096u
#define UIPC_SIM_ON           0x1u /* Outstanding Notification (§3.2 bit 0) */
#define UIPC_SIM_SN           0x2u /* Suppress Notification (§3.2 bit 1) */
#define UIPC_SIM_RECEIVER_REGISTERED   1u
#define UIPC_SIM_RECEIVER_UNREGISTERED 2u

int32_t uipc_sim_receiver_init(struct uipc_uintr_receiver *r);
void uipc_sim_receiver_fini(struct uipc_uintr_receiver *r);
int32_t uipc_sim_vector_fd(struct uipc_uintr_receiver *r, int32_t vector);
/* The delivery: takes a notification, records each posted vector once. Returns the bits. */
uint64_t uipc_sim_deliver(struct uipc_uintr_receiver *r);
int32_t uipc_sim_wait(struct uipc_uintr_receiver *r, int64_t timeout_ns, uint64_t *out);
/* Sender side: maps and validates the UPID behind a vector fd. */
int32_t uipc_sim_attach(int32_t vector_fd, struct uipc_uintr_sim_upid **out_upid, uint32_t *out_vector);
void uipc_sim_detach(struct uipc_uintr_sim_upid *upid);
void uipc_sim_post(struct uipc_uintr_sim_upid *upid, uint32_t vector);
void uipc_sim_notify(struct uipc_uintr_sim_upid *upid);

int64_t uipc_monotonic_ns(void);

#endif /* UINTR_INTERNAL_H */
