/* main.c: sqld, the MySQL-compatible SQL front end (../shared/DESIGN.md).
 * It serves the MySQL protocol on `listen`: librpc's byte-stream server
 * owns the sockets, libsql's protocol engine speaks the protocol and a
 * libsql session per connection runs the statements on the server's
 * store: with --store=local, libmvcc on RocksDB under data-dir/store, in
 * this process; with --store=cluster, kvd and pdd (cluster.c) (docs/sql.md
 * follows a statement from packet to storage).
 * Statements run on a pool of worker threads, one at a time per
 * connection; the loop thread moves bytes and runs only point reads
 * (see "Workers" below).
 */
#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include <event2/event.h>

#include <pd.h>
#include <region.h>
#include <rpc.h>
#include <sql.h>

#include "cluster_tls.h"
#include "http.h"
#include "rpcsvc.h"
#include "runtime.h"
#include "sqld.h"


struct sqld_settings
{
    struct dmn_common common; /* data-dir, log.* */
    char *listen;             /* listen: host:port for MySQL clients */
    char *status_listen;      /* status-listen: HTTP status, NULL off */
    char *store;              /* store: local or cluster */
    char **pd;                /* pd: pdd members (store: cluster) */
    int64_t max_connections;  /* max-connections: clients at once */
    int64_t workers;          /* workers: statement threads, 0 = 2/core */
    int64_t loop_poll_us;     /* loop-poll-us: widest polling window */
    char *root_password;      /* root-password: root's in a new store */
    char *tls_cert;           /* tls-cert: PEM certificate, NULL none */
    char *tls_key;            /* tls-key: its private key */
    char *tls_ca;             /* tls-ca: PEM CA bundle */
    bool tls_auto;            /* tls-auto: generate a self-signed pair */
    bool require_secure;      /* require-secure-transport: TLS only */
    bool sha2_cache;          /* auth-sha2-cache: MySQL's cache rules */
    int64_t schema_lease;     /* schema-lease: ms a catalog cache is
                                 trusted (store: cluster) */
    bool one_pc;              /* txn.one-pc (store: cluster) */
    bool async_commit;        /* txn.async-commit (store: cluster) */
    char *txn_mode;           /* txn-mode: @@global.txn_mode at start */
    int64_t mem_quota_query;  /* mem-quota-query: bytes a statement's
                                 operators may hold, 0 = no limit */
    int64_t gc_life_ms;       /* gc.life-time: history GC keeps */
    int64_t gc_interval_ms;   /* gc.run-interval: between rounds, 0 off */
    struct dmn_cluster_tls ctls; /* cluster-ssl-*: TLS to pdd and kvd */
};

static const char *const store_kinds[] = {"local", "cluster", NULL};
static const char *const txn_modes[] = {"optimistic", "pessimistic", NULL};

