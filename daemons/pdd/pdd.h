/* pdd.h: pdd's internal interfaces: the replica (libraft + libpd + the
 * RocksDB log, node.c), its durable log (raftlog.c) and the service
 * handlers (service.c). libpd/DESIGN.md, "pdd", explains the wiring.
 */
#ifndef PDD_H
#define PDD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <pd.h>
#include <raft.h>

struct event_base;
struct event;
struct rpc_server;
struct rpc_client;
struct rpc_call;
struct mvcc_engine;

#define PDD_MAX_MEMBERS 7

/* One member of the group: from initial-members (raft id = 1-based
 * position), or added later (AddMember: the table's next_id). */
struct pdd_member
{
    uint64_t id;             /* raft id */
    char name[64];           /* its name (1..63 bytes, no NUL) */
    char address[128];       /* host:port it serves clients on */
    char peer[128];          /* host:port the other members reach it on */
};

/* The member table: replicated (MEMBER_PUT entries, conf changes that
 * remove, and a section of every snapshot), libpd/DESIGN.md "pdd:
 * membership". */
struct pdd_members
{
    struct pdd_member m[PDD_MAX_MEMBERS]; /* members, in id order */
    size_t n;                             /* used entries */
    uint64_t next_id;                     /* lowest id never handed out */
};

/* What the daemon's settings give the replica. */
struct pdd_options
{
    const char *name;           /* our member name */
    const char *listen;         /* our address (clients and peers) */
    char *const *join;          /* join: client addresses of a running
                                   group to join (NULL: none) */
    const struct rpc_tls_config *tls_server; /* cluster TLS, NULL off */
    const struct rpc_tls_config *tls_client; /* same, as a client */
    const char *data_dir;       /* raft log and snapshots go under it */
    struct pdd_member members[PDD_MAX_MEMBERS]; /* the group */
    size_t n_members;           /* used entries */
    uint64_t self_id;           /* our raft id (0: from the data dir) */
    bool members_given;         /* initial-members was set */
    int64_t tick_ms;            /* raft tick */
    int election_ticks;         /* ticks before an election */
    uint64_t snapshot_entries;  /* applied entries between snapshots */
    int64_t clock_offset_ms;    /* TEST ONLY: added to the wall clock */
    const char *clock_offset_file; /* TEST ONLY: re-read every tick */
    int64_t schedule_ms;        /* scheduling round interval */
};

/* ---- raftlog.c: the durable Raft state in RocksDB, mirrored in a
 * raft_memstore the node reads from. */
struct pdd_log;
/* Opens dir (a RocksDB database), loads it into a memstore. When empty
 * and n > 0, bootstraps a new group with voters[0..n) and data (the
 * initial member table) as its snapshot at index 1; when empty and n is
 * 0 (a member joining a running group) it stays empty. *fresh tells
 * whether it was empty. err gets the reason. */
int pdd_log_open(const char *dir, const uint64_t *voters, size_t n,
                 const uint8_t *data, size_t len, bool *fresh,
                 struct pdd_log **out, char *err, size_t errlen);
/* A small value of ours kept next to the log ("m": our member id, "i": the
 * size of initial-members at creation, "x": our id once removed). 0,
 * MVCC_NOTFOUND, or an error. */
int pdd_log_get_u64(struct pdd_log *log, const char *key, uint64_t *v);
int pdd_log_put_u64(struct pdd_log *log, const char *key, uint64_t v);
void pdd_log_close(struct pdd_log *log);
struct raft_storage *pdd_log_storage(struct pdd_log *log);
/* The snapshot loaded at open (data for pd_restore; borrowed). */
void pdd_log_snapshot(struct pdd_log *log, const uint8_t **data, size_t *len,
                      raft_index *index);
/* Persist a ready's snapshot, entries and hard state in one write batch
 * (synced when sync), then mirror them in the memstore. */
int pdd_log_persist(struct pdd_log *log, const struct raft_ready *rd,
                    bool sync, char *err, size_t errlen);
/* Make a snapshot at index (applied) of data under cs, persist it and
 * compact the log up to index - keep. */
int pdd_log_snapshot_make(struct pdd_log *log, raft_index index,
                          const struct raft_conf_state *cs,
                          const uint8_t *data, size_t len, raft_index keep,
                          char *err, size_t errlen);

