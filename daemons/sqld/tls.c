/* tls.c: sqld's TLS set-up for MySQL clients (docs/tls.md): the server
 * TLS configuration librpc's stream upgrade uses, from --tls-cert and
 * --tls-key (and --tls-ca), or from a self-signed certificate and key
 * that --tls-auto generates in the data directory on first start (as
 * MySQL's auto_generate_certs does); the RSA pair of caching_sha2's key
 * exchange; and what Ssl_version / Ssl_cipher show (the session's own,
 * with suites in OpenSSL's names).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <mbedtls/bignum.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/ecp.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/oid.h>
#include <mbedtls/pk.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/rsa.h>
#include <mbedtls/x509_crt.h>

#include <rpc.h>

#include "sqld.h"

/* Names of the generated files in the data directory (MySQL's). */
#define AUTO_CERT "server-cert.pem"
#define AUTO_KEY "server-key.pem"
#define AUTO_CN "dsql_sqld_Auto_Generated_Server_Certificate"

/* OpenSSL's names for the suites librpc negotiates, by IANA number:
 * MySQL and MariaDB report Ssl_cipher in OpenSSL's spelling, and that is
 * what their clients print (`\s`) and python's ssl .cipher() returns, so
 * a client can compare the two. A suite not listed (TLS 1.3's, should
 * librpc ever negotiate them) shows its IANA name, which is also
 * OpenSSL's for TLS 1.3 (TLS_AES_128_GCM_SHA256). */
static const struct {
    uint16_t id;         /* IANA cipher suite number */
    const char *openssl; /* OpenSSL's name for it */
} suite_names[] = {
    {0xCCA9, "ECDHE-ECDSA-CHACHA20-POLY1305"},
    {0xC02B, "ECDHE-ECDSA-AES128-GCM-SHA256"},
    {0xC02C, "ECDHE-ECDSA-AES256-GCM-SHA384"},
    {0xCCA8, "ECDHE-RSA-CHACHA20-POLY1305"},
    {0xC02F, "ECDHE-RSA-AES128-GCM-SHA256"},
    {0xC030, "ECDHE-RSA-AES256-GCM-SHA384"},
};

/* ctx is the connection's struct rpc_tls_info, filled on the loop thread
 * once the handshake is done (main.c, on_data), before the client can
 * log in and ask. */
void sqld_tls_info(void *ctx, const char **version, const char **cipher)
{
    const struct rpc_tls_info *ti = ctx;
    *version = "";
    *cipher = "";
    if (ti == NULL || ti->version[0] == '\0')
        return;
    *version = ti->version;
    *cipher = ti->suite;
    for (size_t i = 0; i < sizeof(suite_names) / sizeof(suite_names[0]); i++)
        if (suite_names[i].id == ti->suite_id)
            *cipher = suite_names[i].openssl;
}

static void mbed_err(char *err, size_t errlen, const char *what, int ret)
{
    char text[128];
    mbedtls_strerror(ret, text, sizeof(text));
    snprintf(err, errlen, "%s: %s", what, text);
}

/* Writes len bytes to path atomically (a temporary file renamed over
 * it) with mode. 0 or -1 with err set. */
static int write_file(const char *path, const unsigned char *p, size_t len,
                      mode_t mode, char *err, size_t errlen)
{
    char tmp[4200];
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0)
        goto fail;
    size_t off = 0;
    while (off < len) {
        ssize_t n = write(fd, p + off, len - off);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            close(fd);
            goto fail;
        }
        off += (size_t)n;
    }
    if (fsync(fd) != 0 || close(fd) != 0 || rename(tmp, path) != 0)
        goto fail;
    return 0;
fail:
    snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
    unlink(tmp);
    return -1;
}

/* "YYYYMMDDhhmmss" (UTC) of now + days. */
static void x509_time(char out[16], int days)
{
    time_t t = time(NULL) + (time_t)days * 86400;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 16, "%Y%m%d%H%M%S", &tm);
}

/* A P-256 key and a self-signed certificate for it, valid from yesterday
 * for ten years, naming localhost and 127.0.0.1 (so clients that check
 * the host name against it as their CA accept it on loopback). */
