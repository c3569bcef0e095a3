/* test_kv.c: the key-value interface libsql stores through, on the local
 * implementation: own writes, snapshots, scans both ways, conflicts (no
 * retry), FOR UPDATE locks, and RocksDB data surviving a reopen.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <sql.h>

#include "kv.h"

static struct sql_kv *open_mem(void)
{
    struct sql_kv_local_opts o = {0};
    struct sql_kv *kv = NULL;
    assert_int_equal(sql__kv_local_open(&o, &kv, NULL, 0), 0);
    return kv;
}

static void put(struct sql_kv *kv, const char *k, const char *v)
{
    struct sql_kvtxn *t;
    assert_int_equal(sql__kv_begin(kv, &t), 0);
    assert_int_equal(sql__kvtxn_set(t, k, strlen(k), v, strlen(v)), 0);
    assert_int_equal(sql__kvtxn_commit(t), 0);
}

static void expect(struct sql_kvtxn *t, const char *k, const char *v)
{
    uint8_t *val = NULL;
    size_t n = 0;
    int rc = sql__kvtxn_get(t, k, strlen(k), &val, &n);
    if (!v) {
        assert_int_equal(rc, MVCC_NOTFOUND);
        return;
    }
    assert_int_equal(rc, 0);
    assert_int_equal(n, strlen(v));
    assert_memory_equal(val, v, n);
    sql__kv_free(val);
}

static void own_writes_and_snapshots(void **state)
{
    (void)state;
    struct sql_kv *kv = open_mem();
    put(kv, "a", "1");
    struct sql_kvtxn *old, *t;
    assert_int_equal(sql__kv_begin(kv, &old), 0);
    assert_int_equal(sql__kv_begin(kv, &t), 0);
    assert_false(sql__kvtxn_dirty(t));
    assert_int_equal(sql__kvtxn_set(t, "a", 1, "2", 1), 0);
    assert_int_equal(sql__kvtxn_delete(t, "b", 1), 0);
    assert_true(sql__kvtxn_dirty(t));
    expect(t, "a", "2");
    expect(t, "b", NULL);
    assert_int_equal(sql__kvtxn_commit(t), 0);
    expect(old, "a", "1"); /* its snapshot predates the commit */
    sql__kvtxn_rollback(old);
    assert_int_equal(sql__kv_begin(kv, &t), 0);
    expect(t, "a", "2");
    assert_int_equal(sql__kvtxn_set(t, "a", 1, "3", 1), 0);
    sql__kvtxn_rollback(t); /* dropped */
    assert_int_equal(sql__kv_begin(kv, &t), 0);
    expect(t, "a", "2");
    sql__kvtxn_rollback(t);
    sql__kv_close(kv);
}

static void scans_both_ways(void **state)
{
    (void)state;
    struct sql_kv *kv = open_mem();
    put(kv, "k1", "1");
    put(kv, "k3", "3");
    put(kv, "k5", "5");
    put(kv, "z", "z");
    struct sql_kvtxn *t;
    assert_int_equal(sql__kv_begin(kv, &t), 0);
    assert_int_equal(sql__kvtxn_set(t, "k2", 2, "2", 1), 0); /* buffered */
    assert_int_equal(sql__kvtxn_delete(t, "k3", 2), 0);
    struct sql_kvres res;
    sql__kvres_init(&res);
    assert_int_equal(sql__kvtxn_scan(t, "k", 1, "l", 1, 0, false, &res), 0);
    assert_int_equal(res.r.npairs, 3);
    assert_memory_equal(res.r.pairs[0].key, "k1", 2);
    assert_memory_equal(res.r.pairs[1].key, "k2", 2);
    assert_memory_equal(res.r.pairs[2].key, "k5", 2);
    assert_int_equal(sql__kvtxn_scan(t, "k", 1, "l", 1, 2, true, &res), 0);
    assert_int_equal(res.r.npairs, 2);
    assert_memory_equal(res.r.pairs[0].key, "k5", 2);
    assert_memory_equal(res.r.pairs[1].key, "k2", 2);
    struct mvcc_key keys[3] = {{"k1", 2}, {"k3", 2}, {"z", 1}};
    assert_int_equal(sql__kvtxn_batch_get(t, keys, 3, &res), 0);
    assert_int_equal(res.r.npairs, 2);
    sql__kvres_reset(&res);
    sql__kvtxn_rollback(t);
    sql__kv_close(kv);
}

