/* engine.c: the SQL engine behind sqld's protocol engine. The server
 * object holds what every connection shares (the store, the catalog cache,
 * global variables); a session answers one connection's commands: it
 * parses each statement, runs it (ddl.c, show.c, dml.c, the planner and
 * executor for queries) inside the session's transaction and answers.
 * DESIGN.md, "Engine"; docs/sql.md follows a statement end to end.
 */
#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "acct.h"
#include "lex.h"
#include "parse.h"
#include "plancache.h"
#include "session.h"
#include "exec.h"
#include "sql_int.h"
#include "stats.h"
#include "stmtcache.h"
#include "tablecodec.h"

int64_t sql__now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* ---- server ------------------------------------------------------------ */

int sql_server_open(const struct sql_server_options *o,
                    struct sql_server **out, char *errmsg, size_t errmsg_len)
{
    struct sql_server *srv = sql__calloc(1, sizeof(*srv));
    if (!srv)
        return -ENOMEM;
    snprintf(srv->version, sizeof(srv->version), "%s",
             o->version ? o->version : "8.0.11-dsql");
    srv->started_us = sql__now_us();
    srv->concurrent = o->concurrent;
    /* Writers first: DDL waiting for the statement lock is not starved
     * by a stream of statements that keep it shared. That is safe only
     * because nothing holding it shared waits for another session (row
     * lock waits let it go, lock_wait_begin). */
    int rc = -ENOMEM;
    pthread_rwlockattr_t la;
    if (pthread_rwlockattr_init(&la) != 0) {
        sql__free(srv);
        return -ENOMEM;
    }
    pthread_rwlockattr_setkind_np(&la,
                                  PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    int lrc = pthread_rwlock_init(&srv->lk, &la);
    pthread_rwlockattr_destroy(&la);
    if (lrc != 0) {
        sql__free(srv);
        return -ENOMEM;
    }
    if (pthread_mutex_init(&srv->sess_mu, NULL) != 0)
        goto err_lk;
    if (pthread_cond_init(&srv->no_waiters, NULL) != 0)
        goto err_sess_mu;
    if (pthread_mutex_init(&srv->acct_mu, NULL) != 0)
        goto err_cond;
    srv->on_kill = o->on_kill;
    srv->kill_ctx = o->kill_ctx;
    srv->kv_strerror = o->kv_strerror;
    srv->kv_errno = o->kv_errno;
    if (o->cluster_info)
        srv->cluster_info = *o->cluster_info;
    srv->cluster_store = o->cluster != NULL;
    struct sql_kv_local_opts ko = {.path = o->data_dir, .sync = o->sync};
    rc = o->cluster ? sql__kv_cluster_open(o->cluster, o->gc_cluster,
                                           &srv->kv, errmsg, errmsg_len)
                    : sql__kv_local_open(&ko, &srv->kv, errmsg, errmsg_len);
    if (rc != 0)
        goto err_free;
    rc = sql__catalog_load(srv->kv, &srv->cat, errmsg, errmsg_len);
    if (rc != 0)
        goto err_kv;
    rc = sql__acct_load(srv, o->root_password, errmsg, errmsg_len);
    if (rc != 0)
        goto err_cat;
    rc = sql__sysvar_init(&srv->globals, srv->version);
    if (rc != 0)
        goto err_acct;
    rc = sql__tls_server_init(srv, o);
    if (rc == 0)
        rc = sql__memtrack_server_init(srv, o);
    if (rc == 0)
        rc = sql__sysvar_txn_mode_init(srv->globals, o->txn_mode, errmsg,
                                       errmsg_len);
    if (rc != 0)
        goto err_vars;
    rc = sql__sync_open(srv, o, errmsg, errmsg_len);
    if (rc != 0)
        goto err_vars;
    *out = srv;
    return 0;
err_vars:
    sql__sysvar_free(srv->globals);
err_acct:
    sql__acct_free_all(srv->accts);
err_cat:
    sql__catalog_free(srv->cat);
err_kv:
    sql__kv_close(srv->kv);
err_free:
    pthread_mutex_destroy(&srv->acct_mu);
err_cond:
    pthread_cond_destroy(&srv->no_waiters);
err_sess_mu:
    pthread_mutex_destroy(&srv->sess_mu);
err_lk:
    pthread_rwlock_destroy(&srv->lk);
    sql__free(srv);
    return rc ? rc : -ENOMEM;
}

/* Concurrent servers (DESIGN.md "Concurrency"): a command runs with the
 * statement lock shared; a statement that changes what statements read
 * without a lock of their own (the catalog cache, global variables, the
 * account cache) takes it alone (excl_begin). */
static void srv_lock(struct sql_server *srv)
{
    if (srv->concurrent)
        pthread_rwlock_rdlock(&srv->lk);
}

static void srv_unlock(struct sql_server *srv)
{
    if (srv->concurrent)
        pthread_rwlock_unlock(&srv->lk);
}

void sql__sess_list_lock(struct sql_server *srv)
{
    if (srv->concurrent)
        pthread_mutex_lock(&srv->sess_mu);
}

void sql__sess_list_unlock(struct sql_server *srv)
{
    if (srv->concurrent)
        pthread_mutex_unlock(&srv->sess_mu);
}

/* From shared to alone, for one statement. for_ddl: also wait until no
 * session is in a row-lock wait (waiters let the lock go but keep
 * pointers into the catalog cache); the lock is let go meanwhile so the
 * lock holders they wait for can run and commit. The statement holds no
 * catalog pointer yet: it only starts. */
static void excl_begin(struct sql_session *s, bool for_ddl)
{
    struct sql_server *srv = s->srv;
    if (!srv->concurrent)
        return;
    s->excl = true;
    pthread_rwlock_unlock(&srv->lk);
    for (;;) {
        pthread_rwlock_wrlock(&srv->lk);
        if (!for_ddl)
            return;
        pthread_mutex_lock(&srv->sess_mu);
        bool none = srv->lock_waiters == 0;
        if (!none) {
            pthread_rwlock_unlock(&srv->lk);
            while (srv->lock_waiters > 0)
                pthread_cond_wait(&srv->no_waiters, &srv->sess_mu);
        }
        pthread_mutex_unlock(&srv->sess_mu);
        if (none)
            return;
    }
}

static void excl_end(struct sql_session *s)
{
    struct sql_server *srv = s->srv;
    /* What plans point into or were made from (the catalog cache, the
     * globals, accounts) may have changed: cached plans are stale. */
    __atomic_fetch_add(&srv->plan_epoch, 1, __ATOMIC_RELEASE);
    if (!srv->concurrent)
        return;
    s->excl = false;
    pthread_rwlock_unlock(&srv->lk);
    pthread_rwlock_rdlock(&srv->lk);
}

void sql__sess_excl_begin(struct sql_session *s)
{
    excl_begin(s, true);
}

void sql__sess_excl_end(struct sql_session *s)
{
    excl_end(s);
}

void sql__sess_unlock_wait(struct sql_session *s)
{
    srv_unlock(s->srv);
}

void sql__sess_relock_wait(struct sql_session *s)
{
    srv_lock(s->srv);
}

int sql_server_gc(struct sql_server *srv, uint64_t life_ms,
                  struct sql_gc_stats *out)
{
    int rc = sql__kv_gc(srv->kv, life_ms, out);
    return rc == MVCC_LOCKED ? SQL_GC_LIVE_LOCK : rc;
}

void sql_server_close(struct sql_server *srv)
{
    if (!srv)
        return;
    sql__sync_close(srv);
    sql__sysvar_free(srv->globals);
    sql__acct_free_all(srv->accts);
    pthread_mutex_destroy(&srv->acct_mu);
    sql__catalog_free(srv->cat);
    sql__kv_close(srv->kv);
    pthread_cond_destroy(&srv->no_waiters);
    pthread_mutex_destroy(&srv->sess_mu);
    pthread_rwlock_destroy(&srv->lk);
    sql__free(srv);
}

/* ---- session ------------------------------------------------------------ */

static void prepared_free(struct sql_prepared *p)
{
    sql__plancache_free(p->pc);
    sql__arena_destroy(p->arena);
    sql__free(p->text);
    sql__free(p->name);
    sql__free(p);
}

void sql__prepared_free(struct sql_prepared *p)
{
    prepared_free(p);
}

static void stage_clear(struct sql_stage *st)
{
    for (size_t i = 0; i < st->n; i++) {
        sql__free(st->w[i].key);
        sql__free(st->w[i].val);
    }
    st->n = 0;
    if (st->slots)
        memset(st->slots, 0, st->nslots * sizeof(*st->slots));
}

static void uservars_free(struct sql_session *s)
{
    while (s->uservars) {
        struct sql_uservar *u = s->uservars;
        s->uservars = u->next;
        sql__free(u->name);
        sql__free(u->buf);
        sql__free(u);
    }
}

int sql_session_create(struct sql_server *srv, uint32_t conn_id,
                       struct sql_session **out)
{
    struct sql_session *s = sql__calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    s->srv = srv;
    s->conn_id = conn_id;
    s->row_count = -1;
    s->conn_start_us = sql__now_us();
    s->arena = sql__arena_create(0);
    if (!s->arena) {
        sql__free(s);
        return -ENOMEM;
    }
    s->arena->track = &s->qmem; /* memtrack.c */
    /* SET GLOBAL changes the globals under sess_mu too, so a login
     * (often on the embedding program's loop thread) never waits for
     * the statement lock. */
    sql__sess_list_lock(srv);
    if (sql__sysvar_copy(&s->vars, srv->globals) != 0) {
        sql__sess_list_unlock(srv);
        sql__arena_destroy(s->arena);
        sql__free(s);
        return -ENOMEM;
    }
    s->next = srv->sessions;
    srv->sessions = s;
    sql__sess_list_unlock(srv);
    *out = s;
    return 0;
}

void sql_session_destroy(struct sql_session *s)
{
    if (!s)
        return;
    struct sql_server *srv = s->srv;
    sql__sess_list_lock(srv);
    for (struct sql_session **p = &srv->sessions; *p; p = &(*p)->next)
        if (*p == s) {
            *p = s->next;
            break;
        }
    sql__sess_list_unlock(srv);
    sql__kvtxn_rollback(s->txn);
    sql__savepoints_clear(s);
    stage_clear(&s->stage);
    sql__buf_free(&s->lazy);
    sql__free(s->stage.w);
    sql__free(s->stage.slots);
    while (s->prepared) {
        struct sql_prepared *p = s->prepared;
        s->prepared = p->next;
        prepared_free(p);
    }
    uservars_free(s);
    sql__sysvar_free(s->vars);
    sql__free(s->db);
    sql__stmtcache_destroy(s->stc);
    sql__arena_destroy(s->arena);
    sql__free(s);
}

/* ---- errors and warnings --------------------------------------------- */

int sql__serr(struct sql_session *s, uint16_t code, const char *state,
              const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    s->err.code = code;
    snprintf(s->err.state, sizeof(s->err.state), "%s", state);
    vsnprintf(s->err.msg, sizeof(s->err.msg), fmt, ap);
    va_end(ap);
    return SQL_EQUERY;
}

void sql__err_clause(struct sql_err *e, const char *clause)
{
    static const char fl[] = " in 'field list'";
    static const char amb[] = " in field list is ambiguous";
    if (e->code == 1052) {
        char *p = strstr(e->msg, amb);
        if (p)
            snprintf(p, sizeof(e->msg) - (size_t)(p - e->msg),
                     " in %s is ambiguous", clause);
        return;
    }
    if (e->code != 1054)
        return;
    size_t n = strlen(e->msg), k = sizeof(fl) - 1;
    if (n >= k && strcmp(e->msg + n - k, fl) == 0)
        snprintf(e->msg + n - k, sizeof(e->msg) - (n - k), " in '%s'",
                 clause);
}

void sql__swarn(struct sql_session *s, const char *level, uint16_t code,
                const char *fmt, ...)
{
    s->nwarns_total++;
    if (s->nwarns >= SQL_MAX_WARNINGS)
        return;
    struct sql_warning *w = &s->warns[s->nwarns++];
    snprintf(w->level, sizeof(w->level), "%s", level);
    w->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w->msg, sizeof(w->msg), fmt, ap);
    va_end(ap);
}

