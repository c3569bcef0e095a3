/* client.c: the two-phase-commit coordinator (Percolator's client, with
 * TiKV's async commit and 1PC). A transaction buffers its writes, reads
 * through its start_ts snapshot resolving locks in the way, and commits by
 * prewriting the primary's shard then the other shards in parallel,
 * committing the primary, then the secondaries (DESIGN.md, "Client").
 */
#include <assert.h>
#include <errno.h>
#include <string.h>
#include <time.h>

#include "txn.h"

#define ASYNC_MAX_KEYS 256
/* Keys per Prewrite/Commit/Rollback request: a transport caps a request's
 * list (libregion: 65,535 entries, nanopb). 1PC needs every key in one
 * request, so a larger transaction commits in two phases. */
#define CHUNK_KEYS 16384

struct mvcc_client
{
    struct mvcc_client_opts o; /* options with defaults filled */
};

struct mut
{
    uint8_t *key;  /* user key (owned) */
    size_t klen;   /* its length */
    uint8_t *val;  /* value (owned; NULL for a delete) */
    size_t vlen;   /* its length */
    int op;        /* MVCC_OP_PUT, MVCC_OP_DELETE, or MVCC_OP_LOCK (lock only) */
    bool plock;    /* we hold a pessimistic lock on it */
    uint64_t shard; /* filled at commit */
};

/* What a write changed in the buffer, kept while savepoints exist so
 * mvcc_txn_rollback_to can put it back (DESIGN.md "Client", savepoints). */
struct undo
{
    uint8_t *key;  /* user key (owned) */
    size_t klen;   /* its length */
    bool existed;  /* the key was buffered before the write */
    int op;        /* its op then (existed) */
    uint8_t *val;  /* its value then (owned; NULL for none) */
    size_t vlen;   /* its length */
};

struct mvcc_txn
{
    struct mvcc_client *c; /* client */
    struct undo *undo;     /* writes since the first savepoint, oldest
                              first (NULL: no savepoint yet) */
    size_t nundo;          /* how many */
    size_t undo_cap;       /* allocated */
    bool savepoints;       /* a savepoint was taken: writes are logged */
    mvcc_ts start_ts;      /* snapshot and identity */
    struct mut *muts;      /* buffered writes, sorted by key */
    size_t n;              /* how many */
    size_t cap;            /* allocated */
    uint8_t *primary;      /* pessimistic: first key locked (owned) */
    size_t primary_len;    /* its length */
    mvcc_ts for_update_ts; /* pessimistic: newest for_update_ts used */
    mvcc_ts *bypass;       /* txns whose locks our reads may skip */
    size_t nbypass;        /* how many */
    size_t bypass_cap;     /* allocated */
    struct heartbeat *hb;  /* keeps the primary's lock alive, or NULL */
    const bool *interrupt; /* ends lock waits once true (borrowed), or
                              NULL (mvcc_txn_set_interrupt) */
    uint64_t deadline_ms;  /* commit_ts decided before (wall ms), or 0
                              (mvcc_txn_set_commit_deadline; atomic: the
                              prewrite threads renew it) */
    mvcc_commit_renew_fn renew; /* renews the deadline, or NULL */
    void *renew_ctx;       /* its context */
    mvcc_commit_check_fn check; /* two phases past the deadline: proves
                              the commit_ts safe instead of renew, or
                              NULL (mvcc_txn_set_commit_check) */
    void *check_ctx;       /* its context */
    uint64_t begun_ms;     /* monotonic ms when start_ts was taken */
    mvcc_ts blocker;       /* the txn whose lock the last lock request
                              stopped at, or 0 (mvcc_txn_blocker) */
    int prewrite_rc;       /* the first failure of one of the commit's
                              prewrite groups, 0 while none (atomic: the
                              others, waiting behind locks, stop on it) */
};

/* A pessimistic transaction holds locks between statements, for as long
 * as its user takes: a thread raises the primary lock's TTL every ttl/3
 * until the transaction ends (TiDB's keepalive). */
struct heartbeat
{
    struct mvcc_client *c; /* client */
    uint8_t *primary;      /* primary key (copy) */
    size_t primary_len;    /* its length */
    mvcc_ts start_ts;      /* transaction */
    pthread_t th;          /* the thread */
    pthread_mutex_t mu;    /* guards stop */
    pthread_cond_t cv;     /* signalled to stop */
    bool stop;             /* the transaction ended */
};

static int kcmp(const void *a, size_t al, const void *b, size_t bl)
{
    size_t n = al < bl ? al : bl;
    int c = n ? memcmp(a, b, n) : 0;
    return c ? c : al < bl ? -1 : al > bl;
}

int mvcc_client_create(const struct mvcc_client_opts *o,
                       struct mvcc_client **out)
{
    if (o == NULL || o->tso == NULL || o->transport.locate == NULL)
        return -EINVAL;
    struct mvcc_client *c = mvcc__calloc(1, sizeof *c);
    if (c == NULL)
        return -ENOMEM;
    c->o = *o;
    if (c->o.lock_ttl == 0)
        c->o.lock_ttl = 3000;
    if (c->o.resolve_budget_ms == 0)
        c->o.resolve_budget_ms = 20000;
    if (c->o.region_budget_ms == 0)
        c->o.region_budget_ms = 20000;
    *out = c;
    return 0;
}

void mvcc_client_destroy(struct mvcc_client *c)
{
    mvcc__free(c);
}

static uint64_t now_ms(void);

/* The TTL for a lock written now. A reader finds a lock expired once its
 * clock passes start_ts's time plus the TTL, so a lock written late in a
 * long transaction (a prewrite 3 s after BEGIN) would be born expired and
 * any reader could roll the transaction back: the time gone since start_ts
 * is added, as TiKV's client does. */
static uint64_t lock_ttl_now(const struct mvcc_txn *t)
{
    uint64_t now = now_ms();
    return t->c->o.lock_ttl + (now > t->begun_ms ? now - t->begun_ms : 0);
}

/* The TTL a prewrite gives its locks. Once a heartbeat runs (a
 * pessimistic txn: since its first lock) it has raised the primary's lock
 * to the managed TTL past the age, and the store writes the prewrite's TTL
 * over our pessimistic lock when it converts it: the plain TTL there cut
 * the primary back to 3 s right when the commit began, so heartbeats held
 * up for 3 s (a kvd restarting) let a reader roll the transaction back
 * under its COMMIT (1105 "expected lock is missing": DESIGN.md "Commit
 * keepalive"). So such a prewrite carries the managed TTL too. */
static uint64_t prewrite_ttl(const struct mvcc_txn *t)
{
    uint64_t ttl = lock_ttl_now(t);
    uint64_t managed = t->c->o.managed_lock_ttl;
    if (t->hb == NULL || managed <= t->c->o.lock_ttl)
        return ttl;
    return ttl - t->c->o.lock_ttl + managed;
}

int mvcc_txn_begin(struct mvcc_client *c, struct mvcc_txn **out)
{
    struct mvcc_txn *t = mvcc__calloc(1, sizeof *t);
    if (t == NULL)
        return -ENOMEM;
    t->c = c;
    t->begun_ms = now_ms();
    int rc = c->o.tso(c->o.tso_ctx, &t->start_ts);
    if (rc != 0) {
        mvcc__free(t);
        return rc;
    }
    *out = t;
    return 0;
}

mvcc_ts mvcc_txn_start_ts(const struct mvcc_txn *t)
{
    return t->start_ts;
}

const mvcc_ts *mvcc_txn_resolved_locks(const struct mvcc_txn *t, size_t *n)
{
    *n = t->nbypass;
    return t->bypass;
}

void mvcc_txn_set_interrupt(struct mvcc_txn *t, const bool *flag)
{
    t->interrupt = flag;
}

void mvcc_txn_set_commit_deadline(struct mvcc_txn *t, uint64_t deadline_ms,
                                  mvcc_commit_renew_fn renew, void *ctx)
{
    t->deadline_ms = deadline_ms;
    t->renew = renew;
    t->renew_ctx = ctx;
}

void mvcc_txn_set_commit_check(struct mvcc_txn *t, mvcc_commit_check_fn check,
                               void *ctx)
{
    t->check = check;
    t->check_ctx = ctx;
}

/* Renewals asked in a row for one request still to be sent while each
 * answers a deadline already past (each took longer than the time it
 * vouched for: a loaded machine, a store that restarts). */
#define RENEW_PAST_TRIES 4

/* The deadline passed: ask for a new one. 0 with *deadline_ms (later than
 * now when future, for a request still to be sent), or the commit's
 * answer. A renewal that succeeded says nothing against the commit, so
 * one whose deadline passed before it returned is asked again, up to
 * RENEW_PAST_TRIES times (then MVCC_COMMIT_DEADLINE). */
static int renew_deadline(struct mvcc_txn *t, uint64_t *deadline_ms,
                          bool future)
{
    uint64_t d = 0;
    int rc = t->renew ? t->renew(t->renew_ctx, &d) : MVCC_COMMIT_DEADLINE;
    for (int i = 1; rc == 0 && future && d <= mvcc__wall_ms(); i++) {
        if (i == RENEW_PAST_TRIES)
            return MVCC_COMMIT_DEADLINE;
        rc = t->renew(t->renew_ctx, &d);
    }
    if (rc != 0)
        return rc;
    uint64_t cur = __atomic_load_n(&t->deadline_ms, __ATOMIC_ACQUIRE);
    while (cur < d && !__atomic_compare_exchange_n(&t->deadline_ms, &cur, d,
                                                   false, __ATOMIC_ACQ_REL,
                                                   __ATOMIC_ACQUIRE))
        ;
    *deadline_ms = d;
    return 0;
}

static bool txn_interrupted(const struct mvcc_txn *t)
{
    return t->interrupt && __atomic_load_n(t->interrupt, __ATOMIC_ACQUIRE);
}

static void heartbeat_stop(struct heartbeat *hb);

static void txn_free(struct mvcc_txn *t)
{
    heartbeat_stop(t->hb);
    for (size_t i = 0; i < t->n; i++) {
        mvcc__free(t->muts[i].key);
        mvcc__free(t->muts[i].val);
    }
    mvcc__free(t->muts);
    for (size_t i = 0; i < t->nundo; i++) {
        mvcc__free(t->undo[i].key);
        mvcc__free(t->undo[i].val);
    }
    mvcc__free(t->undo);
    mvcc__free(t->bypass);
    mvcc__free(t->primary);
    mvcc__free(t);
}

static int shard_of(struct mvcc_client *c, const void *k, size_t kl,
                    uint64_t *shard);

static void release_plocks(struct mvcc_txn *t);

void mvcc_txn_rollback(struct mvcc_txn *t)
{
    if (t == NULL)
        return;
    release_plocks(t);
    txn_free(t);
}

/* Binary search: index of key, or where it would go (*found false). */
static size_t find_mut(const struct mvcc_txn *t, const void *k, size_t kl,
                       bool *found)
{
    size_t lo = 0, hi = t->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = kcmp(t->muts[mid].key, t->muts[mid].klen, k, kl);
        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = false;
    return lo;
}

bool mvcc_txn_holds_lock(const struct mvcc_txn *t, const void *key,
                         size_t key_len)
{
    bool found;
    size_t i = find_mut(t, key, key_len, &found);
    return found && t->muts[i].plock;
}

