/* test_merge.c: merging a source region into its neighbour over the
 * in-process cluster (DESIGN.md "Merge"): success, a lagging replica, a
 * replica catching the source up from its own log, restarts between the
 * steps, a refused commit fenced and rolled back, a source leader change,
 * and a client's cache led from the merged-away source to the target.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cluster.h"

struct mw {
    bool done;             /* completed */
    int rc;                /* result */
    struct region_err err; /* detail */
};

static void mw_done(void *ud, const struct region_reply *r)
{
    struct mw *w = ud;
    w->done = true;
    w->rc = r->rc;
    if (r->err)
        w->err = *r->err;
}

static int mw_wait(struct cluster *c, struct mw *w)
{
    for (int i = 0; i < 20000 && !w->done; i++) {
        cl_pump(c, 1);
        if (i % 4 == 3)
            cl_tick(c);
    }
    return w->done ? w->rc : REGION_ETIMEOUT;
}

enum step { PREPARE, COMMIT, REJECT, ROLLBACK };

/* One merge step through store at; the code it returned at once, or the
 * one it completed with. */
static int step(struct cluster *c, int at, enum step k, uint64_t source,
                uint64_t target)
{
    struct mw w = {0};
    struct region_ctx ctx = {source, 0, 0};
    struct region_store *s = c->st[at].s;
    int rc = k == PREPARE ? region_merge_prepare(s, &ctx, target, mw_done, &w,
                                                 NULL)
             : k == COMMIT ? region_merge_commit(s, source, mw_done, &w, NULL)
             : k == REJECT ? region_merge_reject(s, source, mw_done, &w, NULL)
                           : region_merge_rollback(s, source, mw_done, &w,
                                                   NULL);
    if (rc != 0)
        return rc;
    return mw_wait(c, &w);
}

/* Commit, asking again while some replica lacks the source's log. */
static int commit_when_ready(struct cluster *c, int at, uint64_t source)
{
    int rc = REGION_ESERVER_BUSY;
    for (int t = 0; t < 500 && rc == REGION_ESERVER_BUSY; t++) {
        rc = step(c, at, COMMIT, source, 0);
        if (rc == REGION_ESERVER_BUSY)
            cl_tick(c);
    }
    return rc;
}

/* Prepare, asking again while some replica is not in step. */
static int prepare_when_ready(struct cluster *c, int at, uint64_t source,
                              uint64_t target)
{
    int rc = REGION_ESERVER_BUSY;
    for (int t = 0; t < 200 && rc == REGION_ESERVER_BUSY; t++) {
        rc = step(c, at, PREPARE, source, target);
        if (rc == REGION_ESERVER_BUSY)
            cl_tick(c);
    }
    return rc;
}

static size_t n_regions(struct cluster *c, int i)
{
    size_t n = 0;
    region_store_regions(c->st[i].s, NULL, 0, &n);
    return n;
}

static void put_keys(struct cluster *c, int at, uint64_t region,
                     const char *keys)
{
    for (const char *k = keys; *k; k++) {
        char key[2] = {*k, 0};
        assert_int_equal(cl_put(c, at, region, key, key, NULL), 0);
    }
}

/* Every key reads back from region at its leader. */
static void check_keys(struct cluster *c, uint64_t region, const char *keys)
{
    uint64_t r;
    for (const char *k = keys; *k; k++) {
        char key[2] = {*k, 0}, *v = NULL;
        int l = cl_leader_for(c, key, &r);
        assert_true(l > 0);
        assert_int_equal(r, region);
        assert_int_equal(cl_get(c, l, r, key, &v, NULL), 0);
        assert_string_equal(v, key);
        free(v);
    }
}

/* Key reads back as itself from region 1 on store i alone (applied
 * state, no leader needed). */
static void local_has(struct cluster *c, int i, const char *key)
{
    uint8_t *val = NULL;
    size_t vl = 0;
    struct region_ctx ctx = {1, 0, 0};
    assert_int_equal(region_raw_get(c->st[i].s, &ctx, key, strlen(key), &val,
                                    &vl, NULL),
                     0);
    assert_int_equal(vl, strlen(key));
    assert_memory_equal(val, key, vl);
    region_free(val);
}

/* Two regions over every store: 1 = [, m), 2 = [m, ); both led by 1. */
static void two_regions(struct cluster *c)
{
    cl_two_regions(c);
    put_keys(c, 1, 1, "abc");
    put_keys(c, 1, 2, "nxz");
}

/* The merged region on every store: one region over every key, the
 * source a tombstone. */
static void check_merged(struct cluster *c, uint64_t version)
{
    for (int i = 1; i <= c->n; i++) {
        struct region_desc d;
        assert_int_equal(n_regions(c, i), 1);
        assert_int_equal(region_store_region(c->st[i].s, 1, &d, NULL), 0);
        assert_int_equal(d.start_len, 0);
        assert_int_equal(d.end_len, 0);
        assert_int_equal(d.version, version);
        assert_int_equal(region_store_region(c->st[i].s, 2, &d, NULL),
                         REGION_ENOT_FOUND);
    }
}

