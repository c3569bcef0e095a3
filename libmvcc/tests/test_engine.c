/* test_engine.c: the engine contract (DESIGN.md, "Engine"), every test run
 * on both the in-memory engine and RocksDB: point ops, column families,
 * atomic batches, delete range, snapshots, bounded iterators both ways, and
 * a randomized comparison against a simple model.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <rocksdb/c.h>

#include "testutil.h"

#define S(x) (x), strlen(x)

static void put(struct mvcc_engine *e, int cf, const char *k, const char *v)
{
    assert_int_equal(mvcc_engine_put(e, cf, S(k), S(v)), 0);
}

static void expect(struct mvcc_engine *e, const struct mvcc_snapshot *s,
                   int cf, const char *k, const char *v)
{
    uint8_t *val = NULL;
    size_t n = 0;
    int rc = mvcc_engine_get(e, s, cf, S(k), &val, &n);
    if (v == NULL) {
        assert_int_equal(rc, MVCC_NOTFOUND);
        return;
    }
    assert_int_equal(rc, 0);
    assert_int_equal(n, strlen(v));
    assert_memory_equal(val, v, n);
    mvcc_free(val);
}

/* Collects the iterator's keys (forward or backward) as "k1,k2,..". */
static void collect(struct mvcc_iter *it, bool reverse, char *out, size_t cap)
{
    out[0] = 0;
    size_t used = 0;
    while (it->ops->valid(it)) {
        size_t kl;
        const uint8_t *k = it->ops->key(it, &kl);
        assert_true(used + kl + 2 < cap);
        if (used)
            out[used++] = ',';
        memcpy(out + used, k, kl);
        used += kl;
        out[used] = 0;
        assert_int_equal(reverse ? it->ops->prev(it) : it->ops->next(it), 0);
    }
}

static void scan_is(struct mvcc_engine *e, const struct mvcc_snapshot *s,
                    int cf, const char *lo, const char *hi, bool reverse,
                    const char *want)
{
    struct mvcc_iter_opts o = {lo, lo ? strlen(lo) : 0, hi,
                               hi ? strlen(hi) : 0};
    struct mvcc_iter *it;
    assert_int_equal(mvcc_engine_iter(e, s, cf, &o, &it), 0);
    if (reverse)
        assert_int_equal(it->ops->seek_to_last(it), 0);
    else
        assert_int_equal(it->ops->seek_to_first(it), 0);
    char got[1024];
    collect(it, reverse, got, sizeof got);
    assert_string_equal(got, want);
    mvcc_iter_destroy(it);
}

static void point_ops(void **state)
{
    struct tu_fix *f = *state;
    struct mvcc_engine *e = f->eng;
    expect(e, NULL, MVCC_CF_DEFAULT, "a", NULL);
    put(e, MVCC_CF_DEFAULT, "a", "1");
    expect(e, NULL, MVCC_CF_DEFAULT, "a", "1");
    put(e, MVCC_CF_DEFAULT, "a", "22");
    expect(e, NULL, MVCC_CF_DEFAULT, "a", "22");
    assert_int_equal(mvcc_engine_delete(e, MVCC_CF_DEFAULT, S("a")), 0);
    expect(e, NULL, MVCC_CF_DEFAULT, "a", NULL);
    /* deleting a missing key is fine */
    assert_int_equal(mvcc_engine_delete(e, MVCC_CF_DEFAULT, S("zz")), 0);
    /* empty value and empty key */
    assert_int_equal(mvcc_engine_put(e, MVCC_CF_DEFAULT, "", 0, "", 0), 0);
    expect(e, NULL, MVCC_CF_DEFAULT, "", "");
    /* bad column family */
    uint8_t *v;
    size_t n;
    assert_int_equal(mvcc_engine_get(e, NULL, MVCC_ENGINE_CF_COUNT, S("a"),
                                     &v, &n),
                     -EINVAL);
    assert_int_equal(mvcc_engine_put(e, -1, S("a"), S("b")), -EINVAL);
}

