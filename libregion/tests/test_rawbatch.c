/* test_rawbatch.c: raw writes that reach a leader between two iterations
 * of its loop are proposed as one Raft entry (src/rawbatch.c, DESIGN.md
 * "Raw write batching"): every request is answered with that entry's
 * outcome, the ops apply in arrival order on every store, a batch is cut
 * at its byte cap, refusals stay synchronous, a store closed with a
 * batch open answers each of its requests, and a batch checked before a
 * split and flushed after it is refused with the epoch it was checked
 * against. And the thread hops of a batch (DESIGN.md "Where a put's
 * time goes"): its commit is applied on the leader's loop, not behind
 * the log writer, and followers on a store leading nothing sync on
 * their loop; the leader times the batch through each stage.
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

struct tally {
    int calls;     /* callbacks seen */
    int ok;        /* of them with rc 0 */
    int last_rc;   /* the last one's code */
};

static void on_done(void *ud, const struct region_reply *r)
{
    struct tally *t = ud;
    t->calls++;
    t->last_rc = r->rc;
    if (r->rc == 0)
        t->ok++;
}

static int write_one(struct cluster *c, int store, int type, const char *key,
                     const char *value, size_t vlen, struct tally *t,
                     struct region_err *err)
{
    struct region_ctx ctx = {1, 0, 0};
    struct region_op op = {type, key, strlen(key), value, vlen};
    return region_raw_write(c->st[store].s, &ctx, &op, 1, on_done, t, err);
}

static uint64_t stat_of(struct cluster *c, int store, int which)
{
    struct region_store_stats st;
    region_store_stats(c->st[store].s, &st);
    return which == 0 ? st.proposals : st.applied;
}

static void pump_until(struct cluster *c, const struct tally *t, int calls)
{
    for (int i = 0; i < 2000 && t->calls < calls; i++)
        cl_pump(c, 1);
    assert_int_equal(t->calls, calls);
}

/* Store's applied value of key, read locally (followers too). */
static void local_value(struct cluster *c, int store, const char *key,
                        const char *want)
{
    struct region_ctx ctx = {1, 0, 0};
    uint8_t *v = NULL;
    size_t vl = 0;
    int rc = region_raw_get(c->st[store].s, &ctx, key, strlen(key), &v, &vl,
                            NULL);
    if (want == NULL) {
        assert_int_equal(rc, MVCC_NOTFOUND);
    } else {
        assert_int_equal(rc, 0);
        assert_int_equal(vl, strlen(want));
        assert_memory_equal(v, want, vl);
    }
    mvcc_free(v);
}

static void holds_value(struct cluster *c, int store, const char *key,
                         const char *want)
{
    char *v = NULL;
    struct region_err err;
    int rc = cl_get(c, store, 1, key, &v, &err);
    if (want == NULL) {
        assert_int_equal(rc, MVCC_NOTFOUND);
    } else {
        assert_int_equal(rc, 0);
        assert_string_equal(v, want);
    }
    free(v);
}

/* A 3-store cluster (options already set in c) with region 1 led and
 * settled; returns the leader. */
static int start(struct cluster *c)
{
    cl_init(c, 3, false);
    cl_bootstrap(c, 1, NULL, NULL);
    int l = (int)cl_wait_leader(c, 1);
    assert_true(l > 0);
    cl_pump(c, 5);
    return l;
}

/* 50 puts, a delete of one of them and an overwrite of another, all
 * before the loop runs: one proposal, one applied entry, 52 answers of 0;
 * every store holds the result of applying them in order. */
static void writes_share_one_entry(void **state)
{
    (void)state;
    struct cluster c = {0};
    int l = start(&c);
    uint64_t props = stat_of(&c, l, 0), applied = stat_of(&c, l, 1);
    struct tally t = {0};
    char k[16], v[16];
    for (int i = 0; i < 50; i++) {
        snprintf(k, sizeof k, "k%02d", i);
        snprintf(v, sizeof v, "v%02d", i);
        assert_int_equal(write_one(&c, l, REGION_OP_PUT, k, v, strlen(v), &t,
                                   NULL),
                         0);
    }
    assert_int_equal(write_one(&c, l, REGION_OP_DELETE, "k03", NULL, 0, &t,
                               NULL),
                     0);
    assert_int_equal(write_one(&c, l, REGION_OP_PUT, "k05", "again", 5, &t,
                               NULL),
                     0);
    assert_int_equal(stat_of(&c, l, 0), props); /* nothing proposed yet */
    pump_until(&c, &t, 52);
    assert_int_equal(t.ok, 52);
    assert_int_equal(stat_of(&c, l, 0), props + 1);
    assert_int_equal(stat_of(&c, l, 1), applied + 1);
    holds_value(&c, l, "k05", "again"); /* a linearizable read */
    cl_pump(&c, 20); /* the followers learn the commit */
    for (int s = 1; s <= 3; s++) {
        assert_int_equal(stat_of(&c, s, 1), applied + 1);
        local_value(&c, s, "k00", "v00");
        local_value(&c, s, "k49", "v49");
        local_value(&c, s, "k03", NULL);
        local_value(&c, s, "k05", "again");
    }
    cl_destroy(&c);
}

