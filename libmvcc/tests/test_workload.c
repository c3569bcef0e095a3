/* test_workload.c: randomized concurrent workloads through the client over
 * three shards, on both engines (DESIGN.md, "Isolation"):
 *   bank         transfers between accounts on every shard while readers
 *                check that the total never changes (no read skew, no
 *                fractured or lost write);
 *   list_append  transactions append unique ids to lists and read others;
 *                a checker rebuilds the version order from the final lists
 *                and reports any cycle SI forbids: G1a (aborted write
 *                visible), a non-prefix read, G0/G1c (cycle of ww/wr
 *                edges) and G-single (cycle with exactly one rw edge).
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "testutil.h"

#define THREADS 4

/* ---- bank ---- */

#define ACCOUNTS 9
#define TRANSFERS 120
#define START 100

static void acct(int i, char *out)
{
    static const char first[] = "bis"; /* shards 0, 1, 2 */
    snprintf(out, 16, "%cacct%d", first[i % 3], i);
}

struct bank
{
    struct tu_cluster *k; /* cluster */
    struct mvcc_client *c; /* client of this round */
    int id;               /* thread */
    int committed;        /* transfers committed */
    int conflicts;        /* transfers that met a conflict */
    int bad_sum;          /* reads whose total was wrong */
    int reads;            /* consistent reads done */
};

static long getl(struct mvcc_txn *t, const char *k)
{
    uint8_t *v;
    size_t vl;
    int rc = mvcc_txn_get(t, k, strlen(k), &v, &vl);
    if (rc != 0)
        return -1000000;
    char b[32];
    memcpy(b, v, vl < 31 ? vl : 31);
    b[vl < 31 ? vl : 31] = 0;
    mvcc_free(v);
    return atol(b);
}

static void setl(struct mvcc_txn *t, const char *k, long x)
{
    char b[32];
    snprintf(b, sizeof b, "%ld", x);
    mvcc_txn_set(t, k, strlen(k), b, strlen(b));
}

static void *bank_thread(void *arg)
{
    struct bank *w = arg;
    unsigned seed = 99u + (unsigned)w->id * 31u;
    for (int i = 0; i < TRANSFERS; i++) {
        seed = seed * 1103515245u + 12345u;
        int a = (int)((seed >> 8) % ACCOUNTS);
        int b = (int)((seed >> 16) % (ACCOUNTS - 1));
        if (b >= a)
            b++;
        char ka[16], kb[16];
        acct(a, ka);
        acct(b, kb);
        struct mvcc_txn *t;
        if (mvcc_txn_begin(w->c, &t) != 0)
            continue;
        long va = getl(t, ka), vb = getl(t, kb);
        long amt = (long)(seed % 20);
        if (va >= amt) {
            setl(t, ka, va - amt);
            setl(t, kb, vb + amt);
        }
        int rc = mvcc_txn_commit(t, NULL);
        if (rc == 0)
            w->committed++;
        else
            w->conflicts++;
        if (i % 4 == 0) {
            /* a consistent read of every account */
            if (mvcc_txn_begin(w->c, &t) != 0)
                continue;
            long sum = 0;
            for (int j = 0; j < ACCOUNTS; j++) {
                char kj[16];
                acct(j, kj);
                sum += getl(t, kj);
            }
            mvcc_txn_rollback(t);
            w->reads++;
            if (sum != (long)ACCOUNTS * START)
                w->bad_sum++;
        }
    }
    return NULL;
}

static void bank(void **state)
{
    struct tu_cluster *k = *state;
    struct mvcc_txn *t;
    assert_int_equal(mvcc_txn_begin(k->c, &t), 0);
    for (int i = 0; i < ACCOUNTS; i++) {
        char ki[16];
        acct(i, ki);
        setl(t, ki, START);
    }
    assert_int_equal(mvcc_txn_commit(t, NULL), 0);
    /* Three rounds: plain 2PC, async commit, 1PC where one shard. */
    for (int mode = 0; mode < 3; mode++) {
        struct mvcc_client_opts o;
        memset(&o, 0, sizeof o);
        o.transport = k->tr;
        o.tso = mvcc_local_tso_next;
        o.tso_ctx = &k->tso;
        o.async_commit = mode == 1;
        o.one_pc = mode == 2;
        /* Concurrent prewrites across shards can block each other until
         * one lock expires (Percolator has no wait-for graph for them): a
         * short TTL keeps that cheap on a loaded machine and makes
         * expiry-driven resolution part of the workload. */
        o.lock_ttl = 20;
        struct mvcc_client *c;
        assert_int_equal(mvcc_client_create(&o, &c), 0);
        pthread_t th[THREADS];
        struct bank w[THREADS];
        for (int i = 0; i < THREADS; i++) {
            memset(&w[i], 0, sizeof w[i]);
            w[i].k = k;
            w[i].c = c;
            w[i].id = i + mode * THREADS;
            assert_int_equal(
                pthread_create(&th[i], NULL, bank_thread, &w[i]), 0);
        }
        int committed = 0, bad = 0, reads = 0;
        for (int i = 0; i < THREADS; i++) {
            pthread_join(th[i], NULL);
            committed += w[i].committed;
            bad += w[i].bad_sum;
            reads += w[i].reads;
        }
        mvcc_client_destroy(c);
        assert_int_equal(bad, 0);
        assert_true(committed > 0);
        assert_int_equal(reads, THREADS * (TRANSFERS / 4));
    }
    assert_int_equal(mvcc_txn_begin(k->c, &t), 0);
    long sum = 0;
    for (int i = 0; i < ACCOUNTS; i++) {
        char ki[16];
        acct(i, ki);
        long v = getl(t, ki);
        assert_true(v >= 0);
        sum += v;
    }
    mvcc_txn_rollback(t);
    assert_int_equal(sum, (long)ACCOUNTS * START);
}

