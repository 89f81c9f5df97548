/* stats.c — percentiles over all samples and the JSON-lines output. */
#include "bench.h"

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
static uint64_t rank(const uint64_t *s, uint64_t n, double q)
{
    uint64_t k = (uint64_t)(q * (double)n + 0.999999999);
    if (k < 1)
        k = 1;
    if (k > n)
        k = n;
    return s[k - 1];
}

void lat_compute(uint64_t *samples, uint64_t n, struct lat_stats *st)
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
    st->p50 = rank(samples, n, 0.50);
    st->p90 = rank(samples, n, 0.90);
    st->p99 = rank(samples, n, 0.99);
    st->p999 = rank(samples, n, 0.999);
    st->max = samples[n - 1];
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
