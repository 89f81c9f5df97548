/*
 * fwd_client - a C client of the syscall-forwarding server (`SyscallForward serve`), written
 * only against the headers of interop/include: uintripc.h (region, slot rings, wait block),
 * uintripc_rpc.h (session region, records, bootstrap framing, handshake) and uintripc_fwd.h
 * (opcodes and arguments). Single-threaded: one call outstanding at a time, futex doorbell.
 *
 *   fwd_client SOCKET            (SOCKET: a path, or @name for the abstract namespace)
 *
 * Forwards every opcode, checks each answer (errno included), times forwarded no-ops, and
 * prints "fwd_client: N checks passed" (exit 0), or "FAIL ..." (exit 1).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "uintripc.h"
#include "uintripc_fwd.h"
#include "uintripc_rpc.h"

#define CALL_TIMEOUT_NS (10LL * 1000000000LL)
#define SPIN_NS 20000LL

struct ring {
    struct uipc_ring_control *control;
    uint8_t *data;
    uint64_t capacity;
    uint32_t slot_size;
};

static int sock = -1;
static uint8_t *region;
static uint64_t region_size;
static struct uipc_rpc_control *control;
static struct ring requests, responses;
static uint8_t *arena;
static uint64_t arena_length;
static struct uipc_wait_block *server_wait, *client_wait;
static uint64_t response_head; /* our consumer position, kept privately */
static uint32_t generation;
static int checks;

static void die(const char *what)
{
    fprintf(stderr, "FAIL %s\n", what);
    exit(1);
}

static int64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000LL + t.tv_nsec;
}

/* ---- bootstrap (uintripc_rpc.h section 6) ------------------------------------------------ */

static void send_frame(uint16_t type, const void *payload, uint32_t length)
{
    uint8_t buffer[sizeof(struct uipc_bootstrap_frame) + 64];
    struct uipc_bootstrap_frame frame = {UIPC_BOOTSTRAP_MAGIC, UIPC_BOOTSTRAP_VERSION, type, length, 0};
    memcpy(buffer, &frame, sizeof frame);
    memcpy(buffer + sizeof frame, payload, length);
    if (send(sock, buffer, sizeof frame + length, MSG_NOSIGNAL) != (ssize_t)(sizeof frame + length))
        die("send to the server");
}

/* Receives one datagram; checks its frame against what arrived; returns the payload length. */
static uint32_t receive_frame(uint16_t *type, void *payload, uint32_t capacity, int *fds, int max_fds, int *fd_count)
{
    uint8_t buffer[sizeof(struct uipc_bootstrap_frame) + UIPC_BOOTSTRAP_MAX_REASON + 64];
    union {
        char raw[CMSG_SPACE(sizeof(int) * UIPC_BOOTSTRAP_MAX_FDS)];
        struct cmsghdr align;
    } cmsg_buffer;
    struct iovec iov = {buffer, sizeof buffer};
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cmsg_buffer.raw, .msg_controllen = sizeof cmsg_buffer.raw};
    struct pollfd p = {sock, POLLIN, 0};
    if (poll(&p, 1, 10000) != 1)
        die("no answer from the server within 10 s");
    ssize_t n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
    if (n < (ssize_t)sizeof(struct uipc_bootstrap_frame) || (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)))
        die("short or truncated bootstrap message");
    *fd_count = 0;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
            int count = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
            for (int i = 0; i < count; i++) {
                int fd;
                memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
                if (*fd_count < max_fds)
                    fds[(*fd_count)++] = fd;
                else
                    close(fd);
            }
        }
    }
    struct uipc_bootstrap_frame frame;
    memcpy(&frame, buffer, sizeof frame);
    uint32_t length = (uint32_t)n - (uint32_t)sizeof frame;
    if (frame.magic != UIPC_BOOTSTRAP_MAGIC || frame.version != UIPC_BOOTSTRAP_VERSION || frame.payload_length != length ||
        frame.fd_count != (uint32_t)*fd_count || length > capacity)
        die("bootstrap frame does not match what arrived");
    *type = frame.type;
    memcpy(payload, buffer + sizeof frame, length);
    return length;
}