static const struct dmn_cfg_key sqld_keys[] = {
    DMN_COMMON_KEYS(struct sqld_settings, common, "./data/sqld"),
    DMN_CLUSTER_TLS_KEYS(struct sqld_settings, ctls),
    {"listen", DMN_CFG_ADDR, offsetof(struct sqld_settings, listen),
     "127.0.0.1:4000", 0, 0, NULL, "address to serve MySQL clients on"},
    {"status-listen", DMN_CFG_ADDR,
     offsetof(struct sqld_settings, status_listen), NULL, 0, 0, NULL,
     "address for HTTP /status and /metrics (empty: off)"},
    {"store", DMN_CFG_ENUM, offsetof(struct sqld_settings, store), "local", 0,
     0, store_kinds, "local (embedded) or cluster (kvd and pdd)"},
    {"pd", DMN_CFG_LIST, offsetof(struct sqld_settings, pd), NULL, 0, 0, NULL,
     "pdd members as host:port (store: cluster)"},
    {"max-connections", DMN_CFG_INT,
     offsetof(struct sqld_settings, max_connections), "1024", 1, 100000,
     NULL, "client connections served at once"},
    {"workers", DMN_CFG_INT, offsetof(struct sqld_settings, workers), "0", 0,
     256, NULL, "threads running statements (0: two per core)"},
    {"loop-poll-us", DMN_CFG_INT, offsetof(struct sqld_settings, loop_poll_us),
     "1000", 0, 100000, NULL,
     "microseconds the loop thread may poll for a kvd reply before it "
     "sleeps (store: cluster; 0: never)"},
    {"root-password", DMN_CFG_SECRET,
     offsetof(struct sqld_settings, root_password), NULL, 0, 0, NULL,
     "password of 'root'@'%' when the store is created (empty: none)"},
    {"tls-cert", DMN_CFG_STRING, offsetof(struct sqld_settings, tls_cert),
     NULL, 0, 0, NULL, "PEM certificate for TLS clients (with tls-key)"},
    {"tls-key", DMN_CFG_STRING, offsetof(struct sqld_settings, tls_key),
     NULL, 0, 0, NULL, "PEM private key of tls-cert"},
    {"tls-ca", DMN_CFG_STRING, offsetof(struct sqld_settings, tls_ca), NULL,
     0, 0, NULL, "PEM CA bundle (loaded; client certificates not asked)"},
    {"tls-auto", DMN_CFG_BOOL, offsetof(struct sqld_settings, tls_auto),
     "false", 0, 0, NULL,
     "without tls-cert: serve TLS with data-dir/server-cert.pem and "
     "server-key.pem, generated (self-signed) if missing"},
    {"require-secure-transport", DMN_CFG_BOOL,
     offsetof(struct sqld_settings, require_secure), "false", 0, 0, NULL,
     "refuse clients without TLS (error 3159); SET GLOBAL "
     "require_secure_transport changes it"},
    {"auth-sha2-cache", DMN_CFG_BOOL,
     offsetof(struct sqld_settings, sha2_cache), "false", 0, 0, NULL,
     "caching_sha2_password as MySQL: the first login after a start or a "
     "password change is a full authentication, over TLS or (tls-auto) "
     "RSA"},
    {"schema-lease", DMN_CFG_INT, offsetof(struct sqld_settings, schema_lease),
     "1000", 10, 600000, NULL,
     "ms a sqld trusts its schema cache before re-reading the version; "
     "DDL waits for the other sqld in this unit (store: cluster)"},
    {"txn.one-pc", DMN_CFG_BOOL, offsetof(struct sqld_settings, one_pc),
     "true", 0, 0, NULL,
     "commit a transaction whose keys share one region in one round "
     "(store: cluster)"},
    {"txn.async-commit", DMN_CFG_BOOL,
     offsetof(struct sqld_settings, async_commit), "true", 0, 0, NULL,
     "answer COMMIT once every prewrite succeeded (store: cluster)"},
    {"txn-mode", DMN_CFG_ENUM, offsetof(struct sqld_settings, txn_mode),
     "optimistic", 0, 0, txn_modes,
     "default transaction mode of new sessions (@@global.txn_mode, also "
     "tidb_txn_mode): optimistic (conflicts fail at COMMIT, 1213) or "
     "pessimistic (DML locks its rows, waiting for them)"},
    {"mem-quota-query", DMN_CFG_SIZE,
     offsetof(struct sqld_settings, mem_quota_query), "1GiB", 0,
     INT64_MAX, NULL,
     "default @@tidb_mem_quota_query: memory one statement's operators may "
     "hold before it fails with error 8175 (0: no limit)"},
    {"gc.life-time", DMN_CFG_DURATION, offsetof(struct sqld_settings,
                                                gc_life_ms),
     "1m", 0, INT64_MAX, NULL,
     "history MVCC GC keeps: old row versions stay readable this long "
     "(and as long as a transaction that can read them is open)"},
    {"gc.run-interval", DMN_CFG_DURATION,
     offsetof(struct sqld_settings, gc_interval_ms), "1m", 0, INT64_MAX,
     NULL,
     "time between MVCC GC rounds (0: no GC from this sqld; on a "
     "cluster its snapshots are then not held against the others' GC)"},
};

static const struct dmn_cfg_schema sqld_schema = {
    "sqld", sqld_keys, sizeof(sqld_keys) / sizeof(sqld_keys[0])};

/* One client connection: the protocol engine and the SQL session. While
 * `running`, a worker owns proto and session and the loop thread only
 * appends arriving bytes to `pending`. */
struct client
{
    struct sql_proto_conn *proto;  /* MySQL protocol state */
    struct sql_session *session;   /* answers its commands */
    struct sql_executor inner;     /* the session's executor */
    struct rpc_stream_conn *sc;    /* its socket; NULL once closed */
    struct sql_command cmd;        /* the command a worker runs */
    bool running;                  /* cmd is waiting, queued or running */
    bool queued;                   /* handed to the workers */
    bool closing;                  /* the socket closed while running */
    uint8_t *pending;              /* bytes that arrived while running */
    size_t npending;               /* their count */
    size_t cap;                    /* pending's allocation */
    struct client *next;           /* in the job or done queue */
    struct client *all_prev;       /* in the list of every client (loop */
    struct client *all_next;       /* thread only: KILL CONNECTION) */
    bool listed;                   /* in that list */
    struct rpc_tls_info tls;       /* negotiated TLS (Ssl_version,
                                      Ssl_cipher): set once, on the loop
                                      thread, before the login */
    bool tls_noted;                /* tls is filled */
    struct region_lget *lget;      /* the cluster point read cmd waits
                                      for on the loop thread, or NULL */
    struct sql_point_read pr;      /* the row it reads */
};

