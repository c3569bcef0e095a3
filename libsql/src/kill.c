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

/* The list walk, the owner check and the marks run under sess_mu, so
 * the target can neither leave nor start a command meanwhile; on_kill is
 * called after it, as the embedding program may take its own locks
 * around session create and destroy. */
int sql__kill_run(struct sql_session *s, uint64_t id, bool query_only)
{
    struct sql_server *srv = s->srv;
    struct sql_session *o;
    sql__sess_list_lock(srv);
    for (o = srv->sessions; o; o = o->next)
        if (o->conn_id == id)
            break;
    if (!o) {
        sql__sess_list_unlock(srv);
        return sql__serr(s, 1094, "HY000", "Unknown thread id: %llu",
                         (unsigned long long)id);
    }
    /* The owner is the same user name (MySQL's rule), else SUPER. */
    if (!sql__sess_same_user(s, o) && !sql__priv_global(s, SQL_PRIV_SUPER)) {
        sql__sess_list_unlock(srv);
        return sql__serr(s, 1095, "HY000", "You are not owner of thread %llu",
                         (unsigned long long)id);
    }
    uint32_t conn_id = o->conn_id;
    bool self = o == s;
    if (!query_only)
        __atomic_store_n(&o->kill_conn, true, __ATOMIC_RELEASE);
    if (!self && (o->in_cmd || !query_only))
        __atomic_store_n(&o->killed, true, __ATOMIC_RELEASE);
    sql__sess_list_unlock(srv);
    if (!self)
        sql__kv_wake_waiters(srv->kv); /* a row-lock wait ends now */
    if (!query_only && srv->on_kill)
        srv->on_kill(srv->kill_ctx, conn_id);
    if (self)
        return sql__sess_interrupt_err(s); /* as MySQL answers */
    return sql__sess_ok(s, 0, 0);
}
