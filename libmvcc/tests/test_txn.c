/* test_txn.c: every storage command's outcomes, including every error
 * (DESIGN.md, "Commands"), on the memory engine and on RocksDB.
 */
#include <errno.h>
#include <pthread.h>
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

static struct mvcc_mutation mput(const char *k, const char *v)
{
    struct mvcc_mutation m = {MVCC_OP_PUT, k, strlen(k), v, strlen(v), false};
    return m;
}

static struct mvcc_mutation mop(int op, const char *k)
{
    struct mvcc_mutation m = {op, k, strlen(k), NULL, 0, false};
    return m;
}

static int prewrite(struct tu_store *t, const struct mvcc_mutation *m,
                    size_t n, const char *primary, mvcc_ts start)
{
    return tu_prewrite_muts(t->s, m, n, primary, start, &t->r);
}

static int commit1(struct tu_store *t, const char *k, mvcc_ts start,
                   mvcc_ts commit)
{
    struct mvcc_key key = {k, strlen(k)};
    return mvcc_commit(t->s, &key, 1, start, commit, &t->r);
}

static int rollback1(struct tu_store *t, const char *k, mvcc_ts start)
{
    struct mvcc_key key = {k, strlen(k)};
    return mvcc_batch_rollback(t->s, &key, 1, start, &t->r);
}

/* A whole transaction writing one key. */
static void txn_put(struct tu_store *t, const char *k, const char *v,
                    mvcc_ts start, mvcc_ts commit)
{
    struct mvcc_mutation m = v ? mput(k, v) : mop(MVCC_OP_DELETE, k);
    assert_int_equal(prewrite(t, &m, 1, k, start), 0);
    assert_int_equal(commit1(t, k, start, commit), 0);
}

static void get_versions_at_ts(void **state)
{
    struct tu_store *t = *state;
    txn_put(t, "k", "v1", TS(10), TS(20));
    txn_put(t, "k", "v2", TS(30), TS(40));
    tu_get_is(t, "k", TS(15), NULL);
    tu_get_is(t, "k", TS(20), "v1");
    tu_get_is(t, "k", TS(39), "v1");
    tu_get_is(t, "k", TS(40), "v2");
    txn_put(t, "k", NULL, TS(50), TS(60));
    tu_get_is(t, "k", TS(55), "v2");
    tu_get_is(t, "k", TS(60), NULL);
    tu_get_is(t, "other", TS(60), NULL);
    /* a lock-only txn leaves a Lock record readers look through */
    struct mvcc_mutation m = mop(MVCC_OP_LOCK, "k");
    assert_int_equal(prewrite(t, &m, 1, "k", TS(70)), 0);
    assert_int_equal(commit1(t, "k", TS(70), TS(80)), 0);
    tu_get_is(t, "k", TS(90), NULL);
    tu_get_is(t, "k", TS(45), "v2");
    /* empty key and value */
    txn_put(t, "", "", TS(100), TS(110));
    tu_get_is(t, "", TS(110), "");
}

