/* write.c: the Percolator write commands: Prewrite (with async commit and
 * 1PC), Commit, BatchRollback, Cleanup, CheckTxnStatus,
 * CheckSecondaryLocks, TxnHeartBeat, ScanLock, ResolveLock. Each holds the
 * latches of its keys, reads the latest state, builds one batch and writes
 * it atomically; on an error nothing is written (DESIGN.md, "Commands").
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "txn.h"

static int latch_one(struct mvcc_store *s, struct mvcc__latch *l,
                     const void *k, size_t kl)
{
    struct mvcc_key key = {k, kl};
    return mvcc__latch_acquire(s, l, &key, 1);
}

static mvcc_ts max3(mvcc_ts a, mvcc_ts b, mvcc_ts c)
{
    mvcc_ts m = a > b ? a : b;
    return m > c ? m : c;
}

/* A key as an error message shows it: quoted if every byte is printable,
 * else in hex; at most 48 bytes of it, then "...". */
static const char *key_repr(char *buf, size_t cap, const void *k, size_t kl)
{
    const uint8_t *p = k;
    size_t n = kl < 48 ? kl : 48, at = 0;
    bool printable = true;
    for (size_t i = 0; i < n; i++)
        printable = printable && p[i] >= 0x20 && p[i] < 0x7f && p[i] != '\'';
    if (printable) {
        at = (size_t)snprintf(buf, cap, "'%.*s'", (int)n, (const char *)k);
    } else {
        at = (size_t)snprintf(buf, cap, "0x");
        for (size_t i = 0; i < n && at + 3 < cap; i++)
            at += (size_t)snprintf(buf + at, cap - at, "%02x", p[i]);
    }
    if (n < kl && at + 4 < cap)
        snprintf(buf + at, cap - at, "...");
    return buf;
}

/* How prewrite checks a key that holds no lock of ours (TiKV's prewrite;
 * DESIGN "Commands", "Prewrite without our lock"):
 *   CHECK_OPTIMISTIC  an optimistic txn's key (for_update_ts 0): another
 *                     txn's Put, Delete or Lock record newer than
 *                     start_ts -> MVCC_CONFLICT (its Rollback record is
 *                     no write: a transaction that gave way to us, DESIGN
 *                     "Client", must not fail us in turn)
 *   CHECK_UNLOCKED    a pessimistic txn's key it did not lock (an index
 *                     entry of a locked row): TiKV checks nothing (the
 *                     row's lock serialized its writers); we refuse only a
 *                     Put or Delete newer than for_update_ts, which a key
 *                     covered by a lock of this txn cannot have (a Lock or
 *                     Rollback record changes no value: an optimistic txn
 *                     that failed on the row leaves one) -> MVCC_CONFLICT
 *   CHECK_LOST_LOCK   a key whose pessimistic lock should be there and is
 *                     not (lost): TiKV's amend. Any other commit newer
 *                     than start_ts -> MVCC_LOCK_NOT_FOUND (the lock's own
 *                     for_update_ts is gone with it, and the txn's newest
 *                     one may be later than the value it read), else the
 *                     key is prewritten as an optimistic one would be.
 * In every mode our own commit means a resent prewrite (*done, committed
 * at *own_commit) and our own rollback refuses. */
enum { CHECK_OPTIMISTIC, CHECK_UNLOCKED, CHECK_LOST_LOCK };

/* The key's pessimistic lock is gone: MVCC_LOCK_NOT_FOUND naming the key,
 * the transaction and why. */
static int lock_missing(struct mvcc_result *res, const struct mvcc_mutation *m,
                        const struct mvcc_prewrite_req *req,
                        const char *why)
{
    char kr[112];
    mvcc__res_err(res,
                  "pessimistic lock of key %s is missing (start_ts %llu, "
                  "for_update_ts %llu): %s",
                  key_repr(kr, sizeof kr, m->key, m->key_len),
                  (unsigned long long)req->start_ts,
                  (unsigned long long)req->for_update_ts, why);
    int rc = mvcc__res_set_key(res, m->key, m->key_len);
    return rc ? rc : MVCC_LOCK_NOT_FOUND;
}

/* The check of one key without our lock (see the modes above), in one
 * pass over its records at or above start_ts (newest first). With a
 * recent-writes table, a bound below start_ts says there is no such
 * record without a seek; after a seek the key's newest ts is noted there
 * (the caller holds the key's latch, so it is exact). */
