/* helpers.h: threads that help a loop thread finish a piece of work it
 * has split itself (kvd's RawGets of one loop iteration read on more than
 * one core: libregion/DESIGN.md "Gets on more than one core").
 */
#ifndef DMN_HELPERS_H
#define DMN_HELPERS_H

#include <pthread.h>
#include <stdint.h>
#include <time.h>

struct dmn_helpers;

/* Starts n helper threads (0: none; run below then calls fn alone).
 * 0, or a negative errno (nothing started). */
int dmn_helpers_start(int n, struct dmn_helpers **out);
/* Stops and joins the helpers; NULL is a no-op. Not during a run. */
void dmn_helpers_stop(struct dmn_helpers *h);

/* Runs fn(arg) on the calling thread and, at the same time, on every
 * helper that wakes while the call is under way; returns once fn has
 * returned on every thread that started it. A helper that wakes after the
 * caller's fn returned does not run it, so fn must be a loop that takes
 * its next piece of work from state shared by all of its runs (an atomic
 * counter) and returns when none is left: then the caller never waits
 * for a helper that is not on a CPU, only for the piece a helper holds.
 * One run at a time (one calling thread); h NULL: fn on the caller. */
void dmn_helpers_run(struct dmn_helpers *h, void (*fn)(void *), void *arg);

/* Timed waits of a daemon's own threads (kvd's PD and deadlock threads,
 * sqld's GC) count on CLOCK_MONOTONIC: a step of the wall clock neither
 * cuts a wait short nor stretches it. dmn_cond_init_monotonic initialises
 * cv for them (0, or pthread_cond_init's code); dmn_monotonic_after is the
 * deadline ms from now for pthread_cond_timedwait on such a cv. */
int dmn_cond_init_monotonic(pthread_cond_t *cv);
struct timespec dmn_monotonic_after(int64_t ms);

#endif /* DMN_HELPERS_H */