static void conflict_is_reported_not_retried(void **state)
{
    (void)state;
    struct sql_kv *kv = open_mem();
    put(kv, "x", "0");
    struct sql_kvtxn *a, *b;
    assert_int_equal(sql__kv_begin(kv, &a), 0);
    assert_int_equal(sql__kv_begin(kv, &b), 0);
    /* Both read x, then write it: the second commit must fail (a lost
     * update otherwise). */
    expect(a, "x", "0");
    expect(b, "x", "0");
    assert_int_equal(sql__kvtxn_set(a, "x", 1, "a", 1), 0);
    assert_int_equal(sql__kvtxn_set(b, "x", 1, "b", 1), 0);
    assert_int_equal(sql__kvtxn_commit(a), 0);
    assert_int_equal(sql__kvtxn_commit(b), MVCC_CONFLICT);
    struct sql_kvtxn *t;
    assert_int_equal(sql__kv_begin(kv, &t), 0);
    expect(t, "x", "a");
    sql__kvtxn_rollback(t);
    sql__kv_close(kv);
}

static void for_update_locks_wait_as_asked(void **state)
{
    (void)state;
    struct sql_kv *kv = open_mem();
    put(kv, "r", "0");
    struct sql_kvtxn *a, *b;
    struct mvcc_key k = {"r", 1};
    assert_int_equal(sql__kv_begin(kv, &a), 0);
    assert_int_equal(sql__kv_begin(kv, &b), 0);
    assert_int_equal(sql__kvtxn_lock(a, &k, 1, 0), 0);
    assert_int_equal(sql__kvtxn_lock(b, &k, 1, 0), MVCC_LOCKED);
    /* A bounded wait for a lock nobody releases times out. */
    assert_int_equal(sql__kvtxn_lock(b, &k, 1, 50), MVCC_LOCK_WAIT_TIMEOUT);
    sql__kvtxn_rollback(b);
    expect(a, "r", "0"); /* reads are not blocked by the lock */
    assert_int_equal(sql__kvtxn_set(a, "r", 1, "1", 1), 0);
    assert_int_equal(sql__kvtxn_commit(a), 0);
    assert_int_equal(sql__kv_begin(kv, &b), 0);
    assert_int_equal(sql__kvtxn_lock(b, &k, 1, 0), 0); /* released */
    expect(b, "r", "1");
    sql__kvtxn_rollback(b);
    sql__kv_close(kv);
}

/* Two stores on one memory engine behind the in-process transport (keys
 * below "m" on the first), as a cluster of two kvd. */
struct two_stores
{
    struct mvcc_engine *eng;
    struct mvcc_store *st[2];
    struct mvcc_transport tr;
    struct mvcc_local_tso tso;
};

static struct sql_kv *open_two(struct two_stores *two,
                               const struct sql_gc_cluster *gc)
{
    memset(two, 0, sizeof *two);
    assert_int_equal(mvcc_memengine_create(&two->eng), 0);
    struct mvcc_store_opts so = {0};
    assert_int_equal(mvcc_store_open(two->eng, &so, &two->st[0]), 0);
    assert_int_equal(mvcc_store_open(two->eng, &so, &two->st[1]), 0);
    struct mvcc_key split = {"m", 1};
    assert_int_equal(mvcc_local_transport_init(&two->tr, two->st, 2, &split),
                     0);
    struct mvcc_client_opts co = {.transport = two->tr,
                                  .tso = mvcc_local_tso_next,
                                  .tso_ctx = &two->tso,
                                  .resolve_budget_ms = 100};
    struct sql_kv *kv;
    assert_int_equal(sql__kv_cluster_open(&co, gc, &kv, NULL, 0), 0);
    return kv;
}

static void close_two(struct two_stores *two, struct sql_kv *kv)
{
    sql__kv_close(kv);
    mvcc_local_transport_free(&two->tr);
    mvcc_store_close(two->st[0]);
    mvcc_store_close(two->st[1]);
    mvcc_engine_destroy(two->eng);
}

