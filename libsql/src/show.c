/* show.c: SHOW statements and DESCRIBE, answered from the catalog cache,
 * the variables and the session list (DESIGN.md "Engine"). Column names
 * and orders are MySQL 8.0's, which client tools read by position.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "acct.h"
#include "exec.h"
#include "lex.h"
#include "plan.h"
#include "session.h"
#include "sql_int.h"
#include "stats.h"
#include "view.h"

const char *sql__ddl_coll_name(uint16_t coll);

#define S SQL_TYPE_VAR_STRING
#define I SQL_TYPE_LONGLONG

/* SQL LIKE: % any run, _ one character (UTF-8 aware), backslash escapes;
 * case-insensitive for ASCII (SHOW compares names so). */
bool sql__like(const char *p, size_t pn, const char *s, size_t sn, bool ci);
bool sql__like(const char *p, size_t pn, const char *s, size_t sn, bool ci)
{
    while (pn > 0) {
        char c = *p;
        if (c == '%') {
            while (pn > 0 && (*p == '%' || *p == '_')) {
                if (*p == '_') {
                    if (sn == 0)
                        return false;
                    size_t k = 1;
                    while (k < sn && ((unsigned char)s[k] & 0xC0) == 0x80)
                        k++;
                    s += k;
                    sn -= k;
                }
                p++;
                pn--;
            }
            if (pn == 0)
                return true;
            for (size_t i = 0; i <= sn; i++)
                if (sql__like(p, pn, s + i, sn - i, ci))
                    return true;
            return false;
        }
        if (sn == 0)
            return false;
        if (c == '_') {
            size_t k = 1;
            while (k < sn && ((unsigned char)s[k] & 0xC0) == 0x80)
                k++;
            s += k;
            sn -= k;
            p++;
            pn--;
            continue;
        }
        if (c == '\\' && pn > 1) {
            p++;
            pn--;
            c = *p;
        }
        char a = c, b = *s;
        if (ci) {
            if (a >= 'A' && a <= 'Z')
                a = (char)(a + 32);
            if (b >= 'A' && b <= 'Z')
                b = (char)(b + 32);
        }
        if (a != b)
            return false;
        p++;
        pn--;
        s++;
        sn--;
    }
    return sn == 0;
}

/* The LIKE filter of a SHOW (WHERE is not supported here). */
static int filter(struct sql_session *s, const struct ast_show *sh,
                  const char *name, bool *keep)
{
    (void)s;
    *keep = true;
    if (sh->like && sh->like->kind == AST_E_STRING)
        *keep = sql__like(sh->like->str.s, sh->like->str.n, name,
                          strlen(name), true);
    return 0;
}

static int show_databases(struct sql_session *s, const struct ast_show *sh)
{
    static const struct sql_rscol cols[] = {{"Database", S}};
    int rc = sql__rs_begin(s, cols, 1);
    struct sql_catalog *c = s->srv->cat;
    /* Sorted by name, as MySQL lists them. */
    const char *names[1024];
    size_t n = 0;
    names[n++] = "information_schema";
    for (size_t i = 0; i < c->ndbs && n < 1024; i++)
        if (sql__priv_db_visible(s, c->dbs[i]->name))
            names[n++] = c->dbs[i]->name;
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
            const char *t = names[j];
            names[j] = names[j - 1];
            names[j - 1] = t;
        }
    for (size_t i = 0; rc == 0 && i < n; i++) {
        bool keep;
        if ((rc = filter(s, sh, names[i], &keep)) != 0 || !keep)
            continue;
        struct sql_value v = sql__v_str(names[i]);
        rc = sql__rs_row(s, &v, 1);
    }
    return rc ? rc : sql__rs_end(s);
}

static int cmp_tables(const void *a, const void *b)
{
    const struct sql_tableinfo *x = *(struct sql_tableinfo *const *)a;
    const struct sql_tableinfo *y = *(struct sql_tableinfo *const *)b;
    return strcmp(x->name, y->name);
}

/* The tables of db sorted by name, in the statement arena. */
static int db_tables(struct sql_session *s, const struct sql_dbinfo *d,
                     struct sql_tableinfo ***out, size_t *n)
{
    struct sql_catalog *c = s->srv->cat;
    struct sql_tableinfo **arr =
        sql__arena_alloc(s->arena, sizeof(*arr) * (c->ntables + 1));
    if (!arr)
        return -ENOMEM;
    size_t k = 0;
    for (size_t i = 0; i < c->ntables; i++)
        if (c->tables[i]->db_id == d->id &&
            sql__priv_table_visible(s, d->name, c->tables[i]->name))
            arr[k++] = c->tables[i];
    qsort(arr, k, sizeof(*arr), cmp_tables);
    *out = arr;
    *n = k;
    return 0;
}

