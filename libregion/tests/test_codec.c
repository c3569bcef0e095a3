/* test_codec.c: the byte formats of codec.c: region state and command
 * round trips, and a message batch that is cut or padded anywhere is
 * refused whole; the 'z' engine view's keys and column families.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <rocksdb/c.h>

#include "region_int.h"

static void desc_round_trip(void **state)
{
    (void)state;
    struct region_desc d, e;
    memset(&d, 0, sizeof d);
    d.id = 42;
    d.conf_ver = 3;
    d.version = 7;
    memcpy(d.start, "abc", 3);
    d.start_len = 3;
    d.n_stores = 3;
    d.stores[0] = 1;
    d.stores[1] = 2;
    d.stores[2] = 9;
    struct region_buf b = {0};
    assert_int_equal(region__encode_desc(&b, &d, 1), 0);
    uint8_t st = 0;
    assert_int_equal(region__decode_desc(b.data, b.len, &e, &st), 0);
    assert_int_equal(st, 1);
    assert_memory_equal(&d, &e, sizeof d);
    for (size_t cut = 0; cut < b.len; cut++)
        assert_int_equal(region__decode_desc(b.data, cut, &e, &st),
                         REGION_EDECODE);
    b.data[0] = 2; /* format 2 without its learner bits */
    assert_int_equal(region__decode_desc(b.data, b.len, &e, &st),
                     REGION_EDECODE);
    b.data[0] = 3; /* unknown format */
    assert_int_equal(region__decode_desc(b.data, b.len, &e, &st),
                     REGION_EDECODE);
    region__buf_free(&b);
}

/* With a learner the record is format 2, learner bits at the end; bits
 * of no store, or none at all, are refused. Membership changes move the
 * bits with their stores. */
static void desc_learners(void **state)
{
    (void)state;
    struct region_desc d, e;
    memset(&d, 0, sizeof d);
    d.id = 7;
    d.conf_ver = d.version = 1;
    for (uint64_t id = 1; id <= 2; id++) /* voters on stores 1 and 2 */
        assert_int_equal(region__desc_change(&d, RAFT_CHANGE_ADD_VOTER, id),
                         0);
    assert_int_equal(region__desc_change(&d, RAFT_CHANGE_ADD_LEARNER, 5), 0);
    assert_int_equal(region__desc_change(&d, RAFT_CHANGE_ADD_VOTER, 6), 0);
    assert_int_equal(d.n_stores, 4);
    assert_int_equal(d.learners, 1u << 2);
    assert_true(region_desc_is_learner(&d, 5));
    assert_false(region_desc_is_learner(&d, 6));
    assert_false(region_desc_is_learner(&d, 3));
    struct region_buf b = {0};
    assert_int_equal(region__encode_desc(&b, &d, 0), 0);
    assert_int_equal(b.data[0], 2);
    uint8_t st = 1;
    assert_int_equal(region__decode_desc(b.data, b.len, &e, &st), 0);
    assert_int_equal(st, 0);
    assert_memory_equal(&d, &e, sizeof d);
    struct raft_conf_state cs;
    region__conf_of(&d, &cs);
    assert_int_equal(cs.n_voters, 3);
    assert_int_equal(cs.n_learners, 1);
    assert_int_equal(cs.learners[0], 5);
    b.data[b.len - 1] = 0x10; /* a bit past the 4 stores */
    assert_int_equal(region__decode_desc(b.data, b.len, &e, &st),
                     REGION_EDECODE);
    b.data[b.len - 1] = 0; /* no learner in format 2 */
    assert_int_equal(region__decode_desc(b.data, b.len, &e, &st),
                     REGION_EDECODE);
    region__buf_free(&b);
    /* store 1 leaves: the last store (6, a voter) takes its slot; then
     * the learner leaves, then is promoted after coming back */
    assert_int_equal(region__desc_change(&d, RAFT_CHANGE_REMOVE, 1), 0);
    assert_int_equal(d.n_stores, 3);
    assert_int_equal(d.stores[0], 6);
    assert_true(region_desc_is_learner(&d, 5));
    assert_int_equal(d.learners, 1u << 2);
    assert_int_equal(region__desc_change(&d, RAFT_CHANGE_REMOVE, 6), 0);
    assert_int_equal(d.stores[0], 5);
    assert_int_equal(d.learners, 1u);
    assert_int_equal(region__desc_change(&d, RAFT_CHANGE_ADD_VOTER, 5), 0);
    assert_int_equal(d.learners, 0);
    assert_int_equal(region__desc_change(&d, RAFT_CHANGE_REMOVE, 9), 0);
    assert_int_equal(d.n_stores, 2);
    for (uint64_t id = 10; d.n_stores < REGION_MAX_PEERS; id++)
        assert_int_equal(region__desc_change(&d, RAFT_CHANGE_ADD_LEARNER, id),
                         0);
    assert_int_equal(region__desc_change(&d, RAFT_CHANGE_ADD_VOTER, 99),
                     REGION_EINVAL);
}

