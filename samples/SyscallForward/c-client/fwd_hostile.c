/*
 * fwd_hostile - a hostile client of the syscall-forwarding server, written only against the
 * headers of interop/include (through fwd_session.c). It connects like fwd_client, then
 * scribbles into its own session region: data blocks outside the arena, forged, duplicate and
 * stale ids, overlapping and huge lengths, descriptors it does not own, paths that try to leave
 * the served directory (.., absolute, symbolic links, a path rewritten while the server reads
 * it), forged control words, ring positions and sequences, broken hellos.
 *
 *   fwd_hostile SOCKET OUTSIDE_DIR
 *
 * The served directory must hold what the tests put there (test/UintrIpc.Tests/SyscallForward/
 * HostileClientTests.cs): filled.txt (4096 'X'), inside-file-00000.txt ("inside\n"), sub/inner.txt,
 * and the links escape -> ../outside/secret.txt, escape_abs -> OUTSIDE_DIR/secret.txt,
 * escape_dir -> ../outside, dangling -> ../outside/new.txt, inner_abs -> (root)/filled.txt,
 * loop -> loop.
 *
 * Every answer is checked against what an unharmed server must say (exit 1 and "FAIL ..." when
 * one differs); the last line counts what the server must have counted:
 *   fwd_hostile: A attacks; bad blocks B; unknown opcodes U; corrupt sessions C; refused hellos R; hangups H
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fwd_session.h"
#include "uintripc_fwd.h"

#define TIMEOUT_NS (10LL * 1000000000LL)
#define SECRET_MARK "TOP-SECRET"

static struct fwd_session s;
static uint32_t generation;
static int attacks, bad_blocks, unknown_opcodes_sent, corrupt_sessions, refused_hellos, hangups;
static const char *socket_name;

static void check(const char *what, long long got, long long want)
{
    if (got != want) {
        fprintf(stderr, "FAIL %s: got %lld, want %lld\n", what, got, want);
        exit(1);
    }
    attacks++;
    printf("ok %s = %lld\n", what, got);
}

static struct uipc_rpc_request request(uint32_t opcode, uint32_t offset, uint32_t in_length, uint32_t out_capacity, int64_t a0, int64_t a1,
                                       int64_t a2)
{
    struct uipc_rpc_request r = {UIPC_RPC_ID(0, ++generation), opcode, offset, in_length, out_capacity, {a0, a1, a2, 0}};
    return r;
}

/* Sends one request and waits for its answer; the session must survive. */
static struct uipc_rpc_response roundtrip(const struct uipc_rpc_request *r)
{
    fwd_publish(&s, r);
    fwd_wake_server(&s);
    struct uipc_rpc_response response;
    int got = fwd_wait_response(&s, &response, TIMEOUT_NS, FWD_SPIN_NS, FWD_YIELD_NS);
    if (got != 1) {
        fprintf(stderr, "FAIL opcode %u at offset %u: %s\n", r->opcode, r->data_offset,
                got == 0 ? "no answer within 10 s" : got == FWD_SESSION_ENDED ? "the server ended the session" : "response ring corrupted");
        exit(1);
    }
    if (response.id != r->id || response.reserved != 0 || response.out_length > r->out_capacity || (response.result < 0 && response.out_length != 0))
        fwd_die("a response that does not answer the request");
    return response;
}

static int64_t call(uint32_t opcode, uint32_t offset, uint32_t in_length, uint32_t out_capacity, int64_t a0, int64_t a1, int64_t a2)
{
    struct uipc_rpc_request r = request(opcode, offset, in_length, out_capacity, a0, a1, a2);
    return roundtrip(&r).result;
}

/* Copies bytes into the arena (our side checks its own offsets). */
static void put(uint32_t offset, const void *bytes, uint32_t length)
{
    if ((uint64_t)offset + length > s.arena_length)
        fwd_die("put outside the arena");
    memcpy(s.arena + offset, bytes, length);
}

static int64_t open_path(int64_t dirfd, const char *path, int64_t flags)
{
    uint32_t n = (uint32_t)strlen(path);
    put(0, path, n);
    return call(UIPC_FWD_OPENAT, 0, n, 0, dirfd, flags, 0644);
}

static int compare_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* Publishes n requests at once, then takes n responses and checks that their ids are the requests' (as a multiset:
 * a server with a worker pool may answer out of order). */