static int show_tables(struct sql_session *s, const struct ast_show *sh)
{
    struct sql_dbinfo *d;
    int rc;
    if (sql__is_schema(sh->db ? sh->db : s->db)) {
        struct sql_rscol cols[] = {{"Tables_in_information_schema", S},
                                   {"Table_type", S}};
        rc = sql__rs_begin(s, cols, sh->full ? 2 : 1);
        for (size_t i = 0; rc == 0 && i < sql__is_count(); i++) {
            bool keep;
            if ((rc = filter(s, sh, sql__is_name(i), &keep)) != 0 || !keep)
                continue;
            struct sql_value v[2] = {sql__v_str(sql__is_name(i)),
                                     sql__v_str("SYSTEM VIEW")};
            rc = sql__rs_row(s, v, sh->full ? 2 : 1);
        }
        return rc ? rc : sql__rs_end(s);
    }
    rc = sql__sess_db(s, sh->db, &d);
    if (rc != 0)
        return rc;
    char title[96];
    snprintf(title, sizeof(title), "Tables_in_%s", d->name);
    struct sql_rscol cols[] = {{title, S}, {"Table_type", S}};
    rc = sql__rs_begin(s, cols, sh->full ? 2 : 1);
    struct sql_tableinfo **ts;
    size_t n;
    if (rc == 0)
        rc = db_tables(s, d, &ts, &n);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        bool keep;
        if ((rc = filter(s, sh, ts[i]->name, &keep)) != 0 || !keep)
            continue;
        struct sql_value v[2] = {
            sql__v_str(ts[i]->name),
            sql__v_str(ts[i]->view_sql ? "VIEW" : "BASE TABLE")};
        rc = sql__rs_row(s, v, sh->full ? 2 : 1);
    }
    return rc ? rc : sql__rs_end(s);
}

static bool col_in_pk(const struct sql_tableinfo *t, uint32_t ci)
{
    for (uint32_t i = 0; i < t->nidx; i++)
        if (t->idx[i].primary)
            for (uint32_t k = 0; k < t->idx[i].ncols; k++)
                if (t->idx[i].cols[k] == ci)
                    return true;
    return false;
}

static const char *col_key(const struct sql_tableinfo *t, uint32_t ci)
{
    if (col_in_pk(t, ci))
        return "PRI";
    for (uint32_t i = 0; i < t->nidx; i++)
        if (t->idx[i].unique && t->idx[i].ncols == 1 &&
            t->idx[i].cols[0] == ci)
            return "UNI";
    for (uint32_t i = 0; i < t->nidx; i++)
        if (t->idx[i].cols[0] == ci)
            return "MUL";
    return "";
}

static bool default_is_expr(const struct sql_colinfo *c);

/* A default as SHOW COLUMNS shows it: the value converted to the column's
 * type (DEFAULT 0 on DECIMAL(10,2) shows 0.00), strings unquoted; an
 * expression default (CURRENT_TIMESTAMP) as written. */
static const char *default_value(struct sql_session *s,
                                 const struct sql_tableinfo *t, uint32_t ci)
{
    const struct sql_colinfo *c = &t->cols[ci];
    const char *d = c->default_sql;
    if (!d)
        return NULL;
    if (!default_is_expr(c)) {
        struct sql_xctx x;
        struct sql_datum v;
        bool none;
        const char *text;
        size_t n;
        if (sql__xctx_init(&x, s, false) == 0 &&
            sql__exec_default(&x, t, ci, &v, &none) == 0 &&
            v.vt != SQL_VT_NULL &&
            sql__datum_text(&v, &c->type, s->arena, &text, &n) == 0)
            return sql__arena_strndup(s->arena, text, n);
        memset(&s->err, 0, sizeof(s->err));
    }
    size_t n = strlen(d);
    if (n >= 2 && d[0] == '\'' && d[n - 1] == '\'') {
        char *out = sql__arena_alloc(s->arena, n);
        if (!out)
            return d;
        size_t k = 0;
        for (size_t i = 1; i + 1 < n; i++) {
            if (d[i] == '\\' && i + 2 < n) {
                i++;
                out[k++] = d[i] == 'n' ? '\n' : d[i] == 't' ? '\t' : d[i];
            } else
                out[k++] = d[i];
        }
        out[k] = '\0';
        return out;
    }
    return d;
}

