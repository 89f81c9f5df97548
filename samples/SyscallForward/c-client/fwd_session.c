/* fwd_session - see fwd_session.h. Only the headers of interop/include describe what is done here. */
#define _GNU_SOURCE
#include "fwd_session.h"

#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <poll.h>
#include <sched.h>
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

void fwd_die(const char *what)
{
    fprintf(stderr, "FAIL %s\n", what);
    exit(1);
}

int64_t fwd_now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000LL + t.tv_nsec;
}

/* ---- bootstrap (uintripc_rpc.h section 6) ------------------------------------------------ */

static void send_frame(int sock, uint16_t type, const void *payload, uint32_t length)
{
    uint8_t buffer[sizeof(struct uipc_bootstrap_frame) + 256];
    if (length > sizeof buffer - sizeof(struct uipc_bootstrap_frame))
        fwd_die("bootstrap payload too long");
    struct uipc_bootstrap_frame frame = {UIPC_BOOTSTRAP_MAGIC, UIPC_BOOTSTRAP_VERSION, type, length, 0};
    memcpy(buffer, &frame, sizeof frame);
    memcpy(buffer + sizeof frame, payload, length);
    if (send(sock, buffer, sizeof frame + length, MSG_NOSIGNAL) != (ssize_t)(sizeof frame + length))
        fwd_die("send to the server");
}

/* Receives one datagram; checks its frame against what arrived; returns the payload length. */
static uint32_t receive_frame(int sock, uint16_t *type, void *payload, uint32_t capacity, int *fds, int max_fds, int *fd_count)
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
        fwd_die("no answer from the server within 10 s");
    ssize_t n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
    if (n < (ssize_t)sizeof(struct uipc_bootstrap_frame) || (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)))
        fwd_die("short or truncated bootstrap message");
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
        fwd_die("bootstrap frame does not match what arrived");
    *type = frame.type;
    memcpy(payload, buffer + sizeof frame, length);
    return length;
}

void fwd_open_socket(struct fwd_session *s, const char *name)
{
    memset(s, 0, sizeof *s);
    struct sockaddr_un address = {.sun_family = AF_UNIX};
    socklen_t length;
    size_t n = strlen(name);
    if (name[0] == '@') { /* abstract: a leading NUL, no terminator */
        if (n > sizeof address.sun_path)
            fwd_die("socket name too long");
        memcpy(address.sun_path + 1, name + 1, n - 1);
        length = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
    } else {
        if (n >= sizeof address.sun_path)
            fwd_die("socket path too long");
        memcpy(address.sun_path, name, n);
        length = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1);
    }
    s->sock = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (s->sock < 0 || connect(s->sock, (struct sockaddr *)&address, length) != 0) {
        perror("connect");
        fwd_die("cannot connect to the server");
    }
    struct ucred peer;
    socklen_t peer_length = sizeof peer;
    if (getsockopt(s->sock, SOL_SOCKET, SO_PEERCRED, &peer, &peer_length) != 0 || peer.uid != getuid())
        fwd_die("the server is not our user (SO_PEERCRED)");

    uint16_t type;
    int fd_count;
    char reason[UIPC_BOOTSTRAP_MAX_REASON + 1];
    uint32_t got = receive_frame(s->sock, &type, reason, UIPC_BOOTSTRAP_MAX_REASON, NULL, 0, &fd_count);
    if (type == UIPC_BOOTSTRAP_REFUSED) {
        reason[got] = 0;
        fprintf(stderr, "FAIL the server refused us: %s\n", reason);
        exit(1);
    }
    if (type != UIPC_BOOTSTRAP_ACCEPT || got != 0)
        fwd_die("expected ACCEPT");
}