static uint32_t next_connection_id = 1;
static bool draining;             /* SIGTERM came: see drain() */
static struct dmn_runtime *drain_rt; /* whose loop drain() runs */
static struct sql_server *server; /* the store, catalog and variables */
static struct client *clients;    /* every client (loop thread) */
static struct event *kill_ev;     /* a KILL CONNECTION happened */
static struct rpc_tls_config *tls_cfg; /* TLS for clients, NULL off */
static struct region_loop *point_loop; /* cluster: point reads on the
                                          loop thread (below), or NULL */

/* ---- Workers --------------------------------------------------------
 * The session executor is wrapped: execute() (on the loop thread, inside
 * sql_proto_conn_feed) copies the command; once feed has returned (the
 * engine still reads its state after execute), the loop queues the client
 * (pool_submit); the protocol engine keeps the connection busy until the
 * answer completes. A worker runs the session's executor, which answers into proto, then
 * moves the client to the done queue and wakes the loop, which flushes
 * the answer and feeds what arrived meanwhile (the next command).
 * STMT_CLOSE, which is never answered, runs on the loop thread, and so
 * does a quick command (sql_session_try_quick: a point read that cannot
 * wait for another session), which skips two thread switches. libsql
 * (opts.concurrent) runs different sessions' statements at the same time
 * (libsql/DESIGN.md "Concurrency").
 * The pool grows past `workers` when a command would otherwise wait for
 * a worker (more queued commands than idle workers), up to one worker per
 * connection: a statement waiting for a row lock holds its worker, and
 * the holder's COMMIT must still find one (with a fixed pool, waiters
 * that outnumber the workers stalled it until innodb_lock_wait_timeout).
 * Workers are never retired. */
struct pool
{
    pthread_mutex_t mu;        /* guards everything below */
    pthread_cond_t cv;         /* jobs arrived or stop */
    struct client *jobs;       /* queued, oldest first */
    struct client *jobs_tail;  /* newest */
    struct client *done;       /* finished, any order */
    bool stopping;             /* workers exit */
    bool stopped;              /* workers joined: the loop owns everything */
    pthread_t *threads;        /* the workers (room for max) */
    int nthreads;              /* their count */
    int max;                   /* the most there may be */
    int idle;                  /* workers waiting for a job */
    int njobs;                 /* commands queued */
    int out;                   /* loop thread only: commands submitted
                                  and not yet collected from done */
    struct event *done_ev;     /* wakes the loop thread */
};

static struct pool pool;


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

static void point_read_stop(struct client *cl);

static void client_free(struct client *cl)
{
    if (!cl)
        return;
    point_read_stop(cl);
    if (cl->listed) {
        sqld_status.connections--;
        if (cl->all_prev)
            cl->all_prev->all_next = cl->all_next;
        else
            clients = cl->all_next;
        if (cl->all_next)
            cl->all_next->all_prev = cl->all_prev;
    }
    sql_proto_conn_destroy(cl->proto);
    sql_session_destroy(cl->session);
    free(cl->pending);
    free(cl);
}

/* ---- Cluster point reads on the loop thread ---------------------------
 * An autocommit point read on the cluster waits for kvd: on a worker that
 * cost a hand-off to the worker, its wait in poll and a hand-off back
 * (three sleeps and wake-ups in sqld a query, with the futex and eventfd
 * calls). Instead the loop thread runs it in two halves
 * (sql_session_point_read): the first names the row key, the loop sends
 * the read (libregion's region_loop_get: the loop's own multiplexed
 * connection to the cached leader) and goes on serving other clients;
 * when the reply comes the second half answers from it. Anything else
 * (no cached leader, a lock in the way, a region error, no reply within
 * the call timeout, a lost connection, a plan changed in between) hands
 * the command to a worker as before, which reads through the transport:
 * it resolves, retries and warms the cache. The read is at the version
 * libsql names (sql_point_read.ts): the latest committed, on the leader
 * under its lease, or an open transaction's start_ts, for its point
 * selects before its first write (libsql DESIGN "Point reads"). */
static void point_read_stop(struct client *cl)
{
    if (cl->lget)
        sqld_status.point_reads_waiting--;
    region_lget_abort(cl->lget);
    cl->lget = NULL;
}

static void pool_submit(struct client *cl);
static void answered(struct client *cl);

/* While a point read waits for kvd and no statement is at a worker, the
 * loop polls its sockets instead of sleeping (dmn_run_polling, setting
 * loop-poll-us): the reply, and the next client's query, then find it
 * awake, and neither kvd nor the client pays for waking it. With a
 * statement at a worker the loop sleeps, leaving the core to the worker
 * (docs/daemons.md "Polling for an answer"). */
static struct dmn_poll loop_poll;

static int loop_waiting(void *arg)
{
    (void)arg;
    return sqld_status.point_reads_waiting > 0 && pool.out == 0;
}

/* kvd's replies to the loop's reads: each is answered there or handed on */
static uint64_t loop_replies(void *arg)
{
    (void)arg;
    return sqld_status.point_reads_loop + sqld_status.point_reads_handed;
}