static void merge_success(void **state)
{
    (void)state;
    struct cluster c = {0};
    two_regions(&c);
    struct region_err err;
    /* not adjacent to itself, nor to an unknown region */
    struct region_ctx ctx = {2, 0, 0};
    assert_int_equal(region_merge_prepare(c.st[1].s, &ctx, 9, mw_done, NULL,
                                          &err),
                     REGION_ENOT_FOUND);
    /* a follower cannot prepare */
    assert_int_equal(step(&c, 2, PREPARE, 2, 1), REGION_ENOT_LEADER);
    assert_int_equal(step(&c, 1, COMMIT, 2, 1), REGION_EINVAL); /* unprepared */
    assert_int_equal(step(&c, 1, PREPARE, 2, 1), 0);
    for (int i = 1; i <= 3; i++) {
        struct region_merge_state ms;
        cl_tick(&c);
        assert_int_equal(region_store_merge_state(c.st[i].s, 2, &ms), 0);
        assert_int_equal(ms.target, 1);
        assert_false(ms.rejected);
    }
    /* the source serves nothing now; the target does */
    assert_int_equal(cl_put(&c, 1, 2, "y", "y", &err), REGION_ESERVER_BUSY);
    char *v = NULL;
    assert_int_equal(cl_get(&c, 1, 2, "n", &v, &err), REGION_ESERVER_BUSY);
    assert_int_equal(cl_split(&c, 1, 2, "q", 0, &err), REGION_ESERVER_BUSY);
    assert_int_equal(cl_change_peer(&c, 1, 2, false, 3, &err),
                     REGION_ESERVER_BUSY);
    assert_int_equal(step(&c, 1, PREPARE, 2, 1), REGION_ESERVER_BUSY);
    /* nor may its target merge into it */
    assert_int_equal(step(&c, 1, PREPARE, 1, 2), REGION_EINVAL);
    assert_int_equal(cl_put(&c, 1, 1, "d", "d", NULL), 0);
    /* the rollback needs a reject first */
    assert_int_equal(step(&c, 1, ROLLBACK, 2, 1), REGION_ESERVER_BUSY);
    assert_int_equal(commit_when_ready(&c, 1, 2), 0);
    for (int t = 0; t < 5; t++)
        cl_tick(&c);
    /* versions: 1 and 2 were 1; the prepare made 2's 2; the union 3 */
    check_merged(&c, 3);
    check_keys(&c, 1, "abcdnxz");
    assert_int_equal(cl_put(&c, 1, 1, "y", "y", NULL), 0);
    /* the source answers RegionNotFound; a late commit or reject too */
    assert_int_equal(cl_put(&c, 1, 2, "y", "y", &err), REGION_ENOT_FOUND);
    assert_int_equal(step(&c, 1, COMMIT, 2, 1), REGION_ENOT_FOUND);
    assert_int_equal(step(&c, 1, REJECT, 2, 1), REGION_ENOT_FOUND);
    struct region_store_stats st;
    region_store_stats(c.st[2].s, &st);
    assert_int_equal(st.merges, 1);
    assert_int_equal(st.regions, 1);
    /* every store comes back merged, with every key */
    for (int i = 1; i <= 3; i++)
        cl_stop(&c, i);
    for (int i = 1; i <= 3; i++)
        cl_start(&c, i);
    check_merged(&c, 3);
    check_keys(&c, 1, "abcdnxyz");
    cl_destroy(&c);
}

/* Fill the stack below the caller with a pattern, so that a variable a
 * later call leaves uninitialized there reads as garbage, not zero. */
static void __attribute__((noinline)) poison_stack(void)
{
    volatile uint8_t junk[1 << 16];
    for (size_t i = 0; i < sizeof junk; i++)
        junk[i] = 0xa5;
}

/* A read barrier waiting for its index when the prepare applies (let in
 * while the prepare was committed, not applied) is refused ServerIsBusy
 * with a detail that names no region. The detail
 * was left uninitialized: kvd copied its garbage region into the reply
 * and crashed (SIGSEGV in fill_region_error, test_chaos.sh
 * CHAOS_MERGE=1). */
static void read_waiting_at_the_prepare(void **state)
{
    (void)state;
    struct cluster c = {0};
    two_regions(&c);
    struct mw pw = {0}, rw = {0};
    struct region_ctx ctx = {2, 0, 0};
    assert_int_equal(region_merge_prepare(c.st[1].s, &ctx, 1, mw_done, &pw,
                                          NULL),
                     0);
    cl_commit_unapplied(&c, 1, 2); /* not merging yet: the read is let in */
    assert_int_equal(region_read(c.st[1].s, &ctx, mw_done, &rw, NULL), 0);
    c.overlap = false;
    for (int i = 0; i < 2000 && !(pw.done && rw.done); i++) {
        poison_stack();
        cl_pump(&c, 1);
    }
    assert_true(pw.done);
    assert_int_equal(pw.rc, 0);
    assert_true(rw.done);
    assert_int_equal(rw.rc, REGION_ESERVER_BUSY);
    assert_int_equal(rw.err.code, REGION_ESERVER_BUSY);
    assert_false(rw.err.has_region);
    assert_int_equal(rw.err.region.start_len, 0);
    assert_int_equal(rw.err.leader, 0);
    cl_destroy(&c);
}

