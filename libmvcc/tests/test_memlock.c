/* test_memlock.c: the lock of a lone primary (a prewrite whose only key is
 * its transaction's primary, without async commit or 1PC) is kept in the
 * lock table alone on a store with one (DESIGN.md, "Failure and
 * recovery": lone primary locks). Every command sees it as it sees a
 * lock in the engine; a clean close writes it; a store that crashes
 * loses it, and the client's commit then fails with MVCC_TXN_NOT_FOUND,
 * the transaction rolled back. Each test runs four ways (memory and
 * RocksDB, without and with a lock table), the answers the same except
 * where the lock is kept.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mvcc_int.h"
#include "testutil.h"

#define K(x) (x), strlen(x)
#define TS(ms) TU_TS(ms, 0)

static bool has_table(int kind)
{
    return kind == TU_MEM_LT || kind == TU_ROCKS_LT;
}

/* Prewrites k = v alone, k its own primary (the lone primary case). */
static int lone(struct tu_store *t, const char *k, const char *v,
                mvcc_ts start)
{
    struct mvcc_mutation m = {MVCC_OP_PUT, k, strlen(k), v, strlen(v), false};
    return tu_prewrite_muts(t->s, &m, 1, k, start, &t->r);
}

static int commit1(struct tu_store *t, const char *k, mvcc_ts start,
                   mvcc_ts commit)
{
    struct mvcc_key key = {k, strlen(k)};
    return mvcc_commit(t->s, &key, 1, start, commit, &t->r);
}

/* Whether the engine's lock CF holds a lock for user key k. */
static bool engine_has_lock(struct mvcc_engine *eng, const char *k)
{
    uint8_t ek[64];
    assert_true(mvcc_key_encoded_len(strlen(k)) <= sizeof ek);
    size_t el = mvcc_key_encode(k, strlen(k), ek);
    uint8_t *v = NULL;
    size_t vl = 0;
    int rc = mvcc_engine_get(eng, NULL, MVCC_CF_LOCK, ek, el, &v, &vl);
    mvcc_free(v);
    assert_true(rc == 0 || rc == MVCC_NOTFOUND);
    return rc == 0;
}

/* t->r holds exactly one lock: k's, of the transaction at start. */
static void one_lock_is(struct tu_store *t, const char *k, mvcc_ts start)
{
    assert_int_equal(t->r.nlocks, 1);
    assert_int_equal(t->r.locks[0].key_len, strlen(k));
    assert_memory_equal(t->r.locks[0].key, k, strlen(k));
    assert_int_equal(t->r.locks[0].start_ts, start);
    assert_int_equal(t->r.locks[0].primary_len, strlen(k));
    assert_memory_equal(t->r.locks[0].primary, k, strlen(k));
    assert_int_equal(t->r.locks[0].type, MVCC_LOCK_PUT);
}

/* Readers, scanners, conflicting writers, ScanLock, Cleanup,
 * CheckTxnStatus and TxnHeartBeat meet the lone primary's lock as a lock
 * in the engine; with a table the engine never holds it. */
