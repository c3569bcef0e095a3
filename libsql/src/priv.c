/* priv.c: privileges (DESIGN.md "Accounts and privileges"): GRANT and
 * REVOKE at the global, database and table levels, SHOW GRANTS, the
 * check every statement passes before it runs (the tables and databases
 * its tree names, with the privilege its kind needs, and MySQL's errors
 * 1142, 1044, 1227), and what SHOW and information_schema may show.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "acct.h"
#include "lex.h"
#include "json_table.h"
#include "session.h"
#include "sql_int.h"

static const char *const priv_names[SQL_PRIV_NCOUNT] = {
    "SELECT",  "INSERT",         "UPDATE", "DELETE",      "CREATE",
    "DROP",    "PROCESS",        "INDEX",  "ALTER",       "SHOW DATABASES",
    "SUPER",   "CREATE USER",    "GRANT OPTION"};

const char *sql__priv_name(unsigned i)
{
    return i < SQL_PRIV_NCOUNT ? priv_names[i] : "";
}

/* ---- what a session holds ---------------------------------------------- */

uint32_t sql__priv_of(struct sql_session *s, const char *db,
                      const char *table, bool any_table)
{
    const struct sql_acct *a = sql__sess_acct(s);
    if (!a)
        return 0;
    uint32_t p = a->global;
    for (size_t i = 0; db && i < a->ngrants; i++) {
        const struct sql_grant *g = &a->grants[i];
        if (strcmp(g->db, db) != 0)
            continue;
        if (!g->table || (table && strcmp(g->table, table) == 0) ||
            (!table && any_table))
            p |= g->privs;
    }
    return p;
}

bool sql__priv_global(struct sql_session *s, uint32_t priv)
{
    const struct sql_acct *a = sql__sess_acct(s);
    return a && (a->global & priv) == priv;
}

static bool is_info_schema(const char *db)
{
    return db && strcasecmp(db, "information_schema") == 0;
}

bool sql__priv_db_visible(struct sql_session *s, const char *db)
{
    if (is_info_schema(db) || sql__priv_global(s, SQL_PRIV_SHOW_DB))
        return true;
    return (sql__priv_of(s, db, NULL, true) & ~SQL_PRIV_GRANT) != 0;
}

bool sql__priv_table_visible(struct sql_session *s, const char *db,
                             const char *table)
{
    if (is_info_schema(db))
        return true;
    return (sql__priv_of(s, db, table, false) & ~SQL_PRIV_GRANT) != 0;
}

/* ---- errors -------------------------------------------------------------- */

/* 'user'@'client host' (1142, 1045) and 'user'@'account host' (1044). */
static void who(struct sql_session *s, char *user, size_t ulen, char *host,
                size_t hlen)
{
    snprintf(user, ulen, "%s", s->user);
    char *at = strrchr(user, '@');
    if (at)
        *at = '\0';
    snprintf(host, hlen, "%s", s->host[0] ? s->host : "localhost");
}

static int deny_table(struct sql_session *s, const char *cmd,
                      const char *table)
{
    char user[96], host[64];
    who(s, user, sizeof(user), host, sizeof(host));
    return sql__serr(s, 1142, "42000",
                     "%s command denied to user '%s'@'%s' for table '%.64s'",
                     cmd, user, host, table);
}

static int deny_db(struct sql_session *s, const char *db)
{
    sql__sess_acct(s);
    return sql__serr(s, 1044, "42000",
                     "Access denied for user '%s'@'%s' to database '%.64s'",
                     s->acct_user, s->acct_host, db);
}

static int deny_admin(struct sql_session *s, const char *what)
{
    return sql__serr(s, 1227, "42000",
                     "Access denied; you need (at least one of) the %s "
                     "privilege(s) for this operation",
                     what);
}

/* ---- the statement check --------------------------------------------- */

#define MAX_CTES 16

/* A walk over one statement's tree. */
struct walk
{
    struct sql_session *s;        /* the session */
    const char *ctes[MAX_CTES];   /* WITH names (not tables) */
    size_t nctes;                 /* their count */
    int rc;                       /* first failure */
};

