/* test_gccompact.c: GC compacts the write CF over what it removed
 * (DESIGN.md "GC", tombstones). A sweep deletes each old version on its
 * own; on RocksDB each delete is a tombstone that every scan passing the
 * key steps over (the visible version's next() walks them all) until a
 * compaction drops them. A sweep that removed at least 1024 versions
 * compacts their range, so a scan after it skips no deleted entry; a
 * smaller one leaves them to RocksDB's own compactions. Counted with
 * RocksDB's perf context (internal_delete_skipped_count) in this thread,
 * not timed. RocksDB with a lock table only: the scan then reads the
 * write CF alone through RocksDB (without one it also steps over the
 * lock CF's own tombstones, one per key here). The in-memory engine drops
 * a deleted entry itself and has no compaction: there a big sweep goes
 * on without one (-ENOTSUP) and reads answer the same.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <rocksdb/c.h>

#include "mvcc.h"
#include "testutil.h"

#define TS(ms) TU_TS(ms, 0)
#define VERSIONS 300 /* per key; the sweep keeps the base and 2 above it */

/* Commits VERSIONS versions of k ("v0" .. ), version i at TS(10 + 2i + 1). */
static void write_versions(struct tu_store *t, const char *k)
{
    struct mvcc_key key = {k, strlen(k)};
    for (int i = 0; i < VERSIONS; i++) {
        char v[16];
        snprintf(v, sizeof v, "v%d", i);
        assert_int_equal(
            tu_prewrite_kv(t->s, k, v, TS(10 + 2 * i), false, false, &t->r),
            0);
        assert_int_equal(mvcc_commit(t->s, &key, 1, TS(10 + 2 * i),
                                     TS(10 + 2 * i + 1), &t->r),
                         0);
    }
}

/* A scan of every key reads want pairs, each at its newest value. */
static void scan_newest(struct tu_store *t, size_t want)
{
    assert_int_equal(mvcc_scan(t->s, NULL, "", 0, NULL, 0, TS(100000),
                               &t->r),
                     0);
    assert_int_equal(t->r.npairs, want);
    char last[16];
    snprintf(last, sizeof last, "v%d", VERSIONS - 1);
    for (size_t i = 0; i < want; i++) {
        assert_int_equal(t->r.pairs[i].value_len, strlen(last));
        assert_memory_equal(t->r.pairs[i].value, last, strlen(last));
    }
}

/* scan_newest, and the deleted entries RocksDB stepped over for it. */
static uint64_t deletes_skipped(struct tu_store *t, size_t want)
{
    rocksdb_set_perf_level(rocksdb_enable_count);
    rocksdb_perfcontext_t *pc = rocksdb_perfcontext_create();
    rocksdb_perfcontext_reset(pc);
    scan_newest(t, want);
    uint64_t n = rocksdb_perfcontext_metric(
        pc, rocksdb_internal_delete_skipped_count);
    rocksdb_perfcontext_destroy(pc);
    rocksdb_set_perf_level(rocksdb_disable);
    return n;
}

/* The safe point: versions VERSIONS-3 (the base) and above stay. */
static mvcc_ts safe_point(void)
{
    return TS(10 + 2 * (VERSIONS - 3) + 1);
}

/* Five keys of VERSIONS versions swept at safe_point(): 1485 removed. */
static void big_sweep(struct tu_store *t)
{
    const char *keys[] = {"a", "b", "c", "d", "e"};
    for (int i = 0; i < 5; i++)
        write_versions(t, keys[i]);
    uint64_t removed = 0;
    assert_int_equal(mvcc_gc(t->s, safe_point(), &removed), 0);
    assert_int_equal(removed, 5 * (VERSIONS - 3));
}

static void big_sweep_leaves_no_tombstone_to_step_over(void **state)
{
    struct tu_store *t = *state;
    big_sweep(t);
    assert_int_equal(deletes_skipped(t, 5), 0);
}

