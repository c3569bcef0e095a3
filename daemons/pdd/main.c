/* main.c: pdd, the placement driver (../shared/DESIGN.md): TSO, IDs, the
 * cluster map and scheduling, replicated over the members named in
 * initial-members with libraft, its log in RocksDB. Only the leader
 * serves; the others redirect (libpd/DESIGN.md, "pdd").
 */
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rpc.h>

#include "cluster_tls.h"
#include "http.h"
#include "pdd.h"
#include "rpcsvc.h"
#include "runtime.h"

struct pdd_settings
{
    struct dmn_common common; /* data-dir, log.* */
    char *name;               /* name: this member's name */
    char *listen;             /* listen: host:port for RPC */
    char *status_listen;      /* status-listen: HTTP status, NULL off */
    char **members;           /* initial-members: name=host:port list */
    char **join;              /* join: client addresses of a group */
    int64_t tick_ms;          /* raft.tick */
    int64_t election_ticks;   /* raft.election-ticks */
    int64_t snapshot_entries; /* raft.snapshot-entries */
    int64_t schedule_ms;      /* schedule-interval */
    struct dmn_cluster_tls tls; /* cluster-ssl-*: mutual TLS */
};

static const struct dmn_cfg_key pdd_keys[] = {
    DMN_COMMON_KEYS(struct pdd_settings, common, "./data/pdd"),
    DMN_CLUSTER_TLS_KEYS(struct pdd_settings, tls),
    {"name", DMN_CFG_STRING, offsetof(struct pdd_settings, name), "pd", 0, 0,
     NULL, "this member's name in initial-members"},
    {"listen", DMN_CFG_ADDR, offsetof(struct pdd_settings, listen),
     "127.0.0.1:2379", 0, 0, NULL,
     "address to serve RPC on (clients and the other members)"},
    {"status-listen", DMN_CFG_ADDR,
     offsetof(struct pdd_settings, status_listen), NULL, 0, 0, NULL,
     "address for HTTP /status, /metrics and /pd/api/v1/* (empty: off)"},
    {"initial-members", DMN_CFG_LIST, offsetof(struct pdd_settings, members),
     NULL, 0, 0, NULL,
     "the group: name=host:port,... (same list, same order, on every member;"
     " empty: this member alone)"},
    {"join", DMN_CFG_LIST, offsetof(struct pdd_settings, join), NULL, 0, 0,
     NULL,
     "join a running group: host:port,... of its members (with an empty "
     "data-dir; ignored once the data-dir holds a log)"},
    {"raft.tick", DMN_CFG_DURATION, offsetof(struct pdd_settings, tick_ms),
     "100ms", 10, 10000, NULL, "Raft tick (heartbeat interval)"},
    {"raft.election-ticks", DMN_CFG_INT,
     offsetof(struct pdd_settings, election_ticks), "10", 3, 1000, NULL,
     "ticks without a leader before an election"},
    {"raft.snapshot-entries", DMN_CFG_INT,
     offsetof(struct pdd_settings, snapshot_entries), "10000", 10, 100000000,
     NULL, "applied entries between snapshots of the state"},
    {"schedule-interval", DMN_CFG_DURATION,
     offsetof(struct pdd_settings, schedule_ms), "10s", 0, 86400000, NULL,
     "time between scheduling rounds (0: never schedule)"},
};

static const struct dmn_cfg_schema pdd_schema = {
    "pdd", pdd_keys, sizeof(pdd_keys) / sizeof(pdd_keys[0])};

