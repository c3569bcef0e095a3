/* metrics.c: kvd's status port (status-listen): /status (the store's JSON
 * status, as the StoreStatus method answers it) and /metrics (Prometheus
 * text: requests, errors and latency histograms by command, the store's
 * Raft, read and region figures, the coprocessor's totals, the pd link's
 * counters, RocksDB's own figures by column family). The request figures
 * are kept on the loop thread, where every reply is sent and every page
 * is written, so they need no lock.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "http.h"
#include "kvd.h"

/* Upper bounds of the latency buckets, in microseconds (+Inf last). */
static const uint64_t bucket_us[KVD_LAT_BUCKETS - 1] = {
    100, 250, 500, 1000, 2500, 5000, 10000, 25000, 100000, 1000000};

static const char *const cmd_names[KVD_CMDS] = {
    [0x01] = "raw_get",
    [0x02] = "raw_batch_get",
    [0x03] = "raw_put",
    [0x04] = "raw_batch_put",
    [0x05] = "raw_delete",
    [0x06] = "raw_batch_delete",
    [0x07] = "raw_scan",
    [0x08] = "raw_delete_range",
    [0x09] = "raw_cas",
    [0x10] = "txn_get",
    [0x11] = "txn_batch_get",
    [0x12] = "txn_scan",
    [0x13] = "txn_prewrite",
    [0x14] = "txn_commit",
    [0x15] = "txn_batch_rollback",
    [0x16] = "txn_cleanup",
    [0x17] = "txn_check_txn_status",
    [0x18] = "txn_resolve_lock",
    [0x19] = "txn_scan_lock",
    [0x1a] = "txn_heartbeat",
    [0x1b] = "txn_check_secondary_locks",
    [0x1c] = "txn_pessimistic_lock",
    [0x1d] = "txn_pessimistic_rollback",
    [0x1e] = "txn_delete_range",
    [0x1f] = "txn_coprocessor",
    [0x20] = "store_status",
    [0x21] = "locate",
    [0x22] = "split_region",
    [0x23] = "change_peer",
    [REGION_METHOD_FORWARD & 0xffffu] = "forward",
    [KVD_METHOD_DEADLOCK & 0xffffu] = "deadlock_detect",
};

uint64_t kvd_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

void kvd_observe(struct kvd *k, uint32_t method, uint64_t t0_us, int rc)
{
    uint32_t i = method & 0xffffu;
    if ((method >> 16) != 2 || i >= KVD_CMDS)
        return;
    struct kvd_cmd_stats *c = &k->cmds[i];
    uint64_t us = kvd_now_us() - t0_us;
    c->count++;
    if (rc != 0)
        c->errors++;
    c->sum_us += us;
    size_t b = 0;
    while (b < KVD_LAT_BUCKETS - 1 && us > bucket_us[b])
        b++;
    c->buckets[b]++;
}

/* RocksDB's integer properties, through libmvcc's engine API: per column
 * family, then the database-wide ones (read through the default CF). A
 * figure the engine does not answer is left out rather than printed 0. */
