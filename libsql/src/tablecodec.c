/* tablecodec.c: row and index key layout (tablecodec.h, DESIGN.md
 * "Storage mapping").
 */
#include <string.h>

#include "tablecodec.h"

void sql__tc_put_i64(uint8_t *out, int64_t v)
{
    uint64_t u = (uint64_t)v ^ (UINT64_C(1) << 63);
    for (int i = 7; i >= 0; i--) {
        out[i] = (uint8_t)u;
        u >>= 8;
    }
}

int64_t sql__tc_get_i64(const uint8_t *in)
{
    uint64_t u = 0;
    for (int i = 0; i < 8; i++)
        u = u << 8 | in[i];
    return (int64_t)(u ^ (UINT64_C(1) << 63));
}

void sql__tc_prefix(uint8_t out[SQL_TC_PREFIX_LEN], int64_t table_id,
                    char kind)
{
    out[0] = 't';
    sql__tc_put_i64(out + 1, table_id);
    out[9] = '_';
    out[10] = (uint8_t)kind;
}

void sql__tc_row_key(uint8_t out[SQL_TC_ROW_KEY_LEN], int64_t table_id,
                     int64_t handle)
{
    sql__tc_prefix(out, table_id, 'r');
    sql__tc_put_i64(out + SQL_TC_PREFIX_LEN, handle);
}

bool sql__tc_row_handle(const uint8_t *k, size_t n, int64_t table_id,
                        int64_t *handle)
{
    uint8_t p[SQL_TC_PREFIX_LEN];
    sql__tc_prefix(p, table_id, 'r');
    if (n != SQL_TC_ROW_KEY_LEN || memcmp(k, p, sizeof(p)) != 0)
        return false;
    *handle = sql__tc_get_i64(k + SQL_TC_PREFIX_LEN);
    return true;
}

void sql__tc_index_prefix(uint8_t out[SQL_TC_INDEX_PREFIX_LEN],
                          int64_t table_id, int64_t index_id)
{
    sql__tc_prefix(out, table_id, 'i');
    sql__tc_put_i64(out + SQL_TC_PREFIX_LEN, index_id);
}

bool sql__tc_prefix_next(const uint8_t *p, size_t n, uint8_t *out)
{
    memcpy(out, p, n);
    for (size_t i = n; i > 0; i--) {
        if (out[i - 1] != 0xFF) {
            out[i - 1]++;
            return true;
        }
        out[i - 1] = 0;
    }
    return false;
}