/* Fills o's members from the settings; -1 with the reason logged. */
static int members_parse(const struct pdd_settings *s, struct pdd_options *o)
{
    const char *self_name = s->name ? s->name : "pd";
    if (!s->members || !s->members[0]) {
        o->n_members = 1;
        o->members[0].id = 1;
        snprintf(o->members[0].name, sizeof(o->members[0].name), "%s",
                 self_name);
        snprintf(o->members[0].address, sizeof(o->members[0].address), "%s",
                 s->listen);
        snprintf(o->members[0].peer, sizeof(o->members[0].peer), "%s",
                 s->listen);
        o->self_id = 1;
        return 0;
    }
    for (size_t i = 0; s->members[i]; i++) {
        if (i == PDD_MAX_MEMBERS) {
            dmn_error("initial-members: at most %d members",
                      PDD_MAX_MEMBERS);
            return -1;
        }
        const char *item = s->members[i];
        const char *eq = strchr(item, '=');
        char host[256];
        uint16_t port;
        if (!eq || eq == item || (size_t)(eq - item) >= 64 ||
            strlen(eq + 1) >= 128 ||
            dmn_cfg_split_addr(eq + 1, host, sizeof(host), &port) != 0) {
            dmn_error("initial-members: expected name=host:port, got '%s'",
                      item);
            return -1;
        }
        struct pdd_member *m = &o->members[i];
        m->id = i + 1;
        snprintf(m->name, sizeof(m->name), "%.*s", (int)(eq - item), item);
        snprintf(m->address, sizeof(m->address), "%s", eq + 1);
        snprintf(m->peer, sizeof(m->peer), "%s", eq + 1);
        for (size_t j = 0; j < i; j++)
            if (strcmp(o->members[j].name, m->name) == 0) {
                dmn_error("initial-members: '%s' listed twice", m->name);
                return -1;
            }
        if (strcmp(m->name, self_name) == 0)
            o->self_id = m->id;
        o->n_members = i + 1;
    }
    o->members_given = true;
    if (o->self_id == 0) {
        dmn_error("name '%s' is not in initial-members", self_name);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct pdd_settings s = {0};
    struct dmn_runtime rt;
    int rc = dmn_start(&rt, &pdd_schema, &s, &s.common, argc, argv);
    if (rc != DMN_CONTINUE)
        return rc;
    struct pdd_options o;
    memset(&o, 0, sizeof(o));
    o.name = s.name ? s.name : "pd";
    o.listen = s.listen;
    o.join = s.join;
    if (s.join && s.join[0] && s.members && s.members[0]) {
        dmn_error("join and initial-members exclude each other: a new "
                  "group names its members, a joining member its group");
        dmn_finish(&rt, &pdd_schema, &s);
        return DMN_EXIT_USAGE;
    }
    o.data_dir = rt.data_dir;
    o.tick_ms = s.tick_ms;
    o.election_ticks = (int)s.election_ticks;
    o.snapshot_entries = (uint64_t)s.snapshot_entries;
    o.schedule_ms = s.schedule_ms;
    /* TEST ONLY: shifts this process's wall clock (ms, may be negative) so
     * integration tests can step a leader's clock backwards; with
     * PDD_TEST_CLOCK_OFFSET_FILE the offset is re-read from that file
     * every tick, stepping a running member's clock. */
    const char *off = getenv("PDD_TEST_CLOCK_OFFSET_MS");
    if (off && *off) {
        char *end;
        errno = 0;
        long long v = strtoll(off, &end, 10);
        if (errno || *end) {
            dmn_error("PDD_TEST_CLOCK_OFFSET_MS: not an integer: '%s'", off);
            dmn_finish(&rt, &pdd_schema, &s);
            return DMN_EXIT_USAGE;
        }
        o.clock_offset_ms = v;
        dmn_warn("TEST ONLY: wall clock offset %lld ms", v);
    }
    const char *off_file = getenv("PDD_TEST_CLOCK_OFFSET_FILE");
    if (off_file && *off_file) {
        o.clock_offset_file = off_file;
        dmn_warn("TEST ONLY: wall clock offset read from %s every tick",
                 off_file);
    }
    if (members_parse(&s, &o) != 0) {
        dmn_finish(&rt, &pdd_schema, &s);
        return DMN_EXIT_USAGE;
    }
    char tls_err[512];
    if (dmn_cluster_tls_init(&s.tls, tls_err, sizeof(tls_err)) != 0) {
        dmn_error("%s", tls_err);
        dmn_finish(&rt, &pdd_schema, &s);
        return DMN_EXIT_USAGE;
    }
    o.tls_server = dmn_cluster_tls_server();
    o.tls_client = dmn_cluster_tls_client();
    struct rpc_server *rpc = NULL;
    if (dmn_rpc_start(&rt, s.listen, &rpc) != 0) {
        dmn_cluster_tls_free();
        dmn_finish(&rt, &pdd_schema, &s);
        return DMN_EXIT_FAIL;
    }
    struct pdd_node *node = NULL;
    if (pdd_node_start(rt.base, rpc, &o, &node) != 0 ||
        pdd_service_register(rpc, node) != 0) {
        dmn_error("cannot start the replica");
        pdd_node_stop(node);
        dmn_rpc_stop(rpc);
        dmn_cluster_tls_free();
        dmn_finish(&rt, &pdd_schema, &s);
        return DMN_EXIT_FAIL;
    }
    struct dmn_http *http = NULL;
    if (s.status_listen &&
        pdd_http_start(rt.base, s.status_listen, node, &http) != 0) {
        pdd_node_stop(node);
        dmn_rpc_stop(rpc);
        dmn_cluster_tls_free();
        dmn_finish(&rt, &pdd_schema, &s);
        return DMN_EXIT_FAIL;
    }
    rc = dmn_run(&rt);
    if (rc != 0)
        dmn_error("event loop failed");
    dmn_http_stop(http);
    pdd_node_stop(node);
    dmn_rpc_stop(rpc);
    pdd_service_stop();
    dmn_cluster_tls_free();
    dmn_finish(&rt, &pdd_schema, &s);
    return rc == 0 ? DMN_EXIT_OK : DMN_EXIT_FAIL;
}
