/* test_read.c: the read path (Get, BatchGet, Scan forward and reverse,
 * limit, key-only, SI and read-committed) pinned to exact answers over
 * many versions, deletes, rollbacks, lock records and locks in the way,
 * within region bounds; and the engine work a scan does, counted through
 * a wrapping engine (DESIGN.md, "Reads"). Every test runs on both engines,
 * without and with a lock table.
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

#define K(x) (x), strlen(x)

/* ---------------------------------------------------------------------- */
/* Writing through the store with chosen timestamps                        */

static int prewrite_one(struct tu_store *t, int op, const char *k, size_t kl,
                        const void *v, size_t vl, mvcc_ts start)
{
    struct mvcc_mutation m = {op, k, kl, v, vl, false};
    struct mvcc_prewrite_req req;
    memset(&req, 0, sizeof req);
    req.mutations = &m;
    req.n = 1;
    req.primary = k;
    req.primary_len = kl;
    req.start_ts = start;
    req.lock_ttl = 100000;
    req.txn_size = 1;
    return mvcc_prewrite(t->s, &req, &t->r);
}

static void commit_one(struct tu_store *t, int op, const char *k, size_t kl,
                       const void *v, size_t vl, mvcc_ts start, mvcc_ts cts)
{
    struct mvcc_key key = {k, kl};
    assert_int_equal(prewrite_one(t, op, k, kl, v, vl, start), 0);
    assert_int_equal(mvcc_commit(t->s, &key, 1, start, cts, &t->r), 0);
}

static void rollback_one(struct tu_store *t, const char *k, size_t kl,
                         mvcc_ts start)
{
    struct mvcc_key key = {k, kl};
    assert_int_equal(mvcc_batch_rollback(t->s, &key, 1, start, &t->r), 0);
}

/* ---------------------------------------------------------------------- */
/* A model: per key, the visible value at any ts, and the lock left on it  */

#define NKEYS 20
#define MAXREC 160
#define LONGV 300 /* above the 255-byte inline limit: CF default */

/* Keys in byte order: prefixes of each other, 8- and 9-byte keys (the
 * encoding's group boundary), bytes 0x00 and 0xFF. */
static const char *const keys[NKEYS] = {
    "",         "\x00",      "a",          "a\x00",     "a\x00\x00",
    "aa",       "ab",        "abcdefg",    "abcdefgh",  "abcdefgh\x00",
    "abcdefghi", "b",        "b\xff",      "c",         "d",
    "dd",       "e",         "x",          "y",         "\xff\xff",
};
static const size_t key_lens[NKEYS] = {0, 1, 1, 2, 3, 2, 2, 7, 8, 9,
                                       9, 1, 2, 1, 1, 2, 1, 1, 1, 2};

struct mrec
{
    mvcc_ts cts;     /* commit ts (== start for a rollback) */
    int type;        /* 'P', 'D', 'L', 'R' */
    size_t vlen;     /* value length (Put) */
    unsigned vseed;  /* value bytes: vseed + i */
};

struct mkey
{
    struct mrec rec[MAXREC]; /* in commit order (ascending cts) */
    size_t n;                /* how many */
    int lock_type;           /* 0, or the lock left: 'P','D','L','S' */
    mvcc_ts lock_ts;         /* its start_ts */
};

struct model
{
    struct mkey k[NKEYS]; /* per key of keys[] */
    mvcc_ts now;          /* last ts used */
};

static void fill(uint8_t *buf, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        buf[i] = (uint8_t)(seed + i);
}

/* The newest Put or Delete at or below ts: its index, or -1. */
static int visible(const struct mkey *mk, mvcc_ts ts)
{
    for (size_t i = mk->n; i-- > 0;)
        if (mk->rec[i].cts <= ts &&
            (mk->rec[i].type == 'P' || mk->rec[i].type == 'D'))
            return mk->rec[i].type == 'P' ? (int)i : -1;
    return -1;
}

/* A prewrite's lock has min_commit_ts = start_ts + 1: it blocks readers
 * above its start_ts. */
static bool lock_blocks(const struct mkey *mk, mvcc_ts ts, int iso,
                        mvcc_ts bypass)
{
    return iso == MVCC_ISO_SI &&
           (mk->lock_type == 'P' || mk->lock_type == 'D') &&
           mk->lock_ts < ts && mk->lock_ts != bypass;
}

/* Writes a random history: hot keys get many versions (past the seek
 * bound), with deletes, lock-only commits, rollbacks (with and without a
 * prewrite), overlapped rollbacks and long values; then leaves locks of
 * every kind on some keys. */
