/*
 * proc.c — the child process (fork, optionally exec of this program as --peer), its
 * bounded reaping, and the SIGALRM watchdog that turns a hung blocking call into EINTR.
 */
#include "bench.h"

#include <errno.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

volatile sig_atomic_t g_watchdog_fired;

static void on_alarm(int sig)
{
    (void)sig;
    g_watchdog_fired = 1;
}

/* No SA_RESTART: a blocking read/write/futex interrupted by the watchdog returns EINTR,
 * and the loops give up when they see g_watchdog_fired or their deadline. */
void watchdog_install(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGALRM, &sa, NULL);
}

void watchdog_arm(double seconds)
{
    g_watchdog_fired = 0;
    struct itimerval it;
    memset(&it, 0, sizeof it);
    if (seconds < 0.001)
        seconds = 0.001;
    it.it_value.tv_sec = (time_t)seconds;
    it.it_value.tv_usec = (suseconds_t)((seconds - (double)(time_t)seconds) * 1e6);
    /* Re-fire every 100 ms, so a call entered just after the first alarm is interrupted too. */
    it.it_interval.tv_usec = 100000;
    setitimer(ITIMER_REAL, &it, NULL);
}

void watchdog_disarm(void)
{
    struct itimerval it;
    memset(&it, 0, sizeof it);
    setitimer(ITIMER_REAL, &it, NULL);
}

int pin_to_cpu(int cpu)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return sched_setaffinity(0, sizeof set, &set);
}

void child_fail(struct bench_region *r, const char *fmt, ...)
{
    struct bench_ctl *c = r->ctl;
    if (c->child_status != 0)
        return; /* keep the first error */
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->child_error, sizeof c->child_error, fmt, ap);
    va_end(ap);
    c->child_status = 1;
}

static int run_child_side(struct bench_region *r, int (*child_fn)(struct bench_region *))
{
    if (r->ctl->pin_child_cpu >= 0)
        pin_to_cpu(r->ctl->pin_child_cpu);
    uint64_t now = mono_ns();
    if (r->ctl->deadline_ns > now)
        watchdog_arm((double)(r->ctl->deadline_ns - now) / 1e9 + 1.0);
    int rc = child_fn(r);
    watchdog_disarm();
    if (rc != 0 && r->ctl->child_status == 0)
        child_fail(r, "child side failed");
    /* Release: the parent reads the results after seeing child_done (or after the reap). */
    __atomic_store_n(&r->ctl->child_done, 1, __ATOMIC_RELEASE);
    return r->ctl->child_status;
}

pid_t child_start(struct bench_region *r, int exec_mode, int (*child_fn)(struct bench_region *))
{
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid != 0)
        return pid; /* parent, or -1 */
    /* Child: die with the parent, whatever kills it. */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != r->ctl->parent_pid)
        _exit(3);
    if (exec_mode) {
        char fdarg[16];
        snprintf(fdarg, sizeof fdarg, "%d", r->fd);
        char *argv[] = { "uintripc-native-bench", "--peer", fdarg, NULL };
        execv("/proc/self/exe", argv);
        child_fail(r, "execv /proc/self/exe: %s", strerror(errno));
        _exit(4);
    }
    _exit(run_child_side(r, child_fn) == 0 ? 0 : 1);
}

/* The re-executed child: `--peer <fd>`. The fd is the region memfd, inherited. */
int peer_main(int argc, char **argv)
{
    if (argc < 3)
        return 2;
    char *end;
    long fd = strtol(argv[2], &end, 10);
    if (*end || fd < 0 || fd > 1 << 20)
        return 2;
    struct bench_region r;
    char err[200];
    if (region_attach(&r, (int)fd, err, sizeof err) != 0) {
        fprintf(stderr, "peer: %s\n", err);
        return 2;
    }
    watchdog_install();
    struct bench_ctl *c = r.ctl;
    if (c->test_index >= g_test_count) {
        child_fail(&r, "unknown test index %u", c->test_index);
        return 2;
    }
    const struct test_def *t = &g_tests[c->test_index];
    return run_child_side(&r, t->kind == KIND_LATENCY ? pingpong_child : throughput_child) == 0 ? 0 : 1;
}

int child_wait_ready(struct bench_region *r, pid_t pid, uint64_t deadline_ns)
{
    for (unsigned n = 0;; n++) {
        /* Acquire: pairs with the child's release of child_ready. */
        if (__atomic_load_n(&r->ctl->child_ready, __ATOMIC_ACQUIRE))
            return 0;
        if ((n & 1023) == 0) {
            if (__atomic_load_n(&r->ctl->child_done, __ATOMIC_ACQUIRE) || kill(pid, 0) != 0)
                return -1;
            /* An exited child still answers kill(pid, 0) until it is reaped: ask without reaping
             * (WNOWAIT), so that child_reap still gets its status. */
            siginfo_t exited = {0};
            if (waitid(P_PID, (id_t)pid, &exited, WEXITED | WNOHANG | WNOWAIT) == 0 && exited.si_pid == pid)
                return -1;
            if (mono_ns() > deadline_ns)
                return -1;
        }
        if (n > 4096)
            usleep(100);
        else
            _mm_pause();
    }
}

int child_reap(pid_t pid, uint64_t deadline_ns)
{
    int status;
    for (;;) {
        pid_t w = waitpid(pid, &status, WNOHANG);
        if (w == pid)
            return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        if (w < 0 && errno != EINTR)
            return -1;
        if (mono_ns() > deadline_ns) {
            kill(pid, SIGKILL);
            while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
            return -1;
        }
        usleep(1000);
    }
}
