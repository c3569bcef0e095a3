/* test_id.c: the id allocator: blocks saved ahead, exhaustion waiting for
 * the next save, and failover never repeating an id.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "common.h"
#include "pd_int.h"

static uint64_t alloc(struct pd *pd, uint32_t n)
{
    uint64_t id = 0;
    assert_int_equal(pd_id_alloc(pd, n, &id), 0);
    return id;
}

static void blocks_are_saved_before_use(void **state)
{
    (void)state;
    struct pd_config cfg;
    pd_config_default(&cfg);
    cfg.id_block = 10;
    struct fx fx;
    fx_init(&fx, 1, &cfg);
    uint64_t id;
    assert_int_equal(pd_id_alloc(fx.pd[0], 1, &id), PD_ENOTLEADER);
    assert_int_equal(pd_become_leader(fx.pd[0], 1000, 0), 0);
    assert_int_equal(fx_entry_type(&fx, 1), PD__CMD_ID_SAVE);
    assert_int_equal(fx_entry_u(&fx, 1), 10);
    assert_int_equal(pd_id_alloc(fx.pd[0], 1, &id), PD_ENOTREADY);
    assert_int_equal(pd_memlog_count(fx.log), 2);
    fx_commit(&fx);
    assert_int_equal(pd_id_saved(fx.pd[0]), 10);
    assert_int_equal(alloc(fx.pd[0], 1), 1);
    assert_int_equal(pd_memlog_count(fx.log), 2);
    /* 2..6: 10 - 6 < 5, so the next block (20) is saved ahead. */
    assert_int_equal(alloc(fx.pd[0], 5), 2);
    assert_int_equal(pd_memlog_count(fx.log), 3);
    assert_int_equal(fx_entry_u(&fx, 2), 20);
    assert_int_equal(alloc(fx.pd[0], 4), 7);
    /* 11 is beyond the applied end: wait for the save in flight. */
    assert_int_equal(pd_id_alloc(fx.pd[0], 1, &id), PD_ENOTREADY);
    assert_int_equal(pd_memlog_count(fx.log), 3);
    fx_commit(&fx);
    assert_int_equal(alloc(fx.pd[0], 1), 11);
    assert_int_equal(pd_id_alloc(fx.pd[0], 0, &id), -EINVAL);
    assert_int_equal(pd_id_alloc(fx.pd[0], 11, &id), -EINVAL);
    assert_int_equal(alloc(fx.pd[0], 9), 12);
    assert_int_equal(pd_id_alloc(fx.pd[0], 1, &id), PD_ENOTREADY);
    fx_commit(&fx);
    assert_int_equal(alloc(fx.pd[0], 10), 21);
    fx_fini(&fx);
}

static void failover_skips_the_old_block(void **state)
{
    (void)state;
    struct fx fx;
    fx_init(&fx, 2, NULL);
    fx_lead(&fx, 0, 1000, 0);
    assert_int_equal(alloc(fx.pd[0], 3), 1);
    pd_become_follower(fx.pd[0]);
    fx_commit(&fx);
    assert_int_equal(pd_become_leader(fx.pd[1], 1000, 0), 0);
    uint64_t id;
    assert_int_equal(pd_id_alloc(fx.pd[1], 1, &id), PD_ENOTREADY);
    fx_commit(&fx);
    assert_int_equal(pd_id_saved(fx.pd[1]), 2000);
    assert_int_equal(alloc(fx.pd[1], 1), 1001);
    /* The old leader applies the same log but hands out nothing. */
    assert_int_equal(pd_id_saved(fx.pd[0]), 2000);
    assert_int_equal(pd_id_alloc(fx.pd[0], 1, &id), PD_ENOTLEADER);
    fx_fini(&fx);
}

static void uncommitted_block_is_never_used(void **state)
{
    (void)state;
    struct pd_config cfg;
    pd_config_default(&cfg);
    cfg.id_block = 4;
    struct fx fx;
    fx_init(&fx, 2, &cfg);
    fx_lead(&fx, 0, 1000, 0);
    assert_int_equal(alloc(fx.pd[0], 3), 1); /* proposes 8, lost below */
    size_t n = pd_memlog_count(fx.log);
    assert_int_equal(fx_entry_u(&fx, n - 1), 8);
    uint64_t id;
    assert_int_equal(pd_id_alloc(fx.pd[0], 2, &id), PD_ENOTREADY);
    pd_memlog_truncate(fx.log, n - 1);
    pd_become_follower(fx.pd[0]);
    fx_commit(&fx);
    assert_int_equal(pd_become_leader(fx.pd[1], 1000, 0), 0);
    fx_commit(&fx);
    assert_int_equal(pd_id_saved(fx.pd[1]), 8);
    assert_int_equal(alloc(fx.pd[1], 2), 5);
    fx_fini(&fx);
}

static void big_request_asks_for_a_block_itself(void **state)
{
    (void)state;
    struct pd_config cfg;
    pd_config_default(&cfg);
    cfg.id_block = 10;
    struct fx fx;
    fx_init(&fx, 1, &cfg);
    fx_lead(&fx, 0, 1000, 0);
    assert_int_equal(alloc(fx.pd[0], 1), 1);
    size_t n = pd_memlog_count(fx.log);
    /* 2..11 does not fit in 10 and no save is in flight: one goes out for
     * 11 + 10. */
    uint64_t id;
    assert_int_equal(pd_id_alloc(fx.pd[0], 10, &id), PD_ENOTREADY);
    assert_int_equal(pd_memlog_count(fx.log), n + 1);
    assert_int_equal(fx_entry_u(&fx, n), 21);
    fx_commit(&fx);
    assert_int_equal(alloc(fx.pd[0], 10), 2);
    fx_fini(&fx);
}

static void id_space_is_bounded(void **state)
{
    (void)state;
    struct fx fx;
    fx_init(&fx, 1, NULL);
    struct pd__buf b = {0};
    struct pd__cmd c = {.type = PD__CMD_ID_SAVE, .u = PD_ID_LIMIT - 10};
    pd__cmd_encode(&c, &b);
    assert_int_equal(pd_apply(fx.pd[0], b.p, b.n), 0);
    pd__buf_free(&b);
    /* Another block would pass the limit: this replica cannot lead. */
    assert_int_equal(pd_become_leader(fx.pd[0], 1000, 0), PD_EINTERNAL);
    assert_false(pd_is_leader(fx.pd[0]));
    fx_fini(&fx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(blocks_are_saved_before_use),
        cmocka_unit_test(failover_skips_the_old_block),
        cmocka_unit_test(uncommitted_block_is_never_used),
        cmocka_unit_test(big_request_asks_for_a_block_itself),
        cmocka_unit_test(id_space_is_bounded),
    };
    return cmocka_run_group_tests_name("libpd/id", tests, NULL, NULL);
}