static void build(struct tu_store *t, struct model *m, unsigned seed,
                  int ops)
{
    memset(m, 0, sizeof *m);
    m->now = TU_TS(1000, 0);
    uint8_t val[LONGV];
    for (int i = 0; i < ops; i++) {
        unsigned r = tu_rand(&seed);
        /* a third of the history on three hot keys */
        size_t ki = r % 3 == 0 ? 8 + (r / 3) % 3 : (r / 3) % NKEYS;
        struct mkey *mk = &m->k[ki];
        if (mk->n == MAXREC)
            continue;
        unsigned what = tu_rand(&seed) % 20;
        mvcc_ts start = ++m->now, cts = ++m->now;
        struct mrec *rec = &mk->rec[mk->n];
        if (what < 11) { /* put */
            size_t vl = what == 0 ? 0 : what < 3 ? LONGV : 1 + tu_rand(&seed) % 40;
            unsigned vs = tu_rand(&seed);
            fill(val, vl, vs);
            commit_one(t, MVCC_OP_PUT, keys[ki], key_lens[ki], val, vl, start,
                       cts);
            *rec = (struct mrec){cts, 'P', vl, vs};
        } else if (what < 14) {
            commit_one(t, MVCC_OP_DELETE, keys[ki], key_lens[ki], NULL, 0,
                       start, cts);
            *rec = (struct mrec){cts, 'D', 0, 0};
        } else if (what < 16) {
            commit_one(t, MVCC_OP_LOCK, keys[ki], key_lens[ki], NULL, 0,
                       start, cts);
            *rec = (struct mrec){cts, 'L', 0, 0};
        } else if (what < 18) { /* prewritten, then rolled back */
            fill(val, LONGV, 7);
            assert_int_equal(prewrite_one(t, MVCC_OP_PUT, keys[ki],
                                          key_lens[ki], val,
                                          what == 16 ? LONGV : 5, start),
                             0);
            rollback_one(t, keys[ki], key_lens[ki], start);
            *rec = (struct mrec){start, 'R', 0, 0};
        } else if (what < 19) { /* rollback record only */
            rollback_one(t, keys[ki], key_lens[ki], start);
            *rec = (struct mrec){start, 'R', 0, 0};
        } else {
            /* A rollback at the ts of the key's last commit flags that
             * record (overlapped rollback); reads are unchanged. */
            if (mk->n > 0 && mk->rec[mk->n - 1].type != 'R')
                rollback_one(t, keys[ki], key_lens[ki],
                             mk->rec[mk->n - 1].cts);
            continue;
        }
        mk->n++;
    }
    /* Locks left in place, every kind, some below later read ts. */
    static const int lock_ops[] = {MVCC_OP_PUT, MVCC_OP_DELETE, MVCC_OP_LOCK};
    for (size_t ki = 0; ki < NKEYS; ki++) {
        unsigned r = tu_rand(&seed) % 6;
        if (r >= 4)
            continue;
        struct mkey *mk = &m->k[ki];
        mk->lock_ts = ++m->now;
        if (r == 3) {
            struct mvcc_key k = {keys[ki], key_lens[ki]};
            struct mvcc_pessimistic_req pr;
            memset(&pr, 0, sizeof pr);
            pr.keys = &k;
            pr.n = 1;
            pr.primary = keys[ki];
            pr.primary_len = key_lens[ki];
            pr.start_ts = mk->lock_ts;
            pr.for_update_ts = mk->lock_ts;
            pr.lock_ttl = 100000;
            assert_int_equal(mvcc_acquire_pessimistic_lock(t->s, &pr, &t->r),
                             0);
            mk->lock_type = 'S';
            continue;
        }
        fill(val, LONGV, 3);
        assert_int_equal(prewrite_one(t, lock_ops[r], keys[ki], key_lens[ki],
                                      val, r == 0 ? LONGV : 0, mk->lock_ts),
                         0);
        mk->lock_type = r == 0 ? 'P' : r == 1 ? 'D' : 'L';
    }
    m->now++;
}

/* ---------------------------------------------------------------------- */
/* Checking reads against the model                                        */

static void check_pair(const struct mvcc_kvpair *p, size_t ki,
                       const struct mrec *rec, bool key_only)
{
    uint8_t val[LONGV];
    assert_int_equal(p->key_len, key_lens[ki]);
    if (key_lens[ki])
        assert_memory_equal(p->key, keys[ki], key_lens[ki]);
    if (key_only) {
        assert_null(p->value);
        assert_int_equal(p->value_len, 0);
        return;
    }
    fill(val, rec->vlen, rec->vseed);
    assert_int_equal(p->value_len, rec->vlen);
    assert_non_null(p->value);
    if (rec->vlen)
        assert_memory_equal(p->value, val, rec->vlen);
}

