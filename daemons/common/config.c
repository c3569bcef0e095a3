/* config.c: defaults, then a YAML file (libyaml's event parser), then
 * --key=value flags, each value parsed and range-checked by its schema entry
 * (docs/daemons.md, "Configuration"). Errors name the key and the origin.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#define NAME_MAX_LEN 256

struct loader
{
    const struct dmn_cfg_schema *schema; /* keys being loaded */
    void *settings;                      /* the struct they fill */
    char *err;                           /* where the message goes */
    size_t errlen;                       /* its size */
    const char *file;                    /* config file being read, or NULL */
    bool *seen;                          /* per key: set by the file */
};

static int fail(struct loader *ld, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int fail(struct loader *ld, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ld->err, ld->errlen, fmt, ap);
    va_end(ap);
    return -1;
}

static const struct dmn_cfg_key *find_key(const struct dmn_cfg_schema *s,
                                          const char *name)
{
    for (size_t i = 0; i < s->nkeys; i++)
        if (strcmp(s->keys[i].name, name) == 0)
            return &s->keys[i];
    return NULL;
}

static bool is_prefix_of_a_key(const struct dmn_cfg_schema *s,
                               const char *prefix)
{
    size_t n = strlen(prefix);
    for (size_t i = 0; i < s->nkeys; i++)
        if (strncmp(s->keys[i].name, prefix, n) == 0 &&
            s->keys[i].name[n] == '.')
            return true;
    return false;
}

/* Parses a decimal integer that must fill the whole text. */
static bool parse_i64(const char *text, int64_t *out, const char **rest)
{
    errno = 0;
    char *end;
    long long v = strtoll(text, &end, 10);
    if (end == text || errno == ERANGE)
        return false;
    *out = (int64_t)v;
    *rest = end;
    return true;
}

struct unit
{
    const char *suffix; /* as written after the number */
    int64_t factor;     /* what one of it is worth */
};

