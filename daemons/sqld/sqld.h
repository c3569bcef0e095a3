/* sqld.h: what sqld's files share: the cluster store's glue (cluster.c)
 * that main.c opens for --store=cluster, and the status port (status.c).
 */
#ifndef SQLD_H
#define SQLD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mvcc.h>

/* The MySQL server version sqld announces (handshake, @@version). */
#define SQLD_SERVER_VERSION "8.0.11-dsql-" DMN_VERSION_STRING

struct sqld_cluster;
struct region_client_stats;
struct region_client;
struct pd_client_stats;
struct event_base;
struct dmn_http;

/* Connects to pdd (pd: NULL-terminated host:port list) and builds the 2PC
 * client configuration sqld's SQL server stores through: PD's TSO, and
 * libregion's cluster transport routed by PD's region and store maps;
 * one_pc and async_commit allow those commit paths.
 * *co stays valid until sqld_cluster_close. 0, or -1 with err set. */
int sqld_cluster_open(char *const *pd, bool one_pc, bool async_commit,
                      struct sqld_cluster **out, struct mvcc_client_opts *co,
                      char *err, size_t errlen);
/* After the SQL server is closed. NULL is a no-op. */
void sqld_cluster_close(struct sqld_cluster *c);
/* One log line of the transport's and PD client's counters. */
void sqld_cluster_log_stats(struct sqld_cluster *c);
/* The transport's client (point reads on the loop thread, main.c). */
struct region_client *sqld_cluster_region(struct sqld_cluster *c);
/* Those counters (any thread). */
void sqld_cluster_stats(struct sqld_cluster *c, struct region_client_stats *rs,
                        struct pd_client_stats *ps);

/* ---- clusterinfo.c: libsql's view of the cluster (information_schema
 * TIKV_* tables, SHOW TABLE t REGIONS) through pd's client. */
struct sql_cluster_info;
struct pd_client;
void sqld_clusterinfo_init(struct sql_cluster_info *ci, struct pd_client *pd);
/* The cluster version last heard from pdd (0: not yet; see
 * clusterinfo.c). */
uint32_t sqld_clusterinfo_version(void);
/* The cluster store's (valid until sqld_cluster_close). */
const struct sql_cluster_info *sqld_cluster_info(struct sqld_cluster *c);
/* PD's safe points for libsql's GC rounds (sql_server_options.gc_cluster;
 * ctx is c): this sqld holds its oldest snapshot as the service safe
 * point "sqld@<host>/<listen>" for ttl_ms past each round. */
struct sql_gc_cluster;
void sqld_cluster_gc(struct sqld_cluster *c, const char *listen,
                     uint64_t ttl_ms, struct sql_gc_cluster *out);

/* ---- main.c: the message for a store result code beyond libsql's and
 * libmvcc's: what the cluster's layers below answer when their retries
 * ran out (a PD leader gone for good, a store unreachable); NULL for
 * others (libsql's sql_server_options.kv_strerror). */
const char *sqld_kv_strerror(int rc);

/* ---- gc.c: the MVCC GC thread (libsql "GC"): rounds on the local
 * store, or on the cluster's (publishing the safe point to PD). */
struct sql_server;
struct sqld_gc_counters {
    uint64_t runs;             /* rounds run */
    uint64_t skipped;          /* ... that met a live lock below */
    uint64_t errors;           /* ... that failed */
    uint64_t safe_point;       /* the last round's (a TSO timestamp) */
    uint64_t versions_removed; /* in all rounds */
    uint64_t locks_resolved;   /* in all rounds */
};
extern struct sqld_gc_counters sqld_gc; /* atomic reads */
/* A round every interval_ms, keeping life_ms of history. 0 or -errno. */
int sqld_gc_start(struct sql_server *srv, uint64_t life_ms,
                  uint64_t interval_ms);
void sqld_gc_stop(void); /* not started: no-op */

/* ---- status.c: what the status port shows, kept on the loop thread. */
struct sqld_status {
    uint64_t started_ms;          /* monotonic start */
    const char *store;            /* "local" or "cluster" (borrowed) */
    uint64_t connections;         /* open now */
    uint64_t connections_total;   /* accepted */
    uint64_t commands_total;      /* protocol commands run */
    int workers;                  /* statement threads now */
    uint64_t point_reads_loop;    /* cluster point reads answered on the
                                     loop thread */
    uint64_t point_reads_handed;  /* ... sent from it but then handed to
                                     a worker (a lock, a region error) */
    int point_reads_waiting;      /* ... sent and not yet answered */
    const struct dmn_poll *poll;  /* the loop's polling (main.c), or NULL
                                     before the loop runs */
    struct sqld_cluster *cluster; /* the cluster store, or NULL */
    struct sql_server *server;    /* its counters (sql_server_counters) */
};
extern struct sqld_status sqld_status;
void sqld_status_init(const char *store, int workers,
                      struct sqld_cluster *cluster);
/* Serve /status and /metrics on listen. 0, or -1 (logged). */
int sqld_http_start(struct event_base *base, const char *listen,
                    struct dmn_http **out);

/* ---- tls.c: TLS for MySQL clients (docs/tls.md). */
struct rpc_tls_config;
struct sqld_tls_settings {
    const char *cert; /* tls-cert: PEM certificate (chain), or NULL */
    const char *key;  /* tls-key: its PEM private key, or NULL */
    const char *ca;   /* tls-ca: PEM CA bundle, or NULL */
    bool autogen;     /* tls-auto: without cert and key, use (and on first
                         start generate) data-dir/server-{cert,key}.pem */
    bool rsa;         /* with autogen: also data-dir/private_key.pem and
                         public_key.pem for caching_sha2's RSA exchange */
};
/* The server TLS configuration the settings ask for: *out NULL when TLS
 * is off. 0, or -1 with err set. */
int sqld_tls_setup(const struct sqld_tls_settings *ts, const char *data_dir,
                   struct rpc_tls_config **out, char *err, size_t errlen);
/* sql_proto_options.rsa_*: the RSA exchange's public key (NULL: none)
 * and decryption; sqld_tls_free frees the key (after the last client). */
const char *sqld_rsa_public_pem(void);
int sqld_rsa_decrypt(void *ctx, const uint8_t *in, size_t len, uint8_t *out,
                     size_t *out_len);
void sqld_tls_free(void);
/* sql_proto_options.tls_info: the protocol version and cipher suite. */
void sqld_tls_info(void *ctx, const char **version, const char **cipher);

#endif /* SQLD_H */