int sql__kverr(struct sql_session *s, int rc)
{
    /* sql_session_point_read's refused read: run_statement answers
     * nothing, so there is no message to make */
    if (rc == -EWOULDBLOCK && sql__kv_prefetch_refused())
        return SQL_EQUERY;
    switch (rc) {
    case -ENOMEM:
        return -ENOMEM;
    case SQL_EQUERY:
        return rc;
    case MVCC_CONFLICT:
    case MVCC_DEADLOCK:
        return sql__serr(s, 1213, "40001",
                         "Deadlock found when trying to get lock; try "
                         "restarting transaction");
    case MVCC_LOCKED:
    case MVCC_LOCK_WAIT_TIMEOUT:
        return sql__serr(s, 1205, "HY000",
                         "Lock wait timeout exceeded; try restarting "
                         "transaction");
    case MVCC_INTERRUPTED: /* KILL ended a lock wait */
        return sql__sess_interrupt_err(s);
    case MVCC_COMMIT_DEADLINE: /* sql__sync_commit_check's deadline */
        return sql__sync_changed(s);
    default:
        break;
    }
    /* errno values, libmvcc's and libsql's codes have their messages
     * here; anything else came from below the store (PD, regions, RPC)
     * and would read "unknown libmvcc result code": the server's hook
     * names it, and the number is shown either way */
    const char *m = NULL;
    if (rc <= -5000 && rc > -6000)
        m = sql_strerror(rc);
    else if ((rc < 0 && rc > -1000) || (rc <= -2000 && rc > -3000))
        m = mvcc_strerror(rc);
    else if (s->srv->kv_strerror)
        m = s->srv->kv_strerror(rc);
    if (m == NULL)
        m = "unknown result code";
    int code = s->srv->kv_errno ? s->srv->kv_errno(rc) : 0;
    if (code > 0 && code <= UINT16_MAX) /* a MySQL error number */
        return sql__serr(s, (uint16_t)code, "HY000", "%s (%d)", m, rc);
    return sql__serr(s, 1105, "HY000", "storage error: %s (%d)", m, rc);
}

/* ---- variables ----------------------------------------------------------- */

const struct sysvar_val *sql__sess_var(const struct sql_session *s, int i)
{
    const struct sysvar_def *d = sql__sysvar_def((size_t)i);
    if (!(d->scope & SYSVAR_SESSION))
        return &s->srv->globals[i];
    return &s->vars[i];
}

static int var_index(const char *name)
{
    int i = sql__sysvar_find(name);
    assert(i >= 0);
    return i;
}

/* var_index once per call site; sessions of a concurrent server ask at
 * once, and every one finds the same index. */
static int var_index_cached(int *slot, const char *name)
{
    int i = __atomic_load_n(slot, __ATOMIC_RELAXED);
    if (i < 0) {
        i = var_index(name);
        __atomic_store_n(slot, i, __ATOMIC_RELAXED);
    }
    return i;
}

bool sql__sess_autocommit(const struct sql_session *s)
{
    static int slot = -1;
    int i = var_index_cached(&slot, "autocommit");
    return s->vars[i].u != 0;
}

uint32_t sql__sess_sql_mode(const struct sql_session *s)
{
    static int slot = -1;
    int i = var_index_cached(&slot, "sql_mode");
    return (uint32_t)s->vars[i].u;
}

uint16_t sql__sess_status(const struct sql_session *s)
{
    uint16_t st = 0;
    if (sql__sess_autocommit(s))
        st |= SQL_SERVER_STATUS_AUTOCOMMIT;
    if (s->txn && (s->explicit_txn || !sql__sess_autocommit(s)))
        st |= SQL_SERVER_STATUS_IN_TRANS;
    if (s->more)
        st |= SQL_SERVER_MORE_RESULTS_EXISTS;
    return st;
}

/* ---- transactions and staged writes ---------------------------------- */

int sql__sess_txn(struct sql_session *s, struct sql_kvtxn **out)
{
    if (!s->txn) {
        if (s->srv->begin_hook)
            s->srv->begin_hook(s->srv->begin_hook_ctx, s);
        int rc = s->point_latest ? sql__kv_begin_latest(s->srv->kv, &s->txn)
                                 : sql__kv_begin(s->srv->kv, &s->txn);
        if (rc != 0)
            return sql__kverr(s, rc);
        sql__kvtxn_set_interrupt(s->txn, &s->killed); /* KILL ends waits */
        sql__sync_txn_begin(s);
        s->lazy.len = 0;
        s->lazy_n = 0;
    }
    *out = s->txn;
    return 0;
}

static uint64_t hash_bytes(const uint8_t *p, size_t n)
{
    uint64_t h = 14695981039346656037u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 1099511628211u;
    return h;
}

static struct sql_staged *stage_find(struct sql_stage *st, const void *key,
                                     size_t klen, size_t *slot)
{
    if (!st->nslots)
        return NULL;
    size_t m = st->nslots - 1;
    for (size_t i = hash_bytes(key, klen) & m;; i = (i + 1) & m) {
        if (st->slots[i] == 0) {
            if (slot)
                *slot = i;
            return NULL;
        }
        struct sql_staged *w = &st->w[st->slots[i] - 1];
        if (w->klen == klen && memcmp(w->key, key, klen) == 0)
            return w;
    }
}

static int stage_rehash(struct sql_stage *st, size_t nslots)
{
    uint32_t *slots = sql__calloc(nslots, sizeof(*slots));
    if (!slots)
        return -ENOMEM;
    sql__free(st->slots);
    st->slots = slots;
    st->nslots = nslots;
    for (size_t k = 0; k < st->n; k++) {
        size_t m = nslots - 1;
        size_t i = hash_bytes(st->w[k].key, st->w[k].klen) & m;
        while (slots[i])
            i = (i + 1) & m;
        slots[i] = (uint32_t)(k + 1);
    }
    return 0;
}

static int stage_put(struct sql_session *s, const void *key, size_t klen,
                     const void *val, size_t vlen, bool del)
{
    struct sql_stage *st = &s->stage;
    uint8_t *v = NULL;
    if (!del) {
        v = sql__malloc(vlen ? vlen : 1);
        if (!v)
            return -ENOMEM;
        memcpy(v, val, vlen);
    }
    struct sql_staged *w = stage_find(st, key, klen, NULL);
    if (w) {
        sql__free(w->val);
        w->val = v;
        w->vlen = vlen;
        return 0;
    }
    if ((st->n + 1) * 2 > st->nslots &&
        stage_rehash(st, st->nslots ? st->nslots * 2 : 64) != 0)
        goto nomem;
    if (st->n == st->cap) {
        size_t cap = st->cap ? st->cap * 2 : 32;
        void *p = sql__realloc(st->w, cap * sizeof(*st->w));
        if (!p)
            goto nomem;
        st->w = p;
        st->cap = cap;
    }
    uint8_t *k = sql__malloc(klen ? klen : 1);
    if (!k)
        goto nomem;
    memcpy(k, key, klen);
    size_t slot;
    stage_find(st, key, klen, &slot);
    st->w[st->n] = (struct sql_staged){k, klen, v, vlen};
    st->slots[slot] = (uint32_t)(++st->n);
    return 0;
nomem:
    sql__free(v);
    return -ENOMEM;
}

/* key as the session's staged writes have it: 0 with *val (not owned),
 * or MVCC_NOTFOUND for a staged delete; 1 when nothing is staged, with *t
 * the session's transaction (begun if need be) and *owned set for what
 * the caller then reads from it; or an error. */
static int staged_get(struct sql_session *s, const void *key, size_t klen,
                      uint8_t **val, size_t *vlen, bool *owned,
                      struct sql_kvtxn **t)
{
    struct sql_staged *w = stage_find(&s->stage, key, klen, NULL);
    if (w) {
        if (!w->val)
            return MVCC_NOTFOUND;
        *val = w->val;
        *vlen = w->vlen;
        *owned = false;
        return 0;
    }
    int rc = sql__sess_txn(s, t);
    if (rc != 0)
        return rc;
    *owned = true;
    return 1;
}

