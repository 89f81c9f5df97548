/* clock.c — the sample clock: CLOCK_MONOTONIC, or rdtsc calibrated against it. */
#include "bench.h"

#include <stdlib.h>

int g_clock_tsc;
double g_tsc_ns_per_tick = 1.0;
uint64_t g_tsc_base;
uint64_t g_mono_base;

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

void clock_init(int use_tsc)
{
    g_clock_tsc = 0;
    if (!use_tsc)
        return;
    /* Calibrate over ~50 ms: the TSC is invariant here (constant_tsc, nonstop_tsc,
     * tsc_known_freq), so one linear fit holds for the run. */
    uint64_t m0 = mono_ns(), t0 = __rdtsc();
    while (mono_ns() - m0 < 50000000u)
        _mm_pause();
    uint64_t m1 = mono_ns(), t1 = __rdtsc();
    g_tsc_ns_per_tick = (double)(m1 - m0) / (double)(t1 - t0);
    g_tsc_base = t1;
    g_mono_base = m1;
    g_clock_tsc = 1;
}

const char *clock_name(void)
{
    return g_clock_tsc ? "tsc" : "monotonic";
}

/* Median cost of one bench_now() read, measured back to back. A latency sample spans
 * about one read, so this is the bias every sample carries. */
uint64_t clock_overhead_ns(void)
{
    enum { N = 4001 };
    static uint64_t d[N];
    for (int i = 0; i < N; i++) {
        uint64_t a = bench_now();
        uint64_t b = bench_now();
        d[i] = b - a;
    }
    qsort(d, N, sizeof d[0], cmp_u64);
    return d[N / 2];
}
