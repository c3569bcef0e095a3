/* decimal.h: exact DECIMAL arithmetic on struct sql_dec (value.h): text
 * forms, conversions and the four operations with MySQL's result scales
 * (DESIGN.md, "Values and types"). Rounding is half away from zero.
 */
#ifndef SQL_DECIMAL_H
#define SQL_DECIMAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "value.h"

/* Results of the decimal calls besides 0. */
#define SQL_DEC_TRUNC 1    /* parse: trailing garbage or digits dropped */
#define SQL_DEC_BAD 2      /* parse: no number at all (value 0) */
#define SQL_DEC_OVERFLOW 3 /* more than 65 digits: value clamped */
#define SQL_DEC_DIV0 4     /* division by zero (value 0) */

/* Enough for any sql_dec as text: sign, 81 digits, point, NUL. */
#define SQL_DEC_STR_MAX 96

void sql__dec_zero(struct sql_dec *d);
bool sql__dec_is_zero(const struct sql_dec *d);
void sql__dec_from_i64(struct sql_dec *d, int64_t v);
void sql__dec_from_u64(struct sql_dec *d, uint64_t v);
/* MySQL converts a double through its shortest decimal text. */
int sql__dec_from_double(struct sql_dec *d, double v);
/* Parse s[0..n): leading spaces, sign, digits, point, exponent. *used
 * (may be NULL) gets the bytes that formed the number. Returns 0,
 * SQL_DEC_TRUNC (junk after the number, not counting trailing spaces),
 * SQL_DEC_BAD or SQL_DEC_OVERFLOW. Scale beyond 30 is rounded. */
int sql__dec_parse(const char *s, size_t n, struct sql_dec *d, size_t *used);
/* Text with exactly d->scale fraction digits; returns its length. buf
 * must hold SQL_DEC_STR_MAX bytes. */
size_t sql__dec_print(const struct sql_dec *d, char *buf);
/* Nearest integer (half away from zero); SQL_DEC_OVERFLOW when it does
 * not fit (value clamped). */
int sql__dec_to_i64(const struct sql_dec *d, int64_t *out);
int sql__dec_to_u64(const struct sql_dec *d, uint64_t *out);
double sql__dec_to_double(const struct sql_dec *d);
int sql__dec_cmp(const struct sql_dec *a, const struct sql_dec *b);
/* out may alias an argument. Returns 0 or SQL_DEC_OVERFLOW. */
int sql__dec_add(const struct sql_dec *a, const struct sql_dec *b,
                 struct sql_dec *out);
int sql__dec_sub(const struct sql_dec *a, const struct sql_dec *b,
                 struct sql_dec *out);
int sql__dec_mul(const struct sql_dec *a, const struct sql_dec *b,
                 struct sql_dec *out);
/* a / b with scale a.scale + incr (at most 30), rounded; SQL_DEC_DIV0. */
int sql__dec_div(const struct sql_dec *a, const struct sql_dec *b, int incr,
                 struct sql_dec *out);
/* a MOD b: sign of a, scale max of both; SQL_DEC_DIV0. */
int sql__dec_mod(const struct sql_dec *a, const struct sql_dec *b,
                 struct sql_dec *out);
/* Integer part of a / b (DIV); SQL_DEC_DIV0. */
int sql__dec_intdiv(const struct sql_dec *a, const struct sql_dec *b,
                    struct sql_dec *out);
/* Round (half away from zero) or truncate to scale digits after the point;
 * a negative scale rounds left of the point. The result's scale is
 * max(scale, 0). */
int sql__dec_round(const struct sql_dec *a, int scale, struct sql_dec *out);
int sql__dec_truncate(const struct sql_dec *a, int scale, struct sql_dec *out);
/* FLOOR and CEIL, scale 0. */
int sql__dec_floor(const struct sql_dec *a, struct sql_dec *out);
int sql__dec_ceil(const struct sql_dec *a, struct sql_dec *out);
/* Change the scale without rounding when growing, rounding when shrinking. */
int sql__dec_rescale(const struct sql_dec *a, int scale, struct sql_dec *out);
/* Significant digits left of the point (0 for |a| < 1). */
int sql__dec_int_digits(const struct sql_dec *a);

#endif /* SQL_DECIMAL_H */
