/* sysvar.c: the system variable table and value checks (sysvar.h). The
 * defaults are MySQL 8.0's where clients depend on them (sql_mode,
 * max_allowed_packet, autocommit, isolation, character sets).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "arena.h"
#include "expr.h"
#include "sql_int.h"
#include "sysvar.h"

static const char *const isolations[] = {
    "READ-UNCOMMITTED", "READ-COMMITTED", "REPEATABLE-READ", "SERIALIZABLE",
    NULL};
static const char *const txn_modes[] = {"OPTIMISTIC", "PESSIMISTIC", NULL};
static const char *const onoff_strs[] = {"OFF", "ON", NULL};

#define G SYSVAR_GLOBAL
#define S SYSVAR_SESSION
#define GS (SYSVAR_GLOBAL | SYSVAR_SESSION)
#define RO SYSVAR_RO
#define MAXU UINT64_MAX

static const struct sysvar_def defs[] = {
    {"auto_increment_increment", SYSVAR_UINT, GS, "1", 1, 65535, NULL},
    {"auto_increment_offset", SYSVAR_UINT, GS, "1", 1, 65535, NULL},
    {"autocommit", SYSVAR_BOOL, GS, "1", 0, 1, NULL},
    {"big_tables", SYSVAR_BOOL, GS, "0", 0, 1, NULL},
    {"binlog_format", SYSVAR_STR, GS, "ROW", 0, 0, NULL},
    {"character_set_client", SYSVAR_STR, GS, "utf8mb4", 0, 0, NULL},
    {"character_set_connection", SYSVAR_STR, GS, "utf8mb4", 0, 0, NULL},
    {"character_set_database", SYSVAR_STR, GS, "utf8mb4", 0, 0, NULL},
    {"character_set_filesystem", SYSVAR_STR, GS, "binary", 0, 0, NULL},
    {"character_set_results", SYSVAR_STR, GS, "utf8mb4", 0, 0, NULL},
    {"character_set_server", SYSVAR_STR, GS, "utf8mb4", 0, 0, NULL},
    {"character_set_system", SYSVAR_STR, G | RO, "utf8mb3", 0, 0, NULL},
    {"collation_connection", SYSVAR_STR, GS, "utf8mb4_general_ci", 0, 0, NULL},
    {"collation_database", SYSVAR_STR, GS, "utf8mb4_general_ci", 0, 0, NULL},
    {"collation_server", SYSVAR_STR, GS, "utf8mb4_general_ci", 0, 0, NULL},
    {"cte_max_recursion_depth", SYSVAR_UINT, GS, "1000", 0, 4294967295u, NULL},
    {"default_storage_engine", SYSVAR_STR, GS, "InnoDB", 0, 0, NULL},
    {"default_week_format", SYSVAR_UINT, GS, "0", 0, 7, NULL},
    {"div_precision_increment", SYSVAR_UINT, GS, "4", 0, 30, NULL},
    {"explicit_defaults_for_timestamp", SYSVAR_BOOL, GS, "1", 0, 1, NULL},
    {"foreign_key_checks", SYSVAR_BOOL, GS, "1", 0, 1, NULL},
    {"group_concat_max_len", SYSVAR_UINT, GS, "1024", 4, MAXU, NULL},
    {"gtid_mode", SYSVAR_STR, G | RO, "OFF", 0, 0, NULL},
    {"have_ssl", SYSVAR_STR, G | RO, "DISABLED", 0, 0, NULL},
    {"hostname", SYSVAR_STR, G | RO, "localhost", 0, 0, NULL},
    {"init_connect", SYSVAR_STR, G, "", 0, 0, NULL},
    {"innodb_lock_wait_timeout", SYSVAR_UINT, GS, "50", 1, 1073741824, NULL},
    {"interactive_timeout", SYSVAR_UINT, GS, "28800", 1, 31536000, NULL},
    {"license", SYSVAR_STR, G | RO, "GPL", 0, 0, NULL},
    {"lock_wait_timeout", SYSVAR_UINT, GS, "31536000", 1, 31536000, NULL},
    {"log_bin", SYSVAR_BOOL, G | RO, "0", 0, 1, NULL},
    {"lower_case_table_names", SYSVAR_UINT, G | RO, "0", 0, 2, NULL},
    {"max_allowed_packet", SYSVAR_UINT, GS, "67108864", 1024, 1073741824, NULL},
    {"max_connections", SYSVAR_UINT, G, "1024", 1, 100000, NULL},
    {"max_execution_time", SYSVAR_UINT, GS, "0", 0, 4294967295u, NULL},
    {"net_buffer_length", SYSVAR_UINT, GS, "16384", 1024, 1048576, NULL},
    {"net_read_timeout", SYSVAR_UINT, GS, "30", 1, 31536000, NULL},
    {"net_write_timeout", SYSVAR_UINT, GS, "60", 1, 31536000, NULL},
    {"performance_schema", SYSVAR_BOOL, G | RO, "0", 0, 1, NULL},
    {"port", SYSVAR_UINT, G | RO, "4000", 0, 65535, NULL},
    {"query_cache_size", SYSVAR_UINT, G, "0", 0, MAXU, NULL},
    {"query_cache_type", SYSVAR_ENUM, GS, "OFF", 0, 0, onoff_strs},
    {"require_secure_transport", SYSVAR_BOOL, G, "0", 0, 1, NULL},
    {"server_id", SYSVAR_UINT, G, "1", 0, 4294967295u, NULL},
    {"session_track_gtids", SYSVAR_STR, GS, "OFF", 0, 0, NULL},
    {"sql_auto_is_null", SYSVAR_BOOL, GS, "0", 0, 1, NULL},
    {"sql_mode", SYSVAR_MODE, GS,
     "ONLY_FULL_GROUP_BY,STRICT_TRANS_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,"
     "ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION",
     0, 0, NULL},
    {"sql_notes", SYSVAR_BOOL, GS, "1", 0, 1, NULL},
    {"sql_quote_show_create", SYSVAR_BOOL, GS, "1", 0, 1, NULL},
    {"sql_safe_updates", SYSVAR_BOOL, GS, "0", 0, 1, NULL},
    {"sql_select_limit", SYSVAR_UINT, GS, "18446744073709551615", 0, MAXU,
     NULL},
    {"sql_warnings", SYSVAR_BOOL, GS, "0", 0, 1, NULL},
    {"system_time_zone", SYSVAR_STR, G | RO, "UTC", 0, 0, NULL},
    {"tidb_allow_coprocessor", SYSVAR_BOOL, GS, "1", 0, 1, NULL},
    {"tidb_mem_quota_query", SYSVAR_UINT, GS, "1073741824", 0, MAXU, NULL},
    {"time_zone", SYSVAR_STR, GS, "SYSTEM", 0, 0, NULL},
    {"transaction_isolation", SYSVAR_ENUM, GS, "REPEATABLE-READ", 0, 0,
     isolations},
    {"transaction_read_only", SYSVAR_BOOL, GS, "0", 0, 1, NULL},
    {"txn_mode", SYSVAR_ENUM, GS, "OPTIMISTIC", 0, 0, txn_modes},
    {"unique_checks", SYSVAR_BOOL, GS, "1", 0, 1, NULL},
    {"version", SYSVAR_STR, G | RO, "", 0, 0, NULL},
    {"version_comment", SYSVAR_STR, G | RO,
     "dsql: distributed SQL on libmvcc", 0, 0, NULL},
    {"version_compile_machine", SYSVAR_STR, G | RO, "x86_64", 0, 0, NULL},
    {"version_compile_os", SYSVAR_STR, G | RO, "Linux", 0, 0, NULL},
    {"wait_timeout", SYSVAR_UINT, GS, "28800", 1, 31536000, NULL},
};
#define NDEFS (sizeof(defs) / sizeof(defs[0]))

static const struct
{
    const char *alias; /* old name */
    const char *name;  /* the variable it means */
} aliases[] = {
    {"tx_isolation", "transaction_isolation"},
    {"tx_read_only", "transaction_read_only"},
    {"storage_engine", "default_storage_engine"},
    {"tidb_txn_mode", "txn_mode"},
};

