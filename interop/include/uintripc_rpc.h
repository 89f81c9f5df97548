/*
 * uintripc_rpc.h — request/response over shared memory (UintrIpc RPC), for C clients.
 *
 * This header, with uintripc.h (regions, rings, wait blocks), is the specification of the
 * RPC layer: a C program can be a client of a UintrIpc RPC server from these two files
 * alone. The C# side (lib/UintrIpc/Rpc) mirrors every constant here in RpcLayout.cs;
 * test/UintrIpc.Tests/Rpc/RpcLayoutTests.cs compiles test/native/rpc_layout_dump.c against
 * this file and proves both agree. Change both in the same commit and bump
 * UIPC_RPC_VERSION when a byte moves.
 *
 * Orderings are named as in uintripc.h (plain, acquire, release, full).
 *
 * ------------------------------------------------------------------------------------
 * 1. Sessions and their region
 * ------------------------------------------------------------------------------------
 *
 * A server serves many clients; each connected client gets a session with a region of
 * its own (so a misbehaving client can only damage its own region). The SERVER creates
 * the region (a sealed memfd, region kind UIPC_RPC_REGION_KIND) and passes it to the
 * client at connection time (section 6). Parts, found by (kind, tag) in the part table:
 *
 *   kind                  tag  what                              producer -> consumer
 *   UIPC_RPC_PART_CONTROL  0   struct uipc_rpc_control           server (immutable) / server line
 *   UIPC_PART_MPSC_SLOTS   0   requests: struct uipc_rpc_request client threads -> server
 *   UIPC_PART_SPSC_SLOTS   1   responses: struct uipc_rpc_response server -> client
 *   UIPC_PART_ARENA        0   payload arena, arena_length bytes  both (see 4)
 *   UIPC_PART_WAIT_BLOCK   0   the server's wait block (it sleeps on requests)
 *   UIPC_PART_WAIT_BLOCK   1   the client's wait block (it sleeps on responses)
 *
 * Both rings have max_calls slots (uintripc.h 2a). The request ring is MPSC, so any
 * number of client threads submit without a lock; the response ring is SPSC (the server's
 * session thread is its only producer; one client thread at a time consumes it).
 *
 * ------------------------------------------------------------------------------------
 * 2. Calls, ids and results
 * ------------------------------------------------------------------------------------
 *
 * A client has at most max_calls calls outstanding. It numbers its call slots
 * 0 .. max_calls-1 and keeps, privately, a generation per slot that it increments each
 * time the slot is reused (never 0). A request's id is
 *
 *     id = slot | (uint64_t)generation << 32            (UIPC_RPC_ID, _SLOT, _GENERATION)
 *
 * The server copies the id into the response unchanged; it neither interprets nor trusts it.
 * The client routes a response by id only, and accepts it only when the slot is in range,
 * the generation is the slot's current one and the call is still waiting for its answer.
 * Anything else is rejected and counted: unknown (slot out of range), stale (old
 * generation), duplicate (the call was answered already).
 *
 * Every request the server reads gets exactly one response, also when it is malformed.
 * `result` is an int64: >= 0 is the handler's value, < 0 is -errno (never truncated):
 *   -ENOSYS  no handler for the opcode
 *   -EFAULT  the data block (section 4) does not lie inside the arena
 *   -EIO     the handler failed without an errno
 *   -ESHUTDOWN  a call for a worker thread read while the server is being disposed (its
 *               workers may be gone; the session ends after this pass)
 * and whatever -errno the handler returns. `out_length` is the number of bytes the server
 * wrote at data_offset (0 when result < 0); a client rejects a response whose out_length
 * exceeds the out_capacity of its call.
 *
 * A call that times out or is cancelled keeps its slot and its arena block until the
 * server can no longer write into them: until its response arrives (which then frees them
 * and is counted as late), or until the session ends (section 7).
 *
 * ------------------------------------------------------------------------------------
 * 3. The protocol
 * ------------------------------------------------------------------------------------
 *
 * Client, one call:
 *   1. take a free call slot and an arena block for max(in_length, out_capacity) bytes
 *      (both private bookkeeping of the client; when none is free, wait with a timeout);
 *   2. write the input into the arena block (plain);
 *   3. write the request into the request ring and publish it (uintripc.h 2a, MPSC producer:
 *      the release store of the slot's sequence publishes the arena bytes too);
 *   4. wake the server if it sleeps (section 5, producer side), on wait block 0;
 *   5. wait for the response: consume the response ring (uintripc.h 2a consumer) and route
 *      each response by id (several threads: one consumes at a time and hands the others
 *      their results); spin briefly, then sleep on wait block 1 (section 5, consumer side);
 *   6. read the output (plain; published by the response's sequence, acquire), then free the
 *      arena block and the call slot.
 *
 * Server, per session: drain the request ring in batches (copying each request out of the
 * ring before looking at it); for each request check the data block (section 4) and the opcode, run the handler or answer the
 * error, write the output (plain) into the block, and publish the batch's responses with one
 * release of the response ring's tail; then wake the client if it sleeps (wait block 1).
 * Handlers may run on a worker pool; their responses are published by the session thread.
 * The server stops reading requests while it holds max_calls unpublished responses, so a
 * client that does not consume its responses can only stall itself.
 *
 * ------------------------------------------------------------------------------------
 * 4. The arena
 * ------------------------------------------------------------------------------------
 *
 * A request names one data block: [data_offset, data_offset + max(in_length, out_capacity))
 * inside the arena part. The server reads in_length bytes of input from its start and may
 * write up to out_capacity bytes of output there (input and output share the block, as a
 * syscall buffer does). Both sides validate a block against arena_length with 64-bit
 * arithmetic before touching it; a block outside the arena is answered with -EFAULT, never
 * read. How the client carves blocks out of the arena is its own business (the C# client
 * aligns them to 64 bytes). The other side may change bytes in a block at any time: a
 * handler copies what it validates before it relies on it (a path, a length).
 *
 * ------------------------------------------------------------------------------------
 * 5. Wake-up (each direction: the wait block protocol of uintripc.h 3)
 * ------------------------------------------------------------------------------------
 *
 * Producer, after publishing (a request on wait block 0, a batch of responses on 1):
 *   full fence; s = consumer_state (acquire);
 *   if s != UIPC_CONSUMER_AWAKE and CAS(consumer_state, s -> UIPC_CONSUMER_AWAKE) succeeds:
 *     ring: futex:   atomic increment of wake_word (full), then FUTEX_WAKE(wake_word, INT_MAX)
 *                    (shared futex, no FUTEX_PRIVATE_FLAG);
 *           eventfd: write(fd, &(uint64_t){1}, 8) to the consumer's eventfd (section 6);
 *           none:    nothing (the consumer only spins);
 *     then atomic increment of wakeups_sent;
 *   else atomic increment of wakeups_suppressed (diagnostics).
 * Consumer with nothing to read, after spinning a few microseconds:
 *   token = wake_word (acquire); exchange consumer_state := UIPC_CONSUMER_SLEEPING (full);
 *   re-check its ring; if still empty: FUTEX_WAIT(wake_word, token, timeout) or poll the
 *   eventfd (then read it to reset it); exchange consumer_state := UIPC_CONSUMER_AWAKE.
 * Every sleep is bounded (the C# side sleeps at most 100 ms at a time), so a lost wake-up
 * costs a timeout, never a hang. Both sides use the doorbell of the control block.
 *
 * ------------------------------------------------------------------------------------
 * 6. Connecting (the bootstrap socket)
 * ------------------------------------------------------------------------------------
 *
 * The server listens on a SOCK_SEQPACKET Unix socket (a path, or an abstract name: a
 * leading NUL in sun_path). Every message is one datagram: a struct uipc_bootstrap_frame,
 * then `payload_length` bytes, with `fd_count` descriptors in one SCM_RIGHTS control
 * message. After connect():
 *   1. the client checks the server's SO_PEERCRED (same uid, unless told otherwise);
 *   2. the server checks the client's SO_PEERCRED and sends ACCEPT (no payload, no fds) or
 *      REFUSED (payload: a UTF-8 reason, at most 1024 bytes) and closes;
 *   3. the client sends DATA: struct uipc_rpc_hello; descriptors: its eventfd when it asks
 *      for the eventfd doorbell (the server rings it for responses), none otherwise;
 *   4. the server sends DATA: struct uipc_rpc_welcome; when status == 0, descriptors: the
 *      region's memfd, then the server's eventfd for the eventfd doorbell (the client rings
 *      it for requests). When status < 0 (-errno: -EPROTO bad hello, -EOPNOTSUPP doorbell
 *      not offered) there are no descriptors and the server closes the connection. A status
 *      > 0 is never sent: a client refuses such a welcome as malformed (section 8).
 *   5. the client maps the memfd MAP_SHARED (it is sealed against shrinking), validates the
 *      region header (uintripc.h 1) and checks: region kind UIPC_RPC_REGION_KIND, header
 *      epoch == welcome.region_epoch, the parts of section 1 with the sizes the control
 *      block implies, control fields == the welcome's.
 * The connection stays open for the whole session: it is how each side learns that the
 * other has gone (section 7). Receive with MSG_CMSG_CLOEXEC.
 *
 * ------------------------------------------------------------------------------------
 * 7. Lifetimes
 * ------------------------------------------------------------------------------------
 *
 * Liveness is the bootstrap connection: the kernel closes it when a process dies, so a
 * peer's death shows as POLLHUP (or a read of 0 bytes) on the socket, at once and without a
 * timeout. The server closes it when it ends a session (client gone, server shutting down,
 * or a corrupt region), after setting server_state = UIPC_RPC_SERVER_STOPPED (release).
 * Each side also watches the peer's process where it can: the pidfd getsockopt(SO_PEERPIDFD)
 * returns (Linux 6.5+; pinned at connect, so it reports the peer's exit even when a child the
 * peer forked keeps the socket open, or the peer exited before it was looked at); before 6.5,
 * pidfd_open of SO_PEERCRED's pid, if that process still exists.
 *
 * Client: when the connection closes or server_state is STOPPED, every outstanding call
 * fails (ECONNRESET; ESHUTDOWN when STOPPED) and its slot and block are freed: nobody will
 * write into them any more. The region is never used again; a client reconnects and gets a
 * new region with a new epoch, so requests of the old session can never be executed by a
 * later server, and a restarted server never replays what an earlier one answered. A
 * restarted server has a new server_epoch (random per server instance, in the welcome and
 * the control block), so a client can tell a restart from a reconnection to the same server.
 *
 * Server: when the connection closes (the client died or disconnected), it stops reading
 * the session's requests, waits for the session's running handlers, closes the session's
 * descriptors and unmaps the region; the client's other resources (such as files it opened
 * through the handlers) are released by the application's session-closed callback.
 *
 * ------------------------------------------------------------------------------------
 * 8. A hostile or broken server (what a client does)
 * ------------------------------------------------------------------------------------
 *
 * The client trusts nothing the server writes or sends. Connect fails (C#: a UintrIpcException,
 * or TimeoutException for a missing welcome) and keeps nothing open when: the welcome is not
 * 64 bytes of this magic and version; its status is not 0 (< 0: the server's -errno; > 0:
 * malformed, nothing else in the welcome is believed); its descriptors are not the count the doorbell needs; the region
 * is not a sealed memfd with a valid header of kind UIPC_RPC_REGION_KIND; a part of section 1
 * is missing or of the other ring mode; the control block's magic, version, doorbell_kind,
 * max_calls (a power of two in [MIN, MAX]_CALLS), arena_length (a multiple of 64 within the
 * arena part and UIPC_RPC_MAX_ARENA) or a ring's descriptor or capacity is wrong; the region
 * does not match the welcome; the server's eventfd is not an eventfd.
 * In a session, per shared field:
 *   control block, immutable words   read once at attach; later changes are not seen
 *   server_pid, client_pid            never read (liveness is the socket and a pidfd pinned at connect)
 *   server_state                      any value but RUNNING ends the session (ESHUTDOWN)
 *   responses_sent                    never read
 *   response ring positions, sequence the client's head is private; a sequence it cannot
 *                                     explain ends the session (EPROTO)
 *   response id                       slot out of range: counted unknown; generation 0 or not
 *                                     the slot's current one: stale; call answered already:
 *                                     duplicate; none of them completes a call
 *   response result                   passed to the caller as it is (any int64)
 *   response out_length               ignored when result < 0; > the call's out_capacity fails
 *                                     the call and ends the session (EPROTO)
 *   request ring positions, sequence  a ring with no room although a call slot was free, or a
 *                                     sequence it cannot explain, ends the session (EPROTO)
 *   arena                             the server may write any byte of it at any time: a call's
 *                                     output is what its block holds when the answer is
 *                                     routed, at most out_length <= out_capacity bytes, copied
 *                                     into the caller's buffer and nowhere else
 *   wait blocks (state, wake_word,    a wrong value costs a spurious or a missed wake-up: every
 *     counters, doorbell_kind)        sleep is bounded (C#: 100 ms) and every call by its timeout
 *   wait blocks' pid and tid          never read (no signal doorbell for RPC)
 *   the server's eventfd              rung only when a write cannot wait (a full counter on a
 *                                     blocking description is skipped: the wake-up is pending)
 * Silence costs each call its timeout (or its cancellation); a timed-out call keeps its slot
 * until its late answer or the session's end, so a silent server at most makes later calls time out waiting for a
 * slot. A closed connection or an exited server ends every outstanding call at once (section 7).
 * (C#: test/UintrIpc.Tests/Trust/GeneratedRpcServerTests.cs checks this with a generated server.)
 */
