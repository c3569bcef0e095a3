/* func_date.c: date and time functions: NOW and friends (statement time
 * from the environment, session time zone), parts (YEAR..MICROSECOND,
 * DAYOFWEEK, WEEK with MySQL's eight week modes), DATE_FORMAT and
 * STR_TO_DATE, DATE_ADD/DATE_SUB with every INTERVAL unit (month
 * arithmetic clamps the day), DATEDIFF, TIMEDIFF, TIMESTAMPDIFF,
 * UNIX_TIMESTAMP, FROM_UNIXTIME, EXTRACT. DESIGN.md, "Expressions".
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "datetime.h"
#include "decimal.h"
#include "expr_int.h"
#include "wire.h"

#define US_DAY 86400000000LL
#define EPOCH_DAYS 719528 /* day number of 1970-01-01 */

/* Units, numbered as expr.c's table. */
enum
{
    U_MICROSECOND, U_SECOND, U_MINUTE, U_HOUR, U_DAY, U_WEEK, U_MONTH,
    U_QUARTER, U_YEAR, U_SECOND_MICROSECOND, U_MINUTE_MICROSECOND,
    U_MINUTE_SECOND, U_HOUR_MICROSECOND, U_HOUR_SECOND, U_HOUR_MINUTE,
    U_DAY_MICROSECOND, U_DAY_SECOND, U_DAY_MINUTE, U_DAY_HOUR,
    U_YEAR_MONTH,
};

static const char *const month_names[12] = {
    "January", "February", "March",     "April",   "May",      "June",
    "July",    "August",   "September", "October", "November", "December"};
static const char *const day_names[7] = {"Monday",   "Tuesday", "Wednesday",
                                         "Thursday", "Friday",  "Saturday",
                                         "Sunday"};

/* ---- shared helpers ------------------------------------------------- */

static int64_t local_now_us(struct sql_eval *ev)
{
    if (ev->env == NULL)
        return 0;
    return ev->env->now_us + (int64_t)ev->env->tz_offset_s * 1000000;
}

/* Microseconds since 0000-01-01 of a Unix time in the session zone. */
static int64_t unix_to_local(struct sql_eval *ev, int64_t unix_us)
{
    int64_t off = ev->env ? (int64_t)ev->env->tz_offset_s * 1000000 : 0;
    return unix_us + off + (int64_t)EPOCH_DAYS * US_DAY;
}

static void set_now(struct sql_datum *out, int vt, int64_t local_us,
                    int fsp)
{
    memset(out, 0, sizeof *out);
    if (vt == SQL_VT_TIME) {
        int64_t tod = local_us % US_DAY;
        sql__time_from_us(tod, SQL_VT_TIME, &out->v.t);
    } else {
        sql__time_from_us(local_us + (int64_t)EPOCH_DAYS * US_DAY, vt,
                          &out->v.t);
    }
    out->vt = (uint8_t)vt;
    if (fsp < 0 || fsp > 6)
        fsp = 0;
    /* Truncate to fsp (NOW() is the statement time, not rounded). */
    static const uint32_t p10[7] = {1000000, 100000, 10000, 1000, 100, 10, 1};
    out->v.t.micro = out->v.t.micro / p10[fsp] * p10[fsp];
    out->fsp = (uint8_t)fsp;
}

/* The literal fsp argument of NOW(fsp), CURTIME(fsp). */
static int fsp_arg(const struct sql_expr *e, struct sql_err *err, int *fsp)
{
    *fsp = 0;
    if (e->nargs == 0)
        return 0;
    const struct sql_expr *x = e->args[0];
    if (x->op != EX_LIT || x->lit.vt != SQL_VT_INT)
        return sql__err(err, 1064, "42000",
                        "You have an error in your SQL syntax; check the "
                        "manual that corresponds to your MySQL server "
                        "version for the right syntax to use");
    if (x->lit.v.i > 6 || x->lit.v.i < 0)
        return sql__err(err, 1426, "42000",
                        "Too-big precision %lld specified for '%s'. "
                        "Maximum is 6.",
                        (long long)x->lit.v.i, e->name);
    *fsp = (int)x->lit.v.i;
    return 0;
}

static int check_now(struct sql_expr *e, struct sql_arena *a,
                     struct sql_err *err)
{
    (void)a;
    int fsp, rc = fsp_arg(e, err, &fsp);
    if (rc != 0)
        return rc;
    const char *n = e->name;
    int vt = !strcmp(n, "CURDATE") || !strcmp(n, "CURRENT_DATE") ||
                     !strcmp(n, "UTC_DATE")
                 ? SQL_VT_DATE
             : !strcmp(n, "CURTIME") || !strcmp(n, "CURRENT_TIME") ||
                     !strcmp(n, "UTC_TIME")
                 ? SQL_VT_TIME
                 : SQL_VT_DATETIME;
    sql__set_type(e, vt, fsp);
    e->type.flags |= SQL_COLFLAG_NOT_NULL;
    e->sub = !strncmp(n, "UTC_", 4);
    e->iarg = fsp;
    return 0;
}

static int eval_now(const struct sql_expr *e, struct sql_eval *ev,
                    const struct sql_datum *row, struct sql_datum *out)
{
    (void)row;
    int64_t t = e->sub ? (ev->env ? ev->env->now_us : 0) : local_now_us(ev);
    set_now(out, e->vt, t, (int)e->iarg);
    return 0;
}

/* Argument i as a temporal of class vt; *null when NULL or invalid. */
static int arg_time(const struct sql_expr *e, int i, struct sql_eval *ev,
                    const struct sql_datum *row, int vt, struct sql_datum *v,
                    bool *null)
{
    int rc = sql__arg(e, i, ev, row, v);
    *null = true;
    if (rc != 0 || v->vt == SQL_VT_NULL)
        return rc;
    bool ok;
    struct sql_time t;
    if ((rc = sql__to_temporal(ev, v, vt, &t, &ok)) != 0 || !ok)
        return rc;
    int fsp = v->vt == SQL_VT_DATETIME || v->vt == SQL_VT_TIME ? v->fsp : 0;
    if (v->vt == SQL_VT_STRING) {
        /* the digits written after the point */
        const char *dot = memchr(v->v.s.p, '.', v->v.s.n);
        if (dot) {
            size_t k = 1;
            while ((size_t)(dot - v->v.s.p) + k < v->v.s.n &&
                   dot[k] >= '0' && dot[k] <= '9')
                k++;
            fsp = (int)(k - 1 > 6 ? 6 : k - 1);
        }
    }
    memset(v, 0, sizeof *v);
    v->vt = (uint8_t)vt;
    v->v.t = t;
    v->fsp = (uint8_t)(vt == SQL_VT_DATE ? 0 : fsp);
    *null = false;
    return 0;
}

static int check_date(struct sql_expr *e, struct sql_arena *a,
                      struct sql_err *err)
{
    (void)a;
    (void)err;
    sql__set_type(e, SQL_VT_DATE, 0);
    return 0;
}

static int eval_date(const struct sql_expr *e, struct sql_eval *ev,
                     const struct sql_datum *row, struct sql_datum *out)
{
    bool null;
    int rc = arg_time(e, 0, ev, row, SQL_VT_DATE, out, &null);
    if (null)
        sql__datum_null(out);
    return rc;
}

static int check_time(struct sql_expr *e, struct sql_arena *a,
                      struct sql_err *err)
{
    (void)a;
    (void)err;
    int fsp = e->args[0]->vt == SQL_VT_DATETIME ||
                      e->args[0]->vt == SQL_VT_TIME
                  ? e->args[0]->type.dec
                  : 0;
    sql__set_type(e, SQL_VT_TIME, fsp > 0 ? fsp : 0);
    return 0;
}

static int eval_time(const struct sql_expr *e, struct sql_eval *ev,
                     const struct sql_datum *row, struct sql_datum *out)
{
    bool null;
    int rc = arg_time(e, 0, ev, row, SQL_VT_TIME, out, &null);
    if (null)
        sql__datum_null(out);
    return rc;
}

/* ---- weeks (MySQL's week modes) --------------------------------------- */

#define WEEK_MONDAY_FIRST 1
#define WEEK_YEAR 2
#define WEEK_FIRST_WEEKDAY 4

static int days_in_year(int64_t y)
{
    return sql__is_leap(y) ? 366 : 365;
}

/* 0 = Monday.. (sunday_first: 0 = Sunday..) */
static int weekday_of(int64_t daynr, bool sunday_first)
{
    return (int)((daynr + 5 + (sunday_first ? 1 : 0)) % 7);
}

