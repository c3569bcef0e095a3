/* test_pessimistic.c: pessimistic locks (conflicts against for_update_ts,
 * no-wait, wait timeout, wake-up on release, deadlock detection,
 * PessimisticRollback, prewrite conversion, prewrite of a lost lock and of
 * a key without one), GC and DeleteRange, on both engines (DESIGN.md,
 * "Pessimistic locks", "GC").
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "testutil.h"

#define K(x) (x), strlen(x)
#define TS(ms) TU_TS(ms, 0)

/* Locks k (its own primary) for start at fut with a ttl_ms lock TTL. */
static int plock_ttl(struct mvcc_store *s, struct mvcc_result *r,
                     const char *k, mvcc_ts start, mvcc_ts fut,
                     int64_t wait_ms, uint64_t ttl_ms)
{
    struct mvcc_key key = {k, strlen(k)};
    struct mvcc_pessimistic_req req;
    memset(&req, 0, sizeof req);
    req.keys = &key;
    req.n = 1;
    req.primary = k;
    req.primary_len = strlen(k);
    req.start_ts = start;
    req.for_update_ts = fut;
    req.lock_ttl = ttl_ms;
    req.wait_timeout_ms = wait_ms;
    return mvcc_acquire_pessimistic_lock(s, &req, r);
}

static int plock(struct mvcc_store *s, struct mvcc_result *r, const char *k,
                 mvcc_ts start, mvcc_ts fut, int64_t wait_ms)
{
    return plock_ttl(s, r, k, start, fut, wait_ms, 3000);
}

static int prollback(struct tu_store *t, const char *k, mvcc_ts start,
                     mvcc_ts fut)
{
    struct mvcc_key key = {k, strlen(k)};
    return mvcc_pessimistic_rollback(t->s, &key, 1, start, fut, &t->r);
}

static int put_txn(struct tu_store *t, const char *k, const char *v,
                   mvcc_ts start, mvcc_ts commit, bool pess)
{
    int rc = tu_prewrite_kv(t->s, k, v, start, pess, false, &t->r);
    if (rc != 0)
        return rc;
    struct mvcc_key key = {k, strlen(k)};
    return mvcc_commit(t->s, &key, 1, start, commit, &t->r);
}

static void get_is(struct tu_store *t, const char *k, mvcc_ts ts,
                   const char *want)
{
    int rc = mvcc_get(t->s, NULL, K(k), ts, &t->r);
    if (want == NULL) {
        assert_int_equal(rc, MVCC_NOTFOUND);
        return;
    }
    assert_int_equal(rc, 0);
    assert_int_equal(t->r.pairs[0].value_len, strlen(want));
    assert_memory_equal(t->r.pairs[0].value, want, strlen(want));
}

static void lock_prewrite_commit(void **state)
{
    struct tu_store *t = *state;
    assert_int_equal(put_txn(t, "k", "old", TS(1), TS(2), false), 0);
    assert_int_equal(plock(t->s, &t->r, "k", TS(10), TS(10), 0), 0);
    /* readers pass a pessimistic lock */
    get_is(t, "k", TS(20), "old");
    /* another txn cannot take it; no wait -> LOCKED with details */
    assert_int_equal(plock(t->s, &t->r, "k", TS(11), TS(11), 0), MVCC_LOCKED);
    assert_int_equal(t->r.locks[0].type, MVCC_LOCK_PESSIMISTIC);
    assert_int_equal(t->r.locks[0].for_update_ts, TS(10));
    /* re-acquire by the owner with a newer for_update_ts is fine */
    assert_int_equal(plock(t->s, &t->r, "k", TS(10), TS(12), 0), 0);
    /* commit of only a pessimistic lock is refused */
    struct mvcc_key key = {"k", 1};
    assert_int_equal(mvcc_commit(t->s, &key, 1, TS(10), TS(30), &t->r),
                     MVCC_LOCK_NOT_FOUND);
    /* prewrite converts, commit lands */
    assert_int_equal(put_txn(t, "k", "new", TS(10), TS(30), true), 0);
    get_is(t, "k", TS(30), "new");
    /* a pessimistic prewrite whose lock is gone, nothing newer on the
     * key: prewritten as an optimistic one (TiKV's amend) */
    assert_int_equal(put_txn(t, "q", "v", TS(40), TS(41), true), 0);
    get_is(t, "q", TS(41), "v");
}

/* The commit of a key holding only our pessimistic lock names the key,
 * start_ts and the lock's for_update_ts. */
