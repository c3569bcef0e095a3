/* common.h: the test fixture shared by libpd's suites: one in-memory log and
 * up to FX_REPLICAS replicas applying it, plus helpers that read the log.
 */
#ifndef PD_TEST_COMMON_H
#define PD_TEST_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include "pd.h"

#define FX_REPLICAS 3

struct fx {
    struct pd_memlog *log;           /* the shared log */
    struct pd *pd[FX_REPLICAS];      /* replicas */
    size_t applied[FX_REPLICAS];     /* next entry each replica applies */
};

/* Create the log and n replicas with cfg (NULL: defaults). */
void fx_init(struct fx *fx, int n, const struct pd_config *cfg);
void fx_fini(struct fx *fx);
/* Apply every entry to every replica (everything proposed commits). */
void fx_commit(struct fx *fx);
/* Replica 0 leads: commit, become leader, commit the first saves. */
void fx_lead(struct fx *fx, int i, uint64_t wall_ms, uint64_t mono_ms);
/* Decode the type and integer of log entry i (TSO_SAVE / ID_SAVE). */
int fx_entry_type(struct fx *fx, size_t i);
uint64_t fx_entry_u(struct fx *fx, size_t i);

#endif
