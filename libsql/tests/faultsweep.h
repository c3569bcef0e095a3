/* faultsweep.h: the allocation-failure sweep of a workload, as a helper
 * (faultsweep.c): for each statement and every i, a fresh in-memory server
 * set up by the setup statements, the statement run with the i-th libsql
 * allocation failing, then a clean answer to SELECT 1 and no block left
 * once everything is closed (cmocka failures otherwise).
 */
#ifndef FAULTSWEEP_H
#define FAULTSWEEP_H

#include <stddef.h>

void fh_sweep(const char *const *setup, size_t nsetup,
              const char *const *work, size_t nwork);

#endif