/* Scans [keys[lo], keys[hi]) (hi == NKEYS: unbounded) and compares. */
static void check_scan(struct tu_store *t, const struct model *m, mvcc_ts ts,
                       size_t lo, size_t hi, bool rev, size_t limit,
                       bool key_only, int iso, mvcc_ts bypass)
{
    struct mvcc_read_opts ro;
    memset(&ro, 0, sizeof ro);
    ro.reverse = rev;
    ro.limit = limit;
    ro.key_only = key_only;
    ro.isolation = iso;
    ro.bypass = &bypass;
    ro.nbypass = bypass ? 1 : 0;
    int rc = mvcc_scan(t->s, &ro, keys[lo], key_lens[lo],
                       hi < NKEYS ? keys[hi] : NULL,
                       hi < NKEYS ? key_lens[hi] : 0, ts, &t->r);
    size_t got = 0;
    for (size_t step = 0; step < hi - lo; step++) {
        size_t ki = rev ? hi - 1 - step : lo + step;
        if (limit && got == limit)
            break;
        const struct mkey *mk = &m->k[ki];
        if (lock_blocks(mk, ts, iso, bypass)) {
            assert_int_equal(rc, MVCC_LOCKED);
            assert_int_equal(t->r.nlocks, 1);
            assert_int_equal(t->r.locks[0].key_len, key_lens[ki]);
            if (key_lens[ki])
                assert_memory_equal(t->r.locks[0].key, keys[ki],
                                    key_lens[ki]);
            assert_int_equal(t->r.locks[0].start_ts, mk->lock_ts);
            return;
        }
        int vi = visible(mk, ts);
        if (vi < 0)
            continue;
        assert_true(got < t->r.npairs);
        check_pair(&t->r.pairs[got], ki, &mk->rec[vi], key_only);
        got++;
    }
    assert_int_equal(rc, 0);
    assert_int_equal(t->r.npairs, got);
}

/* Get of every key and one BatchGet of all of them (in reverse order). */
static void check_gets(struct tu_store *t, const struct model *m, mvcc_ts ts,
                       int iso)
{
    struct mvcc_read_opts ro;
    memset(&ro, 0, sizeof ro);
    ro.isolation = iso;
    struct mvcc_key all[NKEYS];
    size_t want = 0;
    int first_lock = -1;
    for (size_t ki = 0; ki < NKEYS; ki++) {
        const struct mkey *mk = &m->k[ki];
        all[ki] = (struct mvcc_key){keys[NKEYS - 1 - ki],
                                    key_lens[NKEYS - 1 - ki]};
        int rc = mvcc_get(t->s, &ro, keys[ki], key_lens[ki], ts, &t->r);
        int vi = visible(mk, ts);
        if (lock_blocks(mk, ts, iso, 0)) {
            assert_int_equal(rc, MVCC_LOCKED);
            assert_int_equal(t->r.locks[0].start_ts, mk->lock_ts);
            first_lock = (int)ki; /* the last one wins: reversed below */
            continue;
        }
        if (vi < 0) {
            assert_int_equal(rc, MVCC_NOTFOUND);
            continue;
        }
        assert_int_equal(rc, 0);
        assert_int_equal(t->r.npairs, 1);
        check_pair(&t->r.pairs[0], ki, &mk->rec[vi], false);
        want++;
    }
    int rc = mvcc_batch_get(t->s, &ro, all, NKEYS, ts, &t->r);
    if (first_lock >= 0) {
        /* reads report the first lock in the way, in request order */
        assert_int_equal(rc, MVCC_LOCKED);
        assert_int_equal(t->r.locks[0].key_len, key_lens[first_lock]);
        return;
    }
    assert_int_equal(rc, 0);
    assert_int_equal(t->r.npairs, want);
    size_t got = 0;
    for (size_t ki = NKEYS; ki-- > 0;) {
        int vi = visible(&m->k[ki], ts);
        if (vi < 0)
            continue;
        check_pair(&t->r.pairs[got++], ki, &m->k[ki].rec[vi], false);
    }
}

/* Read timestamps: every commit boundary of the hot keys is hit by
 * picking ts at random over the whole history, plus the extremes. */
static void check_all(struct tu_store *t, const struct model *m,
                      unsigned seed)
{
    static const size_t bounds[][2] = {
        {0, NKEYS}, {0, 9}, {8, 11}, {2, 5}, {9, 10}, {12, 19}, {5, 5},
    };
    static const size_t limits[] = {0, 1, 3};
    mvcc_ts lo_ts = TU_TS(1000, 0);
    /* the locks' start_ts and the ts just above: where each starts to
     * block */
    mvcc_ts lock_ts[NKEYS * 2];
    size_t nlts = 0;
    for (size_t ki = 0; ki < NKEYS && nlts < 6; ki++)
        if (m->k[ki].lock_type) {
            lock_ts[nlts++] = m->k[ki].lock_ts;
            lock_ts[nlts++] = m->k[ki].lock_ts + 1;
        }
    for (size_t i = 0; i < 16 + nlts; i++) {
        mvcc_ts ts = i == 0   ? lo_ts
                     : i == 1 ? m->now
                     : i == 2 ? MVCC_TS_MAX - 1
                     : i >= 16 ? lock_ts[i - 16]
                              : lo_ts + tu_rand(&seed) % (m->now - lo_ts + 1);
        for (int iso = MVCC_ISO_SI; iso <= MVCC_ISO_RC; iso++) {
            check_gets(t, m, ts, iso);
            for (size_t b = 0; b < sizeof bounds / sizeof bounds[0]; b++)
                for (size_t li = 0; li < 3; li++)
                    for (int rev = 0; rev < 2; rev++)
                        for (int ko = 0; ko < (li == 0 ? 2 : 1); ko++)
                            check_scan(t, m, ts, bounds[b][0], bounds[b][1],
                                       rev, limits[li], ko, iso, 0);
        }
    }
    /* A reader may bypass a lock's transaction (a pushed or resolved
     * one): that lock is then not in the way. */
    for (size_t ki = 0; ki < NKEYS; ki++)
        if (m->k[ki].lock_type == 'P' || m->k[ki].lock_type == 'D') {
            check_scan(t, m, m->now, 0, NKEYS, false, 0, false, MVCC_ISO_SI,
                       m->k[ki].lock_ts);
            check_scan(t, m, m->now, 0, NKEYS, true, 0, false, MVCC_ISO_SI,
                       m->k[ki].lock_ts);
        }
}

