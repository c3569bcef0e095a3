/* main.c: kvd, the storage node: regions replicated by Raft on RocksDB
 * (../shared/DESIGN.md, libregion/DESIGN.md "kvd"). It runs the shared
 * daemon plumbing, opens the engine and the region store, bootstraps the
 * first region over the fixed cluster map (peers), serves Raw/Txn KV and
 * Raft batches on librpc, and drives the store from its libevent loop.
 * With `pd` set, pd.c bootstraps, registers and heartbeats through pdd
 * (README.md). `kvd ctl ...` is the command-line client instead (ctl.c).
 */
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <event2/thread.h>

#include "cluster_tls.h"
#include "http.h"
#include "kvd.h"
#include "rpcsvc.h"
#include "runtime.h"

struct kvd_settings
{
    struct dmn_common common; /* data-dir, log.* */
    char *listen;             /* listen: host:port for RPC */
    char *advertise;          /* advertise-addr: for pdd, NULL: listen */
    char *status_listen;      /* status-listen: HTTP status, NULL off */
    int64_t store_id;         /* store-id: this store's id */
    char **peers;             /* peers: id@host:port of every store */
    char **initial;           /* initial-stores: ids founding region 1 */
    int64_t tick_ms;          /* raft.tick-interval */
    int64_t election_tick;    /* raft.election-tick */
    int64_t heartbeat_tick;   /* raft.heartbeat-tick */
    int64_t max_entry;        /* raft.max-entry-size */
    int64_t max_pending;      /* raft.max-pending-proposals */
    bool sync_log;            /* raft.sync-log */
    bool hibernate;           /* raft.hibernate-regions */
    int64_t block_cache;      /* rocksdb.block-cache-size */
    int64_t write_buffer;     /* rocksdb.write-buffer-size */
    int64_t recycle_logs;     /* rocksdb.recycle-log-files */
    int64_t max_wal;          /* rocksdb.max-total-wal-size */
    int64_t workers;          /* txn-workers */
    bool lock_table;          /* txn.lock-table */
    int64_t get_readers;      /* get-readers */
    int64_t log_keep;         /* raft.log-keep-entries */
    int64_t snap_chunk;       /* raft.snapshot-chunk-size */
    int64_t split_size;       /* split.region-size */
    char **pd;                /* pd: pdd endpoints (empty: no pdd) */
    int64_t pd_interval;      /* pd.heartbeat-interval */
    int64_t gc_poll;          /* gc.poll-interval */
    int64_t pd_version;       /* pd.store-version (tests) */
    int64_t pd_region_version; /* pd.store-region-version (tests) */
    int64_t dl_ttl;           /* deadlock.edge-ttl */
    struct dmn_cluster_tls tls; /* cluster-ssl-*: mutual TLS */
};