/* The in-memory engine has no compaction (-ENOTSUP): the sweep succeeds
 * all the same and reads answer as after any sweep. */
static void big_sweep_without_compaction(void **state)
{
    struct tu_store *t = *state;
    big_sweep(t);
    scan_newest(t, 5);
    assert_int_equal(mvcc_gc_compact(t->s, NULL, 0, NULL, 0), -ENOTSUP);
}

static void small_sweep_leaves_compaction_to_rocksdb(void **state)
{
    struct tu_store *t = *state;
    write_versions(t, "s");
    uint64_t removed = 0;
    assert_int_equal(mvcc_gc(t->s, safe_point(), &removed), 0);
    assert_int_equal(removed, VERSIONS - 3); /* below the 1024 */
    /* the scan steps past the 3 versions left, over every tombstone */
    assert_int_equal(deletes_skipped(t, 1), VERSIONS - 3);
    /* mvcc_gc_compact over another range leaves them; over [s, t) they
     * go (what a caller of mvcc_gc_range does once removals add up) */
    assert_int_equal(mvcc_gc_compact(t->s, "a", 1, "b", 1), 0);
    assert_int_equal(deletes_skipped(t, 1), VERSIONS - 3);
    assert_int_equal(mvcc_gc_compact(t->s, "s", 1, "t", 1), 0);
    assert_int_equal(deletes_skipped(t, 1), 0);
    assert_int_equal(mvcc_gc_compact(NULL, "s", 1, "t", 1), -EINVAL);
    assert_int_equal(mvcc_gc_compact(t->s, NULL, 1, "t", 1), -EINVAL);
    assert_int_equal(mvcc_gc_compact(t->s, "s", 1, NULL, 1), -EINVAL);
}

/* mvcc_engine_compact itself: arguments, the in-memory engine's
 * -ENOTSUP, and RocksDB's data unchanged by it. */
static void compact_keeps_the_data(void **state)
{
    struct tu_fix *f = *state;
    assert_int_equal(mvcc_engine_put(f->eng, MVCC_CF_WRITE, "k", 1, "v", 1),
                     0);
    assert_int_equal(mvcc_engine_compact(f->eng, -1, NULL, 0, NULL, 0),
                     -EINVAL);
    assert_int_equal(mvcc_engine_compact(f->eng, MVCC_CF_WRITE, NULL, 3,
                                         NULL, 0),
                     -EINVAL);
    int want = f->kind == TU_MEM ? -ENOTSUP : 0;
    assert_int_equal(mvcc_engine_compact(f->eng, MVCC_CF_WRITE, NULL, 0,
                                         NULL, 0),
                     want);
    assert_int_equal(mvcc_engine_compact(f->eng, MVCC_CF_WRITE, "a", 1,
                                         "z", 1),
                     want);
    uint8_t *v = NULL;
    size_t vl = 0;
    assert_int_equal(
        mvcc_engine_get(f->eng, NULL, MVCC_CF_WRITE, "k", 1, &v, &vl), 0);
    assert_int_equal(vl, 1);
    assert_memory_equal(v, "v", 1);
    mvcc_free(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        {"rockslt/big_sweep_leaves_no_tombstone_to_step_over",
         big_sweep_leaves_no_tombstone_to_step_over, tu_store_setup,
         tu_store_teardown, &tu_kind_rocks_lt},
        {"rockslt/small_sweep_leaves_compaction_to_rocksdb",
         small_sweep_leaves_compaction_to_rocksdb, tu_store_setup,
         tu_store_teardown, &tu_kind_rocks_lt},
        {"mem/big_sweep_without_compaction", big_sweep_without_compaction,
         tu_store_setup, tu_store_teardown, &tu_kind_mem},
        TU_BOTH(compact_keeps_the_data),
    };
    return cmocka_run_group_tests_name("libmvcc/gccompact", tests, NULL,
                                       NULL);
}
