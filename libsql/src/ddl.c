/* ddl.c: CREATE/DROP DATABASE, CREATE/DROP TABLE, TRUNCATE, RENAME TABLE:
 * each builds the new catalog records, writes them with the schema
 * version bump in one transaction, and changes the cache only after that
 * commit (DESIGN.md "Storage mapping", catalog).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "exec.h"
#include "json_table.h"
#include "session.h"
#include "sql_int.h"
#include "view.h"
#include "tablecodec.h"

#define MAX_NAME 64
#define MAX_COLS 4096

static int too_long(struct sql_session *s, const char *name)
{
    if (strlen(name) <= MAX_NAME)
        return 0;
    return sql__serr(s, 1059, "42000", "Identifier name '%.100s' is too long",
                     name);
}

/* Run fn inside a DDL transaction with the schema version bumped; commit. */
static int ddl_txn_begin(struct sql_session *s, struct sql_kvtxn **t)
{
    int rc = sql__kv_begin(s->srv->kv, t);
    if (rc != 0)
        return sql__kverr(s, rc);
    rc = sql__meta_bump_version(*t, &s->srv->cat->ddl_ver);
    if (rc != 0) {
        sql__kvtxn_rollback(*t);
        return sql__kverr(s, rc);
    }
    return 0;
}

static int ddl_txn_commit(struct sql_session *s, struct sql_kvtxn *t)
{
    int rc = sql__kvtxn_commit(t);
    if (rc != 0)
        return sql__kverr(s, rc);
    s->srv->cat->version = s->srv->cat->ddl_ver;
    return 0;
}

static char *astrdup(struct sql_arena *a, const char *str)
{
    return str ? sql__arena_strndup(a, str, strlen(str)) : NULL;
}

/* Delete every key of a table (rows and indexes) inside t, chunk by
 * chunk: later scans skip what the transaction already deleted. */
static int delete_table_data(struct sql_kvtxn *t, int64_t table_id)
{
    uint8_t start[9], end[9];
    start[0] = 't';
    sql__tc_put_i64(start + 1, table_id);
    sql__tc_prefix_next(start, 9, end);
    struct sql_kvres res;
    sql__kvres_init(&res);
    int rc;
    for (;;) {
        rc = sql__kvtxn_scan(t, start, 9, end, 9, 1024, false, &res);
        if (rc != 0 || res.r.npairs == 0)
            break;
        for (size_t i = 0; rc == 0 && i < res.r.npairs; i++)
            rc = sql__kvtxn_delete(t, res.r.pairs[i].key,
                                   res.r.pairs[i].key_len);
        if (rc != 0)
            break;
    }
    sql__kvres_reset(&res);
    return rc;
}

/* ---- databases -------------------------------------------------------- */

static int create_database(struct sql_session *s, const struct ast_stmt *st)
{
    int rc = too_long(s, st->name);
    if (rc != 0)
        return rc;
    if (sql__catalog_db(s->srv->cat, st->name) ||
        strcasecmp(st->name, "information_schema") == 0) {
        if (st->if_exists) {
            sql__swarn(s, "Note", 1007,
                       "Can't create database '%.64s'; database exists",
                       st->name);
            return sql__sess_ok(s, 0, 0);
        }
        return sql__serr(s, 1007, "HY000",
                         "Can't create database '%.64s'; database exists",
                         st->name);
    }
    struct sql_dbinfo *d = sql__dbinfo_new();
    if (!d)
        return -ENOMEM;
    d->name = astrdup(d->arena, st->name);
    d->charset = astrdup(d->arena, st->charset ? st->charset : "utf8mb4");
    d->collate =
        astrdup(d->arena, st->collate ? st->collate : "utf8mb4_general_ci");
    if (!d->name || !d->charset || !d->collate) {
        sql__dbinfo_free(d);
        return -ENOMEM;
    }
    struct sql_kvtxn *t;
    rc = ddl_txn_begin(s, &t);
    if (rc != 0) {
        sql__dbinfo_free(d);
        return rc;
    }
    rc = sql__meta_next_id(t, &d->id);
    rc = rc ? rc : sql__meta_put_db(t, d);
    if (rc != 0) {
        sql__kvtxn_rollback(t);
        sql__dbinfo_free(d);
        return sql__kverr(s, rc);
    }
    rc = ddl_txn_commit(s, t);
    if (rc != 0) {
        sql__dbinfo_free(d);
        return rc;
    }
    if (sql__catalog_put_db(s->srv->cat, d) != 0) {
        sql__dbinfo_free(d);
        return -ENOMEM;
    }
    return sql__sess_ok(s, 1, 0);
}

static int drop_database(struct sql_session *s, const struct ast_stmt *st)
{
    struct sql_dbinfo *d = sql__catalog_db(s->srv->cat, st->name);
    if (!d) {
        if (st->if_exists) {
            sql__swarn(s, "Note", 1008,
                       "Can't drop database '%.64s'; database doesn't exist",
                       st->name);
            return sql__sess_ok(s, 0, 0);
        }
        return sql__serr(s, 1008, "HY000",
                         "Can't drop database '%.64s'; database doesn't exist",
                         st->name);
    }
    struct sql_kvtxn *t;
    int rc = ddl_txn_begin(s, &t);
    if (rc != 0)
        return rc;
    uint64_t ntables = 0;
    struct sql_catalog *c = s->srv->cat;
    for (size_t i = 0; rc == 0 && i < c->ntables; i++) {
        if (c->tables[i]->db_id != d->id)
            continue;
        ntables++;
        rc = sql__meta_del_table(t, d->id, c->tables[i]->id);
        rc = rc ? rc : sql__meta_del_autoid(t, c->tables[i]->id);
        rc = rc ? rc : delete_table_data(t, c->tables[i]->id);
    }
    rc = rc ? rc : sql__meta_del_db(t, d->id);
    if (rc != 0) {
        sql__kvtxn_rollback(t);
        return sql__kverr(s, rc);
    }
    rc = ddl_txn_commit(s, t);
    if (rc != 0)
        return rc;
    if (s->db && strcmp(s->db, d->name) == 0) {
        sql__sess_list_lock(s->srv); /* PROCESSLIST reads it */
        char *old = s->db;
        s->db = NULL;
        sql__sess_list_unlock(s->srv);
        sql__free(old);
    }
    sql__catalog_drop_db(c, d->id);
    return sql__sess_ok(s, ntables, 0);
}

/* ---- column types ------------------------------------------------------- */

static uint16_t collation_id(const char *charset, const char *collate,
                             bool *binary)
{
    *binary = false;
    if (collate) {
        if (strcasecmp(collate, "binary") == 0) {
            *binary = true;
            return SQL_COLL_BINARY;
        }
        if (strcasecmp(collate, "utf8mb4_bin") == 0 ||
            strcasecmp(collate, "utf8_bin") == 0 ||
            strcasecmp(collate, "utf8mb3_bin") == 0)
            return SQL_COLL_UTF8MB4_BIN;
        if (strcasecmp(collate, "utf8mb4_0900_ai_ci") == 0)
            return SQL_COLL_UTF8MB4_0900_AI_CI;
        return SQL_COLL_UTF8MB4_GENERAL_CI;
    }
    if (charset && strcasecmp(charset, "binary") == 0) {
        *binary = true;
        return SQL_COLL_BINARY;
    }
    return SQL_COLL_UTF8MB4_GENERAL_CI;
}

static const char *coll_name(uint16_t coll)
{
    switch (coll) {
    case SQL_COLL_UTF8MB4_BIN:
        return "utf8mb4_bin";
    case SQL_COLL_BINARY:
        return "binary";
    case SQL_COLL_UTF8MB4_0900_AI_CI:
        return "utf8mb4_0900_ai_ci";
    default:
        return "utf8mb4_general_ci";
    }
}

const char *sql__ddl_coll_name(uint16_t coll);
const char *sql__ddl_coll_name(uint16_t coll)
{
    return coll_name(coll);
}

