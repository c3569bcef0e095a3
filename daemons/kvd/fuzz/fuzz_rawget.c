/* fuzz_rawget.c: libFuzzer target for kvd's RawGet bytes (codec.c): a
 * request kvd_raw_get_parse takes has its key inside the input and at
 * most 65,535 bytes, and written again canonically (kvd_raw_get_request)
 * it parses to the same context and key; a reply kvd_raw_get_reply writes
 * reads back (kvd_raw_get_reply_parse, the client's reader) as its one
 * field with the value; a value the reader finds in any input lies inside
 * it. Built by daemons/Makefile as fuzz_kvd_rawget
 * (with codec.c) and run by `make test` and `make fuzz`.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct region_ctx c;
    const uint8_t *key;
    size_t kl;
    if (kvd_raw_get_parse(data, size, &c, &key, &kl)) {
        if (kl > 65535 || (kl > 0 && (key < data || key + kl > data + size)))
            abort();
        uint8_t *p = malloc(kl + 64);
        if (p == NULL)
            return 0;
        size_t n = kvd_raw_get_request(p, &c, key, kl);
        struct region_ctx c2;
        const uint8_t *k2;
        size_t kl2;
        if (!kvd_raw_get_parse(p, n, &c2, &k2, &kl2) ||
            c2.region_id != c.region_id || c2.conf_ver != c.conf_ver ||
            c2.version != c.version || kl2 != kl ||
            memcmp(k2, key, kl) != 0)
            abort();
        free(p);
    }
    /* the input as a value: found (first byte even) or not */
    bool found = size > 0 && data[0] % 2 == 0;
    size_t cap = size + 11;
    uint8_t *r = malloc(cap);
    size_t n = 0;
    if (r == NULL)
        return 0;
    if (!kvd_raw_get_reply(r, cap, found, data, size, &n))
        abort();
    if (!found && (n != 2 || r[0] != 0x20 || r[1] != 1))
        abort();
    if (found && size == 0 && n != 0)
        abort();
    if (found && size > 0) {
        size_t pos = 1;
        uint64_t vl = 0;
        for (unsigned sh = 0; pos < n && sh < 70; sh += 7) {
            vl |= (uint64_t)(r[pos] & 0x7f) << sh;
            if (!(r[pos++] & 0x80))
                break;
        }
        if (r[0] != 0x2a || vl != size || pos + size != n ||
            memcmp(r + pos, data, size) != 0)
            abort();
    }
    /* the client reads back what was written */
    const uint8_t *pv;
    size_t pvl;
    if (kvd_raw_get_reply_parse(r, n, &pv, &pvl) != (found ? 1 : 0) ||
        (found && (pvl != size || (size > 0 && memcmp(pv, data, size) != 0))))
        abort();
    /* the input as a reply: a value found lies inside it */
    if (kvd_raw_get_reply_parse(data, size, &pv, &pvl) == 1 && pvl > 0 &&
        (pv < data || pv + pvl != data + size))
        abort();
    /* short of room: refused, nothing written past cap */
    if (found && size > 0 && kvd_raw_get_reply(r, size, found, data, size, &n))
        abort();
    free(r);
    return 0;
}
