/* tablecodec.h: where SQL data lives in the key space (DESIGN.md "Storage
 * mapping"). Integers in keys are 8 bytes big-endian with the sign bit
 * flipped, so keys sort as the numbers do.
 *
 *   row          't' tableID(8) '_' 'r' handle(8)            -> row form (codec.h)
 *   index entry  't' tableID(8) '_' 'i' indexID(8) values    -> see below
 *   catalog      'm' ...                                      (catalog.c)
 *
 * values: each key column in key form (sql__key_append). A unique index
 * whose key columns are all non-NULL maps the key to the handle (8 bytes,
 * the value); otherwise (non-unique, or a NULL part) the handle is
 * appended to the key (8 bytes) and the value is "0".
 */
#ifndef SQL_TABLECODEC_H
#define SQL_TABLECODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SQL_TC_PREFIX_LEN 11 /* 't' tableID '_' 'r'|'i' */
#define SQL_TC_ROW_KEY_LEN 19
#define SQL_TC_INDEX_PREFIX_LEN 19

/* Sign-flipped big-endian int64 into out[0..8). */
void sql__tc_put_i64(uint8_t *out, int64_t v);
int64_t sql__tc_get_i64(const uint8_t *in);

/* 't' tid '_' kind (kind 'r' rows, 'i' indexes). */
void sql__tc_prefix(uint8_t out[SQL_TC_PREFIX_LEN], int64_t table_id,
                    char kind);
void sql__tc_row_key(uint8_t out[SQL_TC_ROW_KEY_LEN], int64_t table_id,
                     int64_t handle);
/* The handle of a row key of table_id; false when k is not one. */
bool sql__tc_row_handle(const uint8_t *k, size_t n, int64_t table_id,
                        int64_t *handle);
void sql__tc_index_prefix(uint8_t out[SQL_TC_INDEX_PREFIX_LEN],
                          int64_t table_id, int64_t index_id);

/* The key just after every key starting with p[0..n) (p incremented as a
 * big number; n bytes into out). False when p is all 0xFF. */
bool sql__tc_prefix_next(const uint8_t *p, size_t n, uint8_t *out);

#endif /* SQL_TABLECODEC_H */
