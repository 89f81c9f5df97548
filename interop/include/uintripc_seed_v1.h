/*
 * uintripc_seed_v1.h - the original design's v1 syscall queue page, as served by
 * `SyscallForward seed` (samples/SyscallForward, Seed/).
 *
 * Layout and constants are those of reference/seed-protocol.md §1.2-§2 (NimbOS / nimbos-driver
 * v1): a 4 KiB queue page (magic 0x4643537f, a 16-byte header with a one-byte lock shared by
 * both sides, descriptors of 24 bytes, u16 request and response rings of descriptor indices)
 * and a 1 MiB data buffer that arguments and data are addressed in by offset.
 *
 * What v1 left open, and this header fixes (marked "extension"):
 *   - OPEN and CLOSE were defined but unimplemented: their argument structs are below.
 *   - ret_val carries the full 64-bit result: >= 0, or -errno (v1 stored an int and lost errno).
 *   - Unknown opcodes are answered with -ENOSYS (v1 never answered them).
 *   - An offset or length that leaves the data buffer is answered -EFAULT (v1 trusted them).
 *   - A request whose descriptor index is out of range, or whose descriptor is not valid, is
 *     consumed and skipped (counted by the server), never answered: there is no descriptor to
 *     answer in. v1 stalled on the first.
 *
 * The lock: the RTOS side takes it with interrupts off around descriptor allocation plus the
 * request push, and around each response pop; the server takes it around its request pops
 * and response pushes, with a bounded spin (it gives up and retries at the next wake-up, so
 * a peer that holds the lock forever stalls its own calls, never the server).
 *
 * Notification, RTOS -> server: v1's driver turns the RTOS's IPI into real-time signal 44
 * (SIGRTMIN + 10 with glibc), SI_QUEUE, si_int 2333, sent to the registered thread. From user
 * space the same is rt_tgsigqueueinfo(server pid, server tid, 44, ...) with si_code SI_QUEUE;
 * the server prints its pid and the tid of its serving thread at start. It also polls (a
 * bounded wait), so a notification is a hint and may coalesce. Server -> RTOS: none, as in v1
 * (the RTOS polls rsp_index).
 *
 * Mapping: /dev/nimbos maps the data buffer at file offset 0 and the queue page at 0x1000;
 * a plain file laid out like the physical memory has the data buffer at 0 and the queue page
 * at UIPC_SEED_DATA_SIZE (the page follows the buffer, §1.1). The server takes both offsets.
 */
#ifndef UINTRIPC_SEED_V1_H
#define UINTRIPC_SEED_V1_H

#include <stdint.h>

#define UIPC_SEED_MAGIC 0x4643537fu          /* "\x7fSCF" in memory */
#define UIPC_SEED_PAGE_SIZE 4096u
#define UIPC_SEED_DATA_SIZE 0x100000u        /* 1 MiB */
#define UIPC_SEED_HEADER_SIZE 16u            /* sizeof(meta) aligned up to the descriptor's 8 */
#define UIPC_SEED_CAPACITY 128u              /* what NimbOS computes for a 4 KiB page */
#define UIPC_SEED_FILE_QUEUE_OFFSET UIPC_SEED_DATA_SIZE
#define UIPC_SEED_DEVICE_QUEUE_OFFSET 0x1000u
#define UIPC_SEED_SIGNAL 44                  /* SIGRTMIN + 10 */
#define UIPC_SEED_SIGNAL_VALUE 2333

struct uipc_seed_meta {
    uint32_t magic;      /* 0x0 */
    uint8_t lock;        /* 0x4: 0 free, 1 held; both sides */
    uint8_t pad;         /* 0x5 */
    uint16_t capacity;   /* 0x6: descriptors; a power of two, 16 + capacity * 28 <= 4096 */
    uint16_t req_index;  /* 0x8: written only by the RTOS (free-running) */
    uint16_t rsp_index;  /* 0xA: written only by the server (free-running) */
};

struct uipc_seed_desc {
    uint8_t valid;       /* 0x0: set by the RTOS on allocation, cleared on completion */
    uint8_t opcode;      /* 0x1: enum uipc_seed_opcode */
    uint8_t pad[6];
    uint64_t args;       /* 0x8: offset of the argument struct in the data buffer */
    uint64_t ret_val;    /* 0x10: the result, written by the server */
};

enum uipc_seed_opcode {
    UIPC_SEED_NOP = 0,
    UIPC_SEED_READ = 1,    /* struct uipc_seed_rw_args -> bytes read into buf_offset */
    UIPC_SEED_WRITE = 2,   /* struct uipc_seed_rw_args -> bytes written from buf_offset */
    UIPC_SEED_OPEN = 3,    /* struct uipc_seed_open_args -> fd (extension) */
    UIPC_SEED_CLOSE = 4,   /* struct uipc_seed_close_args -> 0 (extension) */
    UIPC_SEED_UNKNOWN = 0xff
};

struct uipc_seed_rw_args {   /* ReadWriteArgs of v1 */
    uint32_t fd;             /* 0x0 */
    uint32_t pad;
    uint64_t buf_offset;     /* 0x8 */
    uint64_t len;            /* 0x10 */
};

struct uipc_seed_open_args { /* extension */
    uint64_t path_offset;    /* 0x0: a NUL-terminated path in the data buffer, beneath the server's directory */
    uint32_t flags;          /* 0x8: O_* (as in uintripc_fwd.h, UIPC_FWD_OPEN_FLAGS_ALLOWED) */
    uint32_t mode;           /* 0xC */
};

struct uipc_seed_close_args { /* extension */
    uint32_t fd;             /* 0x0 */
};

/* Offsets inside the queue page for a given capacity (scf.c derives the same). */
#define UIPC_SEED_DESC_OFFSET UIPC_SEED_HEADER_SIZE
#define UIPC_SEED_REQ_RING_OFFSET(cap) (UIPC_SEED_HEADER_SIZE + (cap) * 24u)
#define UIPC_SEED_RSP_RING_OFFSET(cap) (UIPC_SEED_REQ_RING_OFFSET(cap) + (cap) * 2u)

#if defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L
_Static_assert(sizeof(struct uipc_seed_meta) == 0xc, "seed meta is 12 bytes (scf.h:49)");
_Static_assert(sizeof(struct uipc_seed_desc) == 0x18, "seed descriptor is 24 bytes (scf.h:50)");
_Static_assert(sizeof(struct uipc_seed_rw_args) == 24, "ReadWriteArgs is 24 bytes");
_Static_assert(sizeof(struct uipc_seed_open_args) == 16, "open args");
_Static_assert(UIPC_SEED_REQ_RING_OFFSET(128u) == 0xC10, "req_ring at 0xC10 (seed-protocol.md §1.2)");
_Static_assert(UIPC_SEED_RSP_RING_OFFSET(128u) == 0xD10, "rsp_ring at 0xD10 (seed-protocol.md §1.2)");
#endif

#endif /* UINTRIPC_SEED_V1_H */
