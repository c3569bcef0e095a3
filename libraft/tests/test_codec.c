/* test_codec.c: the message and configuration-change byte forms: round
 * trips, every truncation refused, versions checked, bad counts refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "raft.h"

static void fill(struct raft_message *m, struct raft_entry *e,
                 struct raft_snapshot *s)
{
    memset(m, 0, sizeof(*m));
    m->type = RAFT_MSG_APPEND;
    m->from = 1;
    m->to = 0x0102030405060708ULL;
    m->term = 7;
    m->log_term = 6;
    m->index = 100;
    m->commit = 99;
    m->context = 0xdeadbeefULL;
    m->reject = true;
    m->reject_hint = 42;
    memset(e, 0, 3 * sizeof(*e));
    e[0].term = 7;
    e[0].index = 101;
    e[0].data = "hello";
    e[0].len = 5;
    e[1].term = 7;
    e[1].index = 102; /* empty */
    e[2].term = 7;
    e[2].index = 103;
    e[2].type = RAFT_ENTRY_CONF_CHANGE;
    e[2].data = "\x01\x00\x00";
    e[2].len = 3;
    m->entries = e;
    m->n_entries = 3;
    memset(s, 0, sizeof(*s));
    s->meta.index = 90;
    s->meta.term = 5;
    s->meta.conf.voters[0] = 1;
    s->meta.conf.voters[1] = 2;
    s->meta.conf.n_voters = 2;
    s->meta.conf.learners[0] = 9;
    s->meta.conf.n_learners = 1;
    s->meta.conf.auto_leave = true;
    s->offset = 4;
    s->total = 10;
    s->len = 3;
    s->data = "xyz";
    m->snapshot = s;
}

static void message_round_trip(void **state)
{
    (void)state;
    struct raft_message m;
    struct raft_entry e[3];
    struct raft_snapshot s;
    fill(&m, e, &s);
    size_t size = raft_msg_encoded_size(&m);
    uint8_t *buf = malloc(size);
    size_t len;
    assert_int_equal(raft_msg_encode(&m, buf, size - 1, &len), RAFT_ENOSPACE);
    assert_int_equal(raft_msg_encode(&m, buf, size, &len), 0);
    assert_int_equal(len, size);
    struct raft_message *d;
    assert_int_equal(raft_msg_decode(buf, len, &d), 0);
    assert_int_equal(d->type, m.type);
    assert_int_equal(d->from, m.from);
    assert_int_equal(d->to, m.to);
    assert_int_equal(d->term, m.term);
    assert_int_equal(d->log_term, m.log_term);
    assert_int_equal(d->index, m.index);
    assert_int_equal(d->commit, m.commit);
    assert_int_equal(d->context, m.context);
    assert_true(d->reject);
    assert_int_equal(d->reject_hint, 42);
    assert_int_equal(d->n_entries, 3);
    assert_int_equal(d->entries[0].len, 5);
    assert_memory_equal(d->entries[0].data, "hello", 5);
    assert_int_equal(d->entries[1].len, 0);
    assert_null(d->entries[1].data);
    assert_int_equal(d->entries[2].type, RAFT_ENTRY_CONF_CHANGE);
    assert_int_equal(d->entries[2].index, 103);
    assert_non_null(d->snapshot);
    assert_int_equal(d->snapshot->meta.index, 90);
    assert_int_equal(d->snapshot->meta.term, 5);
    assert_int_equal(d->snapshot->meta.conf.n_voters, 2);
    assert_int_equal(d->snapshot->meta.conf.voters[1], 2);
    assert_int_equal(d->snapshot->meta.conf.learners[0], 9);
    assert_true(d->snapshot->meta.conf.auto_leave);
    assert_int_equal(d->snapshot->offset, 4);
    assert_int_equal(d->snapshot->total, 10);
    assert_memory_equal(d->snapshot->data, "xyz", 3);
    raft_msg_free(d);
    raft_msg_free(NULL);
    free(buf);
}

