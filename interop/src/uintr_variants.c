/* The syscall table of each Linux uintr ABI variant the shim can drive (uintr-abi.md §1,
 * §7). Detection (uintr_detect.c) selects one from kernel symbol names; nothing else in
 * the shim hard-codes a syscall number. Variants A and B (§1.1) cannot be told apart from
 * kallsyms and are not supported. */
#include "uintr_internal.h"

#include <errno.h>
#include <stddef.h>

/* §1.3 uapi constant (arch/x86/include/uapi/asm/uintr.h@533d395f). */
#define UINTR_HANDLER_FLAG_WAITING_RECEIVER 0x1000u

static const struct uipc_uintr_variant s_variants[] = {
    {
        /* §1.1 row C: Intel "POC v2" / uintr-ipc-bench master, 471-476. unregister_sender
         * takes the fd in intel/mainline-tracking's sample (the kernel tree's own) but an
         * index in the ipc-bench macros; we follow the kernel tree. uintr_wait(flags) has
         * no timeout, so the shim never calls it (sliced waits instead). */
        .letter = 'C', .description = "Intel POC v2 (syscalls 471-476)",
        .nr_register_handler = 471, .nr_unregister_handler = 472, .nr_vector_fd = 473,
        .nr_register_sender = 474, .nr_unregister_sender = 475, .unregister_sender_by_fd = 1,
        .nr_wait = 476, .wait_takes_usec = 0, .no_hw_errno = EOPNOTSUPP,
        .waiting_receiver_flag = 0, .uitt_per_process = 0,
    },
    {
        /* §1.2: RFC v1 as posted to LKML, 449-454; unregister_sender(uintr_fd, flags);
         * uintr_wait(flags) with a hidden 100 us timeout in one copy and none in another,
         * so not used; register_handler rejects any flag (EINVAL). */
        .letter = 'D', .description = "RFC v1 (syscalls 449-454)",
        .nr_register_handler = 449, .nr_unregister_handler = 450, .nr_vector_fd = 451,
        .nr_register_sender = 452, .nr_unregister_sender = 453, .unregister_sender_by_fd = 1,
        .nr_wait = 454, .wait_takes_usec = 0, .no_hw_errno = EOPNOTSUPP,
        .waiting_receiver_flag = 0, .uitt_per_process = 0,
    },
    {
        /* §1.3: uintr-next, 471-479; unregister_sender(uipi_index, flags);
         * uintr_wait(usec, flags) (usec <= 1 000 000 000); ENOSYS = feature disabled. */
        .letter = 'E', .description = "uintr-next (syscalls 471-479)",
        .nr_register_handler = 471, .nr_unregister_handler = 472, .nr_vector_fd = 473,
        .nr_register_sender = 474, .nr_unregister_sender = 475, .unregister_sender_by_fd = 0,
        .nr_wait = 476, .wait_takes_usec = 1, .no_hw_errno = ENOSYS,
        .waiting_receiver_flag = UINTR_HANDLER_FLAG_WAITING_RECEIVER, .uitt_per_process = 1,
    },
};

const struct uipc_uintr_variant *uipc_uintr_variant_get(int letter)
{
    for (size_t i = 0; i < sizeof(s_variants) / sizeof(s_variants[0]); i++)
        if (s_variants[i].letter == letter)
            return &s_variants[i];
    return NULL;
}
