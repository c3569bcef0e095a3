/* test_ttl.c: raw keys with a time to live (DESIGN.md "Raw TTL") on the
 * in-process cluster with a simulated wall clock: reads, scans and the
 * remaining TTL; expired keys deleted on every store through the log,
 * never a key rewritten meanwhile; a put without TTL, a delete, a range
 * delete and a CAS clear the record; a CAS finds an expired key absent;
 * a CAS with a TTL takes a key for that long;
 * records survive a restart and travel in snapshots; stores that never
 * held a record skip the record delete.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cluster.h"

struct waiter {
    int done; /* completions */
    int rc;   /* last result */
};

static void on_done(void *ud, const struct region_reply *r)
{
    struct waiter *w = ud;
    w->done++;
    w->rc = r->rc;
}

/* Put key -> value with ttl seconds (0: none) through the leader. */
static int put_ttl(struct cluster *c, int l, const char *key,
                   const char *value, uint64_t ttl)
{
    struct region_ctx ctx = {1, 0, 0};
    struct region_op op = {.type = REGION_OP_PUT,
                           .key = key,
                           .key_len = strlen(key),
                           .value = value,
                           .value_len = strlen(value)};
    struct waiter w = {0, 0};
    int rc = region_raw_write_ttl(c->st[l].s, &ctx, &op, 1, &ttl, on_done, &w,
                                  NULL);
    if (rc != 0)
        return rc;
    for (int i = 0; i < 200 && w.done == 0; i++)
        cl_pump(c, 1);
    assert_int_equal(w.done, 1);
    cl_pump(c, 3); /* followers apply too */
    return w.rc;
}

/* Get at store i from its applied state: 0 / MVCC_NOTFOUND. */
static int get(struct cluster *c, int i, const char *key, char *out,
               size_t cap)
{
    struct region_ctx ctx = {1, 0, 0};
    uint8_t *v = NULL;
    size_t vl = 0;
    int rc = region_raw_get(c->st[i].s, &ctx, key, strlen(key), &v, &vl, NULL);
    if (rc == 0) {
        snprintf(out, cap, "%.*s", (int)vl, (char *)v);
        region_free(v);
    }
    return rc;
}

static int ttl_of(struct cluster *c, int i, const char *key, uint64_t *ttl,
                  bool *has)
{
    struct region_ctx ctx = {1, 0, 0};
    return region_raw_ttl(c->st[i].s, &ctx, key, strlen(key), ttl, has, NULL);
}

/* The keys a scan of region 1 at store i answers, joined by ','. */
static void scan(struct cluster *c, int i, char *out, size_t cap)
{
    struct region_ctx ctx = {1, 0, 0};
    struct region_kv *kvs = NULL;
    size_t n = 0;
    assert_int_equal(region_raw_scan(c->st[i].s, &ctx, "", 0, NULL, 0, 0,
                                     false, &kvs, &n, NULL),
                     0);
    out[0] = 0;
    for (size_t j = 0; j < n; j++) {
        size_t l = strlen(out);
        snprintf(out + l, cap - l, "%s%.*s", j ? "," : "",
                 (int)kvs[j].key_len, (char *)kvs[j].key);
    }
    region_kvs_free(kvs, n);
}

/* Whether store i's engine holds engine key 'r'+key in cf. */
static bool engine_has(struct cluster *c, int i, int cf, const char *key)
{
    char k[64];
    snprintf(k, sizeof k, "r%s", key);
    uint8_t *v = NULL;
    size_t vl = 0;
    int rc = mvcc_engine_get(c->st[i].eng, NULL, cf, k, strlen(k), &v, &vl);
    mvcc_free(v);
    assert_true(rc == 0 || rc == MVCC_NOTFOUND);
    return rc == 0;
}

static struct region_store_stats stats(struct cluster *c, int i)
{
    struct region_store_stats st;
    region_store_stats(c->st[i].s, &st);
    return st;
}