static void every_truncation_refused(void **state)
{
    (void)state;
    struct raft_message m;
    struct raft_entry e[3];
    struct raft_snapshot s;
    fill(&m, e, &s);
    size_t size = raft_msg_encoded_size(&m);
    uint8_t *buf = malloc(size + 1);
    size_t len;
    assert_int_equal(raft_msg_encode(&m, buf, size, &len), 0);
    for (size_t cut = 0; cut < len; cut++) {
        struct raft_message *d = (void *)1;
        int rc = raft_msg_decode(buf, cut, &d);
        assert_int_equal(rc, RAFT_EDECODE);
        assert_null(d);
    }
    /* Trailing garbage is refused too. */
    buf[len] = 0;
    struct raft_message *d;
    assert_int_equal(raft_msg_decode(buf, len + 1, &d), RAFT_EDECODE);
    free(buf);
}

static void version_and_fields_checked(void **state)
{
    (void)state;
    struct raft_message m;
    memset(&m, 0, sizeof(m));
    m.type = RAFT_MSG_HEARTBEAT;
    m.from = 1;
    uint8_t buf[128];
    size_t len;
    assert_int_equal(raft_msg_encode(&m, buf, sizeof(buf), &len), 0);
    assert_int_equal(len, 72);
    struct raft_message *d;
    buf[0] = 2;
    assert_int_equal(raft_msg_decode(buf, len, &d), RAFT_EVERSION);
    buf[0] = 1;
    buf[1] = 0; /* bad type */
    assert_int_equal(raft_msg_decode(buf, len, &d), RAFT_EDECODE);
    buf[1] = RAFT_MSG_TYPE_MAX + 1;
    assert_int_equal(raft_msg_decode(buf, len, &d), RAFT_EDECODE);
    buf[1] = RAFT_MSG_HEARTBEAT;
    buf[2] = 4; /* unknown flag */
    assert_int_equal(raft_msg_decode(buf, len, &d), RAFT_EDECODE);
    buf[2] = 0;
    buf[68] = 0xff; /* entry count beyond the input */
    buf[69] = 0xff;
    assert_int_equal(raft_msg_decode(buf, len, &d), RAFT_EDECODE);
    buf[68] = 0;
    buf[69] = 0;
    assert_int_equal(raft_msg_decode(buf, len, &d), 0);
    assert_null(d->entries);
    assert_null(d->snapshot);
    raft_msg_free(d);
    m.type = 99;
    assert_int_equal(raft_msg_encode(&m, buf, sizeof(buf), &len),
                     RAFT_EINVAL);
}

static void conf_change_round_trip(void **state)
{
    (void)state;
    struct raft_conf_change cc, out;
    memset(&cc, 0, sizeof(cc));
    cc.transition = RAFT_TRANSITION_JOINT_EXPLICIT;
    cc.n_changes = 2;
    cc.changes[0].type = RAFT_CHANGE_ADD_VOTER;
    cc.changes[0].id = 4;
    cc.changes[1].type = RAFT_CHANGE_REMOVE;
    cc.changes[1].id = 1;
    uint8_t buf[64];
    size_t len;
    assert_int_equal(raft_conf_change_encode(&cc, buf, 10, &len),
                     RAFT_ENOSPACE);
    assert_int_equal(raft_conf_change_encode(&cc, buf, sizeof(buf), &len), 0);
    assert_int_equal(len, raft_conf_change_size(&cc));
    assert_int_equal(raft_conf_change_decode(buf, len, &out), 0);
    assert_memory_equal(&cc, &out, sizeof(cc));
    for (size_t cut = 0; cut < len; cut++)
        assert_int_not_equal(raft_conf_change_decode(buf, cut, &out), 0);
    buf[0] = 9;
    assert_int_equal(raft_conf_change_decode(buf, len, &out), RAFT_EVERSION);
    buf[0] = 1;
    buf[3] = 7; /* bad change type */
    assert_int_equal(raft_conf_change_decode(buf, len, &out), RAFT_EDECODE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(message_round_trip),
        cmocka_unit_test(every_truncation_refused),
        cmocka_unit_test(version_and_fields_checked),
        cmocka_unit_test(conf_change_round_trip),
    };
    return cmocka_run_group_tests_name("libraft/codec", tests, NULL, NULL);
}
