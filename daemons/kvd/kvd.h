/* kvd.h: kvd's pieces: the node (store, engine, peers, loop events, txn
 * workers), its RPC services (service.c) and the command-line client
 * (ctl.c). libregion/DESIGN.md, "kvd", says how they fit.
 */
#ifndef KVD_H
#define KVD_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "mvcc.h"
#include "pd.h"
#include "region.h"
#include "rpc.h"
#include "codec.h"

struct event;
struct event_base;
struct kvd_pd;
struct kvd_dl;

#define KVD_MAX_PEERS 16

struct kvd_peer {
    uint64_t id;             /* store id */
    char host[128];          /* its address */
    uint16_t port;           /* its port */
    struct rpc_client *cli;  /* connection for Raft batches (lazy) */
};

/* A Txn request waiting for, or done by, a worker. */
struct kvd_job {
    struct kvd_job *next;    /* queue link */
    struct rpc_call *call;   /* the call to answer (loop thread) */
    const void *req;         /* kv_TxnRequest, borrowed until answered */
    uint32_t method;         /* REGION_METHOD_TXN_* */
    void *ans;               /* struct txn_answer (service.c) filled by
                                the worker */
    uint64_t t0_us;          /* arrival (kvd_now_us) */
};

/* Request figures of one command (metrics.c), kept on the loop thread. */
#define KVD_CMDS 64        /* service 2's method numbers are below */
#define KVD_LAT_BUCKETS 11 /* latency histogram buckets, +Inf last */
struct kvd_cmd_stats {
    uint64_t count;                    /* answered */
    uint64_t errors;                   /* answered with an error */
    uint64_t sum_us;                   /* total latency */
    uint64_t buckets[KVD_LAT_BUCKETS]; /* latencies per bucket */
};

struct kvd {
    struct event_base *base;        /* the daemon's loop */
    uint64_t store_id;              /* this store */
    struct kvd_peer peers[KVD_MAX_PEERS]; /* every store, this one too */
    int n_peers;                    /* used */
    struct mvcc_engine *eng;        /* RocksDB */
    struct region_store *store;     /* the regions */
    struct event *process_ev;       /* runs region_store_process */
    struct event *tick_ev;          /* ticks every tick_ms */
    struct event *done_ev;          /* answers finished txn jobs */
    pthread_t *workers;             /* txn workers */
    int n_workers;                  /* how many */
    pthread_mutex_t mu;             /* guards the queues and stopping */
    pthread_cond_t cv;              /* jobs arrived / stopping */
    struct kvd_job *jobs;           /* waiting for a worker */
    struct kvd_job *jobs_tail;      /* last of jobs */
    struct kvd_job *done;           /* finished, to answer */
    uint8_t *reply_buf;             /* loop thread: the bytes of a read's
                                       reply written by hand, kept */
    size_t reply_cap;               /* its allocation */
    bool stopping;                  /* workers exit */
    bool failed;                    /* the store hit an engine error */
    struct kvd_pd *pd;              /* the pdd link (pd.c); NULL without */
    struct kvd_cmd_stats cmds[KVD_CMDS]; /* by method number (metrics.c) */
    struct kvd_get_batch *gets;     /* RawGets held until the end of the
                                       loop iteration (service.c) */
    int get_readers;                /* get-readers: threads reading a
                                       batch's gets with the loop */
    struct kvd_dl *dl;              /* the deadlock detector (deadlock.c) */
};

/* Register the Raw, Txn, Raft and status methods on srv. */
int kvd_service_register(struct kvd *k, struct rpc_server *srv);
/* Frees the RawGet batch (before the loop and the RPC server go); gets
 * still held are left to the server's destroy. NULL batch: no-op. */
void kvd_get_batch_free(struct kvd *k);
/* Start / stop the txn workers and the done event. */
int kvd_workers_start(struct kvd *k, int n);
void kvd_workers_stop(struct kvd *k);
/* The client of the store with that id, created on first use (loop
 * thread: it owns the peer map); NULL for a store not in the map, which
 * is then asked of pdd. */
