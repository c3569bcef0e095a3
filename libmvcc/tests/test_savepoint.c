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

static void set(struct mvcc_txn *t, const char *k, const char *v)
{
    assert_int_equal(mvcc_txn_set(t, K(k), K(v)), 0);
}

static void txn_get_is(struct mvcc_txn *t, const char *k, const char *want)
{
    uint8_t *v = NULL;
    size_t vl = 0;
    int rc = mvcc_txn_get(t, K(k), &v, &vl);
    if (want == NULL) {
        assert_int_equal(rc, MVCC_NOTFOUND);
        return;
    }
    assert_int_equal(rc, 0);
    assert_int_equal(vl, strlen(want));
    assert_memory_equal(v, want, vl);
    mvcc_free(v);
}

static void get_is(struct mvcc_client *c, const char *k, const char *want)
{
    struct mvcc_txn *t;
    assert_int_equal(mvcc_txn_begin(c, &t), 0);
    txn_get_is(t, k, want);
    mvcc_txn_rollback(t);
}

/* Writes since the mark go; the ones before stay, whatever key they share
 * with later writes; the commit writes only what is left. */
static void rollback_to_undoes_later_writes(void **state)
{
    struct tu_cluster *k = *state;
    struct mvcc_txn *t;
    assert_int_equal(mvcc_txn_begin(k->c, &t), 0);
    set(t, "kept", "0");
    assert_int_equal(mvcc_txn_set(t, K("apple"), K("1")), 0);
    set(t, "zed", "z0");
    size_t sp1, sp2;
    assert_int_equal(mvcc_txn_savepoint(t, &sp1), 0);
    set(t, "apple", "2");
    set(t, "apple", "3");
    set(t, "new", "n");
    assert_int_equal(mvcc_txn_delete(t, K("zed")), 0);
    assert_int_equal(mvcc_txn_savepoint(t, &sp2), 0);
    set(t, "later", "l");
    txn_get_is(t, "apple", "3");
    txn_get_is(t, "zed", NULL);
    /* To the inner mark first: only "later" goes. */
    assert_int_equal(mvcc_txn_rollback_to(t, sp2), 0);
    txn_get_is(t, "later", NULL);
    txn_get_is(t, "apple", "3");
    /* The same mark again: nothing more to undo. */
    assert_int_equal(mvcc_txn_rollback_to(t, sp2), 0);
    txn_get_is(t, "new", "n");
    assert_int_equal(mvcc_txn_rollback_to(t, sp1), 0);
    txn_get_is(t, "apple", "1");
    txn_get_is(t, "new", NULL);
    txn_get_is(t, "zed", "z0");
    txn_get_is(t, "kept", "0");
    /* sp2 lay past sp1: gone with the rollback. */
    assert_int_equal(mvcc_txn_rollback_to(t, sp2), -EINVAL);
    /* Writes after a rollback to a mark are logged as before. */
    set(t, "after", "a");
    assert_int_equal(mvcc_txn_rollback_to(t, sp1), 0);
    txn_get_is(t, "after", NULL);
    set(t, "final", "f");
    assert_int_equal(mvcc_txn_commit(t, NULL), 0);
    get_is(k->c, "apple", "1");
    get_is(k->c, "zed", "z0");
    get_is(k->c, "kept", "0");
    get_is(k->c, "final", "f");
    get_is(k->c, "new", NULL);
    get_is(k->c, "later", NULL);
    get_is(k->c, "after", NULL);
}

/* Without a savepoint there is no mark to go back to. */
static void rollback_to_needs_a_mark(void **state)
{
    struct tu_cluster *k = *state;
    struct mvcc_txn *t;
    assert_int_equal(mvcc_txn_begin(k->c, &t), 0);
    set(t, "a", "1");
    assert_int_equal(mvcc_txn_rollback_to(t, 0), -EINVAL);
    txn_get_is(t, "a", "1");
    size_t sp;
    assert_int_equal(mvcc_txn_savepoint(t, &sp), 0);
    assert_int_equal(sp, 0);
    assert_int_equal(mvcc_txn_rollback_to(t, 1), -EINVAL);
    mvcc_txn_rollback(t);
    get_is(k->c, "a", NULL);
}

/* Locks taken since the mark stay held (InnoDB's rule), written keys go
 * back to lock-only, and the commit releases them. */
static void locks_survive_rollback_to(void **state)
{
    struct tu_cluster *k = *state;
    struct mvcc_txn *w, *t, *other;
    assert_int_equal(mvcc_txn_begin(k->c, &w), 0);
    set(w, "row", "old");
    assert_int_equal(mvcc_txn_commit(w, NULL), 0);

    assert_int_equal(mvcc_txn_begin(k->c, &t), 0);
    size_t sp;
    assert_int_equal(mvcc_txn_savepoint(t, &sp), 0);
    struct mvcc_key key = {K("row")};
    assert_int_equal(mvcc_txn_lock_keys(t, &key, 1, 0), 0);
    set(t, "row", "new");
    struct mvcc_key key2 = {K("row2")};
    assert_int_equal(mvcc_txn_lock_keys(t, &key2, 1, 0), 0);
    assert_int_equal(mvcc_txn_rollback_to(t, sp), 0);
    assert_true(mvcc_txn_holds_lock(t, K("row")));
    assert_true(mvcc_txn_holds_lock(t, K("row2")));
    txn_get_is(t, "row", "old");

    assert_int_equal(mvcc_txn_begin(k->c, &other), 0);
    assert_int_equal(mvcc_txn_lock_keys(other, &key, 1, 0), MVCC_LOCKED);
    mvcc_txn_rollback(other);

    assert_int_equal(mvcc_txn_commit(t, NULL), 0);
    get_is(k->c, "row", "old");
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