static void commit_of_bare_lock_names_it(void **state)
{
    struct tu_store *t = *state;
    assert_int_equal(plock(t->s, &t->r, "row1", TS(10), TS(12), 0), 0);
    struct mvcc_key key = {"row1", 4};
    assert_int_equal(mvcc_commit(t->s, &key, 1, TS(10), TS(30), &t->r),
                     MVCC_LOCK_NOT_FOUND);
    char want[256];
    snprintf(want, sizeof want,
             "key 'row1' holds only a pessimistic lock (start_ts %llu, "
             "for_update_ts %llu): not prewritten",
             (unsigned long long)TS(10), (unsigned long long)TS(12));
    assert_string_equal(t->r.errmsg, want);
}

/* Prewrites k = v for start with the txn's for_update_ts fut (0:
 * optimistic), k marked as holding our pessimistic lock or not. */
static int pprewrite(struct tu_store *t, const char *k, const char *v,
                     mvcc_ts start, mvcc_ts fut, bool locked, bool one_pc)
{
    return tu_prewrite_fut(t->s, k, v, start, fut, locked, one_pc, &t->r);
}

/* A prewrite converting the primary's pessimistic lock keeps the TTL
 * heartbeats raised it to when the request's is smaller, and takes the
 * request's when larger; a secondary takes the request's. */
static void convert_keeps_raised_ttl(void **state)
{
    struct tu_store *t = *state;
    assert_int_equal(plock(t->s, &t->r, "p", TS(10), TS(10), 0), 0);
    assert_int_equal(mvcc_txn_heartbeat(t->s, K("p"), TS(10), 10000, &t->r),
                     0);
    assert_int_equal(t->r.lock_ttl, 10000);
    /* tu_prewrite_fut asks for 3000 ms */
    assert_int_equal(pprewrite(t, "p", "v", TS(10), TS(10), true, false), 0);
    assert_int_equal(mvcc_scan_lock(t->s, TS(100), K("p"), K("p\1"), 0,
                                    &t->r),
                     0);
    assert_int_equal(t->r.nlocks, 1);
    assert_int_equal(t->r.locks[0].type, MVCC_LOCK_PUT);
    assert_int_equal(t->r.locks[0].ttl, 10000);
    /* a primary locked at 3000 and prewritten with more takes more */
    assert_int_equal(plock_ttl(t->s, &t->r, "q", TS(20), TS(20), 0, 1000), 0);
    assert_int_equal(pprewrite(t, "q", "v", TS(20), TS(20), true, false), 0);
    assert_int_equal(mvcc_scan_lock(t->s, TS(100), K("q"), K("q\1"), 0,
                                    &t->r),
                     0);
    assert_int_equal(t->r.nlocks, 1);
    assert_int_equal(t->r.locks[0].ttl, 3000);
}

static int commit1(struct tu_store *t, const char *k, mvcc_ts start,
                   mvcc_ts commit)
{
    struct mvcc_key key = {k, strlen(k)};
    return mvcc_commit(t->s, &key, 1, start, commit, &t->r);
}

/* The store holds no lock on k (a read above every ts is not blocked). */
static void no_lock_on(struct tu_store *t, const char *k)
{
    int rc = mvcc_get(t->s, NULL, K(k), TS(100000), &t->r);
    assert_true(rc == 0 || rc == MVCC_NOTFOUND);
}

/* The primary k of txn start holds only an expired pessimistic lock:
 * CheckTxnStatus rolls it back. */
static void expire_plock(struct tu_store *t, const char *k, mvcc_ts start)
{
    struct mvcc_check_txn_req req = {k, strlen(k), start, 0, TS(10000),
                                     false, false};
    assert_int_equal(mvcc_check_txn_status(t->s, &req, &t->r), 0);
    assert_int_equal(t->r.status, MVCC_TXN_ROLLED_BACK);
    assert_int_equal(t->r.action, MVCC_ACT_TTL_EXPIRE_PESSIMISTIC_ROLLBACK);
}

/* Txn 10 (for_update_ts 12) prewrites k = "new" with k marked locked or
 * not, commits it at 20, and a resend of the prewrite then answers the
 * commit and writes nothing. */
static void prewrite_commit_resend(struct tu_store *t, const char *k,
                                   bool locked)
{
    assert_int_equal(pprewrite(t, k, "new", TS(10), TS(12), locked, false),
                     0);
    assert_int_equal(commit1(t, k, TS(10), TS(20)), 0);
    get_is(t, k, TS(20), "new");
    assert_int_equal(pprewrite(t, k, "new", TS(10), TS(12), locked, false),
                     0);
    no_lock_on(t, k);
}

/* The message of txn 10 (for_update_ts 12) whose lost lock on the key
 * shown as `shown` met txn 5's commit at 11. */
static void lost_to_commit_says(struct tu_store *t, const char *shown)
{
    char want[256];
    snprintf(want, sizeof want,
             "pessimistic lock of key %s is missing (start_ts %llu, "
             "for_update_ts %llu): committed at %llu by transaction %llu",
             shown, (unsigned long long)TS(10), (unsigned long long)TS(12),
             (unsigned long long)TS(11), (unsigned long long)TS(5));
    assert_string_equal(t->r.errmsg, want);
}