static int check_conflict(struct mvcc__cmd *c, const struct mvcc_mutation *m,
                          const struct mvcc_prewrite_req *req, int how,
                          bool *done, mvcc_ts *own_commit,
                          struct mvcc_result *res)
{
    *done = false;
    mvcc_ts start_ts = req->start_ts;
    int rc;
    struct mvcc__recent *rw = c->s->rw;
    if (rw) {
        c->kb.len = 0;
        if ((rc = mvcc__key_append(&c->kb, m->key, m->key_len)) != 0)
            return rc;
        if (mvcc__rw_bound(rw, c->kb.data, c->kb.len) < start_ts)
            return 0;
    }
    mvcc_ts other_start = 0, other_commit = 0, newest = 0;
    bool rolled_back = false;
    rc = mvcc__scan_versions(c, m->key, m->key_len, start_ts,
                             how == CHECK_UNLOCKED, &rolled_back, done,
                             own_commit, &other_start, &other_commit,
                             &newest);
    if (rc == 0 && rw) {
        c->kb.len = 0;
        if ((rc = mvcc__key_append(&c->kb, m->key, m->key_len)) != 0)
            return rc;
        mvcc__rw_note(rw, c->kb.data, c->kb.len, newest);
    }
    if (rc != 0 || *done)
        return rc;
    if (rolled_back && how == CHECK_LOST_LOCK)
        return lock_missing(res, m, req, "the transaction was rolled back");
    if (rolled_back) {
        res->conflict_start_ts = start_ts;
        res->conflict_commit_ts = start_ts;
        mvcc__res_err(res, "transaction %llu was rolled back",
                      (unsigned long long)start_ts);
        rc = mvcc__res_set_key(res, m->key, m->key_len);
        return rc ? rc : MVCC_CONFLICT;
    }
    mvcc_ts after = how == CHECK_UNLOCKED ? req->for_update_ts : start_ts;
    if (other_commit <= after)
        return 0;
    res->conflict_start_ts = other_start;
    res->conflict_commit_ts = other_commit;
    if (how == CHECK_LOST_LOCK) {
        char why[96];
        snprintf(why, sizeof why, "committed at %llu by transaction %llu",
                 (unsigned long long)other_commit,
                 (unsigned long long)other_start);
        return lock_missing(res, m, req, why);
    }
    mvcc__res_err(res, "committed at %llu after %s %llu",
                  (unsigned long long)other_commit,
                  how == CHECK_UNLOCKED ? "for_update_ts" : "start",
                  (unsigned long long)after);
    rc = mvcc__res_set_key(res, m->key, m->key_len);
    return rc ? rc : MVCC_CONFLICT;
}

/* In-flight keys of one async/1PC prewrite call, by its token (caller
 * holds ts_guard exclusively). All or nothing. */
static void unregister_keys(struct mvcc_store *s, uint64_t owner)
{
    size_t j = 0;
    for (size_t i = 0; i < s->nmlocks; i++) {
        if (s->mlocks[i].owner == owner)
            mvcc__free(s->mlocks[i].key);
        else
            s->mlocks[j++] = s->mlocks[i];
    }
    s->nmlocks = j;
}

static int register_keys(struct mvcc_store *s,
                         const struct mvcc_prewrite_req *req, uint64_t token)
{
    if (s->mlocks_cap - s->nmlocks < req->n) {
        size_t cap = s->mlocks_cap ? s->mlocks_cap : 16;
        while (cap - s->nmlocks < req->n)
            cap *= 2;
        struct mvcc__mlock *m = mvcc__realloc(s->mlocks, cap * sizeof *m);
        if (m == NULL)
            return -ENOMEM;
        s->mlocks = m;
        s->mlocks_cap = cap;
    }
    for (size_t i = 0; i < req->n; i++) {
        const struct mvcc_mutation *mu = &req->mutations[i];
        uint8_t *k = mvcc__memdup(mu->key, mu->key_len);
        if (k == NULL) {
            unregister_keys(s, token);
            return -ENOMEM;
        }
        s->mlocks[s->nmlocks++] = (struct mvcc__mlock){k, mu->key_len, token};
    }
    return 0;
}

enum { PW_SKIP = 0, PW_WRITE = 1, PW_CONVERT = 2 };

int mvcc_prewrite(struct mvcc_store *s, const struct mvcc_prewrite_req *req,
                  struct mvcc_result *res)
{
    mvcc__res_clear(res);
    if (s == NULL || req == NULL || (req->mutations == NULL && req->n > 0) ||
        req->primary == NULL || req->start_ts == 0)
        return -EINVAL;
    for (size_t i = 0; i < req->n; i++)
        if (req->mutations[i].op < MVCC_OP_PUT ||
            req->mutations[i].op > MVCC_OP_CHECK_NOT_EXISTS)
            return -EINVAL;
    /* Small requests keep their key list and plan on the stack. */
    struct mvcc_key keys_inline[16];
    uint8_t plan_inline[16];
    bool small = req->n <= 16;
    struct mvcc_key *keys =
        small ? keys_inline : mvcc__calloc(req->n, sizeof *keys);
    uint8_t *plan = small ? plan_inline : mvcc__calloc(req->n, 1);
    if (keys == NULL || plan == NULL) {
        mvcc__free(keys);
        mvcc__free(plan);
        return -ENOMEM;
    }
    for (size_t i = 0; i < req->n; i++) {
        keys[i].data = req->mutations[i].key;
        keys[i].len = req->mutations[i].key_len;
    }
    struct mvcc__latch latch;
    struct mvcc__cmd c;
    mvcc__cmd_init(&c, s, NULL);
    int rc = mvcc__latch_acquire(s, &latch, keys, req->n);
    if (rc != 0)
        goto out_free;
    bool guard = req->use_async_commit || req->try_one_pc;
    bool registered = false;
    uint64_t token = 0; /* this call's registration (register_keys) */
    bool locked = false;
    /* A resent prewrite (its answer was lost) finds its own locks or
     * commits: it answers with what they hold (done_commit_ts: the largest
     * of their min_commit_ts and commit_ts), never a fresh value. */
    mvcc_ts done_commit_ts = 0;
    bool writes = false;
    /* The TTL of the primary's pessimistic lock this prewrite converts
     * (0: none): heartbeats may have raised it past the request's, and
     * the prewrite must not cut it back (TiKV keeps the larger), or a
     * reader could roll the transaction back under its commit. */
    uint64_t primary_ttl = 0;

