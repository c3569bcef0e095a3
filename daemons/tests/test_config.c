/* test_config.c: the daemons' shared plumbing: settings from defaults, YAML
 * and flags with errors that name key and origin; the data-directory lock;
 * the log's levels and file output.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "datadir.h"
#include "log.h"

struct settings
{
    char *name;        /* name */
    int64_t ticks;     /* raft.ticks */
    int64_t timeout;   /* raft.timeout */
    int64_t cache;     /* rocksdb.block-cache */
    bool sync;         /* rocksdb.sync */
    char *level;       /* log.level */
    char *listen;      /* listen */
    char **endpoints;  /* pd.endpoints */
    char *password;    /* auth.password */
};

static const char *const levels[] = {"debug", "info", "warn", "error", NULL};

static const struct dmn_cfg_key keys[] = {
    {"name", DMN_CFG_STRING, offsetof(struct settings, name), "n1", 0, 0,
     NULL, "a name"},
    {"raft.ticks", DMN_CFG_INT, offsetof(struct settings, ticks), "10", 1,
     1000, NULL, "ticks"},
    {"raft.timeout", DMN_CFG_DURATION, offsetof(struct settings, timeout),
     "3s", 0, 3600000, NULL, "timeout"},
    {"rocksdb.block-cache", DMN_CFG_SIZE, offsetof(struct settings, cache),
     "64MiB", 0, INT64_MAX, NULL, "cache"},
    {"rocksdb.sync", DMN_CFG_BOOL, offsetof(struct settings, sync), "true", 0,
     0, NULL, "sync"},
    {"log.level", DMN_CFG_ENUM, offsetof(struct settings, level), "info", 0,
     0, levels, "level"},
    {"listen", DMN_CFG_ADDR, offsetof(struct settings, listen),
     "127.0.0.1:20160", 0, 0, NULL, "listen"},
    {"pd.endpoints", DMN_CFG_LIST, offsetof(struct settings, endpoints),
     "127.0.0.1:2379", 0, 0, NULL, "pd"},
    {"auth.password", DMN_CFG_SECRET, offsetof(struct settings, password),
     NULL, 0, 0, NULL, "a password"},
};

static const struct dmn_cfg_schema schema = {"testd", keys,
                                             sizeof(keys) / sizeof(keys[0])};

static char tmpdir[64];
static char yaml_path[128];