static int setup(struct cluster *c)
{
    memset(c, 0, sizeof *c);
    cl_init(c, 3, false);
    cl_bootstrap(c, 1, NULL, NULL);
    int l = (int)cl_wait_leader(c, 1);
    assert_true(l > 0);
    return l;
}

/* Reads, scans and GetKeyTTL before and after the expiry; the expired key
 * deleted on every store by the leader's TTL_GC after a read saw it. */
static void ttl_expires(void **state)
{
    (void)state;
    struct cluster c;
    int l = setup(&c);
    assert_int_equal(put_ttl(&c, l, "k1", "one", 10), 0);
    assert_int_equal(put_ttl(&c, l, "k2", "two", 0), 0);
    assert_int_equal(put_ttl(&c, l, "k3", "three", 100), 0);
    char v[64], keys[256];
    uint64_t ttl;
    bool has;
    for (int i = 1; i <= 3; i++) {
        assert_int_equal(get(&c, i, "k1", v, sizeof v), 0);
        assert_string_equal(v, "one");
        assert_true(engine_has(&c, i, MVCC_CF_LOCK, "k1"));
        assert_false(engine_has(&c, i, MVCC_CF_LOCK, "k2"));
    }
    assert_int_equal(ttl_of(&c, l, "k1", &ttl, &has), 0);
    assert_true(has);
    assert_int_equal(ttl, 10);
    assert_int_equal(ttl_of(&c, l, "k2", &ttl, &has), 0);
    assert_false(has);
    assert_int_equal(ttl, 0);
    assert_int_equal(ttl_of(&c, l, "nope", &ttl, &has), MVCC_NOTFOUND);
    c.unix_ms += 4500;
    assert_int_equal(ttl_of(&c, l, "k1", &ttl, &has), 0);
    assert_int_equal(ttl, 6); /* 5.5 s left, rounded up */
    c.unix_ms += 5500; /* exactly the expiry */
    for (int i = 1; i <= 3; i++) {
        assert_int_equal(get(&c, i, "k1", v, sizeof v), MVCC_NOTFOUND);
        scan(&c, i, keys, sizeof keys);
        assert_string_equal(keys, "k2,k3");
        assert_true(engine_has(&c, i, MVCC_CF_DEFAULT, "k1")); /* not yet */
    }
    assert_int_equal(ttl_of(&c, l, "k1", &ttl, &has), MVCC_NOTFOUND);
    assert_int_equal(stats(&c, l).ttl_expired, 2); /* get, scan */
    cl_tick(&c); /* the leader proposes the deletion */
    cl_pump(&c, 3);
    for (int i = 1; i <= 3; i++) {
        assert_false(engine_has(&c, i, MVCC_CF_DEFAULT, "k1"));
        assert_false(engine_has(&c, i, MVCC_CF_LOCK, "k1"));
        assert_true(engine_has(&c, i, MVCC_CF_DEFAULT, "k3"));
        assert_int_equal(stats(&c, i).ttl_removed, 1);
    }
    cl_destroy(&c);
}

/* A key rewritten after a read saw it expired is not deleted by the
 * deletion that read queued; a put without TTL, a delete, a range delete
 * and a CAS each clear the record. */
