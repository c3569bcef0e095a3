/* kill.c: KILL [QUERY | CONNECTION] and COM_PROCESS_KILL over the
 * server's session list (DESIGN.md "Accounts and privileges", KILL).
 * KILL QUERY marks the target's running command, which stops at its next
 * check (lock waits poll every KILL_POLL_MS, every statement checks at
 * its end) with 1317; KILL CONNECTION also marks the session killed and
 * tells the embedding program (on_kill) to close the connection.
 */
#include <stdio.h>
#include <string.h>

#include "acct.h"
#include "session.h"

bool sql__sess_interrupted(const struct sql_session *s)
{
    return __atomic_load_n(&s->killed, __ATOMIC_ACQUIRE);
}

int sql__sess_interrupt_err(struct sql_session *s)
{
    return sql__serr(s, 1317, "70100", "Query execution was interrupted");
}

bool sql_session_killed(const struct sql_session *s)
{
    return __atomic_load_n(&s->kill_conn, __ATOMIC_ACQUIRE);
}

int sql__kill_run(struct sql_session *s, uint64_t id, bool query_only)
{
    struct sql_session *o;
    for (o = s->srv->sessions; o; o = o->next)
        if (o->conn_id == id)
            break;
    if (!o)
        return sql__serr(s, 1094, "HY000", "Unknown thread id: %llu",
                         (unsigned long long)id);
    /* The owner is the same user name (MySQL's rule), else SUPER. */
    if (!sql__sess_same_user(s, o) && !sql__priv_global(s, SQL_PRIV_SUPER))
        return sql__serr(s, 1095, "HY000", "You are not owner of thread %llu",
                         (unsigned long long)id);
    if (!query_only) {
        __atomic_store_n(&o->kill_conn, true, __ATOMIC_RELEASE);
        if (s->srv->on_kill)
            s->srv->on_kill(s->srv->kill_ctx, o->conn_id);
    }
    if (o == s)
        return sql__sess_interrupt_err(s); /* as MySQL answers */
    if (o->in_cmd || !query_only)
        __atomic_store_n(&o->killed, true, __ATOMIC_RELEASE);
    return sql__sess_ok(s, 0, 0);
}