static bool default_is_expr(const struct sql_colinfo *c)
{
    const char *d = c->default_sql;
    return d && d[0] != '\'' && !(d[0] >= '0' && d[0] <= '9') && d[0] != '-' &&
           d[0] != '.';
}

static const char *col_extra(const struct sql_colinfo *c)
{
    if (c->auto_inc)
        return "auto_increment";
    if (c->on_update_now && default_is_expr(c))
        return "DEFAULT_GENERATED on update CURRENT_TIMESTAMP";
    if (c->on_update_now)
        return "on update CURRENT_TIMESTAMP";
    if (default_is_expr(c))
        return "DEFAULT_GENERATED";
    return "";
}

static int show_columns(struct sql_session *s, const char *db,
                        const char *table, const char *only, bool full,
                        const struct ast_show *sh)
{
    struct sql_tableinfo *t;
    int rc = sql__sess_table(s, db, table, &t);
    if (rc != 0)
        return rc;
    static const struct sql_rscol plain[] = {
        {"Field", S}, {"Type", S}, {"Null", S},
        {"Key", S},   {"Default", S}, {"Extra", S}};
    static const struct sql_rscol fullc[] = {
        {"Field", S}, {"Type", S},    {"Collation", S},  {"Null", S},
        {"Key", S},   {"Default", S}, {"Extra", S},      {"Privileges", S},
        {"Comment", S}};
    rc = full ? sql__rs_begin(s, fullc, 9) : sql__rs_begin(s, plain, 6);
    for (uint32_t i = 0; rc == 0 && i < t->ncols; i++) {
        const struct sql_colinfo *c = &t->cols[i];
        if (only && !sql__like(only, strlen(only), c->name, strlen(c->name),
                               true))
            continue;
        bool keep = true;
        if (sh && (rc = filter(s, sh, c->name, &keep)) != 0)
            break;
        if (!keep)
            continue;
        const char *coll = c->type.coll != SQL_COLL_BINARY &&
                                   (c->type.flags & SQL_COLFLAG_NUM) == 0 &&
                                   c->type.tp != SQL_TYPE_DATE &&
                                   c->type.tp != SQL_TYPE_DATETIME &&
                                   c->type.tp != SQL_TYPE_TIMESTAMP &&
                                   c->type.tp != SQL_TYPE_TIME
                               ? sql__ddl_coll_name(c->type.coll)
                               : NULL;
        struct sql_value v[9];
        size_t k = 0;
        v[k++] = sql__v_str(c->name);
        v[k++] = sql__v_str(c->type_sql);
        if (full)
            v[k++] = sql__v_str(coll);
        v[k++] = sql__v_str(c->not_null ? "NO" : "YES");
        v[k++] = sql__v_str(col_key(t, i));
        v[k++] = sql__v_str(default_value(s, t, i));
        v[k++] = sql__v_str(col_extra(c));
        if (full) {
            v[k++] = sql__v_str("select,insert,update,references");
            v[k++] = sql__v_str(c->comment ? c->comment : "");
        }
        rc = sql__rs_row(s, v, k);
    }
    return rc ? rc : sql__rs_end(s);
}

/* ---- SHOW CREATE TABLE ------------------------------------------------- */

static int put_ident(struct sql__buf *b, const char *name)
{
    int rc = sql__buf_put(b, "`", 1);
    for (const char *p = name; rc == 0 && *p; p++)
        rc = *p == '`' ? sql__buf_put(b, "``", 2) : sql__buf_put(b, p, 1);
    return rc ? rc : sql__buf_put(b, "`", 1);
}

static int put_quoted(struct sql__buf *b, const char *str)
{
    int rc = sql__buf_put(b, "'", 1);
    for (const char *p = str; rc == 0 && *p; p++) {
        if (*p == '\'')
            rc = sql__buf_put(b, "''", 2);
        else if (*p == '\\')
            rc = sql__buf_put(b, "\\\\", 2);
        else if (*p == '\n')
            rc = sql__buf_put(b, "\\n", 2);
        else
            rc = sql__buf_put(b, p, 1);
    }
    return rc ? rc : sql__buf_put(b, "'", 1);
}

static int puts_(struct sql__buf *b, const char *str)
{
    return sql__buf_put(b, str, strlen(str));
}

int sql__create_table_sql(struct sql_session *s, const struct sql_tableinfo *t,
                          struct sql__buf *b);