    /* Pass 1: checks, no writes. */
    for (size_t i = 0; i < req->n; i++) {
        const struct mvcc_mutation *m = &req->mutations[i];
        struct mvcc__lock l;
        plan[i] = PW_WRITE;
        rc = mvcc__load_lock(&c, m->key, m->key_len, &l);
        if (rc == 0) {
            if (l.start_ts != req->start_ts) {
                if ((rc = mvcc__res_add_lock(res, m->key, m->key_len, &l)))
                    goto out;
                locked = true;
                continue;
            }
            if (l.type != MVCC__LOCK_PESSIMISTIC) {
                plan[i] = PW_SKIP; /* already prewritten: idempotent */
                if (l.min_commit_ts > done_commit_ts)
                    done_commit_ts = l.min_commit_ts;
                continue;
            }
            plan[i] = PW_CONVERT; /* our pessimistic lock becomes a lock */
            if (m->key_len == req->primary_len &&
                memcmp(m->key, req->primary, m->key_len) == 0)
                primary_ttl = l.ttl;
        } else if (rc != MVCC_NOTFOUND) {
            goto out;
        } else {
            /* No lock of ours: committed already (a resend), or a key
             * without one, or a pessimistic lock that was lost. */
            int how = m->pessimistic_lock     ? CHECK_LOST_LOCK
                      : req->for_update_ts == 0 ? CHECK_OPTIMISTIC
                                                : CHECK_UNLOCKED;
            bool done;
            mvcc_ts own;
            if ((rc = check_conflict(&c, m, req, how, &done, &own, res)))
                goto out;
            if (done) {
                plan[i] = PW_SKIP;
                if (own > done_commit_ts)
                    done_commit_ts = own;
                continue;
            }
        }
        if (m->op == MVCC_OP_INSERT || m->op == MVCC_OP_CHECK_NOT_EXISTS) {
            uint8_t *v = NULL;
            size_t vl;
            rc = mvcc__read_value(&c, m->key, m->key_len, MVCC_TS_MAX, false,
                                  &v, &vl);
            if (rc == 0) {
                rc = mvcc__res_set_key(res, m->key, m->key_len);
                rc = rc ? rc : MVCC_ALREADY_EXIST;
                goto out;
            }
            if (rc != MVCC_NOTFOUND)
                goto out;
            rc = 0;
            if (m->op == MVCC_OP_CHECK_NOT_EXISTS)
                plan[i] = plan[i] == PW_CONVERT ? PW_CONVERT : PW_SKIP;
        }
    }
    rc = 0;
    if (locked) {
        rc = MVCC_LOCKED;
        goto out;
    }

