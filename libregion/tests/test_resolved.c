/* test_resolved.c: the cluster transport sends a transaction's bypass list
 * with its reads (TxnRequest.resolved_locks, DESIGN.md "Cluster
 * transport"), so a read that pushed a live writer's primary above its ts
 * gets past the writer's secondary lock in one retry: against a fake kvd
 * (librpc on loopback, libmvcc on the memory engine) that honours the
 * field as kvd does, the requests are counted exactly.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>
#include <rpc.h>

#include "client_int.h"
#include "fakeloop.h"

#define GIVE_UP 20 /* BatchGets: past this the read is looping */

struct fake {
    struct mvcc_engine *eng;  /* memory engine */
    struct mvcc_store *store; /* region 1's data, every key */
    struct fakeloop loop;     /* the server's loop, on its thread */
    struct rpc_server *srv;   /* store 1 */
    uint16_t port;            /* its port */
    unsigned gets;            /* BatchGets answered */
    unsigned with_resolved;   /* ... of them naming resolved locks */
    mvcc_ts resolved;         /* the last one named */
    unsigned checks;          /* CheckTxnStatus answered */
};

static pb_bytes_array_t *mk(const void *p, size_t n)
{
    pb_bytes_array_t *b = malloc(sizeof(pb_bytes_array_t) + n);
    b->size = (pb_size_t)n;
    if (n)
        memcpy(b->bytes, p, n);
    return b;
}

static void handler(struct rpc_call *call, const void *reqp, void *ud)
{
    struct fake *f = ud;
    const kv_TxnRequest *req = reqp;
    kv_TxnResponse resp;
    memset(&resp, 0, sizeof resp);
    struct mvcc_result res;
    mvcc_result_init(&res);
    int rc;
    if (rpc_call_method(call) == REGION_METHOD_TXN_BATCH_GET) {
        unsigned n = __atomic_add_fetch(&f->gets, 1, __ATOMIC_SEQ_CST);
        if (req->resolved_locks_count) {
            __atomic_add_fetch(&f->with_resolved, 1, __ATOMIC_SEQ_CST);
            f->resolved = req->resolved_locks[0];
        }
        struct mvcc_key k = {req->keys[0]->bytes, req->keys[0]->size};
        struct mvcc_read_opts ro = {.bypass = req->resolved_locks,
                                    .nbypass = req->resolved_locks_count};
        rc = n > GIVE_UP ? REGION_EINVAL
                         : mvcc_batch_get(f->store, &ro, &k, 1, req->version,
                                          &res);
    } else {
        __atomic_add_fetch(&f->checks, 1, __ATOMIC_SEQ_CST);
        struct mvcc_check_txn_req cr = {
            .primary = req->key->bytes, .primary_len = req->key->size,
            .lock_ts = req->version, .caller_start_ts = req->caller_start_ts,
            .current_ts = req->current_ts,
            .rollback_if_not_exist = req->rollback_if_not_exist};
        rc = mvcc_check_txn_status(f->store, &cr, &res);
    }
    resp.code = rc;
    if (res.npairs) {
        resp.pairs = calloc(1, sizeof *resp.pairs);
        resp.pairs_count = 1;
        resp.pairs[0].key = mk(res.pairs[0].key, res.pairs[0].key_len);
        resp.pairs[0].value = mk(res.pairs[0].value, res.pairs[0].value_len);
    }
    if (res.nlocks) {
        const struct mvcc_lock_info *l = &res.locks[0];
        resp.locks = calloc(1, sizeof *resp.locks);
        resp.locks_count = 1;
        resp.locks[0].key = mk(l->key, l->key_len);
        resp.locks[0].primary = mk(l->primary, l->primary_len);
        resp.locks[0].start_version = l->start_ts;
        resp.locks[0].ttl = l->ttl;
        resp.locks[0].type = (uint32_t)l->type;
        resp.locks[0].min_commit_ts = l->min_commit_ts;
    }
    resp.commit_version = res.commit_ts;
    resp.status = (uint32_t)res.status;
    resp.action = (uint32_t)res.action;
    mvcc_result_reset(&res);
    rpc_call_reply(call, &resp);
    rpc_msg_release(kv_TxnResponse_fields, &resp);
}

/* Region 1 over every key, on store 1, led there, at epoch (1, 1). */
static int r_by_key(void *ctx, const void *key, size_t len,
                    struct region_desc *d, uint64_t *leader)
{
    (void)ctx;
    (void)key;
    (void)len;
    memset(d, 0, sizeof *d);
    d->id = 1;
    d->conf_ver = 1;
    d->version = 1;
    d->stores[d->n_stores++] = 1;
    *leader = 1;
    return 0;
}

static int r_addr(void *ctx, uint64_t id, char *buf, size_t len)
{
    struct fake *f = ctx;
    (void)id;
    snprintf(buf, len, "127.0.0.1:%u", (unsigned)f->port);
    return 0;
}

static void r_inval(void *ctx, uint64_t region, uint64_t store)
{
    (void)ctx;
    (void)region;
    (void)store;
}

static mvcc_ts ts_counter;
static int tso(void *ctx, mvcc_ts *out)
{
    (void)ctx;
    *out = __atomic_add_fetch(&ts_counter, 1, __ATOMIC_SEQ_CST) << 18;
    return 0;
}