static void lone_primary_lock_seen_by_every_command(void **state)
{
    struct tu_store *t = *state;
    bool lt = has_table(t->f.kind);
    assert_int_equal(lone(t, "k", "old", TS(1)), 0);
    assert_int_equal(commit1(t, "k", TS(1), TS(2)), 0);
    assert_int_equal(lone(t, "k", "new", TS(10)), 0);
    assert_int_equal(engine_has_lock(t->f.eng, "k"), !lt);

    /* Reads at or above start_ts stop at it; below it they read past. */
    assert_int_equal(mvcc_get(t->s, NULL, K("k"), TS(20), &t->r),
                     MVCC_LOCKED);
    one_lock_is(t, "k", TS(10));
    tu_get_is(t, "k", TS(9), "old");
    struct mvcc_key keys[] = {{"a", 1}, {"k", 1}};
    assert_int_equal(mvcc_batch_get(t->s, NULL, keys, 2, TS(20), &t->r),
                     MVCC_LOCKED);
    one_lock_is(t, "k", TS(10));
    assert_int_equal(mvcc_scan(t->s, NULL, K("a"), K("z"), TS(20), &t->r),
                     MVCC_LOCKED);
    one_lock_is(t, "k", TS(10));
    struct mvcc_read_opts rev = {.reverse = true};
    assert_int_equal(mvcc_scan(t->s, &rev, K("a"), K("z"), TS(20), &t->r),
                     MVCC_LOCKED);
    one_lock_is(t, "k", TS(10));
    assert_int_equal(mvcc_scan(t->s, NULL, K("a"), K("z"), TS(9), &t->r), 0);
    assert_int_equal(t->r.npairs, 1);

    /* Writers of other transactions stop at it. */
    assert_int_equal(lone(t, "k", "x", TS(30)), MVCC_LOCKED);
    one_lock_is(t, "k", TS(10));
    struct mvcc_key kk = {"k", 1};
    struct mvcc_pessimistic_req pr = {.keys = &kk,
                                      .n = 1,
                                      .primary = "k",
                                      .primary_len = 1,
                                      .start_ts = TS(31),
                                      .for_update_ts = TS(31),
                                      .lock_ttl = 3000};
    assert_int_equal(mvcc_acquire_pessimistic_lock(t->s, &pr, &t->r),
                     MVCC_LOCKED);
    one_lock_is(t, "k", TS(10));

    /* Lock commands find it. */
    assert_int_equal(mvcc_scan_lock(t->s, MVCC_TS_MAX, NULL, 0, NULL, 0, 0,
                                    &t->r),
                     0);
    one_lock_is(t, "k", TS(10));
    assert_int_equal(mvcc_scan_lock(t->s, TS(9), NULL, 0, NULL, 0, 0, &t->r),
                     0);
    assert_int_equal(t->r.nlocks, 0);
    assert_int_equal(mvcc_cleanup(t->s, K("k"), TS(10), TS(11), &t->r),
                     MVCC_LOCKED);
    one_lock_is(t, "k", TS(10));
    assert_int_equal(engine_has_lock(t->f.eng, "k"), !lt);

    /* A heartbeat and a reader's push rewrite it, through the engine. */
    assert_int_equal(mvcc_txn_heartbeat(t->s, K("k"), TS(10), 5000, &t->r),
                     0);
    assert_int_equal(t->r.lock_ttl, 5000);
    struct mvcc_check_txn_req cr = {.primary = "k",
                                    .primary_len = 1,
                                    .lock_ts = TS(10),
                                    .caller_start_ts = TS(40),
                                    .current_ts = TS(11)};
    assert_int_equal(mvcc_check_txn_status(t->s, &cr, &t->r), 0);
    assert_int_equal(t->r.status, MVCC_TXN_LOCKED);
    assert_int_equal(t->r.action, MVCC_ACT_MIN_COMMIT_TS_PUSHED);
    assert_int_equal(t->r.lock_ttl, 5000);
    one_lock_is(t, "k", TS(10));
    assert_int_equal(t->r.locks[0].min_commit_ts, TS(40) + 1);
    assert_true(engine_has_lock(t->f.eng, "k"));

    /* The commit honours the push, then removes the lock everywhere. */
    assert_int_equal(commit1(t, "k", TS(10), TS(35)),
                     MVCC_COMMIT_TS_EXPIRED);
    assert_int_equal(t->r.min_commit_ts, TS(40) + 1);
    assert_int_equal(commit1(t, "k", TS(10), TS(50)), 0);
    tu_get_is(t, "k", TS(49), "old");
    tu_get_is(t, "k", TS(50), "new");
    assert_int_equal(mvcc_scan_lock(t->s, MVCC_TS_MAX, NULL, 0, NULL, 0, 0,
                                    &t->r),
                     0);
    assert_int_equal(t->r.nlocks, 0);
    assert_false(engine_has_lock(t->f.eng, "k"));
}