/* A key whose pessimistic lock should be there and is not (lost on a
 * leader change, or rolled back as expired without a record): TiKV's
 * amend. Any other txn's record newer than start_ts refuses with
 * MVCC_LOCK_NOT_FOUND naming the key, start_ts and for_update_ts; none
 * lets the prewrite go on; our own commit answers a resend. */
static void lost_lock_checked_against_start_ts(void **state)
{
    struct tu_store *t = *state;
    char want[256];
    /* older commits only: amended, 2PC and 1PC */
    assert_int_equal(put_txn(t, "a", "old", TS(1), TS(2), false), 0);
    prewrite_commit_resend(t, "a", true);
    assert_int_equal(pprewrite(t, "b", "one", TS(10), TS(12), true, true),
                     0);
    /* above the last read (no_lock_on's) */
    assert_int_equal(t->r.commit_ts, TS(100000) + 1);
    get_is(t, "b", t->r.commit_ts, "one");

    /* a commit between start_ts and for_update_ts: the txn read the key
     * at its lock's for_update_ts, which may be older than the request's,
     * so start_ts is the bound (TiKV) */
    assert_int_equal(put_txn(t, "c", "x", TS(5), TS(11), false), 0);
    assert_int_equal(pprewrite(t, "c", "y", TS(10), TS(12), true, false),
                     MVCC_LOCK_NOT_FOUND);
    assert_int_equal(t->r.conflict_start_ts, TS(5));
    assert_int_equal(t->r.conflict_commit_ts, TS(11));
    assert_int_equal(t->r.key_len, 1);
    assert_memory_equal(t->r.key, "c", 1);
    lost_to_commit_says(t, "'c'");
    no_lock_on(t, "c");
    /* and one after for_update_ts, 1PC: the same, nothing committed */
    assert_int_equal(put_txn(t, "d", "x", TS(13), TS(14), false), 0);
    assert_int_equal(pprewrite(t, "d", "y", TS(10), TS(12), true, true),
                     MVCC_LOCK_NOT_FOUND);
    assert_int_equal(t->r.conflict_commit_ts, TS(14));
    get_is(t, "d", TS(100), "x");

    /* our own rollback */
    struct mvcc_key e = {"e", 1};
    assert_int_equal(mvcc_batch_rollback(t->s, &e, 1, TS(10), &t->r), 0);
    assert_int_equal(pprewrite(t, "e", "y", TS(10), TS(12), true, false),
                     MVCC_LOCK_NOT_FOUND);
    snprintf(want, sizeof want,
             "pessimistic lock of key 'e' is missing (start_ts %llu, "
             "for_update_ts %llu): the transaction was rolled back",
             (unsigned long long)TS(10), (unsigned long long)TS(12));
    assert_string_equal(t->r.errmsg, want);

    /* a key that is not printable is shown in hex */
    const char bin[] = "\x01\xff";
    assert_int_equal(put_txn(t, bin, "x", TS(5), TS(11), false), 0);
    assert_int_equal(pprewrite(t, bin, "y", TS(10), TS(12), true, false),
                     MVCC_LOCK_NOT_FOUND);
    lost_to_commit_says(t, "0x01ff");
}

/* A pessimistic txn's key it did not lock (an index entry of a row it
 * locked): TiKV does not check it against start_ts, the row's lock having
 * ordered its writers; a record newer than for_update_ts (which such a
 * key cannot have) still refuses. An optimistic txn is checked against
 * start_ts as before. */
