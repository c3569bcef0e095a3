/* test_tso.c: the timestamp oracle: exact timestamps, the save-ahead rule,
 * clocks stepping backwards, batches crossing the logical limit, failover to
 * a leader whose clock is 10 s behind, and a randomized monotonicity run.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "common.h"
#include "pd_int.h"

#define L PD_TS_LOGICAL_LIMIT
#define TS PD_TS_COMPOSE

static pd_ts get(struct pd *pd, uint64_t wall, uint32_t n)
{
    pd_ts ts = 0;
    assert_int_equal(pd_tso_get(pd, wall, n, &ts), 0);
    return ts;
}

static void nothing_before_the_first_save_applies(void **state)
{
    (void)state;
    struct fx fx;
    fx_init(&fx, 1, NULL);
    pd_ts ts;
    assert_int_equal(pd_tso_get(fx.pd[0], 1000, 1, &ts), PD_ENOTLEADER);
    assert_int_equal(pd_become_leader(fx.pd[0], 1000, 0), 0);
    /* The leader proposed TSO_SAVE(1000 + 3000) and ID_SAVE(1000). */
    assert_int_equal(pd_memlog_count(fx.log), 2);
    assert_int_equal(fx_entry_type(&fx, 0), PD__CMD_TSO_SAVE);
    assert_int_equal(fx_entry_u(&fx, 0), 4000);
    assert_int_equal(pd_tso_get(fx.pd[0], 1000, 1, &ts), PD_ENOTREADY);
    assert_int_equal(pd_tso_get(fx.pd[0], 1001, 1, &ts), PD_ENOTREADY);
    assert_int_equal(pd_memlog_count(fx.log), 2); /* no second save */
    fx_commit(&fx);
    assert_int_equal(pd_tso_saved(fx.pd[0]), 4000);
    assert_int_equal(get(fx.pd[0], 1001, 1), TS(1001, 0));
    assert_int_equal(get(fx.pd[0], 1001, 10), TS(1001, 1));
    assert_int_equal(get(fx.pd[0], 1001, 1), TS(1001, 11));
    assert_int_equal(get(fx.pd[0], 1005, 3), TS(1005, 0));
    assert_int_equal(get(fx.pd[0], 1005, 1), TS(1005, 3));
    fx_fini(&fx);
}

static void bad_counts_and_followers(void **state)
{
    (void)state;
    struct fx fx;
    fx_init(&fx, 2, NULL);
    fx_lead(&fx, 0, 1000, 0);
    pd_ts ts = 7;
    assert_int_equal(pd_tso_get(fx.pd[0], 1000, 0, &ts), -EINVAL);
    assert_int_equal(pd_tso_get(fx.pd[0], 1000, L + 1, &ts), -EINVAL);
    assert_int_equal(ts, 7);
    assert_int_equal(pd_tso_get(fx.pd[1], 1000, 1, &ts), PD_ENOTLEADER);
    assert_int_equal(pd_tso_tick(fx.pd[1], 1000), PD_ENOTLEADER);
    /* A wall clock past the 46-bit physical range is refused. */
    assert_int_equal(pd_tso_get(fx.pd[0], PD_TS_PHYSICAL_LIMIT, 1, &ts),
                     -EINVAL);
    assert_int_equal(pd_tso_tick(fx.pd[0], UINT64_MAX), -EINVAL);
    assert_int_equal(pd_become_leader(fx.pd[1], PD_TS_PHYSICAL_LIMIT - 1, 0),
                     -EINVAL);
    assert_false(pd_is_leader(fx.pd[1]));
    assert_int_equal(ts, 7);
    assert_int_equal(get(fx.pd[0], 1000, L), TS(1000, 0));
    pd_become_follower(fx.pd[0]);
    assert_int_equal(pd_tso_get(fx.pd[0], 1000, 1, &ts), PD_ENOTLEADER);
    fx_fini(&fx);
}

