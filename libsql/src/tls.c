/* tls.c: the engine's side of TLS (DESIGN.md "TLS and full
 * authentication"): @@have_ssl and require_secure_transport from the
 * server options, and a connection's Ssl_version / Ssl_cipher. The TLS
 * itself is the caller's (sqld upgrades its socket through librpc); the
 * protocol engine only switches state (proto.c).
 */
#include <assert.h>
#include <string.h>

#include "proto_int.h"
#include "session.h"

int sql__tls_server_init(struct sql_server *srv,
                         const struct sql_server_options *o)
{
    srv->sha2_cache = o->sha2_cache;
    char msg[128];
    int i = sql__sysvar_find("have_ssl");
    assert(i >= 0);
    int rc = sql__sysvar_assign((size_t)i, srv->globals,
                                o->have_ssl ? "YES" : "DISABLED", false, msg,
                                sizeof(msg));
    if (rc != 0)
        return rc;
    i = sql__sysvar_find("require_secure_transport");
    assert(i >= 0);
    return sql__sysvar_assign((size_t)i, srv->globals,
                              o->require_secure_transport ? "ON" : "OFF",
                              false, msg, sizeof(msg));
}

bool sql__require_secure_transport(struct sql_server *srv)
{
    int i = sql__sysvar_find("require_secure_transport");
    assert(i >= 0);
    /* SET GLOBAL changes the globals under sess_mu. */
    sql__sess_list_lock(srv);
    bool on = srv->globals[i].u != 0;
    sql__sess_list_unlock(srv);
    return on;
}

void sql__tls_status(const struct sql_session *s, const char **version,
                     const char **cipher)
{
    *version = "";
    *cipher = "";
    const struct sql_proto_conn *c = s->conn;
    if (c == NULL || !c->tls || c->opts.tls_info == NULL)
        return;
    const char *v = NULL, *ci = NULL;
    c->opts.tls_info(c->opts.tls_info_ctx, &v, &ci);
    *version = v ? v : "";
    *cipher = ci ? ci : "";
}
