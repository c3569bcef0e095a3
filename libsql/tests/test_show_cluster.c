/* test_show_cluster.c: information_schema.TIKV_STORE_STATUS,
 * TIKV_REGION_STATUS, TIKV_REGION_PEERS and SHOW TABLE t [INDEX i]
 * REGIONS over a fake sql_cluster_info (three stores, four regions cut
 * at a table's row and index boundaries), exact rows; and the embedded
 * store's answers without one.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "sqlfx.h"

#define Q(c, sql, want) assert_string_equal(sqlfx_q(c, sql), want)

/* Keys as libsql writes them (tablecodec.h): 't' id(8) '_' 'r'|'i' id(8),
 * integers big-endian with the sign bit flipped. */
static size_t key(uint8_t *out, int64_t table, char kind, int64_t id)
{
    uint64_t v = (uint64_t)table ^ (UINT64_C(1) << 63);
    out[0] = 't';
    for (int i = 0; i < 8; i++)
        out[1 + i] = (uint8_t)(v >> (56 - 8 * i));
    if (!kind)
        return 9;
    out[9] = '_';
    out[10] = (uint8_t)kind;
    if (id < 0)
        return 11;
    v = (uint64_t)id ^ (UINT64_C(1) << 63);
    for (int i = 0; i < 8; i++)
        out[11 + i] = (uint8_t)(v >> (56 - 8 * i));
    return 19;
}

struct fake
{
    int fail;                         /* answer this code instead */
    int calls;                        /* regions() calls */
    uint8_t asked[32];                /* the last start key asked */
    size_t asked_len;                 /* its length */
    uint8_t keys[5][32];              /* region boundaries; [0] and [4]
                                         are the open ends */
    size_t lens[5];                   /* their lengths */
    struct sql_cluster_peer peers[4][3]; /* each region's peers */
};

static int f_stores(void *ctx, sql_cluster_store_fn emit, void *arg,
                    char *err, size_t errlen)
{
    struct fake *f = ctx;
    if (f->fail) {
        snprintf(err, errlen, "pd unreachable");
        return f->fail;
    }
    const struct sql_cluster_store st[] = {
        {1, "127.0.0.1:20160", "Up", 2, 4, UINT64_C(100) << 30,
         UINT64_C(50) << 30, 3u << 20, 1500},
        {2, "127.0.0.1:20161", "Offline", 1, 3, 0, 0, 0, -1},
        {3, "127.0.0.1:20162", "Tombstone", 0, 0, 0, 0, 0, -1},
        {4, "127.0.0.1:20163", "Down", 1, 4, 0, 0, 1, -1}};
    for (size_t i = 0; i < 4; i++) {
        int rc = emit(arg, &st[i]);
        if (rc != 0)
            return rc;
    }
    return 0;
}

static int cmp(const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
    int c = an && bn ? memcmp(a, b, an < bn ? an : bn) : 0;
    return c ? c : (an > bn) - (an < bn);
}

static int f_regions(void *ctx, const uint8_t *start, size_t start_len,
                     const uint8_t *end, size_t end_len,
                     sql_cluster_region_fn emit, void *arg, char *err,
                     size_t errlen)
{
    struct fake *f = ctx;
    f->calls++;
    f->asked_len = start_len < sizeof(f->asked) ? start_len : 0;
    if (f->asked_len)
        memcpy(f->asked, start, f->asked_len);
    if (f->fail) {
        snprintf(err, errlen, "pd unreachable");
        return f->fail;
    }
    for (int i = 0; i < 4; i++) {
        struct sql_cluster_region r = {
            .id = (uint64_t)(10 + i),
            .start_key = f->keys[i], .start_len = f->lens[i],
            .end_key = f->keys[i + 1], .end_len = f->lens[i + 1],
            .conf_ver = 5, .version = (uint64_t)(2 + i),
            .approx_size = (uint64_t)i << 19, .approx_keys = (uint64_t)i * 7,
            .n_peers = 3, .peers = f->peers[i]};
        /* PD's scan: regions meeting [start, end) */
        if (end_len > 0 && cmp(r.start_key, r.start_len, end, end_len) >= 0)
            continue;
        if (r.end_len > 0 && cmp(start, start_len, r.end_key, r.end_len) >= 0)
            continue;
        int rc = emit(arg, &r);
        if (rc != 0)
            return rc;
    }
    return 0;
}

