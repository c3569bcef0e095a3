/* test_txn.c: libmvcc's Percolator commands through the regions' Raft
 * groups (region_txn_run), with the cluster's loop on a thread: prewrite and
 * commit replicate to every store, reads go through the read barrier, and
 * a follower refuses with NotLeader; MVCC GC runs on every replica outside
 * Raft (region_store_gc).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include <rocksdb/c.h>

#include "cluster.h"
#include "region_int.h"

struct prewrite_arg {
    const char *key;          /* the only key, also the primary */
    const char *value;        /* its value */
    mvcc_ts start_ts;         /* txn start */
    struct mvcc_result res;   /* outcome (1PC: commit_ts) */
    struct region_store *one_pc; /* 1PC on this store, after the max_ts
                                    check kvd makes (NULL: a lock) */
};

static int do_prewrite(struct mvcc_store *m, void *arg)
{
    struct prewrite_arg *a = arg;
    int rc = a->one_pc ? region_txn_check_max_ts(a->one_pc) : 0;
    if (rc != 0)
        return rc;
    struct mvcc_mutation mu = {MVCC_OP_PUT, a->key, strlen(a->key), a->value,
                               strlen(a->value), false};
    struct mvcc_prewrite_req req = {.mutations = &mu, .n = 1,
                                    .primary = a->key,
                                    .primary_len = strlen(a->key),
                                    .start_ts = a->start_ts,
                                    .lock_ttl = 3000, .txn_size = 1,
                                    .try_one_pc = a->one_pc != NULL};
    return mvcc_prewrite(m, &req, &a->res);
}

struct commit_arg {
    const char *key;        /* key to commit */
    mvcc_ts start_ts;       /* txn start */
    mvcc_ts commit_ts;      /* commit */
    struct mvcc_result res; /* outcome */
};

static int do_commit(struct mvcc_store *m, void *arg)
{
    struct commit_arg *a = arg;
    struct mvcc_key k = {a->key, strlen(a->key)};
    return mvcc_commit(m, &k, 1, a->start_ts, a->commit_ts, &a->res);
}

struct get_arg {
    const char *key;        /* key to read */
    mvcc_ts ts;             /* read ts */
    struct mvcc_result res; /* pairs[0] when found */
};

static int do_get(struct mvcc_store *m, void *arg)
{
    struct get_arg *a = arg;
    return mvcc_get(m, NULL, a->key, strlen(a->key), a->ts, &a->res);
}

/* Until store i's leadership serves writes: they wait (ServerIsBusy)
 * until the new leader applied an entry of its term, as a client backs
 * off and resends; a read (through its read index) waits for the same. */
static bool serves_writes(struct cluster *c, int i, uint64_t region)
{
    struct region_ctx ctx = {region, 1, 1};
    struct region_err err;
    struct get_arg g = {"~", 1, {0}};
    mvcc_result_init(&g.res);
    int rc = region_txn_run(c->st[i].s, &ctx, true, do_get, &g, &err);
    mvcc_result_reset(&g.res);
    return rc == MVCC_NOTFOUND || rc == 0;
}

static int leader_of(struct cluster *c, uint64_t region)
{
    for (int t = 0; t < 20000; t++) {
        for (int i = 1; i <= c->n; i++)
            if (region_store_is_leader(c->st[i].s, region) &&
                serves_writes(c, i, region))
                return i;
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL); /* the loop thread elects; poll its outcome */
    }
    return 0;
}

/* Three stores holding region 1 (all keys), the loop on its thread:
 * the store that leads it and serves writes. */
static int start_three(struct cluster *c)
{
    cl_init(c, 3, false);
    cl_bootstrap(c, 1, NULL, NULL);
    cl_thread_start(c);
    int l = leader_of(c, 1);
    assert_true(l > 0);
    return l;
}

/* Split start_three's region 1 at "m" into 2 through its leader l; the
 * leader of region 2. cl_split and cl_leader_for pump the cluster
 * themselves: its thread is stopped meanwhile (both pumping raced on the
 * message queue, caught by UBSan). */
static int split_at_m(struct cluster *c, int l)
{
    cl_thread_stop(c);
    assert_int_equal(cl_split(c, l, 1, "m", 2, NULL), 0);
    uint64_t rid = 0;
    int l2 = cl_leader_for(c, "n", &rid);
    assert_true(l2 > 0);
    assert_int_equal(rid, 2);
    cl_thread_start(c);
    return l2;
}

static void prewrite_commit_read(void **state)
{
    (void)state;
    struct cluster c = {0};
    int l = start_three(&c);
    struct region_ctx ctx = {1, 1, 1};
    struct region_err err;

    struct prewrite_arg pw = {"tk", "tv", 100, {0}, NULL};
    mvcc_result_init(&pw.res);
    assert_int_equal(region_txn_run(c.st[l].s, &ctx, false, do_prewrite, &pw,
                                    &err), 0);
    mvcc_result_reset(&pw.res);

    /* a reader above start_ts meets the lock */
    struct get_arg g = {"tk", 150, {0}};
    mvcc_result_init(&g.res);
    assert_int_equal(region_txn_run(c.st[l].s, &ctx, true, do_get, &g, &err),
                     MVCC_LOCKED);
    mvcc_result_reset(&g.res);

    struct commit_arg cm = {"tk", 100, 110, {0}};
    mvcc_result_init(&cm.res);
    assert_int_equal(region_txn_run(c.st[l].s, &ctx, false, do_commit, &cm,
                                    &err), 0);
    mvcc_result_reset(&cm.res);

    assert_int_equal(region_txn_run(c.st[l].s, &ctx, true, do_get, &g, &err),
                     0);
    assert_int_equal(g.res.npairs, 1);
    assert_memory_equal(g.res.pairs[0].value, "tv", 2);
    mvcc_result_reset(&g.res);

    /* below the commit the key does not exist */
    g.ts = 105;
    assert_int_equal(region_txn_run(c.st[l].s, &ctx, true, do_get, &g, &err),
                     MVCC_NOTFOUND);
    mvcc_result_reset(&g.res);

    /* a follower refuses, naming the leader */
    int f = l % 3 + 1;
    g.ts = 200;
    assert_int_equal(region_txn_run(c.st[f].s, &ctx, true, do_get, &g, &err),
                     REGION_ENOT_LEADER);
    assert_int_equal(err.leader, (uint64_t)l);
    mvcc_result_reset(&g.res);

    /* a conflicting prewrite below the commit fails, nothing written */
    struct prewrite_arg pw2 = {"tk", "late", 105, {0}, NULL};
    mvcc_result_init(&pw2.res);
    assert_int_equal(region_txn_run(c.st[l].s, &ctx, false, do_prewrite, &pw2,
                                    &err), MVCC_CONFLICT);
    mvcc_result_reset(&pw2.res);

    cl_thread_stop(&c);
    /* the committed record reached the followers' engines too */
    for (int i = 1; i <= 3; i++) {
        int t;
        for (t = 0; t < 500; t++) {
            struct mvcc_result r;
            mvcc_result_init(&r);
            int rc = mvcc_get(region_store_mvcc(c.st[i].s), NULL, "tk", 2, 200,
                              &r);
            mvcc_result_reset(&r);
            if (rc == 0)
                break;
            cl_tick(&c);
        }
        assert_true(t < 500);
    }
    cl_destroy(&c);
}

