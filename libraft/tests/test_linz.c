/* test_linz.c: the linearizability checker (tests/linz.c) on small
 * histories with known answers, so that the simulator's use of it can be
 * trusted: both verdicts, backtracking, pending operations, the search
 * budget, and the log model.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "linz.h"

static struct linz_op w(uint64_t call, uint64_t ret, uint64_t v)
{
    struct linz_op o = {call, ret, LINZ_WRITE, v, 0};
    return o;
}

static struct linz_op r(uint64_t call, uint64_t ret, uint64_t v)
{
    struct linz_op o = {call, ret, LINZ_READ, 0, v};
    return o;
}

static int check(const struct linz_model *m, const struct linz_op *ops,
                 size_t n)
{
    return linz_check(m, ops, n, 1000000, NULL);
}

static void sequential(void **state)
{
    (void)state;
    struct linz_op h[] = {w(1, 2, 1), r(3, 4, 1), w(5, 6, 2), r(7, 8, 2)};
    assert_int_equal(check(&linz_register, h, 4), LINZ_OK);
    assert_int_equal(check(&linz_register, h, 0), LINZ_OK);
}

/* A read after a completed write sees it; an older value is stale. */
static void stale_read_rejected(void **state)
{
    (void)state;
    struct linz_op h[] = {w(1, 2, 1), w(3, 4, 2), r(5, 6, 1)};
    assert_int_equal(check(&linz_register, h, 3), LINZ_VIOLATION);
    struct linz_op h2[] = {r(1, 2, 7)}; /* never written */
    assert_int_equal(check(&linz_register, h2, 1), LINZ_VIOLATION);
}

/* Reads overlapping a write may see either value, but not go back. */
static void overlapping(void **state)
{
    (void)state;
    struct linz_op ok[] = {w(1, 10, 1), r(2, 3, 0), r(4, 5, 1), r(6, 11, 1)};
    assert_int_equal(check(&linz_register, ok, 4), LINZ_OK);
    struct linz_op bad[] = {w(1, 10, 1), r(2, 3, 1), r(4, 5, 0)};
    assert_int_equal(check(&linz_register, bad, 3), LINZ_VIOLATION);
}

/* Two concurrent writes: the read after both says which came last; the
 * search must backtrack from the order it tries first. */
static void needs_backtracking(void **state)
{
    (void)state;
    struct linz_op h[] = {w(1, 10, 1), w(2, 9, 2), r(11, 12, 1)};
    uint64_t steps = 0;
    assert_int_equal(linz_check(&linz_register, h, 3, 1000, &steps),
                     LINZ_OK);
    assert_true(steps > 3); /* went back at least once */
    struct linz_op bad[] = {w(1, 10, 1), w(2, 9, 2), r(11, 12, 1),
                            r(13, 14, 2)};
    assert_int_equal(check(&linz_register, bad, 4), LINZ_VIOLATION);
}

/* A pending operation may take effect at any time after its call, or be
 * placed last. */
static void pending(void **state)
{
    (void)state;
    struct linz_op h[] = {w(1, LINZ_PENDING, 3), r(2, 3, 0), r(4, 5, 3),
                          r(6, 7, 3)};
    assert_int_equal(check(&linz_register, h, 4), LINZ_OK);
    struct linz_op bad[] = {w(1, LINZ_PENDING, 3), r(4, 5, 3), r(6, 7, 0)};
    assert_int_equal(check(&linz_register, bad, 3), LINZ_VIOLATION);
    struct linz_op unseen[] = {w(1, LINZ_PENDING, 3), r(4, 5, 0)};
    assert_int_equal(check(&linz_register, unseen, 2), LINZ_OK);
}

/* The budget stops the search with LINZ_GAVE_UP, not a verdict. */
static void budget(void **state)
{
    (void)state;
    struct linz_op h[] = {w(1, 10, 1), w(2, 9, 2), r(11, 12, 1)};
    assert_int_equal(linz_check(&linz_register, h, 3, 2, NULL),
                     LINZ_GAVE_UP);
}

/* The log model: appends at their positions, reads of the length. */
static void log_model(void **state)
{
    (void)state;
    struct linz_op ok[] = {w(1, 6, 1), w(2, 4, 2), r(3, 5, 1), r(7, 8, 2)};
    assert_int_equal(check(&linz_log, ok, 4), LINZ_OK);
    /* Append 2 answered before the read began: a length of 1 is stale. */
    struct linz_op bad[] = {w(1, 2, 1), w(3, 4, 2), r(5, 6, 1)};
    assert_int_equal(check(&linz_log, bad, 3), LINZ_VIOLATION);
    /* Position 2 taken before position 1 was even asked for. */
    struct linz_op order[] = {w(3, 4, 1), w(1, 2, 2)};
    assert_int_equal(check(&linz_log, order, 2), LINZ_VIOLATION);
}

/* A long sequential history with many overlaps stays cheap. */
static void long_history(void **state)
{
    (void)state;
    enum { N = 2000 };
    static struct linz_op h[N];
    uint64_t t = 1;
    size_t k = 0;
    for (uint64_t pos = 1; k + 2 <= N; pos++) {
        /* Each append overlaps a read that sees either length. */
        h[k++] = w(t, t + 3, pos);
        h[k++] = r(t + 1, t + 2, pos - (pos % 2));
        t += 4;
    }
    uint64_t steps = 0;
    assert_int_equal(linz_check(&linz_log, h, N, 1000000, &steps), LINZ_OK);
    assert_true(steps < 20 * N);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sequential),
        cmocka_unit_test(stale_read_rejected),
        cmocka_unit_test(overlapping),
        cmocka_unit_test(needs_backtracking),
        cmocka_unit_test(pending),
        cmocka_unit_test(budget),
        cmocka_unit_test(log_model),
        cmocka_unit_test(long_history),
    };
    return cmocka_run_group_tests_name("libraft/linz", tests, NULL, NULL);
}