/* Regions 1 = [, f), 2 = [f, m) and 3 = [m, ): 1 prepares to merge into
 * 2 through store 1, and store 2 has that prepare in its log but has not
 * learnt it is committed. Store 2, leading 2 and 3, must not prepare 2
 * into 3: were 2 merged away, 1's commit would be refused ("the target
 * is merging itself") and its reject would have no target to go to, so 1
 * would stay frozen for good. Before, only a prepare applied on store 2
 * counted. */
/* Three regions over every store: 1 = [, f) led by store 1, 2 = [f, m)
 * and 3 = [m, ) led by store 2. */
static void three_regions(struct cluster *c)
{
    cl_init(c, 3, false);
    cl_bootstrap(c, 1, NULL, "f");
    cl_bootstrap(c, 2, "f", "m");
    cl_bootstrap(c, 3, "m", NULL);
    for (uint64_t id = 1; id <= 3; id++)
        cl_wait_leader(c, id);
    cl_lead(c, 1, 1);
    cl_lead(c, 2, 2);
    cl_lead(c, 3, 2);
}

static void prepare_refused_while_a_source_logged_into_it(void **state)
{
    (void)state;
    struct cluster c = {0};
    three_regions(&c);
    assert_int_equal(cl_prepare_logged(&c, 1, 1, 2, 2), 0);
    struct region_merge_state ms;
    assert_int_equal(region_store_merge_state(c.st[2].s, 1, &ms), 0);
    assert_int_equal(ms.target, 0); /* logged, not applied */
    assert_int_equal(step(&c, 2, PREPARE, 2, 3), REGION_ESERVER_BUSY);
    /* once store 2 applies it, 1 merges into 2 */
    c.cut[1][2] = false;
    cl_lead(&c, 1, 2);
    assert_int_equal(commit_when_ready(&c, 2, 1), 0);
    for (int t = 0; t < 5; t++)
        cl_tick(&c);
    for (int i = 1; i <= 3; i++)
        assert_int_equal(n_regions(&c, i), 2);
    cl_destroy(&c);
}

/* A replica cut off through the prepare holds the commit back; once it
 * has the source's log the commit goes through everywhere. */
static void merge_with_lagging_replica(void **state)
{
    (void)state;
    struct cluster c = {0};
    two_regions(&c);
    cl_isolate(&c, 3, true);
    put_keys(&c, 1, 2, "opq");
    assert_int_equal(step(&c, 1, PREPARE, 2, 1), 0);
    assert_int_equal(step(&c, 1, COMMIT, 2, 1), REGION_ESERVER_BUSY);
    cl_isolate(&c, 3, false);
    assert_int_equal(commit_when_ready(&c, 1, 2), 0);
    for (int t = 0; t < 5; t++)
        cl_tick(&c);
    check_merged(&c, 3);
    /* store 3 alone holds every key of the source */
    cl_stop(&c, 1);
    cl_stop(&c, 2);
    for (const char *k = "nopqxz"; *k; k++) {
        char key[2] = {*k, 0};
        local_has(&c, 3, key);
    }
    cl_destroy(&c);
}

/* A prepare waits until every replica is in step with the source's
 * leader: after a leader change, a replica the new leader has not heard
 * from is still probing, and the prepare is refused (ServerIsBusy)
 * instead of freezing the source until it answers. */
static void prepare_waits_for_replicas_in_step(void **state)
{
    (void)state;
    struct cluster c = {0};
    two_regions(&c);
    cl_isolate(&c, 3, true);
    cl_lead(&c, 2, 2);
    cl_lead(&c, 1, 2);
    assert_int_equal(step(&c, 2, PREPARE, 2, 1), REGION_ESERVER_BUSY);
    struct region_merge_state ms;
    assert_int_equal(region_store_merge_state(c.st[2].s, 2, &ms), 0);
    assert_int_equal(ms.target, 0); /* nothing prepared */
    assert_int_equal(cl_put(&c, 2, 2, "o", "o", NULL), 0); /* it serves */
    cl_isolate(&c, 3, false);
    assert_int_equal(prepare_when_ready(&c, 2, 2, 1), 0);
    assert_int_equal(commit_when_ready(&c, 2, 2), 0);
    for (int t = 0; t < 5; t++)
        cl_tick(&c);
    check_merged(&c, 3);
    check_keys(&c, 1, "abcnoxz");
    cl_destroy(&c);
}

