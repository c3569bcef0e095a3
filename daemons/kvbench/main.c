/* main.c: kvbench, the Raw KV load generator of `make bench-kvd`
 * (scripts/bench-kvd.sh): N client threads, each with its own connection,
 * run durable puts of fresh fixed-size keys for a while, then point gets
 * of the keys written, against kvd, etcd or RocksDB; every operation is
 * timed and the phase prints throughput and p50/p99 as BENCH lines.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kvbench.h"
#include "mvcc.h"

#define MAX_CLIENTS 1024
#define MAX_ADDRS 16
#define MAX_KEY 1024

enum op { OP_PUT = KVB_PUT, OP_GET = KVB_GET, OP_ECHO = KVB_ECHO };
static const char *const op_names[] = {"put", "get", "echo"};

struct phase {
    const struct kvb_target *t; /* the target */
    const struct kvb_opts *o;   /* its options */
    int op;                     /* enum op */
    double duration_s;          /* how long to run */
    size_t key_size;            /* bytes per key */
    size_t value_size;          /* bytes per value */
    uint8_t *value;             /* the value every put writes */
    atomic_uint_fast64_t next;  /* puts: next key number */
    uint64_t n_keys;            /* gets: keys 0..n_keys-1 exist */
    uint64_t count;             /* --count: operations per phase (0: until
                                   the duration is over) */
    atomic_uint_fast64_t started; /* operations started in this phase */
    int conns;                  /* --conns: connections the clients share
                                   (0: one per client thread) */
    pthread_barrier_t start;    /* every client connected */
    double t0;                  /* start time (set by client 0) */
};