static void batch(const char *what, struct uipc_rpc_request *requests, int n, struct uipc_rpc_response *responses)
{
    uint64_t sent[64], got[64];
    for (int i = 0; i < n; i++) {
        fwd_publish(&s, &requests[i]);
        sent[i] = requests[i].id;
    }
    fwd_wake_server(&s);
    for (int i = 0; i < n; i++) {
        if (fwd_wait_response(&s, &responses[i], TIMEOUT_NS, FWD_SPIN_NS, FWD_YIELD_NS) != 1)
            fwd_die(what);
        got[i] = responses[i].id;
    }
    qsort(sent, n, sizeof sent[0], compare_u64);
    qsort(got, n, sizeof got[0], compare_u64);
    check(what, memcmp(sent, got, n * sizeof sent[0]), 0);
}

/* ---- A: attacks the server answers (the session survives) --------------------------------- */

static void blocks_outside_the_arena(int64_t filled, int64_t victim)
{
    uint32_t end = (uint32_t)s.arena_length;
    /* A region of the mapping nobody writes: the reserved tail of the server's wait block (uintripc.h 3). */
    uint8_t *canary = (uint8_t *)s.server_wait + 256;
    uint64_t canary_offset = (uint64_t)(canary - s.arena);
    if (canary < s.arena + s.arena_length || canary_offset > UINT32_MAX - 128)
        fwd_die("the server wait block does not follow the arena");
    memset(canary, 0xA5, 128);
    memset(s.arena + end - 64, 'W', 64);

    struct {
        const char *what;
        uint32_t opcode, offset, in_length, out_capacity;
        int64_t fd;
    } cases[] = {
        {"EFAULT nop at the arena's end", UIPC_FWD_NOP, end, 1, 0, 0},
        {"EFAULT write straddling the arena's end", UIPC_FWD_WRITE, end - 16, 64, 0, victim},
        {"EFAULT read into the wait block after the arena", UIPC_FWD_READ, (uint32_t)canary_offset, 0, 128, filled},
        {"EFAULT read of 4 GiB", UIPC_FWD_READ, 0, 0, UINT32_MAX, filled},
        {"EFAULT openat at offset and length 2^32-1", UIPC_FWD_OPENAT, UINT32_MAX, UINT32_MAX, 0, UIPC_FWD_AT_ROOT},
        {"EFAULT pwrite whose end overflows 32 bits", UIPC_FWD_PWRITE, UINT32_MAX - 15, 32, 0, victim},
        {"EFAULT input one byte longer than the arena", UIPC_FWD_NOP, 0, end + 1, 0, 0},
        {"EFAULT output one byte past the end", UIPC_FWD_PREAD, end - 64, 0, 65, filled},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        check(cases[i].what, call(cases[i].opcode, cases[i].offset, cases[i].in_length, cases[i].out_capacity, cases[i].fd, 0, 0), -EFAULT);
        bad_blocks++;
    }
    for (int i = 0; i < 128; i++)
        if (canary[i] != 0xA5)
            fwd_die("the server wrote outside the arena (into the wait block after it)");
    memset(canary, 0, 128);

    /* The last 64 bytes are inside: the bound is exact. */
    check("pread of the arena's last 64 bytes", call(UIPC_FWD_PREAD, end - 64, 0, 64, filled, 0, 0), 64);
    check("pread content", memcmp(s.arena + end - 64, "XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX", 64), 0);
    check("fstat victim: nothing was written to it", call(UIPC_FWD_FSTAT, 0, 0, UIPC_FWD_STAT_SIZE, victim, 0, 0), 0);
    struct uipc_fwd_stat st;
    memcpy(&st, s.arena, sizeof st);
    check("victim size", st.size, 0);
}

static void forged_ids(void)
{
    struct uipc_rpc_request r = request(UIPC_FWD_NOP, 0, 0, 0, 0, 0, 0);
    r.id = UIPC_RPC_ID(0xFFFFFFFFu, 0);
    check("id with slot 2^32-1 and generation 0 echoed", roundtrip(&r).result, 0);
    r.id = 0;
    check("id 0 echoed", roundtrip(&r).result, 0);

    struct uipc_rpc_request twice[2] = {r, r};
    twice[0].id = twice[1].id = UIPC_RPC_ID(7, 12345);
    struct uipc_rpc_response answers[64];
    batch("a duplicated id answered twice", twice, 2, answers);

    struct uipc_rpc_request many[32];
    uint64_t x = 0x9E3779B97F4A7C15ull;
    for (int i = 0; i < 32; i++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        many[i] = request(UIPC_FWD_NOP, 0, 0, 0, 0, 0, 0);
        many[i].id = x;
    }
    batch("32 random ids answered once each", many, 32, answers);
}