static void model_reads(void **state)
{
    struct tu_store *t = *state;
    struct model *m = malloc(sizeof *m);
    assert_non_null(m);
    build(t, m, 12345u, 600);
    /* the hot keys are past the seek bound */
    assert_true(m->k[8].n > 20 && m->k[9].n > 20 && m->k[10].n > 20);
    check_all(t, m, 99u);
    free(m);
}

static void model_reads_other_seed(void **state)
{
    struct tu_store *t = *state;
    struct model *m = malloc(sizeof *m);
    assert_non_null(m);
    build(t, m, 777u, 300);
    check_all(t, m, 5u);
    free(m);
}

/* ---------------------------------------------------------------------- */
/* Hand-written histories with their answers spelled out                   */

#define TS(ms) TU_TS(ms, 0)

static void scan_is(struct tu_store *t, const struct mvcc_read_opts *ro,
                    const char *lo, const char *hi, mvcc_ts ts,
                    const char *want)
{
    /* want: "k=v k=v ..." in result order */
    assert_int_equal(mvcc_scan(t->s, ro, K(lo), hi, hi ? strlen(hi) : 0, ts,
                               &t->r),
                     0);
    char got[512] = "";
    for (size_t i = 0; i < t->r.npairs; i++) {
        const struct mvcc_kvpair *p = &t->r.pairs[i];
        size_t n = strlen(got);
        snprintf(got + n, sizeof got - n, "%s%.*s=%.*s", i ? " " : "",
                 (int)p->key_len, (const char *)p->key, (int)p->value_len,
                 p->value ? (const char *)p->value : "");
    }
    assert_string_equal(got, want);
}

/* One key with 30 versions (puts, a delete, lock records, rollbacks)
 * between two neighbours: every ts gives the version it should, both
 * directions. */
static void many_versions(void **state)
{
    struct tu_store *t = *state;
    commit_one(t, MVCC_OP_PUT, K("a"), "A", 1, TS(1), TS(2));
    commit_one(t, MVCC_OP_PUT, K("c"), "C", 1, TS(1), TS(2));
    char v[8];
    for (int i = 0; i < 30; i++) {
        mvcc_ts s = TS(10 + 10 * (uint64_t)i), c = s + TS(5);
        snprintf(v, sizeof v, "v%d", i);
        if (i == 12)
            commit_one(t, MVCC_OP_DELETE, K("b"), NULL, 0, s, c);
        else if (i % 7 == 3)
            commit_one(t, MVCC_OP_LOCK, K("b"), NULL, 0, s, c);
        else if (i % 5 == 4)
            rollback_one(t, K("b"), s);
        else
            commit_one(t, MVCC_OP_PUT, K("b"), v, strlen(v), s, c);
    }
    struct mvcc_read_opts fw = {0}, bw = {0};
    bw.reverse = true;
    /* before b's first commit */
    scan_is(t, &fw, "a", NULL, TS(14), "a=A c=C");
    scan_is(t, &bw, "a", NULL, TS(14), "c=C a=A");
    scan_is(t, &fw, "a", NULL, TS(15), "a=A b=v0 c=C");
    /* v2 is the last put before the lock record at i=3 and the rollback
     * at i=4 */
    scan_is(t, &fw, "a", NULL, TS(55), "a=A b=v2 c=C");
    scan_is(t, &bw, "a", NULL, TS(55), "c=C b=v2 a=A");
    /* the delete at i=12 (commit 135) hides v11 until v13 (145) */
    scan_is(t, &fw, "a", NULL, TS(134), "a=A b=v11 c=C");
    scan_is(t, &fw, "a", NULL, TS(135), "a=A c=C");
    scan_is(t, &bw, "a", NULL, TS(144), "c=C a=A");
    scan_is(t, &bw, "a", NULL, TS(145), "c=C b=v13 a=A");
    /* i=29 is a rollback (29 % 5 == 4), i=28 a put, i=24 a lock */
    scan_is(t, &fw, "a", NULL, TS(1000), "a=A b=v28 c=C");
    scan_is(t, &bw, "a", NULL, TS(1000), "c=C b=v28 a=A");
    scan_is(t, &fw, "b", "c", TS(1000), "b=v28");
    scan_is(t, &bw, "b", "c", TS(1000), "b=v28");
    scan_is(t, &bw, "a", "b", TS(1000), "a=A");
    scan_is(t, &bw, "b", NULL, TS(1000), "c=C b=v28");
    /* limits */
    fw.limit = bw.limit = 2;
    scan_is(t, &fw, "", NULL, TS(1000), "a=A b=v28");
    scan_is(t, &bw, "", NULL, TS(1000), "c=C b=v28");
    scan_is(t, &bw, "", NULL, TS(140), "c=C a=A");
    /* key-only */
    fw.limit = 0;
    fw.key_only = true;
    scan_is(t, &fw, "", NULL, TS(1000), "a= b= c=");
}