static void column_families_are_separate(void **state)
{
    struct mvcc_engine *e = ((struct tu_fix *)*state)->eng;
    put(e, MVCC_CF_DEFAULT, "k", "d");
    put(e, MVCC_CF_LOCK, "k", "l");
    put(e, MVCC_CF_WRITE, "k", "w");
    put(e, MVCC_CF_RAFT, "k", "r");
    put(e, MVCC_CF_RAFT, "k2", "r2");
    expect(e, NULL, MVCC_CF_DEFAULT, "k", "d");
    expect(e, NULL, MVCC_CF_LOCK, "k", "l");
    expect(e, NULL, MVCC_CF_WRITE, "k", "w");
    expect(e, NULL, MVCC_CF_RAFT, "k", "r");
    assert_int_equal(mvcc_engine_delete(e, MVCC_CF_LOCK, S("k")), 0);
    expect(e, NULL, MVCC_CF_LOCK, "k", NULL);
    expect(e, NULL, MVCC_CF_WRITE, "k", "w");
    scan_is(e, NULL, MVCC_CF_WRITE, NULL, NULL, false, "k");
    scan_is(e, NULL, MVCC_CF_LOCK, NULL, NULL, false, "");
    scan_is(e, NULL, MVCC_CF_RAFT, NULL, NULL, false, "k,k2");
    /* the raft CF in one atomic batch with a data CF; a range delete
     * there leaves the data CFs alone */
    struct mvcc_wbatch *b;
    assert_int_equal(mvcc_wbatch_create(&b), 0);
    assert_int_equal(
        mvcc_wbatch_delete_range(b, MVCC_CF_RAFT, S("a"), S("z")), 0);
    assert_int_equal(mvcc_wbatch_put(b, MVCC_CF_RAFT, S("m"), S("r3")), 0);
    assert_int_equal(mvcc_wbatch_put(b, MVCC_CF_DEFAULT, S("m"), S("d3")), 0);
    assert_int_equal(mvcc_engine_write(e, b, true), 0);
    scan_is(e, NULL, MVCC_CF_RAFT, NULL, NULL, false, "m");
    expect(e, NULL, MVCC_CF_RAFT, "m", "r3");
    expect(e, NULL, MVCC_CF_DEFAULT, "k", "d");
    expect(e, NULL, MVCC_CF_DEFAULT, "m", "d3");
    /* a serialized batch names data CFs only */
    uint8_t *enc = NULL;
    size_t enc_len = 0;
    assert_int_equal(mvcc_wbatch_encode(b, &enc, &enc_len), -EINVAL);
    assert_null(enc);
    mvcc_wbatch_destroy(b);
}

static void batch_is_atomic_and_ordered(void **state)
{
    struct mvcc_engine *e = ((struct tu_fix *)*state)->eng;
    put(e, MVCC_CF_DEFAULT, "old", "x");
    struct mvcc_snapshot *s;
    assert_int_equal(mvcc_engine_snapshot(e, &s), 0);
    struct mvcc_wbatch *b;
    assert_int_equal(mvcc_wbatch_create(&b), 0);
    assert_int_equal(mvcc_wbatch_put(b, MVCC_CF_DEFAULT, S("a"), S("1")), 0);
    assert_int_equal(mvcc_wbatch_put(b, MVCC_CF_DEFAULT, S("a"), S("2")), 0);
    assert_int_equal(mvcc_wbatch_put(b, MVCC_CF_WRITE, S("b"), S("3")), 0);
    assert_int_equal(mvcc_wbatch_delete(b, MVCC_CF_DEFAULT, S("old")), 0);
    assert_int_equal(mvcc_wbatch_put(b, MVCC_CF_DEFAULT, S("c"), S("4")), 0);
    assert_int_equal(mvcc_wbatch_delete(b, MVCC_CF_DEFAULT, S("c")), 0);
    assert_int_equal(mvcc_wbatch_count(b), 6);
    struct mvcc_wop op;
    mvcc_wbatch_op(b, 2, &op);
    assert_int_equal(op.type, MVCC_WOP_PUT);
    assert_int_equal(op.cf, MVCC_CF_WRITE);
    assert_memory_equal(op.key, "b", 1);
    assert_int_equal(mvcc_wbatch_put(b, 7, S("a"), S("1")), -EINVAL);
    assert_int_equal(mvcc_engine_write(e, b, true), 0);
    expect(e, NULL, MVCC_CF_DEFAULT, "a", "2");
    expect(e, NULL, MVCC_CF_WRITE, "b", "3");
    expect(e, NULL, MVCC_CF_DEFAULT, "old", NULL);
    expect(e, NULL, MVCC_CF_DEFAULT, "c", NULL);
    /* the snapshot taken before sees none of it */
    expect(e, s, MVCC_CF_DEFAULT, "a", NULL);
    expect(e, s, MVCC_CF_DEFAULT, "old", "x");
    scan_is(e, s, MVCC_CF_DEFAULT, NULL, NULL, false, "old");
    mvcc_engine_snapshot_release(e, s);
    mvcc_wbatch_clear(b);
    assert_int_equal(mvcc_wbatch_count(b), 0);
    assert_int_equal(mvcc_engine_write(e, b, false), 0);
    mvcc_wbatch_destroy(b);
    mvcc_wbatch_destroy(NULL);
}

