/* show_is.c: information_schema's SCHEMATA, TABLES, COLUMNS, STATISTICS
 * (and ENGINES, CHARACTER_SETS, COLLATIONS): virtual tables whose rows are
 * made from the catalog cache when a scan opens them, then filtered,
 * sorted and aggregated like any table (DESIGN.md "Engine").
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "acct.h"
#include "exec.h"
#include "sql_int.h"

enum is_table
{
    IS_SCHEMATA,
    IS_TABLES,
    IS_COLUMNS,
    IS_STATISTICS,
    IS_ENGINES,
    IS_CHARACTER_SETS,
    IS_COLLATIONS,
    /* Always empty here (no triggers, routines, views, events,
     * partitions or enforced foreign keys), as dump tools ask. */
    IS_TRIGGERS,
    IS_ROUTINES,
    IS_VIEWS,
    IS_EVENTS,
    IS_PARTITIONS,
    IS_KEY_COLUMN_USAGE,
    IS_REFERENTIAL_CONSTRAINTS,
    /* Privileges of the session's account (all with global SELECT). */
    IS_USER_PRIVILEGES,
    IS_SCHEMA_PRIVILEGES,
    IS_TABLE_PRIVILEGES,
    IS_COUNT,
};

struct is_col
{
    const char *name; /* column name */
    bool num;         /* BIGINT UNSIGNED, else VARCHAR */
};

#define V(n) {n, false}
#define N(n) {n, true}

static const struct is_col c_schemata[] = {
    V("CATALOG_NAME"), V("SCHEMA_NAME"), V("DEFAULT_CHARACTER_SET_NAME"),
    V("DEFAULT_COLLATION_NAME"), V("SQL_PATH"), V("DEFAULT_ENCRYPTION")};
static const struct is_col c_tables[] = {
    V("TABLE_CATALOG"), V("TABLE_SCHEMA"), V("TABLE_NAME"), V("TABLE_TYPE"),
    V("ENGINE"), N("VERSION"), V("ROW_FORMAT"), N("TABLE_ROWS"),
    N("AVG_ROW_LENGTH"), N("DATA_LENGTH"), N("MAX_DATA_LENGTH"),
    N("INDEX_LENGTH"), N("DATA_FREE"), N("AUTO_INCREMENT"), V("CREATE_TIME"),
    V("UPDATE_TIME"), V("CHECK_TIME"), V("TABLE_COLLATION"), N("CHECKSUM"),
    V("CREATE_OPTIONS"), V("TABLE_COMMENT")};
static const struct is_col c_columns[] = {
    V("TABLE_CATALOG"), V("TABLE_SCHEMA"), V("TABLE_NAME"), V("COLUMN_NAME"),
    N("ORDINAL_POSITION"), V("COLUMN_DEFAULT"), V("IS_NULLABLE"),
    V("DATA_TYPE"), N("CHARACTER_MAXIMUM_LENGTH"),
    N("CHARACTER_OCTET_LENGTH"), N("NUMERIC_PRECISION"), N("NUMERIC_SCALE"),
    N("DATETIME_PRECISION"), V("CHARACTER_SET_NAME"), V("COLLATION_NAME"),
    V("COLUMN_TYPE"), V("COLUMN_KEY"), V("EXTRA"), V("PRIVILEGES"),
    V("COLUMN_COMMENT"), V("GENERATION_EXPRESSION")};
static const struct is_col c_statistics[] = {
    V("TABLE_CATALOG"), V("TABLE_SCHEMA"), V("TABLE_NAME"), N("NON_UNIQUE"),
    V("INDEX_SCHEMA"), V("INDEX_NAME"), N("SEQ_IN_INDEX"), V("COLUMN_NAME"),
    V("COLLATION"), N("CARDINALITY"), N("SUB_PART"), V("PACKED"),
    V("NULLABLE"), V("INDEX_TYPE"), V("COMMENT"), V("INDEX_COMMENT"),
    V("IS_VISIBLE"), V("EXPRESSION")};