static const struct dmn_cfg_key kvd_keys[] = {
    DMN_COMMON_KEYS(struct kvd_settings, common, "./data/kvd"),
    DMN_CLUSTER_TLS_KEYS(struct kvd_settings, tls),
    {"listen", DMN_CFG_ADDR, offsetof(struct kvd_settings, listen),
     "127.0.0.1:20160", 0, 0, NULL, "address to serve RPC on"},
    {"advertise-addr", DMN_CFG_ADDR, offsetof(struct kvd_settings, advertise),
     NULL, 0, 0, NULL,
     "address pdd gives clients and other stores for this one (empty: "
     "listen; set it when listening on 0.0.0.0 or behind a proxy)"},
    {"status-listen", DMN_CFG_ADDR,
     offsetof(struct kvd_settings, status_listen), NULL, 0, 0, NULL,
     "address for HTTP /status and /metrics (empty: off)"},
    {"store-id", DMN_CFG_INT, offsetof(struct kvd_settings, store_id), "1", 1,
     INT64_MAX, NULL, "this store's id (one of the peers)"},
    {"peers", DMN_CFG_LIST, offsetof(struct kvd_settings, peers), NULL, 0, 0,
     NULL,
     "every store of the cluster as id@host:port (same list on every store; "
     "empty: this store alone)"},
    {"initial-stores", DMN_CFG_LIST, offsetof(struct kvd_settings, initial),
     NULL, 0, 0, NULL,
     "store ids that found region 1 (empty: every store in peers); a store "
     "not listed starts empty and joins when a region adds it"},
    {"raft.tick-interval", DMN_CFG_DURATION,
     offsetof(struct kvd_settings, tick_ms), "100ms", 1, 60000, NULL,
     "period of a Raft tick"},
    {"raft.election-tick", DMN_CFG_INT,
     offsetof(struct kvd_settings, election_tick), "10", 2, 1000, NULL,
     "ticks without a leader before an election"},
    {"raft.heartbeat-tick", DMN_CFG_INT,
     offsetof(struct kvd_settings, heartbeat_tick), "2", 1, 1000, NULL,
     "ticks between leader heartbeats (below raft.election-tick)"},
    {"raft.max-entry-size", DMN_CFG_SIZE,
     offsetof(struct kvd_settings, max_entry), "8MiB", 1024, 1 << 30, NULL,
     "larger commands fail with RaftEntryTooLarge"},
    {"raft.max-pending-proposals", DMN_CFG_INT,
     offsetof(struct kvd_settings, max_pending), "4096", 1, 1 << 24, NULL,
     "proposals waiting per region before ServerIsBusy"},
    {"raft.sync-log", DMN_CFG_BOOL, offsetof(struct kvd_settings, sync_log),
     "true", 0, 0, NULL, "fsync the Raft log before acknowledging"},
    {"raft.hibernate-regions", DMN_CFG_BOOL,
     offsetof(struct kvd_settings, hibernate), "true", 0, 0, NULL,
     "idle regions stop ticking until a request or a peer wakes them"},
    {"rocksdb.block-cache-size", DMN_CFG_SIZE,
     offsetof(struct kvd_settings, block_cache), "64MiB", 0, INT64_MAX, NULL,
     "RocksDB block cache"},
    {"rocksdb.write-buffer-size", DMN_CFG_SIZE,
     offsetof(struct kvd_settings, write_buffer), "0", 0, INT64_MAX, NULL,
     "RocksDB memtable size (0: RocksDB's default)"},
    {"rocksdb.max-total-wal-size", DMN_CFG_SIZE,
     offsetof(struct kvd_settings, max_wal), "512MiB", 0, INT64_MAX, NULL,
     "once the WAL files together pass this, RocksDB flushes the memtables "
     "that keep the oldest one, which is then deleted: bounds what a "
     "restart replays (0: RocksDB's default, 4 times every memtable)"},
    {"rocksdb.recycle-log-files", DMN_CFG_INT,
     offsetof(struct kvd_settings, recycle_logs), "0", 0, 1024, NULL,
     "WAL files RocksDB recycles (RocksDB 7.8 ignores it under its "
     "point-in-time WAL recovery, which kvd keeps)"},
    {"raft.log-keep-entries", DMN_CFG_INT,
     offsetof(struct kvd_settings, log_keep), "4096", 1, 1 << 30, NULL,
     "applied log entries kept per region (more behind: snapshot)"},
    {"raft.snapshot-chunk-size", DMN_CFG_SIZE,
     offsetof(struct kvd_settings, snap_chunk), "1MiB", 4096, 8 << 20, NULL,
     "bytes of region data per snapshot chunk sent to a follower (each side "
     "holds about two chunks of a snapshot at a time)"},
    {"split.region-size", DMN_CFG_SIZE,
     offsetof(struct kvd_settings, split_size), "96MiB", 0, INT64_MAX, NULL,
     "split a region once it holds this much, old versions included "
     "(measured as it is written to; 0: never)"},
    {"pd", DMN_CFG_LIST, offsetof(struct kvd_settings, pd), NULL, 0, 0, NULL,
     "pdd members as host:port (empty: no placement driver, the fixed "
     "map alone)"},
    {"pd.heartbeat-interval", DMN_CFG_DURATION,
     offsetof(struct kvd_settings, pd_interval), "10s", 10, 3600000, NULL,
     "period of store and region heartbeats to pdd"},
    {"gc.poll-interval", DMN_CFG_DURATION,
     offsetof(struct kvd_settings, gc_poll), "10s", 0, 3600000, NULL,
     "how often to ask pdd for the GC safe point, and remove the old "
     "versions below it when it rose (0: never); reads below the last "
     "safe point swept at are refused"},
    {"pd.store-version", DMN_CFG_INT,
     offsetof(struct kvd_settings, pd_version), "0", 0, 999999999, NULL,
     "for tests: the libmvcc version this store registers with pdd, as "
     "MVCC_VERSION_NUMBER (major*1000000+minor*1000+patch), in place of "
     "the one it links (0: that one); pdd refuses a store below the "
     "cluster version"},
    {"pd.store-region-version", DMN_CFG_INT,
     offsetof(struct kvd_settings, pd_region_version), "0", 0, 999999999, NULL,
     "for tests: the libregion version this store registers with pdd, as "
     "REGION_VERSION_NUMBER, in place of the one it links (0: that one); "
     "pdd refuses a store below the cluster's, and a CAS with a TTL waits "
     "for every store at 0.33.0"},
    {"deadlock.edge-ttl", DMN_CFG_DURATION,
     offsetof(struct kvd_settings, dl_ttl), "5s", 100, 3600000, NULL,
     "a lock wait's edge in the cluster's deadlock detector (hosted by the "
     "first region's leader) expires after this long without a renewal; a "
     "wait longer than this in one request may end by its timeout instead "
     "of as a deadlock"},
    {"txn-workers", DMN_CFG_INT, offsetof(struct kvd_settings, workers), "4",
     1, 256, NULL, "threads running transactional commands"},
    {"txn.lock-table", DMN_CFG_BOOL,
     offsetof(struct kvd_settings, lock_table), "true", 0, 0, NULL,
     "keep the transactional locks in memory too and read them there, not "
     "from RocksDB's lock column family (every replica keeps its copy as it "
     "applies)"},
    {"get-readers", DMN_CFG_INT, offsetof(struct kvd_settings, get_readers),
     "1", 0, 64, NULL,
     "threads reading a loop iteration's raw gets beside the loop thread "
     "(0: the loop thread alone)"},
};