/* Nor over a replica silent for an election timeout (a dead store: its
 * progress still says streaming); once it answers again, the merge goes
 * through. */
static void prepare_refused_over_a_silent_replica(void **state)
{
    (void)state;
    struct cluster c = {0};
    two_regions(&c);
    cl_isolate(&c, 3, true);
    for (int t = 0; t < 50; t++)
        cl_tick(&c);
    struct region_err err;
    struct region_ctx ctx = {2, 0, 0};
    assert_int_equal(region_merge_prepare(c.st[1].s, &ctx, 1, mw_done, NULL,
                                          &err),
                     REGION_ESERVER_BUSY);
    assert_non_null(strstr(err.msg, "store 3 is not in step (silent)"));
    cl_isolate(&c, 3, false);
    assert_int_equal(prepare_when_ready(&c, 1, 2, 1), 0);
    assert_int_equal(commit_when_ready(&c, 1, 2), 0);
    for (int t = 0; t < 5; t++)
        cl_tick(&c);
    check_merged(&c, 3);
    cl_destroy(&c);
}

/* Store 3 has the prepare in its log but has not learnt it is committed
 * when the target's commit reaches it: the commit applies the source's
 * entries from 3's own log first. */
static void merge_catches_up_from_local_log(void **state)
{
    (void)state;
    struct cluster c = {0};
    two_regions(&c);
    /* store 2 lags, so the prepare commits only with store 3's ack */
    cl_isolate(&c, 2, true);
    struct mw w = {0};
    struct region_ctx ctx = {2, 0, 0};
    struct region_op op = {REGION_OP_PUT, "r", 1, "r", 1};
    assert_int_equal(region_raw_write(c.st[1].s, &ctx, &op, 1, mw_done, &w,
                                      NULL),
                     0);
    assert_int_equal(mw_wait(&c, &w), 0);
    assert_int_equal(cl_prepare_logged(&c, 1, 2, 1, 3), 0);
    struct region_merge_state ms;
    assert_int_equal(region_store_merge_state(c.st[3].s, 2, &ms), 0);
    assert_int_equal(ms.target, 0); /* logged, not applied */
    /* 2 comes back and takes the source's log and the commit; 3 sees
     * neither yet */
    cl_isolate(&c, 2, false);
    c.cut[1][3] = true;
    c.cut[2][3] = true;
    assert_int_equal(commit_when_ready(&c, 1, 2), 0);
    assert_int_equal(n_regions(&c, 1), 1);
    assert_int_equal(n_regions(&c, 3), 2);
    /* the target's log reaches 3: it applies the source from its log */
    c.cut[1][3] = false;
    c.cut[2][3] = false;
    for (int t = 0; t < 10; t++)
        cl_tick(&c);
    check_merged(&c, 3);
    struct region_store_stats st;
    region_store_stats(c.st[3].s, &st);
    /* the put came with the prepare's append, applied; the prepare not */
    assert_int_equal(st.merge_catchup, 1);
    cl_stop(&c, 1);
    cl_stop(&c, 2);
    local_has(&c, 3, "r");
    cl_destroy(&c);
}

/* A store down between prepare and commit comes back marked; the whole
 * cluster restarted after the commit comes back merged. */
static void merge_across_restarts(void **state)
{
    (void)state;
    struct cluster c = {0};
    two_regions(&c);
    assert_int_equal(step(&c, 1, PREPARE, 2, 1), 0);
    cl_tick(&c);
    for (int i = 3; i >= 1; i--) {
        cl_stop(&c, i);
        cl_start(&c, i);
        struct region_merge_state ms;
        assert_int_equal(region_store_merge_state(c.st[i].s, 2, &ms), 0);
        assert_int_equal(ms.target, 1);
        struct region_desc d;
        assert_int_equal(region_store_region(c.st[i].s, 2, &d, NULL), 0);
        assert_int_equal(d.version, 2);
    }
    cl_wait_leader(&c, 1);
    cl_wait_leader(&c, 2);
    cl_lead(&c, 1, 1);
    cl_lead(&c, 2, 1);
    struct region_err err;
    assert_int_equal(cl_put(&c, 1, 2, "y", "y", &err), REGION_ESERVER_BUSY);
    /* store 3 is down when the commit applies, and catches up after */
    cl_stop(&c, 3);
    assert_int_equal(commit_when_ready(&c, 1, 2), 0);
    cl_start(&c, 3);
    for (int t = 0; t < 10; t++)
        cl_tick(&c);
    check_merged(&c, 3);
    for (int i = 1; i <= 3; i++)
        cl_stop(&c, i);
    for (int i = 1; i <= 3; i++)
        cl_start(&c, i);
    check_merged(&c, 3);
    check_keys(&c, 1, "abcnxz");
    cl_destroy(&c);
}

/* A store down from the prepare on misses the commit, and the target's
 * log is compacted past it meanwhile: the store gets the union by the
 * target's snapshot, which drops the source it still holds. */
