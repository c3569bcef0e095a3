/* myserver.c: an outside program built against an installed libsql through
 * pkg-config, showing how a server wires the protocol engine to a socket
 * (sql.h, "MySQL client/server protocol engine"): blocking I/O, one
 * connection at a time, a toy executor. run-myserver.sh drives it with the
 * mariadb CLI. Usage: myserver PORTFILE [CERT KEY] (listens on an
 * ephemeral loopback port and writes its number to PORTFILE; with a PEM
 * certificate and key it offers TLS through mbedtls).
 */
#include <arpa/inet.h>
#include <stdbool.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/pk.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>
#include <sql.h>

static bool have_tls;                /* CERT and KEY were given */
static mbedtls_ssl_config tls_conf;  /* server config, shared */

/* The connection's transport: the socket, then TLS over it. */
struct io {
    int fd;                      /* the socket */
    mbedtls_ssl_context *ssl;    /* NULL until the upgrade */
    const uint8_t *pending;      /* bytes read before the upgrade that
                                    belong to TLS (feed left them) */
    size_t npending;             /* their count */
};

static int bio_send(void *ctx, const unsigned char *b, size_t n)
{
    struct io *io = ctx;
    ssize_t w = write(io->fd, b, n);
    return w < 0 ? MBEDTLS_ERR_NET_SEND_FAILED : (int)w;
}

static int bio_recv(void *ctx, unsigned char *b, size_t n)
{
    struct io *io = ctx;
    if (io->npending > 0) {
        size_t k = n < io->npending ? n : io->npending;
        memcpy(b, io->pending, k);
        io->pending += k;
        io->npending -= k;
        return (int)k;
    }
    ssize_t r = read(io->fd, b, n);
    if (r == 0)
        return MBEDTLS_ERR_NET_CONN_RESET;
    return r < 0 ? MBEDTLS_ERR_NET_RECV_FAILED : (int)r;
}

static ssize_t io_write(struct io *io, const uint8_t *p, size_t n)
{
    if (io->ssl == NULL)
        return write(io->fd, p, n);
    int w = mbedtls_ssl_write(io->ssl, p, n);
    return w < 0 ? -1 : w;
}

static ssize_t io_read(struct io *io, uint8_t *p, size_t n)
{
    if (io->ssl == NULL)
        return read(io->fd, p, n);
    int r = mbedtls_ssl_read(io->ssl, p, n);
    return r < 0 ? -1 : r;
}

static int lookup(void *ctx, const char *user, const char *host,
                  struct sql_account *a)
{
    (void)ctx;
    (void)host;
    if (strcmp(user, "root") == 0) {
        a->plugin = SQL_AUTH_NATIVE;
        a->has_password = false;
        return 0;
    }
    if (strcmp(user, "alice") == 0) {
        a->plugin = SQL_AUTH_NATIVE;
        a->has_password = true;
        sql_auth_native_hash("secret", 6, a->native_hash);
        return 0;
    }
    if (strcmp(user, "bob") == 0 || strcmp(user, "carol") == 0) {
        a->plugin = SQL_AUTH_CACHING_SHA2;
        a->has_password = true;
        sql_auth_sha2_hash("s3cret", 6, a->sha2_hash);
        a->sha2_cached = user[0] == 'b';
        return 0;
    }
    return SQL_ENOTFOUND;
}

/* One column, one row. */
static int one_value(struct sql_proto_conn *c, const char *name,
                     uint8_t type, struct sql_value v)
{
    struct sql_column col;
    memset(&col, 0, sizeof col);
    col.name = name;
    col.type = type;
    col.charset = SQL_CHARSET_UTF8MB4_GENERAL_CI;
    col.length = 64;
    col.decimals = 31;
    struct sql_ok end = {.status = SQL_SERVER_STATUS_AUTOCOMMIT};
    int rc = sql_reply_columns(c, 1);
    rc = rc ? rc : sql_reply_column(c, &col);
    rc = rc ? rc : sql_reply_row(c, &v, 1);
    return rc ? rc : sql_reply_end(c, &end);
}