static int calc_week(const struct sql_time *t, int behaviour, int64_t *year)
{
    int64_t daynr = sql__days_from_ymd(t->year, t->month, t->day);
    int64_t first = sql__days_from_ymd(t->year, 1, 1);
    bool monday_first = behaviour & WEEK_MONDAY_FIRST;
    bool week_year = behaviour & WEEK_YEAR;
    bool first_weekday = behaviour & WEEK_FIRST_WEEKDAY;
    int wd = weekday_of(first, !monday_first);
    *year = t->year;
    if (t->month == 1 && t->day <= 7 - wd) {
        if (!week_year &&
            ((first_weekday && wd != 0) || (!first_weekday && wd >= 4)))
            return 0;
        week_year = true;
        (*year)--;
        int diy = days_in_year(*year);
        first -= diy;
        wd = (wd + 53 * 7 - diy) % 7;
    }
    int64_t days;
    if ((first_weekday && wd != 0) || (!first_weekday && wd >= 4))
        days = daynr - (first + (7 - wd));
    else
        days = daynr - (first - wd);
    if (week_year && days >= 52 * 7) {
        wd = (wd + days_in_year(*year)) % 7;
        if ((!first_weekday && wd < 4) || (first_weekday && wd == 0)) {
            (*year)++;
            return 1;
        }
    }
    return (int)(days / 7 + 1);
}

static int week_mode(int64_t mode)
{
    int f = (int)(mode & 7);
    if (!(f & WEEK_MONDAY_FIRST))
        f ^= WEEK_FIRST_WEEKDAY;
    return f;
}

/* ---- parts ------------------------------------------------------------ */

enum
{
    P_YEAR, P_MONTH, P_DAY, P_HOUR, P_MINUTE, P_SECOND, P_MICROSECOND,
    P_DAYOFWEEK, P_WEEKDAY, P_DAYOFYEAR, P_QUARTER, P_WEEK, P_DAYNAME,
    P_MONTHNAME, P_TO_DAYS, P_LAST_DAY, P_TIME_TO_SEC, P_YEARWEEK,
    P_WEEKOFYEAR,
};

static const struct
{
    const char *name; /* function */
    int part;         /* P_* */
} parts[] = {
    {"YEAR", P_YEAR},          {"MONTH", P_MONTH},
    {"DAY", P_DAY},            {"DAYOFMONTH", P_DAY},
    {"HOUR", P_HOUR},          {"MINUTE", P_MINUTE},
    {"SECOND", P_SECOND},      {"MICROSECOND", P_MICROSECOND},
    {"DAYOFWEEK", P_DAYOFWEEK}, {"WEEKDAY", P_WEEKDAY},
    {"DAYOFYEAR", P_DAYOFYEAR}, {"QUARTER", P_QUARTER},
    {"WEEK", P_WEEK},          {"DAYNAME", P_DAYNAME},
    {"MONTHNAME", P_MONTHNAME}, {"TO_DAYS", P_TO_DAYS},
    {"LAST_DAY", P_LAST_DAY},  {"TIME_TO_SEC", P_TIME_TO_SEC},
    {"YEARWEEK", P_YEARWEEK},  {"WEEKOFYEAR", P_WEEKOFYEAR},
};

static int check_part(struct sql_expr *e, struct sql_arena *a,
                      struct sql_err *err)
{
    (void)a;
    (void)err;
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)
        if (!strcmp(parts[i].name, e->name))
            e->sub = parts[i].part;
    if (e->sub == P_DAYNAME || e->sub == P_MONTHNAME)
        sql__set_type(e, SQL_VT_STRING, 0);
    else if (e->sub == P_LAST_DAY)
        sql__set_type(e, SQL_VT_DATE, 0);
    else
        sql__set_type(e, SQL_VT_INT, 0);
    return 0;
}

static int eval_part(const struct sql_expr *e, struct sql_eval *ev,
                     const struct sql_datum *row, struct sql_datum *out)
{
    bool null;
    struct sql_datum v;
    int p = e->sub;
    bool timey = p == P_HOUR || p == P_MINUTE || p == P_SECOND ||
                 p == P_MICROSECOND || p == P_TIME_TO_SEC;
    int vt = timey ? SQL_VT_TIME : SQL_VT_DATETIME;
    int rc = sql__arg(e, 0, ev, row, &v);
    if (rc != 0)
        return rc;
    if (timey && (v.vt == SQL_VT_DATETIME || v.vt == SQL_VT_DATE))
        vt = SQL_VT_DATETIME;
    if ((rc = arg_time(e, 0, ev, row, vt, &v, &null)) != 0)
        return rc;
    if (null) {
        sql__datum_null(out);
        return 0;
    }
    const struct sql_time *t = &v.v.t;
    bool zero_date = !timey && (t->month == 0 || t->day == 0);
    if (zero_date && p != P_YEAR && p != P_MONTH && p != P_DAY) {
        sql__datum_null(out);
        return 0;
    }
    int64_t r = 0, y;
    int64_t daynr = zero_date ? 0
                              : sql__days_from_ymd(t->year, t->month, t->day);
    switch (p) {
    case P_YEAR:
        r = t->year;
        break;
    case P_MONTH:
        r = t->month;
        break;
    case P_DAY:
        r = t->day;
        break;
    case P_HOUR:
        r = t->hour;
        break;
    case P_MINUTE:
        r = t->minute;
        break;
    case P_SECOND:
        r = t->second;
        break;
    case P_MICROSECOND:
        r = t->micro;
        break;
    case P_DAYOFWEEK:
        r = weekday_of(daynr, true) + 1;
        break;
    case P_WEEKDAY:
        r = weekday_of(daynr, false);
        break;
    case P_DAYOFYEAR:
        r = daynr - sql__days_from_ymd(t->year, 1, 1) + 1;
        break;
    case P_QUARTER:
        r = (t->month + 2) / 3;
        break;
    case P_WEEK:
    case P_WEEKOFYEAR: {
        int64_t mode = p == P_WEEKOFYEAR ? 3 : 0;
        if (p == P_WEEK && e->nargs > 1) {
            struct sql_datum m;
            if ((rc = sql__arg(e, 1, ev, row, &m)) != 0)
                return rc;
            if (m.vt == SQL_VT_NULL) {
                sql__datum_null(out);
                return 0;
            }
            sql__to_int(ev, &m, &mode);
        }
        r = calc_week(t, week_mode(mode), &y);
        break;
    }
    case P_YEARWEEK: {
        int64_t mode = 0;
        if (e->nargs > 1) {
            struct sql_datum m;
            if ((rc = sql__arg(e, 1, ev, row, &m)) != 0)
                return rc;
            sql__to_int(ev, &m, &mode);
        }
        int w = calc_week(t, week_mode(mode) | WEEK_YEAR, &y);
        r = y * 100 + w;
        break;
    }
    case P_DAYNAME: {
        const char *n = day_names[weekday_of(daynr, false)];
        return sql__ret_str(ev, out, n, strlen(n),
                            SQL_COLL_UTF8MB4_GENERAL_CI);
    }
    case P_MONTHNAME: {
        const char *n = month_names[t->month - 1];
        return sql__ret_str(ev, out, n, strlen(n),
                            SQL_COLL_UTF8MB4_GENERAL_CI);
    }
    case P_TO_DAYS:
        r = daynr;
        break;
    case P_LAST_DAY:
        memset(out, 0, sizeof *out);
        out->vt = SQL_VT_DATE;
        out->v.t.year = t->year;
        out->v.t.month = t->month;
        out->v.t.day = (uint8_t)sql__days_in_month(t->year, t->month);
        return 0;
    case P_TIME_TO_SEC:
        r = ((int64_t)t->hour * 60 + t->minute) * 60 + t->second;
        if (t->negative)
            r = -r;
        break;
    default:
        break;
    }
    sql__datum_int(out, r);
    return 0;
}

static int check_from_days(struct sql_expr *e, struct sql_arena *a,
                           struct sql_err *err)
{
    (void)a;
    (void)err;
    sql__set_type(e, SQL_VT_DATE, 0);
    return 0;
}

static int eval_from_days(const struct sql_expr *e, struct sql_eval *ev,
                          const struct sql_datum *row, struct sql_datum *out)
{
    struct sql_datum v;
    int rc = sql__arg(e, 0, ev, row, &v);
    if (rc != 0 || v.vt == SQL_VT_NULL) {
        sql__datum_null(out);
        return rc;
    }
    int64_t d;
    sql__to_int(ev, &v, &d);
    memset(out, 0, sizeof *out);
    out->vt = SQL_VT_DATE;
    if (d < 366 || d > 3652424) /* 0000-00-00 below year 1, as MySQL */
        return 0;
    int64_t y, m, dd;
    sql__ymd_from_days(d, &y, &m, &dd);
    out->v.t.year = (uint16_t)y;
    out->v.t.month = (uint8_t)m;
    out->v.t.day = (uint8_t)dd;
    return 0;
}

