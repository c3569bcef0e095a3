/* kvbench.h: the load generator's pieces: a target (kvd over librpc,
 * etcd over gRPC or its HTTP/JSON gateway, RocksDB through libmvcc's
 * engine) is a connection per client thread with put and get (kvd and
 * etcd over gRPC also many clients on one connection: --conns); main.c
 * runs the threads, times every operation and prints BENCH lines.
 */
#ifndef KVBENCH_H
#define KVBENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct mvcc_engine;

struct kvb_opts {
    char **addrs;           /* endpoints host:port (kvd: id@host:port) */
    int n_addrs;            /* how many */
    const char *dir;        /* rocksdb: database directory */
    struct mvcc_engine *eng; /* rocksdb: the shared engine (opened by main) */
    int timeout_ms;         /* one request's deadline */
};

/* One client's connection to a target. */
struct kvb_conn;

/* next_key's answer once --count operations were started. */
#define KVB_NO_MORE UINT64_MAX

/* Phases (main.c's --ops). */
enum kvb_op { KVB_PUT, KVB_GET, KVB_ECHO };

/* --conns: n logical clients share one connection, each with one request
 * in flight (closed loop, as kvbench's threads are), driven by one
 * thread's event loop: what a client library that multiplexes its
 * callers on one connection per store does (TiKV's client, etcd's
 * clientv3 on one gRPC connection). */
struct kvb_many {
    enum kvb_op op;          /* the phase */
    int n;                   /* logical clients on this connection */
    double deadline;         /* start no request after (CLOCK_MONOTONIC s) */
    size_t key_size;         /* bytes per key */
    const uint8_t *value;    /* puts' value, echo's payload */
    size_t value_size;       /* its bytes */
    /* the key number of client i's next request, or KVB_NO_MORE when the
     * phase's --count is reached (the client stops as at the deadline) */
    uint64_t (*next_key)(void *ud, int i);
    /* one request of client i finished after latency_s: rc 0 done (vl:
     * a get's value bytes), 1 not found, -1 failed (err) */
    void (*done)(void *ud, int i, double latency_s, int rc, size_t vl,
                 const char *err);
    void *ud;                /* passed to both */
};

struct kvb_target {
    const char *name;       /* kvd, etcd, rocksdb */
    /* Opens client number idx; 0 or -1 with err filled. */
    int (*open)(const struct kvb_opts *o, int idx, struct kvb_conn **out,
                char *err, size_t errlen);
    /* 0 acknowledged, -1 failed (err filled). */
    int (*put)(struct kvb_conn *c, const uint8_t *k, size_t kl,
               const uint8_t *v, size_t vl, char *err, size_t errlen);
    /* 0 found with vl_out bytes, 1 not found, -1 failed. */
    int (*get)(struct kvb_conn *c, const uint8_t *k, size_t kl,
               size_t *vl_out, char *err, size_t errlen);
    void (*close)(struct kvb_conn *c);
    /* The transport's floor, or NULL: a round trip carrying v to the
     * server that gets reads from and back; 0 or -1. */
    int (*echo)(struct kvb_conn *c, const uint8_t *v, size_t vl, char *err,
                size_t errlen);
    /* --conns, or NULL when the target has no shared mode: runs m->n
     * logical clients on c until m->deadline and every request started
     * finished; 0, or -1 with err (c could not be used at all). */
    int (*run_many)(struct kvb_conn *c, const struct kvb_many *m, char *err,
                    size_t errlen);
};

extern const struct kvb_target kvb_kvd_target;
extern const struct kvb_target kvb_etcd_target;      /* HTTP/JSON gateway */
extern const struct kvb_target kvb_etcd_grpc_target; /* native gRPC */
extern const struct kvb_target kvb_rocksdb_target;

/* rocksdb.c: opens the engine at dir and writes keys 0..n-1 (no sync,
 * batched) with the given sizes; 0 or -1 with err. */
int kvb_rocksdb_load(const char *dir, uint64_t n, size_t key_size,
                     size_t value_size, struct mvcc_engine **out, char *err,
                     size_t errlen);

/* net.c: split "host:port" into host and port (NUL-terminated); 0 or -1
 * with err ("bad endpoint ..."). */
int kvb_endpoint(const char *addr, char *host, size_t hostsz, char *port,
                 size_t portsz, char *err, size_t errlen);
/* net.c: a connected TCP socket with TCP_NODELAY in *fd; 0 or -1 with err
 * naming the address. */
int kvb_dial(const char *host, const char *port, int *fd, char *err,
             size_t errlen);

/* main.c: key number i as key_size bytes (fixed size, sorts by i). */
void kvb_key(uint64_t i, uint8_t *buf, size_t key_size);

#endif