static const struct is_col c_engines[] = {
    V("ENGINE"), V("SUPPORT"), V("COMMENT"), V("TRANSACTIONS"), V("XA"),
    V("SAVEPOINTS")};
static const struct is_col c_charsets[] = {
    V("CHARACTER_SET_NAME"), V("DEFAULT_COLLATE_NAME"), V("DESCRIPTION"),
    N("MAXLEN")};
static const struct is_col c_collations[] = {
    V("COLLATION_NAME"), V("CHARACTER_SET_NAME"), N("ID"), V("IS_DEFAULT"),
    V("IS_COMPILED"), N("SORTLEN"), V("PAD_ATTRIBUTE")};

static const struct is_col c_triggers[] = {
    V("TRIGGER_CATALOG"), V("TRIGGER_SCHEMA"), V("TRIGGER_NAME"),
    V("EVENT_MANIPULATION"), V("EVENT_OBJECT_CATALOG"),
    V("EVENT_OBJECT_SCHEMA"), V("EVENT_OBJECT_TABLE"), N("ACTION_ORDER"),
    V("ACTION_CONDITION"), V("ACTION_STATEMENT"), V("ACTION_ORIENTATION"),
    V("ACTION_TIMING"), V("CREATED"), V("SQL_MODE"), V("DEFINER"),
    V("CHARACTER_SET_CLIENT"), V("COLLATION_CONNECTION"),
    V("DATABASE_COLLATION")};
static const struct is_col c_routines[] = {
    V("SPECIFIC_NAME"), V("ROUTINE_CATALOG"), V("ROUTINE_SCHEMA"),
    V("ROUTINE_NAME"), V("ROUTINE_TYPE"), V("DATA_TYPE"),
    V("ROUTINE_BODY"), V("ROUTINE_DEFINITION"), V("IS_DETERMINISTIC"),
    V("SQL_DATA_ACCESS"), V("SECURITY_TYPE"), V("CREATED"),
    V("LAST_ALTERED"), V("SQL_MODE"), V("ROUTINE_COMMENT"), V("DEFINER")};
static const struct is_col c_views[] = {
    V("TABLE_CATALOG"), V("TABLE_SCHEMA"), V("TABLE_NAME"),
    V("VIEW_DEFINITION"), V("CHECK_OPTION"), V("IS_UPDATABLE"),
    V("DEFINER"), V("SECURITY_TYPE"), V("CHARACTER_SET_CLIENT"),
    V("COLLATION_CONNECTION")};
static const struct is_col c_events[] = {
    V("EVENT_CATALOG"), V("EVENT_SCHEMA"), V("EVENT_NAME"), V("DEFINER"),
    V("TIME_ZONE"), V("EVENT_BODY"), V("EVENT_DEFINITION"),
    V("EVENT_TYPE"), V("STATUS")};
static const struct is_col c_partitions[] = {
    V("TABLE_CATALOG"), V("TABLE_SCHEMA"), V("TABLE_NAME"),
    V("PARTITION_NAME"), V("SUBPARTITION_NAME"),
    N("PARTITION_ORDINAL_POSITION"), V("PARTITION_METHOD"),
    V("PARTITION_EXPRESSION"), V("PARTITION_DESCRIPTION"), N("TABLE_ROWS"),
    V("TABLESPACE_NAME")};
static const struct is_col c_kcu[] = {
    V("CONSTRAINT_CATALOG"), V("CONSTRAINT_SCHEMA"), V("CONSTRAINT_NAME"),
    V("TABLE_CATALOG"), V("TABLE_SCHEMA"), V("TABLE_NAME"), V("COLUMN_NAME"),
    N("ORDINAL_POSITION"), N("POSITION_IN_UNIQUE_CONSTRAINT"),
    V("REFERENCED_TABLE_SCHEMA"), V("REFERENCED_TABLE_NAME"),
    V("REFERENCED_COLUMN_NAME")};
