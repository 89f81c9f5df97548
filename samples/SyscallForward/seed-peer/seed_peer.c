/*
 * seed_peer - plays the RTOS side of the original design's v1 syscall queue
 * (reference/seed-protocol.md §1.2-§2.4; layout in interop/include/uintripc_seed_v1.h)
 * against a server of the page (`SyscallForward seed`), and checks every answer.
 *
 *   seed_peer init FILE
 *       creates FILE (1 MiB data buffer, then the 4 KiB queue page) and initialises the page
 *       as NimbOS's SyscallQueueBuffer::new does: magic, capacity 128, lock 0, indices 0,
 *       every descriptor invalid.
 *   seed_peer run FILE SERVER_PID SERVER_TID [SIGNAL]
 *       sends requests the v1 way (descriptor allocated and request pushed under the shared
 *       lock, fence, req_index published), raises the notification as v1's driver did (a
 *       real-time signal, SI_QUEUE, value 2333, to the server's registered thread), polls
 *       rsp_index for the answers (v1 had no reverse notification) and checks each one.
 *       Expects the server's directory to hold input.txt (the bytes 0..255 repeated, 1000
 *       bytes) and a link escape -> ../outside/secret.txt. Prints "ok ..." per check and
 *       "seed_peer: N requests, N checks passed"; exits 1 on the first wrong answer.
 *   seed_peer leave-answered FILE SERVER_PID SERVER_TID
 *       appends "x\n" to append.txt through the server and waits until the answer is published,
 *       but does not take it: the descriptor stays valid, as when the RTOS has not yet run its
 *       completion tick. A server restarted now must not execute the write again.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "uintripc_seed_v1.h"

#define TIMEOUT_NS (10LL * 1000 * 1000 * 1000) /* per answer, measured from the last progress */

static uint8_t *data_buf;
static uint8_t *page;
static struct uipc_seed_meta *meta;
static struct uipc_seed_desc *desc;
static uint16_t *req_ring;
static uint16_t *rsp_ring;
static uint16_t capacity;
static uint16_t req_shadow;        /* NimbOS's req_index_shadow */
static uint16_t rsp_last;          /* NimbOS's rsp_index_last */
static int server_pid, server_tid, notify_signal = UIPC_SEED_SIGNAL;
static size_t heap_top;            /* a bump allocator over the data buffer, reset per scenario */
static int checks, requests;
static int64_t results[UIPC_SEED_CAPACITY];
static int answered[UIPC_SEED_CAPACITY];

static void fail(const char *what, long long got, long long want)
{
    fprintf(stderr, "FAIL %s: got %lld, want %lld\n", what, got, want);
    exit(1);
}

static void check(const char *what, long long got, long long want)
{
    if (got != want)
        fail(what, got, want);
    checks++;
    printf("ok %s = %lld\n", what, got);
}

static int64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000LL + t.tv_nsec;
}

