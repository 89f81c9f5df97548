/*
 * main.c — options, the test table, and the run loop of uintripc-native-bench.
 * See ../README.md for the options and the output format.
 */
#include "bench.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

const struct test_def g_tests[] = {
    { "c-spin-cacheline",          "spin",           KIND_LATENCY, TR_SPIN_LINE,      0, 8 },
    { "c-spin-rotating",           "rotating",       KIND_LATENCY, TR_SPIN_ROTATING,  0, 8 },
    { "c-spin-twolines",           "twolines",       KIND_LATENCY, TR_SPIN_TWO_LINES, 0, 8 },
    { "c-slotring-pingpong",       "slotring",       KIND_LATENCY, TR_SLOT_RING,      0, 8 },
    { "c-duplex-pingpong",         "duplex",         KIND_LATENCY, TR_DUPLEX,         0, 8 },
    { "c-futex-spin-pingpong",     "futex-spin",     KIND_LATENCY, TR_FUTEX_SPIN,     0, 8 },
    { "c-futex-pingpong",          "futex",          KIND_LATENCY, TR_FUTEX,          1, 8 },
    { "c-futex-always-pingpong",   "futex-always",   KIND_LATENCY, TR_FUTEX_ALWAYS,   1, 8 },
    { "c-eventfd-pingpong",        "eventfd",        KIND_LATENCY, TR_EVENTFD,        1, 8 },
    { "c-pipe-pingpong",           "pipe",           KIND_LATENCY, TR_PIPE,           1, 8 },
    { "c-unix-stream-pingpong",    "unix-stream",    KIND_LATENCY, TR_UNIX_STREAM,    1, 8 },
    { "c-unix-seqpacket-pingpong", "unix-seqpacket", KIND_LATENCY, TR_UNIX_SEQPACKET, 1, 8 },
    { "c-signal-pingpong",         "signal",         KIND_LATENCY, TR_SIGNAL,         1, 8 },
    { "c-eventfd-ring-pingpong",   "ring-eventfd",   KIND_LATENCY, TR_EVENTFD_RING,   1, 8 },
    { "c-signal-ring-pingpong",    "ring-signal",    KIND_LATENCY, TR_SIGNAL_RING,    1, 8 },
    { "c-cost-syscall",            "cost-syscall",       KIND_COST, TR_COST_SYSCALL,    0, 0 },
    { "c-cost-futex-wake",         "cost-futex-wake",    KIND_COST, TR_COST_FUTEX_WAKE, 0, 0 },
    { "c-cost-eventfd-write",      "cost-eventfd-write", KIND_COST, TR_COST_EVENTFD,    0, 0 },
    { "c-slotring-tput-s8",        "tput-s8",        KIND_THROUGHPUT, TR_TPUT, 0, 8 },
    { "c-slotring-tput-s64",       "tput-s64",       KIND_THROUGHPUT, TR_TPUT, 0, 64 },
    { "c-slotring-tput-s256",      "tput-s256",      KIND_THROUGHPUT, TR_TPUT, 0, 256 },
    { "c-slotring-tput-s1024",     "tput-s1024",     KIND_THROUGHPUT, TR_TPUT, 0, 1024 },
    { "c-slotring-tput-s4096",     "tput-s4096",     KIND_THROUGHPUT, TR_TPUT, 0, 4096 },
    { "c-slotring-tput-batch-s8",    "tput-batch-s8",    KIND_THROUGHPUT, TR_TPUT_BATCH, 0, 8 },
    { "c-slotring-tput-batch-s64",   "tput-batch-s64",   KIND_THROUGHPUT, TR_TPUT_BATCH, 0, 64 },
    { "c-slotring-tput-batch-s256",  "tput-batch-s256",  KIND_THROUGHPUT, TR_TPUT_BATCH, 0, 256 },
    { "c-slotring-tput-batch-s1024", "tput-batch-s1024", KIND_THROUGHPUT, TR_TPUT_BATCH, 0, 1024 },
    { "c-slotring-tput-batch-s4096", "tput-batch-s4096", KIND_THROUGHPUT, TR_TPUT_BATCH, 0, 4096 },
    { "c-mpscring-tput-s8",        "mtput-s8",        KIND_THROUGHPUT, TR_TPUT_MPSC, 0, 8 },
    { "c-mpscring-tput-s64",       "mtput-s64",       KIND_THROUGHPUT, TR_TPUT_MPSC, 0, 64 },
    { "c-mpscring-tput-s256",      "mtput-s256",      KIND_THROUGHPUT, TR_TPUT_MPSC, 0, 256 },
    { "c-mpscring-tput-s1024",     "mtput-s1024",     KIND_THROUGHPUT, TR_TPUT_MPSC, 0, 1024 },
    { "c-mpscring-tput-s4096",     "mtput-s4096",     KIND_THROUGHPUT, TR_TPUT_MPSC, 0, 4096 },
    { "c-mpscring-tput-batch-s8",    "mtput-batch-s8",    KIND_THROUGHPUT, TR_TPUT_MPSC_BATCH, 0, 8 },
    { "c-mpscring-tput-batch-s64",   "mtput-batch-s64",   KIND_THROUGHPUT, TR_TPUT_MPSC_BATCH, 0, 64 },
    { "c-mpscring-tput-batch-s256",  "mtput-batch-s256",  KIND_THROUGHPUT, TR_TPUT_MPSC_BATCH, 0, 256 },
    { "c-mpscring-tput-batch-s1024", "mtput-batch-s1024", KIND_THROUGHPUT, TR_TPUT_MPSC_BATCH, 0, 1024 },
    { "c-mpscring-tput-batch-s4096", "mtput-batch-s4096", KIND_THROUGHPUT, TR_TPUT_MPSC_BATCH, 0, 4096 },
    { "c-recordring-tput-s8",        "rtput-s8",        KIND_THROUGHPUT, TR_TPUT_RECORD, 0, 8 },
    { "c-recordring-tput-s64",       "rtput-s64",       KIND_THROUGHPUT, TR_TPUT_RECORD, 0, 64 },
    { "c-recordring-tput-s256",      "rtput-s256",      KIND_THROUGHPUT, TR_TPUT_RECORD, 0, 256 },
    { "c-recordring-tput-s1024",     "rtput-s1024",     KIND_THROUGHPUT, TR_TPUT_RECORD, 0, 1024 },
    { "c-recordring-tput-s4096",     "rtput-s4096",     KIND_THROUGHPUT, TR_TPUT_RECORD, 0, 4096 },
    { "c-recordring-tput-batch-s8",    "rtput-batch-s8",    KIND_THROUGHPUT, TR_TPUT_RECORD_BATCH, 0, 8 },
    { "c-recordring-tput-batch-s64",   "rtput-batch-s64",   KIND_THROUGHPUT, TR_TPUT_RECORD_BATCH, 0, 64 },
    { "c-recordring-tput-batch-s256",  "rtput-batch-s256",  KIND_THROUGHPUT, TR_TPUT_RECORD_BATCH, 0, 256 },
    { "c-recordring-tput-batch-s1024", "rtput-batch-s1024", KIND_THROUGHPUT, TR_TPUT_RECORD_BATCH, 0, 1024 },
    { "c-recordring-tput-batch-s4096", "rtput-batch-s4096", KIND_THROUGHPUT, TR_TPUT_RECORD_BATCH, 0, 4096 },
    { "c-mpscrecordring-tput-s8",           "mrtput-s8",           KIND_THROUGHPUT, TR_TPUT_MPSC_RECORD, 0, 8 },
    { "c-mpscrecordring-tput-s64",          "mrtput-s64",          KIND_THROUGHPUT, TR_TPUT_MPSC_RECORD, 0, 64 },
    { "c-mpscrecordring-tput-s256",         "mrtput-s256",         KIND_THROUGHPUT, TR_TPUT_MPSC_RECORD, 0, 256 },
    { "c-mpscrecordring-tput-s1024",        "mrtput-s1024",        KIND_THROUGHPUT, TR_TPUT_MPSC_RECORD, 0, 1024 },
    { "c-mpscrecordring-tput-s4096",        "mrtput-s4096",        KIND_THROUGHPUT, TR_TPUT_MPSC_RECORD, 0, 4096 },
    { "c-mpscrecordring-tput-batch-s8",     "mrtput-batch-s8",     KIND_THROUGHPUT, TR_TPUT_MPSC_RECORD_BATCH, 0, 8 },
    { "c-mpscrecordring-tput-batch-s64",    "mrtput-batch-s64",    KIND_THROUGHPUT, TR_TPUT_MPSC_RECORD_BATCH, 0, 64 },
    { "c-mpscrecordring-tput-batch-s256",   "mrtput-batch-s256",   KIND_THROUGHPUT, TR_TPUT_MPSC_RECORD_BATCH, 0, 256 },
    { "c-mpscrecordring-tput-batch-s1024",  "mrtput-batch-s1024",  KIND_THROUGHPUT, TR_TPUT_MPSC_RECORD_BATCH, 0, 1024 },
    { "c-mpscrecordring-tput-batch-s4096",  "mrtput-batch-s4096",  KIND_THROUGHPUT, TR_TPUT_MPSC_RECORD_BATCH, 0, 4096 },
};
const unsigned g_test_count = sizeof g_tests / sizeof g_tests[0];