static int buffer(struct mvcc_txn *t, int op, const void *k, size_t kl,
                  const void *v, size_t vl)
{
    if (k == NULL && kl > 0)
        return -EINVAL;
    uint8_t *val = NULL;
    if (op == MVCC_OP_PUT) {
        val = mvcc__memdup(v ? v : "", vl);
        if (val == NULL)
            return -ENOMEM;
    }
    bool found;
    size_t i = find_mut(t, k, kl, &found);
    /* Log the write for savepoints (locks are kept by a rollback to a
     * savepoint, so taking one needs no entry). */
    struct undo *u = NULL;
    if (t->savepoints && op != MVCC_OP_LOCK) {
        if (t->nundo == t->undo_cap) {
            size_t cap = t->undo_cap ? t->undo_cap * 2 : 8;
            struct undo *nu = mvcc__realloc(t->undo, cap * sizeof *nu);
            if (nu == NULL) {
                mvcc__free(val);
                return -ENOMEM;
            }
            t->undo = nu;
            t->undo_cap = cap;
        }
        u = &t->undo[t->nundo];
        *u = (struct undo){mvcc__memdup(k ? k : "", kl), kl, found, 0, NULL,
                           0};
        if (u->key == NULL) {
            mvcc__free(val);
            return -ENOMEM;
        }
    }
    if (found) {
        if (op == MVCC_OP_LOCK) { /* locking never overrides a write */
            t->muts[i].plock = true;
            return 0;
        }
        if (u != NULL) { /* the old value moves to the log */
            u->op = t->muts[i].op;
            u->val = t->muts[i].val;
            u->vlen = t->muts[i].vlen;
            t->muts[i].val = NULL;
            t->nundo++;
        }
        mvcc__free(t->muts[i].val);
        t->muts[i].val = val;
        t->muts[i].vlen = vl;
        t->muts[i].op = op;
        return 0;
    }
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 8;
        struct mut *m = mvcc__realloc(t->muts, cap * sizeof *m);
        if (m == NULL) {
            if (u != NULL)
                mvcc__free(u->key);
            mvcc__free(val);
            return -ENOMEM;
        }
        t->muts = m;
        t->cap = cap;
    }
    uint8_t *kc = mvcc__memdup(k ? k : "", kl);
    if (kc == NULL) {
        if (u != NULL)
            mvcc__free(u->key);
        mvcc__free(val);
        return -ENOMEM;
    }
    if (u != NULL)
        t->nundo++;
    memmove(&t->muts[i + 1], &t->muts[i], (t->n - i) * sizeof *t->muts);
    t->muts[i] = (struct mut){kc, kl, val, vl, op, op == MVCC_OP_LOCK, 0};
    t->n++;
    return 0;
}

int mvcc_txn_set(struct mvcc_txn *t, const void *key, size_t key_len,
                 const void *value, size_t value_len)
{
    return buffer(t, MVCC_OP_PUT, key, key_len, value, value_len);
}

int mvcc_txn_delete(struct mvcc_txn *t, const void *key, size_t key_len)
{
    return buffer(t, MVCC_OP_DELETE, key, key_len, NULL, 0);
}

int mvcc_txn_savepoint(struct mvcc_txn *t, size_t *mark)
{
    t->savepoints = true;
    *mark = t->nundo;
    return 0;
}

int mvcc_txn_rollback_to(struct mvcc_txn *t, size_t mark)
{
    if (!t->savepoints || mark > t->nundo)
        return -EINVAL;
    /* Newest first, so each key ends as it was at the mark. */
    while (t->nundo > mark) {
        struct undo *u = &t->undo[--t->nundo];
        bool found;
        size_t i = find_mut(t, u->key, u->klen, &found);
        assert(found); /* writes are never dropped but by this */
        struct mut *m = &t->muts[i];
        mvcc__free(m->val);
        if (u->existed) {
            m->op = u->op;
            m->val = u->val;
            m->vlen = u->vlen;
        } else if (m->plock) {
            /* Locked since: the lock stays held (InnoDB's rule). */
            m->op = MVCC_OP_LOCK;
            m->val = NULL;
            m->vlen = 0;
        } else {
            mvcc__free(m->key);
            memmove(&t->muts[i], &t->muts[i + 1],
                    (t->n - i - 1) * sizeof *t->muts);
            t->n--;
        }
        mvcc__free(u->key);
    }
    return 0;
}

/* Lock resolution. */

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void backoff(unsigned attempt)
{
    unsigned ms = attempt < 7 ? 1u << attempt : 100;
    struct timespec d = {0, (long)ms * 1000000L};
    nanosleep(&d, NULL);
}

static int add_bypass(struct mvcc_txn *t, mvcc_ts ts)
{
    for (size_t i = 0; i < t->nbypass; i++)
        if (t->bypass[i] == ts)
            return 0;
    if (t->nbypass == t->bypass_cap) {
        size_t cap = t->bypass_cap ? t->bypass_cap * 2 : 4;
        mvcc_ts *b = mvcc__realloc(t->bypass, cap * sizeof *b);
        if (b == NULL)
            return -ENOMEM;
        t->bypass = b;
        t->bypass_cap = cap;
    }
    t->bypass[t->nbypass++] = ts;
    return 0;
}

static int shard_of(struct mvcc_client *c, const void *k, size_t kl,
                    uint64_t *shard)
{
    const uint8_t *end;
    size_t el;
    return c->o.transport.locate(c->o.transport.ctx, k, kl, shard, &end, &el);
}

/* Region errors (DESIGN "Client: region errors"): a command the shard
 * could not run is resent after a backoff to wherever its keys are now,
 * split per shard when the shard split. One budget per client call. */

bool mvcc_is_region_error(int rc)
{
    return rc <= MVCC_NOT_LEADER && rc >= MVCC_STORE_UNREACHABLE;
}

int64_t mvcc_region_backoff_default(int rc, unsigned attempt)
{
    unsigned sh = attempt < 16 ? attempt : 16;
    int64_t ms;
    switch (rc) {
    case MVCC_NOT_LEADER:
    case MVCC_EPOCH_NOT_MATCH:
    case MVCC_REGION_NOT_FOUND:
    case MVCC_KEY_NOT_IN_REGION:
    case MVCC_STALE_COMMAND:
        /* The transport has fresh routing now: resend at once, then
         * back off in case the new route is wrong too. */
        if (attempt == 0)
            return 0;
        ms = (int64_t)2 << (sh - 1);
        return ms < 500 ? ms : 500;
    case MVCC_SERVER_BUSY:
        ms = (int64_t)10 << sh;
        return ms < 1000 ? ms : 1000;
    case MVCC_STORE_UNREACHABLE:
        ms = (int64_t)5 << sh;
        return ms < 1000 ? ms : 1000;
    default:
        return -1;
    }
}

struct rstate
{
    unsigned attempt;  /* region errors met so far */
    uint64_t deadline; /* monotonic ms: give up after (set at the first) */
};

static void sleep_ms(uint64_t ms)
{
    struct timespec d = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    while (nanosleep(&d, &d) != 0 && errno == EINTR)
        ;
}

/* After region error rc from shard: tells the hook, backs off. 0 to
 * locate again and resend, or the code to fail with. */
static int region_wait(struct mvcc_client *c, struct rstate *rs, int rc,
                       uint64_t shard, const void *key, size_t kl)
{
    if (rs->attempt == 0)
        rs->deadline = now_ms() + c->o.region_budget_ms;
    /* The empty key is "" to the hook (a scan from the start of the
     * keyspace has it as a NULL buffer). */
    struct mvcc_region_error e = {rc, shard, key ? key : "", kl,
                                  rs->attempt};
    int64_t ms = c->o.on_region_error
                     ? c->o.on_region_error(c->o.region_ctx, &e)
                     : mvcc_region_backoff_default(rc, rs->attempt);
    rs->attempt++;
    if (ms < 0 || now_ms() + (uint64_t)ms > rs->deadline)
        return rc;
    if (ms > 0)
        sleep_ms((uint64_t)ms);
    return 0;
}

/* Appends pair p to dst, handing over its key and value (p is left
 * empty, also when that fails). */
static int move_pair(struct mvcc_result *dst, struct mvcc_kvpair *p)
{
    int rc = mvcc__res_push_pair(dst, p->key, p->key_len, p->value,
                                 p->value_len);
    p->key = NULL;
    p->value = NULL;
    return rc;
}

/* Moves what part holds into res: pairs appended on success, the whole
 * result (locks, key, conflict detail) on failure. */
static int take_result(struct mvcc_result *res, struct mvcc_result *part,
                       int rc)
{
    if (rc != 0) {
        mvcc_result_reset(res);
        *res = *part;
        mvcc_result_init(part);
        return rc;
    }
    for (size_t i = 0; i < part->npairs && rc == 0; i++) {
        rc = move_pair(res, &part->pairs[i]);
    }
    if (part->min_commit_ts > res->min_commit_ts)
        res->min_commit_ts = part->min_commit_ts;
    return rc;
}

/* A command over a set of keys. */
enum { KC_GET, KC_COMMIT, KC_ROLLBACK, KC_PLOCK, KC_PROLLBACK };
struct kcall
{
    int op;                                  /* KC_* */
    const struct mvcc_read_opts *ro;         /* GET: options */
    mvcc_ts ts;                              /* GET: read ts; else start_ts */
    mvcc_ts ts2;                             /* COMMIT: commit_ts;
                                                PROLLBACK: for_update_ts */
    const struct mvcc_pessimistic_req *preq; /* PLOCK: request (keys vary) */
    const void *first;                       /* COMMIT: its shard first */
    size_t first_len;                        /* its length */
    bool split;                              /* out: sent as several */
    struct rstate rs;                        /* region retry state */
};

static int kcall_raw(struct mvcc_client *c, const struct kcall *q,
                     uint64_t shard, const struct mvcc_key *keys, size_t n,
                     struct mvcc_result *res)
{
    const struct mvcc_transport *tr = &c->o.transport;
    struct mvcc_pessimistic_req r;
    switch (q->op) {
    case KC_GET:
        return tr->batch_get(tr->ctx, shard, q->ro, keys, n, q->ts, res);
    case KC_COMMIT:
        return tr->commit(tr->ctx, shard, keys, n, q->ts, q->ts2, res);
    case KC_ROLLBACK:
        return tr->batch_rollback(tr->ctx, shard, keys, n, q->ts, res);
    case KC_PLOCK:
        r = *q->preq;
        r.keys = keys;
        r.n = n;
        return tr->acquire_pessimistic_lock(tr->ctx, shard, &r, res);
    default:
        return tr->pessimistic_rollback(tr->ctx, shard, keys, n, q->ts,
                                        q->ts2, res);
    }
}

static int kcall(struct mvcc_client *c, struct kcall *q, uint64_t shard,
                 const struct mvcc_key *keys, size_t n,
                 struct mvcc_result *res);

/* Sends q once per shard of sh[] (COMMIT: q->first's shard first, and
 * nothing more if that fails), merging the results into res. */
static int kcall_split(struct mvcc_client *c, struct kcall *q,
                       const struct mvcc_key *keys, size_t n,
                       const uint64_t *sh, struct mvcc_result *res)
{
    struct mvcc_key *g = mvcc__calloc(n, sizeof *g);
    bool *done = mvcc__calloc(n, sizeof *done);
    struct mvcc_result part;
    mvcc_result_init(&part);
    mvcc__res_clear(res);
    q->split = true;
    int rc = g && done ? 0 : -ENOMEM;
    size_t start = 0;
    for (size_t i = 0; q->op == KC_COMMIT && q->first && i < n; i++)
        if (kcmp(keys[i].data, keys[i].len, q->first, q->first_len) == 0)
            start = i;
    for (size_t k = 0; k < n && rc == 0; k++) {
        size_t i = (start + k) % n;
        if (done[i])
            continue;
        size_t m = 0;
        for (size_t j = 0; j < n; j++)
            if (!done[j] && sh[j] == sh[i]) {
                g[m++] = keys[j];
                done[j] = true;
            }
        rc = take_result(res, &part, kcall(c, q, sh[i], g, m, &part));
    }
    mvcc_result_reset(&part);
    mvcc__free(g);
    mvcc__free(done);
    return rc;
}