static void clock_steps_backwards(void **state)
{
    (void)state;
    struct fx fx;
    fx_init(&fx, 1, NULL);
    fx_lead(&fx, 0, 5000, 0);
    assert_int_equal(get(fx.pd[0], 5000, 1), TS(5000, 0));
    assert_int_equal(get(fx.pd[0], 5010, 1), TS(5010, 0));
    /* The clock jumps back 2 s: the physical part stays, logical climbs. */
    assert_int_equal(get(fx.pd[0], 3010, 1), TS(5010, 1));
    assert_int_equal(get(fx.pd[0], 3011, 5), TS(5010, 2));
    assert_int_equal(get(fx.pd[0], 5009, 1), TS(5010, 7));
    /* Back past it: physical follows again. */
    assert_int_equal(get(fx.pd[0], 5011, 1), TS(5011, 0));
    fx_fini(&fx);
}

static void batches_cross_the_logical_limit(void **state)
{
    (void)state;
    struct fx fx;
    fx_init(&fx, 1, NULL);
    fx_lead(&fx, 0, 1000, 0);
    assert_int_equal(get(fx.pd[0], 1000, L - 10), TS(1000, 0));
    assert_int_equal(get(fx.pd[0], 1000, 10), TS(1000, L - 10));
    /* Exactly full: the next batch takes the next millisecond, whole. */
    assert_int_equal(get(fx.pd[0], 1000, 1), TS(1001, 0));
    assert_int_equal(get(fx.pd[0], 1000, L - 5), TS(1001, 1));
    assert_int_equal(get(fx.pd[0], 1000, 20), TS(1002, 0));
    assert_int_equal(get(fx.pd[0], 999, 1), TS(1002, 20));
    /* The wall clock catching up resets logical. */
    assert_int_equal(get(fx.pd[0], 1003, 1), TS(1003, 0));
    fx_fini(&fx);
}

static void logical_overflow_waits_for_the_next_save(void **state)
{
    (void)state;
    struct pd_config cfg;
    pd_config_default(&cfg);
    cfg.tso_save_window_ms = 3;
    struct fx fx;
    fx_init(&fx, 1, &cfg);
    fx_lead(&fx, 0, 1000, 0);
    assert_int_equal(pd_tso_saved(fx.pd[0]), 1003);
    size_t n0 = pd_memlog_count(fx.log);
    /* A stuck clock: each full batch takes the next millisecond. */
    assert_int_equal(get(fx.pd[0], 1000, L), TS(1000, 0));
    assert_int_equal(get(fx.pd[0], 1000, L), TS(1001, 0));
    assert_int_equal(get(fx.pd[0], 1000, L), TS(1002, 0));
    assert_int_equal(pd_memlog_count(fx.log), n0);
    /* With less than 2/3 of a window left (1003 - 1002 < 2), the next
     * save, 1002 + 3, is proposed ahead. */
    assert_int_equal(get(fx.pd[0], 1000, L), TS(1003, 0));
    assert_int_equal(pd_memlog_count(fx.log), n0 + 1);
    assert_int_equal(fx_entry_u(&fx, n0), 1005);
    /* 1004 is beyond the applied bound: wait, and ask for 1004 + 3. */
    pd_ts ts = 0;
    assert_int_equal(pd_tso_get(fx.pd[0], 1000, 1, &ts), PD_ENOTREADY);
    assert_int_equal(pd_memlog_count(fx.log), n0 + 2);
    assert_int_equal(fx_entry_u(&fx, n0 + 1), 1007);
    assert_int_equal(pd_tso_get(fx.pd[0], 1000, 1, &ts), PD_ENOTREADY);
    assert_int_equal(pd_memlog_count(fx.log), n0 + 2);
    fx_commit(&fx);
    assert_int_equal(pd_tso_saved(fx.pd[0]), 1007);
    assert_int_equal(get(fx.pd[0], 1000, 1), TS(1004, 0));
    fx_fini(&fx);
}