static void open_with(struct sqlfx *fx, struct fake *f)
{
    memset(fx, 0, sizeof(*fx));
    struct sql_cluster_info ci = {f, f_stores, f_regions, NULL};
    struct sql_server_options o = {.cluster_info = &ci};
    char err[256] = "";
    int rc = sql_server_open(&o, &fx->srv, err, sizeof(err));
    if (rc != 0)
        fail_msg("sql_server_open: %d %s", rc, err);
}

/* The fake's regions around table tid (index keys sort before row keys:
 * '_i' < '_r'): [-inf, t_tid_i_iid), [t_tid_i_iid, t_tid_r),
 * [t_tid_r, t_tid_r_100), [t_tid_r_100, +inf); peers on stores 1, 2, 4,
 * the leader on store (region % 2 ? 2 : 1), store 4's peer of region 13
 * down. */
static void cut(struct fake *f, int64_t tid, int64_t iid)
{
    f->lens[0] = 0;
    f->lens[1] = key(f->keys[1], tid, 'i', iid);
    f->lens[2] = key(f->keys[2], tid, 'r', -1);
    f->lens[3] = key(f->keys[3], tid, 'r', 100);
    f->lens[4] = 0;
    static const uint64_t stores[3] = {1, 2, 4};
    for (int i = 0; i < 4; i++)
        for (int k = 0; k < 3; k++) {
            struct sql_cluster_peer *p = &f->peers[i][k];
            uint64_t region = (uint64_t)(10 + i);
            p->id = region * 1000 + stores[k];
            p->store_id = stores[k];
            p->leader = stores[k] == (region % 2 ? 2u : 1u);
            p->down = region == 13 && stores[k] == 4;
            p->learner = false;
        }
}

/* An id in the key SHOW TABLE ... REGIONS asked for, at byte off. */
static int64_t asked_id(const struct fake *f, size_t off)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | f->asked[off + (size_t)i];
    return (int64_t)(v ^ (UINT64_C(1) << 63));
}

/* The ids of table d.t and its index kv, from the keys SHOW TABLE ...
 * REGIONS asks for: 't' tid (9 bytes), 't' tid '_i' iid (19). */
static void ids(struct sqlfx_conn *c, struct fake *f, int64_t *tid,
                int64_t *iid)
{
    sqlfx_q(c, "SHOW TABLE d.t REGIONS");
    assert_int_equal(f->asked_len, 9);
    assert_int_equal(f->asked[0], 't');
    *tid = asked_id(f, 1);
    sqlfx_q(c, "SHOW TABLE d.t INDEX kv REGIONS");
    assert_int_equal(f->asked_len, 19);
    assert_int_equal(asked_id(f, 1), *tid);
    assert_memory_equal(f->asked + 9, "_i", 2);
    *iid = asked_id(f, 11);
}

/* A server over fake f with table d.t (id, v, index kv) and f's regions
 * cut around it; *tid and *iid get the table's and the index's ids. */
static void with_table(struct sqlfx *fx, struct sqlfx_conn *c, struct fake *f,
                       int64_t *tid, int64_t *iid)
{
    memset(f, 0, sizeof(*f));
    open_with(fx, f);
    sqlfx_connect(fx, c, 1);
    Q(c, "CREATE DATABASE d", "OK 1 0 0");
    Q(c, "CREATE TABLE d.t (id INT PRIMARY KEY, v INT, KEY kv (v))",
      "OK 0 0 0");
    ids(c, f, tid, iid);
    cut(f, *tid, *iid);
}

