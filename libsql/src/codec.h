/* codec.h: how datums become bytes in the key-value store. Two forms:
 *  - key form (memcomparable): bytes compare as the values do under the
 *    column's type and collation, so index entries and handles sort in
 *    value order; NULL sorts first. Used in index keys.
 *  - row form: a row's non-handle columns, self-describing per column
 *    (column id + class + payload), so ALTER TABLE ADD/DROP COLUMN needs
 *    no rewrite: a missing column reads as its default.
 * The byte tables are in DESIGN.md, "Storage mapping". Every decoder
 * checks bounds and answers SQL_EPROTO on malformed input (fuzzed).
 */
#ifndef SQL_CODEC_H
#define SQL_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "value.h"
#include "wire.h"

/* Append d's key form, as a value of a column of type t, to b. A string
 * under a case-insensitive collation encodes its sort weights (so 'a' and
 * 'A' give equal keys); unique indexes compare keys, so that is MySQL's
 * uniqueness. Returns 0 or -ENOMEM. */
int sql__key_append(struct sql__buf *b, const struct sql_datum *d,
                    const struct sql_ftype *t);

/* Decode one key-form datum of type t at in[*off..len), advancing *off.
 * Only exact for collations whose key is the value itself (binary, bin);
 * callers needing a ci string value read it from the row. */
int sql__key_decode(const uint8_t *in, size_t len, size_t *off,
                    const struct sql_ftype *t, struct sql_arena *a,
                    struct sql_datum *out);

/* One column of a row in row form. */
struct sql_rowcol
{
    uint32_t id;           /* the column's id (stable across ALTER) */
    struct sql_datum d;    /* its value */
};

/* Encode n columns into b (row form). */
int sql__row_encode(struct sql__buf *b, const struct sql_rowcol *cols,
                    size_t n);

/* Decode a row: for each wanted column id ids[i] put its value in out[i]
 * and set found[i] (false: the row predates the column). Strings point
 * into in (or a when copied). Returns 0 or SQL_EPROTO. */
int sql__row_decode(const uint8_t *in, size_t len, const uint32_t *ids,
                    size_t n, struct sql_datum *out, bool *found,
                    struct sql_arena *a);

#endif /* SQL_CODEC_H */