static void overlapping_and_huge_lengths(int64_t filled, int64_t scratch)
{
    uint32_t end = (uint32_t)s.arena_length;
    check("pread into the whole arena", call(UIPC_FWD_PREAD, 0, 0, end, filled, 0, 0), 4096);
    struct uipc_rpc_request overlap[3] = {
        request(UIPC_FWD_PREAD, 0, 0, 4096, filled, 0, 0),
        request(UIPC_FWD_PREAD, 2048, 0, 4096, filled, 0, 0),
        request(UIPC_FWD_PWRITE, 1024, 4096, 0, scratch, 0, 0),
    };
    for (int i = 0; i < 3; i++)
        overlap[i].id = UIPC_RPC_ID(i, generation);
    struct uipc_rpc_response answers[64];
    batch("three calls on overlapping blocks", overlap, 3, answers);
    for (int i = 0; i < 3; i++)
        check("overlapping call result", answers[i].result, 4096);
    check("pwrite of the whole arena", call(UIPC_FWD_PWRITE, 0, end, 0, scratch, 0, 0), end);
}

static void descriptors_not_ours(const int64_t ours[4])
{
    int64_t filled = ours[0];
    /* Numbers this client does not hold (other clients hold theirs in tables of their own). */
    int64_t others[] = {-1, 5, 6, 7, 8, 9, 10, 16, 63, 64, 255, 256, 1000, 1LL << 32, 1LL << 40, INT64_MAX, INT64_MIN};
    for (size_t i = 0; i < sizeof others / sizeof others[0]; i++) {
        int64_t fd = others[i];
        for (int j = 0; j < 4; j++)
            if (fd == ours[j] || fd == UIPC_FWD_FD_STDOUT)
                fwd_die("the list of foreign descriptors holds one of ours");
        check("EBADF read of a descriptor we do not hold", call(UIPC_FWD_READ, 0, 0, 16, fd, 0, 0), -EBADF);
        check("EBADF close of a descriptor we do not hold", call(UIPC_FWD_CLOSE, 0, 0, 0, fd, 0, 0), -EBADF);
    }
    check("EINVAL lseek whence 99", call(UIPC_FWD_LSEEK, 0, 0, 0, filled, 0, 99), -EINVAL);
    check("EINVAL lseek whence -1", call(UIPC_FWD_LSEEK, 0, 0, 0, filled, 0, -1), -EINVAL);
    check("EINVAL fstat into 8 bytes", call(UIPC_FWD_FSTAT, 0, 0, 8, filled, 0, 0), -EINVAL);
    check("ENOTDIR openat relative to a file", open_path(filled, "x", O_RDONLY), -ENOTDIR);
    check("EBADF openat relative to a descriptor we do not own", open_path(12345, "x", O_RDONLY), -EBADF);
}