static void store_status(void **state)
{
    (void)state;
    struct fake f;
    memset(&f, 0, sizeof(f));
    struct sqlfx fx;
    struct sqlfx_conn c;
    open_with(&fx, &f);
    sqlfx_connect(&fx, &c, 1);
    c.headers = true;
    Q(&c, "SELECT * FROM information_schema.TIKV_STORE_STATUS",
      "STORE_ID|ADDRESS|STORE_STATE|STORE_STATE_NAME|LABEL|VERSION|"
      "CAPACITY|AVAILABLE|LEADER_COUNT|REGION_COUNT|REGION_SIZE|"
      "LAST_HEARTBEAT_TS\n"
      "1|127.0.0.1:20160|0|Up|NULL|8.0.11-dsql|100.00GiB|50.00GiB|2|4|3|"
      "1500 ms ago\n"
      "2|127.0.0.1:20161|1|Offline|NULL|8.0.11-dsql|NULL|NULL|1|3|0|NULL\n"
      "3|127.0.0.1:20162|2|Tombstone|NULL|8.0.11-dsql|NULL|NULL|0|0|0|NULL\n"
      "4|127.0.0.1:20163|0|Down|NULL|8.0.11-dsql|NULL|NULL|1|4|1|NULL");
    c.headers = false;
    /* filtered and aggregated like any table */
    Q(&c, "SELECT STORE_ID FROM information_schema.tikv_store_status "
          "WHERE STORE_STATE_NAME = 'Up' OR LEADER_COUNT = 0 ORDER BY 1 DESC",
      "3\n1");
    Q(&c, "SELECT SUM(REGION_COUNT) FROM information_schema.TIKV_STORE_STATUS",
      "11");
    /* the callback's failure reaches the client */
    f.fail = -111;
    Q(&c, "SELECT * FROM information_schema.TIKV_STORE_STATUS",
      "ERR 1105 cluster info: pd unreachable (-111)");
    sqlfx_disconnect(&c);
    sql_server_close(fx.srv);
}

static void region_status_and_peers(void **state)
{
    (void)state;
    struct fake f;
    struct sqlfx fx;
    struct sqlfx_conn c;
    int64_t tid, iid;
    with_table(&fx, &c, &f, &tid, &iid);
    char want[2048];
    /* Region 10 ends where index kv starts: no table of its own. 11 is
     * kv's, 12 and 13 hold the rows. */
    snprintf(want, sizeof(want),
             "10||t_%1$lld_i_%2$lld|NULL|NULL|NULL|NULL|NULL|NULL|5|2|0|0|0|0\n"
             "11|t_%1$lld_i_%2$lld|t_%1$lld_r|%1$lld|d|t|1|%2$lld|kv|5|3|0|0|1|7\n"
             "12|t_%1$lld_r|t_%1$lld_r_100|%1$lld|d|t|0|NULL|NULL|5|4|0|0|1|14\n"
             "13|t_%1$lld_r_100||%1$lld|d|t|0|NULL|NULL|5|5|0|0|2|21",
             (long long)tid, (long long)iid);
    Q(&c, "SELECT * FROM information_schema.TIKV_REGION_STATUS "
          "ORDER BY REGION_ID, IS_INDEX",
      want);
    Q(&c, "SELECT REGION_ID, PEER_ID, STORE_ID, IS_LEARNER, IS_LEADER, STATUS,"
          " DOWN_SECONDS FROM information_schema.TIKV_REGION_PEERS"
          " WHERE REGION_ID >= 12 ORDER BY 1, 2",
      "12|12001|1|0|1|NORMAL|NULL\n"
      "12|12002|2|0|0|NORMAL|NULL\n"
      "12|12004|4|0|0|NORMAL|NULL\n"
      "13|13001|1|0|0|NORMAL|NULL\n"
      "13|13002|2|0|1|NORMAL|NULL\n"
      "13|13004|4|0|0|DOWN|NULL");
    /* region counts per store, as pdctl would count them */
    Q(&c, "SELECT STORE_ID, COUNT(*), SUM(IS_LEADER) FROM "
          "information_schema.TIKV_REGION_PEERS GROUP BY STORE_ID ORDER BY 1",
      "1|4|2\n2|4|2\n4|4|0");
    sqlfx_disconnect(&c);
    sql_server_close(fx.srv);
}

