/* test_membership.c: adding and removing peers over the in-process
 * cluster: an added store gets the region by a snapshot and follows its
 * log; a removed store deletes the region's data and ignores it from then
 * on; conf_ver moves on every peer; refusals.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cluster.h"
#include "region_int.h"

static bool has_key(struct cluster *c, int i, uint64_t region, const char *k)
{
    struct region_ctx ctx = {region, 0, 0};
    uint8_t *v = NULL;
    size_t vl;
    if (region_raw_get(c->st[i].s, &ctx, k, strlen(k), &v, &vl, NULL) != 0)
        return false;
    region_free(v);
    return true;
}

static void add_then_remove(void **state)
{
    (void)state;
    struct cluster c = {0};
    cl_init(&c, 4, false);
    cl_bootstrap_on(&c, 1, NULL, NULL, 3);
    int l = (int)cl_wait_leader(&c, 1);
    char k[16];
    for (int i = 0; i < 20; i++) {
        snprintf(k, sizeof k, "k%02d", i);
        assert_int_equal(cl_put(&c, l, 1, k, "v", NULL), 0);
    }
    struct region_err err;
    /* refusals: already a peer; the leader removing itself */
    assert_int_equal(cl_change_peer(&c, l, 1, true, 2, &err), REGION_EINVAL);
    assert_int_equal(cl_change_peer(&c, l, 1, false, l, &err), REGION_EINVAL);
    /* store 4 joins: its peer comes from the leader's messages */
    assert_int_equal(cl_change_peer(&c, l, 1, true, 4, &err), 0);
    int t;
    for (t = 0; t < 1000 && !has_key(&c, 4, 1, "k19"); t++)
        cl_tick(&c);
    assert_true(t < 1000);
    assert_int_equal(cl_put(&c, l, 1, "after-add", "v", NULL), 0);
    for (t = 0; t < 1000 && !has_key(&c, 4, 1, "after-add"); t++)
        cl_tick(&c);
    assert_true(t < 1000);
    struct region_desc d;
    for (int i = 1; i <= 4; i++) {
        for (t = 0; t < 500; t++) {
            assert_int_equal(region_store_region(c.st[i].s, 1, &d, NULL), 0);
            if (d.conf_ver == 2)
                break;
            cl_tick(&c);
        }
        assert_int_equal(d.conf_ver, 2);
        assert_int_equal(d.n_stores, 4);
    }
    /* a follower leaves: its data goes */
    int gone = l == 1 ? 2 : 1;
    assert_int_equal(cl_change_peer(&c, l, 1, false, gone, &err), 0);
    for (t = 0; t < 1000; t++) {
        if (region_store_region(c.st[gone].s, 1, &d, NULL) == REGION_ENOT_FOUND)
            break;
        cl_tick(&c);
    }
    assert_true(t < 1000);
    size_t n = 9;
    region_store_regions(c.st[gone].s, NULL, 0, &n);
    assert_int_equal(n, 0);
    struct region_kv *kvs;
    struct region_ctx any = {1, 0, 0};
    assert_int_equal(region_raw_scan(c.st[gone].s, &any, "", 0, "", 0, 0,
                                     true, &kvs, &n, NULL),
                     REGION_ENOT_FOUND);
    /* the other three go on, at conf_ver 3 */
    assert_int_equal(cl_put(&c, l, 1, "after-remove", "v", NULL), 0);
    for (t = 0; t < 1000 && !has_key(&c, 4, 1, "after-remove"); t++)
        cl_tick(&c);
    assert_true(t < 1000);
    assert_int_equal(region_store_region(c.st[l].s, 1, &d, NULL), 0);
    assert_int_equal(d.conf_ver, 3);
    assert_int_equal(d.n_stores, 3);
    /* the removed store restarts without the region, and stays so */
    cl_stop(&c, gone);
    cl_start(&c, gone);
    for (int i = 0; i < 30; i++)
        cl_tick(&c);
    region_store_regions(c.st[gone].s, NULL, 0, &n);
    assert_int_equal(n, 0);
    cl_destroy(&c);
}

/* A store cut off while it is removed never sees the commit: once back,
 * its messages (older membership, sender not in it) earn it a removal
 * notice, and it deletes the region. */