struct typeinfo
{
    const char *name; /* canonical AST name */
    uint8_t tp;       /* SQL_TYPE_* */
    uint32_t len;     /* display length (signed) */
    int cls;          /* 0 int, 1 decimal, 2 float, 3 string, 4 blob/text,
                         5 temporal, 6 other */
};

static const struct typeinfo types[] = {
    {"TINYINT", SQL_TYPE_TINY, 4, 0},
    {"BOOL", SQL_TYPE_TINY, 1, 0},
    {"SMALLINT", SQL_TYPE_SHORT, 6, 0},
    {"MEDIUMINT", SQL_TYPE_INT24, 9, 0},
    {"INT", SQL_TYPE_LONG, 11, 0},
    {"BIGINT", SQL_TYPE_LONGLONG, 20, 0},
    {"DECIMAL", SQL_TYPE_NEWDECIMAL, 10, 1},
    {"FLOAT", SQL_TYPE_FLOAT, 12, 2},
    {"DOUBLE", SQL_TYPE_DOUBLE, 22, 2},
    {"BIT", SQL_TYPE_BIT, 1, 6},
    {"CHAR", SQL_TYPE_STRING, 1, 3},
    {"VARCHAR", SQL_TYPE_VAR_STRING, 0, 3},
    {"BINARY", SQL_TYPE_STRING, 1, 3},
    {"VARBINARY", SQL_TYPE_VAR_STRING, 0, 3},
    {"TINYTEXT", SQL_TYPE_BLOB, 255, 4},
    {"TEXT", SQL_TYPE_BLOB, 65535, 4},
    {"MEDIUMTEXT", SQL_TYPE_BLOB, 16777215, 4},
    {"LONGTEXT", SQL_TYPE_BLOB, 4294967295u, 4},
    {"TINYBLOB", SQL_TYPE_BLOB, 255, 4},
    {"BLOB", SQL_TYPE_BLOB, 65535, 4},
    {"MEDIUMBLOB", SQL_TYPE_BLOB, 16777215, 4},
    {"LONGBLOB", SQL_TYPE_BLOB, 4294967295u, 4},
    {"DATE", SQL_TYPE_DATE, 10, 5},
    {"TIME", SQL_TYPE_TIME, 10, 5},
    {"DATETIME", SQL_TYPE_DATETIME, 19, 5},
    {"TIMESTAMP", SQL_TYPE_TIMESTAMP, 19, 5},
    {"YEAR", SQL_TYPE_YEAR, 4, 5},
    {"JSON", SQL_TYPE_JSON, 4294967295u, 6},
    {"ENUM", SQL_TYPE_STRING, 0, 7},
    {"SET", SQL_TYPE_STRING, 0, 7},
};

static void lower(char *p)
{
    for (; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p + 32);
}

/* The column's static type and its SHOW text from the parsed type. */
static int column_type(struct sql_session *s, struct sql_arena *a,
                       const struct ast_coldef *cd, struct sql_colinfo *col,
                       const char *tbl_charset, const char *tbl_collate)
{
    const struct ast_type *at = &cd->type;
    const struct typeinfo *ti = NULL;
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
        if (strcmp(types[i].name, at->name) == 0)
            ti = &types[i];
    if (!ti)
        return sql__serr(s, 1235, "42000",
                         "This version of sqld doesn't yet support 'column "
                         "type %.32s'",
                         at->name);
    struct sql_ftype *t = &col->type;
    memset(t, 0, sizeof(*t));
    t->tp = ti->tp;
    t->len = ti->len;
    t->dec = 0;
    t->coll = SQL_COLL_BINARY;
    char buf[1024];
    char name[32];
    snprintf(name, sizeof(name), "%s", at->name);
    lower(name);
    if (strcmp(name, "bool") == 0)
        snprintf(name, sizeof(name), "tinyint");
    int n = 0;
    switch (ti->cls) {
    case 0: /* integers */
        t->flags |= SQL_COLFLAG_NUM;
        if (at->is_unsigned) {
            t->flags |= SQL_COLFLAG_UNSIGNED;
            if (t->tp != SQL_TYPE_LONGLONG)
                t->len--;
        }
        if (strcmp(at->name, "BOOL") == 0)
            n = snprintf(buf, sizeof(buf), "tinyint(1)");
        else if (at->zerofill || (at->len == 1 && t->tp == SQL_TYPE_TINY))
            n = snprintf(buf, sizeof(buf), "%s(%lld)", name,
                         (long long)(at->len > 0 ? at->len : t->len));
        else
            n = snprintf(buf, sizeof(buf), "%s", name);
        if (at->len > 0 && at->len <= 255)
            t->len = (uint32_t)at->len;
        break;
    case 1: { /* decimal */
        int64_t m = at->len >= 0 ? at->len : 10;
        int64_t d = at->scale >= 0 ? at->scale : 0;
        if (m > 65)
            return sql__serr(s, 1426, "42000",
                             "Too-big precision %lld specified for '%s'. "
                             "Maximum is 65.",
                             (long long)m, cd->name);
        if (d > 30)
            return sql__serr(s, 1425, "42000",
                             "Too big scale %lld specified for column '%s'. "
                             "Maximum is 30.",
                             (long long)d, cd->name);
        if (d > m)
            return sql__serr(s, 1427, "42000",
                             "For float(M,D), double(M,D) or decimal(M,D), M "
                             "must be >= D (column '%s').",
                             cd->name);
        if (m == 0)
            m = 10;
        t->flags |= SQL_COLFLAG_NUM;
        if (at->is_unsigned)
            t->flags |= SQL_COLFLAG_UNSIGNED;
        t->len = (uint32_t)(m + (d > 0 ? 1 : 0) + (at->is_unsigned ? 0 : 1));
        t->dec = (int8_t)d;
        n = snprintf(buf, sizeof(buf), "decimal(%lld,%lld)", (long long)m,
                     (long long)d);
        break;
    }
    case 2: /* float, double */
        t->flags |= SQL_COLFLAG_NUM;
        if (at->is_unsigned)
            t->flags |= SQL_COLFLAG_UNSIGNED;
        t->dec = -1;
        if (t->tp == SQL_TYPE_FLOAT && at->len > 24 && at->scale < 0) {
            t->tp = SQL_TYPE_DOUBLE; /* FLOAT(p) with p > 24 is DOUBLE */
            t->len = 22;
            snprintf(name, sizeof(name), "double");
        }
        if (at->scale >= 0 && at->len >= 0) {
            t->dec = (int8_t)at->scale;
            t->len = (uint32_t)at->len;
            n = snprintf(buf, sizeof(buf), "%s(%lld,%lld)", name,
                         (long long)at->len, (long long)at->scale);
        } else
            n = snprintf(buf, sizeof(buf), "%s", name);
        break;
    case 3: { /* char, varchar, binary, varbinary */
        bool bin_type = strstr(at->name, "BINARY") != NULL;
        int64_t len = at->len;
        if (len < 0) {
            if (t->tp == SQL_TYPE_VAR_STRING)
                return sql__serr(s, 1064, "42000",
                                 "You have an error in your SQL syntax; "
                                 "VARCHAR needs a length (column '%s')",
                                 cd->name);
            len = 1;
        }
        if (len > 65535 || (t->tp == SQL_TYPE_STRING && len > 255))
            return sql__serr(s, 1074, "42000",
                             "Column length too big for column '%s' (max = "
                             "%d); use BLOB or TEXT instead",
                             cd->name, t->tp == SQL_TYPE_STRING ? 255 : 16383);
        bool binary;
        t->coll = bin_type ? SQL_COLL_BINARY
                           : collation_id(at->charset ? at->charset
                                                      : tbl_charset,
                                          at->collate ? at->collate
                                                      : (at->charset
                                                             ? NULL
                                                             : tbl_collate),
                                          &binary);
        if (t->coll == SQL_COLL_BINARY)
            t->flags |= SQL_COLFLAG_BINARY;
        t->len = (uint32_t)len;
        n = snprintf(buf, sizeof(buf), "%s(%lld)", name, (long long)len);
        break;
    }
    case 4: { /* text and blob */
        bool blob = strstr(at->name, "BLOB") != NULL;
        bool binary;
        t->flags |= SQL_COLFLAG_BLOB;
        t->coll = blob ? SQL_COLL_BINARY
                       : collation_id(at->charset ? at->charset : tbl_charset,
                                      at->collate ? at->collate
                                                  : (at->charset ? NULL
                                                                 : tbl_collate),
                                      &binary);
        if (t->coll == SQL_COLL_BINARY)
            t->flags |= SQL_COLFLAG_BINARY;
        n = snprintf(buf, sizeof(buf), "%s", name);
        break;
    }
    case 5: /* temporal */
        if (t->tp == SQL_TYPE_TIMESTAMP)
            t->flags |= SQL_COLFLAG_TIMESTAMP;
        if ((t->tp == SQL_TYPE_TIME || t->tp == SQL_TYPE_DATETIME ||
             t->tp == SQL_TYPE_TIMESTAMP) &&
            at->len > 0) {
            if (at->len > 6)
                return sql__serr(s, 1426, "42000",
                                 "Too-big precision %lld specified for "
                                 "'%s'. Maximum is 6.",
                                 (long long)at->len, cd->name);
            t->dec = (int8_t)at->len;
            t->len += (uint32_t)at->len + 1;
            n = snprintf(buf, sizeof(buf), "%s(%lld)", name,
                         (long long)at->len);
        } else
            n = snprintf(buf, sizeof(buf), "%s", name);
        if (t->tp == SQL_TYPE_YEAR) {
            t->flags |= SQL_COLFLAG_UNSIGNED | SQL_COLFLAG_NUM;
        }
        break;
    case 7: { /* enum, set */
        size_t ne = 0;
        for (const struct ast_expr *v = at->values; v; v = v->next)
            ne++;
        if (ne == 0 || ne > 65535)
            return sql__serr(s, 1235, "42000",
                             "This version of sqld doesn't yet support "
                             "'ENUM/SET without members'");
        const char **el = sql__arena_zalloc(a, sizeof(char *) * ne);
        if (!el)
            return -ENOMEM;
        size_t i = 0, maxlen = 0, total = 0;
        n = snprintf(buf, sizeof(buf), "%s(", name);
        for (const struct ast_expr *v = at->values; v; v = v->next, i++) {
            el[i] = sql__arena_strndup(a, v->str.s, v->str.n);
            if (!el[i])
                return -ENOMEM;
            if (v->str.n > maxlen)
                maxlen = v->str.n;
            total += v->str.n + 1;
            if (n >= 0 && (size_t)n < sizeof(buf))
                n += snprintf(buf + n, sizeof(buf) - (size_t)n, "%s'%.*s'",
                              i ? "," : "", (int)v->str.n, v->str.s);
        }
        if (n >= 0 && (size_t)n < sizeof(buf))
            n += snprintf(buf + n, sizeof(buf) - (size_t)n, ")");
        t->elems = el;
        t->nelems = (uint16_t)ne;
        bool binary;
        t->coll = collation_id(at->charset ? at->charset : tbl_charset,
                               at->collate, &binary);
        t->flags |= strcmp(at->name, "ENUM") == 0 ? SQL_COLFLAG_ENUM
                                                  : SQL_COLFLAG_SET;
        if (strcmp(at->name, "ENUM") == 0) {
            t->tp = SQL_TYPE_ENUM;
            t->len = (uint32_t)maxlen;
        } else {
            t->tp = SQL_TYPE_SET;
            t->len = (uint32_t)(total ? total - 1 : 0);
        }
        break;
    }
    default: /* BIT, JSON */
        if (t->tp == SQL_TYPE_BIT) {
            int64_t m = at->len > 0 ? at->len : 1;
            if (m > 64)
                return sql__serr(s, 1439, "42000",
                                 "Display width out of range for column "
                                 "'%s' (max = 64)",
                                 cd->name);
            t->len = (uint32_t)m;
            t->flags |= SQL_COLFLAG_UNSIGNED;
            n = snprintf(buf, sizeof(buf), "bit(%lld)", (long long)m);
        } else {
            t->flags |= SQL_COLFLAG_BLOB | SQL_COLFLAG_BINARY;
            n = snprintf(buf, sizeof(buf), "json");
        }
        break;
    }
    if (n < 0 || (size_t)n >= sizeof(buf))
        return sql__serr(s, 1074, "42000", "Column definition too long ('%s')",
                         cd->name);
    if (at->is_unsigned && ti->cls <= 2)
        n += snprintf(buf + n, sizeof(buf) - (size_t)n, " unsigned");
    if (at->zerofill && ti->cls <= 2) {
        t->flags |= SQL_COLFLAG_ZEROFILL | SQL_COLFLAG_UNSIGNED;
        snprintf(buf + n, sizeof(buf) - (size_t)n, "%s zerofill",
                 at->is_unsigned ? "" : " unsigned");
    }
    col->type_sql = astrdup(a, buf);
    return col->type_sql ? 0 : -ENOMEM;
}