/* Sends q for keys (all in shard as last located), retrying region
 * errors: the keys are located again, and sent split per shard if they
 * no longer share one. */
static int kcall(struct mvcc_client *c, struct kcall *q, uint64_t shard,
                 const struct mvcc_key *keys, size_t n,
                 struct mvcc_result *res)
{
    for (;;) {
        int rc = kcall_raw(c, q, shard, keys, n, res);
        if (!mvcc_is_region_error(rc) || n == 0)
            return rc;
        if ((rc = region_wait(c, &q->rs, rc, shard, keys[0].data,
                              keys[0].len)))
            return rc;
        uint64_t *sh = mvcc__calloc(n, sizeof *sh);
        if (sh == NULL)
            return -ENOMEM;
        bool same = true;
        for (size_t i = 0; i < n && rc == 0; i++) {
            rc = shard_of(c, keys[i].data, keys[i].len, &sh[i]);
            same = same && sh[i] == sh[0];
        }
        if (rc == 0 && same)
            shard = sh[0];
        else if (rc == 0)
            rc = kcall_split(c, q, keys, n, sh, res);
        mvcc__free(sh);
        if (rc != 0 || !same)
            return rc;
    }
}

/* One-key commands: located (again after each region error) by key. */
enum { SC_CHECK_TXN, SC_CHECK_SECONDARY, SC_RESOLVE, SC_HEARTBEAT };
struct scall
{
    int op;                               /* SC_* */
    const void *key;                      /* routes the command */
    size_t key_len;                       /* its length */
    const struct mvcc_check_txn_req *req; /* CHECK_TXN */
    mvcc_ts start_ts;                     /* the others: the transaction */
    mvcc_ts ts2;                          /* RESOLVE: commit_ts */
    const void *end;                      /* RESOLVE: range end */
    size_t end_len;                       /* its length */
    uint64_t ttl;                         /* HEARTBEAT: advise_ttl */
};

static int scall(struct mvcc_client *c, const struct scall *q,
                 struct mvcc_result *res)
{
    const struct mvcc_transport *tr = &c->o.transport;
    struct rstate rs = {0, 0};
    struct mvcc_key k = {q->key, q->key_len};
    for (;;) {
        uint64_t shard;
        int rc = shard_of(c, q->key, q->key_len, &shard);
        if (rc != 0)
            return rc;
        switch (q->op) {
        case SC_CHECK_TXN:
            rc = tr->check_txn_status(tr->ctx, shard, q->req, res);
            break;
        case SC_CHECK_SECONDARY:
            rc = tr->check_secondary_locks(tr->ctx, shard, &k, 1,
                                           q->start_ts, res);
            break;
        case SC_RESOLVE:
            rc = tr->resolve_lock(tr->ctx, shard, q->start_ts, q->ts2,
                                  q->key, q->key_len, q->end, q->end_len,
                                  res);
            break;
        default:
            rc = tr->txn_heartbeat(tr->ctx, shard, q->key, q->key_len,
                                   q->start_ts, q->ttl, res);
            break;
        }
        /* A heartbeat is not retried: the next one, a third of a TTL
         * later, locates the primary again, and a transaction ending
         * must not wait for one stuck in backoff. */
        if (!mvcc_is_region_error(rc) || q->op == SC_HEARTBEAT)
            return rc;
        if ((rc = region_wait(c, &rs, rc, shard, q->key, q->key_len)))
            return rc;
    }
}

/* Releases our pessimistic locks (best effort: what is left expires). */
static void release_plocks(struct mvcc_txn *t)
{
    struct mvcc_client *c = t->c;
    if (t->primary == NULL || c->o.transport.pessimistic_rollback == NULL)
        return;
    struct mvcc_result r;
    mvcc_result_init(&r);
    for (size_t i = 0; i < t->n; i++) {
        if (!t->muts[i].plock)
            continue;
        uint64_t shard;
        struct mvcc_key k = {t->muts[i].key, t->muts[i].klen};
        struct kcall q = {KC_PROLLBACK, NULL, t->start_ts, t->for_update_ts,
                          NULL, NULL, 0, false, {0, 0}};
        if (shard_of(c, k.data, k.len, &shard) == 0)
            (void)kcall(c, &q, shard, &k, 1, &r);
    }
    mvcc_result_reset(&r);
}

/* Commits (commit_ts != 0) or rolls back one key of txn start_ts. */
static int resolve_key(struct mvcc_client *c, const void *k, size_t kl,
                       mvcc_ts start_ts, mvcc_ts commit_ts)
{
    int rc;
    /* [k, k\0) holds exactly k. */
    uint8_t *end = mvcc__malloc(kl + 1);
    if (end == NULL)
        return -ENOMEM;
    if (kl)
        memcpy(end, k, kl);
    end[kl] = 0;
    struct mvcc_result r;
    mvcc_result_init(&r);
    struct scall q = {SC_RESOLVE, k, kl, NULL, start_ts, commit_ts, end,
                      kl + 1, 0};
    rc = scall(c, &q, &r);
    mvcc_result_reset(&r);
    mvcc__free(end);
    return rc;
}

/* Async-commit recovery: the txn is committed iff every secondary is
 * locked (commit_ts = the max min_commit_ts) or one is committed. */
static int resolve_async(struct mvcc_client *c,
                         const struct mvcc_lock_info *pl)
{
    mvcc_ts commit_ts = pl->min_commit_ts;
    bool rolled_back = false, committed = false;
    struct mvcc_result r;
    mvcc_result_init(&r);
    int rc = 0;
    for (size_t i = 0; i < pl->nsecondaries && rc == 0; i++) {
        const struct mvcc_key *k = &pl->secondaries[i];
        struct scall q = {SC_CHECK_SECONDARY, k->data, k->len, NULL,
                          pl->start_ts, 0, NULL, 0, 0};
        rc = scall(c, &q, &r);
        if (rc != 0)
            break;
        if (r.status == MVCC_TXN_COMMITTED) {
            committed = true;
            commit_ts = r.commit_ts;
            break;
        }
        if (r.status == MVCC_TXN_ROLLED_BACK) {
            rolled_back = true;
            break;
        }
        if (r.nlocks && r.locks[0].min_commit_ts > commit_ts)
            commit_ts = r.locks[0].min_commit_ts;
    }
    mvcc_result_reset(&r);
    if (rc != 0)
        return rc;
    mvcc_ts final = rolled_back && !committed ? 0 : commit_ts;
    rc = resolve_key(c, pl->primary, pl->primary_len, pl->start_ts, final);
    for (size_t i = 0; i < pl->nsecondaries && rc == 0; i++)
        rc = resolve_key(c, pl->secondaries[i].data, pl->secondaries[i].len,
                         pl->start_ts, final);
    return rc;
}

/* resolve_locks_of's *oldest: the smallest start_ts of the live locks
 * left waiting (0: none). */
static void note_live(mvcc_ts *oldest, mvcc_ts start_ts)
{
    if (oldest && (*oldest == 0 || start_ts < *oldest))
        *oldest = start_ts;
}

/* Resolves what it can of the locks ls: met by t's reads at its start_ts
 * (for_read), by its writes, or (t NULL, not for_read) by GC's scan.
 * Returns 0 when all of them are out of the way (resolved, or bypassable
 * for a read), or MVCC_LOCKED when some are alive, the oldest of those
 * transactions' start_ts then in *oldest (if not NULL). */
static int resolve_locks_of(struct mvcc_client *c, struct mvcc_txn *t,
                            const struct mvcc_lock_info *ls, size_t n,
                            bool for_read, mvcc_ts *oldest)
{
    bool pending = false;
    if (oldest)
        *oldest = 0;
    struct mvcc_result r;
    mvcc_result_init(&r);
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        const struct mvcc_lock_info *li = &ls[i];
        mvcc_ts now;
        if ((rc = c->o.tso(c->o.tso_ctx, &now)))
            break;
        bool expired = MVCC_TS_PHYSICAL(now) >=
                       MVCC_TS_PHYSICAL(li->start_ts) + li->ttl;
        struct mvcc_check_txn_req req = {li->primary, li->primary_len,
                                         li->start_ts,
                                         for_read ? t->start_ts : 0,
                                         now, expired, false};
        struct scall q = {SC_CHECK_TXN, li->primary, li->primary_len, &req,
                          0, 0, NULL, 0, 0};
        rc = scall(c, &q, &r);
        if (rc == MVCC_TXN_NOT_FOUND) {
            rc = 0; /* primary not prewritten yet: wait */
            pending = true;
            note_live(oldest, li->start_ts);
            continue;
        }
        if (rc != 0)
            break;
        if (r.status == MVCC_TXN_COMMITTED) {
            rc = resolve_key(c, li->key, li->key_len, li->start_ts,
                             r.commit_ts);
        } else if (r.status == MVCC_TXN_ROLLED_BACK) {
            rc = resolve_key(c, li->key, li->key_len, li->start_ts, 0);
        } else if (r.nlocks && r.locks[0].use_async_commit && expired) {
            rc = resolve_async(c, &r.locks[0]);
        } else if (for_read && r.nlocks &&
                   r.locks[0].min_commit_ts > t->start_ts &&
                   !r.locks[0].use_async_commit) {
            rc = add_bypass(t, li->start_ts); /* pushed above us */
        } else {
            pending = true;
            note_live(oldest, li->start_ts);
        }
    }
    mvcc_result_reset(&r);
    if (rc != 0)
        return rc;
    return pending ? MVCC_LOCKED : 0;
}

/* The same for locks met by t (for_read: by its reads, at its start_ts). */
static int resolve_locks(struct mvcc_txn *t, const struct mvcc_lock_info *ls,
                         size_t n, bool for_read)
{
    return resolve_locks_of(t->c, t, ls, n, for_read, NULL);
}

/* GC's lock resolution (DESIGN.md "GC"): shard by shard, ScanLock below
 * safe_point in batches of RESOLVE_BATCH, each batch resolved as a
 * writer's locks are. A live lock is left and remembered (MVCC_LOCKED at
 * the end); the scan goes on past it. */
#define RESOLVE_BATCH 256

