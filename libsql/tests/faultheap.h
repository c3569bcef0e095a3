/* faultheap.h: the counting heap of the allocation-failure suites: the
 * fh_fail_at-th allocation (0-based) fails, fh_live counts the blocks not
 * freed yet. Install fh_malloc/fh_realloc/fh_free as libsql's heap.
 */
#ifndef FAULTHEAP_H
#define FAULTHEAP_H

#include <stddef.h>

extern long fh_fail_at; /* the allocation that fails; -1: none */
extern long fh_calls;   /* allocations so far (counted also when none
                           fails) */
extern long fh_live;    /* blocks outstanding */

void *fh_malloc(void *ctx, size_t n);
void *fh_realloc(void *ctx, void *p, size_t n);
void fh_free(void *ctx, void *p);

#endif