static bool is_int_type(uint8_t tp)
{
    return tp == SQL_TYPE_TINY || tp == SQL_TYPE_SHORT ||
           tp == SQL_TYPE_INT24 || tp == SQL_TYPE_LONG ||
           tp == SQL_TYPE_LONGLONG;
}

/* The column of a definition (its id already set), into t's arena. */
int sql__ddl_column_type(struct sql_session *s, const struct ast_coldef *cd,
                         struct sql_colinfo *col)
{
    return column_type(s, s->arena, cd, col, NULL, NULL); /* json_table.h */
}

static int make_column(struct sql_session *s, struct sql_tableinfo *t,
                       const struct ast_coldef *c, struct sql_colinfo *col)
{
    struct sql_arena *a = t->arena;
    int rc = too_long(s, c->name);
    if (rc != 0)
        return rc;
    uint32_t id = col->id;
    memset(col, 0, sizeof(*col));
    col->id = id;
    col->name = astrdup(a, c->name);
    if (!col->name)
        return -ENOMEM;
    if ((rc = column_type(s, a, c, col, t->charset, t->collate)) != 0)
        return rc;
    col->not_null = c->nullable == 2 || c->primary;
    col->auto_inc = c->auto_increment;
    if (c->auto_increment) {
        if (col->type.tp == SQL_TYPE_NEWDECIMAL ||
            !(col->type.flags & SQL_COLFLAG_NUM) ||
            col->type.tp == SQL_TYPE_YEAR || col->type.tp == SQL_TYPE_BIT)
            return sql__serr(s, 1063, "42000",
                             "Incorrect column specifier for column '%.64s'",
                             c->name);
        col->not_null = true;
        col->type.flags |= SQL_COLFLAG_AUTO_INCREMENT;
    }
    if (c->def) {
        if (c->auto_increment ||
            (c->def->kind == AST_E_NULL && col->not_null) ||
            ((col->type.flags & SQL_COLFLAG_BLOB) &&
             c->def->kind != AST_E_NULL))
            return sql__serr(s, 1067, "42000",
                             "Invalid default value for '%.64s'", c->name);
        col->has_default = true;
        if (c->def->kind != AST_E_NULL) {
            col->default_sql = sql__ast_print_expr(a, c->def);
            if (!col->default_sql)
                return -ENOMEM;
        }
    }
    if (c->on_update)
        col->on_update_now = true;
    if (c->comment &&
        !(col->comment = sql__arena_strndup(a, c->comment, c->comment_len)))
        return -ENOMEM;
    if (col->not_null)
        col->type.flags |= SQL_COLFLAG_NOT_NULL;
    if (!col->has_default && col->not_null && !col->auto_inc)
        col->type.flags |= SQL_COLFLAG_NO_DEFAULT_VALUE;
    if (col->on_update_now)
        col->type.flags |= SQL_COLFLAG_ON_UPDATE_NOW;
    return 0;
}

