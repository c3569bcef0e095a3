/* operator.c: operators (DESIGN.md "Operators"): at most one per region,
 * advanced step by step by the region's heartbeats until done, timed out
 * or canceled. Leader memory only: never replicated.
 */
#include <string.h>

#include "pd_int.h"

static long find(const struct pd *pd, uint64_t region_id)
{
    for (size_t i = 0; i < pd->n_ops; i++)
        if (pd->ops[i].region_id == region_id)
            return (long)i;
    return -1;
}

bool pd__op_busy(const struct pd *pd, uint64_t id)
{
    for (size_t i = 0; i < pd->n_ops; i++) {
        const struct pd_operator *op = &pd->ops[i];
        if (op->region_id == id)
            return true;
        for (uint32_t k = 0; k < op->n_steps; k++)
            if (op->steps[k].kind == PD_STEP_MERGE &&
                op->steps[k].target_region_id == id)
                return true;
    }
    return false;
}

/* Remove ops[i], counting how it ended. */
static const char *status_name(int status)
{
    switch (status) {
    case PD_OP_SUCCESS:
        return "done";
    case PD_OP_TIMEOUT:
        return "timed out";
    default:
        return "canceled";
    }
}

static void finish(struct pd *pd, size_t i, int status)
{
    const struct pd_operator *op = &pd->ops[i];
    pd__log(pd, status == PD_OP_TIMEOUT ? PD_LOG_WARN : PD_LOG_INFO,
            "operator %s on region %llu %s after %u of %u steps", op->desc,
            (unsigned long long)op->region_id, status_name(status),
            op->current, op->n_steps);
    switch (status) {
    case PD_OP_SUCCESS:
        pd->op_stats.succeeded++;
        break;
    case PD_OP_TIMEOUT:
        pd->op_stats.timed_out++;
        break;
    default:
        pd->op_stats.canceled++;
        break;
    }
    memmove(&pd->ops[i], &pd->ops[i + 1],
            (pd->n_ops - i - 1) * sizeof(pd->ops[0]));
    pd->n_ops--;
}

void pd__ops_clear(struct pd *pd)
{
    pd__free(pd->ops);
    pd->ops = NULL;
    pd->n_ops = pd->cap_ops = 0;
}

static bool steps_valid(const struct pd *pd, const struct pd_operator *op)
{
    if (op->n_steps == 0 || op->n_steps > PD_MAX_STEPS)
        return false;
    for (uint32_t i = 0; i < op->n_steps; i++) {
        const struct pd_step *s = &op->steps[i];
        switch (s->kind) {
        case PD_STEP_ADD_PEER:
        case PD_STEP_ADD_LEARNER:
            if (s->peer_id == 0 || s->store_id == 0)
                return false;
            break;
        case PD_STEP_PROMOTE_LEARNER:
        case PD_STEP_REMOVE_PEER:
        case PD_STEP_TRANSFER_LEADER:
            if (s->store_id == 0)
                return false;
            break;
        case PD_STEP_SPLIT:
            break;
        case PD_STEP_MERGE: {
            if (s->target_region_id == op->region_id)
                return false;
            const struct pd__region *src = pd__region_find(pd, op->region_id);
            const struct pd__region *dst =
                pd__region_find(pd, s->target_region_id);
            if (src == NULL || dst == NULL)
                return false;
            /* Only neighbours merge. */
            bool left = dst->end_len != 0 &&
                        pd__keycmp(dst->end, dst->end_len, src->start,
                                   src->start_len) == 0;
            bool right = src->end_len != 0 &&
                         pd__keycmp(src->end, src->end_len, dst->start,
                                    dst->start_len) == 0;
            if (!left && !right)
                return false;
            break;
        }
        default:
            return false;
        }
    }
    return true;
}

