/* cluster_tls.c: the process's cluster TLS configurations, made once from
 * the cluster-ssl-* settings (cluster_tls.h; docs/operators-guide.md,
 * "TLS between components"). Both sides verify the other against the CA:
 * the server demands a client certificate.
 */
#include "cluster_tls.h"

#include <stdio.h>
#include <string.h>

#include <rpc.h>

static struct rpc_tls_config *server_cfg; /* listeners; NULL: plaintext */
static struct rpc_tls_config *client_cfg; /* connections; NULL: plaintext */

int dmn_cluster_tls_init(const struct dmn_cluster_tls *s, char *err,
                         size_t errlen)
{
    int given = (s->ca != NULL) + (s->cert != NULL) + (s->key != NULL);
    if (given == 0) {
        if (s->allow_cn && s->allow_cn[0]) {
            snprintf(err, errlen, "cluster-verify-cn needs cluster-ssl-ca, "
                                  "cluster-ssl-cert and cluster-ssl-key");
            return -1;
        }
        return 0;
    }
    if (given != 3) {
        snprintf(err, errlen,
                 "cluster TLS needs all of cluster-ssl-ca, cluster-ssl-cert "
                 "and cluster-ssl-key (missing:%s%s%s)",
                 s->ca ? "" : " cluster-ssl-ca",
                 s->cert ? "" : " cluster-ssl-cert",
                 s->key ? "" : " cluster-ssl-key");
        return -1;
    }
    const char *const *cn =
        s->allow_cn && s->allow_cn[0] ? (const char *const *)s->allow_cn
                                       : NULL;
    struct rpc_tls_options so = {.is_server = true,
                                 .ca_file = s->ca,
                                 .cert_file = s->cert,
                                 .key_file = s->key,
                                 .require_peer_cert = true,
                                 .allowed_cn = cn};
    struct rpc_tls_options co = so;
    co.is_server = false;
    co.require_peer_cert = false;
    char why[256] = "";
    if (rpc_tls_config_create(&so, &server_cfg, why, sizeof(why)) != 0 ||
        rpc_tls_config_create(&co, &client_cfg, why, sizeof(why)) != 0) {
        snprintf(err, errlen, "cluster TLS: %s", why);
        dmn_cluster_tls_free();
        return -1;
    }
    return 0;
}

const struct rpc_tls_config *dmn_cluster_tls_server(void)
{
    return server_cfg;
}

const struct rpc_tls_config *dmn_cluster_tls_client(void)
{
    return client_cfg;
}

void dmn_cluster_tls_free(void)
{
    rpc_tls_config_destroy(server_cfg);
    rpc_tls_config_destroy(client_cfg);
    server_cfg = client_cfg = NULL;
}

int dmn_cluster_tls_flag(struct dmn_cluster_tls *s, char *arg)
{
    static const struct
    {
        const char *prefix; /* "--cluster-ssl-ca=" */
        size_t off;         /* the field it sets */
    } flags[] = {
        {"--cluster-ssl-ca=", offsetof(struct dmn_cluster_tls, ca)},
        {"--cluster-ssl-cert=", offsetof(struct dmn_cluster_tls, cert)},
        {"--cluster-ssl-key=", offsetof(struct dmn_cluster_tls, key)},
    };
    for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
        size_t n = strlen(flags[i].prefix);
        if (strncmp(arg, flags[i].prefix, n) == 0) {
            *(char **)((char *)s + flags[i].off) = arg + n;
            return 1;
        }
    }
    return 0;
}