/* ---- tables ---------------------------------------------------------------- */

static const char *option_text(struct sql_arena *a, const struct ast_option *o)
{
    if (!o->value)
        return NULL;
    const struct ast_expr *v = o->value;
    if (v->kind == AST_E_STRING || v->kind == AST_E_DECIMAL)
        return sql__arena_strndup(a, v->str.s, v->str.n);
    if (v->kind == AST_E_INT) {
        char b[32];
        snprintf(b, sizeof(b), "%llu",
                 v->is_unsigned ? (unsigned long long)v->uval
                                : (unsigned long long)v->ival);
        return astrdup(a, b);
    }
    if (v->kind == AST_E_COLUMN && v->name)
        return astrdup(a, v->name);
    return NULL;
}

/* Add an index to t from its definition; names unnamed ones. */
static int add_index(struct sql_session *s, struct sql_tableinfo *t,
                     const struct ast_indexdef *ix, int64_t id,
                     bool allow_handle)
{
    struct sql_arena *a = t->arena;
    if (ix->kind == AST_IDX_FULLTEXT || ix->kind == AST_IDX_SPATIAL)
        return sql__serr(s, 1235, "42000",
                         "This version of sqld doesn't yet support '%s "
                         "indexes'",
                         ix->kind == AST_IDX_FULLTEXT ? "FULLTEXT" : "SPATIAL");
    uint32_t ncols = 0;
    for (const struct ast_index_col *c = ix->cols; c; c = c->next)
        ncols++;
    if (ncols == 0 || ncols > 16)
        return sql__serr(s, 1070, "42000",
                         "Too many key parts specified; max 16 parts allowed");
    struct sql_idxinfo x = {0};
    x.id = id;
    x.primary = ix->kind == AST_IDX_PRIMARY;
    x.unique = x.primary || ix->kind == AST_IDX_UNIQUE;
    x.ncols = ncols;
    x.cols = sql__arena_alloc(a, sizeof(uint32_t) * ncols);
    x.prefix = sql__arena_alloc(a, sizeof(int32_t) * ncols);
    if (!x.cols || !x.prefix)
        return -ENOMEM;
    uint32_t k = 0;
    for (const struct ast_index_col *c = ix->cols; c; c = c->next, k++) {
        int ci = sql__table_col(t, c->name);
        if (ci < 0)
            return sql__serr(s, 1072, "42000",
                             "Key column '%.64s' doesn't exist in table",
                             c->name);
        struct sql_colinfo *col = &t->cols[ci];
        if ((col->type.flags & SQL_COLFLAG_BLOB) && c->prefix < 0)
            return sql__serr(s, 1170, "42000",
                             "BLOB/TEXT column '%.64s' used in key "
                             "specification without a key length",
                             col->name);
        x.cols[k] = (uint32_t)ci;
        x.prefix[k] = (int32_t)(c->prefix > 0 ? c->prefix : -1);
        if (x.primary) {
            col->not_null = true;
            col->type.flags |= SQL_COLFLAG_NOT_NULL | SQL_COLFLAG_PRI_KEY;
        } else if (x.unique && ncols == 1)
            col->type.flags |= SQL_COLFLAG_UNIQUE_KEY;
        else if (k == 0)
            col->type.flags |= SQL_COLFLAG_MULTIPLE_KEY;
    }
    if (x.primary) {
        if (t->pk_handle_idx >= 0 || sql__table_index(t, "PRIMARY") >= 0)
            return sql__serr(s, 1068, "42000",
                             "Multiple primary key defined");
        x.name = "PRIMARY";
    } else if (ix->name || ix->constraint) {
        x.name = astrdup(a, ix->name ? ix->name : ix->constraint);
        if (!x.name)
            return -ENOMEM;
        if (strcasecmp(x.name, "PRIMARY") == 0)
            return sql__serr(s, 1280, "42000", "Incorrect index name '%s'",
                             x.name);
        if (sql__table_index(t, x.name) >= 0)
            return sql__serr(s, 1061, "42000", "Duplicate key name '%.64s'",
                             x.name);
    } else {
        /* MySQL names it after its first column, then _2, _3 ... */
        const char *base = t->cols[x.cols[0]].name;
        char nm[80];
        snprintf(nm, sizeof(nm), "%s", base);
        for (int i = 2; sql__table_index(t, nm) >= 0; i++)
            snprintf(nm, sizeof(nm), "%s_%d", base, i);
        x.name = astrdup(a, nm);
        if (!x.name)
            return -ENOMEM;
    }
    if (ix->comment)
        x.comment = sql__arena_strndup(a, ix->comment, ix->comment_len);
    struct sql_idxinfo *arr =
        sql__arena_alloc(a, sizeof(*arr) * (t->nidx + 1));
    if (!arr)
        return -ENOMEM;
    /* The primary key goes first. */
    uint32_t pos = x.primary ? 0 : t->nidx;
    if (t->nidx > 0) {
        memcpy(arr, t->idx, sizeof(*arr) * pos);
        memcpy(arr + pos + 1, t->idx + pos, sizeof(*arr) * (t->nidx - pos));
    }
    arr[pos] = x;
    t->idx = arr;
    t->nidx++;
    if (x.primary && t->pk_handle_idx >= 0)
        t->pk_handle_idx++;
    if (!x.primary && t->pk_handle_idx >= 0 && (uint32_t)t->pk_handle_idx >= pos)
        t->pk_handle_idx++;
    if (x.primary && ncols == 1 && allow_handle &&
        is_int_type(t->cols[x.cols[0]].type.tp) &&
        !(t->cols[x.cols[0]].type.tp == SQL_TYPE_LONGLONG &&
          (t->cols[x.cols[0]].type.flags & SQL_COLFLAG_UNSIGNED))) {
        t->handle_col = (int32_t)x.cols[0];
        t->pk_handle_idx = 0;
    }
    return 0;
}

int sql__ddl_add_index(struct sql_session *s, struct sql_tableinfo *t,
                       const struct ast_indexdef *ix, int64_t id)
{
    return add_index(s, t, ix, id, false);
}

