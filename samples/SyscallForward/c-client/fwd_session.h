/*
 * fwd_session - one session with a UintrIpc RPC server, from the headers of interop/include
 * alone: the bootstrap framing and handshake (uintripc_rpc.h section 6), the session region
 * (section 1, validated as step 5 asks), the request ring (MPSC producer), the response ring
 * (SPSC consumer, our position kept privately) and the futex wake-up of both directions
 * (section 5). Used by fwd_client (an honest client) and fwd_hostile (a hostile one), both
 * single-threaded.
 */
#ifndef FWD_SESSION_H
#define FWD_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include "uintripc.h"
#include "uintripc_rpc.h"

struct fwd_ring {
    struct uipc_ring_control *control;
    uint8_t *data;
    uint64_t capacity;
    uint32_t slot_size;
    uint64_t head_cache; /* requests: the consumer's head as last read, never ahead of it (uintripc.h 2c) */
};

struct fwd_session {
    int sock;
    uint8_t *region;
    uint64_t region_size;
    struct uipc_rpc_control *control;
    struct fwd_ring requests, responses;
    uint8_t *arena;
    uint64_t arena_length;
    struct uipc_wait_block *server_wait, *client_wait;
    struct uipc_rpc_welcome welcome;
    uint64_t response_head; /* our consumer position, kept privately */
};

/* What fwd_wait_response returns besides 1 (a response) and 0 (none within the timeout). */
enum {
    FWD_SESSION_ENDED = -1,   /* server_state STOPPED, or the bootstrap connection closed */
    FWD_RING_CORRUPTED = -2,  /* the response ring holds a sequence no producer writes */
};

/* Prints "FAIL what" to stderr and exits 1. */
__attribute__((noreturn)) void fwd_die(const char *what);

int64_t fwd_now_ns(void);

/* Connects (a path, or @name for the abstract namespace), checks the server's SO_PEERCRED
 * (our uid) and waits for ACCEPT; dies on anything else. */
void fwd_open_socket(struct fwd_session *s, const char *name);

/* Sends `length` bytes of `hello` as the DATA message (a hostile caller may send a broken
 * one) and reads the welcome. Returns welcome.status; when it is 0, the region is mapped and
 * validated (dies when it is not valid). */
int fwd_handshake(struct fwd_session *s, const void *hello, uint32_t length);

/* fwd_open_socket, then a hello for the futex doorbell with these sizes (0: the server's
 * defaults); dies when the session is refused. */
void fwd_connect(struct fwd_session *s, const char *name, uint32_t max_calls, uint64_t arena_length);

/* Unmaps the region and closes the connection (the server then ends the session). */
void fwd_close(struct fwd_session *s);

/* MPSC producer (uintripc.h 2a): claims a position with a CAS on tail, writes the request and
 * publishes it. Dies when the ring is full. Does not wake the server. */
void fwd_publish(struct fwd_session *s, const struct uipc_rpc_request *request);

/* Wakes the server if it announced that it sleeps (uintripc_rpc.h section 5, producer). */
void fwd_wake_server(struct fwd_session *s);

/* The response at our head: 1 taken, 0 not yet, FWD_RING_CORRUPTED. */
int fwd_take_response(struct fwd_session *s, struct uipc_rpc_response *out);

/* How long a caller spins, then yields, before it sleeps (fwd_wait_response). The spin is about
 * one round trip when client and server run on different CPUs; beyond it, yielding lets a server
 * that shares our CPU run at once, where spinning would keep it off the CPU until we sleep and
 * make every call pay a futex wake-up (README, "Syscall forwarding": where the time goes). */
#define FWD_SPIN_NS 1000LL
#define FWD_YIELD_NS 49000LL

/* Waits for the next response: spins for spin_ns, yields the CPU for yield_ns, then sleeps on
 * the client wait block in slices of at most 100 ms (section 5, consumer), until timeout_ns has
 * passed. Returns 1, 0 (timeout), FWD_SESSION_ENDED or FWD_RING_CORRUPTED. */
int fwd_wait_response(struct fwd_session *s, struct uipc_rpc_response *out, int64_t timeout_ns, int64_t spin_ns, int64_t yield_ns);

/* Whether the session has ended (server_state STOPPED or the connection closed), waiting up to
 * timeout_ns for it. */
int fwd_session_ended(struct fwd_session *s, int64_t timeout_ns);

#endif /* FWD_SESSION_H */
