/* test_recent.c: the recent-writes table (src/recent.c) that lets a store
 * with a lock table skip prewrite's conflict seek (DESIGN.md, "Recent
 * writes"): its bounds and eviction exactly, a store reopened over
 * existing records that must still find every conflict, and a random
 * history run on a store with the table and one without, which must
 * answer every command identically.
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

static mvcc_ts bound_of(struct mvcc__recent *t, const char *k)
{
    return mvcc__rw_bound(t, (const uint8_t *)k, strlen(k));
}

static void note(struct mvcc__recent *t, const char *k, mvcc_ts ts)
{
    mvcc__rw_note(t, (const uint8_t *)k, strlen(k), ts);
}

static void table_bounds(void **state)
{
    (void)state;
    struct mvcc__recent *t;
    assert_int_equal(mvcc__rw_create(100, &t), 0);
    assert_int_equal(bound_of(t, "a"), 100); /* the floor */
    note(t, "a", 50);                         /* exact, even below it */
    assert_int_equal(bound_of(t, "a"), 50);
    note(t, "a", 200);
    assert_int_equal(bound_of(t, "a"), 200);
    note(t, "a", 150); /* never lowered */
    assert_int_equal(bound_of(t, "a"), 200);
    assert_int_equal(bound_of(t, "b"), 100);

    /* A key too long to keep raises its partition's floor instead. */
    char longk[100];
    memset(longk, 'x', sizeof longk - 1);
    longk[sizeof longk - 1] = '\0';
    note(t, longk, 777);
    assert_true(bound_of(t, longk) >= 777);
    assert_int_equal(bound_of(t, "a"), 200);
    mvcc__rw_destroy(t);
}

static void table_eviction(void **state)
{
    (void)state;
    struct mvcc__recent *t;
    assert_int_equal(mvcc__rw_create(0, &t), 0);
    /* 16 partitions x 256 entries: 20000 keys evict most of them. Every
     * bound stays at or above the key's ts, and at or below the newest ts
     * noted; the last key noted is exact. */
    char k[16];
    for (int i = 1; i <= 20000; i++) {
        snprintf(k, sizeof k, "k%05d", i);
        note(t, k, (mvcc_ts)i * 10);
    }
    int exact = 0;
    for (int i = 1; i <= 20000; i++) {
        snprintf(k, sizeof k, "k%05d", i);
        mvcc_ts b = bound_of(t, k);
        assert_true(b >= (mvcc_ts)i * 10);
        assert_true(b <= 200000);
        exact += b == (mvcc_ts)i * 10;
    }
    assert_int_equal(bound_of(t, "k20000"), 200000);
    /* At most every slot holds its key's exact ts; the evicted ones are
     * answered by floors, which are then not below their ts. */
    assert_true(exact <= 16 * 256 + 16);
    assert_true(exact >= 256);
    /* Never noted: a floor, which eviction has raised. */
    assert_true(bound_of(t, "zzz") > 0);
    mvcc__rw_destroy(t);
}

static int commit1(struct mvcc_store *s, const char *k, mvcc_ts start_ts,
                   mvcc_ts commit_ts, struct mvcc_result *r)
{
    struct mvcc_key key = {k, strlen(k)};
    return mvcc_commit(s, &key, 1, start_ts, commit_ts, r);
}

/* A store reopened (with a lock table) over records it did not write
 * knows no bound for them: an old prewrite still conflicts. */
static void reopened_store_finds_conflicts(void **state)
{
    int kind = *(int *)*state == TU_MEM ? TU_MEM_LT : TU_ROCKS_LT;
    struct tu_fix f;
    assert_int_equal(tu_fix_open(&f, kind), 0);
    struct mvcc_store_opts so;
    tu_store_opts(kind, &so);
    assert_true(so.lock_table);
    struct mvcc_store *s;
    struct mvcc_result r;
    mvcc_result_init(&r);
    assert_int_equal(mvcc_store_open(f.eng, &so, &s), 0);
    assert_int_equal(tu_prewrite_put(s, "k", 10, &r), 0);
    assert_int_equal(commit1(s, "k", 10, 20, &r), 0);
    /* The same store: noted at commit. */
    assert_int_equal(tu_prewrite_put(s, "k", 15, &r), MVCC_CONFLICT);
    assert_int_equal(r.conflict_commit_ts, 20);
    mvcc_store_close(s);

    assert_int_equal(mvcc_store_open(f.eng, &so, &s), 0);
    assert_int_equal(tu_prewrite_put(s, "k", 15, &r), MVCC_CONFLICT);
    assert_int_equal(r.conflict_start_ts, 10);
    assert_int_equal(r.conflict_commit_ts, 20);
    assert_int_equal(tu_prewrite_put(s, "k", 30, &r), 0); /* seeks, then notes */
    assert_int_equal(commit1(s, "k", 30, 40, &r), 0);
    assert_int_equal(tu_prewrite_put(s, "k", 35, &r), MVCC_CONFLICT);
    assert_int_equal(r.conflict_commit_ts, 40);
    /* A rollback record at start_ts stops a late prewrite. */
    struct mvcc_key key = {"late", 4};
    assert_int_equal(mvcc_batch_rollback(s, &key, 1, 50, &r), 0);
    assert_int_equal(tu_prewrite_put(s, "late", 50, &r), MVCC_CONFLICT);
    assert_int_equal(r.conflict_commit_ts, 50);
    mvcc_result_reset(&r);
    mvcc_store_close(s);
    tu_fix_close(&f);
}

