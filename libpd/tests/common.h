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

/* A store "s<id>" with zone/host labels when zone is not NULL (strings
 * must outlive the struct). */
struct pd_store fx_store(uint64_t id, const char *zone, const char *host);
/* Region id over [start, end) (NULL: open), epoch cv/ver, voters on the
 * n stores listed (peer id = id * 1000 + store id), led from leader_store
 * (0: none), with approximate size in MiB and keys. */
struct pd_region_info fx_region(uint64_t id, const char *start,
                                const char *end, uint64_t cv, uint64_t ver,
                                uint64_t leader_store, uint64_t size_mib,
                                int n, const uint64_t *stores);
/* Bootstrap cluster 42 with store 1 and region 1 through replica i. */
void fx_bootstrap(struct fx *fx, int i);
/* Heartbeat then commit; returns the heartbeat's code. */
int fx_hb(struct fx *fx, int i, uint64_t mono, const struct pd_region_info *r);
/* Region id's meta as the map holds it on replica i (asserts found). */
struct pd_region_info fx_get(struct fx *fx, int i, uint64_t id);

#endif