/* Rolled back by an expired CheckTxnStatus, by ResolveLock, and removed
 * by DeleteRange (also beyond the run of 0xFF that bounds an open range,
 * where DeleteRange lists locks one by one): the lock is gone, and a
 * rolled-back transaction can neither commit nor prewrite again. */
static void lone_primary_lock_rolled_back_and_deleted(void **state)
{
    struct tu_store *t = *state;
    assert_int_equal(lone(t, "k", "v", TS(10)), 0);
    struct mvcc_check_txn_req cr = {.primary = "k",
                                    .primary_len = 1,
                                    .lock_ts = TS(10),
                                    .current_ts = TS(10 + 3000)};
    assert_int_equal(mvcc_check_txn_status(t->s, &cr, &t->r), 0);
    assert_int_equal(t->r.status, MVCC_TXN_ROLLED_BACK);
    assert_int_equal(t->r.action, MVCC_ACT_TTL_EXPIRE_ROLLBACK);
    assert_int_equal(commit1(t, "k", TS(10), TS(20)), MVCC_ROLLED_BACK);
    assert_int_equal(lone(t, "k", "v", TS(10)), MVCC_CONFLICT);
    tu_get_is(t, "k", TS(30), NULL);

    assert_int_equal(lone(t, "j", "v", TS(40)), 0);
    assert_int_equal(mvcc_resolve_lock(t->s, TS(40), 0, NULL, 0, NULL, 0,
                                       &t->r),
                     0);
    assert_int_equal(commit1(t, "j", TS(40), TS(45)), MVCC_ROLLED_BACK);

    char ff[20];
    memset(ff, 0xFF, sizeof ff - 1);
    ff[sizeof ff - 1] = '\0';
    assert_int_equal(lone(t, "m", "v", TS(50)), 0);
    assert_int_equal(lone(t, ff, "v", TS(51)), 0);
    assert_int_equal(mvcc_scan_lock(t->s, MVCC_TS_MAX, NULL, 0, NULL, 0, 0,
                                    &t->r),
                     0);
    assert_int_equal(t->r.nlocks, 2);
    assert_int_equal(mvcc_delete_range(t->s, K("l"), NULL, 0), 0);
    assert_int_equal(mvcc_scan_lock(t->s, MVCC_TS_MAX, NULL, 0, NULL, 0, 0,
                                    &t->r),
                     0);
    assert_int_equal(t->r.nlocks, 0);
    tu_get_is(t, "m", MVCC_TS_MAX - 1, NULL);
    tu_get_is(t, ff, MVCC_TS_MAX - 1, NULL);
    assert_int_equal(commit1(t, "m", TS(50), TS(55)), MVCC_TXN_NOT_FOUND);
}

/* A clean close writes the lone primary's lock: the reopened store finds
 * it, and the transaction commits. */
static void clean_close_keeps_lone_primary_lock(void **state)
{
    struct tu_store *t = *state;
    assert_int_equal(lone(t, "k", "v", TS(10)), 0);
    mvcc_store_close(t->s);
    t->s = NULL;
    assert_true(engine_has_lock(t->f.eng, "k"));
    struct mvcc_store_opts so;
    tu_store_opts(t->f.kind, &so);
    assert_int_equal(mvcc_store_open(t->f.eng, &so, &t->s), 0);
    assert_int_equal(mvcc_get(t->s, NULL, K("k"), TS(20), &t->r),
                     MVCC_LOCKED);
    one_lock_is(t, "k", TS(10));
    assert_int_equal(commit1(t, "k", TS(10), TS(15)), 0);
    tu_get_is(t, "k", TS(20), "v");
}

/* A one-store transport whose store a test may replace under a client. */
struct one
{
    struct mvcc_store *s;    /* the store now */
    struct mvcc_engine *eng; /* its engine */
    int kind;                /* fixture kind (store options) */
    bool crash;              /* crash the store after the prewrite */
    int crashes;             /* crashes done */
};

static int o_locate(void *ctx, const void *key, size_t len, uint64_t *shard,
                    const uint8_t **end, size_t *end_len)
{
    (void)ctx;
    (void)key;
    (void)len;
    *shard = 0;
    *end = NULL;
    *end_len = 0;
    return 0;
}

