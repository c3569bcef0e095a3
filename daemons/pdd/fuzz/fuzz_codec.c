/* fuzz_codec.c: libFuzzer target for pdd's byte formats (codec.c): the
 * Raft-log snapshot header (what decodes re-encodes to the same bytes),
 * the member records (MEMBER_PUT and a snapshot's member section: what
 * decodes re-encodes to the same bytes), and log entries (the HTTP
 * request line is common/http_parse.c's, fuzzed by tests/fuzz_http.c).
 * Built by daemons/Makefile as fuzz_pdd_codec (with codec.c) and run by
 * `make test` and `make fuzz`.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pdd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const uint8_t *d = data + 1;
    size_t n = size - 1;
    switch (data[0] % 4) {
    case 2: {
        struct pdd_member m;
        if (pdd_member_put_decode(d, n, &m) != 0)
            break;
        uint8_t buf[PDD_MEMBER_MAX];
        size_t k = pdd_member_put_encode(&m, buf);
        if (k != n || memcmp(buf, d, n) != 0)
            abort();
        break;
    }
    case 3: {
        struct pdd_members t;
        bool has = false;
        size_t used = 0;
        if (pdd_members_decode(d, n, &t, &has, &used) != 0 || !has)
            break;
        uint8_t *out = NULL;
        size_t len = 0;
        if (used > n || pdd_members_encode(&t, &out, &len) != 0)
            abort();
        if (len != used || memcmp(out, d, used) != 0)
            abort();
        free(out);
        break;
    }
    case 0: {
        struct raft_snapshot_meta m;
        size_t used = 0;
        if (pdd_log_meta_decode(d, n, &m, &used) != 0)
            break;
        if (used > n || used > PDD_META_MAX)
            abort();
        uint8_t buf[PDD_META_MAX];
        size_t k = pdd_log_meta_encode(&m, buf);
        if (k != used)
            abort();
        /* Byte 20 (auto_leave) is normalized to 0/1; the rest is exact. */
        for (size_t i = 0; i < k; i++)
            if (i == 20 ? (buf[i] != 0) != (d[i] != 0) : buf[i] != d[i])
                abort();
        break;
    }
    default: {
        if (n < 9)
            break;
        struct raft_entry e;
        if (pdd_log_entry_decode(d, 9, d + 9, n - 9, &e) != 0)
            break;
        if (e.len != n - 9 - 12 || e.index == 0 || e.term == 0 ||
            (e.len && e.data != d + 9 + 12))
            abort();
        break;
    }
    }
    return 0;
}