int mvcc_client_resolve_below(struct mvcc_client *c, mvcc_ts safe_point,
                              uint64_t *resolved)
{
    if (resolved)
        *resolved = 0;
    if (c == NULL || safe_point == 0)
        return -EINVAL;
    const struct mvcc_transport *tr = &c->o.transport;
    if (tr->scan_lock == NULL)
        return -ENOTSUP;
    struct mvcc__buf cur = {0};
    struct mvcc_result part;
    mvcc_result_init(&part);
    struct rstate rs = {0, 0};
    bool pending = false;
    int rc = mvcc__buf_append(&cur, "", 0);
    while (rc == 0) {
        uint64_t shard;
        const uint8_t *se;
        size_t sel;
        if ((rc = tr->locate(tr->ctx, cur.data, cur.len, &shard, &se, &sel)))
            break;
        /* se is borrowed until the next locate (resolving locates) */
        bool last = se == NULL;
        struct mvcc__buf stop = {0};
        if (!last && (rc = mvcc__buf_append(&stop, se, sel))) {
            mvcc__buf_free(&stop);
            break;
        }
        rc = tr->scan_lock(tr->ctx, shard, safe_point - 1, cur.data, cur.len,
                           last ? NULL : stop.data, last ? 0 : stop.len,
                           RESOLVE_BATCH, &part);
        if (mvcc_is_region_error(rc)) {
            rc = region_wait(c, &rs, rc, shard, cur.data, cur.len);
            mvcc__buf_free(&stop);
            continue; /* locate what is left again */
        }
        if (rc == 0 && part.nlocks > 0) {
            rc = resolve_locks_of(c, NULL, part.locks, part.nlocks, false,
                                  NULL);
            if (rc == MVCC_LOCKED) {
                pending = true;
                rc = 0;
            }
            if (rc == 0 && resolved)
                *resolved += part.nlocks;
        }
        bool more = part.nlocks == RESOLVE_BATCH; /* in this shard */
        if (rc == 0 && more) { /* on from just past the last lock seen */
            const struct mvcc_lock_info *l = &part.locks[part.nlocks - 1];
            cur.len = 0;
            if ((rc = mvcc__buf_append(&cur, l->key, l->key_len)) == 0)
                rc = mvcc__buf_append(&cur, "", 1);
        } else if (rc == 0 && !last) { /* on to the next shard */
            cur.len = 0;
            rc = mvcc__buf_append(&cur, stop.data, stop.len);
        }
        mvcc__buf_free(&stop);
        if (rc == 0 && !more && last)
            break; /* the last shard is done */
    }
    mvcc_result_reset(&part);
    mvcc__buf_free(&cur);
    if (rc == 0 && pending)
        rc = MVCC_LOCKED;
    return rc;
}

/* Reads. */

static int read_batch(struct mvcc_txn *t, uint64_t shard,
                      const struct mvcc_key *keys, size_t n,
                      struct mvcc_result *res)
{
    struct mvcc_client *c = t->c;
    uint64_t deadline = now_ms() + c->o.resolve_budget_ms;
    for (unsigned attempt = 0;; attempt++) {
        struct mvcc_read_opts ro;
        memset(&ro, 0, sizeof ro);
        ro.bypass = t->bypass;
        ro.nbypass = t->nbypass;
        struct kcall q = {KC_GET, &ro, t->start_ts, 0, NULL, NULL, 0, false,
                          {0, 0}};
        int rc = kcall(c, &q, shard, keys, n, res);
        if (rc != MVCC_LOCKED)
            return rc;
        rc = resolve_locks(t, res->locks, res->nlocks, true);
        if (rc == MVCC_LOCKED) {
            if (now_ms() > deadline)
                return MVCC_LOCKED;
            backoff(attempt);
        } else if (rc != 0) {
            return rc;
        }
    }
}

int mvcc_txn_get(struct mvcc_txn *t, const void *key, size_t key_len,
                 uint8_t **value, size_t *value_len)
{
    bool found;
    size_t i = find_mut(t, key, key_len, &found);
    if (found && t->muts[i].op != MVCC_OP_LOCK) {
        if (t->muts[i].op == MVCC_OP_DELETE)
            return MVCC_NOTFOUND;
        *value = mvcc__memdup(t->muts[i].val, t->muts[i].vlen);
        *value_len = t->muts[i].vlen;
        return *value ? 0 : -ENOMEM;
    }
    uint64_t shard;
    int rc = shard_of(t->c, key, key_len, &shard);
    if (rc != 0)
        return rc;
    struct mvcc_key k = {key, key_len};
    struct mvcc_result r;
    mvcc_result_init(&r);
    rc = read_batch(t, shard, &k, 1, &r);
    if (rc == 0 && r.npairs == 0)
        rc = MVCC_NOTFOUND;
    if (rc == 0) {
        *value = r.pairs[0].value; /* hand over */
        *value_len = r.pairs[0].value_len;
        r.pairs[0].value = NULL;
    }
    mvcc_result_reset(&r);
    return rc;
}

int mvcc_txn_batch_get(struct mvcc_txn *t, const struct mvcc_key *keys,
                       size_t n, struct mvcc_result *res)
{
    mvcc__res_clear(res);
    if (keys == NULL && n > 0)
        return -EINVAL;
    /* Buffered keys answer at once; the rest go one request per shard
     * (the order of res->pairs is by shard, then request order). */
    /* A few keys (point reads, the common case) use the stack. */
    enum { FEW = 8 };
    struct mvcc_key rest_few[FEW];
    uint64_t shard_few[FEW];
    bool done_few[FEW] = {false};
    bool few = n <= FEW;
    struct mvcc_key *rest = few ? rest_few : mvcc__calloc(n, sizeof *rest);
    uint64_t *shard = few ? shard_few : mvcc__calloc(n, sizeof *shard);
    bool *done = few ? done_few : mvcc__calloc(n, sizeof *done);
    struct mvcc_result r;
    mvcc_result_init(&r);
    int rc = rest && shard && done ? 0 : -ENOMEM;
    for (size_t i = 0; i < n && rc == 0; i++) {
        bool found;
        size_t mi = find_mut(t, keys[i].data, keys[i].len, &found);
        if (!found || t->muts[mi].op == MVCC_OP_LOCK) {
            rc = shard_of(t->c, keys[i].data, keys[i].len, &shard[i]);
            continue;
        }
        done[i] = true;
        if (t->muts[mi].op == MVCC_OP_DELETE)
            continue;
        uint8_t *v = mvcc__memdup(t->muts[mi].val, t->muts[mi].vlen);
        rc = v ? mvcc__res_add_pair(res, keys[i].data, keys[i].len, v,
                                    t->muts[mi].vlen)
               : -ENOMEM;
    }
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (done[i])
            continue;
        size_t m = 0;
        for (size_t j = i; j < n; j++)
            if (!done[j] && shard[j] == shard[i]) {
                rest[m++] = keys[j];
                done[j] = j != i;
            }
        done[i] = true;
        rc = read_batch(t, shard[i], rest, m, &r);
        for (size_t p = 0; rc == 0 && p < r.npairs; p++) {
            rc = move_pair(res, &r.pairs[p]);
        }
    }
    mvcc_result_reset(&r);
    if (!few) {
        mvcc__free(rest);
        mvcc__free(shard);
        mvcc__free(done);
    }
    return rc;
}

int mvcc_txn_scan(struct mvcc_txn *t, const void *start, size_t start_len,
                  const void *end, size_t end_len, size_t limit,
                  struct mvcc_result *res)
{
    struct mvcc_client *c = t->c;
    struct mvcc_result all, part;
    mvcc__res_clear(res);
    mvcc_result_init(&all);
    mvcc_result_init(&part);
    struct mvcc__buf cur = {0};
    int rc = mvcc__buf_append(&cur, start ? start : "", start_len);
    uint64_t deadline = now_ms() + c->o.resolve_budget_ms;
    /* With a limit, storage need return at most limit + (buffered writes
     * in range) pairs: each buffered write hides or adds at most one. Once
     * that many are collected, the first `limit` merged pairs are all at or
     * below the last one collected (`trunc`). */
    bool found;
    size_t mfirst = find_mut(t, start ? start : "", start_len, &found);
    size_t nbuf = 0;
    for (size_t i = mfirst; i < t->n; i++) {
        if (end && kcmp(t->muts[i].key, t->muts[i].klen, end, end_len) >= 0)
            break;
        nbuf++;
    }
    size_t want = limit ? limit + nbuf : 0;
    bool trunc = false;
    struct rstate rs = {0, 0};
    /* Shard by shard: the storage pairs of [start, end) at start_ts. */
    for (unsigned attempt = 0; rc == 0;) {
        uint64_t shard;
        const uint8_t *se;
        size_t sel;
        if ((rc = c->o.transport.locate(c->o.transport.ctx, cur.data, cur.len,
                                        &shard, &se, &sel)))
            break;
        bool last = se == NULL || (end && kcmp(se, sel, end, end_len) >= 0);
        struct mvcc__buf stop = {0};
        if ((rc = mvcc__buf_append(&stop, last ? end : se,
                                   last ? (end ? end_len : 0) : sel))) {
            mvcc__buf_free(&stop);
            break;
        }
        struct mvcc_read_opts ro;
        memset(&ro, 0, sizeof ro);
        ro.bypass = t->bypass;
        ro.nbypass = t->nbypass;
        ro.limit = want ? want - all.npairs : 0;
        bool unbounded = last && end == NULL;
        rc = c->o.transport.scan(c->o.transport.ctx, shard, &ro, cur.data,
                                 cur.len, unbounded ? NULL : stop.data,
                                 unbounded ? 0 : stop.len, t->start_ts,
                                 &part);
        if (mvcc_is_region_error(rc)) {
            rc = region_wait(c, &rs, rc, shard, cur.data, cur.len);
            mvcc__buf_free(&stop);
            continue; /* locate what is left again */
        }
        if (rc == MVCC_LOCKED) {
            rc = resolve_locks(t, part.locks, part.nlocks, true);
            if (rc == MVCC_LOCKED) {
                rc = now_ms() > deadline ? MVCC_LOCKED : 0;
                if (rc == 0)
                    backoff(attempt++);
            }
            mvcc__buf_free(&stop);
            continue; /* retry this shard */
        }
        for (size_t i = 0; rc == 0 && i < part.npairs; i++) {
            rc = move_pair(&all, &part.pairs[i]);
        }
        if (want && all.npairs >= want)
            trunc = true;
        if (rc == 0 && !last && !trunc) {
            cur.len = 0;
            rc = mvcc__buf_append(&cur, stop.data, stop.len);
        }
        mvcc__buf_free(&stop);
        if (last || trunc)
            break;
    }
    /* Merge with the buffered writes (both sorted). */
    size_t mi = mfirst;
    size_t si = 0;
    /* The last pair, copied: its key moves to res in the merge but stays
     * alive there. */
    struct mvcc_kvpair tlv = trunc ? all.pairs[all.npairs - 1]
                                   : (struct mvcc_kvpair){0};
    const struct mvcc_kvpair *tl = trunc ? &tlv : NULL;
    while (rc == 0 && (limit == 0 || res->npairs < limit)) {
        const struct mut *m = NULL;
        if (mi < t->n &&
            (end == NULL ||
             kcmp(t->muts[mi].key, t->muts[mi].klen, end, end_len) < 0) &&
            (tl == NULL ||
             kcmp(t->muts[mi].key, t->muts[mi].klen, tl->key, tl->key_len) <=
                 0))
            m = &t->muts[mi];
        const struct mvcc_kvpair *p = si < all.npairs ? &all.pairs[si] : NULL;
        if (m == NULL && p == NULL)
            break;
        int d = m && p ? kcmp(m->key, m->klen, p->key, p->key_len)
                       : (m ? -1 : 1);
        if (d <= 0 && m->op == MVCC_OP_LOCK) {
            mi++; /* lock only: the stored value stands */
            continue;
        }
        if (d <= 0) {
            if (d == 0)
                si++;
            mi++;
            if (m->op == MVCC_OP_DELETE)
                continue;
            uint8_t *v = mvcc__memdup(m->val, m->vlen);
            rc = v ? mvcc__res_add_pair(res, m->key, m->klen, v, m->vlen)
                   : -ENOMEM;
        } else {
            rc = move_pair(res, &all.pairs[si]);
            si++;
        }
    }
    mvcc__buf_free(&cur);
    mvcc_result_reset(&all);
    mvcc_result_reset(&part);
    return rc;
}