static void paths(const char *outside, int64_t sub)
{
    char absolute[4200];
    snprintf(absolute, sizeof absolute, "%s/secret.txt", outside);
    const char *escapes[] = {
        "../outside/secret.txt", "/etc/passwd", absolute, "escape", "escape_abs", "escape_dir/secret.txt", "sub/../../outside/secret.txt",
        "sub/..", "./../outside/secret.txt", "sub//../../outside/secret.txt", "inner_abs", "escape_dir",
    };
    for (size_t i = 0; i < sizeof escapes / sizeof escapes[0]; i++) {
        char what[4300];
        snprintf(what, sizeof what, "EXDEV openat %s", escapes[i]);
        check(what, open_path(UIPC_FWD_AT_ROOT, escapes[i], O_RDONLY), -EXDEV);
    }
    check("EXDEV create ../outside/created.txt", open_path(UIPC_FWD_AT_ROOT, "../outside/created.txt", O_WRONLY | O_CREAT), -EXDEV);
    check("EXDEV create through the dangling link", open_path(UIPC_FWD_AT_ROOT, "dangling", O_WRONLY | O_CREAT), -EXDEV);
    check("EXDEV create in the linked directory", open_path(UIPC_FWD_AT_ROOT, "escape_dir/created.txt", O_WRONLY | O_CREAT), -EXDEV);
    check("EXDEV openat(sub, ../outside/secret.txt)", open_path(sub, "../outside/secret.txt", O_RDONLY), -EXDEV);
    check("EXDEV openat(sub, ../filled.txt)", open_path(sub, "../filled.txt", O_RDONLY), -EXDEV);
    int64_t inner = open_path(sub, "inner.txt", O_RDONLY);
    if (inner < 0)
        check("openat(sub, inner.txt)", inner, 0);
    check("close inner.txt", call(UIPC_FWD_CLOSE, 0, 0, 0, inner, 0, 0), 0);
    check("ELOOP openat loop", open_path(UIPC_FWD_AT_ROOT, "loop", O_RDONLY), -ELOOP);
    check("EISDIR open sub for writing", open_path(UIPC_FWD_AT_ROOT, "sub", O_RDWR), -EISDIR);

    put(0, "filled.txt\0../x", 15);
    check("EINVAL path with a NUL inside", call(UIPC_FWD_OPENAT, 0, 15, 0, UIPC_FWD_AT_ROOT, O_RDONLY, 0), -EINVAL);
    check("EINVAL O_PATH", open_path(UIPC_FWD_AT_ROOT, "filled.txt", O_PATH), -EINVAL);
    check("EINVAL O_TMPFILE", open_path(UIPC_FWD_AT_ROOT, "sub", O_TMPFILE | O_RDWR), -EINVAL);
    check("EINVAL flags -1", open_path(UIPC_FWD_AT_ROOT, "filled.txt", -1), -EINVAL);
    put(0, "filled.txt", 10);
    check("EINVAL mode -1", call(UIPC_FWD_OPENAT, 0, 10, 0, UIPC_FWD_AT_ROOT, O_RDONLY, -1), -EINVAL);
    check("ENOENT empty path", call(UIPC_FWD_OPENAT, 0, 0, 0, UIPC_FWD_AT_ROOT, O_RDONLY, 0), -ENOENT);
    memset(s.arena, 'a', s.arena_length);
    check("ENAMETOOLONG 4096-byte path", call(UIPC_FWD_OPENAT, 0, 4096, 0, UIPC_FWD_AT_ROOT, O_RDONLY, 0), -ENAMETOOLONG);
    check("ENAMETOOLONG path as long as the arena", call(UIPC_FWD_OPENAT, 0, (uint32_t)s.arena_length, 0, UIPC_FWD_AT_ROOT, O_RDONLY, 0),
          -ENAMETOOLONG);
}

/* The client rewrites the path while the server reads it: the server must check and use one copy. */
static void path_rewritten_during_the_call(int rounds)
{
    static const char inside[] = "inside-file-00000.txt", outside[] = "../outside/secret.txt";
    _Static_assert(sizeof inside == sizeof outside, "same length");
    const uint32_t n = sizeof inside - 1, data = 4096;
    int opened = 0, refused = 0, missing = 0;
    for (int i = 0; i < rounds; i++) {
        put(0, inside, n);
        struct uipc_rpc_request r = request(UIPC_FWD_OPENAT, 0, n, 0, UIPC_FWD_AT_ROOT, O_RDONLY, 0);
        fwd_publish(&s, &r);
        fwd_wake_server(&s);
        struct uipc_rpc_response response;
        int64_t deadline = fwd_now_ns() + TIMEOUT_NS;
        int got;
        for (int flip = 0; (got = fwd_take_response(&s, &response)) == 0; flip++) {
            memcpy(s.arena, flip & 1 ? inside : outside, n);
            if ((flip & 1023) == 0 && fwd_now_ns() > deadline)
                fwd_die("no answer to the rewritten openat within 10 s");
        }
        if (got != 1 || response.id != r.id)
            fwd_die("the rewritten openat's answer");
        if (response.result >= 0) {
            opened++;
            int64_t read = call(UIPC_FWD_PREAD, data, 0, 64, response.result, 0, 0);
            if (read != 7 || memcmp(s.arena + data, "inside\n", 7) != 0) {
                fprintf(stderr, "FAIL the rewritten path opened something else: %.*s\n", read > 0 ? (int)read : 0, s.arena + data);
                exit(1);
            }
            if (call(UIPC_FWD_CLOSE, 0, 0, 0, response.result, 0, 0) != 0)
                fwd_die("close after the race");
        } else if (response.result == -EXDEV) {
            refused++;
        } else if (response.result == -ENOENT || response.result == -ENOTDIR) {
            missing++; /* a mix of both strings */
        } else {
            fprintf(stderr, "FAIL the rewritten openat answered %" PRId64 "\n", response.result);
            exit(1);
        }
    }
    attacks += rounds;
    printf("race: %d openat calls with the path rewritten during the call: %d opened the inside file, %d EXDEV, %d ENOENT/ENOTDIR\n",
           rounds, opened, refused, missing);
}

