/* fuzz_stats.c: libFuzzer target for the statistics record decoder
 * (stats.c): any input decodes or answers SQL_EPROTO without reading out
 * of bounds; what decodes re-encodes to the same bytes, and the estimates
 * over it stay within [0, 1]. DESIGN.md "Statistics".
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "stats.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sql_tstats *st;
    if (sql__stats_decode(data, size, &st) != 0)
        return 0;
    struct sql__buf b = {0};
    if (sql__stats_encode(st, &b) != 0 || b.len != size ||
        memcmp(b.p, data, size) != 0)
        abort();
    sql__buf_free(&b);
    const uint8_t k[3] = {1, 2, 3};
    for (uint32_t i = 0; i < st->ncols; i++) {
        const struct sql_colstats *c = &st->cols[i];
        double e[4] = {sql__stats_sel_null(st, c),
                       sql__stats_sel_eq(st, c, k, sizeof(k)),
                       sql__stats_sel_range(st, c, k, 1, true, k, 3, false),
                       sql__stats_sel_range(st, c, NULL, 0, false, k, 2,
                                            true)};
        for (int j = 0; j < 4; j++)
            if (!(e[j] >= 0 && e[j] <= 1))
                abort();
    }
    sql__stats_free(st);
    return 0;
}
