/* Safe, layered detection of user interrupts (uintr-abi.md §5.1): architecture, CPUID,
 * kernel evidence read from /proc (symbol names, interrupt rows, cpuinfo flags) without
 * calling any syscall number, and only when a variant has been identified from symbol
 * names, a register/unregister probe on a dedicated thread. Stops at the first failure
 * and says which check failed. The result is computed once and cached. */
#define _GNU_SOURCE
#include "uintripc_uintr.h"
#include "uintr_internal.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>
#if defined(__x86_64__)
#include <cpuid.h>
#endif

static pthread_once_t s_once = PTHREAD_ONCE_INIT;
static struct uipc_uintr_detection s_detection;     /* written once under s_once */
static const struct uipc_uintr_variant *s_variant;  /* non-NULL only when available */

/* ---- kernel evidence (§5.1 step 3) ------------------------------------------------------ */

/* The symbol name of a /proc/kallsyms line ("address type name [module]"), NUL-terminated
 * in place; NULL if the line has no third field. */
static char *kallsyms_name(char *line)
{
    char *p = line;
    for (int field = 0; field < 2; field++) {
        p = strchr(p, ' ');
        if (p == NULL)
            return NULL;
        p++;
    }
    p[strcspn(p, " \t\n")] = '\0';
    return p;
}

static void scan_kallsyms(const char *path, uint32_t *flags)
{
    FILE *f = fopen(path, "re");
    if (f == NULL)
        return;
    *flags |= UIPC_UINTR_EV_KALLSYMS_READ;
    char line[512];
    while (fgets(line, sizeof line, f) != NULL) {
        const char *name = kallsyms_name(line);
        if (name == NULL || strncmp(name, "__x64_sys_", 10) != 0)
            continue;
        if (strcmp(name, "__x64_sys_uintr_vector_fd") == 0)
            *flags |= UIPC_UINTR_EV_SYM_VECTOR_FD;
        else if (strcmp(name, "__x64_sys_uintr_create_fd") == 0)
            *flags |= UIPC_UINTR_EV_SYM_CREATE_FD;
        else if (strcmp(name, "__x64_sys_futex_waitv") == 0)
            *flags |= UIPC_UINTR_EV_SYM_FUTEX_WAITV;
        else if (strcmp(name, "__x64_sys_rseq_slice_yield") == 0)
            *flags |= UIPC_UINTR_EV_SYM_471_TAKEN;
    }
    fclose(f);
}

/* A "UIS:" row ("User-interrupt spurious event", §1.4) exists only when a uintr kernel
 * enabled the feature. */
static void scan_interrupts(const char *path, uint32_t *flags)
{
    FILE *f = fopen(path, "re");
    if (f == NULL)
        return;
    *flags |= UIPC_UINTR_EV_INTERRUPTS_READ;
    char line[4096];
    while (fgets(line, sizeof line, f) != NULL) {
        const char *p = line + strspn(line, " \t");
        if (strncmp(p, "UIS:", 4) == 0) {
            *flags |= UIPC_UINTR_EV_INTERRUPTS_UIS;
            break;
        }
    }
    fclose(f);
}

/* The whole word "uintr" in a "flags" line. Only a hint: mainline kernels do not name
 * the bit and some vendor kernels print it without the syscalls (§5.1). */
static void scan_cpuinfo(const char *path, uint32_t *flags)
{
    FILE *f = fopen(path, "re");
    if (f == NULL)
        return;
    *flags |= UIPC_UINTR_EV_CPUINFO_READ;
    char line[8192];
    while (fgets(line, sizeof line, f) != NULL) {
        if (strncmp(line, "flags", 5) != 0)
            continue;
        const char *colon = strchr(line, ':');
        if (colon == NULL)
            continue;
        for (const char *p = colon + 1; (p = strstr(p, "uintr")) != NULL; p += 5) {
            char before = p[-1], after = p[5];
            if ((before == ' ' || before == '\t' || before == ':') &&
                (after == ' ' || after == '\n' || after == '\0' || after == '\t')) {
                *flags |= UIPC_UINTR_EV_CPUINFO_FLAG;
                break;
            }
        }
        break; /* every processor lists the same flags */
    }
    fclose(f);
}

/* §5.1 step 3: vector_fd names variant E; create_fd names C or D, and since D's 449 is
 * futex_waitv on every kernel that has futex_waitv (5.16+), futex_waitv means C. C and E
 * start at 471, which the newest mainline trees give to rseq_slice_yield (§5.1): a uintr
 * tree rebased onto those must have moved its numbers, so we no longer know them. */