/* Build a table from CREATE TABLE's definition (ids from the txn). */
static int build_table(struct sql_session *s, struct sql_kvtxn *txn,
                       const struct ast_create_table *ct, int64_t db_id,
                       const struct sql_dbinfo *db, struct sql_tableinfo **out)
{
    struct sql_tableinfo *t = sql__tableinfo_new();
    if (!t)
        return -ENOMEM;
    struct sql_arena *a = t->arena;
    int rc;
    t->db_id = db_id;
    t->name = astrdup(a, ct->table);
    t->charset = astrdup(a, db->charset ? db->charset : "utf8mb4");
    t->collate = astrdup(a, db->collate ? db->collate : "utf8mb4_general_ci");
    if (!t->name || !t->charset || !t->collate)
        goto nomem;
    for (const struct ast_option *o = ct->options; o; o = o->next) {
        const char *v = option_text(a, o);
        if (strcmp(o->name, "AUTO_INCREMENT") == 0 && v)
            t->auto_inc_start = strtoull(v, NULL, 10);
        else if (strcmp(o->name, "COMMENT") == 0)
            t->comment = v;
        else if ((strcmp(o->name, "CHARSET") == 0 ||
                  strcmp(o->name, "CHARACTER SET") == 0 ||
                  strcmp(o->name, "DEFAULT CHARSET") == 0) &&
                 v) {
            t->charset = v;
            if (strcasecmp(v, "binary") == 0)
                t->collate = "binary";
            else if (strcasecmp(v, "utf8mb4") != 0)
                t->collate = "utf8mb4_general_ci";
        } else if (strstr(o->name, "COLLATE") && v)
            t->collate = v;
        else if (strcmp(o->name, "ENGINE") == 0 && v &&
                 strcasecmp(v, "InnoDB") != 0 && strcasecmp(v, "MyISAM") != 0 &&
                 strcasecmp(v, "MEMORY") != 0 && strcasecmp(v, "Aria") != 0)
            sql__swarn(s, "Warning", 1286, "Unknown storage engine '%s'", v);
    }
    uint32_t ncols = 0;
    for (const struct ast_coldef *c = ct->columns; c; c = c->next)
        ncols++;
    if (ncols == 0) {
        rc = sql__serr(s, 1113, "42000",
                       "A table must have at least 1 visible column.");
        goto fail;
    }
    if (ncols > MAX_COLS) {
        rc = sql__serr(s, 1117, "HY000", "Too many columns");
        goto fail;
    }
    t->cols = sql__arena_zalloc(a, sizeof(*t->cols) * ncols);
    if (!t->cols)
        goto nomem;
    int autos = 0;
    for (const struct ast_coldef *c = ct->columns; c; c = c->next) {
        if (sql__table_col(t, c->name) >= 0) {
            rc = sql__serr(s, 1060, "42S21", "Duplicate column name '%.64s'",
                           c->name);
            goto fail;
        }
        struct sql_colinfo *col = &t->cols[t->ncols];
        col->id = ++t->next_col_id;
        if ((rc = make_column(s, t, c, col)) != 0)
            goto fail;
        t->ncols++;
        autos += col->auto_inc;
    }
    if (autos > 1) {
        rc = sql__serr(s, 1075, "42000",
                       "Incorrect table definition; there can be only one "
                       "auto column and it must be defined as a key");
        goto fail;
    }
    /* Column-level PRIMARY KEY / UNIQUE, then table constraints. */
    for (const struct ast_coldef *c = ct->columns; c; c = c->next) {
        if (!c->primary && !c->unique)
            continue;
        struct ast_index_col ic = {.name = c->name, .prefix = -1};
        struct ast_indexdef ix = {
            .kind = c->primary ? AST_IDX_PRIMARY : AST_IDX_UNIQUE,
            .cols = &ic};
        int64_t id;
        rc = sql__meta_next_id(txn, &id);
        if (rc != 0) {
            rc = sql__kverr(s, rc);
            goto fail;
        }
        if ((rc = add_index(s, t, &ix, id, true)) != 0)
            goto fail;
    }
    for (const struct ast_indexdef *ix = ct->indexes; ix; ix = ix->next) {
        if (ix->kind == AST_IDX_FOREIGN) {
            sql__swarn(s, "Warning", 1235,
                       "FOREIGN KEY constraints are not enforced by this "
                       "version of sqld; '%.64s' was ignored",
                       ix->name ? ix->name : ix->constraint ? ix->constraint : "");
            continue;
        }
        int64_t id;
        rc = sql__meta_next_id(txn, &id);
        if (rc != 0) {
            rc = sql__kverr(s, rc);
            goto fail;
        }
        if ((rc = add_index(s, t, ix, id, true)) != 0)
            goto fail;
    }
    /* An AUTO_INCREMENT column must lead some key. */
    for (uint32_t i = 0; i < t->ncols; i++) {
        if (!t->cols[i].auto_inc)
            continue;
        bool keyed = false;
        for (uint32_t k = 0; k < t->nidx; k++)
            if (t->idx[k].cols[0] == i)
                keyed = true;
        if (!keyed) {
            rc = sql__serr(s, 1075, "42000",
                           "Incorrect table definition; there can be only "
                           "one auto column and it must be defined as a key");
            goto fail;
        }
    }
    *out = t;
    return 0;
nomem:
    rc = -ENOMEM;
fail:
    sql__tableinfo_free(t);
    return rc;
}

/* A copy of src under a new id and name (CREATE TABLE .. LIKE,
 * TRUNCATE): index ids are renewed too. */
static int clone_table(struct sql_session *s, struct sql_kvtxn *txn,
                       const struct sql_tableinfo *src, int64_t db_id,
                       const char *name, struct sql_tableinfo **out)
{
    struct sql_tableinfo *t = sql__tableinfo_copy(src);
    if (!t)
        return -ENOMEM;
    int rc = sql__meta_next_id(txn, &t->id);
    for (uint32_t i = 0; rc == 0 && i < t->nidx; i++)
        rc = sql__meta_next_id(txn, &t->idx[i].id);
    if (rc != 0) {
        sql__tableinfo_free(t);
        return sql__kverr(s, rc);
    }
    t->db_id = db_id;
    if (name && !(t->name = astrdup(t->arena, name))) {
        sql__tableinfo_free(t);
        return -ENOMEM;
    }
    *out = t;
    return 0;
}

static int create_table(struct sql_session *s, const struct ast_stmt *st)
{
    const struct ast_create_table *ct = st->create;
    if (ct->temporary)
        return sql__serr(s, 1235, "42000",
                         "This version of sqld doesn't yet support "
                         "'TEMPORARY tables'");
    struct sql_dbinfo *db;
    int rc = sql__sess_db(s, ct->db, &db);
    if (rc != 0)
        return rc;
    if ((rc = too_long(s, ct->table)) != 0)
        return rc;
    if (sql__catalog_table(s->srv->cat, db->id, ct->table)) {
        if (ct->if_not_exists) {
            sql__swarn(s, "Note", 1050, "Table '%.64s' already exists",
                       ct->table);
            return sql__sess_ok(s, 0, 0);
        }
        return sql__serr(s, 1050, "42S01", "Table '%.64s' already exists",
                         ct->table);
    }
    struct sql_kvtxn *txn;
    rc = ddl_txn_begin(s, &txn);
    if (rc != 0)
        return rc;
    struct sql_tableinfo *t = NULL;
    if (ct->like_table) {
        struct sql_tableinfo *src;
        rc = sql__sess_table(s, ct->like_db, ct->like_table, &src);
        if (rc == 0)
            rc = sql__view_not_base(s, src);
        if (rc == 0)
            rc = clone_table(s, txn, src, db->id, ct->table, &t);
    } else {
        rc = build_table(s, txn, ct, db->id, db, &t);
        if (rc == 0) {
            int r2 = sql__meta_next_id(txn, &t->id);
            if (r2 != 0)
                rc = sql__kverr(s, r2);
        }
    }
    if (rc == 0) {
        int r2 = sql__meta_put_table(txn, t);
        if (r2 != 0)
            rc = sql__kverr(s, r2);
    }
    if (rc != 0) {
        sql__kvtxn_rollback(txn);
        sql__tableinfo_free(t);
        return rc;
    }
    rc = ddl_txn_commit(s, txn);
    if (rc != 0) {
        sql__tableinfo_free(t);
        return rc;
    }
    if (sql__catalog_put_table(s->srv->cat, t) != 0) {
        sql__tableinfo_free(t);
        return -ENOMEM;
    }
    return sql__sess_ok(s, 0, 0);
}