static void delete_range_removes_half_open(void **state)
{
    struct mvcc_engine *e = ((struct tu_fix *)*state)->eng;
    const char *keys[] = {"a", "b", "ba", "c", "d"};
    for (size_t i = 0; i < 5; i++) {
        put(e, MVCC_CF_DEFAULT, keys[i], "v");
        put(e, MVCC_CF_LOCK, keys[i], "v");
    }
    struct mvcc_snapshot *s;
    assert_int_equal(mvcc_engine_snapshot(e, &s), 0);
    assert_int_equal(
        mvcc_engine_delete_range(e, MVCC_CF_DEFAULT, S("b"), S("d")), 0);
    scan_is(e, NULL, MVCC_CF_DEFAULT, NULL, NULL, false, "a,d");
    scan_is(e, NULL, MVCC_CF_LOCK, NULL, NULL, false, "a,b,ba,c,d");
    scan_is(e, s, MVCC_CF_DEFAULT, NULL, NULL, false, "a,b,ba,c,d");
    expect(e, s, MVCC_CF_DEFAULT, "ba", "v");
    mvcc_engine_snapshot_release(e, s);
    /* writes after the range delete are visible again */
    put(e, MVCC_CF_DEFAULT, "c", "again");
    expect(e, NULL, MVCC_CF_DEFAULT, "c", "again");
    scan_is(e, NULL, MVCC_CF_DEFAULT, NULL, NULL, true, "d,c,a");
}

static void iterators_respect_bounds_both_ways(void **state)
{
    struct mvcc_engine *e = ((struct tu_fix *)*state)->eng;
    const char *keys[] = {"a", "b", "c", "d", "e"};
    for (size_t i = 0; i < 5; i++)
        put(e, MVCC_CF_WRITE, keys[i], keys[i]);
    scan_is(e, NULL, MVCC_CF_WRITE, NULL, NULL, false, "a,b,c,d,e");
    scan_is(e, NULL, MVCC_CF_WRITE, NULL, NULL, true, "e,d,c,b,a");
    scan_is(e, NULL, MVCC_CF_WRITE, "b", "d", false, "b,c");
    scan_is(e, NULL, MVCC_CF_WRITE, "b", "d", true, "c,b");
    scan_is(e, NULL, MVCC_CF_WRITE, "bb", "dd", false, "c,d");
    scan_is(e, NULL, MVCC_CF_WRITE, "x", NULL, false, "");
    scan_is(e, NULL, MVCC_CF_WRITE, NULL, "a", true, "");

    struct mvcc_iter_opts o = {"b", 1, "e", 1};
    struct mvcc_iter *it;
    assert_int_equal(mvcc_engine_iter(e, NULL, MVCC_CF_WRITE, &o, &it), 0);
    size_t kl;
    /* seek clamps to the lower bound; seek_for_prev finds last <= key */
    assert_int_equal(it->ops->seek(it, S("a")), 0);
    assert_true(it->ops->valid(it));
    assert_memory_equal(it->ops->key(it, &kl), "b", 1);
    assert_int_equal(it->ops->seek(it, S("cc")), 0);
    assert_memory_equal(it->ops->key(it, &kl), "d", 1);
    const uint8_t *v = it->ops->value(it, &kl);
    assert_int_equal(kl, 1);
    assert_memory_equal(v, "d", 1);
    assert_int_equal(it->ops->seek_for_prev(it, S("cc")), 0);
    assert_memory_equal(it->ops->key(it, &kl), "c", 1);
    assert_int_equal(it->ops->seek_for_prev(it, S("c")), 0);
    assert_memory_equal(it->ops->key(it, &kl), "c", 1);
    assert_int_equal(it->ops->prev(it), 0);
    assert_memory_equal(it->ops->key(it, &kl), "b", 1);
    assert_int_equal(it->ops->prev(it), 0);
    assert_false(it->ops->valid(it));
    assert_int_equal(it->ops->seek_for_prev(it, S("a")), 0);
    assert_false(it->ops->valid(it));
    assert_int_equal(it->ops->seek(it, S("e")), 0);
    assert_false(it->ops->valid(it));
    assert_int_equal(it->ops->seek_for_prev(it, S("z")), 0);
    assert_memory_equal(it->ops->key(it, &kl), "d", 1);
    assert_int_equal(it->ops->next(it), 0);
    assert_false(it->ops->valid(it));
    mvcc_iter_destroy(it);
    mvcc_iter_destroy(NULL);
}