static const struct dmn_cfg_schema kvd_schema = {
    "kvd", kvd_keys, sizeof(kvd_keys) / sizeof(kvd_keys[0])};

static void region_log(void *ctx, int level, const char *msg)
{
    (void)ctx;
    static const enum dmn_log_level map[] = {DMN_LOG_DEBUG, DMN_LOG_INFO,
                                             DMN_LOG_WARN, DMN_LOG_ERROR};
    if (level < 0 || level > 3)
        level = 3;
    if (dmn_log_enabled(map[level]))
        dmn_log(map[level], "region: %s", msg);
}

static struct dmn_runtime *the_rt;

static void on_process(evutil_socket_t fd, short what, void *arg)
{
    struct kvd *k = arg;
    (void)fd;
    (void)what;
    int rc = region_store_process(k->store);
    if (rc != 0 && !k->failed) {
        /* the engine refused a write: nothing more can be made durable */
        dmn_error("store failed: %s (%s); stopping", region_strerror(rc),
                  region_store_errmsg(k->store));
        k->failed = true;
        dmn_stop(the_rt);
        return;
    }
    if (region_store_has_work(k->store))
        event_active(k->process_ev, 0, 0);
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    struct kvd *k = arg;
    (void)fd;
    (void)what;
    region_store_tick(k->store);
    event_active(k->process_ev, 0, 0);
}

/* "id@host:port" entries into k->peers. */
static int parse_peers(struct kvd *k, char **peers, const char *listen)
{
    for (size_t i = 0; peers && peers[i]; i++) {
        if (k->n_peers == KVD_MAX_PEERS) {
            dmn_error("peers: at most %d stores", KVD_MAX_PEERS);
            return -1;
        }
        char *end = NULL;
        unsigned long long id = strtoull(peers[i], &end, 10);
        struct kvd_peer *p = &k->peers[k->n_peers];
        if (id == 0 || end == NULL || *end != '@' ||
            dmn_cfg_split_addr(end + 1, p->host, sizeof p->host, &p->port) != 0) {
            dmn_error("peers: expected id@host:port, got '%s'", peers[i]);
            return -1;
        }
        for (int j = 0; j < k->n_peers; j++)
            if (k->peers[j].id == id) {
                dmn_error("peers: store %llu listed twice", id);
                return -1;
            }
        p->id = id;
        k->n_peers++;
    }
    if (k->n_peers == 0) { /* a cluster of one */
        struct kvd_peer *p = &k->peers[0];
        p->id = k->store_id;
        if (dmn_cfg_split_addr(listen, p->host, sizeof p->host, &p->port) != 0)
            return -1;
        k->n_peers = 1;
    }
    for (int j = 0; j < k->n_peers; j++)
        if (k->peers[j].id == k->store_id)
            return 0;
    dmn_error("peers: this store (store-id %llu) is not listed",
              (unsigned long long)k->store_id);
    return -1;
}

/* The first region, over every key, on every store of the map: created
 * once, when the store holds no region (the same on every store). */