    /* Pass 2: the batch. */
    mvcc_ts min_commit = max3(req->min_commit_ts, req->start_ts + 1,
                              req->for_update_ts + 1);
    if (guard) {
        /* Choose commit_ts above every read so far and make later reads
         * of these keys wait for the batch (TiKV's memory locks). */
        pthread_rwlock_wrlock(&s->ts_guard);
        mvcc_ts mx = __atomic_load_n(&s->max_ts, __ATOMIC_ACQUIRE);
        if (mx != MVCC_TS_MAX && mx + 1 > min_commit)
            min_commit = mx + 1;
        token = ++s->mlock_seq;
        rc = register_keys(s, req, token);
        pthread_rwlock_unlock(&s->ts_guard);
        if (rc != 0)
            goto out;
        registered = true;
    }
    /* New locks of a partly resent request go no lower than the old. */
    if (min_commit < done_commit_ts)
        min_commit = done_commit_ts;
    if (guard && req->deadline_ms && mvcc__wall_ms() > req->deadline_ms) {
        /* Past the coordinator's deadline (its schema lease): refused,
         * nothing written. A resend whose keys are all written already
         * answers what they hold, decided in time the first time. */
        bool left = false;
        for (size_t i = 0; i < req->n && !left; i++)
            left = plan[i] != PW_SKIP;
        if (left) {
            mvcc__res_err(res, "past the commit deadline %llu ms",
                          (unsigned long long)req->deadline_ms);
            rc = MVCC_COMMIT_DEADLINE;
            goto out;
        }
    }
    struct mvcc__buf enc = {0}, k = {0};
    /* Whether the batch is only the primary's lock, which may skip the
     * engine's log (DESIGN "Failure and recovery": primary locks skip
     * the WAL): not for async commit or 1PC, nor through an apply hook. */
    bool lone_primary = !guard && s->opts.apply == NULL;
    for (size_t i = 0; i < req->n; i++) {
        if (plan[i] == PW_SKIP)
            continue;
        writes = true;
        const struct mvcc_mutation *m = &req->mutations[i];
        struct mvcc__lock l;
        memset(&l, 0, sizeof l);
        l.type = m->op == MVCC_OP_DELETE                ? MVCC__LOCK_DELETE
                 : m->op == MVCC_OP_LOCK ||
                         m->op == MVCC_OP_CHECK_NOT_EXISTS ? MVCC__LOCK_LOCK
                                                           : MVCC__LOCK_PUT;
        l.start_ts = req->start_ts;
        l.ttl = req->lock_ttl;
        l.for_update_ts = req->for_update_ts;
        l.min_commit_ts = min_commit;
        l.txn_size = req->txn_size;
        l.primary = req->primary;
        l.primary_len = req->primary_len;
        bool is_primary = m->key_len == req->primary_len &&
                          memcmp(m->key, req->primary, m->key_len) == 0;
        if (is_primary && plan[i] == PW_CONVERT && primary_ttl > l.ttl)
            l.ttl = primary_ttl;
        l.async = req->use_async_commit && is_primary;
        bool big = l.type == MVCC__LOCK_PUT &&
                   m->value_len > MVCC__SHORT_VALUE_MAX;
        if (!is_primary || big)
            lone_primary = false;
        if (l.type == MVCC__LOCK_PUT && !big) {
            l.has_value = true;
            l.value = m->value;
            l.value_len = m->value_len;
        }
        k.len = 0;
        if ((rc = mvcc__key_ts_append(&k, m->key, m->key_len,
                                      req->start_ts)))
            break;
        if (big && (rc = mvcc_wbatch_put(&c.wb, MVCC_CF_DEFAULT, k.data,
                                         k.len, m->value, m->value_len)))
            break;
        if (req->try_one_pc) {
            if ((rc = mvcc__commit_key(&c, m->key, m->key_len, &l,
                                       min_commit, plan[i] == PW_CONVERT)))
                break;
            continue;
        }
        enc.len = 0;
        if ((rc = mvcc__lock_encode(&enc, &l,
                                    l.async ? req->secondaries : NULL,
                                    l.async ? req->nsecondaries : 0)) ||
            (rc = mvcc_wbatch_put(&c.wb, MVCC_CF_LOCK, k.data, k.len - 8,
                                  enc.data, enc.len)))
            break;
    }
    mvcc__buf_free(&enc);
    mvcc__buf_free(&k);
    c.wb.no_wal = lone_primary;
    if (rc == 0)
        rc = mvcc__cmd_write(&c);
    if (rc == 0) {
        /* Nothing written and something found: what was found decides
         * (a 1PC batch commits all its keys at one commit_ts). */
        mvcc_ts decided = !writes && done_commit_ts ? done_commit_ts
                                                    : min_commit;
        if (req->try_one_pc)
            res->commit_ts = decided;
        else if (req->use_async_commit)
            res->min_commit_ts = decided;
        if (req->try_one_pc) /* pessimistic locks may be gone */
            mvcc__wake_keys(s, keys, req->n);
    }
out:
    if (registered) {
        pthread_rwlock_wrlock(&s->ts_guard);
        unregister_keys(s, token);
        pthread_rwlock_unlock(&s->ts_guard);
        mvcc__notify_release(s);
    }
    mvcc__latch_release(s, &latch);
out_free:
    mvcc__cmd_free(&c);
    if (!small) {
        mvcc__free(keys);
        mvcc__free(plan);
    }
    return rc;
}

