/* read.c: reads answered on the caller's thread under the leader's lease:
 * no read index round, no turn of the store's loop, no hand-off to a
 * worker. Anything short of a leader with a valid lease that has applied
 * up to its commit index is left to the barrier path (region_read,
 * region_txn_run). DESIGN.md, "Reads".
 */
#include <errno.h>

#include "region_int.h"

int region_read_now(struct region_store *s, const struct region_ctx *ctx,
                    region_txn_fn fn, void *arg, struct region_err *err)
{
    struct region_err local;
    if (err == NULL)
        err = &local;
    if (s == NULL || ctx == NULL || fn == NULL)
        return REGION_EINVAL;
    pthread_mutex_lock(&s->mu);
    struct region_peer *p;
    int rc = region__peer_lookup(s, ctx, &p, err);
    if (rc == 0) {
        raft_index idx = 0;
        /* The lease is checked at this store's current tick; libraft
         * keeps a tick of margin for a call landing between ticks, as
         * for raft_node_read_index. Applied up to the commit index: the
         * engine holds every write acknowledged before this read began,
         * and whatever it holds beyond that is committed too. */
        if (p->removed || !raft_node_lease_valid(p->node, &idx) ||
            p->applied < idx)
            rc = -EAGAIN;
        else
            s->stats.reads_inline++;
    }
    pthread_mutex_unlock(&s->mu);
    if (rc != 0)
        return rc;
    return fn(s->mvcc, arg);
}
