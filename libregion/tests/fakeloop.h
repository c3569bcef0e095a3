/* fakeloop.h: the event loop a test's fake kvd runs on (its own thread,
 * stopped through a pipe), shared by test_client.c and test_resolved.c:
 * create the base, register rpc servers on it, start, then stop. */
#ifndef REGION_TEST_FAKELOOP_H
#define REGION_TEST_FAKELOOP_H

#include <pthread.h>

#include <event2/event.h>

struct fakeloop {
    struct event_base *base; /* the servers' loop */
    int stop_fds[2];         /* a byte on [1] breaks the loop */
    struct event *stop_ev;   /* reads [0] */
    pthread_t thread;        /* runs base */
};

/* The base and its stop event (asserts on failure). */
void fakeloop_init(struct fakeloop *l);
/* Run the base on its thread. */
void fakeloop_start(struct fakeloop *l);
/* Break the loop, join the thread, free the stop event and the pipe; the
 * base stays for the caller to free after its servers
 * (fakeloop_free_base). */
void fakeloop_stop(struct fakeloop *l);
void fakeloop_free_base(struct fakeloop *l);
/* After fakeloop_stop (servers changed meanwhile): run the base again. */
void fakeloop_restart(struct fakeloop *l);

#endif
