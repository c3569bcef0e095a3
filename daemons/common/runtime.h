/* runtime.h: what every daemon does around its own services: settings,
 * log, locked data directory, the libevent loop, and a graceful stop on
 * SIGTERM or SIGINT (docs/daemons.md). A daemon's main is:
 *
 *   struct kvd_settings s = {0};          // starts with struct dmn_common
 *   struct dmn_runtime rt;
 *   int rc = dmn_start(&rt, &schema, &s, &s.common, argc, argv);
 *   if (rc != DMN_CONTINUE) return rc;    // help, version or an error
 *   ... start services on rt.base ...
 *   dmn_run(&rt);                         // until a signal or dmn_stop
 *   ... stop services ...
 *   return dmn_finish(&rt, &schema, &s);
 */
#ifndef DMN_RUNTIME_H
#define DMN_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "log.h"

struct event_base;
struct event;

/* Keys every daemon has; the struct starts each daemon's settings. */
struct dmn_common
{
    char *data_dir;  /* data-dir: the directory this daemon owns */
    char *log_level; /* log.level: debug, info, warn or error */
    char *log_file;  /* log.file: a path, or empty for stderr */
};

/* The common keys' schema entries, for a settings struct `type` whose
 * struct dmn_common member is `field`; def_dir is the data-dir default. */
#define DMN_COMMON_KEYS(type, field, def_dir)                              \
    {"data-dir", DMN_CFG_STRING, offsetof(type, field.data_dir), def_dir,  \
     0, 0, NULL, "directory this daemon keeps its data in (locked)"},      \
    {"log.level", DMN_CFG_ENUM, offsetof(type, field.log_level), "info",   \
     0, 0, dmn_log_level_names, "debug, info, warn or error"},             \
    {"log.file", DMN_CFG_STRING, offsetof(type, field.log_file), "", 0, 0, \
     NULL, "append the log to this file instead of stderr"}

#define DMN_CONTINUE (-1) /* dmn_start: carry on; otherwise an exit code */
#define DMN_EXIT_OK 0     /* clean stop, --help, --version */
#define DMN_EXIT_FAIL 1   /* could not start or run */
#define DMN_EXIT_USAGE 2  /* bad flags or configuration */

struct dmn_runtime
{
    const char *program;     /* "kvd" */
    struct event_base *base; /* the daemon's event loop */
    struct event *sig_term;  /* SIGTERM -> graceful stop */
    struct event *sig_int;   /* SIGINT -> graceful stop */
    int lock_fd;             /* flock on data-dir/LOCK */
    int stop_signal;         /* the signal that stopped us, or 0 */
    const char *data_dir;    /* the locked data directory (settings') */
    long pid;                /* our process id */
    char *status_detail;     /* JSON the status probe answers (rpcsvc) */
};

/* Loads the settings (printing help, the version or the error to stdout /
 * stderr), opens the log, locks the data directory and makes the loop.
 * Returns DMN_CONTINUE, or the exit code to return from main; on any
 * return but DMN_CONTINUE everything is already released. */
int dmn_start(struct dmn_runtime *rt,
              const struct dmn_cfg_schema *schema,
              void *settings,
              const struct dmn_common *common,
              int argc,
              char **argv);

/* Runs the loop until SIGTERM/SIGINT or dmn_stop. Returns 0 or -1 when the
 * loop failed. */
int dmn_run(struct dmn_runtime *rt);

/* Polling before sleeping, for dmn_run_polling. While waiting() says the
 * loop waits for answers that are due soon and that no other thread of
 * the process is working for it (sqld: kvd replies to point reads, with
 * no statement at a worker), the loop looks at its sockets without
 * sleeping: an answer that finds the loop awake spares the sender waking
 * a sleeping thread, which costs it more than the polling costs
 * (docs/daemons.md "Polling for an answer"). It polls until the wait
 * ends (a hit: the window doubles, up to max_us) or until window_us pass
 * without a new answer (answers() unchanged: a miss, the window halves,
 * closing below DMN_POLL_MIN_US, and the loop sleeps). Misses are what
 * a poll costs when the answer needs the core it holds (more runnable
 * threads than CPUs), so there the window closes; DMN_POLL_PROBE_US after
 * it closed it opens at max_us again, to see whether that has passed. It
 * never opens on a thread allowed fewer than two CPUs. Everything runs
 * on the loop thread; the counters are read there too. */
#define DMN_POLL_MIN_US 16u
#define DMN_POLL_PROBE_US 1000000u
struct dmn_poll
{
    int (*waiting)(void *arg); /* 1 while answers are due */
    void *arg;                 /* its argument */
    uint64_t (*answers)(void *arg); /* answers so far (a count) */
    uint64_t (*clock_us)(void *arg); /* us, given arg; NULL:
                                        CLOCK_MONOTONIC (tests give
                                        their own) */
    unsigned max_us;           /* the widest window; 0: never poll */
    unsigned window_us;        /* the window now; the run starts with
                                  the caller's, at most max_us */
    uint64_t hits;             /* polls the wait ended in */
    uint64_t misses;           /* windows without an answer: slept */
};

/* Runs the loop as dmn_run does, polling as p says. 0, or -1 when the
 * loop failed. p->max_us is set to 0 first on a thread allowed fewer
 * than two CPUs. */
int dmn_run_polling(struct dmn_runtime *rt, struct dmn_poll *p);

/* Asks the loop to return (from the loop's thread). */
void dmn_stop(struct dmn_runtime *rt);

/* Releases the loop, the lock, the log and the settings; returns the exit
 * code for main (DMN_EXIT_OK). */
int dmn_finish(struct dmn_runtime *rt,
               const struct dmn_cfg_schema *schema,
               void *settings);

/* The project's version, as daemons print it. */
#define DMN_VERSION_STRING "0.1.0"

#endif /* DMN_RUNTIME_H */