static void large_values_live_in_default_cf(void **state)
{
    struct tu_store *t = *state;
    char big[1000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = 0;
    big[500] = 'y';
    txn_put(t, "big", big, TS(10), TS(20));
    tu_get_is(t, "big", TS(25), big);
    /* rolled back big values leave nothing behind in default */
    struct mvcc_mutation m = mput("big", big);
    assert_int_equal(prewrite(t, &m, 1, "big", TS(30)), 0);
    assert_int_equal(rollback1(t, "big", TS(30)), 0);
    struct mvcc_iter *it;
    assert_int_equal(
        mvcc_engine_iter(t->f.eng, NULL, MVCC_CF_DEFAULT, NULL, &it), 0);
    int n = 0;
    for (it->ops->seek_to_first(it); it->ops->valid(it); it->ops->next(it))
        n++;
    mvcc_iter_destroy(it);
    assert_int_equal(n, 1);
    tu_get_is(t, "big", TS(35), big);
}

static void reads_stop_at_locks(void **state)
{
    struct tu_store *t = *state;
    txn_put(t, "k", "old", TS(1), TS(2));
    struct mvcc_mutation m = mput("k", "new");
    assert_int_equal(prewrite(t, &m, 1, "pk", TS(10)), 0);
    tu_get_is(t, "k", TS(5), "old"); /* lock above the read ts */
    tu_get_is(t, "k", TS(10), "old"); /* commit_ts will exceed start 10 */
    assert_int_equal(mvcc_get(t->s, NULL, K("k"), TS(11), &t->r), MVCC_LOCKED);
    assert_int_equal(t->r.nlocks, 1);
    struct mvcc_lock_info *li = &t->r.locks[0];
    assert_int_equal(li->start_ts, TS(10));
    assert_int_equal(li->ttl, 3000);
    assert_int_equal(li->type, MVCC_LOCK_PUT);
    assert_int_equal(li->primary_len, 2);
    assert_memory_equal(li->primary, "pk", 2);
    assert_int_equal(li->key_len, 1);
    assert_memory_equal(li->key, "k", 1);
    assert_int_equal(li->txn_size, 1);
    /* read committed ignores locks; a bypassed txn's lock is skipped */
    struct mvcc_read_opts ro;
    memset(&ro, 0, sizeof ro);
    ro.isolation = MVCC_ISO_RC;
    assert_int_equal(mvcc_get(t->s, &ro, K("k"), TS(11), &t->r), 0);
    ro.isolation = MVCC_ISO_SI;
    mvcc_ts bypass = TS(10);
    ro.bypass = &bypass;
    ro.nbypass = 1;
    assert_int_equal(mvcc_get(t->s, &ro, K("k"), TS(11), &t->r), 0);
    assert_memory_equal(t->r.pairs[0].value, "old", 3);
    /* Lock-type locks do not block reads */
    struct mvcc_mutation l = mop(MVCC_OP_LOCK, "r");
    txn_put(t, "r", "v", TS(3), TS(4));
    assert_int_equal(prewrite(t, &l, 1, "r", TS(12)), 0);
    tu_get_is(t, "r", TS(13), "v");
    /* batch get reports the lock */
    struct mvcc_key keys[] = {{"r", 1}, {"k", 1}};
    assert_int_equal(mvcc_batch_get(t->s, NULL, keys, 2, TS(13), &t->r),
                     MVCC_LOCKED);
    assert_int_equal(t->r.nlocks, 1);
    assert_int_equal(t->r.locks[0].start_ts, TS(10));
    /* after commit the new value is visible at and above commit_ts */
    assert_int_equal(commit1(t, "k", TS(10), TS(15)), 0);
    tu_get_is(t, "k", TS(14), "old");
    tu_get_is(t, "k", TS(15), "new");
}

static void batch_get_returns_found_pairs(void **state)
{
    struct tu_store *t = *state;
    txn_put(t, "a", "1", TS(1), TS(2));
    txn_put(t, "c", "3", TS(1), TS(2));
    struct mvcc_key keys[] = {{"a", 1}, {"b", 1}, {"c", 1}};
    assert_int_equal(mvcc_batch_get(t->s, NULL, keys, 3, TS(5), &t->r), 0);
    assert_int_equal(t->r.npairs, 2);
    assert_memory_equal(t->r.pairs[0].key, "a", 1);
    assert_memory_equal(t->r.pairs[1].value, "3", 1);
    assert_int_equal(mvcc_batch_get(t->s, NULL, keys, 3, TS(1), &t->r), 0);
    assert_int_equal(t->r.npairs, 0);
}

static void scan_is(struct tu_store *t, const struct mvcc_read_opts *ro,
                    const char *lo, const char *hi, mvcc_ts ts,
                    const char *want)
{
    int rc = mvcc_scan(t->s, ro, lo, lo ? strlen(lo) : 0, hi,
                       hi ? strlen(hi) : 0, ts, &t->r);
    assert_int_equal(rc, 0);
    char got[512] = "";
    for (size_t i = 0; i < t->r.npairs; i++) {
        char one[64];
        snprintf(one, sizeof one, "%s%.*s=%.*s", i ? "," : "",
                 (int)t->r.pairs[i].key_len, t->r.pairs[i].key,
                 (int)t->r.pairs[i].value_len,
                 t->r.pairs[i].value ? (char *)t->r.pairs[i].value : "");
        strcat(got, one);
    }
    assert_string_equal(got, want);
}

static void scan_forward_reverse_limit_keyonly(void **state)
{
    struct tu_store *t = *state;
    txn_put(t, "a", "1", TS(1), TS(2));
    txn_put(t, "b", "1", TS(1), TS(2));
    txn_put(t, "b", "2", TS(3), TS(4));
    txn_put(t, "c", "1", TS(1), TS(2));
    txn_put(t, "c", NULL, TS(3), TS(4));
    txn_put(t, "d", "4", TS(5), TS(6));
    txn_put(t, "abcdefghij", "long", TS(1), TS(2)); /* spans two groups */
    struct mvcc_read_opts ro;
    memset(&ro, 0, sizeof ro);
    scan_is(t, &ro, NULL, NULL, TS(4), "a=1,abcdefghij=long,b=2");
    scan_is(t, &ro, NULL, NULL, TS(2), "a=1,abcdefghij=long,b=1,c=1");
    scan_is(t, &ro, NULL, NULL, TS(9), "a=1,abcdefghij=long,b=2,d=4");
    scan_is(t, &ro, "ab", "d", TS(9), "abcdefghij=long,b=2");
    ro.reverse = true;
    scan_is(t, &ro, NULL, NULL, TS(9), "d=4,b=2,abcdefghij=long,a=1");
    scan_is(t, &ro, "a", "d", TS(2), "c=1,b=1,abcdefghij=long,a=1");
    ro.limit = 2;
    scan_is(t, &ro, NULL, NULL, TS(9), "d=4,b=2");
    ro.reverse = false;
    scan_is(t, &ro, "b", NULL, TS(9), "b=2,d=4");
    ro.key_only = true;
    ro.limit = 0;
    scan_is(t, &ro, "b", NULL, TS(9), "b=,d=");
    /* a lock in range stops the scan with its details */
    struct mvcc_mutation m = mput("bb", "x");
    assert_int_equal(prewrite(t, &m, 1, "bb", TS(7)), 0);
    ro.key_only = false;
    assert_int_equal(mvcc_scan(t->s, &ro, K("a"), NULL, 0, TS(9), &t->r),
                     MVCC_LOCKED);
    assert_int_equal(t->r.nlocks, 1);
    assert_memory_equal(t->r.locks[0].key, "bb", 2);
    scan_is(t, &ro, "c", NULL, TS(9), "d=4");
    scan_is(t, &ro, NULL, NULL, TS(6), "a=1,abcdefghij=long,b=2,d=4");
    /* a lock-only key with no versions shows nothing at lower ts */
    ro.reverse = true;
    scan_is(t, &ro, NULL, NULL, TS(6), "d=4,b=2,abcdefghij=long,a=1");
}

static void prewrite_conflict_locked_already_exist(void **state)
{
    struct tu_store *t = *state;
    txn_put(t, "k", "v", TS(10), TS(20));
    /* WriteConflict: a commit after our start */
    struct mvcc_mutation m = mput("k", "mine");
    assert_int_equal(prewrite(t, &m, 1, "k", TS(15)), MVCC_CONFLICT);
    assert_int_equal(t->r.conflict_start_ts, TS(10));
    assert_int_equal(t->r.conflict_commit_ts, TS(20));
    assert_int_equal(t->r.key_len, 1);
    /* KeyIsLocked: every lock reported, nothing written */
    struct mvcc_mutation two[] = {mput("a", "1"), mput("b", "1")};
    assert_int_equal(prewrite(t, two, 2, "a", TS(30)), 0);
    struct mvcc_mutation three[] = {mput("a", "2"), mput("b", "2"),
                                    mput("c", "2")};
    assert_int_equal(prewrite(t, three, 3, "a", TS(31)), MVCC_LOCKED);
    assert_int_equal(t->r.nlocks, 2);
    assert_int_equal(t->r.locks[1].start_ts, TS(30));
    assert_int_equal(mvcc_scan_lock(t->s, TS(100), NULL, 0, NULL, 0, 0,
                                    &t->r),
                     0);
    assert_int_equal(t->r.nlocks, 2); /* no lock on c */
    /* idempotent: the same prewrite again succeeds */
    assert_int_equal(prewrite(t, two, 2, "a", TS(30)), 0);
    /* Insert: AlreadyExist on a live key, fine on a deleted one */
    struct mvcc_mutation ins = mput("k", "x");
    ins.op = MVCC_OP_INSERT;
    assert_int_equal(prewrite(t, &ins, 1, "k", TS(40)), MVCC_ALREADY_EXIST);
    assert_memory_equal(t->r.key, "k", 1);
    struct mvcc_mutation cne = mop(MVCC_OP_CHECK_NOT_EXISTS, "k");
    assert_int_equal(prewrite(t, &cne, 1, "k", TS(40)), MVCC_ALREADY_EXIST);
    txn_put(t, "k", NULL, TS(41), TS(42));
    assert_int_equal(prewrite(t, &ins, 1, "k", TS(43)), 0);
    assert_int_equal(commit1(t, "k", TS(43), TS(44)), 0);
    tu_get_is(t, "k", TS(44), "x");
    /* CheckNotExists on a missing key writes nothing */
    struct mvcc_mutation cne2 = mop(MVCC_OP_CHECK_NOT_EXISTS, "zz");
    assert_int_equal(prewrite(t, &cne2, 1, "zz", TS(45)), 0);
    assert_int_equal(mvcc_scan_lock(t->s, TS(100), K("z"), NULL, 0, 0,
                                    &t->r),
                     0);
    assert_int_equal(t->r.nlocks, 0);
    /* bad arguments */
    struct mvcc_mutation bad = mop(9, "k");
    assert_int_equal(prewrite(t, &bad, 1, "k", TS(50)), -EINVAL);
}

static void commit_outcomes(void **state)
{
    struct tu_store *t = *state;
    struct mvcc_mutation m = mput("k", "v");
    assert_int_equal(prewrite(t, &m, 1, "k", TS(10)), 0);
    assert_int_equal(commit1(t, "k", TS(10), TS(20)), 0);
    assert_int_equal(commit1(t, "k", TS(10), TS(20)), 0); /* idempotent */
    assert_int_equal(commit1(t, "nothing", TS(10), TS(20)),
                     MVCC_TXN_NOT_FOUND);
    /* a rolled-back transaction cannot commit */
    assert_int_equal(prewrite(t, &m, 1, "k", TS(30)), 0);
    assert_int_equal(rollback1(t, "k", TS(30)), 0);
    assert_int_equal(commit1(t, "k", TS(30), TS(40)), MVCC_ROLLED_BACK);
    /* commit_ts below min_commit_ts */
    struct mvcc_prewrite_req req;
    memset(&req, 0, sizeof req);
    req.mutations = &m;
    req.n = 1;
    req.primary = "k";
    req.primary_len = 1;
    req.start_ts = TS(50);
    req.min_commit_ts = TS(60);
    assert_int_equal(mvcc_prewrite(t->s, &req, &t->r), 0);
    assert_int_equal(commit1(t, "k", TS(50), TS(55)), MVCC_COMMIT_TS_EXPIRED);
    assert_int_equal(t->r.min_commit_ts, TS(60));
    assert_int_equal(commit1(t, "k", TS(50), TS(60)), 0);
    tu_get_is(t, "k", TS(60), "v");
    assert_int_equal(commit1(t, "k", TS(50), TS(50)), -EINVAL);
}

static void rollback_leaves_a_record(void **state)
{
    struct tu_store *t = *state;
    /* rollback before the prewrite arrives: the late prewrite fails */
    assert_int_equal(rollback1(t, "k", TS(10)), 0);
    struct mvcc_mutation m = mput("k", "v");
    assert_int_equal(prewrite(t, &m, 1, "k", TS(10)), MVCC_CONFLICT);
    assert_int_equal(rollback1(t, "k", TS(10)), 0); /* twice is fine */
    /* rollback of a committed key */
    txn_put(t, "c", "v", TS(20), TS(30));
    assert_int_equal(rollback1(t, "c", TS(20)), MVCC_COMMITTED);
    assert_int_equal(t->r.commit_ts, TS(30));
    tu_get_is(t, "c", TS(30), "v");
    /* rollback removes the lock */
    assert_int_equal(prewrite(t, &m, 1, "k", TS(40)), 0);
    assert_int_equal(rollback1(t, "k", TS(40)), 0);
    tu_get_is(t, "k", TS(50), NULL);
    assert_int_equal(mvcc_scan_lock(t->s, TS(100), NULL, 0, NULL, 0, 0,
                                    &t->r),
                     0);
    assert_int_equal(t->r.nlocks, 0);
    /* another txn's rollback record after our start writes nothing: no
     * conflict (a txn that gave way to us, wait-die, must not fail us) */
    assert_int_equal(rollback1(t, "r", TS(60)), 0);
    struct mvcc_mutation mr = mput("r", "v");
    assert_int_equal(prewrite(t, &mr, 1, "r", TS(55)), 0);
    assert_int_equal(commit1(t, "r", TS(55), TS(65)), 0);
    tu_get_is(t, "r", TS(65), "v");
    /* its Lock record (a committed SELECT FOR UPDATE) still conflicts */
    struct mvcc_mutation ml = mop(MVCC_OP_LOCK, "l");
    assert_int_equal(prewrite(t, &ml, 1, "l", TS(70)), 0);
    assert_int_equal(commit1(t, "l", TS(70), TS(80)), 0);
    struct mvcc_mutation mw = mput("l", "v");
    assert_int_equal(prewrite(t, &mw, 1, "l", TS(75)), MVCC_CONFLICT);
    assert_int_equal(t->r.conflict_commit_ts, TS(80));
}

static void overlapped_rollback_keeps_the_commit(void **state)
{
    struct tu_store *t = *state;
    /* txn A commits at exactly txn B's start_ts; then B is rolled back */
    txn_put(t, "k", "a", TS(10), TS(20));
    assert_int_equal(rollback1(t, "k", TS(20)), 0);
    tu_get_is(t, "k", TS(20), "a");
    struct mvcc_mutation m = mput("k", "b");
    assert_int_equal(prewrite(t, &m, 1, "k", TS(20)), MVCC_CONFLICT);
    assert_int_equal(commit1(t, "k", TS(20), TS(30)), MVCC_ROLLED_BACK);
    /* A still reads as committed */
    struct mvcc_check_txn_req req = {"k", 1, TS(10), 0, TS(100), false, false};
    assert_int_equal(mvcc_check_txn_status(t->s, &req, &t->r), 0);
    assert_int_equal(t->r.status, MVCC_TXN_COMMITTED);
    assert_int_equal(t->r.commit_ts, TS(20));
}

static void cleanup_outcomes(void **state)
{
    struct tu_store *t = *state;
    struct mvcc_mutation m = mput("k", "v");
    assert_int_equal(prewrite(t, &m, 1, "k", TS(1000)), 0); /* ttl 3000 */
    assert_int_equal(mvcc_cleanup(t->s, K("k"), TS(1000), TS(2000), &t->r),
                     MVCC_LOCKED);
    assert_int_equal(t->r.locks[0].ttl, 3000);
    assert_int_equal(mvcc_cleanup(t->s, K("k"), TS(1000), TS(5000), &t->r),
                     0);
    assert_int_equal(commit1(t, "k", TS(1000), TS(6000)), MVCC_ROLLED_BACK);
    /* current_ts 0 rolls back unconditionally */
    assert_int_equal(prewrite(t, &m, 1, "k", TS(7000)), 0);
    assert_int_equal(mvcc_cleanup(t->s, K("k"), TS(7000), 0, &t->r), 0);
    tu_get_is(t, "k", TS(9000), NULL);
    txn_put(t, "k", "v", TS(8000), TS(8001));
    assert_int_equal(mvcc_cleanup(t->s, K("k"), TS(8000), 0, &t->r),
                     MVCC_COMMITTED);
    assert_int_equal(t->r.commit_ts, TS(8001));
}

static void check_txn_status_outcomes(void **state)
{
    struct tu_store *t = *state;
    struct mvcc_mutation m = mput("p", "v");
    assert_int_equal(prewrite(t, &m, 1, "p", TS(1000)), 0);
    struct mvcc_check_txn_req req = {"p", 1, TS(1000), 0, TS(2000), false,
                                     false};
    assert_int_equal(mvcc_check_txn_status(t->s, &req, &t->r), 0);
    assert_int_equal(t->r.status, MVCC_TXN_LOCKED);
    assert_int_equal(t->r.lock_ttl, 3000);
    assert_int_equal(t->r.action, MVCC_ACT_NONE);
    /* a reader at 1500 pushes min_commit_ts, then reads past the lock */
    assert_int_equal(mvcc_get(t->s, NULL, K("p"), TS(1500), &t->r),
                     MVCC_LOCKED);
    req.caller_start_ts = TS(1500);
    assert_int_equal(mvcc_check_txn_status(t->s, &req, &t->r), 0);
    assert_int_equal(t->r.action, MVCC_ACT_MIN_COMMIT_TS_PUSHED);
    assert_int_equal(t->r.locks[0].min_commit_ts, TS(1500) + 1);
    tu_get_is(t, "p", TS(1500), NULL);
    assert_int_equal(commit1(t, "p", TS(1000), TS(1500)),
                     MVCC_COMMIT_TS_EXPIRED);
    /* expired TTL: rolled back */
    req.caller_start_ts = 0;
    req.current_ts = TS(4001);
    assert_int_equal(mvcc_check_txn_status(t->s, &req, &t->r), 0);
    assert_int_equal(t->r.status, MVCC_TXN_ROLLED_BACK);
    assert_int_equal(t->r.action, MVCC_ACT_TTL_EXPIRE_ROLLBACK);
    assert_int_equal(mvcc_check_txn_status(t->s, &req, &t->r), 0);
    assert_int_equal(t->r.status, MVCC_TXN_ROLLED_BACK);
    assert_int_equal(t->r.action, MVCC_ACT_NONE);
    /* committed */
    txn_put(t, "q", "v", TS(5000), TS(5001));
    struct mvcc_check_txn_req q = {"q", 1, TS(5000), 0, TS(6000), false,
                                   false};
    assert_int_equal(mvcc_check_txn_status(t->s, &q, &t->r), 0);
    assert_int_equal(t->r.status, MVCC_TXN_COMMITTED);
    assert_int_equal(t->r.commit_ts, TS(5001));
    /* nothing at all */
    struct mvcc_check_txn_req n = {"n", 1, TS(7000), 0, TS(7000), false,
                                   false};
    assert_int_equal(mvcc_check_txn_status(t->s, &n, &t->r),
                     MVCC_TXN_NOT_FOUND);
    n.rollback_if_not_exist = true;
    assert_int_equal(mvcc_check_txn_status(t->s, &n, &t->r), 0);
    assert_int_equal(t->r.status, MVCC_TXN_ROLLED_BACK);
    assert_int_equal(t->r.action, MVCC_ACT_LOCK_NOT_EXIST_ROLLBACK);
    struct mvcc_mutation late = mput("n", "v");
    assert_int_equal(prewrite(t, &late, 1, "n", TS(7000)), MVCC_CONFLICT);
}

/* An async-commit prewrite of ms[0..n) at start with primary "p" and
 * the given secondaries. */
static void async_req(struct mvcc_prewrite_req *req,
                      const struct mvcc_mutation *ms, size_t n,
                      const struct mvcc_key *secs, size_t nsecs,
                      mvcc_ts start)
{
    memset(req, 0, sizeof *req);
    req->mutations = ms;
    req->n = n;
    req->primary = "p";
    req->primary_len = 1;
    req->start_ts = start;
    req->lock_ttl = 10;
    req->use_async_commit = true;
    req->secondaries = secs;
    req->nsecondaries = nsecs;
}

static void async_commit_and_secondaries(void **state)
{
    struct tu_store *t = *state;
    /* a read at 500 makes any async commit_ts exceed 500 */
    tu_get_is(t, "x", TS(500), NULL);
    assert_true(mvcc_store_max_ts(t->s) >= TS(500));
    struct mvcc_mutation ms[] = {mput("p", "1"), mput("s1", "2"),
                                 mput("s2", "3")};
    struct mvcc_key secs[] = {{"s1", 2}, {"s2", 2}};
    struct mvcc_prewrite_req req;
    async_req(&req, ms, 2, secs, 2, TS(100)); /* s2's prewrite is "lost" */
    assert_int_equal(mvcc_prewrite(t->s, &req, &t->r), 0);
    mvcc_ts mct = t->r.min_commit_ts;
    assert_true(mct > TS(500));
    /* the primary lock lists the secondaries */
    struct mvcc_check_txn_req cr = {"p", 1, TS(100), TS(600), TS(101), false,
                                    false};
    assert_int_equal(mvcc_check_txn_status(t->s, &cr, &t->r), 0);
    assert_int_equal(t->r.status, MVCC_TXN_LOCKED);
    assert_int_equal(t->r.action, MVCC_ACT_NONE); /* async: not pushed */
    assert_true(t->r.locks[0].use_async_commit);
    assert_int_equal(t->r.locks[0].nsecondaries, 2);
    assert_int_equal(t->r.locks[0].secondaries[1].len, 2);
    assert_memory_equal(t->r.locks[0].secondaries[1].data, "s2", 2);
    /* expired, the async primary is still not rolled back by a status
     * check: only the secondaries decide */
    cr.current_ts = TS(100000);
    assert_int_equal(mvcc_check_txn_status(t->s, &cr, &t->r), 0);
    assert_int_equal(t->r.status, MVCC_TXN_LOCKED);
    cr.current_ts = TS(101);
    /* both prewritten secondaries: locked */
    assert_int_equal(mvcc_check_secondary_locks(t->s, secs, 1, TS(100),
                                                &t->r),
                     0);
    assert_int_equal(t->r.status, MVCC_TXN_LOCKED);
    assert_int_equal(t->r.nlocks, 1);
    assert_int_equal(t->r.locks[0].min_commit_ts, mct);
    /* s2 missing: rolled back, and its late prewrite cannot land */
    assert_int_equal(mvcc_check_secondary_locks(t->s, secs, 2, TS(100),
                                                &t->r),
                     0);
    assert_int_equal(t->r.status, MVCC_TXN_ROLLED_BACK);
    assert_int_equal(t->r.nlocks, 0);
    req.mutations = &ms[2];
    req.n = 1;
    assert_int_equal(mvcc_prewrite(t->s, &req, &t->r), MVCC_CONFLICT);
    assert_int_equal(mvcc_resolve_lock(t->s, TS(100), 0, NULL, 0, NULL, 0,
                                       &t->r),
                     0);
    tu_get_is(t, "p", TS(900), NULL);

    /* a fully prewritten async txn: secondaries committed -> COMMITTED */
    req.mutations = ms;
    req.n = 3;
    req.start_ts = TS(1000);
    assert_int_equal(mvcc_prewrite(t->s, &req, &t->r), 0);
    mct = t->r.min_commit_ts;
    assert_int_equal(commit1(t, "s1", TS(1000), mct), 0);
    assert_int_equal(mvcc_check_secondary_locks(t->s, secs, 2, TS(1000),
                                                &t->r),
                     0);
    assert_int_equal(t->r.status, MVCC_TXN_COMMITTED);
    assert_int_equal(t->r.commit_ts, mct);
}

/* A prewrite whose answer was lost is sent again (to the same leader or a
 * new one). It must answer the min_commit_ts its locks hold, not one above
 * the reads served since: a resolver takes commit_ts from the locks, so a
 * coordinator that committed at a larger one would commit the keys at two
 * timestamps, and a reader between them would see half the transaction. */
static void async_prewrite_resent(void **state)
{
    struct tu_store *t = *state;
    struct mvcc_mutation ms[] = {mput("p", "1"), mput("s", "2")};
    struct mvcc_key secs[] = {{"s", 1}};
    struct mvcc_prewrite_req req;
    async_req(&req, ms, 2, secs, 1, TS(100));
    assert_int_equal(mvcc_prewrite(t->s, &req, &t->r), 0);
    mvcc_ts mct = t->r.min_commit_ts;
    assert_true(mct > TS(100));
    tu_get_is(t, "x", TS(900), NULL); /* max_ts is now 900 */
    assert_int_equal(mvcc_prewrite(t->s, &req, &t->r), 0);
    assert_int_equal(t->r.min_commit_ts, mct);
    /* what a resolver computes from the locks */
    assert_int_equal(mvcc_check_secondary_locks(t->s, secs, 1, TS(100),
                                                &t->r),
                     0);
    assert_int_equal(t->r.status, MVCC_TXN_LOCKED);
    assert_int_equal(t->r.locks[0].min_commit_ts, mct);
    /* resolved (committed at mct) before the resend arrives: the resend
     * reports that commit_ts */
    assert_int_equal(commit1(t, "p", TS(100), mct), 0);
    assert_int_equal(commit1(t, "s", TS(100), mct), 0);
    tu_get_is(t, "x", TS(2000), NULL);
    assert_int_equal(mvcc_prewrite(t->s, &req, &t->r), 0);
    assert_int_equal(t->r.min_commit_ts, mct);
    tu_get_is(t, "s", mct, "2");
    tu_get_is(t, "s", mct - 1, NULL);
}

/* A 1PC prewrite sent again after it committed reports the commit_ts it
 * committed at, and writes nothing more. */
static void one_pc_resent(void **state)
{
    struct tu_store *t = *state;
    struct mvcc_mutation ms[] = {mput("a", "1"), mput("b", "2")};
    struct mvcc_prewrite_req req;
    memset(&req, 0, sizeof req);
    req.mutations = ms;
    req.n = 2;
    req.primary = "a";
    req.primary_len = 1;
    req.start_ts = TS(10);
    req.try_one_pc = true;
    assert_int_equal(mvcc_prewrite(t->s, &req, &t->r), 0);
    mvcc_ts cts = t->r.commit_ts;
    tu_get_is(t, "x", TS(900), NULL);
    assert_int_equal(mvcc_prewrite(t->s, &req, &t->r), 0);
    assert_int_equal(t->r.commit_ts, cts);
    tu_get_is(t, "b", TS(1000), "2");
    tu_get_is(t, "b", cts - 1, NULL);
}

/* One transaction's async prewrites of two regions that live on one store
 * run at once (the client prewrites groups in parallel). Each registers
 * its keys as in flight; the one that finishes first must unregister only
 * its own, or a reader of the other's key reads past a prewrite whose
 * min_commit_ts was chosen below that read: a lost update (chaos_bank
 * with async commit, traced in kvd: the read at 625361408 returned while
 * the prewrite of the same key answered 624574977). The first prewrite's
 * write is held in the apply hook; the second completes; a reader of the
 * first's key above its min_commit_ts must then wait and see its lock. */
struct held
{
    struct mvcc_engine *eng; /* where batches go */
    pthread_mutex_t mu;      /* guards the fields below */
    pthread_cond_t cv;       /* signalled on every change */
    int calls;               /* batches seen */
    bool holding;            /* the first batch waits in the hook */
    bool release;            /* let it go */
};

static int held_apply(void *ctx, const struct mvcc_wbatch *b, bool sync)
{
    struct held *h = ctx;
    pthread_mutex_lock(&h->mu);
    if (h->calls++ == 0) {
        h->holding = true;
        pthread_cond_broadcast(&h->cv);
        while (!h->release)
            pthread_cond_wait(&h->cv, &h->mu);
    }
    pthread_mutex_unlock(&h->mu);
    return mvcc_engine_write(h->eng, b, sync);
}

struct pw_job
{
    struct mvcc_store *s;         /* the store */
    struct mvcc_prewrite_req req; /* what to send */
    struct mvcc_result r;         /* its result */
    int rc;                       /* its code */
};

static void *pw_thread(void *arg)
{
    struct pw_job *j = arg;
    j->rc = mvcc_prewrite(j->s, &j->req, &j->r);
    return NULL;
}

struct get_job
{
    struct mvcc_store *s; /* the store */
    struct mvcc_result r; /* its result */
    int rc;               /* its code */
};

static void *get_thread(void *arg)
{
    struct get_job *j = arg;
    j->rc = mvcc_get(j->s, NULL, K("a"), TS(900), &j->r);
    return NULL;
}

static void parallel_prewrites_of_one_txn(void **state)
{
    struct tu_fix *f = *state;
    struct held h = {f->eng, PTHREAD_MUTEX_INITIALIZER,
                     PTHREAD_COND_INITIALIZER, 0, false, false};
    struct mvcc_store_opts so;
    memset(&so, 0, sizeof so);
    so.apply = held_apply;
    so.apply_ctx = &h;
    struct mvcc_store *s;
    assert_int_equal(mvcc_store_open(f->eng, &so, &s), 0);
    struct mvcc_mutation ma = mput("a", "1"), mb = mput("b", "2");
    struct mvcc_key secs[] = {{"b", 1}};
    struct pw_job ja, jb;
    memset(&ja, 0, sizeof ja);
    ja.s = s;
    ja.req.mutations = &ma;
    ja.req.n = 1;
    ja.req.primary = "a";
    ja.req.primary_len = 1;
    ja.req.start_ts = TS(100);
    ja.req.lock_ttl = 3000;
    ja.req.use_async_commit = true;
    ja.req.secondaries = secs;
    ja.req.nsecondaries = 1;
    jb = ja;
    jb.req.mutations = &mb;
    mvcc_result_init(&ja.r);
    mvcc_result_init(&jb.r);
    pthread_t ta, tr;
    assert_int_equal(pthread_create(&ta, NULL, pw_thread, &ja), 0);
    pthread_mutex_lock(&h.mu);
    while (!h.holding)
        pthread_cond_wait(&h.cv, &h.mu);
    pthread_mutex_unlock(&h.mu);
    /* a's prewrite chose its min_commit_ts and is writing; b's runs whole */
    assert_int_equal(mvcc_prewrite(s, &jb.req, &jb.r), 0);
    struct get_job g;
    memset(&g, 0, sizeof g);
    g.s = s;
    mvcc_result_init(&g.r);
    assert_int_equal(pthread_create(&tr, NULL, get_thread, &g), 0);
    /* give the reader time to run ahead if it could: it must not */
    struct timespec nap = {0, 200 * 1000 * 1000};
    nanosleep(&nap, NULL);
    pthread_mutex_lock(&h.mu);
    h.release = true;
    pthread_cond_broadcast(&h.cv);
    pthread_mutex_unlock(&h.mu);
    pthread_join(ta, NULL);
    pthread_join(tr, NULL);
    assert_int_equal(ja.rc, 0);
    assert_true(ja.r.min_commit_ts <= TS(900));
    /* the reader waited for a's batch and met its lock */
    assert_int_equal(g.rc, MVCC_LOCKED);
    assert_int_equal(g.r.nlocks, 1);
    assert_int_equal(g.r.locks[0].start_ts, TS(100));
    mvcc_result_reset(&ja.r);
    mvcc_result_reset(&jb.r);
    mvcc_result_reset(&g.r);
    mvcc_store_close(s);
}

static void one_phase_commit(void **state)
{
    struct tu_store *t = *state;
    tu_get_is(t, "a", TS(50), NULL);
    mvcc_store_update_max_ts(t->s, TS(40)); /* never lowers */
    assert_int_equal(mvcc_store_max_ts(t->s), TS(50));
    mvcc_store_update_max_ts(t->s, TS(60)); /* as after a restart */
    struct mvcc_mutation ms[] = {mput("a", "1"), mput("b", "2"),
                                 mop(MVCC_OP_LOCK, "c")};
    struct mvcc_prewrite_req req;
    memset(&req, 0, sizeof req);
    req.mutations = ms;
    req.n = 3;
    req.primary = "a";
    req.primary_len = 1;
    req.start_ts = TS(10);
    req.try_one_pc = true;
    assert_int_equal(mvcc_prewrite(t->s, &req, &t->r), 0);
    mvcc_ts cts = t->r.commit_ts;
    assert_int_equal(cts, TS(60) + 1);
    tu_get_is(t, "a", cts, "1");
    tu_get_is(t, "b", cts, "2");
    tu_get_is(t, "a", cts - 1, NULL);
    assert_int_equal(mvcc_scan_lock(t->s, MVCC_TS_MAX, NULL, 0, NULL, 0, 0,
                                    &t->r),
                     0);
    assert_int_equal(t->r.nlocks, 0);
    struct mvcc_check_txn_req cr = {"a", 1, TS(10), 0, TS(70), false, false};
    assert_int_equal(mvcc_check_txn_status(t->s, &cr, &t->r), 0);
    assert_int_equal(t->r.status, MVCC_TXN_COMMITTED);
    assert_int_equal(t->r.commit_ts, cts);
}

static void heartbeat_extends_ttl(void **state)
{
    struct tu_store *t = *state;
    struct mvcc_mutation m = mput("p", "v");
    assert_int_equal(prewrite(t, &m, 1, "p", TS(1000)), 0);
    assert_int_equal(mvcc_txn_heartbeat(t->s, K("p"), TS(1000), 10000, &t->r),
                     0);
    assert_int_equal(t->r.lock_ttl, 10000);
    assert_int_equal(mvcc_txn_heartbeat(t->s, K("p"), TS(1000), 5, &t->r), 0);
    assert_int_equal(t->r.lock_ttl, 10000); /* never shortened */
    struct mvcc_check_txn_req req = {"p", 1, TS(1000), 0, TS(5000), false,
                                     false};
    assert_int_equal(mvcc_check_txn_status(t->s, &req, &t->r), 0);
    assert_int_equal(t->r.status, MVCC_TXN_LOCKED);
    assert_int_equal(mvcc_txn_heartbeat(t->s, K("p"), TS(999), 10, &t->r),
                     MVCC_TXN_NOT_FOUND);
    assert_int_equal(mvcc_txn_heartbeat(t->s, K("q"), TS(1000), 10, &t->r),
                     MVCC_TXN_NOT_FOUND);
}

static void scan_lock_and_resolve_lock(void **state)
{
    struct tu_store *t = *state;
    struct mvcc_mutation a[] = {mput("a1", "x"), mput("a2", "x"),
                                mput("a3", "x")};
    struct mvcc_mutation b[] = {mput("b1", "y")};
    assert_int_equal(prewrite(t, a, 3, "a1", TS(10)), 0);
    assert_int_equal(prewrite(t, b, 1, "b1", TS(20)), 0);
    assert_int_equal(mvcc_scan_lock(t->s, TS(15), NULL, 0, NULL, 0, 0,
                                    &t->r),
                     0);
    assert_int_equal(t->r.nlocks, 3);
    assert_int_equal(mvcc_scan_lock(t->s, TS(25), NULL, 0, NULL, 0, 2,
                                    &t->r),
                     0);
    assert_int_equal(t->r.nlocks, 2);
    assert_int_equal(mvcc_scan_lock(t->s, TS(25), K("a3"), K("b2"), 0,
                                    &t->r),
                     0);
    assert_int_equal(t->r.nlocks, 2);
    assert_memory_equal(t->r.locks[1].key, "b1", 2);
    /* resolve: commit a's locks in [a2, z), roll back b */
    assert_int_equal(mvcc_resolve_lock(t->s, TS(10), TS(30), K("a2"), K("z"),
                                       &t->r),
                     0);
    tu_get_is(t, "a2", TS(30), "x");
    tu_get_is(t, "a3", TS(30), "x");
    assert_int_equal(mvcc_get(t->s, NULL, K("a1"), TS(30), &t->r),
                     MVCC_LOCKED);
    assert_int_equal(mvcc_resolve_lock(t->s, TS(20), 0, NULL, 0, NULL, 0,
                                       &t->r),
                     0);
    tu_get_is(t, "b1", TS(40), NULL);
    assert_int_equal(commit1(t, "b1", TS(20), TS(40)), MVCC_ROLLED_BACK);
    assert_int_equal(mvcc_scan_lock(t->s, MVCC_TS_MAX, NULL, 0, NULL, 0, 0,
                                    &t->r),
                     0);
    assert_int_equal(t->r.nlocks, 1);
    assert_int_equal(mvcc_resolve_lock(t->s, TS(10), TS(5), NULL, 0, NULL, 0,
                                       &t->r),
                     -EINVAL);
}

/* Latches: two threads prewrite the same fresh key in lockstep (a barrier
 * per round); exactly one may win each round, the other must see its lock
 * (or, if it came second after a commit, a conflict). */
struct racer
{
    struct tu_store *t;      /* store */
    pthread_barrier_t *bar;  /* round barrier */
    int id;                  /* 0 or 1 */
    int wins;                /* rounds won */
    int results[200];        /* outcome per round */
};

#define ROUNDS 200

static void *racer_main(void *arg)
{
    struct racer *r = arg;
    struct mvcc_result res;
    mvcc_result_init(&res);
    for (int i = 0; i < ROUNDS; i++) {
        char key[16];
        snprintf(key, sizeof key, "race%03d", i);
        struct mvcc_mutation m = mput(key, r->id ? "one" : "zero");
        struct mvcc_prewrite_req req;
        memset(&req, 0, sizeof req);
        req.mutations = &m;
        req.n = 1;
        req.primary = key;
        req.primary_len = strlen(key);
        req.start_ts = TS(100 + i) + (mvcc_ts)r->id; /* distinct txns */
        req.lock_ttl = 3000;
        pthread_barrier_wait(r->bar);
        r->results[i] = mvcc_prewrite(r->t->s, &req, &res);
        if (r->results[i] == 0)
            r->wins++;
    }
    mvcc_result_reset(&res);
    return NULL;
}

static void latches_serialize_one_key(void **state)
{
    struct tu_store *t = *state;
    pthread_barrier_t bar;
    pthread_barrier_init(&bar, NULL, 2);
    struct racer r[2];
    pthread_t th[2];
    for (int i = 0; i < 2; i++) {
        memset(&r[i], 0, sizeof r[i]);
        r[i].t = t;
        r[i].bar = &bar;
        r[i].id = i;
        assert_int_equal(pthread_create(&th[i], NULL, racer_main, &r[i]), 0);
    }
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    pthread_barrier_destroy(&bar);
    for (int i = 0; i < ROUNDS; i++) {
        int a = r[0].results[i], b = r[1].results[i];
        if (!((a == 0 && b == MVCC_LOCKED) || (a == MVCC_LOCKED && b == 0)))
            fail_msg("round %d: %d and %d", i, a, b);
    }
    assert_int_equal(r[0].wins + r[1].wins, ROUNDS);
}

/* A store reopened over the same engine finds the locks in its lock table
 * again (loaded from the lock CF, a write-only one on RocksDB). A
 * replicated store's table: test_repltable. */
static void lock_table_reloads(void **state)
{
    struct tu_store *t = *state;
    struct mvcc_store_opts so;
    struct mvcc_mutation m[] = {mput("a", "1"), mput("b", "2")};
    assert_int_equal(prewrite(t, m, 2, "a", TS(10)), 0);
    mvcc_store_close(t->s);
    tu_store_opts(t->f.kind, &so);
    assert_int_equal(mvcc_store_open(t->f.eng, &so, &t->s), 0);
    assert_int_equal(mvcc_get(t->s, NULL, K("b"), TS(20), &t->r),
                     MVCC_LOCKED);
    assert_int_equal(mvcc_scan_lock(t->s, MVCC_TS_MAX, NULL, 0, NULL, 0, 0,
                                    &t->r),
                     0);
    assert_int_equal(t->r.nlocks, 2);
    struct mvcc_key keys[] = {{"a", 1}, {"b", 1}};
    assert_int_equal(mvcc_commit(t->s, keys, 2, TS(10), TS(15), &t->r), 0);
    assert_int_equal(mvcc_get(t->s, NULL, K("b"), TS(20), &t->r), 0);
    assert_memory_equal(t->r.pairs[0].value, "2", 1);
    assert_int_equal(mvcc_scan_lock(t->s, MVCC_TS_MAX, NULL, 0, NULL, 0, 0,
                                    &t->r),
                     0);
    assert_int_equal(t->r.nlocks, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        TU_BOTH_STORE(get_versions_at_ts),
        TU_BOTH_STORE(large_values_live_in_default_cf),
        TU_BOTH_STORE(reads_stop_at_locks),
        TU_BOTH_STORE(batch_get_returns_found_pairs),
        TU_BOTH_STORE(scan_forward_reverse_limit_keyonly),
        TU_BOTH_STORE(prewrite_conflict_locked_already_exist),
        TU_BOTH_STORE(commit_outcomes),
        TU_BOTH_STORE(rollback_leaves_a_record),
        TU_BOTH_STORE(overlapped_rollback_keeps_the_commit),
        TU_BOTH_STORE(cleanup_outcomes),
        TU_BOTH_STORE(check_txn_status_outcomes),
        TU_BOTH_STORE(async_commit_and_secondaries),
        TU_BOTH_STORE(async_prewrite_resent),
        TU_BOTH_STORE(one_pc_resent),
        TU_BOTH(parallel_prewrites_of_one_txn),
        TU_BOTH_STORE(one_phase_commit),
        TU_BOTH_STORE(heartbeat_extends_ttl),
        TU_BOTH_STORE(scan_lock_and_resolve_lock),
        TU_BOTH_STORE(latches_serialize_one_key),
        TU_BOTH_STORE(lock_table_reloads),
    };
    return cmocka_run_group_tests_name("libmvcc/txn", tests, NULL, NULL);
}
