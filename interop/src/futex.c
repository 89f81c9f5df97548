/* Futex wait/wake on a 32-bit word in shared memory. Not FUTEX_PRIVATE_FLAG: the word
 * lives in a MAP_SHARED region and the waker is usually another process. EINTR is
 * handled here (retried with the remaining time) so that it never reaches managed code. */
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

UIPC_EXPORT int32_t UintrIpc_FutexWait(uint32_t *word, uint32_t expected, int64_t timeout_ns)
{
    int64_t deadline = timeout_ns >= 0 ? monotonic_ns() + timeout_ns : 0;
    for (;;) {
        struct timespec rel, *prel = NULL;
        if (timeout_ns >= 0) {
            int64_t left = deadline - monotonic_ns();
            if (left <= 0)
                return 2;
            rel.tv_sec = left / 1000000000;
            rel.tv_nsec = left % 1000000000;
            prel = &rel;
        }
        /* FUTEX_WAIT's timeout is relative (CLOCK_MONOTONIC). */
        long rc = syscall(SYS_futex, word, FUTEX_WAIT, expected, prel, NULL, 0);
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