static const struct is_col c_refc[] = {
    V("CONSTRAINT_CATALOG"), V("CONSTRAINT_SCHEMA"), V("CONSTRAINT_NAME"),
    V("UNIQUE_CONSTRAINT_CATALOG"), V("UNIQUE_CONSTRAINT_SCHEMA"),
    V("UNIQUE_CONSTRAINT_NAME"), V("MATCH_OPTION"), V("UPDATE_RULE"),
    V("DELETE_RULE"), V("TABLE_NAME"), V("REFERENCED_TABLE_NAME")};

static const struct is_col c_user_privs[] = {
    V("GRANTEE"), V("TABLE_CATALOG"), V("PRIVILEGE_TYPE"), V("IS_GRANTABLE")};
static const struct is_col c_schema_privs[] = {
    V("GRANTEE"), V("TABLE_CATALOG"), V("TABLE_SCHEMA"), V("PRIVILEGE_TYPE"),
    V("IS_GRANTABLE")};
static const struct is_col c_table_privs[] = {
    V("GRANTEE"), V("TABLE_CATALOG"), V("TABLE_SCHEMA"), V("TABLE_NAME"),
    V("PRIVILEGE_TYPE"), V("IS_GRANTABLE")};

static const struct
{
    const char *name;           /* table name */
    const struct is_col *cols;  /* its columns */
    size_t ncols;               /* their count */
} is_tables[IS_COUNT] = {
#define T(n, c) {n, c, sizeof(c) / sizeof(c[0])}
    T("SCHEMATA", c_schemata),
    T("TABLES", c_tables),
    T("COLUMNS", c_columns),
    T("STATISTICS", c_statistics),
    T("ENGINES", c_engines),
    T("CHARACTER_SETS", c_charsets),
    T("COLLATIONS", c_collations),
    T("TRIGGERS", c_triggers),
    T("ROUTINES", c_routines),
    T("VIEWS", c_views),
    T("EVENTS", c_events),
    T("PARTITIONS", c_partitions),
    T("KEY_COLUMN_USAGE", c_kcu),
    T("REFERENTIAL_CONSTRAINTS", c_refc),
    T("USER_PRIVILEGES", c_user_privs),
    T("SCHEMA_PRIVILEGES", c_schema_privs),
    T("TABLE_PRIVILEGES", c_table_privs),
#undef T
};

bool sql__is_schema(const char *db)
{
    return db && strcasecmp(db, "information_schema") == 0;
}

size_t sql__is_count(void)
{
    return IS_COUNT;
}

const char *sql__is_name(size_t i)
{
    return i < IS_COUNT ? is_tables[i].name : NULL;
}

/* Virtual tables carry ids below this: no key space of their own. */
#define IS_ID_BASE (-1000)

bool sql__is_virtual(const struct sql_tableinfo *t)
{
    return (t->id <= IS_ID_BASE && t->id > IS_ID_BASE - IS_COUNT) ||
           t->id == SQL_DERIVED_ID || sql__cluster_is_id(t->id);
}

struct sql_tableinfo *sql__is_table(struct sql_session *s, const char *name)
{
    int which = -1;
    for (int i = 0; i < IS_COUNT; i++)
        if (strcasecmp(name, is_tables[i].name) == 0)
            which = i;
    if (which < 0)
        return sql__cluster_is_table(s, name);
    struct sql_tableinfo *t = sql__is_vtable(s, IS_ID_BASE - which,
                                             is_tables[which].name,
                                             is_tables[which].ncols);
    if (!t)
        return NULL;
    for (uint32_t i = 0; i < t->ncols; i++) {
        struct sql_colinfo *c = &t->cols[i];
        c->id = i + 1;
        c->name = is_tables[which].cols[i].name;
        sql__is_col_type(c, is_tables[which].cols[i].num);
    }
    return t;
}

