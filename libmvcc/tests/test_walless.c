/* test_walless.c: a prewrite whose batch is only its transaction's primary
 * lock is kept in the lock table alone (DESIGN.md, "Failure and
 * recovery": lone primary locks; without a table it would skip RocksDB's
 * WAL). A child process writes a store's records and dies without closing
 * it (a crash); the parent reopens the database and finds exactly the
 * logged records: the lone primary locks are gone and cannot commit,
 * every committed write and every other lock is there, and so is a lone
 * primary's lock that a reader's push rewrote before the crash.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "testutil.h"

#define K(x) (x), strlen(x)
#define TS(ms) TU_TS(ms, 0)

static int open_store(const char *dir, bool sync, struct mvcc_engine **eng,
                      struct mvcc_store **s)
{
    struct mvcc_rocks_opts o;
    memset(&o, 0, sizeof o);
    o.path = dir;
    o.block_cache_bytes = (size_t)8 << 20;
    o.lock_cf_write_only = true;
    int rc = mvcc_rocksengine_open(&o, eng, NULL, 0);
    if (rc != 0)
        return rc;
    struct mvcc_store_opts so;
    memset(&so, 0, sizeof so);
    so.lock_table = true;
    so.sync = sync;
    rc = mvcc_store_open(*eng, &so, s);
    if (rc != 0)
        mvcc_engine_destroy(*eng);
    return rc;
}

/* Prewrites the given keys of one transaction (primary first) in one
 * request; primary names the primary when it is not among them. */
static int prewrite(struct mvcc_store *s, const char *primary,
                    const char *const *keys, size_t n, mvcc_ts start,
                    struct mvcc_result *r)
{
    struct mvcc_mutation m[2];
    for (size_t i = 0; i < n; i++)
        m[i] = (struct mvcc_mutation){MVCC_OP_PUT, keys[i], strlen(keys[i]),
                                      "v", 1, false};
    return tu_prewrite_muts(s, m, n, primary, start, r);
}

static int commit(struct mvcc_store *s, const char *k, mvcc_ts start,
                  mvcc_ts cts, struct mvcc_result *r)
{
    struct mvcc_key key = {k, strlen(k)};
    return mvcc_commit(s, &key, 1, start, cts, r);
}

/* The child: writes, then dies without closing anything. Its exit code
 * is the first step that failed (0: all done). */
static int crash_after_writes(const char *dir, bool sync)
{
    struct mvcc_engine *eng;
    struct mvcc_store *s;
    struct mvcc_result r;
    mvcc_result_init(&r);
    if (open_store(dir, sync, &eng, &s) != 0)
        return 10;
    /* "done": a lone primary, prewritten and committed. */
    if (tu_prewrite_kv(s, "done", "1", TS(1), false, false, &r) != 0)
        return 11;
    if (commit(s, "done", TS(1), TS(2), &r) != 0)
        return 12;
    /* "solo": a lone primary, prewritten only: off the log. */
    if (tu_prewrite_kv(s, "solo", "2", TS(3), false, false, &r) != 0)
        return 13;
    /* "p" and "s" in one request: logged. */
    const char *ps[] = {"p", "s"};
    if (prewrite(s, "p", ps, 2, TS(5), &r) != 0)
        return 14;
    /* "s2" alone, its primary elsewhere: logged. */
    const char *s2[] = {"s2"};
    if (prewrite(s, "p2", s2, 1, TS(7), &r) != 0)
        return 15;
    /* A 1PC write is a commit: logged. */
    if (tu_prewrite_kv(s, "one", "3", TS(9), false, true, &r) != 0)
        return 16;
    /* A lone primary whose min_commit_ts a reader pushed: the push
     * rewrites the lock through the engine, logged. */
    if (tu_prewrite_kv(s, "pushed", "4", TS(11), false, false, &r) != 0)
        return 17;
    struct mvcc_check_txn_req cr = {.primary = "pushed",
                                    .primary_len = 6,
                                    .lock_ts = TS(11),
                                    .caller_start_ts = TS(12),
                                    .current_ts = TS(12)};
    if (mvcc_check_txn_status(s, &cr, &r) != 0 ||
        r.action != MVCC_ACT_MIN_COMMIT_TS_PUSHED)
        return 18;
    return 0;
}

