/* reply.c: the result writer (sql_reply_*) and the packets it is made of:
 * OK, ERR, EOF, column definitions, text and binary rows. It checks each
 * call against the shape of the answer so far (DESIGN.md "MySQL protocol",
 * "Answers") so an executor bug cannot put the client out of step.
 */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto_int.h"
#include "value.h"

int sql__pkt_begin(struct sql_proto_conn *c, size_t *start)
{
    *start = c->out.len;
    static const uint8_t hdr[4];
    return sql__buf_put(&c->out, hdr, 4);
}

int sql__pkt_end(struct sql_proto_conn *c, size_t start)
{
    return sql__buf_frame(&c->out, start, &c->out_seq);
}

/* End a packet built since start, or undo it when rc says it failed. */
static int finish(struct sql_proto_conn *c, size_t start, int rc)
{
    if (rc == 0)
        rc = sql__pkt_end(c, start);
    if (rc != 0)
        c->out.len = start;
    return rc;
}

/* OK_Packet: header(1) affected_rows(lenenc) last_insert_id(lenenc)
 * status(2) warnings(2) [info(lenenc)]. The protocol pages call info a
 * rest-of-packet string without CLIENT_SESSION_TRACK, but MySQL's server
 * writes it length-prefixed and libmysql/libmariadb read it so (the
 * mariadb CLI calls the other form a malformed packet); empty info is
 * left out. */
int sql__send_ok(struct sql_proto_conn *c, uint8_t header,
                 const struct sql_ok *ok)
{
    size_t start;
    int rc = sql__pkt_begin(c, &start);
    rc = rc ? rc : sql__buf_u8(&c->out, header);
    rc = rc ? rc : sql__buf_lenenc(&c->out, ok->affected_rows);
    rc = rc ? rc : sql__buf_lenenc(&c->out, ok->last_insert_id);
    rc = rc ? rc : sql__buf_u16(&c->out, ok->status);
    rc = rc ? rc : sql__buf_u16(&c->out, ok->warnings);
    if (ok->info != NULL && ok->info[0] != '\0')
        rc = rc ? rc
                : sql__buf_lenenc_str(&c->out, ok->info, strlen(ok->info));
    return finish(c, start, rc);
}

/* ERR_Packet: 0xFF code(2) '#' sqlstate(5) message(rest, <= 512). */
int sql__send_err(struct sql_proto_conn *c, uint16_t code,
                  const char *sqlstate, const char *msg)
{
    char state[5] = {'H', 'Y', '0', '0', '0'};
    if (sqlstate != NULL)
        for (size_t i = 0; i < 5 && sqlstate[i] != '\0'; i++)
            state[i] = sqlstate[i];
    size_t mlen = msg ? strlen(msg) : 0;
    if (mlen > 512)
        mlen = 512;
    size_t start;
    int rc = sql__pkt_begin(c, &start);
    rc = rc ? rc : sql__buf_u8(&c->out, 0xFF);
    rc = rc ? rc : sql__buf_u16(&c->out, code);
    rc = rc ? rc : sql__buf_u8(&c->out, '#');
    rc = rc ? rc : sql__buf_put(&c->out, state, 5);
    rc = rc ? rc : sql__buf_put(&c->out, msg, mlen);
    return finish(c, start, rc);
}

/* EOF_Packet: 0xFE warnings(2) status(2). */
int sql__send_eof(struct sql_proto_conn *c, uint16_t warnings,
                  uint16_t status)
{
    size_t start;
    int rc = sql__pkt_begin(c, &start);
    rc = rc ? rc : sql__buf_u8(&c->out, 0xFE);
    rc = rc ? rc : sql__buf_u16(&c->out, warnings);
    rc = rc ? rc : sql__buf_u16(&c->out, status);
    return finish(c, start, rc);
}

int sql__send_end(struct sql_proto_conn *c, const struct sql_ok *ok)
{
    if (c->caps & SQL_CLIENT_DEPRECATE_EOF)
        return sql__send_ok(c, 0xFE, ok);
    return sql__send_eof(c, ok->warnings, ok->status);
}

static bool is_multi(const struct sql_proto_conn *c)
{
    return c->cmd_kind == SQL_CMD_QUERY ||
           c->cmd_kind == SQL_CMD_STMT_EXECUTE;
}