struct sql_tableinfo *sql__is_vtable(struct sql_session *s, int64_t id,
                                     const char *name, size_t ncols)
{
    struct sql_tableinfo *t = sql__arena_zalloc(s->arena, sizeof(*t));
    if (!t)
        return NULL;
    t->id = id;
    t->name = name;
    t->handle_col = -1;
    t->pk_handle_idx = -1;
    t->ncols = (uint32_t)ncols;
    t->cols = sql__arena_zalloc(s->arena, sizeof(*t->cols) * t->ncols);
    return t->cols ? t : NULL;
}

void sql__is_col_type(struct sql_colinfo *c, bool num)
{
    if (num) {
        c->type.tp = SQL_TYPE_LONGLONG;
        c->type.len = 21;
        c->type.flags = SQL_COLFLAG_NUM | SQL_COLFLAG_UNSIGNED;
        c->type.coll = SQL_COLL_BINARY;
        c->type_sql = "bigint unsigned";
    } else {
        c->type.tp = SQL_TYPE_VAR_STRING;
        c->type.len = 512;
        c->type.coll = SQL_COLL_UTF8MB4_GENERAL_CI;
        c->type_sql = "varchar(512)";
    }
}

/* Row building: cells as datums in the arena. */
struct rows
{
    struct sql_arena *a;     /* where rows go */
    size_t ncols;            /* width */
    struct sql_datum *d;     /* rows, row-major */
    size_t n, cap;           /* count, allocation */
    struct sql_datum *cur;   /* the row being filled */
    size_t col;              /* next cell */
};

static int row_begin(struct rows *r)
{
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 64;
        struct sql_datum *d =
            sql__arena_alloc(r->a, sizeof(*d) * cap * r->ncols);
        if (!d)
            return -ENOMEM;
        if (r->n)
            memcpy(d, r->d, sizeof(*d) * r->n * r->ncols);
        r->d = d;
        r->cap = cap;
    }
    r->cur = r->d + r->n++ * r->ncols;
    memset(r->cur, 0, sizeof(*r->cur) * r->ncols);
    r->col = 0;
    return 0;
}

static void cell_str(struct rows *r, const char *str)
{
    struct sql_datum *d = &r->cur[r->col++];
    if (!str) {
        d->vt = SQL_VT_NULL;
        return;
    }
    d->vt = SQL_VT_STRING;
    d->coll = SQL_COLL_UTF8MB4_GENERAL_CI;
    d->v.s.p = str;
    d->v.s.n = strlen(str);
}

static void cell_num(struct rows *r, uint64_t v)
{
    struct sql_datum *d = &r->cur[r->col++];
    d->vt = SQL_VT_UINT;
    d->v.u = v;
}

static void cell_null(struct rows *r)
{
    r->cur[r->col++].vt = SQL_VT_NULL;
}

static const char *db_name(struct sql_session *s, int64_t id)
{
    for (size_t i = 0; i < s->srv->cat->ndbs; i++)
        if (s->srv->cat->dbs[i]->id == id)
            return s->srv->cat->dbs[i]->name;
    return "";
}

const char *sql__ddl_coll_name(uint16_t coll);

/* The DATA_TYPE of a column: its SHOW type up to '(' or ' '. */
static const char *data_type(struct sql_arena *a, const char *type_sql)
{
    size_t n = strcspn(type_sql, "( ");
    return sql__arena_strndup(a, type_sql, n);
}

