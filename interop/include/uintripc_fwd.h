/*
 * uintripc_fwd.h - the syscall-forwarding protocol of samples/SyscallForward.
 *
 * A client forwards system calls to a server process that executes them inside a
 * directory given on the server's command line. This header fixes the opcodes, the
 * meaning of each request's inline arguments and data references, and the result
 * encoding; the transport (request/response records, ids, the payload arena) is the
 * request/response layer's (uintripc_rpc.h).
 *
 * Every call answers with one signed 64-bit result: >= 0 on success (a count, an offset,
 * a descriptor, a pid), or -errno on failure (the kernel's errno, never truncated, never
 * folded into -1). A short read or write is a result, not an error.
 *
 * Descriptors are the client's own: small numbers valid only for the client that opened
 * them (each client has its own table), plus the ones the server grants every client
 * (UIPC_FWD_FD_STDOUT, the server's standard output). Any other number is EBADF.
 *
 * Opcodes outside the table below are answered with -ENOSYS; opcodes in the table that the
 * server's allow-list excludes are answered with -EPERM.
 *
 * A client does not trust the server's answers either (samples/SyscallForward's ForwardClient):
 * an error is -1..-4095 (Linux's MAX_ERRNO); a READ or PREAD answers at most the output's length
 * and exactly the bytes of output it delivered; a WRITE or PWRITE at most its input's length, and
 * 0 only for an empty input (the server waits for room instead); OPENAT a descriptor 0..INT_MAX;
 * GETPID 1..INT_MAX; NOP and CLOSE 0; LSEEK 0 or more; FSTAT 0 with UIPC_FWD_STAT_SIZE bytes of
 * output. Any other answer is the server breaking this protocol (the sample client: EPROTO).
 */
#ifndef UINTRIPC_FWD_H
#define UINTRIPC_FWD_H

#include <stdint.h>

#define UIPC_FWD_PROTOCOL_VERSION 1u

/* Per opcode: args[] are the request's inline 64-bit arguments; "in" is the request's
 * data (client -> server), "out" the response's data (server -> client). */
enum uipc_fwd_opcode {
    UIPC_FWD_NOP = 0,    /* -> 0                                                              */
    UIPC_FWD_GETPID = 1, /* -> the server's pid                                               */
    UIPC_FWD_OPENAT = 2, /* args: dirfd (UIPC_FWD_AT_ROOT or a directory fd of this client),  */
                         /*       flags (O_*), mode; in: the path bytes, no NUL -> fd          */
    UIPC_FWD_CLOSE = 3,  /* args: fd -> 0                                                     */
    UIPC_FWD_READ = 4,   /* args: fd; out: up to its length in bytes -> bytes read             */
    UIPC_FWD_WRITE = 5,  /* args: fd; in: the bytes -> bytes written (may be short)            */
    UIPC_FWD_PREAD = 6,  /* args: fd, offset; out -> bytes read                                */
    UIPC_FWD_PWRITE = 7, /* args: fd, offset; in -> bytes written                              */
    UIPC_FWD_LSEEK = 8,  /* args: fd, offset, whence (SEEK_SET/CUR/END/DATA/HOLE) -> offset    */
    UIPC_FWD_FSTAT = 9,  /* args: fd; out: struct uipc_fwd_stat (at least its size) -> 0       */
    UIPC_FWD_OPCODE_COUNT = 10
};

/* openat's dirfd meaning "the server's directory" (the value of AT_FDCWD). */
#define UIPC_FWD_AT_ROOT (-100)

/* The descriptor every client has from the start: the server's standard output. */
#define UIPC_FWD_FD_STDOUT 1

/* The open flags a client may pass (Linux values); any other bit gives -EINVAL, as does the
 * access mode 3 (O_ACCMODE: neither read-only, write-only nor read-write). O_CLOEXEC and
 * O_NOCTTY are always added by the server. O_PATH and O_TMPFILE are refused. */
#define UIPC_FWD_OPEN_FLAGS_ALLOWED \
    (00000003 /* O_ACCMODE */ | 00000100 /* O_CREAT */ | 00000200 /* O_EXCL */ | 00001000 /* O_TRUNC */ | \
     00002000 /* O_APPEND */ | 00004000 /* O_NONBLOCK */ | 00010000 /* O_DSYNC */ | 00200000 /* O_DIRECTORY */ | \
     00400000 /* O_NOFOLLOW */ | 02000000 /* O_CLOEXEC */ | 04010000 /* O_SYNC */ | 00000400 /* O_NOCTTY */)

/* Paths are confined beneath the server's directory: an absolute path, a ".." component,
 * or a symbolic link that leads outside gives -EXDEV (what openat2 RESOLVE_BENEATH gives);
 * a path longer than UIPC_FWD_PATH_MAX bytes gives -ENAMETOOLONG. A mode outside 0..0xFFFF
 * (mode_t) gives -EINVAL; of the others only the permission bits 0777 are used. When several
 * of these errors apply, the answer is one of them (the order is not fixed). */
#define UIPC_FWD_PATH_MAX 4095

/* FSTAT's answer: a fixed layout (not the C library's struct stat). Times in ns since the epoch. */
struct uipc_fwd_stat {
    uint64_t dev;      /*  0 */
    uint64_t ino;      /*  8 */
    uint64_t nlink;    /* 16 */
    uint32_t mode;     /* 24 */
    uint32_t uid;      /* 28 */
    uint32_t gid;      /* 32 */
    uint32_t reserved; /* 36 */
    uint64_t rdev;     /* 40 */
    int64_t size;      /* 48 */
    int64_t blksize;   /* 56 */
    int64_t blocks;    /* 64 */
    int64_t atime_ns;  /* 72 */
    int64_t mtime_ns;  /* 80 */
    int64_t ctime_ns;  /* 88 */
};

#define UIPC_FWD_STAT_SIZE 96

#if defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L
_Static_assert(sizeof(struct uipc_fwd_stat) == UIPC_FWD_STAT_SIZE, "uipc_fwd_stat layout");
#endif

#endif /* UINTRIPC_FWD_H */