static int eval_sec_to_time(const struct sql_expr *e, struct sql_eval *ev,
                            const struct sql_datum *row,
                            struct sql_datum *out)
{
    struct sql_datum v;
    int rc = sql__arg(e, 0, ev, row, &v);
    if (rc != 0 || v.vt == SQL_VT_NULL) {
        sql__datum_null(out);
        return rc;
    }
    double s;
    sql__to_double(ev, &v, &s);
    if (!(fabs(s) < 1e12))
        s = s < 0 ? -1e12 : 1e12;
    int64_t us = (int64_t)llround(s * 1e6);
    memset(out, 0, sizeof *out);
    out->vt = SQL_VT_TIME;
    if (sql__time_from_us(us, SQL_VT_TIME, &out->v.t) != 0)
        sql__warn(ev, SQL_ER_TRUNCATED_WRONG_VALUE,
                  "Truncated incorrect time value: '%.17g'", s);
    out->fsp = e->type.dec > 0 ? (uint8_t)e->type.dec : 0;
    return 0;
}

static int check_sec_to_time(struct sql_expr *e, struct sql_arena *a,
                             struct sql_err *err)
{
    (void)a;
    (void)err;
    int d = e->args[0]->vt == SQL_VT_INT || e->args[0]->vt == SQL_VT_UINT
                ? 0
                : (e->args[0]->type.dec > 0 && e->args[0]->type.dec <= 6
                       ? e->args[0]->type.dec
                       : e->args[0]->vt == SQL_VT_DECIMAL ? 0 : 6);
    sql__set_type(e, SQL_VT_TIME, d);
    return 0;
}

static int eval_makedate(const struct sql_expr *e, struct sql_eval *ev,
                         const struct sql_datum *row, struct sql_datum *out)
{
    struct sql_datum v[2];
    bool null;
    int rc = sql__args(e, ev, row, v, &null);
    if (rc != 0 || null) {
        sql__datum_null(out);
        return rc;
    }
    int64_t y, doy;
    sql__to_int(ev, &v[0], &y);
    sql__to_int(ev, &v[1], &doy);
    if (doy <= 0 || y < 0 || y > 9999) {
        sql__datum_null(out);
        return 0;
    }
    if (y < 70)
        y += 2000;
    else if (y < 100)
        y += 1900;
    int64_t d = sql__days_from_ymd(y, 1, 1) + doy - 1;
    int64_t yy, mm, dd;
    sql__ymd_from_days(d, &yy, &mm, &dd);
    if (yy > 9999) {
        sql__datum_null(out);
        return 0;
    }
    memset(out, 0, sizeof *out);
    out->vt = SQL_VT_DATE;
    out->v.t.year = (uint16_t)yy;
    out->v.t.month = (uint8_t)mm;
    out->v.t.day = (uint8_t)dd;
    return 0;
}

static int eval_maketime(const struct sql_expr *e, struct sql_eval *ev,
                         const struct sql_datum *row, struct sql_datum *out)
{
    struct sql_datum v[3];
    bool null;
    int rc = sql__args(e, ev, row, v, &null);
    if (rc != 0 || null) {
        sql__datum_null(out);
        return rc;
    }
    int64_t h, m;
    double s;
    sql__to_int(ev, &v[0], &h);
    sql__to_int(ev, &v[1], &m);
    sql__to_double(ev, &v[2], &s);
    if (m < 0 || m > 59 || s < 0 || s >= 60) {
        sql__datum_null(out);
        return 0;
    }
    memset(out, 0, sizeof *out);
    out->vt = SQL_VT_TIME;
    bool neg = h < 0;
    uint64_t ah = neg ? (uint64_t)0 - (uint64_t)h : (uint64_t)h;
    out->v.t.negative = neg;
    out->v.t.hour = (uint32_t)(ah > 838 ? 838 : ah);
    out->v.t.minute = (uint8_t)(ah > 838 ? 59 : m);
    out->v.t.second = (uint8_t)(ah > 838 ? 59 : (int)s);
    out->v.t.micro = ah > 838 ? 0
                              : (uint32_t)llround((s - floor(s)) * 1e6);
    if (ah > 838)
        sql__warn(ev, SQL_ER_TRUNCATED_WRONG_VALUE,
                  "Truncated incorrect time value: '%lld:%02lld:%02d'",
                  (long long)h, (long long)m, (int)s);
    out->fsp = e->type.dec > 0 ? (uint8_t)e->type.dec : 0;
    return 0;
}

static int check_maketime(struct sql_expr *e, struct sql_arena *a,
                          struct sql_err *err)
{
    (void)a;
    (void)err;
    int d = e->args[2]->vt == SQL_VT_INT || e->args[2]->vt == SQL_VT_UINT
                ? 0
                : (e->args[2]->type.dec > 0 && e->args[2]->type.dec <= 6
                       ? e->args[2]->type.dec
                       : 0);
    sql__set_type(e, SQL_VT_TIME, d);
    return 0;
}

/* ---- intervals and date arithmetic --------------------------------- */

struct interval
{
    int64_t months; /* whole months */
    int64_t us;     /* microseconds (days included) */
};

/* Parse the interval value v for unit into iv; false when malformed. */
static bool parse_interval(struct sql_eval *ev, const struct sql_datum *v,
                           int unit, struct interval *iv)
{
    iv->months = 0;
    iv->us = 0;
    static const int64_t mult[] = {1, 1000000, 60000000, 3600000000LL,
                                   US_DAY, 7 * US_DAY};
    if (unit <= U_YEAR) {
        if (unit == U_SECOND && v->vt != SQL_VT_INT && v->vt != SQL_VT_UINT) {
            double s;
            sql__to_double(ev, v, &s);
            if (!(fabs(s) < 1e13))
                return false;
            iv->us = (int64_t)llround(s * 1e6);
            return true;
        }
        int64_t n;
        if (v->vt == SQL_VT_STRING) {
            /* the integer prefix of the text (MySQL reads '1 day' as 1) */
            double d;
            bool clean;
            sql__str_to_double(v->v.s.p, v->v.s.n, &d, &clean);
            if (!(fabs(d) < 1e15))
                return false;
            n = (int64_t)d;
        } else {
            sql__to_int(ev, v, &n);
        }
        if (n > 100000000000LL || n < -100000000000LL)
            return false;
        if (unit <= U_WEEK)
            iv->us = n * mult[unit];
        else if (unit == U_MONTH)
            iv->months = n;
        else if (unit == U_QUARTER)
            iv->months = n * 3;
        else
            iv->months = n * 12;
        return true;
    }
    /* Compound units: numbers separated by anything, aligned right. */
    static const struct
    {
        int n;           /* parts */
        int first;       /* index of the first part in y,mo,d,h,mi,s,us */
    } shape[] = {
        [U_SECOND_MICROSECOND] = {2, 5}, [U_MINUTE_MICROSECOND] = {3, 4},
        [U_MINUTE_SECOND] = {2, 4},      [U_HOUR_MICROSECOND] = {4, 3},
        [U_HOUR_SECOND] = {3, 3},        [U_HOUR_MINUTE] = {2, 3},
        [U_DAY_MICROSECOND] = {5, 2},    [U_DAY_SECOND] = {4, 2},
        [U_DAY_MINUTE] = {3, 2},         [U_DAY_HOUR] = {2, 2},
        [U_YEAR_MONTH] = {2, 0},
    };
    const char *p;
    size_t n;
    if (sql__to_str(ev, v, &p, &n) != 0)
        return false;
    size_t i = 0;
    while (i < n && (p[i] == ' ' || p[i] == '\t'))
        i++;
    bool neg = false;
    if (i < n && p[i] == '-') {
        neg = true;
        i++;
    }
    int64_t vals[8];
    int nv = 0;
    while (i < n && nv < 8) {
        if (p[i] < '0' || p[i] > '9') {
            i++;
            continue;
        }
        int64_t x = 0;
        while (i < n && p[i] >= '0' && p[i] <= '9') {
            if (x < 1000000000000LL)
                x = x * 10 + (p[i] - '0');
            i++;
        }
        vals[nv++] = x;
    }
    int want = shape[unit].n;
    if (nv == 0 || nv > want)
        return false;
    int64_t f[7] = {0};
    for (int k = 0; k < nv; k++)
        f[shape[unit].first + (want - nv) + k] = vals[k];
    iv->months = f[0] * 12 + f[1];
    iv->us = f[2] * US_DAY + f[3] * 3600000000LL + f[4] * 60000000LL +
             f[5] * 1000000 + f[6];
    if (neg) {
        iv->months = -iv->months;
        iv->us = -iv->us;
    }
    return true;
}

static bool unit_has_time(int unit)
{
    return !(unit == U_DAY || unit == U_WEEK || unit == U_MONTH ||
             unit == U_QUARTER || unit == U_YEAR || unit == U_YEAR_MONTH);
}