static void iterator_is_a_consistent_view(void **state)
{
    struct mvcc_engine *e = ((struct tu_fix *)*state)->eng;
    put(e, MVCC_CF_DEFAULT, "a", "1");
    put(e, MVCC_CF_DEFAULT, "b", "1");
    put(e, MVCC_CF_DEFAULT, "c", "1");
    struct mvcc_iter *it;
    assert_int_equal(mvcc_engine_iter(e, NULL, MVCC_CF_DEFAULT, NULL, &it), 0);
    assert_int_equal(it->ops->seek_to_first(it), 0);
    /* writes after the iterator was made stay invisible to it */
    put(e, MVCC_CF_DEFAULT, "a", "2");
    put(e, MVCC_CF_DEFAULT, "bb", "2");
    assert_int_equal(mvcc_engine_delete(e, MVCC_CF_DEFAULT, S("c")), 0);
    char got[64];
    collect(it, false, got, sizeof got);
    assert_string_equal(got, "a,b,c");
    mvcc_iter_destroy(it);
    scan_is(e, NULL, MVCC_CF_DEFAULT, NULL, NULL, false, "a,b,bb");

    /* an iterator on a snapshot sees the snapshot */
    struct mvcc_snapshot *s;
    assert_int_equal(mvcc_engine_snapshot(e, &s), 0);
    for (int i = 0; i < 3; i++)
        put(e, MVCC_CF_DEFAULT, "a", i == 2 ? "last" : "mid");
    assert_int_equal(mvcc_engine_delete(e, MVCC_CF_DEFAULT, S("bb")), 0);
    scan_is(e, s, MVCC_CF_DEFAULT, NULL, NULL, true, "bb,b,a");
    expect(e, s, MVCC_CF_DEFAULT, "a", "2");
    expect(e, NULL, MVCC_CF_DEFAULT, "a", "last");
    mvcc_engine_snapshot_release(e, s);
}

/* A model: a sorted array of distinct keys with values. */
struct model
{
    char keys[64][8]; /* key strings */
    char vals[64][8]; /* value strings, "" = absent */
};

static void random_ops_match_a_model(void **state)
{
    struct mvcc_engine *e = ((struct tu_fix *)*state)->eng;
    static struct model m, snapm;
    memset(&m, 0, sizeof m);
    for (int i = 0; i < 64; i++)
        snprintf(m.keys[i], sizeof m.keys[i], "k%02d", i);
    unsigned seed = 12345;
    struct mvcc_snapshot *snap = NULL;
    for (int round = 0; round < 3000; round++) {
        seed = seed * 1103515245u + 12345u;
        unsigned r = (seed >> 8) % 100;
        int k = (int)((seed >> 16) % 64);
        if (r < 55) {
            char v[8];
            snprintf(v, sizeof v, "v%d", round % 1000);
            put(e, MVCC_CF_DEFAULT, m.keys[k], v);
            strcpy(m.vals[k], v);
        } else if (r < 85) {
            assert_int_equal(
                mvcc_engine_delete(e, MVCC_CF_DEFAULT, S(m.keys[k])), 0);
            m.vals[k][0] = 0;
        } else if (r < 88) {
            int k2 = k + (int)((seed >> 4) % 8);
            if (k2 > 63)
                k2 = 63;
            assert_int_equal(mvcc_engine_delete_range(e, MVCC_CF_DEFAULT,
                                                      S(m.keys[k]),
                                                      S(m.keys[k2])),
                             0);
            for (int j = k; j < k2; j++)
                m.vals[j][0] = 0;
        } else if (r < 91) {
            if (snap)
                mvcc_engine_snapshot_release(e, snap);
            assert_int_equal(mvcc_engine_snapshot(e, &snap), 0);
            snapm = m;
        } else {
            /* compare a bounded scan both ways, now and at the snapshot */
            int hi = k + 10 > 64 ? 64 : k + 10;
            for (int view = 0; view < 2; view++) {
                struct model *mm = view ? &snapm : &m;
                if (view && snap == NULL)
                    continue;
                char want[512] = "", wantr[512] = "";
                for (int j = k; j < hi; j++)
                    if (mm->vals[j][0]) {
                        if (want[0])
                            strcat(want, ",");
                        strcat(want, mm->keys[j]);
                    }
                for (int j = hi - 1; j >= k; j--)
                    if (mm->vals[j][0]) {
                        if (wantr[0])
                            strcat(wantr, ",");
                        strcat(wantr, mm->keys[j]);
                    }
                const char *upper = hi < 64 ? m.keys[hi] : "l";
                scan_is(e, view ? snap : NULL, MVCC_CF_DEFAULT, m.keys[k],
                        upper, false, want);
                scan_is(e, view ? snap : NULL, MVCC_CF_DEFAULT, m.keys[k],
                        upper, true, wantr);
                expect(e, view ? snap : NULL, MVCC_CF_DEFAULT, m.keys[k],
                       mm->vals[k][0] ? mm->vals[k] : NULL);
            }
        }
    }
    if (snap)
        mvcc_engine_snapshot_release(e, snap);
}

