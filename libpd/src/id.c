/* id.c: the id allocator (DESIGN.md "IDs"): ids come from blocks whose end
 * is saved before any id of the block is handed out; a new leader resumes
 * above the saved end, so an id is never handed out twice.
 */
#include "pd_int.h"

static int propose_save(struct pd *pd, uint64_t end)
{
    if (pd->id_pending >= end || pd->id_saved >= end)
        return 0;
    struct pd__cmd c = {.type = PD__CMD_ID_SAVE, .u = end};
    int rc = pd__propose(pd, &c);
    if (rc == 0)
        pd->id_pending = end;
    return rc;
}

int pd__id_start(struct pd *pd)
{
    if (pd->id_saved + pd->cfg.id_block >= PD_ID_LIMIT)
        return pd__err(pd, PD_EINTERNAL, "id space exhausted");
    pd->id_next = pd->id_saved + 1;
    pd->id_pending = 0;
    return propose_save(pd, pd->id_saved + pd->cfg.id_block);
}

int pd_id_alloc(struct pd *pd, uint32_t count, uint64_t *first)
{
    if (!pd->leader)
        return pd__err(pd, PD_ENOTLEADER, "id request on a follower");
    if (count == 0 || count > pd->cfg.id_block)
        return pd__err(pd, -EINVAL, "id count %u out of 1..%llu", count,
                       (unsigned long long)pd->cfg.id_block);
    uint64_t last = pd->id_next + count - 1;
    if (last + pd->cfg.id_block >= PD_ID_LIMIT)
        return pd__err(pd, PD_EINTERNAL, "id space exhausted");
    if (last > pd->id_saved) {
        if (pd->id_pending == 0) {
            int rc = propose_save(pd, last + pd->cfg.id_block);
            if (rc != 0)
                return rc;
        }
        return pd__err(pd, PD_ENOTREADY, "id block not saved yet");
    }
    *first = pd->id_next;
    pd->id_next = last + 1;
    /* Save the next block while half of this one remains. */
    if (pd->id_pending == 0 && pd->id_saved - last < pd->cfg.id_block / 2)
        return propose_save(pd, pd->id_saved + pd->cfg.id_block);
    return 0;
}

uint64_t pd_id_saved(const struct pd *pd)
{
    return pd->id_saved;
}
