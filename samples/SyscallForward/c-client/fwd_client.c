/*
 * fwd_client - a C client of the syscall-forwarding server (`SyscallForward serve`), written
 * only against the headers of interop/include: uintripc.h (region, slot rings, wait block),
 * uintripc_rpc.h (session region, records, bootstrap framing, handshake) and uintripc_fwd.h
 * (opcodes and arguments). Single-threaded: one call outstanding at a time, futex doorbell.
 *
 *   fwd_client SOCKET            (SOCKET: a path, or @name for the abstract namespace)
 *   fwd_client SOCKET --bench N  (the benchmark harness's mode: N timed no-ops, one JSON line)
 *
 * Forwards every opcode, checks each answer (errno included), times forwarded no-ops, and
 * prints "fwd_client: N checks passed" (exit 0), or "FAIL ..." (exit 1). With --bench it
 * only times no-ops: N/10 of warm-up, a line "measuring", N samples, then one JSON line with
 * the percentiles in nanoseconds and its own CPU time over the samples.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fwd_session.h"
#include "uintripc_fwd.h"

#define CALL_TIMEOUT_NS (10LL * 1000000000LL)

static struct fwd_session session;
static uint32_t generation;
static int checks;

/* One call at a time (uintripc_rpc.h section 3, client): the data block is the arena's start. */
static int64_t call(uint32_t opcode, int64_t a0, int64_t a1, int64_t a2, const void *in, uint32_t in_length, void *out,
                    uint32_t out_capacity, uint32_t *out_length)
{
    uint32_t block = in_length > out_capacity ? in_length : out_capacity;
    if (block > session.arena_length)
        fwd_die("call larger than the arena");
    memcpy(session.arena, in, in_length);
    uint64_t id = UIPC_RPC_ID(0, ++generation);
    struct uipc_rpc_request request = {id, opcode, 0, in_length, out_capacity, {a0, a1, a2, 0}};
    fwd_publish(&session, &request);
    fwd_wake_server(&session);

    struct uipc_rpc_response response;
    switch (fwd_wait_response(&session, &response, CALL_TIMEOUT_NS, FWD_SPIN_NS, FWD_YIELD_NS)) {
    case 1:
        break;
    case 0:
        fwd_die("no answer within 10 s");
    case FWD_SESSION_ENDED:
        fwd_die("the server ended the session");
    default:
        fwd_die("response ring corrupted");
    }
    if (response.id != id || response.reserved != 0 || response.out_length > out_capacity || (response.result < 0 && response.out_length != 0))
        fwd_die("a response that does not answer our call");
    memcpy(out, session.arena, response.out_length);
    if (out_length)
        *out_length = response.out_length;
    return response.result;
}

/* ---- the checks -------------------------------------------------------------------------- */

static void check(const char *what, long long got, long long want)
{
    if (got != want) {
        fprintf(stderr, "FAIL %s: got %lld, want %lld\n", what, got, want);
        exit(1);
    }
    checks++;
    printf("ok %s = %lld\n", what, got);
}

static int64_t forward_open(const char *path, int flags)
{
    return call(UIPC_FWD_OPENAT, UIPC_FWD_AT_ROOT, flags, 0644, path, (uint32_t)strlen(path), NULL, 0, NULL);
}

/* The wait-block counters of both directions (uintripc.h section 3), read with acquire. */
struct wake_counts {
    uint64_t server_sleeps, server_woken, client_sleeps, client_woken;
};

static struct wake_counts wake_counts(void)
{
    struct wake_counts c = {
        __atomic_load_n(&session.server_wait->sleeps, __ATOMIC_ACQUIRE),
        __atomic_load_n(&session.server_wait->wakeups_sent, __ATOMIC_ACQUIRE),
        __atomic_load_n(&session.client_wait->sleeps, __ATOMIC_ACQUIRE),
        __atomic_load_n(&session.client_wait->wakeups_sent, __ATOMIC_ACQUIRE),
    };
    return c;
}