int sql__create_table_sql(struct sql_session *s, const struct sql_tableinfo *t,
                          struct sql__buf *b)
{
    int rc = puts_(b, "CREATE TABLE ");
    rc = rc ? rc : put_ident(b, t->name);
    rc = rc ? rc : puts_(b, " (\n");
    for (uint32_t i = 0; rc == 0 && i < t->ncols; i++) {
        const struct sql_colinfo *c = &t->cols[i];
        rc = puts_(b, "  ");
        rc = rc ? rc : put_ident(b, c->name);
        rc = rc ? rc : puts_(b, " ");
        rc = rc ? rc : puts_(b, c->type_sql);
        if (rc == 0 && c->type.coll != SQL_COLL_BINARY &&
            !(c->type.flags & SQL_COLFLAG_NUM) && t->collate &&
            strcasecmp(sql__ddl_coll_name(c->type.coll), t->collate) != 0 &&
            c->type.tp != SQL_TYPE_DATE && c->type.tp != SQL_TYPE_DATETIME &&
            c->type.tp != SQL_TYPE_TIMESTAMP && c->type.tp != SQL_TYPE_TIME) {
            rc = puts_(b, " COLLATE ");
            rc = rc ? rc : puts_(b, sql__ddl_coll_name(c->type.coll));
        }
        if (rc == 0 && c->not_null)
            rc = puts_(b, " NOT NULL");
        if (rc == 0 && c->auto_inc)
            rc = puts_(b, " AUTO_INCREMENT");
        else if (rc == 0 && c->default_sql) {
            rc = puts_(b, " DEFAULT ");
            if (default_is_expr(c))
                rc = rc ? rc : puts_(b, c->default_sql);
            else
                rc = rc ? rc : put_quoted(b, default_value(s, t, i));
        } else if (rc == 0 && !c->not_null &&
                   !(c->type.flags & SQL_COLFLAG_BLOB))
            rc = puts_(b, " DEFAULT NULL");
        if (rc == 0 && c->on_update_now)
            rc = puts_(b, " ON UPDATE CURRENT_TIMESTAMP");
        if (rc == 0 && c->comment) {
            rc = puts_(b, " COMMENT ");
            rc = rc ? rc : put_quoted(b, c->comment);
        }
        if (rc == 0 && (i + 1 < t->ncols || t->nidx > 0))
            rc = puts_(b, ",");
        rc = rc ? rc : puts_(b, "\n");
    }
    for (uint32_t i = 0; rc == 0 && i < t->nidx; i++) {
        const struct sql_idxinfo *x = &t->idx[i];
        rc = puts_(b, x->primary  ? "  PRIMARY KEY ("
                      : x->unique ? "  UNIQUE KEY "
                                  : "  KEY ");
        if (rc == 0 && !x->primary) {
            rc = put_ident(b, x->name);
            rc = rc ? rc : puts_(b, " (");
        }
        for (uint32_t k = 0; rc == 0 && k < x->ncols; k++) {
            if (k)
                rc = puts_(b, ",");
            rc = rc ? rc : put_ident(b, t->cols[x->cols[k]].name);
            if (rc == 0 && x->prefix[k] > 0) {
                char p[24];
                snprintf(p, sizeof(p), "(%d)", (int)x->prefix[k]);
                rc = puts_(b, p);
            }
        }
        rc = rc ? rc : puts_(b, ")");
        if (rc == 0 && x->comment) {
            rc = puts_(b, " COMMENT ");
            rc = rc ? rc : put_quoted(b, x->comment);
        }
        if (rc == 0 && i + 1 < t->nidx)
            rc = puts_(b, ",");
        rc = rc ? rc : puts_(b, "\n");
    }
    rc = rc ? rc : puts_(b, ") ENGINE=InnoDB");
    bool has_auto = false;
    for (uint32_t i = 0; i < t->ncols; i++)
        has_auto = has_auto || t->cols[i].auto_inc;
    if (rc == 0 && has_auto) {
        uint64_t next = sql__autoid_next(s->srv->cat, t->id);
        if (next < t->auto_inc_start)
            next = t->auto_inc_start;
        if (next > 1) {
            char buf[40];
            snprintf(buf, sizeof(buf), " AUTO_INCREMENT=%llu",
                     (unsigned long long)next);
            rc = puts_(b, buf);
        }
    }
    rc = rc ? rc : puts_(b, " DEFAULT CHARSET=");
    rc = rc ? rc : puts_(b, t->charset ? t->charset : "utf8mb4");
    if (rc == 0 && t->collate) {
        rc = puts_(b, " COLLATE=");
        rc = rc ? rc : puts_(b, t->collate);
    }
    if (rc == 0 && t->comment) {
        rc = puts_(b, " COMMENT=");
        rc = rc ? rc : put_quoted(b, t->comment);
    }
    return rc;
}

