/* tlsutil.c: generates the test PKI of tlsutil.h with mbedtls (P-256 keys,
 * X.509 v3 certificates signed with ECDSA-SHA256). Every item is made from a
 * DRBG seeded by its own name, so runs and test orders see the same bytes.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <mbedtls/bignum.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/ecp.h>
#include <mbedtls/oid.h>
#include <mbedtls/pk.h>
#include <mbedtls/x509_crt.h>

#include "tlsutil.h"

#define PEM_MAX 4096
#define VALID_FROM "20200101000000"
#define VALID_UNTIL "20991231235959"
#define MAX_LEAVES 16

struct item
{
    char cn[64];                 /* subject common name */
    enum tlsutil_ca ca;          /* issuer */
    char from[16];               /* notBefore, YYYYMMDDhhmmss */
    char until[16];              /* notAfter */
    char san[64];                /* subjectAltName dNSName, or "" */
    char cert[PEM_MAX];          /* certificate PEM */
    char key[PEM_MAX];           /* private key PEM */
};

struct ca_item
{
    bool made;                   /* generated yet */
    mbedtls_pk_context key;      /* signing key, kept for leaves */
    char name[96];               /* subject DN */
    char cert[PEM_MAX];          /* self-signed certificate PEM */
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct ca_item cas[2];
static struct item leaves[MAX_LEAVES];
static int n_leaves;

static void die(const char *what, int ret)
{
    fprintf(stderr, "tlsutil: %s failed: -0x%04x\n", what, (unsigned)-ret);
    abort();
}

/* Entropy for the per-item DRBG: a fixed pattern. Test keys need to be
 * reproducible, not secret; the personalization string tells items apart. */
static int fixed_entropy(void *p, unsigned char *out, size_t len)
{
    (void)p;
    memset(out, 0x5a, len);
    return 0;
}

static void drbg_for(mbedtls_ctr_drbg_context *drbg, const char *pers)
{
    int ret;
    mbedtls_ctr_drbg_init(drbg);
    ret = mbedtls_ctr_drbg_seed(drbg, fixed_entropy, NULL,
                                (const unsigned char *)pers, strlen(pers));
    if (ret != 0)
        die("mbedtls_ctr_drbg_seed", ret);
}

static void gen_key(mbedtls_pk_context *pk, mbedtls_ctr_drbg_context *drbg)
{
    int ret;
    mbedtls_pk_init(pk);
    ret = mbedtls_pk_setup(pk, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY));
    if (ret != 0)
        die("mbedtls_pk_setup", ret);
    ret = mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(*pk),
                              mbedtls_ctr_drbg_random, drbg);
    if (ret != 0)
        die("mbedtls_ecp_gen_key", ret);
}

/* Writes the certificate of subject (key subj) signed by issuer. */
static void write_cert(const char *subject, mbedtls_pk_context *subj,
                       const char *issuer, mbedtls_pk_context *iss,
                       bool is_ca, int serial, const char *from,
                       const char *until, const char *san,
                       mbedtls_ctr_drbg_context *drbg, char *out)
{
    mbedtls_x509write_cert w;
    mbedtls_mpi sn;
    int ret;

    mbedtls_x509write_crt_init(&w);
    mbedtls_mpi_init(&sn);
    mbedtls_x509write_crt_set_version(&w, MBEDTLS_X509_CRT_VERSION_3);
    mbedtls_x509write_crt_set_md_alg(&w, MBEDTLS_MD_SHA256);
    mbedtls_x509write_crt_set_subject_key(&w, subj);
    mbedtls_x509write_crt_set_issuer_key(&w, iss);
    if ((ret = mbedtls_mpi_lset(&sn, serial)) != 0 ||
        (ret = mbedtls_x509write_crt_set_serial(&w, &sn)) != 0)
        die("serial", ret);
    if ((ret = mbedtls_x509write_crt_set_subject_name(&w, subject)) != 0)
        die("subject name", ret);
    if ((ret = mbedtls_x509write_crt_set_issuer_name(&w, issuer)) != 0)
        die("issuer name", ret);
    if ((ret = mbedtls_x509write_crt_set_validity(&w, from, until)) != 0)
        die("validity", ret);
    if ((ret = mbedtls_x509write_crt_set_basic_constraints(&w, is_ca, -1)) !=
        0)
        die("basic constraints", ret);
    if ((ret = mbedtls_x509write_crt_set_subject_key_identifier(&w)) != 0 ||
        (ret = mbedtls_x509write_crt_set_authority_key_identifier(&w)) != 0)
        die("key identifiers", ret);
    ret = mbedtls_x509write_crt_set_key_usage(
        &w, is_ca ? (MBEDTLS_X509_KU_KEY_CERT_SIGN | MBEDTLS_X509_KU_CRL_SIGN)
                  : MBEDTLS_X509_KU_DIGITAL_SIGNATURE);
    if (ret != 0)
        die("key usage", ret);
    if (san != NULL && san[0] != '\0') {
        /* GeneralNames ::= SEQUENCE { dNSName [2] IMPLICIT IA5String } */
        unsigned char der[80];
        size_t n = strlen(san);
        if (n > sizeof der - 4)
            die("subjectAltName too long", 0);
        der[0] = 0x30;
        der[1] = (unsigned char)(n + 2);
        der[2] = 0x82;
        der[3] = (unsigned char)n;
        memcpy(der + 4, san, n);
        ret = mbedtls_x509write_crt_set_extension(
            &w, MBEDTLS_OID_SUBJECT_ALT_NAME,
            MBEDTLS_OID_SIZE(MBEDTLS_OID_SUBJECT_ALT_NAME), 0, der, n + 4);
        if (ret != 0)
            die("subjectAltName", ret);
    }
    ret = mbedtls_x509write_crt_pem(&w, (unsigned char *)out, PEM_MAX,
                                    mbedtls_ctr_drbg_random, drbg);
    if (ret != 0)
        die("mbedtls_x509write_crt_pem", ret);
    mbedtls_mpi_free(&sn);
    mbedtls_x509write_crt_free(&w);
}