int sql__sess_get(struct sql_session *s, const void *key, size_t klen,
                  uint8_t **val, size_t *vlen, bool *owned)
{
    struct sql_kvtxn *t = NULL;
    int rc = staged_get(s, key, klen, val, vlen, owned, &t);
    if (rc != 1)
        return rc;
    return sql__kvtxn_get(t, key, klen, val, vlen);
}

/* A row lock is held by another transaction: wait for it without the
 * server lock, so its holder can commit. Only the session's own state
 * (its statement, plan and transaction) is used meanwhile; the catalog
 * entries it points to stay, as DDL waits until no session waits. */
static int64_t lock_wait_begin(struct sql_session *s)
{
    static int slot = -1;
    int i = var_index_cached(&slot, "innodb_lock_wait_timeout");
    uint64_t secs = s->vars[i].u;
    sql__sess_list_lock(s->srv);
    s->srv->lock_waiters++;
    s->lock_waiting = true;
    sql__sess_list_unlock(s->srv);
    srv_unlock(s->srv);
    return secs > INT64_MAX / 1000 ? INT64_MAX : (int64_t)secs * 1000;
}

static void lock_wait_end(struct sql_session *s)
{
    srv_lock(s->srv);
    sql__sess_list_lock(s->srv);
    s->lock_waiting = false;
    if (--s->srv->lock_waiters == 0 && s->srv->concurrent)
        pthread_cond_broadcast(&s->srv->no_waiters);
    sql__sess_list_unlock(s->srv);
}

/* A lock request that waits: keys (lock) or key (current read). */
struct lock_try
{
    struct sql_kvtxn *t;         /* the transaction */
    const struct mvcc_key *keys; /* keys to lock, or NULL */
    size_t n;                    /* their count */
    const void *key;             /* or the key to read for update */
    size_t klen;                 /* its length */
    uint8_t **val;               /* its value */
    size_t *vlen;                /* and length */
};

/* KILL sets s->killed, which the transaction's lock requests carry, and
 * wakes the store's waiters (kill.c): on the store in this process the
 * wait ends at once with MVCC_INTERRUPTED. A cluster's wait runs in kvd
 * and does not see the flag: it waits in slices of KILL_POLL_MS, so a
 * KILL QUERY stops it (1317) within one slice; the whole wait still ends
 * at the timeout. */
#define KILL_POLL_MS 500

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The wait ends by the clock, not by adding up slices: a slice can last
 * longer than asked (the cluster's 2PC client repeats a timed-out lock
 * request until its resolve budget, 5 s, runs out), and counting each as
 * KILL_POLL_MS made innodb_lock_wait_timeout = 5 wait 54 s on the
 * cluster (101 requests of 500 ms in kvd). Now a wait ends within one
 * slice of its timeout. */
static int lock_wait(struct sql_session *s, const struct lock_try *lt)
{
    int64_t wait_ms = lock_wait_begin(s);
    int64_t poll = sql__kv_wakeable(s->srv->kv) ? INT64_MAX : KILL_POLL_MS;
    int64_t start = mono_ms();
    int rc;
    for (;;) {
        /* The lock the last try met: its edge goes in (or closes a
         * cycle) before this try waits for it. */
        if ((rc = sql__kvtxn_wait_begin(lt->t)) != 0)
            break;
        int64_t slice = wait_ms < poll ? wait_ms : poll;
        rc = lt->keys ? sql__kvtxn_lock(lt->t, lt->keys, lt->n, slice)
                      : sql__kvtxn_get_for_update(lt->t, lt->key, lt->klen,
                                                  slice, lt->val, lt->vlen);
        int64_t now = mono_ms(), spent = now - start;
        start = now;
        wait_ms -= spent > slice ? spent : slice;
        if (rc != MVCC_LOCK_WAIT_TIMEOUT || wait_ms <= 0 ||
            sql__sess_interrupted(s))
            break;
    }
    sql__kvtxn_wait_end(lt->t);
    lock_wait_end(s);
    if (rc == MVCC_LOCK_WAIT_TIMEOUT && sql__sess_interrupted(s))
        return sql__sess_interrupt_err(s);
    return rc; /* MVCC_INTERRUPTED: 1317 (sql__kverr) */
}

int sql__sess_get_current(struct sql_session *s, const void *key,
                          size_t klen, uint8_t **val, size_t *vlen,
                          bool *owned)
{
    struct sql_kvtxn *t = NULL;
    int rc = staged_get(s, key, klen, val, vlen, owned, &t);
    if (rc != 1)
        return rc;
    rc = sql__kvtxn_get_for_update(t, key, klen, 0, val, vlen);
    if (rc != MVCC_LOCKED || !s->srv->concurrent || s->excl)
        return rc; /* alone: a wait would let the lock go (and hold up
                      every session): the lock is reported at once */
    struct lock_try lt = {t, NULL, 0, key, klen, val, vlen};
    return lock_wait(s, &lt);
}

int sql__sess_lock(struct sql_session *s, struct sql_kvtxn *t,
                   const struct mvcc_key *keys, size_t n)
{
    int rc = sql__kvtxn_lock(t, keys, n, 0);
    if (rc != MVCC_LOCKED || !s->srv->concurrent || s->excl)
        return rc; /* as in sql__sess_get_current */
    struct lock_try lt = {t, keys, n, NULL, 0, NULL, NULL};
    return lock_wait(s, &lt);
}

bool sql__sess_pessimistic(const struct sql_session *s)
{
    static int slot = -1;
    int i = var_index_cached(&slot, "txn_mode");
    return s->vars[i].u == 1;
}

int sql__sess_set(struct sql_session *s, const void *key, size_t klen,
                  const void *val, size_t vlen)
{
    return stage_put(s, key, klen, val, vlen, false);
}

int sql__sess_del(struct sql_session *s, const void *key, size_t klen)
{
    return stage_put(s, key, klen, NULL, 0, true);
}

/* Pessimistic mode: an index entry a statement writes is not locked by
 * it (only rows and the unique keys it reads are), and a store before
 * libmvcc 0.9.0 checks a key written without its lock against the
 * transaction's start_ts, so a change of the row by another transaction
 * between that start and the row's lock (which the statement's current
 * read saw) would fail the COMMIT with 1213 (0.9.0 checks such a key
 * against for_update_ts, as TiKV does). The entries are locked at COMMIT
 * instead, in one request (DESIGN.md "Pessimistic commits" says why that
 * is safe and when it can go). */
static int note_lazy(struct sql_session *s, const uint8_t *key, size_t klen)
{
    uint32_t n = (uint32_t)klen;
    size_t was = s->lazy.len;
    int rc = sql__buf_put(&s->lazy, &n, sizeof(n));
    if (rc == 0)
        rc = sql__buf_put(&s->lazy, key, klen);
    if (rc != 0) {
        s->lazy.len = was; /* no length without its key */
        return rc;
    }
    s->lazy_n++;
    return 0;
}

static int key_cmp(const void *a, const void *b)
{
    const struct mvcc_key *x = a, *y = b;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->data, y->data, n);
    return c ? c : (x->len > y->len) - (x->len < y->len);
}

/* Whether COMMIT must lock the index keys a pessimistic transaction
 * wrote (DESIGN.md "When it is skipped"): not on the local store (this
 * process's libmvcc does the prewrite check), nor on a cluster whose
 * version (every store's libmvcc, as pdd keeps it) has it. The cluster
 * version only rises, so once it is high enough the answer stays no. */
static bool index_lock_needed(struct sql_server *srv)
{
    if (!srv->cluster_store ||
        __atomic_load_n(&srv->prewrite_checked, __ATOMIC_ACQUIRE))
        return false;
    const struct sql_cluster_info *ci = &srv->cluster_info;
    if (ci->cluster_version == NULL ||
        ci->cluster_version(ci->ctx) < MVCC_VERSION_PREWRITE_CHECK)
        return true;
    __atomic_store_n(&srv->prewrite_checked, true, __ATOMIC_RELEASE);
    return false;
}

void sql_server_counters(struct sql_server *srv,
                         struct sql_server_counters *out)
{
    out->index_lock_commits =
        __atomic_load_n(&srv->index_lock_commits, __ATOMIC_RELAXED);
    out->index_keys_locked =
        __atomic_load_n(&srv->index_keys_locked, __ATOMIC_RELAXED);
}

static int lock_index_keys(struct sql_session *s, struct sql_kvtxn *t)
{
    size_t n = s->lazy_n;
    if (n == 0)
        return 0;
    struct mvcc_key *keys = sql__calloc(n, sizeof(*keys));
    if (!keys)
        return -ENOMEM;
    size_t i = 0;
    for (size_t off = 0; off < s->lazy.len; i++) {
        uint32_t kl;
        memcpy(&kl, s->lazy.p + off, sizeof(kl));
        keys[i].data = s->lazy.p + off + sizeof(kl);
        keys[i].len = kl;
        off += sizeof(kl) + kl;
    }
    qsort(keys, n, sizeof(*keys), key_cmp); /* a key written twice: once */
    size_t m = 0;
    for (i = 0; i < n; i++)
        if (m == 0 || key_cmp(&keys[m - 1], &keys[i]) != 0)
            keys[m++] = keys[i];
    int rc = sql__sess_lock(s, t, keys, m);
    sql__free(keys);
    s->lazy.len = 0;
    s->lazy_n = 0;
    __atomic_add_fetch(&s->srv->index_lock_commits, 1, __ATOMIC_RELAXED);
    __atomic_add_fetch(&s->srv->index_keys_locked, m, __ATOMIC_RELAXED);
    return rc == 0 ? 0 : sql__kverr(s, rc);
}

/* The statement succeeded: its writes join the transaction. */
static int stage_apply(struct sql_session *s)
{
    struct sql_stage *st = &s->stage;
    if (st->n == 0)
        return 0;
    struct sql_kvtxn *t = NULL;
    int rc = sql__sess_txn(s, &t);
    for (size_t i = 0; rc == 0 && i < st->n; i++) {
        struct sql_staged *w = &st->w[i];
        sql__sync_note_key(s, w->key, w->klen);
        rc = w->val ? sql__kvtxn_set(t, w->key, w->klen, w->val, w->vlen)
                    : sql__kvtxn_delete(t, w->key, w->klen);
        if (rc == 0 && w->klen > SQL_TC_PREFIX_LEN && w->key[0] == 't' &&
            w->key[SQL_TC_PREFIX_LEN - 1] == 'i' && sql__sess_pessimistic(s) &&
            index_lock_needed(s->srv))
            rc = note_lazy(s, w->key, w->klen);
    }
    stage_clear(st);
    return rc;
}

