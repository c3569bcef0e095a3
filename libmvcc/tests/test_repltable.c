/* test_repltable.c: the lock table of a replicated store (DESIGN.md, "Lock
 * table": replicated stores). Two replicas, each an engine with a store
 * that has an apply hook and a table; the hook of the store that runs a
 * command (the leader) writes the batch to both engines through
 * mvcc_store_write_applied, as libregion's apply does on every replica.
 * Leadership moves between them around a commit; a range of one replica's
 * lock CF replaced behind its store (a snapshot installed) is invisible
 * until mvcc_store_reload_locks, which proves reads come from the table.
 * Each test runs on the memory engine and on RocksDB.
 */
#include <errno.h>
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

struct replicas {
    struct tu_fix f[2];       /* engines */
    struct mvcc_store *s[2];  /* stores over them */
    struct mvcc_result r;     /* a result to reuse */
    int writes;               /* batches the hook wrote */
};

/* The leader's hook: every replica writes the batch and updates its own
 * table (the whole batch is given as its lock ops: the table takes only
 * the lock CF's). */
static int replicate(void *ctx, const struct mvcc_wbatch *b, bool sync)
{
    struct replicas *rp = ctx;
    for (int i = 0; i < 2; i++) {
        int rc = mvcc_store_write_applied(rp->s[i], rp->f[i].eng, b, b, sync);
        if (rc != 0)
            return rc;
    }
    rp->writes++;
    return 0;
}

static void open_store(struct replicas *rp, int i)
{
    struct mvcc_store_opts so;
    memset(&so, 0, sizeof so);
    so.apply = replicate;
    so.apply_ctx = rp;
    so.lock_table = true;
    assert_int_equal(mvcc_store_open(rp->f[i].eng, &so, &rp->s[i]), 0);
}

static struct replicas *replicas_open(int kind)
{
    struct replicas *rp = calloc(1, sizeof *rp);
    assert_non_null(rp);
    mvcc_result_init(&rp->r);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(tu_fix_open(&rp->f[i], kind), 0);
        open_store(rp, i);
    }
    return rp;
}

static void replicas_close(struct replicas *rp)
{
    for (int i = 0; i < 2; i++) {
        mvcc_store_close(rp->s[i]);
        tu_fix_close(&rp->f[i]);
    }
    mvcc_result_reset(&rp->r);
    free(rp);
}

/* The user keys of the locks replica i's store reports, joined by ','. */
static void locks_are(struct replicas *rp, int i, const char *want)
{
    assert_int_equal(mvcc_scan_lock(rp->s[i], MVCC_TS_MAX, NULL, 0, NULL, 0,
                                    0, &rp->r),
                     0);
    char got[256] = "";
    for (size_t j = 0; j < rp->r.nlocks; j++) {
        size_t n = strlen(got);
        snprintf(got + n, sizeof got - n, "%s%.*s", j ? "," : "",
                 (int)rp->r.locks[j].key_len,
                 (const char *)rp->r.locks[j].key);
    }
    assert_string_equal(got, want);
}

/* The user keys of the locks replica i's engine holds, joined by ','. */
static void engine_locks_are(struct replicas *rp, int i, const char *want)
{
    struct mvcc_iter *it;
    assert_int_equal(
        mvcc_engine_iter(rp->f[i].eng, NULL, MVCC_CF_LOCK, NULL, &it), 0);
    char got[256] = "";
    int rc;
    for (rc = it->ops->seek_to_first(it); rc == 0 && it->ops->valid(it);
         rc = it->ops->next(it)) {
        size_t kl, ul = 0, used = 0;
        const uint8_t *k = it->ops->key(it, &kl);
        uint8_t user[64];
        assert_true(kl <= sizeof user);
        assert_int_equal(mvcc_key_decode(k, kl, user, &ul, &used), 0);
        size_t n = strlen(got);
        snprintf(got + n, sizeof got - n, "%s%.*s", n ? "," : "", (int)ul,
                 (const char *)user);
    }
    assert_int_equal(rc, 0);
    mvcc_iter_destroy(it);
    assert_string_equal(got, want);
}