static void window_is_saved_ahead_of_the_clock(void **state)
{
    (void)state;
    struct fx fx;
    fx_init(&fx, 1, NULL);
    fx_lead(&fx, 0, 10000, 0);
    size_t n0 = pd_memlog_count(fx.log);
    assert_int_equal(pd_tso_saved(fx.pd[0]), 13000);
    assert_int_equal(pd_tso_tick(fx.pd[0], 11000), 0);
    assert_int_equal(pd_memlog_count(fx.log), n0);
    /* 13000 - 11001 < 2000: save 11001 + 3000 ahead. */
    assert_int_equal(pd_tso_tick(fx.pd[0], 11001), 0);
    assert_int_equal(pd_memlog_count(fx.log), n0 + 1);
    assert_int_equal(fx_entry_u(&fx, n0), 14001);
    /* Not applied yet: the clock runs past the old bound; timestamps stay
     * within it (physical held at 13000) and no second save is proposed. */
    assert_int_equal(get(fx.pd[0], 13500, 1), TS(13000, 0));
    assert_int_equal(get(fx.pd[0], 13600, 1), TS(13000, 1));
    assert_int_equal(pd_memlog_count(fx.log), n0 + 1);
    fx_commit(&fx);
    assert_int_equal(get(fx.pd[0], 13600, 1), TS(13600, 0));
    /* 14001 - 13600 < 2000: the next save was proposed by that call. */
    assert_int_equal(pd_memlog_count(fx.log), n0 + 2);
    assert_int_equal(fx_entry_u(&fx, n0 + 1), 16600);
    fx_fini(&fx);
}

static void failover_to_a_clock_10s_behind(void **state)
{
    (void)state;
    struct fx fx;
    fx_init(&fx, 3, NULL);
    fx_lead(&fx, 0, 100000, 0);
    assert_int_equal(pd_tso_saved(fx.pd[0]), 103000);
    pd_ts last = get(fx.pd[0], 100000, 1);
    last = get(fx.pd[0], 100500, 100) + 99;
    assert_int_equal(last, TS(100500, 99));
    /* A save proposed by the old leader that never commits is lost. */
    assert_int_equal(pd_tso_tick(fx.pd[0], 101500), 0);
    size_t n = pd_memlog_count(fx.log);
    assert_int_equal(fx_entry_u(&fx, n - 1), 104500);
    pd_memlog_truncate(fx.log, n - 1);
    pd_become_follower(fx.pd[0]);
    /* Replica 1 leads with a clock 10 s behind. */
    fx_commit(&fx);
    assert_int_equal(pd_tso_saved(fx.pd[1]), 103000);
    assert_int_equal(pd_become_leader(fx.pd[1], 90000, 5), 0);
    pd_ts ts;
    assert_int_equal(pd_tso_get(fx.pd[1], 90000, 1, &ts), PD_ENOTREADY);
    assert_int_equal(fx_entry_u(&fx, n - 1), 106001);
    fx_commit(&fx);
    ts = get(fx.pd[1], 90001, 1);
    assert_int_equal(ts, TS(103001, 0));
    assert_true(ts > last);
    assert_int_equal(get(fx.pd[1], 90002, 1), TS(103001, 1));
    /* And once more back to replica 2, its clock further behind still. */
    pd_become_follower(fx.pd[1]);
    fx_commit(&fx);
    assert_int_equal(pd_become_leader(fx.pd[2], 50, 9), 0);
    fx_commit(&fx);
    assert_int_equal(get(fx.pd[2], 60, 1), TS(106002, 0));
    fx_fini(&fx);
}