/* The same random history on a store without and one with a lock table
 * (and so the recent-writes table): 8 hot keys and 6000 cold ones (more
 * than the table holds), transactions of 1-3 keys prewritten at a start_ts
 * that is often stale, then committed, rolled back or left for later. */
struct pending
{
    char keys[3][16]; /* the transaction's keys */
    int n;            /* how many were prewritten */
    mvcc_ts start_ts; /* its start */
};

static void same_answers(void **state)
{
    int base = *(int *)*state;
    struct tu_fix f[2];
    struct mvcc_store *s[2];
    struct mvcc_result r[2];
    for (int i = 0; i < 2; i++) {
        int kind = i == 0 ? base : base == TU_MEM ? TU_MEM_LT : TU_ROCKS_LT;
        assert_int_equal(tu_fix_open(&f[i], kind), 0);
        struct mvcc_store_opts so;
        tu_store_opts(kind, &so);
        assert_int_equal(mvcc_store_open(f[i].eng, &so, &s[i]), 0);
        mvcc_result_init(&r[i]);
    }
    unsigned seed = 4242;
    mvcc_ts now = 100;
    struct pending pend[16];
    int npend = 0;
    int counts[4] = {0, 0, 0, 0}; /* ok, conflict, locked, other */
    int finished[2] = {0, 0};     /* committed, rolled back */
    for (int step = 0; step < 3000; step++) {
        struct pending p;
        memset(&p, 0, sizeof p);
        int nk = 1 + (int)(tu_rand(&seed) % 3);
        for (int i = 0; i < nk; i++) {
            unsigned x = tu_rand(&seed);
            if (x % 3 == 0)
                snprintf(p.keys[i], 16, "hot%u", (x >> 2) % 8);
            else
                snprintf(p.keys[i], 16, "c%05u", (x >> 2) % 6000);
        }
        /* Start now, or up to 40 ts ago (conflicts with what committed
         * since). */
        now += 2;
        p.start_ts = now - (tu_rand(&seed) % 2 ? 0 : tu_rand(&seed) % 40);
        struct mvcc_mutation m[3];
        for (int i = 0; i < nk; i++)
            m[i] = (struct mvcc_mutation){MVCC_OP_PUT, p.keys[i],
                                          strlen(p.keys[i]), "v", 1, false};
        struct mvcc_prewrite_req req;
        memset(&req, 0, sizeof req);
        req.mutations = m;
        req.n = (size_t)nk;
        req.primary = p.keys[0];
        req.primary_len = strlen(p.keys[0]);
        req.start_ts = p.start_ts;
        req.lock_ttl = 3000;
        int rc[2];
        for (int i = 0; i < 2; i++)
            rc[i] = mvcc_prewrite(s[i], &req, &r[i]);
        assert_int_equal(rc[0], rc[1]);
        assert_int_equal(r[0].conflict_start_ts, r[1].conflict_start_ts);
        assert_int_equal(r[0].conflict_commit_ts, r[1].conflict_commit_ts);
        assert_int_equal(r[0].nlocks, r[1].nlocks);
        counts[rc[0] == 0                ? 0
               : rc[0] == MVCC_CONFLICT ? 1
               : rc[0] == MVCC_LOCKED   ? 2
                                        : 3]++;
        if (rc[0] == 0) {
            p.n = nk;
            if (npend == 16 || tu_rand(&seed) % 2 == 0) {
                /* Finish one pending (or this) transaction. */
                struct pending q = p;
                if (npend > 0 && tu_rand(&seed) % 2 == 0) {
                    int j = (int)(tu_rand(&seed) % (unsigned)npend);
                    q = pend[j];
                    pend[j] = p;
                }
                struct mvcc_key keys[3];
                for (int i = 0; i < q.n; i++)
                    keys[i] = (struct mvcc_key){q.keys[i],
                                                strlen(q.keys[i])};
                now += 2;
                bool rollback = tu_rand(&seed) % 4 == 0;
                for (int i = 0; i < 2; i++)
                    rc[i] = rollback ? mvcc_batch_rollback(s[i], keys,
                                                           (size_t)q.n,
                                                           q.start_ts, &r[i])
                                     : mvcc_commit(s[i], keys, (size_t)q.n,
                                                   q.start_ts, now, &r[i]);
                assert_int_equal(rc[0], 0);
                assert_int_equal(rc[1], 0);
                finished[rollback]++;
            } else {
                pend[npend++] = p;
            }
        }
    }
    /* The history's outcomes (the same on both stores and engines). */
    assert_int_equal(counts[0], 1884);
    assert_int_equal(counts[1], 78);
    assert_int_equal(counts[2], 1038);
    assert_int_equal(counts[3], 0);
    assert_int_equal(finished[0], 1409);
    assert_int_equal(finished[1], 459);
    for (int i = 0; i < 2; i++) {
        mvcc_result_reset(&r[i]);
        mvcc_store_close(s[i]);
        tu_fix_close(&f[i]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(table_bounds),
        cmocka_unit_test(table_eviction),
        TU_BOTH_KIND(reopened_store_finds_conflicts),
        TU_BOTH_KIND(same_answers),
    };
    return cmocka_run_group_tests_name("libmvcc/recent", tests, NULL, NULL);
}