static int o_batch_get(void *ctx, uint64_t shard,
                       const struct mvcc_read_opts *ro,
                       const struct mvcc_key *keys, size_t n, mvcc_ts ts,
                       struct mvcc_result *res)
{
    (void)shard;
    return mvcc_batch_get(((struct one *)ctx)->s, ro, keys, n, ts, res);
}

static int o_prewrite(void *ctx, uint64_t shard,
                      const struct mvcc_prewrite_req *req,
                      struct mvcc_result *res)
{
    (void)shard;
    return mvcc_prewrite(((struct one *)ctx)->s, req, res);
}

static int o_commit(void *ctx, uint64_t shard, const struct mvcc_key *keys,
                    size_t n, mvcc_ts start_ts, mvcc_ts commit_ts,
                    struct mvcc_result *res)
{
    (void)shard;
    return mvcc_commit(((struct one *)ctx)->s, keys, n, start_ts, commit_ts,
                       res);
}

static int o_rollback(void *ctx, uint64_t shard, const struct mvcc_key *keys,
                      size_t n, mvcc_ts start_ts, struct mvcc_result *res)
{
    (void)shard;
    return mvcc_batch_rollback(((struct one *)ctx)->s, keys, n, start_ts,
                               res);
}

/* The coordinator's failpoint after its prewrite: the store crashes and
 * restarts (freed without writing its lock table, as a crash leaves it,
 * and opened again over the same engine); the commit then goes on. */
static int crash_store(void *ctx, int point)
{
    struct one *o = ctx;
    if (point != MVCC_FP_AFTER_PREWRITE || !o->crash)
        return 0;
    mvcc__store_free(o->s);
    struct mvcc_store_opts so;
    tu_store_opts(o->kind, &so);
    assert_int_equal(mvcc_store_open(o->eng, &so, &o->s), 0);
    o->crashes++;
    return 0;
}

/* One-key read-modify-write through the client; its commit's code. */
static int rmw(struct mvcc_client *c, const char *v, mvcc_ts *start)
{
    struct mvcc_txn *x;
    assert_int_equal(mvcc_txn_begin(c, &x), 0);
    *start = mvcc_txn_start_ts(x);
    uint8_t *old = NULL;
    size_t ol = 0;
    int rc = mvcc_txn_get(x, K("k"), &old, &ol);
    assert_true(rc == 0 || rc == MVCC_NOTFOUND);
    mvcc_free(old);
    tu_txn_set(x, "k", v);
    return mvcc_txn_commit(x, NULL);
}

/* A store crash between the prewrite of a lone primary and its commit:
 * with a lock table the lock is lost, the commit finds no lock and no
 * record and fails with MVCC_TXN_NOT_FOUND (the client rolls the
 * transaction back: a rollback record), nothing of it is visible. With
 * the lock in the engine (no table; the engine itself did not crash) the
 * commit succeeds. Without a crash it succeeds on every kind. */