static void connect_server(const char *name)
{
    struct sockaddr_un address = {.sun_family = AF_UNIX};
    socklen_t length;
    size_t n = strlen(name);
    if (name[0] == '@') { /* abstract: a leading NUL, no terminator */
        if (n > sizeof address.sun_path)
            die("socket name too long");
        memcpy(address.sun_path + 1, name + 1, n - 1);
        length = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
    } else {
        if (n >= sizeof address.sun_path)
            die("socket path too long");
        memcpy(address.sun_path, name, n);
        length = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1);
    }
    sock = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (sock < 0 || connect(sock, (struct sockaddr *)&address, length) != 0) {
        perror("fwd_client: connect");
        exit(1);
    }
    struct ucred peer;
    socklen_t peer_length = sizeof peer;
    if (getsockopt(sock, SOL_SOCKET, SO_PEERCRED, &peer, &peer_length) != 0 || peer.uid != getuid())
        die("the server is not our user (SO_PEERCRED)");

    uint16_t type;
    int fds[2], fd_count;
    char reason[UIPC_BOOTSTRAP_MAX_REASON + 1];
    uint32_t got = receive_frame(&type, reason, UIPC_BOOTSTRAP_MAX_REASON, fds, 0, &fd_count);
    if (type == UIPC_BOOTSTRAP_REFUSED) {
        reason[got] = 0;
        fprintf(stderr, "FAIL the server refused us: %s\n", reason);
        exit(1);
    }
    if (type != UIPC_BOOTSTRAP_ACCEPT || got != 0)
        die("expected ACCEPT");

    struct uipc_rpc_hello hello = {UIPC_RPC_MAGIC, UIPC_RPC_VERSION, UIPC_RPC_DOORBELL_FUTEX, 0, 0, 0, 0};
    send_frame(UIPC_BOOTSTRAP_DATA, &hello, sizeof hello);

    struct uipc_rpc_welcome welcome;
    got = receive_frame(&type, &welcome, sizeof welcome, fds, 2, &fd_count);
    if (type != UIPC_BOOTSTRAP_DATA || got != sizeof welcome || welcome.magic != UIPC_RPC_MAGIC || welcome.version != UIPC_RPC_VERSION)
        die("bad welcome");
    if (welcome.status != 0 || fd_count != 1 || welcome.doorbell_kind != UIPC_RPC_DOORBELL_FUTEX) {
        fprintf(stderr, "FAIL session refused: status %d, %d descriptors\n", welcome.status, fd_count);
        exit(1);
    }

    /* Map the region: it is sealed against shrinking, so its size stays. */
    struct stat st;
    if (fstat(fds[0], &st) != 0 || st.st_size < (off_t)UIPC_REGION_HEADER_SIZE)
        die("region descriptor");
    region_size = (uint64_t)st.st_size;
    region = mmap(NULL, region_size, PROT_READ | PROT_WRITE, MAP_SHARED, fds[0], 0);
    close(fds[0]);
    if (region == MAP_FAILED)
        die("mmap of the region");

    /* Validate the header (uintripc.h section 1), then the session (uintripc_rpc.h section 6, step 5). */
    struct uipc_region_header *header = (struct uipc_region_header *)region;
    if (__atomic_load_n(&header->magic, __ATOMIC_ACQUIRE) != UIPC_REGION_MAGIC || header->layout_version != UIPC_LAYOUT_VERSION ||
        header->header_size != UIPC_REGION_HEADER_SIZE || header->total_size != region_size || header->part_count > UIPC_MAX_PARTS ||
        header->region_kind != UIPC_RPC_REGION_KIND || header->epoch != welcome.region_epoch)
        die("region header");
    arena_length = welcome.arena_length;
    uint64_t max_calls = welcome.max_calls;
    for (uint32_t i = 0; i < header->part_count; i++) {
        struct uipc_part *p = &header->parts[i];
        if (p->offset % UIPC_PART_ALIGNMENT != 0 || p->offset < UIPC_REGION_HEADER_SIZE || p->length > region_size ||
            p->offset > region_size - p->length)
            die("part outside the region");
        uint8_t *base = region + p->offset;
        struct ring *r = NULL;
        uint32_t element = 0;
        if (p->kind == UIPC_RPC_PART_CONTROL && p->tag == UIPC_RPC_TAG_CONTROL && p->length >= sizeof *control)
            control = (struct uipc_rpc_control *)base;
        else if (p->kind == UIPC_PART_MPSC_SLOTS && p->tag == UIPC_RPC_TAG_REQUESTS)
            r = &requests, element = sizeof(struct uipc_rpc_request);
        else if (p->kind == UIPC_PART_SPSC_SLOTS && p->tag == UIPC_RPC_TAG_RESPONSES)
            r = &responses, element = sizeof(struct uipc_rpc_response);
        else if (p->kind == UIPC_PART_ARENA && p->tag == UIPC_RPC_TAG_ARENA && p->length >= arena_length)
            arena = base;
        else if (p->kind == UIPC_PART_WAIT_BLOCK && p->length >= UIPC_WAIT_BLOCK_SIZE)
            *(p->tag == UIPC_RPC_TAG_SERVER_WAIT ? &server_wait : &client_wait) = (struct uipc_wait_block *)base;
        if (r) {
            struct uipc_ring_control *c = (struct uipc_ring_control *)base;
            uint32_t slot = (8 + element + 7) & ~7u;
            if (c->descriptor.ring_kind != p->kind || c->descriptor.element_size != element || c->descriptor.slot_size != slot ||
                c->descriptor.capacity != max_calls || c->descriptor.data_offset != UIPC_RING_CONTROL_SIZE ||
                p->length < UIPC_RING_CONTROL_SIZE + max_calls * slot)
                die("ring descriptor");
            r->control = c;
            r->data = base + UIPC_RING_CONTROL_SIZE;
            r->capacity = max_calls;
            r->slot_size = slot;
        }
    }
    if (!control || !requests.control || !responses.control || !arena || !server_wait || !client_wait)
        die("a part of the session region is missing");
    if (control->magic != UIPC_RPC_MAGIC || control->max_calls != welcome.max_calls || control->arena_length != arena_length ||
        control->server_epoch != welcome.server_epoch || control->session_id != welcome.session_id || arena_length < 4096)
        die("control block does not match the welcome");
    response_head = __atomic_load_n(&responses.control->head, __ATOMIC_ACQUIRE);
}