static void has_lock(struct mvcc_store *s, const char *k, mvcc_ts start,
                     struct mvcc_result *r)
{
    assert_int_equal(mvcc_get(s, NULL, K(k), MVCC_TS_MAX - 1, r),
                     MVCC_LOCKED);
    assert_int_equal(r->locks[0].start_ts, start);
}

static void run(bool sync)
{
    char dir[] = "/tmp/mvcc-walless-XXXXXX";
    assert_non_null(mkdtemp(dir));
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        _exit(crash_after_writes(dir, sync));
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);

    struct mvcc_engine *eng;
    struct mvcc_store *s;
    struct mvcc_result r;
    mvcc_result_init(&r);
    assert_int_equal(open_store(dir, sync, &eng, &s), 0);
    /* Committed: there, without a lock. */
    assert_int_equal(mvcc_get(s, NULL, K("done"), TS(100), &r), 0);
    assert_memory_equal(r.pairs[0].value, "1", 1);
    assert_int_equal(mvcc_get(s, NULL, K("one"), MVCC_TS_MAX - 1, &r), 0);
    assert_memory_equal(r.pairs[0].value, "3", 1);
    /* The lone primary's lock is gone: not visible, and its commit
     * finds neither lock nor record. */
    assert_int_equal(mvcc_get(s, NULL, K("solo"), MVCC_TS_MAX - 1, &r),
                     MVCC_NOTFOUND);
    assert_int_equal(commit(s, "solo", TS(3), TS(4), &r),
                     MVCC_TXN_NOT_FOUND);
    struct mvcc_check_txn_req cr = {.primary = "solo",
                                    .primary_len = 4,
                                    .lock_ts = TS(3),
                                    .current_ts = TS(4),
                                    .rollback_if_not_exist = true};
    assert_int_equal(mvcc_check_txn_status(s, &cr, &r), 0);
    assert_int_equal(r.status, MVCC_TXN_ROLLED_BACK);
    assert_int_equal(r.action, MVCC_ACT_LOCK_NOT_EXIST_ROLLBACK);
    assert_int_equal(commit(s, "solo", TS(3), TS(4), &r), MVCC_ROLLED_BACK);
    /* The pushed lone primary's lock is back, push included. */
    has_lock(s, "pushed", TS(11), &r);
    assert_int_equal(r.locks[0].min_commit_ts, TS(12) + 1);
    assert_int_equal(commit(s, "pushed", TS(11), TS(12), &r),
                     MVCC_COMMIT_TS_EXPIRED);
    assert_int_equal(commit(s, "pushed", TS(11), TS(13), &r), 0);
    assert_int_equal(mvcc_get(s, NULL, K("pushed"), TS(13), &r), 0);
    assert_memory_equal(r.pairs[0].value, "4", 1);
    /* Every other lock survived. */
    has_lock(s, "p", TS(5), &r);
    has_lock(s, "s", TS(5), &r);
    has_lock(s, "s2", TS(7), &r);
    assert_int_equal(commit(s, "p", TS(5), TS(6), &r), 0);
    mvcc_result_reset(&r);
    mvcc_store_close(s);
    mvcc_engine_destroy(eng);
    tu_rmtree(dir);
}

static void lone_primary_lost_in_crash(void **state)
{
    (void)state;
    run(false);
}

/* The same on a store that syncs every batch (RocksDB refuses a synced
 * write without its log: the lone primary's batch is not synced). */
static void lone_primary_lost_in_crash_sync(void **state)
{
    (void)state;
    run(true);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(lone_primary_lost_in_crash),
        cmocka_unit_test(lone_primary_lost_in_crash_sync),
    };
    return cmocka_run_group_tests_name("libmvcc/walless", tests, NULL, NULL);
}
