/* cluster.c: the in-process cluster of cluster.h: stores on RocksDB in a
 * temporary directory, an in-memory router, and blocking helpers that pump
 * the loop until a request completes.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "cluster.h"
#include "region_int.h"

static void die(const char *what, int rc)
{
    fprintf(stderr, "cluster: %s: %d (%s)\n", what, rc, region_strerror(rc));
    abort();
}

struct cl_route {
    struct cluster *c; /* the cluster */
    uint64_t from;     /* sender */
};
static struct cl_route routes[CL_MAX + 1];

static void send_msg(void *ctx, uint64_t to, const void *buf, size_t len)
{
    struct cl_route *r = ctx;
    cl_send(r->c, r->from, to, buf, len);
}

void cl_send(struct cluster *c,
             uint64_t from,
             uint64_t to,
             const void *buf,
             size_t len)
{
    if (to == 0 || to > (uint64_t)c->n || c->cut[from][to])
        return;
    if (c->nq == c->capq) {
        c->capq = c->capq ? 2 * c->capq : 64;
        c->q = realloc(c->q, c->capq * sizeof *c->q);
        if (c->q == NULL)
            die("realloc", -ENOMEM);
    }
    uint8_t *copy = malloc(len);
    if (copy == NULL)
        die("malloc", -ENOMEM);
    memcpy(copy, buf, len);
    c->q[c->nq++] = (struct cl_msg){to, from, copy, len};
}

static uint64_t cl_clock(void *ctx)
{
    return ((struct cluster *)ctx)->now_ms;
}

static uint64_t cl_unix(void *ctx)
{
    return ((struct cluster *)ctx)->unix_ms;
}

static void open_store(struct cluster *c, int i)
{
    struct cl_store *st = &c->st[i];
    char err[256] = "";
    struct mvcc_rocks_opts ro = {.path = st->dir, .block_cache_bytes = 8 << 20};
    int rc = mvcc_rocksengine_open(&ro, &st->eng, err, sizeof err);
    if (rc != 0) {
        fprintf(stderr, "rocksdb %s: %s\n", st->dir, err);
        die("rocksengine_open", rc);
    }
    routes[i] = (struct cl_route){c, (uint64_t)i};
    struct region_store_opts o = {
        .store_id = (uint64_t)i,
        .engine = st->eng,
        .transport = {&routes[i], send_msg, NULL},
        .election_tick = 10,
        .heartbeat_tick = 2,
        .no_sync = !c->sync,
        .max_entry_bytes = c->max_entry_bytes,
        .max_pending = c->max_pending,
        .log_keep_entries = c->log_keep_entries,
        .split_size = c->split_size,
        .log_on_loop = c->log_on_loop,
        .tick_ms = c->tick_ms,
        .no_hibernate = c->no_hibernate,
        .now_ms = cl_clock,
        .clock_ctx = c,
        .unix_ms = cl_unix,
    };
    o.snap_chunk_bytes = c->snap_chunk_bytes;
    o.log = c->log;
    o.log_ctx = c->log_ctx;
    o.log_level = c->log_level;
    if (c->wrap)
        o.engine = c->wrap(c->wrap_ctx, i, st->eng);
    rc = region_store_open(&o, &st->s);
    if (rc != 0)
        die("region_store_open", rc);
}