/* ---- list append ---- */

#define LISTS 5
#define APPENDS 60
#define MAXT (THREADS * APPENDS)

struct rec
{
    int id;             /* txn id (1-based, unique) */
    bool committed;     /* commit returned 0 */
    int app[2];         /* lists appended to */
    int rd[3];          /* lists read (the two appended, and one more) */
    int rdlen[3];       /* length observed */
    int rdlast[3];      /* last element observed (0 if empty) */
    int rdpre[3][MAXT]; /* the observed elements (checked as a prefix) */
};

static struct rec recs[MAXT + 1];

static void lname(int l, char *out)
{
    static const char first[] = "cjrdx"; /* spread over the shards */
    snprintf(out, 16, "%clist%d", first[l], l);
}

/* Parses "1,2,3" into ids; returns the count. */
static int parse(const uint8_t *v, size_t vl, int *out)
{
    int n = 0, x = 0;
    bool any = false;
    for (size_t i = 0; i < vl; i++) {
        if (v[i] == ',') {
            out[n++] = x;
            x = 0;
            any = false;
        } else {
            x = x * 10 + (v[i] - '0');
            any = true;
        }
    }
    if (any)
        out[n++] = x;
    return n;
}

struct la
{
    struct tu_cluster *k; /* cluster */
    struct mvcc_client *c; /* client (short lock TTL) */
    int id;               /* thread */
};

static void *la_thread(void *arg)
{
    struct la *w = arg;
    unsigned seed = 7u + (unsigned)w->id * 131u;
    for (int i = 0; i < APPENDS; i++) {
        int id = w->id * APPENDS + i + 1;
        struct rec *r = &recs[id];
        memset(r, 0, sizeof *r);
        r->id = id;
        seed = seed * 1103515245u + 12345u;
        r->app[0] = (int)((seed >> 8) % LISTS);
        r->app[1] = (int)((seed >> 12) % (LISTS - 1));
        if (r->app[1] >= r->app[0])
            r->app[1]++;
        r->rd[0] = r->app[0];
        r->rd[1] = r->app[1];
        r->rd[2] = (int)((seed >> 20) % LISTS);
        struct mvcc_txn *t;
        if (mvcc_txn_begin(w->c, &t) != 0)
            continue;
        int ok = 1;
        /* read the third list first (it may be one we append to) */
        for (int j = 2; j >= 0 && ok; j--) {
            char kn[16];
            lname(r->rd[j], kn);
            uint8_t *v = NULL;
            size_t vl = 0;
            int rc = mvcc_txn_get(t, kn, strlen(kn), &v, &vl);
            if (rc == MVCC_NOTFOUND) {
                r->rdlen[j] = 0;
            } else if (rc == 0) {
                r->rdlen[j] = parse(v, vl, r->rdpre[j]);
                mvcc_free(v);
            } else {
                ok = 0;
            }
        }
        for (int j = 0; j < 2 && ok; j++) {
            char kn[16], buf[MAXT * 5 + 16];
            lname(r->app[j], kn);
            size_t n = 0;
            for (int e = 0; e < r->rdlen[j]; e++)
                n += (size_t)snprintf(buf + n, sizeof buf - n, "%d,",
                                      r->rdpre[j][e]);
            n += (size_t)snprintf(buf + n, sizeof buf - n, "%d", id);
            ok = mvcc_txn_set(t, kn, strlen(kn), buf, n) == 0;
        }
        if (!ok) {
            mvcc_txn_rollback(t);
            continue;
        }
        r->committed = mvcc_txn_commit(t, NULL) == 0;
    }
    return NULL;
}

static bool edge[MAXT + 1][MAXT + 1];  /* ww or wr */
static bool rwedge[MAXT + 1][MAXT + 1]; /* rw */