/* The cluster kv over two stores, each with its own deadlock detector
 * (two kvd): keys below "m" on the first. T1 holds a, T2 holds z; each
 * lock request for the other's key meets a lock no store relates to the
 * other. The cluster kv's own graph does: T1's wait goes in, T2's closes
 * the cycle (libsql DESIGN "Deadlocks across stores"). */
static void cluster_deadlock_across_stores(void **state)
{
    (void)state;
    struct two_stores two;
    struct sql_kv *kv = open_two(&two, NULL);
    struct sql_kvtxn *t1, *t2, *t3;
    struct mvcc_key a = {"a", 1}, z = {"z", 1};
    assert_int_equal(sql__kv_begin(kv, &t1), 0);
    assert_int_equal(sql__kv_begin(kv, &t2), 0);
    assert_int_equal(sql__kv_begin(kv, &t3), 0);
    assert_int_equal(sql__kvtxn_wait_begin(t1), 0); /* met no lock yet */
    assert_int_equal(sql__kvtxn_lock(t1, &a, 1, 0), 0);
    assert_int_equal(sql__kvtxn_lock(t2, &z, 1, 0), 0);
    assert_int_equal(sql__kvtxn_lock(t1, &z, 1, 0), MVCC_LOCKED);
    assert_int_equal(sql__kvtxn_wait_begin(t1), 0); /* t1 -> t2 */
    assert_int_equal(sql__kvtxn_wait_begin(t1), 0); /* again: kept */
    /* t3 waiting for t1 closes nothing */
    assert_int_equal(sql__kvtxn_lock(t3, &a, 1, 0), MVCC_LOCKED);
    assert_int_equal(sql__kvtxn_wait_begin(t3), 0);
    sql__kvtxn_wait_end(t3);
    assert_int_equal(sql__kvtxn_lock(t2, &a, 1, 0), MVCC_LOCKED);
    assert_int_equal(sql__kvtxn_wait_begin(t2), MVCC_DEADLOCK);
    /* once t1's wait ended, t2 may wait for it */
    sql__kvtxn_wait_end(t1);
    assert_int_equal(sql__kvtxn_wait_begin(t2), 0);
    sql__kvtxn_rollback(t2); /* its edge goes with it */
    assert_int_equal(sql__kvtxn_lock(t1, &z, 1, 0), 0);
    assert_int_equal(sql__kvtxn_wait_begin(t1), 0);
    assert_int_equal(sql__kvtxn_commit(t1), 0);
    sql__kvtxn_rollback(t3);
    struct sql_gc_stats g;
    /* a cluster without gc_cluster: nobody said how to hold */
    assert_int_equal(sql__kv_gc(kv, 0, &g), -ENOTSUP);
    close_two(&two, kv);
}

/* A fake PD's safe points (libpd/src/gc.c, one other service). */
static struct
{
    uint64_t gc_sp;     /* the GC safe point */
    uint64_t other;     /* another server's floor (UINT64_MAX: none) */
    uint64_t held;      /* the floor this server holds */
    unsigned publishes; /* publish calls */
    int fail;           /* hold's answer */
} pdf;

static int f_hold(void *ctx, uint64_t floor, uint64_t *min, uint64_t *cur)
{
    (void)ctx;
    if (pdf.fail)
        return pdf.fail;
    pdf.held = floor < pdf.gc_sp ? pdf.gc_sp : floor;
    *min = pdf.held < pdf.other ? pdf.held : pdf.other;
    *cur = pdf.gc_sp;
    return 0;
}

static int f_publish(void *ctx, uint64_t sp, uint64_t *published)
{
    (void)ctx;
    pdf.publishes++;
    uint64_t v = sp < pdf.other ? sp : pdf.other;
    if (v > pdf.gc_sp)
        pdf.gc_sp = v;
    *published = pdf.gc_sp;
    return 0;
}