static int check_date_add(struct sql_expr *e, struct sql_arena *a,
                          struct sql_err *err)
{
    (void)a;
    (void)err;
    if (e->op == EX_FUNC) {
        e->neg = !strcmp(e->name, "DATE_SUB") || !strcmp(e->name, "SUBDATE");
        if (!e->iarg) /* ADDDATE(d, n): days */
            e->sub = U_DAY;
    }
    int avt = e->args[0]->vt;
    int fsp = e->args[0]->type.dec > 0 ? e->args[0]->type.dec : 0;
    if (e->sub == U_MICROSECOND || e->sub == U_SECOND_MICROSECOND ||
        e->sub == U_MINUTE_MICROSECOND || e->sub == U_HOUR_MICROSECOND ||
        e->sub == U_DAY_MICROSECOND)
        fsp = 6;
    if (avt == SQL_VT_DATE && !unit_has_time(e->sub))
        sql__set_type(e, SQL_VT_DATE, 0);
    else if (avt == SQL_VT_DATE || avt == SQL_VT_DATETIME)
        sql__set_type(e, SQL_VT_DATETIME, fsp);
    else if (avt == SQL_VT_TIME)
        sql__set_type(e, SQL_VT_TIME, fsp);
    else {
        /* Strings and others: a string result in MySQL, whose text is
         * the date or datetime. */
        sql__set_type(e, SQL_VT_STRING, 0);
        e->vt = EX_VT_ANY;
    }
    return 0;
}

static int overflow(struct sql_eval *ev, struct sql_datum *out)
{
    sql__warn(ev, 1441, "Datetime function: datetime field overflow");
    sql__datum_null(out);
    return 0;
}

static int eval_date_add(const struct sql_expr *e, struct sql_eval *ev,
                         const struct sql_datum *row, struct sql_datum *out)
{
    struct sql_datum v, n;
    int rc = sql__arg(e, 0, ev, row, &v);
    if (rc != 0 || v.vt == SQL_VT_NULL) {
        sql__datum_null(out);
        return rc;
    }
    if ((rc = sql__arg(e, 1, ev, row, &n)) != 0)
        return rc;
    if (n.vt == SQL_VT_NULL) {
        sql__datum_null(out);
        return 0;
    }
    struct interval iv;
    if (!parse_interval(ev, &n, e->sub, &iv)) {
        sql__datum_null(out);
        return 0;
    }
    if (e->neg) {
        iv.months = -iv.months;
        iv.us = -iv.us;
    }
    int vt = v.vt;
    bool had_time = false;
    if (vt == SQL_VT_STRING || vt == SQL_VT_INT || vt == SQL_VT_UINT ||
        vt == SQL_VT_DOUBLE || vt == SQL_VT_DECIMAL) {
        bool null;
        if (vt == SQL_VT_STRING) {
            struct sql_time tt;
            int r = sql__time_parse_datetime(v.v.s.p, v.v.s.n, &tt, NULL);
            had_time = r != SQL_TIME_BAD &&
                       (memchr(v.v.s.p, ':', v.v.s.n) != NULL ||
                        v.v.s.n > 10);
        } else {
            int64_t iv2;
            sql__to_int(NULL, &v, &iv2);
            had_time = iv2 > 99991231;
        }
        if ((rc = arg_time(e, 0, ev, row, SQL_VT_DATETIME, &v, &null)) != 0)
            return rc;
        if (null) {
            sql__datum_null(out);
            return 0;
        }
        vt = had_time || unit_has_time(e->sub) ? SQL_VT_DATETIME
                                               : SQL_VT_DATE;
    } else if (vt == SQL_VT_DATE && unit_has_time(e->sub)) {
        vt = SQL_VT_DATETIME;
    }
    struct sql_time t = v.v.t;
    if (vt != SQL_VT_TIME && (t.month == 0 || t.day == 0)) {
        sql__datum_null(out);
        return 0;
    }
    memset(out, 0, sizeof *out);
    out->vt = (uint8_t)vt;
    out->fsp = (uint8_t)(e->type.dec > 0 && e->type.dec <= 6 &&
                                 e->vt != EX_VT_ANY
                             ? e->type.dec
                             : v.fsp);
    if (e->sub == U_MICROSECOND || e->sub == U_SECOND_MICROSECOND ||
        e->sub == U_MINUTE_MICROSECOND || e->sub == U_HOUR_MICROSECOND ||
        e->sub == U_DAY_MICROSECOND || (iv.us % 1000000) != 0)
        out->fsp = 6;
    if (vt == SQL_VT_DATE)
        out->fsp = 0;
    if (vt == SQL_VT_TIME) {
        int64_t us = sql__time_to_us(&t, SQL_VT_TIME) + iv.us;
        if (iv.months != 0)
            return overflow(ev, out);
        sql__time_from_us(us, SQL_VT_TIME, &out->v.t);
        return 0;
    }
    if (iv.months != 0) {
        int64_t m = (int64_t)t.year * 12 + (t.month - 1) + iv.months;
        if (m < 0 || m / 12 > 9999)
            return overflow(ev, out);
        t.year = (uint16_t)(m / 12);
        t.month = (uint8_t)(m % 12 + 1);
        int dim = sql__days_in_month(t.year, t.month);
        if (t.day > dim)
            t.day = (uint8_t)dim;
    }
    int64_t us = sql__time_to_us(&t, SQL_VT_DATETIME) + iv.us;
    if (us < 0 || sql__time_from_us(us, SQL_VT_DATETIME, &out->v.t) != 0)
        return overflow(ev, out);
    if (vt == SQL_VT_DATE) {
        out->v.t.hour = out->v.t.minute = out->v.t.second = 0;
        out->v.t.micro = 0;
    }
    return 0;
}

static int check_int(struct sql_expr *e, struct sql_arena *a,
                     struct sql_err *err)
{
    (void)a;
    (void)err;
    sql__set_type(e, SQL_VT_INT, 0);
    return 0;
}

static int eval_datediff(const struct sql_expr *e, struct sql_eval *ev,
                         const struct sql_datum *row, struct sql_datum *out)
{
    struct sql_datum a, b;
    bool na, nb;
    int rc;
    if ((rc = arg_time(e, 0, ev, row, SQL_VT_DATE, &a, &na)) != 0 ||
        (rc = arg_time(e, 1, ev, row, SQL_VT_DATE, &b, &nb)) != 0)
        return rc;
    if (na || nb || a.v.t.month == 0 || a.v.t.day == 0 ||
        b.v.t.month == 0 || b.v.t.day == 0) {
        sql__datum_null(out);
        return 0;
    }
    sql__datum_int(out,
                   sql__days_from_ymd(a.v.t.year, a.v.t.month, a.v.t.day) -
                       sql__days_from_ymd(b.v.t.year, b.v.t.month,
                                          b.v.t.day));
    return 0;
}

static int check_timediff(struct sql_expr *e, struct sql_arena *a,
                          struct sql_err *err)
{
    (void)a;
    (void)err;
    int d0 = e->args[0]->type.dec, d1 = e->args[1]->type.dec;
    int fsp = d0 > d1 ? d0 : d1;
    if (e->args[0]->vt == SQL_VT_STRING || e->args[1]->vt == SQL_VT_STRING)
        fsp = 6;
    sql__set_type(e, SQL_VT_TIME, fsp > 0 && fsp <= 6 ? fsp : 0);
    return 0;
}

static int eval_timediff(const struct sql_expr *e, struct sql_eval *ev,
                         const struct sql_datum *row, struct sql_datum *out)
{
    struct sql_datum v[2];
    bool null;
    int rc = sql__args(e, ev, row, v, &null);
    if (rc != 0 || null) {
        sql__datum_null(out);
        return rc;
    }
    /* Both TIME, or both dates/datetimes; anything else is NULL. */
    int kind[2];
    for (int i = 0; i < 2; i++) {
        if (v[i].vt == SQL_VT_TIME)
            kind[i] = SQL_VT_TIME;
        else if (v[i].vt == SQL_VT_DATE || v[i].vt == SQL_VT_DATETIME)
            kind[i] = SQL_VT_DATETIME;
        else if (v[i].vt == SQL_VT_STRING) {
            struct sql_time t;
            kind[i] = sql__time_parse_datetime(v[i].v.s.p, v[i].v.s.n, &t,
                                               NULL) != SQL_TIME_BAD &&
                              memchr(v[i].v.s.p, '-', v[i].v.s.n)
                          ? SQL_VT_DATETIME
                          : SQL_VT_TIME;
        } else
            kind[i] = SQL_VT_TIME;
    }
    if (kind[0] != kind[1]) {
        sql__datum_null(out);
        return 0;
    }
    int64_t us[2];
    for (int i = 0; i < 2; i++) {
        struct sql_datum t;
        if ((rc = arg_time(e, i, ev, row, kind[i], &t, &null)) != 0)
            return rc;
        if (null) {
            sql__datum_null(out);
            return 0;
        }
        us[i] = sql__time_to_us(&t.v.t, kind[i]);
    }
    memset(out, 0, sizeof *out);
    out->vt = SQL_VT_TIME;
    out->fsp = e->type.dec > 0 ? (uint8_t)e->type.dec : 0;
    if (sql__time_from_us(us[0] - us[1], SQL_VT_TIME, &out->v.t) != 0)
        sql__warn(ev, SQL_ER_TRUNCATED_WRONG_VALUE,
                  "Truncated incorrect time value");
    return 0;
}

