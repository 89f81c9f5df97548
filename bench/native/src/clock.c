/* clock.c — the sample clock: CLOCK_MONOTONIC, or rdtsc calibrated against it. */
#include "bench.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* The step of a clock from a histogram of differences between pairs of its reads (seen[d]: how
 * many pairs read d ns apart, d < range). A fine clock shows every ns value, a stepped one only
 * multiples of its step (each +-1 ns from rounding). Values seen by fewer than 1 in 4096 pairs
 * do not count: pairs a preemption stretched are scattered one by one over the range, and taken
 * as clusters they made a fine clock read as a step of 100 ns and more. Runs of consecutive
 * values seen are clusters; the step is the median distance between the starts of adjacent
 * clusters, 1 when there are fewer than 3. The .NET harness computes it the same way (ClockStep.Of). */
double clock_step_of(const uint32_t *seen, uint64_t range)
{
    static uint64_t gaps[4096];
    uint64_t pairs = 0;
    for (uint64_t d = 0; d < range; d++)
        pairs += seen[d];
    uint64_t least = pairs / 4096 > 2 ? pairs / 4096 : 2; /* a value seen less often is a stretched pair */
    uint64_t ngaps = 0, prev_start = 0;
    int have_prev = 0;
    for (uint64_t d = 0; d < range && ngaps < sizeof gaps / sizeof gaps[0]; d++) {
        if (seen[d] < least || (d > 0 && seen[d - 1] >= least))
            continue; /* not the start of a cluster */
        if (have_prev)
            gaps[ngaps++] = d - prev_start;
        prev_start = d;
        have_prev = 1;
    }
    if (ngaps < 2)
        return 1;
    qsort(gaps, ngaps, sizeof gaps[0], cmp_u64);
    return (double)gaps[ngaps / 2];
}

/* The clock's step in ns. A VM's TSC may advance in coarse steps (on the project's AMD host by
 * 26 ticks of 2.6 GHz at once: 10 ns), and CLOCK_MONOTONIC with it, so single round trips of
 * about 120 ns read as 110, 120, 130 and a p50 moves in 10 ns steps (8 % at 120 ns). Pairs of
 * reads with 0..255 dependent adds between them (about 0.3 ns each) give differences over a few
 * hundred ns, read by clock_step_of. Not PAUSEs: one takes 25 ns on the AMD host (about 40 on
 * recent Intel), so on a fine clock the differences fell in narrow clusters that far apart, and
 * read as a step of that length. The .NET harness measures its clock the same way
 * (bench/UintrIpc.Bench/Results/ClockStep.cs). Measured once. */
double clock_tick_ns(void)
{
    enum { PAIRS = 40000, RANGE = 4096 };
    static double tick;
    if (tick > 0)
        return tick;
    static uint32_t seen[RANGE];
    uint64_t delay = 1;
    memset(seen, 0, sizeof seen);
    for (int i = 0; i < PAIRS; i++) {
        uint64_t a = bench_now();
        for (int k = i & 255; k > 0; k--) {
            delay = delay * 3 + 1;
            __asm__ volatile("" : "+r"(delay)); /* one add per iteration, not folded */
        }
        uint64_t d = bench_now() - a;
        if (d < RANGE)
            seen[d]++;
    }
    tick = clock_step_of(seen, RANGE);
    return tick;
}

int clock_step_main(const char *file)
{
    enum { RANGE = 4096 };
    static uint32_t seen[RANGE];
    FILE *f = fopen(file, "r");
    if (!f) {
        perror(file);
        return 2;
    }
    uint64_t d;
    while (fscanf(f, "%" SCNu64, &d) == 1)
        if (d < RANGE)
            seen[d]++;
    fclose(f);
    printf("%.1f\n", clock_step_of(seen, RANGE));
    return 0;
}
