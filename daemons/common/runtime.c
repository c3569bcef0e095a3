/* runtime.c: the start-up and shutdown every daemon shares; see runtime.h
 * for the order of calls and docs/daemons.md for what a user sees.
 */
#include "runtime.h"

#include <execinfo.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/thread.h>

#include "datadir.h"

#ifndef __SANITIZE_ADDRESS__
/* A fatal signal: its reason and stack go to the log, then the default
 * action (the handler was reset on entry: re-raising kills the process
 * with the same signal, and a core if enabled). Not built under
 * AddressSanitizer, which reports these itself. */
static void on_fatal(int sig)
{
    dmn_log_fatal_signal(sig);
    raise(sig);
}
#endif

/* Installs on_fatal for the signals that end a process with a bug, on an
 * alternate stack so a stack overflow is logged too. Under AddressSanitizer
 * its own reports are better: left alone. */
static void install_fatal_handlers(void)
{
#ifndef __SANITIZE_ADDRESS__
    static char alt[64 * 1024];
    stack_t ss = {.ss_sp = alt, .ss_size = sizeof(alt), .ss_flags = 0};
    (void)sigaltstack(&ss, NULL);
    void *warm[1];
    (void)backtrace(warm, 1); /* loads libgcc now, not inside the handler */
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_fatal;
    sa.sa_flags = (int)(SA_RESETHAND | SA_ONSTACK);
    sigemptyset(&sa.sa_mask);
    static const int sigs[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
    for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
        (void)sigaction(sigs[i], &sa, NULL);
#endif
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    struct dmn_runtime *rt = arg;
    (void)what;
    rt->stop_signal = (int)sig;
    dmn_info("received %s, stopping", sig == SIGTERM ? "SIGTERM" : "SIGINT");
    event_base_loopexit(rt->base, NULL);
}

int dmn_start(struct dmn_runtime *rt, const struct dmn_cfg_schema *schema,
              void *settings, const struct dmn_common *common, int argc,
              char **argv)
{
    char err[1024];
    enum dmn_cfg_outcome outcome;
    memset(rt, 0, sizeof(*rt));
    rt->program = schema->program;
    rt->lock_fd = -1;

    if (dmn_cfg_load(schema, settings, argc, argv, &outcome, stdout, err,
                     sizeof(err)) != 0) {
        fprintf(stderr, "%s: %s\n", schema->program, err);
        dmn_cfg_free(schema, settings);
        return DMN_EXIT_USAGE;
    }
    if (outcome != DMN_CFG_RUN) {
        if (outcome == DMN_CFG_VERSION)
            printf("%s %s\n", schema->program, DMN_VERSION_STRING);
        dmn_cfg_free(schema, settings);
        return DMN_EXIT_OK;
    }
    if (!common->data_dir) {
        fprintf(stderr, "%s: data-dir: must not be empty\n", schema->program);
        dmn_cfg_free(schema, settings);
        return DMN_EXIT_USAGE;
    }
    int rc = dmn_log_open(common->log_file,
                          (enum dmn_log_level)dmn_log_level_parse(
                              common->log_level),
                          schema->program);
    if (rc != 0) {
        fprintf(stderr, "%s: log.file: cannot open %s: %s\n", schema->program,
                common->log_file, strerror(-rc));
        dmn_cfg_free(schema, settings);
        return DMN_EXIT_FAIL;
    }
    /* A peer that goes away mid-write must not kill the daemon. */
    signal(SIGPIPE, SIG_IGN);
    install_fatal_handlers();

    rt->lock_fd = dmn_datadir_lock(common->data_dir, err, sizeof(err));
    if (rt->lock_fd < 0) {
        dmn_error("%s", err);
        goto fail;
    }
    /* Daemons run worker threads that wake the loop (kvd's transaction
     * workers, pdd's client): libevent must lock before any base exists. */
    if (evthread_use_pthreads() != 0) {
        dmn_error("cannot enable libevent's thread support");
        goto fail;
    }
    rt->base = event_base_new();
    if (!rt->base) {
        dmn_error("cannot create the event loop");
        goto fail;
    }
    rt->sig_term = evsignal_new(rt->base, SIGTERM, on_signal, rt);
    rt->sig_int = evsignal_new(rt->base, SIGINT, on_signal, rt);
    if (!rt->sig_term || !rt->sig_int || evsignal_add(rt->sig_term, NULL) ||
        evsignal_add(rt->sig_int, NULL)) {
        dmn_error("cannot install the SIGTERM/SIGINT handlers");
        goto fail;
    }
    rt->data_dir = common->data_dir;
    rt->pid = (long)getpid();
    dmn_info("%s %s starting, data-dir %s", schema->program,
             DMN_VERSION_STRING, common->data_dir);
    return DMN_CONTINUE;

fail:
    dmn_finish(rt, schema, settings);
    return DMN_EXIT_FAIL;
}

static uint64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static uint64_t poll_now(const struct dmn_poll *p)
{
    return p->clock_us ? p->clock_us(p->arg) : now_us();
}

static bool loop_ended(struct event_base *base)
{
    return event_base_got_exit(base) || event_base_got_break(base);
}

/* Polls while p->waiting, until a window passes without an answer: 1
 * when the wait ended, 2 when the loop did, 0 when the window ran out,
 * -1 when the loop failed. */
static int poll_window(struct event_base *base, struct dmn_poll *p)
{
    uint64_t seen = p->answers(p->arg);
    uint64_t end = poll_now(p) + p->window_us;
    for (;;) {
        if (event_base_loop(base, EVLOOP_NONBLOCK | EVLOOP_ONCE) < 0)
            return -1;
        if (loop_ended(base))
            return 2;
        if (!p->waiting(p->arg))
            return 1;
        uint64_t now = poll_now(p);
        uint64_t got = p->answers(p->arg);
        if (got != seen) {
            seen = got;
            end = now + p->window_us;
        } else if (now >= end) {
            return 0;
        }
    }
}

int dmn_run_polling(struct dmn_runtime *rt, struct dmn_poll *p)
{
    struct event_base *base = rt->base;
    cpu_set_t cpus;
    if (p->max_us > 0 &&
        (sched_getaffinity(0, sizeof cpus, &cpus) != 0 ||
         CPU_COUNT(&cpus) < 2)) {
        dmn_info("%s: one CPU: the loop sleeps while it waits (no polling)",
                 rt->program);
        p->max_us = 0;
    }
    if (p->window_us > p->max_us)
        p->window_us = p->max_us;
    uint64_t closed_at = p->window_us == 0 ? poll_now(p) : 0;
    while (!loop_ended(base)) {
        bool waiting = p->max_us > 0 && p->waiting(p->arg);
        /* A closed window opens at its widest a while after it closed:
         * a probe, which costs one window and its halvings if the
         * contention that closed it is still there. */
        if (waiting && p->window_us == 0 &&
            poll_now(p) - closed_at >= DMN_POLL_PROBE_US)
            p->window_us = p->max_us;
        if (waiting && p->window_us > 0) {
            int r = poll_window(base, p);
            if (r < 0)
                return -1;
            if (r == 2)
                break;
            if (r == 1) { /* widen: the answers came in time */
                p->hits++;
                unsigned w = p->window_us * 2;
                p->window_us = w < p->max_us ? w : p->max_us;
                continue;
            }
            /* narrow: the answer is computed on a core the poll held, or
             * is slow to come anyway */
            p->misses++;
            p->window_us /= 2;
            if (p->window_us < DMN_POLL_MIN_US) {
                p->window_us = 0;
                closed_at = poll_now(p);
            }
        }
        if (event_base_loop(base, EVLOOP_ONCE) < 0)
            return -1;
    }
    return 0;
}

int dmn_run(struct dmn_runtime *rt)
{
    int rc = event_base_dispatch(rt->base);
    return rc < 0 ? -1 : 0;
}

void dmn_stop(struct dmn_runtime *rt)
{
    event_base_loopexit(rt->base, NULL);
}

int dmn_finish(struct dmn_runtime *rt, const struct dmn_cfg_schema *schema,
               void *settings)
{
    if (rt->sig_term)
        event_free(rt->sig_term);
    if (rt->sig_int)
        event_free(rt->sig_int);
    if (rt->base)
        event_base_free(rt->base);
    free(rt->status_detail);
    if (rt->lock_fd >= 0) {
        dmn_datadir_unlock(rt->lock_fd);
        dmn_info("%s stopped", rt->program);
    }
    dmn_log_close();
    dmn_cfg_free(schema, settings);
    memset(rt, 0, sizeof(*rt));
    rt->lock_fd = -1;
    return DMN_EXIT_OK;
}
