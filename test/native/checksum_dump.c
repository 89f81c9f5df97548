/*
 * checksum_dump.c: computes message checksums (uintripc.h section 4a) with the header's
 * reference functions only, for test/UintrIpc.Tests/Channels/ChannelChecksumTests.cs, which
 * compiles it with and without SSE4.2 (hardware and software paths). Arguments, one line of
 * output each (the checksum in decimal):
 *   s:<hex>          uipc_crc32c of the bytes (a slot channel's element)
 *   m:<type>:<hex>   uipc_message_crc32c of a message record of those bytes (length 8 + n + 4)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "uintripc.h"

static size_t parse_hex(const char *hex, unsigned char *out, size_t capacity)
{
    size_t n = strlen(hex) / 2;
    if (n > capacity) {
        fprintf(stderr, "too long\n");
        exit(2);
    }
    for (size_t i = 0; i < n; i++) {
        unsigned int byte;
        if (sscanf(hex + 2 * i, "%2x", &byte) != 1) {
            fprintf(stderr, "bad hex '%s'\n", hex);
            exit(2);
        }
        out[i] = (unsigned char)byte;
    }
    return n;
}

int main(int argc, char **argv)
{
    static unsigned char bytes[1 << 16];
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (strncmp(arg, "s:", 2) == 0) {
            size_t n = parse_hex(arg + 2, bytes, sizeof bytes);
            printf("%u\n", uipc_crc32c(bytes, n));
        } else if (strncmp(arg, "m:", 2) == 0) {
            char *hex;
            long type = strtol(arg + 2, &hex, 10);
            if (*hex != ':') {
                fprintf(stderr, "bad message argument '%s'\n", arg);
                return 2;
            }
            size_t n = parse_hex(hex + 1, bytes, sizeof bytes);
            int32_t length = (int32_t)(UIPC_RECORD_HEADER_SIZE + n + UIPC_CHECKSUM_SIZE);
            printf("%u\n", uipc_message_crc32c(length, (int32_t)type, bytes, n));
        } else {
            fprintf(stderr, "unknown argument '%s'\n", arg);
            return 2;
        }
    }
    return 0;
}