static int col_key_of(const struct sql_tableinfo *t, uint32_t ci,
                      const char **out)
{
    *out = "";
    for (uint32_t i = 0; i < t->nidx; i++) {
        const struct sql_idxinfo *x = &t->idx[i];
        for (uint32_t k = 0; k < x->ncols; k++)
            if (x->cols[k] == ci && x->primary) {
                *out = "PRI";
                return 0;
            }
    }
    for (uint32_t i = 0; i < t->nidx; i++)
        if (t->idx[i].unique && t->idx[i].ncols == 1 && t->idx[i].cols[0] == ci)
            *out = "UNI";
    if (!**out)
        for (uint32_t i = 0; i < t->nidx; i++)
            if (t->idx[i].cols[0] == ci)
                *out = "MUL";
    return 0;
}

/* One row per privilege in privs (USAGE for none at the global level):
 * grantee, 'def', [db, [table,]] the privilege, grantable. */
static int priv_rows(struct rows *r, const char *grantee, const char *db,
                     const char *table, uint32_t privs, bool global)
{
    int rc = 0;
    bool grantable = privs & SQL_PRIV_GRANT;
    privs &= ~SQL_PRIV_GRANT;
    for (unsigned i = 0; rc == 0 && i < SQL_PRIV_NCOUNT; i++) {
        bool usage = global && privs == 0 && i == 0;
        if (!(privs & (1u << i)) && !usage)
            continue;
        if ((rc = row_begin(r)) != 0)
            break;
        cell_str(r, grantee);
        cell_str(r, "def");
        if (db)
            cell_str(r, db);
        if (table)
            cell_str(r, table);
        cell_str(r, usage ? "USAGE" : sql__priv_name(i));
        cell_str(r, grantable ? "YES" : "NO");
    }
    return rc;
}

static int privilege_rows(struct sql_session *s, int which, struct rows *r)
{
    bool all = sql__priv_global(s, SQL_PRIV_SELECT);
    const struct sql_acct *me = sql__sess_acct(s);
    const struct sql_accts *as = s->srv->accts;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < as->n; i++) {
        const struct sql_acct *ac = as->a[i];
        if (!all && ac != me)
            continue;
        char g[320];
        snprintf(g, sizeof(g), "'%s'@'%s'", ac->user, ac->host);
        const char *grantee = sql__arena_strndup(r->a, g, strlen(g));
        if (!grantee)
            return -ENOMEM;
        if (which == IS_USER_PRIVILEGES) {
            rc = priv_rows(r, grantee, NULL, NULL, ac->global, true);
            continue;
        }
        for (size_t k = 0; rc == 0 && k < ac->ngrants; k++) {
            const struct sql_grant *gr = &ac->grants[k];
            if ((gr->table != NULL) != (which == IS_TABLE_PRIVILEGES))
                continue;
            /* Copies: the cache may change before the rows are sent. */
            const char *db = sql__arena_strndup(r->a, gr->db,
                                                strlen(gr->db));
            const char *tb = gr->table ? sql__arena_strndup(
                                             r->a, gr->table,
                                             strlen(gr->table))
                                       : NULL;
            if (!db || (gr->table && !tb))
                return -ENOMEM;
            rc = priv_rows(r, grantee, db, tb, gr->privs, false);
        }
    }
    return rc;
}

