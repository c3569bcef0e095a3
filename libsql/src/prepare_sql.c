/* prepare_sql.c: SQL-level prepared statements (DESIGN.md "SQL PREPARE"):
 * PREPARE name FROM 'text' | @var, EXECUTE name [USING @a, ...],
 * DEALLOCATE | DROP PREPARE name. They share the binary protocol's
 * struct sql_prepared (parsed once, in its own arena, on the session's
 * list, told apart by a name instead of an id) and its execution path:
 * the parsed statement runs with the parameters bound, its result in the
 * text protocol.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "acct.h"
#include "parse.h"
#include "session.h"
#include "sql_int.h"

static struct sql_prepared **find_named(struct sql_session *s,
                                        const char *name)
{
    for (struct sql_prepared **pp = &s->prepared; *pp; pp = &(*pp)->next)
        if ((*pp)->name && strcasecmp((*pp)->name, name) == 0)
            return pp;
    return NULL;
}

static int unknown(struct sql_session *s, const char *name, const char *where)
{
    return sql__serr(s, 1243, "HY000",
                     "Unknown prepared statement handler (%.64s) given to "
                     "%s",
                     name, where);
}

static void drop_named(struct sql_session *s, const char *name)
{
    struct sql_prepared **pp = find_named(s, name);
    if (pp) {
        struct sql_prepared *p = *pp;
        *pp = p->next;
        sql__prepared_free(p);
    }
}

/* The statement text PREPARE names: a string, or a user variable's
 * value (its text when not a string; NULL is a syntax error, as in
 * MySQL). Bytes in the statement arena or the session's variable. */
static int prepare_text(struct sql_session *s, const struct ast_expr *e,
                        const char **text, size_t *len)
{
    struct sql_datum d;
    int rc = sql__eval_const(s, e, &d, NULL, 0);
    if (rc != 0)
        return rc;
    if (d.vt == SQL_VT_NULL)
        return sql__serr(s, 1064, "42000",
                         "You have an error in your SQL syntax; check the "
                         "manual that corresponds to your MySQL server "
                         "version for the right syntax to use near 'NULL' "
                         "at line 1");
    if (d.vt == SQL_VT_STRING) {
        *text = d.v.s.p;
        *len = d.v.s.n;
        return 0;
    }
    char *buf = sql__arena_alloc(s->arena, 128);
    if (!buf)
        return -ENOMEM;
    rc = sql__eval_const(s, e, &d, buf, 128);
    if (rc != 0)
        return rc;
    *text = buf;
    *len = strlen(buf);
    return 0;
}

static int prepare(struct sql_session *s, const struct ast_stmt *st)
{
    const char *text = NULL;
    size_t len = 0;
    int rc = prepare_text(s, st->expr, &text, &len);
    if (rc != 0)
        return rc;
    /* A statement of that name goes first, even if this one fails. */
    drop_named(s, st->name);
    struct sql_prepared *p = sql__calloc(1, sizeof(*p));
    if (!p)
        return -ENOMEM;
    size_t nl = strlen(st->name);
    p->name = sql__malloc(nl + 1);
    p->text = sql__malloc(len + 1);
    p->arena = sql__arena_create(0);
    if (!p->name || !p->text || !p->arena) {
        sql__prepared_free(p);
        return -ENOMEM;
    }
    memcpy(p->name, st->name, nl + 1);
    memcpy(p->text, text, len);
    p->text[len] = '\0';
    p->len = len;
    struct sql_parse_result res;
    rc = sql__parse_one(p->arena, p->text, p->len, &res);
    if (rc == 0 && res.stmt && res.next < p->len) {
        /* One statement only: MySQL's syntax error at the second. */
        rc = SQL_ESYNTAX;
        res.errcode = 1064;
        snprintf(res.errmsg, sizeof(res.errmsg),
                 "You have an error in your SQL syntax; check the manual "
                 "that corresponds to your MySQL server version for the "
                 "right syntax to use near '%.80s' at line 1",
                 p->text + res.next);
    }
    if (rc == 0 && !res.stmt) {
        rc = sql__serr(s, 1065, "42000", "Query was empty");
    } else if (rc == -ENOMEM) {
        /* returned as is */
    } else if (rc != 0) {
        rc = sql__serr(s, (uint16_t)res.errcode, "42000", "%s", res.errmsg);
    } else if (res.stmt->kind == AST_PREPARE ||
               res.stmt->kind == AST_EXECUTE ||
               res.stmt->kind == AST_DEALLOCATE) {
        rc = sql__serr(s, 1295, "HY000",
                       "This command is not supported in the prepared "
                       "statement protocol yet");
    }
    if (rc != 0) {
        sql__prepared_free(p);
        return rc;
    }
    p->stmt = res.stmt;
    p->next = s->prepared;
    s->prepared = p;
    s->info = "Statement prepared";
    return sql__sess_ok(s, 0, 0);
}

static int execute(struct sql_session *s, const struct ast_stmt *st,
                   int (*run)(struct sql_session *s,
                              const struct ast_stmt *st))
{
    struct sql_prepared **pp = find_named(s, st->name);
    if (!pp)
        return unknown(s, st->name, "EXECUTE");
    struct sql_prepared *p = *pp;
    size_t n = 0;
    for (const struct ast_expr *e = st->expr; e; e = e->next)
        n++;
    if (n != (size_t)p->stmt->nparams)
        return sql__serr(s, 1210, "HY000",
                         "Incorrect arguments to EXECUTE");
    struct sql_datum *params =
        sql__arena_zalloc(s->arena, sizeof(*params) * (n + 1));
    if (!params)
        return -ENOMEM;
    size_t i = 0;
    for (const struct ast_expr *e = st->expr; e; e = e->next, i++) {
        /* The value now, copied: the statement may SET the variable. */
        int rc = sql__eval_const(s, e, &params[i], NULL, 0);
        if (rc != 0)
            return rc;
        if (params[i].vt == SQL_VT_STRING && params[i].v.s.n > 0) {
            char *b = sql__arena_alloc(s->arena, params[i].v.s.n);
            if (!b)
                return -ENOMEM;
            memcpy(b, params[i].v.s.p, params[i].v.s.n);
            params[i].v.s.p = b;
        }
    }
    int rc = sql__priv_check(s, p->stmt);
    if (rc != 0)
        return rc;
    const struct sql_datum *saved = s->params;
    size_t saved_n = s->nparams;
    s->params = params;
    s->nparams = n;
    s->cur_prep = p; /* a SELECT's plan may be cached (plancache.c) */
    rc = run(s, p->stmt);
    s->cur_prep = NULL;
    s->params = saved;
    s->nparams = saved_n;
    return rc;
}

int sql__sqlprep_run(struct sql_session *s, const struct ast_stmt *st,
                     int (*run)(struct sql_session *s,
                                const struct ast_stmt *st))
{
    switch (st->kind) {
    case AST_PREPARE:
        return prepare(s, st);
    case AST_EXECUTE:
        return execute(s, st, run);
    default: /* AST_DEALLOCATE */
        if (!find_named(s, st->name))
            return unknown(s, st->name, "DEALLOCATE PREPARE");
        drop_named(s, st->name);
        return sql__sess_ok(s, 0, 0);
    }
}
