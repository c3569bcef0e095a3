/* cluster_tls.h: mutual TLS between the cluster's components (pdd, kvd,
 * sqld's cluster client, pdctl, kvctl): the shared settings, and one
 * server and one client configuration per process that every listener
 * and connection of the cluster uses (docs/operators-guide.md, "TLS
 * between components"; ../shared/DESIGN.md, "RPC").
 */
#ifndef DMN_CLUSTER_TLS_H
#define DMN_CLUSTER_TLS_H

#include <stddef.h>

struct rpc_tls_config;

/* The settings, a member of a daemon's settings struct. */
struct dmn_cluster_tls
{
    char *ca;         /* cluster-ssl-ca: PEM CA bundle that signs peers */
    char *cert;       /* cluster-ssl-cert: PEM certificate we present */
    char *key;        /* cluster-ssl-key: its private key */
    char **allow_cn;  /* cluster-verify-cn: peers' certificate CNs allowed
                         (NULL: any the CA signed) */
};

/* The keys' schema entries, for a settings struct `type` whose struct
 * dmn_cluster_tls member is `field`. */
#define DMN_CLUSTER_TLS_KEYS(type, field)                                  \
    {"cluster-ssl-ca", DMN_CFG_STRING, offsetof(type, field.ca), NULL, 0,  \
     0, NULL,                                                              \
     "PEM CA that signs every component's certificate; with "             \
     "cluster-ssl-cert and cluster-ssl-key: mutual TLS to the cluster"},   \
    {"cluster-ssl-cert", DMN_CFG_STRING, offsetof(type, field.cert), NULL, \
     0, 0, NULL, "PEM certificate this component presents (cluster TLS)"}, \
    {"cluster-ssl-key", DMN_CFG_STRING, offsetof(type, field.key), NULL,   \
     0, 0, NULL, "private key of cluster-ssl-cert"},                       \
    {"cluster-verify-cn", DMN_CFG_LIST, offsetof(type, field.allow_cn),    \
     NULL, 0, 0, NULL,                                                     \
     "certificate common names a peer must carry (empty: any the CA "     \
     "signed)"}

/* Makes this process's cluster TLS from s: all of ca, cert and key, or
 * none (then plaintext: every function below gives NULL). Returns 0, or
 * -1 with the reason in err (which setting, the file, mbedtls' text). */
int dmn_cluster_tls_init(const struct dmn_cluster_tls *s, char *err,
                         size_t errlen);
/* For rpc_server_options.tls (peers must present a certificate). */
const struct rpc_tls_config *dmn_cluster_tls_server(void);
/* For rpc_client_options.tls, pd_client_options.tls and the like. */
const struct rpc_tls_config *dmn_cluster_tls_client(void);
/* Releases both; only once nothing uses them. */
void dmn_cluster_tls_free(void);

/* Parses --cluster-ssl-ca=, --cluster-ssl-cert=, --cluster-ssl-key= for
 * command-line tools (pdctl, kvctl) into s (pointers into arg). Returns 1
 * when arg was one of them, else 0. */
int dmn_cluster_tls_flag(struct dmn_cluster_tls *s, char *arg);

#endif /* DMN_CLUSTER_TLS_H */
