/* http.c: pdd's HTTP status port (status-listen): GET /status, /metrics
 * (Prometheus text) and a JSON view of members, stores, regions and
 * operators under /pd/api/v1/. One request per connection (HTTP/1.0
 * style), served by the daemons' shared status server (common/http.h;
 * libpd/DESIGN.md, "pdd").
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "pdd.h"
#include "runtime.h"

#define MAX_LIST 10000 /* regions listed at most */

static const char *state_name(int s)
{
    static const char *n[] = {"up", "offline", "tombstone", "down"};
    return s >= 0 && s < 4 ? n[s] : "unknown";
}

static void members_json(struct pdd_node *n, FILE *f)
{
    const struct pdd_members *t = pdd_node_members(n);
    fprintf(f, "{\"leader_id\": %" PRIu64 ", \"term\": %" PRIu64
               ", \"members\": [",
            pdd_node_leader(n), pdd_node_term(n));
    for (size_t i = 0; i < t->n; i++) {
        fprintf(f, "%s{\"id\": %" PRIu64 ", \"name\": ", i ? ", " : "",
                t->m[i].id);
        dmn_json_cstr(f, t->m[i].name);
        fprintf(f, ", \"address\": ");
        dmn_json_cstr(f, t->m[i].address);
        fprintf(f, ", \"peer_address\": ");
        dmn_json_cstr(f, t->m[i].peer);
        fprintf(f, ", \"learner\": %s}",
                pdd_node_is_learner(n, t->m[i].id) ? "true" : "false");
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
        dmn_json_cstr(f, s.store.address);
        fprintf(f, ", \"state\": \"%s\", \"labels\": {", state_name(s.state));
        for (uint32_t j = 0; j < s.store.n_labels; j++) {
            if (j)
                fprintf(f, ", ");
            dmn_json_cstr(f, s.store.labels[j].key);
            fprintf(f, ": ");
            dmn_json_cstr(f, s.store.labels[j].value);
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
        dmn_json_str(f, r->start_key, r->start_len);
        fprintf(f, ", \"end_key\": ");
        dmn_json_str(f, r->end_key, r->end_len);
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
        dmn_json_cstr(f, op.desc);
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
            "pdd_snapshots_total %" PRIu64 "\n"
            "# TYPE pdd_streams_total counter\n"
            "pdd_streams_total{kind=\"tso\"} %" PRIu64 "\n"
            "pdd_streams_total{kind=\"region_heartbeat\"} %" PRIu64 "\n"
            "# TYPE pdd_region_heartbeat_stream_msgs_total counter\n"
            "pdd_region_heartbeat_stream_msgs_total %" PRIu64 "\n"
            "# TYPE pdd_region_hints_total counter\n"
            "pdd_region_hints_total %" PRIu64 "\n",
            c->tso_requests, c->tso_batches, c->timestamps, c->synced_writes,
            c->messages_sent, c->snapshots, c->tso_streams, c->hb_streams,
            c->hb_stream_msgs, c->hints);
}

static int page(void *ud, const char *path, FILE *f, const char **type)
{
    struct pdd_node *n = ud;
    if (strcmp(path, "/status") == 0)
        status_json(n, f);
    else if (strcmp(path, "/metrics") == 0) {
        metrics_text(n, f);
        *type = "text/plain; version=0.0.4";
    } else if (strcmp(path, "/pd/api/v1/members") == 0)
        members_json(n, f);
    else if (strcmp(path, "/pd/api/v1/stores") == 0)
        stores_json(n, f);
    else if (strcmp(path, "/pd/api/v1/regions") == 0)
        regions_json(n, f);
    else if (strcmp(path, "/pd/api/v1/operators") == 0)
        operators_json(n, f);
    else {
        *type = "text/plain";
        fprintf(f, "no such page: try /status, /metrics, "
                   "/pd/api/v1/{members,stores,regions,operators}\n");
        return 404;
    }
    return 200;
}

int pdd_http_start(struct event_base *base, const char *listen,
                   struct pdd_node *n, struct dmn_http **out)
{
    return dmn_http_start(base, listen, page, n, out);
}