static int bootstrap_first_region(struct kvd *k, char **initial)
{
    size_t n = 0;
    region_store_regions(k->store, NULL, 0, &n);
    if (n > 0)
        return 0;
    uint64_t ids[KVD_MAX_PEERS];
    int n_ids = 0;
    bool founder = initial == NULL || initial[0] == NULL;
    for (size_t i = 0; initial && initial[i]; i++) {
        char *end = NULL;
        unsigned long long id = strtoull(initial[i], &end, 10);
        if (id == 0 || *end != 0 || n_ids == KVD_MAX_PEERS) {
            dmn_error("initial-stores: expected store ids, got '%s'",
                      initial[i]);
            return -1;
        }
        ids[n_ids++] = id;
        founder |= id == k->store_id;
    }
    if (!founder) {
        dmn_info("not an initial store: waiting to be added to a region");
        return 0;
    }
    struct region_desc d;
    memset(&d, 0, sizeof d);
    d.id = 1;
    d.conf_ver = 1;
    d.version = 1;
    if ((n_ids ? n_ids : k->n_peers) > REGION_MAX_PEERS) {
        dmn_error("peers: a region holds at most %d stores", REGION_MAX_PEERS);
        return -1;
    }
    if (n_ids == 0)
        for (int i = 0; i < k->n_peers; i++)
            ids[n_ids++] = k->peers[i].id;
    for (int i = 0; i < n_ids && i < REGION_MAX_PEERS; i++)
        d.stores[d.n_stores++] = ids[i];
    int rc = region_store_bootstrap(k->store, &d);
    if (rc != 0) {
        dmn_error("bootstrap of region 1 failed: %s (%s)", region_strerror(rc),
                  region_store_errmsg(k->store));
        return -1;
    }
    dmn_info("bootstrapped region 1 over %u store(s)", d.n_stores);
    return 0;
}

static int open_store(struct kvd *k, const struct kvd_settings *s)
{
    char path[4096], err[512] = "";
    snprintf(path, sizeof path, "%s/db", s->common.data_dir);
    struct mvcc_rocks_opts ro = {
        .path = path,
        .block_cache_bytes = (size_t)s->block_cache,
        .recycle_log_files = (size_t)s->recycle_logs,
        .write_buffer_bytes = (size_t)s->write_buffer,
        .max_wal_bytes = (size_t)s->max_wal,
    };
    if (s->recycle_logs > 0)
        dmn_warn("rocksdb.recycle-log-files = %lld has no effect: RocksDB "
                 "7.8 turns WAL recycling off under point-in-time WAL "
                 "recovery (the only mode it keeps it with skips corrupt "
                 "records anywhere in the log, which could lose "
                 "acknowledged writes); set it to 0",
                 (long long)s->recycle_logs);
    int rc = mvcc_rocksengine_open(&ro, &k->eng, err, sizeof err);
    if (rc != 0) {
        dmn_error("cannot open RocksDB at %s: %s", path, err);
        return -1;
    }
    struct region_store_opts o = {
        .store_id = k->store_id,
        .engine = k->eng,
        .transport = {k, kvd_transport_send, kvd_transport_notify},
        .election_tick = (int)s->election_tick,
        .heartbeat_tick = (int)s->heartbeat_tick,
        .tick_ms = (uint32_t)s->tick_ms,
        .no_hibernate = !s->hibernate,
        .max_entry_bytes = (uint32_t)s->max_entry,
        .max_pending = (uint32_t)s->max_pending,
        .no_sync = !s->sync_log,
        .no_lock_table = !s->lock_table,
        .log_keep_entries = (uint32_t)s->log_keep,
        .snap_chunk_bytes = (uint32_t)s->snap_chunk,
        .split_size = (uint64_t)s->split_size,
        .log = region_log,
        .log_level = dmn_log_enabled(DMN_LOG_DEBUG) ? REGION_LOG_DEBUG
                                                    : REGION_LOG_INFO,
        .detector = kvd_dl_iface(k),
    };
    rc = region_store_open(&o, &k->store);
    if (rc != 0) {
        dmn_error("cannot open the region store: %s", region_strerror(rc));
        return -1;
    }
    size_t n = 0;
    region_store_regions(k->store, NULL, 0, &n);
    dmn_info("store %llu open with %zu region(s)",
             (unsigned long long)k->store_id, n);
    return bootstrap_first_region(k, s->initial);
}

/* The pdd link, when pd lists members (README.md). */
static int start_pd(struct kvd *k, const struct kvd_settings *s)
{
    size_t n = 0;
    while (s->pd && s->pd[n])
        n++;
    if (n == 0)
        return 0;
    if (n > 16) {
        dmn_error("pd: at most 16 members");
        return -1;
    }
    uint32_t version = s->pd_version != 0 ? (uint32_t)s->pd_version
                                           : (uint32_t)mvcc_version_number();
    const char *address = s->advertise ? s->advertise : s->listen;
    if (!s->advertise && strncmp(s->listen, "0.0.0.0:", 8) == 0)
        dmn_warn("pd: recording %s as this store's address, which no other "
                 "host can reach: set advertise-addr", s->listen);
    uint32_t rversion = s->pd_region_version != 0
                            ? (uint32_t)s->pd_region_version
                            : (uint32_t)region_version_number();
    struct kvd_pd_opts o = {.endpoints = s->pd,
                            .n_endpoints = n,
                            .address = address,
                            .data_dir = s->common.data_dir,
                            .interval_ms = s->pd_interval,
                            .version = version,
                            .region_version = rversion,
                            .gc_poll_ms = s->gc_poll};
    if (kvd_pd_start(k, &o) != 0) {
        dmn_error("cannot start the pd thread");
        return -1;
    }
    return 0;
}