static int eval_timestampdiff(const struct sql_expr *e, struct sql_eval *ev,
                              const struct sql_datum *row,
                              struct sql_datum *out)
{
    struct sql_datum a, b;
    bool na, nb;
    int rc;
    if ((rc = arg_time(e, 0, ev, row, SQL_VT_DATETIME, &a, &na)) != 0 ||
        (rc = arg_time(e, 1, ev, row, SQL_VT_DATETIME, &b, &nb)) != 0)
        return rc;
    if (na || nb) {
        sql__datum_null(out);
        return 0;
    }
    int64_t ua = sql__time_to_us(&a.v.t, SQL_VT_DATETIME);
    int64_t ub = sql__time_to_us(&b.v.t, SQL_VT_DATETIME);
    int unit = e->sub;
    if (unit == U_MONTH || unit == U_QUARTER || unit == U_YEAR) {
        const struct sql_time *lo = ua <= ub ? &a.v.t : &b.v.t;
        const struct sql_time *hi = ua <= ub ? &b.v.t : &a.v.t;
        int64_t months = ((int64_t)hi->year - lo->year) * 12 +
                         ((int64_t)hi->month - lo->month);
        /* A partial last month does not count. */
        int64_t tod_lo = sql__time_to_us(lo, SQL_VT_TIME);
        int64_t tod_hi = sql__time_to_us(hi, SQL_VT_TIME);
        if (hi->day < lo->day || (hi->day == lo->day && tod_hi < tod_lo))
            months--;
        if (ua > ub)
            months = -months;
        int64_t r = unit == U_MONTH     ? months
                    : unit == U_QUARTER ? months / 3
                                        : months / 12;
        sql__datum_int(out, r);
        return 0;
    }
    static const int64_t div[] = {1, 1000000, 60000000, 3600000000LL,
                                  US_DAY, 7 * US_DAY};
    if (unit > U_WEEK) {
        sql__datum_null(out);
        return 0;
    }
    sql__datum_int(out, (ub - ua) / div[unit]);
    return 0;
}

/* ---- Unix time ----------------------------------------------------- */

static int check_unix_ts(struct sql_expr *e, struct sql_arena *a,
                         struct sql_err *err)
{
    (void)a;
    (void)err;
    if (e->nargs == 0) {
        sql__set_type(e, SQL_VT_INT, 0);
        e->type.flags |= SQL_COLFLAG_NOT_NULL;
        return 0;
    }
    int vt = e->args[0]->vt;
    if ((vt == SQL_VT_DATETIME || vt == SQL_VT_TIME) &&
        e->args[0]->type.dec > 0)
        sql__set_type(e, SQL_VT_DECIMAL, e->args[0]->type.dec);
    else if (vt == SQL_VT_DATE || vt == SQL_VT_DATETIME || vt == SQL_VT_INT ||
             vt == SQL_VT_UINT)
        sql__set_type(e, SQL_VT_INT, 0);
    else {
        sql__set_type(e, SQL_VT_DECIMAL, 6);
        e->vt = EX_VT_ANY; /* INT or DECIMAL by the value's fraction */
    }
    return 0;
}

static int eval_unix_ts(const struct sql_expr *e, struct sql_eval *ev,
                        const struct sql_datum *row, struct sql_datum *out)
{
    if (e->nargs == 0) {
        sql__datum_int(out, ev->env ? ev->env->now_us / 1000000 : 0);
        return 0;
    }
    struct sql_datum v;
    bool null;
    int rc = arg_time(e, 0, ev, row, SQL_VT_DATETIME, &v, &null);
    if (rc != 0 || null) {
        sql__datum_null(out);
        return rc;
    }
    int64_t off = ev->env ? (int64_t)ev->env->tz_offset_s * 1000000 : 0;
    int64_t us = sql__time_to_us(&v.v.t, SQL_VT_DATETIME) -
                 (int64_t)EPOCH_DAYS * US_DAY - off;
    if (us < 0 || sql__date_is_zero(&v.v.t))
        us = 0;
    int fsp = e->vt == SQL_VT_DECIMAL ? e->type.dec
              : e->vt == EX_VT_ANY    ? v.fsp
                                      : 0;
    if (fsp == 0) {
        sql__datum_int(out, us / 1000000);
        return 0;
    }
    memset(out, 0, sizeof *out);
    out->vt = SQL_VT_DECIMAL;
    sql__dec_from_i64(&out->v.dec, us);
    out->v.dec.scale = 6;
    sql__dec_rescale(&out->v.dec, fsp, &out->v.dec);
    return 0;
}

static int date_format(struct sql_eval *ev, const struct sql_time *t,
                       int vt, const char *f, size_t fn,
                       struct sql_datum *out);

static int check_from_unixtime(struct sql_expr *e, struct sql_arena *a,
                               struct sql_err *err)
{
    (void)a;
    (void)err;
    if (e->nargs == 2) {
        sql__set_type(e, SQL_VT_STRING, 0);
        return 0;
    }
    int d = e->args[0]->vt == SQL_VT_INT || e->args[0]->vt == SQL_VT_UINT
                ? 0
            : e->args[0]->vt == SQL_VT_DECIMAL
                ? (e->args[0]->type.dec > 6 ? 6 : e->args[0]->type.dec)
                : 6;
    sql__set_type(e, SQL_VT_DATETIME, d > 0 ? d : 0);
    return 0;
}

static int eval_from_unixtime(const struct sql_expr *e, struct sql_eval *ev,
                              const struct sql_datum *row,
                              struct sql_datum *out)
{
    struct sql_datum v;
    int rc = sql__arg(e, 0, ev, row, &v);
    if (rc != 0 || v.vt == SQL_VT_NULL) {
        sql__datum_null(out);
        return rc;
    }
    struct sql_dec d, us;
    sql__to_dec(ev, &v, &d);
    struct sql_dec mil;
    sql__dec_from_i64(&mil, 1000000);
    sql__dec_mul(&d, &mil, &us);
    int64_t u;
    if (d.neg || sql__dec_to_i64(&us, &u) != 0 ||
        u > 32536771199LL * 1000000 + 999999) {
        sql__datum_null(out);
        return 0;
    }
    int fsp = e->nargs == 1 && e->type.dec > 0 ? e->type.dec : 0;
    set_now(out, SQL_VT_DATETIME, u + (ev->env ? (int64_t)ev->env->tz_offset_s *
                                                      1000000
                                                : 0),
            fsp);
    (void)unix_to_local;
    if (e->nargs == 2) {
        struct sql_datum f;
        if ((rc = sql__arg(e, 1, ev, row, &f)) != 0)
            return rc;
        if (f.vt == SQL_VT_NULL) {
            sql__datum_null(out);
            return 0;
        }
        const char *p;
        size_t n;
        if ((rc = sql__to_str(ev, &f, &p, &n)) != 0)
            return rc;
        struct sql_time t = out->v.t;
        return date_format(ev, &t, SQL_VT_DATETIME, p, n, out);
    }
    return 0;
}

/* ---- DATE_FORMAT / STR_TO_DATE ------------------------------------- */