int sql_reply_ok(struct sql_proto_conn *c, const struct sql_ok *ok)
{
    if (c->reply != SQL__R_START ||
        (c->cmd_kind != SQL_CMD_QUERY && c->cmd_kind != SQL_CMD_STMT_EXECUTE &&
         c->cmd_kind != SQL_CMD_INIT_DB &&
         c->cmd_kind != SQL_CMD_PROCESS_KILL &&
         c->cmd_kind != SQL_CMD_RESET_CONNECTION))
        return SQL_ESTATE;
    struct sql_ok o = *ok;
    bool more = is_multi(c) && (o.status & SQL_SERVER_MORE_RESULTS_EXISTS);
    if (!more)
        o.status &= (uint16_t)~SQL_SERVER_MORE_RESULTS_EXISTS;
    int rc = sql__send_ok(c, 0x00, &o);
    if (rc != 0)
        return rc;
    c->status = (uint16_t)(o.status & ~SQL_SERVER_MORE_RESULTS_EXISTS);
    if (!more)
        sql__reply_done(c, true);
    return 0;
}

int sql_reply_error(struct sql_proto_conn *c, uint16_t code,
                    const char *sqlstate, const char *msg)
{
    /* Allowed anywhere in an answer: clients check every packet of an
     * answer for the ERR header. */
    if (c->reply == SQL__R_NONE)
        return SQL_ESTATE;
    if (code == 0) { /* a defect above: never an error without a number
                        (clients report "error packet without further
                        information", and nothing says what failed) */
        code = 1105;
        sqlstate = "HY000";
        if (!msg || !*msg)
            msg = "internal error: a statement failed without a message";
    }
    int rc = sql__send_err(c, code, sqlstate, msg);
    if (rc != 0)
        return rc;
    if (c->reply == SQL__R_PREPDEFS)
        sql__stmt_forget(c, c->prep_id);
    sql__reply_done(c, false);
    return 0;
}

static int cols_reserve(struct sql_proto_conn *c, size_t n)
{
    if (n <= c->cols_cap)
        return 0;
    struct sql__colinfo *a = sql__realloc(c->cols, n * sizeof *a);
    if (a == NULL)
        return -ENOMEM;
    c->cols = a;
    c->cols_cap = n;
    return 0;
}

int sql_reply_columns(struct sql_proto_conn *c, size_t ncolumns)
{
    if (c->reply != SQL__R_START || !is_multi(c) || ncolumns == 0 ||
        ncolumns > 4096)
        return SQL_ESTATE;
    int rc = cols_reserve(c, ncolumns);
    if (rc != 0)
        return rc;
    size_t start;
    rc = sql__pkt_begin(c, &start);
    rc = rc ? rc : sql__buf_lenenc(&c->out, ncolumns);
    rc = finish(c, start, rc);
    if (rc != 0)
        return rc;
    c->ncols = ncolumns;
    c->cols_seen = 0;
    c->reply = SQL__R_COLDEFS;
    return 0;
}

static const char *nz(const char *s)
{
    return s ? s : "";
}

/* Protocol::ColumnDefinition41: "def" schema table org_table name
 * org_name (lenenc strings), 0x0C, charset(2) length(4) type(1) flags(2)
 * decimals(1) filler(2) [COM_FIELD_LIST: default value (lenenc/0xFB)]. */
static int send_coldef(struct sql_proto_conn *c, const struct sql_column *col,
                       bool field_list)
{
    const char *strs[6] = {"def",          nz(col->db),   nz(col->table),
                           nz(col->org_table), nz(col->name),
                           nz(col->org_name)};
    size_t start;
    int rc = sql__pkt_begin(c, &start);
    for (size_t i = 0; i < 6 && rc == 0; i++)
        rc = sql__buf_lenenc_str(&c->out, strs[i], strlen(strs[i]));
    rc = rc ? rc : sql__buf_u8(&c->out, 0x0C);
    rc = rc ? rc : sql__buf_u16(&c->out, col->charset);
    rc = rc ? rc : sql__buf_u32(&c->out, col->length);
    rc = rc ? rc : sql__buf_u8(&c->out, col->type);
    rc = rc ? rc : sql__buf_u16(&c->out, col->flags);
    rc = rc ? rc : sql__buf_u8(&c->out, col->decimals);
    rc = rc ? rc : sql__buf_u16(&c->out, 0);
    if (field_list) {
        if (col->default_value == NULL)
            rc = rc ? rc : sql__buf_u8(&c->out, 0xFB);
        else
            rc = rc ? rc
                    : sql__buf_lenenc_str(&c->out, col->default_value,
                                          strlen(col->default_value));
    }
    return finish(c, start, rc);
}