/* ---- one call (uintripc_rpc.h section 3, client) ---------------------------------------- */

static long futex(uint32_t *word, int op, uint32_t value, const struct timespec *timeout)
{
    return syscall(SYS_futex, word, op, value, timeout, NULL, 0); /* shared futex: no FUTEX_PRIVATE_FLAG */
}

/* Wakes the server if it announced that it sleeps (section 5, producer side). */
static void wake_server(void)
{
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    uint32_t s = __atomic_load_n(&server_wait->consumer_state, __ATOMIC_ACQUIRE);
    if (s != UIPC_CONSUMER_AWAKE && __atomic_compare_exchange_n(&server_wait->consumer_state, &s, UIPC_CONSUMER_AWAKE, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
        __atomic_fetch_add(&server_wait->wake_word, 1, __ATOMIC_SEQ_CST);
        futex(&server_wait->wake_word, FUTEX_WAKE, INT_MAX, NULL);
        __atomic_fetch_add(&server_wait->wakeups_sent, 1, __ATOMIC_SEQ_CST);
    } else {
        __atomic_fetch_add(&server_wait->wakeups_suppressed, 1, __ATOMIC_SEQ_CST);
    }
}

/* The response at our head, if published (uintripc.h 2a consumer); 0 when not yet. */
static int take_response(struct uipc_rpc_response *out)
{
    uint8_t *slot = responses.data + (response_head & (responses.capacity - 1)) * responses.slot_size;
    uint64_t sequence = __atomic_load_n((uint64_t *)slot, __ATOMIC_ACQUIRE);
    if (sequence != response_head + 1) {
        if (sequence != 0 && sequence != response_head + 1 - responses.capacity)
            die("response ring corrupted");
        return 0;
    }
    memcpy(out, slot + 8, sizeof *out);
    response_head++;
    __atomic_store_n(&responses.control->head, response_head, __ATOMIC_RELEASE);
    return 1;
}

static int64_t call(uint32_t opcode, int64_t a0, int64_t a1, int64_t a2, const void *in, uint32_t in_length, void *out,
                    uint32_t out_capacity, uint32_t *out_length)
{
    uint32_t block = in_length > out_capacity ? in_length : out_capacity;
    if (block > arena_length)
        die("call larger than the arena");
    memcpy(arena, in, in_length); /* one call at a time: the block is the arena's start */
    uint64_t id = UIPC_RPC_ID(0, ++generation);

    /* MPSC producer: claim a slot with a CAS on tail, write, publish the sequence. */
    uint64_t t = __atomic_load_n(&requests.control->tail, __ATOMIC_ACQUIRE);
    for (;;) {
        if (t - __atomic_load_n(&requests.control->head, __ATOMIC_ACQUIRE) >= requests.capacity)
            die("request ring full with one call outstanding");
        if (__atomic_compare_exchange_n(&requests.control->tail, &t, t + 1, 0, __ATOMIC_SEQ_CST, __ATOMIC_ACQUIRE))
            break;
    }
    uint8_t *slot = requests.data + (t & (requests.capacity - 1)) * requests.slot_size;
    struct uipc_rpc_request request = {id, opcode, 0, in_length, out_capacity, {a0, a1, a2, 0}};
    memcpy(slot + 8, &request, sizeof request);
    __atomic_store_n((uint64_t *)slot, t + 1, __ATOMIC_RELEASE);
    wake_server();

    /* Wait: spin briefly, then sleep on our wait block (section 5, consumer side), bounded. */
    struct uipc_rpc_response response;
    int64_t start = now_ns();
    while (!take_response(&response)) {
        int64_t waited = now_ns() - start;
        if (waited > CALL_TIMEOUT_NS)
            die("no answer within 10 s");
        if (__atomic_load_n(&control->server_state, __ATOMIC_ACQUIRE) == UIPC_RPC_SERVER_STOPPED)
            die("the server stopped");
        if (waited < SPIN_NS) {
            __builtin_ia32_pause();
            continue;
        }
        uint32_t token = __atomic_load_n(&client_wait->wake_word, __ATOMIC_ACQUIRE);
        __atomic_exchange_n(&client_wait->consumer_state, UIPC_CONSUMER_SLEEPING, __ATOMIC_SEQ_CST);
        if (!take_response(&response)) {
            struct timespec slice = {0, 100 * 1000 * 1000};
            futex(&client_wait->wake_word, FUTEX_WAIT, token, &slice);
            __atomic_exchange_n(&client_wait->consumer_state, UIPC_CONSUMER_AWAKE, __ATOMIC_SEQ_CST);
            struct pollfd p = {sock, 0, 0};
            if (poll(&p, 1, 0) == 1 && (p.revents & (POLLHUP | POLLERR)))
                die("the server closed the session");
            continue;
        }
        __atomic_exchange_n(&client_wait->consumer_state, UIPC_CONSUMER_AWAKE, __ATOMIC_SEQ_CST);
        break;
    }
    if (response.id != id || response.reserved != 0 || response.out_length > out_capacity || (response.result < 0 && response.out_length != 0))
        die("a response that does not answer our call");
    memcpy(out, arena, response.out_length);
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

static int compare_ll(const void *a, const void *b)
{
    long long x = *(const long long *)a, y = *(const long long *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc != 2) {
        fprintf(stderr, "usage: fwd_client SOCKET (a path, or @name)\n");
        return 2;
    }
    connect_server(argv[1]);
    printf("fwd_client: session %llu, %u calls, arena %llu bytes\n", (unsigned long long)control->session_id, control->max_calls,
           (unsigned long long)arena_length);

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
    for (int i = 0; i < SAMPLES; i++) {
        int64_t t0 = now_ns();
        if (call(UIPC_FWD_NOP, 0, 0, 0, NULL, 0, NULL, 0, NULL) != 0)
            die("NOP in the timing loop");
        samples[i] = now_ns() - t0;
    }
    qsort(samples, SAMPLES, sizeof samples[0], compare_ll);
    printf("fwd_client: forwarded no-op p50 %.2f us p99 %.2f us (%d calls, futex doorbell)\n", samples[SAMPLES / 2] / 1000.0,
           samples[SAMPLES * 99 / 100] / 1000.0, SAMPLES);
    printf("fwd_client: %d checks passed\n", checks);
    close(sock);
    return 0;
}
