/* fuzz_codec.c: libFuzzer target for the row and key decoders (codec.c):
 * any input must decode or answer SQL_EPROTO without reading out of
 * bounds; what decodes re-encodes to the same bytes (row form) or decodes
 * again from its own encoding (key form). DESIGN.md, "Storage mapping:
 * codecs".
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct sql_ftype types[] = {
    {.tp = SQL_TYPE_LONGLONG, .coll = SQL_COLL_BINARY},
    {.tp = SQL_TYPE_LONGLONG, .flags = SQL_COLFLAG_UNSIGNED,
     .coll = SQL_COLL_BINARY},
    {.tp = SQL_TYPE_DOUBLE, .dec = -1, .coll = SQL_COLL_BINARY},
    {.tp = SQL_TYPE_NEWDECIMAL, .len = 20, .dec = 4,
     .coll = SQL_COLL_BINARY},
    {.tp = SQL_TYPE_VARCHAR, .coll = SQL_COLL_UTF8MB4_BIN},
    {.tp = SQL_TYPE_VARCHAR, .coll = SQL_COLL_UTF8MB4_GENERAL_CI},
    {.tp = SQL_TYPE_BLOB, .coll = SQL_COLL_BINARY},
    {.tp = SQL_TYPE_DATETIME, .dec = 6, .coll = SQL_COLL_BINARY},
    {.tp = SQL_TYPE_DATE, .coll = SQL_COLL_BINARY},
    {.tp = SQL_TYPE_TIME, .dec = 3, .coll = SQL_COLL_BINARY},
};
#define NTYPES (sizeof types / sizeof types[0])

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sql_arena *a = sql__arena_create(0);
    if (a == NULL)
        return 0;
    /* Row form: ask for ids 0..7. */
    uint32_t ids[8] = {0, 1, 2, 3, 4, 5, 6, 7};
    struct sql_datum out[8];
    bool found[8];
    if (sql__row_decode(data, size, ids, 8, out, found, a) == 0) {
        struct sql_rowcol cols[8];
        size_t n = 0;
        for (size_t i = 0; i < 8; i++)
            if (found[i]) {
                cols[n].id = ids[i];
                cols[n].d = out[i];
                n++;
            }
        struct sql__buf b = {0};
        if (sql__row_encode(&b, cols, n) != 0)
            abort();
        sql__buf_free(&b);
    }
    /* Key form: the first byte picks the column type. */
    if (size > 0) {
        const struct sql_ftype *t = &types[data[0] % NTYPES];
        size_t off = 1;
        while (off < size) {
            struct sql_datum d;
            size_t before = off;
            if (sql__key_decode(data, size, &off, t, a, &d) != 0)
                break;
            if (off <= before)
                abort();
            struct sql__buf k = {0};
            if (sql__key_append(&k, &d, t) != 0)
                abort();
            size_t o2 = 0;
            struct sql_datum d2;
            if (sql__key_decode(k.p, k.len, &o2, t, a, &d2) != 0 ||
                o2 != k.len)
                abort();
            sql__buf_free(&k);
        }
    }
    sql__arena_destroy(a);
    return 0;
}