static void rewrite_and_clear(void **state)
{
    (void)state;
    struct cluster c;
    int l = setup(&c);
    char v[64];
    uint64_t ttl;
    bool has;
    assert_int_equal(put_ttl(&c, l, "a", "old", 1), 0);
    c.unix_ms += 2000;
    assert_int_equal(get(&c, l, "a", v, sizeof v), MVCC_NOTFOUND); /* queued */
    assert_int_equal(put_ttl(&c, l, "a", "new", 0), 0);
    cl_tick(&c);
    cl_pump(&c, 3);
    for (int i = 1; i <= 3; i++) {
        assert_int_equal(get(&c, i, "a", v, sizeof v), 0);
        assert_string_equal(v, "new");
        assert_false(engine_has(&c, i, MVCC_CF_LOCK, "a"));
        assert_int_equal(stats(&c, i).ttl_removed, 0);
    }
    assert_int_equal(ttl_of(&c, l, "a", &ttl, &has), 0);
    assert_false(has);
    /* delete, range delete, CAS */
    assert_int_equal(put_ttl(&c, l, "b", "x", 5), 0);
    assert_int_equal(put_ttl(&c, l, "c1", "x", 5), 0);
    assert_int_equal(put_ttl(&c, l, "c2", "x", 5), 0);
    assert_int_equal(put_ttl(&c, l, "d", "x", 5), 0);
    assert_int_equal(cl_delete(&c, l, 1, "b", NULL), 0);
    struct region_ctx ctx = {1, 0, 0};
    struct region_op op = {.type = REGION_OP_DELETE_RANGE,
                           .key = "c",
                           .key_len = 1,
                           .value = "c9",
                           .value_len = 2};
    struct waiter w = {0, 0};
    assert_int_equal(region_raw_write(c.st[l].s, &ctx, &op, 1, on_done, &w,
                                      NULL),
                     0);
    bool ok = false;
    assert_int_equal(cl_cas(&c, l, 1, "d", "x", "y", &ok, NULL), 0);
    assert_true(ok);
    cl_pump(&c, 5);
    assert_int_equal(w.done, 1);
    for (int i = 1; i <= 3; i++) {
        assert_false(engine_has(&c, i, MVCC_CF_LOCK, "b"));
        assert_false(engine_has(&c, i, MVCC_CF_LOCK, "c1"));
        assert_false(engine_has(&c, i, MVCC_CF_LOCK, "c2"));
        assert_false(engine_has(&c, i, MVCC_CF_LOCK, "d"));
        assert_true(engine_has(&c, i, MVCC_CF_DEFAULT, "d"));
    }
    c.unix_ms += 10000;
    assert_int_equal(get(&c, l, "d", v, sizeof v), 0);
    assert_string_equal(v, "y");
    cl_destroy(&c);
}

struct cas_waiter
{
    int done;         /* completions */
    int rc;           /* result */
    bool ok;          /* swapped */
    bool prev_exists; /* a value was there */
    char prev[64];    /* that value */
};

static void on_cas(void *ud, const struct region_reply *r)
{
    struct cas_waiter *w = ud;
    w->done++;
    w->rc = r->rc;
    w->ok = r->cas_ok;
    w->prev_exists = r->prev_exists;
    snprintf(w->prev, sizeof w->prev, "%.*s", (int)r->prev_len,
             r->prev ? (const char *)r->prev : "");
}

/* CAS key from expect (NULL: absent) to value (NULL: delete) living ttl
 * seconds (0: for ever) through store l. */
static struct cas_waiter cas_ttl(struct cluster *c,
                                 int l,
                                 const char *key,
                                 const char *expect,
                                 const char *value,
                                 uint64_t ttl)
{
    struct region_ctx ctx = {1, 0, 0};
    struct cas_waiter w = {0};
    assert_int_equal(
        region_raw_cas_ttl(c->st[l].s, &ctx, key, strlen(key), expect != NULL,
                           expect, expect ? strlen(expect) : 0, value == NULL,
                           value, value ? strlen(value) : 0, ttl, on_cas, &w,
                           NULL),
        0);
    for (int i = 0; i < 200 && w.done == 0; i++)
        cl_pump(c, 1);
    assert_int_equal(w.done, 1);
    assert_int_equal(w.rc, 0);
    cl_pump(c, 3); /* followers apply too */
    return w;
}

static struct cas_waiter cas(struct cluster *c,
                             int l,
                             const char *key,
                             const char *expect,
                             const char *value)
{
    return cas_ttl(c, l, key, expect, value, 0);
}