static int show_create_table(struct sql_session *s, const struct ast_show *sh)
{
    struct sql_tableinfo *t;
    int rc = sql__sess_table(s, sh->db, sh->table, &t);
    if (rc != 0)
        return rc;
    if (t->view_sql) /* MySQL answers SHOW CREATE VIEW's result */
        return sql__view_show_create(s, sh);
    struct sql__buf b = {0};
    rc = sql__create_table_sql(s, t, &b);
    static const struct sql_rscol cols[] = {{"Table", S}, {"Create Table", S}};
    rc = rc ? rc : sql__rs_begin(s, cols, 2);
    if (rc == 0) {
        struct sql_value v[2] = {sql__v_str(t->name), {0}};
        v[1].kind = SQL_VALUE_BYTES;
        v[1].v.s.p = (const char *)b.p;
        v[1].v.s.len = b.len;
        rc = sql__rs_row(s, v, 2);
    }
    sql__buf_free(&b);
    return rc ? rc : sql__rs_end(s);
}

static int show_create_database(struct sql_session *s,
                                const struct ast_stmt *st)
{
    struct sql_dbinfo *d;
    int rc = sql__sess_db(s, st->show->db, &d);
    if (rc != 0)
        return rc;
    char text[400];
    snprintf(text, sizeof(text),
             "CREATE DATABASE %s`%s` /*!40100 DEFAULT CHARACTER SET %s "
             "COLLATE %s */ /*!80016 DEFAULT ENCRYPTION='N' */",
             st->if_exists ? "/*!32312 IF NOT EXISTS*/ " : "", d->name,
             d->charset ? d->charset : "utf8mb4",
             d->collate ? d->collate : "utf8mb4_general_ci");
    static const struct sql_rscol cols[] = {{"Database", S},
                                            {"Create Database", S}};
    rc = sql__rs_begin(s, cols, 2);
    struct sql_value v[2] = {sql__v_str(d->name), sql__v_str(text)};
    rc = rc ? rc : sql__rs_row(s, v, 2);
    return rc ? rc : sql__rs_end(s);
}

static int show_index(struct sql_session *s, const struct ast_show *sh)
{
    struct sql_tableinfo *t;
    int rc = sql__sess_table(s, sh->db, sh->table, &t);
    if (rc != 0)
        return rc;
    static const struct sql_rscol cols[] = {
        {"Table", S},       {"Non_unique", I},    {"Key_name", S},
        {"Seq_in_index", I}, {"Column_name", S},   {"Collation", S},
        {"Cardinality", I}, {"Sub_part", I},      {"Packed", S},
        {"Null", S},        {"Index_type", S},    {"Comment", S},
        {"Index_comment", S}, {"Visible", S},     {"Expression", S}};
    rc = sql__rs_begin(s, cols, 15);
    for (uint32_t i = 0; rc == 0 && i < t->nidx; i++) {
        const struct sql_idxinfo *x = &t->idx[i];
        for (uint32_t k = 0; rc == 0 && k < x->ncols; k++) {
            const struct sql_colinfo *c = &t->cols[x->cols[k]];
            struct sql_value v[15] = {
                sql__v_str(t->name),
                sql__v_int(x->unique ? 0 : 1),
                sql__v_str(x->name),
                sql__v_int((int64_t)k + 1),
                sql__v_str(c->name),
                sql__v_str("A"),
                sql__v_int(0),
                x->prefix[k] > 0 ? sql__v_int(x->prefix[k]) : sql__v_null(),
                sql__v_null(),
                sql__v_str(c->not_null ? "" : "YES"),
                sql__v_str("BTREE"),
                sql__v_str(""),
                sql__v_str(x->comment ? x->comment : ""),
                sql__v_str("YES"),
                sql__v_null()};
            rc = sql__rs_row(s, v, 15);
        }
    }
    return rc ? rc : sql__rs_end(s);
}