static int date_format(struct sql_eval *ev, const struct sql_time *t,
                       int vt, const char *f, size_t fn,
                       struct sql_datum *out)
{
    struct sql__buf b = {0};
    char tmp[64];
    int rc = 0;
    bool date_ok = vt != SQL_VT_TIME && t->month != 0 && t->day != 0;
    int64_t daynr = date_ok ? sql__days_from_ymd(t->year, t->month, t->day)
                            : 0;
    for (size_t i = 0; i < fn && rc == 0; i++) {
        if (f[i] != '%' || i + 1 == fn) {
            rc = sql__buf_put(&b, f + i, 1);
            continue;
        }
        char c = f[++i];
        int n = -1;
        int64_t y;
        unsigned h12 = t->hour % 12 == 0 ? 12 : t->hour % 12;
        switch (c) {
        case 'a':
            if (!date_ok)
                goto null;
            n = snprintf(tmp, sizeof tmp, "%.3s",
                         day_names[weekday_of(daynr, false)]);
            break;
        case 'b':
            if (t->month == 0)
                goto null;
            n = snprintf(tmp, sizeof tmp, "%.3s", month_names[t->month - 1]);
            break;
        case 'c':
            n = snprintf(tmp, sizeof tmp, "%u", t->month);
            break;
        case 'D': {
            unsigned d = t->day;
            const char *suf = (d % 100 >= 11 && d % 100 <= 13) ? "th"
                              : d % 10 == 1                   ? "st"
                              : d % 10 == 2                   ? "nd"
                              : d % 10 == 3                   ? "rd"
                                                              : "th";
            n = snprintf(tmp, sizeof tmp, "%u%s", d, suf);
            break;
        }
        case 'd':
            n = snprintf(tmp, sizeof tmp, "%02u", t->day);
            break;
        case 'e':
            n = snprintf(tmp, sizeof tmp, "%u", t->day);
            break;
        case 'f':
            n = snprintf(tmp, sizeof tmp, "%06u", t->micro);
            break;
        case 'H':
            n = snprintf(tmp, sizeof tmp, "%02u", t->hour);
            break;
        case 'h':
        case 'I':
            n = snprintf(tmp, sizeof tmp, "%02u", h12);
            break;
        case 'i':
            n = snprintf(tmp, sizeof tmp, "%02u", t->minute);
            break;
        case 'j':
            if (!date_ok)
                goto null;
            n = snprintf(tmp, sizeof tmp, "%03lld",
                         (long long)(daynr -
                                     sql__days_from_ymd(t->year, 1, 1) + 1));
            break;
        case 'k':
            n = snprintf(tmp, sizeof tmp, "%u", t->hour);
            break;
        case 'l':
            n = snprintf(tmp, sizeof tmp, "%u", h12);
            break;
        case 'M':
            if (t->month == 0)
                goto null;
            n = snprintf(tmp, sizeof tmp, "%s", month_names[t->month - 1]);
            break;
        case 'm':
            n = snprintf(tmp, sizeof tmp, "%02u", t->month);
            break;
        case 'p':
            n = snprintf(tmp, sizeof tmp, "%s",
                         t->hour % 24 < 12 ? "AM" : "PM");
            break;
        case 'r':
            n = snprintf(tmp, sizeof tmp, "%02u:%02u:%02u %s", h12, t->minute,
                         t->second, t->hour % 24 < 12 ? "AM" : "PM");
            break;
        case 'S':
        case 's':
            n = snprintf(tmp, sizeof tmp, "%02u", t->second);
            break;
        case 'T':
            n = snprintf(tmp, sizeof tmp, "%02u:%02u:%02u", t->hour,
                         t->minute, t->second);
            break;
        case 'U':
        case 'u':
        case 'V':
        case 'v':
            if (!date_ok)
                goto null;
            n = snprintf(tmp, sizeof tmp, "%02d",
                         calc_week(t,
                                   c == 'U'   ? WEEK_FIRST_WEEKDAY
                                   : c == 'u' ? WEEK_MONDAY_FIRST
                                   : c == 'V' ? WEEK_YEAR | WEEK_FIRST_WEEKDAY
                                              : WEEK_MONDAY_FIRST | WEEK_YEAR,
                                   &y));
            break;
        case 'X':
        case 'x':
            if (!date_ok)
                goto null;
            calc_week(t,
                      c == 'X' ? WEEK_YEAR | WEEK_FIRST_WEEKDAY
                               : WEEK_YEAR | WEEK_MONDAY_FIRST,
                      &y);
            n = snprintf(tmp, sizeof tmp, "%04lld", (long long)y);
            break;
        case 'W':
            if (!date_ok)
                goto null;
            n = snprintf(tmp, sizeof tmp, "%s",
                         day_names[weekday_of(daynr, false)]);
            break;
        case 'w':
            if (!date_ok)
                goto null;
            n = snprintf(tmp, sizeof tmp, "%d", weekday_of(daynr, true));
            break;
        case 'Y':
            n = snprintf(tmp, sizeof tmp, "%04u", t->year);
            break;
        case 'y':
            n = snprintf(tmp, sizeof tmp, "%02u", t->year % 100);
            break;
        default:
            tmp[0] = c; /* %% and unknown letters: the letter */
            n = 1;
            break;
        }
        rc = sql__buf_put(&b, tmp, (size_t)n);
    }
    if (rc == 0)
        rc = sql__ret_str(ev, out, (const char *)b.p, b.len,
                          SQL_COLL_UTF8MB4_GENERAL_CI);
    sql__buf_free(&b);
    return rc;
null:
    sql__buf_free(&b);
    sql__datum_null(out);
    return 0;
}

static int check_str(struct sql_expr *e, struct sql_arena *a,
                     struct sql_err *err)
{
    (void)a;
    (void)err;
    sql__set_type(e, SQL_VT_STRING, 0);
    return 0;
}

static int eval_date_format(const struct sql_expr *e, struct sql_eval *ev,
                            const struct sql_datum *row,
                            struct sql_datum *out)
{
    struct sql_datum v, f;
    bool null;
    int vt = e->sub ? SQL_VT_TIME : SQL_VT_DATETIME; /* TIME_FORMAT */
    int rc = arg_time(e, 0, ev, row, vt, &v, &null);
    if (rc != 0 || null) {
        sql__datum_null(out);
        return rc;
    }
    if ((rc = sql__arg(e, 1, ev, row, &f)) != 0)
        return rc;
    if (f.vt == SQL_VT_NULL) {
        sql__datum_null(out);
        return 0;
    }
    const char *p;
    size_t n;
    if ((rc = sql__to_str(ev, &f, &p, &n)) != 0)
        return rc;
    return date_format(ev, &v.v.t, vt, p, n, out);
}

static int check_time_format(struct sql_expr *e, struct sql_arena *a,
                             struct sql_err *err)
{
    check_str(e, a, err);
    e->sub = 1;
    return 0;
}

static int get_num(const char *s, size_t n, size_t *i, int maxd, int64_t *v)
{
    int d = 0;
    *v = 0;
    while (*i < n && d < maxd && s[*i] >= '0' && s[*i] <= '9') {
        *v = *v * 10 + (s[*i] - '0');
        (*i)++;
        d++;
    }
    return d;
}

static int match_name(const char *s, size_t n, size_t *i,
                      const char *const *names, int count, bool abbrev)
{
    for (int k = 0; k < count; k++) {
        size_t l = abbrev ? 3 : strlen(names[k]);
        if (n - *i >= l && strncasecmp(s + *i, names[k], l) == 0) {
            *i += l;
            return k;
        }
    }
    return -1;
}

