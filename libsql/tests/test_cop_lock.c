/* test_cop_lock.c: a coprocessor scan that meets a lock its transaction's
 * reads skip. A writer's secondary lock whose primary a reader pushed
 * above its ts stays after the reader's own get went past it; the next
 * cop request carries the transaction's resolved locks and skips it too.
 * A store that ignores that list (the requests stripped of it) meets the
 * lock again; the writer then commits its primary and dies, and the scan
 * must get the lock resolved and finish. The requests are counted exactly
 * (cop calls, CheckTxnStatus, ResolveLock). DESIGN.md "Coprocessor",
 * locks met again.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <mvcc.h>

#include "catalog.h"
#include "cop.h"
#include "session.h"
#include "sql_int.h"
#include "sqlfx.h"
#include "tablecodec.h"

#define GIVE_UP 50 /* cop calls: past this the scan is looping */

struct fx
{
    struct mvcc_engine *eng;     /* memory engine */
    struct mvcc_store *st;       /* its store, one shard */
    struct mvcc_transport tr;    /* the local transport, cop served */
    struct mvcc_local_tso tso;   /* timestamps */
    struct sqlfx f;              /* the server */
    struct sqlfx_conn c;         /* one connection */
    uint8_t s[SQL_TC_ROW_KEY_LEN]; /* the writer's secondary: row 5 */
    uint8_t p[4];                /* its primary, outside the table */
    mvcc_ts start_ts;            /* the writer's */
    unsigned commit_at;          /* the cop call before which the writer
                                    commits its primary (0: never) */
    unsigned cops;               /* cop calls */
    unsigned checks;             /* CheckTxnStatus calls */
    unsigned resolves;           /* ResolveLock calls */
    int commit_rc;               /* the writer's commit */
    bool strip;                  /* serve requests without their resolved
                                    locks (a store that ignores them) */
    unsigned carried;            /* cop calls whose request carried some */
    bool fail;                   /* every cop call fails (-EIO) */
};

static struct fx *g;                /* the running test's */
static struct mvcc_transport orig;  /* the local transport's calls */

static int counted_cop(void *ctx, struct mvcc_store *s, const void *start,
                       size_t sl, const void *end, size_t el, mvcc_ts ts,
                       const void *req, size_t req_len, uint8_t **resp,
                       size_t *resp_len, struct mvcc_result *res)
{
    struct fx *f = ctx;
    unsigned n = __atomic_add_fetch(&f->cops, 1, __ATOMIC_SEQ_CST);
    if (n > GIVE_UP || f->fail)
        return -EIO;
    if (n == f->commit_at) { /* the writer commits its primary, dies */
        mvcc_ts cts;
        mvcc_local_tso_next(&f->tso, &cts);
        struct mvcc_key pk = {f->p, sizeof(f->p)};
        struct mvcc_result r;
        mvcc_result_init(&r);
        f->commit_rc = mvcc_commit(f->st, &pk, 1, f->start_ts, cts, &r);
        mvcc_result_reset(&r);
    }
    struct sql_arena *a = sql__arena_create(4096);
    struct sql_cop_req q;
    struct sql__buf b = {0};
    assert_non_null(a);
    assert_int_equal(sql__cop_req_decode(req, req_len, a, &q), 0);
    if (q.nresolved)
        __atomic_add_fetch(&f->carried, 1, __ATOMIC_SEQ_CST);
    if (f->strip && q.nresolved) {
        q.resolved = NULL;
        q.nresolved = 0;
        assert_int_equal(sql__cop_req_encode(&q, &b), 0);
        req = b.p;
        req_len = b.len;
    }
    int rc = sql_cop_run(NULL, s, start, sl, end, el, ts, req, req_len, resp,
                         resp_len, res);
    sql__buf_free(&b);
    sql__arena_destroy(a);
    return rc;
}