static const struct unit duration_units[] = {
    {"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}, {NULL, 0},
};

static const struct unit size_units[] = {
    {"", 1},
    {"B", 1},
    {"KB", 1000},
    {"MB", 1000 * 1000},
    {"GB", 1000 * 1000 * 1000},
    {"TB", 1000LL * 1000 * 1000 * 1000},
    {"KiB", 1024},
    {"MiB", 1024 * 1024},
    {"GiB", 1024 * 1024 * 1024},
    {"TiB", 1024LL * 1024 * 1024 * 1024},
    {NULL, 0},
};

static bool parse_with_units(const char *text, const struct unit *units,
                             bool bare_zero_only, int64_t *out)
{
    int64_t v;
    const char *rest;
    if (!parse_i64(text, &v, &rest) || v < 0)
        return false;
    while (*rest == ' ')
        rest++;
    if (*rest == '\0' && bare_zero_only) {
        if (v != 0)
            return false;
        *out = 0;
        return true;
    }
    for (const struct unit *u = units; u->suffix; u++) {
        if (strcmp(rest, u->suffix) == 0) {
            if (v > INT64_MAX / u->factor)
                return false;
            *out = v * u->factor;
            return true;
        }
    }
    return false;
}

static bool parse_bool(const char *text, bool *out)
{
    static const char *const yes[] = {"true", "yes", "on", "1", NULL};
    static const char *const no[] = {"false", "no", "off", "0", NULL};
    for (int i = 0; yes[i]; i++)
        if (strcasecmp(text, yes[i]) == 0)
            return *out = true, true;
    for (int i = 0; no[i]; i++)
        if (strcasecmp(text, no[i]) == 0)
            return *out = false, true;
    return false;
}

int dmn_cfg_split_addr(const char *addr, char *host, size_t hostlen,
                       uint16_t *port)
{
    const char *colon;
    const char *h = addr;
    size_t hl;
    if (addr[0] == '[') {
        const char *close = strchr(addr, ']');
        if (!close || close[1] != ':')
            return -1;
        h = addr + 1;
        hl = (size_t)(close - h);
        colon = close + 1;
    } else {
        colon = strrchr(addr, ':');
        if (!colon)
            return -1;
        hl = (size_t)(colon - addr);
    }
    if (hl == 0 || hl >= hostlen)
        return -1;
    int64_t p;
    const char *rest;
    if (!parse_i64(colon + 1, &p, &rest) || *rest || p < 0 || p > 65535 ||
        !isdigit((unsigned char)colon[1]))
        return -1;
    memcpy(host, h, hl);
    host[hl] = '\0';
    *port = (uint16_t)p;
    return 0;
}

static void free_list(char **list)
{
    if (!list)
        return;
    for (char **p = list; *p; p++)
        free(*p);
    free(list);
}

/* Splits "a, b,c" into a NULL-terminated list of trimmed, non-empty items. */
static char **split_list(const char *text)
{
    size_t n = 1;
    for (const char *p = text; *p; p++)
        n += *p == ',';
    char **list = calloc(n + 1, sizeof(*list));
    if (!list)
        return NULL;
    size_t k = 0;
    const char *p = text;
    while (*p) {
        const char *end = strchr(p, ',');
        if (!end)
            end = p + strlen(p);
        const char *a = p;
        const char *b = end;
        while (a < b && isspace((unsigned char)*a))
            a++;
        while (b > a && isspace((unsigned char)b[-1]))
            b--;
        if (b > a) {
            list[k] = strndup(a, (size_t)(b - a));
            if (!list[k]) {
                free_list(list);
                return NULL;
            }
            k++;
        }
        p = *end ? end + 1 : end;
    }
    return list;
}

/* Stores text as the value of key; origin says where it came from. */
static int set_value(struct loader *ld, const struct dmn_cfg_key *k,
                     const char *text, const char *origin)
{
    void *slot = (char *)ld->settings + k->offset;
    int64_t v = 0;
    switch (k->type) {
    case DMN_CFG_STRING:
    case DMN_CFG_SECRET: {
        char *copy = NULL;
        if (*text && !(copy = strdup(text)))
            return fail(ld, "%s: %s: out of memory", origin, k->name);
        free(*(char **)slot);
        *(char **)slot = copy;
        return 0;
    }
    case DMN_CFG_ENUM: {
        for (size_t i = 0; k->choices[i]; i++) {
            if (strcmp(text, k->choices[i]) == 0) {
                char *copy = strdup(text);
                if (!copy)
                    return fail(ld, "%s: %s: out of memory", origin, k->name);
                free(*(char **)slot);
                *(char **)slot = copy;
                return 0;
            }
        }
        char choices[256] = "";
        for (size_t i = 0; k->choices[i]; i++) {
            if (i)
                strncat(choices, ", ", sizeof(choices) - strlen(choices) - 1);
            strncat(choices, k->choices[i],
                    sizeof(choices) - strlen(choices) - 1);
        }
        return fail(ld, "%s: %s: expected one of %s, got '%s'", origin,
                    k->name, choices, text);
    }
    case DMN_CFG_ADDR: {
        char host[256];
        uint16_t port;
        if (dmn_cfg_split_addr(text, host, sizeof(host), &port) != 0)
            return fail(ld,
                        "%s: %s: expected host:port (port 0-65535), got '%s'",
                        origin, k->name, text);
        char *copy = strdup(text);
        if (!copy)
            return fail(ld, "%s: %s: out of memory", origin, k->name);
        free(*(char **)slot);
        *(char **)slot = copy;
        return 0;
    }
    case DMN_CFG_LIST: {
        char **list = split_list(text);
        if (!list)
            return fail(ld, "%s: %s: out of memory", origin, k->name);
        free_list(*(char ***)slot);
        *(char ***)slot = list;
        return 0;
    }
    case DMN_CFG_BOOL: {
        bool b;
        if (!parse_bool(text, &b))
            return fail(ld, "%s: %s: expected true or false, got '%s'",
                        origin, k->name, text);
        *(bool *)slot = b;
        return 0;
    }
    case DMN_CFG_INT: {
        const char *rest;
        if (!parse_i64(text, &v, &rest) || *rest)
            return fail(ld, "%s: %s: expected an integer, got '%s'", origin,
                        k->name, text);
        break;
    }
    case DMN_CFG_DURATION:
        if (!parse_with_units(text, duration_units, true, &v))
            return fail(ld,
                        "%s: %s: expected a duration such as 500ms, 3s, 2m "
                        "or 1h, got '%s'",
                        origin, k->name, text);
        break;
    case DMN_CFG_SIZE:
        if (!parse_with_units(text, size_units, false, &v))
            return fail(ld,
                        "%s: %s: expected a size such as 4096, 64KiB, 96MiB "
                        "or 1GiB, got '%s'",
                        origin, k->name, text);
        break;
    }
    if (v < k->min || v > k->max)
        return fail(ld,
                    "%s: %s: %s is out of range (allowed %" PRId64
                    " to %" PRId64 ")",
                    origin, k->name, text, k->min, k->max);
    *(int64_t *)slot = v;
    return 0;
}

/* ---- the YAML file ---- */

struct yaml_reader
{
    struct loader *ld;       /* where values go */
    yaml_parser_t parser;    /* libyaml's event parser */
    yaml_event_t ev;         /* the current event */
    bool have_ev;            /* ev must be deleted */
};

static int next_event(struct yaml_reader *r)
{
    if (r->have_ev) {
        yaml_event_delete(&r->ev);
        r->have_ev = false;
    }
    if (!yaml_parser_parse(&r->parser, &r->ev)) {
        return fail(r->ld, "%s:%zu: YAML syntax error: %s", r->ld->file,
                    r->parser.problem_mark.line + 1,
                    r->parser.problem ? r->parser.problem : "unknown");
    }
    r->have_ev = true;
    return 0;
}

static size_t ev_line(const struct yaml_reader *r)
{
    return r->ev.start_mark.line + 1;
}

static int read_mapping(struct yaml_reader *r, const char *prefix);

/* The value of a key: the current event starts it. */
static int read_value(struct yaml_reader *r, const char *name)
{
    struct loader *ld = r->ld;
    size_t line = ev_line(r);
    char origin[NAME_MAX_LEN + 64];
    snprintf(origin, sizeof(origin), "%s:%zu", ld->file, line);

    if (r->ev.type == YAML_ALIAS_EVENT)
        return fail(ld, "%s: %s: YAML aliases are not supported", origin,
                    name);
    if (r->ev.type == YAML_MAPPING_START_EVENT) {
        if (!is_prefix_of_a_key(ld->schema, name))
            return fail(ld, "%s: unknown key '%s' (see %s --help)", origin,
                        name, ld->schema->program);
        return read_mapping(r, name);
    }
    const struct dmn_cfg_key *k = find_key(ld->schema, name);
    if (!k)
        return fail(ld, "%s: unknown key '%s' (see %s --help)", origin, name,
                    ld->schema->program);
    size_t idx = (size_t)(k - ld->schema->keys);
    if (ld->seen[idx])
        return fail(ld, "%s: %s: key given twice", origin, name);
    ld->seen[idx] = true;

    if (r->ev.type == YAML_SCALAR_EVENT)
        return set_value(ld, k, (const char *)r->ev.data.scalar.value,
                         origin);
    if (r->ev.type != YAML_SEQUENCE_START_EVENT || k->type != DMN_CFG_LIST)
        return fail(ld, "%s: %s: expected a single value", origin, name);

    /* A sequence of scalars: join with commas, then split like a flag. */
    char *joined = NULL;
    size_t len = 0;
    int rc = 0;
    for (;;) {
        if ((rc = next_event(r)) != 0)
            break;
        if (r->ev.type == YAML_SEQUENCE_END_EVENT)
            break;
        if (r->ev.type != YAML_SCALAR_EVENT) {
            rc = fail(ld, "%s:%zu: %s: list items must be plain values",
                      ld->file, ev_line(r), name);
            break;
        }
        const char *item = (const char *)r->ev.data.scalar.value;
        if (strchr(item, ',')) {
            rc = fail(ld, "%s:%zu: %s: a list item may not contain ','",
                      ld->file, ev_line(r), name);
            break;
        }
        size_t il = strlen(item);
        char *grown = realloc(joined, len + il + 2);
        if (!grown) {
            rc = fail(ld, "%s: %s: out of memory", origin, name);
            break;
        }
        joined = grown;
        if (len)
            joined[len++] = ',';
        memcpy(joined + len, item, il + 1);
        len += il;
    }
    if (rc == 0)
        rc = set_value(ld, k, joined ? joined : "", origin);
    free(joined);
    return rc;
}

/* The current event is MAPPING_START; reads through MAPPING_END. */
static int read_mapping(struct yaml_reader *r, const char *prefix)
{
    int rc;
    for (;;) {
        if ((rc = next_event(r)) != 0)
            return rc;
        if (r->ev.type == YAML_MAPPING_END_EVENT)
            return 0;
        if (r->ev.type != YAML_SCALAR_EVENT)
            return fail(r->ld, "%s:%zu: keys must be plain names", r->ld->file,
                        ev_line(r));
        char name[NAME_MAX_LEN];
        const char *key = (const char *)r->ev.data.scalar.value;
        int n = snprintf(name, sizeof(name), "%s%s%s", prefix,
                         *prefix ? "." : "", key);
        if (n < 0 || (size_t)n >= sizeof(name))
            return fail(r->ld, "%s:%zu: key name too long", r->ld->file,
                        ev_line(r));
        if ((rc = next_event(r)) != 0)
            return rc;
        if ((rc = read_value(r, name)) != 0)
            return rc;
    }
}

/* Reads the YAML in f, named name in messages. */
static int load_stream(struct loader *ld, FILE *f, const char *name)
{
    struct yaml_reader r = {.ld = ld};
    int rc = 0;
    if (!yaml_parser_initialize(&r.parser))
        return fail(ld, "%s: out of memory", name);
    yaml_parser_set_input_file(&r.parser, f);
    ld->file = name;
    bool done = false;
    while (rc == 0 && !done) {
        if ((rc = next_event(&r)) != 0)
            break;
        switch (r.ev.type) {
        case YAML_STREAM_START_EVENT:
        case YAML_DOCUMENT_START_EVENT:
        case YAML_DOCUMENT_END_EVENT:
            break;
        case YAML_STREAM_END_EVENT:
            done = true;
            break;
        case YAML_MAPPING_START_EVENT:
            rc = read_mapping(&r, "");
            break;
        case YAML_SCALAR_EVENT:
            /* An empty document, e.g. a file that is only comments. */
            if (r.ev.data.scalar.length == 0)
                break;
            /* fall through */
        default:
            rc = fail(ld, "%s:%zu: the file must be a mapping of keys to "
                          "values", name, ev_line(&r));
            break;
        }
    }
    if (r.have_ev)
        yaml_event_delete(&r.ev);
    yaml_parser_delete(&r.parser);
    ld->file = NULL;
    return rc;
}

static int load_file(struct loader *ld, const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return fail(ld, "%s: cannot open config file: %s", path,
                    strerror(errno));
    int rc = load_stream(ld, f, path);
    fclose(f);
    return rc;
}

static int apply_defaults(struct loader *ld)
{
    for (size_t i = 0; i < ld->schema->nkeys; i++) {
        const struct dmn_cfg_key *k = &ld->schema->keys[i];
        if (k->def && set_value(ld, k, k->def, "default") != 0)
            return -1;
    }
    return 0;
}

int dmn_cfg_load_yaml(const struct dmn_cfg_schema *schema, void *settings,
                      const char *text, size_t len, const char *name,
                      char *err, size_t errlen)
{
    struct loader ld = {.schema = schema,
                        .settings = settings,
                        .err = err,
                        .errlen = errlen};
    err[0] = '\0';
    ld.seen = calloc(schema->nkeys ? schema->nkeys : 1, sizeof(bool));
    if (!ld.seen)
        return fail(&ld, "out of memory");
    int rc = apply_defaults(&ld);
    if (rc == 0) {
        FILE *f = len ? fmemopen((void *)(uintptr_t)text, len, "rb")
                      : fopen("/dev/null", "rb");
        rc = f ? load_stream(&ld, f, name)
               : fail(&ld, "%s: cannot read: %s", name, strerror(errno));
        if (f)
            fclose(f);
    }
    free(ld.seen);
    return rc;
}

/* ---- flags, help, printing ---- */

static void print_value(const struct dmn_cfg_key *k, const void *settings,
                        FILE *out)
{
    const void *slot = (const char *)settings + k->offset;
    switch (k->type) {
    case DMN_CFG_STRING:
    case DMN_CFG_ENUM:
    case DMN_CFG_ADDR: {
        const char *s = *(char *const *)slot;
        fprintf(out, "\"%s\"", s ? s : "");
        break;
    }
    case DMN_CFG_SECRET:
        fputs(*(char *const *)slot ? "\"***\"" : "\"\"", out);
        break;
    case DMN_CFG_LIST: {
        char *const *l = *(char **const *)slot;
        fputc('[', out);
        for (size_t i = 0; l && l[i]; i++)
            fprintf(out, "%s\"%s\"", i ? ", " : "", l[i]);
        fputc(']', out);
        break;
    }
    case DMN_CFG_BOOL:
        fputs(*(const bool *)slot ? "true" : "false", out);
        break;
    case DMN_CFG_INT:
        fprintf(out, "%" PRId64, *(const int64_t *)slot);
        break;
    case DMN_CFG_DURATION:
        fprintf(out, "%" PRId64 "ms", *(const int64_t *)slot);
        break;
    case DMN_CFG_SIZE:
        fprintf(out, "%" PRId64, *(const int64_t *)slot);
        break;
    }
}

void dmn_cfg_print(const struct dmn_cfg_schema *schema, const void *settings,
                   FILE *out)
{
    /* Flat dotted keys are not valid nesting in YAML, so print the nesting:
     * keys are listed grouped by prefix in the schema. */
    const char *prev = "";
    for (size_t i = 0; i < schema->nkeys; i++) {
        const char *name = schema->keys[i].name;
        /* Length of the common dotted prefix with the previous key. */
        size_t common = 0;
        for (size_t j = 0; name[j] && name[j] == prev[j]; j++)
            if (name[j] == '.')
                common = j + 1;
        size_t depth = 0;
        for (size_t j = 0; j < common; j++)
            depth += name[j] == '.';
        const char *seg = name + common;
        const char *dot;
        while ((dot = strchr(seg, '.')) != NULL) {
            fprintf(out, "%*s%.*s:\n", (int)(depth * 2), "", (int)(dot - seg),
                    seg);
            depth++;
            seg = dot + 1;
        }
        fprintf(out, "%*s%s: ", (int)(depth * 2), "", seg);
        print_value(&schema->keys[i], settings, out);
        fputc('\n', out);
        prev = name;
    }
}

static void print_help(const struct dmn_cfg_schema *schema, FILE *out)
{
    fprintf(out,
            "Usage: %s [--config=FILE] [--key=value ...]\n\n"
            "Every key may be set in the YAML file (nested by its dotted "
            "path) or as a flag.\n\n",
            schema->program);
    for (size_t i = 0; i < schema->nkeys; i++) {
        const struct dmn_cfg_key *k = &schema->keys[i];
        fprintf(out, "  --%-28s %s (default: %s)\n", k->name, k->help,
                k->def && *k->def ? k->def : "none");
    }
    fprintf(out, "  --%-28s %s\n  --%-28s %s\n  --%-28s %s\n", "config=FILE",
            "read keys from this YAML file", "help", "print this and exit",
            "version", "print the version and exit");
}

int dmn_cfg_load(const struct dmn_cfg_schema *schema, void *settings,
                 int argc, char **argv, enum dmn_cfg_outcome *outcome,
                 FILE *help_out, char *err, size_t errlen)
{
    struct loader ld = {.schema = schema,
                        .settings = settings,
                        .err = err,
                        .errlen = errlen};
    int rc = -1;
    err[0] = '\0';
    *outcome = DMN_CFG_RUN;
    ld.seen = calloc(schema->nkeys ? schema->nkeys : 1, sizeof(bool));
    if (!ld.seen)
        return fail(&ld, "out of memory");

    if (apply_defaults(&ld) != 0)
        goto out;

    /* The file first, wherever --config stands among the flags. */
    const char *file = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            print_help(schema, help_out);
            *outcome = DMN_CFG_HELP;
            rc = 0;
            goto out;
        }
        if (strcmp(a, "--version") == 0) {
            *outcome = DMN_CFG_VERSION;
            rc = 0;
            goto out;
        }
        if (strncmp(a, "--config=", 9) == 0) {
            file = a + 9;
        } else if (strcmp(a, "--config") == 0) {
            if (i + 1 >= argc) {
                fail(&ld, "--config: expected a file name after it");
                goto out;
            }
            file = argv[++i];
        }
    }
    if (file && load_file(&ld, file) != 0)
        goto out;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--config") == 0) {
            i++;
            continue;
        }
        if (strncmp(a, "--config=", 9) == 0)
            continue;
        if (strncmp(a, "--", 2) != 0) {
            fail(&ld, "unexpected argument '%s' (flags look like --key=value;"
                      " see %s --help)", a, schema->program);
            goto out;
        }
        char name[NAME_MAX_LEN];
        const char *eq = strchr(a + 2, '=');
        size_t nl = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
        if (nl >= sizeof(name)) {
            fail(&ld, "%s: flag name too long", a);
            goto out;
        }
        memcpy(name, a + 2, nl);
        name[nl] = '\0';
        const struct dmn_cfg_key *k = find_key(schema, name);
        if (!k) {
            fail(&ld, "%s: unknown flag (see %s --help)", a, schema->program);
            goto out;
        }
        if (!eq && k->type != DMN_CFG_BOOL) {
            fail(&ld, "%s: expected --%s=value", a, name);
            goto out;
        }
        if (set_value(&ld, k, eq ? eq + 1 : "true", a) != 0)
            goto out;
        if (k->type == DMN_CFG_SECRET && eq)
            memset(argv[i] + (eq + 1 - a), 'x', strlen(eq + 1));
    }
    rc = 0;
out:
    free(ld.seen);
    return rc;
}

void dmn_cfg_free(const struct dmn_cfg_schema *schema, void *settings)
{
    for (size_t i = 0; i < schema->nkeys; i++) {
        const struct dmn_cfg_key *k = &schema->keys[i];
        void *slot = (char *)settings + k->offset;
        switch (k->type) {
        case DMN_CFG_STRING:
        case DMN_CFG_SECRET:
        case DMN_CFG_ENUM:
        case DMN_CFG_ADDR:
            free(*(char **)slot);
            *(char **)slot = NULL;
            break;
        case DMN_CFG_LIST:
            free_list(*(char ***)slot);
            *(char ***)slot = NULL;
            break;
        default:
            break;
        }
    }
}