static void union_by_snapshot_drops_source(void **state)
{
    (void)state;
    struct cluster c = {0};
    c.log_keep_entries = 10;
    two_regions(&c);
    assert_int_equal(step(&c, 1, PREPARE, 2, 1), 0);
    for (int t = 0; t < 3; t++)
        cl_tick(&c);
    cl_stop(&c, 3);
    assert_int_equal(commit_when_ready(&c, 1, 2), 0);
    char k[8];
    for (int i = 0; i < 40; i++) {
        snprintf(k, sizeof k, "%c%02d", i % 2 ? 'p' : 'g', i);
        assert_int_equal(cl_put(&c, 1, 1, k, k, NULL), 0);
    }
    cl_start(&c, 3);
    for (int t = 0; t < 500 && n_regions(&c, 3) != 1; t++)
        cl_tick(&c);
    check_merged(&c, 3);
    struct region_store_stats st;
    region_store_stats(c.st[3].s, &st);
    assert_int_equal(st.merges, 1);
    assert_int_equal(st.merge_catchup, 0);
    assert_true(st.snaps_applied >= 1);
    /* store 3 alone holds the source's keys and the later ones */
    cl_stop(&c, 1);
    cl_stop(&c, 2);
    static const char *const keys[] = {"n", "x", "g00", "p39"};
    for (size_t i = 0; i < 4; i++)
        local_has(&c, 3, keys[i]);
    /* and comes back so */
    cl_stop(&c, 3);
    cl_start(&c, 3);
    assert_int_equal(n_regions(&c, 3), 1);
    cl_destroy(&c);
}

/* The target splits after the prepare: the commit is refused at apply;
 * the reject fences any commit of that prepare, then the source rolls
 * back and serves again, and merges later into its new neighbour. */
static void refused_commit_rolls_back(void **state)
{
    (void)state;
    struct cluster c = {0};
    two_regions(&c);
    assert_int_equal(step(&c, 1, PREPARE, 2, 1), 0);
    assert_int_equal(cl_split(&c, 1, 1, "f", 3, NULL), 0);
    assert_int_equal(commit_when_ready(&c, 1, 2), REGION_EINVAL);
    assert_int_equal(step(&c, 1, ROLLBACK, 2, 1), REGION_ESERVER_BUSY);
    assert_int_equal(step(&c, 1, REJECT, 2, 1), 0);
    /* no commit of that prepare applies after the reject */
    assert_int_equal(commit_when_ready(&c, 1, 2), REGION_EEXISTS);
    for (int i = 1; i <= 3; i++) {
        struct region_merge_state ms;
        cl_tick(&c);
        assert_int_equal(region_store_merge_state(c.st[i].s, 2, &ms), 0);
        assert_true(ms.rejected);
    }
    assert_int_equal(step(&c, 1, ROLLBACK, 2, 1), 0);
    assert_int_equal(step(&c, 1, COMMIT, 2, 1), REGION_EINVAL); /* unmarked */
    for (int i = 1; i <= 3; i++) {
        struct region_merge_state ms;
        struct region_desc d;
        cl_tick(&c);
        assert_int_equal(region_store_merge_state(c.st[i].s, 2, &ms), 0);
        assert_int_equal(ms.target, 0);
        assert_int_equal(region_store_region(c.st[i].s, 2, &d, NULL), 0);
        assert_int_equal(d.version, 3); /* prepare and rollback */
    }
    assert_int_equal(cl_put(&c, 1, 2, "y", "y", NULL), 0);
    check_keys(&c, 2, "nxyz");
    /* restarted, it stays rolled back */
    cl_stop(&c, 2);
    cl_start(&c, 2);
    struct region_merge_state ms;
    assert_int_equal(region_store_merge_state(c.st[2].s, 2, &ms), 0);
    assert_int_equal(ms.target, 0);
    /* and merges into its new neighbour [f, m) */
    cl_wait_leader(&c, 3);
    cl_lead(&c, 3, 1);
    cl_lead(&c, 2, 1);
    assert_int_equal(step(&c, 1, PREPARE, 2, 3), 0);
    /* the target does not merge away meanwhile */
    assert_int_equal(step(&c, 1, PREPARE, 3, 1), REGION_ESERVER_BUSY);
    assert_int_equal(commit_when_ready(&c, 1, 2), 0);
    for (int t = 0; t < 5; t++)
        cl_tick(&c);
    for (int i = 1; i <= 3; i++) {
        struct region_desc d;
        assert_int_equal(n_regions(&c, i), 2);
        assert_int_equal(region_store_region(c.st[i].s, 3, &d, NULL), 0);
        assert_int_equal(d.end_len, 0);
        assert_memory_equal(d.start, "f", 1);
    }
    check_keys(&c, 3, "nxyz");
    cl_destroy(&c);
}

