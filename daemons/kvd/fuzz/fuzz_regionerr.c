/* fuzz_regionerr.c: libFuzzer target for kvd_region_err_check (codec.c),
 * the check service.c's fill_region_error makes before it copies a
 * region error into a reply. The input fills a struct region_err (its
 * lengths and counts any value); after the check, what the copy reads is
 * copied into buffers exactly as large as the arrays, so a length the
 * check let through past an array is a heap overflow ASan reports. A
 * region within bounds must be kept. Built by daemons/Makefile as
 * fuzz_kvd_regionerr (with codec.c) and run by `make test` and `make fuzz`.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct region_err e;
    memset(&e, 0, sizeof e);
    if (size < 13)
        return 0;
    /* the first bytes pick has_region and the three lengths; the rest is
     * the message and the keys */
    e.has_region = data[0] & 1;
    uint32_t lens[3];
    memcpy(lens, data + 1, sizeof lens);
    e.region.start_len = lens[0];
    e.region.end_len = lens[1];
    e.region.n_stores = lens[2];
    size_t rest = size - 13;
    memcpy(e.msg, data + 13, rest < sizeof e.msg ? rest : sizeof e.msg);
    size_t kb = rest > sizeof e.msg ? rest - sizeof e.msg : 0;
    memcpy(e.region.start, data + size - kb,
           kb < REGION_MAX_BOUND ? kb : REGION_MAX_BOUND);
    bool in_bounds = lens[0] <= REGION_MAX_BOUND &&
                     lens[1] <= REGION_MAX_BOUND &&
                     lens[2] <= REGION_MAX_PEERS;
    bool kept = kvd_region_err_check(&e);
    if (kept != (in_bounds || !(data[0] & 1)) ||
        e.has_region != ((data[0] & 1) && in_bounds))
        abort();
    char *msg = malloc(sizeof e.msg);
    uint8_t *start = malloc(REGION_MAX_BOUND);
    uint8_t *end = malloc(REGION_MAX_BOUND);
    uint64_t *stores = malloc(REGION_MAX_PEERS * sizeof(uint64_t));
    if (msg == NULL || start == NULL || end == NULL || stores == NULL)
        goto out;
    memcpy(msg, e.msg, strlen(e.msg) + 1); /* what strdup reads */
    if (e.has_region) {
        memcpy(start, e.region.start, e.region.start_len);
        memcpy(end, e.region.end, e.region.end_len);
        memcpy(stores, e.region.stores,
               e.region.n_stores * sizeof(uint64_t));
    }
out:
    free(msg);
    free(start);
    free(end);
    free(stores);
    return 0;
}