static int drop_table(struct sql_session *s, const struct ast_stmt *st)
{
    if (st->flag)
        return sql__serr(s, 1235, "42000",
                         "This version of sqld doesn't yet support "
                         "'TEMPORARY tables'");
    /* Every name must resolve (unless IF EXISTS) before anything goes.
     * DROP VIEW (view.c) drops views only: a table is 1347; DROP TABLE
     * takes a view's name for an unknown table. */
    bool view = st->kind == AST_DROP_VIEW;
    char missing[512] = "";
    size_t n = 0;
    for (const struct ast_tname *tn = st->tables; tn; tn = tn->next) {
        const char *dbn = tn->db ? tn->db : s->db;
        if (!dbn)
            return sql__serr(s, 1046, "3D000", "No database selected");
        struct sql_dbinfo *d = sql__catalog_db(s->srv->cat, dbn);
        const struct sql_tableinfo *dt =
            d ? sql__catalog_table(s->srv->cat, d->id, tn->name) : NULL;
        if (view && dt && !dt->view_sql)
            return sql__serr(s, 1347, "HY000", "'%.64s.%.64s' is not VIEW",
                             dbn, tn->name);
        if (!dt || !dt->view_sql != !view) {
            size_t len = strlen(missing);
            snprintf(missing + len, sizeof(missing) - len, "%s%.64s.%.64s",
                     len ? "," : "", dbn, tn->name);
            continue;
        }
        n++;
    }
    if (missing[0] && !st->if_exists)
        return sql__serr(s, 1051, "42S02", "Unknown table '%s'", missing);
    if (missing[0])
        sql__swarn(s, "Note", 1051, "Unknown table '%s'", missing);
    if (n == 0)
        return sql__sess_ok(s, 0, 0);
    struct sql_kvtxn *txn;
    int rc = ddl_txn_begin(s, &txn);
    if (rc != 0)
        return rc;
    for (const struct ast_tname *tn = st->tables; rc == 0 && tn;
         tn = tn->next) {
        struct sql_dbinfo *d =
            sql__catalog_db(s->srv->cat, tn->db ? tn->db : s->db);
        struct sql_tableinfo *t =
            d ? sql__catalog_table(s->srv->cat, d->id, tn->name) : NULL;
        if (!t || !t->view_sql != !view)
            continue;
        rc = sql__meta_del_table(txn, t->db_id, t->id);
        rc = rc || view ? rc : sql__meta_del_autoid(txn, t->id);
        rc = rc || view ? rc : delete_table_data(txn, t->id);
    }
    if (rc != 0) {
        sql__kvtxn_rollback(txn);
        return sql__kverr(s, rc);
    }
    rc = ddl_txn_commit(s, txn);
    if (rc != 0)
        return rc;
    for (const struct ast_tname *tn = st->tables; tn; tn = tn->next) {
        struct sql_dbinfo *d =
            sql__catalog_db(s->srv->cat, tn->db ? tn->db : s->db);
        struct sql_tableinfo *t =
            d ? sql__catalog_table(s->srv->cat, d->id, tn->name) : NULL;
        if (t && !t->view_sql == !view)
            sql__catalog_drop_table(s->srv->cat, t->id);
    }
    return sql__sess_ok(s, 0, 0);
}

static int truncate_table(struct sql_session *s, const struct ast_stmt *st)
{
    struct sql_tableinfo *old;
    int rc = sql__sess_table(s, st->db, st->name, &old);
    if (rc == 0)
        rc = sql__view_not_base(s, old);
    if (rc != 0)
        return rc;
    struct sql_kvtxn *txn;
    if ((rc = ddl_txn_begin(s, &txn)) != 0)
        return rc;
    struct sql_tableinfo *t = NULL;
    rc = clone_table(s, txn, old, old->db_id, NULL, &t);
    if (rc == 0) {
        int r2 = sql__meta_del_table(txn, old->db_id, old->id);
        r2 = r2 ? r2 : sql__meta_del_autoid(txn, old->id);
        r2 = r2 ? r2 : delete_table_data(txn, old->id);
        r2 = r2 ? r2 : sql__meta_put_table(txn, t);
        if (r2 != 0)
            rc = sql__kverr(s, r2);
    }
    if (rc != 0) {
        sql__kvtxn_rollback(txn);
        sql__tableinfo_free(t);
        return rc;
    }
    if ((rc = ddl_txn_commit(s, txn)) != 0) {
        sql__tableinfo_free(t);
        return rc;
    }
    sql__catalog_drop_table(s->srv->cat, old->id);
    if (sql__catalog_put_table(s->srv->cat, t) != 0) {
        sql__tableinfo_free(t);
        return -ENOMEM;
    }
    return sql__sess_ok(s, 0, 0);
}

static int rename_table(struct sql_session *s, const struct ast_stmt *st)
{
    /* Check every pair first (against the names as they will be after the
     * earlier pairs, as MySQL does for a, b -> c, a). Kept simple: each
     * source must exist and each target must not, at the start. */
    struct sql_kvtxn *txn;
    int rc = ddl_txn_begin(s, &txn);
    if (rc != 0)
        return rc;
    struct sql_tableinfo *news[32];
    int64_t olds[32];
    size_t n = 0;
    for (const struct ast_tname *tn = st->tables; tn; tn = tn->next) {
        struct sql_tableinfo *t;
        if (n == 32) {
            rc = sql__serr(s, 1235, "42000",
                           "This version of sqld doesn't yet support 'more "
                           "than 32 renames in one statement'");
            break;
        }
        if ((rc = sql__sess_table(s, tn->db, tn->name, &t)) != 0)
            break;
        struct sql_dbinfo *to;
        if ((rc = sql__sess_db(s, tn->to_db ? tn->to_db : tn->db, &to)) != 0)
            break;
        if ((rc = too_long(s, tn->to_name)) != 0)
            break;
        if (sql__catalog_table(s->srv->cat, to->id, tn->to_name)) {
            rc = sql__serr(s, 1050, "42S01", "Table '%.64s' already exists",
                           tn->to_name);
            break;
        }
        struct sql_tableinfo *nt = sql__tableinfo_copy(t);
        if (!nt || !(nt->name = astrdup(nt->arena, tn->to_name))) {
            sql__tableinfo_free(nt);
            rc = -ENOMEM;
            break;
        }
        nt->db_id = to->id;
        news[n] = nt;
        olds[n++] = t->id;
        int r2 = sql__meta_del_table(txn, t->db_id, t->id);
        r2 = r2 ? r2 : sql__meta_put_table(txn, nt);
        if (r2 != 0) {
            rc = sql__kverr(s, r2);
            break;
        }
    }
    if (rc == 0)
        rc = ddl_txn_commit(s, txn);
    else
        sql__kvtxn_rollback(txn);
    for (size_t i = 0; i < n; i++) {
        if (rc == 0) {
            sql__catalog_drop_table(s->srv->cat, olds[i]);
            if (sql__catalog_put_table(s->srv->cat, news[i]) == 0)
                continue;
            rc = -ENOMEM;
        }
        sql__tableinfo_free(news[i]);
    }
    return rc ? rc : sql__sess_ok(s, 0, 0);
}


/* ---- ALTER TABLE, CREATE/DROP INDEX ------------------------------------------ */

/* Move column `from` to position `to` (indexes and the handle follow). */
static int move_column(struct sql_tableinfo *t, uint32_t from, uint32_t to)
{
    if (from == to)
        return 0;
    struct sql_colinfo c = t->cols[from];
    uint32_t *map = sql__arena_alloc(t->arena, sizeof(uint32_t) * t->ncols);
    if (!map)
        return -ENOMEM;
    if (from < to) {
        memmove(&t->cols[from], &t->cols[from + 1],
                sizeof(c) * (to - from));
    } else {
        memmove(&t->cols[to + 1], &t->cols[to], sizeof(c) * (from - to));
    }
    t->cols[to] = c;
    for (uint32_t i = 0; i < t->ncols; i++) {
        uint32_t n = i;
        if (i == from)
            n = to;
        else if (from < to && i > from && i <= to)
            n = i - 1;
        else if (from > to && i >= to && i < from)
            n = i + 1;
        map[i] = n;
    }
    for (uint32_t x = 0; x < t->nidx; x++)
        for (uint32_t k = 0; k < t->idx[x].ncols; k++)
            t->idx[x].cols[k] = map[t->idx[x].cols[k]];
    if (t->handle_col >= 0)
        t->handle_col = (int32_t)map[t->handle_col];
    return 0;
}

static int place_column(struct sql_session *s, struct sql_tableinfo *t,
                        uint32_t ci, const struct ast_alter *al)
{
    if (al->first)
        return move_column(t, ci, 0);
    if (al->after) {
        int a = sql__table_col(t, al->after);
        if (a < 0 || (uint32_t)a == ci)
            return sql__serr(s, 1054, "42S22",
                             "Unknown column '%.64s' in '%.64s'", al->after,
                             t->name);
        uint32_t to = (uint32_t)a < ci ? (uint32_t)a + 1 : (uint32_t)a;
        return move_column(t, ci, to);
    }
    return 0;
}

