/* fuzz_decoders.c: libFuzzer target for every libregion decoder: the
 * message batch (region_msgs_check, then each message), the command entry
 * and the region state record. The first byte picks the decoder; what
 * decodes must re-encode to the same bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "region_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const uint8_t *p = data + 1;
    size_t n = size - 1;
    switch (data[0] % 3) {
    case 0: {
        uint64_t from;
        size_t cnt;
        if (region_msgs_check(p, n, &from, &cnt) != 0)
            break;
        size_t off = 0, seen = 0;
        struct region_wire_msg m;
        while (region__msgs_next(p, n, &off, &m) == 0) {
            struct raft_message *rm = NULL;
            if (raft_msg_decode(m.raft, m.raft_len, &rm) == 0)
                raft_msg_free(rm);
            seen++;
        }
        if (seen != cnt)
            abort();
        break;
    }
    case 1: {
        struct region_cmd c;
        if (region__cmd_decode(p, n, &c) != 0)
            break;
        struct region_buf b = {0};
        if (region__cmd_encode(&b, &c) == 0 &&
            (b.len != n || memcmp(b.data, p, n) != 0))
            abort();
        region__buf_free(&b);
        break;
    }
    default: {
        struct region_desc d;
        uint8_t state;
        if (region__decode_desc(p, n, &d, &state) != 0)
            break;
        struct region_buf b = {0};
        if (region__encode_desc(&b, &d, state) == 0 &&
            (b.len != n || memcmp(b.data, p, n) != 0))
            abort();
        region__buf_free(&b);
        break;
    }
    }
    return 0;
}