static void unlocked_key_checked_against_for_update_ts(void **state)
{
    struct tu_store *t = *state;
    /* committed by another txn between our start and for_update_ts */
    assert_int_equal(put_txn(t, "i1", "x", TS(5), TS(11), false), 0);
    prewrite_commit_resend(t, "i1", false);
    /* the same key and history in an optimistic txn: a conflict */
    assert_int_equal(put_txn(t, "i2", "x", TS(5), TS(11), false), 0);
    assert_int_equal(pprewrite(t, "i2", "y", TS(10), 0, false, false),
                     MVCC_CONFLICT);
    assert_int_equal(t->r.conflict_commit_ts, TS(11));
    /* newer than for_update_ts: a conflict, 2PC and 1PC */
    assert_int_equal(put_txn(t, "i3", "x", TS(13), TS(14), false), 0);
    assert_int_equal(pprewrite(t, "i3", "y", TS(10), TS(12), false, false),
                     MVCC_CONFLICT);
    assert_int_equal(t->r.conflict_start_ts, TS(13));
    assert_int_equal(t->r.conflict_commit_ts, TS(14));
    char want[128];
    snprintf(want, sizeof want, "committed at %llu after for_update_ts %llu",
             (unsigned long long)TS(14), (unsigned long long)TS(12));
    assert_string_equal(t->r.errmsg, want);
    assert_int_equal(pprewrite(t, "i3", "y", TS(10), TS(12), false, true),
                     MVCC_CONFLICT);
    get_is(t, "i3", TS(100), "x");
    no_lock_on(t, "i3");
    /* another txn's rollback after for_update_ts changes no value (an
     * optimistic txn that prewrote the entry and failed on the row) */
    struct mvcc_key i5 = {"i5", 2};
    assert_int_equal(mvcc_batch_rollback(t->s, &i5, 1, TS(13), &t->r), 0);
    assert_int_equal(pprewrite(t, "i5", "y", TS(10), TS(12), false, false),
                     0);
    /* and a lock-only commit after it */
    struct mvcc_mutation lk = {MVCC_OP_LOCK, "i6", 2, NULL, 0, false};
    assert_int_equal(tu_prewrite_muts(t->s, &lk, 1, "i6", TS(13), &t->r), 0);
    assert_int_equal(commit1(t, "i6", TS(13), TS(14)), 0);
    assert_int_equal(pprewrite(t, "i6", "y", TS(10), TS(12), false, false),
                     0);
    /* our own rollback refuses */
    struct mvcc_key r = {"i4", 2};
    assert_int_equal(mvcc_batch_rollback(t->s, &r, 1, TS(10), &t->r), 0);
    assert_int_equal(pprewrite(t, "i4", "y", TS(10), TS(12), false, false),
                     MVCC_CONFLICT);
}

/* An expired pessimistic primary rolled back by CheckTxnStatus leaves a
 * rollback record: a reader may have rolled back the txn's secondaries on
 * that answer, so the primary's prewrite must not amend the lost lock. */
static void expired_pessimistic_primary_stays_rolled_back(void **state)
{
    struct tu_store *t = *state;
    assert_int_equal(plock(t->s, &t->r, "p", TS(10), TS(10), 0), 0);
    expire_plock(t, "p", TS(10));
    assert_int_equal(pprewrite(t, "p", "v", TS(10), TS(10), true, false),
                     MVCC_LOCK_NOT_FOUND);
    assert_int_equal(plock(t->s, &t->r, "p", TS(10), TS(11), 0),
                     MVCC_ROLLED_BACK);
    /* asked again: the record answers */
    struct mvcc_check_txn_req req = {"p", 1, TS(10), 0, TS(10000), false,
                                     false};
    assert_int_equal(mvcc_check_txn_status(t->s, &req, &t->r), 0);
    assert_int_equal(t->r.status, MVCC_TXN_ROLLED_BACK);
    assert_int_equal(t->r.action, MVCC_ACT_NONE);
    /* a committed txn's leftover pessimistic lock is dropped by
     * ResolveLock without a record */
    assert_int_equal(plock(t->s, &t->r, "q", TS(30), TS(30), 0), 0);
    assert_int_equal(mvcc_resolve_lock(t->s, TS(30), TS(40), NULL, 0, NULL,
                                       0, &t->r),
                     0);
    no_lock_on(t, "q");
    req = (struct mvcc_check_txn_req){"q", 1, TS(30), 0, TS(50), false,
                                      false};
    assert_int_equal(mvcc_check_txn_status(t->s, &req, &t->r),
                     MVCC_TXN_NOT_FOUND);
}

static void conflicts_use_for_update_ts(void **state)
{
    struct tu_store *t = *state;
    assert_int_equal(put_txn(t, "k", "v", TS(10), TS(20), false), 0);
    assert_int_equal(plock(t->s, &t->r, "k", TS(15), TS(15), 0),
                     MVCC_CONFLICT);
    assert_int_equal(t->r.conflict_commit_ts, TS(20));
    assert_int_equal(t->r.conflict_start_ts, TS(10));
    /* retry with a newer for_update_ts, and read the value back */
    struct mvcc_key key = {"k", 1};
    struct mvcc_pessimistic_req req;
    memset(&req, 0, sizeof req);
    req.keys = &key;
    req.n = 1;
    req.primary = "k";
    req.primary_len = 1;
    req.start_ts = TS(15);
    req.for_update_ts = TS(25);
    req.return_values = true;
    assert_int_equal(mvcc_acquire_pessimistic_lock(t->s, &req, &t->r), 0);
    assert_int_equal(t->r.npairs, 1);
    assert_memory_equal(t->r.pairs[0].value, "v", 1);
    /* a rolled-back txn cannot lock */
    struct mvcc_key r = {"r", 1};
    assert_int_equal(mvcc_batch_rollback(t->s, &r, 1, TS(50), &t->r), 0);
    assert_int_equal(plock(t->s, &t->r, "r", TS(50), TS(50), 0),
                     MVCC_ROLLED_BACK);
    assert_int_equal(plock(t->s, &t->r, "r", TS(50), TS(49), 0), -EINVAL);
}

