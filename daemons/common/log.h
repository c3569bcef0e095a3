/* log.h: a daemon's log, with levels, to stderr or to a file; one write(2)
 * per line so lines from several threads never interleave. Libraries log
 * through their logger callbacks, which daemons point here
 * (docs/daemons.md, "Logging").
 */
#ifndef DMN_LOG_H
#define DMN_LOG_H

#include <stdarg.h>
#include <stdbool.h>

enum dmn_log_level {
    DMN_LOG_DEBUG,
    DMN_LOG_INFO,
    DMN_LOG_WARN,
    DMN_LOG_ERROR,
};

/* The level names, as the log.level key accepts them, NULL-terminated. */
extern const char *const dmn_log_level_names[];

/* Parses "debug".."error"; returns -1 for anything else. */
int dmn_log_level_parse(const char *name);

/* Sends the log to path (appending; created 0644) or, when path is NULL or
 * empty, to stderr. who prefixes every line ("kvd"). Returns 0 or -errno. */
int dmn_log_open(const char *path, enum dmn_log_level min, const char *who);
void dmn_log_close(void);

/* Cheap check callers make before formatting anything costly. */
bool dmn_log_enabled(enum dmn_log_level level);

void dmn_log(enum dmn_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void dmn_logv(enum dmn_log_level level, const char *fmt, va_list ap);

/* From a handler of a fatal signal (async-signal-safe: no allocation, no
 * stdio): writes "<time> FATAL <who>: pid P: fatal signal N (NAME)" and the
 * stack to the log, and the same to stderr when the log is a file, so a
 * daemon that dies leaves its reason where its operator looks. */
void dmn_log_fatal_signal(int sig);

#define dmn_debug(...) dmn_log(DMN_LOG_DEBUG, __VA_ARGS__)
#define dmn_info(...) dmn_log(DMN_LOG_INFO, __VA_ARGS__)
#define dmn_warn(...) dmn_log(DMN_LOG_WARN, __VA_ARGS__)
#define dmn_error(...) dmn_log(DMN_LOG_ERROR, __VA_ARGS__)

#endif /* DMN_LOG_H */