static int counted_check(void *ctx, uint64_t shard,
                         const struct mvcc_check_txn_req *req,
                         struct mvcc_result *res)
{
    __atomic_add_fetch(&g->checks, 1, __ATOMIC_SEQ_CST);
    return orig.check_txn_status(ctx, shard, req, res);
}

static int counted_resolve(void *ctx, uint64_t shard, mvcc_ts start_ts,
                           mvcc_ts commit_ts, const void *start, size_t sl,
                           const void *end, size_t el,
                           struct mvcc_result *res)
{
    __atomic_add_fetch(&g->resolves, 1, __ATOMIC_SEQ_CST);
    return orig.resolve_lock(ctx, shard, start_ts, commit_ts, start, sl, end,
                             el, res);
}

/* Plain scans and gets fail as cop calls do when the test says so. */
static int failing_scan(void *ctx, uint64_t shard,
                        const struct mvcc_read_opts *ro, const void *start,
                        size_t sl, const void *end, size_t el, mvcc_ts ts,
                        struct mvcc_result *res)
{
    if (g->fail)
        return -EIO;
    return orig.scan(ctx, shard, ro, start, sl, end, el, ts, res);
}

static int failing_get(void *ctx, uint64_t shard,
                       const struct mvcc_read_opts *ro,
                       const struct mvcc_key *keys, size_t n, mvcc_ts ts,
                       struct mvcc_result *res)
{
    if (g->fail)
        return -EIO;
    return orig.batch_get(ctx, shard, ro, keys, n, ts, res);
}

/* Table d.t, rows 1..10 (a = id); then the writer's prewrite: primary
 * "\xffpri" (outside the table), secondary row 5 (its own value again),
 * a TTL that does not pass during the test. */
static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    g = f;
    assert_int_equal(mvcc_memengine_create(&f->eng), 0);
    struct mvcc_store_opts so = {.lock_table = true};
    assert_int_equal(mvcc_store_open(f->eng, &so, &f->st), 0);
    assert_int_equal(mvcc_local_transport_init(&f->tr, &f->st, 1, NULL), 0);
    mvcc_local_transport_set_cop(&f->tr, counted_cop, f);
    orig = f->tr;
    struct mvcc_client_opts co = {.transport = f->tr,
                                  .tso = mvcc_local_tso_next,
                                  .tso_ctx = &f->tso,
                                  .resolve_budget_ms = 5000};
    co.transport.check_txn_status = counted_check;
    co.transport.resolve_lock = counted_resolve;
    co.transport.scan = failing_scan;
    co.transport.batch_get = failing_get;
    struct sql_server_options o = {.cluster = &co};
    char err[256] = "";
    if (sql_server_open(&o, &f->f.srv, err, sizeof(err)) != 0)
        fail_msg("sql_server_open: %s", err);
    sqlfx_connect(&f->f, &f->c, 1);
    assert_string_equal(sqlfx_q(&f->c, "CREATE DATABASE d"), "OK 1 0 0");
    assert_string_equal(sqlfx_q(&f->c, "USE d"), "OK 0 0 0");
    assert_string_equal(sqlfx_q(&f->c, "CREATE TABLE t (id INT PRIMARY KEY, "
                                       "a INT)"),
                        "OK 0 0 0");
    assert_string_equal(sqlfx_q(&f->c, "INSERT INTO t VALUES (1, 1), (2, 2), "
                                       "(3, 3), (4, 4), (5, 5), (6, 6), "
                                       "(7, 7), (8, 8), (9, 9), (10, 10)"),
                        "OK 10 0 0");
    struct sql_dbinfo *db = sql__catalog_db(f->f.srv->cat, "d");
    struct sql_tableinfo *t = sql__catalog_table(f->f.srv->cat, db->id, "t");
    sql__tc_row_key(f->s, t->id, 5);
    memcpy(f->p, "\xffpri", 4);
    mvcc_ts now;
    mvcc_local_tso_next(&f->tso, &now);
    struct mvcc_result r;
    mvcc_result_init(&r);
    assert_int_equal(mvcc_get(f->st, NULL, f->s, sizeof(f->s), now, &r), 0);
    struct mvcc_mutation m[2] = {
        {.op = MVCC_OP_PUT, .key = f->p, .key_len = sizeof(f->p),
         .value = "p", .value_len = 1},
        {.op = MVCC_OP_PUT, .key = f->s, .key_len = sizeof(f->s),
         .value = r.pairs[0].value, .value_len = r.pairs[0].value_len}};
    mvcc_local_tso_next(&f->tso, &f->start_ts);
    struct mvcc_prewrite_req pw = {.mutations = m, .n = 2, .primary = f->p,
                                   .primary_len = sizeof(f->p),
                                   .start_ts = f->start_ts,
                                   .lock_ttl = 600000};
    struct mvcc_result pr;
    mvcc_result_init(&pr);
    assert_int_equal(mvcc_prewrite(f->st, &pw, &pr), 0);
    mvcc_result_reset(&pr);
    mvcc_result_reset(&r);
    f->cops = f->checks = f->resolves = 0;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    sqlfx_disconnect(&f->c);
    sqlfx_close(&f->f);
    mvcc_local_transport_free(&f->tr);
    mvcc_store_close(f->st);
    mvcc_engine_destroy(f->eng);
    free(f);
    g = NULL;
    return 0;
}