/* The target merges away first: region 1 is prepared into 2 while store
 * 2, leading 2, has not seen that prepare (the link from store 1 to it
 * cut), so 2 is prepared into 3 and taken in. Region 1's prepare can then
 * never be committed (2's log is closed) nor rejected through 2's log:
 * the commit that took 2 in records it rejected on every store where 1
 * was marked, and 1 rolls back and serves again instead of refusing
 * every request for good. */
static void target_merged_away_first(void **state)
{
    (void)state;
    struct cluster c = {0};
    three_regions(&c);
    put_keys(&c, 1, 1, "ab");
    put_keys(&c, 2, 2, "gh");
    put_keys(&c, 2, 3, "xy");
    c.cut[1][2] = true;
    assert_int_equal(step(&c, 1, PREPARE, 1, 2), 0); /* with store 3 */
    struct region_merge_state ms;
    assert_int_equal(region_store_merge_state(c.st[2].s, 1, &ms), 0);
    assert_int_equal(ms.target, 0); /* store 2 knows nothing of it */
    assert_int_equal(prepare_when_ready(&c, 2, 2, 3), 0);
    c.cut[1][2] = false;
    assert_int_equal(commit_when_ready(&c, 2, 2), 0);
    for (int t = 0; t < 10; t++)
        cl_tick(&c);
    /* 2 is gone everywhere; 1's prepare is rejected on its leader */
    for (int i = 1; i <= 3; i++) {
        struct region_desc d;
        assert_int_equal(region_store_region(c.st[i].s, 2, &d, NULL),
                         REGION_ENOT_FOUND);
        assert_int_equal(region_store_region(c.st[i].s, 3, &d, NULL), 0);
        assert_memory_equal(d.start, "f", 1);
    }
    assert_int_equal(region_store_merge_state(c.st[1].s, 1, &ms), 0);
    assert_int_equal(ms.target, 2);
    assert_true(ms.rejected);
    assert_int_equal(region_store_merge_state(c.st[3].s, 1, &ms), 0);
    assert_true(ms.rejected);
    assert_int_equal(step(&c, 1, ROLLBACK, 1, 2), 0);
    for (int t = 0; t < 5; t++)
        cl_tick(&c);
    for (int i = 1; i <= 3; i++) {
        assert_int_equal(region_store_merge_state(c.st[i].s, 1, &ms), 0);
        assert_int_equal(ms.target, 0);
    }
    assert_int_equal(cl_put(&c, 1, 1, "c", "c", NULL), 0);
    check_keys(&c, 1, "abc");
    check_keys(&c, 3, "ghxy");
    /* restarted, store 3 keeps it rolled back */
    cl_stop(&c, 3);
    cl_start(&c, 3);
    assert_int_equal(region_store_merge_state(c.st[3].s, 1, &ms), 0);
    assert_int_equal(ms.target, 0);
    cl_destroy(&c);
}

/* The gap target_merged_away_first leaves: store 3 holds region 1's
 * prepare into 2 in its log but applies it only after the commit that
 * took 2 into 3 applied there, so that commit found no mark on store 3
 * to reject. The prepare's apply finds 2 taken in here first and records
 * the reject itself; so store 3, leading 1, rolls it back (without the
 * record the rollback is ServerIsBusy there for good). */
static void target_merged_away_before_the_prepare_applied(void **state)
{
    (void)state;
    struct cluster c = {0};
    three_regions(&c);
    put_keys(&c, 1, 1, "ab");
    put_keys(&c, 2, 2, "gh");
    c.cut[1][2] = true;
    /* committed by stores 1 and 3; store 3 never hears it committed */
    assert_int_equal(cl_prepare_logged(&c, 1, 1, 2, 3), 0);
    struct region_merge_state ms;
    assert_int_equal(region_store_merge_state(c.st[3].s, 1, &ms), 0);
    assert_int_equal(ms.target, 0);
    assert_int_equal(region_store_merge_state(c.st[2].s, 1, &ms), 0);
    assert_int_equal(ms.target, 0);
    assert_int_equal(prepare_when_ready(&c, 2, 2, 3), 0);
    c.cut[1][2] = false;
    assert_int_equal(commit_when_ready(&c, 2, 2), 0);
    for (int t = 0; t < 10; t++)
        cl_tick(&c);
    struct region_desc d;
    assert_int_equal(region_store_region(c.st[3].s, 2, &d, NULL),
                     REGION_ENOT_FOUND);
    assert_int_equal(region_store_merge_state(c.st[3].s, 1, &ms), 0);
    assert_int_equal(ms.target, 0); /* still only logged */
    c.cut[1][3] = false;
    for (int t = 0; t < 10; t++)
        cl_tick(&c);
    for (int i = 1; i <= 3; i++) {
        assert_int_equal(region_store_merge_state(c.st[i].s, 1, &ms), 0);
        assert_int_equal(ms.target, 2);
        assert_true(ms.rejected);
    }
    cl_lead(&c, 1, 3);
    assert_int_equal(step(&c, 3, ROLLBACK, 1, 2), 0);
    for (int t = 0; t < 5; t++)
        cl_tick(&c);
    for (int i = 1; i <= 3; i++) {
        assert_int_equal(region_store_merge_state(c.st[i].s, 1, &ms), 0);
        assert_int_equal(ms.target, 0);
    }
    assert_int_equal(cl_put(&c, 3, 1, "c", "c", NULL), 0);
    check_keys(&c, 1, "abc");
    check_keys(&c, 3, "gh");
    /* restarted, store 3 keeps it rolled back */
    cl_stop(&c, 3);
    cl_start(&c, 3);
    assert_int_equal(region_store_merge_state(c.st[3].s, 1, &ms), 0);
    assert_int_equal(ms.target, 0);
    cl_destroy(&c);
}

