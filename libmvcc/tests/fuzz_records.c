/* fuzz_records.c: libFuzzer target for every libmvcc decoder: the
 * memcomparable key, lock and write records, serialized write batches. A decode must never read out
 * of bounds, and whatever decodes must re-encode to the same bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* Copy to an exact-size heap buffer so ASan sees any overread. */
    uint8_t *p = malloc(size ? size : 1);
    if (p == NULL)
        return 0;
    if (size)
        memcpy(p, data, size);

    uint8_t *out = malloc(size + 1);
    size_t ol, used;
    if (out && mvcc_key_decode(p, size, out, &ol, &used) == 0) {
        uint8_t *re = malloc(mvcc_key_encoded_len(ol));
        if (re) {
            size_t n = mvcc_key_encode(out, ol, re);
            if (n != used || memcmp(re, p, n) != 0)
                abort();
            free(re);
        }
    }
    free(out);

    struct mvcc__lock l;
    if (mvcc__lock_decode(p, size, &l) == 0) {
        struct mvcc__buf b = {0};
        for (size_t i = 0; i < l.nsecs; i++) {
            const uint8_t *k;
            size_t kl;
            mvcc__lock_secondary(&l, i, &k, &kl);
            if (k < p || k + kl > p + size)
                abort();
        }
        if (mvcc__lock_encode(&b, &l, NULL, 0) == 0 &&
            (b.len != size || memcmp(b.data, p, size) != 0))
            abort();
        mvcc__buf_free(&b);
    }
    struct mvcc__write w;
    if (mvcc__write_decode(p, size, &w) == 0) {
        struct mvcc__buf b = {0};
        if (mvcc__write_encode(&b, &w) == 0 &&
            (b.len != size || memcmp(b.data, p, size) != 0))
            abort();
        mvcc__buf_free(&b);
    }
    struct mvcc_wbatch *b;
    if (mvcc_wbatch_create(&b) == 0) {
        if (mvcc_wbatch_decode(b, p, size) == 0) {
            uint8_t *enc;
            size_t el;
            if (mvcc_wbatch_encode(b, &enc, &el) == 0) {
                if (el != size || memcmp(enc, p, size) != 0)
                    abort();
                mvcc_free(enc);
            }
        }
        mvcc_wbatch_destroy(b);
    }
    free(p);
    return 0;
}