/* Commit the open transaction (COMMIT, autocommit, implicit commit). */
static int txn_commit(struct sql_session *s)
{
    struct sql_kvtxn *t = s->txn;
    s->txn = NULL;
    s->explicit_txn = false;
    sql__savepoints_clear(s);
    if (!t)
        return 0;
    /* The commit touches only t and the store (thread-safe); other
     * sessions' statements share the statement lock, so commits that
     * sync together share the WAL's fsync (RocksDB groups concurrent
     * synced writes). */
    if (sql__kvtxn_dirty(t)) {
        int crc = lock_index_keys(s, t);
        if (crc == 0)
            crc = sql__sync_commit_check(s, t); /* 8028: schema changed */
        if (crc != 0) {
            sql__kvtxn_rollback(t);
            return crc;
        }
        if (s->srv->commit_hook)
            s->srv->commit_hook(s->srv->commit_hook_ctx, s);
    }
    int rc = sql__kvtxn_commit(t);
    return rc == 0 ? 0 : sql__kverr(s, rc);
}

static void txn_rollback(struct sql_session *s)
{
    sql__kvtxn_rollback(s->txn);
    s->txn = NULL;
    s->explicit_txn = false;
    sql__savepoints_clear(s);
}

/* ---- answers ------------------------------------------------------------
 * A statement's final packet waits until its transaction work is done
 * (autocommit commits first), so an OK never precedes a failed commit. */

enum pend
{
    PEND_NONE,
    PEND_OK,
    PEND_END,
};

int sql__sess_ok(struct sql_session *s, uint64_t affected, uint64_t last_id)
{
    s->pend = PEND_OK;
    s->pend_affected = affected;
    s->pend_last_id = last_id;
    return 0;
}

static uint8_t col_len_type(uint8_t type, uint32_t *len)
{
    *len = type == SQL_TYPE_LONGLONG ? 21 : 1024;
    return type;
}

/* SHOW ... WHERE names the result's columns (any case). */
static int rs_column(void *ctx, const struct ast_expr *col,
                     struct sql_colref *out, struct sql_err *err)
{
    struct sql_session *s = ctx;
    (void)err;
    if (col->table || col->db)
        return SQL_ENOTFOUND;
    for (size_t i = 0; i < s->rs_ncols; i++)
        if (strcasecmp(s->rs_cols[i].name, col->name) == 0) {
            memset(&out->type, 0, sizeof(out->type));
            out->index = (uint32_t)i;
            if (s->rs_cols[i].type == SQL_TYPE_LONGLONG) {
                out->type.tp = SQL_TYPE_LONGLONG;
                out->type.len = 21;
                out->type.coll = SQL_COLL_BINARY;
            } else {
                out->type.tp = SQL_TYPE_VAR_STRING;
                out->type.len = 1024;
                out->type.coll = SQL_COLL_UTF8MB4_GENERAL_CI;
            }
            return 0;
        }
    return SQL_ENOTFOUND;
}

int sql__rs_begin(struct sql_session *s, const struct sql_rscol *cols,
                  size_t n)
{
    s->rs_cols = cols;
    s->rs_ncols = n;
    s->rs_cond = NULL;
    if (s->rs_where) {
        struct sql_expr_scope sc = {.ctx = s, .column = rs_column};
        struct sql_ftype t;
        struct sql_err err = {0};
        int rc = sql__expr_compile(s->arena, s->rs_where, &sc, &s->rs_cond,
                                   &t, &err);
        if (rc != 0) {
            if (rc == SQL_EQUERY) {
                sql__err_clause(&err, "where clause");
                s->err = err;
            }
            return rc;
        }
    }
    int rc = sql_reply_columns(s->conn, n);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        struct sql_column c = {0};
        c.name = c.org_name = cols[i].name;
        c.type = col_len_type(cols[i].type, &c.length);
        c.charset = cols[i].type == SQL_TYPE_LONGLONG
                        ? SQL_CHARSET_BINARY
                        : SQL_CHARSET_UTF8MB4_GENERAL_CI;
        c.flags = cols[i].type == SQL_TYPE_LONGLONG ? SQL_COLFLAG_NUM : 0;
        c.decimals = cols[i].type == SQL_TYPE_LONGLONG ? 0 : 31;
        rc = sql_reply_column(s->conn, &c);
    }
    return rc == -ENOMEM ? rc : rc != 0 ? SQL_EINTERNAL : 0;
}

/* Whether a SHOW row passes its WHERE (evaluated over its values). */
static int rs_keep(struct sql_session *s, const struct sql_value *v, size_t n,
                   bool *keep)
{
    struct sql_datum *row = sql__arena_zalloc(s->arena, sizeof(*row) * n);
    if (!row)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        if (v[i].kind == SQL_VALUE_INT) {
            row[i].vt = SQL_VT_INT;
            row[i].v.i = v[i].v.i;
        } else if (v[i].kind == SQL_VALUE_BYTES) {
            row[i].vt = SQL_VT_STRING;
            row[i].coll = SQL_COLL_UTF8MB4_GENERAL_CI;
            row[i].v.s.p = v[i].v.s.p;
            row[i].v.s.n = v[i].v.s.len;
        } else
            row[i].vt = SQL_VT_NULL;
    }
    struct sql_xctx x;
    int rc = sql__xctx_init(&x, s, false);
    int truth = 0;
    if (rc == 0 && (rc = sql__expr_eval_bool(s->rs_cond, &x.ev, row,
                                             &truth)) != 0)
        rc = sql__xerr(&x, rc);
    *keep = truth == 1;
    return rc;
}

int sql__rs_row(struct sql_session *s, const struct sql_value *v, size_t n)
{
    if (s->rs_cond) {
        bool keep;
        int rc = rs_keep(s, v, n, &keep);
        if (rc != 0 || !keep)
            return rc;
    }
    int rc = sql_reply_row(s->conn, v, n);
    return rc == -ENOMEM ? rc : rc != 0 ? SQL_EINTERNAL : 0;
}

int sql__rs_end(struct sql_session *s)
{
    s->pend = PEND_END;
    return 0;
}

struct sql_value sql__v_str(const char *str)
{
    struct sql_value v = {.kind = SQL_VALUE_BYTES};
    if (!str)
        v.kind = SQL_VALUE_NULL;
    else {
        v.v.s.p = str;
        v.v.s.len = strlen(str);
    }
    return v;
}

struct sql_value sql__v_int(int64_t i)
{
    struct sql_value v = {.kind = SQL_VALUE_INT};
    v.v.i = i;
    return v;
}

struct sql_value sql__v_null(void)
{
    struct sql_value v = {.kind = SQL_VALUE_NULL};
    return v;
}

static int send_pending(struct sql_session *s)
{
    struct sql_ok ok = {
        .status = sql__sess_status(s),
        .warnings = (uint16_t)(s->nwarns_total > 65535 ? 65535
                                                       : s->nwarns_total),
    };
    int kind = s->pend;
    s->pend = PEND_NONE;
    if (kind == PEND_END)
        return sql_reply_end(s->conn, &ok);
    ok.affected_rows = s->pend_affected;
    ok.last_insert_id = s->pend_last_id;
    ok.info = s->info;
    return sql_reply_ok(s->conn, &ok);
}

/* ---- name resolution ---------------------------------------------------- */

int sql__sess_db(struct sql_session *s, const char *name,
                 struct sql_dbinfo **out)
{
    if (!name)
        name = s->db;
    if (!name)
        return sql__serr(s, 1046, "3D000", "No database selected");
    struct sql_dbinfo *d = sql__catalog_db(s->srv->cat, name);
    if (!d)
        return sql__serr(s, 1049, "42000", "Unknown database '%.64s'", name);
    *out = d;
    return 0;
}

int sql__sess_table(struct sql_session *s, const char *db, const char *name,
                    struct sql_tableinfo **out)
{
    struct sql_dbinfo *d;
    if (!db && !s->db)
        return sql__serr(s, 1046, "3D000", "No database selected");
    struct sql_dbinfo *dd = sql__catalog_db(s->srv->cat, db ? db : s->db);
    if (!dd)
        return sql__serr(s, 1146, "42S02", "Table '%.64s.%.64s' doesn't exist",
                         db ? db : s->db, name);
    d = dd;
    struct sql_tableinfo *t = sql__catalog_table(s->srv->cat, d->id, name);
    if (!t)
        return sql__serr(s, 1146, "42S02", "Table '%.64s.%.64s' doesn't exist",
                         d->name, name);
    *out = t;
    return 0;
}

/* ---- SET ------------------------------------------------------------------ */

/* The text of a literal value (what SET accepts before the expression
 * evaluator is involved): strings, numbers, bare words, TRUE/FALSE. */
static int literal_text(struct sql_session *s, const struct ast_expr *e,
                        char *buf, size_t len, bool *num, bool *is_null)
{
    *num = false;
    *is_null = false;
    switch (e->kind) {
    case AST_E_STRING:
        snprintf(buf, len, "%.*s", (int)e->str.n, e->str.s);
        return 0;
    case AST_E_INT:
        *num = true;
        if (e->is_unsigned)
            snprintf(buf, len, "%llu", (unsigned long long)e->uval);
        else
            snprintf(buf, len, "%lld", (long long)e->ival);
        return 0;
    case AST_E_BOOL:
        *num = true;
        snprintf(buf, len, "%d", e->ival ? 1 : 0);
        return 0;
    case AST_E_DECIMAL:
    case AST_E_FLOAT:
        *num = true;
        snprintf(buf, len, "%.*s", (int)e->str.n, e->str.s);
        return 0;
    case AST_E_NULL:
        *is_null = true;
        buf[0] = '\0';
        return 0;
    case AST_E_COLUMN:
        if (!e->table && !e->db && e->name) {
            snprintf(buf, len, "%s", e->name);
            return 0;
        }
        break;
    default:
        break;
    }
    return sql__serr(s, 1235, "42000",
                     "This version of sqld doesn't yet support 'SET with "
                     "an expression value'");
}