static void on_point_read(int rc, struct mvcc_result *res, void *arg)
{
    struct client *cl = arg;
    sqld_status.point_reads_waiting--;
    cl->lget = NULL; /* ended: freed when this returns */
    int q = 0;
    if (rc == 0) {
        cl->pr.given = true;
        cl->pr.found = res->npairs == 1;
        cl->pr.value = cl->pr.found ? res->pairs[0].value : NULL;
        cl->pr.value_len = cl->pr.found ? res->pairs[0].value_len : 0;
        q = sql_session_point_read(cl->session, cl->proto, &cl->cmd, &cl->pr);
        cl->pr.value = NULL;
        if (q < 0 && sql_proto_conn_busy(cl->proto))
            sql_reply_error(cl->proto, 1105, "HY000", sql_strerror(q));
    }
    if (q != 0) {
        sqld_status.point_reads_loop++;
        answered(cl);
    } else { /* the worker's way */
        sqld_status.point_reads_handed++;
        pool_submit(cl);
    }
}

/* After pool_execute kept cmd: 1 when it ran and was answered (it read
 * nothing), negative as execute; 0 with the read sent (cl->lget) or not
 * (the command goes to a worker). */
static int point_read_start(struct client *cl, struct sql_proto_conn *c,
                            const struct sql_command *cmd)
{
    cl->pr.given = false;
    int q = sql_session_point_read(cl->session, c, cmd, &cl->pr);
    if (q != 2)
        return q;
    (void)region_loop_get(point_loop, cl->pr.key, cl->pr.key_len, cl->pr.ts,
                          on_point_read, cl, &cl->lget);
    if (cl->lget)
        sqld_status.point_reads_waiting++;
    return 0; /* sent (cl->lget), or not: the worker's way */
}

static int pool_execute(void *ctx, struct sql_proto_conn *c,
                        const struct sql_command *cmd)
{
    struct client *cl = ctx;
    /* Not answered, and its pointers die with this call. */
    if (cmd->kind == SQL_CMD_STMT_CLOSE)
        return cl->inner.execute(cl->inner.ctx, c, cmd);
    sqld_status.commands_total++;
    /* A point read runs here, on the loop thread: handing it to a worker
     * and back cost two thread switches, more than the read itself
     * (libsql/DESIGN.md "Hot paths"). libsql runs it only when it cannot
     * wait for another session; otherwise nothing was done. */
    int q = sql_session_try_quick(cl->session, c, cmd);
    if (q != 0)
        return q < 0 ? q : 0;
    cl->cmd = *cmd;
    cl->running = true;
    cl->queued = false;
    if (point_loop != NULL) {
        q = point_read_start(cl, c, cmd);
        if (q != 0) { /* answered; cl is no longer running */
            cl->running = false;
            return q < 0 ? q : 0;
        }
    }
    return 0;
}

static void *worker_main(void *arg);

/* After sql_proto_conn_feed returned: hand a waiting command to the
 * workers (from here on a worker owns proto and session). */
static void pool_submit(struct client *cl)
{
    if (!cl->running || cl->queued || cl->lget)
        return;
    cl->queued = true;
    cl->next = NULL;
    pool.out++;
    pthread_mutex_lock(&pool.mu);
    if (pool.jobs_tail)
        pool.jobs_tail->next = cl;
    else
        pool.jobs = cl;
    pool.jobs_tail = cl;
    pool.njobs++;
    /* every queued command needs an idle worker of its own (the loop
     * thread alone starts workers, so nthreads is stable here) */
    if (pool.njobs > pool.idle && pool.nthreads < pool.max &&
        pthread_create(&pool.threads[pool.nthreads], NULL, worker_main,
                       NULL) == 0)
        sqld_status.workers = ++pool.nthreads;
    pthread_mutex_unlock(&pool.mu);
    /* Signalled after the unlock: a worker woken while the mutex is still
     * held would block on it at once (two more futex calls a query). A
     * worker checks for jobs under the mutex before it waits, so no
     * wake-up is lost. */
    pthread_cond_signal(&pool.cv);
}

static void *worker_main(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&pool.mu);
    for (;;) {
        while (!pool.jobs && !pool.stopping) {
            pool.idle++;
            pthread_cond_wait(&pool.cv, &pool.mu);
            pool.idle--;
        }
        if (pool.stopping)
            break;
        struct client *cl = pool.jobs;
        pool.njobs--;
        pool.jobs = cl->next;
        if (!pool.jobs)
            pool.jobs_tail = NULL;
        pthread_mutex_unlock(&pool.mu);
        int rc = cl->inner.execute(cl->inner.ctx, cl->proto, &cl->cmd);
        /* A failure that left the answer open ends it, as the protocol
         * engine does for an executor answering during the call. */
        if (rc != 0 && sql_proto_conn_busy(cl->proto))
            sql_reply_error(cl->proto, 1105, "HY000", sql_strerror(rc));
        pthread_mutex_lock(&pool.mu);
        cl->next = pool.done;
        pool.done = cl;
        pthread_mutex_unlock(&pool.mu);
        /* Outside pool.mu: waking the loop may write to its notify fd,
         * and the loop takes pool.mu to collect. A wake-up after the
         * loop already collected cl only runs on_done on an empty list. */
        event_active(pool.done_ev, 0, 0);
        pthread_mutex_lock(&pool.mu);
    }
    pthread_mutex_unlock(&pool.mu);
    return NULL;
}