static void cmd_round_trip(void **state)
{
    (void)state;
    struct region_cmd c = {.type = REGION_CMD_CAS, .region_id = 5,
                           .version = 2, .conf_ver = 1, .expect_exists = true,
                           .key = (const uint8_t *)"k", .key_len = 1,
                           .expect = (const uint8_t *)"old", .expect_len = 3,
                           .value = (const uint8_t *)"new", .value_len = 3};
    struct region_buf b = {0};
    assert_int_equal(region__cmd_encode(&b, &c), 0);
    struct region_cmd d;
    assert_int_equal(region__cmd_decode(b.data, b.len, &d), 0);
    assert_int_equal(d.type, REGION_CMD_CAS);
    assert_int_equal(d.region_id, 5);
    assert_int_equal(d.version, 2);
    assert_true(d.expect_exists);
    assert_false(d.del);
    assert_memory_equal(d.expect, "old", 3);
    assert_memory_equal(d.value, "new", 3);
    assert_int_equal(region__cmd_decode(b.data, b.len - 1, &d),
                     REGION_EDECODE);
    b.data[1] = 9; /* unknown type */
    assert_int_equal(region__cmd_decode(b.data, b.len, &d), REGION_EDECODE);
    region__buf_free(&b);
}

/* A CAS whose new value expires: flag 0x04 and 8 bytes of expire_ms after
 * the value; without an expiry the bytes are those of 0.32 (what older
 * stores decode). The flag with a delete, an expiry of 0 or an unknown
 * flag is refused. */
static void cas_ttl_round_trip(void **state)
{
    (void)state;
    struct region_cmd c = {.type = REGION_CMD_CAS,
                           .region_id = 5,
                           .version = 2,
                           .conf_ver = 1,
                           .key = (const uint8_t *)"k",
                           .key_len = 1,
                           .value = (const uint8_t *)"owner",
                           .value_len = 5};
    struct region_buf plain = {0}, b = {0};
    assert_int_equal(region__cmd_encode(&plain, &c), 0);
    assert_int_equal(plain.len, 26 + 1 + 5 + 4 + 9);
    assert_int_equal(plain.data[26], 0);
    c.expire_ms = 1700000000123ull;
    assert_int_equal(region__cmd_encode(&b, &c), 0);
    assert_int_equal(b.len, plain.len + 8);
    assert_int_equal(b.data[26], 4);
    struct region_cmd d;
    assert_int_equal(region__cmd_decode(b.data, b.len, &d), 0);
    assert_false(d.expect_exists);
    assert_false(d.del);
    assert_int_equal(d.expire_ms, 1700000000123ull);
    assert_memory_equal(d.value, "owner", 5);
    assert_int_equal(region__cmd_decode(b.data, b.len - 1, &d), REGION_EDECODE);
    b.data[26] = 4 | 2; /* a delete does not expire */
    assert_int_equal(region__cmd_decode(b.data, b.len, &d), REGION_EDECODE);
    b.data[26] = 8;
    assert_int_equal(region__cmd_decode(b.data, b.len, &d), REGION_EDECODE);
    b.data[26] = 4;
    memset(b.data + b.len - 8, 0, 8); /* expires at 0: written as none */
    assert_int_equal(region__cmd_decode(b.data, b.len, &d), REGION_EDECODE);
    region__buf_free(&b);
    c.del = true; /* a delete's expiry is dropped: the 0.32 bytes */
    assert_int_equal(region__cmd_encode(&b, &c), 0);
    assert_int_equal(b.len, plain.len);
    assert_int_equal(b.data[26], 2);
    region__buf_free(&b);
    region__buf_free(&plain);
}