void cl_init(struct cluster *c, int n, bool sync)
{
    uint32_t me = c->max_entry_bytes, mp = c->max_pending;
    uint32_t lk = c->log_keep_entries;
    uint64_t ss = c->split_size;
    bool lol = c->log_on_loop, ov = c->overlap, nh = c->no_hibernate;
    uint32_t tm = c->tick_ms;
    struct cluster keep = *c; /* the options below */
    memset(c, 0, sizeof *c);
    c->snap_chunk_bytes = keep.snap_chunk_bytes;
    c->log = keep.log;
    c->log_ctx = keep.log_ctx;
    c->log_level = keep.log_level;
    c->wrap = keep.wrap;
    c->wrap_ctx = keep.wrap_ctx;
    c->filter = keep.filter;
    c->filter_ctx = keep.filter_ctx;
    c->tick_ms = tm;
    c->no_hibernate = nh;
    c->now_ms = 1000000;
    c->unix_ms = 1800000000000ull;
    c->log_on_loop = lol;
    c->overlap = ov;
    c->log_keep_entries = lk;
    c->split_size = ss;
    c->max_entry_bytes = me;
    c->max_pending = mp;
    c->n = n;
    c->sync = sync;
    pthread_mutex_init(&c->mu, NULL);
    snprintf(c->root, sizeof c->root, "/tmp/region-test-XXXXXX");
    if (mkdtemp(c->root) == NULL)
        die("mkdtemp", -errno);
    for (int i = 1; i <= n; i++) {
        snprintf(c->st[i].dir, sizeof c->st[i].dir, "%s/s%d", c->root, i);
        open_store(c, i);
    }
}

void cl_stop(struct cluster *c, int i)
{
    struct cl_store *st = &c->st[i];
    if (st->s == NULL)
        return;
    region_store_close(st->s);
    mvcc_engine_destroy(st->eng);
    st->s = NULL;
    st->eng = NULL;
}

void cl_start(struct cluster *c, int i)
{
    if (c->st[i].s == NULL)
        open_store(c, i);
}

void cl_destroy(struct cluster *c)
{
    if (c->running)
        cl_thread_stop(c);
    for (int i = 1; i <= c->n; i++)
        cl_stop(c, i);
    for (size_t i = 0; i < c->nq; i++)
        free(c->q[i].buf);
    free(c->q);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", c->root);
    if (system(cmd) != 0)
        fprintf(stderr, "cluster: could not remove %s\n", c->root);
    pthread_mutex_destroy(&c->mu);
}

void cl_bootstrap(struct cluster *c, uint64_t id, const char *start,
                  const char *end)
{
    cl_bootstrap_on(c, id, start, end, c->n);
}

void cl_bootstrap_on(struct cluster *c, uint64_t id, const char *start,
                     const char *end, int k)
{
    struct region_desc d;
    memset(&d, 0, sizeof d);
    d.id = id;
    d.conf_ver = 1;
    d.version = 1;
    if (start) {
        d.start_len = (uint32_t)strlen(start);
        memcpy(d.start, start, d.start_len);
    }
    if (end) {
        d.end_len = (uint32_t)strlen(end);
        memcpy(d.end, end, d.end_len);
    }
    d.n_stores = (uint32_t)k;
    for (int i = 0; i < k; i++)
        d.stores[i] = (uint64_t)(i + 1);
    for (int i = 1; i <= k; i++) {
        int rc = region_store_bootstrap(c->st[i].s, &d);
        if (rc != 0)
            die("bootstrap", rc);
    }
}

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* A call on store i that began at t0 ended now: the longest so far? */
static void note_call(struct cluster *c, int i, uint64_t t0)
{
    uint64_t ns = mono_ns() - t0;
    if (ns > c->max_call_ns[i])
        c->max_call_ns[i] = ns;
}

void cl_pump(struct cluster *c, int rounds)
{
    for (int r = 0; r < rounds; r++) {
        struct cl_msg *q = c->q;
        size_t nq = c->nq;
        c->q = NULL;
        c->nq = c->capq = 0;
        for (size_t i = 0; i < nq; i++) {
            struct cl_store *st = &c->st[q[i].to];
            if (c->filter && st->s && !c->cut[q[i].from][q[i].to])
                c->filter(c->filter_ctx, &q[i]);
            if (st->s && !c->cut[q[i].from][q[i].to]) {
                uint64_t t0 = mono_ns();
                (void)region_store_receive(st->s, q[i].buf, q[i].len);
                note_call(c, (int)q[i].to, t0);
            }
            free(q[i].buf);
        }
        free(q);
        for (int i = 1; i <= c->n; i++)
            if (c->st[i].s && !c->paused[i]) {
                uint64_t t0 = mono_ns();
                (void)region_store_process(c->st[i].s);
                note_call(c, i, t0);
            }
        /* leaders' log writes run on each store's writer thread (in
         * parallel): a round ends with them durable and completed */
        if (!c->overlap)
            cl_drain(c);
    }
}