static int need_table(struct walk *w, const char *db, const char *table,
                      uint32_t priv)
{
    if (w->rc != 0)
        return w->rc;
    if (!db) {
        for (size_t i = 0; i < w->nctes; i++)
            if (strcmp(w->ctes[i], table) == 0)
                return 0;
        db = w->s->db;
        if (!db)
            return 0; /* the statement answers 1046 itself */
    }
    if (is_info_schema(db))
        return 0; /* rows are filtered instead */
    for (unsigned i = 0; i < SQL_PRIV_NCOUNT; i++) {
        uint32_t bit = 1u << i;
        if ((priv & bit) && !(sql__priv_of(w->s, db, table, false) & bit))
            return w->rc = deny_table(w->s, priv_names[i], table);
    }
    return 0;
}

static void walk_select(struct walk *w, const struct ast_select *sel);

/* e and the nodes after it (argument lists, IN lists, DO lists). */
static void walk_expr(struct walk *w, const struct ast_expr *e)
{
    for (; e && w->rc == 0; e = e->next) {
        walk_expr(w, e->a);
        walk_expr(w, e->b);
        walk_expr(w, e->c);
        walk_expr(w, e->args);
        for (const struct ast_when *x = e->whens; x; x = x->next) {
            walk_expr(w, x->cond);
            walk_expr(w, x->then);
        }
        for (const struct ast_order *o = e->order; o; o = o->next)
            walk_expr(w, o->expr);
        if (e->sub)
            walk_select(w, e->sub);
    }
}

static void walk_from(struct walk *w, const struct ast_table_ref *t,
                      uint32_t priv)
{
    for (; t && w->rc == 0; t = t->next) {
        switch (t->kind) {
        case AST_T_TABLE:
            need_table(w, t->db, t->name, priv);
            break;
        case AST_T_DERIVED:
            walk_select(w, t->sub);
            break;
        case AST_T_JSON_TABLE: /* json_table.h */
            walk_expr(w, t->jt->doc);
            break;
        case AST_T_JOIN:
            walk_from(w, t->left, priv);
            walk_from(w, t->right, priv);
            walk_expr(w, t->on);
            break;
        }
    }
}

static void walk_order(struct walk *w, const struct ast_order *o)
{
    for (; o; o = o->next)
        walk_expr(w, o->expr);
}

static void walk_select(struct walk *w, const struct ast_select *sel)
{
    if (!sel || w->rc != 0)
        return;
    for (const struct ast_cte *c = sel->with; c; c = c->next) {
        if (w->nctes < MAX_CTES)
            w->ctes[w->nctes++] = c->name;
        walk_select(w, c->query);
    }
    if (sel->kind == AST_SEL_UNION) {
        walk_select(w, sel->left);
        walk_select(w, sel->right);
    }
    for (const struct ast_item *it = sel->items; it; it = it->next)
        walk_expr(w, it->expr);
    walk_from(w, sel->from, SQL_PRIV_SELECT);
    walk_expr(w, sel->where);
    walk_order(w, sel->group);
    walk_expr(w, sel->having);
    walk_order(w, sel->order);
}

static void walk_assign(struct walk *w, const struct ast_assign *a)
{
    for (; a; a = a->next)
        walk_expr(w, a->value);
}

static void walk_insert(struct walk *w, const struct ast_insert *in)
{
    uint32_t p = SQL_PRIV_INSERT;
    if (in->replace)
        p |= SQL_PRIV_DELETE;
    if (in->on_dup)
        p |= SQL_PRIV_UPDATE;
    need_table(w, in->db, in->table, p);
    for (const struct ast_row *r = in->rows; r; r = r->next)
        walk_expr(w, r->values);
    walk_assign(w, in->set);
    walk_assign(w, in->on_dup);
    walk_select(w, in->select);
}

/* The tables of a multi-table UPDATE/DELETE tree: targets need priv,
 * the others SELECT. A single table needs priv (and SELECT when a WHERE
 * reads it). */
static void walk_targets(struct walk *w, const struct ast_table_ref *t,
                         uint32_t priv, bool reads)
{
    if (t && t->kind == AST_T_TABLE && !t->next) {
        need_table(w, t->db, t->name, priv | (reads ? SQL_PRIV_SELECT : 0));
        return;
    }
    walk_from(w, t, SQL_PRIV_SELECT);
    walk_from(w, t, priv);
}