/* ---- codec.c: byte formats (fuzzed by daemons/pdd/fuzz/). */
void pdd_be64(uint8_t *p, uint64_t v);
uint64_t pdd_rd64(const uint8_t *p);
/* A snapshot record's header: index, term and configuration. */
#define PDD_META_MAX (16 + 5 + 8 * 4 * RAFT_MAX_MEMBERS)
size_t pdd_log_meta_encode(const struct raft_snapshot_meta *m, uint8_t *buf);
/* 0 and *used = header bytes, or -1 when malformed. */
int pdd_log_meta_decode(const uint8_t *buf, size_t len,
                        struct raft_snapshot_meta *m, size_t *used);
/* An entry from its key ('e' + be64 index) and value; e->data points
 * into val. 0, or -1 when malformed. */
int pdd_log_entry_decode(const uint8_t *key, size_t key_len,
                         const uint8_t *val, size_t val_len,
                         struct raft_entry *e);

/* pdd's own records (libpd/DESIGN.md "pdd: membership"). A MEMBER_PUT
 * entry: 0xF1, uvarint id, bytes name, bytes peer, bytes address (bytes =
 * uvarint length + bytes); libpd's commands never start with 0xF1/0xF2. A
 * snapshot's data: "PDM1", uvarint next_id, uvarint n, n x (uvarint id,
 * bytes name, bytes peer, bytes address), then pd_snapshot's bytes; data
 * without the magic is pd_snapshot's alone (data dirs made before). */
#define PDD_CMD_MEMBER_PUT 0xF1
#define PDD_CMD_MEMBER_DEL 0xF2 /* 0xF2, be64 id: drop a member that never
                                   joined the Raft configuration */
#define PDD_MEMBER_MAX (1 + 10 + 3 * (2 + 127))
/* Encodes m into buf (PDD_MEMBER_MAX bytes); returns the length. */
size_t pdd_member_put_encode(const struct pdd_member *m, uint8_t *buf);
/* 0, or -1 when malformed (a field empty, too long or with a NUL, id 0,
 * trailing bytes). */
int pdd_member_put_decode(const uint8_t *buf, size_t len,
                          struct pdd_member *m);
/* The snapshot section for t: malloc'd *out of *len bytes; 0 or -ENOMEM. */
int pdd_members_encode(const struct pdd_members *t, uint8_t **out,
                       size_t *len);
/* Splits a snapshot's data: *has tells whether it holds a member section
 * (then decoded into *t), *used its length (the rest is libpd's). 0, or
 * -1 when the section is malformed (duplicate ids or names too). */
int pdd_members_decode(const uint8_t *buf, size_t len, struct pdd_members *t,
                       bool *has, size_t *used);

/* ---- node.c: the replica. */
struct pdd_node;
int pdd_node_start(struct event_base *base, struct rpc_server *srv,
                   const struct pdd_options *opts, struct pdd_node **out);
void pdd_node_stop(struct pdd_node *n);

/* For service.c. */
struct pd *pdd_node_pd(struct pdd_node *n);
uint64_t pdd_wall_ms(const struct pdd_node *n);
uint64_t pdd_mono_ms(void);
/* 0 when this replica serves (raft leader and libpd leader); otherwise
 * fails call with PD_ENOTLEADER naming the leader, and returns -1. */
int pdd_node_check_leader(struct pdd_node *n, struct rpc_call *call);
/* Entries proposed so far (to see whether a libpd call proposed). */
uint64_t pdd_node_proposals(const struct pdd_node *n);
/* Finish call once the last proposal has applied: with rc = its apply
 * result; reply(call, rc, ud) answers it (ud freed with free after). */
typedef void (*pdd_reply_fn)(struct rpc_call *call, int rc, void *ud);
int pdd_node_wait_apply(struct pdd_node *n, struct rpc_call *call,
                        pdd_reply_fn reply, void *ud);
/* Queue a Tso request of count timestamps (batched, see node.c). */
void pdd_node_tso(struct pdd_node *n, struct rpc_call *call, uint32_t count);

/* One open Tso stream (service.c): its requests queue in the node like
 * unary ones and are answered on the stream, in order. Freed once the
 * call is finished and no request of it is queued. */
