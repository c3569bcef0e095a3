/* test_release.c: rpc_msg_release frees what pb_release would, with or
 * without nanopb's walk (blob.c): pointer fields at the top and inside
 * by-value submessages (set or not by their has_ flag) one block each,
 * and an array of blocks through pb_release; every pointer is NULL after.
 * The sanitizer build checks that nothing leaks or is freed twice.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "rpc.h"
#include "rpc_test.pb.h"

static pb_bytes_array_t *bytes_of(const char *s)
{
    size_t n = strlen(s);
    pb_bytes_array_t *b = malloc(sizeof *b + n);
    assert_non_null(b);
    b->size = (pb_size_t)n;
    memcpy(b->bytes, s, n);
    return b;
}

static char *text_of(const char *s)
{
    char *t = strdup(s);
    assert_non_null(t);
    return t;
}

/* Pointers two submessages down and at the top: all freed and cleared
 * (the fast path, no pb_release walk). */
static void nested_pointers(void **state)
{
    (void)state;
    rpc_ReleaseMsg m;
    memset(&m, 0, sizeof m);
    m.has_inner = true;
    m.inner.text = text_of("inner");
    m.inner.has_leaf = true;
    m.inner.leaf.b = bytes_of("leaf");
    m.top = bytes_of("top");
    m.n = 7;
    rpc_msg_release(rpc_ReleaseMsg_fields, &m);
    assert_null(m.inner.text);
    assert_null(m.inner.leaf.b);
    assert_null(m.top);
    assert_int_equal(m.n, 7);
    /* twice: nothing left to free */
    rpc_msg_release(rpc_ReleaseMsg_fields, &m);
    assert_null(m.top);
}

/* A submessage whose has_ flag is false still has its pointers freed, as
 * pb_release does. */
static void unflagged_submessage(void **state)
{
    (void)state;
    rpc_ReleaseMsg m;
    memset(&m, 0, sizeof m);
    m.inner.leaf.b = bytes_of("orphan");
    m.inner.text = text_of("orphan");
    rpc_msg_release(rpc_ReleaseMsg_fields, &m);
    assert_null(m.inner.leaf.b);
    assert_null(m.inner.text);
}

/* A set array of byte strings takes pb_release, which frees the nested
 * fields too. */
static void array_takes_the_walk(void **state)
{
    (void)state;
    rpc_ReleaseMsg m;
    memset(&m, 0, sizeof m);
    m.list = malloc(2 * sizeof *m.list);
    assert_non_null(m.list);
    m.list[0] = bytes_of("a");
    m.list[1] = bytes_of("b");
    m.list_count = 2;
    m.has_inner = true;
    m.inner.leaf.b = bytes_of("leaf");
    m.top = bytes_of("top");
    rpc_msg_release(rpc_ReleaseMsg_fields, &m);
    assert_null(m.list);
    assert_null(m.inner.leaf.b);
    assert_null(m.top);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(nested_pointers),
        cmocka_unit_test(unflagged_submessage),
        cmocka_unit_test(array_takes_the_walk),
    };
    return cmocka_run_group_tests_name("librpc/release", tests, NULL, NULL);
}