/* The table named alias anywhere in a FROM tree, or NULL. */
static const struct ast_table_ref *find_alias(const struct ast_table_ref *t,
                                              const char *alias)
{
    for (; t; t = t->next) {
        if (t->kind == AST_T_TABLE && t->alias &&
            strcmp(t->alias, alias) == 0)
            return t;
        if (t->kind == AST_T_JOIN) {
            const struct ast_table_ref *r = find_alias(t->left, alias);
            if (!r)
                r = find_alias(t->right, alias);
            if (r)
                return r;
        }
    }
    return NULL;
}

static void walk_ddl_tables(struct walk *w, const struct ast_tname *t,
                            uint32_t priv)
{
    for (; t; t = t->next)
        need_table(w, t->db, t->name, priv);
}

/* Privileges a database statement needs on db (1044 when missing). */
static int need_db(struct sql_session *s, const char *db, uint32_t priv)
{
    if (!db)
        db = s->db;
    if (!db || is_info_schema(db))
        return 0;
    if ((sql__priv_of(s, db, NULL, false) & priv) != priv)
        return deny_db(s, db);
    return 0;
}

int sql__priv_check_columns(struct sql_session *s, const char *db,
                            const char *table)
{
    if (!db)
        db = s->db;
    if (!db || is_info_schema(db) || sql__priv_table_visible(s, db, table))
        return 0;
    return deny_table(s, "SELECT", table);
}

int sql__priv_check_db(struct sql_session *s, const char *db)
{
    if (!db || sql__priv_db_visible(s, db))
        return 0;
    return deny_db(s, db);
}

/* The account a user statement names is the session's own. */
static bool is_self(struct sql_session *s, const struct ast_user *u)
{
    if (strcmp(u->name, "CURRENT_USER") == 0 && !u->host)
        return true;
    const struct sql_acct *a = sql__sess_acct(s);
    return a && strcmp(a->user, u->name) == 0 &&
           strcasecmp(a->host, u->host ? u->host : "%") == 0;
}

static int check_show(struct sql_session *s, const struct ast_show *sh)
{
    switch (sh->kind) {
    case AST_SHOW_TABLES:
    case AST_SHOW_TABLE_STATUS:
        return sql__priv_check_db(s, sh->db ? sh->db : s->db);
    case AST_SHOW_COLUMNS:
    case AST_SHOW_INDEX:
    case AST_SHOW_TABLE_REGIONS:
    case AST_SHOW_CREATE_VIEW:
    case AST_SHOW_CREATE_TABLE: {
        const char *db = sh->db ? sh->db : s->db;
        if (!db || is_info_schema(db) || !sh->table ||
            sql__priv_table_visible(s, db, sh->table))
            return 0;
        return deny_table(s, sh->kind == AST_SHOW_COLUMNS ? "SELECT" : "SHOW",
                          sh->table);
    }
    case AST_SHOW_GRANTS:
    case AST_SHOW_CREATE_USER:
        if (!sh->user || is_self(s, sh->user) ||
            sql__priv_global(s, SQL_PRIV_SELECT))
            return 0;
        return deny_db(s, "mysql");
    default:
        return 0;
    }
}

int sql__priv_check_table(struct sql_session *s, const char *db,
                          const char *table, uint32_t priv)
{
    const struct sql_acct *me = sql__sess_acct(s);
    if (me && (me->global & SQL_PRIV_ALL_GLOBAL) == SQL_PRIV_ALL_GLOBAL)
        return 0;
    struct walk w = {.s = s};
    return need_table(&w, db, table, priv);
}