/* With 4 KiB entries a batch holds three 1300-byte puts (a fourth would
 * take the entry over 4096 bytes): ten go out as four entries, all
 * answered 0; one bigger than an entry is refused at once. */
static void batch_cut_at_its_cap(void **state)
{
    (void)state;
    struct cluster c = {0};
    c.max_entry_bytes = 4096;
    int l = start(&c);
    uint64_t props = stat_of(&c, l, 0);
    char *big = malloc(5001);
    assert_non_null(big);
    memset(big, 'b', 5000);
    big[5000] = '\0';
    struct region_err err;
    assert_int_equal(write_one(&c, l, REGION_OP_PUT, "huge", big, 5000, NULL,
                               &err),
                     REGION_EENTRY_TOO_LARGE);
    big[1300] = '\0';
    struct tally t = {0};
    char k[16];
    for (int i = 0; i < 10; i++) {
        snprintf(k, sizeof k, "b%d", i);
        assert_int_equal(
            write_one(&c, l, REGION_OP_PUT, k, big, 1300, &t, NULL), 0);
    }
    pump_until(&c, &t, 10);
    assert_int_equal(t.ok, 10);
    assert_int_equal(stat_of(&c, l, 0), props + 4);
    holds_value(&c, l, "b0", big);
    holds_value(&c, l, "b9", big);
    free(big);
    cl_destroy(&c);
}

/* Refusals stay synchronous: a follower names the leader at once, and a
 * leader with max_pending requests waiting (batched ones count) says
 * ServerIsBusy at once. */
static void refusals_stay_synchronous(void **state)
{
    (void)state;
    struct cluster c = {0};
    c.max_pending = 8;
    int l = start(&c);
    int f = l % 3 + 1;
    struct tally t = {0};
    struct region_err err;
    assert_int_equal(write_one(&c, f, REGION_OP_PUT, "x", "1", 1, &t, &err),
                     REGION_ENOT_LEADER);
    assert_int_equal(err.leader, (uint64_t)l);
    char k[16];
    for (int i = 0; i < 8; i++) {
        snprintf(k, sizeof k, "p%d", i);
        assert_int_equal(write_one(&c, l, REGION_OP_PUT, k, "1", 1, &t, NULL),
                         0);
    }
    assert_int_equal(write_one(&c, l, REGION_OP_PUT, "p8", "1", 1, &t, &err),
                     REGION_ESERVER_BUSY);
    assert_int_equal(t.calls, 0);
    pump_until(&c, &t, 8);
    assert_int_equal(t.ok, 8);
    holds_value(&c, l, "p7", "1");
    holds_value(&c, l, "p8", NULL);
    cl_destroy(&c);
}

/* A store closed with a batch open answers each of its requests with
 * REGION_ECLOSED (nothing of it was proposed). */
static void close_answers_open_batch(void **state)
{
    (void)state;
    struct cluster c = {0};
    int l = start(&c);
    struct tally t = {0};
    for (int i = 0; i < 3; i++)
        assert_int_equal(write_one(&c, l, REGION_OP_PUT, "z", "1", 1, &t,
                                   NULL),
                         0);
    cl_stop(&c, l);
    assert_int_equal(t.calls, 3);
    assert_int_equal(t.ok, 0);
    assert_int_equal(t.last_rc, REGION_ECLOSED);
    cl_destroy(&c);
}

struct refusal {
    int calls;             /* callbacks seen */
    int rc;                /* the last one's code */
    struct region_err err; /* its detail */
};

static void on_refusal(void *ud, const struct region_reply *r)
{
    struct refusal *f = ud;
    f->calls++;
    f->rc = r->rc;
    if (r->err)
        f->err = *r->err;
}

/* The interleaving the batch's recorded epoch is for: a split is
 * committed at the leader but not applied (its commit index is with the
 * writer thread) when two puts are checked, one of them ("x") in the
 * half the split gives away; the split applies before the batch is
 * flushed (cl_drain here; region_store_process's first step in kvd). The
 * entry carries the epoch the puts were checked against, so its apply
 * refuses it: both puts answer EpochNotMatch naming the narrowed region,
 * and no store holds either key, in region 1 or in region 2, which owns
 * "x" now. An entry carrying the epoch of the flush would have written
 * "x" through region 1 on every store. */
