/* test_isolation.c: isolation specs in the style of PostgreSQL's isolation
 * tester: two sessions of named steps, run in every interleaving
 * (permutation) that keeps each session's order, each permutation on its
 * own keys, with a check after each. Through the client over three shards,
 * on both engines (DESIGN.md, "Isolation").
 *   dirty_read      a reader never sees uncommitted writes
 *   lost_update     read-modify-write: the final value counts the commits
 *   read_skew       a reader's x+y is invariant under a transfer
 *   fractured_read  a cross-shard write is seen whole or not at all
 *   write_skew      allowed under SI: both disjoint writes commit
 *   for_update      a pessimistic lock blocks a second locker until commit
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "testutil.h"

struct ctx
{
    struct tu_cluster *k;     /* cluster */
    int perm;                 /* permutation number: keys are "<name>/<perm>" */
    int clock;                /* steps run so far */
    struct mvcc_txn *txn[2];  /* each session's open txn */
    long seen[2][4];          /* values read, per session */
    int nseen[2];             /* how many */
    int commit_rc[2];         /* each session's commit outcome */
    int began_at[2];          /* clock at begin */
    int committed_at[2];      /* clock at commit (-1 if not) */
    int lock_rc[2];           /* for_update: outcomes of lock steps */
    mvcc_ts lock_ts[2];       /* for_update: txn start */
    int stats;                /* spec-specific counter across permutations */
};

typedef void (*step_fn)(struct ctx *c, int s);
struct step
{
    const char *name; /* for failure messages */
    step_fn fn;       /* what it does; s is the session */
};

static void key(struct ctx *c, const char *name, char *out)
{
    snprintf(out, 32, "%s/%04d", name, c->perm);
}

static long rd(struct ctx *c, int s, const char *name)
{
    char k[32];
    key(c, name, k);
    uint8_t *v = NULL;
    size_t vl = 0;
    int rc = mvcc_txn_get(c->txn[s], k, strlen(k), &v, &vl);
    if (rc == MVCC_NOTFOUND)
        return -1;
    assert_int_equal(rc, 0);
    char buf[32];
    assert_true(vl < sizeof buf);
    memcpy(buf, v, vl);
    buf[vl] = 0;
    mvcc_free(v);
    long x = atol(buf);
    c->seen[s][c->nseen[s]++] = x;
    return x;
}

static void wr(struct ctx *c, int s, const char *name, long x)
{
    char k[32], v[32];
    key(c, name, k);
    snprintf(v, sizeof v, "%ld", x);
    assert_int_equal(mvcc_txn_set(c->txn[s], k, strlen(k), v, strlen(v)), 0);
}

static void init(struct ctx *c, const char *const *names, const long *vals,
                 int n)
{
    struct mvcc_txn *t;
    assert_int_equal(mvcc_txn_begin(c->k->c, &t), 0);
    c->txn[0] = t;
    for (int i = 0; i < n; i++)
        wr(c, 0, names[i], vals[i]);
    assert_int_equal(mvcc_txn_commit(t, NULL), 0);
    c->txn[0] = NULL;
}

static long final(struct ctx *c, const char *name)
{
    struct mvcc_txn *t;
    assert_int_equal(mvcc_txn_begin(c->k->c, &t), 0);
    c->txn[0] = t;
    int saved = c->nseen[0];
    long x = rd(c, 0, name);
    c->nseen[0] = saved;
    mvcc_txn_rollback(t);
    c->txn[0] = NULL;
    return x;
}

static void b(struct ctx *c, int s)
{
    assert_int_equal(mvcc_txn_begin(c->k->c, &c->txn[s]), 0);
    c->began_at[s] = c->clock;
}

static void cm(struct ctx *c, int s)
{
    c->commit_rc[s] = mvcc_txn_commit(c->txn[s], NULL);
    c->txn[s] = NULL;
    assert_true(c->commit_rc[s] == 0 || c->commit_rc[s] == MVCC_CONFLICT);
    if (c->commit_rc[s] == 0)
        c->committed_at[s] = c->clock;
}

/* Runs every interleaving of the two sessions. */
struct spec
{
    const char *name;                    /* spec name */
    void (*setup)(struct ctx *c);        /* initial data */
    const struct step *s[2];             /* sessions */
    int n[2];                            /* steps per session */
    void (*check)(struct ctx *c, const char *perm); /* after each */
};