/* A lock of a transaction nobody coordinates, on store i at start_ts. */
static void orphan_lock(struct two_stores *two, int i, const char *key,
                        mvcc_ts start_ts, uint64_t ttl_ms)
{
    struct mvcc_mutation m = {.op = MVCC_OP_PUT, .key = key,
                              .key_len = strlen(key), .value = "x",
                              .value_len = 1};
    struct mvcc_prewrite_req req = {.mutations = &m, .n = 1,
                                    .primary = key,
                                    .primary_len = strlen(key),
                                    .start_ts = start_ts,
                                    .lock_ttl = ttl_ms, .txn_size = 1};
    struct mvcc_result res;
    mvcc_result_init(&res);
    assert_int_equal(mvcc_prewrite(two->st[i], &req, &res), 0);
    mvcc_result_reset(&res);
}

static size_t locks_on(struct two_stores *two, int i)
{
    struct mvcc_result res;
    mvcc_result_init(&res);
    assert_int_equal(mvcc_scan_lock(two->st[i], MVCC_TS_MAX, "", 0, NULL, 0,
                                    0, &res),
                     0);
    size_t n = res.nlocks;
    mvcc_result_reset(&res);
    return n;
}

/* GC on a cluster (DESIGN.md "GC"): the round holds this server's oldest
 * snapshot, keeps the safe point at the lowest floor of all, resolves
 * the locks below it and publishes it; the stores remove the versions
 * (not this process). */
static void cluster_gc_holds_and_publishes(void **state)
{
    (void)state;
    memset(&pdf, 0, sizeof pdf);
    pdf.other = UINT64_MAX;
    struct sql_gc_cluster gc = {.hold = f_hold, .publish = f_publish};
    struct two_stores two;
    struct sql_kv *kv = open_two(&two, &gc);
    put(kv, "a", "1");
    struct sql_kvtxn *old;
    assert_int_equal(sql__kv_begin(kv, &old), 0);
    put(kv, "a", "2");
    mvcc_ts dead;
    assert_int_equal(mvcc_local_tso_next(&two.tso, &dead), 0);
    orphan_lock(&two, 1, "z", dead, 0);
    usleep(2000);
    /* the open transaction holds the safe point at its snapshot: the
     * dead lock above it stays */
    struct sql_gc_stats g;
    assert_int_equal(sql__kv_gc(kv, 0, &g), 0);
    assert_int_equal(pdf.publishes, 1);
    assert_int_equal(g.safe_point, pdf.gc_sp);
    assert_int_equal(g.safe_point, pdf.held);
    assert_true(g.safe_point > 0 && g.safe_point <= sql__kvtxn_start_ts(old));
    assert_int_equal(g.locks_resolved, 0);
    assert_int_equal(g.versions_removed, 0);
    assert_int_equal(locks_on(&two, 1), 1);
    expect(old, "a", "1");
    sql__kvtxn_rollback(old);
    /* another server holds just above the dead lock: the safe point
     * stops there, and the lock below it is rolled back first */
    pdf.other = dead + 1;
    assert_int_equal(sql__kv_gc(kv, 0, &g), 0);
    assert_int_equal(pdf.publishes, 2);
    assert_int_equal(g.safe_point, dead + 1);
    assert_int_equal(g.locks_resolved, 1);
    assert_int_equal(locks_on(&two, 1), 0);
    assert_true(pdf.held > dead); /* idle: this server holds "now" */
    /* nothing new below: no resolution, no publish */
    assert_int_equal(sql__kv_gc(kv, 0, &g), 0);
    assert_int_equal(pdf.publishes, 2);
    assert_int_equal(g.safe_point, dead + 1);
    assert_int_equal(g.locks_resolved, 0);
    /* a live lock below the candidate: nothing published */
    pdf.other = UINT64_MAX;
    mvcc_ts live;
    assert_int_equal(mvcc_local_tso_next(&two.tso, &live), 0);
    orphan_lock(&two, 0, "b", live, 60000);
    usleep(2000);
    assert_int_equal(sql__kv_gc(kv, 0, &g), MVCC_LOCKED);
    assert_int_equal(pdf.publishes, 2);
    assert_int_equal(pdf.gc_sp, dead + 1);
    assert_int_equal(locks_on(&two, 0), 1);
    /* hold's failure is the round's */
    pdf.fail = -EIO;
    assert_int_equal(sql__kv_gc(kv, 0, &g), -EIO);
    assert_int_equal(pdf.publishes, 2);
    close_two(&two, kv);
}