/* Caller holds lock. */
static struct ca_item *get_ca(enum tlsutil_ca which)
{
    struct ca_item *c = &cas[which == TLSUTIL_CA_OTHER ? 1 : 0];
    mbedtls_ctr_drbg_context drbg;

    if (c->made)
        return c;
    snprintf(c->name, sizeof c->name, "CN=%s,O=librpc tests",
             which == TLSUTIL_CA_OTHER ? "unrelated test CA"
                                       : "librpc test CA");
    drbg_for(&drbg, c->name);
    gen_key(&c->key, &drbg);
    write_cert(c->name, &c->key, c->name, &c->key, true,
               which == TLSUTIL_CA_OTHER ? 2 : 1, VALID_FROM, VALID_UNTIL,
               NULL, &drbg, c->cert);
    mbedtls_ctr_drbg_free(&drbg);
    c->made = true;
    return c;
}

const char *tlsutil_ca_pem(enum tlsutil_ca ca)
{
    const char *pem;
    pthread_mutex_lock(&lock);
    pem = get_ca(ca)->cert;
    pthread_mutex_unlock(&lock);
    return pem;
}

static void make_leaf(const char *cn, enum tlsutil_ca ca,
                      const char *not_before, const char *not_after,
                      const char *san, const char **cert_pem,
                      const char **key_pem)
{
    struct ca_item *c;
    struct item *it = NULL;
    mbedtls_ctr_drbg_context drbg;
    mbedtls_pk_context pk;
    char subject[128], pers[256];
    int i, ret;

    pthread_mutex_lock(&lock);
    for (i = 0; i < n_leaves; i++) {
        if (leaves[i].ca == ca && strcmp(leaves[i].cn, cn) == 0 &&
            strcmp(leaves[i].from, not_before) == 0 &&
            strcmp(leaves[i].until, not_after) == 0 &&
            strcmp(leaves[i].san, san) == 0) {
            it = &leaves[i];
            goto out;
        }
    }
    if (n_leaves == MAX_LEAVES || strlen(cn) >= sizeof it->cn ||
        strlen(san) >= sizeof it->san || strlen(not_before) != 14 ||
        strlen(not_after) != 14) {
        fprintf(stderr, "tlsutil: too many leaves or a bad CN or date\n");
        abort();
    }
    c = get_ca(ca);
    it = &leaves[n_leaves];
    snprintf(it->cn, sizeof it->cn, "%s", cn);
    snprintf(it->from, sizeof it->from, "%s", not_before);
    snprintf(it->until, sizeof it->until, "%s", not_after);
    snprintf(it->san, sizeof it->san, "%s", san);
    it->ca = ca;
    snprintf(subject, sizeof subject, "CN=%s,O=librpc tests", cn);
    snprintf(pers, sizeof pers, "%s / %s", c->name, subject);
    drbg_for(&drbg, pers);
    gen_key(&pk, &drbg);
    write_cert(subject, &pk, c->name, &c->key, false, 100 + n_leaves,
               not_before, not_after, san, &drbg, it->cert);
    ret = mbedtls_pk_write_key_pem(&pk, (unsigned char *)it->key, PEM_MAX);
    if (ret != 0)
        die("mbedtls_pk_write_key_pem", ret);
    mbedtls_pk_free(&pk);
    mbedtls_ctr_drbg_free(&drbg);
    n_leaves++;
out:
    pthread_mutex_unlock(&lock);
    *cert_pem = it->cert;
    *key_pem = it->key;
}

void tlsutil_leaf(const char *cn, enum tlsutil_ca ca, const char **cert_pem,
                  const char **key_pem)
{
    make_leaf(cn, ca, VALID_FROM, VALID_UNTIL, "", cert_pem, key_pem);
}

void tlsutil_leaf_dated(const char *cn, enum tlsutil_ca ca,
                        const char *not_before, const char *not_after,
                        const char **cert_pem, const char **key_pem)
{
    make_leaf(cn, ca, not_before, not_after, "", cert_pem, key_pem);
}

void tlsutil_leaf_san(const char *cn, enum tlsutil_ca ca, const char *dns,
                      const char **cert_pem, const char **key_pem)
{
    make_leaf(cn, ca, VALID_FROM, VALID_UNTIL, dns, cert_pem, key_pem);
}

int tlsutil_write_temp(const char *text, char *path, size_t pathlen)
{
    size_t len = strlen(text);
    int fd;

    if (snprintf(path, pathlen, "/tmp/librpc-tls-XXXXXX") >= (int)pathlen)
        return -1;
    fd = mkstemp(path);
    if (fd < 0)
        return -1;
    if (write(fd, text, len) != (ssize_t)len) {
        close(fd);
        unlink(path);
        return -1;
    }
    close(fd);
    return 0;
}