static void run_perm(struct ctx *c, const struct spec *sp, const int *order,
                     int len)
{
    char desc[256] = "";
    int idx[2] = {0, 0};
    for (int i = 0; i < len; i++) {
        int s = order[i];
        strcat(desc, sp->s[s][idx[s]].name);
        strcat(desc, " ");
        idx[s]++;
    }
    idx[0] = idx[1] = 0;
    memset(c->seen, 0, sizeof c->seen);
    c->nseen[0] = c->nseen[1] = 0;
    c->commit_rc[0] = c->commit_rc[1] = -1;
    c->committed_at[0] = c->committed_at[1] = -1;
    c->clock = 0;
    sp->setup(c);
    for (int i = 0; i < len; i++) {
        int s = order[i];
        c->clock = i + 1;
        sp->s[s][idx[s]++].fn(c, s);
    }
    for (int s = 0; s < 2; s++) {
        mvcc_txn_rollback(c->txn[s]); /* sessions that never commit */
        c->txn[s] = NULL;
    }
    sp->check(c, desc);
}

static int perms(struct ctx *c, const struct spec *sp, int *order, int pos,
                 int u0, int u1)
{
    if (u0 == sp->n[0] && u1 == sp->n[1]) {
        run_perm(c, sp, order, pos);
        c->perm++;
        return 1;
    }
    int n = 0;
    if (u0 < sp->n[0]) {
        order[pos] = 0;
        n += perms(c, sp, order, pos + 1, u0 + 1, u1);
    }
    if (u1 < sp->n[1]) {
        order[pos] = 1;
        n += perms(c, sp, order, pos + 1, u0, u1 + 1);
    }
    return n;
}

static int run_spec(struct tu_cluster *k, const struct spec *sp)
{
    static int base = 0;
    struct ctx c;
    memset(&c, 0, sizeof c);
    c.k = k;
    c.perm = base;
    int order[32] = {0};
    int n = perms(&c, sp, order, 0, 0, 0);
    base = c.perm;
    return n;
}

/* dirty_read */
static void dr_setup(struct ctx *c)
{
    const char *n[] = {"x"};
    long v[] = {0};
    init(c, n, v, 1);
}
static void dr_w1(struct ctx *c, int s) { wr(c, s, "x", 1); }
static void dr_r2(struct ctx *c, int s) { rd(c, s, "x"); }
static void dr_check(struct ctx *c, const char *perm)
{
    long want = c->committed_at[0] >= 0 && c->began_at[1] > c->committed_at[0]
                    ? 1
                    : 0;
    if (c->seen[1][0] != want || c->seen[1][1] != want)
        fail_msg("dirty_read [%s]: read %ld,%ld want %ld", perm,
                 c->seen[1][0], c->seen[1][1], want);
}
static const struct step dr_s1[] = {{"b1", b}, {"w1", dr_w1}, {"c1", cm}};
static const struct step dr_s2[] = {{"b2", b}, {"r2", dr_r2}, {"r2", dr_r2}};

/* lost_update */
static void lu_setup(struct ctx *c) { dr_setup(c); }
static void lu_r(struct ctx *c, int s) { rd(c, s, "x"); }
static void lu_w(struct ctx *c, int s) { wr(c, s, "x", c->seen[s][0] + 1); }
static void lu_check(struct ctx *c, const char *perm)
{
    long commits = (c->commit_rc[0] == 0) + (c->commit_rc[1] == 0);
    if (final(c, "x") != commits)
        fail_msg("lost_update [%s]: x=%ld after %ld commits", perm,
                 final(c, "x"), commits);
    if (commits == 0)
        fail_msg("lost_update [%s]: nobody committed", perm);
}
static const struct step lu_s1[] = {{"b1", b}, {"r1", lu_r}, {"w1", lu_w},
                                    {"c1", cm}};
static const struct step lu_s2[] = {{"b2", b}, {"r2", lu_r}, {"w2", lu_w},
                                    {"c2", cm}};

