/* savepoint.c: SAVEPOINT, ROLLBACK [WORK] TO [SAVEPOINT] and RELEASE
 * SAVEPOINT with MySQL's rules (DESIGN.md "Engine", savepoints): each
 * savepoint holds a mark of libmvcc's write buffer; rolling back to one
 * undoes the writes since (row locks taken since stay held, as InnoDB
 * keeps them) and forgets the savepoints after it.
 */
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "session.h"
#include "sql_int.h"

static void sp_free(struct sql_savepoint *sp)
{
    while (sp) {
        struct sql_savepoint *next = sp->next;
        sql__free(sp->name);
        sql__free(sp);
        sp = next;
    }
}

void sql__savepoints_clear(struct sql_session *s)
{
    sp_free(s->savepoints);
    s->savepoints = NULL;
}

/* The link pointing at savepoint name, or NULL. */
static struct sql_savepoint **sp_find(struct sql_session *s, const char *name)
{
    for (struct sql_savepoint **p = &s->savepoints; *p; p = &(*p)->next)
        if (strcasecmp((*p)->name, name) == 0)
            return p;
    return NULL;
}

static int no_such(struct sql_session *s, const char *name)
{
    return sql__serr(s, 1305, "42000", "SAVEPOINT %s does not exist", name);
}

static int sp_set(struct sql_session *s, const char *name)
{
    /* Outside a transaction (autocommit, no BEGIN) the savepoint ends
     * with the statement, as in MySQL: accepted, nothing kept. */
    if (!s->explicit_txn && sql__sess_autocommit(s))
        return sql__sess_ok(s, 0, 0);
    struct sql_kvtxn *t = NULL;
    int rc = sql__sess_txn(s, &t);
    if (rc != 0)
        return rc;
    struct sql_savepoint *sp = sql__calloc(1, sizeof(*sp));
    size_t n = strlen(name);
    if (!sp || !(sp->name = sql__malloc(n + 1))) {
        sql__free(sp);
        return -ENOMEM;
    }
    memcpy(sp->name, name, n + 1);
    rc = sql__kvtxn_savepoint(t, &sp->mark);
    if (rc != 0) {
        sp_free(sp);
        return sql__kverr(s, rc);
    }
    /* A savepoint of the same name is replaced: the new one is the
     * newest. */
    struct sql_savepoint **old = sp_find(s, name);
    if (old) {
        struct sql_savepoint *o = *old;
        *old = o->next;
        o->next = NULL;
        sp_free(o);
    }
    struct sql_savepoint **tail = &s->savepoints;
    while (*tail)
        tail = &(*tail)->next;
    *tail = sp;
    return sql__sess_ok(s, 0, 0);
}

static int sp_rollback_to(struct sql_session *s, const char *name)
{
    struct sql_savepoint **p = sp_find(s, name);
    if (!p || !s->txn)
        return no_such(s, name);
    struct sql_savepoint *sp = *p;
    int rc = sql__kvtxn_rollback_to(s->txn, sp->mark);
    if (rc != 0)
        return sql__kverr(s, rc);
    /* The savepoint stays; the newer ones go. */
    sp_free(sp->next);
    sp->next = NULL;
    return sql__sess_ok(s, 0, 0);
}

static int sp_release(struct sql_session *s, const char *name)
{
    struct sql_savepoint **p = sp_find(s, name);
    if (!p)
        return no_such(s, name);
    /* It and every newer one go; the writes stay. */
    sp_free(*p);
    *p = NULL;
    return sql__sess_ok(s, 0, 0);
}

int sql__savepoint_run(struct sql_session *s, const struct ast_stmt *st)
{
    if (st->kind == AST_ROLLBACK)
        return sp_rollback_to(s, st->name);
    return st->flag ? sp_release(s, st->name) : sp_set(s, st->name);
}