/* The toy executor: "select 1", the version comment the CLI asks for, the
 * length of any long query, "err", and OK for the rest. */
static int execute(void *ctx, struct sql_proto_conn *c,
                   const struct sql_command *cmd)
{
    (void)ctx;
    struct sql_ok ok = {.status = SQL_SERVER_STATUS_AUTOCOMMIT};
    struct sql_value v = {.kind = SQL_VALUE_INT};
    if (cmd->kind == SQL_CMD_STMT_CLOSE)
        return 0;
    if (cmd->kind == SQL_CMD_STMT_PREPARE) {
        /* One parameter per '?', one column "c". */
        uint16_t np = 0;
        for (size_t i = 0; i < cmd->text_len; i++)
            np = (uint16_t)(np + (cmd->text[i] == '?'));
        struct sql_column col;
        memset(&col, 0, sizeof col);
        col.charset = SQL_CHARSET_UTF8MB4_GENERAL_CI;
        col.type = SQL_TYPE_VAR_STRING;
        col.name = "?";
        int rc = sql_reply_prepared(c, np, 1, 0);
        for (uint16_t i = 0; rc == 0 && i < np; i++)
            rc = sql_reply_column(c, &col);
        col.name = "c";
        return rc ? rc : sql_reply_column(c, &col);
    }
    if (cmd->kind == SQL_CMD_STMT_EXECUTE) {
        fprintf(stderr, "execute stmt %u\n", (unsigned)cmd->stmt_id);
        /* The row: the first parameter as text, or "-". */
        char text[32] = "-";
        if (cmd->nparams > 0 && cmd->params[0].value.kind == SQL_VALUE_INT)
            snprintf(text, sizeof text, "%lld",
                     (long long)cmd->params[0].value.v.i);
        v.kind = SQL_VALUE_BYTES;
        v.v.s.p = text;
        v.v.s.len = strlen(text);
        return one_value(c, "c", SQL_TYPE_VAR_STRING, v);
    }
    if (cmd->kind != SQL_CMD_QUERY)
        return sql_reply_ok(c, &ok);
    if (cmd->text_len > 1000000) {
        v.v.i = (int64_t)cmd->text_len;
        return one_value(c, "length", SQL_TYPE_LONGLONG, v);
    }
    if (cmd->text_len == 8 && memcmp(cmd->text, "select 1", 8) == 0) {
        v.v.i = 1;
        return one_value(c, "1", SQL_TYPE_LONGLONG, v);
    }
    if (cmd->text_len > 16 && memmem(cmd->text, cmd->text_len,
                                     "@@version_comment", 17) != NULL) {
        v.kind = SQL_VALUE_BYTES;
        v.v.s.p = "libsql example";
        v.v.s.len = 14;
        return one_value(c, "@@version_comment", SQL_TYPE_VAR_STRING, v);
    }
    if (cmd->text_len == 3 && memcmp(cmd->text, "err", 3) == 0)
        return sql_reply_error(c, 1064, "42000", "example error");
    ok.affected_rows = 1;
    ok.info = "Rows matched: 1  Changed: 1  Warnings: 0";
    return sql_reply_ok(c, &ok);
}