static void remove_index(struct sql_tableinfo *t, uint32_t i)
{
    memmove(&t->idx[i], &t->idx[i + 1], sizeof(*t->idx) * (t->nidx - i - 1));
    t->nidx--;
    if (t->pk_handle_idx > (int32_t)i)
        t->pk_handle_idx--;
}

void sql__ddl_drop_index(struct sql_tableinfo *t, uint32_t x)
{
    for (uint32_t k = 0; k < t->idx[x].ncols; k++) {
        struct sql_colinfo *c = &t->cols[t->idx[x].cols[k]];
        c->type.flags &= (uint16_t)~(SQL_COLFLAG_PRI_KEY |
                                     SQL_COLFLAG_UNIQUE_KEY |
                                     SQL_COLFLAG_MULTIPLE_KEY);
    }
    remove_index(t, x);
}

static int grow_cols(struct sql_tableinfo *t)
{
    struct sql_colinfo *c =
        sql__arena_zalloc(t->arena, sizeof(*c) * (t->ncols + 1));
    if (!c)
        return -ENOMEM;
    memcpy(c, t->cols, sizeof(*c) * t->ncols);
    t->cols = c;
    return 0;
}

static bool same_type(const struct sql_colinfo *a, const struct sql_colinfo *b)
{
    return strcmp(a->type_sql, b->type_sql) == 0 &&
           a->type.coll == b->type.coll && a->not_null == b->not_null;
}

static int alter_spec(struct sql_session *s, struct sql_kvtxn *txn,
                      struct sql_tableinfo *t, const struct ast_alter *al,
                      bool *rows, const char **new_db, const char **new_name)
{
    int rc = 0;
    switch (al->kind) {
    case AST_ALTER_ADD_COLUMN: {
        if (sql__table_col(t, al->col->name) >= 0)
            return sql__serr(s, 1060, "42S21",
                             "Duplicate column name '%.64s'", al->col->name);
        if ((rc = grow_cols(t)) != 0)
            return rc;
        struct sql_colinfo *col = &t->cols[t->ncols];
        col->id = ++t->next_col_id;
        if ((rc = make_column(s, t, al->col, col)) != 0)
            return rc;
        t->ncols++;
        if (al->col->auto_increment)
            return sql__serr(s, 1235, "42000",
                             "This version of sqld doesn't yet support 'ADD "
                             "COLUMN ... AUTO_INCREMENT'");
        *rows = true;
        if (al->col->primary || al->col->unique) {
            struct ast_index_col ic = {.name = al->col->name, .prefix = -1};
            struct ast_indexdef ix = {
                .kind = al->col->primary ? AST_IDX_PRIMARY : AST_IDX_UNIQUE,
                .cols = &ic};
            int64_t id;
            if ((rc = sql__meta_next_id(txn, &id)) != 0)
                return sql__kverr(s, rc);
            if ((rc = add_index(s, t, &ix, id, false)) != 0)
                return rc;
        }
        return place_column(s, t, t->ncols - 1, al);
    }
    case AST_ALTER_DROP_COLUMN: {
        int ci = sql__table_col(t, al->name);
        if (ci < 0)
            return sql__serr(s, 1091, "42000",
                             "Can't DROP '%.64s'; check that column/key exists",
                             al->name);
        if (ci == t->handle_col)
            return sql__serr(s, 1235, "42000",
                             "This version of sqld doesn't yet support "
                             "'dropping the integer primary key column'");
        if (t->ncols == 1)
            return sql__serr(s, 1090, "42000",
                             "You can't delete all columns with ALTER TABLE; "
                             "use DROP TABLE instead");
        for (uint32_t x = t->nidx; x > 0; x--) {
            struct sql_idxinfo *ix = &t->idx[x - 1];
            for (uint32_t k = 0; k < ix->ncols; k++)
                if (ix->cols[k] == (uint32_t)ci) {
                    if (ix->ncols > 1)
                        return sql__serr(
                            s, 1235, "42000",
                            "This version of sqld doesn't yet support "
                            "'dropping a column of a multi-column index'");
                    remove_index(t, x - 1);
                    break;
                }
        }
        if ((rc = move_column(t, (uint32_t)ci, t->ncols - 1)) != 0)
            return rc;
        t->ncols--;
        return 0;
    }
    case AST_ALTER_MODIFY_COLUMN:
    case AST_ALTER_CHANGE_COLUMN: {
        const char *oldname =
            al->kind == AST_ALTER_MODIFY_COLUMN ? al->col->name : al->name;
        int ci = sql__table_col(t, oldname);
        if (ci < 0)
            return sql__serr(s, 1054, "42S22",
                             "Unknown column '%.64s' in '%.64s'", oldname,
                             t->name);
        int other = sql__table_col(t, al->col->name);
        if (other >= 0 && other != ci)
            return sql__serr(s, 1060, "42S21",
                             "Duplicate column name '%.64s'", al->col->name);
        struct sql_colinfo nc = {.id = t->cols[ci].id};
        if ((rc = make_column(s, t, al->col, &nc)) != 0)
            return rc;
        bool in_pk = false;
        for (uint32_t x = 0; x < t->nidx; x++)
            for (uint32_t k = 0; k < t->idx[x].ncols; k++)
                if (t->idx[x].cols[k] == (uint32_t)ci && t->idx[x].primary)
                    in_pk = true;
        if (in_pk) {
            nc.not_null = true;
            nc.type.flags |= SQL_COLFLAG_NOT_NULL | SQL_COLFLAG_PRI_KEY;
        }
        if (ci == t->handle_col &&
            (!is_int_type(nc.type.tp) ||
             (nc.type.flags & SQL_COLFLAG_UNSIGNED) !=
                 (t->cols[ci].type.flags & SQL_COLFLAG_UNSIGNED)))
            return sql__serr(s, 1235, "42000",
                             "This version of sqld doesn't yet support "
                             "'changing the type of the integer primary "
                             "key'");
        bool changed = !same_type(&t->cols[ci], &nc);
        /* Key flags stay with the column. */
        nc.type.flags |= (uint16_t)(t->cols[ci].type.flags &
                                    (SQL_COLFLAG_PRI_KEY |
                                     SQL_COLFLAG_UNIQUE_KEY |
                                     SQL_COLFLAG_MULTIPLE_KEY));
        t->cols[ci] = nc;
        if (changed) {
            *rows = true;
            /* Indexes over it are rebuilt under new ids. */
            for (uint32_t x = 0; x < t->nidx; x++) {
                if ((int32_t)x == t->pk_handle_idx)
                    continue;
                for (uint32_t k = 0; k < t->idx[x].ncols; k++)
                    if (t->idx[x].cols[k] == (uint32_t)ci) {
                        if ((rc = sql__meta_next_id(txn, &t->idx[x].id)) != 0)
                            return sql__kverr(s, rc);
                        break;
                    }
            }
        }
        return place_column(s, t, (uint32_t)ci, al);
    }
    case AST_ALTER_ADD_INDEX: {
        if (al->index->kind == AST_IDX_FOREIGN) {
            sql__swarn(s, "Warning", 1235,
                       "FOREIGN KEY constraints are not enforced by this "
                       "version of sqld; the constraint was ignored");
            return 0;
        }
        int64_t id;
        if ((rc = sql__meta_next_id(txn, &id)) != 0)
            return sql__kverr(s, rc);
        return add_index(s, t, al->index, id, false);
    }
    case AST_ALTER_DROP_INDEX:
    case AST_ALTER_DROP_PRIMARY: {
        const char *name =
            al->kind == AST_ALTER_DROP_PRIMARY ? "PRIMARY" : al->name;
        int x = sql__table_index(t, name);
        if (x < 0)
            return sql__serr(s, 1091, "42000",
                             "Can't DROP '%.64s'; check that column/key exists",
                             name);
        if (x == t->pk_handle_idx)
            return sql__serr(s, 1235, "42000",
                             "This version of sqld doesn't yet support "
                             "'dropping the integer primary key'");
        sql__ddl_drop_index(t, (uint32_t)x);
        return 0;
    }
    case AST_ALTER_RENAME_COLUMN: {
        int ci = sql__table_col(t, al->name);
        if (ci < 0)
            return sql__serr(s, 1054, "42S22",
                             "Unknown column '%.64s' in '%.64s'", al->name,
                             t->name);
        int other = sql__table_col(t, al->new_name);
        if (other >= 0 && other != ci)
            return sql__serr(s, 1060, "42S21",
                             "Duplicate column name '%.64s'", al->new_name);
        t->cols[ci].name = astrdup(t->arena, al->new_name);
        return t->cols[ci].name ? 0 : -ENOMEM;
    }
    case AST_ALTER_RENAME_INDEX: {
        int x = sql__table_index(t, al->name);
        if (x < 0)
            return sql__serr(s, 1176, "42000",
                             "Key '%.64s' doesn't exist in table '%.64s'",
                             al->name, t->name);
        if (sql__table_index(t, al->new_name) >= 0)
            return sql__serr(s, 1061, "42000", "Duplicate key name '%.64s'",
                             al->new_name);
        t->idx[x].name = astrdup(t->arena, al->new_name);
        return t->idx[x].name ? 0 : -ENOMEM;
    }
    case AST_ALTER_RENAME:
        *new_db = al->new_db;
        *new_name = al->new_name;
        return 0;
    case AST_ALTER_SET_DEFAULT:
    case AST_ALTER_DROP_DEFAULT: {
        int ci = sql__table_col(t, al->name);
        if (ci < 0)
            return sql__serr(s, 1054, "42S22",
                             "Unknown column '%.64s' in '%.64s'", al->name,
                             t->name);
        struct sql_colinfo *c = &t->cols[ci];
        if (al->kind == AST_ALTER_DROP_DEFAULT) {
            c->has_default = false;
            c->default_sql = NULL;
            return 0;
        }
        if (al->def->kind == AST_E_NULL && c->not_null)
            return sql__serr(s, 1067, "42000",
                             "Invalid default value for '%.64s'", c->name);
        c->has_default = true;
        c->default_sql = al->def->kind == AST_E_NULL
                             ? NULL
                             : sql__ast_print_expr(t->arena, al->def);
        c->type.flags &= (uint16_t)~SQL_COLFLAG_NO_DEFAULT_VALUE;
        return 0;
    }
    case AST_ALTER_OPTIONS:
        for (const struct ast_option *o = al->options; o; o = o->next) {
            const char *v = option_text(t->arena, o);
            if (strcmp(o->name, "AUTO_INCREMENT") == 0 && v)
                t->auto_inc_start = strtoull(v, NULL, 10);
            else if (strcmp(o->name, "COMMENT") == 0)
                t->comment = v;
        }
        return 0;
    default: /* DISABLE/ENABLE KEYS, DROP FOREIGN KEY: nothing to do */
        return 0;
    }
}