static bool reach(int from, int to, bool *seen)
{
    if (from == to)
        return true;
    seen[from] = true;
    for (int n = 1; n <= MAXT; n++)
        if (edge[from][n] && !seen[n] && reach(n, to, seen))
            return true;
    return false;
}

static void list_append(void **state)
{
    struct tu_cluster *k = *state;
    memset(recs, 0, sizeof recs);
    memset(edge, 0, sizeof edge);
    memset(rwedge, 0, sizeof rwedge);
    struct mvcc_client_opts o;
    memset(&o, 0, sizeof o);
    o.transport = k->tr;
    o.tso = mvcc_local_tso_next;
    o.tso_ctx = &k->tso;
    o.lock_ttl = 20;
    struct mvcc_client *c;
    assert_int_equal(mvcc_client_create(&o, &c), 0);
    pthread_t th[THREADS];
    struct la w[THREADS];
    for (int i = 0; i < THREADS; i++) {
        w[i].k = k;
        w[i].c = c;
        w[i].id = i;
        assert_int_equal(pthread_create(&th[i], NULL, la_thread, &w[i]), 0);
    }
    for (int i = 0; i < THREADS; i++)
        pthread_join(th[i], NULL);
    mvcc_client_destroy(c);

    /* Final lists give each key's version order. */
    static int fin[LISTS][MAXT];
    int finlen[LISTS];
    struct mvcc_txn *t;
    assert_int_equal(mvcc_txn_begin(k->c, &t), 0);
    for (int l = 0; l < LISTS; l++) {
        char kn[16];
        lname(l, kn);
        uint8_t *v;
        size_t vl;
        int rc = mvcc_txn_get(t, kn, strlen(kn), &v, &vl);
        finlen[l] = 0;
        if (rc == 0) {
            finlen[l] = parse(v, vl, fin[l]);
            mvcc_free(v);
        } else {
            assert_int_equal(rc, MVCC_NOTFOUND);
        }
    }
    mvcc_txn_rollback(t);

    int committed = 0;
    for (int id = 1; id <= MAXT; id++)
        committed += recs[id].committed;
    assert_true(committed > 0);
    for (int l = 0; l < LISTS; l++) {
        for (int e = 0; e < finlen[l]; e++) {
            int id = fin[l][e];
            /* G1a: only committed txns' appends are visible, once */
            if (id < 1 || id > MAXT || !recs[id].committed)
                fail_msg("G1a: list %d holds %d, not committed", l, id);
            for (int f = 0; f < e; f++)
                if (fin[l][f] == id)
                    fail_msg("list %d holds %d twice", l, id);
            if (e > 0)
                edge[fin[l][e - 1]][id] = true; /* ww */
        }
        /* every committed append is there */
        for (int id = 1; id <= MAXT; id++) {
            if (!recs[id].committed)
                continue;
            for (int j = 0; j < 2; j++) {
                if (recs[id].app[j] != l)
                    continue;
                bool found = false;
                for (int e = 0; e < finlen[l]; e++)
                    found = found || fin[l][e] == id;
                if (!found)
                    fail_msg("lost append: %d to list %d", id, l);
            }
        }
    }
    for (int id = 1; id <= MAXT; id++) {
        struct rec *r = &recs[id];
        if (!r->committed)
            continue;
        for (int j = 0; j < 3; j++) {
            int l = r->rd[j], n = r->rdlen[j];
            if (n > finlen[l])
                fail_msg("txn %d read %d elements of list %d (final %d)", id,
                         n, l, finlen[l]);
            for (int e = 0; e < n; e++)
                if (r->rdpre[j][e] != fin[l][e])
                    fail_msg("txn %d read a non-prefix of list %d", id, l);
            if (n > 0 && fin[l][n - 1] != id)
                edge[fin[l][n - 1]][id] = true; /* wr */
            if (n < finlen[l] && fin[l][n] != id)
                rwedge[id][fin[l][n]] = true; /* rw: next version */
        }
    }
    static bool seen[MAXT + 1];
    /* G0/G1c: a cycle of ww/wr edges */
    for (int a = 1; a <= MAXT; a++)
        for (int b2 = 1; b2 <= MAXT; b2++)
            if (edge[a][b2]) {
                memset(seen, 0, sizeof seen);
                if (reach(b2, a, seen))
                    fail_msg("G1c: cycle through %d -> %d", a, b2);
            }
    /* G-single: one rw edge closed by ww/wr edges */
    for (int a = 1; a <= MAXT; a++)
        for (int b2 = 1; b2 <= MAXT; b2++)
            if (rwedge[a][b2]) {
                memset(seen, 0, sizeof seen);
                if (reach(b2, a, seen))
                    fail_msg("G-single: %d -rw-> %d and back", a, b2);
            }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        TU_BOTH_CLUSTER(bank),
        TU_BOTH_CLUSTER(list_append),
    };
    return cmocka_run_group_tests_name("libmvcc/workload", tests, NULL, NULL);
}