int mvcc_txn_scan_reverse(struct mvcc_txn *t, const void *start,
                          size_t start_len, const void *end, size_t end_len,
                          size_t limit, struct mvcc_result *res)
{
    struct mvcc_client *c = t->c;
    mvcc__res_clear(res);
    if (c->o.transport.locate_prev == NULL)
        return -ENOTSUP;
    if (start == NULL)
        start = "";
    struct mvcc_result all, part;
    mvcc_result_init(&all);
    mvcc_result_init(&part);
    struct mvcc__buf cur = {0}; /* exclusive upper bound of what is left */
    bool unbounded = end == NULL;
    int rc = unbounded ? 0 : mvcc__buf_append(&cur, end, end_len);
    /* Buffered writes in range: [mfirst, mlast). */
    bool found;
    size_t mfirst = find_mut(t, start, start_len, &found);
    size_t mlast = end ? find_mut(t, end, end_len, &found) : t->n;
    if (mlast < mfirst)
        mlast = mfirst;
    size_t want = limit ? limit + (mlast - mfirst) : 0;
    bool trunc = false;
    struct rstate rs = {0, 0};
    uint64_t deadline = now_ms() + c->o.resolve_budget_ms;
    for (unsigned attempt = 0; rc == 0;) {
        uint64_t shard;
        const uint8_t *ss;
        size_t ssl;
        if ((rc = c->o.transport.locate_prev(c->o.transport.ctx,
                                             unbounded ? NULL : cur.data,
                                             cur.len, &shard, &ss, &ssl)))
            break;
        bool last = ss == NULL || kcmp(ss, ssl, start, start_len) <= 0;
        const void *lo = last ? start : ss;
        size_t lol = last ? start_len : ssl;
        struct mvcc_read_opts ro;
        memset(&ro, 0, sizeof ro);
        ro.bypass = t->bypass;
        ro.nbypass = t->nbypass;
        ro.reverse = true;
        ro.limit = want ? want - all.npairs : 0;
        rc = c->o.transport.scan(c->o.transport.ctx, shard, &ro, lo, lol,
                                 unbounded ? NULL : cur.data,
                                 unbounded ? 0 : cur.len, t->start_ts, &part);
        if (mvcc_is_region_error(rc)) {
            rc = region_wait(c, &rs, rc, shard, lo, lol);
            continue; /* locate what is left again */
        }
        if (rc == MVCC_LOCKED) {
            rc = resolve_locks(t, part.locks, part.nlocks, true);
            if (rc == MVCC_LOCKED) {
                rc = now_ms() > deadline ? MVCC_LOCKED : 0;
                if (rc == 0)
                    backoff(attempt++);
            }
            continue;
        }
        for (size_t i = 0; rc == 0 && i < part.npairs; i++) {
            rc = move_pair(&all, &part.pairs[i]);
        }
        if (want && all.npairs >= want)
            trunc = true;
        if (last || trunc || rc != 0)
            break;
        cur.len = 0;
        unbounded = false;
        rc = mvcc__buf_append(&cur, lo, lol);
    }
    /* Merge, descending, with the buffered writes. */
    size_t mi = mlast, si = 0;
    /* The last pair, copied: its key moves to res in the merge but stays
     * alive there. */
    struct mvcc_kvpair tlv = trunc ? all.pairs[all.npairs - 1]
                                   : (struct mvcc_kvpair){0};
    const struct mvcc_kvpair *tl = trunc ? &tlv : NULL;
    while (rc == 0 && (limit == 0 || res->npairs < limit)) {
        const struct mut *m = NULL;
        if (mi > mfirst &&
            (tl == NULL || kcmp(t->muts[mi - 1].key, t->muts[mi - 1].klen,
                                tl->key, tl->key_len) >= 0))
            m = &t->muts[mi - 1];
        const struct mvcc_kvpair *p = si < all.npairs ? &all.pairs[si] : NULL;
        if (m == NULL && p == NULL)
            break;
        int d = m && p ? kcmp(p->key, p->key_len, m->key, m->klen)
                       : (m ? -1 : 1);
        if (d <= 0 && m->op == MVCC_OP_LOCK) {
            mi--;
            continue;
        }
        if (d <= 0) {
            if (d == 0)
                si++;
            mi--;
            if (m->op == MVCC_OP_DELETE)
                continue;
            uint8_t *v = mvcc__memdup(m->val, m->vlen);
            rc = v ? mvcc__res_add_pair(res, m->key, m->klen, v, m->vlen)
                   : -ENOMEM;
        } else {
            rc = move_pair(res, &all.pairs[si]);
            si++;
        }
    }
    mvcc__buf_free(&cur);
    mvcc_result_reset(&all);
    mvcc_result_reset(&part);
    return rc;
}

/* Pessimistic locks. */

static int shard_of(struct mvcc_client *c, const void *k, size_t kl,
                    uint64_t *shard);

static void *heartbeat_main(void *arg)
{
    struct heartbeat *hb = arg;
    struct mvcc_client *c = hb->c;
    uint64_t every = c->o.lock_ttl / 3 ? c->o.lock_ttl / 3 : 1;
    struct mvcc_result r;
    mvcc_result_init(&r);
    pthread_mutex_lock(&hb->mu);
    while (!hb->stop) {
        struct timespec d;
        clock_gettime(CLOCK_MONOTONIC, &d);
        d.tv_sec += (time_t)(every / 1000);
        d.tv_nsec += (long)(every % 1000) * 1000000L;
        if (d.tv_nsec >= 1000000000L) {
            d.tv_sec++;
            d.tv_nsec -= 1000000000L;
        }
        while (!hb->stop &&
               pthread_cond_timedwait(&hb->cv, &hb->mu, &d) == 0)
            ;
        if (hb->stop)
            break;
        pthread_mutex_unlock(&hb->mu);
        mvcc_ts now;
        int rc = c->o.tso(c->o.tso_ctx, &now);
        if (rc != 0) {
            /* No timestamp (a pdd election): the age by this host's clock,
             * which the TSO's physical part follows, so the lock does not
             * lapse while the TSO is away (a reader resolves it as soon
             * as the TSO is back). */
            now = MVCC_TS_OF_MS(mvcc__wall_ms());
            rc = 0;
        }
        if (rc == 0) {
            uint64_t age =
                MVCC_TS_PHYSICAL(now) > MVCC_TS_PHYSICAL(hb->start_ts)
                    ? MVCC_TS_PHYSICAL(now) - MVCC_TS_PHYSICAL(hb->start_ts)
                    : 0;
            uint64_t ttl = c->o.managed_lock_ttl ? c->o.managed_lock_ttl
                                                 : c->o.lock_ttl;
            struct scall q = {SC_HEARTBEAT, hb->primary, hb->primary_len,
                              NULL, hb->start_ts, 0, NULL, 0, age + ttl};
            rc = scall(c, &q, &r);
        }
        pthread_mutex_lock(&hb->mu);
        if (rc == MVCC_TXN_NOT_FOUND)
            break; /* committed or rolled back: nothing to keep alive */
    }
    pthread_mutex_unlock(&hb->mu);
    mvcc_result_reset(&r);
    return NULL;
}

static void heartbeat_start(struct mvcc_txn *t, const uint8_t *primary,
                            size_t primary_len)
{
    if (t->hb != NULL || t->c->o.transport.txn_heartbeat == NULL)
        return;
    struct heartbeat *hb = mvcc__calloc(1, sizeof *hb);
    if (hb == NULL)
        return; /* best effort: without it the locks just expire sooner */
    hb->c = t->c;
    hb->primary = mvcc__memdup(primary ? primary : (const uint8_t *)"",
                               primary_len);
    hb->primary_len = primary_len;
    hb->start_ts = t->start_ts;
    pthread_mutex_init(&hb->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&hb->cv, &ca);
    pthread_condattr_destroy(&ca);
    if (hb->primary == NULL ||
        pthread_create(&hb->th, NULL, heartbeat_main, hb) != 0) {
        pthread_mutex_destroy(&hb->mu);
        pthread_cond_destroy(&hb->cv);
        mvcc__free(hb->primary);
        mvcc__free(hb);
        return;
    }
    t->hb = hb;
}

static void heartbeat_stop(struct heartbeat *hb)
{
    if (hb == NULL)
        return;
    pthread_mutex_lock(&hb->mu);
    hb->stop = true;
    pthread_cond_signal(&hb->cv);
    pthread_mutex_unlock(&hb->mu);
    pthread_join(hb->th, NULL);
    pthread_mutex_destroy(&hb->mu);
    pthread_cond_destroy(&hb->cv);
    mvcc__free(hb->primary);
    mvcc__free(hb);
}

/* Commits that beat one lock request to its keys before it gives up with
 * MVCC_CONFLICT (each one took the keys first: a hot key under a stream
 * of writers). */
#define MAX_LOCK_CONFLICTS 256

/* A lock request with a wait (wait_ms > 0) ends by the wait's deadline:
 * each attempt waits only what is left of it, and once it has passed a
 * lock still in the way is answered (MVCC_LOCK_WAIT_TIMEOUT), not asked
 * for again. The resolve budget is for resolving locks: only a lock
 * found dead and resolved sends the request once more (without a wait).
 * Before, a timed-out request whose lock could not be named (a store or
 * transport answering the timeout without it) was sent again until the
 * budget ran out: libsql's 500 ms slices lasted 5 s on the cluster. */
static int64_t wait_left(int64_t wait_ms, uint64_t wait_end)
{
    if (wait_ms <= 0)
        return wait_ms;
    uint64_t now = now_ms();
    return now >= wait_end ? 0 : (int64_t)(wait_end - now);
}

static int lock_group_try(struct mvcc_txn *t, uint64_t shard,
                          const struct mvcc_key *keys, size_t n,
                          int64_t wait_ms, bool return_values,
                          struct mvcc_result *res, bool *split,
                          mvcc_ts *last_fut)
{
    struct mvcc_client *c = t->c;
    uint64_t deadline = now_ms() + c->o.resolve_budget_ms;
    uint64_t wait_end = wait_ms > 0 ? now_ms() + (uint64_t)wait_ms : 0;
    unsigned conflicts = 0;
    for (unsigned attempt = 0;; attempt++) {
        mvcc_ts fut;
        int rc = c->o.tso(c->o.tso_ctx, &fut);
        if (rc != 0)
            return rc;
        *last_fut = fut;
        struct mvcc_pessimistic_req req;
        memset(&req, 0, sizeof req);
        req.keys = keys;
        req.n = n;
        req.primary = t->primary;
        req.primary_len = t->primary_len;
        req.start_ts = t->start_ts;
        req.for_update_ts = fut;
        req.lock_ttl = lock_ttl_now(t);
        req.wait_timeout_ms = wait_left(wait_ms, wait_end);
        req.return_values = return_values;
        req.interrupt = t->interrupt;
        struct kcall q = {KC_PLOCK, NULL, t->start_ts, 0, &req, NULL, 0,
                          false, {0, 0}};
        rc = kcall(c, &q, shard, keys, n, res);
        *split = *split || q.split;
        if (rc == 0) {
            if (fut > t->for_update_ts)
                t->for_update_ts = fut;
            return 0;
        }
        if (rc == MVCC_CONFLICT && ++conflicts <= MAX_LOCK_CONFLICTS) {
            /* Committed after fut (often the holder this request waited
             * for): take the lock at a newer one. That commit is progress,
             * not a stuck lock, and the wait before it is no resolution
             * time: the budget starts again. */
            deadline = now_ms() + c->o.resolve_budget_ms;
            continue;
        }
        if (now_ms() > deadline)
            return rc;
        if (rc != MVCC_LOCKED && rc != MVCC_LOCK_WAIT_TIMEOUT)
            return rc;
        if (txn_interrupted(t))
            return MVCC_INTERRUPTED; /* not worth a resolution now */
        bool waited = wait_ms > 0 && now_ms() >= wait_end;
        if (waited && res->nlocks == 0)
            return MVCC_LOCK_WAIT_TIMEOUT; /* nothing named to resolve */
        /* The holder may be dead: resolve what has expired, else give up. */
        int rrc = resolve_locks(t, res->locks, res->nlocks, false);
        if (rrc != 0) {
            if (rrc != MVCC_LOCKED)
                return rrc;
            return waited ? MVCC_LOCK_WAIT_TIMEOUT : rc;
        }
        if (!waited)
            backoff(attempt);
    }
}