int pd__op_add(struct pd *pd, uint64_t mono_ms, const struct pd_operator *op)
{
    const struct pd__region *r = pd__region_find(pd, op->region_id);
    assert(r != NULL);
    if (pd->n_ops == pd->cap_ops) {
        size_t cap = pd->cap_ops == 0 ? 8 : pd->cap_ops * 2;
        struct pd_operator *a = pd__realloc(pd->ops, cap * sizeof(*a));
        if (a == NULL)
            return -ENOMEM;
        pd->ops = a;
        pd->cap_ops = cap;
    }
    struct pd_operator *o = &pd->ops[pd->n_ops++];
    *o = *op;
    o->desc[sizeof(o->desc) - 1] = '\0';
    o->current = 0;
    o->created_ms = mono_ms;
    o->conf_ver = r->conf_ver;
    o->version = r->version;
    o->status = PD_OP_RUNNING;
    pd->op_stats.added++;
    pd__log(pd, PD_LOG_INFO, "operator %s on region %llu added, %u steps",
            o->desc, (unsigned long long)o->region_id, o->n_steps);
    return 0;
}

int pd_operator_add(struct pd *pd, uint64_t mono_ms,
                    const struct pd_operator *op)
{
    if (!pd->leader)
        return pd__err(pd, PD_ENOTLEADER, "operator on a follower");
    if (op == NULL)
        return pd__err(pd, -EINVAL, "operator: NULL");
    if (pd__region_find(pd, op->region_id) == NULL)
        return pd__err(pd, PD_ENOTFOUND, "operator: no region %llu",
                       (unsigned long long)op->region_id);
    if (!steps_valid(pd, op))
        return pd__err(pd, -EINVAL, "operator on region %llu: bad steps",
                       (unsigned long long)op->region_id);
    if (pd__op_busy(pd, op->region_id))
        return pd__err(pd, PD_EBUSY, "region %llu has an operator",
                       (unsigned long long)op->region_id);
    for (uint32_t i = 0; i < op->n_steps; i++)
        if (op->steps[i].kind == PD_STEP_MERGE &&
            pd__op_busy(pd, op->steps[i].target_region_id))
            return pd__err(pd, PD_EBUSY, "merge target %llu is busy",
                           (unsigned long long)op->steps[i].target_region_id);
    return pd__op_add(pd, mono_ms, op);
}

int pd_operator_get(const struct pd *pd, uint64_t region_id,
                    struct pd_operator *out)
{
    long i = find(pd, region_id);
    if (i < 0)
        return PD_ENOTFOUND;
    *out = pd->ops[i];
    return 0;
}

int pd_operator_remove(struct pd *pd, uint64_t region_id)
{
    long i = find(pd, region_id);
    if (i < 0)
        return pd__err(pd, PD_ENOTFOUND, "region %llu has no operator",
                       (unsigned long long)region_id);
    finish(pd, (size_t)i, PD_OP_CANCELED);
    return 0;
}

size_t pd_operator_count(const struct pd *pd)
{
    return pd->n_ops;
}

int pd_operator_at(const struct pd *pd, size_t i, struct pd_operator *out)
{
    if (i >= pd->n_ops)
        return PD_ENOTFOUND;
    *out = pd->ops[i];
    return 0;
}

static bool expired(const struct pd *pd, const struct pd_operator *op,
                    uint64_t mono_ms)
{
    return mono_ms > op->created_ms &&
           mono_ms - op->created_ms > pd->cfg.operator_timeout_ms;
}

void pd_operators_tick(struct pd *pd, uint64_t mono_ms)
{
    for (size_t i = pd->n_ops; i-- > 0;)
        if (expired(pd, &pd->ops[i], mono_ms))
            finish(pd, i, PD_OP_TIMEOUT);
}

void pd_operator_stats(const struct pd *pd, struct pd_operator_stats *out)
{
    *out = pd->op_stats;
}

void pd__region_gone(struct pd *pd, uint64_t id, uint64_t by_id)
{
    long i = find(pd, id);
    if (i < 0)
        return;
    const struct pd_operator *op = &pd->ops[i];
    bool merged = op->current < op->n_steps &&
                  op->steps[op->current].kind == PD_STEP_MERGE &&
                  op->steps[op->current].target_region_id == by_id;
    finish(pd, (size_t)i, merged ? PD_OP_SUCCESS : PD_OP_CANCELED);
}

