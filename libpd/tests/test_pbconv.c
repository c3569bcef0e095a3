/* test_pbconv.c: service messages to and from libpd's structs: what the
 * "in" conversions refuse (with the exact reason), and out -> encode ->
 * decode -> in giving back the same store, region and operator.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <pb_decode.h>
#include <pb_encode.h>

#include "pd.h"
#include "pd.pb.h"

/* Encodes m, then decodes the bytes into out (zeroed first). */
static void roundtrip(const pb_msgdesc_t *f, const void *m, void *out,
                      size_t size)
{
    size_t len = 0;
    assert_true(pb_get_encoded_size(&len, f, m));
    uint8_t *buf = malloc(len + 1);
    assert_non_null(buf);
    pb_ostream_t os = pb_ostream_from_buffer(buf, len);
    assert_true(pb_encode(&os, f, m));
    memset(out, 0, size);
    pb_istream_t is = pb_istream_from_buffer(buf, len);
    assert_true(pb_decode(&is, f, out));
    free(buf);
}

static void store_in_refuses(void **state)
{
    (void)state;
    char err[128];
    struct pd_store st;
    pd_Store in = {0};
    assert_int_equal(pd_pb_store_in(&in, &st, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "store id must be nonzero");
    in.id = 5;
    assert_int_equal(pd_pb_store_in(&in, &st, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "store 5 has no address");
    in.address = (char *)"h:1";
    pd_Label labels[9] = {{(char *)"zone", (char *)"z1"}, {NULL, NULL}};
    in.labels = labels;
    in.labels_count = 2;
    assert_int_equal(pd_pb_store_in(&in, &st, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "label 1 has no key");
    in.labels_count = 9;
    assert_int_equal(pd_pb_store_in(&in, &st, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "9 labels, at most 8");
    labels[1].key = (char *)"host";
    in.labels_count = 2;
    assert_int_equal(pd_pb_store_in(&in, &st, err, sizeof(err)), 0);
    assert_int_equal(st.n_labels, 2);
    assert_string_equal(st.labels[1].value, ""); /* NULL value: empty */
}

static void region_in_refuses(void **state)
{
    (void)state;
    char err[128];
    struct pd_region_info ri;
    pd_RegionInfo in = {0};
    assert_int_equal(pd_pb_region_info_in(&in, &ri, err, sizeof(err)),
                     -EINVAL);
    assert_string_equal(err, "no region in the request");
    in.has_region = true;
    assert_int_equal(pd_pb_region_info_in(&in, &ri, err, sizeof(err)),
                     -EINVAL);
    assert_string_equal(err, "region id must be nonzero");
    in.region.id = 7;
    assert_int_equal(pd_pb_region_info_in(&in, &ri, err, sizeof(err)),
                     -EINVAL);
    assert_string_equal(err, "region 7 has 0 peers (1..16)");
    pd_Peer peers[17] = {{1, 1, false}};
    in.region.peers = peers;
    in.region.peers_count = 17;
    assert_int_equal(pd_pb_region_info_in(&in, &ri, err, sizeof(err)),
                     -EINVAL);
    assert_string_equal(err, "region 7 has 17 peers (1..16)");
    in.region.peers_count = 1;
    uint64_t down[17] = {0};
    in.down_peer_ids = down;
    in.down_peer_ids_count = 17;
    assert_int_equal(pd_pb_region_info_in(&in, &ri, err, sizeof(err)),
                     -EINVAL);
    assert_string_equal(err, "17 down peers, at most 16");
    in.down_peer_ids_count = 1;
    assert_int_equal(pd_pb_region_info_in(&in, &ri, err, sizeof(err)), 0);
    assert_int_equal(ri.region.start_len, 0); /* absent keys: empty */
    assert_int_equal(ri.region.end_len, 0);
}

static void store_round_trip(void **state)
{
    (void)state;
    struct pd_store_info si;
    memset(&si, 0, sizeof(si));
    si.store.id = 3;
    si.store.address = "127.0.0.1:20160";
    si.store.n_labels = 2;
    si.store.labels[0] = (struct pd_label){"zone", "z1"};
    si.store.labels[1] = (struct pd_label){"host", ""};
    si.state = PD_STORE_DOWN;
    si.map_regions = 4;
    si.stats.capacity = 100;
    pd_StoreInfo out;
    assert_int_equal(pd_pb_store_info_out(&si, &out), 0);
    pd_StoreInfo back;
    roundtrip(pd_StoreInfo_fields, &out, &back, sizeof(back));
    pd_client_release(pd_StoreInfo_fields, &out);
    struct pd_store st;
    char err[128];
    assert_int_equal(pd_pb_store_in(&back.store, &st, err, sizeof(err)), 0);
    assert_int_equal(st.id, 3);
    assert_string_equal(st.address, "127.0.0.1:20160");
    assert_int_equal(st.n_labels, 2);
    assert_string_equal(st.labels[0].key, "zone");
    assert_string_equal(st.labels[0].value, "z1");
    assert_string_equal(st.labels[1].key, "host");
    assert_string_equal(st.labels[1].value, "");
    assert_int_equal(back.state, PD_STORE_DOWN);
    assert_int_equal(back.map_regions, 4);
    assert_int_equal(back.stats.capacity, 100);
    pd_client_release(pd_StoreInfo_fields, &back);
}

static void region_round_trip(void **state)
{
    (void)state;
    struct pd_region_info ri;
    memset(&ri, 0, sizeof(ri));
    static const uint8_t start[] = {'a', 0, 'b'};
    ri.region.id = 9;
    ri.region.start_key = start;
    ri.region.start_len = 3;
    ri.region.conf_ver = 2;
    ri.region.version = 5;
    ri.region.n_peers = 2;
    ri.region.peers[0] = (struct pd_peer){91, 1, false};
    ri.region.peers[1] = (struct pd_peer){92, 2, true};
    ri.leader_peer_id = 91;
    ri.approx_size = 1 << 20;
    ri.n_down_peers = 1;
    ri.down_peer_ids[0] = 92;
    pd_RegionInfo out, back;
    assert_int_equal(pd_pb_region_info_out(&ri, &out), 0);
    roundtrip(pd_RegionInfo_fields, &out, &back, sizeof(back));
    pd_client_release(pd_RegionInfo_fields, &out);
    struct pd_region_info r2;
    char err[128];
    assert_int_equal(pd_pb_region_info_in(&back, &r2, err, sizeof(err)), 0);
    assert_int_equal(r2.region.id, 9);
    assert_int_equal(r2.region.start_len, 3);
    assert_memory_equal(r2.region.start_key, start, 3);
    assert_int_equal(r2.region.end_len, 0);
    assert_int_equal(r2.region.version, 5);
    assert_int_equal(r2.region.n_peers, 2);
    assert_int_equal(r2.region.peers[1].id, 92);
    assert_true(r2.region.peers[1].learner);
    assert_int_equal(r2.leader_peer_id, 91);
    assert_int_equal(r2.approx_size, 1 << 20);
    assert_int_equal(r2.n_down_peers, 1);
    assert_int_equal(r2.down_peer_ids[0], 92);
    pd_client_release(pd_RegionInfo_fields, &back);
}

static void operator_out(void **state)
{
    (void)state;
    struct pd_operator op;
    memset(&op, 0, sizeof(op));
    op.region_id = 4;
    memset(op.desc, 'x', sizeof(op.desc)); /* no NUL: still bounded */
    op.n_steps = 2;
    op.steps[0] = (struct pd_step){PD_STEP_ADD_LEARNER, 2, 40, 0};
    op.steps[1] = (struct pd_step){PD_STEP_PROMOTE_LEARNER, 2, 40, 0};
    op.current = 1;
    pd_Operator out;
    assert_int_equal(pd_pb_operator_out(&op, &out), 0);
    assert_int_equal(strlen(out.desc), sizeof(op.desc));
    assert_int_equal(out.steps_count, 2);
    assert_int_equal(out.steps[1].kind, PD_STEP_PROMOTE_LEARNER);
    assert_int_equal(out.steps[1].peer_id, 40);
    assert_int_equal(out.current, 1);
    pd_client_release(pd_Operator_fields, &out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(store_in_refuses),
        cmocka_unit_test(region_in_refuses),
        cmocka_unit_test(store_round_trip),
        cmocka_unit_test(region_round_trip),
        cmocka_unit_test(operator_out),
    };
    return cmocka_run_group_tests_name("libpd/pbconv", tests, NULL, NULL);
}
