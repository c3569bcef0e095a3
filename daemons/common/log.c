/* log.c: formats each line whole ("2026-11-22T01:02:03.456Z INFO kvd: ...")
 * and writes it with one write(2), so concurrent lines stay intact.
 */
#include "log.h"

#include <errno.h>
#include <execinfo.h>
#include <fcntl.h>
#include <signal.h>
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

/* ---- fatal signals (async-signal-safe: only write(2) and arithmetic) ---- */

struct sbuf {
    char b[256]; /* the line */
    size_t n;    /* bytes in it */
};

static void sb_str(struct sbuf *sb, const char *s)
{
    while (*s && sb->n < sizeof(sb->b) - 1)
        sb->b[sb->n++] = *s++;
}

/* v in decimal, at least width digits (zero-padded) */
static void sb_num(struct sbuf *sb, unsigned long long v, int width)
{
    char d[24];
    int k = 0;
    do {
        d[k++] = (char)('0' + v % 10);
        v /= 10;
    } while (v && k < (int)sizeof(d));
    while (k < width && k < (int)sizeof(d))
        d[k++] = '0';
    while (k > 0 && sb->n < sizeof(sb->b) - 1)
        sb->b[sb->n++] = d[--k];
}

static void write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;
        p += w;
        n -= (size_t)w;
    }
}

/* The civil date of a day count since 1970-01-01 (proleptic Gregorian),
 * by 400-year eras of 146,097 days. */
static void civil_date(long long days, long long *y, unsigned *m, unsigned *d)
{
    days += 719468; /* from 0000-03-01 */
    long long era = (days >= 0 ? days : days - 146096) / 146097;
    unsigned doe = (unsigned)(days - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (long long)yoe + era * 400 + (*m <= 2);
}

static const char *sig_name(int sig)
{
    switch (sig) {
    case SIGSEGV: return "SIGSEGV";
    case SIGBUS: return "SIGBUS";
    case SIGFPE: return "SIGFPE";
    case SIGILL: return "SIGILL";
    case SIGABRT: return "SIGABRT";
    default: return "signal";
    }
}

void dmn_log_fatal_signal(int sig)
{
    int saved = errno;
    struct sbuf sb = {.n = 0};
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    long long y;
    unsigned mo, d;
    long long secs = (long long)ts.tv_sec;
    civil_date(secs / 86400, &y, &mo, &d);
    long long sod = secs % 86400;
    sb_num(&sb, (unsigned long long)y, 4);
    sb_str(&sb, "-");
    sb_num(&sb, mo, 2);
    sb_str(&sb, "-");
    sb_num(&sb, d, 2);
    sb_str(&sb, "T");
    sb_num(&sb, (unsigned long long)(sod / 3600), 2);
    sb_str(&sb, ":");
    sb_num(&sb, (unsigned long long)(sod / 60 % 60), 2);
    sb_str(&sb, ":");
    sb_num(&sb, (unsigned long long)(sod % 60), 2);
    sb_str(&sb, ".");
    sb_num(&sb, (unsigned long long)(ts.tv_nsec / 1000000), 3);
    sb_str(&sb, "Z FATAL ");
    sb_str(&sb, log_who);
    sb_str(&sb, ": pid ");
    sb_num(&sb, (unsigned long long)getpid(), 1);
    sb_str(&sb, ": fatal signal ");
    sb_num(&sb, (unsigned long long)sig, 1);
    sb_str(&sb, " (");
    sb_str(&sb, sig_name(sig));
    sb_str(&sb, "), stack:\n");
    void *frames[64];
    int nf = backtrace(frames, 64);
    write_all(log_fd, sb.b, sb.n);
    backtrace_symbols_fd(frames, nf, log_fd);
    if (log_fd != STDERR_FILENO) {
        write_all(STDERR_FILENO, sb.b, sb.n);
        backtrace_symbols_fd(frames, nf, STDERR_FILENO);
    }
    errno = saved;
}