static void unknown_opcodes(void)
{
    uint32_t opcodes[] = {UIPC_FWD_OPCODE_COUNT, 4242, 0x7FFFFFFF, 0xFFFFFFFF};
    for (size_t i = 0; i < sizeof opcodes / sizeof opcodes[0]; i++) {
        check("ENOSYS unknown opcode", call(opcodes[i], 0, 0, 0, 0, 0, 0), -ENOSYS);
        unknown_opcodes_sent++;
    }
}

/* Words the server must not rely on once the session runs: it keeps its own copies. */
static void scribbles_the_server_ignores(void)
{
    uint64_t real_length = s.arena_length;
    s.control->magic = 0;
    s.control->max_calls = 0xFFFFFFFFu;
    s.control->arena_length = ~0ull;
    s.control->server_epoch = 0;
    check("EFAULT beyond the real arena after arena_length was forged", call(UIPC_FWD_NOP, (uint32_t)real_length + 4096, 1, 0, 0, 0, 0), -EFAULT);
    bad_blocks++;

    struct uipc_region_header *header = (struct uipc_region_header *)s.region;
    header->magic = 0;
    header->part_count = 999;
    for (uint32_t i = 0; i < UIPC_MAX_PARTS; i++)
        header->parts[i].offset = 0xFFFFFFFFFFFF0000ull, header->parts[i].length = ~0ull;
    s.requests.control->descriptor.capacity = 3;
    s.requests.control->descriptor.slot_size = 1;
    s.responses.control->descriptor.capacity = 1ull << 62;
    __atomic_store_n(&s.server_wait->consumer_state, 0xDEADu, __ATOMIC_SEQ_CST);
    s.server_wait->wake_word = 0xFFFFFFFFu;
    s.server_wait->doorbell_kind = 99;
    check("nop after the header, descriptors and wait block were scribbled over", call(UIPC_FWD_NOP, 0, 0, 0, 0, 0, 0), 0);

    /* A forged tail: the server follows the sequences, not the tail. Publish at the real position. */
    uint64_t position = __atomic_load_n(&s.requests.control->tail, __ATOMIC_ACQUIRE);
    __atomic_store_n(&s.requests.control->tail, position + (1ull << 40), __ATOMIC_RELEASE);
    struct uipc_rpc_request r = request(UIPC_FWD_GETPID, 0, 0, 0, 0, 0, 0);
    uint8_t *slot = s.requests.data + (position & (s.requests.capacity - 1)) * s.requests.slot_size;
    memcpy(slot + 8, &r, sizeof r);
    __atomic_store_n((uint64_t *)slot, position + 1, __ATOMIC_RELEASE);
    fwd_wake_server(&s);
    struct uipc_rpc_response response;
    if (fwd_wait_response(&s, &response, TIMEOUT_NS, FWD_SPIN_NS, FWD_YIELD_NS) != 1 || response.id != r.id)
        fwd_die("no answer after the tail was forged");
    check("getpid answered after the tail was forged", response.result, s.control->server_pid);
    __atomic_store_n(&s.requests.control->tail, position + 1, __ATOMIC_RELEASE);
}

/* ---- B: attacks that end the session ----------------------------------------------------- */

static void expect_session_end(const char *what)
{
    fwd_wake_server(&s);
    if (!fwd_session_ended(&s, TIMEOUT_NS)) {
        fprintf(stderr, "FAIL %s: the session did not end within 10 s\n", what);
        exit(1);
    }
    attacks++;
    printf("ok %s: the server ended the session\n", what);
    fwd_close(&s);
}