/* The shared lock as NimbOS takes it: CAS 0 -> 1 with acquire, spin; release store to unlock. */
static void lock(void)
{
    uint8_t expected = 0;
    while (!__atomic_compare_exchange_n(&meta->lock, &expected, 1, 1, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
        expected = 0;
        __builtin_ia32_pause();
    }
}

static void unlock(void) { __atomic_store_n(&meta->lock, 0, __ATOMIC_RELEASE); }

static uint64_t alloc(size_t size)
{
    size_t off = (heap_top + 15) & ~(size_t)15;
    if (off + size > UIPC_SEED_DATA_SIZE) {
        fprintf(stderr, "seed_peer: data buffer exhausted\n");
        exit(2);
    }
    heap_top = off + size;
    return off;
}

static int find_free_desc(void)
{
    for (int i = 0; i < capacity; i++)
        if (!desc[i].valid)
            return i;
    return -1;
}

/* send_locked of queue.rs: allocate a descriptor, fill it, push its index, fence, publish. */
static int send_request(uint8_t opcode, uint64_t args)
{
    lock();
    int i = find_free_desc();
    if (i < 0) {
        unlock();
        fprintf(stderr, "seed_peer: no free descriptor\n");
        exit(2);
    }
    desc[i].valid = 1;
    desc[i].opcode = opcode;
    desc[i].args = args;
    desc[i].ret_val = 0;
    req_ring[req_shadow & (capacity - 1)] = (uint16_t)i;
    req_shadow++;
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    __atomic_store_n(&meta->req_index, req_shadow, __ATOMIC_RELEASE);
    unlock();
    requests++;
    answered[i] = 0;
    return i;
}

/* Pushes a raw (possibly bad) descriptor index, as a corrupt RTOS would. */
static void push_raw_index(uint16_t index)
{
    lock();
    req_ring[req_shadow & (capacity - 1)] = index;
    req_shadow++;
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    __atomic_store_n(&meta->req_index, req_shadow, __ATOMIC_RELEASE);
    unlock();
}

/* What v1's driver does on the RTOS's IPI: signal 44, SI_QUEUE, si_int 2333, to the registered thread. */
static void notify(void)
{
    if (notify_signal == 0)
        return;
    siginfo_t info;
    memset(&info, 0, sizeof info);
    info.si_signo = notify_signal;
    info.si_code = SI_QUEUE;
    info.si_pid = getpid();
    info.si_uid = getuid();
    info.si_value.sival_int = UIPC_SEED_SIGNAL_VALUE;
    if (syscall(SYS_rt_tgsigqueueinfo, server_pid, server_tid, notify_signal, &info) != 0) {
        perror("seed_peer: rt_tgsigqueueinfo");
        exit(2);
    }
}

/* pop_response of queue.rs, polled (v1 found completions on its timer tick). Frees the descriptor. */
static int pop_response(void)
{
    int got = -1;
    lock();
    uint16_t published = __atomic_load_n(&meta->rsp_index, __ATOMIC_ACQUIRE);
    if (rsp_last != published) {
        uint16_t i = rsp_ring[rsp_last & (capacity - 1)];
        rsp_last++;
        if (i >= capacity || !desc[i].valid) {
            unlock();
            fprintf(stderr, "FAIL the server answered descriptor %u, which is not outstanding\n", i);
            exit(1);
        }
        results[i] = (int64_t)desc[i].ret_val;
        answered[i] = 1;
        desc[i].valid = 0;
        got = i;
    }
    unlock();
    return got;
}

/* Waits until descriptor d has its answer (others answered meanwhile are recorded too). */
static int64_t wait_answer(int d)
{
    int64_t last_progress = now_ns();
    while (!answered[d]) {
        if (pop_response() >= 0) {
            last_progress = now_ns();
            continue;
        }
        if (now_ns() - last_progress > TIMEOUT_NS) {
            fprintf(stderr, "FAIL no answer for descriptor %d within 10 s\n", d);
            exit(1);
        }
        struct timespec nap = {0, 50 * 1000};
        nanosleep(&nap, NULL);
    }
    return results[d];
}

static int64_t call(uint8_t opcode, uint64_t args)
{
    int d = send_request(opcode, args);
    notify();
    return wait_answer(d);
}

static uint64_t put_string(const char *s)
{
    size_t n = strlen(s) + 1;
    uint64_t off = alloc(n);
    memcpy(data_buf + off, s, n);
    return off;
}

static int64_t do_open(const char *path, uint32_t flags, uint32_t mode)
{
    uint64_t a = alloc(sizeof(struct uipc_seed_open_args));
    struct uipc_seed_open_args *args = (void *)(data_buf + a);
    args->path_offset = put_string(path);
    args->flags = flags;
    args->mode = mode;
    return call(UIPC_SEED_OPEN, a);
}

static uint64_t rw_args(uint32_t fd, uint64_t buf_offset, uint64_t len)
{
    uint64_t a = alloc(sizeof(struct uipc_seed_rw_args));
    struct uipc_seed_rw_args *args = (void *)(data_buf + a);
    args->fd = fd;
    args->buf_offset = buf_offset;
    args->len = len;
    return a;
}

static int64_t do_close(uint32_t fd)
{
    uint64_t a = alloc(sizeof(struct uipc_seed_close_args));
    ((struct uipc_seed_close_args *)(data_buf + a))->fd = fd;
    return call(UIPC_SEED_CLOSE, a);
}

static void map_file(const char *path, int create)
{
    int fd = open(path, O_RDWR | O_CLOEXEC | (create ? O_CREAT | O_TRUNC : 0), 0600);
    if (fd < 0 || (create && ftruncate(fd, UIPC_SEED_DATA_SIZE + UIPC_SEED_PAGE_SIZE) != 0)) {
        perror(path);
        exit(2);
    }
    data_buf = mmap(NULL, UIPC_SEED_DATA_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    page = mmap(NULL, UIPC_SEED_PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, UIPC_SEED_FILE_QUEUE_OFFSET);
    close(fd);
    if (data_buf == MAP_FAILED || page == MAP_FAILED) {
        perror("mmap");
        exit(2);
    }
    meta = (struct uipc_seed_meta *)page;
}

static void layout(uint16_t cap)
{
    capacity = cap;
    desc = (struct uipc_seed_desc *)(page + UIPC_SEED_DESC_OFFSET);
    req_ring = (uint16_t *)(page + UIPC_SEED_REQ_RING_OFFSET(cap));
    rsp_ring = (uint16_t *)(page + UIPC_SEED_RSP_RING_OFFSET(cap));
}

static int init(const char *path)
{
    map_file(path, 1);
    layout(UIPC_SEED_CAPACITY);
    meta->lock = 0;
    meta->capacity = UIPC_SEED_CAPACITY;
    meta->req_index = 0;
    meta->rsp_index = 0;
    for (int i = 0; i < capacity; i++)
        desc[i].valid = 0;
    __atomic_store_n(&meta->magic, UIPC_SEED_MAGIC, __ATOMIC_RELEASE); /* last: the server waits for it */
    printf("seed_peer: initialised %s (capacity %u)\n", path, capacity);
    return 0;
}

static int run(void)
{
    char what[128];
    uint16_t cap = meta->capacity;
    if (__atomic_load_n(&meta->magic, __ATOMIC_ACQUIRE) != UIPC_SEED_MAGIC || cap == 0 || (cap & (cap - 1)) != 0 || cap > UIPC_SEED_CAPACITY) {
        fprintf(stderr, "seed_peer: the page is not initialised (run init first)\n");
        return 2;
    }
    layout(cap);
    /* Continue where a previous run left off (the RTOS keeps its shadows across server restarts). */
    req_shadow = meta->req_index;
    rsp_last = meta->rsp_index;
    for (int i = 0; i < capacity; i++)
        desc[i].valid = 0;

    check("NOP", call(UIPC_SEED_NOP, 0), 0);

    /* OPEN + READ of more than v1's 256-byte chunk limit; then EOF. */
    int64_t in = do_open("input.txt", O_RDONLY, 0);
    if (in < 0)
        fail("OPEN input.txt", in, 0);
    checks++;
    uint64_t buf = alloc(4096);
    memset(data_buf + buf, 0xEE, 4096);
    check("READ input.txt 4096", call(UIPC_SEED_READ, rw_args((uint32_t)in, buf, 4096)), 1000);
    for (int i = 0; i < 1000; i++)
        if (data_buf[buf + i] != (uint8_t)i) {
            fail("READ input.txt content at", i, data_buf[buf + i]);
        }
    check("READ bytes past the answer untouched", data_buf[buf + 1000], 0xEE);
    check("READ at EOF", call(UIPC_SEED_READ, rw_args((uint32_t)in, buf, 16)), 0);
    check("CLOSE input.txt", do_close((uint32_t)in), 0);
    check("CLOSE again (EBADF, full 64-bit)", do_close((uint32_t)in), -EBADF);

    /* OPEN O_CREAT + WRITE of 5000 bytes + CLOSE: the test checks output.txt. */
    int64_t out = do_open("output.txt", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (out < 0)
        fail("OPEN output.txt", out, 0);
    checks++;
    uint64_t wbuf = alloc(5000);
    for (int i = 0; i < 5000; i++)
        data_buf[wbuf + i] = (uint8_t)(i * 7);
    check("WRITE output.txt 5000", call(UIPC_SEED_WRITE, rw_args((uint32_t)out, wbuf, 5000)), 5000);
    check("CLOSE output.txt", do_close((uint32_t)out), 0);

    /* The granted stdout. */
    const char *hello = "hello from the RTOS side\n";
    uint64_t hbuf = put_string(hello);
    check("WRITE stdout", call(UIPC_SEED_WRITE, rw_args(1, hbuf, strlen(hello))), (long long)strlen(hello));

    /* Confinement and errno. */
    check("OPEN ../outside/secret.txt", do_open("../outside/secret.txt", O_RDONLY, 0), -EXDEV);
    check("OPEN /etc/passwd", do_open("/etc/passwd", O_RDONLY, 0), -EXDEV);
    check("OPEN escape (link outside)", do_open("escape", O_RDONLY, 0), -EXDEV);
    check("OPEN missing.txt", do_open("missing.txt", O_RDONLY, 0), -ENOENT);
    check("READ fd 77", call(UIPC_SEED_READ, rw_args(77, buf, 16)), -EBADF);
    check("opcode 0x7e", call(0x7e, 0), -ENOSYS);
    check("opcode UNKNOWN (0xff)", call(UIPC_SEED_UNKNOWN, 0), -ENOSYS);

    /* Offsets the original trusted: args outside, buffer outside, a length that wraps. */
    check("READ args offset outside", call(UIPC_SEED_READ, UIPC_SEED_DATA_SIZE - 8), -EFAULT);
    check("READ args offset huge", call(UIPC_SEED_READ, 0xFFFFFFFFFFFFFFF0ull), -EFAULT);
    check("READ buffer past the end", call(UIPC_SEED_READ, rw_args(1, UIPC_SEED_DATA_SIZE - 8, 16)), -EFAULT);
    check("WRITE length wraps", call(UIPC_SEED_WRITE, rw_args(1, 16, UINT64_MAX)), -EFAULT);
    uint64_t open_args = alloc(sizeof(struct uipc_seed_open_args));
    ((struct uipc_seed_open_args *)(data_buf + open_args))->path_offset = UIPC_SEED_DATA_SIZE;
    check("OPEN path offset outside", call(UIPC_SEED_OPEN, open_args), -EFAULT);
    memset(data_buf + UIPC_SEED_DATA_SIZE - 64, 'a', 64); /* a path with no NUL before the end */
    ((struct uipc_seed_open_args *)(data_buf + open_args))->path_offset = UIPC_SEED_DATA_SIZE - 64;
    check("OPEN path without NUL", call(UIPC_SEED_OPEN, open_args), -EFAULT);

    /* A bad descriptor index in the ring is skipped, not a stall: the NOP after it is answered. */
    push_raw_index(0xFFFF);
    check("NOP after a bad index", call(UIPC_SEED_NOP, 0), 0);

    /* A full ring in one go, one notification: every descriptor answered exactly once. */
    int batch[UIPC_SEED_CAPACITY];
    for (int i = 0; i < capacity; i++)
        batch[i] = send_request(i % 2 ? UIPC_SEED_NOP : 0x42, 0);
    notify();
    int wrong = 0;
    for (int i = 0; i < capacity; i++) {
        int64_t r = wait_answer(batch[i]);
        if (r != (i % 2 ? 0 : -ENOSYS))
            wrong++;
    }
    snprintf(what, sizeof what, "a full ring of %u requests, wrong answers", capacity);
    check(what, wrong, 0);
    check("no answer left over", __atomic_load_n(&meta->rsp_index, __ATOMIC_ACQUIRE) == rsp_last, 1);

    printf("seed_peer: %d requests, %d checks passed\n", requests, checks);
    return 0;
}

static int leave_answered(void)
{
    layout(meta->capacity);
    req_shadow = meta->req_index;
    rsp_last = meta->rsp_index;
    int64_t fd = do_open("append.txt", O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd < 0)
        fail("OPEN append.txt", fd, 0);
    uint64_t text = put_string("x\n");
    int d = send_request(UIPC_SEED_WRITE, rw_args((uint32_t)fd, text, 2));
    notify();
    int64_t start = now_ns();
    while (__atomic_load_n(&meta->rsp_index, __ATOMIC_ACQUIRE) == rsp_last) {
        if (now_ns() - start > TIMEOUT_NS)
            fail("the WRITE was not answered within 10 s", 0, 1);
        struct timespec nap = {0, 50 * 1000};
        nanosleep(&nap, NULL);
    }
    check("WRITE answered, left untaken in descriptor", d, d);
    check("its result", (int64_t)desc[d].ret_val, 2);
    return 0;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc == 3 && strcmp(argv[1], "init") == 0)
        return init(argv[2]);
    if ((argc == 5 || argc == 6) && strcmp(argv[1], "run") == 0) {
        server_pid = atoi(argv[3]);
        server_tid = atoi(argv[4]);
        if (argc == 6)
            notify_signal = atoi(argv[5]);
        map_file(argv[2], 0);
        return run();
    }
    if (argc == 5 && strcmp(argv[1], "leave-answered") == 0) {
        server_pid = atoi(argv[3]);
        server_tid = atoi(argv[4]);
        map_file(argv[2], 0);
        return leave_answered();
    }
    fprintf(stderr, "usage: seed_peer init FILE | seed_peer run FILE SERVER_PID SERVER_TID [SIGNAL] | seed_peer leave-answered FILE SERVER_PID SERVER_TID\n");
    return 2;
}