static void usage(FILE *f)
{
    fprintf(f,
        "usage: uintripc-native-bench [options]\n"
        "C baselines for UintrIpc: round-trip latency and ring throughput between two processes.\n"
        "Results: one JSON object per line on stdout; a readable summary on stderr.\n\n"
        "  --only LIST       comma-separated tests; a name selects itself and every test whose\n"
        "                    short name starts with it and a dash (futex -> futex, futex-spin,\n"
        "                    futex-always; tput -> all throughput tests; cost -> the one-process\n"
        "                    cost tests); full JSON names work too\n"
        "  --list            print the tests and exit\n"
        "  --quick           fewer iterations (a smoke run of a few seconds)\n"
        "  --iters N         latency samples per test (default 1000000 spinning, 20000 sleeping)\n"
        "  --warmup N        unsampled round trips first (default a tenth of --iters)\n"
        "  --duration S      time budget per latency test; --iters becomes a cap\n"
        "  --timeout S       give up on a test after S seconds (default 60)\n"
        "  --clock C         monotonic (default: clock_gettime) or tsc (rdtsc, calibrated)\n"
        "  --spin-ns N       spin budget of the futex-spin test before it parks (default 50000)\n"
        "  --capacity N      slots per ring, a power of two (default 1024); record rings get\n"
        "                    the bytes of as many slots of the same element size\n"
        "  --batch N         batch of the tput-batch tests: the producer stores tail and the\n"
        "                    consumer head once per N messages (default 64)\n"
        "  --tput-count N    messages per throughput test at most (default 10000000)\n"
        "  --tput-bytes N    element bytes per throughput test at most (default 2147483648)\n"
        "  --producers N     producer processes of the MPSC throughput tests (default 2, at most 8)\n"
        "  --repeat N        run the whole selection N times (lines carry \"run\")\n"
        "  --pin             pin the parent to CPU 0 and the child to CPU 1\n"
        "  --exec            the child re-executes this program (--peer FD) instead of running\n"
        "                    from the fork: a fresh process image, like a separate program\n");
}

