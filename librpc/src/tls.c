/* tls.c: TLS configurations (rpc_tls_config_*) and the per-connection TLS
 * session seam (rpc__tls_*) on mbedtls 2.28. mbedtls reads and writes
 * ciphertext through BIO callbacks over the caller's evbuffers; nothing here
 * touches a socket. See librpc/DESIGN.md, "TLS".
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/oid.h>
#include <mbedtls/pk.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>

#include "rpc_int.h"
#include "tls.h"

/* Room for a common name shown in messages and by rpc__tls_peer_cn (X.520
 * bounds a CN at 64 characters); comparisons use the full name. */
#define CN_MAX 256

/* Largest TLS 1.2 record body: 2^14 plaintext + 2048 (RFC 5246 6.2.3). */
#define MAX_RECORD_BODY (16384 + 2048)

/* Plaintext in one record, and moved per mbedtls_ssl_read() call. */
#define RECORD_PLAIN 16384

/* TLS 1.2 suites: ephemeral ECDH (forward secrecy) and AEAD only, ECDSA or
 * RSA certificates. ChaCha20-Poly1305 comes first: mbedtls 2.28's GCM runs
 * one block at a time even with AES-NI, and measured slower here (about
 * 125 vs 180 MB/s, see DESIGN.md "TLS"). */
static const int ciphersuites[] = {
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
    MBEDTLS_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
    MBEDTLS_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
    MBEDTLS_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
    0,
};

/* ECDHE groups, also the curves accepted for ECDSA certificates. mbedtls'
 * default list starts with secp521r1, the slowest: with it a server-only
 * handshake cost about twice the CPU it does with x25519 (DESIGN.md
 * "TLS"). */
static const mbedtls_ecp_group_id curves[] = {
    MBEDTLS_ECP_DP_CURVE25519,
    MBEDTLS_ECP_DP_SECP256R1,
    MBEDTLS_ECP_DP_SECP384R1,
    MBEDTLS_ECP_DP_SECP521R1,
    MBEDTLS_ECP_DP_NONE,
};

struct rpc_tls_config
{
    bool is_server;              /* role of every session made from it */
    bool has_ca;                 /* ca holds at least one certificate */
    bool has_cert;               /* cert and key are loaded */
    bool verifies_peer;          /* authmode REQUIRED: peer chain checked */
    mbedtls_ssl_config conf;     /* shared, read-only after create */
    mbedtls_x509_crt ca;         /* trusted CAs for the peer's chain */
    mbedtls_x509_crt cert;       /* our certificate chain */
    mbedtls_pk_context key;      /* private key of cert */
    mbedtls_entropy_context entropy; /* seeds and reseeds drbg */
    mbedtls_ctr_drbg_context drbg;   /* randomness for every session */
    pthread_mutex_t drbg_lock;   /* serializes drbg (and entropy) use */
    bool lock_inited;            /* drbg_lock needs destroying */
    char **allowed_cn;           /* NULL-terminated copies, or NULL */
    char *server_name;           /* client: expected server name, or NULL */
};

struct rpc__tls
{
    const struct rpc_tls_config *cfg; /* borrowed; outlives the session */
    mbedtls_ssl_context ssl;     /* the mbedtls session */
    struct evbuffer *bio_in;     /* ciphertext source during a call */
    struct evbuffer *bio_out;    /* ciphertext sink during a call */
    bool established;            /* handshake done and peer accepted */
    bool peer_closed;            /* close_notify received */
    int first_byte;              /* first ciphertext byte received, or -1 */
    bool body_ready;             /* a record header went to mbedtls and
                                    its whole body waits in bio_in */
    int failed;                  /* 0, or the sticky error code */
    bool cn_rejected;            /* verify callback refused the peer CN */
    char peer_cn[CN_MAX];        /* peer certificate CN once established */
    struct rpc_tls_info info;    /* negotiated version and suite, set
                                    once established */
    char reject_why[CN_MAX + 64]; /* verify callback's reason */
    char errmsg[512];            /* detail of the last failure */
};

/* ---- helpers ------------------------------------------------------------ */

