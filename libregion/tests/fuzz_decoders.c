/* fuzz_decoders.c: libFuzzer target for every libregion decoder: the
 * message batch (region_msgs_check, then each message), the command entry,
 * the region state record and kv.Forward's request (region_forward_parse:
 * its request lies inside the input, and written again with
 * region_forward_header it reads back the same). The first byte picks the
 * decoder; what decodes must re-encode to the same bytes. A first byte
 * 'S' picks a snapshot stream as a receiver checks it on arrival
 * (region__snap_stream_check; then a region id byte and a chunk size
 * byte): the verdict must not depend on where the chunks cut it, and
 * nothing may stay held after.
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
    if (data[0] == 'S') {
        if (n < 2)
            return 0;
        static struct region_store s; /* its memory count only */
        uint64_t region = 1 + p[0] % 4;
        size_t cut = 1 + (size_t)p[1];
        const char *a =
            region__snap_stream_check(&s, region, p + 2, n - 2, cut);
        const char *w = region__snap_stream_check(&s, region, p + 2, n - 2,
                                                  n - 2 > 0 ? n - 2 : 1);
        if ((a == NULL) != (w == NULL) || s.stats.snap_mem != 0)
            abort();
        return 0;
    }
    switch (data[0] % 4) {
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
    case 3: {
        uint64_t st, st2;
        uint32_t m, m2;
        const uint8_t *rq, *rq2;
        size_t rl, rl2;
        if (!region_forward_parse(p, n, &st, &m, &rq, &rl))
            break;
        if (st == 0 || m == 0 || rq < p || rq + rl > p + n)
            abort();
        uint8_t *b = malloc(REGION_FORWARD_HEADER_MAX + rl + 1);
        if (b == NULL)
            break;
        size_t h = region_forward_header(b, st, m, rl);
        if (h > REGION_FORWARD_HEADER_MAX)
            abort();
        if (rl)
            memcpy(b + h, rq, rl);
        if (!region_forward_parse(b, h + rl, &st2, &m2, &rq2, &rl2) ||
            st2 != st || m2 != m || rl2 != rl || rq2 != b + h ||
            (rl && memcmp(rq2, rq, rl) != 0))
            abort();
        free(b);
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