static void merge_cmds_round_trip(void **state)
{
    (void)state;
    for (uint8_t t = REGION_CMD_PREPARE_MERGE; t <= REGION_CMD_REJECT_MERGE;
         t++) {
        bool commit = t == REGION_CMD_COMMIT_MERGE;
        struct region_cmd c = {.type = t, .region_id = 5, .version = 2,
                               .conf_ver = 1, .new_id = 6, .merge_index = 40,
                               .merge_term = 3,
                               .body = (const uint8_t *)"desc",
                               .body_len = commit ? 4 : 0};
        struct region_buf b = {0};
        assert_int_equal(region__cmd_encode(&b, &c), 0);
        assert_int_equal(b.len, 26 + 24 + c.body_len);
        struct region_cmd d;
        assert_int_equal(region__cmd_decode(b.data, b.len, &d), 0);
        assert_int_equal(d.type, t);
        assert_int_equal(d.new_id, 6);
        assert_int_equal(d.merge_index, 40);
        assert_int_equal(d.merge_term, 3);
        assert_int_equal(d.body_len, c.body_len);
        /* cut inside the fixed part */
        assert_int_equal(region__cmd_decode(b.data, 26 + 23, &d),
                         REGION_EDECODE);
        /* a body only on a commit */
        region__buf_put(&b, "x", 1);
        assert_int_equal(region__cmd_decode(b.data, b.len, &d),
                         commit ? 0 : REGION_EDECODE);
        /* the other region is neither 0 nor the region itself */
        region__put_u64(b.data + 26, 5);
        assert_int_equal(region__cmd_decode(b.data, b.len, &d),
                         REGION_EDECODE);
        region__put_u64(b.data + 26, 0);
        assert_int_equal(region__cmd_decode(b.data, b.len, &d),
                         REGION_EDECODE);
        region__buf_free(&b);
    }
}

static void msgs_refused_when_cut(void **state)
{
    (void)state;
    struct raft_entry ent = {3, 10, RAFT_ENTRY_NORMAL, 5, "hello"};
    struct raft_message m = {.type = RAFT_MSG_APPEND, .from = 1, .to = 2,
                             .term = 3, .index = 9, .log_term = 3,
                             .n_entries = 1, .entries = &ent};
    struct region_wire_msg wm = {77, 1, 1, NULL, 0};
    struct region_buf b = {0};
    region__msgs_begin(&b, 1);
    region__msgs_add(&b, &wm, &m);
    region__msgs_add(&b, &wm, &m);
    region__msgs_finish(&b, 2);
    assert_false(b.oom);
    uint64_t from;
    size_t n;
    assert_int_equal(region_msgs_check(b.data, b.len, &from, &n), 0);
    assert_int_equal(from, 1);
    assert_int_equal(n, 2);
    size_t off = 0;
    struct region_wire_msg got;
    assert_int_equal(region__msgs_next(b.data, b.len, &off, &got), 0);
    assert_int_equal(got.region_id, 77);
    struct raft_message *rm;
    assert_int_equal(raft_msg_decode(got.raft, got.raft_len, &rm), 0);
    assert_int_equal(rm->n_entries, 1);
    assert_memory_equal(rm->entries[0].data, "hello", 5);
    raft_msg_free(rm);
    assert_int_equal(region__msgs_next(b.data, b.len, &off, &got), 0);
    assert_int_equal(region__msgs_next(b.data, b.len, &off, &got), 1);
    for (size_t cut = 0; cut < b.len; cut++)
        assert_int_equal(region_msgs_check(b.data, cut, NULL, NULL),
                         REGION_EDECODE);
    region__buf_u8(&b, 0); /* trailing garbage */
    assert_int_equal(region_msgs_check(b.data, b.len, NULL, NULL),
                     REGION_EDECODE);
    region__buf_free(&b);
}

/* libmvcc's view of the engine (zengine.c) prefixes every key with 'z'
 * in the data CFs and has no raft CF: the Raft log is out of its reach. */