static void removed_while_cut_off(void **state)
{
    (void)state;
    struct cluster c = {0};
    cl_init(&c, 4, false);
    cl_bootstrap_on(&c, 1, NULL, NULL, 4);
    int l = (int)cl_wait_leader(&c, 1);
    assert_int_equal(cl_put(&c, l, 1, "k", "v", NULL), 0);
    int gone = l % 4 + 1;
    for (int t = 0; t < 200 && !has_key(&c, gone, 1, "k"); t++)
        cl_tick(&c);
    assert_true(has_key(&c, gone, 1, "k"));
    cl_isolate(&c, gone, true);
    assert_int_equal(cl_change_peer(&c, l, 1, false, gone, NULL), 0);
    cl_isolate(&c, gone, false);
    struct region_desc d;
    int t;
    for (t = 0; t < 2000; t++) {
        if (region_store_region(c.st[gone].s, 1, &d, NULL) == REGION_ENOT_FOUND)
            break;
        cl_tick(&c);
    }
    assert_true(t < 2000);
    assert_false(has_key(&c, gone, 1, "k"));
    /* the rest is unharmed */
    assert_int_equal(cl_put(&c, l, 1, "k2", "v", NULL), 0);
    cl_destroy(&c);
}

/* A message batch from store `from` to store `to` in flight, copied
 * (NULL when none): for replaying it late. */
static struct cl_msg *grab_msg(struct cluster *c, int from, int to)
{
    for (int t = 0; t < 200; t++) {
        for (size_t i = 0; i < c->nq; i++)
            if (c->q[i].from == (uint64_t)from && c->q[i].to == (uint64_t)to) {
                struct cl_msg *m = malloc(sizeof *m);
                assert_non_null(m);
                *m = c->q[i];
                m->buf = malloc(m->len);
                assert_non_null(m->buf);
                memcpy(m->buf, c->q[i].buf, m->len);
                return m;
            }
        if (t % 3 == 0) /* a tick, then round by round: heartbeats */
            for (int i = 1; i <= c->n; i++)
                (void)region_store_tick(c->st[i].s);
        cl_pump(c, 1);
    }
    return NULL;
}

static uint64_t recreated(struct cluster *c, int i)
{
    struct region_store_stats st;
    region_store_stats(c->st[i].s, &st);
    return st.peers_recreated;
}

/* Tick until store i holds key k of region 1 (at most 1000 ticks). */
static bool wait_key(struct cluster *c, int i, const char *k)
{
    for (int t = 0; t < 1000 && !has_key(c, i, 1, k); t++)
        cl_tick(c);
    return has_key(c, i, 1, k);
}

/* Tick until store i no longer holds region 1 (at most 2000 ticks). */
static bool wait_gone(struct cluster *c, int i)
{
    for (int t = 0; t < 2000; t++) {
        if (region_store_region(c->st[i].s, 1, NULL, NULL) == REGION_ENOT_FOUND)
            return true;
        cl_tick(c);
    }
    return false;
}

/* Three stores with region 1, "a" written and on follower *x; *l leads. */
static void three_with_a(struct cluster *c, int *l, int *x)
{
    cl_init(c, 3, false);
    cl_bootstrap(c, 1, NULL, NULL);
    *l = (int)cl_wait_leader(c, 1);
    *x = *l % 3 + 1;
    assert_int_equal(cl_put(c, *l, 1, "a", "1", NULL), 0);
    assert_true(wait_key(c, *x, "a"));
}

/* Four stores, region 1 on the first three with "a" written; its leader. */
static int four_a_on_three(struct cluster *c)
{
    cl_init(c, 4, false);
    cl_bootstrap_on(c, 1, NULL, NULL, 3);
    int l = (int)cl_wait_leader(c, 1);
    assert_int_equal(cl_put(c, l, 1, "a", "1", NULL), 0);
    return l;
}

/* Until store i holds region 1 at conf_ver cv (ticks at most); its desc. */
static struct region_desc wait_conf(struct cluster *c, int i, uint64_t cv)
{
    struct region_desc d;
    memset(&d, 0, sizeof d);
    for (int t = 0; t < 1000; t++) {
        if (region_store_region(c->st[i].s, 1, &d, NULL) == 0 &&
            d.conf_ver == cv)
            return d;
        cl_tick(c);
    }
    fail_msg("store %d: region 1 not at conf_ver %llu (at %llu)", i,
             (unsigned long long)cv, (unsigned long long)d.conf_ver);
    return d;
}

/* A follower removed, then added back: a fresh peer replaces the
 * tombstone and gets the data by snapshot; a message from before the
 * removal, or sent as it was applied, creates nothing. Twice, with a
 * restart of the store in between. */