/* Loop thread: answers are complete; send them and go on. */
static void flush(struct rpc_stream_conn *sc, struct client *cl);

/* Whether a client's command is queued or running (loop thread). */
static bool any_running(void)
{
    for (struct client *cl = clients; cl; cl = cl->all_next)
        if (cl->running)
            return true;
    return false;
}

static void on_done(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    pthread_mutex_lock(&pool.mu);
    struct client *cl = pool.done;
    pool.done = NULL;
    pthread_mutex_unlock(&pool.mu);
    while (cl) {
        struct client *next = cl->next;
        pool.out--;
        answered(cl);
        cl = next;
    }
    if (draining && !any_running())
        dmn_stop(drain_rt);
}

/* Loop thread: cl's command (a worker's, or a point read's) is answered:
 * send it, and start what arrived meanwhile. */
static void answered(struct client *cl)
{
    cl->running = false;
    cl->queued = false;
    if (cl->closing) {
        client_free(cl);
    } else {
        /* This answer first: the next command may start below. */
        flush(cl->sc, cl);
        int rc = 0;
        if (draining || sql_session_killed(cl->session)) {
            cl->npending = 0; /* answered; nothing more runs (KILL
                                 CONNECTION: closes after this) */
            rpc_stream_close(cl->sc);
            goto out;
        } else if (sql_proto_conn_want_close(cl->proto)) {
            cl->npending = 0; /* closing: nothing more runs */
        } else if (cl->npending > 0) {
            size_t n = cl->npending;
            cl->npending = 0;
            rc = sql_proto_conn_feed(cl->proto, cl->pending, n, NULL);
        } else {
            rc = sql_proto_conn_feed(cl->proto, NULL, 0, NULL);
        }
        if (rc != 0) {
            dmn_warn("client %s: %s; closing", rpc_stream_peer(cl->sc),
                     sql_strerror(rc));
            rpc_stream_close(cl->sc);
        } else {
            flush(cl->sc, cl);
            pool_submit(cl);
        }
    }
out:
    if (draining && !any_running())
        dmn_stop(drain_rt);
}

/* ---- KILL CONNECTION ------------------------------------------------
 * libsql calls on_kill (a worker thread, its statement lock shared); the loop
 * thread then closes every idle client whose session was killed. A
 * running one closes when its answer is done (on_done). */
static void on_kill(void *ctx, uint32_t connection_id)
{
    (void)ctx;
    (void)connection_id;
    event_active(kill_ev, 0, 0);
}

static void on_kill_ev(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    for (struct client *cl = clients, *next; cl; cl = next) {
        next = cl->all_next;
        if (!cl->running && cl->sc && sql_session_killed(cl->session)) {
            dmn_debug("client %s killed", rpc_stream_peer(cl->sc));
            rpc_stream_close(cl->sc);
        }
    }
}

static int pool_start(struct event_base *base, int n, int max)
{
    if (pthread_mutex_init(&pool.mu, NULL) != 0)
        return -ENOMEM;
    if (pthread_cond_init(&pool.cv, NULL) != 0)
        return -ENOMEM;
    pool.done_ev = event_new(base, -1, 0, on_done, NULL);
    kill_ev = event_new(base, -1, 0, on_kill_ev, NULL);
    if (!kill_ev)
        return -ENOMEM;
    pool.max = max > n ? max : n;
    pool.threads = calloc((size_t)pool.max, sizeof(*pool.threads));
    if (!pool.done_ev || !pool.threads)
        return -ENOMEM;
    for (int i = 0; i < n; i++) {
        int rc = pthread_create(&pool.threads[i], NULL, worker_main, NULL);
        if (rc != 0)
            return -rc;
        pool.nthreads++;
    }
    return 0;
}

/* Joins the workers (a running statement finishes first) and frees the
 * clients whose socket closed meanwhile; afterwards on_close frees
 * clients whatever their state. */
static void pool_stop(void)
{
    pthread_mutex_lock(&pool.mu);
    pool.stopping = true;
    pthread_cond_broadcast(&pool.cv);
    pthread_mutex_unlock(&pool.mu);
    for (int i = 0; i < pool.nthreads; i++)
        pthread_join(pool.threads[i], NULL);
    pool.stopped = true;
    /* Clients whose socket closed while queued or running are nobody's
     * now; the others go when the listener closes them. */
    struct client *lists[2] = {pool.jobs, pool.done};
    pool.jobs = pool.jobs_tail = pool.done = NULL;
    for (int i = 0; i < 2; i++)
        for (struct client *cl = lists[i], *next; cl; cl = next) {
            next = cl->next;
            cl->running = false;
            if (cl->closing)
                client_free(cl);
        }
}