void cl_drain(struct cluster *c)
{
    for (int i = 1; i <= c->n; i++)
        if (c->st[i].s && !c->paused[i]) {
            (void)region_store_sync_wait(c->st[i].s);
            /* and the snapshots the checker thread counts, reads and
             * installs, so a round's outcome does not hang on when that
             * thread ran (split checks are waited for by the tests that
             * want them) */
            if (!c->snap_jobs_free)
                region__snap_jobs_wait(c->st[i].s);
        }
}

/* Wait until every live store's writer thread has written every job
 * handed to it, completing none (cl_drain would complete them: apply):
 * a round of cl_pump then counts a step of the protocol. */
static void written(struct cluster *c)
{
    for (int i = 1; i <= c->n; i++) {
        struct region_store *s = c->st[i].s;
        bool all = s == NULL;
        for (int t = 0; t < 100000 && !all; t++) {
            pthread_mutex_lock(&s->wmu);
            all = s->jobs == NULL || s->jobs_tail->written;
            pthread_mutex_unlock(&s->wmu);
            if (!all)
                nanosleep(&(struct timespec){0, 100000}, NULL);
        }
        if (!all)
            die("writer thread", -ETIMEDOUT);
    }
}

uint64_t cl_commit_unapplied(struct cluster *c, int store, uint64_t region)
{
    struct region_peer *p = region__find_peer(c->st[store].s, region);
    if (p == NULL)
        die("cl_commit_unapplied", REGION_ENOT_FOUND);
    c->overlap = true;
    /* the commit index has to travel through the writer to stay unapplied
     * (a store completes a commit on its loop at once otherwise) */
    c->st[store].s->commit_via_writer = true;
    struct raft_status st;
    raft_node_status(p->node, &st);
    raft_index last = st.last_index;
    for (int i = 0; i < 100 && st.commit < last; i++) {
        written(c);
        cl_pump(c, 1);
        raft_node_status(p->node, &st);
    }
    c->st[store].s->commit_via_writer = false;
    if (st.commit < last || p->applied >= last)
        die("cl_commit_unapplied", REGION_ETIMEOUT);
    return last;
}

struct cl_wait {
    bool done; /* completed */
    int rc;    /* its code */
};

static void wait_done(void *ud, const struct region_reply *r)
{
    struct cl_wait *w = ud;
    w->done = true;
    w->rc = r->rc;
}

int cl_prepare_logged(struct cluster *c, int at, uint64_t source,
                      uint64_t target, int lagging)
{
    struct cl_wait w = {false, 0};
    struct region_ctx ctx = {source, 0, 0};
    int rc = region_merge_prepare(c->st[at].s, &ctx, target, wait_done, &w,
                                  NULL);
    if (rc != 0)
        return rc;
    /* the append reaches lagging (round 1), its ack reaches at (round
     * 2); the commit index at sends then never arrives */
    cl_pump(c, 2);
    c->cut[at][lagging] = true;
    for (int i = 0; i < 20000 && !w.done; i++) {
        cl_pump(c, 1);
        if (i % 4 == 3)
            cl_tick(c);
    }
    return w.done ? w.rc : REGION_ETIMEOUT;
}

void cl_tick(struct cluster *c)
{
    c->ticks++;
    c->now_ms += c->tick_ms;
    for (int i = 1; i <= c->n; i++)
        if (c->st[i].s)
            (void)region_store_tick(c->st[i].s);
    cl_pump(c, 3);
}