/* Maps the region and checks it (uintripc.h section 1, uintripc_rpc.h section 6 step 5). */
static void map_region(struct fwd_session *s, int fd)
{
    const struct uipc_rpc_welcome *welcome = &s->welcome;
    /* It is sealed against shrinking, so its size stays. */
    struct stat st;
    if (fstat(fd, &st) != 0 || st.st_size < (off_t)UIPC_REGION_HEADER_SIZE)
        fwd_die("region descriptor");
    s->region_size = (uint64_t)st.st_size;
    s->region = mmap(NULL, s->region_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    if (s->region == MAP_FAILED)
        fwd_die("mmap of the region");

    struct uipc_region_header *header = (struct uipc_region_header *)s->region;
    if (__atomic_load_n(&header->magic, __ATOMIC_ACQUIRE) != UIPC_REGION_MAGIC || header->layout_version != UIPC_LAYOUT_VERSION ||
        header->header_size != UIPC_REGION_HEADER_SIZE || header->total_size != s->region_size || header->part_count > UIPC_MAX_PARTS ||
        header->region_kind != UIPC_RPC_REGION_KIND || header->epoch != welcome->region_epoch)
        fwd_die("region header");
    s->arena_length = welcome->arena_length;
    uint64_t max_calls = welcome->max_calls;
    for (uint32_t i = 0; i < header->part_count; i++) {
        struct uipc_part *p = &header->parts[i];
        if (p->offset % UIPC_PART_ALIGNMENT != 0 || p->offset < UIPC_REGION_HEADER_SIZE || p->length > s->region_size ||
            p->offset > s->region_size - p->length)
            fwd_die("part outside the region");
        uint8_t *base = s->region + p->offset;
        struct fwd_ring *r = NULL;
        uint32_t element = 0;
        if (p->kind == UIPC_RPC_PART_CONTROL && p->tag == UIPC_RPC_TAG_CONTROL && p->length >= sizeof *s->control)
            s->control = (struct uipc_rpc_control *)base;
        else if (p->kind == UIPC_PART_MPSC_SLOTS && p->tag == UIPC_RPC_TAG_REQUESTS)
            r = &s->requests, element = sizeof(struct uipc_rpc_request);
        else if (p->kind == UIPC_PART_SPSC_SLOTS && p->tag == UIPC_RPC_TAG_RESPONSES)
            r = &s->responses, element = sizeof(struct uipc_rpc_response);
        else if (p->kind == UIPC_PART_ARENA && p->tag == UIPC_RPC_TAG_ARENA && p->length >= s->arena_length)
            s->arena = base;
        else if (p->kind == UIPC_PART_WAIT_BLOCK && p->length >= UIPC_WAIT_BLOCK_SIZE)
            *(p->tag == UIPC_RPC_TAG_SERVER_WAIT ? &s->server_wait : &s->client_wait) = (struct uipc_wait_block *)base;
        if (r) {
            struct uipc_ring_control *c = (struct uipc_ring_control *)base;
            uint32_t slot = (8 + element + 7) & ~7u;
            if (c->descriptor.ring_kind != p->kind || c->descriptor.element_size != element || c->descriptor.slot_size != slot ||
                c->descriptor.capacity != max_calls || c->descriptor.data_offset != UIPC_RING_CONTROL_SIZE ||
                p->length < UIPC_RING_CONTROL_SIZE + max_calls * slot)
                fwd_die("ring descriptor");
            r->control = c;
            r->data = base + UIPC_RING_CONTROL_SIZE;
            r->capacity = max_calls;
            r->slot_size = slot;
        }
    }
    if (!s->control || !s->requests.control || !s->responses.control || !s->arena || !s->server_wait || !s->client_wait)
        fwd_die("a part of the session region is missing");
    if (s->control->magic != UIPC_RPC_MAGIC || s->control->max_calls != welcome->max_calls || s->control->arena_length != s->arena_length ||
        s->control->server_epoch != welcome->server_epoch || s->control->session_id != welcome->session_id)
        fwd_die("control block does not match the welcome");
    s->response_head = __atomic_load_n(&s->responses.control->head, __ATOMIC_ACQUIRE);
    s->requests.head_cache = __atomic_load_n(&s->requests.control->head, __ATOMIC_ACQUIRE);
}

int fwd_handshake(struct fwd_session *s, const void *hello, uint32_t length)
{
    send_frame(s->sock, UIPC_BOOTSTRAP_DATA, hello, length);
    uint16_t type;
    int fds[2], fd_count;
    uint32_t got = receive_frame(s->sock, &type, &s->welcome, sizeof s->welcome, fds, 2, &fd_count);
    if (type != UIPC_BOOTSTRAP_DATA || got != sizeof s->welcome || s->welcome.magic != UIPC_RPC_MAGIC || s->welcome.version != UIPC_RPC_VERSION)
        fwd_die("bad welcome");
    if (s->welcome.status != 0) {
        for (int i = 0; i < fd_count; i++)
            close(fds[i]);
        if (fd_count != 0)
            fwd_die("a refused session came with descriptors");
        return s->welcome.status;
    }
    if (fd_count != 1 || s->welcome.doorbell_kind != UIPC_RPC_DOORBELL_FUTEX)
        fwd_die("the welcome grants something other than the futex doorbell with one region");
    map_region(s, fds[0]);
    return 0;
}

void fwd_connect(struct fwd_session *s, const char *name, uint32_t max_calls, uint64_t arena_length)
{
    fwd_open_socket(s, name);
    struct uipc_rpc_hello hello = {UIPC_RPC_MAGIC, UIPC_RPC_VERSION, UIPC_RPC_DOORBELL_FUTEX, max_calls, 0, arena_length, 0};
    int status = fwd_handshake(s, &hello, sizeof hello);
    if (status != 0) {
        fprintf(stderr, "FAIL session refused: status %d\n", status);
        exit(1);
    }
}

void fwd_close(struct fwd_session *s)
{
    if (s->region && s->region != MAP_FAILED)
        munmap(s->region, s->region_size);
    if (s->sock >= 0)
        close(s->sock);
    memset(s, 0, sizeof *s);
    s->sock = -1;
}

/* ---- calls (uintripc_rpc.h sections 3 and 5) --------------------------------------------- */

static long futex(uint32_t *word, int op, uint32_t value, const struct timespec *timeout)
{
    return syscall(SYS_futex, word, op, value, timeout, NULL, 0); /* shared futex: no FUTEX_PRIVATE_FLAG */
}

void fwd_publish(struct fwd_session *s, const struct uipc_rpc_request *request)
{
    struct fwd_ring *r = &s->requests;
    /* This client takes no entry in the ring's producer table (uintripc.h 2f): it says so before
     * its claim, so the server never attributes a claim of ours to another producer. */
    if (!__atomic_load_n(&r->control->unregistered, __ATOMIC_RELAXED))
        __atomic_store_n(&r->control->unregistered, 1, __ATOMIC_RELEASE);
    uint64_t t = __atomic_load_n(&r->control->tail, __ATOMIC_ACQUIRE);
    for (;;) {
        /* The server writes head on every request it takes: read it only when the cached value
         * says the ring may be full (one cache miss per ring's worth of calls, not per call). */
        if (t - r->head_cache >= r->capacity) {
            r->head_cache = __atomic_load_n(&r->control->head, __ATOMIC_ACQUIRE);
            if (t - r->head_cache >= r->capacity)
                fwd_die("request ring full");
        }
        if (__atomic_compare_exchange_n(&r->control->tail, &t, t + 1, 0, __ATOMIC_SEQ_CST, __ATOMIC_ACQUIRE))
            break;
    }
    uint8_t *slot = r->data + (t & (r->capacity - 1)) * r->slot_size;
    memcpy(slot + 8, request, sizeof *request);
    __atomic_store_n((uint64_t *)slot, t + 1, __ATOMIC_RELEASE); /* publishes the request and its arena bytes */
}

void fwd_wake_server(struct fwd_session *s)
{
    struct uipc_wait_block *w = s->server_wait;
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    uint32_t state = __atomic_load_n(&w->consumer_state, __ATOMIC_ACQUIRE);
    if (state != UIPC_CONSUMER_AWAKE && __atomic_compare_exchange_n(&w->consumer_state, &state, UIPC_CONSUMER_AWAKE, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
        __atomic_fetch_add(&w->wake_word, 1, __ATOMIC_SEQ_CST);
        futex(&w->wake_word, FUTEX_WAKE, INT_MAX, NULL);
        __atomic_fetch_add(&w->wakeups_sent, 1, __ATOMIC_SEQ_CST);
    } else {
        __atomic_fetch_add(&w->wakeups_suppressed, 1, __ATOMIC_SEQ_CST);
    }
}

int fwd_take_response(struct fwd_session *s, struct uipc_rpc_response *out)
{
    struct fwd_ring *r = &s->responses;
    uint8_t *slot = r->data + (s->response_head & (r->capacity - 1)) * r->slot_size;
    uint64_t sequence = __atomic_load_n((uint64_t *)slot, __ATOMIC_ACQUIRE);
    if (sequence != s->response_head + 1) {
        uint64_t not_yet = s->response_head < r->capacity ? 0 : s->response_head + 1 - r->capacity;
        return sequence == not_yet ? 0 : FWD_RING_CORRUPTED;
    }
    memcpy(out, slot + 8, sizeof *out);
    s->response_head++;
    __atomic_store_n(&r->control->head, s->response_head, __ATOMIC_RELEASE); /* gives the slot back */
    return 1;
}

static int hung_up(struct fwd_session *s)
{
    struct pollfd p = {s->sock, POLLIN, 0};
    return poll(&p, 1, 0) == 1 && (p.revents & (POLLHUP | POLLERR | POLLIN));
}

int fwd_wait_response(struct fwd_session *s, struct uipc_rpc_response *out, int64_t timeout_ns, int64_t spin_ns, int64_t yield_ns)
{
    int64_t start = fwd_now_ns();
    int spinning = 1;
    for (unsigned polls = 1;; polls++) {
        int got = fwd_take_response(s, out);
        if (got != 0)
            return got;
        /* While spinning, the clock and server_state (whose line the server writes with every
         * batch's responses_sent) are read every 32 polls only: each costs about two pauses. */
        if (spinning && (polls & 31) != 0) {
            __builtin_ia32_pause();
            continue;
        }
        int64_t waited = fwd_now_ns() - start;
        if (__atomic_load_n(&s->control->server_state, __ATOMIC_ACQUIRE) == UIPC_RPC_SERVER_STOPPED)
            return FWD_SESSION_ENDED;
        if (waited > timeout_ns)
            return 0;
        if (waited < spin_ns) {
            __builtin_ia32_pause();
            continue;
        }
        spinning = 0;
        if (waited < spin_ns + yield_ns) {
            sched_yield(); /* lets a server that shares our CPU run, without a kernel wake-up */
            continue;
        }
        uint32_t token = __atomic_load_n(&s->client_wait->wake_word, __ATOMIC_ACQUIRE);
        __atomic_exchange_n(&s->client_wait->consumer_state, UIPC_CONSUMER_SLEEPING, __ATOMIC_SEQ_CST);
        got = fwd_take_response(s, out);
        if (got == 0) {
            int64_t left = timeout_ns - waited;
            int64_t slice_ns = left < 100000000LL ? left : 100000000LL;
            struct timespec slice = {slice_ns / 1000000000LL, slice_ns % 1000000000LL};
            futex(&s->client_wait->wake_word, FUTEX_WAIT, token, &slice);
            /* sleeps is ours (the consumer's): plain read, release store. */
            __atomic_store_n(&s->client_wait->sleeps, s->client_wait->sleeps + 1, __ATOMIC_RELEASE);
        }
        __atomic_exchange_n(&s->client_wait->consumer_state, UIPC_CONSUMER_AWAKE, __ATOMIC_SEQ_CST);
        if (got != 0)
            return got;
        if (hung_up(s))
            return FWD_SESSION_ENDED;
    }
}

int fwd_session_ended(struct fwd_session *s, int64_t timeout_ns)
{
    int64_t deadline = fwd_now_ns() + timeout_ns;
    for (;;) {
        if ((s->control && __atomic_load_n(&s->control->server_state, __ATOMIC_ACQUIRE) == UIPC_RPC_SERVER_STOPPED) || hung_up(s))
            return 1;
        if (fwd_now_ns() > deadline)
            return 0;
        struct timespec pause = {0, 1000000};
        nanosleep(&pause, NULL);
    }
}