static int generate(const char *cert_path, const char *key_path, char *err,
                    size_t errlen)
{
    /* subjectAltName: SEQUENCE { dNSName "localhost", iPAddress
     * 127.0.0.1 } (RFC 5280 4.2.1.6), DER. */
    static const unsigned char san[] = {
        0x30, 0x11, 0x82, 0x09, 'l', 'o', 'c', 'a', 'l', 'h', 'o',
        's',  't',  0x87, 0x04, 127, 0,   0,   1};
    static const char pers[] = "sqld tls-auto";
    mbedtls_entropy_context ent;
    mbedtls_ctr_drbg_context drbg;
    mbedtls_pk_context key;
    mbedtls_x509write_cert crt;
    mbedtls_mpi serial;
    unsigned char buf[4096];
    char from[16], to[16];
    int rc = -1, ret;
    mbedtls_entropy_init(&ent);
    mbedtls_ctr_drbg_init(&drbg);
    mbedtls_pk_init(&key);
    mbedtls_x509write_crt_init(&crt);
    mbedtls_mpi_init(&serial);
    ret = mbedtls_ctr_drbg_seed(&drbg, mbedtls_entropy_func, &ent,
                                (const unsigned char *)pers,
                                sizeof(pers) - 1);
    if (ret != 0) {
        mbed_err(err, errlen, "cannot seed the DRBG", ret);
        goto out;
    }
    ret = mbedtls_pk_setup(&key, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY));
    ret = ret ? ret
              : mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1,
                                    mbedtls_pk_ec(key),
                                    mbedtls_ctr_drbg_random, &drbg);
    if (ret != 0) {
        mbed_err(err, errlen, "cannot generate a key", ret);
        goto out;
    }
    unsigned char sn[16];
    ret = mbedtls_ctr_drbg_random(&drbg, sn, sizeof(sn));
    sn[0] &= 0x7F; /* a positive serial */
    ret = ret ? ret : mbedtls_mpi_read_binary(&serial, sn, sizeof(sn));
    x509_time(from, -1);
    x509_time(to, 3650);
    mbedtls_x509write_crt_set_version(&crt, MBEDTLS_X509_CRT_VERSION_3);
    mbedtls_x509write_crt_set_md_alg(&crt, MBEDTLS_MD_SHA256);
    mbedtls_x509write_crt_set_subject_key(&crt, &key);
    mbedtls_x509write_crt_set_issuer_key(&crt, &key);
    ret = ret ? ret : mbedtls_x509write_crt_set_serial(&crt, &serial);
    ret = ret ? ret
              : mbedtls_x509write_crt_set_subject_name(&crt, "CN=" AUTO_CN);
    ret = ret ? ret
              : mbedtls_x509write_crt_set_issuer_name(&crt, "CN=" AUTO_CN);
    ret = ret ? ret : mbedtls_x509write_crt_set_validity(&crt, from, to);
    /* Its own CA: a client names this file as --ssl-ca. */
    ret = ret ? ret : mbedtls_x509write_crt_set_basic_constraints(&crt, 1, 0);
    ret = ret ? ret : mbedtls_x509write_crt_set_subject_key_identifier(&crt);
    ret = ret ? ret
              : mbedtls_x509write_crt_set_extension(
                    &crt, MBEDTLS_OID_SUBJECT_ALT_NAME,
                    MBEDTLS_OID_SIZE(MBEDTLS_OID_SUBJECT_ALT_NAME), 0, san,
                    sizeof(san));
    if (ret != 0) {
        mbed_err(err, errlen, "cannot build the certificate", ret);
        goto out;
    }
    ret = mbedtls_pk_write_key_pem(&key, buf, sizeof(buf));
    if (ret != 0) {
        mbed_err(err, errlen, "cannot encode the key", ret);
        goto out;
    }
    if (write_file(key_path, buf, strlen((char *)buf), 0600, err,
                   errlen) != 0)
        goto out;
    ret = mbedtls_x509write_crt_pem(&crt, buf, sizeof(buf),
                                    mbedtls_ctr_drbg_random, &drbg);
    if (ret != 0) {
        mbed_err(err, errlen, "cannot sign the certificate", ret);
        goto out;
    }
    /* Public: clients name it as their CA. */
    if (write_file(cert_path, buf, strlen((char *)buf), 0644, err,
                   errlen) != 0)
        goto out;
    rc = 0;
