/* http.c: pdd's HTTP status port (status-listen): GET /status, /metrics
 * (Prometheus text) and a JSON view of members, stores, regions and
 * operators under /pd/api/v1/. One request per connection (HTTP/1.0
 * style), served on librpc's byte-stream server (libpd/DESIGN.md, "pdd").
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rpc.h>

#include "config.h"
#include "log.h"
#include "pdd.h"
#include "rpcsvc.h"

#define MAX_REQUEST 8192
#define MAX_LIST 10000 /* regions listed at most */

static void json_str(FILE *f, const uint8_t *s, size_t n)
{
    fputc('"', f);
    for (size_t i = 0; i < n; i++) {
        uint8_t c = s[i];
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20 || c >= 0x7f)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

static void json_cstr(FILE *f, const char *s)
{
    json_str(f, (const uint8_t *)s, s ? strlen(s) : 0);
}

static const char *state_name(int s)
{
    static const char *n[] = {"up", "offline", "tombstone", "down"};
    return s >= 0 && s < 4 ? n[s] : "unknown";
}

static void members_json(struct pdd_node *n, FILE *f)
{
    const struct pdd_options *o = pdd_node_options(n);
    fprintf(f, "{\"leader_id\": %" PRIu64 ", \"term\": %" PRIu64
               ", \"members\": [",
            pdd_node_leader(n), pdd_node_term(n));
    for (size_t i = 0; i < o->n_members; i++) {
        fprintf(f, "%s{\"id\": %" PRIu64 ", \"name\": ", i ? ", " : "",
                o->members[i].id);
        json_cstr(f, o->members[i].name);
        fprintf(f, ", \"address\": ");
        json_cstr(f, o->members[i].address);
        fprintf(f, "}");
    }
    fprintf(f, "]}\n");
}

static void stores_json(struct pdd_node *n, FILE *f)
{
    struct pd *pd = pdd_node_pd(n);
    uint64_t now = pdd_mono_ms();
    fprintf(f, "{\"stores\": [");
    for (size_t i = 0, k = 0; i < pd_store_count(pd); i++) {
        struct pd_store_info s;
        if (pd_store_at(pd, now, i, &s) != 0)
            continue;
        fprintf(f, "%s{\"id\": %" PRIu64 ", \"address\": ", k++ ? ", " : "",
                s.store.id);
        json_cstr(f, s.store.address);
        fprintf(f, ", \"state\": \"%s\", \"labels\": {", state_name(s.state));
        for (uint32_t j = 0; j < s.store.n_labels; j++) {
            if (j)
                fprintf(f, ", ");
            json_cstr(f, s.store.labels[j].key);
            fprintf(f, ": ");
            json_cstr(f, s.store.labels[j].value);
        }
        fprintf(f, "}, \"regions\": %u, \"leaders\": %u, \"size\": %" PRIu64
                   ", \"capacity\": %" PRIu64 ", \"available\": %" PRIu64
                   "}",
                s.map_regions, s.map_leaders, s.map_size, s.stats.capacity,
                s.stats.available);
    }
    fprintf(f, "]}\n");
}

static void regions_json(struct pdd_node *n, FILE *f)
{
    struct pd *pd = pdd_node_pd(n);
    size_t cap = pd_region_count(pd);
    if (cap > MAX_LIST)
        cap = MAX_LIST;
    struct pd_region_info *rs = calloc(cap + 1, sizeof(*rs));
    size_t k = 0;
    if (rs)
        pd_region_scan(pd, NULL, 0, NULL, 0, cap, rs, &k);
    fprintf(f, "{\"count\": %zu, \"regions\": [", pd_region_count(pd));
    for (size_t i = 0; i < k; i++) {
        const struct pd_region *r = &rs[i].region;
        fprintf(f, "%s{\"id\": %" PRIu64 ", \"start_key\": ", i ? ", " : "",
                r->id);
        json_str(f, r->start_key, r->start_len);
        fprintf(f, ", \"end_key\": ");
        json_str(f, r->end_key, r->end_len);
        fprintf(f, ", \"conf_ver\": %" PRIu64 ", \"version\": %" PRIu64
                   ", \"leader_peer_id\": %" PRIu64 ", \"size\": %" PRIu64
                   ", \"keys\": %" PRIu64 ", \"peers\": [",
                r->conf_ver, r->version, rs[i].leader_peer_id,
                rs[i].approx_size, rs[i].approx_keys);
        for (uint32_t j = 0; j < r->n_peers; j++)
            fprintf(f, "%s{\"id\": %" PRIu64 ", \"store_id\": %" PRIu64
                       ", \"learner\": %s}",
                    j ? ", " : "", r->peers[j].id, r->peers[j].store_id,
                    r->peers[j].learner ? "true" : "false");
        fprintf(f, "]}");
    }
    fprintf(f, "]}\n");
    free(rs);
}

static void operators_json(struct pdd_node *n, FILE *f)
{
    static const char *st[] = {"running", "success", "timeout", "canceled"};
    static const char *kinds[] = {"none",        "add-peer",
                                  "add-learner", "promote-learner",
                                  "remove-peer", "transfer-leader",
                                  "split",       "merge"};
    struct pd *pd = pdd_node_pd(n);
    fprintf(f, "{\"operators\": [");
    for (size_t i = 0; i < pd_operator_count(pd); i++) {
        struct pd_operator op;
        if (pd_operator_at(pd, i, &op) != 0)
            continue;
        fprintf(f, "%s{\"region_id\": %" PRIu64 ", \"desc\": ", i ? ", " : "",
                op.region_id);
        json_cstr(f, op.desc);
        fprintf(f, ", \"status\": \"%s\", \"current\": %u, \"steps\": [",
                op.status >= 0 && op.status < 4 ? st[op.status] : "?",
                op.current);
        for (uint32_t j = 0; j < op.n_steps; j++)
            fprintf(f, "%s{\"kind\": \"%s\", \"store_id\": %" PRIu64
                       ", \"peer_id\": %" PRIu64 "}",
                    j ? ", " : "",
                    op.steps[j].kind >= 0 && op.steps[j].kind < 8
                        ? kinds[op.steps[j].kind]
                        : "?",
                    op.steps[j].store_id, op.steps[j].peer_id);
        fprintf(f, "]}");
    }
    fprintf(f, "]}\n");
}

static void status_json(struct pdd_node *n, FILE *f)
{
    const struct pdd_options *o = pdd_node_options(n);
    struct pd *pd = pdd_node_pd(n);
    fprintf(f, "{\"role\": \"pdd\", \"version\": \"%s\", \"id\": %" PRIu64
               ", \"leader_id\": %" PRIu64 ", \"term\": %" PRIu64
               ", \"serving\": %s, \"applied_index\": %" PRIu64
               ", \"bootstrapped\": %s, \"cluster_id\": %" PRIu64 "}\n",
            DMN_VERSION_STRING, o->self_id, pdd_node_leader(n),
            pdd_node_term(n), pd_is_leader(pd) ? "true" : "false",
            pdd_node_applied(n), pd_is_bootstrapped(pd) ? "true" : "false",
            pd_cluster_id(pd));
}

static void metrics_text(struct pdd_node *n, FILE *f)
{
    struct pd *pd = pdd_node_pd(n);
    struct pd_operator_stats os;
    pd_operator_stats(pd, &os);
    fprintf(f,
            "# TYPE pd_is_leader gauge\npd_is_leader %d\n"
            "# TYPE pd_raft_term gauge\npd_raft_term %" PRIu64 "\n"
            "# TYPE pd_raft_applied_index gauge\n"
            "pd_raft_applied_index %" PRIu64 "\n"
            "# TYPE pd_stores gauge\npd_stores %zu\n"
            "# TYPE pd_regions gauge\npd_regions %zu\n"
            "# TYPE pd_tso_saved_ms gauge\npd_tso_saved_ms %" PRIu64 "\n"
            "# TYPE pd_id_saved gauge\npd_id_saved %" PRIu64 "\n"
            "# TYPE pd_gc_safe_point gauge\npd_gc_safe_point %" PRIu64 "\n"
            "# TYPE pd_operators_running gauge\n"
            "pd_operators_running %zu\n"
            "# TYPE pd_operators_total counter\n"
            "pd_operators_total{event=\"added\"} %" PRIu64 "\n"
            "pd_operators_total{event=\"succeeded\"} %" PRIu64 "\n"
            "pd_operators_total{event=\"timed_out\"} %" PRIu64 "\n"
            "pd_operators_total{event=\"canceled\"} %" PRIu64 "\n",
            pd_is_leader(pd) ? 1 : 0, pdd_node_term(n), pdd_node_applied(n),
            pd_store_count(pd), pd_region_count(pd), pd_tso_saved(pd),
            pd_id_saved(pd), pd_gc_safe_point(pd), pd_operator_count(pd),
            os.added, os.succeeded, os.timed_out, os.canceled);
    const struct pdd_counters *c = pdd_node_counters(n);
    fprintf(f,
            "# TYPE pdd_tso_requests_total counter\n"
            "pdd_tso_requests_total %" PRIu64 "\n"
            "# TYPE pdd_tso_batches_total counter\n"
            "pdd_tso_batches_total %" PRIu64 "\n"
            "# TYPE pdd_timestamps_total counter\n"
            "pdd_timestamps_total %" PRIu64 "\n"
            "# TYPE pdd_raft_synced_writes_total counter\n"
            "pdd_raft_synced_writes_total %" PRIu64 "\n"
            "# TYPE pdd_raft_messages_sent_total counter\n"
            "pdd_raft_messages_sent_total %" PRIu64 "\n"
            "# TYPE pdd_snapshots_total counter\n"
            "pdd_snapshots_total %" PRIu64 "\n",
            c->tso_requests, c->tso_batches, c->timestamps, c->synced_writes,
            c->messages_sent, c->snapshots);
}

static void respond(struct rpc_stream_conn *conn, int code, const char *type,
                    const char *body, size_t len)
{
    const char *reason = code == 200   ? "OK"
                         : code == 404 ? "Not Found"
                         : code == 405 ? "Method Not Allowed"
                                       : "Bad Request";
    char head[256];
    int h = snprintf(head, sizeof(head),
                     "HTTP/1.0 %d %s\r\nContent-Type: %s\r\n"
                     "Content-Length: %zu\r\nConnection: close\r\n\r\n",
                     code, reason, type, len);
    rpc_stream_write(conn, head, (size_t)h);
    if (len)
        rpc_stream_write(conn, body, len);
    rpc_stream_close(conn);
}

static size_t on_data(struct rpc_stream_conn *conn, const uint8_t *data,
                      size_t len, void *ud)
{
    struct pdd_node *n = ud;
    if (rpc_stream_get_ud(conn))
        return len; /* answered: ignore the rest */
    char method[16], path[256];
    int prc = pdd_http_parse(data, len, method, sizeof(method), path,
                             sizeof(path));
    if (prc == 1) {
        if (len > MAX_REQUEST) {
            rpc_stream_set_ud(conn, conn);
            respond(conn, 400, "text/plain", "request too large\n", 18);
            return len;
        }
        return 0;
    }
    rpc_stream_set_ud(conn, conn);
    if (prc != 0) {
        respond(conn, 400, "text/plain", "bad request line\n", 17);
        return len;
    }
    if (strcmp(method, "GET") != 0) {
        respond(conn, 405, "text/plain", "only GET\n", 9);
        return len;
    }
    char *body = NULL;
    size_t blen = 0;
    FILE *f = open_memstream(&body, &blen);
    if (!f) {
        respond(conn, 400, "text/plain", "out of memory\n", 14);
        return len;
    }
    const char *type = "application/json";
    int code = 200;
    if (strcmp(path, "/status") == 0)
        status_json(n, f);
    else if (strcmp(path, "/metrics") == 0) {
        metrics_text(n, f);
        type = "text/plain; version=0.0.4";
    } else if (strcmp(path, "/pd/api/v1/members") == 0)
        members_json(n, f);
    else if (strcmp(path, "/pd/api/v1/stores") == 0)
        stores_json(n, f);
    else if (strcmp(path, "/pd/api/v1/regions") == 0)
        regions_json(n, f);
    else if (strcmp(path, "/pd/api/v1/operators") == 0)
        operators_json(n, f);
    else {
        code = 404;
        type = "text/plain";
        fprintf(f, "no such page: try /status, /metrics, "
                   "/pd/api/v1/{members,stores,regions,operators}\n");
    }
    fclose(f);
    respond(conn, code, type, body, blen);
    free(body);
    return len;
}

int pdd_http_start(struct event_base *base, const char *listen,
                   struct pdd_node *n, struct rpc_stream_server **out)
{
    char host[256], err[256];
    uint16_t port;
    if (dmn_cfg_split_addr(listen, host, sizeof(host), &port) != 0) {
        dmn_error("status-listen: bad address '%s'", listen);
        return -1;
    }
    struct rpc_stream_server_options so = {
        .host = host,
        .port = port,
        .max_connections = 64,
        .cb = {.on_data = on_data},
        .ud = n,
        .log = dmn_rpc_log,
        .log_level = RPC_LOG_WARN,
    };
    if (rpc_stream_server_create(base, &so, out, err, sizeof(err)) != 0) {
        dmn_error("cannot serve HTTP on %s: %s", listen, err);
        return -1;
    }
    dmn_info("serving HTTP status on %s:%u", host,
             (unsigned)rpc_stream_server_port(*out));
    return 0;
}