/* Whether key k of the store is locked now. */
static bool locked(struct fx *f, const uint8_t *k, size_t kl)
{
    struct mvcc_result r;
    mvcc_result_init(&r);
    mvcc_ts now;
    mvcc_local_tso_next(&f->tso, &now);
    int rc = mvcc_scan_lock(f->st, now, k, kl, NULL, 0, 0, &r);
    bool l = rc == 0 && r.nlocks > 0 && r.locks[0].key_len == kl &&
             memcmp(r.locks[0].key, k, kl) == 0;
    mvcc_result_reset(&r);
    return l;
}

/* The scan meets row 5's lock: its get pushes the primary (CheckTxnStatus
 * 1) and skips the lock; the second cop request carries the writer's
 * start_ts and skips it next to the data. Nothing is resolved: the lock
 * stays for its live writer, and row 5 reads as before it. */
static void pushed_lock_is_skipped(void **state)
{
    struct fx *f = *state;
    assert_true(locked(f, f->s, sizeof(f->s)));
    const char *out = sqlfx_q(&f->c, "SELECT id, a FROM t WHERE a > 3");
    assert_string_equal(out, "4|4\n5|5\n6|6\n7|7\n8|8\n9|9\n10|10");
    assert_int_equal(f->cops, 2);
    assert_int_equal(f->carried, 1);
    assert_int_equal(f->checks, 1);
    assert_int_equal(f->resolves, 0);
    assert_true(locked(f, f->s, sizeof(f->s)));
}

/* As a store that ignores the resolved locks would serve it: the scan
 * meets row 5's lock: its get pushes the primary (CheckTxnStatus
 * 1) and skips the lock; the cop request meets it again and the lock is
 * asked about by a new transaction's read (CheckTxnStatus 2, pushed
 * again); the writer commits its primary before the third call, which
 * meets the lock once more: the new read finds the primary committed
 * (CheckTxnStatus 3) and commits row 5's lock (ResolveLock 1); the fourth
 * call answers. The writer's row 5 is above the scan's ts: the old row. */