#ifndef UINTRIPC_RPC_H
#define UINTRIPC_RPC_H

#include "uintripc.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- region and parts --------------------------------------------------------------- */

#define UIPC_RPC_REGION_KIND     0x43505255u /* "URPC" as bytes 55 52 50 43 */
#define UIPC_RPC_MAGIC           0x4B4F5052u /* "RPOK": first word of the control block */
#define UIPC_RPC_VERSION         1u
#define UIPC_RPC_PART_CONTROL    0x100u      /* UIPC_PART_USER: the first application-defined kind */
#define UIPC_RPC_TAG_CONTROL     0u
#define UIPC_RPC_TAG_REQUESTS    0u          /* UIPC_PART_MPSC_SLOTS */
#define UIPC_RPC_TAG_RESPONSES   1u          /* UIPC_PART_SPSC_SLOTS */
#define UIPC_RPC_TAG_ARENA       0u          /* UIPC_PART_ARENA */
#define UIPC_RPC_TAG_SERVER_WAIT 0u          /* UIPC_PART_WAIT_BLOCK: the server sleeps on requests */
#define UIPC_RPC_TAG_CLIENT_WAIT 1u          /* UIPC_PART_WAIT_BLOCK: the client sleeps on responses */

/* Limits the server enforces on a session (a hello asking for more gets these). */
#define UIPC_RPC_MIN_CALLS       2u
#define UIPC_RPC_MAX_CALLS       4096u       /* power of two; max_calls is one too */
#define UIPC_RPC_MAX_ARENA       (1u << 30)  /* bytes; arena_length is a multiple of 64 */
#define UIPC_RPC_ARENA_ALIGNMENT 64u

