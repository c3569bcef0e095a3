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