/* Locks in the way: a blocking one stops the scan at that key with the
 * lock's details (also under the limit it would not reach); RC ignores
 * locks; lock-only and pessimistic locks never block; a lock above ts or
 * with min_commit_ts above ts does not either. */
static void locks_in_the_way(void **state)
{
    struct tu_store *t = *state;
    commit_one(t, MVCC_OP_PUT, K("a"), "1", 1, TS(1), TS(2));
    commit_one(t, MVCC_OP_PUT, K("b"), "2", 1, TS(1), TS(2));
    commit_one(t, MVCC_OP_PUT, K("c"), "3", 1, TS(1), TS(2));
    /* b locked at 10 (put), d locked at 10 with nothing committed */
    assert_int_equal(prewrite_one(t, MVCC_OP_PUT, K("b"), "x", 1, TS(10)), 0);
    assert_int_equal(prewrite_one(t, MVCC_OP_DELETE, K("d"), NULL, 0, TS(10)),
                     0);
    assert_int_equal(prewrite_one(t, MVCC_OP_LOCK, K("a"), NULL, 0, TS(10)),
                     0);
    struct mvcc_read_opts ro = {0};
    mvcc_ts above = TS(10) + 1; /* the locks' min_commit_ts */
    scan_is(t, &ro, "", NULL, TS(9), "a=1 b=2 c=3");
    scan_is(t, &ro, "", NULL, TS(10), "a=1 b=2 c=3");
    assert_int_equal(mvcc_scan(t->s, &ro, K(""), NULL, 0, above, &t->r),
                     MVCC_LOCKED);
    assert_int_equal(t->r.nlocks, 1);
    assert_int_equal(t->r.locks[0].key_len, 1);
    assert_memory_equal(t->r.locks[0].key, "b", 1);
    assert_int_equal(t->r.locks[0].start_ts, TS(10));
    assert_int_equal(t->r.locks[0].type, MVCC_LOCK_PUT);
    ro.limit = 1;
    scan_is(t, &ro, "", NULL, above, "a=1");
    ro.limit = 0;
    ro.reverse = true;
    assert_int_equal(mvcc_scan(t->s, &ro, K(""), NULL, 0, above, &t->r),
                     MVCC_LOCKED);
    assert_memory_equal(t->r.locks[0].key, "d", 1);
    scan_is(t, &ro, "c", "d", above, "c=3");
    scan_is(t, &ro, "", "b", above, "a=1");
    ro.reverse = false;
    ro.isolation = MVCC_ISO_RC;
    scan_is(t, &ro, "", NULL, above, "a=1 b=2 c=3");
    ro.isolation = MVCC_ISO_SI;
    scan_is(t, &ro, "c", NULL, TS(9), "c=3");
    assert_int_equal(mvcc_scan(t->s, &ro, K("c"), NULL, 0, above, &t->r),
                     MVCC_LOCKED);
    assert_memory_equal(t->r.locks[0].key, "d", 1);
}

/* ---------------------------------------------------------------------- */
/* Engine work: a wrapping engine counts seeks, steps and gets             */

struct counts
{
    unsigned long seeks;  /* seek, seek_for_prev */
    unsigned long firsts; /* seek_to_first, seek_to_last */
    unsigned long steps;  /* next, prev */
    unsigned long gets;   /* point gets */
    unsigned long iters;  /* iterators made */
};

struct ceng
{
    struct mvcc_engine base;   /* must be first */
    struct mvcc_engine *inner; /* the real engine */
    struct counts n[MVCC_CF_COUNT]; /* per column family */
};

struct citer
{
    struct mvcc_iter base;   /* must be first */
    struct mvcc_iter *inner; /* the real iterator */
    struct counts *n;        /* its CF's counters */
};