static void removed_store_added_back(void **state)
{
    (void)state;
    struct cluster c = {0};
    int l, x;
    three_with_a(&c, &l, &x);
    struct cl_msg *old = grab_msg(&c, l, x);
    assert_non_null(old);
    uint64_t cv = 1;
    for (int round = 0; round < 2; round++) {
        assert_int_equal(cl_change_peer(&c, l, 1, false, x, NULL), 0);
        cv++;
        assert_true(wait_gone(&c, x));
        assert_false(has_key(&c, x, 1, "a"));
        /* a late message of the old membership: dropped */
        assert_int_equal(region_store_receive(c.st[x].s, old->buf, old->len),
                         0);
        for (int t = 0; t < 30; t++)
            cl_tick(&c);
        assert_int_equal(region_store_region(c.st[x].s, 1, NULL, NULL),
                         REGION_ENOT_FOUND);
        assert_int_equal(recreated(&c, x), (uint64_t)round); /* so far */
        char k[16];
        snprintf(k, sizeof k, "while-out-%d", round);
        assert_int_equal(cl_put(&c, l, 1, k, "v", NULL), 0);
        if (round == 1) { /* the tombstone survives a restart */
            cl_stop(&c, x);
            cl_start(&c, x);
        }
        assert_int_equal(cl_change_peer(&c, l, 1, true, x, NULL), 0);
        cv++;
        struct region_desc d = wait_conf(&c, x, cv);
        assert_int_equal(d.n_stores, 3);
        assert_true(wait_key(&c, x, k));
        assert_true(has_key(&c, x, 1, "a"));
        assert_int_equal(recreated(&c, x), 1); /* round 1: since restart */
        /* it follows the log again */
        snprintf(k, sizeof k, "back-%d", round);
        assert_int_equal(cl_put(&c, l, 1, k, "v", NULL), 0);
        assert_true(wait_key(&c, x, k));
    }
    /* and it is a voter that can lead */
    assert_int_equal(region_store_transfer_leader(c.st[l].s, 1, (uint64_t)x),
                     0);
    int t;
    for (t = 0; t < 500 && !region_store_is_leader(c.st[x].s, 1); t++)
        cl_tick(&c);
    assert_true(region_store_is_leader(c.st[x].s, 1));
    assert_int_equal(cl_put(&c, x, 1, "led-by-x", "v", NULL), 0);
    free(old->buf);
    free(old);
    cl_destroy(&c);
}

/* Feed store `to` a heartbeat for region 1 from store `from` at term,
 * stamped with conf_ver cv, as the transport would carry it. */
static void feed_heartbeat(struct cluster *c, int from, int to,
                           uint64_t term, uint64_t cv)
{
    struct raft_message m;
    memset(&m, 0, sizeof m);
    m.type = RAFT_MSG_HEARTBEAT;
    m.from = (raft_id)from;
    m.to = (raft_id)to;
    m.term = term;
    struct region_buf b = {0};
    region__msgs_begin(&b, (uint64_t)from);
    struct region_wire_msg wm = {1, cv, 1, NULL, 0};
    region__msgs_add(&b, &wm, &m);
    region__msgs_finish(&b, 1);
    assert_false(b.oom);
    assert_int_equal(region_store_receive(c->st[to].s, b.data, b.len), 0);
    region__buf_free(&b);
}

/* The tombstone's rule exactly: a leader's message stamped with the
 * conf_ver the store left at (or older) makes nothing; one conf_ver
 * newer makes a fresh peer. */
static void tombstone_epoch_rule(void **state)
{
    (void)state;
    struct cluster c = {0};
    int l, x;
    three_with_a(&c, &l, &x);
    assert_int_equal(cl_change_peer(&c, l, 1, false, x, NULL), 0);
    assert_true(wait_gone(&c, x)); /* left at conf_ver 2 */
    struct region_desc d;
    assert_int_equal(region_store_region(c.st[l].s, 1, &d, NULL), 0);
    assert_int_equal(d.conf_ver, 2);
    uint64_t term = 5; /* above the region's: only the epoch decides */
    feed_heartbeat(&c, l, x, 0, 3); /* not term-bound: never a leader's */
    assert_int_equal(recreated(&c, x), 0);
    feed_heartbeat(&c, l, x, term, 1);
    feed_heartbeat(&c, l, x, term, 2);
    assert_int_equal(recreated(&c, x), 0);
    feed_heartbeat(&c, l, x, term, 3);
    assert_int_equal(recreated(&c, x), 1);
    feed_heartbeat(&c, l, x, term, 3); /* it exists now: stepped */
    assert_int_equal(recreated(&c, x), 1);
    cl_destroy(&c);
}