int sql_reply_column(struct sql_proto_conn *c, const struct sql_column *col)
{
    bool deprecate = (c->caps & SQL_CLIENT_DEPRECATE_EOF) != 0;
    int rc;
    if (c->reply == SQL__R_START && c->cmd_kind == SQL_CMD_FIELD_LIST)
        return send_coldef(c, col, true);
    if (c->reply == SQL__R_COLDEFS) {
        rc = send_coldef(c, col, false);
        if (rc != 0)
            return rc;
        c->cols[c->cols_seen].type = col->type;
        c->cols[c->cols_seen].decimals = col->decimals;
        c->cols[c->cols_seen].flags = col->flags;
        if (++c->cols_seen < c->ncols)
            return 0;
        c->reply = SQL__R_ROWS;
        return deprecate ? 0 : sql__send_eof(c, 0, c->status);
    }
    if (c->reply == SQL__R_PREPDEFS) {
        rc = send_coldef(c, col, false);
        if (rc != 0)
            return rc;
        c->cols_seen++;
        if (!deprecate && c->cols_seen == c->prep_params &&
            c->prep_params > 0)
            rc = sql__send_eof(c, 0, c->status);
        if (rc == 0 && c->cols_seen == c->ncols) {
            if (!deprecate && c->ncols > c->prep_params)
                rc = sql__send_eof(c, 0, c->status);
            if (rc == 0)
                sql__reply_done(c, true);
        }
        return rc;
    }
    return SQL_ESTATE;
}

int sql_reply_prepared(struct sql_proto_conn *c, uint16_t nparams,
                       uint16_t ncolumns, uint16_t warnings)
{
    if (c->reply != SQL__R_START || c->cmd_kind != SQL_CMD_STMT_PREPARE)
        return SQL_ESTATE;
    int rc = sql__stmt_add(c, c->prep_id, nparams, ncolumns);
    if (rc != 0)
        return rc;
    /* COM_STMT_PREPARE_OK: 0x00 stmt_id(4) columns(2) params(2)
     * reserved(1) warnings(2). */
    size_t start;
    rc = sql__pkt_begin(c, &start);
    rc = rc ? rc : sql__buf_u8(&c->out, 0x00);
    rc = rc ? rc : sql__buf_u32(&c->out, c->prep_id);
    rc = rc ? rc : sql__buf_u16(&c->out, ncolumns);
    rc = rc ? rc : sql__buf_u16(&c->out, nparams);
    rc = rc ? rc : sql__buf_u8(&c->out, 0);
    rc = rc ? rc : sql__buf_u16(&c->out, warnings);
    rc = finish(c, start, rc);
    if (rc != 0) {
        sql__stmt_forget(c, c->prep_id); /* the client never learnt it */
        return rc;
    }
    if (nparams == 0 && ncolumns == 0) {
        sql__reply_done(c, true);
        return 0;
    }
    c->prep_params = nparams;
    c->ncols = (size_t)nparams + ncolumns;
    c->cols_seen = 0;
    c->reply = SQL__R_PREPDEFS;
    return 0;
}

int sql_reply_text(struct sql_proto_conn *c, const char *text, size_t len)
{
    if (c->reply != SQL__R_START || c->cmd_kind != SQL_CMD_STATISTICS)
        return SQL_ESTATE;
    size_t start;
    int rc = sql__pkt_begin(c, &start);
    rc = rc ? rc : sql__buf_put(&c->out, text, len);
    rc = finish(c, start, rc);
    if (rc == 0)
        sql__reply_done(c, true);
    return rc;
}

int sql_reply_end(struct sql_proto_conn *c, const struct sql_ok *ok)
{
    bool field_list =
        c->reply == SQL__R_START && c->cmd_kind == SQL_CMD_FIELD_LIST;
    if (c->reply != SQL__R_ROWS && !field_list)
        return SQL_ESTATE;
    struct sql_ok o = *ok;
    bool more = !field_list && (o.status & SQL_SERVER_MORE_RESULTS_EXISTS);
    if (!more)
        o.status &= (uint16_t)~SQL_SERVER_MORE_RESULTS_EXISTS;
    int rc = sql__send_end(c, &o);
    if (rc != 0)
        return rc;
    c->status = (uint16_t)(o.status & ~SQL_SERVER_MORE_RESULTS_EXISTS);
    if (more)
        c->reply = SQL__R_START;
    else
        sql__reply_done(c, true);
    return 0;
}

