/* main.c: sqld, the MySQL-compatible SQL front end (../shared/DESIGN.md).
 * It serves the MySQL protocol on `listen`: librpc's byte-stream server
 * owns the sockets, libsql's protocol engine speaks the protocol and a
 * libsql session per connection runs the statements on the server's
 * store: with --store=local, libmvcc on RocksDB under data-dir/store, in
 * this process (docs/sql.md follows a statement from packet to storage).
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <rpc.h>
#include <sql.h>

#include "rpcsvc.h"
#include "runtime.h"

#define SQLD_SERVER_VERSION "8.0.11-dsql-" DMN_VERSION_STRING

struct sqld_settings
{
    struct dmn_common common; /* data-dir, log.* */
    char *listen;             /* listen: host:port for MySQL clients */
    char *store;              /* store: local or cluster */
    int64_t max_connections;  /* max-connections: clients at once */
};

static const char *const store_kinds[] = {"local", "cluster", NULL};

static const struct dmn_cfg_key sqld_keys[] = {
    DMN_COMMON_KEYS(struct sqld_settings, common, "./data/sqld"),
    {"listen", DMN_CFG_ADDR, offsetof(struct sqld_settings, listen),
     "127.0.0.1:4000", 0, 0, NULL, "address to serve MySQL clients on"},
    {"store", DMN_CFG_ENUM, offsetof(struct sqld_settings, store), "local", 0,
     0, store_kinds, "local (embedded) or cluster (kvd and pdd)"},
    {"max-connections", DMN_CFG_INT,
     offsetof(struct sqld_settings, max_connections), "1024", 1, 100000,
     NULL, "client connections served at once"},
};

static const struct dmn_cfg_schema sqld_schema = {
    "sqld", sqld_keys, sizeof(sqld_keys) / sizeof(sqld_keys[0])};

/* One client connection: the protocol engine and the SQL session. */
struct client
{
    struct sql_proto_conn *proto;  /* MySQL protocol state */
    struct sql_session *session;   /* answers its commands */
};

static uint32_t next_connection_id = 1;
static struct sql_server *server; /* the store, catalog and variables */

/* Accounts: root without a password until users are stored (issue 7). */
static int lookup_account(void *ctx, const char *user, const char *host,
                          struct sql_account *out)
{
    (void)ctx;
    (void)host;
    if (strcmp(user, "root") != 0)
        return SQL_ENOTFOUND;
    memset(out, 0, sizeof(*out));
    out->plugin = SQL_AUTH_NATIVE;
    out->has_password = false;
    return 0;
}

/* Hands the protocol engine's output to the socket; closes when the
 * engine asks to (after that output). */
static void flush(struct rpc_stream_conn *sc, struct client *cl)
{
    size_t n;
    const uint8_t *out = sql_proto_conn_output(cl->proto, &n);
    if (n > 0) {
        rpc_stream_write(sc, out, n);
        sql_proto_conn_consume(cl->proto, n);
    }
    if (sql_proto_conn_want_close(cl->proto))
        rpc_stream_close(sc);
}

static void client_free(struct client *cl)
{
    if (!cl)
        return;
    sql_proto_conn_destroy(cl->proto);
    sql_session_destroy(cl->session);
    free(cl);
}

static void on_open(struct rpc_stream_conn *sc, void *ud)
{
    (void)ud;
    struct client *cl = calloc(1, sizeof(*cl));
    uint32_t id = next_connection_id++;
    if (!cl || sql_session_create(server, id, &cl->session) != 0)
        goto fail;
    char host[64];
    snprintf(host, sizeof(host), "%s", rpc_stream_peer(sc));
    char *colon = strrchr(host, ':');
    if (colon)
        *colon = '\0';
    struct sql_proto_options po = {
        .server_version = SQLD_SERVER_VERSION,
        .connection_id = id,
        .client_host = host,
        .auth = {NULL, lookup_account},
        .exec = sql_session_executor(cl->session),
    };
    if (getrandom(po.scramble, sizeof(po.scramble), 0) !=
        (ssize_t)sizeof(po.scramble))
        goto fail;
    cl->proto = sql_proto_conn_create(&po);
    if (!cl->proto || sql_proto_conn_start(cl->proto) != 0)
        goto fail;
    rpc_stream_set_ud(sc, cl);
    dmn_debug("client %u connected from %s", po.connection_id,
              rpc_stream_peer(sc));
    flush(sc, cl);
    return;
fail:
    dmn_warn("cannot serve a client from %s: out of memory",
             rpc_stream_peer(sc));
    client_free(cl);
    rpc_stream_close(sc);
}