static int compare_ll(const void *a, const void *b)
{
    long long x = *(const long long *)a, y = *(const long long *)b;
    return (x > y) - (x < y);
}

static int64_t cpu_now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (int64_t)t.tv_sec * 1000000000LL + t.tv_nsec;
}

/* --bench N: no-ops only, for bench/UintrIpc.Bench (its rpc mode pairs this with the C ping-pongs). */
static int bench(long long n)
{
    long long *lat = malloc((size_t)n * sizeof *lat);
    if (!lat)
        fwd_die("out of memory");
    for (long long i = 0; i < n / 10 + 1000; i++)
        if (call(UIPC_FWD_NOP, 0, 0, 0, NULL, 0, NULL, 0, NULL) != 0)
            fwd_die("NOP in the warm-up");
    printf("measuring\n");
    struct wake_counts before = wake_counts();
    int64_t cpu0 = cpu_now_ns(), wall0 = fwd_now_ns();
    for (long long i = 0; i < n; i++) {
        int64_t t0 = fwd_now_ns();
        if (call(UIPC_FWD_NOP, 0, 0, 0, NULL, 0, NULL, 0, NULL) != 0)
            fwd_die("NOP in the timing loop");
        lat[i] = fwd_now_ns() - t0;
    }
    int64_t cpu = cpu_now_ns() - cpu0, wall = fwd_now_ns() - wall0;
    struct wake_counts after = wake_counts();
    qsort(lat, (size_t)n, sizeof lat[0], compare_ll);
    double sum = 0;
    for (long long i = 0; i < n; i++)
        sum += (double)lat[i];
#define RANK(q) lat[(long long)((q) * (double)(n - 1))]
    printf("{\"name\":\"c-fwd-client-nop\",\"kind\":\"latency\",\"count\":%lld,\"warmup\":%lld,\"min\":%lld,\"p50\":%lld,\"p90\":%lld,"
           "\"p99\":%lld,\"p999\":%lld,\"max\":%lld,\"mean\":%.1f,\"cpu_ns\":%lld,\"wall_ns\":%lld,"
           "\"server_sleeps\":%llu,\"server_woken\":%llu,\"client_sleeps\":%llu,\"client_woken\":%llu}\n",
           n, n / 10 + 1000, lat[0], RANK(0.50), RANK(0.90), RANK(0.99), RANK(0.999), lat[n - 1], sum / (double)n, (long long)cpu, (long long)wall,
           (unsigned long long)(after.server_sleeps - before.server_sleeps), (unsigned long long)(after.server_woken - before.server_woken),
           (unsigned long long)(after.client_sleeps - before.client_sleeps), (unsigned long long)(after.client_woken - before.client_woken));
#undef RANK
    free(lat);
    fwd_close(&session);
    return 0;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    long long bench_calls = 0;
    if (argc == 4 && strcmp(argv[2], "--bench") == 0)
        bench_calls = atoll(argv[3]);
    if ((argc != 2 && bench_calls <= 0) || bench_calls < 0) {
        fprintf(stderr, "usage: fwd_client SOCKET [--bench N] (SOCKET: a path, or @name)\n");
        return 2;
    }
    fwd_connect(&session, argv[1], 0, 0);
    if (bench_calls > 0)
        return bench(bench_calls);
    const struct uipc_rpc_control *control = session.control;
    if (session.arena_length < 4096)
        fwd_die("the server granted an arena of less than 4 KiB");
    printf("fwd_client: session %llu, %u calls, arena %llu bytes\n", (unsigned long long)control->session_id, control->max_calls,
           (unsigned long long)session.arena_length);

    check("NOP", call(UIPC_FWD_NOP, 0, 0, 0, NULL, 0, NULL, 0, NULL), 0);
    check("GETPID is the server's", call(UIPC_FWD_GETPID, 0, 0, 0, NULL, 0, NULL, 0, NULL), control->server_pid);

    int64_t fd = forward_open("c-client.txt", O_RDWR | O_CREAT | O_TRUNC);
    if (fd < 0)
        check("OPENAT c-client.txt", fd, 0);
    checks++;
    const char text[] = "written by the C client\n";
    uint32_t n = sizeof text - 1;
    check("WRITE", call(UIPC_FWD_WRITE, fd, 0, 0, text, n, NULL, 0, NULL), n);
    check("PWRITE at 8", call(UIPC_FWD_PWRITE, fd, 8, 0, "BY", 2, NULL, 0, NULL), 2);
    check("LSEEK to 0", call(UIPC_FWD_LSEEK, fd, 0, SEEK_SET, NULL, 0, NULL, 0, NULL), 0);
    char back[64];
    uint32_t got = 0;
    check("READ", call(UIPC_FWD_READ, fd, 0, 0, NULL, 0, back, sizeof back, &got), n);
    check("READ content", memcmp(back, "written BY the C client\n", n), 0);
    check("PREAD at 11", call(UIPC_FWD_PREAD, fd, 11, 0, NULL, 0, back, 3, &got), 3);
    check("PREAD content", memcmp(back, "the", 3), 0);
    struct uipc_fwd_stat st;
    check("FSTAT", call(UIPC_FWD_FSTAT, fd, 0, 0, NULL, 0, &st, sizeof st, &got), 0);
    check("FSTAT size", st.size, n);
    check("FSTAT out_length", got, UIPC_FWD_STAT_SIZE);
    check("LSEEK 64-bit", call(UIPC_FWD_LSEEK, fd, 5LL << 30, SEEK_SET, NULL, 0, NULL, 0, NULL), 5LL << 30);
    check("CLOSE", call(UIPC_FWD_CLOSE, fd, 0, 0, NULL, 0, NULL, 0, NULL), 0);
    check("CLOSE again", call(UIPC_FWD_CLOSE, fd, 0, 0, NULL, 0, NULL, 0, NULL), -EBADF);
    check("OPENAT missing", forward_open("missing.txt", O_RDONLY), -ENOENT);
    check("OPENAT ../outside", forward_open("../outside/secret.txt", O_RDONLY), -EXDEV);
    check("OPENAT /etc/passwd", forward_open("/etc/passwd", O_RDONLY), -EXDEV);
    check("unknown opcode", call(4242, 0, 0, 0, NULL, 0, NULL, 0, NULL), -ENOSYS);
    const char hello[] = "hello from the C client\n";
    check("WRITE to the granted stdout", call(UIPC_FWD_WRITE, UIPC_FWD_FD_STDOUT, 0, 0, hello, sizeof hello - 1, NULL, 0, NULL), sizeof hello - 1);

    enum { SAMPLES = 20000 };
    static long long samples[SAMPLES];
    struct wake_counts before = wake_counts();
    for (int i = 0; i < SAMPLES; i++) {
        int64_t t0 = fwd_now_ns();
        if (call(UIPC_FWD_NOP, 0, 0, 0, NULL, 0, NULL, 0, NULL) != 0)
            fwd_die("NOP in the timing loop");
        samples[i] = fwd_now_ns() - t0;
    }
    struct wake_counts after = wake_counts();
    qsort(samples, SAMPLES, sizeof samples[0], compare_ll);
    printf("fwd_client: forwarded no-op p50 %.2f us p99 %.2f us (%d calls, futex doorbell, spin 1 us, yield to 50 us)\n", samples[SAMPLES / 2] / 1000.0,
           samples[SAMPLES * 99 / 100] / 1000.0, SAMPLES);
    /* Which side paid a kernel wake-up per call: each futex wake is tens of microseconds here. */
    printf("fwd_client: per call: server slept %.3f, woken %.3f; client slept %.3f, woken %.3f\n",
           (double)(after.server_sleeps - before.server_sleeps) / SAMPLES, (double)(after.server_woken - before.server_woken) / SAMPLES,
           (double)(after.client_sleeps - before.client_sleeps) / SAMPLES, (double)(after.client_woken - before.client_woken) / SAMPLES);
    printf("fwd_client: %d checks passed\n", checks);
    fwd_close(&session);
    return 0;
}
