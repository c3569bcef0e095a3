/* operator.c: operators (DESIGN.md "Operators"): at most one per region,
 * advanced step by step by the region's heartbeats until done or timed out.
 */
#include <string.h>

#include "pd_int.h"

void pd__region_gone(struct pd *pd, uint64_t id, uint64_t by_id)
{
    (void)pd;
    (void)id;
    (void)by_id;
}

int pd__op_heartbeat(struct pd *pd, uint64_t mono_ms,
                     const struct pd__region_v *v, struct pd_step *step)
{
    (void)pd;
    (void)mono_ms;
    (void)v;
    (void)step;
    return 0;
}

void pd__ops_clear(struct pd *pd)
{
    (void)pd;
}