static void rocksdb_text(struct kvd *k, FILE *f)
{
    static const char *const cfs[MVCC_ENGINE_CF_COUNT] = {
        [MVCC_CF_DEFAULT] = "default",
        [MVCC_CF_LOCK] = "lock",
        [MVCC_CF_WRITE] = "write",
        [MVCC_CF_RAFT] = "raft",
    };
    static const struct {
        const char *prop, *name, *type, *help;
    } per_cf[] = {
        {"rocksdb.estimate-num-keys", "kvd_rocksdb_estimated_keys", "gauge",
         "Estimated keys (RocksDB's estimate-num-keys)."},
        {"rocksdb.total-sst-files-size", "kvd_rocksdb_sst_bytes", "gauge",
         "Bytes in SST files, all versions."},
        {"rocksdb.estimate-live-data-size", "kvd_rocksdb_live_data_bytes",
         "gauge", "Estimated bytes of live data."},
        {"rocksdb.cur-size-all-mem-tables", "kvd_rocksdb_memtable_bytes",
         "gauge", "Bytes in memtables, active and immutable."},
        {"rocksdb.estimate-pending-compaction-bytes",
         "kvd_rocksdb_pending_compaction_bytes", "gauge",
         "Bytes compaction still has to rewrite."},
    }, db[] = {
        {"rocksdb.block-cache-usage", "kvd_rocksdb_block_cache_bytes",
         "gauge", "Bytes held in the block cache."},
        {"rocksdb.block-cache-capacity",
         "kvd_rocksdb_block_cache_capacity_bytes", "gauge",
         "The block cache's capacity."},
        {"rocksdb.num-running-compactions", "kvd_rocksdb_running_compactions",
         "gauge", "Compactions running now."},
        {"rocksdb.num-running-flushes", "kvd_rocksdb_running_flushes",
         "gauge", "Memtable flushes running now."},
        {"rocksdb.actual-delayed-write-rate",
         "kvd_rocksdb_delayed_write_rate", "gauge",
         "Write rate RocksDB slows writers to (bytes/s; 0: not slowed)."},
        {"rocksdb.is-write-stopped", "kvd_rocksdb_write_stopped", "gauge",
         "1 while RocksDB stops writes (too many L0 files or pending "
         "compaction)."},
        {"rocksdb.background-errors", "kvd_rocksdb_background_errors_total",
         "counter", "Errors in flushes and compactions."},
    };
    uint64_t v;
    for (size_t i = 0; i < sizeof per_cf / sizeof per_cf[0]; i++) {
        bool head = false;
        for (int cf = 0; cf < MVCC_ENGINE_CF_COUNT; cf++) {
            if (mvcc_engine_property(k->eng, cf, per_cf[i].prop, &v) != 0)
                continue;
            if (!head)
                fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", per_cf[i].name,
                        per_cf[i].help, per_cf[i].name, per_cf[i].type);
            head = true;
            fprintf(f, "%s{cf=\"%s\"} %" PRIu64 "\n", per_cf[i].name,
                    cfs[cf], v);
        }
    }
    for (size_t i = 0; i < sizeof db / sizeof db[0]; i++)
        if (mvcc_engine_property(k->eng, MVCC_CF_DEFAULT, db[i].prop, &v) == 0)
            fprintf(f, "# HELP %s %s\n# TYPE %s %s\n%s %" PRIu64 "\n",
                    db[i].name, db[i].help, db[i].name, db[i].type,
                    db[i].name, v);
}