static void pushed_lock_met_again_is_resolved(void **state)
{
    struct fx *f = *state;
    f->commit_at = 3;
    f->strip = true;
    assert_true(locked(f, f->s, sizeof(f->s)));
    const char *out = sqlfx_q(&f->c, "SELECT id, a FROM t WHERE a > 0");
    assert_string_equal(out, "1|1\n2|2\n3|3\n4|4\n5|5\n6|6\n7|7\n8|8\n9|9\n"
                             "10|10");
    assert_int_equal(f->commit_rc, 0);
    assert_int_equal(f->cops, 4);
    assert_int_equal(f->carried, 3); /* each after the first, stripped */
    assert_int_equal(f->checks, 3);
    assert_int_equal(f->resolves, 1);
    assert_false(locked(f, f->s, sizeof(f->s)));
    /* nothing in the way now: one call */
    f->cops = f->checks = f->resolves = 0;
    out = sqlfx_q(&f->c, "SELECT COUNT(*) FROM t WHERE a > 0");
    assert_string_equal(out, "10");
    assert_int_equal(f->cops, 1);
    assert_int_equal(f->checks, 0);
}

/* A lock met once and resolved by the transaction's read (the writer is
 * rolled back: its primary's TTL has passed) costs one retry: two cop
 * calls, one CheckTxnStatus, one ResolveLock. */
static void dead_lock_costs_one_retry(void **state)
{
    struct fx *f = *state;
    /* the writer died before committing: roll its primary back as an
     * expired lock's check would */
    struct mvcc_key pk = {f->p, sizeof(f->p)};
    struct mvcc_result r;
    mvcc_result_init(&r);
    assert_int_equal(mvcc_batch_rollback(f->st, &pk, 1, f->start_ts, &r), 0);
    mvcc_result_reset(&r);
    const char *out = sqlfx_q(&f->c, "SELECT id FROM t WHERE a > 8");
    assert_string_equal(out, "9\n10");
    assert_int_equal(f->cops, 2);
    assert_int_equal(f->checks, 1);
    assert_int_equal(f->resolves, 1);
    assert_false(locked(f, f->s, sizeof(f->s)));
}

/* A store that fails every coprocessor call: whatever operator runs the
 * scan (a pushed-down aggregate, a top-N, a plain filter, the scan under
 * a sort or a join), the client gets the store's error by its number and
 * message. (The error used to be lost on the way up when the scan ran
 * under an operator: the client got an error packet with code 0 and no
 * message, which libmariadb reports as 5026 "Server returned an error
 * packet without further information": the rolling restart, issue 9.) */
static void store_error_reaches_the_client(void **state)
{
    struct fx *f = *state;
    f->fail = true;
    static const char *const qs[] = {
        "SELECT SUM(a) FROM t WHERE id BETWEEN 2 AND 8",
        "SELECT COUNT(*) FROM t",
        "SELECT id FROM t WHERE a > 3 ORDER BY a DESC LIMIT 2",
        "SELECT id, a FROM t WHERE a > 3",
        "SELECT a, COUNT(*) FROM t GROUP BY a ORDER BY a",
        "SELECT t1.id FROM t t1 JOIN t t2 ON t1.a = t2.id WHERE t2.a > 1",
        "SELECT DISTINCT a FROM t",
        "SELECT DISTINCT a FROM t WHERE id BETWEEN 2 AND 8 ORDER BY a",
        "SELECT a FROM t WHERE id = 3",
        "SELECT id FROM t WHERE a = (SELECT MAX(a) FROM t)",
    };
    for (size_t i = 0; i < sizeof(qs) / sizeof(qs[0]); i++) {
        f->cops = 0;
        const char *out = sqlfx_q(&f->c, qs[i]);
        if (strcmp(out, "ERR 1105 storage error: Input/output error (-5)") != 0)
            fail_msg("%s: got '%s'", qs[i], out);
    }
    /* the connection goes on */
    f->fail = false;
    assert_string_equal(sqlfx_q(&f->c, "SELECT 1"), "1");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(pushed_lock_is_skipped, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(pushed_lock_met_again_is_resolved,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(dead_lock_costs_one_retry, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(store_error_reaches_the_client, setup,
                                        teardown),
    };
    return cmocka_run_group_tests_name("libsql/cop_lock", tests, NULL, NULL);
}