/* The source's leadership moves after the prepare: the new leader has
 * the mark, refuses requests, and commits once it leads the target. */
static void source_leader_change(void **state)
{
    (void)state;
    struct cluster c = {0};
    two_regions(&c);
    assert_int_equal(step(&c, 1, PREPARE, 2, 1), 0);
    cl_lead(&c, 2, 2);
    struct region_err err;
    assert_int_equal(cl_put(&c, 2, 2, "y", "y", &err), REGION_ESERVER_BUSY);
    /* store 1 no longer leads the source; store 2 not yet the target */
    assert_int_equal(step(&c, 1, COMMIT, 2, 1), REGION_ENOT_LEADER);
    assert_int_equal(step(&c, 2, COMMIT, 2, 1), REGION_ENOT_LEADER);
    cl_lead(&c, 1, 2);
    assert_int_equal(commit_when_ready(&c, 2, 2), 0);
    for (int t = 0; t < 5; t++)
        cl_tick(&c);
    check_merged(&c, 3);
    check_keys(&c, 1, "abcnxz");
    cl_destroy(&c);
}

/* The merge under pipelined writes as kvd runs the loop (rounds never
 * wait for the writer threads): puts into both regions keep 32 in flight
 * through the prepare and the commit; those to the source are refused
 * from the prepare on (ServerIsBusy at once, or EpochNotMatch at apply
 * for those proposed before it) and go to the target once it holds the
 * source's range; the target's own puts proposed before its commit and
 * applied after it fail EpochNotMatch, as across a split. Every
 * acknowledged put is on every store afterwards. */
struct pw_put {
    int rc; /* result; 1 while waiting */
};

static void pw_done(void *ud, const struct region_reply *r)
{
    ((struct pw_put *)ud)->rc = r->rc;
}

static void merge_under_pipelined_writes(void **state)
{
    (void)state;
    enum { N = 240, M = 32 };
    static struct pw_put puts[N];
    struct cluster c = {0};
    two_regions(&c);
    c.overlap = true;
    struct mw pw = {0}, cw = {0};
    bool prepared = false, committed = false;
    int issued = 0, finished = 0, to_source = 0, to_target_after = 0;
    char k[16];
    for (long round = 0; finished < N && round < 200000; round++) {
        while (issued < N && issued - finished < M) {
            int i = issued++;
            snprintf(k, sizeof k, "%c%03d", i % 2 ? 'n' : 'a', i);
            uint64_t region = k[0] == 'n' && !cw.done ? 2 : 1;
            struct region_ctx ctx = {region, 0, 0};
            struct region_op op = {REGION_OP_PUT, k, strlen(k), k, strlen(k)};
            puts[i].rc = 1;
            int rc = region_raw_write(c.st[1].s, &ctx, &op, 1, pw_done,
                                      &puts[i], NULL);
            if (rc != 0)
                puts[i].rc = rc;
            to_source += region == 2;
            to_target_after += k[0] == 'n' && region == 1;
        }
        if (issued >= 60 && !prepared) {
            struct region_ctx sc = {2, 0, 0};
            assert_int_equal(region_merge_prepare(c.st[1].s, &sc, 1, mw_done,
                                                  &pw, NULL),
                             0);
            prepared = true;
        }
        if (pw.done && !committed) {
            assert_int_equal(pw.rc, 0);
            int rc = region_merge_commit(c.st[1].s, 2, mw_done, &cw, NULL);
            if (rc != REGION_ESERVER_BUSY) {
                assert_int_equal(rc, 0);
                committed = true;
            }
        }
        int before = finished;
        cl_pump(&c, 1);
        while (finished < issued && puts[finished].rc != 1)
            finished++;
        if (finished == before)
            cl_drain(&c);
    }
    assert_int_equal(finished, N);
    assert_true(cw.done);
    assert_int_equal(cw.rc, 0);
    c.overlap = false;
    for (int t = 0; t < 5; t++)
        cl_tick(&c);
    check_merged(&c, 3);
    int acked = 0, acked_source = 0;
    for (int i = 0; i < N; i++) {
        snprintf(k, sizeof k, "%c%03d", i % 2 ? 'n' : 'a', i);
        if (puts[i].rc != 0) {
            /* the target refuses only what its commit overtook (proposed
             * at the old version), as a split does */
            if (k[0] == 'a')
                assert_int_equal(puts[i].rc, REGION_EEPOCH_NOT_MATCH);
            else
                assert_true(puts[i].rc == REGION_ESERVER_BUSY ||
                            puts[i].rc == REGION_EEPOCH_NOT_MATCH ||
                            puts[i].rc == REGION_ENOT_FOUND);
            continue;
        }
        acked++;
        acked_source += k[0] == 'n';
        for (int st = 1; st <= 3; st++)
            local_has(&c, st, k);
    }
    /* the source took writes before the prepare, the target after */
    assert_true(to_source > 0 && to_target_after > 0);
    assert_true(acked_source > 0);
    assert_true(acked >= N / 4);
    print_message("# %d of %d puts acknowledged (%d into the source's "
                  "range), every one on every store\n",
                  acked, N, acked_source);
    cl_destroy(&c);
}