/* ------------------------------------------------------------------ */
/* Row values. */

static bool is_date_type(uint8_t t)
{
    return t == SQL_TYPE_DATE || t == SQL_TYPE_NEWDATE;
}

/* A double as MySQL shows one: the shortest digits that read back (15 to
 * 17), in plain notation while the decimal exponent is within -15..14 and
 * as d.ddde[-]N otherwise, without '+' or leading zeros (observed: 1e14 ->
 * 100000000000000, 1e15 -> 1e15, 1e-15 -> 0.000000000000001, 1e-16 ->
 * 1e-16, 2.3e15 -> 2.3e15). */
/* The shortest digits (no trailing zeros) of a finite d that read back as
 * d, its decimal exponent and sign: d = [-]0.digits * 10^(exp + 1). */
static int shortest_digits(double d, char digits[24], int *exp, bool *neg)
{
    char e[48];
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(e, sizeof e, "%.*e", prec - 1, d);
        if (strtod(e, NULL) == d)
            break;
    }
    /* e is [-]D[.DDD]e(+|-)XX */
    *neg = e[0] == '-';
    int nd = 0;
    const char *p = e + (*neg ? 1 : 0);
    for (; *p != '\0' && *p != 'e' && nd < 23; p++)
        if (*p != '.')
            digits[nd++] = *p;
    *exp = *p == 'e' ? atoi(p + 1) : 0;
    while (nd > 1 && digits[nd - 1] == '0')
        nd--;
    return nd;
}

static void format_double_plain(double d, char *buf, size_t cap)
{
    if (!isfinite(d)) {
        snprintf(buf, cap, "%g", d);
        return;
    }
    bool neg;
    char digits[24];
    int exp;
    int nd = shortest_digits(d, digits, &exp, &neg);
    char *o = buf, *end = buf + cap - 1;
#define PUT(ch)             \
    do {                    \
        if (o < end)        \
            *o++ = (ch);    \
    } while (0)
    if (neg)
        PUT('-');
    if (exp < -15 || exp > 14) {
        PUT(digits[0]);
        if (nd > 1)
            PUT('.');
        for (int i = 1; i < nd; i++)
            PUT(digits[i]);
        *o = '\0';
        snprintf(o, (size_t)(end - o) + 1, "e%d", exp);
        return;
    }
    if (exp < 0) {
        PUT('0');
        PUT('.');
        for (int i = -1; i > exp; i--)
            PUT('0');
        for (int i = 0; i < nd; i++)
            PUT(digits[i]);
    } else {
        for (int i = 0; i <= exp; i++)
            PUT(i < nd ? digits[i] : '0');
        if (nd > exp + 1) {
            PUT('.');
            for (int i = exp + 1; i < nd; i++)
                PUT(digits[i]);
        }
    }
#undef PUT
    *o = '\0';
}

/* A double for its column: fixed decimals when the column has them,
 * FLOAT as the shortest "%.*g" that reads back as the same float, else as
 * MySQL shows a double. */
static void format_double(const struct sql__colinfo *ci, double d, char *buf,
                          size_t cap)
{
    if (ci->decimals < 31 &&
        (ci->type == SQL_TYPE_FLOAT || ci->type == SQL_TYPE_DOUBLE ||
         ci->type == SQL_TYPE_NEWDECIMAL || ci->type == SQL_TYPE_DECIMAL)) {
        (void)sql__double_fixed_text(d, (int)ci->decimals, buf, cap);
        return;
    }
    if (ci->type == SQL_TYPE_FLOAT) {
        float f = (float)d;
        for (int prec = 6; prec <= 9; prec++) {
            snprintf(buf, cap, "%.*g", prec, (double)f);
            if (strtof(buf, NULL) == f)
                return;
        }
        return;
    }
    format_double_plain(d, buf, cap);
}

/* ".ffffff" cut to the column's decimals (all six when not fixed and the
 * value has any). */
static void format_frac(const struct sql__colinfo *ci, uint32_t micro,
                        char *buf, size_t cap)
{
    unsigned dec = ci->decimals;
    if (dec > 6)
        dec = micro ? 6 : 0;
    if (dec == 0) {
        buf[0] = '\0';
        return;
    }
    unsigned v = micro % 1000000;
    for (unsigned i = dec; i < 6; i++)
        v /= 10;
    snprintf(buf, cap, ".%0*u", (int)dec, v);
}