static void rocks_open_reports_errors(void **state)
{
    (void)state;
    struct mvcc_rocks_opts o;
    memset(&o, 0, sizeof o);
    o.path = "/proc/definitely/not/here";
    struct mvcc_engine *e = NULL;
    char err[256] = "";
    assert_int_equal(mvcc_rocksengine_open(&o, &e, err, sizeof err),
                     MVCC_EENGINE);
    assert_null(e);
    assert_true(strlen(err) > 0);
    assert_int_equal(mvcc_rocksengine_open(NULL, &e, err, sizeof err),
                     -EINVAL);
}

static void rocks_reopen_keeps_data(void **state)
{
    (void)state;
    char dir[] = "/tmp/mvcc-reopen-XXXXXX";
    assert_non_null(mkdtemp(dir));
    struct mvcc_rocks_opts o;
    memset(&o, 0, sizeof o);
    o.path = dir;
    o.recycle_log_files = 2;
    o.block_cache_bytes = 1 << 20;
    struct mvcc_engine *e;
    assert_int_equal(mvcc_rocksengine_open(&o, &e, NULL, 0), 0);
    struct mvcc_wbatch *b;
    assert_int_equal(mvcc_wbatch_create(&b), 0);
    assert_int_equal(mvcc_wbatch_put(b, MVCC_CF_LOCK, S("k"), S("v")), 0);
    assert_int_equal(mvcc_engine_write(e, b, true), 0);
    mvcc_wbatch_destroy(b);
    mvcc_engine_destroy(e);
    assert_int_equal(mvcc_rocksengine_open(&o, &e, NULL, 0), 0);
    expect(e, NULL, MVCC_CF_LOCK, "k", "v");
    expect(e, NULL, MVCC_CF_DEFAULT, "k", NULL);
    mvcc_engine_destroy(e);
    tu_rmtree(dir);
}

/* A database written before the raft CF existed (column families default,
 * lock and write only) opens: the raft CF is created, the data is kept,
 * and the database reopens with all four. */
static void rocks_opens_three_cf_database(void **state)
{
    (void)state;
    char dir[] = "/tmp/mvcc-3cf-XXXXXX";
    assert_non_null(mkdtemp(dir));
    rocksdb_options_t *ro = rocksdb_options_create();
    rocksdb_options_set_create_if_missing(ro, 1);
    rocksdb_options_set_create_missing_column_families(ro, 1);
    const char *names[3] = {"default", "lock", "write"};
    const rocksdb_options_t *cfo[3] = {ro, ro, ro};
    rocksdb_column_family_handle_t *h[3];
    char *err = NULL;
    rocksdb_t *db =
        rocksdb_open_column_families(ro, dir, 3, names, cfo, h, &err);
    assert_null(err);
    rocksdb_writeoptions_t *wo = rocksdb_writeoptions_create();
    rocksdb_put_cf(db, wo, h[0], "d", 1, "1", 1, &err);
    assert_null(err);
    rocksdb_put_cf(db, wo, h[2], "w", 1, "2", 1, &err);
    assert_null(err);
    rocksdb_writeoptions_destroy(wo);
    for (int i = 0; i < 3; i++)
        rocksdb_column_family_handle_destroy(h[i]);
    rocksdb_close(db);
    rocksdb_options_destroy(ro);

    struct mvcc_rocks_opts o;
    memset(&o, 0, sizeof o);
    o.path = dir;
    o.raft_write_buffer_bytes = 1 << 20;
    struct mvcc_engine *e;
    for (int round = 0; round < 2; round++) {
        assert_int_equal(mvcc_rocksengine_open(&o, &e, NULL, 0), 0);
        expect(e, NULL, MVCC_CF_DEFAULT, "d", "1");
        expect(e, NULL, MVCC_CF_WRITE, "w", "2");
        expect(e, NULL, MVCC_CF_RAFT, "l", round ? "3" : NULL);
        put(e, MVCC_CF_RAFT, "l", "3");
        mvcc_engine_destroy(e);
    }
    tu_rmtree(dir);
}

