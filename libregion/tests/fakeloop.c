/* fakeloop.c: the event loop of a test's fake kvd (fakeloop.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <unistd.h>

#include <cmocka.h>

#include "fakeloop.h"

static void on_stop(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    event_base_loopbreak(arg);
}

static void *loop_main(void *arg)
{
    struct fakeloop *l = arg;
    event_base_loop(l->base, EVLOOP_NO_EXIT_ON_EMPTY);
    return NULL;
}

static void arm(struct fakeloop *l)
{
    assert_int_equal(pipe(l->stop_fds), 0);
    l->stop_ev = event_new(l->base, l->stop_fds[0], EV_READ, on_stop,
                           l->base);
    assert_non_null(l->stop_ev);
    assert_int_equal(event_add(l->stop_ev, NULL), 0);
}

void fakeloop_init(struct fakeloop *l)
{
    l->base = event_base_new();
    assert_non_null(l->base);
    arm(l);
}

void fakeloop_restart(struct fakeloop *l)
{
    arm(l);
    fakeloop_start(l);
}

void fakeloop_start(struct fakeloop *l)
{
    assert_int_equal(pthread_create(&l->thread, NULL, loop_main, l), 0);
}

void fakeloop_stop(struct fakeloop *l)
{
    assert_int_equal(write(l->stop_fds[1], "x", 1), 1);
    pthread_join(l->thread, NULL);
    event_free(l->stop_ev);
    close(l->stop_fds[0]);
    close(l->stop_fds[1]);
}

void fakeloop_free_base(struct fakeloop *l)
{
    event_base_free(l->base);
}