static int check_only(struct mvcc_store *m, void *arg)
{
    (void)m;
    return region_txn_check_max_ts(arg);
}

static void count_call(void *ctx)
{
    __atomic_add_fetch((uint64_t *)ctx, 1, __ATOMIC_SEQ_CST);
}

/* Moves region 1's leadership from store `from` to store `to` (id). */
static void move_leader(struct region_store *from,
                        struct region_store *to,
                        uint64_t id)
{
    for (int t = 0; t < 200 && !region_store_is_leader(to, 1); t++) {
        (void)region_store_transfer_leader(from, 1, id);
        for (int w = 0; w < 50 && !region_store_is_leader(to, 1); w++) {
            struct timespec ts = {0, 2000000};
            nanosleep(&ts, NULL);
        }
    }
    assert_true(region_store_is_leader(to, 1));
}

/* A read served by the old leader at ts 500; leadership moves: the new
 * leader refuses 1PC until its max_ts is synced (a TSO timestamp, 600
 * here), and then commits above it, never at or below the read. */
static void one_pc_waits_for_the_max_ts_sync(void **state)
{
    (void)state;
    struct cluster c = {0};
    int l = start_three(&c);
    struct region_ctx ctx = {1, 1, 1};
    struct region_err err;
    struct region_store *s = c.st[l].s;
    /* libraft makes it leader before the loop thread finishes the ready
     * that says so (which stamps the leadership): poll for that too */
    for (int t = 0; t < 20000 && region_store_leader_gen(s) == 0; t++) {
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    assert_true(region_store_leader_gen(s) >= 1);
    /* not in a write's region_txn_run: refused */
    assert_int_equal(region_txn_check_max_ts(s), REGION_EINVAL);
    assert_int_equal(region_txn_run(s, &ctx, true, check_only, s, &err),
                     REGION_EINVAL);
    /* unsynced: refused, nothing written */
    struct prewrite_arg a = {"k", "v", 100, {0}, s};
    mvcc_result_init(&a.res);
    assert_int_equal(region_txn_run(s, &ctx, false, do_prewrite, &a, &err),
                     REGION_EMAX_TS_NOT_SYNCED);
    mvcc_result_reset(&a.res);
    struct get_arg g = {"k", 500, {0}};
    mvcc_result_init(&g.res);
    assert_int_equal(region_txn_run(s, &ctx, true, do_get, &g, &err),
                     MVCC_NOTFOUND);
    mvcc_result_reset(&g.res);
    struct region_store_stats st;
    region_store_stats(s, &st);
    assert_int_equal(st.max_ts_refused, 1);

    /* leadership moves to f, which tells its owner (the hook) */
    int f = l % 3 + 1;
    struct region_store *fs = c.st[f].s;
    uint64_t calls = 0, gen0 = region_store_leader_gen(fs);
    region_store_on_change(fs, count_call, &calls);
    move_leader(s, fs, (uint64_t)f);
    assert_true(serves_writes(&c, f, 1));
    uint64_t gen = region_store_leader_gen(fs);
    assert_true(gen > gen0);
    assert_int_equal(__atomic_load_n(&calls, __ATOMIC_SEQ_CST), gen - gen0);
    a.one_pc = fs;
    assert_int_equal(region_txn_run(fs, &ctx, false, do_prewrite, &a, &err),
                     REGION_EMAX_TS_NOT_SYNCED);
    mvcc_result_reset(&a.res);
    /* a sync from before this leadership does not count */
    gen = region_store_leader_gen(fs);
    if (gen > 1) {
        region_store_max_ts_synced(fs, gen - 1);
        assert_int_equal(region_txn_run(fs, &ctx, false, do_prewrite, &a, &err),
                         REGION_EMAX_TS_NOT_SYNCED);
        mvcc_result_reset(&a.res);
    }
    mvcc_store_update_max_ts(region_store_mvcc(fs), 600);
    region_store_max_ts_synced(fs, gen);
    region_store_stats(fs, &st);
    assert_true(st.max_ts_syncs >= 1);
    assert_int_equal(region_txn_run(fs, &ctx, false, do_prewrite, &a, &err), 0);
    assert_true(a.res.commit_ts > 600);
    mvcc_result_reset(&a.res);
    /* the read at 500 still does not see it */
    assert_int_equal(region_txn_run(fs, &ctx, true, do_get, &g, &err),
                     MVCC_NOTFOUND);
    mvcc_result_reset(&g.res);
    /* hook removed: leaderships still count, nothing is called */
    region_store_on_change(fs, NULL, NULL);
    uint64_t seen = __atomic_load_n(&calls, __ATOMIC_SEQ_CST);
    gen = region_store_leader_gen(fs);
    move_leader(fs, s, (uint64_t)l);
    move_leader(s, fs, (uint64_t)f);
    assert_true(serves_writes(&c, f, 1));
    assert_true(region_store_leader_gen(fs) > gen);
    assert_int_equal(__atomic_load_n(&calls, __ATOMIC_SEQ_CST), seen);
    cl_thread_stop(&c);
    cl_destroy(&c);
}

/* The regions store i leads whose changes took a report generation above
 * gen, "1 2" in key order ("" for none). */
static const char *led_since(struct cluster *c, int i, uint64_t gen)
{
    static char out[64];
    uint64_t ids[4];
    size_t n = 99;
    assert_int_equal(region_store_led_since(c->st[i].s, gen, ids, 4, &n), 0);
    assert_true(n <= 4);
    out[0] = 0;
    for (size_t k = 0; k < n; k++)
        snprintf(out + strlen(out), sizeof out - strlen(out), "%s%llu",
                 k ? " " : "", (unsigned long long)ids[k]);
    return out;
}

/* led_since once it says want: libraft makes a peer leader before the
 * loop thread finishes the ready that stamps the leadership. */
static const char *await_led(struct cluster *c,
                             int i,
                             uint64_t gen,
                             const char *want)
{
    for (int t = 0; t < 5000 && strcmp(led_since(c, i, gen), want) != 0; t++) {
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    return led_since(c, i, gen);
}

/* Every change a PD heartbeat shows takes a report generation and calls
 * the hook once: a leadership beginning, a split (both regions), a
 * membership change; region_store_led_since lists the regions led here
 * that changed since a generation, 0 listing all. */
static void changes_take_report_generations(void **state)
{
    (void)state;
    struct cluster c = {0};
    int l = start_three(&c);
    struct region_store *s = c.st[l].s;
    for (int t = 0; t < 20000 && region_store_report_gen(s) == 0; t++) {
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL); /* the ready stamping the leadership */
    }
    assert_string_equal(led_since(&c, l, 0), "1");
    uint64_t g = region_store_report_gen(s);
    assert_true(g >= 1);
    assert_string_equal(led_since(&c, l, g), "");
    int f = l % 3 + 1, o = f % 3 + 1; /* the two followers */
    assert_string_equal(led_since(&c, f, 0), "");
    assert_string_equal(led_since(&c, o, 0), "");
    /* nothing is listed past cap; n still counts them */
    size_t n = 0;
    assert_int_equal(region_store_led_since(s, 0, NULL, 0, &n), 0);
    assert_int_equal(n, 1);

    /* a split: region 1's epoch and region 2's leadership, born here */
    uint64_t calls = 0;
    region_store_on_change(s, count_call, &calls);
    assert_int_equal(split_at_m(&c, l), l);
    assert_string_equal(await_led(&c, l, g, "1 2"), "1 2");
    uint64_t g2 = region_store_report_gen(s);
    assert_int_equal(__atomic_load_n(&calls, __ATOMIC_SEQ_CST), g2 - g);

    /* a membership change of region 1 only */
    cl_thread_stop(&c);
    assert_int_equal(cl_change_member(&c, l, 1, REGION_CHANGE_REMOVE, o, NULL),
                     0);
    cl_thread_start(&c);
    assert_string_equal(led_since(&c, l, g2), "1");
    uint64_t g3 = region_store_report_gen(s);
    assert_int_equal(g3, g2 + 1);
    assert_int_equal(__atomic_load_n(&calls, __ATOMIC_SEQ_CST), g3 - g);

    /* region 1's leadership moves to f: listed there, not here */
    struct region_store *fs = c.st[f].s;
    uint64_t gf = region_store_report_gen(fs);
    move_leader(s, fs, (uint64_t)f);
    assert_string_equal(await_led(&c, f, gf, "1"), "1");
    assert_string_equal(await_led(&c, l, 0, "2"), "2");
    assert_string_equal(led_since(&c, l, g3), "");

    /* hook removed: changes still count, nothing is called */
    region_store_on_change(s, NULL, NULL);
    uint64_t seen = __atomic_load_n(&calls, __ATOMIC_SEQ_CST);
    move_leader(fs, s, (uint64_t)l);
    assert_string_equal(await_led(&c, l, g3, "1"), "1");
    assert_int_equal(__atomic_load_n(&calls, __ATOMIC_SEQ_CST), seen);
    cl_thread_stop(&c);
    cl_destroy(&c);
}

/* One transaction on one key, run through the region's Raft group: a
 * prewrite of op (MVCC_OP_PUT of value, MVCC_OP_DELETE) at start_ts,
 * then its commit at commit_ts, or its rollback (commit_ts 0). */
struct write_arg {
    const char *key;   /* the key, also the primary */
    int op;            /* enum mvcc_op */
    const char *value; /* a Put's value */
    mvcc_ts start_ts;  /* txn start */
    mvcc_ts commit_ts; /* commit (0: rolled back) */
};

static int do_write(struct mvcc_store *m, void *arg)
{
    struct write_arg *a = arg;
    struct mvcc_mutation mu = {a->op, a->key, strlen(a->key), a->value,
                               a->value ? strlen(a->value) : 0, false};
    struct mvcc_prewrite_req req = {.mutations = &mu, .n = 1,
                                    .primary = a->key,
                                    .primary_len = strlen(a->key),
                                    .start_ts = a->start_ts,
                                    .lock_ttl = 3000, .txn_size = 1};
    struct mvcc_result res;
    mvcc_result_init(&res);
    int rc = mvcc_prewrite(m, &req, &res);
    struct mvcc_key k = {a->key, strlen(a->key)};
    if (rc == 0 && a->commit_ts)
        rc = mvcc_commit(m, &k, 1, a->start_ts, a->commit_ts, &res);
    else if (rc == 0)
        rc = mvcc_batch_rollback(m, &k, 1, a->start_ts, &res);
    mvcc_result_reset(&res);
    return rc;
}

/* write_at in region rid at epoch version ver. */
static void write_in(struct cluster *c, int l, uint64_t rid, uint64_t ver,
                     const char *key, int op, const char *value,
                     mvcc_ts start_ts, mvcc_ts commit_ts)
{
    struct region_ctx ctx = {rid, 1, ver};
    struct region_err err;
    struct write_arg w = {key, op, value, start_ts, commit_ts};
    assert_int_equal(region_txn_run(c->st[l].s, &ctx, false, do_write, &w,
                                    &err),
                     0);
}

static void write_at(struct cluster *c, int l, const char *key, int op,
                     const char *value, mvcc_ts start_ts, mvcc_ts commit_ts)
{
    struct region_ctx ctx = {1, 1, 1};
    struct region_err err;
    struct write_arg w = {key, op, value, start_ts, commit_ts};
    assert_int_equal(region_txn_run(c->st[l].s, &ctx, false, do_write, &w,
                                    &err),
                     0);
}

/* key at ts on store i: through the leader's read barrier (read), or
 * straight from the store's engine; its value into v (cap 16, "" when
 * absent), the read's code. */
static int read_at(struct cluster *c, int i, bool barrier, const char *key,
                   mvcc_ts ts, char *v)
{
    struct get_arg g = {key, ts, {0}};
    mvcc_result_init(&g.res);
    int rc;
    if (barrier) {
        struct region_ctx ctx = {1, 1, 1};
        struct region_err err;
        rc = region_txn_run(c->st[i].s, &ctx, true, do_get, &g, &err);
    } else {
        rc = mvcc_get(region_store_mvcc(c->st[i].s), NULL, key, strlen(key),
                      ts, &g.res);
    }
    v[0] = 0;
    if (rc == 0) {
        assert_int_equal(g.res.npairs, 1);
        assert_true(g.res.pairs[0].value_len < 16);
        memcpy(v, g.res.pairs[0].value, g.res.pairs[0].value_len);
        v[g.res.pairs[0].value_len] = 0;
    }
    mvcc_result_reset(&g.res);
    return rc;
}

/* Until store i's own engine reads want for key at ts (it applied the
 * write): fails the test after 5 s. */
static void await_value(struct cluster *c, int i, const char *key,
                        mvcc_ts ts, const char *want)
{
    char v[16];
    for (int t = 0; t < 5000; t++) {
        if (read_at(c, i, false, key, ts, v) == 0 && strcmp(v, want) == 0)
            return;
        struct timespec nap = {0, 1000000};
        nanosleep(&nap, NULL);
    }
    fail_msg("store %d never read %s=%s at %llu", i, key, want,
             (unsigned long long)ts);
}

#define GC_SP 30 /* the safe point of gc_on_every_replica */

/* What a read of "a" .. "f" at the safe point and above answers (the
 * same before GC and after): "" absent. */
static const char *const gc_keys[] = {"a", "b", "c", "d", "e", "f"};
static const mvcc_ts gc_ts[] = {GC_SP, 35, 41, 43, 100};
static const char *const gc_want[5][6] = {
    {"a2", "b2", "", "d1", "", ""}, /* at 30 */
    {"a2", "b2", "", "d1", "", ""}, /* at 35 */
    {"a3", "b2", "", "d1", "", ""}, /* at 41 */
    {"a3", "b2", "", "d2", "", ""}, /* at 43 */
    {"a3", "b2", "", "d2", "", ""}, /* at 100 */
};

/* Store i answers every read of gc_want (through the barrier: the
 * leader; else its own engine). */
static void gc_reads_hold(struct cluster *c, int i, bool barrier)
{
    for (size_t t = 0; t < 5; t++)
        for (size_t k = 0; k < 6; k++) {
            char v[16];
            int rc = read_at(c, i, barrier, gc_keys[k], gc_ts[t], v);
            assert_int_equal(rc, gc_want[t][k][0] ? 0 : MVCC_NOTFOUND);
            assert_string_equal(v, gc_want[t][k]);
        }
}

/* MVCC GC on every replica, outside Raft (DESIGN.md "GC"): versions of
 * keys written through transactions, a deleted key and a rolled-back
 * one; region_store_gc at safe point 30 on each store removes exactly
 * the 5 write records no read at or above 30 sees (a@11, b@13, c's
 * Delete@25 and its Put@15, e's Rollback@27; d's one Put below, d@17,
 * stays), reads at 30 and above answer as before on the leader and on
 * every replica, a read below (which kvd refuses) may not, a second
 * sweep at 30 or one below removes nothing, writes through Raft work
 * again after, and a restarted store still knows its safe point. */
static void gc_on_every_replica(void **state)
{
    (void)state;
    struct cluster c = {0};
    int l = start_three(&c);
    write_at(&c, l, "a", MVCC_OP_PUT, "a1", 10, 11);
    write_at(&c, l, "b", MVCC_OP_PUT, "b1", 12, 13);
    write_at(&c, l, "c", MVCC_OP_PUT, "c1", 14, 15);
    write_at(&c, l, "d", MVCC_OP_PUT, "d1", 16, 17);
    write_at(&c, l, "a", MVCC_OP_PUT, "a2", 20, 21);
    write_at(&c, l, "b", MVCC_OP_PUT, "b2", 22, 23);
    write_at(&c, l, "c", MVCC_OP_DELETE, NULL, 24, 25);
    write_at(&c, l, "e", MVCC_OP_PUT, "e1", 26, 0); /* rolled back @26 */
    write_at(&c, l, "a", MVCC_OP_PUT, "a3", 40, 41);
    write_at(&c, l, "d", MVCC_OP_PUT, "d2", 42, 43);
    gc_reads_hold(&c, l, true);
    /* every replica applied the last write (so all before it) */
    for (int i = 1; i <= 3; i++) {
        await_value(&c, i, "d", 100, "d2");
        gc_reads_hold(&c, i, false);
    }
    char v[16];
    assert_int_equal(read_at(&c, l, true, "a", 12, v), 0);
    assert_string_equal(v, "a1");

    for (int i = 1; i <= 3; i++) {
        assert_int_equal(region_store_gc_safe_point(c.st[i].s), 0);
        uint64_t removed = 99;
        assert_int_equal(region_store_gc(c.st[i].s, GC_SP, &removed), 0);
        assert_int_equal(removed, 5);
        assert_int_equal(region_store_gc_safe_point(c.st[i].s), GC_SP);
    }
    gc_reads_hold(&c, l, true);
    for (int i = 1; i <= 3; i++)
        gc_reads_hold(&c, i, false);
    /* below the safe point a1 is gone: why kvd refuses such reads
     * (REGION_EGC_TOO_EARLY, at ts < region_store_gc_safe_point) */
    assert_int_equal(read_at(&c, l, true, "a", 12, v), MVCC_NOTFOUND);
    assert_int_equal(read_at(&c, l, true, "a", 21, v), 0);
    assert_string_equal(v, "a2");
    /* again at the safe point, or below it: nothing to do */
    for (int i = 1; i <= 3; i++) {
        uint64_t removed = 99;
        assert_int_equal(region_store_gc(c.st[i].s, GC_SP, &removed), 0);
        assert_int_equal(removed, 0);
        removed = 99;
        assert_int_equal(region_store_gc(c.st[i].s, GC_SP - 10, &removed), 0);
        assert_int_equal(removed, 0);
        assert_int_equal(region_store_gc_safe_point(c.st[i].s), GC_SP);
    }
    /* the apply hook proposes again: new writes replicate */
    write_at(&c, l, "f", MVCC_OP_PUT, "f1", 50, 51);
    write_at(&c, l, "a", MVCC_OP_PUT, "a4", 52, 53);
    assert_int_equal(read_at(&c, l, true, "f", 60, v), 0);
    assert_string_equal(v, "f1");
    assert_int_equal(read_at(&c, l, true, "a", 60, v), 0);
    assert_string_equal(v, "a4");
    for (int i = 1; i <= 3; i++) {
        await_value(&c, i, "a", 60, "a4");
        assert_int_equal(read_at(&c, i, false, "f", 60, v), 0);
        assert_string_equal(v, "f1");
    }
    /* a later safe point, on the leader alone: a2@21 and a3@41 (under
     * a4@53, the newest Put at or below 60) and d1@17 (under d2@43) */
    uint64_t removed = 0;
    assert_int_equal(region_store_gc(c.st[l].s, 60, &removed), 0);
    assert_int_equal(removed, 3);
    assert_int_equal(region_store_gc_safe_point(c.st[l].s), 60);
    assert_int_equal(read_at(&c, l, true, "d", 60, v), 0);
    assert_string_equal(v, "d2");
    assert_int_equal(region_store_gc(NULL, 70, &removed), REGION_EINVAL);
    assert_int_equal(removed, 0);
    assert_int_equal(region_store_gc_safe_point(NULL), 0);
    /* a restart keeps each store's safe point (`01 'V' 0`), so kvd
     * refuses the same reads before its first poll */
    cl_thread_stop(&c);
    for (int i = 1; i <= 3; i++) {
        cl_stop(&c, i);
        cl_start(&c, i);
        assert_int_equal(region_store_gc_safe_point(c.st[i].s),
                         i == l ? 60 : GC_SP);
    }
    cl_destroy(&c);
}

/* region_store_gc on store i at sp: its removed count, and the regions
 * it swept and skipped and the records it read (store stats deltas). */
struct gc_run {
    uint64_t removed, swept, skipped, records;
};
static struct gc_run gc_on(struct cluster *c, int i, uint64_t sp)
{
    struct region_store_stats a, b;
    region_store_stats(c->st[i].s, &a);
    struct gc_run r = {99, 0, 0, 0};
    assert_int_equal(region_store_gc(c->st[i].s, sp, &r.removed), 0);
    region_store_stats(c->st[i].s, &b);
    r.swept = b.gc_regions_swept - a.gc_regions_swept;
    r.skipped = b.gc_regions_skipped - a.gc_regions_skipped;
    r.records = b.gc_records_read - a.gc_records_read;
    return r;
}

/* run is evaluated once: a gc_on call */
#define GC_RUN_IS(run, rm, sw, sk, rec)                                       \
    do {                                                                      \
        struct gc_run r_ = (run);                                             \
        assert_int_equal(r_.removed, rm);                                     \
        assert_int_equal(r_.swept, sw);                                       \
        assert_int_equal(r_.skipped, sk);                                     \
        assert_int_equal(r_.records, rec);                                    \
    } while (0)

/* A sweep goes over a region only if it holds a write record above the
 * safe point of its last sweep (DESIGN.md "GC"): regions 1 [, m) and 2
 * [m, ) with two versions each; the first sweep reads both; one with no
 * write since skips both; a write in region 1 brings back its sweep only;
 * a record above the safe point keeps its region swept until the safe
 * point passes it; a restarted store sweeps everything once. On every
 * store (each replica keeps its own). */
static void gc_skips_regions_without_new_versions(void **state)
{
    (void)state;
    struct cluster c = {0};
    int l = start_three(&c);
    int l2 = split_at_m(&c, l);
    write_in(&c, l, 1, 2, "a", MVCC_OP_PUT, "a1", 10, 11);
    write_in(&c, l, 1, 2, "a", MVCC_OP_PUT, "a2", 20, 21);
    write_in(&c, l2, 2, 2, "n", MVCC_OP_PUT, "n1", 12, 13);
    write_in(&c, l2, 2, 2, "n", MVCC_OP_PUT, "n2", 22, 23);
    for (int i = 1; i <= 3; i++) {
        await_value(&c, i, "a", 100, "a2");
        await_value(&c, i, "n", 100, "n2");
        /* a@11 and n@13 go; both regions read */
        GC_RUN_IS(gc_on(&c, i, 30), 2, 2, 0, 4);
        /* nothing written since: both skipped */
        GC_RUN_IS(gc_on(&c, i, 40), 0, 0, 2, 0);
    }
    write_in(&c, l, 1, 2, "a", MVCC_OP_PUT, "a3", 50, 51);
    write_in(&c, l2, 2, 2, "n", MVCC_OP_PUT, "n3", 80, 85);
    for (int i = 1; i <= 3; i++) {
        await_value(&c, i, "a", 100, "a3");
        await_value(&c, i, "n", 100, "n3");
        /* region 1: a@21 under a@51; region 2: n@23 is the newest Put at
         * or below 60 and stays, n@85 above it */
        GC_RUN_IS(gc_on(&c, i, 60), 1, 2, 0, 4);
        /* region 1 is done; region 2 still holds n@85 above 70 */
        GC_RUN_IS(gc_on(&c, i, 70), 0, 1, 1, 2);
        /* at 90: n@23 goes under n@85, and then nothing is above 90 */
        GC_RUN_IS(gc_on(&c, i, 90), 1, 1, 1, 2);
        GC_RUN_IS(gc_on(&c, i, 95), 0, 0, 2, 0);
        char v[16];
        assert_int_equal(read_at(&c, i, false, "a", 100, v), 0);
        assert_string_equal(v, "a3");
        assert_int_equal(read_at(&c, i, false, "n", 100, v), 0);
        assert_string_equal(v, "n3");
    }
    /* a restart knows nothing of its sweeps: both read once more */
    cl_thread_stop(&c);
    cl_stop(&c, 3);
    cl_start(&c, 3);
    cl_thread_start(&c);
    GC_RUN_IS(gc_on(&c, 3, 100), 0, 2, 0, 2);
    GC_RUN_IS(gc_on(&c, 3, 110), 0, 0, 2, 0);
    cl_destroy(&c);
}

/* Every key "<p>0000" .. of a region in one transaction. */
#define MANY 600
struct many_arg {
    char prefix;
    const char *value;
    mvcc_ts start_ts, commit_ts;
};
static int do_write_many(struct mvcc_store *m, void *arg)
{
    struct many_arg *a = arg;
    static char keys[MANY][8];
    static struct mvcc_mutation mu[MANY];
    static struct mvcc_key ks[MANY];
    for (int i = 0; i < MANY; i++) {
        snprintf(keys[i], sizeof keys[i], "%c%04d", a->prefix, i);
        mu[i] = (struct mvcc_mutation){MVCC_OP_PUT, keys[i], 5, a->value,
                                       strlen(a->value), false};
        ks[i] = (struct mvcc_key){keys[i], 5};
    }
    struct mvcc_prewrite_req req = {.mutations = mu, .n = MANY,
                                    .primary = keys[0], .primary_len = 5,
                                    .start_ts = a->start_ts,
                                    .lock_ttl = 3000, .txn_size = MANY};
    struct mvcc_result res;
    mvcc_result_init(&res);
    int rc = mvcc_prewrite(m, &req, &res);
    if (rc == 0)
        rc = mvcc_commit(m, ks, MANY, a->start_ts, a->commit_ts, &res);
    mvcc_result_reset(&res);
    return rc;
}
static void write_many(struct cluster *c, int l, uint64_t rid, char prefix,
                       const char *value, mvcc_ts start_ts, mvcc_ts commit_ts)
{
    struct region_ctx ctx = {rid, 1, 2};
    struct region_err err;
    struct many_arg a = {prefix, value, start_ts, commit_ts};
    assert_int_equal(region_txn_run(c->st[l].s, &ctx, false, do_write_many,
                                    &a, &err),
                     0);
}

/* A scan of prefix's MANY keys on store i's engine at ts 100: every one
 * reads value; the deleted entries RocksDB stepped over for it. */
static uint64_t scan_many(struct cluster *c, int i, char prefix,
                          const char *value)
{
    char lo[2] = {prefix, 0}, hi[2] = {(char)(prefix + 1), 0};
    struct mvcc_result r;
    mvcc_result_init(&r);
    rocksdb_set_perf_level(rocksdb_enable_count);
    rocksdb_perfcontext_t *pc = rocksdb_perfcontext_create();
    rocksdb_perfcontext_reset(pc);
    assert_int_equal(mvcc_scan(region_store_mvcc(c->st[i].s), NULL, lo, 1,
                               hi, 1, 100, &r),
                     0);
    uint64_t n = rocksdb_perfcontext_metric(
        pc, rocksdb_internal_delete_skipped_count);
    rocksdb_perfcontext_destroy(pc);
    rocksdb_set_perf_level(rocksdb_disable);
    assert_int_equal(r.npairs, MANY);
    for (size_t k = 0; k < r.npairs; k++) {
        assert_int_equal(r.pairs[k].value_len, strlen(value));
        assert_memory_equal(r.pairs[k].value, value, strlen(value));
    }
    mvcc_result_reset(&r);
    return n;
}

/* Compaction after a sweep (DESIGN.md "GC"): regions 1 [, m) and 2 [m, )
 * with 600 keys of two versions each; a sweep removes 600 in each, 1200
 * over the two adjacent regions, and compacts them: a scan then steps
 * over no tombstone. A third version of region 1's keys alone: its
 * sweep removes 600 (region 2 skipped), under the 1024 that make a
 * compaction worth it, and leaves the 600 tombstones to RocksDB. */
static void gc_compacts_runs_of_swept_regions(void **state)
{
    (void)state;
    struct cluster c = {0};
    int l = start_three(&c);
    int l2 = split_at_m(&c, l);
    write_many(&c, l, 1, 'a', "a1", 10, 11);
    write_many(&c, l, 1, 'a', "a2", 20, 21);
    write_many(&c, l2, 2, 'n', "n1", 12, 13);
    write_many(&c, l2, 2, 'n', "n2", 22, 23);
    await_value(&c, l, "a0599", 100, "a2");
    await_value(&c, l, "n0599", 100, "n2");
    GC_RUN_IS(gc_on(&c, l, 30), 2 * MANY, 2, 0, 4 * MANY);
    assert_int_equal(scan_many(&c, l, 'a', "a2"), 0);
    assert_int_equal(scan_many(&c, l, 'n', "n2"), 0);
    write_many(&c, l, 1, 'a', "a3", 40, 41);
    await_value(&c, l, "a0599", 100, "a3");
    GC_RUN_IS(gc_on(&c, l, 50), MANY, 1, 1, 2 * MANY);
    assert_int_equal(scan_many(&c, l, 'a', "a3"), MANY);
    assert_int_equal(scan_many(&c, l, 'n', "n2"), 0);
    cl_destroy(&c);
}

/* A snapshot brings records its sender may not have swept: the receiver
 * sweeps the region again. Store 3 sweeps region 1 (x@11) at 20, is cut
 * off while x@31, x@41 and ten more writes go by (log GC keeps 2
 * entries), catches up by a snapshot without a restart, and its next
 * sweep reads the region and removes x@11's successor x@31 too. */
static void gc_sweeps_what_a_snapshot_brought(void **state)
{
    (void)state;
    struct cluster c = {0};
    c.log_keep_entries = 2;
    cl_init(&c, 3, false);
    cl_bootstrap(&c, 1, NULL, NULL);
    cl_lead(&c, 1, 1);
    cl_thread_start(&c);
    assert_int_equal(leader_of(&c, 1), 1);
    write_at(&c, 1, "x", MVCC_OP_PUT, "x1", 10, 11);
    await_value(&c, 3, "x", 100, "x1");
    GC_RUN_IS(gc_on(&c, 3, 20), 0, 1, 0, 1);
    GC_RUN_IS(gc_on(&c, 3, 25), 0, 0, 1, 0);
    cl_thread_stop(&c);
    cl_isolate(&c, 3, true);
    cl_thread_start(&c);
    write_at(&c, 1, "x", MVCC_OP_PUT, "x2", 30, 31);
    write_at(&c, 1, "x", MVCC_OP_PUT, "x3", 40, 41);
    char fk[10][8];
    for (int i = 0; i < 10; i++) {
        snprintf(fk[i], sizeof fk[i], "f%d", i);
        write_at(&c, 1, fk[i], MVCC_OP_PUT, "f", (mvcc_ts)(50 + 2 * i),
                 (mvcc_ts)(51 + 2 * i));
    }
    cl_thread_stop(&c);
    cl_isolate(&c, 3, false);
    struct region_store_stats st = {0};
    for (int t = 0; t < 2000 && st.snaps_applied == 0; t++) {
        cl_tick(&c);
        region_store_stats(c.st[3].s, &st);
    }
    assert_int_equal(st.snaps_applied, 1);
    cl_thread_start(&c);
    await_value(&c, 3, "f9", 100, "f");
    /* x@11 and x@31 under x@41; 13 records read (x's 3, f0..f9) */
    GC_RUN_IS(gc_on(&c, 3, 45), 2, 1, 0, 13);
    char v[16];
    assert_int_equal(read_at(&c, 3, false, "x", 45, v), 0);
    assert_string_equal(v, "x3");
    cl_destroy(&c);
}

/* ---- an engine over store 1's that fails the batches a test names */
enum { FAIL_NONE, FAIL_SAFE_POINT, FAIL_GC_DELETES };
struct fail_engine {
    struct cl_engine e; /* over the store's own */
    int mode;           /* FAIL_* (atomic) */
    int failed;         /* batches refused (atomic) */
};
static struct fail_engine failer;

/* Whether b is one the mode fails: the GC safe point's record, or a
 * batch deleting write records (only GC's do). */
static bool failing(const struct mvcc_wbatch *b, int mode)
{
    for (size_t i = 0; i < mvcc_wbatch_count(b); i++) {
        struct mvcc_wop op;
        mvcc_wbatch_op(b, i, &op);
        if (mode == FAIL_SAFE_POINT && op.type == MVCC_WOP_PUT &&
            op.cf == MVCC_CF_DEFAULT && op.key_len >= 2 &&
            op.key[0] == REGION__LOCAL && op.key[1] == 'V')
            return true;
        if (mode == FAIL_GC_DELETES && op.type == MVCC_WOP_DELETE &&
            op.cf == MVCC_CF_WRITE)
            return true;
    }
    return false;
}

static int fail_write(void *ctx, struct mvcc_engine *inner,
                      const struct mvcc_wbatch *b, bool sync)
{
    struct fail_engine *fe = ctx;
    int mode = __atomic_load_n(&fe->mode, __ATOMIC_SEQ_CST);
    if (mode != FAIL_NONE && failing(b, mode)) {
        __atomic_fetch_add(&fe->failed, 1, __ATOMIC_SEQ_CST);
        return -EIO;
    }
    return mvcc_engine_write(inner, b, sync);
}

static struct mvcc_engine *wrap_store1(void *ctx, int store,
                                       struct mvcc_engine *eng)
{
    struct fail_engine *fe = ctx;
    return store == 1 ? cl_engine_over(&fe->e, eng, fail_write, fe) : eng;
}

/* A sweep the engine fails: when the safe point cannot be recorded,
 * nothing is swept and the store's safe point stays where it was; when
 * a delete batch fails, the error comes back, the safe point stays
 * raised (versions below it may be gone) and the same call sweeps again
 * once the engine writes. */
static void gc_engine_failures(void **state)
{
    (void)state;
    struct cluster c = {0};
    memset(&failer, 0, sizeof failer);
    c.wrap = wrap_store1;
    c.wrap_ctx = &failer;
    int l = start_three(&c);
    write_at(&c, l, "a", MVCC_OP_PUT, "a1", 10, 11);
    write_at(&c, l, "a", MVCC_OP_PUT, "a2", 20, 21);
    write_at(&c, l, "a", MVCC_OP_PUT, "a3", 40, 41);
    await_value(&c, 1, "a", 50, "a3"); /* store 1 applied them all */
    char v[16];
    struct region_store *s1 = c.st[1].s;
    uint64_t removed = 99;
    __atomic_store_n(&failer.mode, FAIL_SAFE_POINT, __ATOMIC_SEQ_CST);
    assert_int_equal(region_store_gc(s1, 30, &removed), -EIO);
    assert_int_equal(removed, 0);
    assert_int_equal(region_store_gc_safe_point(s1), 0);
    assert_int_equal(read_at(&c, 1, false, "a", 12, v), 0);
    assert_string_equal(v, "a1"); /* nothing swept */
    __atomic_store_n(&failer.mode, FAIL_GC_DELETES, __ATOMIC_SEQ_CST);
    removed = 99;
    assert_int_equal(region_store_gc(s1, 30, &removed), -EIO);
    assert_int_equal(removed, 0);
    assert_int_equal(region_store_gc_safe_point(s1), 30);
    assert_int_equal(__atomic_load_n(&failer.failed, __ATOMIC_SEQ_CST), 2);
    __atomic_store_n(&failer.mode, FAIL_NONE, __ATOMIC_SEQ_CST);
    assert_int_equal(region_store_gc(s1, 30, &removed), 0);
    assert_int_equal(removed, 1); /* a1 */
    assert_int_equal(read_at(&c, 1, false, "a", 30, v), 0);
    assert_string_equal(v, "a2");
    cl_thread_stop(&c);
    cl_destroy(&c);
}

/* A lock that reaches a store in a Raft snapshot is in that store's lock
 * table (libmvcc DESIGN "Lock table"; DESIGN.md "Transactions"): store 3
 * is down while a prewrite and enough commands for log GC go by, catches
 * up by a snapshot, then leads: a read there meets the lock, it commits
 * the transaction there, and the first leader, leading again, reads the
 * value (its table saw the commit applied). */
static void lock_travels_in_a_snapshot(void **state)
{
    (void)state;
    struct cluster c = {0};
    c.log_keep_entries = 2;
    cl_init(&c, 3, false);
    cl_bootstrap(&c, 1, NULL, NULL);
    cl_lead(&c, 1, 1);
    cl_stop(&c, 3);
    cl_thread_start(&c);
    int l = leader_of(&c, 1);
    assert_int_equal(l, 1);
    struct region_ctx ctx = {1, 1, 1};
    struct region_err err;
    struct prewrite_arg pw = {"tk", "tv", 100, {0}, NULL};
    mvcc_result_init(&pw.res);
    assert_int_equal(region_txn_run(c.st[1].s, &ctx, false, do_prewrite, &pw,
                                    &err), 0);
    char fk[10][8];
    for (int i = 0; i < 10; i++) { /* committed: no lock of theirs stays */
        snprintf(fk[i], sizeof fk[i], "f%d", i);
        struct prewrite_arg f = {fk[i], "x", (mvcc_ts)(200 + i), {0}, NULL};
        assert_int_equal(region_txn_run(c.st[1].s, &ctx, false, do_prewrite,
                                        &f, &err), 0);
        struct commit_arg fc = {fk[i], (mvcc_ts)(200 + i), (mvcc_ts)(300 + i),
                                {0}};
        mvcc_result_init(&fc.res);
        assert_int_equal(region_txn_run(c.st[1].s, &ctx, false, do_commit,
                                        &fc, &err), 0);
        mvcc_result_reset(&fc.res);
        mvcc_result_reset(&f.res);
    }
    mvcc_result_reset(&pw.res);
    cl_thread_stop(&c);
    cl_start(&c, 3);
    struct region_store_stats st = {0};
    for (int t = 0; t < 2000 && st.snaps_applied == 0; t++) {
        cl_tick(&c);
        region_store_stats(c.st[3].s, &st);
    }
    assert_int_equal(st.snaps_applied, 1);
    cl_lead(&c, 1, 3);
    cl_thread_start(&c);
    assert_int_equal(leader_of(&c, 1), 3);
    struct get_arg g = {"tk", 150, {0}};
    mvcc_result_init(&g.res);
    assert_int_equal(region_txn_run(c.st[3].s, &ctx, true, do_get, &g, &err),
                     MVCC_LOCKED);
    struct mvcc_result sl;
    mvcc_result_init(&sl);
    assert_int_equal(mvcc_scan_lock(region_store_mvcc(c.st[3].s), MVCC_TS_MAX,
                                    NULL, 0, NULL, 0, 0, &sl),
                     0);
    assert_int_equal(sl.nlocks, 1);
    assert_int_equal(sl.locks[0].key_len, 2);
    assert_memory_equal(sl.locks[0].key, "tk", 2);
    mvcc_result_reset(&sl);
    struct commit_arg cm = {"tk", 100, 110, {0}};
    mvcc_result_init(&cm.res);
    assert_int_equal(region_txn_run(c.st[3].s, &ctx, false, do_commit, &cm,
                                    &err), 0);
    mvcc_result_reset(&cm.res);
    cl_thread_stop(&c);
    cl_lead(&c, 1, 1);
    cl_thread_start(&c);
    assert_int_equal(leader_of(&c, 1), 1);
    assert_int_equal(region_txn_run(c.st[1].s, &ctx, true, do_get, &g, &err),
                     0);
    assert_int_equal(g.res.npairs, 1);
    assert_memory_equal(g.res.pairs[0].value, "tv", 2);
    mvcc_result_reset(&g.res);
    cl_destroy(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(prewrite_commit_read),
        cmocka_unit_test(one_pc_waits_for_the_max_ts_sync),
        cmocka_unit_test(changes_take_report_generations),
        cmocka_unit_test(gc_on_every_replica),
        cmocka_unit_test(gc_engine_failures),
        cmocka_unit_test(lock_travels_in_a_snapshot),
        cmocka_unit_test(gc_skips_regions_without_new_versions),
        cmocka_unit_test(gc_sweeps_what_a_snapshot_brought),
        cmocka_unit_test(gc_compacts_runs_of_swept_regions),
    };
    return cmocka_run_group_tests_name("libregion/txn", tests, NULL, NULL);
}
