/* fuzz_rawget.c: libFuzzer target for kvd's RawGet and RawPut bytes
 * (codec.c): a request kvd_raw_get_parse takes has its key inside the
 * input and at most 65,535 bytes, and written again canonically
 * (kvd_raw_get_request) it parses to the same context and key; one
 * kvd_raw_put_parse takes has its key and value inside the input, and
 * every RawGet it also takes, alike, with no value; a reply
 * kvd_raw_get_reply writes reads back (kvd_raw_get_reply_parse, the
 * client's reader) as its one field with the value; a value the reader
 * finds in any input lies inside it. Built by daemons/Makefile as
 * fuzz_kvd_rawget
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
    /* a RawPut: key and value inside the input; a RawGet's shape is a
     * RawPut's with no value, read alike */
    const uint8_t *val;
    size_t pvl;
    struct region_ctx cp;
    const uint8_t *kp;
    size_t klp;
    bool put = kvd_raw_put_parse(data, size, &cp, &kp, &klp, &val, &pvl);
    if (put && (klp > 65535 ||
                (klp > 0 && (kp < data || kp + klp > data + size)) ||
                (pvl > 0 && (val < data || val + pvl > data + size))))
        abort();
    if (kvd_raw_get_parse(data, size, &c, &key, &kl) &&
        (!put || pvl != 0 || cp.region_id != c.region_id ||
         cp.conf_ver != c.conf_ver || cp.version != c.version || klp != kl ||
         kp != key))
        abort();
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
    size_t rvl;
    if (kvd_raw_get_reply_parse(r, n, &pv, &rvl) != (found ? 1 : 0) ||
        (found && (rvl != size || (size > 0 && memcmp(pv, data, size) != 0))))
        abort();
    /* the input as a reply: a value found lies inside it */
    if (kvd_raw_get_reply_parse(data, size, &pv, &rvl) == 1 && rvl > 0 &&
        (pv < data || pv + rvl != data + size))
        abort();
    /* short of room: refused, nothing written past cap */
    if (found && size > 0 && kvd_raw_get_reply(r, size, found, data, size, &n))
        abort();
    free(r);
    return 0;
}