/* Doorbells (the DoorbellKind values of lib/UintrIpc/Signaling, as in wait blocks). */
enum uipc_rpc_doorbell {
    UIPC_RPC_DOORBELL_NONE    = 0,
    UIPC_RPC_DOORBELL_FUTEX   = 1,
    UIPC_RPC_DOORBELL_EVENTFD = 2,
};

enum uipc_rpc_server_state {
    UIPC_RPC_SERVER_RUNNING = 1,
    UIPC_RPC_SERVER_STOPPED = 2,
};

/* The control block (part UIPC_RPC_PART_CONTROL), written by the server. */
struct uipc_rpc_control {
    /* immutable: written before the region is published */
    uint32_t magic;            /*   0 UIPC_RPC_MAGIC */
    uint16_t version;          /*   4 UIPC_RPC_VERSION */
    uint16_t doorbell_kind;    /*   6 enum uipc_rpc_doorbell, both directions */
    uint32_t max_calls;        /*   8 slots of each ring; call slots of the client */
    uint32_t reserved0;        /*  12 */
    uint64_t arena_length;     /*  16 bytes of the arena part that may be used */
    uint64_t server_epoch;     /*  24 random per server instance, non-zero */
    uint64_t session_id;       /*  32 the server's number for this session */
    int32_t  server_pid;       /*  40 */
    int32_t  client_pid;       /*  44 the client as SO_PEERCRED reported it */
    uint8_t  reserved1[80];    /*  48 .. 128 */
    /* server line */
    uint32_t server_state;     /* 128 enum uipc_rpc_server_state (release on change) */
    uint32_t reserved2;        /* 132 */
    uint64_t responses_sent;   /* 136 server, release after each batch (diagnostics) */
    uint8_t  reserved3[112];   /* 144 .. 256 */
};