/* A CAS finds a key whose TTL ran out absent, as Get does, although no
 * read queued its deletion: expecting it absent swaps, expecting its old
 * value does not. The leader deletes the key through the log just ahead
 * of the CAS, so every store applies the same. A key still alive
 * compares as before. */
static void cas_finds_expired_key_absent(void **state)
{
    (void)state;
    struct cluster c;
    int l = setup(&c);
    char v[64];
    assert_int_equal(put_ttl(&c, l, "a", "old", 1), 0);
    assert_int_equal(put_ttl(&c, l, "b", "old", 1), 0);
    assert_int_equal(put_ttl(&c, l, "live", "v", 100), 0);
    c.unix_ms += 1000; /* exactly the expiry of a and b */
    struct cas_waiter w = cas(&c, l, "a", NULL, "new");
    assert_true(w.ok);
    assert_false(w.prev_exists);
    w = cas(&c, l, "b", "old", "new");
    assert_false(w.ok);
    assert_false(w.prev_exists);
    assert_string_equal(w.prev, "");
    w = cas(&c, l, "live", "v", "w");
    assert_true(w.ok);
    assert_true(w.prev_exists);
    assert_string_equal(w.prev, "v");
    for (int i = 1; i <= 3; i++) {
        assert_int_equal(get(&c, i, "a", v, sizeof v), 0);
        assert_string_equal(v, "new");
        assert_false(engine_has(&c, i, MVCC_CF_LOCK, "a"));
        assert_false(engine_has(&c, i, MVCC_CF_DEFAULT, "b"));
        assert_false(engine_has(&c, i, MVCC_CF_LOCK, "b"));
        assert_int_equal(get(&c, i, "live", v, sizeof v), 0);
        assert_string_equal(v, "w");
        assert_int_equal(stats(&c, i).ttl_removed, 2);
    }
    assert_int_equal(stats(&c, l).ttl_expired, 2); /* the two CAS */
    cl_destroy(&c);
}

/* A CAS with a TTL, a lease lock: taken while absent, its value and
 * record on every store, held against a second taker until it expires,
 * then taken again; a CAS that does not swap writes no record; a renewal
 * (CAS to the same value with a new TTL) moves the expiry; a CAS delete
 * ignores the TTL and clears the record. On stores that never held a
 * record before, the CAS's record turns the record deletes on: a plain put
 * after it clears it everywhere (DESIGN "Raw TTL"). */