static uint8_t *request_slot(uint64_t position)
{
    return s.requests.data + (position & (s.requests.capacity - 1)) * s.requests.slot_size;
}

static void corrupt_rings(void)
{
    fwd_connect(&s, socket_name, 0, 0);
    check("nop before the forged sequence", call(UIPC_FWD_NOP, 0, 0, 0, 0, 0, 0), 0);
    uint64_t head = __atomic_load_n(&s.requests.control->tail, __ATOMIC_ACQUIRE);
    __atomic_store_n((uint64_t *)request_slot(head), head + 1 + 5 * s.requests.capacity, __ATOMIC_RELEASE);
    expect_session_end("a request sequence from a future lap");
    corrupt_sessions++;

    fwd_connect(&s, socket_name, 0, 0);
    head = __atomic_load_n(&s.requests.control->tail, __ATOMIC_ACQUIRE);
    __atomic_store_n((uint64_t *)request_slot(head), UIPC_SLOT_SKIPPED | (head + 1), __ATOMIC_RELEASE);
    expect_session_end("a skip marker at a position nobody claimed");
    corrupt_sessions++;

    /* The response ring's head is ours: a head far ahead of the server's tail is impossible, and
     * the server sees it when the ring looks full (max_calls 2: the third response). */
    fwd_connect(&s, socket_name, 2, 0);
    __atomic_store_n(&s.responses.control->head, 1ull << 60, __ATOMIC_RELEASE);
    for (int i = 0; i < 3; i++) {
        int64_t deadline = fwd_now_ns() + TIMEOUT_NS;
        while (__atomic_load_n(&s.requests.control->tail, __ATOMIC_ACQUIRE) - __atomic_load_n(&s.requests.control->head, __ATOMIC_ACQUIRE) >=
               s.requests.capacity)
            if (fwd_now_ns() > deadline)
                fwd_die("the server did not take the requests before the forged head");
        struct uipc_rpc_request r = request(UIPC_FWD_NOP, 0, 0, 0, 0, 0, 0);
        fwd_publish(&s, &r);
        fwd_wake_server(&s);
    }
    expect_session_end("a response head ahead of the server's tail");
    corrupt_sessions++;
}

static void stall_then_hang_up(void)
{
    /* A claimed position never published, and a published one after it: the server waits at the
     * gap (in order, as the ring demands) and answers nothing out of order; we then hang up. */
    fwd_connect(&s, socket_name, 0, 0);
    uint64_t gap = __atomic_fetch_add(&s.requests.control->tail, 1, __ATOMIC_SEQ_CST);
    (void)gap;
    struct uipc_rpc_request r = request(UIPC_FWD_NOP, 0, 0, 0, 0, 0, 0);
    fwd_publish(&s, &r);
    fwd_wake_server(&s);
    struct uipc_rpc_response response;
    check("no answer past an unpublished claim within 300 ms", fwd_wait_response(&s, &response, 300000000LL, FWD_SPIN_NS, FWD_YIELD_NS), 0);
    fwd_close(&s);
    hangups++;

    /* A message after the hello is not allowed: the server ends the session. */
    fwd_connect(&s, socket_name, 0, 0);
    check("nop before talking out of turn", call(UIPC_FWD_NOP, 0, 0, 0, 0, 0, 0), 0);
    struct uipc_bootstrap_frame frame = {UIPC_BOOTSTRAP_MAGIC, UIPC_BOOTSTRAP_VERSION, UIPC_BOOTSTRAP_DATA, 0, 0};
    if (write(s.sock, &frame, sizeof frame) != (ssize_t)sizeof frame)
        fwd_die("send after the hello");
    expect_session_end("a bootstrap message after the hello");
    hangups++;
}

/* ---- H: broken hellos ---------------------------------------------------------------------- */

static void refused_hello(const char *what, const void *hello, uint32_t length, int want)
{
    fwd_open_socket(&s, socket_name);
    check(what, fwd_handshake(&s, hello, length), want);
    refused_hellos++;
    fwd_close(&s);
}