/* ---- records --------------------------------------------------------------------------- */

/* A request: 56 bytes, so that with its slot's sequence word it fills one 64-byte line. */
struct uipc_rpc_request {
    uint64_t id;               /*  0 slot | generation << 32, echoed in the response */
    uint32_t opcode;           /*  8 */
    uint32_t data_offset;      /* 12 start of the data block in the arena */
    uint32_t in_length;        /* 16 input bytes at data_offset */
    uint32_t out_capacity;     /* 20 bytes the server may write at data_offset */
    int64_t  args[4];          /* 24 inline arguments */
};

/* A response: 24 bytes (a 32-byte slot). */
struct uipc_rpc_response {
    uint64_t id;               /*  0 the request's id */
    int64_t  result;           /*  8 >= 0 value, < 0 -errno */
    uint32_t out_length;       /* 16 bytes written at data_offset, <= out_capacity */
    uint32_t reserved;         /* 20 zero */
};

#define UIPC_RPC_ARGS            4u
#define UIPC_RPC_ID(slot, generation)  ((uint64_t)(uint32_t)(slot) | ((uint64_t)(uint32_t)(generation) << 32))
#define UIPC_RPC_ID_SLOT(id)           ((uint32_t)(id))
#define UIPC_RPC_ID_GENERATION(id)     ((uint32_t)((id) >> 32))

