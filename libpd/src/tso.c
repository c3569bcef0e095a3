/* tso.c: the timestamp oracle (DESIGN.md "TSO"). Timestamps handed out
 * never exceed the saved bound; a new leader starts strictly above the
 * bound it loaded, so it never goes back whatever its wall clock says.
 */
#include "pd_int.h"

/* Propose a save of base + window unless one covering it is in flight. */
static int propose_save(struct pd *pd, uint64_t base)
{
    uint64_t bound = base + pd->cfg.tso_save_window_ms;
    if (pd->tso_pending >= bound || pd->tso_saved >= bound)
        return 0;
    struct pd__cmd c = {.type = PD__CMD_TSO_SAVE, .u = bound};
    int rc = pd__propose(pd, &c);
    if (rc == 0)
        pd->tso_pending = bound;
    return rc;
}

/* Whether wall_ms leaves room for a window below the physical limit. */
static bool wall_ok(const struct pd *pd, uint64_t wall_ms)
{
    return wall_ms < PD_TS_PHYSICAL_LIMIT - 2 * pd->cfg.tso_save_window_ms;
}

int pd__tso_start(struct pd *pd, uint64_t wall_ms)
{
    if (!wall_ok(pd, wall_ms) ||
        !wall_ok(pd, pd->tso_saved + 1))
        return pd__err(pd, -EINVAL, "wall clock %llu ms out of range",
                       (unsigned long long)wall_ms);
    /* Strictly above anything the previous leaders may have served. */
    uint64_t start = pd->tso_saved + 1;
    if (wall_ms > start)
        start = wall_ms;
    pd->tso_phys = start;
    pd->tso_logical = 0;
    pd->tso_pending = 0;
    return propose_save(pd, start);
}

/* The base of the next window: the later of the clock and what is used. */
static uint64_t window_base(const struct pd *pd, uint64_t wall_ms)
{
    return wall_ms > pd->tso_phys ? wall_ms : pd->tso_phys;
}

/* Save ahead once less than a third of a window remains. */
static int maybe_save(struct pd *pd, uint64_t wall_ms)
{
    uint64_t base = window_base(pd, wall_ms);
    if (pd->tso_saved >= base &&
        pd->tso_saved - base >= pd->cfg.tso_save_window_ms / 3 * 2)
        return 0;
    if (pd->tso_pending != 0)
        return 0;
    return propose_save(pd, base);
}

/* Follow the wall clock forward, never past the saved bound; a clock that
 * went backwards leaves the physical part where it is. */
static void advance(struct pd *pd, uint64_t wall_ms)
{
    if (pd->tso_phys > pd->tso_saved)
        return; /* first window not applied yet */
    uint64_t p = wall_ms < pd->tso_saved ? wall_ms : pd->tso_saved;
    if (p > pd->tso_phys) {
        pd->tso_phys = p;
        pd->tso_logical = 0;
    }
}

int pd_tso_tick(struct pd *pd, uint64_t wall_ms)
{
    if (!pd->leader)
        return pd__err(pd, PD_ENOTLEADER, "tso tick on a follower");
    if (!wall_ok(pd, wall_ms) || !wall_ok(pd, pd->tso_phys + 1))
        return pd__err(pd, -EINVAL, "wall clock %llu ms out of range",
                       (unsigned long long)wall_ms);
    advance(pd, wall_ms);
    return maybe_save(pd, wall_ms);
}

int pd_tso_get(struct pd *pd, uint64_t wall_ms, uint32_t count, pd_ts *first)
{
    if (!pd->leader)
        return pd__err(pd, PD_ENOTLEADER, "tso request on a follower");
    if (count == 0 || count > PD_TS_LOGICAL_LIMIT)
        return pd__err(pd, -EINVAL, "tso count %u out of 1..%u", count,
                       (unsigned)PD_TS_LOGICAL_LIMIT);
    if (!wall_ok(pd, wall_ms) || !wall_ok(pd, pd->tso_phys + 1))
        return pd__err(pd, -EINVAL, "wall clock %llu ms out of range",
                       (unsigned long long)wall_ms);
    advance(pd, wall_ms);
    int rc = maybe_save(pd, wall_ms);
    if (rc != 0)
        return rc;
    if (pd->tso_phys > pd->tso_saved)
        return pd__err(pd, PD_ENOTREADY, "tso window not saved yet");
    if ((uint64_t)pd->tso_logical + count > PD_TS_LOGICAL_LIMIT) {
        /* Logical overflow: the batch takes the next millisecond if the
         * saved window still covers it, else waits for the next save. */
        if (pd->tso_phys + 1 > pd->tso_saved) {
            rc = propose_save(pd, pd->tso_phys + 1);
            if (rc != 0)
                return rc;
            return pd__err(pd, PD_ENOTREADY,
                           "tso logical exhausted at the saved bound");
        }
        pd->tso_phys++;
        pd->tso_logical = 0;
    }
    *first = PD_TS_COMPOSE(pd->tso_phys, pd->tso_logical);
    pd->tso_logical += count;
    return 0;
}

uint64_t pd_tso_saved(const struct pd *pd)
{
    return pd->tso_saved;
}