/* Serve one connection until either side closes. */
static void serve(int s, uint32_t id)
{
    struct io io = {.fd = s};
    mbedtls_ssl_context ssl;
    mbedtls_ssl_init(&ssl);
    struct sql_proto_options o;
    memset(&o, 0, sizeof o);
    o.server_version = "8.0.11-example";
    o.connection_id = id;
    o.client_host = "127.0.0.1";
    o.tls_available = have_tls;
    for (int i = 0; i < 20; i++)
        o.scramble[i] = (uint8_t)rand(); /* an example: not a CSPRNG */
    o.auth.lookup = lookup;
    o.exec.execute = execute;
    struct sql_proto_conn *c = sql_proto_conn_create(&o);
    if (c == NULL || sql_proto_conn_start(c) != 0)
        goto out;
    static uint8_t buf[1 << 16];
    for (;;) {
        size_t n;
        const uint8_t *p = sql_proto_conn_output(c, &n);
        if (n > 0) {
            ssize_t w = io_write(&io, p, n);
            if (w <= 0)
                break;
            sql_proto_conn_consume(c, (size_t)w);
            continue;
        }
        if (sql_proto_conn_want_close(c))
            break;
        ssize_t r = io_read(&io, buf, sizeof buf);
        if (r <= 0)
            break;
        size_t used = 0;
        if (sql_proto_conn_feed(c, buf, (size_t)r, &used) != 0)
            break;
        if (sql_proto_conn_want_tls(c)) {
            /* The bytes feed left are the start of the TLS handshake. */
            io.pending = buf + used;
            io.npending = (size_t)r - used;
            if (mbedtls_ssl_setup(&ssl, &tls_conf) != 0)
                break;
            mbedtls_ssl_set_bio(&ssl, &io, bio_send, bio_recv, NULL);
            int rc;
            while ((rc = mbedtls_ssl_handshake(&ssl)) != 0)
                if (rc != MBEDTLS_ERR_SSL_WANT_READ &&
                    rc != MBEDTLS_ERR_SSL_WANT_WRITE)
                    goto out;
            io.ssl = &ssl;
            if (sql_proto_conn_tls_started(c) != 0)
                break;
        }
    }
out:
    if (io.ssl != NULL)
        mbedtls_ssl_close_notify(&ssl);
    mbedtls_ssl_free(&ssl);
    sql_proto_conn_destroy(c);
    close(s);
}

/* Load CERT and KEY into the shared server config. */
static int tls_setup(const char *cert, const char *key)
{
    static mbedtls_x509_crt crt;
    static mbedtls_pk_context pk;
    static mbedtls_entropy_context entropy;
    static mbedtls_ctr_drbg_context drbg;
    mbedtls_x509_crt_init(&crt);
    mbedtls_pk_init(&pk);
    mbedtls_entropy_init(&entropy);
    mbedtls_ctr_drbg_init(&drbg);
    mbedtls_ssl_config_init(&tls_conf);
    if (mbedtls_ctr_drbg_seed(&drbg, mbedtls_entropy_func, &entropy, NULL,
                              0) != 0 ||
        mbedtls_x509_crt_parse_file(&crt, cert) != 0 ||
        mbedtls_pk_parse_keyfile(&pk, key, NULL) != 0 ||
        mbedtls_ssl_config_defaults(&tls_conf, MBEDTLS_SSL_IS_SERVER,
                                    MBEDTLS_SSL_TRANSPORT_STREAM,
                                    MBEDTLS_SSL_PRESET_DEFAULT) != 0 ||
        mbedtls_ssl_conf_own_cert(&tls_conf, &crt, &pk) != 0)
        return -1;
    mbedtls_ssl_conf_rng(&tls_conf, mbedtls_ctr_drbg_random, &drbg);
    have_tls = true;
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 2 && argc != 4) {
        fprintf(stderr, "usage: myserver PORTFILE [CERT KEY]\n");
        return 2;
    }
    if (argc == 4 && tls_setup(argv[2], argv[3]) != 0) {
        fprintf(stderr, "myserver: cannot load %s / %s\n", argv[2], argv[3]);
        return 1;
    }
    int ls = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t alen = sizeof a;
    if (ls < 0 || bind(ls, (struct sockaddr *)&a, sizeof a) != 0 ||
        listen(ls, 8) != 0 ||
        getsockname(ls, (struct sockaddr *)&a, &alen) != 0) {
        perror("myserver: listen");
        return 1;
    }
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", argv[1]);
    FILE *f = fopen(tmp, "w");
    if (f == NULL || fprintf(f, "%u\n", (unsigned)ntohs(a.sin_port)) < 0 ||
        fclose(f) != 0 || rename(tmp, argv[1]) != 0) {
        perror("myserver: port file");
        return 1;
    }
    for (uint32_t id = 1;; id++) {
        int s = accept(ls, NULL, NULL);
        if (s >= 0)
            serve(s, id);
    }
}
