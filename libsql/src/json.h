/* json.h: the JSON value class (SQL_VT_JSON): its binary form (the byte
 * table is in json.c and DESIGN.md, "JSON"), the text parser and printer,
 * MySQL's JSON comparison, paths ($.a[1].*, **) and the tree the
 * modifying functions (func_json.c) build. DESIGN.md, "Values and types".
 */
#ifndef SQL_JSON_H
#define SQL_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "value.h"

/* Tags of the binary form (the first byte of every value). */
enum sql_json_tag
{
    SQL_JSON_NULL = 0x00,   /* no body */
    SQL_JSON_FALSE = 0x01,  /* no body */
    SQL_JSON_TRUE = 0x02,   /* no body */
    SQL_JSON_INT = 0x03,    /* 8 bytes LE, two's complement */
    SQL_JSON_UINT = 0x04,   /* 8 bytes LE (above INT64_MAX only) */
    SQL_JSON_DOUBLE = 0x05, /* 8 bytes LE IEEE-754, finite */
    SQL_JSON_DECIMAL = 0x06, /* u8 length, decimal text ("-1.50") */
    SQL_JSON_STRING = 0x07, /* u32 LE length, UTF-8 bytes */
    SQL_JSON_ARRAY = 0x08,  /* u32 count, u32 size, count x u32 offset,
                               elements */
    SQL_JSON_OBJECT = 0x09, /* u32 count, u32 size, count x (u32 key
                               offset, u32 key length), count x u32 value
                               offset, keys, values */
    SQL_JSON_RAW = 0x7F,    /* tree only: v.s holds an encoded value */
};

/* Deepest nesting MySQL accepts (3157 beyond it). */
#define SQL_JSON_MAX_DEPTH 100

/* A node of a document being built or modified (arena-allocated). A
 * subtree not yet looked into stays SQL_JSON_RAW: its encoded bytes. */
struct sql_json_member;
struct sql_json
{
    uint8_t tag;   /* enum sql_json_tag */
    uint32_t n;    /* ARRAY/OBJECT: members */
    union {
        int64_t i;                    /* INT */
        uint64_t u;                   /* UINT */
        double d;                     /* DOUBLE */
        struct {
            const char *p;            /* bytes (borrowed or arena) */
            size_t n;                 /* their count */
        } s;                          /* STRING, DECIMAL text, RAW */
        struct sql_json **a;          /* ARRAY: items */
        struct sql_json_member *m;    /* OBJECT: members, keys sorted */
    } v;                              /* by tag */
};

struct sql_json_member
{
    const char *k;         /* key bytes */
    size_t kn;             /* their count */
    struct sql_json *val;  /* value */
};

/* Where a text parse failed: rapidjson's message, as MySQL quotes it,
 * and the byte offset. */
struct sql_json_perr
{
    const char *msg;  /* "Invalid value." ... */
    size_t pos;       /* byte offset in the text */
};

/* ---- binary form ------------------------------------------------------ */

/* Check that b[0..n) is exactly one well-formed value (every offset and
 * length in bounds, members contiguous, keys sorted and unique, depth at
 * most SQL_JSON_MAX_DEPTH). The accessors below trust what passed. */
bool sql__json_valid_bin(const uint8_t *b, size_t n);
/* True when p[0..n) is well-formed UTF-8 (what JSON strings hold). */
bool sql__json_utf8(const char *p, size_t n);
/* Bytes of the value starting at b (validated). */
size_t sql__json_bin_len(const uint8_t *b);
/* Members of a container value (0 for scalars). */
uint32_t sql__json_bin_count(const uint8_t *b);
/* Item i of an array / value i of an object. */
const uint8_t *sql__json_bin_item(const uint8_t *b, uint32_t i);
/* Key i of an object. */
const char *sql__json_bin_key(const uint8_t *b, uint32_t i, size_t *kn);
/* MySQL's comparison of two JSON values: *out -1, 0, 1. */
int sql__json_bin_cmp(const uint8_t *a, const uint8_t *b);

/* ---- text ------------------------------------------------------------------ */

/* Parse JSON text into a tree in a. 0; SQL_EQUERY with *pe filled
 * (invalid text, or depth beyond the limit: pe->msg NULL); -ENOMEM. */