/* read_skew */
static void rs_setup(struct ctx *c)
{
    const char *n[] = {"acct_x", "zacct_y"}; /* two shards */
    long v[] = {50, 50};
    init(c, n, v, 2);
}
static void rs_rx(struct ctx *c, int s) { rd(c, s, "acct_x"); }
static void rs_ry(struct ctx *c, int s) { rd(c, s, "zacct_y"); }
static void rs_wx(struct ctx *c, int s)
{
    wr(c, s, "acct_x", rd(c, s, "acct_x") - 10);
}
static void rs_wy(struct ctx *c, int s)
{
    wr(c, s, "zacct_y", rd(c, s, "zacct_y") + 10);
}
static void rs_check(struct ctx *c, const char *perm)
{
    if (c->seen[0][0] + c->seen[0][1] != 100)
        fail_msg("read_skew [%s]: saw %ld + %ld", perm, c->seen[0][0],
                 c->seen[0][1]);
    if (c->commit_rc[1] != 0)
        fail_msg("read_skew [%s]: transfer failed", perm);
}
static const struct step rs_s1[] = {{"b1", b}, {"rx1", rs_rx}, {"ry1", rs_ry}};
static const struct step rs_s2[] = {{"b2", b}, {"wx2", rs_wx}, {"wy2", rs_wy},
                                    {"c2", cm}};

/* fractured_read */
static void fr_setup(struct ctx *c)
{
    const char *n[] = {"a", "z"};
    long v[] = {0, 0};
    init(c, n, v, 2);
}
static void fr_w(struct ctx *c, int s)
{
    wr(c, s, "a", 1);
    wr(c, s, "z", 1);
}
static void fr_ra(struct ctx *c, int s) { rd(c, s, "a"); }
static void fr_rz(struct ctx *c, int s) { rd(c, s, "z"); }
static void fr_check(struct ctx *c, const char *perm)
{
    long want = c->committed_at[0] >= 0 && c->began_at[1] > c->committed_at[0]
                    ? 1
                    : 0;
    if (c->seen[1][0] != want || c->seen[1][1] != want)
        fail_msg("fractured_read [%s]: a=%ld z=%ld want %ld", perm,
                 c->seen[1][0], c->seen[1][1], want);
}
static const struct step fr_s1[] = {{"b1", b}, {"w1", fr_w}, {"c1", cm}};
static const struct step fr_s2[] = {{"b2", b}, {"ra2", fr_ra}, {"rz2", fr_rz}};

/* write_skew: each reads both and clears a different one */
static void ws_setup(struct ctx *c)
{
    const char *n[] = {"docx", "docy"};
    long v[] = {1, 1};
    init(c, n, v, 2);
}
static void ws_r(struct ctx *c, int s)
{
    rd(c, s, "docx");
    rd(c, s, "docy");
}
static void ws_w1(struct ctx *c, int s) { wr(c, s, "docx", 0); }
static void ws_w2(struct ctx *c, int s) { wr(c, s, "docy", 0); }
static struct ctx *ws_stats_ctx;
static int ws_both;
static void ws_check(struct ctx *c, const char *perm)
{
    (void)ws_stats_ctx;
    if (c->commit_rc[0] != 0 || c->commit_rc[1] != 0)
        fail_msg("write_skew [%s]: disjoint writes must both commit", perm);
    bool overlapped = c->began_at[1] < c->committed_at[0] &&
                      c->began_at[0] < c->committed_at[1];
    if (overlapped) {
        ws_both++; /* the anomaly SI allows */
        if (final(c, "docx") + final(c, "docy") != 0)
            fail_msg("write_skew [%s]: expected both cleared", perm);
    }
}
static const struct step ws_s1[] = {{"b1", b}, {"r1", ws_r}, {"w1", ws_w1},
                                    {"c1", cm}};
static const struct step ws_s2[] = {{"b2", b}, {"r2", ws_r}, {"w2", ws_w2},
                                    {"c2", cm}};

/* for_update: store-level pessimistic locks, no waiting ("blocks" =
 * MVCC_LOCKED), lock then prewrite+commit. */