static int ci_seek(struct mvcc_iter *b, const void *k, size_t kl)
{
    struct citer *it = (struct citer *)b;
    it->n->seeks++;
    return it->inner->ops->seek(it->inner, k, kl);
}
static int ci_seek_for_prev(struct mvcc_iter *b, const void *k, size_t kl)
{
    struct citer *it = (struct citer *)b;
    it->n->seeks++;
    return it->inner->ops->seek_for_prev(it->inner, k, kl);
}
static int ci_first(struct mvcc_iter *b)
{
    struct citer *it = (struct citer *)b;
    it->n->firsts++;
    return it->inner->ops->seek_to_first(it->inner);
}
static int ci_last(struct mvcc_iter *b)
{
    struct citer *it = (struct citer *)b;
    it->n->firsts++;
    return it->inner->ops->seek_to_last(it->inner);
}
static int ci_next(struct mvcc_iter *b)
{
    struct citer *it = (struct citer *)b;
    it->n->steps++;
    return it->inner->ops->next(it->inner);
}
static int ci_prev(struct mvcc_iter *b)
{
    struct citer *it = (struct citer *)b;
    it->n->steps++;
    return it->inner->ops->prev(it->inner);
}
static bool ci_valid(const struct mvcc_iter *b)
{
    const struct citer *it = (const struct citer *)b;
    return it->inner->ops->valid(it->inner);
}
static const uint8_t *ci_key(const struct mvcc_iter *b, size_t *len)
{
    const struct citer *it = (const struct citer *)b;
    return it->inner->ops->key(it->inner, len);
}
static const uint8_t *ci_value(const struct mvcc_iter *b, size_t *len)
{
    const struct citer *it = (const struct citer *)b;
    return it->inner->ops->value(it->inner, len);
}
static void ci_destroy(struct mvcc_iter *b)
{
    struct citer *it = (struct citer *)b;
    mvcc_iter_destroy(it->inner);
    free(it);
}
static const struct mvcc_iter_ops citer_ops = {
    ci_seek, ci_seek_for_prev, ci_first, ci_last,  ci_next,
    ci_prev, ci_valid,         ci_key,   ci_value, ci_destroy,
};

static int ce_get(struct mvcc_engine *b, const struct mvcc_snapshot *snap,
                  int cf, const void *k, size_t kl, uint8_t **v, size_t *vl)
{
    struct ceng *e = (struct ceng *)b;
    e->n[cf].gets++;
    return e->inner->ops->get(e->inner, snap, cf, k, kl, v, vl);
}
static int ce_write(struct mvcc_engine *b, const struct mvcc_wbatch *wb,
                    bool sync)
{
    struct ceng *e = (struct ceng *)b;
    return e->inner->ops->write(e->inner, wb, sync);
}
static int ce_snapshot(struct mvcc_engine *b, struct mvcc_snapshot **out)
{
    struct ceng *e = (struct ceng *)b;
    return e->inner->ops->snapshot(e->inner, out);
}
static void ce_snapshot_release(struct mvcc_engine *b,
                                struct mvcc_snapshot *s)
{
    struct ceng *e = (struct ceng *)b;
    e->inner->ops->snapshot_release(e->inner, s);
}
static int ce_iter(struct mvcc_engine *b, const struct mvcc_snapshot *snap,
                   int cf, const struct mvcc_iter_opts *o,
                   struct mvcc_iter **out)
{
    struct ceng *e = (struct ceng *)b;
    struct citer *it = calloc(1, sizeof *it);
    if (it == NULL)
        return -ENOMEM;
    int rc = e->inner->ops->iter(e->inner, snap, cf, o, &it->inner);
    if (rc != 0) {
        free(it);
        return rc;
    }
    it->base.ops = &citer_ops;
    it->n = &e->n[cf];
    e->n[cf].iters++;
    *out = &it->base;
    return 0;
}
static void ce_destroy(struct mvcc_engine *b)
{
    free(b);
}
static const struct mvcc_engine_ops ceng_ops = {
    ce_get, ce_write, ce_snapshot, ce_snapshot_release, ce_iter, ce_destroy,
    NULL, NULL,
};

/* A store over a counting engine over the fixture's engine. */
struct cfix
{
    struct tu_store t; /* t.s is over ce; t.f the real engine */
    struct ceng *ce;   /* the counting wrapper */
};

static int cfix_setup(void **state)
{
    struct cfix *x = calloc(1, sizeof *x);
    if (x == NULL || tu_fix_open(&x->t.f, *(int *)*state) != 0)
        return -1;
    x->ce = calloc(1, sizeof *x->ce);
    x->ce->base.ops = &ceng_ops;
    x->ce->inner = x->t.f.eng;
    struct mvcc_store_opts so;
    tu_store_opts(x->t.f.kind, &so);
    if (mvcc_store_open(&x->ce->base, &so, &x->t.s) != 0)
        return -1;
    mvcc_result_init(&x->t.r);
    *state = x;
    return 0;
}