static int show_variables(struct sql_session *s, const struct ast_show *sh)
{
    static const struct sql_rscol cols[] = {{"Variable_name", S},
                                            {"Value", S}};
    int rc = sql__rs_begin(s, cols, 2);
    for (size_t i = 0; rc == 0 && i < sql__sysvar_count(); i++) {
        const struct sysvar_def *d = sql__sysvar_def(i);
        bool keep;
        if ((rc = filter(s, sh, d->name, &keep)) != 0 || !keep)
            continue;
        const struct sysvar_val *v = sh->scope == SQL_SCOPE_GLOBAL
                                         ? &s->srv->globals[i]
                                         : sql__sess_var(s, (int)i);
        if (sh->scope == SQL_SCOPE_GLOBAL && !(d->scope & SYSVAR_GLOBAL))
            continue;
        const char *text = v->text;
        if (d->kind == SYSVAR_BOOL)
            text = v->u ? "ON" : "OFF";
        struct sql_value row[2] = {sql__v_str(d->name), sql__v_str(text)};
        rc = sql__rs_row(s, row, 2);
    }
    return rc ? rc : sql__rs_end(s);
}

static int show_status(struct sql_session *s, const struct ast_show *sh)
{
    static const struct sql_rscol cols[] = {{"Variable_name", S},
                                            {"Value", S}};
    size_t threads = 0;
    sql__sess_list_lock(s->srv);
    for (struct sql_session *o = s->srv->sessions; o; o = o->next)
        threads++;
    sql__sess_list_unlock(s->srv);
    char uptime[32], queries[32], nthreads[32], tables[32];
    snprintf(uptime, sizeof(uptime), "%lld",
             (long long)((sql__now_us() - s->srv->started_us) / 1000000));
    snprintf(queries, sizeof(queries), "%llu",
             (unsigned long long)__atomic_load_n(&s->srv->queries,
                                                 __ATOMIC_RELAXED));
    snprintf(nthreads, sizeof(nthreads), "%zu", threads);
    snprintf(tables, sizeof(tables), "%zu", s->srv->cat->ntables);
    const char *ssl_version, *ssl_cipher;
    sql__tls_status(s, &ssl_version, &ssl_cipher);
    /* The plan cache (plancache.c): this session's, or the server's. */
    bool global = sh->scope == SQL_SCOPE_GLOBAL;
    char pc_hits[32], pc_misses[32];
    snprintf(pc_hits, sizeof(pc_hits), "%llu", (unsigned long long)(
             global ? __atomic_load_n(&s->srv->plan_hits, __ATOMIC_RELAXED)
                    : s->plan_hits));
    snprintf(pc_misses, sizeof(pc_misses), "%llu", (unsigned long long)(
             global ? __atomic_load_n(&s->srv->plan_misses, __ATOMIC_RELAXED)
                    : s->plan_misses));
    const char *rows[][2] = {
        {"Open_tables", tables},      {"Plan_cache_hits", pc_hits},
        {"Plan_cache_misses", pc_misses}, {"Queries", queries},
        {"Questions", queries},       {"Ssl_cipher", ssl_cipher},
        {"Ssl_version", ssl_version}, {"Threads_connected", nthreads},
        {"Threads_running", "1"},     {"Uptime", uptime},
    };
    int rc = sql__rs_begin(s, cols, 2);
    for (size_t i = 0; rc == 0 && i < sizeof(rows) / sizeof(rows[0]); i++) {
        bool keep;
        if ((rc = filter(s, sh, rows[i][0], &keep)) != 0 || !keep)
            continue;
        struct sql_value v[2] = {sql__v_str(rows[i][0]),
                                 sql__v_str(rows[i][1])};
        rc = sql__rs_row(s, v, 2);
    }
    return rc ? rc : sql__rs_end(s);
}

static int show_warnings(struct sql_session *s, const struct ast_show *sh)
{
    bool errors = sh->kind == AST_SHOW_ERRORS;
    if (sh->count) {
        static const struct sql_rscol c1[] = {{"@@session.warning_count", I}};
        static const struct sql_rscol c2[] = {{"@@session.error_count", I}};
        int rc = sql__rs_begin(s, errors ? c2 : c1, 1);
        struct sql_value v = sql__v_int(
            (int64_t)(errors ? s->nerrors : s->nwarns_total));
        rc = rc ? rc : sql__rs_row(s, &v, 1);
        return rc ? rc : sql__rs_end(s);
    }
    static const struct sql_rscol cols[] = {
        {"Level", S}, {"Code", I}, {"Message", S}};
    int rc = sql__rs_begin(s, cols, 3);
    for (size_t i = 0; rc == 0 && i < s->nwarns; i++) {
        const struct sql_warning *w = &s->warns[i];
        if (errors && strcmp(w->level, "Error") != 0)
            continue;
        struct sql_value v[3] = {sql__v_str(w->level), sql__v_int(w->code),
                                 sql__v_str(w->msg)};
        rc = sql__rs_row(s, v, 3);
    }
    return rc ? rc : sql__rs_end(s);
}

