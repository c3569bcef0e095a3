/* value.h: the datum the planner, the executor and the expression
 * evaluator pass around (one SQL value with its runtime class), the
 * static type of a column or an expression (struct sql_ftype), exact
 * decimals, and the error record every internal call fills. The functions
 * over values live in value.c (conversions, comparison with collations,
 * text for the wire), codec.c (row and key encodings) and decimal.c.
 * DESIGN.md, "Values and types", says why each choice was made.
 */
#ifndef SQL_VALUE_H
#define SQL_VALUE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "sql.h"

/* ---- errors ------------------------------------------------------------ */

/* What went wrong, as the client will see it: MySQL's error number,
 * SQLSTATE and message. Internal calls return 0 or SQL_EQUERY (the error
 * is in the record) or -ENOMEM (the record may be empty). */
struct sql_err
{
    uint16_t code;    /* MySQL error number (1064, 1146, ...) */
    char state[6];    /* SQLSTATE, NUL-terminated ("42S02") */
    char msg[512];    /* MySQL's message text */
};

/* Fill err (code, state, printf-style message); returns SQL_EQUERY so a
 * caller can write `return sql__err(err, 1146, "42S02", "...", ...)`. */
int sql__err(struct sql_err *err, uint16_t code, const char *state,
             const char *fmt, ...) __attribute__((format(printf, 4, 5)));
int sql__verr(struct sql_err *err, uint16_t code, const char *state,
              const char *fmt, va_list ap);

/* ---- exact decimals ------------------------------------------------------ */

/* MySQL's DECIMAL(M,D): M <= 65 digits, D <= 30 after the point. */
#define SQL_DEC_MAX_PREC 65
#define SQL_DEC_MAX_SCALE 30
#define SQL_DEC_WORDS 9 /* base-1e9 words: 81 digits, room for a product */

/* value = (neg ? -1 : 1) * N / 10^scale, N = sum w[i] * 1e9^i. Zero is
 * never negative. decimal.c has the arithmetic (exact; rounding half away
 * from zero, as MySQL) and the text forms. */
struct sql_dec
{
    uint32_t w[SQL_DEC_WORDS]; /* N in base 1e9, least significant first */
    uint8_t scale;             /* digits after the point, 0..SQL_DEC_MAX_SCALE */
    bool neg;                  /* negative */
};

/* ---- collations ------------------------------------------------------ */

/* Collation ids as MySQL numbers them (they go on the wire as is). */
#define SQL_COLL_UTF8MB4_GENERAL_CI 45 /* case-insensitive */
#define SQL_COLL_UTF8MB4_BIN 46        /* code point order */
#define SQL_COLL_BINARY 63             /* bytes: BLOB, BINARY, VARBINARY */
#define SQL_COLL_UTF8MB4_0900_AI_CI 255 /* treated as general_ci */

/* ---- values ------------------------------------------------------------- */

/* A datum's runtime class. The static type (sql_ftype) of where it came
 * from says more (INT vs TINYINT, VARCHAR(10) vs TEXT); the class is what
 * the evaluator computes with. */
enum sql_vt
{
    SQL_VT_NULL = 0,  /* SQL NULL */
    SQL_VT_INT,       /* v.i: signed integers (every signed integer type) */
    SQL_VT_UINT,      /* v.u: unsigned integers */
    SQL_VT_DOUBLE,    /* v.d: FLOAT and DOUBLE */
    SQL_VT_DECIMAL,   /* v.dec: exact DECIMAL */
    SQL_VT_STRING,    /* v.s with coll: CHAR, VARCHAR, TEXT, BLOB, ... */
    SQL_VT_DATE,      /* v.t: DATE (time of day zero) */
    SQL_VT_DATETIME,  /* v.t: DATETIME and TIMESTAMP (session time) */
    SQL_VT_TIME,      /* v.t: TIME (hours up to 838, negative allowed) */
    SQL_VT_JSON,      /* v.s: one JSON value in its binary form (json.h) */
};