int mvcc_commit(struct mvcc_store *s, const struct mvcc_key *keys, size_t n,
                mvcc_ts start_ts, mvcc_ts commit_ts, struct mvcc_result *res)
{
    mvcc__res_clear(res);
    if (s == NULL || (keys == NULL && n > 0) || commit_ts <= start_ts)
        return -EINVAL;
    struct mvcc__latch latch;
    struct mvcc__cmd c;
    mvcc__cmd_init(&c, s, NULL);
    int rc = mvcc__latch_acquire(s, &latch, keys, n);
    if (rc != 0)
        goto out_free;
    for (size_t i = 0; i < n && rc == 0; i++) {
        struct mvcc__lock l;
        rc = mvcc__load_lock(&c, keys[i].data, keys[i].len, &l);
        if (rc == 0 && l.start_ts == start_ts) {
            if (l.type == MVCC__LOCK_PESSIMISTIC) {
                char kr[112];
                mvcc__res_err(res,
                              "key %s holds only a pessimistic lock "
                              "(start_ts %llu, for_update_ts %llu): not "
                              "prewritten",
                              key_repr(kr, sizeof kr, keys[i].data,
                                       keys[i].len),
                              (unsigned long long)start_ts,
                              (unsigned long long)l.for_update_ts);
                rc = MVCC_LOCK_NOT_FOUND;
            } else if (commit_ts < l.min_commit_ts) {
                res->min_commit_ts = l.min_commit_ts;
                rc = MVCC_COMMIT_TS_EXPIRED;
            } else {
                rc = mvcc__commit_key(&c, keys[i].data, keys[i].len, &l,
                                      commit_ts, true);
            }
            if (rc != 0)
                mvcc__res_set_key(res, keys[i].data, keys[i].len);
            continue;
        }
        if (rc != 0 && rc != MVCC_NOTFOUND)
            break;
        int kind;
        mvcc_ts cts;
        rc = mvcc__find_txn_record(&c, keys[i].data, keys[i].len, start_ts,
                                   &kind, &cts);
        if (rc != 0)
            break;
        if (kind == MVCC__REC_COMMITTED)
            continue; /* idempotent */
        rc = kind == MVCC__REC_ROLLED_BACK ? MVCC_ROLLED_BACK
                                           : MVCC_TXN_NOT_FOUND;
        mvcc__res_set_key(res, keys[i].data, keys[i].len);
    }
    if (rc == 0)
        rc = mvcc__cmd_write(&c);
    mvcc__latch_release(s, &latch);
    if (rc == 0)
        mvcc__wake_keys(s, keys, n);
out_free:
    mvcc__cmd_free(&c);
    return rc;
}

/* Rolls back one key of start_ts (lock held by the caller's latch). */
static int rollback_one(struct mvcc__cmd *c, const void *k, size_t kl,
                        mvcc_ts start_ts, struct mvcc_result *res)
{
    struct mvcc__lock l;
    int rc = mvcc__load_lock(c, k, kl, &l);
    if (rc == 0 && l.start_ts == start_ts)
        return mvcc__rollback_key(c, k, kl, &l, start_ts);
    if (rc != 0 && rc != MVCC_NOTFOUND)
        return rc;
    int kind;
    mvcc_ts cts;
    if ((rc = mvcc__find_txn_record(c, k, kl, start_ts, &kind, &cts)))
        return rc;
    if (kind == MVCC__REC_COMMITTED) {
        res->commit_ts = cts;
        mvcc__res_set_key(res, k, kl);
        return MVCC_COMMITTED;
    }
    if (kind == MVCC__REC_ROLLED_BACK)
        return 0;
    /* Nothing there yet: leave a record so a late prewrite fails. */
    return mvcc__rollback_key(c, k, kl, NULL, start_ts);
}

int mvcc_batch_rollback(struct mvcc_store *s, const struct mvcc_key *keys,
                        size_t n, mvcc_ts start_ts, struct mvcc_result *res)
{
    mvcc__res_clear(res);
    if (s == NULL || (keys == NULL && n > 0))
        return -EINVAL;
    struct mvcc__latch latch;
    struct mvcc__cmd c;
    mvcc__cmd_init(&c, s, NULL);
    int rc = mvcc__latch_acquire(s, &latch, keys, n);
    if (rc != 0)
        goto out_free;
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = rollback_one(&c, keys[i].data, keys[i].len, start_ts, res);
    if (rc == 0)
        rc = mvcc__cmd_write(&c);
    mvcc__latch_release(s, &latch);
    if (rc == 0)
        mvcc__wake_keys(s, keys, n);
out_free:
    mvcc__cmd_free(&c);
    return rc;
}

int mvcc_cleanup(struct mvcc_store *s, const void *key, size_t key_len,
                 mvcc_ts start_ts, mvcc_ts current_ts, struct mvcc_result *res)
{
    mvcc__res_clear(res);
    if (s == NULL || (key == NULL && key_len > 0))
        return -EINVAL;
    struct mvcc__latch latch;
    struct mvcc__cmd c;
    mvcc__cmd_init(&c, s, NULL);
    int rc = latch_one(s, &latch, key, key_len);
    if (rc != 0)
        goto out_free;
    struct mvcc__lock l;
    rc = mvcc__load_lock(&c, key, key_len, &l);
    if (rc == 0 && l.start_ts == start_ts && current_ts != 0 &&
        !mvcc__lock_expired(&l, current_ts)) {
        rc = mvcc__res_add_lock(res, key, key_len, &l);
        rc = rc ? rc : MVCC_LOCKED;
    } else if (rc == 0 || rc == MVCC_NOTFOUND) {
        rc = rollback_one(&c, key, key_len, start_ts, res);
        if (rc == 0)
            rc = mvcc__cmd_write(&c);
    }
    mvcc__latch_release(s, &latch);
    if (rc == 0) {
        struct mvcc_key wk = {key, key_len};
        mvcc__wake_keys(s, &wk, 1);
    }
out_free:
    mvcc__cmd_free(&c);
    return rc;
}