/* Decimal digits of v into buf (no NUL); returns their count. Faster
 * than snprintf, which text rows would otherwise spend most time in. */
static size_t fmt_u64(char *buf, uint64_t v)
{
    char tmp[20];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    for (size_t i = 0; i < n; i++)
        buf[i] = tmp[n - 1 - i];
    return n;
}

static size_t fmt_i64(char *buf, int64_t v)
{
    if (v >= 0)
        return fmt_u64(buf, (uint64_t)v);
    buf[0] = '-';
    return 1 + fmt_u64(buf + 1, (uint64_t)0 - (uint64_t)v);
}

/* v in exactly width digits, zero-padded (v < 10^width). */
static char *fmt_pad(char *buf, unsigned v, int width)
{
    for (int i = width - 1; i >= 0; i--) {
        buf[i] = (char)('0' + v % 10);
        v /= 10;
    }
    return buf + width;
}

/* The text form of a value for its column; *p may point into tmp. */
static void text_of(const struct sql__colinfo *ci, const struct sql_value *v,
                    char *tmp, size_t cap, const char **p, size_t *n)
{
    char frac[16];
    const struct sql_time *t = &v->v.t;
    *p = tmp;
    switch (v->kind) {
    case SQL_VALUE_INT:
        *n = fmt_i64(tmp, v->v.i);
        return;
    case SQL_VALUE_UINT:
        *n = fmt_u64(tmp, v->v.u);
        return;
    case SQL_VALUE_DOUBLE:
        format_double(ci, v->v.d, tmp, cap);
        break;
    case SQL_VALUE_DATETIME: {
        char *e = fmt_pad(tmp, t->year % 10000u, 4);
        *e++ = '-';
        e = fmt_pad(e, t->month % 100u, 2);
        *e++ = '-';
        e = fmt_pad(e, t->day % 100u, 2);
        if (!is_date_type(ci->type)) {
            *e++ = ' ';
            e = fmt_pad(e, t->hour % 100u, 2);
            *e++ = ':';
            e = fmt_pad(e, t->minute % 100u, 2);
            *e++ = ':';
            e = fmt_pad(e, t->second % 100u, 2);
            format_frac(ci, t->micro, frac, sizeof frac);
            size_t fl = strlen(frac);
            memcpy(e, frac, fl);
            e += fl;
        }
        *n = (size_t)(e - tmp);
        return;
    }
    case SQL_VALUE_TIME:
        format_frac(ci, t->micro, frac, sizeof frac);
        snprintf(tmp, cap, "%s%02u:%02u:%02u%s", t->negative ? "-" : "",
                 (unsigned)t->hour, (unsigned)t->minute,
                 (unsigned)t->second, frac);
        break;
    case SQL_VALUE_BYTES:
        *p = v->v.s.p ? v->v.s.p : "";
        *n = v->v.s.p ? v->v.s.len : 0;
        return;
    default:
        tmp[0] = '\0';
        break;
    }
    *n = strlen(tmp);
}

/* Parse a NUL-free decimal integer of at most 31 characters. */
static int parse_int(const struct sql_value *v, bool want_unsigned,
                     int64_t *i, uint64_t *u)
{
    char tmp[32];
    size_t n = v->v.s.len;
    if (n == 0 || n >= sizeof tmp || v->v.s.p == NULL)
        return SQL_ETYPE;
    memcpy(tmp, v->v.s.p, n);
    tmp[n] = '\0';
    for (size_t k = 0; k < n; k++)
        if (!((tmp[k] >= '0' && tmp[k] <= '9') ||
              (k == 0 && (tmp[k] == '-' || tmp[k] == '+'))))
            return SQL_ETYPE;
    char *end;
    errno = 0;
    if (want_unsigned && tmp[0] != '-')
        *u = strtoull(tmp, &end, 10);
    else
        *i = strtoll(tmp, &end, 10);
    if (errno != 0 || *end != '\0' || end == tmp)
        return SQL_ETYPE;
    return want_unsigned && tmp[0] != '-' ? 1 : 0;
}

/* The low `bytes` bytes of an integer value checked to fit the column:
 * signed range unless the column is UNSIGNED (YEAR is). */
