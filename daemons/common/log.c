/* log.c: formats each line whole ("2026-11-22T01:02:03.456Z INFO kvd: ...")
 * and writes it with one write(2), so concurrent lines stay intact.
 */
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

const char *const dmn_log_level_names[] = {"debug", "info", "warn", "error",
                                           NULL};
static const char *const level_tags[] = {"DEBUG", "INFO", "WARN", "ERROR"};

static int log_fd = STDERR_FILENO;
static _Atomic int log_min = DMN_LOG_INFO;
static char log_who[32] = "daemon";

int dmn_log_level_parse(const char *name)
{
    for (int i = 0; dmn_log_level_names[i]; i++)
        if (strcmp(name, dmn_log_level_names[i]) == 0)
            return i;
    return -1;
}

int dmn_log_open(const char *path, enum dmn_log_level min, const char *who)
{
    if (path && *path) {
        int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (fd < 0)
            return -errno;
        if (log_fd != STDERR_FILENO)
            close(log_fd);
        log_fd = fd;
    }
    atomic_store(&log_min, (int)min);
    snprintf(log_who, sizeof(log_who), "%s", who);
    return 0;
}

void dmn_log_close(void)
{
    if (log_fd != STDERR_FILENO) {
        close(log_fd);
        log_fd = STDERR_FILENO;
    }
}

bool dmn_log_enabled(enum dmn_log_level level)
{
    return (int)level >= atomic_load(&log_min);
}

void dmn_logv(enum dmn_log_level level, const char *fmt, va_list ap)
{
    if (!dmn_log_enabled(level))
        return;
    char line[4096];
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    int n = snprintf(line, sizeof(line),
                     "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %-5s %s: ",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                     tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000,
                     level_tags[level], log_who);
    if (n < 0)
        return;
    size_t len = (size_t)n;
    int m = vsnprintf(line + len, sizeof(line) - len - 1, fmt, ap);
    if (m < 0)
        return;
    len += (size_t)m;
    if (len > sizeof(line) - 2)
        len = sizeof(line) - 2; /* truncated: keep the newline */
    line[len++] = '\n';
    const char *p = line;
    while (len > 0) {
        ssize_t w = write(log_fd, p, len);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return;
        }
        p += w;
        len -= (size_t)w;
    }
}

void dmn_log(enum dmn_log_level level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    dmn_logv(level, fmt, ap);
    va_end(ap);
}