int sql__json_parse(const char *s, size_t n, struct sql_arena *a,
                    struct sql_json **out, struct sql_json_perr *pe);
/* MySQL's text of an encoded value (`{"a": 1, "b": [1, 2]}`), in a. */
int sql__json_print(const uint8_t *b, struct sql_arena *a, const char **out,
                    size_t *n);
/* The same, or JSON_PRETTY's form (pretty: a member per line, two spaces
 * per level). */
int sql__json_print_ex(const uint8_t *b, bool pretty, struct sql_arena *a,
                       const char **out, size_t *n);

/* ---- trees ------------------------------------------------------------- */

/* Encode a tree into a: *out, *n. */
int sql__json_encode(const struct sql_json *j, struct sql_arena *a,
                     const uint8_t **out, size_t *n);
/* A node over encoded bytes (RAW), and opening one: a RAW container
 * becomes ARRAY/OBJECT with RAW members, a RAW scalar its scalar node. */
struct sql_json *sql__json_raw(struct sql_arena *a, const uint8_t *b);
int sql__json_open(struct sql_json *j, struct sql_arena *a);
/* Room for item n of an arena array *arrp (a pointer to the array
 * pointer) of *cap items of size bytes: doubles it when full. */
int sql__json_grow(struct sql_arena *a, void *arrp, size_t *cap, size_t n,
                   size_t size);
/* Scalar nodes. */
struct sql_json *sql__json_new(struct sql_arena *a, uint8_t tag);
struct sql_json *sql__json_str(struct sql_arena *a, const char *p, size_t n);
/* Sort an object's members by key (length, then bytes, as MySQL) and
 * keep the last of duplicate keys. */
void sql__json_normalize(struct sql_json *obj);

/* ---- datums ------------------------------------------------------------------ */

/* The JSON value of a SQL datum: JSON as is; a string as a JSON string;
 * numbers as numbers; temporals as their text; NULL as JSON null. */
int sql__json_from_datum(const struct sql_datum *d, struct sql_arena *a,
                         struct sql_json **out);
/* The plain SQL value of a JSON datum for numeric and string contexts:
 * numbers as numbers, true/false as 1/0, a string as its characters
 * (utf8mb4_bin), other values as their text (needs a; "" without). */
int sql__json_scalar(const struct sql_datum *d, struct sql_arena *a,
                     struct sql_datum *out);
/* Compare two datums of which one is JSON (the other made JSON). */
int sql__json_cmp_datum(const struct sql_datum *a, const struct sql_datum *b,
                        int *out);
/* A JSON datum over bytes. */
void sql__datum_json(struct sql_datum *d, const uint8_t *b, size_t n);

/* ---- paths ------------------------------------------------------------------ */

enum sql_json_leg_kind
{
    SQL_JSON_LEG_KEY,     /* .key */
    SQL_JSON_LEG_KEY_ANY, /* .* */
    SQL_JSON_LEG_IDX,     /* [n], [last-n] */
    SQL_JSON_LEG_IDX_ANY, /* [*] */
    SQL_JSON_LEG_RANGE,   /* [m to n] */
    SQL_JSON_LEG_DESC,    /* ** */
};

struct sql_json_leg
{
    uint8_t kind;      /* enum sql_json_leg_kind */
    bool last0;        /* IDX/RANGE: idx counts back from last */
    bool last1;        /* RANGE: idx2 counts back from last */
    uint32_t idx;      /* IDX/RANGE: index (or distance from last) */
    uint32_t idx2;     /* RANGE: end index */
    const char *key;   /* KEY: unescaped key */
    size_t kn;         /* its bytes */
};

struct sql_json_path
{
    struct sql_json_leg *legs; /* after $ */
    size_t n;                  /* their count */
    bool wild;                 /* has *, ** or a range */
};

/* Parse a path expression; SQL_EQUERY with 3143 in err when malformed. */
int sql__json_path_parse(const char *s, size_t n, struct sql_arena *a,
                         struct sql_json_path *out, struct sql_err *err);
/* Every value the path selects in the encoded document b, in document
 * order (pointers into b). */
int sql__json_path_find(const uint8_t *b, const struct sql_json_path *p,
                        struct sql_arena *a, const uint8_t ***out,
                        size_t *n);

#endif /* SQL_JSON_H */