out:
    mbedtls_platform_zeroize(buf, sizeof(buf));
    mbedtls_mpi_free(&serial);
    mbedtls_x509write_crt_free(&crt);
    mbedtls_pk_free(&key);
    mbedtls_ctr_drbg_free(&drbg);
    mbedtls_entropy_free(&ent);
    return rc;
}

/* ---- caching_sha2's RSA key exchange -------------------------------
 * With tls-auto and auth-sha2-cache, a plain client's full authentication
 * uses MySQL's RSA exchange: the client asks for the public key and sends
 * its password RSA-OAEP encrypted. The pair lives in the data directory
 * (MySQL's names), generated on first start. Used on the loop thread
 * only (the protocol engine runs logins there). */
#define RSA_PRIV "private_key.pem"
#define RSA_PUB "public_key.pem"

static struct {
    bool loaded;                   /* key, drbg and pub are set */
    mbedtls_pk_context key;        /* the private key */
    mbedtls_entropy_context ent;   /* seeds drbg */
    mbedtls_ctr_drbg_context drbg; /* blinding for the private op */
    char pub[1024];                /* the public key, PEM */
} rsa;

static int gen_rsa(const char *priv_path, const char *pub_path, char *err,
                   size_t errlen)
{
    static const char pers[] = "sqld rsa";
    mbedtls_entropy_context ent;
    mbedtls_ctr_drbg_context drbg;
    mbedtls_pk_context key;
    unsigned char buf[4096];
    int rc = -1;
    mbedtls_entropy_init(&ent);
    mbedtls_ctr_drbg_init(&drbg);
    mbedtls_pk_init(&key);
    int ret = mbedtls_ctr_drbg_seed(&drbg, mbedtls_entropy_func, &ent,
                                    (const unsigned char *)pers,
                                    sizeof(pers) - 1);
    ret = ret ? ret
              : mbedtls_pk_setup(&key,
                                 mbedtls_pk_info_from_type(MBEDTLS_PK_RSA));
    ret = ret ? ret
              : mbedtls_rsa_gen_key(mbedtls_pk_rsa(key),
                                    mbedtls_ctr_drbg_random, &drbg, 2048,
                                    65537);
    if (ret != 0) {
        mbed_err(err, errlen, "cannot generate an RSA key", ret);
        goto out;
    }
    ret = mbedtls_pk_write_key_pem(&key, buf, sizeof(buf));
    if (ret != 0 || write_file(priv_path, buf, strlen((char *)buf), 0600,
                               err, errlen) != 0) {
        if (ret != 0)
            mbed_err(err, errlen, "cannot encode the RSA key", ret);
        goto out;
    }
    ret = mbedtls_pk_write_pubkey_pem(&key, buf, sizeof(buf));
    if (ret != 0 || write_file(pub_path, buf, strlen((char *)buf), 0644,
                               err, errlen) != 0) {
        if (ret != 0)
            mbed_err(err, errlen, "cannot encode the RSA public key", ret);
        goto out;
    }
    rc = 0;
out:
    mbedtls_platform_zeroize(buf, sizeof(buf));
    mbedtls_pk_free(&key);
    mbedtls_ctr_drbg_free(&drbg);
    mbedtls_entropy_free(&ent);
    return rc;
}