int sql__uservar_set(struct sql_session *s, const char *name,
                       const struct sql_datum *d)
{
    struct sql_uservar *u;
    for (u = s->uservars; u; u = u->next)
        if (strcasecmp(u->name, name) == 0)
            break;
    if (!u) {
        u = sql__calloc(1, sizeof(*u));
        if (!u)
            return -ENOMEM;
        size_t n = strlen(name);
        u->name = sql__malloc(n + 1);
        if (!u->name) {
            sql__free(u);
            return -ENOMEM;
        }
        for (size_t i = 0; i <= n; i++)
            u->name[i] = (char)tolower((unsigned char)name[i]);
        u->next = s->uservars;
        s->uservars = u;
    }
    char *buf = NULL;
    if (d->vt == SQL_VT_STRING || d->vt == SQL_VT_JSON) {
        buf = sql__malloc(d->v.s.n ? d->v.s.n : 1);
        if (!buf)
            return -ENOMEM;
        memcpy(buf, d->v.s.p, d->v.s.n);
    }
    sql__free(u->buf);
    u->buf = buf;
    u->d = *d;
    if (buf)
        u->d.v.s.p = buf;
    return 0;
}

int sql__uservar_get(struct sql_session *s, const char *name,
                     struct sql_datum *out)
{
    for (struct sql_uservar *u = s->uservars; u; u = u->next)
        if (strcasecmp(u->name, name) == 0) {
            *out = u->d;
            return 0;
        }
    memset(out, 0, sizeof(*out));
    out->vt = SQL_VT_NULL;
    return 0;
}

static int set_sysvar(struct sql_session *s, const char *name, int scope,
                      const char *text, bool num, bool is_default)
{
    int i = sql__sysvar_find(name);
    if (i < 0)
        return sql__serr(s, 1193, "HY000", "Unknown system variable '%.64s'",
                         name);
    const struct sysvar_def *d = sql__sysvar_def((size_t)i);
    if (d->scope & SYSVAR_RO)
        return sql__serr(s, 1238, "HY000",
                         "Variable '%s' is a read only variable", d->name);
    bool global = scope == SQL_SCOPE_GLOBAL;
    if (global && !(d->scope & SYSVAR_GLOBAL))
        return sql__serr(s, 1228, "HY000",
                         "Variable '%s' is a SESSION variable and can't be "
                         "used with SET GLOBAL",
                         d->name);
    if (!global && !(d->scope & SYSVAR_SESSION))
        return sql__serr(s, 1229, "HY000",
                         "Variable '%s' is a GLOBAL variable and should be "
                         "set with SET GLOBAL",
                         d->name);
    struct sysvar_val *vals = global ? s->srv->globals : s->vars;
    if (is_default) {
        text = global ? d->def : s->srv->globals[i].text;
        num = false;
    }
    bool was_auto = sql__sess_autocommit(s);
    char msg[300];
    if (global)
        sql__sess_list_lock(s->srv); /* sql_session_create copies them */
    int rc = sql__sysvar_assign((size_t)i, vals, text, num, msg, sizeof(msg));
    if (global)
        sql__sess_list_unlock(s->srv);
    if (rc > 0)
        return sql__serr(s, (uint16_t)rc, "42000", "%s", msg);
    if (rc != 0)
        return rc;
    s->plan_gen++; /* sql_mode, collations...: plans made before are stale */
    /* Turning autocommit on commits the open transaction (MySQL). */
    if (!global && !was_auto && sql__sess_autocommit(s) && s->txn &&
        !s->explicit_txn)
        return txn_commit(s);
    return 0;
}

static int run_set(struct sql_session *s, const struct ast_stmt *st)
{
    for (const struct ast_setvar *v = st->set; v; v = v->next) {
        char text[512];
        bool num, is_null;
        int rc = 0;
        switch (v->kind) {
        case AST_SET_VAR:
            if (!v->value)
                return sql__serr(s, 1064, "42000", "bad SET");
            if (v->user) {
                struct sql_datum d;
                rc = sql__eval_const(s, v->value, &d, NULL, 0);
                if (rc == 0)
                    rc = sql__uservar_set(s, v->name, &d);
                break;
            }
            if (v->value->kind == AST_E_DEFAULT) {
                rc = set_sysvar(s, v->name, v->scope, NULL, false, true);
                break;
            }
            /* A bare word or literal as written; else the value of the
             * expression (@@x, @v, 1 + 1, ...). */
            if (literal_text(s, v->value, text, sizeof(text), &num,
                             &is_null) != 0) {
                struct sql_datum d;
                memset(&s->err, 0, sizeof(s->err));
                rc = sql__eval_const(s, v->value, &d, text, sizeof(text));
                if (rc != 0)
                    return rc;
                is_null = d.vt == SQL_VT_NULL;
                num = d.vt == SQL_VT_INT || d.vt == SQL_VT_UINT ||
                      d.vt == SQL_VT_DECIMAL || d.vt == SQL_VT_DOUBLE;
            }
            if (is_null)
                rc = sql__serr(s, 1231, "42000",
                               "Variable '%.64s' can't be set to the value "
                               "of 'NULL'",
                               v->name);
            if (rc == 0)
                rc = set_sysvar(s, v->name, v->scope, text, num, false);
            break;
        case AST_SET_NAMES:
        case AST_SET_CHARSET: {
            const char *cs = v->name ? v->name : "utf8mb4";
            if (strcasecmp(cs, "utf8mb4") != 0 && strcasecmp(cs, "utf8") != 0 &&
                strcasecmp(cs, "utf8mb3") != 0 &&
                strcasecmp(cs, "latin1") != 0 && strcasecmp(cs, "binary") != 0 &&
                strcasecmp(cs, "ascii") != 0)
                return sql__serr(s, 1115, "42000",
                                 "Unknown character set: '%.64s'", cs);
            rc = set_sysvar(s, "character_set_client", v->scope, cs, false,
                            false);
            if (rc == 0)
                rc = set_sysvar(s, "character_set_results", v->scope, cs,
                                false, false);
            if (rc == 0 && v->kind == AST_SET_NAMES)
                rc = set_sysvar(s, "character_set_connection", v->scope, cs,
                                false, false);
            if (rc == 0 && v->collate)
                rc = set_sysvar(s, "collation_connection", v->scope,
                                v->collate, false, false);
            break;
        }
        case AST_SET_ISOLATION:
            rc = set_sysvar(s, "transaction_isolation", v->scope, v->name,
                            false, false);
            break;
        case AST_SET_TX_ACCESS:
            rc = set_sysvar(s, "transaction_read_only", v->scope,
                            v->read_only ? "1" : "0", true, false);
            break;
        default:
            return sql__serr(s, 1235, "42000",
                             "This version of sqld doesn't yet support "
                             "'this SET'");
        }
        if (rc != 0)
            return rc;
    }
    return sql__sess_ok(s, 0, 0);
}

/* ---- statements ------------------------------------------------------- */

static int not_yet(struct sql_session *s, const char *what)
{
    return sql__serr(s, 1235, "42000",
                     "This version of sqld doesn't yet support '%s'", what);
}


static bool is_ddl(int kind)
{
    switch (kind) {
    case AST_CREATE_DATABASE:
    case AST_DROP_DATABASE:
    case AST_CREATE_TABLE:
    case AST_DROP_TABLE:
    case AST_CREATE_INDEX:
    case AST_DROP_INDEX:
    case AST_ALTER_TABLE:
    case AST_TRUNCATE:
    case AST_RENAME_TABLE:
    case AST_CREATE_VIEW:
    case AST_DROP_VIEW:
        return true;
    default:
        return false;
    }
}

static int use_db(struct sql_session *s, const char *name)
{
    struct sql_dbinfo *d;
    int rc = strcasecmp(name, "information_schema") == 0
                 ? 0
                 : sql__sess_db(s, name, &d);
    if (rc != 0)
        return rc;
    size_t n = strlen(name);
    char *p = sql__malloc(n + 1);
    if (!p)
        return -ENOMEM;
    memcpy(p, name, n + 1);
    sql__sess_list_lock(s->srv); /* PROCESSLIST reads it */
    char *old = s->db;
    s->db = p;
    sql__sess_list_unlock(s->srv);
    sql__free(old);
    s->plan_gen++; /* unqualified names resolve elsewhere now */
    return 0;
}

/* SET GLOBAL x (or @@global.x) among the assignments. */
static bool set_global(const struct ast_stmt *st)
{
    for (const struct ast_setvar *v = st->set; v; v = v->next)
        if (v->scope == SQL_SCOPE_GLOBAL)
            return true;
    return false;
}

