/* Write prefetch (uintripc.h, shim exports): asks for ownership of the lines a producer writes
 * next, so that their transfers from the consumer's core overlap instead of each store waiting
 * for its own line at the head of the store buffer. .NET has no intrinsic for PREFETCHW; the
 * library calls this without a GC transition, and only where UintrIpc_PrefetchWriteSupported
 * says the CPU has the instruction. A hint: nothing is read or written, nothing can fault. */
#include "uintripc.h"

#include <stddef.h>
#include <stdint.h>
#if defined(__x86_64__)
#include <cpuid.h>
#define UIPC_PREFETCH_TARGET __attribute__((target("prfchw")))
#else
#define UIPC_PREFETCH_TARGET
#endif

UIPC_EXPORT int32_t UintrIpc_PrefetchWriteSupported(void)
{
#if defined(__x86_64__)
    unsigned a, b, c, d;
    /* CPUID.80000001H:ECX.PRFCHW[bit 8] */
    return __get_cpuid(0x80000001u, &a, &b, &c, &d) && (c & (1u << 8)) ? 1 : 0;
#elif defined(__aarch64__)
    return 1; /* PRFM PSTL1KEEP is part of the base architecture */
#else
    return 0;
#endif
}

UIPC_EXPORT UIPC_PREFETCH_TARGET void UintrIpc_PrefetchWrite(const void *start, size_t bytes)
{
    if (bytes == 0)
        return;
    if (bytes > UIPC_PREFETCH_WRITE_MAX)
        bytes = UIPC_PREFETCH_WRITE_MAX;
    const uintptr_t first = (uintptr_t)start & ~(uintptr_t)63, last = ((uintptr_t)start + bytes - 1) & ~(uintptr_t)63;
    for (uintptr_t line = first; line <= last; line += 64)
        __builtin_prefetch((const void *)line, 1, 3); /* PREFETCHW on x86-64, PRFM PSTL1KEEP on arm64 */
}