static void committed_save_of_the_old_leader_counts(void **state)
{
    (void)state;
    struct fx fx;
    fx_init(&fx, 2, NULL);
    fx_lead(&fx, 0, 100000, 0);
    assert_int_equal(pd_tso_tick(fx.pd[0], 101500), 0); /* save 104500 */
    pd_become_follower(fx.pd[0]);
    fx_commit(&fx); /* ...which the new leader commits and applies */
    assert_int_equal(pd_become_leader(fx.pd[1], 100000, 0), 0);
    fx_commit(&fx);
    assert_int_equal(get(fx.pd[1], 100000, 1), TS(104501, 0));
    /* A stale save applied late changes nothing. */
    struct pd__buf b = {0};
    struct pd__cmd c = {.type = PD__CMD_TSO_SAVE, .u = 1000};
    pd__cmd_encode(&c, &b);
    assert_int_equal(pd_apply(fx.pd[1], b.p, b.n), PD_ESTATE);
    pd__buf_free(&b);
    assert_int_equal(pd_tso_saved(fx.pd[1]), 107501);
    fx_fini(&fx);
}

/* xorshift64: deterministic randomness for the run below. */
static uint64_t rnd(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static void random_clocks_batches_and_failovers(void **state)
{
    (void)state;
    struct pd_config cfg;
    pd_config_default(&cfg);
    cfg.tso_save_window_ms = 50;
    struct fx fx;
    fx_init(&fx, 3, &cfg);
    uint64_t seed = 0x9e3779b97f4a7c15ull;
    uint64_t clock[3] = {1000000000, 999995000, 1000004000};
    int leader = 0;
    fx_lead(&fx, leader, clock[leader], 0);
    pd_ts last = 0;
    unsigned served = 0;
    for (int step = 0; step < 20000; step++) {
        uint64_t r = rnd(&seed);
        for (int i = 0; i < 3; i++) {
            /* Clocks drift forward, sometimes step back. */
            if (r % 97 == (uint64_t)i)
                clock[i] -= rnd(&seed) % 5000;
            else
                clock[i] += rnd(&seed) % 3;
        }
        if (r % 11 == 0)
            fx_commit(&fx);
        if (r % 1009 == 0) {
            /* Failover; half the time the old tail is lost. */
            if (rnd(&seed) % 2 == 0) {
                size_t n = pd_memlog_count(fx.log);
                size_t min = n;
                for (int i = 0; i < 3; i++)
                    if (fx.applied[i] < min)
                        min = fx.applied[i];
                pd_memlog_truncate(fx.log, min);
            }
            pd_become_follower(fx.pd[leader]);
            leader = (int)(rnd(&seed) % 3);
            fx_commit(&fx);
            assert_int_equal(
                pd_become_leader(fx.pd[leader], clock[leader], 0), 0);
            continue;
        }
        uint32_t count = (uint32_t)(rnd(&seed) % 4 == 0
                                        ? rnd(&seed) % L + 1
                                        : rnd(&seed) % 100 + 1);
        pd_ts ts;
        int rc = pd_tso_get(fx.pd[leader], clock[leader], count, &ts);
        if (rc == PD_ENOTREADY)
            continue;
        assert_int_equal(rc, 0);
        assert_true(ts > last);
        assert_int_equal(PD_TS_PHYSICAL(ts + count - 1), PD_TS_PHYSICAL(ts));
        last = ts + count - 1;
        served++;
    }
    assert_true(served > 1000);
    fx_fini(&fx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(nothing_before_the_first_save_applies),
        cmocka_unit_test(bad_counts_and_followers),
        cmocka_unit_test(clock_steps_backwards),
        cmocka_unit_test(batches_cross_the_logical_limit),
        cmocka_unit_test(logical_overflow_waits_for_the_next_save),
        cmocka_unit_test(window_is_saved_ahead_of_the_clock),
        cmocka_unit_test(failover_to_a_clock_10s_behind),
        cmocka_unit_test(committed_save_of_the_old_leader_counts),
        cmocka_unit_test(random_clocks_batches_and_failovers),
    };
    return cmocka_run_group_tests_name("libpd/tso", tests, NULL, NULL);
}