static int show_processlist(struct sql_session *s, const struct ast_show *sh)
{
    static const struct sql_rscol cols[] = {
        {"Id", I},      {"User", S}, {"Host", S},  {"db", S},
        {"Command", S}, {"Time", I}, {"State", S}, {"Info", S}};
    int rc = sql__rs_begin(s, cols, 8);
    int64_t now = sql__now_us();
    bool all = sql__priv_global(s, SQL_PRIV_PROCESS);
    /* sess_mu keeps the list and the fields it shows still (their owners
     * change them under it); the rows go to this session's own reply. */
    sql__sess_list_lock(s->srv);
    for (struct sql_session *o = s->srv->sessions; rc == 0 && o; o = o->next) {
        if (!all && !sql__sess_same_user(s, o))
            continue; /* others' threads need PROCESS */
        char user[96], *host;
        snprintf(user, sizeof(user), "%s", o->user[0] ? o->user : "root");
        host = strchr(user, '@');
        if (host)
            *host++ = '\0';
        char info[1024];
        size_t n = o->cur_len;
        if (!sh->full && n > 100)
            n = 100;
        if (n > sizeof(info) - 1)
            n = sizeof(info) - 1;
        if (o->cur_text)
            memcpy(info, o->cur_text, n);
        info[n] = '\0';
        struct sql_value v[8] = {
            sql__v_int(o->conn_id),
            sql__v_str(user),
            sql__v_str(host ? host : "localhost"),
            sql__v_str(o->db),
            sql__v_str(o->cur_text ? "Query" : "Sleep"),
            sql__v_int((now - (o->cur_text ? o->stmt_start_us
                                           : o->conn_start_us)) /
                       1000000),
            sql__v_str(o->lock_waiting ? "Waiting for row lock"
                       : o->cur_text ? "executing"
                                     : ""),
            sql__v_str(o->cur_text ? info : NULL)};
        rc = sql__rs_row(s, v, 8);
    }
    sql__sess_list_unlock(s->srv);
    return rc ? rc : sql__rs_end(s);
}

static int show_table_status(struct sql_session *s, const struct ast_show *sh)
{
    struct sql_dbinfo *d;
    int rc = sql__sess_db(s, sh->db, &d);
    if (rc != 0)
        return rc;
    static const struct sql_rscol cols[] = {
        {"Name", S},           {"Engine", S},          {"Version", I},
        {"Row_format", S},     {"Rows", I},            {"Avg_row_length", I},
        {"Data_length", I},    {"Max_data_length", I}, {"Index_length", I},
        {"Data_free", I},      {"Auto_increment", I},  {"Create_time", S},
        {"Update_time", S},    {"Check_time", S},      {"Collation", S},
        {"Checksum", I},       {"Create_options", S},  {"Comment", S}};
    rc = sql__rs_begin(s, cols, 18);
    struct sql_tableinfo **ts;
    size_t n;
    if (rc == 0)
        rc = db_tables(s, d, &ts, &n);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        bool keep;
        if ((rc = filter(s, sh, ts[i]->name, &keep)) != 0 || !keep)
            continue;
        struct sql_value v[18] = {
            sql__v_str(ts[i]->name), sql__v_str("InnoDB"), sql__v_int(10),
            sql__v_str("Dynamic"), sql__v_int(0), sql__v_int(0),
            sql__v_int(0), sql__v_int(0), sql__v_int(0), sql__v_int(0),
            sql__v_null(), sql__v_null(), sql__v_null(), sql__v_null(),
            sql__v_str(ts[i]->collate), sql__v_null(), sql__v_str(""),
            sql__v_str(ts[i]->comment ? ts[i]->comment : "")};
        rc = sql__rs_row(s, v, 18);
    }
    return rc ? rc : sql__rs_end(s);
}

/* A fixed table of strings. */
static int fixed(struct sql_session *s, const struct sql_rscol *cols,
                 size_t ncols, const char *const *cells, size_t nrows)
{
    int rc = sql__rs_begin(s, cols, ncols);
    for (size_t r = 0; rc == 0 && r < nrows; r++) {
        struct sql_value v[8];
        for (size_t c = 0; c < ncols && c < 8; c++)
            v[c] = cols[c].type == I ? sql__v_int(atoll(cells[r * ncols + c]))
                                     : sql__v_str(cells[r * ncols + c]);
        rc = sql__rs_row(s, v, ncols);
    }
    return rc ? rc : sql__rs_end(s);
}