static void crash_fails_the_commit_cleanly(void **state)
{
    int kind = *(int *)*state;
    struct tu_fix f;
    assert_int_equal(tu_fix_open(&f, kind), 0);
    struct one o = {.eng = f.eng, .kind = kind};
    struct mvcc_store_opts so;
    tu_store_opts(kind, &so);
    assert_int_equal(mvcc_store_open(f.eng, &so, &o.s), 0);
    struct mvcc_local_tso tso = {0};
    struct mvcc_client_opts co;
    memset(&co, 0, sizeof co);
    co.transport = (struct mvcc_transport){.ctx = &o,
                                           .locate = o_locate,
                                           .batch_get = o_batch_get,
                                           .prewrite = o_prewrite,
                                           .commit = o_commit,
                                           .batch_rollback = o_rollback};
    co.tso = mvcc_local_tso_next;
    co.tso_ctx = &tso;
    co.failpoint = crash_store;
    co.failpoint_ctx = &o;
    struct mvcc_client *c;
    assert_int_equal(mvcc_client_create(&co, &c), 0);
    mvcc_ts start;
    assert_int_equal(rmw(c, "old", &start), 0);
    tu_client_get_is(c, "k", "old");

    o.crash = true;
    bool lt = has_table(kind);
    assert_int_equal(rmw(c, "new", &start), lt ? MVCC_TXN_NOT_FOUND : 0);
    assert_int_equal(o.crashes, 1);
    tu_client_get_is(c, "k", lt ? "old" : "new");
    struct mvcc_result r;
    mvcc_result_init(&r);
    struct mvcc_check_txn_req cr = {.primary = "k",
                                    .primary_len = 1,
                                    .lock_ts = start};
    assert_int_equal(mvcc_check_txn_status(o.s, &cr, &r), 0);
    assert_int_equal(r.status,
                     lt ? MVCC_TXN_ROLLED_BACK : MVCC_TXN_COMMITTED);
    assert_int_equal(mvcc_scan_lock(o.s, MVCC_TS_MAX, NULL, 0, NULL, 0, 0,
                                    &r),
                     0);
    assert_int_equal(r.nlocks, 0);

    o.crash = false;
    assert_int_equal(rmw(c, "newer", &start), 0);
    tu_client_get_is(c, "k", "newer");
    mvcc_result_reset(&r);
    mvcc_client_destroy(c);
    mvcc_store_close(o.s);
    tu_fix_close(&f);
}

/* Logger of the failed-close test: keeps the last error message. */
struct logged
{
    int errors;
    char msg[512];
};

static void keep_log(void *ctx, int level, const char *msg)
{
    struct logged *l = ctx;
    if (level != MVCC_LOG_ERROR)
        return;
    l->errors++;
    snprintf(l->msg, sizeof l->msg, "%s", msg);
}

static void *no_malloc(void *ctx, size_t n)
{
    (void)ctx;
    (void)n;
    return NULL;
}

static void *no_realloc(void *ctx, void *p, size_t n)
{
    (void)ctx;
    (void)p;
    (void)n;
    return NULL;
}

static void do_free(void *ctx, void *p)
{
    (void)ctx;
    free(p);
}

/* A close that cannot write the lock table (every allocation fails while
 * it runs) logs how many locks it lost and still frees the store; the
 * lost lone primary is then a crash's: the engine holds no lock, a read
 * sees the old state and the commit fails with MVCC_TXN_NOT_FOUND.
 * Without a table the lock was in the engine all along: nothing to
 * write, nothing logged, the commit succeeds. */
static void failed_close_logs_the_locks_it_lost(void **state)
{
    int kind = *(int *)*state;
    struct tu_fix f;
    assert_int_equal(tu_fix_open(&f, kind), 0);
    struct logged l = {0};
    struct mvcc_store_opts so;
    tu_store_opts(kind, &so);
    so.log = keep_log;
    so.log_ctx = &l;
    so.log_level = MVCC_LOG_ERROR;
    struct tu_store t = {.f = f};
    mvcc_result_init(&t.r);
    assert_int_equal(mvcc_store_open(f.eng, &so, &t.s), 0);
    assert_int_equal(lone(&t, "k", "v", TS(10)), 0);

    static const struct mvcc_heap none = {NULL, no_malloc, no_realloc,
                                          do_free};
    mvcc_heap_set(&none);
    mvcc_store_close(t.s);
    mvcc_heap_set(NULL);
    t.s = NULL;

    bool lt = has_table(kind);
    assert_int_equal(l.errors, lt ? 1 : 0);
    if (lt)
        assert_string_equal(l.msg,
                            "store close: 1 locks not written: Cannot "
                            "allocate memory; they are lost as in a crash "
                            "(their transactions' commits fail with "
                            "MVCC_TXN_NOT_FOUND and roll back)");
    assert_int_equal(engine_has_lock(f.eng, "k"), !lt);
    tu_store_opts(kind, &so);
    assert_int_equal(mvcc_store_open(f.eng, &so, &t.s), 0);
    if (lt)
        tu_get_is(&t, "k", TS(20), NULL);
    assert_int_equal(commit1(&t, "k", TS(10), TS(15)),
                     lt ? MVCC_TXN_NOT_FOUND : 0);
    tu_get_is(&t, "k", TS(20), lt ? NULL : "v");
    mvcc_result_reset(&t.r);
    mvcc_store_close(t.s);
    tu_fix_close(&f);
}