static size_t on_data(struct rpc_stream_conn *sc, const uint8_t *data,
                      size_t len, void *ud)
{
    (void)ud;
    struct client *cl = rpc_stream_get_ud(sc);
    if (!cl)
        return len; /* on_open failed; the connection is closing */
    size_t used = 0;
    int rc = sql_proto_conn_feed(cl->proto, data, len, &used);
    if (rc != 0) {
        dmn_warn("client %s: %s; closing", rpc_stream_peer(sc),
                 sql_strerror(rc));
        rpc_stream_close(sc);
        return len;
    }
    flush(sc, cl);
    return used;
}

static void on_close(struct rpc_stream_conn *sc, int rc, const char *reason,
                     void *ud)
{
    (void)ud;
    dmn_debug("client %s gone: %s", rpc_stream_peer(sc),
              rc == 0 ? "closed" : reason);
    client_free(rpc_stream_get_ud(sc));
    rpc_stream_set_ud(sc, NULL);
}

static int serve_mysql(struct dmn_runtime *rt, const struct sqld_settings *s,
                       struct rpc_stream_server **out)
{
    char host[256];
    uint16_t port;
    char err[256];
    if (dmn_cfg_split_addr(s->listen, host, sizeof(host), &port) != 0) {
        dmn_error("listen: bad address '%s'", s->listen);
        return -1;
    }
    struct rpc_stream_server_options so = {
        .host = host,
        .port = port,
        .max_connections = (unsigned)s->max_connections,
        .cb = {on_open, on_data, on_close, NULL},
        .log = dmn_rpc_log,
        /* Clients come and go all the time: their connections are logged
         * at debug level only. */
        .log_level = dmn_log_enabled(DMN_LOG_DEBUG) ? RPC_LOG_DEBUG
                                                    : RPC_LOG_WARN,
    };
    if (rpc_stream_server_create(rt->base, &so, out, err, sizeof(err)) != 0) {
        dmn_error("cannot serve MySQL on %s: %s", s->listen, err);
        return -1;
    }
    dmn_info("serving MySQL on %s:%u", host,
             (unsigned)rpc_stream_server_port(*out));
    return 0;
}

int main(int argc, char **argv)
{
    struct sqld_settings s = {0};
    struct dmn_runtime rt;
    int rc = dmn_start(&rt, &sqld_schema, &s, &s.common, argc, argv);
    if (rc != DMN_CONTINUE)
        return rc;
    if (strcmp(s.store, "local") != 0) {
        dmn_error("store: 'cluster' needs kvd and pdd, which do not serve "
                  "data yet; use --store=local");
        dmn_finish(&rt, &sqld_schema, &s);
        return DMN_EXIT_USAGE;
    }
    char path[4096], err[512];
    snprintf(path, sizeof(path), "%s/store", rt.data_dir);
    /* Commits are durable: the store syncs its WAL on every commit. */
    struct sql_server_options so = {.data_dir = path,
                                    .sync = true,
                                    .version = SQLD_SERVER_VERSION};
    rc = sql_server_open(&so, &server, err, sizeof(err));
    if (rc != 0) {
        dmn_error("cannot open the store in %s: %s", path,
                  err[0] ? err : sql_strerror(rc));
        dmn_finish(&rt, &sqld_schema, &s);
        return DMN_EXIT_FAIL;
    }
    dmn_info("store: local (RocksDB in %s)", path);
    struct rpc_stream_server *srv = NULL;
    if (serve_mysql(&rt, &s, &srv) != 0) {
        sql_server_close(server);
        dmn_finish(&rt, &sqld_schema, &s);
        return DMN_EXIT_FAIL;
    }
    rc = dmn_run(&rt);
    if (rc != 0)
        dmn_error("event loop failed");
    /* Destroying the listener closes the clients (on_close frees their
     * sessions) before the server goes. */
    rpc_stream_server_destroy(srv);
    sql_server_close(server);
    server = NULL;
    dmn_finish(&rt, &sqld_schema, &s);
    return rc == 0 ? DMN_EXIT_OK : DMN_EXIT_FAIL;
}