int mvcc_check_txn_status(struct mvcc_store *s,
                          const struct mvcc_check_txn_req *req,
                          struct mvcc_result *res)
{
    mvcc__res_clear(res);
    if (s == NULL || req == NULL || (req->primary == NULL &&
                                     req->primary_len > 0))
        return -EINVAL;
    const void *pk = req->primary;
    size_t pl = req->primary_len;
    struct mvcc__latch latch;
    struct mvcc__cmd c;
    mvcc__cmd_init(&c, s, NULL);
    int rc = latch_one(s, &latch, pk, pl);
    if (rc != 0)
        goto out_free;
    struct mvcc__lock l;
    rc = mvcc__load_lock(&c, pk, pl, &l);
    if (rc == 0 && l.start_ts == req->lock_ts) {
        /* An expired async-commit lock is not rolled back here: the txn
         * may be committed (every secondary locked); the caller decides
         * through CheckSecondaryLocks. */
        if (mvcc__lock_expired(&l, req->current_ts) &&
            (!l.async || req->force_sync_commit)) {
            bool pess = l.type == MVCC__LOCK_PESSIMISTIC;
            rc = mvcc__rollback_key(&c, pk, pl, &l, req->lock_ts);
            if (rc == 0)
                rc = mvcc__cmd_write(&c);
            res->status = MVCC_TXN_ROLLED_BACK;
            res->action = pess ? MVCC_ACT_TTL_EXPIRE_PESSIMISTIC_ROLLBACK
                               : MVCC_ACT_TTL_EXPIRE_ROLLBACK;
            if (rc == 0) {
                struct mvcc_key wk = {pk, pl};
                mvcc__wake_keys(s, &wk, 1);
            }
            goto out;
        }
        res->status = MVCC_TXN_LOCKED;
        res->lock_ttl = l.ttl;
        /* Push min_commit_ts above the reader so it can read below the
         * lock; an async-commit lock's commit_ts is fixed by its
         * secondaries, so it is left alone unless forced to sync. */
        if (req->caller_start_ts != 0 &&
            req->caller_start_ts != MVCC_TS_MAX &&
            (!l.async || req->force_sync_commit) &&
            l.type != MVCC__LOCK_PESSIMISTIC &&
            l.min_commit_ts <= req->caller_start_ts) {
            l.min_commit_ts = req->caller_start_ts + 1;
            struct mvcc__buf enc = {0}, k = {0};
            rc = mvcc__lock_encode(&enc, &l, NULL, 0);
            if (rc == 0)
                rc = mvcc__key_append(&k, pk, pl);
            if (rc == 0)
                rc = mvcc_wbatch_put(&c.wb, MVCC_CF_LOCK, k.data, k.len,
                                     enc.data, enc.len);
            mvcc__buf_free(&enc);
            mvcc__buf_free(&k);
            if (rc == 0)
                rc = mvcc__cmd_write(&c);
            res->action = MVCC_ACT_MIN_COMMIT_TS_PUSHED;
        }
        if (rc == 0)
            rc = mvcc__res_add_lock(res, pk, pl, &l);
        goto out;
    }
    if (rc != 0 && rc != MVCC_NOTFOUND)
        goto out;
    int kind;
    mvcc_ts cts = 0;
    if ((rc = mvcc__find_txn_record(&c, pk, pl, req->lock_ts, &kind, &cts)))
        goto out;
    if (kind == MVCC__REC_COMMITTED) {
        res->status = MVCC_TXN_COMMITTED;
        res->commit_ts = cts;
    } else if (kind == MVCC__REC_ROLLED_BACK) {
        res->status = MVCC_TXN_ROLLED_BACK;
    } else if (req->rollback_if_not_exist) {
        rc = mvcc__rollback_key(&c, pk, pl, NULL, req->lock_ts);
        if (rc == 0)
            rc = mvcc__cmd_write(&c);
        res->status = MVCC_TXN_ROLLED_BACK;
        res->action = MVCC_ACT_LOCK_NOT_EXIST_ROLLBACK;
    } else {
        mvcc__res_err(res, "no lock and no record of txn %llu",
                      (unsigned long long)req->lock_ts);
        rc = MVCC_TXN_NOT_FOUND;
    }
out:
    mvcc__latch_release(s, &latch);
out_free:
    mvcc__cmd_free(&c);
    return rc;
}