static void pessimistic_rollback_removes_only_ours(void **state)
{
    struct tu_store *t = *state;
    assert_int_equal(plock(t->s, &t->r, "a", TS(10), TS(12), 0), 0);
    assert_int_equal(prollback(t, "a", TS(10), TS(11)), 0); /* older fut */
    assert_int_equal(plock(t->s, &t->r, "a", TS(13), TS(13), 0), MVCC_LOCKED);
    assert_int_equal(prollback(t, "a", TS(9), TS(20)), 0); /* not ours */
    assert_int_equal(plock(t->s, &t->r, "a", TS(13), TS(13), 0), MVCC_LOCKED);
    assert_int_equal(prollback(t, "a", TS(10), TS(12)), 0);
    assert_int_equal(plock(t->s, &t->r, "a", TS(13), TS(13), 0), 0);
    expire_plock(t, "a", TS(13));
    assert_int_equal(plock(t->s, &t->r, "a", TS(14), TS(14), 0), 0);
}

static void wait_times_out(void **state)
{
    struct tu_store *t = *state;
    assert_int_equal(plock(t->s, &t->r, "k", TS(10), TS(10), 0), 0);
    assert_int_equal(plock(t->s, &t->r, "k", TS(11), TS(11), 30),
                     MVCC_LOCK_WAIT_TIMEOUT);
    assert_int_equal(t->r.nlocks, 1);
    assert_int_equal(mvcc_store_lock_waiters(t->s), 0);
}

struct waiter
{
    struct mvcc_store *s;  /* store */
    const char *key;       /* key to lock */
    mvcc_ts start;         /* txn */
    int rc;                /* outcome */
    struct mvcc_result r;  /* its result */
};

static void *wait_thread(void *arg)
{
    struct waiter *w = arg;
    mvcc_result_init(&w->r);
    /* a deadline far beyond any machine's slowness */
    w->rc = plock(w->s, &w->r, w->key, w->start, w->start, 60000);
    mvcc_result_reset(&w->r);
    return NULL;
}

static void until_waiters(struct mvcc_store *s, size_t n)
{
    while (mvcc_store_lock_waiters(s) != n)
        sched_yield();
}

static void release_wakes_the_waiter(void **state)
{
    struct tu_store *t = *state;
    assert_int_equal(plock(t->s, &t->r, "k", TS(10), TS(10), 0), 0);
    struct waiter w = {t->s, "k", TS(11), -1, {0}};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, wait_thread, &w), 0);
    until_waiters(t->s, 1);
    assert_int_equal(prollback(t, "k", TS(10), TS(10)), 0);
    pthread_join(th, NULL);
    assert_int_equal(w.rc, 0);
    /* now the waiter holds it; a commit by it wakes the next waiter, which
     * then sees a commit after its for_update_ts */
    struct waiter w2 = {t->s, "k", TS(12), -1, {0}};
    assert_int_equal(pthread_create(&th, NULL, wait_thread, &w2), 0);
    until_waiters(t->s, 1);
    assert_int_equal(put_txn(t, "k", "v", TS(11), TS(20), true), 0);
    pthread_join(th, NULL);
    assert_int_equal(w2.rc, MVCC_CONFLICT);
}

static void deadlock_is_detected(void **state)
{
    struct tu_store *t = *state;
    assert_int_equal(plock(t->s, &t->r, "a", TS(10), TS(10), 0), 0);
    assert_int_equal(plock(t->s, &t->r, "b", TS(20), TS(20), 0), 0);
    struct waiter w = {t->s, "b", TS(10), -1, {0}}; /* T10 waits for T20 */
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, wait_thread, &w), 0);
    until_waiters(t->s, 1);
    /* T20 asking for a (held by T10) would close the cycle */
    assert_int_equal(plock(t->s, &t->r, "a", TS(20), TS(20), 60000),
                     MVCC_DEADLOCK);
    assert_int_equal(t->r.conflict_start_ts, TS(10));
    /* T20 gives up: T10 gets b */
    assert_int_equal(prollback(t, "b", TS(20), TS(20)), 0);
    pthread_join(th, NULL);
    assert_int_equal(w.rc, 0);
}

