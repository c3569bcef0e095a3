/* faultsweep.c: the allocation-failure sweep (faultsweep.h) the fault
 * suites share.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "faultheap.h"
#include "faultsweep.h"
#include "sqlfx.h"

/* One run: the i-th allocation of work fails; whether it was reached. */
static bool run_failing(const char *const *setup, size_t nsetup,
                        const char *work, long i)
{
    struct sql_heap h = {NULL, fh_malloc, fh_realloc, fh_free};
    fh_fail_at = -1;
    fh_calls = 0;
    fh_live = 0;
    sql_heap_set(&h);
    struct sqlfx f;
    struct sqlfx_conn c;
    sqlfx_open(&f, false);
    sqlfx_connect(&f, &c, 1);
    for (size_t k = 0; k < nsetup; k++)
        sqlfx_q(&c, setup[k]);
    fh_fail_at = i;
    fh_calls = 0;
    const char *out = sqlfx_q(&c, work);
    bool reached = fh_calls > i;
    fh_fail_at = -1;
    sqlfx_q(&c, "SELECT 1");
    if (strcmp(c.out, "1") != 0)
        fail_msg("after failing alloc %ld of '%s' (answer '%s'): SELECT 1 "
                 "gave '%s'", i, work, out, c.out);
    sqlfx_disconnect(&c);
    sqlfx_close(&f);
    sql_heap_set(NULL);
    if (fh_live != 0)
        fail_msg("leak: %ld blocks after failing alloc %ld of '%s'", fh_live,
                 i, work);
    return reached;
}

void fh_sweep(const char *const *setup, size_t nsetup,
              const char *const *work, size_t nwork)
{
    for (size_t w = 0; w < nwork; w++) {
        long i = 0;
        while (run_failing(setup, nsetup, work[w], i))
            i++;
        printf("# %-60.60s %ld allocations swept\n", work[w], i);
    }
}