uint64_t cl_wait_leader(struct cluster *c, uint64_t id)
{
    for (int t = 0; t < 2000; t++) {
        for (int i = 1; i <= c->n; i++)
            if (c->st[i].s && region_store_is_leader(c->st[i].s, id)) {
                /* one more round so followers learn of it */
                cl_tick(c);
                if (region_store_is_leader(c->st[i].s, id))
                    return (uint64_t)i;
            }
        cl_tick(c);
    }
    return 0;
}

void cl_lead(struct cluster *c, uint64_t id, int to)
{
    for (int t = 0; t < 500; t++) {
        if (region_store_is_leader(c->st[to].s, id)) {
            cl_tick(c);
            return;
        }
        for (int i = 1; i <= c->n; i++)
            if (c->st[i].s && region_store_is_leader(c->st[i].s, id))
                (void)region_store_transfer_leader(c->st[i].s, id,
                                                   (uint64_t)to);
        cl_tick(c);
    }
    fail_msg("store %d never led region %llu", to, (unsigned long long)id);
}

void cl_two_regions(struct cluster *c)
{
    cl_init(c, 3, false);
    cl_bootstrap(c, 1, NULL, "m");
    cl_bootstrap(c, 2, "m", NULL);
    cl_wait_leader(c, 1);
    cl_wait_leader(c, 2);
    cl_lead(c, 1, 1);
    cl_lead(c, 2, 1);
}

void cl_isolate(struct cluster *c, int i, bool cut)
{
    for (int j = 1; j <= c->n; j++) {
        if (j == i)
            continue;
        c->cut[i][j] = cut;
        c->cut[j][i] = cut;
    }
}

struct waiter {
    bool done;           /* completed */
    int rc;              /* result */
    struct region_err err; /* detail */
    bool cas_ok;         /* CAS */
};

static void on_done(void *ud, const struct region_reply *r)
{
    struct waiter *w = ud;
    w->done = true;
    w->rc = r->rc;
    if (r->err)
        w->err = *r->err;
    w->cas_ok = r->cas_ok;
}

/* Pump (ticking now and then) until w completes; many ticks at most. */
static int wait_for(struct cluster *c, struct waiter *w,
                    struct region_err *err)
{
    for (int i = 0; i < 20000 && !w->done; i++) {
        cl_pump(c, 1);
        if (i % 4 == 3)
            cl_tick(c);
    }
    if (!w->done)
        return REGION_ETIMEOUT;
    if (err)
        *err = w->err;
    return w->rc;
}

int cl_write(struct cluster *c,
             int store,
             uint64_t region,
             const struct region_op *ops,
             size_t n,
             struct region_err *err)
{
    struct region_ctx ctx = {region, 0, 0};
    struct waiter w = {0};
    int rc = region_raw_write(c->st[store].s, &ctx, ops, n, on_done, &w, err);
    if (rc != 0)
        return rc;
    return wait_for(c, &w, err);
}

int cl_put(struct cluster *c,
           int store,
           uint64_t region,
           const char *key,
           const char *value,
           struct region_err *err)
{
    struct region_op op = {REGION_OP_PUT, key, strlen(key), value,
                           strlen(value)};
    return cl_write(c, store, region, &op, 1, err);
}

int cl_delete(struct cluster *c, int store, uint64_t region, const char *key,
              struct region_err *err)
{
    struct region_op op = {REGION_OP_DELETE, key, strlen(key), NULL, 0};
    return cl_write(c, store, region, &op, 1, err);
}