int sql__priv_check(struct sql_session *s, const struct ast_stmt *st)
{
    /* Every global privilege passes every check below (root's case, so
     * its statements pay one lookup). */
    const struct sql_acct *me = sql__sess_acct(s);
    if (me && (me->global & SQL_PRIV_ALL_GLOBAL) == SQL_PRIV_ALL_GLOBAL)
        return 0;
    struct walk w = {.s = s};
    switch (st->kind) {
    case AST_SELECT:
        walk_select(&w, st->select);
        return w.rc;
    case AST_INSERT:
        walk_insert(&w, st->insert);
        return w.rc;
    case AST_UPDATE:
        if (st->update->table->kind != AST_T_TABLE ||
            st->update->table->next) /* multi-table: UPDATE is checked on
                                        the tables SET names (dml_multi.c) */
            walk_from(&w, st->update->table, SQL_PRIV_SELECT);
        else
            walk_targets(&w, st->update->table, SQL_PRIV_UPDATE,
                         st->update->where || st->update->order);
        walk_assign(&w, st->update->set);
        walk_expr(&w, st->update->where);
        walk_order(&w, st->update->order);
        return w.rc;
    case AST_DELETE:
        if (st->del->targets) {
            for (const struct ast_tname *t = st->del->targets; t; t = t->next) {
                /* A target may be an alias: its table. */
                const struct ast_table_ref *r =
                    t->db ? NULL : find_alias(st->del->table, t->name);
                need_table(&w, r ? r->db : t->db, r ? r->name : t->name,
                           SQL_PRIV_DELETE);
            }
            walk_from(&w, st->del->table, SQL_PRIV_SELECT);
        } else {
            walk_targets(&w, st->del->table, SQL_PRIV_DELETE,
                         st->del->where || st->del->order);
        }
        walk_expr(&w, st->del->where);
        walk_order(&w, st->del->order);
        return w.rc;
    case AST_EXPLAIN:
        return st->explain ? sql__priv_check(s, st->explain) : 0;
    case AST_DO:
        walk_expr(&w, st->expr);
        return w.rc;
    case AST_DESCRIBE:
        return sql__priv_check_columns(s, st->db, st->name);
    case AST_SHOW:
        if (st->show->kind == AST_SHOW_CREATE_DATABASE)
            return sql__priv_check_db(s, st->show->db ? st->show->db : s->db);
        return check_show(s, st->show);
    case AST_CREATE_DATABASE:
        return need_db(s, st->name, SQL_PRIV_CREATE);
    case AST_DROP_DATABASE:
        return need_db(s, st->name, SQL_PRIV_DROP);
    case AST_CREATE_TABLE:
        need_table(&w, st->create->db, st->create->table, SQL_PRIV_CREATE);
        if (st->create->like_table)
            need_table(&w, st->create->like_db, st->create->like_table,
                       SQL_PRIV_SELECT);
        return w.rc;
    case AST_DROP_TABLE:
        walk_ddl_tables(&w, st->tables, SQL_PRIV_DROP);
        return w.rc;
    case AST_TRUNCATE:
        walk_ddl_tables(&w, st->tables, SQL_PRIV_DROP);
        if (!st->tables && st->name)
            need_table(&w, st->db, st->name, SQL_PRIV_DROP);
        return w.rc;
    case AST_CREATE_INDEX:
    case AST_DROP_INDEX:
        need_table(&w, st->db, st->name, SQL_PRIV_INDEX);
        return w.rc;
    case AST_ALTER_TABLE:
        need_table(&w, st->db, st->name, SQL_PRIV_ALTER);
        for (const struct ast_alter *a = st->alter; a; a = a->next)
            if (a->kind == AST_ALTER_RENAME) {
                need_table(&w, st->db, st->name, SQL_PRIV_DROP);
                need_table(&w, a->new_db ? a->new_db : st->db, a->new_name,
                           SQL_PRIV_CREATE | SQL_PRIV_INSERT);
            }
        return w.rc;
    case AST_RENAME_TABLE:
        for (const struct ast_tname *t = st->tables; t; t = t->next) {
            need_table(&w, t->db, t->name, SQL_PRIV_ALTER | SQL_PRIV_DROP);
            need_table(&w, t->to_db, t->to_name,
                       SQL_PRIV_CREATE | SQL_PRIV_INSERT);
        }
        return w.rc;
    case AST_CREATE_USER:
    case AST_DROP_USER:
        if (!sql__priv_global(s, SQL_PRIV_CREATE_USER))
            return deny_admin(s, "CREATE USER");
        return 0;
    case AST_ALTER_USER:
        for (const struct ast_user *u = st->users; u; u = u->next)
            if (!is_self(s, u) && !sql__priv_global(s, SQL_PRIV_CREATE_USER))
                return deny_admin(s, "CREATE USER");
        return 0;
    case AST_SET:
        for (const struct ast_setvar *v = st->set; v; v = v->next)
            if (v->scope == SQL_SCOPE_GLOBAL && !v->user &&
                !sql__priv_global(s, SQL_PRIV_SUPER))
                return deny_admin(s, "SUPER or SYSTEM_VARIABLES_ADMIN");
        return 0;
    case AST_CREATE_VIEW: /* CREATE on the view, SELECT on what it reads */
        need_table(&w, st->db, st->name, SQL_PRIV_CREATE);
        walk_select(&w, st->select);
        return w.rc;
    case AST_DROP_VIEW:
        walk_ddl_tables(&w, st->tables, SQL_PRIV_DROP);
        return w.rc;
    case AST_USE:
        return sql__priv_check_db(s, st->name);
    default:
        return 0; /* GRANT/REVOKE and KILL check as they run */
    }
}

