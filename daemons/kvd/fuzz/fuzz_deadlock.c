/* fuzz_deadlock.c: libFuzzer target for the DeadlockDetect bytes (codec.c):
 * a request kvd_dl_parse takes, written again canonically, parses to the
 * same fields; a reply kvd_dl_reply writes from the input's values fits
 * KVD_DL_REPLY_MAX and reads back (as a request's first two fields share
 * its tags) to the same result and host. Built by daemons/Makefile as
 * fuzz_kvd_deadlock (with codec.c) and run by `make test` and `make fuzz`.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kvd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The canonical request: each field once, in order, zeros left out. */
static size_t request(uint8_t *p, const struct kvd_dl_msg *m)
{
    const uint64_t v[4] = {m->op, m->waiter, m->holder, m->key_hash};
    size_t n = 0;
    for (unsigned i = 0; i < 4; i++)
        if (v[i] != 0) {
            p[n++] = (uint8_t)((i + 1) << 3);
            n += kvd_put_varint(p + n, v[i]);
        }
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct kvd_dl_msg m, m2;
    if (kvd_dl_parse(data, size, &m)) {
        uint8_t p[48];
        size_t n = request(p, &m);
        if (!kvd_dl_parse(p, n, &m2) || memcmp(&m, &m2, sizeof m) != 0)
            abort();
    }
    uint64_t x[2] = {0, 0};
    memcpy(x, data, size < sizeof x ? size : sizeof x);
    uint8_t r[KVD_DL_REPLY_MAX + 8];
    memset(r, 0xAA, sizeof r);
    size_t n = kvd_dl_reply(r, (uint32_t)x[0], x[1]);
    if (n > KVD_DL_REPLY_MAX || r[KVD_DL_REPLY_MAX] != 0xAA)
        abort();
    if (!kvd_dl_parse(r, n, &m2) || m2.op != (uint32_t)x[0] ||
        m2.waiter != x[1] || m2.holder != 0 || m2.key_hash != 0)
        abort();
    return 0;
}