int mvcc_check_secondary_locks(struct mvcc_store *s,
                               const struct mvcc_key *keys, size_t n,
                               mvcc_ts start_ts, struct mvcc_result *res)
{
    mvcc__res_clear(res);
    if (s == NULL || (keys == NULL && n > 0))
        return -EINVAL;
    struct mvcc__latch latch;
    struct mvcc__cmd c;
    mvcc__cmd_init(&c, s, NULL);
    int rc = mvcc__latch_acquire(s, &latch, keys, n);
    if (rc != 0)
        goto out_free;
    res->status = MVCC_TXN_LOCKED;
    for (size_t i = 0; i < n; i++) {
        const void *k = keys[i].data;
        size_t kl = keys[i].len;
        struct mvcc__lock l;
        rc = mvcc__load_lock(&c, k, kl, &l);
        if (rc == 0 && l.start_ts == start_ts &&
            l.type != MVCC__LOCK_PESSIMISTIC) {
            if ((rc = mvcc__res_add_lock(res, k, kl, &l)))
                goto out;
            continue;
        }
        if (rc != 0 && rc != MVCC_NOTFOUND)
            goto out;
        bool ours = rc == 0 && l.start_ts == start_ts;
        int kind;
        mvcc_ts cts = 0;
        if ((rc = mvcc__find_txn_record(&c, k, kl, start_ts, &kind, &cts)))
            goto out;
        if (kind == MVCC__REC_COMMITTED) {
            res->status = MVCC_TXN_COMMITTED;
            res->commit_ts = cts;
            break;
        }
        /* Missing (or only pessimistically locked): roll it back so the
         * prewrite can never land, which decides the transaction. */
        res->status = MVCC_TXN_ROLLED_BACK;
        rc = 0;
        if (ours)
            rc = mvcc__rollback_key(&c, k, kl, &l, start_ts);
        else if (kind == MVCC__REC_NONE)
            rc = mvcc__rollback_key(&c, k, kl, NULL, start_ts);
        if (rc == 0)
            rc = mvcc__cmd_write(&c);
        break;
    }
    if (res->status != MVCC_TXN_LOCKED) {
        /* Locks listed before the deciding key are not the answer. */
        size_t keep = res->nlocks;
        res->nlocks = 0;
        for (size_t i = 0; i < keep; i++) {
            struct mvcc_lock_info *li = &res->locks[i];
            mvcc__free(li->key);
            mvcc__free(li->primary);
            for (size_t j = 0; j < li->nsecondaries; j++)
                mvcc__free((void *)li->secondaries[j].data);
            mvcc__free(li->secondaries);
        }
    }
out:
    mvcc__latch_release(s, &latch);
    if (rc == 0 && res->status == MVCC_TXN_ROLLED_BACK)
        mvcc__wake_keys(s, keys, n);
out_free:
    mvcc__cmd_free(&c);
    return rc;
}

int mvcc_txn_heartbeat(struct mvcc_store *s, const void *primary,
                       size_t primary_len, mvcc_ts start_ts,
                       uint64_t advise_ttl, struct mvcc_result *res)
{
    mvcc__res_clear(res);
    if (s == NULL || (primary == NULL && primary_len > 0))
        return -EINVAL;
    struct mvcc__latch latch;
    struct mvcc__cmd c;
    mvcc__cmd_init(&c, s, NULL);
    int rc = latch_one(s, &latch, primary, primary_len);
    if (rc != 0)
        goto out_free;
    struct mvcc__lock l;
    rc = mvcc__load_lock(&c, primary, primary_len, &l);
    if (rc == MVCC_NOTFOUND || (rc == 0 && l.start_ts != start_ts)) {
        rc = MVCC_TXN_NOT_FOUND;
    } else if (rc == 0) {
        if (advise_ttl > l.ttl) {
            l.ttl = advise_ttl;
            struct mvcc__buf enc = {0}, k = {0};
            rc = mvcc__lock_encode(&enc, &l, NULL, 0);
            if (rc == 0)
                rc = mvcc__key_append(&k, primary, primary_len);
            if (rc == 0)
                rc = mvcc_wbatch_put(&c.wb, MVCC_CF_LOCK, k.data, k.len,
                                     enc.data, enc.len);
            mvcc__buf_free(&enc);
            mvcc__buf_free(&k);
            if (rc == 0)
                rc = mvcc__cmd_write(&c);
        }
        res->lock_ttl = l.ttl;
    }
    mvcc__latch_release(s, &latch);
out_free:
    mvcc__cmd_free(&c);
    return rc;
}

/* Iterates the lock CF in [start, end) calling fn for each decoded lock;
 * fn returns 1 to stop. */
typedef int (*lock_fn)(void *ctx, const uint8_t *ukey, size_t ul,
                       const struct mvcc__lock *l);
static int each_lock(struct mvcc_store *s, const void *start, size_t sl,
                     const void *end, size_t el, lock_fn fn, void *ctx)
{
    struct mvcc__buf lo = {0}, hi = {0}, uk = {0};
    struct mvcc_iter *it = NULL;
    int rc = mvcc__key_append(&lo, start ? start : "", sl);
    if (rc == 0 && end)
        rc = mvcc__key_append(&hi, end, el);
    if (rc != 0)
        goto out;
    struct mvcc_iter_opts io = {lo.data, lo.len, end ? hi.data : NULL,
                                end ? hi.len : 0};
    if ((rc = mvcc__lock_iter(s, NULL, &io, &it)))
        goto out;
    for (rc = it->ops->seek_to_first(it); rc == 0 && it->ops->valid(it);
         rc = it->ops->next(it)) {
        size_t kl, vl, ul, used;
        const uint8_t *k = it->ops->key(it, &kl);
        const uint8_t *v = it->ops->value(it, &vl);
        struct mvcc__lock l;
        uk.len = 0;
        if ((rc = mvcc__buf_reserve(&uk, kl + 1)))
            break;
        if (mvcc_key_decode(k, kl, uk.data, &ul, &used) != 0 || used != kl ||
            mvcc__lock_decode(v, vl, &l) != 0) {
            rc = MVCC_CORRUPT;
            break;
        }
        rc = fn(ctx, uk.data, ul, &l);
        if (rc != 0)
            break;
    }
    if (rc == 1)
        rc = 0;
out:
    mvcc_iter_destroy(it);
    mvcc__buf_free(&lo);
    mvcc__buf_free(&hi);
    mvcc__buf_free(&uk);
    return rc;
}