static void zengine_view(void **state)
{
    (void)state;
    struct mvcc_engine *base, *z;
    assert_int_equal(mvcc_memengine_create(&base), 0);
    assert_int_equal(region__zengine_create(base, &z), 0);
    uint8_t lk[REGION__KEY_LOG_LEN];
    region__key_log(lk, 1, 5);
    assert_int_equal(mvcc_engine_put(base, MVCC_CF_RAFT, lk, sizeof lk, "e", 1),
                     0);
    assert_int_equal(mvcc_engine_put(z, MVCC_CF_WRITE, "k", 1, "w", 1), 0);
    uint8_t *v = NULL;
    size_t vl = 0;
    assert_int_equal(mvcc_engine_get(base, NULL, MVCC_CF_WRITE, "zk", 2, &v,
                                     &vl),
                     0);
    assert_int_equal(vl, 1);
    mvcc_free(v);
    assert_int_equal(mvcc_engine_get(z, NULL, MVCC_CF_RAFT, lk, sizeof lk, &v,
                                     &vl),
                     -EINVAL);
    assert_int_equal(mvcc_engine_put(z, MVCC_CF_RAFT, "k", 1, "r", 1),
                     -EINVAL);
    struct mvcc_iter *it = NULL;
    assert_int_equal(mvcc_engine_iter(z, NULL, MVCC_CF_RAFT, NULL, &it),
                     -EINVAL);
    struct mvcc_wbatch *b;
    assert_int_equal(mvcc_wbatch_create(&b), 0);
    assert_int_equal(mvcc_wbatch_put(b, MVCC_CF_DEFAULT, "d", 1, "1", 1), 0);
    assert_int_equal(mvcc_wbatch_delete_range(b, MVCC_CF_RAFT, "", 0, "\xff", 1),
                     0);
    assert_int_equal(mvcc_engine_write(z, b, false), -EINVAL);
    mvcc_wbatch_destroy(b);
    /* nothing of that batch landed; the log entry is still there */
    assert_int_equal(mvcc_engine_get(base, NULL, MVCC_CF_DEFAULT, "zd", 2, &v,
                                     &vl),
                     MVCC_NOTFOUND);
    assert_int_equal(mvcc_engine_get(base, NULL, MVCC_CF_RAFT, lk, sizeof lk,
                                     &v, &vl),
                     0);
    mvcc_free(v);
    mvcc_engine_destroy(z);
    mvcc_engine_destroy(base);
}

/* Its compact is the base engine's over the 'z' keys (the Raft log's CF
 * refused): deletes made through the view are no longer stepped over. */
static void zengine_compacts_its_keys(void **state)
{
    (void)state;
    char dir[] = "/tmp/region-zcompact.XXXXXX";
    assert_non_null(mkdtemp(dir));
    struct mvcc_rocks_opts o = {0};
    o.path = dir;
    o.disable_wal = true;
    struct mvcc_engine *base, *z;
    assert_int_equal(mvcc_rocksengine_open(&o, &base, NULL, 0), 0);
    assert_int_equal(region__zengine_create(base, &z), 0);
    const char *keys[] = {"a", "b", "c"};
    for (int i = 0; i < 3; i++) {
        assert_int_equal(mvcc_engine_put(z, MVCC_CF_WRITE, keys[i], 1, "v",
                                         1),
                         0);
        assert_int_equal(mvcc_engine_delete(z, MVCC_CF_WRITE, keys[i], 1), 0);
    }
    assert_int_equal(mvcc_engine_put(z, MVCC_CF_WRITE, "d", 1, "v", 1), 0);
    assert_int_equal(mvcc_engine_compact(z, MVCC_CF_RAFT, NULL, 0, NULL, 0),
                     -EINVAL);
    assert_int_equal(mvcc_engine_compact(z, MVCC_CF_WRITE, "a", 1, "c", 1),
                     0);
    assert_int_equal(mvcc_engine_compact(z, MVCC_CF_WRITE, NULL, 0, NULL, 0),
                     0);
    rocksdb_set_perf_level(rocksdb_enable_count);
    rocksdb_perfcontext_t *pc = rocksdb_perfcontext_create();
    rocksdb_perfcontext_reset(pc);
    struct mvcc_iter *it = NULL;
    assert_int_equal(mvcc_engine_iter(z, NULL, MVCC_CF_WRITE, NULL, &it), 0);
    assert_int_equal(it->ops->seek_to_first(it), 0);
    assert_true(it->ops->valid(it));
    size_t kl;
    const uint8_t *k = it->ops->key(it, &kl);
    assert_int_equal(kl, 1);
    assert_memory_equal(k, "d", 1);
    mvcc_iter_destroy(it);
    assert_int_equal(rocksdb_perfcontext_metric(
                         pc, rocksdb_internal_delete_skipped_count),
                     0);
    rocksdb_perfcontext_destroy(pc);
    rocksdb_set_perf_level(rocksdb_disable);
    mvcc_engine_destroy(z);
    mvcc_engine_destroy(base);
    char cmd[64];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(desc_round_trip),
        cmocka_unit_test(desc_learners),
        cmocka_unit_test(cmd_round_trip),
        cmocka_unit_test(cas_ttl_round_trip),
        cmocka_unit_test(merge_cmds_round_trip),
        cmocka_unit_test(msgs_refused_when_cut),
        cmocka_unit_test(zengine_view),
        cmocka_unit_test(zengine_compacts_its_keys),
    };
    return cmocka_run_group_tests_name("libregion/codec", tests, NULL, NULL);
}