size_t sql__sysvar_count(void)
{
    return NDEFS;
}

const struct sysvar_def *sql__sysvar_def(size_t i)
{
    return i < NDEFS ? &defs[i] : NULL;
}

int sql__sysvar_find(const char *name)
{
    for (size_t i = 0; i < sizeof(aliases) / sizeof(aliases[0]); i++)
        if (strcasecmp(name, aliases[i].alias) == 0)
            name = aliases[i].name;
    for (size_t i = 0; i < NDEFS; i++)
        if (strcasecmp(name, defs[i].name) == 0)
            return (int)i;
    return -1;
}

static char *dup(const char *s)
{
    size_t n = strlen(s);
    char *p = sql__malloc(n + 1);
    if (p)
        memcpy(p, s, n + 1);
    return p;
}

static int set_text(struct sysvar_val *v, const char *text, uint64_t u)
{
    char *p = dup(text);
    if (!p)
        return -ENOMEM;
    sql__free(v->text);
    v->text = p;
    v->u = u;
    return 0;
}

void sql__sysvar_free(struct sysvar_val *v)
{
    if (!v)
        return;
    for (size_t i = 0; i < NDEFS; i++)
        sql__free(v[i].text);
    sql__free(v);
}

int sql__sysvar_init(struct sysvar_val **out, const char *version)
{
    struct sysvar_val *v = sql__calloc(NDEFS, sizeof(*v));
    if (!v)
        return -ENOMEM;
    for (size_t i = 0; i < NDEFS; i++) {
        const char *d = defs[i].def;
        if (strcmp(defs[i].name, "version") == 0)
            d = version;
        uint64_t u = defs[i].kind == SYSVAR_MODE ? sql__sql_mode_bits(d)
                                                 : strtoull(d, NULL, 10);
        if (set_text(&v[i], d, u) != 0) {
            sql__sysvar_free(v);
            return -ENOMEM;
        }
    }
    *out = v;
    return 0;
}