/* ---- GRANT / REVOKE ----------------------------------------------------- */

/* Bits of the privilege list; level_all gets what ALL means at the level. */
static int parse_privs(struct sql_session *s, const struct ast_priv *pv,
                       uint32_t level_all, uint32_t *out)
{
    uint32_t bits = 0;
    for (; pv; pv = pv->next) {
        if (pv->columns)
            return sql__serr(s, 1235, "42000",
                             "This version of sqld doesn't yet support "
                             "'column privileges'");
        if (strcmp(pv->name, "ALL") == 0 ||
            strcmp(pv->name, "ALL PRIVILEGES") == 0) {
            bits |= level_all;
            continue;
        }
        if (strcmp(pv->name, "USAGE") == 0)
            continue;
        unsigned i;
        for (i = 0; i < SQL_PRIV_NCOUNT; i++)
            if (strcmp(pv->name, priv_names[i]) == 0)
                break;
        if (i == SQL_PRIV_NCOUNT)
            return sql__serr(s, 1235, "42000",
                             "This version of sqld doesn't yet support 'the "
                             "%.64s privilege'",
                             pv->name);
        bits |= 1u << i;
    }
    *out = bits;
    return 0;
}

static struct sql_grant *grant_find(struct sql_acct *a, const char *db,
                                    const char *table)
{
    for (size_t i = 0; i < a->ngrants; i++) {
        struct sql_grant *g = &a->grants[i];
        if (strcmp(g->db, db) == 0 &&
            ((!g->table && !table) ||
             (g->table && table && strcmp(g->table, table) == 0)))
            return g;
    }
    return NULL;
}

static struct sql_grant *grant_add(struct sql_acct *a, const char *db,
                                   const char *table)
{
    void *p = sql__realloc(a->grants, (a->ngrants + 1) * sizeof(*a->grants));
    if (!p)
        return NULL;
    a->grants = p;
    struct sql_grant *g = &a->grants[a->ngrants];
    memset(g, 0, sizeof(*g));
    size_t dn = strlen(db);
    g->db = sql__malloc(dn + 1);
    if (table) {
        size_t tn = strlen(table);
        g->table = sql__malloc(tn + 1);
        if (g->table)
            memcpy(g->table, table, tn + 1);
    }
    if (!g->db || (table && !g->table)) {
        sql__free(g->db);
        sql__free(g->table);
        return NULL;
    }
    memcpy(g->db, db, dn + 1);
    a->ngrants++;
    return g;
}

static void grants_compact(struct sql_acct *a)
{
    size_t k = 0;
    for (size_t i = 0; i < a->ngrants; i++) {
        if (a->grants[i].privs == 0) {
            sql__free(a->grants[i].db);
            sql__free(a->grants[i].table);
        } else {
            a->grants[k++] = a->grants[i];
        }
    }
    a->ngrants = k;
}

/* The level a GRANT/REVOKE names: global (db NULL), db.* (table NULL) or
 * db.table. */
struct level
{
    const char *db;    /* NULL: *.* */
    const char *table; /* NULL: db.* */
};

static int level_of(struct sql_session *s, const struct ast_stmt *st,
                    struct level *lv)
{
    lv->db = NULL;
    lv->table = NULL;
    if (st->priv_db && strcmp(st->priv_db, "*") == 0)
        return 0;
    lv->db = st->priv_db ? st->priv_db : s->db;
    if (!lv->db)
        return sql__serr(s, 1046, "3D000", "No database selected");
    if (st->priv_table && strcmp(st->priv_table, "*") != 0)
        lv->table = st->priv_table;
    return 0;
}

