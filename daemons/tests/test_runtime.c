/* test_runtime.c: the loop's polling before sleeping
 * (common/runtime.c, dmn_run_polling): an answer that comes while the
 * loop polls ends the wait as a hit and widens the window; windows that
 * pass without an answer narrow it until polling stops, and a second
 * later it opens at its widest again (a probe); answers that keep coming
 * keep a poll going past its window; a thread allowed one CPU never
 * polls.
 */
#include <errno.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>

#include "runtime.h"

/* One test's loop: a runtime with only its base, a pipe whose read end
 * the loop watches, and what the callbacks saw. The poll reads a fake
 * clock that moves 5 us a reading, and a second a timer tick (test b),
 * so a window runs out after a fixed count of passes however busy the
 * machine is. */
struct fixture {
    struct dmn_runtime rt;
    struct dmn_poll poll;
    int fds[2];              /* the "answer" pipe */
    struct event *rd;        /* reads fds[0] */
    struct event *tick;      /* test b's timer */
    bool waiting;            /* what waiting() answers */
    unsigned calls;          /* waiting() calls */
    unsigned answer_at;      /* the call that writes the answer (0: none) */
    unsigned reads;          /* answers read */
    unsigned last;           /* on_ready: the answer that ends the wait */
    uint64_t answers;        /* what the poll watches */
    unsigned ticks;          /* timer firings */
    unsigned window_at[5];   /* the window at each */
    uint64_t clock;          /* the poll's clock, us: 5 more each reading */
};

static uint64_t fake_clock(void *arg)
{
    struct fixture *f = arg;
    return f->clock += 5;
}

static uint64_t answers(void *arg)
{
    const struct fixture *f = arg;
    return f->answers;
}

static int waiting(void *arg)
{
    struct fixture *f = arg;
    if (++f->calls == f->answer_at)
        assert_int_equal(write(f->fds[1], "a", 1), 1);
    return f->waiting;
}

/* The answer: the wait is over, and the run ends on a later pass (a
 * timeout of 0 would end the pass that read the answer, before the loop
 * could count the hit). */
static void on_answer(evutil_socket_t fd, short what, void *arg)
{
    struct fixture *f = arg;
    (void)what;
    char c;
    assert_int_equal(read(fd, &c, 1), 1);
    f->reads++;
    f->answers++;
    f->waiting = false;
    const struct timeval soon = {0, 1};
    event_base_loopexit(f->rt.base, &soon);
}

/* An answer on every pass (the pipe is never drained) until the last
 * one, which ends the wait; the run ends on a later pass. */
static void on_ready(evutil_socket_t fd, short what, void *arg)
{
    struct fixture *f = arg;
    (void)fd;
    (void)what;
    if (f->reads == f->last)
        return;
    f->reads++;
    f->answers++;
    if (f->reads == f->last) {
        f->waiting = false;
        const struct timeval soon = {0, 1};
        event_base_loopexit(f->rt.base, &soon);
    }
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    struct fixture *f = arg;
    (void)fd;
    (void)what;
    f->clock += 1000000; /* each sleep lasts a second */
    f->window_at[f->ticks] = f->poll.window_us;
    if (++f->ticks == 5)
        event_base_loopexit(f->rt.base, NULL);
}

static void setup(struct fixture *f, event_callback_fn rd, unsigned max_us,
                  unsigned window_us)
{
    memset(f, 0, sizeof *f);
    f->rt.program = "test";
    f->rt.base = event_base_new();
    assert_non_null(f->rt.base);
    assert_int_equal(pipe(f->fds), 0);
    f->rd = event_new(f->rt.base, f->fds[0], EV_READ | EV_PERSIST, rd, f);
    assert_non_null(f->rd);
    assert_int_equal(event_add(f->rd, NULL), 0);
    f->poll = (struct dmn_poll){.waiting = waiting,
                                .arg = f,
                                .answers = answers,
                                .clock_us = fake_clock,
                                .max_us = max_us,
                                .window_us = window_us};
}

static void teardown(struct fixture *f)
{
    event_free(f->rd);
    if (f->tick)
        event_free(f->tick);
    close(f->fds[0]);
    close(f->fds[1]);
    event_base_free(f->rt.base);
}

/* a: the answer comes while the loop polls (written on waiting()'s second
 * call, read by the next pass): a hit, which doubles the window (5 s to
 * the widest, 10 s), and the loop never slept. The window cannot run out
 * first. */