static void close_all(struct kvd *k)
{
    /* the pd thread calls into the store: gone before it shuts down */
    kvd_pd_stop(k);
    if (k->tick_ev)
        event_free(k->tick_ev);
    kvd_get_batch_free(k);
    /* answer every waiting request (ECLOSED, which also frees the txn
     * workers blocked on an apply), stop the workers, then close */
    region_store_shutdown(k->store);
    kvd_dl_stop(k);
    kvd_workers_stop(k);
    region_store_close(k->store);
    k->store = NULL;
    kvd_pd_free(k);
    if (k->process_ev)
        event_free(k->process_ev);
    for (int i = 0; i < k->n_peers; i++)
        rpc_client_destroy(k->peers[i].cli);
    kvd_dl_destroy(k); /* after the clients: their calls' answers use it */
    if (k->eng)
        mvcc_engine_destroy(k->eng);
}

int main(int argc, char **argv)
{
    /* the client: `kvd ctl ...`, or this binary linked as kvctl */
    const char *self = strrchr(argv[0], '/');
    if (strcmp(self ? self + 1 : argv[0], "kvctl") == 0)
        return kvd_ctl_main(argc, argv);
    if (argc > 1 && strcmp(argv[1], "ctl") == 0)
        return kvd_ctl_main(argc - 1, argv + 1);
    signal(SIGPIPE, SIG_IGN);
    /* the loop is woken from worker threads (txn commands) */
    evthread_use_pthreads();
    struct kvd_settings s = {0};
    struct dmn_runtime rt;
    int rc = dmn_start(&rt, &kvd_schema, &s, &s.common, argc, argv);
    if (rc != DMN_CONTINUE)
        return rc;
    the_rt = &rt;
    struct kvd k;
    memset(&k, 0, sizeof k);
    k.base = rt.base;
    k.store_id = (uint64_t)s.store_id;
    k.get_readers = (int)s.get_readers;
    struct rpc_server *rpc = NULL;
    struct dmn_http *http = NULL;
    int exit_code = DMN_EXIT_FAIL;
    char tls_err[512];
    if (dmn_cluster_tls_init(&s.tls, tls_err, sizeof tls_err) != 0) {
        dmn_error("%s", tls_err);
        exit_code = DMN_EXIT_USAGE;
        goto out;
    }
    if (parse_peers(&k, s.peers, s.listen) != 0)
        goto out;
    k.process_ev = event_new(k.base, -1, 0, on_process, &k);
    if (k.process_ev == NULL || kvd_dl_create(&k, (uint64_t)s.dl_ttl) != 0 ||
        open_store(&k, &s) != 0)
        goto out;
    if (kvd_workers_start(&k, (int)s.workers) != 0) {
        dmn_error("cannot start txn workers");
        goto out;
    }
    k.tick_ev = event_new(k.base, -1, EV_PERSIST, on_tick, &k);
    struct timeval tv = {s.tick_ms / 1000, (s.tick_ms % 1000) * 1000};
    if (k.tick_ev == NULL || event_add(k.tick_ev, &tv) != 0)
        goto out;
    if (dmn_rpc_start(&rt, s.listen, &rpc) != 0)
        goto out;
    if (kvd_service_register(&k, rpc) != 0) {
        dmn_error("cannot register the kv services");
        goto out;
    }
    if (start_pd(&k, &s) != 0)
        goto out;
    if (s.status_listen && kvd_http_start(&k, s.status_listen, &http) != 0)
        goto out;
    event_active(k.process_ev, 0, 0);
    rc = dmn_run(&rt);
    if (rc != 0)
        dmn_error("event loop failed");
    exit_code = rc == 0 && !k.failed && !kvd_pd_refused(&k) ? DMN_EXIT_OK
                                                            : DMN_EXIT_FAIL;
out:
    dmn_http_stop(http); /* its pages read the store */
    close_all(&k);
    dmn_rpc_stop(rpc);
    dmn_cluster_tls_free();
    dmn_finish(&rt, &kvd_schema, &s);
    return exit_code;
}