/* Locks keys (all in shard as last located), all or nothing: a request
 * split by a shard split may have locked part of them before failing, so
 * those (the ones this txn did not hold already) are released. */
static int lock_group(struct mvcc_txn *t, uint64_t shard,
                      const struct mvcc_key *keys, size_t n, int64_t wait_ms,
                      bool return_values, struct mvcc_result *res)
{
    struct mvcc_client *c = t->c;
    if (c->o.transport.acquire_pessimistic_lock == NULL)
        return -ENOTSUP;
    bool split = false;
    mvcc_ts fut = 0;
    int rc = lock_group_try(t, shard, keys, n, wait_ms, return_values, res,
                            &split, &fut);
    if (rc == 0 || !split || c->o.transport.pessimistic_rollback == NULL)
        return rc;
    struct mvcc_result r;
    mvcc_result_init(&r);
    for (size_t i = 0; i < n; i++) {
        bool found;
        size_t mi = find_mut(t, keys[i].data, keys[i].len, &found);
        uint64_t sh;
        if ((found && t->muts[mi].plock) ||
            shard_of(c, keys[i].data, keys[i].len, &sh) != 0)
            continue;
        struct kcall q = {KC_PROLLBACK, NULL, t->start_ts, fut, NULL, NULL, 0,
                          false, {0, 0}};
        (void)kcall(c, &q, sh, &keys[i], 1, &r); /* best effort */
    }
    mvcc_result_reset(&r);
    return rc;
}

/* The holder of the first lock res reports that is not t's own. */
static mvcc_ts blocker_of(const struct mvcc_txn *t,
                          const struct mvcc_result *res)
{
    for (size_t i = 0; i < res->nlocks; i++)
        if (res->locks[i].start_ts != t->start_ts)
            return res->locks[i].start_ts;
    return 0;
}

static int lock_keys(struct mvcc_txn *t, const struct mvcc_key *keys,
                     size_t n, int64_t wait_ms, bool return_values,
                     struct mvcc_result *res)
{
    if (n == 0)
        return 0;
    if (keys == NULL)
        return -EINVAL;
    t->blocker = 0;
    if (t->primary == NULL) {
        t->primary = mvcc__memdup(keys[0].data ? keys[0].data : "",
                                  keys[0].len);
        if (t->primary == NULL)
            return -ENOMEM;
        t->primary_len = keys[0].len;
    }
    struct mvcc_key *g = mvcc__calloc(n, sizeof *g);
    uint64_t *shard = mvcc__calloc(n, sizeof *shard);
    bool *done = mvcc__calloc(n, sizeof *done);
    int rc = g && shard && done ? 0 : -ENOMEM;
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = shard_of(t->c, keys[i].data, keys[i].len, &shard[i]);
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (done[i])
            continue;
        size_t m = 0;
        for (size_t j = i; j < n; j++)
            if (!done[j] && shard[j] == shard[i]) {
                g[m++] = keys[j];
                done[j] = true;
            }
        rc = lock_group(t, shard[i], g, m, wait_ms, return_values, res);
        if (rc == MVCC_LOCKED || rc == MVCC_LOCK_WAIT_TIMEOUT)
            t->blocker = blocker_of(t, res);
        for (size_t j = 0; j < m && rc == 0; j++)
            rc = buffer(t, MVCC_OP_LOCK, g[j].data, g[j].len, NULL, 0);
    }
    if (rc == 0)
        heartbeat_start(t, t->primary, t->primary_len);
    if (rc != 0) {
        /* The primary is only ours once its lock is: else forget it. */
        bool found;
        size_t i = find_mut(t, t->primary, t->primary_len, &found);
        if (!found || !t->muts[i].plock) {
            mvcc__free(t->primary);
            t->primary = NULL;
            t->primary_len = 0;
        }
    }
    mvcc__free(g);
    mvcc__free(shard);
    mvcc__free(done);
    return rc;
}

int mvcc_txn_lock_keys(struct mvcc_txn *t, const struct mvcc_key *keys,
                       size_t n, int64_t wait_ms)
{
    struct mvcc_result r;
    mvcc_result_init(&r);
    int rc = lock_keys(t, keys, n, wait_ms, false, &r);
    mvcc_result_reset(&r);
    return rc;
}

mvcc_ts mvcc_txn_blocker(const struct mvcc_txn *t)
{
    return t->blocker;
}

int mvcc_txn_get_for_update(struct mvcc_txn *t, const void *key,
                            size_t key_len, int64_t wait_ms, uint8_t **value,
                            size_t *value_len)
{
    struct mvcc_key k = {key, key_len};
    struct mvcc_result r;
    mvcc_result_init(&r);
    int rc = lock_keys(t, &k, 1, wait_ms, true, &r);
    if (rc == 0) {
        bool found;
        size_t i = find_mut(t, key, key_len, &found);
        if (found && t->muts[i].op != MVCC_OP_LOCK) {
            rc = mvcc_txn_get(t, key, key_len, value, value_len); /* ours */
        } else if (r.npairs == 0) {
            rc = MVCC_NOTFOUND;
        } else {
            *value = r.pairs[0].value; /* hand over */
            *value_len = r.pairs[0].value_len;
            r.pairs[0].value = NULL;
        }
    }
    mvcc_result_reset(&r);
    return rc;
}

/* Commit. */

/* What a group's prewrite calls met beyond their result code. */
struct pw_out
{
    bool one_pc_split;  /* 1PC refused: the keys span shards now */
    bool late;          /* the commit deadline refused a request without
                           the primary (async: the primary may be
                           written) */
};

struct group
{
    struct mvcc_txn *t;            /* txn */
    size_t first;                  /* first mutation index */
    size_t n;                      /* mutations */
    uint64_t shard;                /* where */
    bool one_pc;                   /* try 1PC */
    bool async;                    /* async commit */
    const struct mvcc_key *secs;   /* async: secondaries */
    size_t nsecs;                  /* how many */
    int rc;                        /* prewrite outcome */
    mvcc_ts min_commit_ts;         /* async result */
    mvcc_ts commit_ts;             /* 1PC result */
    bool prewritten;               /* locks may exist (roll back on failure) */
    struct pw_out pw;              /* what the prewrite calls met */
};

static int prewrite_call(struct mvcc_client *c, uint64_t shard,
                         const struct mvcc_prewrite_req *req,
                         struct mvcc_result *res, struct rstate *rs,
                         struct pw_out *pw);

/* Sends req once per shard of sh[], merging the results into res. */
static int prewrite_split(struct mvcc_client *c,
                          const struct mvcc_prewrite_req *req,
                          const uint64_t *sh, struct mvcc_result *res,
                          struct rstate *rs, struct pw_out *pw)
{
    size_t n = req->n;
    struct mvcc_mutation *g = mvcc__calloc(n, sizeof *g);
    bool *done = mvcc__calloc(n, sizeof *done);
    struct mvcc_result part;
    mvcc_result_init(&part);
    mvcc__res_clear(res);
    int rc = g && done ? 0 : -ENOMEM;
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (done[i])
            continue;
        size_t m = 0;
        for (size_t j = i; j < n; j++)
            if (!done[j] && sh[j] == sh[i]) {
                g[m++] = req->mutations[j];
                done[j] = true;
            }
        struct mvcc_prewrite_req sub = *req;
        sub.mutations = g;
        sub.n = m;
        rc = take_result(res, &part,
                         prewrite_call(c, sh[i], &sub, &part, rs, pw));
    }
    mvcc_result_reset(&part);
    mvcc__free(g);
    mvcc__free(done);
    return rc;
}

/* Prewrite of req's mutations (all in shard as last located), retrying
 * region errors as kcall does. A 1PC request whose keys no longer share
 * a shard is not split (each part would commit on its own): it fails with
 * the region error and pw->one_pc_split set, having written nothing. */
static bool holds_primary(const struct mvcc_prewrite_req *req)
{
    for (size_t i = 0; i < req->n; i++)
        if (kcmp(req->mutations[i].key, req->mutations[i].key_len,
                 req->primary, req->primary_len) == 0)
            return true;
    return false;
}

/* MVCC_MAX_TS_NOT_SYNCED on a request without the primary: 5, 10 .. 80 ms
 * apart within the region budget (the store syncs within a TSO call). */
static int max_ts_wait(struct mvcc_client *c, struct rstate *rs)
{
    if (rs->attempt == 0)
        rs->deadline = now_ms() + c->o.region_budget_ms;
    unsigned sh = rs->attempt < 4 ? rs->attempt : 4;
    uint64_t ms = (uint64_t)5 << sh;
    rs->attempt++;
    if (now_ms() + ms > rs->deadline)
        return MVCC_MAX_TS_NOT_SYNCED;
    sleep_ms(ms);
    return 0;
}

static int prewrite_call(struct mvcc_client *c, uint64_t shard,
                         const struct mvcc_prewrite_req *req,
                         struct mvcc_result *res, struct rstate *rs,
                         struct pw_out *pw)
{
    for (;;) {
        int rc = c->o.transport.prewrite(c->o.transport.ctx, shard, req, res);
        if (rc == MVCC_COMMIT_DEADLINE) {
            /* The request wrote nothing; one holding the primary means no
             * async primary lock exists (two phases are then safe). */
            if (!req->try_one_pc && !holds_primary(req))
                pw->late = true;
            return rc;
        }
        if (rc == MVCC_MAX_TS_NOT_SYNCED) {
            /* A store whose leader has not raised max_ts from the TSO yet
             * refused a 1PC or async prewrite, writing nothing (DESIGN
             * "Client: 1PC and async commit under leader changes"). With
             * the primary in it, no async primary lock exists: the commit
             * starts over as plain 2PC. Without it, the async primary
             * may be written already, so this part must be async-safe
             * too: resend it once the store has synced. */
            if (req->try_one_pc || holds_primary(req))
                return rc;
            if ((rc = max_ts_wait(c, rs)))
                return rc;
            continue;
        }
        if (!mvcc_is_region_error(rc) || req->n == 0)
            return rc;
        int region_rc = rc;
        if ((rc = region_wait(c, rs, rc, shard, req->mutations[0].key,
                              req->mutations[0].key_len)))
            return rc;
        uint64_t *sh = mvcc__calloc(req->n, sizeof *sh);
        if (sh == NULL)
            return -ENOMEM;
        bool same = true;
        for (size_t i = 0; i < req->n && rc == 0; i++) {
            rc = shard_of(c, req->mutations[i].key, req->mutations[i].key_len,
                          &sh[i]);
            same = same && sh[i] == sh[0];
        }
        if (rc == 0 && same) {
            shard = sh[0];
        } else if (rc == 0 && req->try_one_pc) {
            pw->one_pc_split = true;
            rc = region_rc;
        } else if (rc == 0) {
            rc = prewrite_split(c, req, sh, res, rs, pw);
        }
        mvcc__free(sh);
        if (rc != 0 || !same)
            return rc;
    }
}

