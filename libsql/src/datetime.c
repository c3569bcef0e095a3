/* datetime.c: DATE/DATETIME/TIME parsing and printing with MySQL's rules
 * (delimited and packed forms, two-digit years, fraction rounding, the
 * 838-hour TIME range) and day-number arithmetic (proleptic Gregorian, day
 * numbers as MySQL's TO_DAYS). DESIGN.md, "Values and types".
 */
#include <stdio.h>
#include <string.h>

#include "datetime.h"
#include "value.h"

#define US_PER_DAY 86400000000LL

bool sql__is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int sql__days_in_month(int64_t y, int64_t m)
{
    static const int dm[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m < 1 || m > 12)
        return 0;
    return m == 2 && sql__is_leap(y) ? 29 : dm[m - 1];
}

/* Howard Hinnant's days_from_civil, shifted so 1970-01-01 is 719528. */
int64_t sql__days_from_ymd(int64_t y, int64_t m, int64_t d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468 + 719528;
}

void sql__ymd_from_days(int64_t days, int64_t *y, int64_t *m, int64_t *d)
{
    int64_t z = days - 719528 + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t yy = yoe + era * 400;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = yy + (*m <= 2);
}

int sql__weekday(int64_t days)
{
    int64_t w = (days + 5) % 7;
    return (int)(w < 0 ? w + 7 : w);
}

bool sql__date_is_zero(const struct sql_time *t)
{
    return t->year == 0 && t->month == 0 && t->day == 0;
}

bool sql__date_valid(const struct sql_time *t)
{
    if (t->month < 1 || t->month > 12 || t->day < 1)
        return false;
    return t->day <= sql__days_in_month(t->year, t->month);
}

static bool dig(char c)
{
    return c >= '0' && c <= '9';
}