static int dispatch(struct sql_session *s, const struct ast_stmt *st)
{
    int rc;
    if (is_ddl(st->kind)) {
        /* DDL commits the open transaction first (MySQL's implicit
         * commit), then runs in a transaction of its own. */
        rc = txn_commit(s);
        if (rc != 0)
            return rc;
        if (sql__ddl_online_takes(s, st))
            return sql__ddl_online_run(s, st); /* ddl_online.c */
        /* With other servers on the store: the cluster's DDL lock, and
         * back only once every server has the new version. */
        if ((rc = sql__sync_ddl_begin(s)) != 0)
            return rc;
        excl_begin(s, true);
        rc = sql__ddl_run(s, st);
        uint64_t ver = s->srv->cat->version;
        excl_end(s);
        if (rc == 0)
            rc = sql__sync_wait(s, ver);
        sql__sync_ddl_end(s);
        return rc;
    }
    switch (st->kind) {
    case AST_USE:
        rc = use_db(s, st->name);
        return rc ? rc : sql__sess_ok(s, 0, 0);
    case AST_SET:
        if (!set_global(st))
            return run_set(s, st);
        excl_begin(s, false); /* globals */
        rc = run_set(s, st);
        excl_end(s);
        return rc;
    case AST_BEGIN:
        rc = txn_commit(s);
        if (rc != 0)
            return rc;
        s->explicit_txn = true;
        {
            struct sql_kvtxn *t = NULL;
            rc = sql__sess_txn(s, &t);
        }
        return rc ? rc : sql__sess_ok(s, 0, 0);
    case AST_COMMIT:
        rc = txn_commit(s);
        return rc ? rc : sql__sess_ok(s, 0, 0);
    case AST_ROLLBACK:
        if (st->name) /* ROLLBACK TO SAVEPOINT */
            return sql__savepoint_run(s, st);
        txn_rollback(s);
        return sql__sess_ok(s, 0, 0);
    case AST_SAVEPOINT:
        return sql__savepoint_run(s, st);
    case AST_SHOW:
    case AST_DESCRIBE:
        return sql__show_run(s, st);
    case AST_SELECT:
    case AST_INSERT:
    case AST_UPDATE:
    case AST_DELETE:
    case AST_EXPLAIN:
    case AST_DO:
        return sql__query_run(s, st);
    case AST_FLUSH:
        if (st->name && strcmp(st->name, "PRIVILEGES") == 0) {
            excl_begin(s, false); /* accounts from the store */
            rc = sql__acct_flush(s);
            excl_end(s);
            return rc;
        }
        /* fall through */
    case AST_LOCK_TABLES:
    case AST_UNLOCK_TABLES:
        /* Accepted and ignored, as dump tools send them. */
        return sql__sess_ok(s, 0, 0);
    case AST_KILL: {
        struct sql_datum d; /* any constant: KILL CONNECTION_ID() */
        rc = sql__eval_const(s, st->expr, &d, NULL, 0);
        if (rc != 0)
            return rc;
        if (d.vt != SQL_VT_INT && d.vt != SQL_VT_UINT)
            return sql__serr(s, 1094, "HY000", "Unknown thread id: %s",
                             d.vt == SQL_VT_NULL ? "NULL" : "?");
        return sql__kill_run(s, d.vt == SQL_VT_INT ? (uint64_t)d.v.i : d.v.u,
                             st->flag);
    }
    case AST_CREATE_USER:
    case AST_DROP_USER:
    case AST_ALTER_USER:
    case AST_GRANT:
    case AST_REVOKE:
        /* Account changes commit the open transaction (acct.c). */
        rc = txn_commit(s);
        if (rc != 0)
            return rc;
        excl_begin(s, false); /* the account cache */
        rc = sql__acct_run(s, st);
        excl_end(s);
        return rc;
    case AST_TABLE_MAINT:
        if (strcmp(st->name, "CHECK") == 0 ||
            strcmp(st->name, "ADMIN CHECK") == 0)
            return sql__admin_check_tables(s, st);
        if (strcmp(st->name, "ANALYZE") == 0) {
            rc = txn_commit(s); /* as MySQL: an implicit commit */
            return rc ? rc : sql__analyze_run(s, st); /* analyze.c */
        }
        return not_yet(s, "ANALYZE/OPTIMIZE TABLE");
    case AST_PREPARE:
    case AST_EXECUTE:
    case AST_DEALLOCATE:
        return sql__sqlprep_run(s, st, dispatch);
    default:
        return not_yet(s, "this statement");
    }
}

/* Run one parsed statement and answer it (its result, then its final
 * packet, or an error). Returns 0 when answered with success, SQL_EQUERY
 * when answered with an error, -ENOMEM. */
static int run_statement(struct sql_session *s, const struct ast_stmt *st)
{
    bool show_warnings = st->kind == AST_SHOW &&
                         (st->show->kind == AST_SHOW_WARNINGS ||
                          st->show->kind == AST_SHOW_ERRORS);
    if (!show_warnings) {
        s->nwarns = 0;
        s->nwarns_total = 0;
        s->nerrors = 0;
    }
    s->info = NULL;
    s->rs_where = NULL;
    s->rs_cond = NULL;
    s->plan_last_cached = s->plan_cached;
    s->plan_cached = false;
    int64_t now = sql__now_us();
    sql__sess_list_lock(s->srv);
    s->stmt_start_us = now;
    sql__sess_list_unlock(s->srv);
    __atomic_fetch_add(&s->srv->queries, 1, __ATOMIC_RELAXED);
    s->pend = PEND_NONE;
    memset(&s->err, 0, sizeof(s->err));
    bool had_txn = s->txn != NULL;
    int rc = sql__priv_check(s, st);
    if (rc == 0)
        rc = sql__sync_stmt_begin(s); /* the schema lease */
    if (rc == 0) {
        sql__memtrack_begin(s); /* @@tidb_mem_quota_query */
        rc = dispatch(s, st);
        sql__memtrack_end(s);
        if (rc == -ENOMEM && sql__memtrack_exceeded(s))
            rc = sql__memtrack_err(s);
    }
    if (rc != 0 && sql__kv_prefetch_refused()) {
        /* sql_session_point_read: the read is the caller's to make, or
         * the statement is the executor's to run: no answer, no count.
         * A transaction the statement began ends with it; an open one
         * (BEGIN) goes on: the statement read nothing and wrote nothing
         * (its writes are staged until it ends). */
        if (!had_txn)
            txn_rollback(s);
        stage_clear(&s->stage);
        s->pend = PEND_NONE;
        __atomic_fetch_sub(&s->srv->queries, 1, __ATOMIC_RELAXED);
        return -EWOULDBLOCK;
    }
    if (rc == 0 && sql__sess_interrupted(s))
        rc = sql__sess_interrupt_err(s); /* KILL QUERY while it ran */
    if (rc == 0)
        rc = stage_apply(s);
    else
        stage_clear(&s->stage);
    bool in_txn = s->explicit_txn || !sql__sess_autocommit(s);
    if (rc == 0 && !in_txn && s->txn)
        rc = txn_commit(s);
    if (rc != 0) {
        if (rc == -ENOMEM)
            sql__serr(s, 1037, "HY001", "Out of memory");
        else if (rc != SQL_EQUERY)
            sql__kverr(s, rc);
        /* A deadlock or lock timeout ends the transaction (as InnoDB
         * does on deadlock); so does any failure in autocommit. */
        if (!in_txn || s->err.code == 1213 || s->err.code == 1205)
            txn_rollback(s);
        s->nerrors = 1;
        s->pend = PEND_NONE;
        int wrc = sql_reply_error(s->conn, s->err.code,
                                  s->err.state[0] ? s->err.state : "HY000",
                                  s->err.msg);
        return wrc == -ENOMEM ? -ENOMEM : SQL_EQUERY;
    }
    if (st->kind != AST_SELECT && st->kind != AST_SHOW &&
        st->kind != AST_DESCRIBE && st->kind != AST_EXPLAIN)
        s->row_count = s->pend == PEND_OK ? (int64_t)s->pend_affected : -1;
    if (s->pend == PEND_NONE)
        s->pend = PEND_OK, s->pend_affected = 0, s->pend_last_id = 0;
    return send_pending(s);
}

static int reply_parse_error(struct sql_session *s, int rc,
                             const struct sql_parse_result *res)
{
    if (rc == -ENOMEM)
        return sql_reply_error(s->conn, 1037, "HY001", "Out of memory");
    return sql_reply_error(s->conn, (uint16_t)res->errcode, "42000",
                           res->errmsg);
}

/* The statement PROCESSLIST shows (NULL: none). */
static void sess_running(struct sql_session *s, const char *text, size_t len)
{
    sql__sess_list_lock(s->srv);
    s->cur_text = text;
    s->cur_len = len;
    sql__sess_list_unlock(s->srv);
}

/* Parses a COM_QUERY's text (its first statement) into s->arena, or
 * takes the tree from the statement cache when it holds the text's
 * shape (stmtcache.c: only the parse is reused; the caller plans it
 * afresh). The cache is emptied when the plan epoch (DDL, SET GLOBAL, a
 * schema reload) or the session's settings (plan_gen) moved. As
 * sql__parse_one. */
static int parse_query(struct sql_session *s, const char *text, size_t len,
                       struct sql_parse_result *res)
{
    if (!s->stc)
        s->stc = sql__stmtcache_create(); /* NULL: parse every time */
    if (s->stc) {
        uint64_t epoch =
            __atomic_load_n(&s->srv->plan_epoch, __ATOMIC_ACQUIRE);
        int rc = sql__stmtcache_parse(s->stc, epoch, s->plan_gen, s->arena,
                                      text, len, res);
        if (rc == 1)
            return 0;
        if (rc < 0)
            sql__arena_reset(s->arena);
    }
    return sql__parse_one(s->arena, text, len, res);
}

static int run_query(struct sql_session *s, const char *text, size_t len,
                     bool multi)
{
    size_t off = 0;
    for (;;) {
        struct sql_parse_result res;
        sql__arena_reset(s->arena);
        int rc = off == 0 ? parse_query(s, text, len, &res)
                          : sql__parse_one(s->arena, text + off, len - off,
                                           &res);
        if (rc != 0)
            return reply_parse_error(s, rc, &res);
        if (!res.stmt) {
            if (off == 0)
                return sql_reply_error(s->conn, 1065, "42000",
                                       "Query was empty");
            s->more = false;
            return 0;
        }
        sess_running(s, text + off, res.stmt_end);
        size_t next = off + res.next;
        s->more = multi && next < len;
        if (s->more) {
            /* Only trailing whitespace/comments: not another result. */
            struct sql_parse_result r2;
            struct sql_arena *tmp = sql__arena_create(0);
            if (!tmp)
                return sql_reply_error(s->conn, 1037, "HY001",
                                       "Out of memory");
            if (sql__parse_one(tmp, text + next, len - next, &r2) == 0 &&
                !r2.stmt)
                s->more = false;
            sql__arena_destroy(tmp);
        }
        rc = run_statement(s, res.stmt);
        sess_running(s, NULL, 0);
        if (rc != 0 || !s->more)
            return rc == SQL_EQUERY ? 0 : rc;
        off = next;
    }
}

/* ---- prepared statements ----------------------------------------------- */


