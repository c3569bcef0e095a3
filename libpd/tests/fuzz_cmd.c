/* fuzz_cmd.c: libFuzzer target for the command decoder and pd_apply. The
 * input is a sequence of commands, each prefixed by a 2-byte big-endian
 * length. Each decodes to PD_EDECODE or to a command that re-encodes to the
 * same bytes; every command is then applied to one fresh replica, which
 * must never crash, leak or break the region map's invariants.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pd.h"
#include "pd_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int drop(void *ctx, const uint8_t *cmd, size_t len)
{
    (void)ctx;
    (void)cmd;
    (void)len;
    return 0;
}

static void check_map(const struct pd *pd)
{
    for (size_t i = 0; i < pd->n_regions; i++) {
        const struct pd__region *r = pd->by_key[i];
        if (pd__region_find(pd, r->id) != r)
            abort();
        if (i + 1 < pd->n_regions) {
            const struct pd__region *n = pd->by_key[i + 1];
            /* Sorted and not overlapping: r ends at or before n starts. */
            if (r->end_len == 0 ||
                pd__keycmp(r->end, r->end_len, n->start, n->start_len) > 0)
                abort();
        }
        if (i > 0 && pd->by_id[i - 1]->id >= pd->by_id[i]->id)
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct pd_storage st = {NULL, drop};
    struct pd *pd;
    if (pd_create(NULL, &st, &pd) != 0)
        return 0;
    size_t off = 0;
    while (off + 2 <= size) {
        size_t len = (size_t)data[off] << 8 | data[off + 1];
        off += 2;
        if (len > size - off)
            len = size - off;
        const uint8_t *cmd = data + off;
        off += len;
        struct pd__cmd c;
        if (pd__cmd_decode(cmd, len, &c) == 0) {
            struct pd__buf b = {0};
            pd__cmd_encode(&c, &b);
            if (b.err == 0 && (b.n != len || memcmp(b.p, cmd, len) != 0))
                abort(); /* decoding is canonical */
            pd__buf_free(&b);
        }
        (void)pd_apply(pd, cmd, len);
        check_map(pd);
    }
    pd_destroy(pd);
    return 0;
}