static int alter_table(struct sql_session *s, const char *db,
                       const char *name, const struct ast_alter *specs)
{
    struct sql_tableinfo *old;
    int rc = sql__sess_table(s, db, name, &old);
    if (rc == 0)
        rc = sql__view_not_base(s, old);
    if (rc != 0)
        return rc;
    struct sql_kvtxn *txn;
    if ((rc = ddl_txn_begin(s, &txn)) != 0)
        return rc;
    struct sql_tableinfo *t = sql__tableinfo_copy(old);
    if (!t) {
        sql__kvtxn_rollback(txn);
        return -ENOMEM;
    }
    bool rows = false;
    const char *new_db = NULL, *new_name = NULL;
    for (const struct ast_alter *al = specs; rc == 0 && al; al = al->next)
        rc = alter_spec(s, txn, t, al, &rows, &new_db, &new_name);
    /* Which index entries go and which are built. */
    bool *build = sql__arena_zalloc(s->arena, sizeof(bool) * (t->nidx + 1));
    int64_t *drop = sql__arena_alloc(s->arena,
                                     sizeof(int64_t) * (old->nidx + 1));
    size_t ndrop = 0;
    if (rc == 0 && (!build || !drop))
        rc = -ENOMEM;
    for (uint32_t i = 0; rc == 0 && i < t->nidx; i++) {
        bool known = false;
        for (uint32_t j = 0; j < old->nidx; j++)
            known = known || old->idx[j].id == t->idx[i].id;
        build[i] = !known;
    }
    for (uint32_t j = 0; rc == 0 && j < old->nidx; j++) {
        bool kept = false;
        for (uint32_t i = 0; i < t->nidx; i++)
            kept = kept || old->idx[j].id == t->idx[i].id;
        if (!kept && (int32_t)j != old->pk_handle_idx)
            drop[ndrop++] = old->idx[j].id;
    }
    if (rc == 0)
        rc = sql__table_rewrite(s, txn, old, t, rows, build, drop, ndrop);
    if (rc == 0 && new_name) {
        struct sql_dbinfo *to;
        if ((rc = sql__sess_db(s, new_db ? new_db : db, &to)) == 0) {
            if (sql__catalog_table(s->srv->cat, to->id, new_name) &&
                !(to->id == old->db_id && strcmp(new_name, old->name) == 0))
                rc = sql__serr(s, 1050, "42S01",
                               "Table '%.64s' already exists", new_name);
            else if ((rc = too_long(s, new_name)) == 0) {
                t->db_id = to->id;
                t->name = astrdup(t->arena, new_name);
                if (!t->name)
                    rc = -ENOMEM;
            }
        }
    }
    if (rc == 0) {
        int r2 = sql__meta_del_table(txn, old->db_id, old->id);
        r2 = r2 ? r2 : sql__meta_put_table(txn, t);
        if (r2 != 0)
            rc = sql__kverr(s, r2);
    }
    if (rc != 0) {
        sql__kvtxn_rollback(txn);
        sql__tableinfo_free(t);
        return rc;
    }
    if ((rc = ddl_txn_commit(s, txn)) != 0) {
        sql__tableinfo_free(t);
        return rc;
    }
    if (sql__catalog_put_table(s->srv->cat, t) != 0) {
        sql__tableinfo_free(t);
        return -ENOMEM;
    }
    return sql__sess_ok(s, 0, 0);
}

int sql__ddl_run(struct sql_session *s, const struct ast_stmt *st)
{
    switch (st->kind) {
    case AST_CREATE_DATABASE:
        return create_database(s, st);
    case AST_DROP_DATABASE:
        return drop_database(s, st);
    case AST_CREATE_TABLE:
        return create_table(s, st);
    case AST_DROP_TABLE:
    case AST_DROP_VIEW:
        return drop_table(s, st);
    case AST_TRUNCATE:
        return truncate_table(s, st);
    case AST_RENAME_TABLE:
        return rename_table(s, st);
    case AST_ALTER_TABLE:
        return alter_table(s, st->db, st->name, st->alter);
    case AST_CREATE_INDEX: {
        struct ast_alter al = {.kind = AST_ALTER_ADD_INDEX,
                               .index = st->index};
        return alter_table(s, st->db, st->name, &al);
    }
    case AST_DROP_INDEX: {
        struct ast_alter al = {.kind = AST_ALTER_DROP_INDEX,
                               .name = st->column};
        return alter_table(s, st->db, st->name, &al);
    }
    case AST_CREATE_VIEW:
        return sql__view_create(s, st);
    default:
        return sql__serr(s, 1235, "42000",
                         "This version of sqld doesn't yet support 'this "
                         "DDL'");
    }
}

/* view.c's DDL transactions: the schema version bumped, the cache's
 * version moved at commit. */
int sql__ddl_begin(struct sql_session *s, struct sql_kvtxn **t)
{
    return ddl_txn_begin(s, t);
}

int sql__ddl_commit(struct sql_session *s, struct sql_kvtxn *t)
{
    return ddl_txn_commit(s, t);
}