static int int_bits(const struct sql__colinfo *ci, const struct sql_value *v,
                    size_t bytes, uint64_t *out)
{
    bool uns = (ci->flags & SQL_COLFLAG_UNSIGNED) || ci->type == SQL_TYPE_YEAR;
    unsigned bits = (unsigned)(bytes * 8);
    uint64_t umax = bits == 64 ? UINT64_MAX : (UINT64_C(1) << bits) - 1;
    int64_t smax = (int64_t)(umax >> 1);
    int64_t smin = -smax - 1;
    int64_t i = 0;
    uint64_t u = 0;
    bool is_u;
    if (v->kind == SQL_VALUE_INT) {
        i = v->v.i;
        is_u = false;
    } else if (v->kind == SQL_VALUE_UINT) {
        u = v->v.u;
        is_u = true;
    } else if (v->kind == SQL_VALUE_BYTES) {
        int rc = parse_int(v, uns, &i, &u);
        if (rc < 0)
            return rc;
        is_u = rc == 1;
    } else {
        return SQL_ETYPE;
    }
    if (uns) {
        if (!is_u) {
            if (i < 0)
                return SQL_ETYPE;
            u = (uint64_t)i;
        }
        if (u > umax)
            return SQL_ETYPE;
        *out = u;
    } else {
        if (is_u) {
            if (u > (uint64_t)smax)
                return SQL_ETYPE;
            i = (int64_t)u;
        }
        if (i < smin || i > smax)
            return SQL_ETYPE;
        *out = (uint64_t)i;
    }
    return 0;
}

static int double_of(const struct sql_value *v, double *d)
{
    switch (v->kind) {
    case SQL_VALUE_DOUBLE:
        *d = v->v.d;
        return 0;
    case SQL_VALUE_INT:
        *d = (double)v->v.i;
        return 0;
    case SQL_VALUE_UINT:
        *d = (double)v->v.u;
        return 0;
    case SQL_VALUE_BYTES: {
        char tmp[64];
        size_t n = v->v.s.len;
        if (n == 0 || n >= sizeof tmp || v->v.s.p == NULL ||
            memchr(v->v.s.p, 0, n) != NULL)
            return SQL_ETYPE;
        memcpy(tmp, v->v.s.p, n);
        tmp[n] = '\0';
        char *end;
        *d = strtod(tmp, &end);
        return *end == '\0' ? 0 : SQL_ETYPE;
    }
    default:
        return SQL_ETYPE;
    }
}

