/* confchange.c: configuration changes: their byte form (the data of a
 * RAFT_ENTRY_CONF_CHANGE entry) and how one turns a configuration into the
 * next: a direct single change, entering a joint configuration, or leaving
 * it (thesis 4.1, 4.3). DESIGN.md "Membership".
 *
 * Byte form, little-endian:
 *   off size field
 *   0   1    version (1)
 *   1   1    transition (enum raft_transition)
 *   2   1    n changes (<= RAFT_MAX_MEMBERS)
 *   3   9*n  per change: type (1), id (8)
 */
#include <string.h>

#include "raft_int.h"

#define CC_VERSION 1

size_t raft_conf_change_size(const struct raft_conf_change *cc)
{
    return 3 + 9 * (size_t)cc->n_changes;
}

static void put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

int raft_conf_change_encode(const struct raft_conf_change *cc, void *buf,
                            size_t cap, size_t *len)
{
    if (cc->n_changes > RAFT_MAX_MEMBERS ||
        cc->transition > RAFT_TRANSITION_JOINT_EXPLICIT)
        return RAFT_EINVAL;
    size_t need = raft_conf_change_size(cc);
    if (cap < need)
        return RAFT_ENOSPACE;
    uint8_t *p = buf;
    p[0] = CC_VERSION;
    p[1] = (uint8_t)cc->transition;
    p[2] = (uint8_t)cc->n_changes;
    for (uint32_t i = 0; i < cc->n_changes; i++) {
        if (cc->changes[i].type > RAFT_CHANGE_REMOVE)
            return RAFT_EINVAL;
        p[3 + 9 * i] = (uint8_t)cc->changes[i].type;
        put64(p + 4 + 9 * i, cc->changes[i].id);
    }
    *len = need;
    return 0;
}

int raft_conf_change_decode(const void *buf, size_t len,
                            struct raft_conf_change *cc)
{
    const uint8_t *p = buf;
    memset(cc, 0, sizeof(*cc));
    if (len < 3)
        return RAFT_EDECODE;
    if (p[0] != CC_VERSION)
        return RAFT_EVERSION;
    if (p[1] > RAFT_TRANSITION_JOINT_EXPLICIT || p[2] > RAFT_MAX_MEMBERS ||
        len != 3 + 9 * (size_t)p[2])
        return RAFT_EDECODE;
    cc->transition = p[1];
    cc->n_changes = p[2];
    for (uint32_t i = 0; i < cc->n_changes; i++) {
        cc->changes[i].type = p[3 + 9 * i];
        cc->changes[i].id = get64(p + 4 + 9 * i);
        if (cc->changes[i].type > RAFT_CHANGE_REMOVE || cc->changes[i].id == 0)
            return RAFT_EDECODE;
    }
    return 0;
}

static void ids_del(raft_id *ids, uint8_t *n, raft_id id)
{
    for (uint8_t i = 0; i < *n; i++) {
        if (ids[i] == id) {
            ids[i] = ids[*n - 1];
            (*n)--;
            return;
        }
    }
}

static int ids_add(raft_id *ids, uint8_t *n, raft_id id)
{
    if (raft__ids_has(ids, *n, id))
        return 0;
    if (*n >= RAFT_MAX_MEMBERS)
        return RAFT_ECONF;
    ids[(*n)++] = id;
    return 0;
}

/* Apply the changes to the incoming side of c. */
static int apply_changes(struct raft_conf_state *c,
                         const struct raft_conf_change *cc)
{
    for (uint32_t i = 0; i < cc->n_changes; i++) {
        raft_id id = cc->changes[i].id;
        int rc = 0;
        if (id == 0)
            return RAFT_ECONF;
        switch (cc->changes[i].type) {
        case RAFT_CHANGE_ADD_VOTER:
            ids_del(c->learners, &c->n_learners, id);
            ids_del(c->learners_next, &c->n_learners_next, id);
            rc = ids_add(c->voters, &c->n_voters, id);
            break;
        case RAFT_CHANGE_ADD_LEARNER:
            ids_del(c->voters, &c->n_voters, id);
            ids_del(c->learners, &c->n_learners, id);
            ids_del(c->learners_next, &c->n_learners_next, id);
            /* A voter of the outgoing side becomes a learner only once the
             * joint state is left: it keeps voting until then. */
            if (raft__ids_has(c->voters_outgoing, c->n_voters_outgoing, id))
                rc = ids_add(c->learners_next, &c->n_learners_next, id);
            else
                rc = ids_add(c->learners, &c->n_learners, id);
            break;
        case RAFT_CHANGE_REMOVE:
            ids_del(c->voters, &c->n_voters, id);
            ids_del(c->learners, &c->n_learners, id);
            ids_del(c->learners_next, &c->n_learners_next, id);
            break;
        default:
            return RAFT_ECONF;
        }
        if (rc != 0)
            return rc;
    }
    if (c->n_voters == 0)
        return RAFT_ECONF; /* no incoming voters: nobody could decide */
    return raft__conf_validate(c) == 0 ? 0 : RAFT_ECONF;
}

static int sym_diff(const struct raft_conf_state *a,
                    const struct raft_conf_state *b)
{
    int d = 0;
    for (uint8_t i = 0; i < a->n_voters; i++)
        if (!raft__ids_has(b->voters, b->n_voters, a->voters[i]))
            d++;
    for (uint8_t i = 0; i < b->n_voters; i++)
        if (!raft__ids_has(a->voters, a->n_voters, b->voters[i]))
            d++;
    return d;
}

int raft__conf_apply(const struct raft_conf_state *cur,
                     const struct raft_conf_change *cc,
                     struct raft_conf_state *out)
{
    struct raft_conf_state c = *cur;
    if (cc->n_changes == 0) {
        /* Leave the joint configuration. */
        if (!raft__conf_joint(&c))
            return RAFT_ECONF;
        for (uint8_t i = 0; i < c.n_learners_next; i++) {
            int rc = ids_add(c.learners, &c.n_learners, c.learners_next[i]);
            if (rc != 0)
                return rc;
        }
        c.n_learners_next = 0;
        c.n_voters_outgoing = 0;
        c.auto_leave = false;
        *out = c;
        return 0;
    }
    if (raft__conf_joint(&c))
        return RAFT_ECONF; /* must leave the current joint state first */
    if (cc->transition == RAFT_TRANSITION_AUTO) {
        struct raft_conf_state simple = c;
        int rc = apply_changes(&simple, cc);
        if (rc != 0)
            return rc;
        if (sym_diff(&c, &simple) <= 1) {
            *out = simple;
            return 0;
        }
    }
    /* Enter a joint configuration: the old voters become the outgoing side. */
    memcpy(c.voters_outgoing, c.voters, sizeof(c.voters));
    c.n_voters_outgoing = c.n_voters;
    int rc = apply_changes(&c, cc);
    if (rc != 0)
        return rc;
    c.auto_leave = cc->transition != RAFT_TRANSITION_JOINT_EXPLICIT;
    *out = c;
    return 0;
}