/* A client that cached the source: its request fails RegionNotFound, the
 * cache forgets the source, and the store's locate gives the target,
 * which the cache then serves the source's keys from. */
static void client_cache_finds_target(void **state)
{
    (void)state;
    struct cluster c = {0};
    two_regions(&c);
    struct region_cache *cache;
    assert_int_equal(region_cache_create(&cache), 0);
    struct region_desc d1, d2, d;
    assert_int_equal(region_store_region(c.st[1].s, 1, &d1, NULL), 0);
    assert_int_equal(region_store_region(c.st[1].s, 2, &d2, NULL), 0);
    assert_int_equal(region_cache_update(cache, &d1, 1), 0);
    assert_int_equal(region_cache_update(cache, &d2, 1), 0);
    assert_int_equal(step(&c, 1, PREPARE, 2, 1), 0);
    assert_int_equal(commit_when_ready(&c, 1, 2), 0);
    uint64_t leader = 0;
    assert_int_equal(region_cache_lookup(cache, "x", 1, &d, &leader), 0);
    assert_int_equal(d.id, 2);
    struct region_err err;
    struct region_ctx ctx = {d.id, d.conf_ver, d.version};
    struct region_op op = {REGION_OP_PUT, "x", 1, "X", 1};
    struct mw w = {0};
    int rc = region_raw_write(c.st[(int)leader].s, &ctx, &op, 1, mw_done, &w,
                              &err);
    assert_int_equal(rc, REGION_ENOT_FOUND);
    region_cache_on_error(cache, d.id, &err);
    assert_int_equal(region_cache_lookup(cache, "x", 1, &d, NULL),
                     REGION_ENOT_FOUND);
    assert_int_equal(region_store_locate(c.st[1].s, "x", 1, &d, &leader), 0);
    assert_int_equal(d.id, 1);
    assert_int_equal(region_cache_update(cache, &d, leader), 0);
    assert_int_equal(region_cache_count(cache), 1);
    assert_int_equal(region_cache_lookup(cache, "x", 1, &d, &leader), 0);
    assert_int_equal(d.id, 1);
    ctx = (struct region_ctx){d.id, d.conf_ver, d.version};
    assert_int_equal(region_raw_write(c.st[1].s, &ctx, &op, 1, mw_done, &w,
                                      NULL),
                     0);
    assert_int_equal(mw_wait(&c, &w), 0);
    /* a stale epoch of the target names the union */
    struct region_ctx old = {1, d1.conf_ver, d1.version};
    assert_int_equal(region_raw_write(c.st[1].s, &old, &op, 1, mw_done, &w,
                                      &err),
                     REGION_EEPOCH_NOT_MATCH);
    assert_true(err.has_region);
    assert_int_equal(err.region.end_len, 0);
    region_cache_destroy(cache);
    cl_destroy(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(merge_success),
        cmocka_unit_test(read_waiting_at_the_prepare),
        cmocka_unit_test(prepare_refused_while_a_source_logged_into_it),
        cmocka_unit_test(merge_with_lagging_replica),
        cmocka_unit_test(prepare_waits_for_replicas_in_step),
        cmocka_unit_test(prepare_refused_over_a_silent_replica),
        cmocka_unit_test(merge_catches_up_from_local_log),
        cmocka_unit_test(merge_across_restarts),
        cmocka_unit_test(union_by_snapshot_drops_source),
        cmocka_unit_test(refused_commit_rolls_back),
        cmocka_unit_test(target_merged_away_first),
        cmocka_unit_test(target_merged_away_before_the_prepare_applied),
        cmocka_unit_test(source_leader_change),
        cmocka_unit_test(merge_under_pipelined_writes),
        cmocka_unit_test(client_cache_finds_target),
    };
    return cmocka_run_group_tests_name("libregion/merge", tests, NULL, NULL);
}