static int stmt_prepare(struct sql_session *s, const struct sql_command *cmd)
{
    struct sql_prepared *p = sql__calloc(1, sizeof(*p));
    if (!p)
        goto nomem;
    p->id = cmd->stmt_id;
    p->text = sql__malloc(cmd->text_len + 1);
    p->arena = sql__arena_create(0);
    if (!p->text || !p->arena)
        goto nomem;
    memcpy(p->text, cmd->text, cmd->text_len);
    p->text[cmd->text_len] = '\0';
    p->len = cmd->text_len;
    struct sql_parse_result res;
    int rc = sql__parse_one(p->arena, p->text, p->len, &res);
    if (rc != 0) {
        prepared_free(p);
        return reply_parse_error(s, rc, &res);
    }
    if (!res.stmt) {
        prepared_free(p);
        return sql_reply_error(s->conn, 1065, "42000", "Query was empty");
    }
    p->stmt = res.stmt;
    memset(&s->err, 0, sizeof(s->err));
    /* Privileges first: the definitions would tell about the tables. */
    rc = sql__priv_check(s, p->stmt);
    if (rc == 0)
        rc = sql__prepare_run(s, p); /* answers with the definitions */
    if (rc != 0) {
        prepared_free(p);
        if (rc == -ENOMEM)
            goto nomem_reply;
        return sql_reply_error(s->conn, s->err.code, s->err.state,
                               s->err.msg);
    }
    p->next = s->prepared;
    s->prepared = p;
    return 0;
nomem:
    if (p)
        prepared_free(p);
nomem_reply:
    return sql_reply_error(s->conn, 1037, "HY001", "Out of memory");
}

static struct sql_prepared *prepared_find(struct sql_session *s, uint32_t id)
{
    for (struct sql_prepared *p = s->prepared; p; p = p->next)
        if (p->id == id && !p->name)
            return p;
    return NULL;
}

/* Parameters of an execution as datums (the statement's arena). */
static int params_to_datums(struct sql_session *s, const struct sql_command *cmd,
                            struct sql_datum **out)
{
    struct sql_datum *d =
        sql__arena_zalloc(s->arena, sizeof(*d) * (cmd->nparams + 1));
    if (!d)
        return -ENOMEM;
    for (size_t i = 0; i < cmd->nparams; i++) {
        const struct sql_value *v = &cmd->params[i].value;
        switch (v->kind) {
        case SQL_VALUE_INT:
            d[i].vt = SQL_VT_INT;
            d[i].v.i = v->v.i;
            break;
        case SQL_VALUE_UINT:
            d[i].vt = SQL_VT_UINT;
            d[i].v.u = v->v.u;
            break;
        case SQL_VALUE_DOUBLE:
            d[i].vt = SQL_VT_DOUBLE;
            d[i].v.d = v->v.d;
            break;
        case SQL_VALUE_BYTES:
            d[i].vt = SQL_VT_STRING;
            d[i].coll = cmd->params[i].type >= SQL_TYPE_TINY_BLOB &&
                                cmd->params[i].type <= SQL_TYPE_BLOB
                            ? SQL_COLL_BINARY
                            : SQL_COLL_UTF8MB4_GENERAL_CI;
            d[i].v.s.p = v->v.s.p;
            d[i].v.s.n = v->v.s.len;
            break;
        case SQL_VALUE_DATETIME:
            d[i].vt = cmd->params[i].type == SQL_TYPE_DATE ? SQL_VT_DATE
                                                           : SQL_VT_DATETIME;
            d[i].v.t = v->v.t;
            d[i].fsp = v->v.t.micro ? 6 : 0;
            break;
        case SQL_VALUE_TIME:
            d[i].vt = SQL_VT_TIME;
            d[i].v.t = v->v.t;
            d[i].fsp = v->v.t.micro ? 6 : 0;
            break;
        default:
            d[i].vt = SQL_VT_NULL;
        }
    }
    *out = d;
    return 0;
}

static int stmt_execute(struct sql_session *s, const struct sql_command *cmd)
{
    struct sql_prepared *p = prepared_find(s, cmd->stmt_id);
    if (!p) {
        char msg[160];
        snprintf(msg, sizeof(msg),
                 "Unknown prepared statement handler (%u) given to "
                 "mysqld_stmt_execute",
                 (unsigned)cmd->stmt_id);
        return sql_reply_error(s->conn, 1243, "HY000", msg);
    }
    sql__arena_reset(s->arena);
    struct sql_datum *params;
    if (params_to_datums(s, cmd, &params) != 0)
        return sql_reply_error(s->conn, 1037, "HY001", "Out of memory");
    s->binary = true;
    s->params = params;
    s->nparams = cmd->nparams;
    s->more = false;
    s->cur_prep = p;
    sess_running(s, p->text, p->len);
    int rc = run_statement(s, p->stmt);
    sess_running(s, NULL, 0);
    s->cur_prep = NULL;
    s->binary = false;
    s->params = NULL;
    s->nparams = 0;
    return rc == SQL_EQUERY ? 0 : rc;
}

static void stmt_close(struct sql_session *s, uint32_t id)
{
    for (struct sql_prepared **pp = &s->prepared; *pp; pp = &(*pp)->next)
        if ((*pp)->id == id && !(*pp)->name) {
            struct sql_prepared *p = *pp;
            *pp = p->next;
            prepared_free(p);
            return;
        }
}

/* ---- the executor callback ------------------------------------------- */


/* Whether s->user already reads user@host (every command names the
 * user: formatting it under sess_mu each time was a cost per query). The
 * owner is the field's only writer, so reading it needs no lock. */
static bool same_user(const struct sql_session *s, const char *user)
{
    size_t n = strlen(user);
    const char *host = s->host[0] ? s->host : "localhost";
    return n < sizeof(s->user) && strncmp(s->user, user, n) == 0 &&
           s->user[n] == '@' &&
           strcmp(s->user + n + 1, host) == 0;
}

static void note_user(struct sql_session *s, const struct sql_command *cmd)
{
    if (cmd->user && !same_user(s, cmd->user)) {
        sql__sess_list_lock(s->srv);
        snprintf(s->user, sizeof(s->user), "%s@%s", cmd->user,
                 s->host[0] ? s->host : "localhost");
        sql__sess_list_unlock(s->srv);
    }
}

static int execute_locked(struct sql_session *s, struct sql_proto_conn *c,
                          const struct sql_command *cmd)
{
    s->conn = c;
    note_user(s, cmd);
    switch (cmd->kind) {
    case SQL_CMD_QUERY:
        return run_query(s, cmd->text, cmd->text_len, cmd->multi_statements);
    case SQL_CMD_STMT_PREPARE:
        return stmt_prepare(s, cmd);
    case SQL_CMD_STMT_EXECUTE:
        return stmt_execute(s, cmd);
    case SQL_CMD_STMT_CLOSE:
        stmt_close(s, cmd->stmt_id);
        return 0;
    case SQL_CMD_INIT_DB: {
        char name[256];
        snprintf(name, sizeof(name), "%.*s",
                 (int)(cmd->text_len > 200 ? 200 : cmd->text_len), cmd->text);
        memset(&s->err, 0, sizeof(s->err));
        int rc = sql__priv_check_db(s, name);
        if (rc == 0)
            rc = use_db(s, name);
        if (rc == -ENOMEM)
            return sql_reply_error(c, 1037, "HY001", "Out of memory");
        if (rc != 0)
            return sql_reply_error(c, s->err.code, s->err.state, s->err.msg);
        struct sql_ok ok = {.status = sql__sess_status(s)};
        return sql_reply_ok(c, &ok);
    }
    case SQL_CMD_RESET_CONNECTION: {
        txn_rollback(s);
        uservars_free(s);
        sql__sysvar_free(s->vars);
        s->vars = NULL;
        s->plan_gen++;
        if (sql__sysvar_copy(&s->vars, s->srv->globals) != 0)
            return -ENOMEM; /* lk shared: SET GLOBAL runs alone */
        struct sql_ok ok = {.status = sql__sess_status(s)};
        return sql_reply_ok(c, &ok);
    }
    case SQL_CMD_STATISTICS: {
        char text[256];
        size_t n = 0;
        sql__sess_list_lock(s->srv);
        for (struct sql_session *o = s->srv->sessions; o; o = o->next)
            n++;
        sql__sess_list_unlock(s->srv);
        int len = snprintf(
            text, sizeof(text),
            "Uptime: %lld  Threads: %zu  Questions: %llu  Slow queries: 0  "
            "Opens: 0  Open tables: %zu  Queries per second avg: 0.000",
            (long long)((sql__now_us() - s->srv->started_us) / 1000000), n,
            (unsigned long long)__atomic_load_n(&s->srv->queries,
                                                __ATOMIC_RELAXED),
            s->srv->cat->ntables);
        return sql_reply_text(c, text, (size_t)len);
    }
    case SQL_CMD_PROCESS_KILL: {
        memset(&s->err, 0, sizeof(s->err));
        if (sql__kill_run(s, cmd->kill_id, false) != 0)
            return sql_reply_error(c, s->err.code, s->err.state, s->err.msg);
        s->pend = PEND_NONE;
        struct sql_ok ok = {.status = sql__sess_status(s)};
        return sql_reply_ok(c, &ok);
    }
    case SQL_CMD_FIELD_LIST: {
        char table[256];
        snprintf(table, sizeof(table), "%.*s",
                 (int)(cmd->text_len > 200 ? 200 : cmd->text_len), cmd->text);
        memset(&s->err, 0, sizeof(s->err));
        if (sql__priv_check_columns(s, NULL, table) != 0)
            return sql_reply_error(c, s->err.code, s->err.state, s->err.msg);
        return sql__field_list(s, cmd);
    }
    default:
        return sql_reply_error(c, 1047, "08S01", "Unknown command");
    }
}

static int execute(void *ctx, struct sql_proto_conn *c,
                   const struct sql_command *cmd)
{
    struct sql_session *s = ctx;
    s->pr_st = NULL; /* a point read's first half is not finished */
    srv_lock(s->srv);
    int rc;
    if (sql_session_killed(s) && cmd->kind != SQL_CMD_STMT_CLOSE) {
        rc = sql_reply_error(c, 1317, "70100",
                             "Query execution was interrupted");
    } else {
        /* A KILL QUERY counts only while a command runs. */
        __atomic_store_n(&s->killed, false, __ATOMIC_RELEASE);
        sql__sess_list_lock(s->srv);
        s->in_cmd = true;
        sql__sess_list_unlock(s->srv);
        rc = execute_locked(s, c, cmd);
        sql__sess_list_lock(s->srv);
        s->in_cmd = false;
        sql__sess_list_unlock(s->srv);
    }
    srv_unlock(s->srv);
    return rc;
}

