/* datetime.h: DATE, DATETIME and TIME values (struct sql_time, sql.h):
 * parsing from text and numbers as MySQL's str_to_datetime does, printing,
 * calendar arithmetic on day numbers (DESIGN.md, "Values and types").
 */
#ifndef SQL_DATETIME_H
#define SQL_DATETIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sql.h"

/* Parse results besides 0 (exact). */
#define SQL_TIME_TRUNC 1 /* usable value, but text was dropped (a warning) */
#define SQL_TIME_BAD 2   /* not a value of the type (zero value) */

#define SQL_TIME_MAX_HOUR 838

/* Days since 0000-03-01 style proleptic Gregorian day number (MySQL's
 * TO_DAYS: 0000-01-01 is day 1). */
int64_t sql__days_from_ymd(int64_t y, int64_t m, int64_t d);
void sql__ymd_from_days(int64_t days, int64_t *y, int64_t *m, int64_t *d);
int sql__days_in_month(int64_t y, int64_t m);
bool sql__is_leap(int64_t y);
/* 0 = Monday .. 6 = Sunday. */
int sql__weekday(int64_t days);

/* A date or datetime from text. *fsp gets the fraction digits written (0..6,
 * may be NULL). Zero dates parse (the caller checks sql_mode). */
int sql__time_parse_datetime(const char *s, size_t n, struct sql_time *t,
                             int *fsp);
/* A TIME from text ("[-][D ]HH:MM:SS[.f]", "HHMMSS", ...); out of range
 * clamps to 838:59:59 and answers SQL_TIME_TRUNC. */
int sql__time_parse_time(const char *s, size_t n, struct sql_time *t,
                         int *fsp);
/* From a number: YYYYMMDD, YYMMDD, YYYYMMDDhhmmss ... (datetime) or
 * [-]HHMMSS (time); frac is microseconds. */
int sql__time_from_num_datetime(int64_t v, uint32_t micro, struct sql_time *t);
/* The same without the calendar check (a day up to 31 in any month), as
 * MariaDB reads a value compared with a date: 230 is 2000-02-30 there,
 * '2020-02-30' too (TIME_FUZZY_DATES). */
int sql__time_from_num_datetime_fuzzy(int64_t v, uint32_t micro,
                                      struct sql_time *t);
int sql__time_parse_datetime_fuzzy(const char *s, size_t n,
                                   struct sql_time *t, int *fsp);
int sql__time_from_num_time(int64_t v, uint32_t micro, struct sql_time *t);
/* Whether y-m-d is a real calendar date (zero parts fail). */
bool sql__date_valid(const struct sql_time *t);
bool sql__date_is_zero(const struct sql_time *t);

/* Text: 'YYYY-MM-DD', 'YYYY-MM-DD hh:mm:ss[.f]', '[-]hh:mm:ss[.f]'. buf
 * holds 32 bytes; returns the length. vt is SQL_VT_DATE/_DATETIME/_TIME. */
size_t sql__time_print(const struct sql_time *t, int vt, int fsp, char *buf);
/* YYYYMMDD, YYYYMMDDhhmmss or [-]hhmmss as an integer. */
int64_t sql__time_to_int(const struct sql_time *t, int vt);
/* Microseconds since 0000-01-01 00:00:00 (datetimes) or signed duration
 * (times). */
int64_t sql__time_to_us(const struct sql_time *t, int vt);
/* Inverse of sql__time_to_us; SQL_TIME_BAD when out of range. */
int sql__time_from_us(int64_t us, int vt, struct sql_time *t);
/* Round the fraction to fsp digits (carrying into seconds). */
void sql__time_round(struct sql_time *t, int vt, int fsp);

#endif /* SQL_DATETIME_H */
