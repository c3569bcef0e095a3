/* sysvar.h: the system variables (@@name) clients read and set: a static
 * table of names, kinds, scopes and defaults; global values live in the
 * server, session values in each session (DESIGN.md "Engine").
 */
#ifndef SQL_SYSVAR_H
#define SQL_SYSVAR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum sysvar_kind
{
    SYSVAR_BOOL,  /* ON/OFF, 1/0; reads as an integer */
    SYSVAR_UINT,  /* unsigned integer in [min, max] */
    SYSVAR_STR,   /* free string */
    SYSVAR_ENUM,  /* one of a list, case-insensitive */
    SYSVAR_MODE,  /* sql_mode: a comma list of mode names */
};

#define SYSVAR_GLOBAL 1   /* has a global value */
#define SYSVAR_SESSION 2  /* has a session value */
#define SYSVAR_RO 4       /* read only */

struct sysvar_def
{
    const char *name;           /* lower case */
    int kind;                   /* enum sysvar_kind */
    int scope;                  /* SYSVAR_* bits */
    const char *def;            /* default as text */
    uint64_t min, max;          /* SYSVAR_UINT bounds */
    const char *const *choices; /* SYSVAR_ENUM values (NULL-terminated) */
};

/* One value: text always, the number for BOOL/UINT. */
struct sysvar_val
{
    char *text;  /* heap-allocated canonical text */
    uint64_t u;  /* BOOL (0/1) and UINT value; MODE: SQL_MODE_* bits */
};

size_t sql__sysvar_count(void);
const struct sysvar_def *sql__sysvar_def(size_t i);
/* Index of name (any case), or -1. "tx_isolation" etc. alias others. */
int sql__sysvar_find(const char *name);

/* Values of every variable (count entries), set to the defaults; the
 * server's version string fills @@version. */
int sql__sysvar_init(struct sysvar_val **out, const char *version);
int sql__sysvar_copy(struct sysvar_val **out, const struct sysvar_val *from);
void sql__sysvar_free(struct sysvar_val *v);

/* Parse and check text for variable i: 0 and *v replaced, or 1231
 * (wrong value; msg filled) / -ENOMEM. num: the value was a number. */
int sql__sysvar_assign(size_t i, struct sysvar_val *v, const char *text,
                       bool num, char *msg, size_t msglen);

/* The server's initial @@global.txn_mode (sql_server_options.txn_mode;
 * NULL: the default): 0, or -EINVAL with errmsg saying why, -ENOMEM. */
int sql__sysvar_txn_mode_init(struct sysvar_val *globals, const char *mode,
                              char *errmsg, size_t errmsg_len);

/* sql_mode text to SQL_MODE_* bits (expr.h). */
uint32_t sql__sql_mode_bits(const char *text);

#endif /* SQL_SYSVAR_H */
