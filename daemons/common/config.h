/* config.h: a daemon's settings from defaults, a YAML file and --key=value
 * flags, in that order of precedence (docs/daemons.md, "Configuration").
 * Each daemon describes its keys once in a schema table; every error names
 * the key and where the bad value came from (file and line, or the flag).
 */
#ifndef DMN_CONFIG_H
#define DMN_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum dmn_cfg_type {
    DMN_CFG_STRING,   /* char *, owned by the settings; NULL when empty */
    DMN_CFG_INT,      /* int64_t, within [min, max] */
    DMN_CFG_BOOL,     /* bool: true/false, yes/no, on/off, 1/0 */
    DMN_CFG_DURATION, /* int64_t milliseconds: "250ms", "3s", "2m", "1h" */
    DMN_CFG_SIZE,     /* int64_t bytes: "4096", "64KiB", "96MiB", "1GiB" */
    DMN_CFG_ENUM,     /* char *, one of choices */
    DMN_CFG_ADDR,     /* char *, "host:port" with a port in 0..65535 */
    DMN_CFG_LIST,     /* char ** NULL-terminated; YAML sequence or "a,b" */
    DMN_CFG_SECRET,   /* char *, like STRING; a flag's value is overwritten
                         with 'x' in argv once read, so `ps` does not show
                         it, and printing shows "***" */
};

struct dmn_cfg_key
{
    const char *name;            /* dotted path: "log.level" */
    enum dmn_cfg_type type;      /* how the value parses */
    size_t offset;               /* where it lives in the settings struct */
    const char *def;             /* default as text (parsed like a value);
                                    NULL: no default (empty) */
    int64_t min;                 /* INT/DURATION/SIZE: smallest allowed */
    int64_t max;                 /* INT/DURATION/SIZE: largest allowed */
    const char *const *choices;  /* ENUM: NULL-terminated allowed values */
    const char *help;            /* one line for --help */
};

struct dmn_cfg_schema
{
    const char *program;             /* "kvd": used in messages */
    const struct dmn_cfg_key *keys;  /* the keys */
    size_t nkeys;                    /* how many */
};

/* What dmn_cfg_load did besides filling settings. */
enum dmn_cfg_outcome {
    DMN_CFG_RUN,     /* settings are complete: start the daemon */
    DMN_CFG_HELP,    /* --help was printed to the out stream: exit 0 */
    DMN_CFG_VERSION, /* --version was asked for: print it, exit 0 */
};

/* Fills settings (zeroed by the caller) from the schema's defaults, then
 * the file named by --config=FILE (or --config FILE) if any, then the other
 * --key=value flags. argv[0] is skipped. On error returns -1 with a message
 * in err naming the key and its origin ("kvd.yaml:12: raft.election-tick:
 * expected an integer, got 'soon'"); the settings may then hold partial
 * values and must still be released with dmn_cfg_free. Returns 0 and sets
 * *outcome otherwise; with DMN_CFG_HELP the help text went to help_out.
 * A file names each key by its dotted path as nested mappings; a flag names
 * it whole (--log.level=debug). Unknown keys and duplicates are errors. */
int dmn_cfg_load(const struct dmn_cfg_schema *schema,
                 void *settings,
                 int argc,
                 char **argv,
                 enum dmn_cfg_outcome *outcome,
                 FILE *help_out,
                 char *err,
                 size_t errlen);

/* Defaults, then the YAML in text[0..len) as if it were the file `name`:
 * the same parsing and errors as a --config file (for tests and fuzzing). */
int dmn_cfg_load_yaml(const struct dmn_cfg_schema *schema,
                      void *settings,
                      const char *text,
                      size_t len,
                      const char *name,
                      char *err,
                      size_t errlen);

/* Releases the strings and lists dmn_cfg_load allocated in settings. */
void dmn_cfg_free(const struct dmn_cfg_schema *schema, void *settings);

/* Splits "host:port" (port 0..65535; "[::1]:80" for IPv6). Returns 0, or
 * -1 when malformed. host gets at most hostlen-1 bytes. */
int dmn_cfg_split_addr(const char *addr, char *host, size_t hostlen,
                       uint16_t *port);

/* Writes every key with its current value as YAML (for --print-config and
 * for tests that check a round trip). */
void dmn_cfg_print(const struct dmn_cfg_schema *schema,
                   const void *settings,
                   FILE *out);

#endif /* DMN_CONFIG_H */