struct pdd_tso_stream
{
    struct rpc_call *call; /* the stream; NULL once finished */
    unsigned pending;      /* requests queued in the node */
    bool closing;          /* the client closed its side: end when idle */
    bool held;             /* credit held back (pending is high) */
    struct pdd_tso_stream *prev; /* open streams (service.c's list) */
    struct pdd_tso_stream *next; /* ... */
};
/* Queue a Tso request of a stream (st->pending counts it). */
void pdd_node_tso_stream(struct pdd_node *n, struct pdd_tso_stream *st,
                         uint32_t count);
/* The node's answer to one request of st: rc 0 with first, else the
 * failure (PD_ENOTLEADER: msg names the leader). Defined in service.c. */
void pdd_tso_stream_answer(struct pdd_tso_stream *st, int rc, uint64_t first,
                           uint32_t count, const char *msg);
/* The "not the leader; leader: ADDR" text fail_not_leader sends. */
void pdd_node_not_leader_msg(struct pdd_node *n, char *buf, size_t len);
/* The member list, leader and term, for GetMembers. */
const struct pdd_options *pdd_node_options(const struct pdd_node *n);
const struct pdd_members *pdd_node_members(const struct pdd_node *n);
/* Whether member id is a Raft learner (added, catching up). */
bool pdd_node_is_learner(const struct pdd_node *n, uint64_t id);
/* Membership changes on the leader (libpd/DESIGN.md "pdd: membership"):
 * each answers call itself (at once on a refusal, else after apply). */
void pdd_node_add_member(struct pdd_node *n, struct rpc_call *call,
                         const char *name, const char *peer,
                         const char *address);
void pdd_node_remove_member(struct pdd_node *n, struct rpc_call *call,
                            const char *name);
uint64_t pdd_node_leader(const struct pdd_node *n);
uint64_t pdd_node_term(const struct pdd_node *n);
/* Ask the loop to process the node's ready work soon. */
void pdd_node_kick(struct pdd_node *n);
/* Ask libraft to hand leadership to member id (leader only). */
int pdd_node_transfer_leader(struct pdd_node *n, uint64_t id);
/* Step one Raft message from a peer (decoded bytes). */
int pdd_node_step(struct pdd_node *n, const uint8_t *msg, size_t len);

uint64_t pdd_node_applied(const struct pdd_node *n);
/* What the replica did since it started (/metrics). */
struct pdd_counters
{
    uint64_t tso_requests;  /* Tso calls queued (stream requests too) */
    uint64_t tso_streams;   /* Tso streams opened */
    uint64_t hb_streams;    /* RegionHeartbeat streams opened */
    uint64_t hb_stream_msgs; /* region heartbeats answered on streams */
    uint64_t hints;          /* hints sent on them (pdd_hint_region) */
    uint64_t tso_batches;   /* pd_tso_get calls that served them */
    uint64_t timestamps;    /* timestamps handed out */
    uint64_t synced_writes; /* raft log writes with fsync */
    uint64_t messages_sent; /* raft messages handed to the transport */
    uint64_t snapshots;     /* snapshots made here */
};
const struct pdd_counters *pdd_node_counters(const struct pdd_node *n);
/* Counts a Tso stream opened (what 0), a RegionHeartbeat stream opened
 * (1), a heartbeat answered on one (2) or a hint sent on one (3). */
void pdd_node_count_stream(struct pdd_node *n, int what);

/* ---- http.c: the status port. */
struct dmn_http;
int pdd_http_start(struct event_base *base, const char *listen,
                   struct pdd_node *n, struct dmn_http **out);

/* ---- service.c */
int pdd_service_register(struct rpc_server *srv, struct pdd_node *n);
/* Frees the state of streams the server's destroy finished (call after
 * dmn_rpc_stop, once the node is stopped). */
void pdd_service_stop(void);
/* An operator was made for region_id (leader, loop thread): hint it on
 * the RegionHeartbeat streams of the store leading it that take hints
 * (libpd DESIGN "Hints"), so the store heartbeats it now. */
void pdd_hint_region(struct pdd_node *n, uint64_t region_id);

#endif /* PDD_H */