int sql__show_run(struct sql_session *s, const struct ast_stmt *st)
{
    if (st->kind == AST_DESCRIBE)
        return show_columns(s, st->db, st->name, st->column, false, NULL);
    const struct ast_show *sh = st->show;
    s->rs_where = sh->where; /* the result writer filters the rows */
    switch (sh->kind) {
    case AST_SHOW_DATABASES:
        return show_databases(s, sh);
    case AST_SHOW_TABLES:
        return show_tables(s, sh);
    case AST_SHOW_TABLE_STATUS:
        return show_table_status(s, sh);
    case AST_SHOW_COLUMNS:
        return show_columns(s, sh->db, sh->table, NULL, sh->full, sh);
    case AST_SHOW_CREATE_TABLE:
        return show_create_table(s, sh);
    case AST_SHOW_CREATE_VIEW:
        return sql__view_show_create(s, sh);
    case AST_SHOW_CREATE_DATABASE:
        return show_create_database(s, st);
    case AST_SHOW_INDEX:
        return show_index(s, sh);
    case AST_SHOW_TABLE_REGIONS:
        return sql__show_table_regions(s, sh);
    case AST_SHOW_STATS_META:
    case AST_SHOW_STATS_HISTOGRAMS:
    case AST_SHOW_STATS_BUCKETS:
    case AST_SHOW_STATS_TOPN:
        return sql__show_stats(s, sh); /* analyze.c */
    case AST_SHOW_VARIABLES:
        return show_variables(s, sh);
    case AST_SHOW_STATUS:
        return show_status(s, sh);
    case AST_SHOW_WARNINGS:
    case AST_SHOW_ERRORS:
        return show_warnings(s, sh);
    case AST_SHOW_PROCESSLIST:
        return show_processlist(s, sh);
    case AST_SHOW_ENGINES: {
        static const struct sql_rscol cols[] = {
            {"Engine", S}, {"Support", S}, {"Comment", S},
            {"Transactions", S}, {"XA", S}, {"Savepoints", S}};
        static const char *const cells[] = {
            "InnoDB", "DEFAULT",
            "Snapshot-isolated transactions on libmvcc (every table)", "YES",
            "NO", "NO"};
        return fixed(s, cols, 6, cells, 1);
    }
    case AST_SHOW_CHARSET: {
        static const struct sql_rscol cols[] = {
            {"Charset", S}, {"Description", S}, {"Default collation", S},
            {"Maxlen", I}};
        static const char *const cells[] = {
            "binary", "Binary pseudo charset", "binary", "1",
            "utf8mb4", "UTF-8 Unicode", "utf8mb4_general_ci", "4"};
        return fixed(s, cols, 4, cells, 2);
    }
    case AST_SHOW_COLLATION: {
        static const struct sql_rscol cols[] = {
            {"Collation", S}, {"Charset", S}, {"Id", I}, {"Default", S},
            {"Compiled", S}, {"Sortlen", I}, {"Pad_attribute", S}};
        static const char *const cells[] = {
            "binary", "binary", "63", "Yes", "Yes", "1", "NO PAD",
            "utf8mb4_0900_ai_ci", "utf8mb4", "255", "", "Yes", "0", "NO PAD",
            "utf8mb4_bin", "utf8mb4", "46", "", "Yes", "1", "PAD SPACE",
            "utf8mb4_general_ci", "utf8mb4", "45", "Yes", "Yes", "1",
            "PAD SPACE"};
        return fixed(s, cols, 7, cells, 4);
    }
    case AST_SHOW_GRANTS:
        return sql__show_grants(s, sh);
    case AST_SHOW_CREATE_USER:
        return sql__show_create_user(s, sh);
    case AST_SHOW_PRIVILEGES:
        return sql__show_privileges(s);
    case AST_SHOW_TRIGGERS:
    case AST_SHOW_FUNCTION_STATUS:
    case AST_SHOW_PROCEDURE_STATUS:
    case AST_SHOW_EVENTS:
    case AST_SHOW_PLUGINS:
    case AST_SHOW_MASTER_STATUS:
    case AST_SHOW_BINARY_LOGS:
    case AST_SHOW_OPEN_TABLES: {
        /* Nothing of the kind exists: an empty result. */
        static const struct sql_rscol cols[] = {{"Name", S}};
        return fixed(s, cols, 1, NULL, 0);
    }
    default:
        return sql__serr(s, 1235, "42000",
                         "This version of sqld doesn't yet support 'this "
                         "SHOW statement'");
    }
}