/* Monitoring figures: RocksDB's integer properties per column family; the
 * in-memory engine has none. */
static void rocks_properties(void **state)
{
    (void)state;
    char dir[] = "/tmp/mvcc-prop-XXXXXX";
    assert_non_null(mkdtemp(dir));
    struct mvcc_rocks_opts o;
    memset(&o, 0, sizeof o);
    o.path = dir;
    struct mvcc_engine *e;
    assert_int_equal(mvcc_rocksengine_open(&o, &e, NULL, 0), 0);
    uint64_t v = 99;
    assert_int_equal(
        mvcc_engine_property(e, MVCC_CF_DEFAULT, "rocksdb.estimate-num-keys",
                             &v),
        0);
    assert_int_equal(v, 0);
    assert_int_equal(mvcc_engine_put(e, MVCC_CF_DEFAULT, S("a"), S("1")), 0);
    assert_int_equal(mvcc_engine_put(e, MVCC_CF_DEFAULT, S("b"), S("2")), 0);
    assert_int_equal(mvcc_engine_put(e, MVCC_CF_WRITE, S("c"), S("3")), 0);
    assert_int_equal(
        mvcc_engine_property(e, MVCC_CF_DEFAULT, "rocksdb.estimate-num-keys",
                             &v),
        0);
    assert_int_equal(v, 2);
    assert_int_equal(
        mvcc_engine_property(e, MVCC_CF_WRITE, "rocksdb.estimate-num-keys",
                             &v),
        0);
    assert_int_equal(v, 1);
    assert_int_equal(mvcc_engine_property(e, MVCC_CF_LOCK,
                                          "rocksdb.cur-size-all-mem-tables",
                                          &v),
                     0);
    assert_int_equal(mvcc_engine_property(e, MVCC_CF_DEFAULT,
                                          "rocksdb.num-running-compactions",
                                          &v),
                     0);
    assert_int_equal(
        mvcc_engine_property(e, MVCC_CF_DEFAULT, "rocksdb.no-such-figure", &v),
        -ENOENT);
    assert_int_equal(
        mvcc_engine_property(e, MVCC_CF_RAFT, "rocksdb.estimate-num-keys",
                             &v),
        0);
    assert_int_equal(v, 0);
    assert_int_equal(mvcc_engine_property(e, MVCC_ENGINE_CF_COUNT,
                                          "rocksdb.estimate-num-keys", &v),
                     -EINVAL);
    assert_int_equal(mvcc_engine_property(e, -1, "rocksdb.estimate-num-keys",
                                          &v),
                     -EINVAL);
    mvcc_engine_destroy(e);
    tu_rmtree(dir);

    assert_int_equal(mvcc_memengine_create(&e), 0);
    assert_int_equal(
        mvcc_engine_property(e, MVCC_CF_DEFAULT, "rocksdb.estimate-num-keys",
                             &v),
        -ENOTSUP);
    mvcc_engine_destroy(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        TU_BOTH(point_ops),
        TU_BOTH(column_families_are_separate),
        TU_BOTH(batch_is_atomic_and_ordered),
        TU_BOTH(delete_range_removes_half_open),
        TU_BOTH(iterators_respect_bounds_both_ways),
        TU_BOTH(iterator_is_a_consistent_view),
        TU_BOTH(random_ops_match_a_model),
        cmocka_unit_test(rocks_open_reports_errors),
        cmocka_unit_test(rocks_reopen_keeps_data),
        cmocka_unit_test(rocks_opens_three_cf_database),
        cmocka_unit_test(rocks_properties),
    };
    return cmocka_run_group_tests_name("libmvcc/engine", tests, NULL, NULL);
}