static int cfix_teardown(void **state)
{
    struct cfix *x = *state;
    mvcc_result_reset(&x->t.r);
    mvcc_store_close(x->t.s);
    mvcc_engine_destroy(&x->ce->base);
    tu_fix_close(&x->t.f);
    free(x);
    return 0;
}

#define CBOTH(fn)                                                            \
    {"mem/" #fn, fn, cfix_setup, cfix_teardown, &tu_kind_mem},               \
    {"rocks/" #fn, fn, cfix_setup, cfix_teardown, &tu_kind_rocks},           \
    {"memlt/" #fn, fn, cfix_setup, cfix_teardown, &tu_kind_mem_lt},          \
    {                                                                        \
        "rockslt/" #fn, fn, cfix_setup, cfix_teardown, &tu_kind_rocks_lt     \
    }

static void zero(struct cfix *x)
{
    memset(x->ce->n, 0, sizeof x->ce->n);
}

/* 50 keys of 3 versions: a scan either way steps over the older versions
 * and to the next key without one seek or point get; a key with more
 * versions than the seek bound costs one seek (forward: to the version
 * at ts, then one to leave the key; reverse: one to the visible version
 * and one back before the key). */
static void scan_engine_work(void **state)
{
    struct cfix *x = *state;
    struct tu_store *t = &x->t;
    char k[16], v[16];
    mvcc_ts ts = TS(100);
    for (int ver = 0; ver < 3; ver++)
        for (int i = 0; i < 50; i++) {
            snprintf(k, sizeof k, "k%03d", i);
            snprintf(v, sizeof v, "v%d", ver);
            commit_one(t, MVCC_OP_PUT, K(k), v, strlen(v), ts, ts + 1);
            ts += 2;
        }
    struct mvcc_read_opts ro = {0};
    int lock_cf_iters = t->f.kind == TU_MEM || t->f.kind == TU_ROCKS;
    /* With a lock table the write-CF iterator is a kept unbounded one
     * (DESIGN "Reads": kept iterators): made once while nothing is
     * written, positioned by a seek to the scan's bound. */
    int kept = !lock_cf_iters;
    for (int rev = 0; rev < 2; rev++) {
        ro.reverse = rev;
        zero(x);
        assert_int_equal(mvcc_scan(t->s, &ro, K("k"), K("l"), ts, &t->r), 0);
        assert_int_equal(t->r.npairs, 50);
        assert_memory_equal(t->r.pairs[rev ? 0 : 49].key, "k049", 4);
        assert_memory_equal(t->r.pairs[rev ? 0 : 49].value, "v2", 2);
        const struct counts *w = &x->ce->n[MVCC_CF_WRITE];
        assert_int_equal(w->iters, kept && rev ? 0 : 1);
        assert_int_equal(w->firsts, 1 - kept);
        assert_int_equal(w->seeks, kept);
        assert_int_equal(w->steps, 150); /* every record once */
        assert_int_equal(w->gets, 0);
        assert_int_equal(x->ce->n[MVCC_CF_DEFAULT].gets, 0);
        assert_int_equal(x->ce->n[MVCC_CF_LOCK].gets, 0);
        assert_int_equal(x->ce->n[MVCC_CF_LOCK].iters,
                         (unsigned long)lock_cf_iters);
    }
    /* Reading below the newest version: one step past it per key. */
    ro.reverse = false;
    zero(x);
    assert_int_equal(
        mvcc_scan(t->s, &ro, K("k"), K("l"), TS(100) + 100, &t->r), 0);
    assert_int_equal(t->r.npairs, 50);
    assert_memory_equal(t->r.pairs[0].value, "v0", 2);
    assert_int_equal(x->ce->n[MVCC_CF_WRITE].iters, 1 - kept);
    assert_int_equal(x->ce->n[MVCC_CF_WRITE].seeks, kept);
    assert_int_equal(x->ce->n[MVCC_CF_WRITE].steps, 150);

    /* k020 gets 20 more versions: past the bound. */
    for (int i = 0; i < 20; i++) {
        snprintf(v, sizeof v, "w%d", i);
        commit_one(t, MVCC_OP_PUT, K("k020"), v, strlen(v), ts, ts + 1);
        ts += 2;
    }
    for (int rev = 0; rev < 2; rev++) {
        ro.reverse = rev;
        zero(x);
        assert_int_equal(mvcc_scan(t->s, &ro, K("k"), K("l"), ts, &t->r), 0);
        assert_int_equal(t->r.npairs, 50);
        assert_memory_equal(t->r.pairs[rev ? 29 : 20].value, "w19", 3);
        if (!rev) {
            /* 8 steps over k020's older versions, then a seek past them */
            assert_int_equal(x->ce->n[MVCC_CF_WRITE].seeks, 1 + kept);
            assert_int_equal(x->ce->n[MVCC_CF_WRITE].steps,
                             49 * 3 + 8);
        } else {
            /* 8 steps back, a seek to the visible version, a seek back */
            assert_int_equal(x->ce->n[MVCC_CF_WRITE].seeks, 2 + kept);
        }
    }
    /* Reading below all of k020's 20 new versions: skipping them costs
     * 8 steps and one seek to the version at ts. */
    ro.reverse = false;
    zero(x);
    assert_int_equal(mvcc_scan(t->s, &ro, K("k020"), K("k021"), TS(100) + 300,
                               &t->r),
                     0);
    assert_int_equal(t->r.npairs, 1);
    assert_memory_equal(t->r.pairs[0].value, "v2", 2);
    assert_int_equal(x->ce->n[MVCC_CF_WRITE].seeks, 1 + kept);
}

/* Get and BatchGet: one write-CF iterator per call, one seek per key, no
 * snapshot-wide lock lookups with a lock table; a long value is one
 * default-CF get. */
static void get_engine_work(void **state)
{
    struct cfix *x = *state;
    struct tu_store *t = &x->t;
    char big[LONGV];
    memset(big, 'z', sizeof big);
    commit_one(t, MVCC_OP_PUT, K("a"), "1", 1, TS(1), TS(2));
    commit_one(t, MVCC_OP_PUT, K("b"), big, sizeof big, TS(3), TS(4));
    commit_one(t, MVCC_OP_PUT, K("a"), "2", 1, TS(5), TS(6));
    bool lt = t->f.kind == TU_MEM_LT || t->f.kind == TU_ROCKS_LT;
    zero(x);
    struct mvcc_key ks[3] = {{"a", 1}, {"b", 1}, {"c", 1}};
    assert_int_equal(mvcc_batch_get(t->s, NULL, ks, 3, TS(10), &t->r), 0);
    assert_int_equal(t->r.npairs, 2);
    assert_int_equal(t->r.pairs[1].value_len, LONGV);
    assert_int_equal(x->ce->n[MVCC_CF_WRITE].iters, 1);
    /* a is a seek; b and c are steps from a's newest version: a's older
     * one, b's version, then the end (seek_near). */
    assert_int_equal(x->ce->n[MVCC_CF_WRITE].seeks, 1);
    assert_int_equal(x->ce->n[MVCC_CF_WRITE].steps, 3);
    assert_int_equal(x->ce->n[MVCC_CF_DEFAULT].gets, 1);
    assert_int_equal(x->ce->n[MVCC_CF_LOCK].gets, lt ? 0 : 3);
    zero(x);
    assert_int_equal(mvcc_get(t->s, NULL, K("a"), TS(5), &t->r), 0);
    assert_memory_equal(t->r.pairs[0].value, "1", 1);
    assert_int_equal(x->ce->n[MVCC_CF_WRITE].seeks, 1);
    /* Keys far apart: the walk from a to m9 gives up after 4 steps and
     * seeks; the rest of the call seeks without walking. */
    char k[8];
    for (int i = 0; i < 10; i++) {
        snprintf(k, sizeof k, "m%d", i);
        commit_one(t, MVCC_OP_PUT, K(k), k, 2, TS(20 + 2 * i),
                   TS(21 + 2 * i));
    }
    zero(x);
    struct mvcc_key far[4] = {{"a", 1}, {"m9", 2}, {"n", 1}, {"z", 1}};
    assert_int_equal(mvcc_batch_get(t->s, NULL, far, 4, TS(100), &t->r), 0);
    assert_int_equal(t->r.npairs, 2);
    assert_memory_equal(t->r.pairs[1].value, "m9", 2);
    assert_int_equal(x->ce->n[MVCC_CF_WRITE].seeks, 4);
    assert_int_equal(x->ce->n[MVCC_CF_WRITE].steps, 4);
    /* A prewrite writes CF lock only: with a lock table the kept
     * iterator serves the next read; a commit writes CF write and the
     * read after makes a fresh one (DESIGN "Reads": kept iterators). */
    assert_int_equal(tu_prewrite_kv(t->s, "q", "1", TS(200), false, false,
                                    &t->r),
                     0);
    zero(x);
    assert_int_equal(mvcc_get(t->s, NULL, K("a"), TS(300), &t->r), 0);
    assert_int_equal(x->ce->n[MVCC_CF_WRITE].iters, lt ? 0 : 1);
    struct mvcc_key q = {"q", 1};
    assert_int_equal(mvcc_commit(t->s, &q, 1, TS(200), TS(201), &t->r), 0);
    zero(x);
    assert_int_equal(mvcc_get(t->s, NULL, K("q"), TS(300), &t->r), 0);
    assert_int_equal(x->ce->n[MVCC_CF_WRITE].iters, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        TU_BOTH_STORE(model_reads),
        TU_BOTH_STORE(model_reads_other_seed),
        TU_BOTH_STORE(many_versions),
        TU_BOTH_STORE(locks_in_the_way),
        CBOTH(scan_engine_work),
        CBOTH(get_engine_work),
    };
    return cmocka_run_group_tests_name("libmvcc/read", tests, NULL, NULL);
}
