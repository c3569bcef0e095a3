/* cop.c: kvd's Coprocessor method: libsql's evaluator (sql_cop_run) run
 * next to the region's data on a Txn worker, after the same leadership,
 * epoch and read-barrier checks as Scan (service.c routes it there); its
 * answer goes back as the value of the reply's one pair
 * (libregion/DESIGN.md "Cluster transport", libsql/DESIGN.md
 * "Coprocessor").
 */
#include <errno.h>
#include <string.h>

#include <sql.h>

#include "kvd.h"

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