int cl_get(struct cluster *c, int store, uint64_t region, const char *key,
           char **value, struct region_err *err)
{
    struct region_ctx ctx = {region, 0, 0};
    struct waiter w = {0};
    *value = NULL;
    int rc = region_read(c->st[store].s, &ctx, on_done, &w, err);
    if (rc != 0)
        return rc;
    rc = wait_for(c, &w, err);
    if (rc != 0)
        return rc;
    uint8_t *v = NULL;
    size_t vl = 0;
    rc = region_raw_get(c->st[store].s, &ctx, key, strlen(key), &v, &vl, err);
    if (rc == 0) {
        *value = malloc(vl + 1);
        memcpy(*value, v, vl);
        (*value)[vl] = 0;
        region_free(v);
    }
    return rc;
}

int cl_cas(struct cluster *c, int store, uint64_t region, const char *key,
           const char *expect, const char *value, bool *ok,
           struct region_err *err)
{
    struct region_ctx ctx = {region, 0, 0};
    struct waiter w = {0};
    int rc = region_raw_cas(c->st[store].s, &ctx, key, strlen(key),
                            expect != NULL, expect, expect ? strlen(expect) : 0,
                            value == NULL, value, value ? strlen(value) : 0,
                            on_done, &w, err);
    if (rc != 0)
        return rc;
    rc = wait_for(c, &w, err);
    *ok = w.cas_ok;
    return rc;
}

int cl_split(struct cluster *c, int store, uint64_t region, const char *key,
             uint64_t new_id, struct region_err *err)
{
    struct region_ctx ctx = {region, 0, 0};
    struct waiter w = {0};
    int rc = region_split(c->st[store].s, &ctx, key, strlen(key), new_id,
                          on_done, &w, err);
    if (rc != 0)
        return rc;
    return wait_for(c, &w, err);
}

int cl_change_peer(struct cluster *c, int at, uint64_t region, bool add,
                   int store, struct region_err *err)
{
    struct region_ctx ctx = {region, 0, 0};
    struct waiter w = {0};
    int rc = region_change_peer(c->st[at].s, &ctx, add, (uint64_t)store,
                                on_done, &w, err);
    if (rc != 0)
        return rc;
    return wait_for(c, &w, err);
}

int cl_change_member(struct cluster *c, int at, uint64_t region, int kind,
                     int store, struct region_err *err)
{
    struct region_ctx ctx = {region, 0, 0};
    struct waiter w = {0};
    int rc = region_change_member(c->st[at].s, &ctx, kind, (uint64_t)store,
                                  on_done, &w, err);
    if (rc != 0)
        return rc;
    return wait_for(c, &w, err);
}

int cl_leader_for(struct cluster *c, const char *key, uint64_t *region)
{
    for (int t = 0; t < 2000; t++) {
        for (int i = 1; i <= c->n; i++) {
            struct region_desc d;
            if (c->st[i].s == NULL ||
                region_store_locate(c->st[i].s, key, strlen(key), &d, NULL) != 0)
                continue;
            if (region_store_is_leader(c->st[i].s, d.id)) {
                *region = d.id;
                return i;
            }
        }
        cl_tick(c);
    }
    return 0;
}

static uint64_t mix(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ull;
    return x ^ (x >> 33);
}

void cl_bulk_key(int i, char *k, size_t cap)
{
    snprintf(k, cap, "k%06d", i);
}

size_t cl_bulk_cap(const struct cl_bulk *d)
{
    return d->big > 8192 ? d->big : 8192;
}

size_t cl_bulk_value(const struct cl_bulk *d, int i, uint8_t *v)
{
    uint64_t h = mix((uint64_t)i * 131 + (uint64_t)d->gen);
    size_t len = d->small ? d->small : 512 + (size_t)(h % 7680); /* 0.5
                                                                   to 8 KiB */
    if (d->big_every > 0 && (size_t)i % d->big_every == d->big_every - 1)
        len = d->big;
    for (size_t j = 0; j < len; j++)
        v[j] = (uint8_t)(mix(h + j / 8) >> (8 * (j % 8)));
    return len;
}