static int selected(const struct test_def *t, const char *only)
{
    if (!only)
        return 1;
    char buf[512];
    snprintf(buf, sizeof buf, "%s", only);
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        size_t n = strlen(tok);
        if (strcmp(tok, t->name) == 0 || strcmp(tok, t->shrt) == 0)
            return 1;
        if (strncmp(tok, t->shrt, n) == 0 && t->shrt[n] == '-')
            return 1;
    }
    return 0;
}

static uint64_t parse_u64(const char *opt, const char *s)
{
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (*s == '-' || *end || end == s) {
        fprintf(stderr, "%s: not a number: %s\n", opt, s);
        exit(2);
    }
    return v;
}

static double parse_f64(const char *opt, const char *s)
{
    char *end;
    double v = strtod(s, &end);
    if (*end || end == s || v < 0) {
        fprintf(stderr, "%s: not a non-negative number: %s\n", opt, s);
        exit(2);
    }
    return v;
}

static void print_env(const struct options *o)
{
    char model[128] = "unknown";
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (f) {
        char line[256];
        while (fgets(line, sizeof line, f)) {
            char *colon = strchr(line, ':');
            if (strncmp(line, "model name", 10) == 0 && colon) {
                snprintf(model, sizeof model, "%s", colon + 2);
                model[strcspn(model, "\n")] = 0;
                break;
            }
        }
        fclose(f);
    }
    struct utsname u;
    uname(&u);
    json_begin("c-env");
    json_str("kind", "env");
    json_str("cpu_model", model);
    json_str("kernel", u.release);
    json_u64("cpus", (uint64_t)sysconf(_SC_NPROCESSORS_ONLN));
    json_str("clock", clock_name());
    json_u64("clock_overhead_ns", clock_overhead_ns());
    json_f64("clock_tick_ns", clock_tick_ns());
    json_str("mode", o->exec_mode ? "exec" : "fork");
    json_u64("pinned", (uint64_t)o->pin);
    json_u64("quick", (uint64_t)o->quick);
    json_end();
}

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "--peer") == 0)
        return peer_main(argc, argv);
    if (argc >= 2 && strcmp(argv[1], "--child") == 0)
        return harness_child_main(argc, argv);
    if (argc == 4 && strcmp(argv[1], "--percentiles") == 0)
        return percentiles_main(parse_f64("--percentiles", argv[2]), argv[3]);
    if (argc == 3 && strcmp(argv[1], "--clock-step") == 0)
        return clock_step_main(argv[2]);

    struct options o;
    memset(&o, 0, sizeof o);
    o.warmup = -1;
    o.timeout_s = 60;
    o.spin_ns = 50000;
    o.capacity = 1024;
    o.batch = 64;
    o.repeat = 1;
    o.producers = 2;
    int64_t iters = -1, tput_count = -1, tput_bytes = -1;
    const char *clock = "monotonic";
    enum { O_ONLY = 256, O_LIST, O_QUICK, O_ITERS, O_WARMUP, O_DURATION, O_TIMEOUT, O_CLOCK,
           O_SPIN, O_CAP, O_BATCH, O_TCOUNT, O_TBYTES, O_PIN, O_EXEC, O_HELP, O_REPEAT, O_PRODUCERS };
    static const struct option longopts[] = {
        { "only", required_argument, 0, O_ONLY }, { "list", no_argument, 0, O_LIST },
        { "quick", no_argument, 0, O_QUICK }, { "iters", required_argument, 0, O_ITERS },
        { "warmup", required_argument, 0, O_WARMUP }, { "duration", required_argument, 0, O_DURATION },
        { "timeout", required_argument, 0, O_TIMEOUT }, { "clock", required_argument, 0, O_CLOCK },
        { "spin-ns", required_argument, 0, O_SPIN }, { "capacity", required_argument, 0, O_CAP },
        { "batch", required_argument, 0, O_BATCH }, { "tput-count", required_argument, 0, O_TCOUNT },
        { "tput-bytes", required_argument, 0, O_TBYTES }, { "pin", no_argument, 0, O_PIN },
        { "exec", no_argument, 0, O_EXEC }, { "repeat", required_argument, 0, O_REPEAT },
        { "producers", required_argument, 0, O_PRODUCERS }, { "help", no_argument, 0, O_HELP }, { 0, 0, 0, 0 },
    };
    for (int ch; (ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1;) {
        switch (ch) {
        case O_ONLY: o.only = optarg; break;
        case O_LIST: o.list = 1; break;
        case O_QUICK: o.quick = 1; break;
        case O_ITERS: iters = (int64_t)parse_u64("--iters", optarg); break;
        case O_WARMUP: o.warmup = (int64_t)parse_u64("--warmup", optarg); break;
        case O_DURATION: o.duration_s = parse_f64("--duration", optarg); break;
        case O_TIMEOUT: o.timeout_s = parse_f64("--timeout", optarg); break;
        case O_CLOCK: clock = optarg; break;
        case O_SPIN: o.spin_ns = parse_u64("--spin-ns", optarg); break;
        case O_CAP: o.capacity = (uint32_t)parse_u64("--capacity", optarg); break;
        case O_BATCH: o.batch = (uint32_t)parse_u64("--batch", optarg); break;
        case O_TCOUNT: tput_count = (int64_t)parse_u64("--tput-count", optarg); break;
        case O_TBYTES: tput_bytes = (int64_t)parse_u64("--tput-bytes", optarg); break;
        case O_PIN: o.pin = 1; break;
        case O_EXEC: o.exec_mode = 1; break;
        case O_REPEAT: o.repeat = (unsigned)parse_u64("--repeat", optarg); break;
        case O_PRODUCERS: o.producers = (uint32_t)parse_u64("--producers", optarg); break;
        case 'h': case O_HELP: usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "unexpected argument: %s\n", argv[optind]);
        return 2;
    }
    if (strcmp(clock, "tsc") != 0 && strcmp(clock, "monotonic") != 0) {
        fprintf(stderr, "--clock: tsc or monotonic\n");
        return 2;
    }
    if (o.capacity < 2 || o.capacity > (1u << 24) || (o.capacity & (o.capacity - 1))) {
        fprintf(stderr, "--capacity: a power of two between 2 and 2^24\n");
        return 2;
    }
    if (o.batch < 1 || o.batch > o.capacity) {
        fprintf(stderr, "--batch: between 1 and the capacity\n");
        return 2;
    }
    if (o.producers < 1 || o.producers > BENCH_MAX_PRODUCERS) {
        fprintf(stderr, "--producers: between 1 and %d\n", BENCH_MAX_PRODUCERS);
        return 2;
    }
    if (o.repeat < 1 || o.repeat > 1000) {
        fprintf(stderr, "--repeat: between 1 and 1000\n");
        return 2;
    }
    if (o.timeout_s < 1)
        o.timeout_s = 1;
    /* Iterations: given, or a cap under --duration, or the (quick) defaults. */
    if (iters >= 0)
        o.iters_fast = o.iters_kernel = (uint64_t)iters;
    else if (o.duration_s > 0)
        o.iters_fast = 5000000, o.iters_kernel = 1000000;
    else if (o.quick)
        o.iters_fast = 100000, o.iters_kernel = 3000;
    else
        o.iters_fast = 1000000, o.iters_kernel = 20000;
    o.tput_count = tput_count >= 0 ? (uint64_t)tput_count : o.quick ? 2000000 : 10000000;
    o.tput_bytes = tput_bytes >= 0 ? (uint64_t)tput_bytes : o.quick ? (256ull << 20) : (2048ull << 20);

    if (o.list) {
        for (unsigned i = 0; i < g_test_count; i++)
            if (selected(&g_tests[i], o.only))
                printf("%-16s %s\n", g_tests[i].shrt, g_tests[i].name);
        return 0;
    }
    unsigned chosen = 0;
    for (unsigned i = 0; i < g_test_count; i++)
        chosen += selected(&g_tests[i], o.only);
    if (!chosen) {
        fprintf(stderr, "--only %s selects no test (see --list)\n", o.only);
        return 2;
    }

    watchdog_install();
    if (o.pin && pin_to_cpu(0) != 0)
        perror("sched_setaffinity (continuing unpinned)");
    clock_init(strcmp(clock, "tsc") == 0);
    print_env(&o);
    int failed = 0;
    for (o.run = 1; o.run <= o.repeat; o.run++) {
        for (unsigned i = 0; i < g_test_count; i++) {
            const struct test_def *t = &g_tests[i];
            if (!selected(t, o.only))
                continue;
            int rc = t->kind == KIND_LATENCY ? pingpong_run(t, i, &o)
                   : t->kind == KIND_THROUGHPUT ? throughput_run(t, i, &o)
                   : cost_run(t, i, &o);
            failed += rc != 0;
        }
    }
    return failed ? 1 : 0;
}