/* A store cut off while it is removed. Added back once it learned of the
 * removal (a notice), it comes back fresh. Added back while still cut off,
 * it holds its old peer, and what that peer sends predates the add: the
 * leader drops it and tells it to go, and a fresh peer takes its place (no
 * stall, and no old acknowledgement taken for the new peer's). */
static void cut_off_removed_then_added(bool while_cut)
{
    struct cluster c = {0};
    int l, x;
    three_with_a(&c, &l, &x);
    cl_isolate(&c, x, true);
    assert_int_equal(cl_change_peer(&c, l, 1, false, x, NULL), 0);
    assert_int_equal(cl_put(&c, l, 1, "b", "2", NULL), 0);
    if (while_cut) {
        assert_int_equal(cl_change_peer(&c, l, 1, true, x, NULL), 0);
        struct region_desc d;
        assert_int_equal(region_store_region(c.st[x].s, 1, &d, NULL), 0);
        assert_int_equal(d.conf_ver, 1); /* it saw neither */
    }
    cl_isolate(&c, x, false);
    if (!while_cut) {
        assert_true(wait_gone(&c, x));
        assert_int_equal(cl_change_peer(&c, l, 1, true, x, NULL), 0);
    }
    wait_conf(&c, x, 3);
    assert_int_equal(cl_put(&c, l, 1, "c", "3", NULL), 0);
    assert_true(wait_key(&c, x, "c"));
    assert_true(has_key(&c, x, 1, "a"));
    assert_true(has_key(&c, x, 1, "b"));
    assert_int_equal(recreated(&c, x), 1);
    cl_destroy(&c);
}

static void notified_store_added_back(void **state)
{
    (void)state;
    cut_off_removed_then_added(false);
}

static void cut_off_through_remove_and_add(void **state)
{
    (void)state;
    cut_off_removed_then_added(true);
}

/* four_a_on_three, then a learner on store 4 that gets the leader's
 * first message (a peer without data) but not the snapshot: store 4 is
 * left cut off. The leader. */
static int learner_without_data(struct cluster *c)
{
    int l = four_a_on_three(c);
    assert_int_equal(cl_change_member(c, l, 1, REGION_CHANGE_ADD_LEARNER, 4,
                                      NULL),
                     0);
    cl_pump(c, 2);
    cl_isolate(c, 4, true);
    return l;
}

/* A learner removed before its snapshot arrived (its peer on store 4 is
 * still uninitialized) and added again: the old uninitialized peer is
 * told to go and a fresh one gets the data. */
static void uninitialized_learner_removed_and_added_again(void **state)
{
    (void)state;
    struct cluster c = {0};
    int l = learner_without_data(&c);
    assert_int_equal(region_store_region(c.st[4].s, 1, NULL, NULL),
                     REGION_ENOT_FOUND);
    assert_int_equal(cl_change_member(&c, l, 1, REGION_CHANGE_REMOVE, 4, NULL),
                     0);
    assert_int_equal(cl_change_member(&c, l, 1, REGION_CHANGE_ADD_LEARNER, 4,
                                      NULL),
                     0);
    assert_int_equal(cl_put(&c, l, 1, "b", "2", NULL), 0);
    cl_isolate(&c, 4, false);
    assert_true(wait_key(&c, 4, "b"));
    assert_true(has_key(&c, 4, 1, "a"));
    struct region_desc d = wait_conf(&c, 4, 4);
    assert_true(region_desc_is_learner(&d, 4));
    cl_destroy(&c);
}

/* A peer without data that hears nothing for a long while (its learner
 * cut off before the snapshot) is dropped; its leader's next message
 * makes it again and the snapshot follows. */
static void silent_uninitialized_peer_dropped(void **state)
{
    (void)state;
    struct cluster c = {0};
    (void)learner_without_data(&c);
    struct region_store_stats st;
    for (int t = 0; t < 700; t++)
        cl_tick(&c);
    region_store_stats(c.st[4].s, &st);
    assert_int_equal(st.uninit_dropped, 1);
    assert_int_equal(st.regions, 0);
    cl_isolate(&c, 4, false);
    assert_true(wait_key(&c, 4, "a"));
    region_store_stats(c.st[4].s, &st);
    assert_int_equal(st.uninit_dropped, 1);
    assert_int_equal(st.regions, 1);
    cl_destroy(&c);
}

struct put_wait {
    bool done; /* completed */
    int rc;    /* its code */
};

static void put_done(void *ud, const struct region_reply *r)
{
    struct put_wait *w = ud;
    w->done = true;
    w->rc = r->rc;
}

