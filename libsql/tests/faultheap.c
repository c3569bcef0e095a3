/* faultheap.c: the counting heap shared by the allocation-failure suites
 * (faultheap.h).
 */
#include <stdlib.h>

#include "faultheap.h"

long fh_fail_at = -1, fh_calls = 0, fh_live = 0;

void *fh_malloc(void *ctx, size_t n)
{
    (void)ctx;
    if (fh_calls++ == fh_fail_at)
        return NULL;
    void *p = malloc(n);
    if (p)
        fh_live++;
    return p;
}

void *fh_realloc(void *ctx, void *p, size_t n)
{
    (void)ctx;
    if (fh_calls++ == fh_fail_at)
        return NULL;
    void *q = realloc(p, n);
    if (q && !p)
        fh_live++;
    return q;
}

void fh_free(void *ctx, void *p)
{
    (void)ctx;
    if (p)
        fh_live--;
    free(p);
}