static int identify_variant(uint32_t flags)
{
    int variant = 0;
    if (flags & UIPC_UINTR_EV_SYM_VECTOR_FD)
        variant = 'E';
    else if (flags & UIPC_UINTR_EV_SYM_CREATE_FD)
        variant = (flags & UIPC_UINTR_EV_SYM_FUTEX_WAITV) ? 'C' : 'D';
    if ((variant == 'C' || variant == 'E') && (flags & UIPC_UINTR_EV_SYM_471_TAKEN))
        return 0;
    return variant;
}

UIPC_EXPORT int32_t UintrIpc_UintrInspectKernel(const char *kallsyms_path, const char *interrupts_path,
                                                const char *cpuinfo_path,
                                                struct uipc_uintr_kernel_evidence *out)
{
    uint32_t flags = 0;
    scan_kallsyms(kallsyms_path != NULL ? kallsyms_path : "/proc/kallsyms", &flags);
    scan_interrupts(interrupts_path != NULL ? interrupts_path : "/proc/interrupts", &flags);
    scan_cpuinfo(cpuinfo_path != NULL ? cpuinfo_path : "/proc/cpuinfo", &flags);
    out->flags = flags;
    out->variant = identify_variant(flags);
    return 0;
}

/* ---- probe (§5.1 step 4) ------------------------------------------------------------------- */

struct probe {
    const struct uipc_uintr_variant *variant;
    int error;           /* 0 = supported */
    unsigned flags_used; /* the register flags the kernel accepted */
};

/* On a fresh thread, so that a registration cannot collide with a thread that already has
 * one and so that whatever the kernel keeps per thread goes away with it. Nothing is
 * delivered: UIF stays 0 (no STUI), and the thread has no receiver (handler NULL test). */
static void *probe_thread(void *arg)
{
    struct probe *p = arg;
    const struct uipc_uintr_variant *v = p->variant;
    unsigned flags = v->waiting_receiver_flag;
    long rc = syscall(v->nr_register_handler, uipc_uintr_handler_address(), flags);
    if (rc < 0 && errno == EINVAL && flags != 0) {
        /* Variant E without CONFIG_X86_UINTR_BLOCKING rejects every flag (§1.3). */
        flags = 0;
        rc = syscall(v->nr_register_handler, uipc_uintr_handler_address(), flags);
    }
    if (rc == 0) {
        syscall(v->nr_unregister_handler, 0);
        p->error = 0;
    } else {
        p->error = errno == EBUSY ? 0 : errno; /* EBUSY: registered already = supported */
    }
    p->flags_used = flags;
    return NULL;
}

/* ---- the steps ------------------------------------------------------------------------------- */

static void fail(int32_t step, const char *format, ...) __attribute__((format(printf, 2, 3)));
static void fail(int32_t step, const char *format, ...)
{
    s_detection.status = UIPC_UINTR_UNAVAILABLE;
    s_detection.failed_step = step;
    va_list args;
    va_start(args, format);
    vsnprintf(s_detection.reason, sizeof s_detection.reason, format, args);
    va_end(args);
}

static const char *errno_name(int e)
{
    const char *name = strerrorname_np(e);
    return name != NULL ? name : "?";
}