/* One non-NULL value in the binary protocol (ProtocolBinary::*). */
static int put_binary(struct sql__buf *b, const struct sql__colinfo *ci,
                      const struct sql_value *v)
{
    uint64_t bits;
    double d;
    int rc;
    size_t width = 0;
    switch (ci->type) {
    case SQL_TYPE_TINY:
        width = 1;
        break;
    case SQL_TYPE_SHORT:
    case SQL_TYPE_YEAR:
        width = 2;
        break;
    case SQL_TYPE_LONG:
    case SQL_TYPE_INT24:
        width = 4;
        break;
    case SQL_TYPE_LONGLONG:
        width = 8;
        break;
    case SQL_TYPE_FLOAT: {
        rc = double_of(v, &d);
        if (rc != 0)
            return rc;
        float f = (float)d;
        uint32_t x;
        memcpy(&x, &f, 4);
        return sql__buf_u32(b, x);
    }
    case SQL_TYPE_DOUBLE: {
        rc = double_of(v, &d);
        if (rc != 0)
            return rc;
        uint64_t x;
        memcpy(&x, &d, 8);
        return sql__buf_u64(b, x);
    }
    case SQL_TYPE_DATE:
    case SQL_TYPE_NEWDATE:
    case SQL_TYPE_DATETIME:
    case SQL_TYPE_TIMESTAMP: {
        /* length(1) then year(2) month day [hour min sec [micro(4)]]:
         * 0, 4, 7 or 11 bytes, the shortest that holds the value. */
        if (v->kind != SQL_VALUE_DATETIME)
            return SQL_ETYPE;
        const struct sql_time *t = &v->v.t;
        uint8_t n = 11;
        if (t->micro == 0)
            n = 7;
        if (n == 7 && t->hour == 0 && t->minute == 0 && t->second == 0)
            n = 4;
        if (is_date_type(ci->type))
            n = 4;
        if (n == 4 && t->year == 0 && t->month == 0 && t->day == 0)
            n = 0;
        rc = sql__buf_u8(b, n);
        if (n >= 4) {
            rc = rc ? rc : sql__buf_u16(b, t->year);
            rc = rc ? rc : sql__buf_u8(b, t->month);
            rc = rc ? rc : sql__buf_u8(b, t->day);
        }
        if (n >= 7) {
            rc = rc ? rc : sql__buf_u8(b, (uint8_t)t->hour);
            rc = rc ? rc : sql__buf_u8(b, t->minute);
            rc = rc ? rc : sql__buf_u8(b, t->second);
        }
        if (n == 11)
            rc = rc ? rc : sql__buf_u32(b, t->micro);
        return rc;
    }
    case SQL_TYPE_TIME: {
        /* length(1) then negative(1) days(4) hour min sec [micro(4)]:
         * 0, 8 or 12 bytes. */
        if (v->kind != SQL_VALUE_TIME)
            return SQL_ETYPE;
        const struct sql_time *t = &v->v.t;
        uint8_t n = t->micro ? 12 : 8;
        if (n == 8 && t->hour == 0 && t->minute == 0 && t->second == 0)
            n = 0;
        rc = sql__buf_u8(b, n);
        if (n >= 8) {
            rc = rc ? rc : sql__buf_u8(b, t->negative ? 1 : 0);
            rc = rc ? rc : sql__buf_u32(b, t->hour / 24);
            rc = rc ? rc : sql__buf_u8(b, (uint8_t)(t->hour % 24));
            rc = rc ? rc : sql__buf_u8(b, t->minute);
            rc = rc ? rc : sql__buf_u8(b, t->second);
        }
        if (n == 12)
            rc = rc ? rc : sql__buf_u32(b, t->micro);
        return rc;
    }
    case SQL_TYPE_NULL:
        return SQL_ETYPE;
    default: {
        /* Strings, DECIMAL, blobs, BIT, ENUM, SET, JSON, GEOMETRY. */
        char tmp[400]; /* a double in fixed decimals: up to 342 (F3) */
        const char *p;
        size_t n;
        text_of(ci, v, tmp, sizeof tmp, &p, &n);
        return sql__buf_lenenc_str(b, p, n);
    }
    }
    rc = int_bits(ci, v, width, &bits);
    if (rc != 0)
        return rc;
    for (size_t k = 0; k < width && rc == 0; k++)
        rc = sql__buf_u8(b, (uint8_t)(bits >> (8 * k)));
    return rc;
}

int sql_reply_row(struct sql_proto_conn *c, const struct sql_value *values,
                  size_t n)
{
    if (c->reply != SQL__R_ROWS || n != c->ncols)
        return SQL_ESTATE;
    size_t start;
    int rc = sql__pkt_begin(c, &start);
    if (c->binary_rows) {
        /* 0x00, NULL bitmap of (n + 7 + 2) / 8 bytes with an offset of 2
         * bits, then each non-NULL value. */
        size_t nb = (n + 9) / 8;
        rc = rc ? rc : sql__buf_u8(&c->out, 0x00);
        size_t bm = c->out.len;
        for (size_t i = 0; i < nb && rc == 0; i++)
            rc = sql__buf_u8(&c->out, 0);
        for (size_t i = 0; i < n && rc == 0; i++) {
            if (values[i].kind == SQL_VALUE_NULL) {
                c->out.p[bm + (i + 2) / 8] |= (uint8_t)(1u << ((i + 2) % 8));
                continue;
            }
            rc = put_binary(&c->out, &c->cols[i], &values[i]);
        }
    } else {
        /* Each value as a length-encoded string, NULL as 0xFB. */
        for (size_t i = 0; i < n && rc == 0; i++) {
            if (values[i].kind == SQL_VALUE_NULL) {
                rc = sql__buf_u8(&c->out, 0xFB);
                continue;
            }
            if (values[i].kind < SQL_VALUE_NULL ||
                values[i].kind > SQL_VALUE_TIME) {
                rc = SQL_ETYPE;
                break;
            }
            char tmp[400]; /* %.30f of 1.8e308 is 340 characters (F3) */
            const char *p;
            size_t len;
            text_of(&c->cols[i], &values[i], tmp, sizeof tmp, &p, &len);
            rc = sql__buf_lenenc_str(&c->out, p, len);
        }
    }
    return finish(c, start, rc);
}
