/* memtrack.c: per-query memory accounting and its limit (DESIGN.md
 * "Memory limits"): trackers charged by arenas block by block, the
 * session's query tracker armed around each statement, and the error
 * (TiDB's 8175) a statement gets when a block would pass the limit.
 */
#include <assert.h>
#include <stdio.h>

#include "memtrack.h"
#include "session.h"
#include "sysvar.h"

static int quota_index(void)
{
    static int slot = -1;
    int i = __atomic_load_n(&slot, __ATOMIC_RELAXED);
    if (i < 0) {
        i = sql__sysvar_find("tidb_mem_quota_query");
        assert(i >= 0);
        __atomic_store_n(&slot, i, __ATOMIC_RELAXED);
    }
    return i;
}

void sql__memtrack_begin(struct sql_session *s)
{
    s->qmem.limit = s->vars[quota_index()].u;
    s->qmem.armed = true;
    s->qmem.exceeded = false;
    s->qmem.peak = s->qmem.used;
}

void sql__memtrack_end(struct sql_session *s)
{
    s->qmem.armed = false;
}

bool sql__memtrack_exceeded(const struct sql_session *s)
{
    return s->qmem.exceeded;
}

int sql__memtrack_err(struct sql_session *s)
{
    return sql__serr(s, 8175, "HY000",
                     "Your query has been cancelled due to exceeding the "
                     "allowed memory limit for a single SQL query. Please "
                     "try narrowing your query scope or increase the "
                     "tidb_mem_quota_query limit and try again.[conn=%u]",
                     s->conn_id);
}

int sql__memtrack_server_init(struct sql_server *srv,
                              const struct sql_server_options *o)
{
    if (o->mem_quota_query == 0)
        return 0; /* the built-in default */
    char text[32], msg[128];
    snprintf(text, sizeof(text), "%llu",
             (unsigned long long)(o->mem_quota_query == UINT64_MAX
                                      ? 0
                                      : o->mem_quota_query));
    return sql__sysvar_assign((size_t)quota_index(), srv->globals, text, true,
                              msg, sizeof(msg));
}