/* A learner gets the data and the log but no vote: with both other
 * voters cut off the leader commits nothing; promoted once caught up
 * (refused before), it votes and may lead. Its role survives a restart. */
static void learner_added_then_promoted(void **state)
{
    (void)state;
    struct cluster c = {0};
    int l = four_a_on_three(&c);
    struct region_err err;
    assert_int_equal(cl_change_member(&c, l, 1, REGION_CHANGE_PROMOTE, 4,
                                      &err),
                     REGION_EINVAL);
    assert_int_equal(cl_change_member(&c, l, 1, REGION_CHANGE_ADD_LEARNER, 4,
                                      &err),
                     0);
    /* the leader has not heard from it yet: not caught up */
    assert_int_equal(cl_change_member(&c, l, 1, REGION_CHANGE_PROMOTE, 4,
                                      &err),
                     REGION_ESERVER_BUSY);
    assert_int_equal(err.code, REGION_ESERVER_BUSY);
    assert_int_equal(cl_change_member(&c, l, 1, REGION_CHANGE_ADD_LEARNER, 4,
                                      &err),
                     REGION_EINVAL);
    assert_true(wait_key(&c, 4, "a"));
    for (int i = 1; i <= 4; i++) {
        struct region_desc d = wait_conf(&c, i, 2);
        assert_int_equal(d.n_stores, 4);
        assert_true(region_desc_is_learner(&d, 4));
        assert_false(region_desc_is_learner(&d, (uint64_t)l));
    }
    /* the learner's region state survives a restart */
    cl_stop(&c, 4);
    cl_start(&c, 4);
    struct region_desc d = wait_conf(&c, 4, 2);
    assert_true(region_desc_is_learner(&d, 4));
    /* no quorum without the voters, whatever the learner holds */
    int f1 = l % 3 + 1, f2 = f1 % 3 + 1;
    cl_isolate(&c, f1, true);
    cl_isolate(&c, f2, true);
    struct region_ctx ctx = {1, 0, 0};
    struct region_op op = {REGION_OP_PUT, "cut", 3, "v", 1};
    struct put_wait w = {false, 0};
    assert_int_equal(region_raw_write(c.st[l].s, &ctx, &op, 1, put_done, &w,
                                      &err),
                     0);
    cl_pump(&c, 30); /* no ticks: no election, the learner acks */
    assert_false(w.done);
    cl_isolate(&c, f1, false);
    cl_isolate(&c, f2, false);
    int t;
    for (t = 0; t < 200 && !w.done; t++)
        cl_tick(&c);
    assert_true(w.done);
    assert_int_equal(w.rc, 0);
    /* a learner never takes the leadership */
    assert_int_equal(region_store_transfer_leader(c.st[l].s, 1, 4),
                     REGION_EINVAL);
    /* promoted once caught up: SERVER_BUSY until then */
    int rc = REGION_ESERVER_BUSY;
    for (t = 0; t < 200 && rc == REGION_ESERVER_BUSY; t++) {
        rc = cl_change_member(&c, l, 1, REGION_CHANGE_PROMOTE, 4, &err);
        if (rc == REGION_ESERVER_BUSY)
            cl_tick(&c);
    }
    assert_int_equal(rc, 0);
    for (int i = 1; i <= 4; i++) {
        d = wait_conf(&c, i, 3);
        assert_int_equal(d.n_stores, 4);
        assert_int_equal(d.learners, 0);
    }
    assert_int_equal(region_store_transfer_leader(c.st[l].s, 1, 4), 0);
    for (t = 0; t < 500 && !region_store_is_leader(c.st[4].s, 1); t++)
        cl_tick(&c);
    assert_true(region_store_is_leader(c.st[4].s, 1));
    assert_int_equal(cl_put(&c, 4, 1, "by-4", "v", NULL), 0);
    cl_destroy(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(add_then_remove),
        cmocka_unit_test(removed_while_cut_off),
        cmocka_unit_test(removed_store_added_back),
        cmocka_unit_test(tombstone_epoch_rule),
        cmocka_unit_test(notified_store_added_back),
        cmocka_unit_test(cut_off_through_remove_and_add),
        cmocka_unit_test(uninitialized_learner_removed_and_added_again),
        cmocka_unit_test(silent_uninitialized_peer_dropped),
        cmocka_unit_test(learner_added_then_promoted),
    };
    return cmocka_run_group_tests_name("libregion/membership", tests, NULL,
                                       NULL);
}