struct client {
    struct phase *ph;           /* shared phase */
    int idx;                    /* client number (--conns: thread) */
    int n_sub;                  /* --conns: logical clients it drives */
    pthread_t th;               /* its thread */
    double *lat;                /* latency of each op in seconds */
    size_t n_lat, cap_lat;      /* used, allocated */
    uint64_t errors;            /* failed ops (and gets not found) */
    double end;                 /* when it stopped */
    bool open_failed;           /* could not connect */
    char err[256];              /* first error */
    uint64_t rng;               /* xorshift state */
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void kvb_key(uint64_t i, uint8_t *buf, size_t key_size)
{
    /* "k" then zero-padded decimal: fixed size, byte order = number order
     * (the low key_size - 1 digits, at most 20; 'k' before them). Digits
     * written from the right by hand, only as many as the number has, the
     * rest zeros: snprintf cost the client a thousand instructions per
     * operation on the cores it shares with the server, all 20 digits
     * 311. */
    size_t dl = key_size - 1 < 20 ? key_size - 1 : 20;
    uint8_t *p = buf + key_size;
    uint8_t *lo = p - dl;
    memset(buf, 'k', key_size - dl);
    while (p > lo && i != 0) {
        *--p = (uint8_t)('0' + i % 10);
        i /= 10;
    }
    memset(lo, '0', (size_t)(p - lo));
}

static uint64_t xorshift(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *s = x;
    return x;
}

static void note(struct client *c, const char *what, const char *err)
{
    if (c->err[0] == '\0')
        snprintf(c->err, sizeof c->err, "%s: %s", what, err);
}

/* Keeps one finished operation's latency; false when out of memory. */
static bool record(struct client *c, double latency)
{
    if (c->n_lat == c->cap_lat) {
        size_t cap = c->cap_lat ? c->cap_lat * 2 : 4096;
        double *nl = realloc(c->lat, cap * sizeof *nl);
        if (nl == NULL) {
            note(c, "bench", "out of memory");
            return false;
        }
        c->lat = nl;
        c->cap_lat = cap;
    }
    c->lat[c->n_lat++] = latency;
    return true;
}

/* The key number of this client's next operation, or KVB_NO_MORE once
 * the phase's --count were started. */
static uint64_t next_key(struct client *c)
{
    struct phase *ph = c->ph;
    if (ph->count > 0 && atomic_fetch_add(&ph->started, 1) >= ph->count)
        return KVB_NO_MORE;
    if (ph->op == OP_PUT)
        return atomic_fetch_add(&ph->next, 1);
    if (ph->op == OP_GET)
        return xorshift(&c->rng) % ph->n_keys;
    return 0;
}

static uint64_t many_next_key(void *ud, int i)
{
    (void)i;
    return next_key(ud);
}

static void many_done(void *ud, int i, double latency, int rc, size_t vl,
                      const char *err)
{
    struct client *c = ud;
    char e[64];
    const char *why = err;
    (void)i;
    if (rc == 1) {
        why = "a key not found";
        rc = -1;
    } else if (rc == 0 && c->ph->op != OP_PUT && vl != c->ph->value_size) {
        snprintf(e, sizeof e, "%zu bytes", vl);
        why = e;
        rc = -1;
    }
    if (rc != 0) {
        c->errors++;
        note(c, op_names[c->ph->op], why);
        return;
    }
    if (!record(c, latency))
        c->errors++;
}

/* --conns: this thread's c->n_sub clients on one connection. */
static void run_shared(struct client *c, struct kvb_conn *conn,
                       double deadline)
{
    struct phase *ph = c->ph;
    char err[256] = "";
    struct kvb_many m = {(enum kvb_op)ph->op, c->n_sub, deadline,
                         ph->key_size, ph->value, ph->value_size,
                         many_next_key, many_done, c};
    if (ph->t->run_many(conn, &m, err, sizeof err) != 0) {
        c->errors++;
        note(c, op_names[ph->op], err);
    }
}

static void *client_main(void *arg)
{
    struct client *c = arg;
    struct phase *ph = c->ph;
    struct kvb_conn *conn = NULL;
    char err[256] = "";
    if (ph->t->open(ph->o, c->idx, &conn, err, sizeof err) != 0) {
        c->open_failed = true;
        note(c, "connect", err);
    }
    pthread_barrier_wait(&ph->start);
    if (c->idx == 0)
        ph->t0 = now_s();
    pthread_barrier_wait(&ph->start);
    double deadline = ph->t0 + ph->duration_s;
    uint8_t key[MAX_KEY];
    if (conn != NULL && ph->conns > 0) {
        run_shared(c, conn, deadline);
        c->end = now_s();
        ph->t->close(conn);
        return NULL;
    }
    while (conn != NULL) {
        double t = now_s();
        if (t >= deadline)
            break;
        uint64_t i = next_key(c);
        if (i == KVB_NO_MORE)
            break;
        kvb_key(i, key, ph->key_size);
        int rc;
        if (ph->op == OP_ECHO) {
            rc = ph->t->echo(conn, ph->value, ph->value_size, err, sizeof err);
        } else if (ph->op == OP_PUT) {
            rc = ph->t->put(conn, key, ph->key_size, ph->value,
                            ph->value_size, err, sizeof err);
        } else {
            size_t vl = 0;
            rc = ph->t->get(conn, key, ph->key_size, &vl, err, sizeof err);
            if (rc == 1)
                snprintf(err, sizeof err, "key %" PRIu64 " not found", i);
            else if (rc == 0 && vl != ph->value_size) {
                snprintf(err, sizeof err, "key %" PRIu64 ": %zu bytes", i, vl);
                rc = -1;
            }
        }
        double done = now_s();
        if (rc != 0) {
            c->errors++;
            note(c, op_names[ph->op], err);
            continue;
        }
        if (!record(c, done - t))
            break;
    }
    c->end = now_s();
    if (conn != NULL)
        ph->t->close(conn);
    return NULL;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double pct(const double *v, size_t n, double p)
{
    if (n == 0)
        return 0;
    size_t i = (size_t)(p * (double)(n - 1) + 0.5);
    return v[i < n ? i : n - 1];
}

/* Runs one phase with n clients; prints its BENCH lines. Returns the
 * number of successful operations, or -1 when none succeeded or any
 * failed. */
static int64_t run_phase(struct phase *ph, int clients, const char *name)
{
    /* n threads: one per client, or --conns threads sharing them out */
    int n = ph->conns > 0 && ph->conns < clients ? ph->conns : clients;
    struct client *cs = calloc((size_t)n, sizeof *cs);
    int64_t ret = -1;
    if (cs == NULL) {
        fprintf(stderr, "kvbench: out of memory\n");
        return -1;
    }
    pthread_barrier_init(&ph->start, NULL, (unsigned)n);
    int started = 0;
    for (int i = 0; i < n; i++) {
        cs[i].ph = ph;
        cs[i].idx = i;
        cs[i].n_sub = clients / n + (i < clients % n);
        cs[i].rng = UINT64_C(0x9e3779b97f4a7c15) * (uint64_t)(i + 1);
        int rc = pthread_create(&cs[i].th, NULL, client_main, &cs[i]);
        if (rc != 0) {
            /* the barrier counts n: without every thread nobody starts */
            fprintf(stderr, "kvbench: pthread_create: %s\n", strerror(rc));
            exit(1);
        }
        started++;
    }
    for (int i = 0; i < started; i++)
        pthread_join(cs[i].th, NULL);
    pthread_barrier_destroy(&ph->start);

    size_t total = 0;
    uint64_t errors = 0;
    double end = ph->t0;
    int open_failed = 0;
    for (int i = 0; i < n; i++) {
        total += cs[i].n_lat;
        errors += cs[i].errors;
        if (cs[i].end > end)
            end = cs[i].end;
        open_failed += cs[i].open_failed;
    }
    const char *op = op_names[ph->op];
    double *all = malloc((total ? total : 1) * sizeof *all);
    if (all == NULL) {
        fprintf(stderr, "kvbench: out of memory\n");
        goto out;
    }
    size_t k = 0;
    for (int i = 0; i < n; i++) {
        if (cs[i].n_lat > 0)
            memcpy(all + k, cs[i].lat, cs[i].n_lat * sizeof *all);
        k += cs[i].n_lat;
    }
    qsort(all, total, sizeof *all, cmp_double);
    double elapsed = end - ph->t0;
    double rate = elapsed > 0 ? (double)total / elapsed : 0;
    /* a failed or missing operation, or a client that could not connect,
     * fails the run and prints no figures: they would not be comparable */
    bool clean = total > 0 && errors == 0 && open_failed == 0;
    if (clean) {
        printf("BENCH %s_%s_c%d %.0f ops/s\n", name, op, clients, rate);
        printf("BENCH %s_%s_c%d_p50 %.4f ms\n", name, op, clients,
               pct(all, total, 0.50) * 1e3);
        printf("BENCH %s_%s_c%d_p99 %.4f ms\n", name, op, clients,
               pct(all, total, 0.99) * 1e3);
    }
    printf("INFO %s_%s_c%d ops=%zu errors=%" PRIu64 " seconds=%.2f "
           "keys=%" PRIu64 "\n",
           name, op, clients, total, errors + (uint64_t)open_failed, elapsed,
           ph->op == OP_PUT ? (uint64_t)atomic_load(&ph->next) : ph->n_keys);
    fflush(stdout);
    for (int i = 0; i < n; i++) {
        if (cs[i].err[0] != '\0') {
            fprintf(stderr, "kvbench: %s %s client %d: %s (%d clients could "
                    "not connect, %" PRIu64 " errors in all)\n", name, op, i,
                    cs[i].err, open_failed, errors);
            break;
        }
    }
    free(all);
    ret = clean ? (int64_t)total : -1;
out:
    for (int i = 0; i < n; i++)
        free(cs[i].lat);
    free(cs);
    return ret;
}

static void usage(void)
{
    fprintf(stderr,
            "usage: kvbench --target=kvd|etcd|etcd-http|rocksdb [options]\n"
            "  --addrs=A,B,..    kvd: id@host:port of every store;\n"
            "                    etcd: host:port (gRPC, HTTP/2);\n"
            "                    etcd-http: host:port (the JSON gateway)\n"
            "  --dir=PATH        rocksdb: database directory (created)\n"
            "  --clients=N       client threads, one connection each (1)\n"
            "  --conns=N         kvd, etcd: the clients share N connections,\n"
            "                    one thread each, every client one request\n"
            "                    in flight (etcd: one HTTP/2 stream each;\n"
            "                    0: one thread and connection per client,\n"
            "                    the default)\n"
            "  --duration=S      seconds per phase (5)\n"
            "  --count=N         a phase also ends once N operations were\n"
            "                    started (0: no limit, the default)\n"
            "  --ops=put,get     phases in order (put,get); gets read the\n"
            "                    keys the put phase wrote, else --keys;\n"
            "                    kvd also: echo (librpc's echo method on\n"
            "                    the leader: the RPC round trip alone)\n"
            "  --keys=N          keys that exist for a get-only run; rocksdb\n"
            "                    writes them first (10000)\n"
            "  --key-size=B      (16)  --value-size=B (100)\n"
            "  --name=NAME       BENCH line prefix (the target)\n"
            "  --timeout-ms=MS   one request's deadline (10000)\n"
            "prints BENCH <name>_<op>_c<N> ops/s and _p50/_p99 in ms\n");
}

static const char *opt(const char *arg, const char *name)
{
    size_t n = strlen(name);
    if (strncmp(arg, name, n) == 0 && arg[n] == '=')
        return arg + n + 1;
    return NULL;
}

int main(int argc, char **argv)
{
    const char *target = NULL, *addrs = NULL, *ops = "put,get";
    const char *name = NULL;
    struct kvb_opts o = {.timeout_ms = 10000};
    int clients = 1, conns = 0;
    double duration = 5;
    uint64_t keys = 10000, count = 0;
    long key_size = 16, value_size = 100;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        if ((v = opt(a, "--target")))
            target = v;
        else if ((v = opt(a, "--addrs")))
            addrs = v;
        else if ((v = opt(a, "--dir")))
            o.dir = v;
        else if ((v = opt(a, "--clients")))
            clients = atoi(v);
        else if ((v = opt(a, "--conns")))
            conns = atoi(v);
        else if ((v = opt(a, "--duration")))
            duration = atof(v);
        else if ((v = opt(a, "--count")))
            count = strtoull(v, NULL, 10);
        else if ((v = opt(a, "--ops")))
            ops = v;
        else if ((v = opt(a, "--keys")))
            keys = strtoull(v, NULL, 10);
        else if ((v = opt(a, "--key-size")))
            key_size = atol(v);
        else if ((v = opt(a, "--value-size")))
            value_size = atol(v);
        else if ((v = opt(a, "--name")))
            name = v;
        else if ((v = opt(a, "--timeout-ms")))
            o.timeout_ms = atoi(v);
        else {
            usage();
            return 2;
        }
    }
    const struct kvb_target *t = NULL;
    if (target && strcmp(target, "kvd") == 0)
        t = &kvb_kvd_target;
    else if (target && strcmp(target, "etcd") == 0)
        t = &kvb_etcd_grpc_target;
    else if (target && strcmp(target, "etcd-http") == 0)
        t = &kvb_etcd_target;
    else if (target && strcmp(target, "rocksdb") == 0)
        t = &kvb_rocksdb_target;
    if (t == NULL || clients < 1 || clients > MAX_CLIENTS || duration <= 0 ||
        key_size < 8 || key_size > MAX_KEY || value_size < 1 ||
        value_size > (1 << 20) || keys == 0 || o.timeout_ms <= 0 ||
        conns < 0 || (conns > 0 && t->run_many == NULL)) {
        usage();
        return 2;
    }
    if (name == NULL)
        name = t->name;
    char *addr_copy = NULL;
    char *addr_list[MAX_ADDRS];
    if (t != &kvb_rocksdb_target) {
        if (addrs == NULL) {
            usage();
            return 2;
        }
        addr_copy = strdup(addrs);
        for (char *save = NULL, *s = strtok_r(addr_copy, ",", &save);
             s != NULL && o.n_addrs < MAX_ADDRS;
             s = strtok_r(NULL, ",", &save))
            addr_list[o.n_addrs++] = s;
        o.addrs = addr_list;
    } else if (o.dir == NULL) {
        usage();
        return 2;
    }

    struct phase ph;
    memset(&ph, 0, sizeof ph);
    ph.t = t;
    ph.o = &o;
    ph.duration_s = duration;
    ph.conns = conns;
    ph.key_size = (size_t)key_size;
    ph.value_size = (size_t)value_size;
    ph.value = malloc(ph.value_size);
    if (ph.value == NULL) {
        fprintf(stderr, "kvbench: out of memory\n");
        return 1;
    }
    for (size_t i = 0; i < ph.value_size; i++)
        ph.value[i] = (uint8_t)('a' + i % 26);
    ph.n_keys = keys;
    ph.count = count;
    atomic_init(&ph.next, 0);
    atomic_init(&ph.started, 0);

    int status = 0;
    bool wrote = false;
    if (t == &kvb_rocksdb_target) {
        char err[256];
        bool loads = strstr(ops, "put") == NULL;
        if (kvb_rocksdb_load(o.dir, loads ? keys : 0, ph.key_size,
                             ph.value_size, &o.eng, err, sizeof err) != 0) {
            fprintf(stderr, "kvbench: rocksdb: %s\n", err);
            return 1;
        }
    }
    char *ops_copy = strdup(ops);
    for (char *save = NULL, *s = strtok_r(ops_copy, ",", &save); s != NULL;
         s = strtok_r(NULL, ",", &save)) {
        atomic_store(&ph.started, 0);
        if (strcmp(s, "put") == 0) {
            ph.op = OP_PUT;
            atomic_store(&ph.next, 0);
        } else if (strcmp(s, "echo") == 0 && t->echo != NULL) {
            ph.op = OP_ECHO;
        } else if (strcmp(s, "get") == 0) {
            ph.op = OP_GET;
            if (wrote)
                ph.n_keys = (uint64_t)atomic_load(&ph.next);
            if (ph.n_keys == 0) {
                fprintf(stderr, "kvbench: no keys to get\n");
                status = 1;
                break;
            }
        } else {
            fprintf(stderr, "kvbench: unknown phase %s\n", s);
            status = 2;
            break;
        }
        if (run_phase(&ph, clients, name) < 0) {
            status = 1;
            break;
        }
        wrote = wrote || ph.op == OP_PUT;
    }
    free(ops_copy);
    if (o.eng != NULL)
        mvcc_engine_destroy(o.eng);
    free(ph.value);
    free(addr_copy);
    return status;
}
