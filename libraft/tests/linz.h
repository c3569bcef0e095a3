/* linz.h: a linearizability checker for small histories (Wing & Gong's
 * search with Lowe's memoization of (linearized set, state), as in
 * Knossos and Porcupine), used on the simulator's histories of writes and
 * reads (DESIGN.md "Testing") and tested on its own in test_linz.
 */
#ifndef RAFT_TEST_LINZ_H
#define RAFT_TEST_LINZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LINZ_PENDING UINT64_MAX /* ret of an operation never answered */

struct linz_op {
    uint64_t call; /* invocation time (distinct across calls and returns) */
    uint64_t ret;  /* response time, > call; LINZ_PENDING if none */
    int kind;      /* meaning given by the model */
    uint64_t arg;  /* input */
    uint64_t out;  /* output */
};

/* A deterministic sequential specification over a 64-bit state. */
struct linz_model {
    uint64_t init; /* initial state */
    /* Whether op may take effect in state; *next gets the state after. */
    bool (*step)(uint64_t state, const struct linz_op *op, uint64_t *next);
};

enum { LINZ_OK = 0, LINZ_VIOLATION = 1, LINZ_GAVE_UP = 2 };

/* Is there a total order of ops, each placed between its call and return
 * (pending ones anywhere after their call), that the model accepts?
 * LINZ_GAVE_UP after max_steps search steps; *steps (if not NULL) gets
 * the number taken. Returns LINZ_GAVE_UP on allocation failure too. */
int linz_check(const struct linz_model *m, const struct linz_op *ops,
               size_t n, uint64_t max_steps, uint64_t *steps);

/* Models. A register: kind 0 writes arg, kind 1 reads out. A log of
 * unique appends: kind 0 appends at position arg (1-based: the log held
 * arg - 1 entries), kind 1 reads the length out. */
extern const struct linz_model linz_register;
extern const struct linz_model linz_log;
enum { LINZ_WRITE = 0, LINZ_READ = 1 };

#endif