/* The lock table's count never reads zero while one key's lock is
 * replaced (a TTL update or an upgraded pessimistic lock): readers skip
 * the table on a zero count without taking a stripe, so a dip between
 * removing the old entry and linking the new would make a live lock
 * unseen. One thread replaces the only lock over and over while another
 * looks it up. */
struct replacer
{
    struct mvcc__locktab *lt;
    int rounds;
    int rc;
    int done; /* set (atomically) when the thread ends */
};

static void *replace_lock(void *arg)
{
    struct replacer *r = arg;
    struct mvcc_wbatch *b = NULL;
    r->rc = mvcc_wbatch_create(&b);
    for (int i = 0; i < r->rounds && r->rc == 0; i++) {
        char v[16];
        int n = snprintf(v, sizeof v, "lock%d", i);
        mvcc_wbatch_clear(b);
        r->rc = mvcc_wbatch_put(b, MVCC_CF_LOCK, "k", 1, v, (size_t)n);
        struct mvcc__lt_prep prep;
        if (r->rc == 0)
            r->rc = mvcc__lt_prepare(b, &prep);
        if (r->rc == 0) {
            mvcc__lt_commit(r->lt, b, &prep);
            mvcc__lt_prep_free(&prep);
        }
    }
    mvcc_wbatch_destroy(b);
    __atomic_store_n(&r->done, 1, __ATOMIC_RELEASE);
    return NULL;
}

static void lock_table_replace_never_reads_empty(void **state)
{
    (void)state;
    struct replacer r = {.rounds = 200000};
    assert_int_equal(mvcc__lt_create(&r.lt), 0);
    struct mvcc_wbatch *b = NULL;
    assert_int_equal(mvcc_wbatch_create(&b), 0);
    assert_int_equal(mvcc_wbatch_put(b, MVCC_CF_LOCK, "k", 1, "lock", 4), 0);
    struct mvcc__lt_prep prep;
    assert_int_equal(mvcc__lt_prepare(b, &prep), 0);
    mvcc__lt_commit(r.lt, b, &prep);
    mvcc__lt_prep_free(&prep);
    mvcc_wbatch_destroy(b);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, replace_lock, &r), 0);
    struct mvcc__buf out = {0};
    long missed = 0;
    do {
        int rc = mvcc__lt_get(r.lt, (const uint8_t *)"k", 1, &out);
        missed += rc != 0;
    } while (!__atomic_load_n(&r.done, __ATOMIC_ACQUIRE));
    pthread_join(th, NULL);
    assert_int_equal(r.rc, 0);
    assert_int_equal(missed, 0);
    assert_int_equal(mvcc__lt_count(r.lt), 1);
    assert_int_equal(mvcc__lt_get(r.lt, (const uint8_t *)"k", 1, &out), 0);
    assert_memory_equal(out.data, "lock199999", 10);
    assert_int_equal(mvcc__lt_get(r.lt, (const uint8_t *)"j", 1, &out),
                     MVCC_NOTFOUND);
    mvcc__buf_free(&out);
    mvcc__lt_destroy(r.lt);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        TU_BOTH_STORE(lone_primary_lock_seen_by_every_command),
        TU_BOTH_STORE(lone_primary_lock_rolled_back_and_deleted),
        TU_BOTH_STORE(clean_close_keeps_lone_primary_lock),
        TU_FOUR_KIND(crash_fails_the_commit_cleanly),
        TU_FOUR_KIND(failed_close_logs_the_locks_it_lost),
        cmocka_unit_test(lock_table_replace_never_reads_empty),
    };
    return cmocka_run_group_tests_name("libmvcc/memlock", tests, NULL, NULL);
}