static void split_applied_between_check_and_flush(void **state)
{
    (void)state;
    struct cluster c = {0};
    int l = start(&c);
    struct region_store *ls = c.st[l].s;
    struct region_peer *p = region__find_peer(ls, 1);
    assert_non_null(p);
    uint64_t v0 = p->desc.version;
    struct refusal split = {0, 0, {0}};
    struct region_ctx ctx = {1, 0, 0};
    assert_int_equal(region_split(ls, &ctx, "m", 1, 2, on_refusal, &split,
                                  NULL),
                     0);
    uint64_t split_at = cl_commit_unapplied(&c, l, 1);
    assert_true(p->applied < split_at); /* committed, not applied */
    assert_int_equal(p->desc.version, v0);
    struct refusal w[2] = {{0, 0, {0}}, {0, 0, {0}}};
    static const char *const keys[] = {"b", "x"};
    for (int i = 0; i < 2; i++) {
        struct region_op op = {REGION_OP_PUT, keys[i], 1, "v", 1};
        assert_int_equal(region_raw_write(ls, &ctx, &op, 1, on_refusal, &w[i],
                                          NULL),
                         0);
    }
    assert_int_equal(p->rb_n, 2);
    assert_int_equal(p->rb_version, v0);
    cl_drain(&c); /* the split applies; the batch is still open */
    assert_int_equal(p->desc.version, v0 + 1);
    assert_int_equal(p->rb_n, 2);
    c.overlap = false;
    for (int i = 0; i < 2000 && (w[0].calls == 0 || w[1].calls == 0); i++)
        cl_pump(&c, 1);
    assert_int_equal(split.calls, 1);
    assert_int_equal(split.rc, 0);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(w[i].calls, 1);
        assert_int_equal(w[i].rc, REGION_EEPOCH_NOT_MATCH);
        assert_true(w[i].err.has_region);
        assert_int_equal(w[i].err.region.version, v0 + 1);
        assert_int_equal(w[i].err.region.end_len, 1);
        assert_memory_equal(w[i].err.region.end, "m", 1);
    }
    raft_index refused_at = p->applied; /* the batch's entry */
    for (int i = 0; i < 20; i++)
        cl_tick(&c); /* the followers apply it too */
    for (int s = 1; s <= 3; s++) {
        assert_true(region__find_peer(c.st[s].s, 1)->applied >= refused_at);
        struct region_ctx c2 = {2, 0, 0};
        uint8_t *v = NULL;
        size_t vl = 0;
        assert_int_equal(region_raw_get(c.st[s].s, &c2, "x", 1, &v, &vl,
                                        NULL),
                         MVCC_NOTFOUND);
        local_value(&c, s, "b", NULL);
    }
    cl_destroy(&c);
}

/* Ten puts in one batch cost the leader one writer job (its entry; the
 * commit that follows is applied on the loop, not handed to the writer
 * and back) and the followers, whose stores lead nothing, none (they
 * sync on their loops); the leader timed the one batch through each
 * stage, in order. */
static void batch_hops(void **state)
{
    (void)state;
    struct cluster c = {0};
    int l = start(&c);
    struct region_store_stats b[4], a[4];
    for (int i = 1; i <= 3; i++)
        region_store_stats(c.st[i].s, &b[i]);
    struct tally t = {0};
    char k[16];
    for (int i = 0; i < 10; i++) {
        snprintf(k, sizeof k, "h%02d", i);
        assert_int_equal(write_one(&c, l, REGION_OP_PUT, k, "v", 1, &t,
                                   NULL),
                         0);
    }
    pump_until(&c, &t, 10);
    assert_int_equal(t.ok, 10);
    cl_pump(&c, 5); /* the followers learn the commit and apply */
    for (int i = 1; i <= 3; i++) {
        region_store_stats(c.st[i].s, &a[i]);
        local_value(&c, i, "h09", "v");
    }
    assert_int_equal(a[l].wjobs - b[l].wjobs, 1);
    assert_int_equal(a[l].lat_batches - b[l].lat_batches, 1);
    assert_int_equal(a[l].lat_durable_n - b[l].lat_durable_n, 1);
    uint64_t commit = a[l].lat_commit_ns - b[l].lat_commit_ns;
    uint64_t apply = a[l].lat_apply_ns - b[l].lat_apply_ns;
    assert_true(commit > 0);
    assert_true(commit <= apply);
    for (int i = 1; i <= 3; i++) {
        if (i == l)
            continue;
        assert_int_equal(a[i].leaders, 0);
        assert_int_equal(a[i].wjobs - b[i].wjobs, 0);
        assert_int_equal(a[i].lat_batches - b[i].lat_batches, 0);
        assert_true(a[i].applied > b[i].applied); /* written on its loop */
    }
    cl_destroy(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(writes_share_one_entry),
        cmocka_unit_test(batch_cut_at_its_cap),
        cmocka_unit_test(refusals_stay_synchronous),
        cmocka_unit_test(close_answers_open_batch),
        cmocka_unit_test(split_applied_between_check_and_flush),
        cmocka_unit_test(batch_hops),
    };
    return cmocka_run_group_tests_name("libregion/rawbatch", tests, NULL,
                                       NULL);
}