struct sql_datum
{
    uint8_t vt;    /* enum sql_vt */
    uint8_t fsp;   /* DATETIME/TIME: fractional digits to show (0..6) */
    uint16_t coll; /* SQL_VT_STRING: collation id (SQL_COLL_*) */
    union {
        int64_t i;           /* SQL_VT_INT */
        uint64_t u;          /* SQL_VT_UINT */
        double d;            /* SQL_VT_DOUBLE */
        struct sql_dec dec;  /* SQL_VT_DECIMAL */
        struct {
            const char *p;   /* bytes (not NUL-terminated), owned by
                                whoever made the datum: an arena, a row
                                buffer, the statement text */
            size_t n;        /* their count */
            uint64_t es;     /* fsp SQL_ENUM_TAG / SQL_SET_TAG: the
                                ENUM index / SET bitmask (enumset.c) */
        } s;                 /* SQL_VT_STRING, SQL_VT_JSON */
        struct sql_time t;   /* SQL_VT_DATE, _DATETIME, _TIME (sql.h) */
    } v;                     /* the value, by vt */
};

/* ---- static types -------------------------------------------------------- */

/* The type of a column or of an expression's result: what result-set
 * metadata says and what a stored value is converted to. */
struct sql_ftype
{
    uint8_t tp;           /* enum sql_mysql_type (SQL_TYPE_LONGLONG, ...) */
    uint16_t flags;       /* SQL_COLFLAG_* (NOT_NULL, UNSIGNED, BINARY, ...) */
    uint32_t len;         /* display width / character length (M) */
    int8_t dec;           /* DECIMAL scale, FLOAT/DOUBLE decimals, fsp of
                             DATETIME/TIME; -1 when not fixed */
    uint8_t merge_tp;     /* 0, or the type a UNION merges this column as
                             where it differs from tp (MariaDB's MIN/MAX of
                             a FLOAT expression: shown DOUBLE, merged FLOAT) */
    uint16_t coll;        /* strings: collation id; others SQL_COLL_BINARY */
    const char *const *elems; /* ENUM/SET members (NUL-terminated), or NULL */
    uint16_t nelems;      /* their count */
};

/* The class a static type computes in (SQL_TYPE_LONG -> SQL_VT_INT or
 * SQL_VT_UINT by the UNSIGNED flag, SQL_TYPE_VARCHAR -> SQL_VT_STRING ...). */
int sql__ftype_vt(const struct sql_ftype *t);

/* Compare two non-NULL datums with MySQL's rules for mixed classes
 * (numbers numerically, strings by coll, a string against a number as
 * numbers, temporal against string by parsing); *out = -1, 0 or 1.
 * Returns 0, or SQL_EQUERY for values that cannot be compared. */
int sql__datum_cmp(const struct sql_datum *a, const struct sql_datum *b,
                   uint16_t coll, int *out, struct sql_err *err);

/* The text MySQL's text protocol sends for d (numbers printed as MySQL
 * prints them: DOUBLE with %.17g-shortest, DECIMAL with its scale,
 * DATETIME with fsp digits). The bytes go in a. */
int sql__datum_text(const struct sql_datum *d, const struct sql_ftype *t,
                    struct sql_arena *a, const char **out, size_t *len);

/* The protocol engine's value for d (sql_reply_row), by type t. */
int sql__datum_to_value(const struct sql_datum *d, const struct sql_ftype *t,
                        struct sql_arena *a, struct sql_value *out);

/* ---- ENUM and SET (enumset.c) ------------------------------------------- */

/* sql_datum.fsp of a string read from an ENUM / SET column: v.s.es holds
 * its index / bitmask (numeric context, ORDER BY). */
#define SQL_ENUM_TAG 0xE1
#define SQL_SET_TAG 0x5E

/* True for an ENUM or SET type with its members. */
bool sql__type_is_enumset(const struct sql_ftype *t);
/* The 0-based member of t equal to p[0..n) (trailing spaces ignored,
 * under t's collation), or -1. */
int sql__enumset_member(const struct sql_ftype *t, const char *p, size_t n);
/* The text of stored value v (ENUM index / SET mask); SET text goes in a. */
int sql__enumset_text(const struct sql_ftype *t, uint64_t v,
                      struct sql_arena *a, const char **p, size_t *n);
/* A stored value (UINT) of column type t made the tagged member text;
 * other datums and types are left alone. */
