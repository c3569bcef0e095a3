/* status.c: sqld's HTTP status port (status-listen; TiDB's 10080 in the
 * playground): /status (JSON: version, store, uptime, connections) and
 * /metrics (Prometheus text: connections, commands, statement workers
 * and, on the cluster, the transport's and PD client's counters). The
 * figures are kept on the loop thread, where the pages are written.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <pd.h>
#include <region.h>
#include <sql.h>

#include "http.h"
#include "runtime.h"
#include "sqld.h"

struct sqld_status sqld_status;

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void sqld_status_init(const char *store, int workers,
                      struct sqld_cluster *cluster)
{
    memset(&sqld_status, 0, sizeof(sqld_status));
    sqld_status.started_ms = mono_ms();
    sqld_status.store = store;
    sqld_status.workers = workers;
    sqld_status.cluster = cluster;
}

static void status_json(FILE *f)
{
    const struct sqld_status *s = &sqld_status;
    fprintf(f,
            "{\"version\": \"%s\", \"mysql_version\": \"%s\", "
            "\"store\": ",
            DMN_VERSION_STRING, SQLD_SERVER_VERSION);
    dmn_json_cstr(f, s->store);
    fprintf(f,
            ", \"uptime_ms\": %" PRIu64 ", \"connections\": %" PRIu64
            ", \"connections_total\": %" PRIu64 ", \"commands_total\": %" PRIu64
            ", \"workers\": %d, \"point_reads_loop\": %" PRIu64
            ", \"point_reads_handed\": %" PRIu64
            ", \"loop_poll_window_us\": %u, \"loop_poll_hits\": %" PRIu64
            ", \"loop_poll_misses\": %" PRIu64 "}\n",
            mono_ms() - s->started_ms, s->connections, s->connections_total,
            s->commands_total, s->workers, s->point_reads_loop,
            s->point_reads_handed, s->poll ? s->poll->window_us : 0,
            s->poll ? s->poll->hits : 0, s->poll ? s->poll->misses : 0);
}

static void metric(FILE *f, const char *name, const char *type,
                   const char *help, uint64_t v)
{
    fprintf(f, "# HELP %s %s\n# TYPE %s %s\n%s %" PRIu64 "\n", name, help,
            name, type, name, v);
}

static void metrics_text(FILE *f)
{
    const struct sqld_status *s = &sqld_status;
    metric(f, "sqld_connections", "gauge", "Clients connected now.",
           s->connections);
    metric(f, "sqld_connections_total", "counter", "Clients accepted.",
           s->connections_total);
    metric(f, "sqld_commands_total", "counter",
           "Protocol commands run (queries, prepared statements, pings).",
           s->commands_total);
    metric(f, "sqld_workers", "gauge",
           "Statement worker threads (more start when all are busy).",
           (uint64_t)s->workers);
    if (s->server) {
        struct sql_server_counters sc;
        sql_server_counters(s->server, &sc);
        metric(f, "sqld_index_lock_commits_total", "counter",
               "Pessimistic commits that locked the index keys they wrote "
               "(a store might lack the prewrite check).",
               sc.index_lock_commits);
        metric(f, "sqld_index_keys_locked_total", "counter",
               "Index keys those commits locked.", sc.index_keys_locked);
    }
    metric(f, "sqld_gc_runs_total", "counter", "MVCC GC rounds run.",
           __atomic_load_n(&sqld_gc.runs, __ATOMIC_RELAXED));
    metric(f, "sqld_gc_skipped_total", "counter",
           "GC rounds that met a live transaction's lock below the "
           "safe point (nothing removed).",
           __atomic_load_n(&sqld_gc.skipped, __ATOMIC_RELAXED));
    metric(f, "sqld_gc_errors_total", "counter", "GC rounds that failed.",
           __atomic_load_n(&sqld_gc.errors, __ATOMIC_RELAXED));
    metric(f, "sqld_gc_safe_point", "gauge",
           "GC safe point (a TSO timestamp): no read below it.",
           __atomic_load_n(&sqld_gc.safe_point, __ATOMIC_RELAXED));
    metric(f, "sqld_gc_versions_removed_total", "counter",
           "Old version records GC removed (0 on a cluster: see each "
           "kvd's kvd_gc_versions_removed_total).",
           __atomic_load_n(&sqld_gc.versions_removed, __ATOMIC_RELAXED));
    metric(f, "sqld_gc_locks_resolved_total", "counter",
           "Locks of ended transactions GC resolved below its safe "
           "point.",
           __atomic_load_n(&sqld_gc.locks_resolved, __ATOMIC_RELAXED));
    if (!s->cluster)
        return;
    metric(f, "sqld_cluster_version", "gauge",
           "The cluster version pdd last answered (libmvcc's "
           "MVCC_VERSION_NUMBER; 0 not yet asked).",
           sqld_clusterinfo_version());
    metric(f, "sqld_point_reads_loop_total", "counter",
           "Cluster point reads answered on the loop thread.",
           s->point_reads_loop);
    metric(f, "sqld_point_reads_handed_total", "counter",
           "Cluster point reads sent from the loop thread, then handed to "
           "a worker.",
           s->point_reads_handed);
    if (s->poll) {
        metric(f, "sqld_loop_poll_hits_total", "counter",
               "Polls of the loop thread for kvd replies that lasted "
               "until every reply had come.",
               s->poll->hits);
        metric(f, "sqld_loop_poll_misses_total", "counter",
               "Polls of the loop thread that ended when a window passed "
               "without a reply (the loop then slept).",
               s->poll->misses);
    }
    struct region_client_stats rs;
    struct pd_client_stats ps;
    sqld_cluster_stats(s->cluster, &rs, &ps);
    metric(f, "sqld_kvd_calls_total", "counter", "Commands sent to kvd.",
           rs.calls);
    metric(f, "sqld_kvd_region_errors_total", "counter",
           "kvd commands met with a region error (then retried).",
           rs.region_errors);
    metric(f, "sqld_kvd_store_errors_total", "counter",
           "Connections to kvd that failed or were lost.", rs.store_errors);
    metric(f, "sqld_kvd_stale_connections_total", "counter",
           "Pooled connections to kvd found closed by it (a restarted "
           "kvd) and dropped before use.",
           rs.stale_conns);
    metric(f, "sqld_kvd_forwarded_total", "counter",
           "kvd commands sent through another kvd to a region's leader "
           "this sqld could not reach (kv.Forward).",
           rs.forwarded);
    metric(f, "sqld_region_lookups_total", "counter",
           "Region cache misses that asked pdd.", rs.router_lookups);
    metric(f, "sqld_pd_tso_requests_total", "counter",
           "Timestamp requests made to the PD client.", ps.tso_requests);
    metric(f, "sqld_pd_tso_calls_total", "counter",
           "Tso calls to pdd that served them (batched).", ps.tso_calls);
}

static int page(void *ud, const char *path, FILE *f, const char **type)
{
    (void)ud;
    if (strcmp(path, "/status") == 0) {
        status_json(f);
        return 200;
    }
    if (strcmp(path, "/metrics") == 0) {
        metrics_text(f);
        *type = "text/plain; version=0.0.4";
        return 200;
    }
    *type = "text/plain";
    fputs("no such page: try /status or /metrics\n", f);
    return 404;
}

int sqld_http_start(struct event_base *base, const char *listen,
                    struct dmn_http **out)
{
    return dmn_http_start(base, listen, page, NULL, out);
}