int sql__sysvar_copy(struct sysvar_val **out, const struct sysvar_val *from)
{
    struct sysvar_val *v = sql__calloc(NDEFS, sizeof(*v));
    if (!v)
        return -ENOMEM;
    for (size_t i = 0; i < NDEFS; i++)
        if (set_text(&v[i], from[i].text, from[i].u) != 0) {
            sql__sysvar_free(v);
            return -ENOMEM;
        }
    *out = v;
    return 0;
}

static const struct
{
    const char *name; /* mode name */
    uint32_t bit;     /* SQL_MODE_* */
} modes[] = {
    {"REAL_AS_FLOAT", SQL_MODE_REAL_AS_FLOAT},
    {"PIPES_AS_CONCAT", SQL_MODE_PIPES_AS_CONCAT},
    {"ANSI_QUOTES", SQL_MODE_ANSI_QUOTES},
    {"IGNORE_SPACE", 0},
    {"ONLY_FULL_GROUP_BY", SQL_MODE_ONLY_FULL_GROUP_BY},
    {"NO_UNSIGNED_SUBTRACTION", SQL_MODE_NO_UNSIGNED_SUBTRACTION},
    {"NO_DIR_IN_CREATE", 0},
    {"NO_AUTO_VALUE_ON_ZERO", SQL_MODE_NO_AUTO_VALUE_ON_ZERO},
    {"NO_BACKSLASH_ESCAPES", SQL_MODE_NO_BACKSLASH_ESCAPES},
    {"STRICT_TRANS_TABLES", SQL_MODE_STRICT_TRANS_TABLES},
    {"STRICT_ALL_TABLES", SQL_MODE_STRICT_ALL_TABLES},
    {"NO_ZERO_IN_DATE", SQL_MODE_NO_ZERO_IN_DATE},
    {"NO_ZERO_DATE", SQL_MODE_NO_ZERO_DATE},
    {"ALLOW_INVALID_DATES", 0},
    {"ERROR_FOR_DIVISION_BY_ZERO", SQL_MODE_ERROR_FOR_DIVISION_BY_ZERO},
    {"TRADITIONAL", 0},
    {"HIGH_NOT_PRECEDENCE", SQL_MODE_HIGH_NOT_PRECEDENCE},
    {"NO_ENGINE_SUBSTITUTION", SQL_MODE_NO_ENGINE_SUBSTITUTION},
    {"PAD_CHAR_TO_FULL_LENGTH", 0},
    {"TIME_TRUNCATE_FRACTIONAL", 0},
    {"ANSI", 0},
};
#define NMODES (sizeof(modes) / sizeof(modes[0]))

uint32_t sql__sql_mode_bits(const char *text)
{
    uint32_t bits = 0;
    const char *p = text;
    while (*p) {
        const char *e = strchr(p, ',');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        for (size_t i = 0; i < NMODES; i++)
            if (strlen(modes[i].name) == n &&
                strncasecmp(modes[i].name, p, n) == 0)
                bits |= modes[i].bit;
        p += n;
        if (*p == ',')
            p++;
    }
    return bits;
}

/* Canonical sql_mode text: known names, upper case, in table order;
 * TRADITIONAL and ANSI expand as MySQL expands them. */