static size_t enc(const char *k, uint8_t *out)
{
    return mvcc_key_encode(k, strlen(k), out);
}

/* A prewrite on A, leadership to B (which reads the locks from its own
 * table and commits), back to A (whose table saw the commit remove
 * them): both tables follow the applied batches, and each stays equal
 * to its engine's lock CF. */
static void tables_follow_leadership(void **state)
{
    struct replicas *rp = replicas_open(*(int *)*state);
    struct mvcc_mutation m[] = {
        {MVCC_OP_PUT, K("k1"), K("1"), false},
        {MVCC_OP_PUT, K("k2"), K("2"), false},
    };
    assert_int_equal(tu_prewrite_muts(rp->s[0], m, 2, "k1", TS(10), &rp->r),
                     0);
    assert_int_equal(rp->writes, 1);
    for (int i = 0; i < 2; i++) {
        locks_are(rp, i, "k1,k2");
        engine_locks_are(rp, i, "k1,k2");
    }
    /* leadership to B: a read above start_ts meets the lock */
    assert_int_equal(mvcc_get(rp->s[1], NULL, K("k2"), TS(20), &rp->r),
                     MVCC_LOCKED);
    struct mvcc_key keys[] = {{"k1", 2}, {"k2", 2}};
    assert_int_equal(mvcc_commit(rp->s[1], keys, 2, TS(10), TS(15), &rp->r),
                     0);
    for (int i = 0; i < 2; i++) {
        locks_are(rp, i, "");
        engine_locks_are(rp, i, "");
    }
    /* back to A: the commit B applied is what A reads */
    tu_store_get_is(rp->s[0], &rp->r, "k2", TS(20), "2");
    tu_store_get_is(rp->s[0], &rp->r, "k1", TS(14), NULL);
    /* a lock written on A and rolled back on B leaves both tables */
    assert_int_equal(tu_prewrite_put(rp->s[0], "k3", TS(30), &rp->r), 0);
    locks_are(rp, 1, "k3");
    struct mvcc_key k3 = {"k3", 2};
    assert_int_equal(mvcc_batch_rollback(rp->s[1], &k3, 1, TS(30), &rp->r), 0);
    locks_are(rp, 0, "");
    engine_locks_are(rp, 0, "");
    tu_store_get_is(rp->s[1], &rp->r, "k3", TS(40), NULL);
    /* a store reopened over its engine loads the table again */
    assert_int_equal(tu_prewrite_put(rp->s[0], "k4", TS(50), &rp->r), 0);
    mvcc_store_close(rp->s[1]);
    open_store(rp, 1);
    locks_are(rp, 1, "k4");
    engine_locks_are(rp, 1, "k4");
    replicas_close(rp);
}

/* Replica B's lock CF changes behind its store in [b, f): c's lock goes
 * and d gets one (a snapshot's records). B's reads do not see it, since
 * they come from the table, until the range is reloaded; then exactly
 * the engine's locks are there, and the keys outside the range kept
 * theirs. An open-ended reload drops everything from b. */
