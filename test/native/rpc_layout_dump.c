/*
 * rpc_layout_dump.c: prints every constant and offset of interop/include/uintripc_rpc.h as
 * a C compiler sees it, one "value NAME V" per line, for
 * test/UintrIpc.Tests/Rpc/RpcLayoutTests.cs, which compiles and runs it and compares each
 * line with the C# side (lib/UintrIpc/Rpc/RpcLayout.cs and the bootstrap framing).
 */
#include <inttypes.h>
#include <stdio.h>
#include "uintripc_rpc.h"

#define C(name) printf("value %s %" PRId64 "\n", #name, (int64_t)(name))
#define OFF(type, field) printf("value %s.%s %" PRId64 "\n", #type, #field, (int64_t)offsetof(struct type, field))
#define SIZE(type) printf("value sizeof(%s) %" PRId64 "\n", #type, (int64_t)sizeof(struct type))

int main(void)
{
    C(UIPC_RPC_REGION_KIND); C(UIPC_RPC_MAGIC); C(UIPC_RPC_VERSION);
    C(UIPC_RPC_PART_CONTROL); C(UIPC_RPC_TAG_CONTROL); C(UIPC_RPC_TAG_REQUESTS); C(UIPC_RPC_TAG_RESPONSES);
    C(UIPC_RPC_TAG_ARENA); C(UIPC_RPC_TAG_SERVER_WAIT); C(UIPC_RPC_TAG_CLIENT_WAIT);
    C(UIPC_RPC_MIN_CALLS); C(UIPC_RPC_MAX_CALLS); C(UIPC_RPC_MAX_ARENA); C(UIPC_RPC_ARENA_ALIGNMENT); C(UIPC_RPC_ARGS);
    C(UIPC_RPC_DOORBELL_NONE); C(UIPC_RPC_DOORBELL_FUTEX); C(UIPC_RPC_DOORBELL_EVENTFD);
    C(UIPC_RPC_SERVER_RUNNING); C(UIPC_RPC_SERVER_STOPPED);
    C(UIPC_RPC_ID(5, 7)); C(UIPC_RPC_ID_SLOT(UIPC_RPC_ID(5, 7))); C(UIPC_RPC_ID_GENERATION(UIPC_RPC_ID(5, 7)));

    SIZE(uipc_rpc_control);
    OFF(uipc_rpc_control, magic); OFF(uipc_rpc_control, version); OFF(uipc_rpc_control, doorbell_kind);
    OFF(uipc_rpc_control, max_calls); OFF(uipc_rpc_control, arena_length); OFF(uipc_rpc_control, server_epoch);
    OFF(uipc_rpc_control, session_id); OFF(uipc_rpc_control, server_pid); OFF(uipc_rpc_control, client_pid);
    OFF(uipc_rpc_control, server_state); OFF(uipc_rpc_control, responses_sent);

    SIZE(uipc_rpc_request);
    OFF(uipc_rpc_request, id); OFF(uipc_rpc_request, opcode); OFF(uipc_rpc_request, data_offset);
    OFF(uipc_rpc_request, in_length); OFF(uipc_rpc_request, out_capacity); OFF(uipc_rpc_request, args);
    SIZE(uipc_rpc_response);
    OFF(uipc_rpc_response, id); OFF(uipc_rpc_response, result); OFF(uipc_rpc_response, out_length); OFF(uipc_rpc_response, reserved);

    C(UIPC_BOOTSTRAP_MAGIC); C(UIPC_BOOTSTRAP_VERSION); C(UIPC_BOOTSTRAP_MAX_PAYLOAD); C(UIPC_BOOTSTRAP_MAX_FDS);
    C(UIPC_BOOTSTRAP_MAX_REASON); C(UIPC_BOOTSTRAP_ACCEPT); C(UIPC_BOOTSTRAP_REFUSED); C(UIPC_BOOTSTRAP_DATA);
    SIZE(uipc_bootstrap_frame);
    OFF(uipc_bootstrap_frame, magic); OFF(uipc_bootstrap_frame, version); OFF(uipc_bootstrap_frame, type);
    OFF(uipc_bootstrap_frame, payload_length); OFF(uipc_bootstrap_frame, fd_count);

    SIZE(uipc_rpc_hello);
    OFF(uipc_rpc_hello, magic); OFF(uipc_rpc_hello, version); OFF(uipc_rpc_hello, doorbell_kind);
    OFF(uipc_rpc_hello, max_calls); OFF(uipc_rpc_hello, arena_length);
    SIZE(uipc_rpc_welcome);
    OFF(uipc_rpc_welcome, magic); OFF(uipc_rpc_welcome, version); OFF(uipc_rpc_welcome, doorbell_kind);
    OFF(uipc_rpc_welcome, status); OFF(uipc_rpc_welcome, max_calls); OFF(uipc_rpc_welcome, arena_length);
    OFF(uipc_rpc_welcome, region_epoch); OFF(uipc_rpc_welcome, server_epoch); OFF(uipc_rpc_welcome, session_id);
    return 0;
}