/* ---- connecting -------------------------------------------------------------------------- */

#define UIPC_BOOTSTRAP_MAGIC       0x53424955u /* "UIBS" as bytes 55 49 42 53 */
#define UIPC_BOOTSTRAP_VERSION     1u
#define UIPC_BOOTSTRAP_MAX_PAYLOAD (16u * 1024u)
#define UIPC_BOOTSTRAP_MAX_FDS     16u
#define UIPC_BOOTSTRAP_MAX_REASON  1024u

enum uipc_bootstrap_type {
    UIPC_BOOTSTRAP_ACCEPT  = 1,
    UIPC_BOOTSTRAP_REFUSED = 2,
    UIPC_BOOTSTRAP_DATA    = 3,
};

/* The header of every bootstrap datagram (16 bytes). */
struct uipc_bootstrap_frame {
    uint32_t magic;            /*  0 UIPC_BOOTSTRAP_MAGIC */
    uint16_t version;          /*  4 UIPC_BOOTSTRAP_VERSION */
    uint16_t type;             /*  6 enum uipc_bootstrap_type */
    uint32_t payload_length;   /*  8 bytes after the header */
    uint32_t fd_count;         /* 12 descriptors in the SCM_RIGHTS message */
};

/* Client -> server, the first DATA message (32 bytes). */
struct uipc_rpc_hello {
    uint32_t magic;            /*  0 UIPC_RPC_MAGIC */
    uint16_t version;          /*  4 UIPC_RPC_VERSION */
    uint16_t doorbell_kind;    /*  6 enum uipc_rpc_doorbell the client wants */
    uint32_t max_calls;        /*  8 wanted (0: the server's default); the server may give fewer */
    uint32_t reserved0;        /* 12 */
    uint64_t arena_length;     /* 16 wanted (0: the server's default); granted rounded up to a multiple of 64, at most the server's limit */
    uint64_t reserved1;        /* 24 */
};

/* Server -> client, the answer to the hello (64 bytes). */
struct uipc_rpc_welcome {
    uint32_t magic;            /*  0 UIPC_RPC_MAGIC */
    uint16_t version;          /*  4 UIPC_RPC_VERSION */
    uint16_t doorbell_kind;    /*  6 as granted */
    int32_t  status;           /*  8 0, or -errno and the session does not exist; never > 0 */
    uint32_t max_calls;        /* 12 as granted */
    uint64_t arena_length;     /* 16 as granted */
    uint64_t region_epoch;     /* 24 the epoch in the region header */
    uint64_t server_epoch;     /* 32 */
    uint64_t session_id;       /* 40 */
    uint8_t  reserved[16];     /* 48 .. 64 */
};

/* ---- compile-time proof of the layout ---------------------------------------------------- */

UIPC_STATIC_ASSERT(sizeof(struct uipc_rpc_control) == 256, "control block is 256 bytes");
UIPC_STATIC_ASSERT(offsetof(struct uipc_rpc_control, server_state) == 128, "server line at 128");
UIPC_STATIC_ASSERT(sizeof(struct uipc_rpc_request) == 56, "request + sequence = one 64-byte line");
UIPC_STATIC_ASSERT(offsetof(struct uipc_rpc_request, args) == 24, "args at 24");
UIPC_STATIC_ASSERT(sizeof(struct uipc_rpc_response) == 24, "response is 24 bytes");
UIPC_STATIC_ASSERT(sizeof(struct uipc_bootstrap_frame) == 16, "frame header is 16 bytes");
UIPC_STATIC_ASSERT(sizeof(struct uipc_rpc_hello) == 32, "hello is 32 bytes");
UIPC_STATIC_ASSERT(sizeof(struct uipc_rpc_welcome) == 64, "welcome is 64 bytes");

#ifdef __cplusplus
}
#endif
#endif /* UINTRIPC_RPC_H */
