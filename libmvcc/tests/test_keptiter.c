/* test_keptiter.c: reads of a lock-table store reuse a kept write-CF
 * iterator while nothing was written (DESIGN.md, "Reads": kept
 * iterators). Each case makes the kept iterator while a transaction is
 * in flight, lets that transaction finish, and reads again: the read must
 * see the finished state, never the kept iterator's older view.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "testutil.h"

#define K(x) (x), strlen(x)
#define TS(ms) TU_TS(ms, 0)

/* k reads as want (NULL: not found) at ts, through Get and through a
 * Scan of [k, k + "\xff"). */
static void reads_as(struct tu_store *t, const char *k, mvcc_ts ts,
                     const char *want)
{
    int rc = mvcc_get(t->s, NULL, K(k), ts, &t->r);
    if (want == NULL)
        assert_int_equal(rc, MVCC_NOTFOUND);
    else {
        assert_int_equal(rc, 0);
        assert_int_equal(t->r.pairs[0].value_len, strlen(want));
        assert_memory_equal(t->r.pairs[0].value, want, strlen(want));
    }
    char end[32];
    snprintf(end, sizeof end, "%s\xff", k);
    for (int rev = 0; rev < 2; rev++) {
        struct mvcc_read_opts ro = {.reverse = rev};
        assert_int_equal(mvcc_scan(t->s, &ro, K(k), K(end), ts, &t->r), 0);
        assert_int_equal(t->r.npairs, want ? 1 : 0);
        if (want)
            assert_memory_equal(t->r.pairs[0].value, want, strlen(want));
    }
}

static void commit(struct tu_store *t, const char *k, mvcc_ts start,
                   mvcc_ts cts)
{
    struct mvcc_key key = {k, strlen(k)};
    assert_int_equal(mvcc_commit(t->s, &key, 1, start, cts, &t->r), 0);
}

/* A lock is in place when the kept iterator is made; its commit below the
 * reader's ts lands after: the next read sees the committed value. */
static void commit_after_view(void **state)
{
    struct tu_store *t = *state;
    assert_int_equal(tu_prewrite_kv(t->s, "a", "1", TS(1), false, false,
                                    &t->r),
                     0);
    commit(t, "a", TS(1), TS(2));
    assert_int_equal(tu_prewrite_kv(t->s, "a", "2", TS(5), false, false,
                                    &t->r),
                     0);
    /* Reads of other keys make (and keep) the iterator; a is locked. */
    reads_as(t, "b", TS(10), NULL);
    reads_as(t, "a", TS(3), "1");
    assert_int_equal(mvcc_get(t->s, NULL, K("a"), TS(10), &t->r),
                     MVCC_LOCKED);
    commit(t, "a", TS(5), TS(7));
    reads_as(t, "a", TS(10), "2");
    reads_as(t, "a", TS(6), "1");
}

/* A delete committed after the view: the key reads as gone. */
static void delete_after_view(void **state)
{
    struct tu_store *t = *state;
    assert_int_equal(tu_prewrite_kv(t->s, "d", "x", TS(1), false, false,
                                    &t->r),
                     0);
    commit(t, "d", TS(1), TS(2));
    assert_int_equal(tu_prewrite_kv(t->s, "d", NULL, TS(5), false, false,
                                    &t->r),
                     0);
    reads_as(t, "e", TS(10), NULL);
    commit(t, "d", TS(5), TS(7));
    reads_as(t, "d", TS(10), NULL);
    reads_as(t, "d", TS(4), "x");
}

/* A rollback after the view, then a 1PC write: each read shows what a
 * fresh view would. */
static void rollback_and_one_pc_after_view(void **state)
{
    struct tu_store *t = *state;
    assert_int_equal(tu_prewrite_kv(t->s, "r", "no", TS(5), false, false,
                                    &t->r),
                     0);
    reads_as(t, "s", TS(10), NULL);
    struct mvcc_key key = {"r", 1};
    assert_int_equal(mvcc_batch_rollback(t->s, &key, 1, TS(5), &t->r), 0);
    reads_as(t, "r", TS(10), NULL);
    /* The reads above raised max_ts to TS(10): 1PC commits above it. */
    assert_int_equal(tu_prewrite_kv(t->s, "r", "yes", TS(8), false, true,
                                    &t->r),
                     0);
    mvcc_ts cts = t->r.commit_ts;
    assert_true(cts > TS(10));
    reads_as(t, "r", TS(10), NULL);
    reads_as(t, "r", cts, "yes");
}

/* Scans of different bounds through one kept iterator stop at their own
 * bounds, both ways. */
static void scans_keep_their_bounds(void **state)
{
    struct tu_store *t = *state;
    const char *keys[] = {"k1", "k2", "k3", "k4", "k5"};
    for (int i = 0; i < 5; i++) {
        assert_int_equal(tu_prewrite_kv(t->s, keys[i], keys[i],
                                        TS(1 + 2 * i), false, false, &t->r),
                         0);
        commit(t, keys[i], TS(1 + 2 * i), TS(2 + 2 * i));
    }
    static const struct
    {
        const char *lo, *hi; /* scan bounds (hi NULL: none) */
        int first, n;        /* keys[first..first+n) expected */
    } cases[] = {
        {"k2", "k4", 1, 2}, {"k0", "k2", 0, 1}, {"k4", NULL, 3, 2},
        {"", "k1", 0, 0},   {"k3", "k3\x01", 2, 1}, {"k5\x01", NULL, 0, 0},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++)
        for (int rev = 0; rev < 2; rev++) {
            struct mvcc_read_opts ro = {.reverse = rev};
            const char *hi = cases[c].hi;
            assert_int_equal(mvcc_scan(t->s, &ro, K(cases[c].lo), hi,
                                       hi ? strlen(hi) : 0, TS(100), &t->r),
                             0);
            assert_int_equal(t->r.npairs, (size_t)cases[c].n);
            for (int i = 0; i < cases[c].n; i++) {
                int want = cases[c].first + (rev ? cases[c].n - 1 - i : i);
                assert_memory_equal(t->r.pairs[i].key, keys[want], 2);
            }
        }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        TU_BOTH_STORE(commit_after_view),
        TU_BOTH_STORE(delete_after_view),
        TU_BOTH_STORE(rollback_and_one_pc_after_view),
        TU_BOTH_STORE(scans_keep_their_bounds),
    };
    return cmocka_run_group_tests_name("libmvcc/keptiter", tests, NULL, NULL);
}