int cl_bulk_load(struct cluster *c, int at, uint64_t region,
                 const struct cl_bulk *d, int from, int to)
{
    enum { MAX_OPS = 128 };
    struct region_op ops[MAX_OPS];
    char keys[MAX_OPS][16];
    uint8_t *vals = malloc(MAX_OPS * cl_bulk_cap(d));
    if (vals == NULL)
        die("malloc", -ENOMEM);
    int rc = 0;
    for (int i = from; i < to && rc == 0;) {
        size_t n = 0, bytes = 0;
        while (i < to && n < MAX_OPS && bytes < (512u << 10)) {
            uint8_t *v = vals + n * cl_bulk_cap(d);
            cl_bulk_key(i, keys[n], sizeof keys[n]);
            size_t vl = cl_bulk_value(d, i, v);
            ops[n] = (struct region_op){REGION_OP_PUT, keys[n],
                                        strlen(keys[n]), v, vl};
            bytes += vl;
            n++;
            i++;
        }
        struct region_ctx ctx = {region, 0, 0};
        struct waiter w = {0};
        rc = region_raw_write(c->st[at].s, &ctx, ops, n, on_done, &w, NULL);
        if (rc == 0)
            rc = wait_for(c, &w, NULL);
    }
    free(vals);
    return rc;
}

bool cl_bulk_holds(struct cluster *c, int i, uint64_t region,
                   const struct cl_bulk *d, int from, int to)
{
    uint8_t *want = malloc(cl_bulk_cap(d));
    if (want == NULL)
        die("malloc", -ENOMEM);
    bool ok = c->st[i].s != NULL;
    for (int k = from; ok && k < to; k++) {
        char key[16];
        cl_bulk_key(k, key, sizeof key);
        size_t wl = cl_bulk_value(d, k, want);
        struct region_ctx ctx = {region, 0, 0};
        uint8_t *v = NULL;
        size_t vl = 0;
        ok = region_raw_get(c->st[i].s, &ctx, key, strlen(key), &v, &vl,
                            NULL) == 0 &&
             vl == wl && memcmp(v, want, vl) == 0;
        region_free(v);
    }
    free(want);
    return ok;
}

static void *loop_main(void *arg)
{
    struct cluster *c = arg;
    struct timespec last, now;
    clock_gettime(CLOCK_MONOTONIC, &last);
    while (c->running) {
        pthread_mutex_lock(&c->mu);
        cl_pump(c, 1);
        clock_gettime(CLOCK_MONOTONIC, &now);
        long ms = (now.tv_sec - last.tv_sec) * 1000 +
                  (now.tv_nsec - last.tv_nsec) / 1000000;
        if (ms >= 5) {
            c->ticks++;
            for (int i = 1; i <= c->n; i++)
                if (c->st[i].s)
                    (void)region_store_tick(c->st[i].s);
            last = now;
        }
        pthread_mutex_unlock(&c->mu);
        usleep(200); /* pacing of the loop, not synchronization */
    }
    return NULL;
}

void cl_thread_start(struct cluster *c)
{
    c->running = true;
    if (pthread_create(&c->thread, NULL, loop_main, c) != 0)
        die("pthread_create", -errno);
}

void cl_thread_stop(struct cluster *c)
{
    c->running = false;
    pthread_join(c->thread, NULL);
}

/* ---- cl_engine: a pass-through engine with the test's writes */
static struct mvcc_engine *inner_of(struct mvcc_engine *e)
{
    return ((struct cl_engine *)e)->inner;
}

static int ce_get(struct mvcc_engine *e, const struct mvcc_snapshot *snap,
                  int cf, const void *key, size_t key_len, uint8_t **value,
                  size_t *value_len)
{
    return mvcc_engine_get(inner_of(e), snap, cf, key, key_len, value,
                           value_len);
}

static int ce_write(struct mvcc_engine *e, const struct mvcc_wbatch *b,
                    bool sync)
{
    struct cl_engine *w = (struct cl_engine *)e;
    if (w->write == NULL)
        return mvcc_engine_write(w->inner, b, sync);
    return w->write(w->ctx, w->inner, b, sync);
}

