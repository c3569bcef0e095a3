/* cop.c: kvd's Coprocessor method: libsql's evaluator (sql_cop_run) run
 * next to the region's data on a Txn worker, after the same leadership,
 * epoch and read-barrier checks as Scan (service.c routes it there); its
 * answer goes back as the value of the reply's one pair
 * (libregion/DESIGN.md "Cluster transport", libsql/DESIGN.md
 * "Coprocessor"). Each answer is counted; the debug log shows the counts.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include <sql.h>

#include "log.h"
#include "kvd.h"

/* Since start: answers sent, keys they read, rows (or partial groups)
 * they carried, their bytes. Txn workers run at once: atomics. */
static uint64_t n_answers, n_read, n_rows, n_bytes;

static void count(const uint8_t *resp, size_t resp_len)
{
    uint64_t nread, nrows;
    if (sql_cop_answer_counts(resp, resp_len, &nread, &nrows) != 0)
        return;
    uint64_t a = __atomic_add_fetch(&n_answers, 1, __ATOMIC_RELAXED);
    uint64_t r = __atomic_add_fetch(&n_read, nread, __ATOMIC_RELAXED);
    uint64_t s = __atomic_add_fetch(&n_rows, nrows, __ATOMIC_RELAXED);
    uint64_t b = __atomic_add_fetch(&n_bytes, resp_len, __ATOMIC_RELAXED);
    if (dmn_log_enabled(DMN_LOG_DEBUG))
        dmn_debug("cop: answer read %" PRIu64 " keys, sent %" PRIu64
                  " rows; totals %" PRIu64 " answers, %" PRIu64
                  " keys read, %" PRIu64 " rows sent, %" PRIu64
                  " bytes sent",
                  nread, nrows, a, r, s, b);
}

void kvd_cop_counters(struct kvd_cop_counters *out)
{
    out->answers = __atomic_load_n(&n_answers, __ATOMIC_RELAXED);
    out->keys_read = __atomic_load_n(&n_read, __ATOMIC_RELAXED);
    out->rows_sent = __atomic_load_n(&n_rows, __ATOMIC_RELAXED);
}

int kvd_cop_exec(struct mvcc_store *m, const void *start, size_t start_len,
                 const void *end, size_t end_len, uint64_t ts,
                 const void *req, size_t req_len, struct mvcc_result *res)
{
    uint8_t *resp = NULL;
    size_t resp_len = 0;
    int rc = sql_cop_run(NULL, m, start, start_len, end, end_len, ts, req,
                         req_len, &resp, &resp_len, res);
    if (rc != 0)
        return rc; /* res: the lock in the way, or the detail */
    count(resp, resp_len);
    mvcc_result_reset(res);
    res->pairs = mvcc_malloc(sizeof(*res->pairs));
    uint8_t *key = mvcc_malloc(1);
    if (res->pairs == NULL || key == NULL) {
        mvcc_free(res->pairs);
        mvcc_free(key);
        mvcc_free(resp);
        res->pairs = NULL;
        return -ENOMEM;
    }
    res->pairs_cap = 1;
    res->npairs = 1;
    res->pairs[0] = (struct mvcc_kvpair){.key = key, .key_len = 0,
                                         .value = resp,
                                         .value_len = resp_len};
    return 0;
}
