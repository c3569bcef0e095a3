/* plancache.h: the plan cache of prepared statements (plancache.c;
 * DESIGN.md "Plan cache"). A prepared SELECT keeps its physical plan and
 * reuses it while nothing the plan reads has changed.
 */
#ifndef SQL_PLANCACHE_H
#define SQL_PLANCACHE_H

#include <stdbool.h>

#include "plan.h"
#include "session.h"

/* The plan of pp's SELECT for this execution: the cached one when it is
 * still fresh, else a new plan, kept for the next execution when it can
 * be. count: the execution counts as a hit or a miss (SHOW STATUS
 * Plan_cache_%, @@last_plan_from_cache); COM_STMT_PREPARE's own planning
 * does not. The plan is borrowed until pp is freed or the next call for
 * pp. Errors as sql__plan_select. */
int sql__plancache_select(struct sql_session *s, struct sql_prepared *pp,
                          bool count, struct plan **out);

/* Whether p's work is bounded by its constants and never waits for
 * another session: point reads without a lock, filters, projections,
 * LIMIT, operators only (sql_session_try_quick runs such statements on
 * the caller's thread). */
bool sql__plan_quick(const struct plan *p);
/* pp is a SELECT whose cached plan is fresh and quick. */
bool sql__plancache_quick(struct sql_session *s, struct sql_prepared *pp);

/* Free a prepared statement's cache; NULL is a no-op. */
void sql__plancache_free(struct sql_plancache *pc);

#endif
