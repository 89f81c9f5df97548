/* The user-interrupt handler. Compiled with -muintr -mgeneral-regs-only
 * -minline-all-stringops (Makefile rule for *_handler.c): -muintr makes the interrupt
 * attribute end in UIRET instead of IRETQ, and general-regs-only guarantees that nothing
 * here touches x87/SSE/AVX state, which neither the CPU nor the compiler saves on delivery
 * (uintr-abi.md §2.4, §6.3, §6.4, §7). It must call nothing: any callee outside this file
 * may use vector registers. test/UintrIpc.Tests/Signaling/UintrHandlerDisassemblyTests.cs
 * checks the object code. */
#include "uintr_internal.h"

#include <x86gprintrin.h> /* struct __uintr_frame (GCC >= 11 with -muintr) */

__thread struct uipc_uintr_receiver *uipc_uintr_current __attribute__((tls_model("initial-exec")));

/* Runs on the receiving thread with UIF = 0 (§2.3); `vector` (0..63) was pushed by the
 * hardware (§2.4). Records the vector and returns with UIRET, which sets UIF again. The
 * NULL test covers the window in which the thread has no receiver (it cannot receive
 * then, but a stray delivery must not fault inside an interrupt handler). */
void __attribute__((interrupt)) uipc_uintr_handler(struct __uintr_frame *frame, unsigned long long vector)
{
    (void)frame;
    struct uipc_uintr_receiver *r = uipc_uintr_current;
    if (r != 0)
        uipc_uintr_record(r, (unsigned)(vector & (UIPC_UINTR_VECTORS - 1)));
}

uint64_t uipc_uintr_handler_address(void)
{
    return (uint64_t)(uintptr_t)&uipc_uintr_handler;
}