int sql__is_rows(struct sql_xctx *x, const struct sql_tableinfo *vt,
                 struct sql_arena *a, struct sql_datum **out, size_t *n)
{
    struct sql_session *s = x->s;
    struct sql_catalog *cat = s->srv->cat;
    struct rows r = {.a = a, .ncols = vt->ncols};
    int which = (int)(IS_ID_BASE - vt->id);
    int rc = 0;
    char buf[64];
    if (sql__cluster_is_id(vt->id))
        return sql__cluster_is_rows(x, vt, a, out, n);
    switch (which) {
    case IS_SCHEMATA:
        for (size_t i = 0; rc == 0 && i <= cat->ndbs; i++) {
            if (i < cat->ndbs && !sql__priv_db_visible(s, cat->dbs[i]->name))
                continue;
            if ((rc = row_begin(&r)) != 0)
                break;
            bool is = i == cat->ndbs;
            const struct sql_dbinfo *d = is ? NULL : cat->dbs[i];
            cell_str(&r, "def");
            cell_str(&r, is ? "information_schema" : d->name);
            cell_str(&r, is ? "utf8mb3" : d->charset);
            cell_str(&r, is ? "utf8mb3_general_ci" : d->collate);
            cell_null(&r);
            cell_str(&r, "NO");
        }
        break;
    case IS_TABLES:
        for (size_t i = 0; rc == 0 && i < cat->ntables; i++) {
            const struct sql_tableinfo *t = cat->tables[i];
            if (!sql__priv_table_visible(s, db_name(s, t->db_id), t->name))
                continue;
            if ((rc = row_begin(&r)) != 0)
                break;
            cell_str(&r, "def");
            cell_str(&r, db_name(s, t->db_id));
            cell_str(&r, t->name);
            cell_str(&r, t->view_sql ? "VIEW" : "BASE TABLE");
            cell_str(&r, "InnoDB");
            cell_num(&r, 10);
            cell_str(&r, "Dynamic");
            for (int k = 0; k < 6; k++)
                cell_num(&r, 0);
            bool autoinc = false;
            for (uint32_t c = 0; c < t->ncols; c++)
                autoinc = autoinc || t->cols[c].auto_inc;
            if (autoinc) {
                uint64_t next = sql__autoid_next(cat, t->id);
                if (next == 0)
                    next = 1;
                if (next < t->auto_inc_start)
                    next = t->auto_inc_start;
                cell_num(&r, next);
            } else
                cell_null(&r);
            cell_null(&r);
            cell_null(&r);
            cell_null(&r);
            cell_str(&r, t->collate);
            cell_null(&r);
            cell_str(&r, "");
            cell_str(&r, t->comment ? t->comment : "");
        }
        for (size_t i = 0; rc == 0 && i < IS_COUNT; i++) {
            if ((rc = row_begin(&r)) != 0)
                break;
            cell_str(&r, "def");
            cell_str(&r, "information_schema");
            cell_str(&r, is_tables[i].name);
            cell_str(&r, "SYSTEM VIEW");
            for (size_t k = 4; k < vt->ncols; k++)
                cell_null(&r);
        }
        break;
    case IS_COLUMNS:
        for (size_t i = 0; rc == 0 && i < cat->ntables; i++) {
            const struct sql_tableinfo *t = cat->tables[i];
            if (!sql__priv_table_visible(s, db_name(s, t->db_id), t->name))
                continue;
            for (uint32_t ci = 0; rc == 0 && ci < t->ncols; ci++) {
                const struct sql_colinfo *c = &t->cols[ci];
                if ((rc = row_begin(&r)) != 0)
                    break;
                int vtc = sql__ftype_vt(&c->type);
                bool str = vtc == SQL_VT_STRING;
                cell_str(&r, "def");
                cell_str(&r, db_name(s, t->db_id));
                cell_str(&r, t->name);
                cell_str(&r, c->name);
                cell_num(&r, ci + 1);
                cell_null(&r); /* COLUMN_DEFAULT: filled below */
                if (c->default_sql) {
                    struct sql_datum dv;
                    bool none;
                    const char *text;
                    size_t tn;
                    if (sql__exec_default(x, t, ci, &dv, &none) == 0 &&
                        dv.vt != SQL_VT_NULL &&
                        sql__datum_text(&dv, &c->type, a, &text, &tn) == 0) {
                        r.col--;
                        cell_str(&r, sql__arena_strndup(a, text, tn));
                    }
                    memset(&s->err, 0, sizeof(s->err));
                }
                cell_str(&r, c->not_null ? "NO" : "YES");
                cell_str(&r, data_type(a, c->type_sql));
                if (str && !(c->type.flags & SQL_COLFLAG_BLOB) &&
                    c->type.tp != SQL_TYPE_ENUM &&
                    c->type.tp != SQL_TYPE_SET) {
                    cell_num(&r, c->type.len);
                    cell_num(&r, c->type.coll == SQL_COLL_BINARY
                                     ? c->type.len
                                     : (uint64_t)c->type.len * 4);
                } else if (str) {
                    cell_num(&r, c->type.len);
                    cell_num(&r, c->type.len);
                } else {
                    cell_null(&r);
                    cell_null(&r);
                }
                if (vtc == SQL_VT_INT || vtc == SQL_VT_UINT ||
                    vtc == SQL_VT_DECIMAL || vtc == SQL_VT_DOUBLE) {
                    uint64_t prec = c->type.len;
                    if (vtc == SQL_VT_INT || vtc == SQL_VT_UINT) {
                        static const uint8_t digits[] = {
                            [SQL_TYPE_TINY] = 3, [SQL_TYPE_SHORT] = 5,
                            [SQL_TYPE_INT24] = 7, [SQL_TYPE_LONG] = 10,
                            [SQL_TYPE_LONGLONG] = 19};
                        prec = c->type.tp < sizeof(digits)
                                   ? digits[c->type.tp]
                                   : 10;
                        if (c->type.tp == SQL_TYPE_LONGLONG &&
                            vtc == SQL_VT_UINT)
                            prec = 20;
                    } else if (vtc == SQL_VT_DECIMAL) {
                        prec = c->type.len - (c->type.dec > 0 ? 1 : 0) -
                               ((c->type.flags & SQL_COLFLAG_UNSIGNED) ? 0
                                                                        : 1);
                    } else
                        prec = c->type.tp == SQL_TYPE_FLOAT ? 12 : 22;
                    cell_num(&r, prec);
                    if (vtc == SQL_VT_DOUBLE && c->type.dec < 0)
                        cell_null(&r);
                    else
                        cell_num(&r, c->type.dec > 0 ? (uint64_t)c->type.dec
                                                     : 0);
                } else {
                    cell_null(&r);
                    cell_null(&r);
                }
                if (vtc == SQL_VT_DATETIME || vtc == SQL_VT_TIME ||
                    vtc == SQL_VT_DATE)
                    cell_num(&r, c->type.dec > 0 ? (uint64_t)c->type.dec : 0);
                else
                    cell_null(&r);
                if (str && c->type.coll != SQL_COLL_BINARY) {
                    cell_str(&r, "utf8mb4");
                    cell_str(&r, sql__ddl_coll_name(c->type.coll));
                } else {
                    cell_null(&r);
                    cell_null(&r);
                }
                cell_str(&r, c->type_sql);
                const char *key;
                col_key_of(t, ci, &key);
                cell_str(&r, key);
                cell_str(&r, c->auto_inc        ? "auto_increment"
                             : c->on_update_now ? "on update CURRENT_TIMESTAMP"
                                                : "");
                cell_str(&r, "select,insert,update,references");
                cell_str(&r, c->comment ? c->comment : "");
                cell_str(&r, "");
            }
        }
        break;
    case IS_STATISTICS:
        for (size_t i = 0; rc == 0 && i < cat->ntables; i++) {
            const struct sql_tableinfo *t = cat->tables[i];
            if (!sql__priv_table_visible(s, db_name(s, t->db_id), t->name))
                continue;
            for (uint32_t xi = 0; rc == 0 && xi < t->nidx; xi++) {
                const struct sql_idxinfo *ix = &t->idx[xi];
                for (uint32_t k = 0; rc == 0 && k < ix->ncols; k++) {
                    if ((rc = row_begin(&r)) != 0)
                        break;
                    const char *db = db_name(s, t->db_id);
                    const struct sql_colinfo *c = &t->cols[ix->cols[k]];
                    cell_str(&r, "def");
                    cell_str(&r, db);
                    cell_str(&r, t->name);
                    cell_num(&r, ix->unique ? 0 : 1);
                    cell_str(&r, db);
                    cell_str(&r, ix->name);
                    cell_num(&r, k + 1);
                    cell_str(&r, c->name);
                    cell_str(&r, "A");
                    cell_num(&r, 0);
                    if (ix->prefix[k] > 0)
                        cell_num(&r, (uint64_t)ix->prefix[k]);
                    else
                        cell_null(&r);
                    cell_null(&r);
                    cell_str(&r, c->not_null ? "" : "YES");
                    cell_str(&r, "BTREE");
                    cell_str(&r, "");
                    cell_str(&r, ix->comment ? ix->comment : "");
                    cell_str(&r, "YES");
                    cell_null(&r);
                }
            }
        }
        break;
    case IS_ENGINES:
        if ((rc = row_begin(&r)) == 0) {
            cell_str(&r, "InnoDB");
            cell_str(&r, "DEFAULT");
            cell_str(&r, "Snapshot-isolated transactions on libmvcc");
            cell_str(&r, "YES");
            cell_str(&r, "NO");
            cell_str(&r, "NO");
        }
        break;
    case IS_CHARACTER_SETS: {
        static const char *const cs[][3] = {
            {"binary", "binary", "Binary pseudo charset"},
            {"utf8mb4", "utf8mb4_general_ci", "UTF-8 Unicode"}};
        for (size_t i = 0; rc == 0 && i < 2; i++) {
            if ((rc = row_begin(&r)) != 0)
                break;
            cell_str(&r, cs[i][0]);
            cell_str(&r, cs[i][1]);
            cell_str(&r, cs[i][2]);
            cell_num(&r, i ? 4 : 1);
        }
        break;
    }
    case IS_COLLATIONS: {
        static const struct
        {
            const char *name, *cs, *dflt, *pad;
            uint64_t id, sortlen;
        } co[] = {{"binary", "binary", "Yes", "NO PAD", 63, 1},
                  {"utf8mb4_general_ci", "utf8mb4", "Yes", "PAD SPACE", 45, 1},
                  {"utf8mb4_bin", "utf8mb4", "", "PAD SPACE", 46, 1},
                  {"utf8mb4_0900_ai_ci", "utf8mb4", "", "NO PAD", 255, 0}};
        for (size_t i = 0; rc == 0 && i < 4; i++) {
            if ((rc = row_begin(&r)) != 0)
                break;
            cell_str(&r, co[i].name);
            cell_str(&r, co[i].cs);
            cell_num(&r, co[i].id);
            cell_str(&r, co[i].dflt);
            cell_str(&r, "Yes");
            cell_num(&r, co[i].sortlen);
            cell_str(&r, co[i].pad);
        }
        break;
    }
    case IS_USER_PRIVILEGES:
    case IS_SCHEMA_PRIVILEGES:
    case IS_TABLE_PRIVILEGES:
        rc = privilege_rows(s, which, &r);
        break;
    case IS_VIEWS: /* view.c */
        for (size_t i = 0; rc == 0 && i < cat->ntables; i++) {
            const struct sql_tableinfo *t = cat->tables[i];
            if (!t->view_sql ||
                !sql__priv_table_visible(s, db_name(s, t->db_id), t->name))
                continue;
            if ((rc = row_begin(&r)) != 0)
                break;
            cell_str(&r, "def");
            cell_str(&r, db_name(s, t->db_id));
            cell_str(&r, t->name);
            cell_str(&r, t->view_sql);
            cell_str(&r, "NONE");
            cell_str(&r, "NO");
            cell_str(&r, "root@%");
            cell_str(&r, "DEFINER");
            cell_str(&r, "utf8mb4");
            cell_str(&r, "utf8mb4_general_ci");
        }
        break;
    default:
        break;
    }
    (void)buf;
    if (rc != 0)
        return rc;
    *out = r.d;
    *n = r.n;
    return 0;
}