static void reload_replaces_a_range(void **state)
{
    struct replicas *rp = replicas_open(*(int *)*state);
    struct mvcc_mutation m[] = {
        {MVCC_OP_PUT, K("a"), K("1"), false},
        {MVCC_OP_PUT, K("c"), K("3"), false},
        {MVCC_OP_PUT, K("g"), K("7"), false},
    };
    assert_int_equal(tu_prewrite_muts(rp->s[0], m, 3, "a", TS(10), &rp->r),
                     0);
    struct mvcc_engine *eb = rp->f[1].eng;
    uint8_t kc[32], kd[32], kb[32], kf[32];
    size_t lc = enc("c", kc), ld = enc("d", kd), lb = enc("b", kb),
           lf = enc("f", kf);
    uint8_t *rec = NULL;
    size_t rec_len = 0;
    assert_int_equal(
        mvcc_engine_get(eb, NULL, MVCC_CF_LOCK, kc, lc, &rec, &rec_len), 0);
    struct mvcc_wbatch *b;
    assert_int_equal(mvcc_wbatch_create(&b), 0);
    assert_int_equal(
        mvcc_wbatch_delete_range(b, MVCC_CF_LOCK, kb, lb, kf, lf), 0);
    assert_int_equal(
        mvcc_wbatch_put(b, MVCC_CF_LOCK, kd, ld, rec, rec_len), 0);
    assert_int_equal(mvcc_engine_write(eb, b, false), 0);
    mvcc_free(rec);
    engine_locks_are(rp, 1, "a,d,g");
    locks_are(rp, 1, "a,c,g"); /* the table, not the engine */
    tu_store_get_is(rp->s[1], &rp->r, "d", TS(20), NULL);
    assert_int_equal(mvcc_store_reload_locks(rp->s[1], kb, lb, kf, lf), 0);
    locks_are(rp, 1, "a,d,g");
    assert_int_equal(mvcc_get(rp->s[1], NULL, K("d"), TS(20), &rp->r),
                     MVCC_LOCKED);
    tu_store_get_is(rp->s[1], &rp->r, "c", TS(20), NULL);
    locks_are(rp, 0, "a,c,g"); /* A's engine did not change */
    /* everything from b goes, in the engine and then in the table */
    mvcc_wbatch_clear(b);
    uint8_t hi[8];
    memset(hi, 0xff, sizeof hi);
    assert_int_equal(mvcc_wbatch_delete_range(b, MVCC_CF_LOCK, kb, lb, hi,
                                              sizeof hi),
                     0);
    assert_int_equal(mvcc_engine_write(eb, b, false), 0);
    mvcc_wbatch_destroy(b);
    assert_int_equal(mvcc_store_reload_locks(rp->s[1], kb, lb, NULL, 0), 0);
    locks_are(rp, 1, "a");
    engine_locks_are(rp, 1, "a");
    replicas_close(rp);
}

/* A heap that fails every allocation after `heap_budget` of them. */
static long heap_budget;
static void *budget_malloc(void *ctx, size_t n)
{
    (void)ctx;
    return heap_budget-- > 0 ? malloc(n) : NULL;
}
static void *budget_realloc(void *ctx, void *p, size_t n)
{
    (void)ctx;
    return heap_budget-- > 0 ? realloc(p, n) : NULL;
}
static void budget_free(void *ctx, void *p)
{
    (void)ctx;
    free(p);
}
static const struct mvcc_heap budget_heap = {NULL, budget_malloc,
                                             budget_realloc, budget_free};

/* Out of memory at any allocation of a reload (the copy of the engine's
 * records, before the table changes) or of an applied write (the
 * entries, before the engine write) leaves table and engine as they
 * were; given enough, the same calls succeed. */