struct rpc_client *kvd_peer_client(struct kvd *k, uint64_t id);
/* The transport the store uses (send over librpc, notify the loop). */
void kvd_transport_send(void *ctx, uint64_t to, const void *buf, size_t len);
void kvd_transport_notify(void *ctx);

/* The pdd link (pd.c, README.md): a thread that bootstraps the cluster,
 * registers the store, heartbeats and runs operator steps. */
struct kvd_pd_opts {
    char **endpoints;        /* pd: host:port of pdd members (borrowed) */
    size_t n_endpoints;      /* used entries, 1..16 */
    const char *address;     /* this store's address as pdd records it */
    const char *data_dir;    /* for capacity/available (statvfs) */
    int64_t interval_ms;     /* pd.heartbeat-interval */
    uint32_t version;        /* libmvcc version registered with pdd */
    uint32_t region_version; /* libregion version registered with pdd */
    int64_t gc_poll_ms;      /* gc.poll-interval: PD's GC safe point
                                asked this often (0: no GC here) */
};
struct kvd_pd_counters {
    uint64_t store_heartbeats;  /* store heartbeats answered */
    uint64_t region_heartbeats; /* region heartbeats answered */
    uint64_t region_heartbeat_calls; /* batches they went out in (up to
                                        KVD_PD_HB_BATCH regions each) */
    uint64_t region_heartbeats_prompt; /* of region_heartbeats, those sent
                                        at once for a change (a leadership
                                        begun, an epoch changed), a hint
                                        or a refused step */
    uint64_t hints;                    /* regions pdd hinted (a step waits) */
    uint64_t steps;             /* operator steps acted on */
    uint64_t splits_reported;   /* ReportSplit calls answered */
    uint64_t size_counts;       /* region heartbeats that counted their
                                   region's size (the others reported
                                   the one kept: region_store_region_size_kept) */
    uint64_t gc_runs;           /* GC rounds run on the store */
    uint64_t gc_errors;         /* ... that failed, and failed polls */
    uint64_t gc_safe_point;     /* the last round's safe point */
    uint64_t gc_versions_removed; /* records removed in all rounds */
};
/* The peer id pdd sees for a region's replica on a store (libregion names
 * peers by store): region_id * 1000 + store_id, so pdctl's 1002@2 reads
 * "region 1 on store 2". */
uint64_t kvd_pd_peer_id(uint64_t region_id, uint64_t store_id);
/* Start the thread (0, -EINVAL, -ENOMEM, -EAGAIN); k->pd set on success. */
int kvd_pd_start(struct kvd *k, const struct kvd_pd_opts *o);
/* Stop and join the thread (before the store shuts down). */
void kvd_pd_stop(struct kvd *k);
/* Free what is left (after the store closed: split callbacks may run
 * until then). NULL k->pd is a no-op. */
void kvd_pd_free(struct kvd *k);
void kvd_pd_counters(struct kvd *k, struct kvd_pd_counters *out);
/* pdd refused this store's version (below the cluster version): the pd
 * thread logged what to do and stopped the loop; main exits failing. */
bool kvd_pd_refused(struct kvd *k);
/* The cluster's libregion version as this store last heard it from pdd
 * (libpd "Store versions": every store runs it or later, for good); 0
 * without pd or before it was heard. The pd thread asks at registration
 * and at every heartbeat round while it is below this build's
 * REGION_VERSION_NUMBER. Any thread. */
uint32_t kvd_pd_cluster_region_version(struct kvd *k);
/* The transport has a message for a store missing from the peer map: ask
 * pdd for its address (loop thread; no-op without pd). The store joins
 * the map on the loop thread once pdd answers. */
void kvd_pd_want_store(struct kvd *k, uint64_t store_id);

/* merge.c: the merge driver, called for each region this store leads at
 * every heartbeat round with pdd's step: starts a MERGE step, carries a
 * merging source on (commit, or reject and rollback). True when it took
 * the step (MERGE, or a merging source). */