static void gc_keeps_what_reads_can_see(void **state)
{
    struct tu_store *t = *state;
    char big[400];
    memset(big, 'b', sizeof big - 1);
    big[sizeof big - 1] = 0;
    assert_int_equal(put_txn(t, "k", big, TS(10), TS(20), false), 0);
    assert_int_equal(put_txn(t, "k", "v2", TS(30), TS(40), false), 0);
    assert_int_equal(put_txn(t, "k", NULL, TS(50), TS(60), false), 0);
    struct mvcc_key key = {"k", 1};
    assert_int_equal(mvcc_batch_rollback(t->s, &key, 1, TS(65), &t->r), 0);
    assert_int_equal(put_txn(t, "k", "v3", TS(70), TS(80), false), 0);
    assert_int_equal(put_txn(t, "j", "only", TS(10), TS(20), false), 0);
    uint64_t removed = 0;
    assert_int_equal(mvcc_gc(t->s, TS(45), &removed), 0);
    assert_int_equal(removed, 1); /* the big v1 */
    get_is(t, "k", TS(25), NULL);
    get_is(t, "k", TS(45), "v2");
    get_is(t, "k", TS(62), NULL);
    get_is(t, "k", TS(80), "v3");
    get_is(t, "j", TS(45), "only");
    /* the default-CF value of v1 is gone too */
    struct mvcc_iter *it;
    assert_int_equal(
        mvcc_engine_iter(t->f.eng, NULL, MVCC_CF_DEFAULT, NULL, &it), 0);
    assert_int_equal(it->ops->seek_to_first(it), 0);
    assert_false(it->ops->valid(it));
    mvcc_iter_destroy(it);
    /* at 75: the delete at 60 is the base, so it and v2 go, and the
     * rollback at 65 */
    assert_int_equal(mvcc_gc(t->s, TS(75), &removed), 0);
    assert_int_equal(removed, 3);
    get_is(t, "k", TS(75), NULL);
    get_is(t, "k", TS(80), "v3");
    assert_int_equal(mvcc_gc(t->s, TS(75), &removed), 0);
    assert_int_equal(removed, 0);
}

/* mvcc_gc_range sweeps the user keys [start, end) alone and says what it
 * read: "a", "b", "c" each with two versions under the safe point, the
 * sweep over [b, c) removes b's old one only, reads b's 2 records and
 * names the newer one's ts; an open end takes "c"'s as well; a range
 * with nothing in it reads nothing (max_ts 0), and one over everything
 * finds a's. */
static void gc_range_sweeps_its_keys_alone(void **state)
{
    struct tu_store *t = *state;
    const char *keys[] = {"a", "b", "c"};
    for (int i = 0; i < 3; i++) {
        assert_int_equal(put_txn(t, keys[i], "v1", TS(10 + i), TS(20 + i),
                                 false),
                         0);
        assert_int_equal(put_txn(t, keys[i], "v2", TS(30 + i), TS(40 + i),
                                 false),
                         0);
    }
    /* c's newest Put is above the next safe point: it stays anyway */
    assert_int_equal(put_txn(t, "c", "v3", TS(70), TS(80), false), 0);
    struct mvcc_gc_result res = {9, 9, 9};
    assert_int_equal(
        mvcc_gc_range(t->s, K("b"), K("c"), TS(50), &res), 0);
    assert_int_equal(res.removed, 1);
    assert_int_equal(res.records, 2);
    assert_true(res.max_ts == TS(41));
    get_is(t, "a", TS(25), "v1"); /* out of range: kept */
    get_is(t, "b", TS(45), "v2");
    /* [c, end): c@22 goes (under c@42, the newest Put at or below 50) */
    assert_int_equal(mvcc_gc_range(t->s, K("c"), NULL, 0, TS(50), &res), 0);
    assert_int_equal(res.removed, 1);
    assert_int_equal(res.records, 3);
    assert_true(res.max_ts == TS(80));
    get_is(t, "c", TS(50), "v2");
    get_is(t, "c", TS(90), "v3");
    /* nothing in [d, e) */
    assert_int_equal(mvcc_gc_range(t->s, K("d"), K("e"), TS(50), &res), 0);
    assert_int_equal(res.removed, 0);
    assert_int_equal(res.records, 0);
    assert_true(res.max_ts == 0);
    /* everything: only a's old version is left to go */
    assert_int_equal(mvcc_gc_range(t->s, NULL, 0, NULL, 0, TS(50), NULL), 0);
    get_is(t, "a", TS(45), "v2");
    assert_int_equal(mvcc_gc_range(t->s, NULL, 0, NULL, 0, TS(50), &res), 0);
    assert_int_equal(res.removed, 0);
    assert_int_equal(res.records, 4); /* a, b: one each; c: two */
    assert_int_equal(mvcc_gc_range(NULL, NULL, 0, NULL, 0, TS(50), &res),
                     -EINVAL);
    assert_int_equal(res.records, 0);
    assert_int_equal(mvcc_gc_range(t->s, NULL, 1, NULL, 0, TS(50), &res),
                     -EINVAL);
    assert_int_equal(mvcc_gc_range(t->s, NULL, 0, NULL, 1, TS(50), &res),
                     -EINVAL);
}

struct logbook
{
    int n;          /* messages received */
    int max_level;  /* highest level seen */
    char last[128]; /* last message */
};

static void logger(void *ctx, int level, const char *msg)
{
    struct logbook *b = ctx;
    b->n++;
    if (level > b->max_level)
        b->max_level = level;
    snprintf(b->last, sizeof b->last, "%s", msg);
}

