/* stats.c — percentiles over all samples and the JSON-lines output. */
#include "bench.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* LSD radix sort (8 passes of 8 bits, skipping passes where every key has the same byte):
 * millions of samples sort in a few tens of milliseconds, with no comparator calls. */
static void sort_u64(uint64_t *a, uint64_t n)
{
    if (n < 2)
        return;
    uint64_t *tmp = malloc(n * sizeof *a);
    if (!tmp) {
        perror("malloc");
        exit(2);
    }
    uint64_t *src = a, *dst = tmp;
    for (int shift = 0; shift < 64; shift += 8) {
        uint64_t count[256] = { 0 };
        for (uint64_t i = 0; i < n; i++)
            count[(src[i] >> shift) & 0xff]++;
        if (count[(src[0] >> shift) & 0xff] == n)
            continue;
        uint64_t sum = 0;
        for (int b = 0; b < 256; b++) {
            uint64_t c = count[b];
            count[b] = sum;
            sum += c;
        }
        for (uint64_t i = 0; i < n; i++)
            dst[count[(src[i] >> shift) & 0xff]++] = src[i];
        uint64_t *t = src;
        src = dst;
        dst = t;
    }
    if (src != a)
        memcpy(a, src, n * sizeof *a);
    free(tmp);
}

/* Nearest-rank percentile: the smallest sample with at least q of all samples <= it. */
static uint64_t rank_index(uint64_t n, double q)
{
    uint64_t k = (uint64_t)(q * (double)n + 0.999999999);
    if (k < 1)
        k = 1;
    if (k > n)
        k = n;
    return k - 1;
}

/* Samples below x (s sorted). */
static uint64_t count_below(const uint64_t *s, uint64_t n, double x)
{
    uint64_t lo = 0, hi = n;
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        if ((double)s[mid] < x)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Percentile q of sorted samples read on a clock that moves in steps of `tick` ns. A sample of
 * true length D reads as the step multiple just below or just above D, the latter with the
 * probability of D's fraction of a step (the start's phase is random), so the samples of one
 * step v stand for lengths within v +- tick/2: the nearest-rank sample v, moved within that
 * bin by the share of the bin's samples the rank needs. Without a step (tick < 2), the
 * nearest-rank sample itself. The .NET harness computes it the same way
 * (bench/UintrIpc.Bench/Results/LatencySummary.cs). */
static double percentile(const uint64_t *s, uint64_t n, double q, double tick)
{
    double v = (double)s[rank_index(n, q)];
    if (tick < 2)
        return v;
    double lo = v - tick / 2, below = (double)count_below(s, n, lo);
    double in_bin = (double)count_below(s, n, v + tick / 2) - below;
    double share = (q * (double)n - below) / in_bin;
    return lo + tick * (share < 0 ? 0 : share > 1 ? 1 : share);
}

void lat_compute(uint64_t *samples, uint64_t n, double tick_ns, struct lat_stats *st)
{
    memset(st, 0, sizeof *st);
    st->count = n;
    if (n == 0)
        return;
    sort_u64(samples, n);
    double sum = 0;
    for (uint64_t i = 0; i < n; i++)
        sum += (double)samples[i];
    st->mean = sum / (double)n;
    st->min = samples[0];
    st->p50 = percentile(samples, n, 0.50, tick_ns);
    st->p90 = percentile(samples, n, 0.90, tick_ns);
    st->p99 = percentile(samples, n, 0.99, tick_ns);
    st->p999 = percentile(samples, n, 0.999, tick_ns);
    st->max = samples[n - 1];
}

int percentiles_main(double tick_ns, const char *file)
{
    FILE *f = fopen(file, "r");
    if (!f) {
        perror(file);
        return 2;
    }
    uint64_t n = 0, cap = 1024, v;
    uint64_t *s = malloc(cap * sizeof *s);
    while (s && fscanf(f, "%" SCNu64, &v) == 1) {
        if (n == cap)
            s = realloc(s, (cap *= 2) * sizeof *s);
        if (s)
            s[n++] = v;
    }
    fclose(f);
    if (!s || n == 0) {
        fprintf(stderr, "--percentiles: no samples in %s\n", file);
        return 2;
    }
    struct lat_stats st;
    lat_compute(s, n, tick_ns, &st);
    printf("%.1f %.1f %.1f %.1f\n", st.p50, st.p90, st.p99, st.p999);
    free(s);
    return 0;
}

/* ---- JSON lines: one object per line on stdout, flushed at the end of each. ---------- */

static int s_first;

static void key(const char *k)
{
    printf("%s\"%s\":", s_first ? "" : ",", k);
    s_first = 0;
}

static void quoted(const char *v)
{
    putchar('"');
    for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
        if (*p == '"' || *p == '\\')
            printf("\\%c", *p);
        else if (*p < 0x20)
            printf("\\u%04x", *p);
        else
            putchar(*p);
    }
    putchar('"');
}

void json_begin(const char *name)
{
    putchar('{');
    s_first = 1;
    json_str("name", name);
}

void json_str(const char *k, const char *v)
{
    key(k);
    quoted(v);
}

void json_u64(const char *k, uint64_t v)
{
    key(k);
    printf("%llu", (unsigned long long)v);
}

void json_i64(const char *k, int64_t v)
{
    key(k);
    printf("%lld", (long long)v);
}

void json_f64(const char *k, double v)
{
    key(k);
    if (v != v)
        printf("null");
    else
        printf("%.1f", v);
}

void json_f64p(const char *k, double v, int decimals)
{
    key(k);
    if (v != v)
        printf("null");
    else
        printf("%.*f", decimals, v);
}

void json_end(void)
{
    printf("}\n");
    fflush(stdout);
}