static void answer_while_polling_is_a_hit(void **state)
{
    (void)state;
    struct fixture f;
    setup(&f, on_answer, 10000000u, 5000000u);
    f.waiting = true;
    f.answer_at = 2;
    assert_int_equal(dmn_run_polling(&f.rt, &f.poll), 0);
    assert_int_equal(f.reads, 1);
    assert_int_equal(f.poll.hits, 1);
    assert_int_equal(f.poll.misses, 0);
    assert_int_equal(f.poll.window_us, 10000000u);
    assert_true(f.calls >= 2);
    teardown(&f);
}

/* b: nothing answers (as when the answer needs the core the poll holds);
 * the loop wakes only for a timer, and each sleep lasts a second by the
 * poll's clock. Windows 64, 32 and 16 run out (three misses), each
 * halving the window; 8 is below DMN_POLL_MIN_US, so it closes. A second
 * later (DMN_POLL_PROBE_US) the next wait opens it at 64 again, and the
 * probe's 64 and 32 run out too. */
static void misses_close_the_window_and_a_probe_opens_it(void **state)
{
    (void)state;
    struct fixture f;
    setup(&f, on_answer, 64, 64);
    f.waiting = true;
    const struct timeval ms50 = {0, 50000};
    f.tick = event_new(f.rt.base, -1, EV_PERSIST, on_tick, &f);
    assert_non_null(f.tick);
    assert_int_equal(event_add(f.tick, &ms50), 0);
    assert_int_equal(dmn_run_polling(&f.rt, &f.poll), 0);
    assert_int_equal(f.ticks, 5);
    assert_int_equal(f.reads, 0);
    assert_int_equal(f.poll.hits, 0);
    assert_int_equal(f.poll.misses, 5);
    const unsigned want[5] = {32, 16, 0, 32, 16};
    for (int i = 0; i < 5; i++)
        assert_int_equal(f.window_at[i], want[i]);
    teardown(&f);
}

/* c: an answer is ready on every pass; the poll's window is 16 us, but it
 * reads 2000 answers over 10 ms because each answer restarts the window,
 * and the last ends the wait: a hit, the window doubled, no miss. */
static void answers_keep_the_poll_going(void **state)
{
    (void)state;
    struct fixture f;
    setup(&f, on_ready, 4096, DMN_POLL_MIN_US);
    f.waiting = true;
    f.last = 2000;
    assert_int_equal(write(f.fds[1], "a", 1), 1);
    assert_int_equal(dmn_run_polling(&f.rt, &f.poll), 0);
    assert_int_equal(f.reads, 2000);
    assert_int_equal(f.poll.hits, 1);
    assert_int_equal(f.poll.misses, 0);
    assert_int_equal(f.poll.window_us, 2 * DMN_POLL_MIN_US);
    teardown(&f);
}

/* d: on a thread allowed one CPU the poll would hold the core the answer
 * needs: max_us becomes 0 and the loop sleeps at once, as dmn_run. */
static void one_cpu_never_polls(void **state)
{
    (void)state;
    cpu_set_t all, one;
    assert_int_equal(sched_getaffinity(0, sizeof all, &all), 0);
    size_t cpu = 0;
    while (!CPU_ISSET(cpu, &all))
        cpu++;
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    assert_int_equal(sched_setaffinity(0, sizeof one, &one), 0);
    struct fixture f;
    setup(&f, on_answer, 10000000u, 10000000u);
    f.waiting = true;
    assert_int_equal(write(f.fds[1], "a", 1), 1);
    int rc = dmn_run_polling(&f.rt, &f.poll);
    assert_int_equal(sched_setaffinity(0, sizeof all, &all), 0);
    assert_int_equal(rc, 0);
    assert_int_equal(f.reads, 1);
    assert_int_equal(f.poll.max_us, 0);
    assert_int_equal(f.poll.hits, 0);
    assert_int_equal(f.poll.misses, 0);
    assert_int_equal(f.calls, 0);
    teardown(&f);
}

/* e: max_us 0 is dmn_run: waiting() is never asked. */
static void zero_max_never_polls(void **state)
{
    (void)state;
    struct fixture f;
    setup(&f, on_answer, 0, 0);
    f.waiting = true;
    assert_int_equal(write(f.fds[1], "a", 1), 1);
    assert_int_equal(dmn_run_polling(&f.rt, &f.poll), 0);
    assert_int_equal(f.reads, 1);
    assert_int_equal(f.calls, 0);
    assert_int_equal(f.poll.hits + f.poll.misses, 0);
    teardown(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(answer_while_polling_is_a_hit),
        cmocka_unit_test(misses_close_the_window_and_a_probe_opens_it),
        cmocka_unit_test(answers_keep_the_poll_going),
        cmocka_unit_test(one_cpu_never_polls),
        cmocka_unit_test(zero_max_never_polls),
    };
    return cmocka_run_group_tests_name("daemons/runtime", tests, NULL,
                                       NULL);
}
