/* plancache.c: the plan cache of prepared statements (COM_STMT_PREPARE
 * and SQL PREPARE). A SELECT's physical plan is made into an arena of its
 * own and kept with the statement; an execution reuses it while the
 * server's plan epoch, the catalog version and the session's settings
 * generation are those it was made at. DESIGN.md "Plan cache".
 */
#include <errno.h>
#include <string.h>

#include "expr_int.h"
#include "plancache.h"
#include "sql_int.h"

struct sql_plancache
{
    struct sql_arena *arena; /* the plan's memory, or NULL */
    struct plan *plan;       /* the last plan made, or NULL */
    uint64_t epoch;          /* srv->plan_epoch when it was made */
    uint64_t cat_ver;        /* the catalog version then */
    uint64_t gen;            /* s->plan_gen then */
    bool valid;              /* may serve another execution (planning
                                gave no warning) */
    bool never;              /* planning runs a query whose rows the plan
                                keeps (an uncorrelated subquery, a derived
                                table): plan every execution */
    int quick;               /* sql__plan_quick(plan): 0 not known yet,
                                1 yes, 2 no */
};

void sql__plancache_free(struct sql_plancache *pc)
{
    if (!pc)
        return;
    sql__arena_destroy(pc->arena);
    sql__free(pc);
}

static uint64_t epoch_now(const struct sql_server *srv)
{
    return __atomic_load_n(&srv->plan_epoch, __ATOMIC_ACQUIRE);
}

/* Everything a plan points into or was decided from is unchanged: the
 * catalog cache and the globals change only under the statement lock
 * held alone, which bumps the epoch; the session's own settings bump
 * plan_gen. Parameter values never enter a plan (they are read when the
 * scan opens), so any values may run it. */
static bool fresh(const struct sql_session *s, const struct sql_plancache *pc)
{
    return pc->valid && pc->epoch == epoch_now(s->srv) &&
           pc->cat_ver == s->srv->cat->version && pc->gen == s->plan_gen;
}

static void count_one(struct sql_session *s, bool hit)
{
    if (hit) {
        s->plan_hits++;
        __atomic_fetch_add(&s->srv->plan_hits, 1, __ATOMIC_RELAXED);
    } else {
        s->plan_misses++;
        __atomic_fetch_add(&s->srv->plan_misses, 1, __ATOMIC_RELAXED);
    }
}

int sql__plancache_select(struct sql_session *s, struct sql_prepared *pp,
                          bool count, struct plan **out)
{
    const struct ast_select *sel = pp->stmt->select;
    struct sql_plancache *pc = pp->pc;
    if (!pc) {
        if (!(pc = sql__calloc(1, sizeof(*pc))))
            return -ENOMEM;
        pp->pc = pc;
    }
    if (fresh(s, pc)) {
        if (count)
            count_one(s, true);
        s->plan_cached = true;
        *out = pc->plan;
        return 0;
    }
    if (count)
        count_one(s, false);
    if (pc->never)
        return sql__plan_select(s, sel, out);
    /* Plan into an arena of its own, without the parameters: a plan must
     * not depend on their values (COM_STMT_PREPARE plans without them
     * too). */
    struct sql_arena *a = sql__arena_create(0);
    if (!a)
        return -ENOMEM;
    uint64_t epoch = epoch_now(s->srv), ver = s->srv->cat->version;
    struct sql_arena *stmt_arena = s->arena;
    const struct sql_datum *params = s->params;
    size_t nparams = s->nparams, nkept = s->nwarns, nwarns = s->nwarns_total;
    s->arena = a;
    s->params = NULL;
    s->nparams = 0;
    s->plan_ran = false;
    struct plan *p = NULL;
    int rc = sql__plan_select(s, sel, &p);
    s->arena = stmt_arena;
    s->params = params;
    s->nparams = nparams;
    if (rc != 0 || s->plan_ran) {
        sql__arena_destroy(a);
        if (rc == -ENOMEM || !s->plan_ran)
            return rc; /* the statement's own error */
        /* A query ran while planning (its rows become part of the plan)
         * and may read the parameters: plan as before the cache, with
         * them, now and at every execution. What the attempt said goes. */
        pc->never = true;
        s->nwarns = nkept;
        s->nwarns_total = nwarns;
        memset(&s->err, 0, sizeof(s->err));
        return sql__plan_select(s, sel, out);
    }
    sql__arena_destroy(pc->arena); /* the stale plan: no run holds it */
    pc->arena = a;
    pc->plan = p;
    pc->epoch = epoch;
    pc->cat_ver = ver;
    pc->gen = s->plan_gen;
    pc->valid = s->nwarns_total == nwarns; /* else a hit would lose them */
    pc->quick = 0;
    *out = p;
    return 0;
}

/* ---- quick plans (sql_session_try_quick) --------------------------------
 * A plan is quick when its work is bounded by its constants and cannot
 * wait for anything but the store in this process: point, batch point and
 * unique-index point reads without a lock, then filters, projections and
 * a LIMIT, over operators and comparisons only (no function: SLEEP or
 * GET_LOCK would hold the caller's thread; no subquery). */

static bool expr_quick(const struct sql_expr *e)
{
    if (!e)
        return true;
    switch (e->op) {
    case EX_LIT: case EX_PARAM: case EX_COL: case EX_USERVAR:
    case EX_SYSVAR: case EX_NEG: case EX_BITNOT: case EX_NOT:
    case EX_ARITH: case EX_BIT: case EX_CMP: case EX_AND: case EX_OR:
    case EX_XOR: case EX_IS: case EX_LIKE: case EX_BETWEEN: case EX_IN:
    case EX_CASE: case EX_COLLATE:
        break;
    default:
        return false;
    }
    for (uint16_t i = 0; i < e->nargs; i++)
        if (!expr_quick(e->args[i]))
            return false;
    return true;
}

static bool exprs_quick(struct sql_expr *const *v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        if (!expr_quick(v[i]))
            return false;
    return true;
}

bool sql__plan_quick(const struct plan *p)
{
    for (; p; p = p->child) {
        switch (p->kind) {
        case PL_DUAL:
            break;
        case PL_SCAN: {
            const struct plan_access *a = &p->acc;
            if ((a->kind != ACC_POINT && a->kind != ACC_BATCH_POINT &&
                 a->kind != ACC_UNIQUE_POINT) ||
                p->lock || p->lookup || p->vrows || !expr_quick(p->cond))
                return false;
            for (size_t i = 0; i < a->nranges; i++) {
                const struct plan_range *r = &a->ranges[i];
                if (!exprs_quick(r->eq, r->neq) || !expr_quick(r->lo) ||
                    !expr_quick(r->hi))
                    return false;
            }
            break;
        }
        case PL_FILTER:
            if (!expr_quick(p->cond))
                return false;
            break;
        case PL_PROJECT:
            if (!exprs_quick(p->exprs, p->ncols))
                return false;
            break;
        case PL_LIMIT:
            if (!expr_quick(p->limit) || !expr_quick(p->offset))
                return false;
            break;
        default:
            return false;
        }
        if (p->right)
            return false;
    }
    return true;
}

bool sql__plancache_quick(struct sql_session *s, struct sql_prepared *pp)
{
    struct sql_plancache *pc = pp->pc;
    if (pp->stmt->kind != AST_SELECT || !pc || !fresh(s, pc))
        return false;
    if (pc->quick == 0)
        pc->quick = sql__plan_quick(pc->plan) ? 1 : 2;
    return pc->quick == 1;
}