static void logger_gets_messages_at_its_level(void **state)
{
    int kind = *(int *)*state;
    struct tu_fix f;
    assert_int_equal(tu_fix_open(&f, kind), 0);
    struct logbook book = {0, -1, ""};
    struct mvcc_store_opts o;
    memset(&o, 0, sizeof o);
    o.log = logger;
    o.log_ctx = &book;
    o.log_level = MVCC_LOG_WARN; /* GC's INFO line is filtered out */
    struct mvcc_store *s;
    assert_int_equal(mvcc_store_open(f.eng, &o, &s), 0);
    uint64_t removed;
    assert_int_equal(mvcc_gc(s, TS(10), &removed), 0);
    assert_int_equal(book.n, 0);
    mvcc_store_close(s);
    o.log_level = MVCC_LOG_INFO;
    o.latch_slots = 64;
    assert_int_equal(mvcc_store_open(f.eng, &o, &s), 0);
    assert_int_equal(mvcc_gc(s, TS(10), &removed), 0);
    assert_int_equal(book.n, 1);
    assert_int_equal(book.max_level, MVCC_LOG_INFO);
    assert_string_equal(book.last, "gc at 2621440 removed 0 versions");
    mvcc_store_close(s);
    o.latch_slots = 100; /* not a power of two */
    assert_int_equal(mvcc_store_open(f.eng, &o, &s), -EINVAL);
    mvcc_store_close(NULL);
    tu_fix_close(&f);
}

/* The apply hook sees every batch (as Raft would) and decides. */
struct applier
{
    struct mvcc_engine *eng; /* where batches land */
    int batches;             /* seen */
    bool refuse;             /* fail the next batch (not applied) */
};

static int apply_hook(void *ctx, const struct mvcc_wbatch *b, bool sync)
{
    struct applier *a = ctx;
    a->batches++;
    if (a->refuse) {
        a->refuse = false;
        return MVCC_EENGINE; /* e.g. not leader: nothing applied */
    }
    return mvcc_engine_write(a->eng, b, sync);
}

/* A store of engine kind whose batches go through hook(ctx). */
static void hooked_open(struct tu_store *t, int kind, mvcc_apply_fn hook,
                        void *ctx)
{
    memset(t, 0, sizeof *t);
    assert_int_equal(tu_fix_open(&t->f, kind), 0);
    struct mvcc_store_opts o;
    memset(&o, 0, sizeof o);
    o.apply = hook;
    o.apply_ctx = ctx;
    mvcc_result_init(&t->r);
    assert_int_equal(mvcc_store_open(t->f.eng, &o, &t->s), 0);
}

static void apply_hook_carries_every_batch(void **state)
{
    int kind = *(int *)*state;
    struct tu_store t;
    struct applier a = {NULL, 0, false};
    hooked_open(&t, kind, apply_hook, &a);
    a.eng = t.f.eng;
    assert_int_equal(put_txn(&t, "k", "v", TS(10), TS(20), false), 0);
    assert_int_equal(a.batches, 2); /* prewrite, commit */
    a.refuse = true;
    assert_int_equal(put_txn(&t, "k", "w", TS(30), TS(40), false),
                     MVCC_EENGINE);
    get_is(&t, "k", TS(50), "v"); /* the refused prewrite left nothing */
    assert_int_equal(mvcc_scan_lock(t.s, MVCC_TS_MAX, NULL, 0, NULL, 0, 0,
                                    &t.r),
                     0);
    assert_int_equal(t.r.nlocks, 0);
    uint64_t removed;
    assert_int_equal(mvcc_gc(t.s, TS(50), &removed), 0);
    assert_int_equal(mvcc_delete_range(t.s, K("a"), K("b")), 0);
    assert_int_equal(a.batches, 4); /* DeleteRange; GC had nothing */
    mvcc_result_reset(&t.r);
    mvcc_store_close(t.s);
    tu_fix_close(&t.f);
}

/* Checks after every batch GC applies that "k" still reads nothing at
 * the safe point (its Delete is the base there). */
struct gc_watch
{
    struct mvcc_engine *eng;
    struct tu_store *t; /* set once the store is open */
    mvcc_ts at;         /* the read's ts */
    int batches;        /* batches applied */
    int seen;           /* reads that found a value */
};

static int gc_watch_apply(void *ctx, const struct mvcc_wbatch *b, bool sync)
{
    struct gc_watch *w = ctx;
    int rc = mvcc_engine_write(w->eng, b, sync);
    w->batches++;
    if (rc == 0 && w->t && w->at &&
        mvcc_get(w->t->s, NULL, K("k"), w->at, &w->t->r) != MVCC_NOTFOUND)
        w->seen++;
    return rc;
}

/* A key whose base is a Delete over more versions than one GC batch
 * holds: they go in one batch with the Delete, so no read at the safe
 * point ever sees an old Put come back between batches. */