/* The grantor must hold GRANT OPTION and what it grants at the level. */
static int grantor_check(struct sql_session *s, const struct level *lv,
                         uint32_t bits)
{
    uint32_t have = lv->db ? sql__priv_of(s, lv->db, lv->table, false)
                           : (sql__sess_acct(s) ? sql__sess_acct(s)->global
                                                : 0);
    if ((have & SQL_PRIV_GRANT) && (have & bits) == bits)
        return 0;
    if (!lv->db) {
        char user[96], host[64];
        who(s, user, sizeof(user), host, sizeof(host));
        return sql__serr(s, 1045, "28000",
                         "Access denied for user '%s'@'%s' (using password: "
                         "YES)",
                         user, host);
    }
    if (!lv->table)
        return deny_db(s, lv->db);
    return deny_table(s, "GRANT", lv->table);
}

/* REVOKE ALL PRIVILEGES, GRANT OPTION FROM u: everything, every level. */
static bool revoke_everything(const struct ast_stmt *st)
{
    return st->kind == AST_REVOKE && !st->priv_db && !st->priv_table;
}

static int change_grants(struct sql_session *s, const struct ast_stmt *st,
                         const struct level *lv, uint32_t bits,
                         struct sql_acct *a)
{
    bool grant = st->kind == AST_GRANT;
    if (revoke_everything(st)) {
        a->global = 0;
        for (size_t i = 0; i < a->ngrants; i++)
            a->grants[i].privs = 0;
    } else if (!lv->db) {
        a->global = grant ? a->global | bits : a->global & ~bits;
    } else {
        struct sql_grant *g = grant_find(a, lv->db, lv->table);
        if (!g && !grant) {
            if (lv->table)
                return sql__serr(s, 1147, "42000",
                                 "There is no such grant defined for user "
                                 "'%s' on host '%s' on table '%.64s'",
                                 a->user, a->host, lv->table);
            return sql__serr(s, 1141, "42000",
                             "There is no such grant defined for user '%s' "
                             "on host '%s'",
                             a->user, a->host);
        }
        if (!g && !(g = grant_add(a, lv->db, lv->table)))
            return -ENOMEM;
        g->privs = grant ? g->privs | bits : g->privs & ~bits;
    }
    grants_compact(a);
    return 0;
}

int sql__grant_run(struct sql_session *s, const struct ast_stmt *st,
                   struct sql_kvtxn **t)
{
    struct level lv = {0};
    uint32_t bits = 0;
    int rc = 0;
    if (revoke_everything(st)) {
        if (!sql__priv_global(s, SQL_PRIV_CREATE_USER))
            return deny_admin(s, "CREATE USER");
    } else {
        if ((rc = level_of(s, st, &lv)) != 0)
            return rc;
        uint32_t all = lv.db ? SQL_PRIV_OBJECT : SQL_PRIV_ALL_GLOBAL;
        if ((rc = parse_privs(s, st->privs, all, &bits)) != 0)
            return rc;
        if (st->kind == AST_GRANT && st->flag)
            bits |= SQL_PRIV_GRANT;
        uint32_t extra = bits & ~(SQL_PRIV_OBJECT | SQL_PRIV_GRANT);
        if (lv.db && extra && !lv.table)
            return sql__serr(s, 1221, "HY000",
                             "Incorrect usage of DB GRANT and GLOBAL "
                             "PRIVILEGES");
        if (lv.table && extra)
            return sql__serr(s, 1144, "42000",
                             "Illegal GRANT/REVOKE command; please consult "
                             "the manual to see which privileges can be "
                             "used");
        if (lv.table) {
            struct sql_dbinfo *d = sql__catalog_db(s->srv->cat, lv.db);
            if (!d || !sql__catalog_table(s->srv->cat, d->id, lv.table))
                return sql__serr(s, 1146, "42S02",
                                 "Table '%.64s.%.64s' doesn't exist", lv.db,
                                 lv.table);
        }
        if ((rc = grantor_check(s, &lv, bits)) != 0)
            return rc;
    }
    size_t n;
    struct sql_acct **put = sql__acct_slots(st->users, &n);
    if (!put)
        return -ENOMEM;
    size_t i = 0;
    for (const struct ast_user *u = st->users; rc == 0 && u; u = u->next) {
        if (u->has_password || u->plugin) {
            rc = sql__serr(s, 1235, "42000",
                           "This version of sqld doesn't yet support "
                           "'GRANT ... IDENTIFIED (use CREATE USER)'");
            break;
        }
        const char *user = u->name, *host = u->host ? u->host : "%";
        if (strcmp(u->name, "CURRENT_USER") == 0 && !u->host) {
            sql__sess_acct(s);
            user = s->acct_user;
            host = s->acct_host;
        }
        /* A second mention of one account changes the copy made. */
        struct sql_acct *a = NULL;
        for (size_t j = 0; j < i; j++)
            if (strcmp(put[j]->user, user) == 0 &&
                strcasecmp(put[j]->host, host) == 0)
                a = put[j];
        if (!a) {
            const struct sql_acct *cur =
                sql__acct_find(s->srv->accts, user, host);
            if (!cur) {
                rc = st->kind == AST_GRANT
                         ? sql__serr(s, 1410, "42000",
                                     "You are not allowed to create a user "
                                     "with GRANT")
                         : sql__serr(s, 1141, "42000",
                                     "There is no such grant defined for "
                                     "user '%s' on host '%s'",
                                     user, host);
                break;
            }
            if (!(a = put[i++] = sql__acct_copy(cur))) {
                rc = -ENOMEM;
                break;
            }
        }
        rc = change_grants(s, st, &lv, bits, a);
    }
    if (rc != 0) {
        for (size_t j = 0; j < i; j++)
            sql__acct_free(put[j]);
    } else {
        rc = sql__acct_commit(s, t, put, i, NULL);
    }
    sql__free(put);
    return rc ? rc : sql__sess_ok(s, 0, 0);
}