bool kvd_merge_step(struct kvd *k, const struct region_desc *d,
                    const struct pd_step *st);

/* The store's status as JSON (the StoreStatus method's and /status's
 * answer): 0, or -ENOMEM. Loop thread. */
int kvd_status_json(struct kvd *k, FILE *f);

/* deadlock.c: the cluster's deadlock detector (README.md "Deadlock
 * detection"). The kvd leading the region of the first key hosts the
 * wait-for graph; the store's lock waits reach it through the interface
 * (a local call there, DeadlockDetect elsewhere). */
#define KVD_METHOD_DEADLOCK 0x0002003fu /* kv.DeadlockRequest ->
                                           kv.DeadlockResponse */
enum { KVD_DL_DETECT = 1, KVD_DL_CLEAN_UP = 2 }; /* DeadlockRequest.op */
struct kvd_dl_counters {
    uint64_t detects;        /* this store's waits reported */
    uint64_t deadlocks;      /* of those, answered deadlock */
    uint64_t fallbacks;      /* of those, no host answered: the store's
                                own graph was asked */
    uint64_t calls;          /* calls sent to another store's host */
    uint64_t skipped;        /* calls not tried: the host failed lately */
    uint64_t served;         /* detects answered as host (any store's) */
    uint64_t host_deadlocks; /* of those, deadlocks */
    uint64_t host_starts;    /* empty graphs begun (hosting began) */
    bool hosting;            /* this store hosted at the last request */
    uint64_t edges;          /* edges in the hosted graph */
};
/* Before the store opens (it takes kvd_dl_iface): k->dl, with edges of
 * the hosted graph expiring after ttl_ms without a renewal. 0, -ENOMEM. */
int kvd_dl_create(struct kvd *k, uint64_t ttl_ms);
const struct mvcc_deadlock_detector *kvd_dl_iface(struct kvd *k);
/* Register DeadlockDetect on srv. */
int kvd_dl_register(struct kvd *k, struct rpc_server *srv);

/* forward.c: kv.Forward, a Txn request passed on to another store (a
 * region's leader the client cannot reach) and its reply back. */
int kvd_forward_register(struct kvd *k, struct rpc_server *srv);
/* Workers waiting for the host stop waiting (before they are joined). */
void kvd_dl_stop(struct kvd *k);
/* After the store closed and the peers' clients were destroyed. NULL
 * k->dl is a no-op. */
void kvd_dl_destroy(struct kvd *k);
void kvd_dl_counters(struct kvd *k, struct kvd_dl_counters *out);

/* metrics.c: request figures and the HTTP status port. */
struct dmn_http;
uint64_t kvd_now_us(void); /* monotonic */
/* A reply to method (REGION_METHOD_*) that arrived at t0_us, with code rc
 * (0 ok). Loop thread. */
void kvd_observe(struct kvd *k, uint32_t method, uint64_t t0_us, int rc);
/* Serve /status and /metrics on listen (status-listen). 0 or -1 (logged). */
int kvd_http_start(struct kvd *k, const char *listen, struct dmn_http **out);

/* `kvd ctl ...`: the command-line client; returns the exit code. */
int kvd_ctl_main(int argc, char **argv);

/* cop.c: the Coprocessor method on a Txn worker, inside region_txn_run:
 * libsql's sql_cop_run over [start, end) at ts; its answer becomes res's
 * one pair (value). */
int kvd_cop_exec(struct mvcc_store *m, const void *start, size_t start_len,
                 const void *end, size_t end_len, uint64_t ts,
                 const void *req, size_t req_len, struct mvcc_result *res);
/* The Coprocessor answers' running totals since start (any thread). */
struct kvd_cop_counters {
    uint64_t answers;   /* answers sent */
    uint64_t keys_read; /* keys they read (rows scanned) */
    uint64_t rows_sent; /* rows, or partial groups, they carried */
};
void kvd_cop_counters(struct kvd_cop_counters *out);

#endif