static void detect_kernel_and_probe(void)
{
    struct utsname uts;
    const char *release = uname(&uts) == 0 ? uts.release : "?";

    struct uipc_uintr_kernel_evidence ev;
    UintrIpc_UintrInspectKernel(NULL, NULL, NULL, &ev);
    s_detection.evidence = ev.flags;
    s_detection.variant = ev.variant;
    const char *hint = (ev.flags & UIPC_UINTR_EV_CPUINFO_FLAG)
        ? " (/proc/cpuinfo does list the flag 'uintr', which some vendor kernels print without the syscalls)" : "";

    if (ev.variant == 0) {
        if ((ev.flags & UIPC_UINTR_EV_SYM_471_TAKEN) &&
            (ev.flags & (UIPC_UINTR_EV_SYM_VECTOR_FD | UIPC_UINTR_EV_SYM_CREATE_FD)))
            fail(UIPC_UINTR_STEP_KERNEL,
                 "kernel %s has uintr syscalls but also __x64_sys_rseq_slice_yield, which owns syscall 471 "
                 "where the known uintr tables start, so the uintr numbers cannot be identified; refusing to "
                 "call unknown syscall numbers", release);
        else if (!(ev.flags & UIPC_UINTR_EV_KALLSYMS_READ))
            fail(UIPC_UINTR_STEP_KERNEL,
                 "/proc/kallsyms cannot be read, so the uintr syscall variant of kernel %s cannot be "
                 "identified; refusing to call unknown syscall numbers%s", release, hint);
        else if (ev.flags & UIPC_UINTR_EV_INTERRUPTS_UIS)
            fail(UIPC_UINTR_STEP_KERNEL,
                 "kernel %s has user interrupts enabled (/proc/interrupts has a UIS: row) but "
                 "/proc/kallsyms names no __x64_sys_uintr_vector_fd or __x64_sys_uintr_create_fd, so "
                 "its syscall numbers cannot be identified; refusing to call unknown syscall numbers", release);
        else
            fail(UIPC_UINTR_STEP_KERNEL,
                 "the CPU has UINTR but kernel %s has no user-interrupt syscalls: /proc/kallsyms names "
                 "neither __x64_sys_uintr_vector_fd nor __x64_sys_uintr_create_fd and /proc/interrupts "
                 "has no UIS: row (mainline Linux never merged them; a kernel with Intel's uintr patches "
                 "is needed)%s", release, hint);
        return;
    }

    const struct uipc_uintr_variant *v = uipc_uintr_variant_get(ev.variant);
    struct probe p = { .variant = v, .error = 0, .flags_used = 0 };
    pthread_t thread;
    int rc = pthread_create(&thread, NULL, probe_thread, &p);
    if (rc != 0) {
        s_detection.error = rc;
        fail(UIPC_UINTR_STEP_PROBE, "variant %c kernel %s: cannot start the probe thread: %s (%s)",
             v->letter, release, strerror(rc), errno_name(rc));
        return;
    }
    pthread_join(thread, NULL);
    s_detection.error = p.error;
    if (p.error == v->no_hw_errno) {
        fail(UIPC_UINTR_STEP_PROBE,
             "variant %c kernel %s (%s): uintr_register_handler failed with %s: the kernel has "
             "user-interrupt support but the feature is disabled (nouintr boot parameter, page-table "
             "isolation on, or no XSAVES support; dmesg says 'User Interrupts (UINTR) enabled' when it works)",
             v->letter, release, v->description, errno_name(p.error));
        return;
    }
    if (p.error != 0) {
        fail(UIPC_UINTR_STEP_PROBE, "variant %c kernel %s (%s): uintr_register_handler probe failed: %s (%s)",
             v->letter, release, v->description, strerror(p.error), errno_name(p.error));
        return;
    }

    int blocking = v->wait_takes_usec && p.flags_used == v->waiting_receiver_flag && p.flags_used != 0;
    s_detection.wait_mode = blocking ? UIPC_UINTR_WAIT_SYSCALL : UIPC_UINTR_WAIT_SLICED;
    s_detection.status = UIPC_UINTR_AVAILABLE;
    s_detection.failed_step = UIPC_UINTR_STEP_NONE;
    snprintf(s_detection.reason, sizeof s_detection.reason,
             "available: variant %c, %s, on kernel %s; %s", v->letter, v->description, release,
             blocking ? "waits block in uintr_wait(usec) with UINTR_HANDLER_FLAG_WAITING_RECEIVER"
                      : "no bounded uintr_wait, so waits re-check the pending word after short sleeps");
    __atomic_store_n(&s_variant, v, __ATOMIC_RELEASE);
}

static void detect_once(void)
{
    memset(&s_detection, 0, sizeof s_detection);
#if !defined(__x86_64__)
    fail(UIPC_UINTR_STEP_ARCHITECTURE, "not x86-64: user interrupts (UINTR) exist only on x86-64 CPUs");
#else
    unsigned eax, ebx, ecx, edx;
    unsigned max_leaf = __get_cpuid_max(0, NULL);
    s_detection.cpuid_max_leaf = max_leaf;
    if (max_leaf < 7) {
        fail(UIPC_UINTR_STEP_CPU,
             "CPUID maximum basic leaf is %u (< 7), so CPUID.(EAX=7,ECX=0):EDX[5] (UINTR) cannot be "
             "read: this CPU does not have user interrupts", max_leaf);
        return;
    }
    __cpuid_count(7, 0, eax, ebx, ecx, edx);
    (void)eax; (void)ebx; (void)ecx;
    s_detection.cpuid_7_0_edx = edx;
    if (!(edx & (1u << 5))) { /* §3.1: CPUID.(EAX=7,ECX=0):EDX[5] = UINTR */
        fail(UIPC_UINTR_STEP_CPU, "CPUID.(EAX=7,ECX=0):EDX[5] (UINTR) is 0: this CPU does not have user interrupts");
        return;
    }
    detect_kernel_and_probe();
#endif
}

UIPC_EXPORT int32_t UintrIpc_UintrDetect(struct uipc_uintr_detection *out)
{
    pthread_once(&s_once, detect_once);
    *out = s_detection;
    return s_detection.status;
}

const struct uipc_uintr_variant *uipc_uintr_ready(int32_t *wait_mode)
{
    pthread_once(&s_once, detect_once);
    const struct uipc_uintr_variant *v = __atomic_load_n(&s_variant, __ATOMIC_ACQUIRE);
    if (wait_mode != NULL)
        *wait_mode = s_detection.wait_mode;
    return v;
}