/* Loads (after generating if missing) the pair in data_dir. */
static int load_rsa(const char *data_dir, char *err, size_t errlen)
{
    static const char pers[] = "sqld rsa blinding";
    char priv[4096], pub[4096];
    snprintf(priv, sizeof(priv), "%s/" RSA_PRIV, data_dir);
    snprintf(pub, sizeof(pub), "%s/" RSA_PUB, data_dir);
    bool have_priv = access(priv, F_OK) == 0;
    if (!have_priv && gen_rsa(priv, pub, err, errlen) != 0)
        return -1;
    mbedtls_pk_init(&rsa.key);
    mbedtls_entropy_init(&rsa.ent);
    mbedtls_ctr_drbg_init(&rsa.drbg);
    rsa.loaded = true;
    int ret = mbedtls_pk_parse_keyfile(&rsa.key, priv, NULL);
    if (ret == 0 && !mbedtls_pk_can_do(&rsa.key, MBEDTLS_PK_RSA))
        ret = MBEDTLS_ERR_PK_TYPE_MISMATCH;
    if (ret != 0) {
        char what[4200];
        snprintf(what, sizeof(what), "cannot load %s", priv);
        mbed_err(err, errlen, what, ret);
        return -1;
    }
    /* OAEP with SHA-1, as MySQL's clients encrypt. */
    mbedtls_rsa_set_padding(mbedtls_pk_rsa(rsa.key), MBEDTLS_RSA_PKCS_V21,
                            MBEDTLS_MD_SHA1);
    ret = mbedtls_ctr_drbg_seed(&rsa.drbg, mbedtls_entropy_func, &rsa.ent,
                                (const unsigned char *)pers,
                                sizeof(pers) - 1);
    ret = ret ? ret
              : mbedtls_pk_write_pubkey_pem(&rsa.key,
                                            (unsigned char *)rsa.pub,
                                            sizeof(rsa.pub));
    if (ret != 0) {
        mbed_err(err, errlen, "RSA key", ret);
        return -1;
    }
    return 0;
}

const char *sqld_rsa_public_pem(void)
{
    return rsa.loaded && rsa.pub[0] ? rsa.pub : NULL;
}

int sqld_rsa_decrypt(void *ctx, const uint8_t *in, size_t len, uint8_t *out,
                     size_t *out_len)
{
    (void)ctx;
    size_t n = 0;
    int ret = mbedtls_pk_decrypt(&rsa.key, in, len, out, &n, *out_len,
                                 mbedtls_ctr_drbg_random, &rsa.drbg);
    if (ret != 0)
        return -1;
    *out_len = n;
    return 0;
}

void sqld_tls_free(void)
{
    if (!rsa.loaded)
        return;
    mbedtls_pk_free(&rsa.key);
    mbedtls_ctr_drbg_free(&rsa.drbg);
    mbedtls_entropy_free(&rsa.ent);
    memset(&rsa, 0, sizeof(rsa));
}

int sqld_tls_setup(const struct sqld_tls_settings *ts, const char *data_dir,
                   struct rpc_tls_config **out, char *err, size_t errlen)
{
    *out = NULL;
    char cert_path[4096], key_path[4096];
    const char *cert = ts->cert, *key = ts->key;
    if (!cert && !key && !ts->autogen)
        return 0; /* TLS off */
    if ((cert == NULL) != (key == NULL)) {
        snprintf(err, errlen, "tls-cert and tls-key go together");
        return -1;
    }
    if (!cert) {
        snprintf(cert_path, sizeof(cert_path), "%s/" AUTO_CERT, data_dir);
        snprintf(key_path, sizeof(key_path), "%s/" AUTO_KEY, data_dir);
        bool have_cert = access(cert_path, F_OK) == 0;
        bool have_key = access(key_path, F_OK) == 0;
        if (!have_cert && !have_key) {
            if (generate(cert_path, key_path, err, errlen) != 0)
                return -1;
        } else if (!have_cert || !have_key) {
            snprintf(err, errlen,
                     "tls-auto: %s without %s (remove it to generate both)",
                     have_cert ? cert_path : key_path,
                     have_cert ? key_path : cert_path);
            return -1;
        }
        cert = cert_path;
        key = key_path;
    }
    struct rpc_tls_options o = {
        .is_server = true,
        .ca_file = ts->ca,
        .cert_file = cert,
        .key_file = key,
    };
    int rc = rpc_tls_config_create(&o, out, err, errlen);
    if (rc != 0)
        return -1;
    if (ts->autogen && ts->rsa && load_rsa(data_dir, err, errlen) != 0) {
        rpc_tls_config_destroy(*out);
        *out = NULL;
        sqld_tls_free();
        return -1;
    }
    return 0;
}