static void pool_free(void)
{
    free(pool.threads);
    pool.threads = NULL;
    if (pool.done_ev)
        event_free(pool.done_ev);
    pool.done_ev = NULL;
    if (kill_ev)
        event_free(kill_ev);
    kill_ev = NULL;
    pthread_cond_destroy(&pool.cv);
    pthread_mutex_destroy(&pool.mu);
}

static void on_open(struct rpc_stream_conn *sc, void *ud)
{
    (void)ud;
    if (draining) { /* stopping: the client goes to another sqld */
        rpc_stream_close(sc);
        return;
    }
    struct client *cl = calloc(1, sizeof(*cl));
    uint32_t id = next_connection_id++;
    if (!cl || sql_session_create(server, id, &cl->session) != 0)
        goto fail;
    cl->sc = sc;
    cl->inner = sql_session_executor(cl->session);
    cl->all_next = clients;
    if (clients)
        clients->all_prev = cl;
    clients = cl;
    cl->listed = true;
    sqld_status.connections++;
    sqld_status.connections_total++;
    char host[64];
    snprintf(host, sizeof(host), "%s", rpc_stream_peer(sc));
    char *colon = strrchr(host, ':');
    if (colon)
        *colon = '\0';
    struct sql_proto_options po = {
        .server_version = SQLD_SERVER_VERSION,
        .connection_id = id,
        .client_host = host,
        .auth = sql_session_auth(cl->session),
        /* MySQL 8's default_authentication_plugin: a client that cannot
         * take an auth switch to caching_sha2 (PyMySQL 1.0) still logs
         * in to such accounts; native ones get the switch instead. */
        .default_plugin = SQL_AUTH_CACHING_SHA2,
        .exec = {cl, pool_execute},
        .tls_available = tls_cfg != NULL,
        .tls_info = sqld_tls_info,
        .tls_info_ctx = &cl->tls,
        .rsa_public_pem = sqld_rsa_public_pem(),
        .rsa_decrypt = sqld_rsa_decrypt,
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
    /* The first bytes after a TLS handshake (the login): note what it
     * negotiated before any worker can ask for it. */
    if (!cl->tls_noted && rpc_stream_tls_info(sc, &cl->tls))
        cl->tls_noted = true;
    if (sql_session_killed(cl->session) && !cl->running) {
        rpc_stream_close(sc); /* KILL CONNECTION raced these bytes */
        return len;
    }
    if (cl->running) {
        /* A worker owns proto: keep the bytes for when it is done. */
        if (cl->npending + len > cl->cap) {
            size_t cap = cl->cap ? cl->cap : 4096;
            while (cap < cl->npending + len)
                cap *= 2;
            uint8_t *p = realloc(cl->pending, cap);
            if (!p) {
                dmn_warn("client %s: out of memory; closing",
                         rpc_stream_peer(sc));
                rpc_stream_close(sc);
                return len;
            }
            cl->pending = p;
            cl->cap = cap;
        }
        memcpy(cl->pending + cl->npending, data, len);
        cl->npending += len;
        return len;
    }
    size_t used = 0;
    int rc = sql_proto_conn_feed(cl->proto, data, len, &used);
    if (rc != 0) {
        dmn_warn("client %s: %s; closing", rpc_stream_peer(sc),
                 sql_strerror(rc));
        rpc_stream_close(sc);
        return len;
    }
    if (sql_proto_conn_want_tls(cl->proto)) {
        /* SSLRequest: the bytes after it are the ClientHello, which
         * librpc takes from here on (a failed handshake closes). */
        flush(sc, cl);
        rc = rpc_stream_start_tls(sc);
        const char *why = rc ? rpc_strerror(rc) : NULL;
        if (rc == 0 && (rc = sql_proto_conn_tls_started(cl->proto)) != 0)
            why = sql_strerror(rc);
        if (rc != 0) {
            dmn_warn("client %s: cannot start TLS: %s; closing",
                     rpc_stream_peer(sc), why);
            rpc_stream_close(sc);
            return len;
        }
    }
    /* What came before a command, then the command to a worker (its
     * answer is flushed by on_done). */
    flush(sc, cl);
    pool_submit(cl);
    return used;
}

static void on_close(struct rpc_stream_conn *sc, int rc, const char *reason,
                     void *ud)
{
    (void)ud;
    dmn_debug("client %s gone: %s", rpc_stream_peer(sc),
              rc == 0 ? "closed" : reason);
    struct client *cl = rpc_stream_get_ud(sc);
    rpc_stream_set_ud(sc, NULL);
    if (cl && cl->queued && !pool.stopped) {
        cl->closing = true; /* on_done frees it */
        cl->sc = NULL;
        return;
    }
    client_free(cl);
}

/* ---- Stopping (SIGTERM) ----------------------------------------------
 * Closing every connection at once told a client whose COMMIT was running
 * that its connection was lost while the worker went on and committed:
 * the client's retry then ran beside its own earlier transaction (a 1213
 * in the rolling restart, issue 9). So SIGTERM first drains: idle clients
 * are closed (their open transactions roll back), the listening socket
 * closes (new clients are refused),
 * and a running command finishes and is answered before its connection
 * closes; after DRAIN_MS, or a second signal, the rest closes as before
 * (operators-guide "Rolling restart"). */
#define DRAIN_MS 10000

static void drain_timeout(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    dmn_warn("statements still running after %d s; closing", DRAIN_MS / 1000);
    dmn_stop(arg);
}

static int drain(struct dmn_runtime *rt, struct rpc_stream_server *srv)
{
    draining = true;
    drain_rt = rt;
    /* New clients are refused by the kernel from now on (ECONNREFUSED):
     * they try their next sqld at once, where an accepted and closed
     * connection failed its handshake ("reading initial communication
     * packet") and cost a client that does not retry its connection. */
    rpc_stream_server_stop_listening(srv);
    for (struct client *cl = clients, *next; cl; cl = next) {
        next = cl->all_next;
        if (!cl->running && cl->sc)
            rpc_stream_close(cl->sc);
    }
    if (!any_running())
        return 0;
    dmn_info("waiting for running statements (at most %d s)",
             DRAIN_MS / 1000);
    struct event *t = evtimer_new(rt->base, drain_timeout, rt);
    struct timeval tv = {DRAIN_MS / 1000, 0};
    if (!t || evtimer_add(t, &tv) != 0) {
        if (t)
            event_free(t);
        return 0; /* no drain: close at once, as before */
    }
    int rc = dmn_run(rt);
    event_free(t);
    return rc;
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
        .tls = tls_cfg,
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

/* A read a kvd refused as below the GC safe point: TiDB's error 9006
 * (ErrGCTooEarly); every other store code is 1105. */
static int sqld_kv_errno(int rc)
{
    return rc == REGION_EGC_TOO_EARLY ? 9006 : 0;
}

const char *sqld_kv_strerror(int rc)
{
    if (rc == REGION_EGC_TOO_EARLY) /* TiDB's text for its 9006 */
        return "GC life time is shorter than transaction duration: the "
               "transaction reads below the GC safe point (raise "
               "gc.life-time, or keep transactions shorter)";
    if (rc <= -3000 && rc > -4000)
        return region_strerror(rc);
    if (rc <= -4000 && rc > -5000)
        return pd_strerror(rc);
    if (rc <= -6000 && rc > -7000)
        return rpc_strerror(rc);
    return NULL;
}

int main(int argc, char **argv)
{
    struct sqld_settings s = {0};
    struct dmn_runtime rt;
    int rc = dmn_start(&rt, &sqld_schema, &s, &s.common, argc, argv);
    if (rc != DMN_CONTINUE)
        return rc;
    char path[4096], err[512];
    snprintf(path, sizeof(path), "%s/store", rt.data_dir);
    /* Commits are durable: the store syncs its WAL on every commit (the
     * cluster: kvd syncs its Raft log). */
    struct sql_server_options so = {.data_dir = path,
                                    .sync = true,
                                    .version = SQLD_SERVER_VERSION,
                                    .concurrent = true,
                                    .root_password = s.root_password,
                                    .on_kill = on_kill,
                                    .kv_strerror = sqld_kv_strerror,
                                    .kv_errno = sqld_kv_errno,
                                    .require_secure_transport =
                                        s.require_secure,
                                    .sha2_cache = s.sha2_cache,
                                    .mem_quota_query =
                                        s.mem_quota_query == 0
                                            ? UINT64_MAX
                                            : (uint64_t)s.mem_quota_query};
    int exit_code = DMN_EXIT_FAIL;
    struct sqld_cluster *cluster = NULL;
    struct sql_gc_cluster gcc; /* store: cluster: PD's safe points */
    struct rpc_stream_server *srv = NULL;
    struct dmn_http *http = NULL;
    bool pooled = false;
    struct mvcc_client_opts co;
    bool on_cluster = strcmp(s.store, "cluster") == 0;
    if (dmn_cluster_tls_init(&s.ctls, err, sizeof(err)) != 0) {
        dmn_error("%s", err);
        exit_code = DMN_EXIT_USAGE;
        goto out;
    }
    if (on_cluster && dmn_cluster_tls_client())
        dmn_info("cluster TLS: pdd and kvd are reached with mutual TLS");
    if (on_cluster) {
        if (!s.pd || !s.pd[0]) {
            dmn_error("store: cluster needs pd (pdd members, host:port)");
            exit_code = DMN_EXIT_USAGE;
            goto out;
        }
        if (sqld_cluster_open(s.pd, s.one_pc, s.async_commit, &cluster,
                              &co, err, sizeof(err)) != 0) {
            dmn_error("cannot open the cluster store: %s", err);
            goto out;
        }
        so.data_dir = NULL;
        so.cluster = &co;
        so.cluster_info = sqld_cluster_info(cluster);
        so.schema_lease_ms = (uint32_t)s.schema_lease;
        /* held three rounds (30 s at least): a sqld that died holds GC
         * back that long */
        uint64_t ttl = 3 * (uint64_t)s.gc_interval_ms;
        sqld_cluster_gc(cluster, s.listen, ttl < 30000 ? 30000 : ttl, &gcc);
        so.gc_cluster = &gcc;
    }
    struct sqld_tls_settings ts = {s.tls_cert, s.tls_key, s.tls_ca,
                                   s.tls_auto, s.sha2_cache};
    if (sqld_tls_setup(&ts, rt.data_dir, &tls_cfg, err, sizeof(err)) != 0) {
        dmn_error("TLS: %s", err);
        goto out;
    }
    if (tls_cfg)
        dmn_info("TLS for MySQL clients: %s", s.tls_cert ? s.tls_cert
                                                         : "tls-auto");
    else if (s.require_secure)
        dmn_warn("require-secure-transport without TLS: every client "
                 "is refused");
    so.have_ssl = tls_cfg != NULL;
    so.txn_mode = s.txn_mode;
    rc = sql_server_open(&so, &server, err, sizeof(err));
    if (rc != 0) {
        if (on_cluster)
            dmn_error("cannot open the store on the cluster: %s",
                      err[0] ? err : sql_strerror(rc));
        else
            dmn_error("cannot open the store in %s: %s", path,
                      err[0] ? err : sql_strerror(rc));
        goto out;
    }
    if (on_cluster)
        dmn_info("store: cluster (pd %s%s)", s.pd[0], s.pd[1] ? ", ..." : "");
    else
        dmn_info("store: local (RocksDB in %s)", path);
    int nworkers = (int)s.workers;
    if (nworkers == 0) {
        long cores = sysconf(_SC_NPROCESSORS_ONLN);
        nworkers = cores > 0 ? (int)(cores > 64 ? 128 : 2 * cores) : 4;
    }
    /* a worker per connection at most, plus the ones idle at the start */
    pooled = true;
    rc = pool_start(rt.base, nworkers, nworkers + (int)s.max_connections);
    if (rc != 0) {
        dmn_error("cannot start %d statement workers: %s", nworkers,
                  strerror(-rc));
        goto out;
    }
    dmn_info("%d statement workers", nworkers);
    sqld_status_init(s.store, nworkers, cluster);
    sqld_status.server = server;
    if (cluster &&
        region_loop_create(sqld_cluster_region(cluster), rt.base,
                           &point_loop) != 0) {
        dmn_error("cannot start the loop thread's point reads: out of "
                  "memory");
        goto out;
    }
    if (s.gc_interval_ms > 0 &&
        (rc = sqld_gc_start(server, (uint64_t)s.gc_life_ms,
                            (uint64_t)s.gc_interval_ms)) != 0) {
        dmn_error("cannot start the GC thread: %s", strerror(-rc));
        goto out;
    }
    if (serve_mysql(&rt, &s, &srv) != 0 ||
        (s.status_listen &&
         sqld_http_start(rt.base, s.status_listen, &http) != 0))
        goto out;
    loop_poll = (struct dmn_poll){
        .waiting = loop_waiting,
        .answers = loop_replies,
        .max_us = cluster ? (unsigned)s.loop_poll_us : 0,
        .window_us = (unsigned)s.loop_poll_us,
    };
    sqld_status.poll = &loop_poll;
    rc = dmn_run_polling(&rt, &loop_poll);
    if (rc == 0 && pooled)
        rc = drain(&rt, srv);
    if (rc != 0)
        dmn_error("event loop failed");
    else
        exit_code = DMN_EXIT_OK;
out:
    /* Destroying the listener closes the clients: on_close frees the
     * idle ones (their rollback releases row locks statements may wait
     * for) and marks the running ones; the workers then finish their
     * statements and stop, and pool_stop frees the marked clients, all
     * before the server goes. */
    dmn_http_stop(http);
    sqld_gc_stop(); /* before the server goes */
    rpc_stream_server_destroy(srv);
    if (pooled) {
        pool_stop();
        pool_free();
    }
    sql_server_close(server);
    server = NULL;
    rpc_tls_config_destroy(tls_cfg);
    tls_cfg = NULL;
    sqld_tls_free();
    region_loop_destroy(point_loop); /* no client waits on it now */
    point_loop = NULL;
    if (cluster) {
        sqld_cluster_log_stats(cluster);
        sqld_cluster_close(cluster);
    }
    dmn_cluster_tls_free();
    dmn_finish(&rt, &sqld_schema, &s);
    return exit_code;
}