int sql__enumset_datum(const struct sql_ftype *t, struct sql_datum *d,
                       struct sql_arena *a);
/* The number of a tagged ENUM/SET string (false when d is not one). */
bool sql__enumset_number(const struct sql_datum *d, uint64_t *out);
/* The stored number d stands for in column type t (index keys): a
 * number as is, a member's text its index / mask, UINT64_MAX for text
 * naming no member. */
uint64_t sql__enumset_key(const struct sql_ftype *t,
                          const struct sql_datum *d);

/* ---- collations (collation.c) -------------------------------------------- */

/* Decode one UTF-8 character of s[0..n) (n > 0): its code point in *cp and
 * the bytes it takes; a malformed byte decodes as itself, length 1. */
size_t sql__utf8_decode(const char *s, size_t n, uint32_t *cp);
/* Encode code point cp as UTF-8 into buf (4 bytes); returns the length. */
size_t sql__utf8_encode(uint32_t cp, char *buf);
/* Simple case mappings (ASCII, Latin-1, Latin Extended-A, Greek,
 * Cyrillic); other code points map to themselves. */
uint32_t sql__cp_upper(uint32_t cp);
uint32_t sql__cp_lower(uint32_t cp);
/* Characters in s[0..n) under coll (bytes for SQL_COLL_BINARY). */
size_t sql__str_charlen(uint16_t coll, const char *s, size_t n);
/* Byte offset of the first k characters (n when fewer). */
size_t sql__str_charpos(uint16_t coll, const char *s, size_t n, size_t k);
/* True for the case-insensitive collations (general_ci, 0900_ai_ci). */
bool sql__coll_is_ci(uint16_t coll);
/* The sort weight of code point cp under a ci collation (its upper-case
 * base letter); the code point itself under the others. */
uint32_t sql__coll_weight(uint16_t coll, uint32_t cp);
/* Compare strings under coll: binary is memcmp (no padding); the utf8mb4
 * collations ignore trailing spaces (PAD SPACE) and compare weights.
 * Returns <0, 0, >0. */
int sql__coll_cmp(uint16_t coll, const char *a, size_t an, const char *b,
                  size_t bn);
/* A collation id for a name ("utf8mb4_bin", "binary", ...), or 0. */
uint16_t sql__coll_by_name(const char *name);
/* The name of a collation id ("utf8mb4_general_ci"). */
const char *sql__coll_name(uint16_t coll);

/* ---- value helpers (value.c) ---------------------------------------------- */

/* Text of a double as MySQL prints it: the shortest digits that read back
 * (FLOAT: 6 significant digits), exponent form below 1e-15 and from 1e15
 * (MariaDB's CONCAT/CAST AS CHAR; the wire's format_double_plain too).
 * buf holds 32 bytes; returns the length. */
size_t sql__double_text(double v, bool is_float, char *buf);
/* Text of a double with dec (0..30) fixed decimals as MariaDB shows one
 * (the wire, CAST AS CHAR): "%.*f" below 1e15, from there the shortest
 * digits that read back, then zeros (ROUND(1e30) is 1 and 30 zeros).
 * buf holds cap bytes (400 hold any double); returns the length. */
size_t sql__double_fixed_text(double d, int dec, char *buf, size_t cap);
/* The longest numeric prefix of s[0..n) (after leading spaces): its length
 * and the value as a double; *clean is true when nothing but trailing
 * spaces follows it. */
size_t sql__str_to_double(const char *s, size_t n, double *out, bool *clean);
/* A datum holding NULL / an integer / ... (small constructors). */
void sql__datum_null(struct sql_datum *d);
void sql__datum_int(struct sql_datum *d, int64_t v);
void sql__datum_uint(struct sql_datum *d, uint64_t v);
void sql__datum_double(struct sql_datum *d, double v);
void sql__datum_str(struct sql_datum *d, const char *p, size_t n,
                    uint16_t coll);
/* True for SQL_TYPE_* whose class is an integer / a string. */
bool sql__type_is_int(uint8_t tp);
bool sql__type_is_string(uint8_t tp);

#endif /* SQL_VALUE_H */