static void show_table_regions(void **state)
{
    (void)state;
    struct fake f;
    struct sqlfx fx;
    struct sqlfx_conn c;
    int64_t tid, iid;
    with_table(&fx, &c, &f, &tid, &iid);
    char want[2048];
    c.headers = true;
    snprintf(want, sizeof(want),
             "REGION_ID|START_KEY|END_KEY|LEADER_ID|LEADER_STORE_ID|PEERS|"
             "SCATTERING|WRITTEN_BYTES|READ_BYTES|APPROXIMATE_SIZE(MB)|"
             "APPROXIMATE_KEYS\n"
             "10||t_%1$lld_i_%2$lld|10001|1|10001, 10002, 10004|0|0|0|0|0\n"
             "11|t_%1$lld_i_%2$lld|t_%1$lld_r|11002|2|11001, 11002, 11004|0|0|0|1|7\n"
             "12|t_%1$lld_r|t_%1$lld_r_100|12001|1|12001, 12002, 12004|0|0|0|1|14\n"
             "13|t_%1$lld_r_100||13002|2|13001, 13002, 13004|0|0|0|2|21",
             (long long)tid, (long long)iid);
    Q(&c, "SHOW TABLE d.t REGIONS", want);
    c.headers = false;
    /* the index's own range: [t_tid_i_iid, t_tid_i_iid+1) */
    Q(&c, "USE d", "OK 0 0 0");
    snprintf(want, sizeof(want),
             "11|t_%1$lld_i_%2$lld|t_%1$lld_r|11002|2|11001, 11002, 11004|0|0|0|1|7",
             (long long)tid, (long long)iid);
    Q(&c, "SHOW TABLE t INDEX kv REGIONS", want);
    assert_int_equal(f.asked_len, 19);
    snprintf(want, sizeof(want),
             "10||t_%1$lld_i_%2$lld|10001|1|10001, 10002, 10004|0|0|0|0|0\n"
             "12|t_%1$lld_r|t_%1$lld_r_100|12001|1|12001, 12002, 12004|0|0|0|1|14",
             (long long)tid, (long long)iid);
    Q(&c, "SHOW TABLE t REGIONS WHERE LEADER_STORE_ID = 1", want);
    Q(&c, "SHOW TABLE t INDEX nosuch REGIONS",
      "ERR 1176 Key 'nosuch' doesn't exist in table 't'");
    Q(&c, "SHOW TABLE t INDEX `PRIMARY` REGIONS",
      "ERR 1176 Key 'PRIMARY' doesn't exist in table 't'");
    Q(&c, "SHOW TABLE nosuch REGIONS", "ERR 1146 Table 'd.nosuch' doesn't exist");
    f.fail = -4001;
    int calls = f.calls;
    Q(&c, "SHOW TABLE t REGIONS", "ERR 1105 cluster info: pd unreachable (-4001)");
    assert_int_equal(f.calls, calls + 1);
    sqlfx_disconnect(&c);
    sql_server_close(fx.srv);
}

/* Without cluster info (the embedded store): empty tables, and SHOW
 * TABLE REGIONS says why it cannot answer. */
static void embedded(void **state)
{
    (void)state;
    struct sqlfx fx;
    struct sqlfx_conn c;
    sqlfx_open(&fx, false);
    sqlfx_connect(&fx, &c, 1);
    Q(&c, "CREATE DATABASE d", "OK 1 0 0");
    Q(&c, "CREATE TABLE d.t (id INT PRIMARY KEY)", "OK 0 0 0");
    Q(&c, "SELECT COUNT(*) FROM information_schema.TIKV_STORE_STATUS", "0");
    Q(&c, "SELECT COUNT(*) FROM information_schema.TIKV_REGION_STATUS", "0");
    Q(&c, "SELECT COUNT(*) FROM information_schema.TIKV_REGION_PEERS", "0");
    Q(&c, "SHOW TABLE d.t REGIONS",
      "ERR 1105 SHOW TABLE ... REGIONS needs a cluster store (sqld "
      "--store=cluster); this server's store is embedded in one process");
    Q(&c, "SHOW TABLE d.t", "ERR 1064 You have an error in your SQL syntax; "
      "check the manual that corresponds to your MySQL server version for "
      "the right syntax to use near '' at line 1");
    /* SHOW TABLE STATUS still parses as before */
    assert_int_equal(strncmp(sqlfx_q(&c, "SHOW TABLE STATUS FROM d"), "t|", 2), 0);
    sqlfx_disconnect(&c);
    sqlfx_close(&fx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(store_status),
        cmocka_unit_test(region_status_and_peers),
        cmocka_unit_test(show_table_regions),
        cmocka_unit_test(embedded),
    };
    return cmocka_run_group_tests_name("libsql/show_cluster", tests, NULL,
                                       NULL);
}