/* GC (DESIGN.md "GC"): an open transaction holds the safe point at its
 * snapshot; once it ends, every version but the newest goes, and a
 * deleted key's versions with its delete; the safe point never goes
 * down. */
static void gc_keeps_open_snapshots(void **state)
{
    (void)state;
    struct sql_kv *kv = open_mem();
    put(kv, "a", "1");
    put(kv, "b", "1");
    struct sql_kvtxn *old, *t;
    assert_int_equal(sql__kv_begin(kv, &old), 0);
    put(kv, "a", "2");
    put(kv, "a", "3");
    put(kv, "a", "4");
    assert_int_equal(sql__kv_begin(kv, &t), 0);
    assert_int_equal(sql__kvtxn_delete(t, "b", 1), 0);
    assert_int_equal(sql__kvtxn_commit(t), 0);
    struct sql_gc_stats g;
    assert_int_equal(sql__kv_gc(kv, 0, &g), 0);
    assert_true(g.safe_point <= sql__kvtxn_start_ts(old));
    assert_int_equal(g.versions_removed, 0); /* old reads them all */
    assert_int_equal(g.locks_resolved, 0);
    expect(old, "a", "1");
    expect(old, "b", "1");
    sql__kvtxn_rollback(old);
    usleep(2000); /* the safe point is whole ms: past the last commit */
    assert_int_equal(sql__kv_gc(kv, 0, &g), 0);
    uint64_t sp = g.safe_point;
    assert_true(sp > 0);
    /* a: 1, 2, 3 (4 stays); b: its Put and its Delete */
    assert_int_equal(g.versions_removed, 5);
    assert_int_equal(sql__kv_begin(kv, &t), 0);
    expect(t, "a", "4");
    expect(t, "b", NULL);
    sql__kvtxn_rollback(t);
    /* an hour's life time puts the safe point back: it stays */
    assert_int_equal(sql__kv_gc(kv, 3600 * 1000, &g), 0);
    assert_int_equal(g.safe_point, sp);
    assert_int_equal(g.versions_removed, 0);
    /* a latest-version point read holds nothing back */
    assert_int_equal(sql__kv_begin_latest(kv, &t), 0);
    expect(t, "a", "4");
    put(kv, "a", "5");
    usleep(2000);
    assert_int_equal(sql__kv_gc(kv, 0, &g), 0);
    assert_true(g.safe_point > sp);
    assert_int_equal(g.versions_removed, 1);
    sql__kvtxn_rollback(t);
    sql__kv_close(kv);
}

static void rocksdb_keeps_data_across_reopen(void **state)
{
    (void)state;
    char dir[] = "/tmp/test_kv.XXXXXX";
    assert_non_null(mkdtemp(dir));
    struct sql_kv_local_opts o = {.path = dir};
    struct sql_kv *kv = NULL;
    char err[256];
    assert_int_equal(sql__kv_local_open(&o, &kv, err, sizeof(err)), 0);
    put(kv, "p", "persisted");
    sql__kv_close(kv);
    assert_int_equal(sql__kv_local_open(&o, &kv, err, sizeof(err)), 0);
    struct sql_kvtxn *t;
    assert_int_equal(sql__kv_begin(kv, &t), 0);
    expect(t, "p", "persisted");
    sql__kvtxn_rollback(t);
    sql__kv_close(kv);
    /* A path that cannot be a directory is an error with a message. */
    struct sql_kv_local_opts bad = {.path = "/proc/version/x"};
    err[0] = '\0';
    assert_int_not_equal(sql__kv_local_open(&bad, &kv, err, sizeof(err)), 0);
    assert_true(strlen(err) > 0);
    char cmd[64];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(own_writes_and_snapshots),
        cmocka_unit_test(scans_both_ways),
        cmocka_unit_test(conflict_is_reported_not_retried),
        cmocka_unit_test(for_update_locks_wait_as_asked),
        cmocka_unit_test(cluster_deadlock_across_stores),
        cmocka_unit_test(rocksdb_keeps_data_across_reopen),
        cmocka_unit_test(gc_keeps_open_snapshots),
        cmocka_unit_test(cluster_gc_holds_and_publishes),
    };
    return cmocka_run_group_tests_name("libsql/kv", tests, NULL, NULL);
}
