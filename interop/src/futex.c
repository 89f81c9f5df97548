/* Futex wait/wake on a 32-bit word in shared memory (uintripc.h section 3). Not
 * FUTEX_PRIVATE_FLAG: the word lives in a MAP_SHARED region and the waker is usually another
 * process. EINTR is handled here (retried with the remaining time) so that it never reaches
 * managed code. */
#define _GNU_SOURCE
#include "uintripc.h"

#include <errno.h>
#include <linux/futex.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static int64_t monotonic_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* now + timeout without signed overflow (undefined behaviour): saturates at INT64_MAX,
 * about 292 years of monotonic time, so a huge timeout is a long wait, never a wrapped one. */
static int64_t deadline_after(int64_t now, int64_t timeout_ns)
{
    return timeout_ns > INT64_MAX - now ? INT64_MAX : now + timeout_ns;
}

UIPC_EXPORT int32_t UintrIpc_FutexWait(uint32_t *word, uint32_t expected, int64_t timeout_ns)
{
    if (timeout_ns < 0)
        return -EINVAL; /* every wait is bounded */
    int64_t deadline = deadline_after(monotonic_ns(), timeout_ns);
    for (;;) {
        int64_t left = deadline - monotonic_ns(); /* no overflow: both in [0, INT64_MAX] */
        if (left <= 0)
            return 2;
        struct timespec rel = { .tv_sec = left / 1000000000, .tv_nsec = left % 1000000000 };
        /* FUTEX_WAIT's timeout is relative (CLOCK_MONOTONIC); the kernel saturates a huge one. */
        long rc = syscall(SYS_futex, word, FUTEX_WAIT, expected, &rel, NULL, 0);
        if (rc == 0)
            return 0;
        switch (errno) {
        case EAGAIN: return 1;
        case ETIMEDOUT: return 2;
        case EINTR: continue;
        default: return -errno;
        }
    }
}

UIPC_EXPORT int32_t UintrIpc_FutexWake(uint32_t *word, int32_t count)
{
    long rc = syscall(SYS_futex, word, FUTEX_WAKE, count, NULL, NULL, 0);
    return rc < 0 ? -errno : (int32_t)rc;
}