static void fu_setup(struct ctx *c) { dr_setup(c); }
static void fu_lock(struct ctx *c, int s)
{
    char k[32];
    key(c, "x", k);
    mvcc_ts ts;
    assert_int_equal(mvcc_local_tso_next(&c->k->tso, &ts), 0);
    if (c->lock_ts[s] == 0)
        c->lock_ts[s] = ts;
    struct mvcc_key kk = {k, strlen(k)};
    struct mvcc_pessimistic_req req;
    memset(&req, 0, sizeof req);
    req.keys = &kk;
    req.n = 1;
    req.primary = k;
    req.primary_len = strlen(k);
    req.start_ts = c->lock_ts[s];
    req.for_update_ts = ts;
    req.lock_ttl = 60000;
    struct mvcc_result r;
    mvcc_result_init(&r);
    uint64_t shard;
    const uint8_t *e;
    size_t el;
    c->k->tr.locate(c->k->tr.ctx, k, strlen(k), &shard, &e, &el);
    c->lock_rc[s] = mvcc_acquire_pessimistic_lock(c->k->s[shard], &req, &r);
    mvcc_result_reset(&r);
}
static void fu_commit(struct ctx *c, int s)
{
    char k[32];
    key(c, "x", k);
    uint64_t shard;
    const uint8_t *e;
    size_t el;
    c->k->tr.locate(c->k->tr.ctx, k, strlen(k), &shard, &e, &el);
    struct mvcc_result r;
    mvcc_result_init(&r);
    if (c->lock_rc[s] == 0) {
        assert_int_equal(tu_prewrite_put_ex(c->k->s[shard], k,
                                            c->lock_ts[s], true, false, &r),
                         0);
        mvcc_ts cts;
        assert_int_equal(mvcc_local_tso_next(&c->k->tso, &cts), 0);
        struct mvcc_key kk = {k, strlen(k)};
        assert_int_equal(
            mvcc_commit(c->k->s[shard], &kk, 1, c->lock_ts[s], cts, &r), 0);
        c->committed_at[s] = c->clock;
    } else {
        struct mvcc_key kk = {k, strlen(k)};
        assert_int_equal(mvcc_batch_rollback(c->k->s[shard], &kk, 1,
                                             c->lock_ts[s], &r),
                         0);
    }
    mvcc_result_reset(&r);
}
static void fu_check(struct ctx *c, const char *perm)
{
    /* The second locker is blocked iff the first holds the lock then. */
    for (int s = 0; s < 2; s++) {
        int o = 1 - s;
        bool held = c->began_at[o] && c->began_at[o] < c->began_at[s] &&
                    (c->committed_at[o] < 0 ||
                     c->committed_at[o] > c->began_at[s]) &&
                    c->lock_rc[o] == 0;
        int want = held ? MVCC_LOCKED : 0;
        if (c->lock_rc[s] != want)
            fail_msg("for_update [%s]: session %d lock %d, want %d", perm,
                     s + 1, c->lock_rc[s], want);
    }
    c->lock_ts[0] = c->lock_ts[1] = 0;
    c->began_at[0] = c->began_at[1] = 0;
}
static void fu_l(struct ctx *c, int s)
{
    c->began_at[s] = c->clock;
    fu_lock(c, s);
}
static const struct step fu_s1[] = {{"l1", fu_l}, {"c1", fu_commit}};
static const struct step fu_s2[] = {{"l2", fu_l}, {"c2", fu_commit}};

static const struct spec specs[] = {
    {"dirty_read", dr_setup, {dr_s1, dr_s2}, {3, 3}, dr_check},
    {"lost_update", lu_setup, {lu_s1, lu_s2}, {4, 4}, lu_check},
    {"read_skew", rs_setup, {rs_s1, rs_s2}, {3, 4}, rs_check},
    {"fractured_read", fr_setup, {fr_s1, fr_s2}, {3, 3}, fr_check},
    {"write_skew", ws_setup, {ws_s1, ws_s2}, {4, 4}, ws_check},
    {"for_update", fu_setup, {fu_s1, fu_s2}, {2, 2}, fu_check},
};

static void dirty_read(void **state)
{
    assert_int_equal(run_spec(*state, &specs[0]), 20);
}
static void lost_update(void **state)
{
    assert_int_equal(run_spec(*state, &specs[1]), 70);
}
static void read_skew(void **state)
{
    assert_int_equal(run_spec(*state, &specs[2]), 35);
}
static void fractured_read(void **state)
{
    assert_int_equal(run_spec(*state, &specs[3]), 20);
}
static void write_skew_is_allowed(void **state)
{
    ws_both = 0;
    assert_int_equal(run_spec(*state, &specs[4]), 70);
    assert_true(ws_both > 0); /* observed, as SI permits */
}
static void for_update_blocks(void **state)
{
    assert_int_equal(run_spec(*state, &specs[5]), 6);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        TU_BOTH_CLUSTER(dirty_read),
        TU_BOTH_CLUSTER(lost_update),
        TU_BOTH_CLUSTER(read_skew),
        TU_BOTH_CLUSTER(fractured_read),
        TU_BOTH_CLUSTER(write_skew_is_allowed),
        TU_BOTH_CLUSTER(for_update_blocks),
    };
    return cmocka_run_group_tests_name("libmvcc/isolation", tests, NULL,
                                       NULL);
}
