/* test_savepoint.c: savepoints of a client transaction's write buffer
 * (mvcc_txn_savepoint, mvcc_txn_rollback_to; DESIGN.md "Client",
 * savepoints): writes since a mark are undone, earlier ones and
 * pessimistic locks stay, later marks go, and the commit carries exactly
 * what is left.
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

/* Writes since the mark go; the ones before stay, whatever key they share
 * with later writes; the commit writes only what is left. */
static void rollback_to_undoes_later_writes(void **state)
{
    struct tu_cluster *k = *state;
    struct mvcc_txn *t;
    assert_int_equal(mvcc_txn_begin(k->c, &t), 0);
    tu_txn_set(t, "kept", "0");
    assert_int_equal(mvcc_txn_set(t, K("apple"), K("1")), 0);
    tu_txn_set(t, "zed", "z0");
    size_t sp1, sp2;
    assert_int_equal(mvcc_txn_savepoint(t, &sp1), 0);
    tu_txn_set(t, "apple", "2");
    tu_txn_set(t, "apple", "3");
    tu_txn_set(t, "new", "n");
    assert_int_equal(mvcc_txn_delete(t, K("zed")), 0);
    assert_int_equal(mvcc_txn_savepoint(t, &sp2), 0);
    tu_txn_set(t, "later", "l");
    tu_txn_get_is(t, "apple", "3");
    tu_txn_get_is(t, "zed", NULL);
    /* To the inner mark first: only "later" goes. */
    assert_int_equal(mvcc_txn_rollback_to(t, sp2), 0);
    tu_txn_get_is(t, "later", NULL);
    tu_txn_get_is(t, "apple", "3");
    /* The same mark again: nothing more to undo. */
    assert_int_equal(mvcc_txn_rollback_to(t, sp2), 0);
    tu_txn_get_is(t, "new", "n");
    assert_int_equal(mvcc_txn_rollback_to(t, sp1), 0);
    tu_txn_get_is(t, "apple", "1");
    tu_txn_get_is(t, "new", NULL);
    tu_txn_get_is(t, "zed", "z0");
    tu_txn_get_is(t, "kept", "0");
    /* sp2 lay past sp1: gone with the rollback. */
    assert_int_equal(mvcc_txn_rollback_to(t, sp2), -EINVAL);
    /* Writes after a rollback to a mark are logged as before. */
    tu_txn_set(t, "after", "a");
    assert_int_equal(mvcc_txn_rollback_to(t, sp1), 0);
    tu_txn_get_is(t, "after", NULL);
    tu_txn_set(t, "final", "f");
    assert_int_equal(mvcc_txn_commit(t, NULL), 0);
    tu_client_get_is(k->c, "apple", "1");
    tu_client_get_is(k->c, "zed", "z0");
    tu_client_get_is(k->c, "kept", "0");
    tu_client_get_is(k->c, "final", "f");
    tu_client_get_is(k->c, "new", NULL);
    tu_client_get_is(k->c, "later", NULL);
    tu_client_get_is(k->c, "after", NULL);
}

/* Without a savepoint there is no mark to go back to. */
static void rollback_to_needs_a_mark(void **state)
{
    struct tu_cluster *k = *state;
    struct mvcc_txn *t;
    assert_int_equal(mvcc_txn_begin(k->c, &t), 0);
    tu_txn_set(t, "a", "1");
    assert_int_equal(mvcc_txn_rollback_to(t, 0), -EINVAL);
    tu_txn_get_is(t, "a", "1");
    size_t sp;
    assert_int_equal(mvcc_txn_savepoint(t, &sp), 0);
    assert_int_equal(sp, 0);
    assert_int_equal(mvcc_txn_rollback_to(t, 1), -EINVAL);
    mvcc_txn_rollback(t);
    tu_client_get_is(k->c, "a", NULL);
}

/* Locks taken since the mark stay held (InnoDB's rule), written keys go
 * back to lock-only, and the commit releases them. */
static void locks_survive_rollback_to(void **state)
{
    struct tu_cluster *k = *state;
    struct mvcc_txn *w, *t, *other;
    assert_int_equal(mvcc_txn_begin(k->c, &w), 0);
    tu_txn_set(w, "row", "old");
    assert_int_equal(mvcc_txn_commit(w, NULL), 0);

    assert_int_equal(mvcc_txn_begin(k->c, &t), 0);
    size_t sp;
    assert_int_equal(mvcc_txn_savepoint(t, &sp), 0);
    struct mvcc_key key = {K("row")};
    assert_int_equal(mvcc_txn_lock_keys(t, &key, 1, 0), 0);
    tu_txn_set(t, "row", "new");
    struct mvcc_key key2 = {K("row2")};
    assert_int_equal(mvcc_txn_lock_keys(t, &key2, 1, 0), 0);
    assert_int_equal(mvcc_txn_rollback_to(t, sp), 0);
    assert_true(mvcc_txn_holds_lock(t, K("row")));
    assert_true(mvcc_txn_holds_lock(t, K("row2")));
    tu_txn_get_is(t, "row", "old");

    assert_int_equal(mvcc_txn_begin(k->c, &other), 0);
    assert_int_equal(mvcc_txn_lock_keys(other, &key, 1, 0), MVCC_LOCKED);
    mvcc_txn_rollback(other);

    assert_int_equal(mvcc_txn_commit(t, NULL), 0);
    tu_client_get_is(k->c, "row", "old");
    assert_int_equal(mvcc_txn_begin(k->c, &other), 0);
    assert_int_equal(mvcc_txn_lock_keys(other, &key, 1, 0), 0);
    mvcc_txn_rollback(other);
}

#define MEM(fn) \
    {"mem/" #fn, fn, tu_cluster_setup, tu_cluster_teardown, &tu_kind_mem}

int main(void)
{
    const struct CMUnitTest tests[] = {
        MEM(rollback_to_undoes_later_writes),
        MEM(rollback_to_needs_a_mark),
        MEM(locks_survive_rollback_to),
    };
    return cmocka_run_group_tests_name("libmvcc/savepoint", tests, NULL,
                                       NULL);
}