static void cas_with_ttl(void **state)
{
    (void)state;
    struct cluster c;
    int l = setup(&c);
    char v[64];
    uint64_t ttl;
    bool has;
    struct cas_waiter w = cas_ttl(&c, l, "lock", NULL, "a", 10);
    assert_true(w.ok);
    assert_false(w.prev_exists);
    for (int i = 1; i <= 3; i++) {
        assert_true(engine_has(&c, i, MVCC_CF_LOCK, "lock"));
        assert_int_equal(ttl_of(&c, i, "lock", &ttl, &has), 0);
        assert_true(has);
        assert_int_equal(ttl, 10);
    }
    w = cas_ttl(&c, l, "lock", NULL, "b", 10); /* held by a */
    assert_false(w.ok);
    assert_true(w.prev_exists);
    assert_string_equal(w.prev, "a");
    w = cas_ttl(&c, l, "other", "x", "b", 10); /* no swap: no record */
    assert_false(w.ok);
    for (int i = 1; i <= 3; i++)
        assert_false(engine_has(&c, i, MVCC_CF_LOCK, "other"));
    c.unix_ms += 6000;
    w = cas_ttl(&c, l, "lock", "a", "a", 10); /* renewed: 10 s from now */
    assert_true(w.ok);
    c.unix_ms += 6000; /* 12 s after it was taken */
    for (int i = 1; i <= 3; i++) {
        assert_int_equal(get(&c, i, "lock", v, sizeof v), 0);
        assert_string_equal(v, "a");
        assert_int_equal(ttl_of(&c, i, "lock", &ttl, &has), 0);
        assert_int_equal(ttl, 4);
    }
    c.unix_ms += 4000; /* the renewal's expiry */
    assert_int_equal(get(&c, l, "lock", v, sizeof v), MVCC_NOTFOUND);
    w = cas_ttl(&c, l, "lock", NULL, "b", 10); /* expired: absent */
    assert_true(w.ok);
    assert_false(w.prev_exists);
    for (int i = 1; i <= 3; i++) {
        assert_int_equal(get(&c, i, "lock", v, sizeof v), 0);
        assert_string_equal(v, "b");
    }
    w = cas_ttl(&c, l, "lock", "b", NULL, 10); /* released */
    assert_true(w.ok);
    for (int i = 1; i <= 3; i++) {
        assert_false(engine_has(&c, i, MVCC_CF_DEFAULT, "lock"));
        assert_false(engine_has(&c, i, MVCC_CF_LOCK, "lock"));
    }
    cl_destroy(&c);

    /* a cluster whose only records ever came from a CAS */
    l = setup(&c);
    w = cas_ttl(&c, l, "k", NULL, "v", 5);
    assert_true(w.ok);
    assert_int_equal(put_ttl(&c, l, "k", "w", 0), 0);
    c.unix_ms += 10000;
    for (int i = 1; i <= 3; i++) {
        assert_false(engine_has(&c, i, MVCC_CF_LOCK, "k"));
        assert_int_equal(get(&c, i, "k", v, sizeof v), 0);
        assert_string_equal(v, "w");
    }
    cl_destroy(&c);
}

/* Records are found again after every store restarts, and a follower
 * brought back by a snapshot (log compacted meanwhile) gets them. */
static void restart_and_snapshot(void **state)
{
    (void)state;
    struct cluster c;
    memset(&c, 0, sizeof c);
    c.log_keep_entries = 4;
    cl_init(&c, 3, false);
    cl_bootstrap(&c, 1, NULL, NULL);
    int l = (int)cl_wait_leader(&c, 1);
    int f = l == 1 ? 2 : 1;
    cl_stop(&c, f);
    assert_int_equal(put_ttl(&c, l, "t", "v", 30), 0);
    for (int i = 0; i < 20; i++) {
        char k[16];
        snprintf(k, sizeof k, "p%02d", i);
        assert_int_equal(put_ttl(&c, l, k, "v", 0), 0);
    }
    cl_start(&c, f);
    char v[64];
    for (int t = 0; t < 200 && get(&c, f, "p19", v, sizeof v) != 0; t++)
        cl_tick(&c);
    assert_true(stats(&c, f).snaps_applied >= 1);
    assert_true(engine_has(&c, f, MVCC_CF_LOCK, "t"));
    for (int i = 1; i <= 3; i++) {
        cl_stop(&c, i);
        cl_start(&c, i);
    }
    for (int i = 1; i <= 3; i++)
        assert_int_equal(get(&c, i, "t", v, sizeof v), 0);
    c.unix_ms += 30000;
    for (int i = 1; i <= 3; i++)
        assert_int_equal(get(&c, i, "t", v, sizeof v), MVCC_NOTFOUND);
    cl_destroy(&c);
}

/* A key nobody reads is found by the leader's sweep (every 30 election
 * timeouts, 256 records a step) and deleted on every store. */