static bool spc(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Fraction digits at s[*i..): microseconds rounded to 6 digits (MySQL 8
 * rounds); *carry set when rounding reaches a whole second. */
static uint32_t parse_frac(const char *s, size_t n, size_t *i, int *fsp,
                           bool *carry)
{
    uint32_t us = 0;
    int nd = 0;
    bool round_up = false;
    while (*i < n && dig(s[*i])) {
        if (nd < 6)
            us = us * 10 + (uint32_t)(s[*i] - '0');
        else if (nd == 6)
            round_up = s[*i] >= '5';
        nd++;
        (*i)++;
    }
    for (int k = nd; k < 6; k++)
        us *= 10;
    if (fsp)
        *fsp = nd > 6 ? 6 : nd;
    *carry = false;
    if (round_up && ++us == 1000000) {
        us = 0;
        *carry = true;
    }
    return us;
}

static int year2(int64_t y, int ndigits)
{
    if (ndigits <= 2)
        return (int)(y < 70 ? y + 2000 : y + 1900);
    return (int)y;
}

/* Add one second to a datetime (fraction rounding carried over). */
static void carry_second(struct sql_time *t)
{
    int64_t us = sql__time_to_us(t, SQL_VT_DATETIME) + 1000000;
    struct sql_time r;
    if (sql__time_from_us(us, SQL_VT_DATETIME, &r) == 0) {
        r.micro = t->micro;
        *t = r;
    }
}

/* sql__time_parse_datetime, also saying how many parts were read (3 for a
 * date alone, 4 and more when a time of day followed); lax skips the
 * calendar check (a TIME read from '2020-02-30 10:00:00' is 10:00:00). */
static int parse_datetime(const char *s, size_t n, struct sql_time *t,
                          int *fsp, int *nparts, bool lax)
{
    memset(t, 0, sizeof *t);
    if (fsp)
        *fsp = 0;
    size_t i = 0;
    while (i < n && spc(s[i]))
        i++;
    size_t start = i;
    size_t run = 0;
    while (i + run < n && dig(s[i + run]))
        run++;
    int64_t part[7] = {0};
    int plen[7] = {0};
    int np = 0;
    bool carry = false;
    int rc = 0;
    if (run == 0)
        return SQL_TIME_BAD;
    if (i + run >= n || s[i + run] == '.' || spc(s[i + run]) ||
        (run >= 12 && s[i + run] != '-')) {
        if (run < 5)
            return SQL_TIME_BAD;
        /* Packed digits: YYMMDD[hhmmss] or YYYYMMDD[hhmmss]. */
        size_t ylen = (run == 8 || run >= 13) ? 4 : 2;
        static const size_t widths[6] = {0, 2, 2, 2, 2, 2};
        size_t pos = i;
        for (int k = 0; k < 6 && pos < i + run; k++) {
            size_t w = k == 0 ? ylen : widths[k];
            if (pos + w > i + run)
                w = i + run - pos;
            int64_t v = 0;
            for (size_t j = 0; j < w; j++)
                v = v * 10 + (s[pos + j] - '0');
            part[k] = v;
            plen[k] = (int)w;
            pos += w;
            np++;
        }
        i += run;
        if (np < 3)
            return SQL_TIME_BAD;
        if (i < n && s[i] == '.' && np >= 6) {
            i++;
            part[6] = parse_frac(s, n, &i, fsp, &carry);
        }
    } else {
        /* Delimited: any punctuation between parts, ' ' or 'T' before the
         * time, '.' before the fraction. */
        while (np < 6) {
            int64_t v = 0;
            int len = 0;
            while (i < n && dig(s[i])) {
                if (len < 9)
                    v = v * 10 + (s[i] - '0');
                len++;
                i++;
            }
            if (len == 0)
                break;
            part[np] = v;
            plen[np] = len;
            np++;
            if (i >= n)
                break;
            if (np == 6) {
                if (s[i] == '.') {
                    i++;
                    part[6] = parse_frac(s, n, &i, fsp, &carry);
                }
                break;
            }
            if (np == 3) {
                if (s[i] != ' ' && s[i] != 'T' && s[i] != 't')
                    break;
                i++;
                while (i < n && spc(s[i]))
                    i++;
                continue;
            }
            char c = s[i];
            if (dig(c) || spc(c) || (unsigned char)c >= 0x80 ||
                (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
                break;
            i++;
            if (np >= 3 && c == '.' && np < 6)
                break;
        }
        if (np < 3)
            return SQL_TIME_BAD;
        part[0] = year2(part[0], plen[0]);
        plen[0] = 4;
    }
    *nparts = np;
    if (plen[0] <= 2)
        part[0] = year2(part[0], plen[0]);
    (void)start;
    if (part[0] > 9999 || part[1] > 12 || part[2] > 31 || part[3] > 23 ||
        part[4] > 59 || part[5] > 59)
        return SQL_TIME_BAD;
    t->year = (uint16_t)part[0];
    t->month = (uint8_t)part[1];
    t->day = (uint8_t)part[2];
    t->hour = (uint32_t)part[3];
    t->minute = (uint8_t)part[4];
    t->second = (uint8_t)part[5];
    t->micro = (uint32_t)part[6];
    if (!lax && !sql__date_is_zero(t) && t->month != 0 && t->day != 0 &&
        !sql__date_valid(t)) {
        memset(t, 0, sizeof *t);
        return SQL_TIME_BAD;
    }
    if (carry)
        carry_second(t);
    while (i < n && spc(s[i]))
        i++;
    if (i < n)
        rc = SQL_TIME_TRUNC;
    return rc;
}

int sql__time_parse_datetime(const char *s, size_t n, struct sql_time *t,
                             int *fsp)
{
    int np = 0;
    return parse_datetime(s, n, t, fsp, &np, false);
}

/* Text left after a TIME that reads as an exponent ("e3", "E-1") makes
 * the whole string no TIME at all in MariaDB ('1e3' is NULL as a TIME,
 * '12e' and '12abc' are 00:00:12 with a warning). */
static bool exponent_at(const char *s, size_t n, size_t i)
{
    if (i >= n || (s[i] != 'e' && s[i] != 'E'))
        return false;
    i++;
    if (i < n && (s[i] == '+' || s[i] == '-'))
        i++;
    return i < n && dig(s[i]);
}

/* A datetime's time of day as a TIME (t zeroed by the caller). */
static void time_of_day(const struct sql_time *dt, struct sql_time *t)
{
    t->hour = dt->hour;
    t->minute = dt->minute;
    t->second = dt->second;
    t->micro = dt->micro;
}

static void clamp_time(struct sql_time *t, int *rc)
{
    if (t->hour > SQL_TIME_MAX_HOUR) {
        t->hour = SQL_TIME_MAX_HOUR;
        t->minute = 59;
        t->second = 59;
        t->micro = 0;
        *rc = SQL_TIME_TRUNC;
    }
}

int sql__time_parse_time(const char *s, size_t n, struct sql_time *t,
                         int *fsp)
{
    memset(t, 0, sizeof *t);
    if (fsp)
        *fsp = 0;
    size_t i = 0;
    int rc = 0;
    bool carry = false;
    while (i < n && spc(s[i]))
        i++;
    bool neg = false;
    if (i < n && s[i] == '-') {
        neg = true;
        i++;
    }
    /* A full datetime in a TIME context keeps its time part. */
    size_t run = 0;
    while (i + run < n && dig(s[i + run]))
        run++;
    if (run == 0)
        return SQL_TIME_BAD;
    if (!neg && i + run < n && s[i + run] == '-') {
        struct sql_time dt;
        int f = 0, np = 0;
        int r = parse_datetime(s, n, &dt, &f, &np, true);
        if (np > 3) {
            if (r == SQL_TIME_BAD)
                return r;
            time_of_day(&dt, t);
            if (fsp)
                *fsp = f;
            return r;
        }
        /* A date without a time of day, or no date: the leading digits
         * are the TIME and the rest is dropped, as MariaDB reads
         * '2020-01-02' (00:20:20, truncated) and '9999-12-31' (none). */
    }
    if (run >= 12 && (i + run == n || s[i + run] == '.')) {
        struct sql_time dt;
        int r = sql__time_parse_datetime(s + i, n - i, &dt, fsp);
        if (r == SQL_TIME_BAD)
            return r;
        time_of_day(&dt, t);
        return r;
    }
    int64_t days = 0;
    int64_t p[3] = {0};
    int np = 0;
    if (i + run < n && s[i + run] == ' ' && i + run + 1 < n &&
        dig(s[i + run + 1])) {
        for (size_t j = 0; j < run; j++)
            if (days < 100000)
                days = days * 10 + (s[i + j] - '0');
        i += run + 1;
    }
    run = 0;
    while (i + run < n && dig(s[i + run]))
        run++;
    if (i + run < n && s[i + run] == ':') {
        while (np < 3) {
            int64_t v = 0;
            int len = 0;
            while (i < n && dig(s[i])) {
                if (v < 100000000)
                    v = v * 10 + (s[i] - '0');
                len++;
                i++;
            }
            if (len == 0)
                break;
            p[np++] = v;
            if (i < n && s[i] == ':' && np < 3)
                i++;
            else
                break;
        }
        if (np == 2 && days == 0) {
            /* HH:MM */
        }
    } else {
        /* [H..]HHMMSS packed from the right. */
        int64_t v = 0;
        for (size_t j = 0; j < run; j++)
            if (v < 100000000000LL)
                v = v * 10 + (s[i + j] - '0');
        i += run;
        if (days != 0) {
            p[0] = v;
            np = 1;
        } else {
            p[0] = v / 10000;
            p[1] = (v / 100) % 100;
            p[2] = v % 100;
            np = 3;
        }
    }
    if (i < n && s[i] == '.') {
        i++;
        t->micro = parse_frac(s, n, &i, fsp, &carry);
    }
    if (p[1] > 59 || p[2] > 59)
        return SQL_TIME_BAD;
    int64_t hours = days * 24 + p[0];
    if (hours > 100000)
        hours = 100000;
    t->hour = (uint32_t)hours;
    t->minute = (uint8_t)p[1];
    t->second = (uint8_t)p[2];
    t->negative = neg;
    if (carry) {
        if (++t->second == 60) {
            t->second = 0;
            if (++t->minute == 60) {
                t->minute = 0;
                t->hour++;
            }
        }
    }
    while (i < n && spc(s[i]))
        i++;
    if (exponent_at(s, n, i))
        return SQL_TIME_BAD;
    if (i < n)
        rc = SQL_TIME_TRUNC;
    clamp_time(t, &rc);
    if (t->hour == 0 && t->minute == 0 && t->second == 0 && t->micro == 0)
        t->negative = false;
    return rc;
}

static int num_datetime(int64_t v, uint32_t micro, struct sql_time *t,
                        bool lax);

int sql__time_from_num_datetime(int64_t v, uint32_t micro, struct sql_time *t)
{
    return num_datetime(v, micro, t, false);
}

int sql__time_from_num_datetime_fuzzy(int64_t v, uint32_t micro,
                                      struct sql_time *t)
{
    return num_datetime(v, micro, t, true);
}

int sql__time_parse_datetime_fuzzy(const char *s, size_t n,
                                   struct sql_time *t, int *fsp)
{
    int np = 0;
    return parse_datetime(s, n, t, fsp, &np, true);
}

static int num_datetime(int64_t v, uint32_t micro, struct sql_time *t,
                        bool lax)
{
    memset(t, 0, sizeof *t);
    if (v < 0)
        return SQL_TIME_BAD;
    if (v == 0) {
        return 0;
    }
    int64_t date = v, tod = 0;
    if (v >= 10000101000000LL) {
        date = v / 1000000;
        tod = v % 1000000;
    } else if (v >= 100000000LL) {
        if (v < 700101000000LL) { /* YYMMDDhhmmss, 20xx */
            date = v / 1000000 + 20000000;
        } else {
            date = v / 1000000 + 19000000;
        }
        tod = v % 1000000;
        if (v < 101000000LL)
            return SQL_TIME_BAD;
    } else if (v < 101) {
        return SQL_TIME_BAD;
    } else if (v <= 691231) {
        date = v + 20000000;
    } else if (v < 700101) {
        return SQL_TIME_BAD;
    } else if (v <= 991231) {
        date = v + 19000000;
    } else if (v < 10000101) {
        return SQL_TIME_BAD;
    }
    if (date > 99991231)
        return SQL_TIME_BAD;
    t->year = (uint16_t)(date / 10000);
    t->month = (uint8_t)((date / 100) % 100);
    t->day = (uint8_t)(date % 100);
    t->hour = (uint32_t)(tod / 10000);
    t->minute = (uint8_t)((tod / 100) % 100);
    t->second = (uint8_t)(tod % 100);
    t->micro = micro;
    if (t->month > 12 || t->day > 31 || t->hour > 23 || t->minute > 59 ||
        t->second > 59 ||
        (!lax && t->month != 0 && t->day != 0 && !sql__date_valid(t))) {
        memset(t, 0, sizeof *t);
        return SQL_TIME_BAD;
    }
    return 0;
}

int sql__time_from_num_time(int64_t v, uint32_t micro, struct sql_time *t)
{
    memset(t, 0, sizeof *t);
    bool neg = v < 0;
    uint64_t m = neg ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    int rc = 0;
    /* MariaDB's number_to_time: a positive number of 8 to 14 digits is a
     * date or datetime (its time of day; 20200102 is 00:00:00, a fraction
     * dropped from a date alone); otherwise [-]HHMMSS, minutes and seconds
     * checked before hours beyond 838 clip. */
    if (!neg && m > 9999999 && m < 99991231235959ULL) {
        struct sql_time dt;
        int r = sql__time_from_num_datetime(v, micro, &dt);
        if (r != 0)
            return r;
        t->hour = dt.hour;
        t->minute = dt.minute;
        t->second = dt.second;
        if (m >= 100000000)
            t->micro = micro;
        return rc;
    }
    uint64_t sec = m % 100, min = (m / 100) % 100, hour = m / 10000;
    if (sec > 59 || min > 59)
        return SQL_TIME_BAD;
    t->hour = (uint32_t)(hour > 100000 ? 100000 : hour);
    t->minute = (uint8_t)min;
    t->second = (uint8_t)sec;
    t->micro = micro;
    t->negative = neg && m != 0;
    clamp_time(t, &rc);
    return rc;
}

size_t sql__time_print(const struct sql_time *t, int vt, int fsp, char *buf)
{
    int n;
    if (vt == SQL_VT_DATE)
        return (size_t)snprintf(buf, 32, "%04u-%02u-%02u", t->year, t->month,
                                t->day);
    if (vt == SQL_VT_TIME)
        n = snprintf(buf, 32, "%s%02u:%02u:%02u", t->negative ? "-" : "",
                     t->hour, t->minute, t->second);
    else
        n = snprintf(buf, 32, "%04u-%02u-%02u %02u:%02u:%02u", t->year,
                     t->month, t->day, t->hour, t->minute, t->second);
    if (fsp > 0) {
        if (fsp > 6)
            fsp = 6;
        char f[8];
        snprintf(f, sizeof f, "%06u", t->micro % 1000000);
        buf[n++] = '.';
        memcpy(buf + n, f, (size_t)fsp);
        n += fsp;
        buf[n] = '\0';
    }
    return (size_t)n;
}

int64_t sql__time_to_int(const struct sql_time *t, int vt)
{
    if (vt == SQL_VT_DATE)
        return (int64_t)t->year * 10000 + t->month * 100 + t->day;
    if (vt == SQL_VT_TIME) {
        int64_t v = (int64_t)t->hour * 10000 + t->minute * 100 + t->second;
        return t->negative ? -v : v;
    }
    return ((int64_t)t->year * 10000 + t->month * 100 + t->day) * 1000000 +
           (int64_t)t->hour * 10000 + t->minute * 100 + t->second;
}

int64_t sql__time_to_us(const struct sql_time *t, int vt)
{
    int64_t tod = (((int64_t)t->hour * 60 + t->minute) * 60 + t->second) *
                      1000000 +
                  t->micro;
    if (vt == SQL_VT_TIME)
        return t->negative ? -tod : tod;
    int64_t days = sql__date_is_zero(t)
                       ? 0
                       : sql__days_from_ymd(t->year, t->month ? t->month : 1,
                                            t->day ? t->day : 1);
    return days * US_PER_DAY + (vt == SQL_VT_DATE ? 0 : tod);
}

int sql__time_from_us(int64_t us, int vt, struct sql_time *t)
{
    memset(t, 0, sizeof *t);
    if (vt == SQL_VT_TIME) {
        bool neg = us < 0;
        uint64_t m = neg ? (uint64_t)0 - (uint64_t)us : (uint64_t)us;
        t->micro = (uint32_t)(m % 1000000);
        m /= 1000000;
        t->second = (uint8_t)(m % 60);
        t->minute = (uint8_t)((m / 60) % 60);
        uint64_t h = m / 3600;
        t->hour = (uint32_t)(h > 100000 ? 100000 : h);
        t->negative = neg;
        int rc = 0;
        clamp_time(t, &rc);
        return rc;
    }
    if (us < 0)
        return SQL_TIME_BAD;
    int64_t days = us / US_PER_DAY, tod = us % US_PER_DAY;
    int64_t y, m, d;
    sql__ymd_from_days(days, &y, &m, &d);
    if (y < 0 || y > 9999 || days < 366)
        return SQL_TIME_BAD;
    t->year = (uint16_t)y;
    t->month = (uint8_t)m;
    t->day = (uint8_t)d;
    if (vt != SQL_VT_DATE) {
        t->micro = (uint32_t)(tod % 1000000);
        tod /= 1000000;
        t->second = (uint8_t)(tod % 60);
        t->minute = (uint8_t)((tod / 60) % 60);
        t->hour = (uint32_t)(tod / 3600);
    }
    return 0;
}

void sql__time_round(struct sql_time *t, int vt, int fsp)
{
    if (fsp >= 6 || fsp < 0)
        return;
    static const uint32_t p10[7] = {1, 10, 100, 1000, 10000, 100000, 1000000};
    uint32_t unit = p10[6 - fsp];
    uint32_t r = (t->micro + unit / 2) / unit * unit;
    if (r < 1000000) {
        t->micro = r;
        return;
    }
    t->micro = 0;
    if (vt == SQL_VT_TIME) {
        int64_t us = sql__time_to_us(t, vt);
        us += t->negative ? -1000000 : 1000000;
        (void)sql__time_from_us(us, vt, t);
    } else if (vt == SQL_VT_DATETIME) {
        carry_second(t);
    }
}