static const struct pd_peer *peer_on(const struct pd__region_v *v,
                                     uint64_t store_id)
{
    for (uint32_t i = 0; i < v->n_peers; i++)
        if (v->peers[i].store_id == store_id)
            return &v->peers[i];
    return NULL;
}

/* Whether the heartbeat v shows step s (of op) done. */
static bool step_done(const struct pd_operator *op, const struct pd_step *s,
                      const struct pd__region_v *v)
{
    const struct pd_peer *p = peer_on(v, s->store_id);
    switch (s->kind) {
    case PD_STEP_ADD_PEER:
    case PD_STEP_PROMOTE_LEARNER:
        return p != NULL && !p->learner;
    case PD_STEP_ADD_LEARNER:
        return p != NULL;
    case PD_STEP_REMOVE_PEER:
        return p == NULL;
    case PD_STEP_TRANSFER_LEADER:
        return p != NULL && p->id == v->leader_peer;
    case PD_STEP_SPLIT:
        return v->version > op->version;
    default:
        return false; /* MERGE: done when the region leaves the map */
    }
}

/* Whether region v and the map's region target_id still touch (either
 * side); false when the target is gone. */
static bool neighbours(const struct pd *pd, const struct pd__region_v *v,
                       uint64_t target_id)
{
    const struct pd__region *t = pd__region_find(pd, target_id);
    if (t == NULL)
        return false;
    return (v->end.n != 0 &&
            pd__keycmp(v->end.p, v->end.n, t->start, t->start_len) == 0) ||
           (t->end_len != 0 &&
            pd__keycmp(t->end, t->end_len, v->start.p, v->start.n) == 0);
}

int pd__op_heartbeat(struct pd *pd, uint64_t mono_ms,
                     const struct pd__region_v *v, struct pd_step *step)
{
    long i = find(pd, v->id);
    if (i < 0)
        return 0;
    struct pd_operator *op = &pd->ops[i];
    /* The region split or merged under an operator that did not ask for
     * it: its plan was made for another range, drop it. (A MERGE's source
     * bumps its version itself when kvd prepares it: libregion "Merge".) */
    bool splits = false;
    for (uint32_t k = 0; k < op->n_steps; k++)
        splits |= op->steps[k].kind == PD_STEP_SPLIT ||
                  op->steps[k].kind == PD_STEP_MERGE;
    if (v->version > op->version && !splits) {
        finish(pd, (size_t)i, PD_OP_CANCELED);
        return 0;
    }
    /* Nor does a split keep a MERGE's plan: once the source or the target
     * split away from the other (or the target is gone), kvd refuses the
     * step ("not adjacent") at every heartbeat until the operator times
     * out (10 min), and both regions stay out of other merges meanwhile. */
    if (op->current < op->n_steps &&
        op->steps[op->current].kind == PD_STEP_MERGE &&
        !neighbours(pd, v, op->steps[op->current].target_region_id)) {
        finish(pd, (size_t)i, PD_OP_CANCELED);
        return 0;
    }
    while (op->current < op->n_steps &&
           step_done(op, &op->steps[op->current], v))
        op->current++;
    /* Leadership handed to a store that fell silent (killed a moment ago,
     * still UP): each attempt holds the region's proposals until the
     * transfer times out, and the step is sent again at every heartbeat,
     * so the region hardly serves until that store returns. */
    if (op->current < op->n_steps &&
        op->steps[op->current].kind == PD_STEP_TRANSFER_LEADER &&
        pd__store_silent(pd__store_find(pd, op->steps[op->current].store_id),
                         mono_ms)) {
        finish(pd, (size_t)i, PD_OP_CANCELED);
        return 0;
    }
    if (op->current == op->n_steps) {
        finish(pd, (size_t)i, PD_OP_SUCCESS);
        return 0;
    }
    if (expired(pd, op, mono_ms)) {
        finish(pd, (size_t)i, PD_OP_TIMEOUT);
        return 0;
    }
    if (step != NULL)
        *step = op->steps[op->current];
    return 0;
}