/* ---- SHOW GRANTS --------------------------------------------------------- */

static void priv_list(char *buf, size_t cap, uint32_t p, uint32_t all)
{
    size_t n = 0;
    buf[0] = '\0';
    p &= ~SQL_PRIV_GRANT;
    if (p == 0) {
        snprintf(buf, cap, "USAGE");
        return;
    }
    if ((p & all) == all) {
        snprintf(buf, cap, "ALL PRIVILEGES");
        return;
    }
    for (unsigned i = 0; i < SQL_PRIV_NCOUNT; i++)
        if (p & (1u << i))
            n += (size_t)snprintf(buf + n, n < cap ? cap - n : 0, "%s%s",
                                  n ? ", " : "", priv_names[i]);
}

static const struct sql_acct *show_target(struct sql_session *s,
                                          const struct ast_user *u, int *rc)
{
    *rc = 0;
    if (!u || (strcmp(u->name, "CURRENT_USER") == 0 && !u->host)) {
        const struct sql_acct *a = sql__sess_acct(s);
        if (!a)
            *rc = sql__serr(s, 1141, "42000",
                            "There is no such grant defined for user '%s' on "
                            "host '%s'",
                            s->acct_user, s->acct_host);
        return a;
    }
    const char *host = u->host ? u->host : "%";
    const struct sql_acct *a = sql__acct_find(s->srv->accts, u->name, host);
    if (!a)
        *rc = sql__serr(s, 1141, "42000",
                        "There is no such grant defined for user '%s' on "
                        "host '%s'",
                        u->name, host);
    return a;
}

int sql__show_grants(struct sql_session *s, const struct ast_show *sh)
{
    int rc;
    const struct sql_acct *a = show_target(s, sh->user, &rc);
    if (!a)
        return rc;
    char title[400];
    snprintf(title, sizeof(title), "Grants for %s@%s", a->user, a->host);
    struct sql_rscol col = {title, SQL_TYPE_VAR_STRING};
    if ((rc = sql__rs_begin(s, &col, 1)) != 0)
        return rc;
    char line[1024], privs[256];
    priv_list(privs, sizeof(privs), a->global, SQL_PRIV_ALL_GLOBAL);
    snprintf(line, sizeof(line), "GRANT %s ON *.* TO `%s`@`%s`%s", privs,
             a->user, a->host,
             (a->global & SQL_PRIV_GRANT) ? " WITH GRANT OPTION" : "");
    struct sql_value v = sql__v_str(line);
    rc = sql__rs_row(s, &v, 1);
    /* Database grants, then table grants, each in grant order. */
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; rc == 0 && i < a->ngrants; i++) {
            const struct sql_grant *g = &a->grants[i];
            if ((pass == 0) != (g->table == NULL))
                continue;
            priv_list(privs, sizeof(privs), g->privs, SQL_PRIV_OBJECT);
            char obj[300];
            if (g->table)
                snprintf(obj, sizeof(obj), "`%s`.`%s`", g->db, g->table);
            else
                snprintf(obj, sizeof(obj), "`%s`.*", g->db);
            snprintf(line, sizeof(line), "GRANT %s ON %s TO `%s`@`%s`%s",
                     privs, obj, a->user, a->host,
                     (g->privs & SQL_PRIV_GRANT) ? " WITH GRANT OPTION" : "");
            v = sql__v_str(line);
            rc = sql__rs_row(s, &v, 1);
        }
    return rc ? rc : sql__rs_end(s);
}

