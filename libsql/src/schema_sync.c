/* schema_sync.c: keeping the catalog caches of several SQL servers on one
 * store in step: the schema lease checked at statement start, the
 * registry of each server's loaded version, the cluster-wide DDL lock and
 * the commit-time schema check (schema_sync.h; DESIGN.md "Schema changes
 * across servers").
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "acct.h"
#include "session.h"
#include "sql_int.h"
#include "tablecodec.h"

#define DDL_LOCK_WAIT_MS 600000 /* a DDL waits this long for another's */
#define DDL_LOCK_MIN_TTL_MS 10000 /* the DDL lock's lease, at least */
#define DEAD_ENTRY_MS 60000 /* a registry entry this far past its lease
                               is a server gone: deleted */

static const char K_DDL_OWNER[] = "mDDLOwner";
static const char K_SRV[] = "mSchemaSrv";

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int64_t ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

static void put_le(uint8_t *p, uint64_t v, int n)
{
    for (int i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static size_t srv_key(uint8_t *k, uint64_t id)
{
    memcpy(k, K_SRV, sizeof(K_SRV) - 1);
    sql__tc_put_i64(k + sizeof(K_SRV) - 1, (int64_t)id);
    return sizeof(K_SRV) - 1 + 8;
}

static int64_t ddl_ttl(const struct sql_sync *y)
{
    int64_t t = 10 * y->lease_ms;
    return t < DDL_LOCK_MIN_TTL_MS ? DDL_LOCK_MIN_TTL_MS : t;
}

/* ---- the registry ------------------------------------------------------ */

/* In one transaction: read the stored version into *ver and, if it is
 * the cache's, write this server's entry (that version, valid until
 * checked + lease); once that is committed, read the version again into
 * *ver from a fresh snapshot. The cache is vouched for only if both
 * reads give its version.
 *
 * Why the second read (the registry race): a DDL commits version V+1 at
 * c1 and then reads the registry at r >= c1. If this transaction read V
 * (below c1) and its entry commits at cb > r, the DDL did not see the
 * entry: to it an entry that had run out still says this server is
 * gone, so it goes on to V+2 while this server would commit on V until
 * checked + lease. The read after the commit is at r2 >= cb > r >= c1,
 * so it sees V+1: each side writes its key, commits, then reads the
 * other's, and at least one of the two reads sees the other's write. A
 * Lock on the version key in this transaction would close the race too,
 * but it makes every DDL transaction that bumps the version conflict
 * with any validation committed while it runs (a plain DDL answers that
 * 1213), and every server's validations with each other (DESIGN.md
 * "The registry race"). */
static int validate_txn(struct sql_server *srv, int64_t checked,
                        uint64_t *ver)
{
    struct sql_sync *y = srv->sync;
    struct sql_kvtxn *t;
    int rc = sql__kv_begin(srv->kv, &t);
    if (rc != 0)
        return rc;
    rc = sql__meta_version(t, ver);
    if (rc != 0 || *ver != srv->cat->version) {
        sql__kvtxn_rollback(t);
        return rc;
    }
    uint8_t k[24], v[16];
    size_t kn = srv_key(k, y->id);
    put_le(v, *ver, 8);
    put_le(v + 8, (uint64_t)(checked + y->lease_ms), 8);
    rc = sql__kvtxn_set(t, k, kn, v, sizeof(v));
    if (rc != 0) {
        sql__kvtxn_rollback(t);
        return rc;
    }
    if (y->validate_hook)
        y->validate_hook(y->validate_hook_ctx, *ver);
    if ((rc = sql__kvtxn_commit(t)) != 0)
        return rc;
    if ((rc = sql__kv_begin(srv->kv, &t)) != 0)
        return rc;
    rc = sql__meta_version(t, ver);
    sql__kvtxn_rollback(t);
    return rc;
}

/* Validate the cache (validate_txn), again while that conflicts, at most
 * SQL_SYNC_TRIES times, one validation of the server at a time. 0: the
 * cache is vouched for from *at, the wall time taken before the version
 * read (checked_ms set to it); 1: the stored version (*ver) is not the
 * cache's; MVCC_CONFLICT: out of tries; other codes. Unless force, a
 * validation another session made less than a lease ago answers 0 at
 * once (a renewal forces: libmvcc accepts a two-phase commit_ts on a
 * version read made after it was taken). */
static int validate(struct sql_server *srv, bool force, uint64_t *ver,
                    int64_t *at)
{
    struct sql_sync *y = srv->sync;
    int rc = MVCC_CONFLICT;
    for (int i = 0; i < SQL_SYNC_TRIES && rc == MVCC_CONFLICT; i++) {
        pthread_mutex_lock(&y->mu);
        int64_t now = wall_ms();
        int64_t seen = __atomic_load_n(&y->checked_ms, __ATOMIC_ACQUIRE);
        if (!force && now - seen < y->lease_ms) {
            pthread_mutex_unlock(&y->mu); /* another session did it */
            *at = seen;
            return 0;
        }
        *ver = 0;
        rc = validate_txn(srv, now, ver);
        if (rc == 0 && *ver == srv->cat->version) {
            __atomic_store_n(&y->checked_ms, now, __ATOMIC_RELEASE);
            *at = now;
        } else if (rc == 0) {
            rc = 1;
        }
        pthread_mutex_unlock(&y->mu);
    }
    return rc;
}

/* Replace the cache with the stored catalog (the statement lock alone):
 * cached id ranges move over, and a table whose record is unchanged
 * keeps the version it last changed at. */
static int reload(struct sql_session *s)
{
    struct sql_server *srv = s->srv;
    struct sql_catalog *old = srv->cat, *nc;
    char msg[200];
    int rc = sql__catalog_load(srv->kv, &nc, msg, sizeof(msg));
    if (rc != 0)
        return sql__serr(s, 1105, "HY000", "%s", msg);
    for (size_t i = 0; i < nc->ntables; i++) {
        struct sql_tableinfo *t = nc->tables[i];
        for (size_t j = 0; j < old->ntables; j++) {
            struct sql_tableinfo *o = old->tables[j];
            if (o->id != t->id)
                continue;
            struct sql__buf a = {0}, b = {0};
            if (sql__table_encode(t, &a) == 0 &&
                sql__table_encode(o, &b) == 0 && a.len == b.len &&
                memcmp(a.p, b.p, a.len) == 0)
                t->ver = o->ver;
            sql__buf_free(&a);
            sql__buf_free(&b);
        }
    }
    pthread_mutex_lock(&old->autoid_mu);
    nc->autoids = old->autoids;
    nc->nautoids = old->nautoids;
    old->autoids = NULL;
    old->nautoids = 0;
    pthread_mutex_unlock(&old->autoid_mu);
    srv->cat = nc;
    sql__catalog_free(old);
    return 0;
}

int sql__sync_refresh(struct sql_session *s, bool force)
{
    struct sql_sync *y = s->srv->sync;
    if (!y)
        return 0;
    for (int round = 0; round < SQL_SYNC_TRIES; round++) {
        uint64_t ver = 0;
        int64_t at;
        int rc = validate(s->srv, force, &ver, &at);
        if (rc == 0)
            return 0;
        if (rc == MVCC_CONFLICT)
            break; /* out of tries */
        if (rc != 1)
            return sql__kverr(s, rc);
        /* Another server changed the schema: reload alone (the
         * statement holds no catalog pointer yet), then validate. */
        sql__sess_excl_begin(s);
        rc = s->srv->cat->version < ver ? reload(s) : 0;
        sql__sess_excl_end(s);
        if (rc != 0)
            return rc;
        force = true;
    }
    return sql__serr(s, 8028, "HY000",
                     "Information schema is changing; the schema could not "
                     "be loaded, retry the statement");
}

int sql__sync_stmt_begin(struct sql_session *s)
{
    struct sql_sync *y = s->srv->sync;
    if (!y)
        return 0;
    int64_t seen = __atomic_load_n(&y->checked_ms, __ATOMIC_ACQUIRE);
    if (wall_ms() - seen < y->lease_ms)
        return 0;
    return sql__sync_refresh(s, false);
}

int sql__sync_open(struct sql_server *srv, const struct sql_server_options *o,
                   char *errmsg, size_t errmsg_len)
{
    if (!o->cluster)
        return 0;
    struct sql_sync *y = sql__calloc(1, sizeof(*y));
    if (!y)
        return -ENOMEM;
    if (pthread_mutex_init(&y->mu, NULL) != 0) {
        sql__free(y);
        return -ENOMEM;
    }
    y->lease_ms = o->schema_lease_ms ? (int64_t)o->schema_lease_ms
                                     : SQL_SCHEMA_LEASE_MS;
    if (getrandom(&y->id, sizeof(y->id), 0) != (ssize_t)sizeof(y->id))
        y->id = (uint64_t)wall_ms() * 1000003u ^ (uint64_t)getpid();
    srv->sync = y;
    uint64_t ver = 0;
    int64_t at;
    int rc = validate(srv, true, &ver, &at);
    if (rc == 1)
        rc = MVCC_CONFLICT; /* a DDL between the load and now */
    if (rc != 0) {
        if (errmsg && errmsg_len)
            snprintf(errmsg, errmsg_len,
                     "cannot register for schema changes: %s",
                     mvcc_strerror(rc));
        sql__sync_close(srv);
        return rc;
    }
    return 0;
}

void sql__sync_close(struct sql_server *srv)
{
    struct sql_sync *y = srv->sync;
    if (!y)
        return;
    /* Leave the registry: DDL need not wait for this server's lease. */
    struct sql_kvtxn *t;
    if (srv->kv && sql__kv_begin(srv->kv, &t) == 0) {
        uint8_t k[24];
        size_t kn = srv_key(k, y->id);
        if (sql__kvtxn_delete(t, k, kn) == 0)
            (void)sql__kvtxn_commit(t);
        else
            sql__kvtxn_rollback(t);
    }
    pthread_mutex_destroy(&y->mu);
    sql__free(y);
    srv->sync = NULL;
}

/* ---- transactions ------------------------------------------------------ */

void sql__sync_txn_begin(struct sql_session *s)
{
    s->tsc.ver = s->srv->cat->version;
    s->tsc.n = 0;
    s->tsc.many = false;
}

void sql__sync_note_key(struct sql_session *s, const uint8_t *key,
                        size_t klen)
{
    if (klen < 9 || key[0] != 't')
        return;
    int64_t id = sql__tc_get_i64(key + 1);
    struct sql_txn_schema *x = &s->tsc;
    if (x->n > 0 && x->tables[x->n - 1] == id)
        return;
    for (unsigned i = 0; i < x->n; i++)
        if (x->tables[i] == id)
            return;
    if (x->n == SQL_TXN_TABLES)
        x->many = true;
    else
        x->tables[x->n++] = id;
}

int sql__sync_changed(struct sql_session *s)
{
    return sql__serr(s, 8028, "HY000",
                     "Information schema is changed during the execution of "
                     "the statement (a table it writes was altered by "
                     "concurrent DDL); the transaction was rolled back, "
                     "retry it");
}

/* libmvcc asks this when the commit's deadline (set below) passed:
 * validate the cache again, as a statement's start does (the registry
 * entry rewritten), and answer the deadline that validation gives, or
 * 8028's code when the stored version moved, or MVCC_CONFLICT when
 * SQL_SYNC_TRIES validations conflicted (the commit fails: 1213, retry
 * the transaction). The statement lock, held through the commit, keeps
 * the cache from being replaced meanwhile. */
static int renew_deadline(void *ctx, uint64_t *deadline_ms)
{
    struct sql_session *s = ctx;
    uint64_t ver = 0;
    int64_t at;
    int rc = validate(s->srv, true, &ver, &at);
    if (rc == 0)
        *deadline_ms = (uint64_t)(at + s->srv->sync->lease_ms);
    else if (rc == 1)
        rc = MVCC_COMMIT_DEADLINE; /* answered as 8028 */
    return rc;
}

/* Whether every table the transaction wrote has, in the stored catalog
 * nc, the record the cache holds (the one its rows were encoded with). */
static bool written_unchanged(struct sql_session *s,
                              const struct sql_catalog *nc)
{
    const struct sql_txn_schema *x = &s->tsc;
    if (x->many)
        return false;
    bool same = true;
    for (unsigned i = 0; same && i < x->n; i++) {
        const struct sql_tableinfo *a =
            sql__catalog_table_by_id(s->srv->cat, x->tables[i]);
        const struct sql_tableinfo *b =
            sql__catalog_table_by_id(nc, x->tables[i]);
        if (!a || !b) {
            same = !a && !b;
            continue;
        }
        struct sql__buf ea = {0}, eb = {0};
        same = sql__table_encode(a, &ea) == 0 &&
               sql__table_encode(b, &eb) == 0 && ea.len == eb.len &&
               memcmp(ea.p, eb.p, ea.len) == 0;
        sql__buf_free(&ea);
        sql__buf_free(&eb);
    }
    return same;
}

/* libmvcc asks this instead of renew_deadline when a two-phase commit took
 * its commit_ts past the deadline, every key locked (DESIGN.md "A commit
 * past its lease"): the version is read at a snapshot above commit_ts. The
 * cache's version there means no DDL step committed below commit_ts since
 * the cache was loaded; a newer one is still safe if every table the
 * transaction wrote has the record its rows were encoded with (TiDB's
 * schema validator: the tables a commit wrote, not the clock). Else
 * MVCC_COMMIT_DEADLINE (8028). How long the clock ran meanwhile does not
 * matter: nothing here depends on it. */
static int check_commit_ts(void *ctx, mvcc_ts commit_ts)
{
    struct sql_session *s = ctx;
    (void)commit_ts; /* every timestamp taken from now on is above it */
    struct sql_kvtxn *t;
    uint64_t ver = 0;
    int rc = sql__kv_begin(s->srv->kv, &t);
    if (rc != 0)
        return rc;
    rc = sql__meta_version(t, &ver);
    sql__kvtxn_rollback(t);
    if (rc != 0 || ver == s->srv->cat->version)
        return rc;
    struct sql_catalog *nc;
    char msg[200];
    if ((rc = sql__catalog_load(s->srv->kv, &nc, msg, sizeof(msg))) != 0)
        return rc;
    bool same = written_unchanged(s, nc);
    sql__catalog_free(nc);
    return same ? 0 : MVCC_COMMIT_DEADLINE;
}

int sql__sync_commit_check(struct sql_session *s, struct sql_kvtxn *kt)
{
    const struct sql_catalog *c = s->srv->cat;
    struct sql_txn_schema *x = &s->tsc;
    if (c->version != x->ver) {
        if (x->many)
            return sql__sync_changed(s);
        for (unsigned i = 0; i < x->n; i++) {
            const struct sql_tableinfo *t =
                sql__catalog_table_by_id(c, x->tables[i]);
            if (!t || t->ver > x->ver)
                return sql__sync_changed(s);
        }
    }
    struct sql_sync *y = s->srv->sync;
    if (!y)
        return 0;
    /* The cache (its tables this transaction wrote are as it began) was
     * last vouched for at checked_ms: this server's registry entry holds
     * it until checked_ms + lease, and a DDL moves two states past it no
     * earlier than one lease after that (lagging()), so it takes its
     * timestamp from the TSO after checked_ms + 2 leases. A commit_ts
     * decided before checked_ms + lease is below it, however long the
     * commit then takes; past that, renew_deadline vouches again. */
    int64_t seen = __atomic_load_n(&y->checked_ms, __ATOMIC_ACQUIRE);
    sql__kvtxn_set_commit_deadline(kt, (uint64_t)(seen + y->lease_ms),
                                   renew_deadline, s);
    sql__kvtxn_set_commit_check(kt, check_commit_ts, s);
    return 0;
}

/* ---- the DDL lock ------------------------------------------------------ */

/* One attempt: take the lock (or renew it) if free, expired or ours.
 * 0 taken; 1 held by another; MVCC_CONFLICT raced; other errors. */
static int ddl_lock_try(struct sql_session *s, bool renew_only)
{
    struct sql_sync *y = s->srv->sync;
    struct sql_kvtxn *t;
    int rc = sql__kv_begin(s->srv->kv, &t);
    if (rc != 0)
        return rc;
    uint8_t *v = NULL;
    size_t n = 0;
    int64_t now = wall_ms();
    rc = sql__kvtxn_get(t, K_DDL_OWNER, sizeof(K_DDL_OWNER) - 1, &v, &n);
    bool ours = false, free_ = rc == MVCC_NOTFOUND;
    if (rc == 0) {
        ours = n == 20 && get_le(v, 8) == y->id &&
               get_le(v + 8, 4) == s->conn_id;
        free_ = n != 20 || (int64_t)get_le(v + 12, 8) < now;
        sql__kv_free(v);
    } else if (rc != MVCC_NOTFOUND) {
        sql__kvtxn_rollback(t);
        return rc;
    }
    if (renew_only ? !ours : !(ours || free_)) {
        sql__kvtxn_rollback(t);
        return 1;
    }
    uint8_t b[20];
    put_le(b, y->id, 8);
    put_le(b + 8, s->conn_id, 4);
    put_le(b + 12, (uint64_t)(now + ddl_ttl(y)), 8);
    rc = sql__kvtxn_set(t, K_DDL_OWNER, sizeof(K_DDL_OWNER) - 1, b, 20);
    if (rc != 0) {
        sql__kvtxn_rollback(t);
        return rc;
    }
    return sql__kvtxn_commit(t);
}

int sql__sync_ddl_begin(struct sql_session *s)
{
    struct sql_sync *y = s->srv->sync;
    if (!y)
        return 0;
    int64_t deadline = wall_ms() + DDL_LOCK_WAIT_MS;
    for (;;) {
        int rc = ddl_lock_try(s, false);
        if (rc == 0)
            break;
        if (rc != 1 && rc != MVCC_CONFLICT && rc != MVCC_LOCKED)
            return sql__kverr(s, rc);
        if (sql__sess_interrupted(s))
            return sql__sess_interrupt_err(s);
        if (wall_ms() > deadline)
            return sql__serr(s, 1205, "HY000",
                             "Lock wait timeout exceeded: another server's "
                             "DDL holds the DDL lock");
        sql__sess_unlock_wait(s);
        sleep_ms(rc == 1 ? 20 : 2);
        sql__sess_relock_wait(s);
    }
    /* The DDL works from the newest catalog. */
    int rc = sql__sync_refresh(s, true);
    if (rc != 0)
        sql__sync_ddl_end(s);
    return rc;
}

int sql__sync_ddl_renew(struct sql_session *s)
{
    if (!s->srv->sync)
        return 0;
    int rc = MVCC_CONFLICT;
    for (int i = 0; i < 20 && rc == MVCC_CONFLICT; i++)
        rc = ddl_lock_try(s, true);
    if (rc == 1)
        return sql__serr(s, 8214, "HY000",
                         "The DDL lock's lease ran out and another DDL "
                         "took it; this DDL stopped");
    return rc == 0 ? 0 : sql__kverr(s, rc);
}

void sql__sync_ddl_end(struct sql_session *s)
{
    struct sql_sync *y = s->srv->sync;
    if (!y)
        return;
    for (int i = 0; i < 20; i++) {
        struct sql_kvtxn *t;
        if (sql__kv_begin(s->srv->kv, &t) != 0)
            return;
        uint8_t *v = NULL;
        size_t n = 0;
        int rc = sql__kvtxn_get(t, K_DDL_OWNER, sizeof(K_DDL_OWNER) - 1, &v,
                                &n);
        bool ours = rc == 0 && n == 20 && get_le(v, 8) == y->id &&
                    get_le(v + 8, 4) == s->conn_id;
        if (rc == 0)
            sql__kv_free(v);
        if (!ours) {
            sql__kvtxn_rollback(t);
            return;
        }
        rc = sql__kvtxn_delete(t, K_DDL_OWNER, sizeof(K_DDL_OWNER) - 1);
        rc = rc ? rc : sql__kvtxn_commit(t);
        if (rc != MVCC_CONFLICT)
            return; /* a failed release expires with its lease */
    }
}

/* ---- waiting for the others -------------------------------------------- */

/* Servers that may still run statements on a version below ver: an entry
 * below it whose lease (plus one more lease for a commit under way) has
 * not run out. Entries of servers gone for a minute (killed, never
 * closed) are deleted on the way. */
static int lagging(struct sql_server *srv, uint64_t ver, size_t *n)
{
    struct sql_sync *y = srv->sync;
    struct sql_kvtxn *t;
    *n = 0;
    int rc = sql__kv_begin(srv->kv, &t);
    if (rc != 0)
        return rc;
    uint8_t start[16], end[16];
    memcpy(start, K_SRV, sizeof(K_SRV) - 1);
    sql__tc_prefix_next(start, sizeof(K_SRV) - 1, end);
    struct sql_kvres res;
    sql__kvres_init(&res);
    rc = sql__kvtxn_scan(t, start, sizeof(K_SRV) - 1, end, sizeof(K_SRV) - 1,
                         0, false, &res);
    int64_t now = wall_ms();
    uint8_t self[24];
    size_t sn = srv_key(self, y->id);
    bool dead = false;
    for (size_t i = 0; rc == 0 && i < res.r.npairs; i++) {
        const struct mvcc_kvpair *p = &res.r.pairs[i];
        if (p->value_len != 16 ||
            (p->key_len == sn && memcmp(p->key, self, sn) == 0))
            continue;
        uint64_t v = get_le(p->value, 8);
        int64_t until = (int64_t)get_le(p->value + 8, 8);
        if (v < ver && until + y->lease_ms >= now)
            (*n)++;
        if (until + DEAD_ENTRY_MS < now &&
            sql__kvtxn_delete(t, p->key, p->key_len) == 0)
            dead = true;
    }
    sql__kvres_reset(&res);
    if (rc == 0 && dead)
        (void)sql__kvtxn_commit(t); /* a conflict: the next DDL's turn */
    else
        sql__kvtxn_rollback(t);
    return rc;
}

int sql__sync_wait(struct sql_session *s, uint64_t ver)
{
    struct sql_sync *y = s->srv->sync;
    if (!y)
        return 0;
    int64_t step = y->lease_ms / 10;
    step = step < 5 ? 5 : step > 100 ? 100 : step;
    for (;;) {
        size_t n;
        int rc = lagging(s->srv, ver, &n);
        if (rc != 0)
            return sql__kverr(s, rc);
        if (n == 0)
            return 0;
        sql__sess_unlock_wait(s);
        sleep_ms(step);
        sql__sess_relock_wait(s);
    }
}