static void hellos(void)
{
    struct uipc_rpc_hello good = {UIPC_RPC_MAGIC, UIPC_RPC_VERSION, UIPC_RPC_DOORBELL_FUTEX, 0, 0, 0, 0};
    struct uipc_rpc_hello h = good;
    h.magic = 0x12345678;
    refused_hello("EPROTO hello with a wrong magic", &h, sizeof h, -EPROTO);
    h = good;
    h.version = 99;
    refused_hello("EPROTO hello of version 99", &h, sizeof h, -EPROTO);
    refused_hello("EPROTO hello of 8 bytes", &good, 8, -EPROTO);
    h = good;
    h.doorbell_kind = 7;
    refused_hello("EOPNOTSUPP hello for doorbell 7", &h, sizeof h, -EOPNOTSUPP);
    h = good;
    h.doorbell_kind = UIPC_RPC_DOORBELL_EVENTFD;
    refused_hello("EPROTO eventfd hello without its descriptor", &h, sizeof h, -EPROTO);

    /* Asking for everything gets the server's limits; asking for 1 byte gets 64 (rounded up, never 0). */
    h = good;
    h.max_calls = 0xFFFFFFFFu;
    h.arena_length = ~0ull;
    fwd_open_socket(&s, socket_name);
    check("hello asking for 2^32 calls and 2^64 bytes", fwd_handshake(&s, &h, sizeof h), 0);
    check("calls granted within the limit", s.welcome.max_calls <= UIPC_RPC_MAX_CALLS && (s.welcome.max_calls & (s.welcome.max_calls - 1)) == 0, 1);
    check("arena granted within the limit", s.welcome.arena_length <= UIPC_RPC_MAX_ARENA, 1);
    check("nop on the largest session", call(UIPC_FWD_NOP, 0, 0, 0, 0, 0, 0), 0);
    fwd_close(&s);

    h.max_calls = 1;
    h.arena_length = 1;
    fwd_open_socket(&s, socket_name);
    check("hello asking for 1 call and 1 byte", fwd_handshake(&s, &h, sizeof h), 0);
    check("calls granted", s.welcome.max_calls, UIPC_RPC_MIN_CALLS);
    check("arena granted", (long long)s.welcome.arena_length, UIPC_RPC_ARENA_ALIGNMENT);
    check("nop with the byte asked for", call(UIPC_FWD_NOP, 0, 1, 0, 0, 0, 0), 0);
    check("EFAULT one byte past the arena", call(UIPC_FWD_NOP, UIPC_RPC_ARENA_ALIGNMENT, 1, 0, 0, 0, 0), -EFAULT);
    bad_blocks++;
    fwd_close(&s);
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc != 3) {
        fprintf(stderr, "usage: fwd_hostile SOCKET OUTSIDE_DIR\n");
        return 2;
    }
    socket_name = argv[1];

    fwd_connect(&s, socket_name, 0, 0);
    if (s.arena_length < 64 * 1024)
        fwd_die("the attacks need an arena of at least 64 KiB");
    int64_t filled = open_path(UIPC_FWD_AT_ROOT, "filled.txt", O_RDONLY);
    int64_t victim = open_path(UIPC_FWD_AT_ROOT, "victim.txt", O_RDWR | O_CREAT | O_TRUNC);
    int64_t scratch = open_path(UIPC_FWD_AT_ROOT, "scratch.txt", O_RDWR | O_CREAT | O_TRUNC);
    int64_t sub = open_path(UIPC_FWD_AT_ROOT, "sub", O_RDONLY | O_DIRECTORY);
    const int64_t ours[4] = {filled, victim, scratch, sub};
    for (int i = 0; i < 4; i++)
        if (ours[i] < 0 || ours[i] > 4 || ours[i] == UIPC_FWD_FD_STDOUT)
            check("one of our first descriptors (0, 2, 3, 4: the lowest free numbers)", ours[i], 0);

    blocks_outside_the_arena(filled, victim);
    forged_ids();
    overlapping_and_huge_lengths(filled, scratch);
    descriptors_not_ours(ours);
    paths(argv[2], sub);
    path_rewritten_during_the_call(1000);
    unknown_opcodes();
    scribbles_the_server_ignores();
    fwd_close(&s);

    corrupt_rings();
    stall_then_hang_up();
    hellos();

    printf("fwd_hostile: %d attacks; bad blocks %d; unknown opcodes %d; corrupt sessions %d; refused hellos %d; hangups %d\n", attacks,
           bad_blocks, unknown_opcodes_sent, corrupt_sessions, refused_hellos, hangups);
    return 0;
}