/* ---- quick commands (sql_session_try_quick) ----------------------------
 * sqld's loop thread hands each command to a worker and the answer back:
 * two thread switches and their futex and eventfd calls, as much CPU as
 * a point read itself. A short read that cannot wait for another session
 * runs on the caller's thread instead (DESIGN.md "Hot paths"). */

/* A query text's shape: its bytes without digits and quoted contents, so
 * texts that differ in constants only share it. */
static uint64_t text_shape(const char *t, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    char q = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)t[i];
        if (q) {
            if (ch != (unsigned char)q)
                continue;
            q = 0;
        } else if (ch == '\'' || ch == '"') {
            q = (char)ch;
        } else if (ch >= '0' && ch <= '9') {
            continue;
        }
        h = (h ^ ch) * 1099511628211ull;
    }
    return h | 1;
}

/* Parses and plans a one-statement COM_QUERY into s->arena when it is a
 * quick SELECT (the plan left in s->quick_sel/quick_plan): 1, with the
 * statement and its length. 0: not quick, nothing kept (a shape found not
 * quick is remembered and not parsed again: a miss costs one hash). */
static int quick_text(struct sql_session *s, const struct sql_command *cmd,
                      const struct ast_stmt **st, size_t *stmt_len)
{
    const char *t = cmd->text;
    size_t n = cmd->text_len, i = 0;
    while (i < n && isspace((unsigned char)t[i]))
        i++;
    if (n - i < 7 || strncasecmp(t + i, "select", 6) != 0)
        return 0;
    uint64_t epoch = __atomic_load_n(&s->srv->plan_epoch, __ATOMIC_ACQUIRE);
    if (s->quick_epoch != epoch) {
        memset(s->quick_no, 0, sizeof(s->quick_no));
        s->quick_epoch = epoch;
    }
    uint64_t shape = text_shape(t, n);
    uint64_t *seen = &s->quick_no[(shape >> 8) % 64];
    if (*seen == shape)
        return 0;
    sql__arena_reset(s->arena);
    struct sql_parse_result res;
    if (parse_query(s, t, n, &res) != 0 || !res.stmt ||
        res.stmt->kind != AST_SELECT)
        goto no;
    for (size_t k = res.next; k < n; k++)
        if (!isspace((unsigned char)t[k]) && t[k] != ';')
            goto no; /* another statement follows */
    struct sql_err saved = s->err;
    size_t nkept = s->nwarns, nwarns = s->nwarns_total;
    s->plan_ran = false;
    struct plan *p = NULL;
    int rc = sql__plan_select(s, res.stmt->select, &p);
    bool ok = rc == 0 && !s->plan_ran && s->nwarns_total == nwarns &&
              sql__plan_quick(p);
    s->err = saved; /* what planning said is the executor's to say */
    s->nwarns = nkept;
    s->nwarns_total = nwarns;
    if (!ok)
        goto no;
    s->quick_sel = res.stmt->select;
    s->quick_plan = p;
    *st = res.stmt;
    *stmt_len = res.stmt_end;
    return 1;
no:
    *seen = shape;
    return 0;
}

/* Runs a quick command found by sql_session_try_quick or
 * sql_session_point_read: p, a prepared statement, or st (len bytes of
 * the text) planned into s->quick_sel/quick_plan. As execute(). */
static int quick_run(struct sql_session *s, struct sql_proto_conn *c,
                     const struct sql_command *cmd,
                     const struct sql_prepared *p, const struct ast_stmt *st,
                     size_t len)
{
    struct sql_server *srv = s->srv;
    /* As execute() and execute_locked() do. */
    __atomic_store_n(&s->killed, false, __ATOMIC_RELEASE);
    sql__sess_list_lock(srv);
    s->in_cmd = true;
    sql__sess_list_unlock(srv);
    s->conn = c;
    note_user(s, cmd);
    int rc;
    if (p) {
        rc = stmt_execute(s, cmd);
    } else {
        sess_running(s, cmd->text, len);
        s->more = false;
        rc = run_statement(s, st);
        sess_running(s, NULL, 0);
        s->quick_sel = NULL;
        s->quick_plan = NULL;
        if (rc == SQL_EQUERY)
            rc = 0;
    }
    sql__sess_list_lock(srv);
    s->in_cmd = false;
    sql__sess_list_unlock(srv);
    return rc;
}

int sql_session_try_quick(struct sql_session *s, struct sql_proto_conn *c,
                          const struct sql_command *cmd)
{
    struct sql_server *srv = s->srv;
    if ((cmd->kind != SQL_CMD_QUERY && cmd->kind != SQL_CMD_STMT_EXECUTE) ||
        !sql__kv_wakeable(srv->kv))
        return 0; /* a cluster read waits for the network */
    /* Never wait here: a statement waiting for lk alone may wait for row
     * locks whose holders' COMMIT the caller's thread must deliver. */
    if (srv->concurrent && pthread_rwlock_tryrdlock(&srv->lk) != 0)
        return 0;
    int rc = 0;
    const struct ast_stmt *st = NULL;
    size_t len = 0;
    struct sql_prepared *p = NULL;
    if (sql_session_killed(s))
        goto out; /* the executor answers 1317 */
    if (cmd->kind == SQL_CMD_STMT_EXECUTE) {
        p = prepared_find(s, cmd->stmt_id);
        if (!p || !sql__plancache_quick(s, p))
            goto out;
    } else if (!quick_text(s, cmd, &st, &len)) {
        goto out;
    }
    rc = quick_run(s, c, cmd, p, st, len);
    rc = rc < 0 ? rc : 1;
out:
    if (srv->concurrent)
        pthread_rwlock_unlock(&srv->lk);
    return rc;
}

/* ---- the point read in two halves (sql_session_point_read) -------------
 * The cluster's point read waits for kvd: a worker thread would block on
 * it, and handing the command to a worker and the answer back costs more
 * than the read. So the caller's thread (sqld's loop) runs the command
 * twice without waiting: first with every read refused, which names the
 * one row key the statement reads; the caller reads it itself (without
 * blocking: libregion's region_loop_get); then again with that row
 * given. DESIGN.md "Point reads". */
int sql_session_point_read(struct sql_session *s, struct sql_proto_conn *c,
                           const struct sql_command *cmd,
                           struct sql_point_read *pr)
{
    struct sql_server *srv = s->srv;
    bool given = pr->given;
    const struct ast_stmt *st = s->pr_st;
    size_t len = s->pr_len;
    s->pr_st = NULL; /* whatever happens, once */
    /* Autocommit with no transaction open (the statement's reads the
     * latest versions), or inside an open one that has written and
     * locked nothing (its read is the store's at its start_ts; a write
     * or lock since goes to the executor, which merges them). One begun
     * by BEGIN without a statement yet has its start_ts too. */
    bool alone = !s->txn && !s->explicit_txn && sql__sess_autocommit(s);
    bool in_txn = s->txn && !sql__kvtxn_dirty(s->txn) &&
                  sql__kvtxn_start_ts(s->txn) != MVCC_TS_MAX;
    if ((cmd->kind != SQL_CMD_QUERY && cmd->kind != SQL_CMD_STMT_EXECUTE) ||
        !(alone || in_txn) || sql_session_killed(s))
        return 0;
    if (srv->concurrent && pthread_rwlock_tryrdlock(&srv->lk) != 0)
        return 0;
    int rc = 0;
    struct sql_prepared *p = NULL;
    uint64_t epoch = __atomic_load_n(&srv->plan_epoch, __ATOMIC_ACQUIRE);
    if (cmd->kind == SQL_CMD_STMT_EXECUTE) {
        p = prepared_find(s, cmd->stmt_id);
        if (!p || !sql__plancache_quick(s, p))
            goto out;
    } else if (given) { /* the first half's plan, if nothing changed */
        if (!st || s->pr_epoch != epoch)
            goto out;
        s->quick_sel = s->pr_sel;
        s->quick_plan = s->pr_plan;
    } else if (!quick_text(s, cmd, &st, &len)) {
        goto out;
    }
    /* The first half of a COM_QUERY whose plan names its key: no need
     * to run the statement to learn it (a run that only ends refused).
     * The ts is the one its run would ask at: the latest versions for a
     * statement alone that begins "latest", else the transaction's
     * start_ts; should the second half read anything else, it refuses
     * and the executor runs the statement. */
    if (!given && !p && SQL_TC_ROW_KEY_LEN <= sizeof(pr->key) &&
        (in_txn || sql__point_read_latest(s, s->quick_sel, s->quick_plan)) &&
        sql__point_read_key(s->quick_plan, pr->key)) {
        pr->key_len = SQL_TC_ROW_KEY_LEN;
        pr->ts = in_txn ? sql__kvtxn_start_ts(s->txn) : MVCC_TS_MAX;
        s->pr_st = st;
        s->pr_sel = s->quick_sel;
        s->pr_plan = s->quick_plan;
        s->pr_len = len;
        s->pr_epoch = epoch;
        s->quick_sel = NULL;
        s->quick_plan = NULL;
        rc = 2;
        goto out;
    }
    if (given)
        sql__kv_prefetch_begin(pr->key, pr->key_len, pr->ts, pr->value,
                               pr->value_len, pr->found);
    else
        sql__kv_prefetch_begin(NULL, 0, 0, NULL, 0, false);
    const struct ast_select *sel = s->quick_sel;
    struct plan *plan = s->quick_plan;
    rc = quick_run(s, c, cmd, p, st, len);
    size_t klen = 0;
    int pre = sql__kv_prefetch_end(pr->key, sizeof(pr->key), &klen, &pr->ts);
    /* a refused read fails its statement (quick plans pass read errors
     * up), which run_statement then leaves unanswered */
    assert(pre == 0 || rc == -EWOULDBLOCK);
    if (rc == -EWOULDBLOCK) {
        rc = 0; /* nothing was answered */
        if (pre == 1 && !given) {
            pr->key_len = klen;
            s->pr_st = st;
            s->pr_sel = sel;
            s->pr_plan = plan;
            s->pr_len = len;
            s->pr_epoch = epoch;
            rc = 2;
        }
    } else {
        rc = rc < 0 ? rc : 1;
    }
out:
    if (srv->concurrent)
        pthread_rwlock_unlock(&srv->lk);
    return rc;
}

struct sql_executor sql_session_executor(struct sql_session *s)
{
    struct sql_executor x = {s, execute};
    return x;
}