/* A prewrite behind an older transaction's live lock backs off this many
 * times (1 + 2 + 4 + 8 ms) before it gives way with MVCC_CONFLICT (a
 * write conflict with that transaction, which callers already run again:
 * libsql's id allocator and DDL steps retry it, sqld answers 1213): long
 * enough for a commit that is finishing (an async commit's locks, a
 * primary being committed), far below the resolve budget that two
 * prewrites waiting on each other used to spend. */
#define WAIT_DIE_BACKOFFS 4

static int prewrite_group(struct group *g)
{
    struct mvcc_txn *t = g->t;
    struct mvcc_client *c = t->c;
    struct mvcc_mutation *ms = mvcc__calloc(g->n, sizeof *ms);
    if (ms == NULL)
        return -ENOMEM;
    for (size_t i = 0; i < g->n; i++) {
        const struct mut *m = &t->muts[g->first + i];
        ms[i] = (struct mvcc_mutation){m->op, m->key, m->klen, m->val,
                                       m->vlen, m->plock};
    }
    struct mvcc_prewrite_req req;
    memset(&req, 0, sizeof req);
    req.mutations = ms;
    req.n = g->n;
    req.primary = t->primary ? t->primary : t->muts[0].key;
    req.primary_len = t->primary ? t->primary_len : t->muts[0].klen;
    req.for_update_ts = t->for_update_ts;
    req.start_ts = t->start_ts;
    req.lock_ttl = prewrite_ttl(t);
    req.txn_size = t->n;
    req.min_commit_ts = t->start_ts + 1;
    req.use_async_commit = g->async;
    req.secondaries = g->secs;
    req.nsecondaries = g->nsecs;
    req.try_one_pc = g->one_pc;
    if (g->one_pc || g->async)
        req.deadline_ms = __atomic_load_n(&t->deadline_ms, __ATOMIC_ACQUIRE);
    unsigned renewals = 0;
    unsigned older_waits = 0; /* backoffs behind an older live lock */
    struct mvcc_result r;
    mvcc_result_init(&r);
    uint64_t deadline = now_ms() + c->o.resolve_budget_ms;
    int rc = 0;
    g->prewritten = true;
    /* At most CHUNK_KEYS per request (1PC and async stay below it). */
    for (size_t off = 0; off < g->n && rc == 0; off += CHUNK_KEYS) {
        req.mutations = ms + off;
        req.n = g->n - off < CHUNK_KEYS ? g->n - off : CHUNK_KEYS;
        for (unsigned attempt = 0;; attempt++) {
            struct rstate rs = {0, 0};
            rc = prewrite_call(c, g->shard, &req, &r, &rs, &g->pw);
            if (rc == MVCC_COMMIT_DEADLINE && g->pw.late && t->renew &&
                renewals++ < 8) {
                /* The deadline refused a request without the primary,
                 * which wrote nothing, after the async primary may have
                 * been written: a new deadline, and the same request again
                 * (parts of it already written answer what they hold). A
                 * refused primary is left to two phases (mvcc_txn_commit). */
                if ((rc = renew_deadline(t, &req.deadline_ms, true)))
                    break;
                continue;
            }
            if (rc != MVCC_LOCKED)
                break;
            mvcc_ts oldest;
            rc = resolve_locks_of(c, t, r.locks, r.nlocks, false, &oldest);
            if (rc == MVCC_LOCKED) {
                /* Wait-die (DESIGN "Client": prewrites that wait on each
                 * other): behind an older transaction's live lock, give
                 * way after a few backoffs; behind a younger one's, wait
                 * (it gives way if it waits on us). */
                if (oldest != 0 && oldest < t->start_ts &&
                    ++older_waits > WAIT_DIE_BACKOFFS) {
                    rc = MVCC_CONFLICT;
                    break;
                }
                /* Another group failed: the commit is lost, and our
                 * locks only hold others up (a transaction that gave
                 * way in one group must not wait on in another behind a
                 * younger lock). This request was refused: MVCC_LOCKED,
                 * a definite failure (nothing of it written). */
                if (__atomic_load_n(&t->prewrite_rc, __ATOMIC_ACQUIRE))
                    break;
                if (now_ms() > deadline)
                    break;
                backoff(attempt);
            } else if (rc != 0) {
                break;
            }
        }
        if (rc == 0) {
            if (r.min_commit_ts > g->min_commit_ts)
                g->min_commit_ts = r.min_commit_ts;
            g->commit_ts = r.commit_ts;
        }
    }
    mvcc_result_reset(&r);
    mvcc__free(ms);
    if (rc != 0) {
        int none = 0;
        __atomic_compare_exchange_n(&t->prewrite_rc, &none, rc, false,
                                    __ATOMIC_ACQ_REL, __ATOMIC_RELAXED);
    }
    return rc;
}

static void *prewrite_thread(void *arg)
{
    struct group *g = arg;
    g->rc = prewrite_group(g);
    return NULL;
}

static void keys_of(const struct mvcc_txn *t, const struct group *g,
                    struct mvcc_key *out)
{
    for (size_t i = 0; i < g->n; i++) {
        out[i].data = t->muts[g->first + i].key;
        out[i].len = t->muts[g->first + i].klen;
    }
}

/* Whether a request that failed with rc may have applied all the same:
 * no store answered it for sure (its reply was lost, the connection
 * failed, the store timed out, or region errors went on past the retry
 * budget, where an earlier try may have gone through). A store's own
 * refusal (a conflict, a rollback record, a missing lock) is an answer. */
static bool may_have_applied(int rc)
{
    return mvcc_is_region_error(rc) || rc == -ETIMEDOUT ||
           rc == -ECONNRESET || rc == -ECONNABORTED || rc == -EPIPE ||
           rc == -ENOTCONN || rc == -EIO;
}

/* After a failed 1PC or async-commit prewrite: whether the transaction
 * may have committed. It has if every lock got written (1PC: its one
 * request applied), so it may have when no group's prewrite was refused
 * for sure and one failed in a way that may have applied. The primary's
 * group is sent first: when it failed the others were not sent, and
 * without their locks an async transaction cannot commit. */
static bool prewrite_undetermined(const struct group *gs, size_t ng)
{
    if (gs[0].rc != 0)
        return ng == 1 && may_have_applied(gs[0].rc);
    bool maybe = false;
    for (size_t i = 1; i < ng; i++) {
        if (gs[i].rc == 0)
            continue;
        if (!may_have_applied(gs[i].rc))
            return false;
        maybe = true;
    }
    return maybe;
}

/* After the primary's commit request failed in a way that may have
 * applied (2PC): rolls the primary back to find out. 0: it had committed
 * (*commit_ts set to its commit_ts); fail_rc: rolled back now, so the
 * transaction never commits (the rest may be rolled back too);
 * MVCC_UNDETERMINED: no answer either, and the locks must stay for
 * readers to settle through the primary (rolling back the secondaries of
 * a primary whose commit lands later would tear the transaction). */
static int settle_primary(struct mvcc_txn *t, uint64_t shard, const void *pk,
                          size_t pkl, mvcc_ts *commit_ts, int fail_rc)
{
    struct mvcc_result r;
    mvcc_result_init(&r);
    struct mvcc_key k = {pk, pkl};
    struct kcall q = {KC_ROLLBACK, NULL, t->start_ts, 0, NULL, NULL, 0,
                      false, {0, 0}};
    int rc = kcall(t->c, &q, shard, &k, 1, &r);
    if (rc == MVCC_COMMITTED && r.commit_ts != 0)
        *commit_ts = r.commit_ts;
    mvcc_result_reset(&r);
    if (rc == MVCC_COMMITTED)
        return 0;
    return rc == 0 ? fail_rc : MVCC_UNDETERMINED;
}

/* After a 1PC or async-commit prewrite that may have committed
 * (prewrite_undetermined): asks after the keys of each group whose
 * prewrite got no sure answer, as async-commit recovery asks after a dead
 * coordinator's secondaries. CheckSecondaryLocks rolls a missing lock
 * back, so a prewrite still on its way cannot write it later: once a key
 * is rolled back the transaction can never commit. 0: committed,
 * *commit_ts set: a key was committed (1PC applied, or a reader committed
 * it), or (async) every key is locked, and the commit_ts is the largest
 * min_commit_ts;
 * fail_rc: a key is rolled back, or (1PC) holds a plain lock (a kvd that
 * took it as two-phase), so it never commits; MVCC_UNDETERMINED: no
 * answer this time either. */
static int settle_prewrite(struct mvcc_txn *t, const struct group *gs,
                           size_t ng, bool async, mvcc_ts *commit_ts,
                           int fail_rc)
{
    mvcc_ts ts = 0;
    for (size_t i = 0; i < ng; i++)
        if (gs[i].rc == 0 && gs[i].min_commit_ts > ts)
            ts = gs[i].min_commit_ts;
    struct mvcc_result r;
    mvcc_result_init(&r);
    int rc = 0;
    for (size_t i = 0; i < ng && rc == 0; i++) {
        if (gs[i].rc == 0)
            continue;
        for (size_t j = 0; j < gs[i].n; j++) {
            const struct mut *m = &t->muts[gs[i].first + j];
            struct scall q = {SC_CHECK_SECONDARY, m->key, m->klen, NULL,
                              t->start_ts, 0, NULL, 0, 0};
            if ((rc = scall(t->c, &q, &r)) != 0)
                break;
            if (r.status == MVCC_TXN_COMMITTED) {
                *commit_ts = r.commit_ts;
                mvcc_result_reset(&r);
                return 0;
            }
            if (r.status != MVCC_TXN_LOCKED || !async) {
                mvcc_result_reset(&r);
                return fail_rc;
            }
            if (r.nlocks && r.locks[0].min_commit_ts > ts)
                ts = r.locks[0].min_commit_ts;
        }
    }
    mvcc_result_reset(&r);
    if (rc != 0)
        return MVCC_UNDETERMINED;
    *commit_ts = ts;
    return 0;
}

static void rollback_groups(struct mvcc_txn *t, struct group *gs, size_t ng,
                            struct mvcc_key *keys)
{
    struct mvcc_client *c = t->c;
    struct mvcc_result r;
    mvcc_result_init(&r);
    for (size_t i = 0; i < ng; i++) {
        if (!gs[i].prewritten)
            continue;
        keys_of(t, &gs[i], keys);
        /* Best effort: what fails here is resolved by readers later. */
        for (size_t off = 0; off < gs[i].n; off += CHUNK_KEYS) {
            struct kcall q = {KC_ROLLBACK, NULL, t->start_ts, 0, NULL, NULL,
                              0, false, {0, 0}};
            (void)kcall(c, &q, gs[i].shard, keys + off,
                        gs[i].n - off < CHUNK_KEYS ? gs[i].n - off
                                                   : CHUNK_KEYS, &r);
        }
    }
    mvcc_result_reset(&r);
}