static void metrics_text(struct kvd *k, FILE *f)
{
    fputs("# HELP kvd_requests_total Requests answered, by command.\n"
          "# TYPE kvd_requests_total counter\n",
          f);
    for (size_t i = 0; i < KVD_CMDS; i++)
        if (cmd_names[i])
            fprintf(f, "kvd_requests_total{command=\"%s\"} %" PRIu64 "\n",
                    cmd_names[i], k->cmds[i].count);
    fputs("# HELP kvd_request_errors_total Requests answered with an error "
          "(region errors included).\n"
          "# TYPE kvd_request_errors_total counter\n",
          f);
    for (size_t i = 0; i < KVD_CMDS; i++)
        if (cmd_names[i])
            fprintf(f,
                    "kvd_request_errors_total{command=\"%s\"} %" PRIu64 "\n",
                    cmd_names[i], k->cmds[i].errors);
    fputs("# HELP kvd_request_duration_seconds Time from a request's "
          "arrival to its reply.\n"
          "# TYPE kvd_request_duration_seconds histogram\n",
          f);
    for (size_t i = 0; i < KVD_CMDS; i++) {
        const struct kvd_cmd_stats *c = &k->cmds[i];
        if (!cmd_names[i] || c->count == 0)
            continue;
        uint64_t cum = 0;
        for (size_t b = 0; b < KVD_LAT_BUCKETS; b++) {
            cum += c->buckets[b];
            if (b < KVD_LAT_BUCKETS - 1)
                fprintf(f,
                        "kvd_request_duration_seconds_bucket{command=\"%s\","
                        "le=\"%g\"} %" PRIu64 "\n",
                        cmd_names[i], (double)bucket_us[b] / 1e6, cum);
            else
                fprintf(f,
                        "kvd_request_duration_seconds_bucket{command=\"%s\","
                        "le=\"+Inf\"} %" PRIu64 "\n",
                        cmd_names[i], cum);
        }
        fprintf(f,
                "kvd_request_duration_seconds_sum{command=\"%s\"} %.6f\n"
                "kvd_request_duration_seconds_count{command=\"%s\"} "
                "%" PRIu64 "\n",
                cmd_names[i], (double)c->sum_us / 1e6, cmd_names[i],
                c->count);
    }

    struct region_store_stats st;
    region_store_stats(k->store, &st);
    struct kvd_cop_counters cop;
    kvd_cop_counters(&cop);
    const struct {
        const char *name, *type, *help;
        uint64_t v;
    } g[] = {
        {"kvd_regions", "gauge", "Regions with a replica here.", st.regions},
        {"kvd_leaders", "gauge", "Regions this store leads.", st.leaders},
        {"kvd_raft_proposals_total", "counter", "Commands proposed.",
         st.proposals},
        {"kvd_raft_applied_total", "counter", "Log entries applied.",
         st.applied},
        {"kvd_raft_synced_writes_total", "counter",
         "Engine writes with fsync (group commits).", st.syncs},
        {"kvd_raft_messages_sent_total", "counter", "Raft messages sent.",
         st.msgs_sent},
        {"kvd_raft_messages_received_total", "counter",
         "Raft messages received.", st.msgs_received},
        {"kvd_reads_total", "counter", "Reads answered (lease or ReadIndex).",
         st.reads},
        {"kvd_raft_log_gc_total", "counter", "Raft log compactions.",
         st.log_gcs},
        {"kvd_snapshots_built_total", "counter",
         "Snapshots built for followers.", st.snaps_built},
        {"kvd_snapshots_applied_total", "counter",
         "Snapshots installed from a leader.", st.snaps_applied},
        {"kvd_splits_total", "counter", "Splits applied.", st.splits},
        {"kvd_split_checks_total", "counter",
         "Sizes of led regions measured to decide a split (one holding "
         "split.region-size splits).",
         st.split_checks},
        {"kvd_gc_regions_swept_total", "counter",
         "Region ranges MVCC GC swept.", st.gc_regions_swept},
        {"kvd_gc_regions_skipped_total", "counter",
         "Regions MVCC GC skipped: no write record above the safe point of "
         "their last sweep.", st.gc_regions_skipped},
        {"kvd_gc_records_read_total", "counter",
         "Write records MVCC GC sweeps read.", st.gc_records_read},
        {"kvd_snapshot_chunks_sent_total", "counter",
         "Snapshot chunks read for followers.", st.snap_chunks_sent},
        {"kvd_snapshot_chunks_received_total", "counter",
         "Snapshot chunks staged from leaders.", st.snap_chunks_received},
        {"kvd_snapshot_chunks_refused_total", "counter",
         "Snapshot chunks refused on arrival (checksum, header, records).",
         st.snap_chunks_refused},
        {"kvd_snapshot_install_microseconds_total", "counter",
         "Time snapshot installs spent moving staged records into place "
         "(off the loop).",
         st.snap_install_ns / 1000},
        {"kvd_snapshot_install_max_microseconds", "gauge",
         "The longest such move since start.", st.snap_install_ns_max / 1000},
        {"kvd_snapshot_stage_waits_total", "counter",
         "Times the loop waited for received snapshot chunks to be written "
         "(four batches out).",
         st.snap_stage_waits},
        {"kvd_snapshot_stage_wait_microseconds_total", "counter",
         "Time the loop spent in those waits.", st.snap_stage_wait_ns / 1000},
        {"kvd_snapshot_memory_bytes", "gauge",
         "Bytes the snapshot code holds now.", st.snap_mem},
        {"kvd_snapshot_memory_peak_bytes", "gauge",
         "The most bytes the snapshot code held since start.",
         st.snap_mem_peak},
        {"kvd_split_campaigns_total", "counter",
         "Regions born of a split of a region led here that campaigned "
         "at once.", st.split_campaigns},
        {"kvd_split_votes_held_total", "counter",
         "Votes that arrived before the split making their region here, "
         "answered after it.", st.votes_held},
        {"kvd_max_ts_syncs_total", "counter",
         "max_ts raised from the TSO for new leaderships.", st.max_ts_syncs},
        {"kvd_max_ts_refused_total", "counter",
         "Async-commit/1PC prewrites refused before that.",
         st.max_ts_refused},
        {"kvd_reads_inline_total", "counter",
         "Reads answered under the lease where they arrived "
         "(region_read_now: the loop's gets, a worker's scans and "
         "coprocessor requests), without a read index round.",
         st.reads_inline},
        {"kvd_peers_recreated_total", "counter",
         "Peers made again for a region this store had left (added back "
         "over its tombstone).",
         st.peers_recreated},
        {"kvd_peers_uninit_dropped_total", "counter",
         "Peers without data dropped after hearing nothing for a long "
         "while.",
         st.uninit_dropped},
        {"kvd_split_replaced_uninit_total", "counter",
         "Uninitialized peers replaced by the peer a split made (the new "
         "region's leader was heard before the split applied here).",
         st.split_replaced_uninit},
        {"kvd_cop_answers_total", "counter", "Coprocessor answers sent.",
         cop.answers},
        {"kvd_cop_keys_read_total", "counter",
         "Keys the coprocessor read (rows scanned).", cop.keys_read},
        {"kvd_cop_rows_sent_total", "counter",
         "Rows (or partial aggregation groups) coprocessor answers "
         "carried.",
         cop.rows_sent},
    };
    for (size_t i = 0; i < sizeof g / sizeof g[0]; i++)
        fprintf(f, "# HELP %s %s\n# TYPE %s %s\n%s %" PRIu64 "\n", g[i].name,
                g[i].help, g[i].name, g[i].type, g[i].name, g[i].v);
    fprintf(f,
            "# HELP kvd_split_check_seconds_total Time the split checker "
            "thread spent reading regions to measure them.\n"
            "# TYPE kvd_split_check_seconds_total counter\n"
            "kvd_split_check_seconds_total %.6f\n",
            (double)st.split_check_ns / 1e9);
    if (k->pd) {
        struct kvd_pd_counters pc;
        kvd_pd_counters(k, &pc);
        fprintf(f,
                "# HELP kvd_pd_heartbeats_total Heartbeats pdd answered.\n"
                "# TYPE kvd_pd_heartbeats_total counter\n"
                "kvd_pd_heartbeats_total{kind=\"store\"} %" PRIu64 "\n"
                "kvd_pd_heartbeats_total{kind=\"region\"} %" PRIu64 "\n"
                "# HELP kvd_pd_operator_steps_total Operator steps acted "
                "on.\n"
                "# TYPE kvd_pd_operator_steps_total counter\n"
                "kvd_pd_operator_steps_total %" PRIu64 "\n"
                "# HELP kvd_gc_runs_total MVCC GC rounds run on this "
                "store.\n"
                "# TYPE kvd_gc_runs_total counter\n"
                "kvd_gc_runs_total %" PRIu64 "\n"
                "# HELP kvd_gc_errors_total GC rounds, and polls of pdd's "
                "safe point, that failed.\n"
                "# TYPE kvd_gc_errors_total counter\n"
                "kvd_gc_errors_total %" PRIu64 "\n"
                "# HELP kvd_gc_safe_point The GC safe point of the last "
                "round (a TSO timestamp): reads below it are refused.\n"
                "# TYPE kvd_gc_safe_point gauge\n"
                "kvd_gc_safe_point %" PRIu64 "\n"
                "# HELP kvd_gc_versions_removed_total Old version records "
                "GC removed from this store.\n"
                "# TYPE kvd_gc_versions_removed_total counter\n"
                "kvd_gc_versions_removed_total %" PRIu64 "\n",
                pc.store_heartbeats, pc.region_heartbeats, pc.steps,
                pc.gc_runs, pc.gc_errors, pc.gc_safe_point,
                pc.gc_versions_removed);
    }
    rocksdb_text(k, f);
}

static int page(void *ud, const char *path, FILE *f, const char **type)
{
    struct kvd *k = ud;
    if (strcmp(path, "/status") == 0) {
        if (kvd_status_json(k, f) != 0) {
            *type = "text/plain";
            fputs("out of memory\n", f);
            return 500;
        }
        return 200;
    }
    if (strcmp(path, "/metrics") == 0) {
        metrics_text(k, f);
        *type = "text/plain; version=0.0.4";
        return 200;
    }
    *type = "text/plain";
    fputs("no such page: try /status or /metrics\n", f);
    return 404;
}

int kvd_http_start(struct kvd *k, const char *listen, struct dmn_http **out)
{
    return dmn_http_start(k->base, listen, page, k, out);
}