/* Parse s by format f. *what: bit 1 date parts seen, bit 2 time parts. */
static bool str_to_date(const char *s, size_t n, const char *f, size_t fn,
                        struct sql_time *t, int *what)
{
    memset(t, 0, sizeof *t);
    size_t i = 0;
    int pm = -1;
    int64_t v, yday = -1;
    *what = 0;
    for (size_t k = 0; k < fn; k++) {
        if (f[k] == ' ' || f[k] == '\t') {
            while (i < n && (s[i] == ' ' || s[i] == '\t'))
                i++;
            continue;
        }
        if (f[k] != '%' || k + 1 == fn) {
            if (i >= n || s[i] != f[k])
                return false;
            i++;
            continue;
        }
        char c = f[++k];
        while (i < n && (s[i] == ' ' || s[i] == '\t') && c != '%')
            i++;
        int d;
        switch (c) {
        case 'Y':
            d = get_num(s, n, &i, 4, &v);
            if (d == 0)
                return false;
            if (d <= 2)
                v += v < 70 ? 2000 : 1900;
            t->year = (uint16_t)v;
            *what |= 1;
            break;
        case 'y':
            if (get_num(s, n, &i, 2, &v) == 0)
                return false;
            t->year = (uint16_t)(v + (v < 70 ? 2000 : 1900));
            *what |= 1;
            break;
        case 'm':
        case 'c':
            if (get_num(s, n, &i, 2, &v) == 0 || v > 12)
                return false;
            t->month = (uint8_t)v;
            *what |= 1;
            break;
        case 'M':
        case 'b': {
            int m = match_name(s, n, &i, month_names, 12, c == 'b');
            if (m < 0)
                return false;
            t->month = (uint8_t)(m + 1);
            *what |= 1;
            break;
        }
        case 'd':
        case 'e':
        case 'D':
            if (get_num(s, n, &i, 2, &v) == 0 || v > 31)
                return false;
            t->day = (uint8_t)v;
            if (c == 'D' && n - i >= 2)
                i += 2; /* st, nd, rd, th */
            *what |= 1;
            break;
        case 'j':
            if (get_num(s, n, &i, 3, &v) == 0 || v < 1 || v > 366)
                return false;
            yday = v;
            *what |= 1;
            break;
        case 'H':
        case 'k':
        case 'h':
        case 'I':
        case 'l':
            if (get_num(s, n, &i, 2, &v) == 0)
                return false;
            if ((c == 'H' || c == 'k') ? v > 23 : (v < 1 || v > 12))
                return false;
            t->hour = (uint32_t)v;
            if (c != 'H' && c != 'k' && pm < 0)
                pm = 0;
            *what |= 2;
            break;
        case 'i':
            if (get_num(s, n, &i, 2, &v) == 0 || v > 59)
                return false;
            t->minute = (uint8_t)v;
            *what |= 2;
            break;
        case 'S':
        case 's':
            if (get_num(s, n, &i, 2, &v) == 0 || v > 59)
                return false;
            t->second = (uint8_t)v;
            *what |= 2;
            break;
        case 'f': {
            int dd = get_num(s, n, &i, 6, &v);
            if (dd == 0)
                return false;
            for (; dd < 6; dd++)
                v *= 10;
            t->micro = (uint32_t)v;
            *what |= 2;
            break;
        }
        case 'p':
            if (n - i >= 2 && !strncasecmp(s + i, "AM", 2))
                pm = 0;
            else if (n - i >= 2 && !strncasecmp(s + i, "PM", 2))
                pm = 1;
            else
                return false;
            i += 2;
            break;
        case 'W':
        case 'a':
            if (match_name(s, n, &i, day_names, 7, c == 'a') < 0)
                return false;
            break;
        case 'T':
        case 'r': {
            int64_t hh, mi, ss;
            if (get_num(s, n, &i, 2, &hh) == 0 || i >= n || s[i++] != ':' ||
                get_num(s, n, &i, 2, &mi) == 0 || i >= n || s[i++] != ':' ||
                get_num(s, n, &i, 2, &ss) == 0 || mi > 59 || ss > 59)
                return false;
            t->hour = (uint32_t)hh;
            t->minute = (uint8_t)mi;
            t->second = (uint8_t)ss;
            if (c == 'r') {
                while (i < n && s[i] == ' ')
                    i++;
                if (n - i >= 2 && !strncasecmp(s + i, "PM", 2))
                    pm = 1, i += 2;
                else if (n - i >= 2 && !strncasecmp(s + i, "AM", 2))
                    pm = 0, i += 2;
            }
            *what |= 2;
            break;
        }
        case '%':
            if (i >= n || s[i] != '%')
                return false;
            i++;
            break;
        default:
            if (i >= n || s[i] != c)
                return false;
            i++;
            break;
        }
    }
    if (pm == 1 && t->hour < 12)
        t->hour += 12;
    else if (pm == 0 && t->hour == 12)
        t->hour = 0;
    if (yday > 0) {
        int64_t d = sql__days_from_ymd(t->year, 1, 1) + yday - 1, y, m, dd;
        sql__ymd_from_days(d, &y, &m, &dd);
        t->month = (uint8_t)m;
        t->day = (uint8_t)dd;
    }
    /* Trailing text is allowed with a warning in MySQL; be strict on the
     * date itself. */
    if (t->month != 0 && t->day != 0 && !sql__date_valid(t))
        return false;
    return true;
}

/* The format's parts, when it is a literal: STR_TO_DATE's result type. */
static int check_str_to_date(struct sql_expr *e, struct sql_arena *a,
                             struct sql_err *err)
{
    (void)a;
    (void)err;
    int vt = SQL_VT_DATETIME, fsp = 6;
    const struct sql_expr *f = e->args[1];
    if (f->op == EX_LIT && f->lit.vt == SQL_VT_STRING) {
        bool date = false, time = false, frac = false;
        for (size_t i = 0; i + 1 < f->lit.v.s.n; i++) {
            if (f->lit.v.s.p[i] != '%')
                continue;
            char c = f->lit.v.s.p[++i];
            if (strchr("YymcMbdeDjaWUuVvXxw", c))
                date = true;
            if (strchr("HkhIliSsfTrp", c))
                time = true;
            if (c == 'f')
                frac = true;
        }
        vt = date && !time ? SQL_VT_DATE
             : time && !date ? SQL_VT_TIME
                             : SQL_VT_DATETIME;
        fsp = frac ? 6 : 0;
    }
    sql__set_type(e, vt, fsp);
    return 0;
}

static int eval_str_to_date(const struct sql_expr *e, struct sql_eval *ev,
                            const struct sql_datum *row,
                            struct sql_datum *out)
{
    struct sql_datum v[2];
    bool null;
    int rc = sql__args(e, ev, row, v, &null);
    if (rc != 0 || null) {
        sql__datum_null(out);
        return rc;
    }
    const char *s, *f;
    size_t sn, fnn;
    if ((rc = sql__to_str(ev, &v[0], &s, &sn)) != 0 ||
        (rc = sql__to_str(ev, &v[1], &f, &fnn)) != 0)
        return rc;
    struct sql_time t;
    int what;
    if (!str_to_date(s, sn, f, fnn, &t, &what)) {
        sql__warn(ev, SQL_ER_WRONG_VALUE_FOR_TYPE,
                  "Incorrect datetime value: '%.*s' for function "
                  "str_to_date",
                  (int)(sn > 64 ? 64 : sn), s);
        sql__datum_null(out);
        return 0;
    }
    memset(out, 0, sizeof *out);
    out->vt = e->vt;
    out->v.t = t;
    out->fsp = (uint8_t)(e->type.dec > 0 ? e->type.dec : 0);
    if (e->vt == SQL_VT_TIME) {
        memset(&out->v.t, 0, sizeof out->v.t);
        out->v.t.hour = t.hour;
        out->v.t.minute = t.minute;
        out->v.t.second = t.second;
        out->v.t.micro = t.micro;
    } else if (e->vt == SQL_VT_DATE) {
        out->v.t.hour = out->v.t.minute = out->v.t.second = 0;
        out->v.t.micro = 0;
    }
    return 0;
}

/* ---- EXTRACT ------------------------------------------------------- */

static int check_extract(struct sql_expr *e, struct sql_arena *a,
                         struct sql_err *err)
{
    (void)a;
    if (e->text == NULL || e->sub < 0)
        return sql__err(err, 1064, "42000",
                        "You have an error in your SQL syntax");
    sql__set_type(e, SQL_VT_INT, 0);
    return 0;
}

static int eval_extract(const struct sql_expr *e, struct sql_eval *ev,
                        const struct sql_datum *row, struct sql_datum *out)
{
    int u = e->sub;
    bool timey = u == U_HOUR || u == U_MINUTE || u == U_SECOND ||
                 u == U_MICROSECOND || (u >= U_SECOND_MICROSECOND &&
                                        u <= U_HOUR_MINUTE);
    struct sql_datum v;
    int rc = sql__arg(e, 0, ev, row, &v);
    if (rc != 0 || v.vt == SQL_VT_NULL) {
        sql__datum_null(out);
        return rc;
    }
    int vt = timey && v.vt != SQL_VT_DATETIME && v.vt != SQL_VT_DATE &&
                     !(v.vt == SQL_VT_STRING &&
                       memchr(v.v.s.p, '-', v.v.s.n) != NULL)
                 ? SQL_VT_TIME
                 : SQL_VT_DATETIME;
    bool null;
    if ((rc = arg_time(e, 0, ev, row, vt, &v, &null)) != 0 || null) {
        sql__datum_null(out);
        return rc;
    }
    const struct sql_time *t = &v.v.t;
    int64_t y, r;
    int64_t hms = (int64_t)t->hour * 10000 + t->minute * 100 + t->second;
    switch (u) {
    case U_YEAR:
        r = t->year;
        break;
    case U_QUARTER:
        r = (t->month + 2) / 3;
        break;
    case U_MONTH:
        r = t->month;
        break;
    case U_WEEK:
        r = calc_week(t, week_mode(0), &y);
        break;
    case U_DAY:
        r = t->day;
        break;
    case U_HOUR:
        r = t->hour;
        break;
    case U_MINUTE:
        r = t->minute;
        break;
    case U_SECOND:
        r = t->second;
        break;
    case U_MICROSECOND:
        r = t->micro;
        break;
    case U_YEAR_MONTH:
        r = (int64_t)t->year * 100 + t->month;
        break;
    case U_DAY_HOUR:
        r = (int64_t)t->day * 100 + t->hour;
        break;
    case U_DAY_MINUTE:
        r = (int64_t)t->day * 10000 + t->hour * 100 + t->minute;
        break;
    case U_DAY_SECOND:
        r = (int64_t)t->day * 1000000 + hms;
        break;
    case U_DAY_MICROSECOND:
        r = ((int64_t)t->day * 1000000 + hms) * 1000000 + t->micro;
        break;
    case U_HOUR_MINUTE:
        r = (int64_t)t->hour * 100 + t->minute;
        break;
    case U_HOUR_SECOND:
        r = hms;
        break;
    case U_HOUR_MICROSECOND:
        r = hms * 1000000 + t->micro;
        break;
    case U_MINUTE_SECOND:
        r = (int64_t)t->minute * 100 + t->second;
        break;
    case U_MINUTE_MICROSECOND:
        r = ((int64_t)t->minute * 100 + t->second) * 1000000 + t->micro;
        break;
    default: /* SECOND_MICROSECOND */
        r = (int64_t)t->second * 1000000 + t->micro;
        break;
    }
    if (vt == SQL_VT_TIME && t->negative)
        r = -r;
    sql__datum_int(out, r);
    return 0;
}