static int setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/dmn-test-XXXXXX");
    if (!mkdtemp(tmpdir))
        return -1;
    snprintf(yaml_path, sizeof(yaml_path), "%s/testd.yaml", tmpdir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static void write_yaml(const char *text)
{
    FILE *f = fopen(yaml_path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* Loads with the given flags (argv[0] is added); returns dmn_cfg_load's rc. */
static int load(struct settings *s, char *err, size_t errlen, int n, ...)
{
    char *argv[16] = {"testd"};
    va_list ap;
    va_start(ap, n);
    for (int i = 0; i < n; i++)
        argv[i + 1] = va_arg(ap, char *);
    va_end(ap);
    enum dmn_cfg_outcome outcome;
    memset(s, 0, sizeof(*s));
    FILE *devnull = fopen("/dev/null", "w");
    int rc = dmn_cfg_load(&schema, s, n + 1, argv, &outcome, devnull, err,
                          errlen);
    fclose(devnull);
    return rc;
}

static void defaults_apply(void **state)
{
    (void)state;
    struct settings s;
    char err[512];
    assert_int_equal(load(&s, err, sizeof(err), 0), 0);
    assert_string_equal(s.name, "n1");
    assert_int_equal(s.ticks, 10);
    assert_int_equal(s.timeout, 3000);
    assert_int_equal(s.cache, 64 * 1024 * 1024);
    assert_true(s.sync);
    assert_string_equal(s.level, "info");
    assert_string_equal(s.listen, "127.0.0.1:20160");
    assert_string_equal(s.endpoints[0], "127.0.0.1:2379");
    assert_null(s.endpoints[1]);
    dmn_cfg_free(&schema, &s);
    assert_null(s.name);
}

static void file_then_flags(void **state)
{
    (void)state;
    write_yaml("# a comment\n"
               "name: store-7\n"
               "raft:\n"
               "  ticks: 25\n"
               "  timeout: 250ms\n"
               "rocksdb:\n"
               "  block-cache: 1GiB\n"
               "  sync: off\n"
               "pd:\n"
               "  endpoints:\n"
               "    - 10.0.0.1:2379\n"
               "    - 10.0.0.2:2379\n");
    struct settings s;
    char err[512];
    char cfg[160];
    snprintf(cfg, sizeof(cfg), "--config=%s", yaml_path);
    assert_int_equal(load(&s, err, sizeof(err), 3, "--raft.ticks=99", cfg,
                          "--listen=[::1]:4000"),
                     0);
    assert_string_equal(s.name, "store-7");
    assert_int_equal(s.ticks, 99); /* the flag wins over the file */
    assert_int_equal(s.timeout, 250);
    assert_int_equal(s.cache, 1024LL * 1024 * 1024);
    assert_false(s.sync);
    assert_string_equal(s.listen, "[::1]:4000");
    assert_string_equal(s.endpoints[0], "10.0.0.1:2379");
    assert_string_equal(s.endpoints[1], "10.0.0.2:2379");
    assert_null(s.endpoints[2]);
    dmn_cfg_free(&schema, &s);

    /* A list from a flag, and a bare bool flag. */
    assert_int_equal(load(&s, err, sizeof(err), 2,
                          "--pd.endpoints=a:1, b:2,,c:3", "--rocksdb.sync"),
                     0);
    assert_string_equal(s.endpoints[0], "a:1");
    assert_string_equal(s.endpoints[1], "b:2");
    assert_string_equal(s.endpoints[2], "c:3");
    assert_null(s.endpoints[3]);
    assert_true(s.sync);
    dmn_cfg_free(&schema, &s);
}

/* Loads the YAML text and expects exactly the error message. */
static void expect_file_error(const char *yaml, const char *fmt)
{
    write_yaml(yaml);
    struct settings s;
    char err[512];
    char cfg[160];
    char want[512];
    snprintf(cfg, sizeof(cfg), "--config=%s", yaml_path);
    snprintf(want, sizeof(want), fmt, yaml_path);
    assert_int_equal(load(&s, err, sizeof(err), 1, cfg), -1);
    assert_string_equal(err, want);
    dmn_cfg_free(&schema, &s);
}

static void file_errors_name_key_and_line(void **state)
{
    (void)state;
    expect_file_error("name: a\nraft:\n  tick: 3\n",
                      "%s:3: unknown key 'raft.tick' (see testd --help)");
    expect_file_error("raft:\n  ticks: soon\n",
                      "%s:2: raft.ticks: expected an integer, got 'soon'");
    expect_file_error("\n\nraft:\n  ticks: 0\n",
                      "%s:4: raft.ticks: 0 is out of range (allowed 1 to "
                      "1000)");
    expect_file_error("raft:\n  timeout: 5\n",
                      "%s:2: raft.timeout: expected a duration such as "
                      "500ms, 3s, 2m or 1h, got '5'");
    expect_file_error("rocksdb:\n  block-cache: 3 parsecs\n",
                      "%s:2: rocksdb.block-cache: expected a size such as "
                      "4096, 64KiB, 96MiB or 1GiB, got '3 parsecs'");
    expect_file_error("log:\n  level: loud\n",
                      "%s:2: log.level: expected one of debug, info, warn, "
                      "error, got 'loud'");
    expect_file_error("listen: localhost\n",
                      "%s:1: listen: expected host:port (port 0-65535), got "
                      "'localhost'");
    expect_file_error("name: a\nname: b\n", "%s:2: name: key given twice");
    expect_file_error("raft: 3\n",
                      "%s:1: unknown key 'raft' (see testd --help)");
    expect_file_error("name:\n  - a\n", "%s:2: name: expected a single value");
    expect_file_error("name: a\n  bad: [\n",
                      "%s:2: YAML syntax error: mapping values are not "
                      "allowed in this context");
    expect_file_error("- a\n- b\n",
                      "%s:1: the file must be a mapping of keys to values");
}

static void empty_file_is_defaults(void **state)
{
    (void)state;
    write_yaml("# nothing set here\n");
    struct settings s;
    char err[512];
    char cfg[160];
    snprintf(cfg, sizeof(cfg), "--config=%s", yaml_path);
    assert_int_equal(load(&s, err, sizeof(err), 1, cfg), 0);
    assert_int_equal(s.ticks, 10);
    dmn_cfg_free(&schema, &s);
}

static void yaml_text_like_a_file(void **state)
{
    (void)state;
    struct settings s = {0};
    char err[512];
    assert_int_equal(dmn_cfg_load_yaml(&schema, &s, "", 0, "t.yaml", err,
                                       sizeof(err)),
                     0);
    assert_int_equal(s.ticks, 10);
    dmn_cfg_free(&schema, &s);
    const char *text = "raft: {ticks: 7}\npd: {endpoints: [x:1, y:2]}\n";
    assert_int_equal(dmn_cfg_load_yaml(&schema, &s, text, strlen(text),
                                       "t.yaml", err, sizeof(err)),
                     0);
    assert_int_equal(s.ticks, 7);
    assert_string_equal(s.endpoints[1], "y:2");
    dmn_cfg_free(&schema, &s);
    text = "raft:\n  ticks: [1]\n";
    assert_int_equal(dmn_cfg_load_yaml(&schema, &s, text, strlen(text),
                                       "t.yaml", err, sizeof(err)),
                     -1);
    assert_string_equal(err, "t.yaml:2: raft.ticks: expected a single value");
    dmn_cfg_free(&schema, &s);
    text = "name: &a x\nlisten: *a\n";
    assert_int_equal(dmn_cfg_load_yaml(&schema, &s, text, strlen(text),
                                       "t.yaml", err, sizeof(err)),
                     -1);
    assert_string_equal(err, "t.yaml:2: listen: YAML aliases are not "
                             "supported");
    dmn_cfg_free(&schema, &s);
}

static void flag_errors(void **state)
{
    (void)state;
    struct settings s;
    char err[512];
    assert_int_equal(load(&s, err, sizeof(err), 1, "--nope=1"), -1);
    assert_string_equal(err, "--nope=1: unknown flag (see testd --help)");
    dmn_cfg_free(&schema, &s);
    assert_int_equal(load(&s, err, sizeof(err), 1, "--raft.ticks=2000"), -1);
    assert_string_equal(err, "--raft.ticks=2000: raft.ticks: 2000 is out of "
                             "range (allowed 1 to 1000)");
    dmn_cfg_free(&schema, &s);
    assert_int_equal(load(&s, err, sizeof(err), 1, "--raft.ticks"), -1);
    assert_string_equal(err, "--raft.ticks: expected --raft.ticks=value");
    dmn_cfg_free(&schema, &s);
    assert_int_equal(load(&s, err, sizeof(err), 1, "stray"), -1);
    assert_string_equal(err, "unexpected argument 'stray' (flags look like "
                             "--key=value; see testd --help)");
    dmn_cfg_free(&schema, &s);
    assert_int_equal(load(&s, err, sizeof(err), 1, "--config=/nonexistent/x"),
                     -1);
    assert_string_equal(err, "/nonexistent/x: cannot open config file: No "
                             "such file or directory");
    dmn_cfg_free(&schema, &s);
    assert_int_equal(load(&s, err, sizeof(err), 1, "--config"), -1);
    assert_string_equal(err, "--config: expected a file name after it");
    dmn_cfg_free(&schema, &s);
}

static void help_and_version(void **state)
{
    (void)state;
    struct settings s = {0};
    char err[512];
    enum dmn_cfg_outcome outcome;
    char *argv_help[] = {"testd", "--raft.ticks=bogus", "--help"};
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    assert_int_equal(dmn_cfg_load(&schema, &s, 3, argv_help, &outcome, out,
                                  err, sizeof(err)),
                     0);
    fclose(out);
    assert_int_equal(outcome, DMN_CFG_HELP);
    assert_non_null(strstr(buf, "Usage: testd [--config=FILE]"));
    assert_non_null(strstr(buf, "--raft.timeout"));
    assert_non_null(strstr(buf, "(default: 3s)"));
    free(buf);
    dmn_cfg_free(&schema, &s);

    char *argv_ver[] = {"testd", "--version"};
    assert_int_equal(dmn_cfg_load(&schema, &s, 2, argv_ver, &outcome, stdout,
                                  err, sizeof(err)),
                     0);
    assert_int_equal(outcome, DMN_CFG_VERSION);
    dmn_cfg_free(&schema, &s);
}

/* A secret flag's value leaves argv (ps shows x's) and is never printed;
 * from a file it loads like a string. */
static void secret_is_scrubbed_and_masked(void **state)
{
    (void)state;
    struct settings s = {0};
    char err[512];
    enum dmn_cfg_outcome outcome;
    char a0[] = "testd", a1[] = "--auth.password=hunter2",
         a2[] = "--name=visible";
    char *argv[] = {a0, a1, a2};
    assert_int_equal(dmn_cfg_load(&schema, &s, 3, argv, &outcome, stdout,
                                  err, sizeof(err)),
                     0);
    assert_string_equal(s.password, "hunter2");
    assert_string_equal(a1, "--auth.password=xxxxxxx");
    assert_string_equal(a2, "--name=visible");
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    dmn_cfg_print(&schema, &s, out);
    fclose(out);
    assert_non_null(strstr(buf, "password: \"***\""));
    assert_null(strstr(buf, "hunter2"));
    free(buf);
    dmn_cfg_free(&schema, &s);
    assert_null(s.password);

    write_yaml("auth:\n  password: s3cret\n");
    char cfg[160];
    snprintf(cfg, sizeof(cfg), "--config=%s", yaml_path);
    assert_int_equal(load(&s, err, sizeof(err), 1, cfg), 0);
    assert_string_equal(s.password, "s3cret");
    dmn_cfg_free(&schema, &s);
}

static void print_round_trips(void **state)
{
    (void)state;
    struct settings s;
    char err[512];
    assert_int_equal(load(&s, err, sizeof(err), 1, "--raft.ticks=42"), 0);
    FILE *f = fopen(yaml_path, "w");
    assert_non_null(f);
    dmn_cfg_print(&schema, &s, f);
    fclose(f);
    dmn_cfg_free(&schema, &s);

    char cfg[160];
    snprintf(cfg, sizeof(cfg), "--config=%s", yaml_path);
    assert_int_equal(load(&s, err, sizeof(err), 1, cfg), 0);
    assert_int_equal(s.ticks, 42);
    assert_int_equal(s.timeout, 3000);
    assert_int_equal(s.cache, 64 * 1024 * 1024);
    assert_string_equal(s.endpoints[0], "127.0.0.1:2379");
    dmn_cfg_free(&schema, &s);
}

static void split_addr(void **state)
{
    (void)state;
    char host[64];
    uint16_t port;
    assert_int_equal(dmn_cfg_split_addr("127.0.0.1:4000", host, sizeof(host),
                                        &port),
                     0);
    assert_string_equal(host, "127.0.0.1");
    assert_int_equal(port, 4000);
    assert_int_equal(dmn_cfg_split_addr("[::1]:0", host, sizeof(host), &port),
                     0);
    assert_string_equal(host, "::1");
    assert_int_equal(port, 0);
    assert_int_equal(dmn_cfg_split_addr("h:65536", host, sizeof(host), &port),
                     -1);
    assert_int_equal(dmn_cfg_split_addr("h:-1", host, sizeof(host), &port),
                     -1);
    assert_int_equal(dmn_cfg_split_addr(":80", host, sizeof(host), &port), -1);
    assert_int_equal(dmn_cfg_split_addr("h:", host, sizeof(host), &port), -1);
    assert_int_equal(dmn_cfg_split_addr("[::1]80", host, sizeof(host), &port),
                     -1);
    assert_int_equal(dmn_cfg_split_addr("abcdef:1", host, 4, &port), -1);
}

static void datadir_lock_excludes(void **state)
{
    (void)state;
    char dir[160];
    char err[512];
    snprintf(dir, sizeof(dir), "%s/a/b/c", tmpdir);
    int fd = dmn_datadir_lock(dir, err, sizeof(err));
    assert_true(fd >= 0);
    struct stat st;
    assert_int_equal(stat(dir, &st), 0);
    assert_true(S_ISDIR(st.st_mode));

    char want[512];
    snprintf(want, sizeof(want),
             "data directory %s is in use by another process (pid %ld): "
             "stop it, or give this one another data-dir",
             dir, (long)getpid());
    assert_int_equal(dmn_datadir_lock(dir, err, sizeof(err)), -1);
    assert_string_equal(err, want);

    dmn_datadir_unlock(fd);
    fd = dmn_datadir_lock(dir, err, sizeof(err));
    assert_true(fd >= 0);
    dmn_datadir_unlock(fd);

    /* A path that is a file cannot be a data directory. */
    assert_int_equal(dmn_datadir_lock(yaml_path, err, sizeof(err)), -1);
    write_yaml("x: 1\n");
    assert_int_equal(dmn_datadir_lock(yaml_path, err, sizeof(err)), -1);
    snprintf(want, sizeof(want), "data directory %s: cannot create it: Not a "
                                 "directory", yaml_path);
    assert_string_equal(err, want);
}

static void log_levels_and_file(void **state)
{
    (void)state;
    char path[160];
    snprintf(path, sizeof(path), "%s/d.log", tmpdir);
    assert_int_equal(dmn_log_open(path, DMN_LOG_WARN, "testd"), 0);
    assert_false(dmn_log_enabled(DMN_LOG_INFO));
    assert_true(dmn_log_enabled(DMN_LOG_ERROR));
    dmn_info("hidden %d", 1);
    dmn_warn("shown %d", 2);
    dmn_error("also shown");
    dmn_log_close();

    char buf[1024] = "";
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    assert_null(strstr(buf, "hidden"));
    assert_non_null(strstr(buf, " WARN  testd: shown 2\n"));
    assert_non_null(strstr(buf, " ERROR testd: also shown\n"));
    /* Two lines, each starting with an ISO-8601 UTC timestamp. */
    assert_int_equal(buf[4], '-');
    assert_int_equal(buf[10], 'T');
    assert_int_equal(buf[23], 'Z');
    char *second = strchr(buf, '\n') + 1;
    assert_int_equal(second[10], 'T');
    assert_int_equal(strchr(second, '\n')[1], '\0');

    assert_int_equal(dmn_log_level_parse("debug"), DMN_LOG_DEBUG);
    assert_int_equal(dmn_log_level_parse("error"), DMN_LOG_ERROR);
    assert_int_equal(dmn_log_level_parse("verbose"), -1);
    assert_int_equal(dmn_log_open("/nonexistent/dir/x.log", DMN_LOG_INFO,
                                  "testd"),
                     -2 /* -ENOENT */);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(defaults_apply),
        cmocka_unit_test(file_then_flags),
        cmocka_unit_test(file_errors_name_key_and_line),
        cmocka_unit_test(empty_file_is_defaults),
        cmocka_unit_test(yaml_text_like_a_file),
        cmocka_unit_test(flag_errors),
        cmocka_unit_test(help_and_version),
        cmocka_unit_test(secret_is_scrubbed_and_masked),
        cmocka_unit_test(print_round_trips),
        cmocka_unit_test(split_addr),
        cmocka_unit_test(datadir_lock_excludes),
        cmocka_unit_test(log_levels_and_file),
    };
    return cmocka_run_group_tests_name("daemons/config", tests, setup,
                                       teardown);
}