static void set_err(char *buf, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(char *buf, size_t len, const char *fmt, ...)
{
    va_list ap;
    if (buf == NULL || len == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(buf, len, fmt, ap);
    va_end(ap);
}

/* mbedtls' text for ret, e.g. "X509 - Certificate verification failed". */
static void mbed_text(int ret, char *buf, size_t len)
{
    mbedtls_strerror(ret, buf, len);
    if (buf[0] == '\0')
        snprintf(buf, len, "mbedtls error -0x%04x", (unsigned)-ret);
}

/* Thread-safe RNG for the shared ssl config: one DRBG per config, under a
 * mutex (see DESIGN.md, "TLS", thread safety). */
static int locked_random(void *p, unsigned char *out, size_t len)
{
    struct rpc_tls_config *cfg = p;
    int ret;
    if (pthread_mutex_lock(&cfg->drbg_lock) != 0)
        return MBEDTLS_ERR_CTR_DRBG_ENTROPY_SOURCE_FAILED;
    ret = mbedtls_ctr_drbg_random(&cfg->drbg, out, len);
    pthread_mutex_unlock(&cfg->drbg_lock);
    return ret;
}

/* Reads a whole file into a NUL-terminated heap buffer. */
static int read_file(const char *path, char **out, size_t *outlen,
                     char *errbuf, size_t errlen)
{
    FILE *f;
    struct stat st;
    char *buf = NULL;
    size_t len;
    int rc = RPC_ECONFIG;

    f = fopen(path, "rb");
    if (f == NULL) {
        set_err(errbuf, errlen, "cannot open %s: %s", path, strerror(errno));
        return RPC_ECONFIG;
    }
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        set_err(errbuf, errlen, "%s: not a regular file", path);
        goto out;
    }
    if (st.st_size > (64 << 20)) {
        set_err(errbuf, errlen, "%s: larger than 64 MiB", path);
        goto out;
    }
    len = (size_t)st.st_size;
    buf = rpc__malloc(len + 1);
    if (buf == NULL) {
        rc = -ENOMEM;
        set_err(errbuf, errlen, "%s: out of memory", path);
        goto out;
    }
    if (fread(buf, 1, len, f) != len) {
        set_err(errbuf, errlen, "cannot read %s: %s", path,
                ferror(f) ? strerror(errno) : "file shrank while read");
        goto out;
    }
    buf[len] = '\0';
    *out = buf;
    *outlen = len;
    buf = NULL;
    rc = 0;
out:
    rpc__free(buf);
    fclose(f);
    return rc;
}

enum pem_kind { PEM_CERT, PEM_KEY };

/* Loads one PEM input (memory wins over file) into crt or pk. what names
 * it in messages ("ca", "cert", "key"). Returns 0, RPC_ECONFIG or -ENOMEM;
 * *loaded says whether anything was given. */
static int load_pem(const char *mem, const char *file, enum pem_kind kind,
                    const char *what, mbedtls_x509_crt *crt,
                    mbedtls_pk_context *pk, bool *loaded, char *errbuf,
                    size_t errlen)
{
    char *filebuf = NULL;
    const unsigned char *data;
    size_t len;
    const char *src;
    char text[160];
    int ret, rc;

    *loaded = false;
    if (mem != NULL) {
        data = (const unsigned char *)mem;
        len = strlen(mem) + 1; /* mbedtls wants the NUL for PEM */
        src = "memory";
    } else if (file != NULL) {
        size_t flen;
        rc = read_file(file, &filebuf, &flen, errbuf, errlen);
        if (rc != 0)
            return rc;
        data = (const unsigned char *)filebuf;
        len = flen + 1;
        src = file;
    } else {
        return 0;
    }
    if (kind == PEM_CERT) {
        ret = mbedtls_x509_crt_parse(crt, data, len);
        /* A positive ret counts certificates that failed to parse. */
        if (ret > 0) {
            set_err(errbuf, errlen,
                    "%s (%s): %d certificate(s) failed to parse", what, src,
                    ret);
            rc = RPC_ECONFIG;
            goto out;
        }
    } else {
        ret = mbedtls_pk_parse_key(pk, data, len, NULL, 0);
    }
    if (ret != 0) {
        mbed_text(ret, text, sizeof text);
        set_err(errbuf, errlen, "%s (%s): bad PEM: %s", what, src, text);
        rc = ret == MBEDTLS_ERR_PK_ALLOC_FAILED ||
                     ret == MBEDTLS_ERR_X509_ALLOC_FAILED
                 ? -ENOMEM
                 : RPC_ECONFIG;
        goto out;
    }
    *loaded = true;
    rc = 0;
out:
    if (filebuf != NULL) {
        mbedtls_platform_zeroize(filebuf, len);
        rpc__free(filebuf);
    }
    return rc;
}

/* Finds the subject CN of crt; returns a pointer into the certificate and
 * its length, or NULL. */
static const unsigned char *cert_cn(const mbedtls_x509_crt *crt, size_t *len)
{
    const mbedtls_x509_name *n;
    for (n = &crt->subject; n != NULL; n = n->next) {
        if (n->oid.p != NULL && MBEDTLS_OID_CMP(MBEDTLS_OID_AT_CN, &n->oid) == 0) {
            *len = n->val.len;
            return n->val.p;
        }
    }
    return NULL;
}

/* Copies a CN for display, replacing anything unprintable with '?'. */
static void cn_display(const unsigned char *p, size_t len, char *out,
                       size_t outlen)
{
    size_t i;
    if (len > outlen - 1)
        len = outlen - 1;
    for (i = 0; i < len; i++)
        out[i] = (p[i] >= 0x20 && p[i] < 0x7f) ? (char)p[i] : '?';
    out[len] = '\0';
}

static bool cn_allowed(const struct rpc_tls_config *cfg,
                       const unsigned char *p, size_t len)
{
    char *const *a;
    for (a = cfg->allowed_cn; *a != NULL; a++) {
        if (strlen(*a) == len && memcmp(*a, p, len) == 0)
            return true;
    }
    return false;
}

/* ---- configurations ------------------------------------------------------ */

void rpc_tls_config_destroy(struct rpc_tls_config *cfg)
{
    char **a;
    if (cfg == NULL)
        return;
    mbedtls_ssl_config_free(&cfg->conf);
    mbedtls_x509_crt_free(&cfg->ca);
    mbedtls_x509_crt_free(&cfg->cert);
    mbedtls_pk_free(&cfg->key);
    mbedtls_ctr_drbg_free(&cfg->drbg);
    mbedtls_entropy_free(&cfg->entropy);
    if (cfg->lock_inited)
        pthread_mutex_destroy(&cfg->drbg_lock);
    if (cfg->allowed_cn != NULL) {
        for (a = cfg->allowed_cn; *a != NULL; a++)
            rpc__free(*a);
        rpc__free(cfg->allowed_cn);
    }
    rpc__free(cfg->server_name);
    rpc__free(cfg);
}

/* Option combinations that cannot work; the message says which. */
static int check_options(const struct rpc_tls_options *o, bool has_ca,
                         bool has_cert, bool has_key, char *errbuf,
                         size_t errlen)
{
    if (has_cert != has_key) {
        set_err(errbuf, errlen, "%s given without %s",
                has_cert ? "cert" : "key", has_cert ? "key" : "cert");
        return RPC_ECONFIG;
    }
    if (o->is_server && !has_cert) {
        set_err(errbuf, errlen, "a TLS server needs cert and key");
        return RPC_ECONFIG;
    }
    if (o->is_server && o->require_peer_cert && !has_ca) {
        set_err(errbuf, errlen, "require_peer_cert needs a ca to verify with");
        return RPC_ECONFIG;
    }
    if (o->is_server && o->allowed_cn != NULL && !o->require_peer_cert) {
        set_err(errbuf, errlen, "allowed_cn on a server needs require_peer_cert");
        return RPC_ECONFIG;
    }
    if (!o->is_server && (o->allowed_cn != NULL || o->server_name != NULL) &&
        !has_ca) {
        set_err(errbuf, errlen, "%s needs a ca to verify the server with",
                o->server_name != NULL ? "server_name" : "allowed_cn");
        return RPC_ECONFIG;
    }
    if (o->is_server && o->server_name != NULL) {
        set_err(errbuf, errlen, "server_name is for clients only");
        return RPC_ECONFIG;
    }
    if (o->allowed_cn != NULL && o->allowed_cn[0] == NULL) {
        set_err(errbuf, errlen, "allowed_cn is empty: no peer could connect");
        return RPC_ECONFIG;
    }
    return 0;
}

int rpc_tls_config_create(const struct rpc_tls_options *opts,
                          struct rpc_tls_config **out,
                          char *errbuf,
                          size_t errlen)
{
    static const char pers[] = "librpc tls config";
    struct rpc_tls_config *cfg;
    bool has_ca, has_cert, has_key;
    char text[160];
    size_t n, i;
    int ret, rc;

    if (opts == NULL || out == NULL) {
        set_err(errbuf, errlen, "no options or no result pointer");
        return RPC_ECONFIG;
    }
    set_err(errbuf, errlen, "%s", "");
    cfg = rpc__calloc(1, sizeof *cfg);
    if (cfg == NULL) {
        set_err(errbuf, errlen, "out of memory");
        return -ENOMEM;
    }
    cfg->is_server = opts->is_server;
    mbedtls_ssl_config_init(&cfg->conf);
    mbedtls_x509_crt_init(&cfg->ca);
    mbedtls_x509_crt_init(&cfg->cert);
    mbedtls_pk_init(&cfg->key);
    mbedtls_entropy_init(&cfg->entropy);
    mbedtls_ctr_drbg_init(&cfg->drbg);
    if (pthread_mutex_init(&cfg->drbg_lock, NULL) != 0) {
        set_err(errbuf, errlen, "cannot create the DRBG mutex");
        rc = RPC_ETLS;
        goto err;
    }
    cfg->lock_inited = true;

    rc = load_pem(opts->ca_pem, opts->ca_file, PEM_CERT, "ca", &cfg->ca,
                  NULL, &has_ca, errbuf, errlen);
    if (rc != 0)
        goto err;
    rc = load_pem(opts->cert_pem, opts->cert_file, PEM_CERT, "cert",
                  &cfg->cert, NULL, &has_cert, errbuf, errlen);
    if (rc != 0)
        goto err;
    rc = load_pem(opts->key_pem, opts->key_file, PEM_KEY, "key", NULL,
                  &cfg->key, &has_key, errbuf, errlen);
    if (rc != 0)
        goto err;
    rc = check_options(opts, has_ca, has_cert, has_key, errbuf, errlen);
    if (rc != 0)
        goto err;
    if (has_cert) {
        ret = mbedtls_pk_check_pair(&cfg->cert.pk, &cfg->key);
        if (ret != 0) {
            mbed_text(ret, text, sizeof text);
            set_err(errbuf, errlen,
                    "key does not match the certificate (%s)", text);
            rc = RPC_ECONFIG;
            goto err;
        }
    }
    cfg->has_ca = has_ca;
    cfg->has_cert = has_cert;
    cfg->verifies_peer = opts->is_server ? opts->require_peer_cert : has_ca;

    if (opts->allowed_cn != NULL) {
        for (n = 0; opts->allowed_cn[n] != NULL; n++)
            ;
        cfg->allowed_cn = rpc__calloc(n + 1, sizeof *cfg->allowed_cn);
        if (cfg->allowed_cn == NULL)
            goto err_nomem;
        for (i = 0; i < n; i++) {
            cfg->allowed_cn[i] = rpc__strdup(opts->allowed_cn[i]);
            if (cfg->allowed_cn[i] == NULL)
                goto err_nomem;
        }
    }
    if (opts->server_name != NULL) {
        cfg->server_name = rpc__strdup(opts->server_name);
        if (cfg->server_name == NULL)
            goto err_nomem;
    }

    ret = mbedtls_ctr_drbg_seed(&cfg->drbg, mbedtls_entropy_func,
                                &cfg->entropy, (const unsigned char *)pers,
                                sizeof pers - 1);
    if (ret != 0) {
        mbed_text(ret, text, sizeof text);
        set_err(errbuf, errlen, "cannot seed the DRBG: %s", text);
        rc = RPC_ETLS;
        goto err;
    }
    ret = mbedtls_ssl_config_defaults(
        &cfg->conf,
        opts->is_server ? MBEDTLS_SSL_IS_SERVER : MBEDTLS_SSL_IS_CLIENT,
        MBEDTLS_SSL_TRANSPORT_STREAM, MBEDTLS_SSL_PRESET_DEFAULT);
    if (ret != 0) {
        mbed_text(ret, text, sizeof text);
        set_err(errbuf, errlen, "mbedtls_ssl_config_defaults: %s", text);
        rc = RPC_ETLS;
        goto err;
    }
    mbedtls_ssl_conf_rng(&cfg->conf, locked_random, cfg);
    mbedtls_ssl_conf_min_version(&cfg->conf, MBEDTLS_SSL_MAJOR_VERSION_3,
                                 MBEDTLS_SSL_MINOR_VERSION_3);
    mbedtls_ssl_conf_max_version(&cfg->conf, MBEDTLS_SSL_MAJOR_VERSION_3,
                                 MBEDTLS_SSL_MINOR_VERSION_3);
    mbedtls_ssl_conf_ciphersuites(&cfg->conf, ciphersuites);
    mbedtls_ssl_conf_curves(&cfg->conf, curves);
    mbedtls_ssl_conf_renegotiation(&cfg->conf,
                                   MBEDTLS_SSL_RENEGOTIATION_DISABLED);
    mbedtls_ssl_conf_authmode(&cfg->conf, cfg->verifies_peer
                                              ? MBEDTLS_SSL_VERIFY_REQUIRED
                                              : MBEDTLS_SSL_VERIFY_NONE);
    if (has_ca)
        mbedtls_ssl_conf_ca_chain(&cfg->conf, &cfg->ca, NULL);
    if (has_cert) {
        ret = mbedtls_ssl_conf_own_cert(&cfg->conf, &cfg->cert, &cfg->key);
        if (ret != 0) {
            mbed_text(ret, text, sizeof text);
            set_err(errbuf, errlen, "cannot use cert and key: %s", text);
            rc = RPC_ECONFIG;
            goto err;
        }
    }
    *out = cfg;
    return 0;

err_nomem:
    set_err(errbuf, errlen, "out of memory");
    rc = -ENOMEM;
err:
    rpc_tls_config_destroy(cfg);
    return rc;
}

/* ---- sessions ------------------------------------------------------------ */

/* BIO: mbedtls pulls ciphertext from the evbuffer given to this call,
 * one whole record at a time. In TLS mode mbedtls asks for exactly the
 * bytes it lacks: the 5-byte header, then the body. We hand over the header
 * only once the whole record is in raw_in, so a partial record always stays
 * in raw_in, where the connection's stall guard sees it (a peer cannot park
 * half a record inside mbedtls). A header mbedtls will refuse (bad type or
 * length) goes over at once, so it fails fast. */
static int bio_recv(void *p, unsigned char *buf, size_t len)
{
    struct rpc__tls *t = p;
    size_t avail = t->bio_in != NULL ? evbuffer_get_length(t->bio_in) : 0;
    int n;

    if (avail == 0)
        return MBEDTLS_ERR_SSL_WANT_READ;
    if (t->body_ready) {
        /* The body of the header we handed over: all of it is here. */
        t->body_ready = false;
    } else if (len == 5) {
        unsigned char h[5];
        size_t body;
        if (avail < 5)
            return MBEDTLS_ERR_SSL_WANT_READ;
        evbuffer_copyout(t->bio_in, h, 5);
        body = (size_t)h[3] << 8 | h[4];
        if (h[0] >= MBEDTLS_SSL_MSG_CHANGE_CIPHER_SPEC &&
            h[0] <= MBEDTLS_SSL_MSG_APPLICATION_DATA && body > 0 &&
            body <= MAX_RECORD_BODY) {
            if (avail < 5 + body)
                return MBEDTLS_ERR_SSL_WANT_READ;
            t->body_ready = true;
        }
    }
    if (len > INT32_MAX)
        len = INT32_MAX;
    n = evbuffer_remove(t->bio_in, buf, len);
    if (n <= 0)
        return MBEDTLS_ERR_SSL_WANT_READ;
    if (t->first_byte < 0)
        t->first_byte = buf[0];
    return n;
}

/* BIO: mbedtls pushes records to the evbuffer given to this call; an
 * evbuffer only fails to grow when out of memory. */
static int bio_send(void *p, const unsigned char *buf, size_t len)
{
    struct rpc__tls *t = p;
    if (t->bio_out == NULL)
        return MBEDTLS_ERR_SSL_WANT_WRITE;
    if (len > INT32_MAX)
        len = INT32_MAX;
    if (evbuffer_add(t->bio_out, buf, len) != 0)
        return MBEDTLS_ERR_SSL_ALLOC_FAILED;
    return (int)len;
}

/* Per-certificate check during the handshake: the leaf's CN must be in
 * allowed_cn. Refusing here (rather than after the handshake) makes
 * mbedtls send the peer an access_denied alert, so it fails too. */
static int verify_cn(void *p, mbedtls_x509_crt *crt, int depth,
                     uint32_t *flags)
{
    struct rpc__tls *t = p;
    const unsigned char *cn;
    char shown[CN_MAX];
    size_t len;

    if (depth != 0 || t->cfg->allowed_cn == NULL)
        return 0;
    cn = cert_cn(crt, &len);
    if (cn == NULL) {
        *flags |= MBEDTLS_X509_BADCERT_OTHER;
        t->cn_rejected = true;
        snprintf(t->reject_why, sizeof t->reject_why,
                 "peer certificate has no common name");
    } else if (!cn_allowed(t->cfg, cn, len)) {
        *flags |= MBEDTLS_X509_BADCERT_OTHER;
        t->cn_rejected = true;
        cn_display(cn, len, shown, sizeof shown);
        snprintf(t->reject_why, sizeof t->reject_why,
                 "peer certificate CN \"%s\" is not in allowed_cn", shown);
    }
    return 0;
}

int rpc__tls_new(const struct rpc_tls_config *cfg, struct rpc__tls **out)
{
    struct rpc__tls *t;
    int ret;

    t = rpc__calloc(1, sizeof *t);
    if (t == NULL)
        return -ENOMEM;
    t->cfg = cfg;
    t->first_byte = -1;
    mbedtls_ssl_init(&t->ssl);
    ret = mbedtls_ssl_setup(&t->ssl, &cfg->conf);
    if (ret != 0)
        goto err;
    if (!cfg->is_server && cfg->server_name != NULL) {
        ret = mbedtls_ssl_set_hostname(&t->ssl, cfg->server_name);
        if (ret != 0)
            goto err;
    }
    mbedtls_ssl_set_verify(&t->ssl, verify_cn, t);
    mbedtls_ssl_set_bio(&t->ssl, t, bio_send, bio_recv, NULL);
    *out = t;
    return 0;
err:
    mbedtls_ssl_free(&t->ssl);
    rpc__free(t);
    return ret == MBEDTLS_ERR_SSL_ALLOC_FAILED ? -ENOMEM : RPC_ETLS;
}

void rpc__tls_free(struct rpc__tls *t)
{
    if (t == NULL)
        return;
    mbedtls_ssl_free(&t->ssl);
    rpc__free(t);
}

static int fail(struct rpc__tls *t, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(struct rpc__tls *t, int rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t->errmsg, sizeof t->errmsg, fmt, ap);
    va_end(ap);
    t->failed = rc;
    return rc;
}

static const char *alert_name(int code)
{
    switch (code) {
    case MBEDTLS_SSL_ALERT_MSG_HANDSHAKE_FAILURE: return "handshake_failure";
    case MBEDTLS_SSL_ALERT_MSG_NO_CERT: return "no_certificate";
    case MBEDTLS_SSL_ALERT_MSG_BAD_CERT: return "bad_certificate";
    case MBEDTLS_SSL_ALERT_MSG_UNSUPPORTED_CERT: return "unsupported_certificate";
    case MBEDTLS_SSL_ALERT_MSG_CERT_REVOKED: return "certificate_revoked";
    case MBEDTLS_SSL_ALERT_MSG_CERT_EXPIRED: return "certificate_expired";
    case MBEDTLS_SSL_ALERT_MSG_CERT_UNKNOWN: return "certificate_unknown";
    case MBEDTLS_SSL_ALERT_MSG_UNKNOWN_CA: return "unknown_ca";
    case MBEDTLS_SSL_ALERT_MSG_ACCESS_DENIED: return "access_denied";
    case MBEDTLS_SSL_ALERT_MSG_PROTOCOL_VERSION: return "protocol_version";
    case MBEDTLS_SSL_ALERT_MSG_DECODE_ERROR: return "decode_error";
    case MBEDTLS_SSL_ALERT_MSG_DECRYPT_ERROR: return "decrypt_error";
    case MBEDTLS_SSL_ALERT_MSG_BAD_RECORD_MAC: return "bad_record_mac";
    case MBEDTLS_SSL_ALERT_MSG_UNEXPECTED_MESSAGE: return "unexpected_message";
    case MBEDTLS_SSL_ALERT_MSG_ILLEGAL_PARAMETER: return "illegal_parameter";
    case MBEDTLS_SSL_ALERT_MSG_INTERNAL_ERROR: return "internal_error";
    case MBEDTLS_SSL_ALERT_MSG_INSUFFICIENT_SECURITY:
        return "insufficient_security";
    default: return "other";
    }
}

/* Turns a failed mbedtls call into a sticky error with a message. */
static int fail_mbed(struct rpc__tls *t, int ret, const char *during)
{
    char text[160];
    char info[256];
    uint32_t flags;
    int a;

    /* A first record that is neither handshake nor alert: not TLS at all
     * (say, a plaintext librpc frame, "LRPC"). Say so plainly. */
    if (!t->established && t->first_byte >= 0 &&
        t->first_byte != MBEDTLS_SSL_MSG_HANDSHAKE &&
        t->first_byte != MBEDTLS_SSL_MSG_ALERT)
        return fail(t, RPC_ETLS,
                    "the peer does not speak TLS: its first byte 0x%02x "
                    "starts no TLS record (%s)",
                    (unsigned)t->first_byte, during);
    switch (ret) {
    case MBEDTLS_ERR_X509_CERT_VERIFY_FAILED:
        flags = mbedtls_ssl_get_verify_result(&t->ssl);
        if (t->cn_rejected)
            flags &= ~(uint32_t)MBEDTLS_X509_BADCERT_OTHER;
        info[0] = '\0';
        if (flags != 0) {
            char *s;
            mbedtls_x509_crt_verify_info(info, sizeof info, "", flags);
            /* one line: "a\nb\n" -> "a; b" */
            for (s = info; *s != '\0'; s++)
                if (*s == '\n')
                    *s = s[1] != '\0' ? ';' : '\0';
        }
        return fail(t, RPC_ETLS_VERIFY, "peer certificate rejected: %s%s%s",
                    t->cn_rejected ? t->reject_why : "",
                    t->cn_rejected && info[0] != '\0' ? "; " : "", info);
    case MBEDTLS_ERR_SSL_NO_CLIENT_CERTIFICATE:
        /* mbedtls leaves the client waiting; RFC 5246 7.4.6 says to answer
         * a missing certificate with handshake_failure. */
        mbedtls_ssl_send_alert_message(&t->ssl, MBEDTLS_SSL_ALERT_LEVEL_FATAL,
                                       MBEDTLS_SSL_ALERT_MSG_HANDSHAKE_FAILURE);
        return fail(t, RPC_ETLS_VERIFY,
                    "peer certificate rejected: the client sent none");
    case MBEDTLS_ERR_SSL_PEER_VERIFY_FAILED:
        return fail(t, RPC_ETLS_VERIFY,
                    "peer certificate rejected: its CertificateVerify "
                    "signature does not verify");
    case MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE:
        /* mbedtls 2.28 has no getter for the alert received; the record it
         * just parsed is still in in_msg (level, description). These
         * fields are public in 2.x; 3.x hides them (MBEDTLS_PRIVATE). */
        a = -1;
        if (t->ssl.in_msg != NULL &&
            t->ssl.in_msgtype == MBEDTLS_SSL_MSG_ALERT &&
            t->ssl.in_msglen >= 2)
            a = t->ssl.in_msg[1];
        if (a >= MBEDTLS_SSL_ALERT_MSG_NO_CERT &&
            a <= MBEDTLS_SSL_ALERT_MSG_ACCESS_DENIED &&
            a != MBEDTLS_SSL_ALERT_MSG_ILLEGAL_PARAMETER)
            return fail(t, RPC_ETLS_VERIFY,
                        "the peer rejected our certificate or its own "
                        "verification failed (TLS alert %s) %s",
                        alert_name(a), during);
        if (a == MBEDTLS_SSL_ALERT_MSG_HANDSHAKE_FAILURE &&
            !t->cfg->is_server && !t->cfg->has_cert)
            return fail(t, RPC_ETLS,
                        "the peer sent TLS alert handshake_failure %s: the "
                        "server may require a client certificate, and this "
                        "client has none",
                        during);
        return fail(t, RPC_ETLS, "the peer sent TLS alert %s (%d) %s",
                    alert_name(a), a, during);
    default:
        mbed_text(ret, text, sizeof text);
        return fail(t, RPC_ETLS, "TLS failure %s: %s", during, text);
    }
}

/* Records what the handshake settled on. mbedtls names a suite with
 * dashes ("TLS-ECDHE-RSA-WITH-AES-128-GCM-SHA256"); its IANA name is the
 * same words joined by underscores (RFC 8447's registry spelling). */
static void note_negotiated(struct rpc__tls *t)
{
    const char *v = mbedtls_ssl_get_version(&t->ssl);
    const char *s = mbedtls_ssl_get_ciphersuite(&t->ssl);
    size_t i;
    int id;

    snprintf(t->info.version, sizeof t->info.version, "%s",
             v != NULL ? v : "");
    snprintf(t->info.suite, sizeof t->info.suite, "%s", s != NULL ? s : "");
    for (i = 0; t->info.suite[i] != '\0'; i++)
        if (t->info.suite[i] == '-')
            t->info.suite[i] = '_';
    id = s != NULL ? mbedtls_ssl_get_ciphersuite_id(s) : 0;
    t->info.suite_id = id > 0 && id <= 0xffff ? (uint16_t)id : 0;
}

/* After the handshake: record the peer CN, and check allowed_cn once more
 * (the verify callback already did; this guards the no-chain case). An
 * unverified certificate (a client without a CA) gives no CN: peer_cn is
 * only ever a name the CA vouched for. */
static int on_established(struct rpc__tls *t)
{
    const mbedtls_x509_crt *peer = mbedtls_ssl_get_peer_cert(&t->ssl);
    const unsigned char *cn = NULL;
    size_t len = 0;

    if (peer != NULL && t->cfg->verifies_peer)
        cn = cert_cn(peer, &len);
    if (cn != NULL)
        cn_display(cn, len, t->peer_cn, sizeof t->peer_cn);
    note_negotiated(t);
    if (t->cfg->allowed_cn != NULL &&
        (cn == NULL || !cn_allowed(t->cfg, cn, len))) {
        mbedtls_ssl_send_alert_message(&t->ssl, MBEDTLS_SSL_ALERT_LEVEL_FATAL,
                                       MBEDTLS_SSL_ALERT_MSG_ACCESS_DENIED);
        return fail(t, RPC_ETLS_VERIFY,
                    "peer certificate rejected: CN \"%s\" is not in "
                    "allowed_cn",
                    t->peer_cn);
    }
    t->established = true;
    return 0;
}

/* Advances the handshake as far as the buffered input allows. */
static int handshake(struct rpc__tls *t)
{
    int ret = mbedtls_ssl_handshake(&t->ssl);
    if (ret == MBEDTLS_ERR_SSL_WANT_READ || ret == MBEDTLS_ERR_SSL_WANT_WRITE)
        return 0;
    if (ret != 0)
        return fail_mbed(t, ret, "during the handshake");
    return on_established(t);
}

int rpc__tls_start(struct rpc__tls *t, struct evbuffer *raw_out)
{
    int rc;
    if (t->failed)
        return t->failed;
    t->bio_in = NULL;
    t->bio_out = raw_out;
    rc = handshake(t);
    t->bio_out = NULL;
    return rc;
}

int rpc__tls_on_read(struct rpc__tls *t,
                     struct evbuffer *raw_in,
                     struct evbuffer *plain_in,
                     struct evbuffer *raw_out)
{
    struct evbuffer_iovec v;
    int rc = 0, ret;

    if (t->failed)
        return t->failed;
    t->bio_in = raw_in;
    t->bio_out = raw_out;
    if (!t->established) {
        rc = handshake(t);
        if (rc != 0 || !t->established)
            goto out;
    }
    while (!t->peer_closed) {
        if (evbuffer_reserve_space(plain_in, RECORD_PLAIN, &v, 1) < 1) {
            rc = fail(t, -ENOMEM, "out of memory for decrypted data");
            goto out;
        }
        ret = mbedtls_ssl_read(&t->ssl, v.iov_base,
                               v.iov_len < RECORD_PLAIN ? v.iov_len : RECORD_PLAIN);
        if (ret > 0) {
            v.iov_len = (size_t)ret;
            evbuffer_commit_space(plain_in, &v, 1);
            continue;
        }
        evbuffer_commit_space(plain_in, &v, 0);
        if (ret == MBEDTLS_ERR_SSL_WANT_READ ||
            ret == MBEDTLS_ERR_SSL_WANT_WRITE)
            break;
        if (ret == 0 || ret == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY) {
            /* Orderly shutdown: the socket's EOF follows; say nothing. */
            t->peer_closed = true;
            break;
        }
        rc = fail_mbed(t, ret, "reading a record");
        goto out;
    }
out:
    t->bio_in = NULL;
    t->bio_out = NULL;
    return rc;
}

/* Each record carries up to RECORD_PLAIN bytes: when the first chain of
 * plain_out is shorter than that and more follows (frames queued as
 * separate chains), the bytes are made contiguous first, so small frames
 * share records instead of paying 29 bytes and an AEAD call each. */
int rpc__tls_on_write(struct rpc__tls *t,
                      struct evbuffer *plain_out,
                      struct evbuffer *raw_out)
{
    struct evbuffer_iovec v;
    size_t n, total;
    int rc = 0, ret;

    if (t->failed)
        return t->failed;
    if (!t->established)
        return 0;
    t->bio_in = NULL;
    t->bio_out = raw_out;
    while ((total = evbuffer_get_length(plain_out)) > 0) {
        n = total < RECORD_PLAIN ? total : RECORD_PLAIN;
        if (evbuffer_peek(plain_out, -1, NULL, &v, 1) < 1 || v.iov_len < n) {
            v.iov_base = evbuffer_pullup(plain_out, (ssize_t)n);
            if (v.iov_base == NULL) {
                rc = fail(t, -ENOMEM, "out of memory for plaintext");
                break;
            }
        }
        ret = mbedtls_ssl_write(&t->ssl, v.iov_base, n);
        if (ret > 0) {
            evbuffer_drain(plain_out, (size_t)ret);
            continue;
        }
        /* bio_send never blocks, so WANT_WRITE cannot happen here. */
        rc = fail_mbed(t, ret, "writing a record");
        break;
    }
    t->bio_out = NULL;
    return rc;
}

bool rpc__tls_established(const struct rpc__tls *t)
{
    return t->established;
}

const char *rpc__tls_errmsg(const struct rpc__tls *t)
{
    return t->errmsg;
}

const char *rpc__tls_peer_cn(const struct rpc__tls *t)
{
    return t->peer_cn;
}

bool rpc__tls_info(const struct rpc__tls *t, struct rpc_tls_info *out)
{
    if (t == NULL || !t->established)
        return false;
    *out = t->info;
    return true;
}