static void sweep_finds_unread_keys(void **state)
{
    (void)state;
    struct cluster c;
    int l = setup(&c);
    for (int i = 0; i < 300; i++) {
        char k[16];
        snprintf(k, sizeof k, "s%03d", i);
        assert_int_equal(put_ttl(&c, l, k, "v", i < 290 ? 5 : 3600), 0);
    }
    c.unix_ms += 5000;
    /* 300 ticks per step: the first step sees 256 records, the next the
     * other 44 (10 of them unexpired) */
    for (int t = 0; t < 2 * 30 * 10 + 5; t++)
        cl_tick(&c);
    for (int i = 1; i <= 3; i++) {
        assert_int_equal(stats(&c, i).ttl_removed, 290);
        assert_false(engine_has(&c, i, MVCC_CF_DEFAULT, "s000"));
        assert_false(engine_has(&c, i, MVCC_CF_DEFAULT, "s289"));
        assert_true(engine_has(&c, i, MVCC_CF_DEFAULT, "s290"));
        assert_int_equal(stats(&c, i).ttl_expired, 0); /* no read saw them */
    }
    cl_destroy(&c);
}

/* Deletes in store i's active memtable of CF lock. */
static uint64_t lock_deletes(struct cluster *c, int i)
{
    uint64_t v = 0;
    assert_int_equal(mvcc_engine_property(c->st[i].eng, MVCC_CF_LOCK,
                                          "rocksdb.num-deletes-active-mem-table",
                                          &v),
                     0);
    return v;
}

/* The TTL-record delete a raw put carries is applied only on a store that
 * may hold a record (DESIGN.md "Raw TTL"): a store that never held one
 * writes nothing to CF lock for plain puts (counted in RocksDB's active
 * memtable), and once a record exists, before or after a restart, a plain
 * put clears it on every store. */
/* 20 plain puts on stores without records: no CF-lock write anywhere
 * (20 deletes per store before). The first TTL put turns the deletes on:
 * the next plain put of that key clears its record on every store. */
static void plain_puts_skip_the_delete(void **state)
{
    (void)state;
    struct cluster c;
    int l = setup(&c);
    char key[16];
    for (int i = 0; i < 20; i++) {
        snprintf(key, sizeof key, "k%02d", i);
        assert_int_equal(put_ttl(&c, l, key, "v", 0), 0);
    }
    for (int i = 1; i <= 3; i++)
        assert_int_equal(lock_deletes(&c, i), 0);
    assert_int_equal(put_ttl(&c, l, "k05", "v", 100), 0);
    for (int i = 1; i <= 3; i++)
        assert_true(engine_has(&c, i, MVCC_CF_LOCK, "k05"));
    assert_int_equal(put_ttl(&c, l, "k05", "v", 0), 0);
    for (int i = 1; i <= 3; i++) {
        assert_false(engine_has(&c, i, MVCC_CF_LOCK, "k05"));
        assert_int_equal(lock_deletes(&c, i), 1);
    }
    cl_destroy(&c);
}

/* A record written before every store restarts is cleared by a plain put
 * after it: open finds the record (one seek) and turns the deletes on. */
static void record_found_after_restart(void **state)
{
    (void)state;
    struct cluster c;
    int l = setup(&c);
    assert_int_equal(put_ttl(&c, l, "a", "v", 100), 0);
    for (int i = 1; i <= 3; i++)
        cl_stop(&c, i);
    for (int i = 1; i <= 3; i++)
        cl_start(&c, i);
    l = (int)cl_wait_leader(&c, 1);
    assert_true(l > 0);
    for (int i = 1; i <= 3; i++)
        assert_true(engine_has(&c, i, MVCC_CF_LOCK, "a"));
    assert_int_equal(put_ttl(&c, l, "a", "v", 0), 0);
    for (int i = 1; i <= 3; i++)
        assert_false(engine_has(&c, i, MVCC_CF_LOCK, "a"));
    cl_destroy(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ttl_expires),
        cmocka_unit_test(rewrite_and_clear),
        cmocka_unit_test(cas_finds_expired_key_absent),
        cmocka_unit_test(cas_with_ttl),
        cmocka_unit_test(restart_and_snapshot),
        cmocka_unit_test(sweep_finds_unread_keys),
        cmocka_unit_test(plain_puts_skip_the_delete),
        cmocka_unit_test(record_found_after_restart),
    };
    return cmocka_run_group_tests_name("libregion/ttl", tests, NULL, NULL);
}