int sql__show_privileges(struct sql_session *s)
{
    static const char *const ctx[SQL_PRIV_NCOUNT][2] = {
        {"Tables", "To retrieve rows from table"},
        {"Tables", "To insert data into tables"},
        {"Tables", "To update existing rows"},
        {"Tables", "To delete existing rows"},
        {"Databases,Tables,Indexes", "To create new databases and tables"},
        {"Databases,Tables", "To drop databases and tables"},
        {"Server Admin", "To view the plain text of currently executing "
                         "queries"},
        {"Tables", "To create or drop indexes"},
        {"Tables", "To alter the table"},
        {"Server Admin", "To see all databases with SHOW DATABASES"},
        {"Server Admin", "To use KILL thread, SET GLOBAL, etc."},
        {"Server Admin", "To create new users"},
        {"Databases,Tables", "To give to other users those privileges you "
                             "possess"},
    };
    static const struct sql_rscol cols[] = {{"Privilege", SQL_TYPE_VAR_STRING},
                                            {"Context", SQL_TYPE_VAR_STRING},
                                            {"Comment", SQL_TYPE_VAR_STRING}};
    int rc = sql__rs_begin(s, cols, 3);
    for (unsigned i = 0; rc == 0 && i < SQL_PRIV_NCOUNT; i++) {
        /* MySQL's names: "Show databases", "Create user", "Grant option". */
        char name[32];
        snprintf(name, sizeof(name), "%s", priv_names[i]);
        for (char *p = name + 1; *p; p++)
            if (*p >= 'A' && *p <= 'Z')
                *p = (char)(*p - 'A' + 'a');
        struct sql_value v[3] = {sql__v_str(name), sql__v_str(ctx[i][0]),
                                 sql__v_str(ctx[i][1])};
        rc = sql__rs_row(s, v, 3);
    }
    return rc ? rc : sql__rs_end(s);
}

int sql__show_create_user(struct sql_session *s, const struct ast_show *sh)
{
    int rc;
    const struct sql_acct *a = show_target(s, sh->user, &rc);
    if (!a)
        return rc;
    char title[400];
    snprintf(title, sizeof(title), "CREATE USER for %s@%s", a->user,
             a->host);
    struct sql_rscol col = {title, SQL_TYPE_VAR_STRING};
    if ((rc = sql__rs_begin(s, &col, 1)) != 0)
        return rc;
    char line[600], hex[80] = "";
    size_t hl = a->has_password
                    ? (a->plugin == SQL_AUTH_CACHING_SHA2 ? 32 : 20)
                    : 0;
    for (size_t i = 0; i < hl; i++)
        snprintf(hex + 2 * i, 3, "%02X", a->hash[i]);
    /* The stored verifier, as MySQL prints its authentication string
     * (native: '*' and 40 hex digits). */
    snprintf(line, sizeof(line),
             "CREATE USER `%s`@`%s` IDENTIFIED WITH '%s'%s%s%s%s", a->user,
             a->host,
             a->plugin == SQL_AUTH_CACHING_SHA2 ? "caching_sha2_password"
                                                : "mysql_native_password",
             hl ? " AS '" : "", hl && a->plugin == SQL_AUTH_NATIVE ? "*" : "",
             hex, hl ? "'" : "");
    struct sql_value v = sql__v_str(line);
    rc = sql__rs_row(s, &v, 1);
    return rc ? rc : sql__rs_end(s);
}
