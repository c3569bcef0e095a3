/* test_alloc.c: allocation failures, SQLite-faultsim style: the region
 * cache and the codecs (a Txn request with a spilled value too) run with
 * the i-th allocation failing, for every i
 * until the scenario needs no more; each run ends in a clean result code,
 * and every allocation made is freed. A store's read reply written by
 * hand (region_txn_read_reply) is among them: its buffer made, then
 * grown for a larger page.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "client_int.h"

static long fail_at;   /* allocation number that fails, -1 none */
static long n_allocs;  /* allocations attempted */
static long live;      /* allocations not yet freed */

static void *t_malloc(void *ctx, size_t n)
{
    (void)ctx;
    if (n_allocs++ == fail_at)
        return NULL;
    void *p = malloc(n);
    if (p)
        live++;
    return p;
}

static void *t_realloc(void *ctx, void *p, size_t n)
{
    (void)ctx;
    if (n_allocs++ == fail_at)
        return NULL;
    void *q = realloc(p, n);
    if (q && p == NULL)
        live++;
    return q;
}

static void t_free(void *ctx, void *p)
{
    (void)ctx;
    if (p) {
        live--;
        free(p);
    }
}

static struct region_desc mk(uint64_t id, const char *start, const char *end)
{
    struct region_desc d;
    memset(&d, 0, sizeof d);
    d.id = id;
    d.conf_ver = 1;
    d.version = 1;
    d.start_len = (uint32_t)strlen(start);
    memcpy(d.start, start, d.start_len);
    d.end_len = (uint32_t)strlen(end);
    memcpy(d.end, end, d.end_len);
    d.n_stores = 1;
    d.stores[0] = 1;
    return d;
}

/* 0 when everything worked, else the first error. */
static int scenario(void)
{
    struct region_cache *c = NULL;
    int rc = region_cache_create(&c);
    if (rc != 0)
        return rc;
    char s[8], e[8];
    for (int i = 0; i < 40 && rc == 0; i++) { /* past the first growth */
        s[0] = e[0] = 'a';
        s[1] = (char)('0' + i / 10);
        s[2] = (char)('0' + i % 10);
        e[1] = (char)('0' + (i + 1) / 10);
        e[2] = (char)('0' + (i + 1) % 10);
        s[3] = e[3] = 0;
        struct region_desc d = mk((uint64_t)i + 1, s, e);
        rc = region_cache_update(c, &d, 1);
    }
    if (rc == 0 && region_cache_lookup(c, "a05x", 4, NULL, NULL) != 0)
        rc = REGION_EINTERNAL;
    region_cache_destroy(c);
    if (rc != 0)
        return rc;
    struct region_buf b = {0};
    struct region_desc d = mk(7, "k", "z");
    rc = region__encode_desc(&b, &d, 0);
    if (rc == 0) {
        struct region_desc back;
        uint8_t st;
        rc = region__decode_desc(b.data, b.len, &back, &st);
    }
    region__buf_free(&b);
    if (rc != 0)
        return rc;
    char big[600];
    memset(big, 'v', sizeof big);
    struct region_cmd cmd = {.type = REGION_CMD_CAS, .region_id = 1,
                             .key = (const uint8_t *)"k", .key_len = 1,
                             .value = (const uint8_t *)big,
                             .value_len = sizeof big};
    rc = region__cmd_encode(&b, &cmd); /* grows the buffer twice */
    region__buf_free(&b);
    if (rc != 0)
        return rc;
    /* a Prewrite with a value in the spill and async secondaries */
    static uint8_t huge[70000];
    struct mvcc_mutation muts[2] = {{MVCC_OP_PUT, "a", 1, huge, sizeof huge,
                                     false},
                                    {MVCC_OP_PUT, "b", 1, "v", 1, false}};
    struct mvcc_key secs[1] = {{"b", 1}};
    struct region__txn_args a = {.method = REGION_METHOD_TXN_PREWRITE,
                                 .muts = muts, .nmuts = 2, .primary = "a",
                                 .primary_len = 1, .use_async_commit = true,
                                 .secondaries = secs, .nsecondaries = 1};
    kv_TxnRequest req;
    rc = region__txnreq_build(&req, &a);
    if (rc == 0)
        region__txnreq_free(&req);
    if (rc != 0)
        return rc;
    /* a read's reply: one page into a new buffer, then a page with a
     * spilled value that grows it; a refused growth keeps the buffer */
    struct mvcc_kvpair pairs[2] = {{(uint8_t *)"k1", 2, (uint8_t *)"v", 1},
                                   {(uint8_t *)"k2", 2, huge, sizeof huge}};
    uint8_t *reply = NULL;
    size_t cap = 0, len = 0;
    rc = region_txn_read_reply(pairs, 1, false, &reply, &cap, &len);
    if (rc == 0)
        rc = region_txn_read_reply(pairs, 2, true, &reply, &cap, &len);
    if (rc != 0 && len != 0)
        rc = REGION_EINTERNAL; /* nothing written on a failure */
    region_free(reply);
    return rc;
}

static void every_allocation_fails_once(void **state)
{
    (void)state;
    struct region_heap h = {NULL, t_malloc, t_realloc, t_free};
    region_heap_set(&h);
    fail_at = -1;
    n_allocs = live = 0;
    assert_int_equal(scenario(), 0);
    assert_int_equal(live, 0);
    long total = n_allocs;
    assert_true(total > 3);
    for (long i = 0; i < total; i++) {
        fail_at = i;
        n_allocs = live = 0;
        int rc = scenario();
        assert_int_equal(rc, -ENOMEM);
        assert_int_equal(live, 0);
    }
    region_heap_set(NULL);
}

/* region__grow, which the store's arrays grow by: room kept, doubled
 * (from first, or further for a larger need), and on a failed or
 * impossible allocation NULL with the array and its capacity as they
 * were. */
static void grow_doubles_and_fails_cleanly(void **state)
{
    (void)state;
    struct region_heap h = {NULL, t_malloc, t_realloc, t_free};
    region_heap_set(&h);
    fail_at = -1;
    n_allocs = live = 0;
    size_t cap = 0;
    int *a = region__grow(NULL, &cap, 1, sizeof *a, 4);
    assert_non_null(a);
    assert_int_equal(cap, 4);
    assert_ptr_equal(region__grow(a, &cap, 4, sizeof *a, 4), a);
    assert_int_equal(n_allocs, 1); /* room enough: no allocation */
    for (int i = 0; i < 4; i++)
        a[i] = i;
    a = region__grow(a, &cap, 5, sizeof *a, 4);
    assert_int_equal(cap, 8);
    a = region__grow(a, &cap, 33, sizeof *a, 4);
    assert_int_equal(cap, 64);
    for (int i = 0; i < 4; i++)
        assert_int_equal(a[i], i);
    fail_at = n_allocs;
    assert_null(region__grow(a, &cap, 65, sizeof *a, 4));
    assert_int_equal(cap, 64);
    fail_at = -1;
    assert_null(region__grow(a, &cap, SIZE_MAX, sizeof *a, 4));
    assert_int_equal(cap, 64);
    assert_int_equal(a[3], 3);
    region__free(a);
    assert_int_equal(live, 0);
    region_heap_set(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_allocation_fails_once),
        cmocka_unit_test(grow_doubles_and_fails_cleanly),
    };
    return cmocka_run_group_tests_name("libregion/alloc", tests, NULL, NULL);
}