static void gc_never_uncovers_a_deleted_key(void **state)
{
    int kind = *(int *)*state;
    struct tu_store t;
    struct gc_watch w = {NULL, NULL, 0, 0, 0};
    hooked_open(&t, kind, gc_watch_apply, &w);
    w.eng = t.f.eng;
    w.t = &t;
    for (int i = 0; i < 300; i++)
        assert_int_equal(put_txn(&t, "k", "v", TS(10 + 2 * i),
                                 TS(11 + 2 * i), false),
                         0);
    assert_int_equal(put_txn(&t, "k", NULL, TS(700), TS(701), false), 0);
    for (int i = 0; i < 300; i++) { /* another key after it: 299 go */
        assert_int_equal(put_txn(&t, "l", "v", TS(710 + 2 * i),
                                 TS(711 + 2 * i), false),
                         0);
    }
    w.at = TS(2000);
    w.batches = 0;
    uint64_t removed = 0;
    assert_int_equal(mvcc_gc(t.s, TS(2000), &removed), 0);
    assert_int_equal(removed, 301 + 299);
    assert_int_equal(w.seen, 0);
    /* k's 301 in one batch, then l's in 256-record batches */
    assert_int_equal(w.batches, 3);
    get_is(&t, "k", TS(2000), NULL);
    get_is(&t, "l", TS(2000), "v");
    mvcc_result_reset(&t.r);
    mvcc_store_close(t.s);
    tu_fix_close(&t.f);
}

static void delete_range_clears_every_cf(void **state)
{
    struct tu_store *t = *state;
    assert_int_equal(put_txn(t, "a", "1", TS(10), TS(20), false), 0);
    assert_int_equal(put_txn(t, "b", "1", TS(10), TS(20), false), 0);
    assert_int_equal(put_txn(t, "c", "1", TS(10), TS(20), false), 0);
    assert_int_equal(plock(t->s, &t->r, "bb", TS(30), TS(30), 0), 0);
    assert_int_equal(mvcc_delete_range(t->s, K("b"), K("c")), 0);
    get_is(t, "a", TS(40), "1");
    get_is(t, "b", TS(40), NULL);
    get_is(t, "c", TS(40), "1");
    assert_int_equal(mvcc_scan_lock(t->s, MVCC_TS_MAX, NULL, 0, NULL, 0, 0,
                                    &t->r),
                     0);
    assert_int_equal(t->r.nlocks, 0);
    const char ff[20] = {(char)0xFF, (char)0xFF, (char)0xFF, (char)0xFF,
                         (char)0xFF, (char)0xFF, (char)0xFF, (char)0xFF,
                         (char)0xFF, (char)0xFF, (char)0xFF, (char)0xFF,
                         (char)0xFF, (char)0xFF, (char)0xFF, (char)0xFF,
                         (char)0xFF, (char)0xFF, (char)0xFF, (char)0xFF};
    char fk[21];
    memcpy(fk, ff, 20);
    fk[20] = 0;
    assert_int_equal(put_txn(t, fk, "x", TS(50), TS(60), false), 0);
    assert_int_equal(mvcc_delete_range(t->s, K("c"), NULL, 0), 0);
    assert_int_equal(mvcc_scan(t->s, NULL, NULL, 0, NULL, 0, TS(70), &t->r),
                     0);
    assert_int_equal(t->r.npairs, 1);
    assert_memory_equal(t->r.pairs[0].key, "a", 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        TU_BOTH_STORE(lock_prewrite_commit),
        TU_BOTH_STORE(commit_of_bare_lock_names_it),
        TU_BOTH_STORE(convert_keeps_raised_ttl),
        TU_BOTH_STORE(lost_lock_checked_against_start_ts),
        TU_BOTH_STORE(unlocked_key_checked_against_for_update_ts),
        TU_BOTH_STORE(expired_pessimistic_primary_stays_rolled_back),
        TU_BOTH_STORE(conflicts_use_for_update_ts),
        TU_BOTH_STORE(pessimistic_rollback_removes_only_ours),
        TU_BOTH_STORE(wait_times_out),
        TU_BOTH_STORE(release_wakes_the_waiter),
        TU_BOTH_STORE(deadlock_is_detected),
        TU_BOTH_STORE(gc_keeps_what_reads_can_see),
        TU_BOTH_STORE(gc_range_sweeps_its_keys_alone),
        TU_BOTH_STORE(delete_range_clears_every_cf),
        TU_BOTH_KIND(logger_gets_messages_at_its_level),
        TU_BOTH_KIND(apply_hook_carries_every_batch),
        TU_BOTH_KIND(gc_never_uncovers_a_deleted_key),
    };
    return cmocka_run_group_tests_name("libmvcc/pessimistic", tests, NULL,
                                       NULL);
}