static void heartbeat_if_long(struct mvcc_txn *t)
{
    struct mvcc_client *c = t->c;
    mvcc_ts now;
    if (c->o.tso(c->o.tso_ctx, &now) != 0)
        return;
    uint64_t age = MVCC_TS_PHYSICAL(now) - MVCC_TS_PHYSICAL(t->start_ts);
    if (age * 2 < c->o.lock_ttl)
        return;
    struct mvcc_result r;
    mvcc_result_init(&r);
    struct scall q = {SC_HEARTBEAT, t->primary ? t->primary : t->muts[0].key,
                      t->primary ? t->primary_len : t->muts[0].klen, NULL,
                      t->start_ts, 0, NULL, 0, age + c->o.lock_ttl};
    (void)scall(c, &q, &r);
    mvcc_result_reset(&r);
}

static bool fail_at(struct mvcc_client *c, int point)
{
    return c->o.failpoint && c->o.failpoint(c->o.failpoint_ctx, point) != 0;
}

int mvcc_txn_commit(struct mvcc_txn *t, mvcc_ts *commit_ts_out)
{
    struct mvcc_client *c = t->c;
    struct group *gs = NULL;
    struct mvcc_key *keys = NULL, *secs = NULL;
    size_t ng = 0;
    int rc = 0;
    mvcc_ts commit_ts = 0;
    if (t->n == 0) {
        if (commit_ts_out)
            *commit_ts_out = t->start_ts;
        goto out;
    }
    gs = mvcc__calloc(t->n, sizeof *gs);
    keys = mvcc__calloc(t->n, sizeof *keys);
    if (gs == NULL || keys == NULL) {
        rc = -ENOMEM;
        goto out;
    }
    bool no_1pc = false, no_async = false;
regroup:
    ng = 0;
    t->prewrite_rc = 0; /* no group of this attempt has failed */
    /* Keys are sorted and shards are ranges: groups are runs. */
    for (size_t i = 0; i < t->n; i++) {
        if ((rc = shard_of(c, t->muts[i].key, t->muts[i].klen,
                           &t->muts[i].shard)))
            goto out;
        if (ng == 0 || gs[ng - 1].shard != t->muts[i].shard)
            gs[ng++] = (struct group){t, i, 0, t->muts[i].shard, false,
                                      false, NULL, 0, 0, 0, 0, false,
                                      {false, false}};
        gs[ng - 1].n++;
    }
    /* The primary: the first key locked (pessimistic), else the smallest.
     * Its group goes first. */
    const uint8_t *pk = t->primary ? t->primary : t->muts[0].key;
    size_t pkl = t->primary ? t->primary_len : t->muts[0].klen;
    bool pfound;
    size_t pi = find_mut(t, pk, pkl, &pfound);
    if (!pfound) { /* cannot happen: a primary is a locked key */
        rc = MVCC_EINTERNAL;
        goto out;
    }
    for (size_t i = 1; i < ng; i++)
        if (gs[i].first <= pi && pi < gs[i].first + gs[i].n) {
            struct group g = gs[0];
            gs[0] = gs[i];
            gs[i] = g;
        }
    /* A deadline already passed would refuse any 1PC or async request:
     * two phases at once. */
    if (t->deadline_ms && mvcc__wall_ms() > t->deadline_ms)
        no_1pc = no_async = true;
    bool one_pc = c->o.one_pc && ng == 1 && !no_1pc && t->n <= CHUNK_KEYS;
    bool async = !one_pc && c->o.async_commit && !no_async &&
                 t->n <= ASYNC_MAX_KEYS;
    if (async) {
        secs = mvcc__calloc(t->n, sizeof *secs);
        if (secs == NULL) {
            rc = -ENOMEM;
            goto out;
        }
        size_t ns = 0;
        for (size_t i = 0; i < t->n; i++)
            if (i != pi)
                secs[ns++] = (struct mvcc_key){t->muts[i].key, t->muts[i].klen};
    }
    for (size_t i = 0; i < ng; i++) {
        gs[i].one_pc = one_pc;
        gs[i].async = async;
        gs[i].secs = secs;
        gs[i].nsecs = async ? t->n - 1 : 0;
    }
    /* Prewrite: the primary's group first, then the others in parallel. */
    rc = gs[0].rc = prewrite_group(&gs[0]);
    if (rc != 0 && one_pc && gs[0].pw.one_pc_split) {
        /* The shard split under the 1PC request, which wrote nothing:
         * commit in two phases over the shards as they are now. */
        no_1pc = true;
        goto regroup;
    }
    if (rc == MVCC_COMMIT_DEADLINE && (one_pc || async) && !gs[0].pw.late) {
        /* The deadline refused the primary's request, which wrote
         * nothing: two phases, where a commit_ts taken past the deadline
         * is renewed once every key is locked. */
        no_1pc = no_async = true;
        goto regroup;
    }
    if (rc == MVCC_MAX_TS_NOT_SYNCED && (one_pc || async)) {
        /* Refused before anything of the primary was written: plain 2PC
         * (its commit_ts comes from the TSO, not from a store's max_ts).
         * Locks of secondaries written meanwhile are ordinary ones. */
        no_1pc = no_async = true;
        goto regroup;
    }
    if (rc == 0 && !one_pc && c->o.commit_keepalive)
        heartbeat_start(t, pk, pkl); /* stopped by txn_free */
    if (rc == 0 && ng > 1) {
        heartbeat_if_long(t);
        pthread_t *th = mvcc__calloc(ng, sizeof *th);
        bool *started = mvcc__calloc(ng, sizeof *started);
        if (th == NULL || started == NULL) {
            rc = -ENOMEM;
        } else {
            for (size_t i = 1; i < ng; i++)
                started[i] =
                    pthread_create(&th[i], NULL, prewrite_thread, &gs[i]) == 0;
            for (size_t i = 1; i < ng; i++) {
                if (started[i])
                    pthread_join(th[i], NULL);
                else
                    gs[i].rc = prewrite_group(&gs[i]);
                if (gs[i].rc != 0 && rc == 0)
                    rc = gs[i].rc;
            }
            /* The failure that stopped the others (they answer
             * MVCC_LOCKED), not theirs. */
            if (rc != 0 && t->prewrite_rc != 0)
                rc = t->prewrite_rc;
        }
        mvcc__free(th);
        mvcc__free(started);
    }
    bool settled = false; /* commit_ts found by settle_prewrite */
    if (rc != 0 && (one_pc || async) && prewrite_undetermined(gs, ng)) {
        /* Maybe committed: rolling back blindly could tear it (a resolver
         * may be committing it). Ask the stores; with no answer still,
         * its locks are settled by whoever meets them, through the
         * primary, as a dead coordinator's are. */
        rc = settle_prewrite(t, gs, ng, async, &commit_ts, rc);
        if (rc == MVCC_UNDETERMINED)
            goto out;
        settled = rc == 0;
        if (settled && one_pc)
            goto done;
    }
    if (rc != 0) {
        rollback_groups(t, gs, ng, keys);
        goto out;
    }
    if (one_pc) {
        commit_ts = gs[0].commit_ts;
        goto done;
    }
    if (fail_at(c, MVCC_FP_AFTER_PREWRITE)) {
        rc = -ECANCELED;
        goto out;
    }
    struct mvcc_result r;
    mvcc_result_init(&r);
    if (async) {
        /* Committed now: commit_ts is the largest min_commit_ts (or, when
         * settled, what settle_prewrite found). */
        for (size_t i = 0; i < ng && !settled; i++)
            if (gs[i].min_commit_ts > commit_ts)
                commit_ts = gs[i].min_commit_ts;
    } else {
        /* The primary's commit is the commit point. The other keys of its
         * shard commit in the same atomic batch (primary-first ordering
         * only matters across shards), saving a request. A reader may
         * have pushed min_commit_ts meanwhile: take a newer ts, retry. */
        keys_of(t, &gs[0], keys);
        /* A big group: the chunk holding the primary is the commit
         * point; the group's other chunks commit with the secondaries. */
        size_t pc = gs[0].n > CHUNK_KEYS
                        ? (pi - gs[0].first) / CHUNK_KEYS * CHUNK_KEYS
                        : 0;
        size_t pn = gs[0].n - pc < CHUNK_KEYS ? gs[0].n - pc : CHUNK_KEYS;
        bool sent = false; /* rc is the commit request's */
        for (int tries = 0;; tries++) {
            sent = false;
            if ((rc = c->o.tso(c->o.tso_ctx, &commit_ts)))
                break;
            /* The commit_ts is taken and every key locked: a renewal that
             * vouches again now (its check reads above the commit_ts)
             * accepts it, whatever deadline it answers; a check, when
             * given, is asked instead (what the caller needs to know
             * about this commit_ts, not a new deadline). */
            uint64_t dl = __atomic_load_n(&t->deadline_ms, __ATOMIC_ACQUIRE);
            if (dl && mvcc__wall_ms() > dl &&
                (rc = t->check ? t->check(t->check_ctx, commit_ts)
                               : renew_deadline(t, &dl, false)))
                break; /* nothing committed yet: rolled back below */
            struct kcall q = {KC_COMMIT, NULL, t->start_ts, commit_ts, NULL,
                              pk, pkl, false, {0, 0}};
            rc = kcall(c, &q, gs[0].shard, keys + pc, pn, &r);
            sent = true;
            if (rc != MVCC_COMMIT_TS_EXPIRED || tries > 16)
                break;
        }
        if (rc != 0 && sent && may_have_applied(rc))
            rc = settle_primary(t, gs[0].shard, pk, pkl, &commit_ts, rc);
        if (rc == MVCC_UNDETERMINED) {
            mvcc_result_reset(&r);
            goto out;
        }
        for (size_t off = 0; rc == 0 && off < gs[0].n; off += CHUNK_KEYS) {
            if (off == pc)
                continue;
            struct kcall q = {KC_COMMIT, NULL, t->start_ts, commit_ts, NULL,
                              NULL, 0, false, {0, 0}};
            (void)kcall(c, &q, gs[0].shard, keys + off,
                        gs[0].n - off < CHUNK_KEYS ? gs[0].n - off
                                                   : CHUNK_KEYS, &r);
        }
        if (rc != 0) {
            mvcc_result_reset(&r);
            rollback_groups(t, gs, ng, keys);
            goto out;
        }
    }
    if (fail_at(c, MVCC_FP_AFTER_PRIMARY_COMMIT)) {
        mvcc_result_reset(&r);
        if (commit_ts_out)
            *commit_ts_out = commit_ts;
        rc = -ECANCELED;
        goto out;
    }
    /* Secondaries: best effort; a lock left behind is resolved by readers
     * through the primary. */
    for (size_t i = async ? 0 : 1; i < ng; i++) {
        keys_of(t, &gs[i], keys);
        for (size_t off = 0; off < gs[i].n; off += CHUNK_KEYS) {
            struct kcall q = {KC_COMMIT, NULL, t->start_ts, commit_ts, NULL,
                              NULL, 0, false, {0, 0}};
            (void)kcall(c, &q, gs[i].shard, keys + off,
                        gs[i].n - off < CHUNK_KEYS ? gs[i].n - off
                                                   : CHUNK_KEYS, &r);
        }
    }
    mvcc_result_reset(&r);
done:
    if (commit_ts_out)
        *commit_ts_out = commit_ts;
out:
    if (rc != 0 && rc != -ECANCELED && rc != MVCC_UNDETERMINED)
        release_plocks(t); /* locks never prewritten */
    mvcc__free(gs);
    mvcc__free(keys);
    mvcc__free(secs);
    txn_free(t);
    return rc;
}