struct scan_lock_ctx
{
    struct mvcc_result *res; /* where locks go */
    mvcc_ts max_ts;          /* locks at or below */
    size_t limit;            /* at most (0 = all) */
};

static int scan_lock_fn(void *ctx, const uint8_t *k, size_t kl,
                        const struct mvcc__lock *l)
{
    struct scan_lock_ctx *x = ctx;
    if (l->start_ts > x->max_ts)
        return 0;
    int rc = mvcc__res_add_lock(x->res, k, kl, l);
    if (rc != 0)
        return rc;
    return x->limit && x->res->nlocks >= x->limit ? 1 : 0;
}

int mvcc_scan_lock(struct mvcc_store *s, mvcc_ts max_ts, const void *start,
                   size_t start_len, const void *end, size_t end_len,
                   size_t limit, struct mvcc_result *res)
{
    mvcc__res_clear(res);
    if (s == NULL)
        return -EINVAL;
    struct scan_lock_ctx x = {res, max_ts, limit};
    return each_lock(s, start, start_len, end, end_len, scan_lock_fn, &x);
}

struct resolve_ctx
{
    mvcc_ts start_ts;    /* the transaction */
    struct mvcc__buf keys; /* collected user keys: u32 len, bytes */
};

static int resolve_collect(void *ctx, const uint8_t *k, size_t kl,
                           const struct mvcc__lock *l)
{
    struct resolve_ctx *x = ctx;
    if (l->start_ts != x->start_ts)
        return 0;
    size_t n = kl;
    int rc = mvcc__buf_append(&x->keys, &n, sizeof n);
    return rc ? rc : mvcc__buf_append(&x->keys, k, kl);
}

int mvcc_resolve_lock(struct mvcc_store *s, mvcc_ts start_ts,
                      mvcc_ts commit_ts, const void *start, size_t start_len,
                      const void *end, size_t end_len, struct mvcc_result *res)
{
    mvcc__res_clear(res);
    if (s == NULL || (commit_ts != 0 && commit_ts <= start_ts))
        return -EINVAL;
    struct resolve_ctx x = {start_ts, {0}};
    int rc = each_lock(s, start, start_len, end, end_len, resolve_collect, &x);
    size_t off = 0;
    while (rc == 0 && off < x.keys.len) {
        size_t kl;
        memcpy(&kl, x.keys.data + off, sizeof kl);
        const uint8_t *k = x.keys.data + off + sizeof kl;
        off += sizeof kl + kl;
        struct mvcc__latch latch;
        struct mvcc__cmd c;
        mvcc__cmd_init(&c, s, NULL);
        if ((rc = latch_one(s, &latch, k, kl)) != 0) {
            mvcc__cmd_free(&c);
            break;
        }
        struct mvcc__lock l;
        rc = mvcc__load_lock(&c, k, kl, &l);
        if (rc == MVCC_NOTFOUND || (rc == 0 && l.start_ts != start_ts)) {
            rc = 0; /* resolved meanwhile */
        } else if (rc == 0) {
            if (commit_ts != 0 && l.type == MVCC__LOCK_PESSIMISTIC) {
                /* A committed txn's key it locked and did not write: the
                 * lock goes, no record (TiKV's commit of a stale one). */
                struct mvcc__buf lk = {0};
                rc = mvcc__key_append(&lk, k, kl);
                if (rc == 0)
                    rc = mvcc_wbatch_delete(&c.wb, MVCC_CF_LOCK, lk.data,
                                            lk.len);
                mvcc__buf_free(&lk);
            } else if (commit_ts == 0)
                rc = mvcc__rollback_key(&c, k, kl, &l, start_ts);
            else if (commit_ts < l.min_commit_ts) {
                res->min_commit_ts = l.min_commit_ts;
                mvcc__res_set_key(res, k, kl);
                rc = MVCC_COMMIT_TS_EXPIRED;
            } else
                rc = mvcc__commit_key(&c, k, kl, &l, commit_ts, true);
            if (rc == 0)
                rc = mvcc__cmd_write(&c);
        }
        mvcc__latch_release(s, &latch);
        mvcc__cmd_free(&c);
        if (rc == 0) {
            struct mvcc_key wk = {k, kl};
            mvcc__wake_keys(s, &wk, 1);
        }
    }
    mvcc__buf_free(&x.keys);
    return rc;
}