static int ce_snapshot(struct mvcc_engine *e, struct mvcc_snapshot **out)
{
    return mvcc_engine_snapshot(inner_of(e), out);
}

static void ce_release(struct mvcc_engine *e, struct mvcc_snapshot *s)
{
    mvcc_engine_snapshot_release(inner_of(e), s);
}

static int ce_iter(struct mvcc_engine *e, const struct mvcc_snapshot *snap,
                   int cf, const struct mvcc_iter_opts *opts,
                   struct mvcc_iter **out)
{
    struct cl_engine *w = (struct cl_engine *)e;
    if (w->iter)
        return w->iter(w->ctx, w->inner, snap, cf, opts, out);
    return mvcc_engine_iter(w->inner, snap, cf, opts, out);
}

static void ce_destroy(struct mvcc_engine *e)
{
    (void)e; /* the test's */
}

static const struct mvcc_engine_ops ce_ops = {
    .get = ce_get,
    .write = ce_write,
    .snapshot = ce_snapshot,
    .snapshot_release = ce_release,
    .iter = ce_iter,
    .destroy = ce_destroy,
};

struct mvcc_engine *cl_engine_over(struct cl_engine *w,
                                   struct mvcc_engine *inner,
                                   cl_write_fn write, void *ctx)
{
    memset(w, 0, sizeof *w);
    w->base.ops = &ce_ops;
    w->inner = inner;
    w->write = write;
    w->ctx = ctx;
    return &w->base;
}

static int gate_iter(void *ctx,
                     struct mvcc_engine *inner,
                     const struct mvcc_snapshot *snap,
                     int cf,
                     const struct mvcc_iter_opts *opts,
                     struct mvcc_iter **out)
{
    struct cl_gate *g = ctx;
    if (!pthread_equal(pthread_self(), g->main)) {
        pthread_mutex_lock(&g->mu);
        g->held++;
        pthread_cond_broadcast(&g->cv);
        while (!g->open)
            pthread_cond_wait(&g->cv, &g->mu);
        bool fail = g->fail;
        pthread_mutex_unlock(&g->mu);
        if (fail)
            return -EIO;
    }
    return mvcc_engine_iter(inner, snap, cf, opts, out);
}

static struct mvcc_engine *wrap_gate(void *ctx,
                                     int store,
                                     struct mvcc_engine *eng)
{
    struct cl_gate *g = ctx;
    if (g->store != 0 && store != g->store)
        return eng;
    struct mvcc_engine *e = cl_engine_over(&g->e[store], eng, NULL, g);
    g->e[store].iter = gate_iter;
    return e;
}

void cl_gate_init(struct cl_gate *g,
                  struct cluster *c,
                  int store,
                  bool open,
                  bool fail)
{
    memset(g, 0, sizeof *g);
    pthread_mutex_init(&g->mu, NULL);
    pthread_cond_init(&g->cv, NULL);
    g->main = pthread_self();
    g->store = store;
    g->open = open;
    g->fail = fail;
    c->wrap = wrap_gate;
    c->wrap_ctx = g;
}

void cl_gate_set(struct cl_gate *g, bool open, bool fail)
{
    pthread_mutex_lock(&g->mu);
    g->open = open;
    g->fail = fail;
    pthread_cond_broadcast(&g->cv);
    pthread_mutex_unlock(&g->mu);
}

int cl_gate_held(struct cl_gate *g)
{
    pthread_mutex_lock(&g->mu);
    int n = g->held;
    pthread_mutex_unlock(&g->mu);
    return n;
}

void cl_gate_destroy(struct cl_gate *g)
{
    cl_gate_set(g, true, false);
    pthread_mutex_destroy(&g->mu);
    pthread_cond_destroy(&g->cv);
}