static void out_of_memory_changes_nothing(void **state)
{
    struct replicas *rp = replicas_open(*(int *)*state);
    struct mvcc_mutation m[] = {
        {MVCC_OP_PUT, K("a"), K("1"), false},
        {MVCC_OP_PUT, K("c"), K("3"), false},
        {MVCC_OP_PUT, K("e"), K("5"), false},
    };
    assert_int_equal(tu_prewrite_muts(rp->s[0], m, 3, "a", TS(10), &rp->r),
                     0);
    /* B's lock CF loses a's behind its store: a reload copies c's and
     * e's records and drops a */
    struct mvcc_engine *eb = rp->f[1].eng;
    uint8_t lo[32], kb[32];
    size_t ll = enc("a", lo), lb = enc("b", kb);
    struct mvcc_wbatch *b;
    assert_int_equal(mvcc_wbatch_create(&b), 0);
    assert_int_equal(mvcc_wbatch_delete_range(b, MVCC_CF_LOCK, lo, ll, kb, lb),
                     0);
    assert_int_equal(mvcc_engine_write(eb, b, false), 0);
    mvcc_wbatch_clear(b);
    int failed = 0;
    for (long budget = 0;; budget++) {
        heap_budget = budget;
        mvcc_heap_set(&budget_heap);
        int rc = mvcc_store_reload_locks(rp->s[1], lo, ll, NULL, 0);
        mvcc_heap_set(NULL);
        if (rc == 0)
            break;
        assert_int_equal(rc, -ENOMEM);
        locks_are(rp, 1, "a,c,e");
        failed++;
    }
    assert_true(failed >= 2); /* each of the two copies failed once */
    locks_are(rp, 1, "c,e");
    /* an applied write whose lock entry cannot be allocated */
    uint8_t kx[32], kz[32];
    size_t lx = enc("x", kx), lz = enc("z", kz);
    assert_int_equal(mvcc_wbatch_put(b, MVCC_CF_LOCK, kx, lx, "rec", 3), 0);
    assert_int_equal(mvcc_wbatch_put(b, MVCC_CF_DEFAULT, kz, lz, "v", 1), 0);
    heap_budget = 0;
    mvcc_heap_set(&budget_heap);
    int rc = mvcc_store_write_applied(rp->s[1], eb, b, b, false);
    mvcc_heap_set(NULL);
    assert_int_equal(rc, -ENOMEM);
    uint8_t *v = NULL;
    size_t vl = 0;
    assert_int_equal(mvcc_engine_get(eb, NULL, MVCC_CF_DEFAULT, kz, lz, &v,
                                     &vl),
                     MVCC_NOTFOUND);
    engine_locks_are(rp, 1, "c,e");
    locks_are(rp, 1, "c,e");
    mvcc_wbatch_destroy(b);
    replicas_close(rp);
}

/* A store whose table is exact by itself refuses a reload; a store
 * without a table has nothing to reload, and its write_applied is a plain
 * engine write. */
static void reload_needs_a_replicated_table(void **state)
{
    struct tu_fix f;
    assert_int_equal(tu_fix_open(&f, *(int *)*state), 0);
    struct mvcc_store_opts so;
    memset(&so, 0, sizeof so);
    so.lock_table = true;
    struct mvcc_store *s;
    assert_int_equal(mvcc_store_open(f.eng, &so, &s), 0);
    assert_int_equal(mvcc_store_reload_locks(s, NULL, 0, NULL, 0), -EINVAL);
    mvcc_store_close(s);
    so.lock_table = false;
    assert_int_equal(mvcc_store_open(f.eng, &so, &s), 0);
    assert_int_equal(mvcc_store_reload_locks(s, NULL, 0, NULL, 0), 0);
    struct mvcc_wbatch *b;
    uint8_t k[32];
    size_t kl = enc("x", k);
    assert_int_equal(mvcc_wbatch_create(&b), 0);
    assert_int_equal(mvcc_wbatch_put(b, MVCC_CF_DEFAULT, k, kl, "v", 1), 0);
    assert_int_equal(mvcc_store_write_applied(s, f.eng, b, b, false), 0);
    uint8_t *v = NULL;
    size_t vl = 0;
    assert_int_equal(mvcc_engine_get(f.eng, NULL, MVCC_CF_DEFAULT, k, kl, &v,
                                     &vl),
                     0);
    assert_int_equal(vl, 1);
    mvcc_free(v);
    mvcc_wbatch_destroy(b);
    mvcc_store_close(s);
    tu_fix_close(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        TU_BOTH_KIND(tables_follow_leadership),
        TU_BOTH_KIND(reload_replaces_a_range),
        TU_BOTH_KIND(out_of_memory_changes_nothing),
        TU_BOTH_KIND(reload_needs_a_replicated_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