/* A writer prewrites "pri" (its primary) and "sec" over a committed
 * "sec" = "old", with a TTL that does not pass, and stops there. A reader
 * that began after the prewrite reads "sec": its Get meets the lock, its
 * CheckTxnStatus pushes the live primary above the read ts (libmvcc puts
 * the writer on the bypass list), and the next Get names the writer in
 * resolved_locks and reads "old". Two Gets, one CheckTxnStatus. */
static void pushed_writer_is_skipped_in_one_retry(void **state)
{
    (void)state;
    signal(SIGPIPE, SIG_IGN);
    struct fake f;
    memset(&f, 0, sizeof f);
    assert_int_equal(mvcc_memengine_create(&f.eng), 0);
    struct mvcc_store_opts so = {0};
    assert_int_equal(mvcc_store_open(f.eng, &so, &f.store), 0);
    fakeloop_init(&f.loop);
    struct rpc_server_options sopt = {.host = "127.0.0.1", .port = 0};
    char err[256];
    assert_int_equal(rpc_server_create(f.loop.base, &sopt, &f.srv, err,
                                       sizeof err),
                     0);
    const uint32_t methods[] = {REGION_METHOD_TXN_BATCH_GET,
                                REGION_METHOD_TXN_CHECK_TXN_STATUS};
    for (int i = 0; i < 2; i++) {
        struct rpc_method rm = {methods[i], "kv.Txn", kv_TxnRequest_fields,
                                sizeof(kv_TxnRequest), kv_TxnResponse_fields,
                                handler, &f};
        assert_int_equal(rpc_server_register(f.srv, &rm), 0);
    }
    f.port = rpc_server_port(f.srv);
    fakeloop_start(&f.loop);

    /* the committed value, then the writer that stops after prewriting */
    struct mvcc_result r;
    mvcc_result_init(&r);
    mvcc_ts t0, t1, wts;
    tso(NULL, &t0);
    tso(NULL, &t1);
    struct mvcc_mutation old = {.op = MVCC_OP_PUT, .key = "sec", .key_len = 3,
                                .value = "old", .value_len = 3};
    struct mvcc_prewrite_req pw0 = {.mutations = &old, .n = 1,
                                    .primary = "sec", .primary_len = 3,
                                    .start_ts = t0, .lock_ttl = 3000};
    assert_int_equal(mvcc_prewrite(f.store, &pw0, &r), 0);
    struct mvcc_key sk = {"sec", 3};
    assert_int_equal(mvcc_commit(f.store, &sk, 1, t0, t1, &r), 0);
    tso(NULL, &wts);
    struct mvcc_mutation w[2] = {
        {.op = MVCC_OP_PUT, .key = "pri", .key_len = 3, .value = "p",
         .value_len = 1},
        {.op = MVCC_OP_PUT, .key = "sec", .key_len = 3, .value = "new",
         .value_len = 3}};
    struct mvcc_prewrite_req pw = {.mutations = w, .n = 2, .primary = "pri",
                                   .primary_len = 3, .start_ts = wts,
                                   .lock_ttl = 600000};
    assert_int_equal(mvcc_prewrite(f.store, &pw, &r), 0);
    mvcc_result_reset(&r);

    struct region_client *rc;
    struct region_client_opts o = {
        .router = {&f, r_by_key, NULL, r_addr, r_inval},
        .call_timeout_ms = 30000, /* generous: a loaded machine */
    };
    assert_int_equal(region_client_create(&o, &rc), 0);
    struct mvcc_client_opts co = {.tso = tso};
    region_client_transport(rc, &co.transport);
    struct mvcc_client *mc;
    assert_int_equal(mvcc_client_create(&co, &mc), 0);
    struct mvcc_txn *t;
    assert_int_equal(mvcc_txn_begin(mc, &t), 0);
    uint8_t *v = NULL;
    size_t vl = 0;
    assert_int_equal(mvcc_txn_get(t, "sec", 3, &v, &vl), 0);
    assert_int_equal(vl, 3);
    assert_memory_equal(v, "old", 3);
    mvcc_free(v);
    assert_int_equal(f.gets, 2);
    assert_int_equal(f.with_resolved, 1);
    assert_int_equal(f.resolved, wts);
    assert_int_equal(f.checks, 1);
    /* the lock is still there: the writer lives, above the reader */
    mvcc_ts now;
    tso(NULL, &now);
    assert_int_equal(mvcc_scan_lock(f.store, now, "sec", 3, "sec\0", 4, 0,
                                    &r),
                     0);
    assert_int_equal(r.nlocks, 1);
    mvcc_result_reset(&r);
    mvcc_txn_rollback(t);
    mvcc_client_destroy(mc);
    region_client_destroy(rc);

    fakeloop_stop(&f.loop);
    rpc_server_destroy(f.srv);
    fakeloop_free_base(&f.loop);
    mvcc_store_close(f.store);
    mvcc_engine_destroy(f.eng);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(pushed_writer_is_skipped_in_one_retry),
    };
    return cmocka_run_group_tests_name("libregion/resolved", tests, NULL,
                                       NULL);
}