static int mode_canon(const char *text, char *out, size_t outlen, char *bad,
                      size_t badlen)
{
    bool on[NMODES] = {false};
    const char *p = text;
    while (*p) {
        const char *e = strchr(p, ',');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        while (n > 0 && p[0] == ' ') {
            p++;
            n--;
        }
        while (n > 0 && p[n - 1] == ' ')
            n--;
        if (n > 0) {
            size_t i;
            for (i = 0; i < NMODES; i++)
                if (strlen(modes[i].name) == n &&
                    strncasecmp(modes[i].name, p, n) == 0)
                    break;
            if (i == NMODES) {
                snprintf(bad, badlen, "%.*s", (int)n, p);
                return -1;
            }
            on[i] = true;
            if (strcmp(modes[i].name, "TRADITIONAL") == 0) {
                static const char *const t[] = {
                    "STRICT_TRANS_TABLES", "STRICT_ALL_TABLES",
                    "NO_ZERO_IN_DATE", "NO_ZERO_DATE",
                    "ERROR_FOR_DIVISION_BY_ZERO", "NO_ENGINE_SUBSTITUTION"};
                for (size_t k = 0; k < NMODES; k++)
                    for (size_t j = 0; j < 6; j++)
                        if (strcmp(modes[k].name, t[j]) == 0)
                            on[k] = true;
            }
            if (strcmp(modes[i].name, "ANSI") == 0) {
                static const char *const t[] = {
                    "REAL_AS_FLOAT", "PIPES_AS_CONCAT", "ANSI_QUOTES",
                    "IGNORE_SPACE", "ONLY_FULL_GROUP_BY"};
                for (size_t k = 0; k < NMODES; k++)
                    for (size_t j = 0; j < 5; j++)
                        if (strcmp(modes[k].name, t[j]) == 0)
                            on[k] = true;
            }
        }
        p += e ? (size_t)(e - p) + 1 : strlen(p);
    }
    size_t len = 0;
    out[0] = '\0';
    for (size_t i = 0; i < NMODES; i++)
        if (on[i]) {
            int w = snprintf(out + len, outlen - len, "%s%s",
                             len ? "," : "", modes[i].name);
            if (w < 0 || (size_t)w >= outlen - len)
                return -1;
            len += (size_t)w;
        }
    return 0;
}

int sql__sysvar_assign(size_t i, struct sysvar_val *v, const char *text,
                       bool num, char *msg, size_t msglen)
{
    const struct sysvar_def *d = &defs[i];
    char buf[512];
    switch (d->kind) {
    case SYSVAR_BOOL: {
        uint64_t u;
        if (strcasecmp(text, "ON") == 0 || strcasecmp(text, "TRUE") == 0 ||
            strcmp(text, "1") == 0)
            u = 1;
        else if (strcasecmp(text, "OFF") == 0 ||
                 strcasecmp(text, "FALSE") == 0 || strcmp(text, "0") == 0)
            u = 0;
        else
            goto wrong;
        return set_text(&v[i], u ? "1" : "0", u);
    }
    case SYSVAR_UINT: {
        char *end;
        if (!num && (text[0] < '0' || text[0] > '9'))
            goto wrong_type;
        errno = 0;
        unsigned long long u = strtoull(text, &end, 10);
        if (*end != '\0' || text[0] == '-' || errno != 0)
            goto wrong;
        if (u < d->min)
            u = d->min; /* MySQL clamps with a warning */
        if (u > d->max)
            u = d->max;
        snprintf(buf, sizeof(buf), "%llu", u);
        return set_text(&v[i], buf, u);
    }
    case SYSVAR_ENUM:
        if (num) {
            unsigned long k = strtoul(text, NULL, 10);
            for (size_t j = 0; d->choices[j]; j++)
                if (j == k)
                    return set_text(&v[i], d->choices[j], j);
            goto wrong;
        }
        for (size_t j = 0; d->choices[j]; j++) {
            /* "REPEATABLE READ" as well as "REPEATABLE-READ" */
            size_t n = strlen(d->choices[j]), k;
            if (strlen(text) != n)
                continue;
            for (k = 0; k < n; k++) {
                char a = text[k] == ' ' ? '-' : text[k];
                if ((a | 0x20) != (d->choices[j][k] | 0x20) &&
                    a != d->choices[j][k])
                    break;
            }
            if (k == n)
                return set_text(&v[i], d->choices[j], j);
        }
        goto wrong;
    case SYSVAR_MODE: {
        char bad[128];
        if (mode_canon(text, buf, sizeof(buf), bad, sizeof(bad)) != 0) {
            snprintf(msg, msglen,
                     "Variable '%s' can't be set to the value of '%s'",
                     d->name, bad);
            return 1231;
        }
        return set_text(&v[i], buf, sql__sql_mode_bits(buf));
    }
    default:
        return set_text(&v[i], text, 0);
    }
wrong:
    snprintf(msg, msglen, "Variable '%s' can't be set to the value of '%.200s'",
             d->name, text);
    return 1231;
wrong_type:
    snprintf(msg, msglen, "Incorrect argument type to variable '%s'",
             d->name);
    return 1232;
}

int sql__sysvar_txn_mode_init(struct sysvar_val *globals, const char *mode,
                              char *errmsg, size_t errmsg_len)
{
    if (mode == NULL)
        return 0;
    char msg[128];
    int i = sql__sysvar_find("txn_mode");
    if (i < 0)
        return -EINVAL; /* cannot happen: the table has it */
    int rc = sql__sysvar_assign((size_t)i, globals, mode, false, msg,
                                sizeof(msg));
    if (rc > 0) { /* 1231: not a mode */
        if (errmsg && errmsg_len)
            snprintf(errmsg, errmsg_len, "txn_mode: %s", msg);
        rc = -EINVAL;
    }
    return rc;
}