/* TIMESTAMP(x[, t]) and ADDTIME/SUBTIME(x, t): x as a DATETIME (or a
 * TIME for ADDTIME of a time) plus the TIME t. e->sub: 0 TIMESTAMP,
 * 1 ADDTIME, -1 SUBTIME. */
static int check_addtime(struct sql_expr *e, struct sql_arena *a,
                         struct sql_err *err)
{
    (void)a;
    (void)err;
    e->sub = !strcmp(e->name, "ADDTIME")   ? 1
             : !strcmp(e->name, "SUBTIME") ? -1
                                           : 0;
    int fsp = 0;
    for (int i = 0; i < e->nargs; i++) {
        int d = e->args[i]->type.dec;
        if (e->args[i]->vt == SQL_VT_STRING)
            d = 6;
        if (d > fsp && d <= 6)
            fsp = d;
    }
    if (e->sub != 0 && e->args[0]->vt == SQL_VT_TIME)
        sql__set_type(e, SQL_VT_TIME, fsp);
    else if (e->sub != 0 && e->args[0]->vt != SQL_VT_DATETIME &&
             e->args[0]->vt != SQL_VT_DATE) {
        sql__set_type(e, SQL_VT_STRING, 0);
        e->vt = EX_VT_ANY;
    } else {
        sql__set_type(e, SQL_VT_DATETIME, fsp);
        for (int i = 0; i < e->nargs; i++)
            if (e->args[i]->vt == SQL_VT_STRING ||
                e->args[i]->vt == EX_VT_ANY)
                e->vt = EX_VT_ANY; /* the fraction the text has */
    }
    return 0;
}

static int eval_addtime(const struct sql_expr *e, struct sql_eval *ev,
                        const struct sql_datum *row, struct sql_datum *out)
{
    struct sql_datum x;
    int rc = sql__arg(e, 0, ev, row, &x);
    if (rc != 0 || x.vt == SQL_VT_NULL) {
        sql__datum_null(out);
        return rc;
    }
    int vt = SQL_VT_DATETIME;
    if (e->sub != 0) {
        if (x.vt == SQL_VT_TIME)
            vt = SQL_VT_TIME;
        else if (x.vt == SQL_VT_STRING &&
                 memchr(x.v.s.p, '-', x.v.s.n) == NULL)
            vt = SQL_VT_TIME;
        else if (x.vt != SQL_VT_STRING && x.vt != SQL_VT_DATE &&
                 x.vt != SQL_VT_DATETIME)
            vt = SQL_VT_TIME;
    }
    bool null;
    if ((rc = arg_time(e, 0, ev, row, vt, &x, &null)) != 0 || null) {
        sql__datum_null(out);
        return rc;
    }
    int64_t add = 0;
    int fsp = x.fsp;
    if (e->nargs > 1) {
        struct sql_datum t;
        if ((rc = arg_time(e, 1, ev, row, SQL_VT_TIME, &t, &null)) != 0 ||
            null) {
            sql__datum_null(out);
            return rc;
        }
        add = sql__time_to_us(&t.v.t, SQL_VT_TIME);
        if (t.fsp > fsp)
            fsp = t.fsp;
    }
    if (e->sub < 0)
        add = -add;
    memset(out, 0, sizeof *out);
    out->vt = (uint8_t)vt;
    out->fsp = (uint8_t)(e->vt == EX_VT_ANY ? fsp
                         : e->type.dec > 0 && e->type.dec <= 6 ? e->type.dec
                                                               : 0);
    int64_t us = sql__time_to_us(&x.v.t, vt) + add;
    if (sql__time_from_us(us, vt, &out->v.t) != 0 && vt != SQL_VT_TIME) {
        sql__datum_null(out);
        return 0;
    }
    return 0;
}

const struct sql__func sql__funcs_date[] = {
    {"NOW", 0, 1, check_now, eval_now, true},
    {"CURRENT_TIMESTAMP", 0, 1, check_now, eval_now, true},
    {"LOCALTIME", 0, 1, check_now, eval_now, true},
    {"LOCALTIMESTAMP", 0, 1, check_now, eval_now, true},
    {"SYSDATE", 0, 1, check_now, eval_now, true},
    {"UTC_TIMESTAMP", 0, 1, check_now, eval_now, true},
    {"CURDATE", 0, 0, check_now, eval_now, true},
    {"CURRENT_DATE", 0, 0, check_now, eval_now, true},
    {"UTC_DATE", 0, 0, check_now, eval_now, true},
    {"CURTIME", 0, 1, check_now, eval_now, true},
    {"CURRENT_TIME", 0, 1, check_now, eval_now, true},
    {"UTC_TIME", 0, 1, check_now, eval_now, true},
    {"DATE", 1, 1, check_date, eval_date, false},
    {"TIME", 1, 1, check_time, eval_time, false},
    {"YEAR", 1, 1, check_part, eval_part, false},
    {"MONTH", 1, 1, check_part, eval_part, false},
    {"DAY", 1, 1, check_part, eval_part, false},
    {"DAYOFMONTH", 1, 1, check_part, eval_part, false},
    {"HOUR", 1, 1, check_part, eval_part, false},
    {"MINUTE", 1, 1, check_part, eval_part, false},
    {"SECOND", 1, 1, check_part, eval_part, false},
    {"MICROSECOND", 1, 1, check_part, eval_part, false},
    {"DAYOFWEEK", 1, 1, check_part, eval_part, false},
    {"WEEKDAY", 1, 1, check_part, eval_part, false},
    {"DAYOFYEAR", 1, 1, check_part, eval_part, false},
    {"QUARTER", 1, 1, check_part, eval_part, false},
    {"WEEK", 1, 2, check_part, eval_part, false},
    {"WEEKOFYEAR", 1, 1, check_part, eval_part, false},
    {"YEARWEEK", 1, 2, check_part, eval_part, false},
    {"DAYNAME", 1, 1, check_part, eval_part, false},
    {"MONTHNAME", 1, 1, check_part, eval_part, false},
    {"TO_DAYS", 1, 1, check_part, eval_part, false},
    {"LAST_DAY", 1, 1, check_part, eval_part, false},
    {"TIME_TO_SEC", 1, 1, check_part, eval_part, false},
    {"FROM_DAYS", 1, 1, check_from_days, eval_from_days, false},
    {"SEC_TO_TIME", 1, 1, check_sec_to_time, eval_sec_to_time, false},
    {"MAKEDATE", 2, 2, check_from_days, eval_makedate, false},
    {"MAKETIME", 3, 3, check_maketime, eval_maketime, false},
    {"DATE_ADD", 2, 2, check_date_add, eval_date_add, false},
    {"DATE_SUB", 2, 2, check_date_add, eval_date_add, false},
    {"ADDDATE", 2, 2, check_date_add, eval_date_add, false},
    {"SUBDATE", 2, 2, check_date_add, eval_date_add, false},
    {"DATEDIFF", 2, 2, check_int, eval_datediff, false},
    {"TIMEDIFF", 2, 2, check_timediff, eval_timediff, false},
    {"TIMESTAMPDIFF", 2, 2, check_int, eval_timestampdiff, false},
    {"UNIX_TIMESTAMP", 0, 1, check_unix_ts, eval_unix_ts, true},
    {"FROM_UNIXTIME", 1, 2, check_from_unixtime, eval_from_unixtime, false},
    {"DATE_FORMAT", 2, 2, check_str, eval_date_format, false},
    {"TIME_FORMAT", 2, 2, check_time_format, eval_date_format, false},
    {"STR_TO_DATE", 2, 2, check_str_to_date, eval_str_to_date, false},
    {"EXTRACT", 1, 1, check_extract, eval_extract, false},
    {"TIMESTAMP", 1, 2, check_addtime, eval_addtime, false},
    {"ADDTIME", 2, 2, check_addtime, eval_addtime, false},
    {"SUBTIME", 2, 2, check_addtime, eval_addtime, false},
    {NULL, 0, 0, NULL, NULL, false},
};
