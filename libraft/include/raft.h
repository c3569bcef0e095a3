/* raft.h: the one public header of libraft, an I/O-free Raft consensus core
 * (elections, replication, reads, snapshots, membership, leadership transfer).
 * What is not declared here is not API. The roles, invariants and the ready
 * cycle are explained in libraft/DESIGN.md.
 */
#ifndef RAFT_H
#define RAFT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Version: kept equal to libraft/VERSION (the build checks it). */
#define RAFT_VERSION_MAJOR 0
#define RAFT_VERSION_MINOR 8
#define RAFT_VERSION_PATCH 0
#define RAFT_VERSION_NUMBER \
    (RAFT_VERSION_MAJOR * 1000000 + RAFT_VERSION_MINOR * 1000 + RAFT_VERSION_PATCH)

/* The RAFT_VERSION_NUMBER the library was built with: compare it with the
 * macro to catch a header/archive mismatch. */
int raft_version_number(void);

/* Result codes. 0 is success; -1..-999 are negative errno values (-ENOMEM
 * when an allocation fails); libraft's own codes are -1000..-1999.
 * X(name, value, message). */
#define RAFT_ERROR_TABLE(X)                                                   \
    X(RAFT_EINTERNAL, -1000, "internal error in libraft")                     \
    X(RAFT_EINVAL, -1001, "invalid argument")                                 \
    X(RAFT_ECOMPACTED, -1002, "requested index is compacted")                 \
    X(RAFT_EUNAVAILABLE, -1003, "requested entries are unavailable")          \
    X(RAFT_ESNAPTEMP, -1004, "snapshot is temporarily unavailable")           \
    X(RAFT_EDROPPED, -1005, "proposal dropped: no leader or not accepted")    \
    X(RAFT_ETOOBIG, -1006, "uncommitted bytes cap reached")                   \
    X(RAFT_ECONFPENDING, -1007, "a configuration change is still pending")   \
    X(RAFT_EDECODE, -1008, "malformed encoded data")                          \
    X(RAFT_EVERSION, -1009, "unsupported encoding version")                   \
    X(RAFT_ESTATE, -1010, "call not allowed in the node's current state")     \
    X(RAFT_ESNAPOLD, -1011, "snapshot is older than the storage's")           \
    X(RAFT_ECONF, -1012, "invalid configuration change")                      \
    X(RAFT_ENOSPACE, -1013, "output buffer too small")

enum raft_error {
#define RAFT__ERROR_ENUM(name, value, text) name = (value),
    RAFT_ERROR_TABLE(RAFT__ERROR_ENUM)
#undef RAFT__ERROR_ENUM
};

/* A static, human-readable message for any result code (never NULL). */
const char *raft_strerror(int rc);

/* ---------------------------------------------------------------------
 * Allocator hook. Every allocation libraft makes (nodes, logs, ready
 * batches, decoded messages, the memory storage) goes through it.
 */
struct raft_heap {
    void *ctx;                                     /* passed to each call */
    void *(*malloc)(void *ctx, size_t size);       /* NULL on failure */
    void *(*realloc)(void *ctx, void *p, size_t size); /* NULL on failure */
    void (*free)(void *ctx, void *p);              /* p may be NULL */
};

/* Replace the allocator (copied); NULL restores libc's. Call it only while
 * no libraft object exists: memory must be freed by the allocator that
 * allocated it. Not thread-safe. */
void raft_heap_set(const struct raft_heap *heap);

/* ---------------------------------------------------------------------
 * Basic types.
 */
typedef uint64_t raft_id;    /* a node id; 0 means "none" */
typedef uint64_t raft_term;  /* a term; 0 before any election */
typedef uint64_t raft_index; /* a log index; the first entry is 1 */

/* At most this many distinct members (voters and learners, both sides of a
 * joint configuration together) in a group. */
#define RAFT_MAX_MEMBERS 16

enum raft_entry_type {
    RAFT_ENTRY_NORMAL = 0,      /* application data (may be empty) */
    RAFT_ENTRY_CONF_CHANGE = 1, /* an encoded struct raft_conf_change */
};

/* A log entry. Who owns data is said wherever an entry crosses the API. */
struct raft_entry {
    raft_term term;   /* term of the leader that created it */
    raft_index index; /* position in the log */
    uint32_t type;    /* enum raft_entry_type */
    uint32_t len;     /* bytes at data */
    void *data;       /* payload (NULL when len is 0) */
};

/* What must be durable before a node answers anything (Raft section 5). */
struct raft_hard_state {
    raft_term term;    /* current term */
    raft_id vote;      /* voted for in term (0 none) */
    raft_index commit; /* highest index known committed */
};

/* A membership configuration. Outside a joint configuration only voters
 * and learners are used. During a joint one (thesis 4.3), decisions need a
 * majority of voters AND of voters_outgoing; learners_next are voters of
 * the outgoing side that become learners when the joint state is left. */
struct raft_conf_state {
    raft_id voters[RAFT_MAX_MEMBERS];          /* incoming voters */
    raft_id learners[RAFT_MAX_MEMBERS];        /* non-voting members */
    raft_id voters_outgoing[RAFT_MAX_MEMBERS]; /* outgoing voters (joint) */
    raft_id learners_next[RAFT_MAX_MEMBERS];   /* learners after leaving */
    uint8_t n_voters;                          /* used slots of voters */
    uint8_t n_learners;                        /* used slots of learners */
    uint8_t n_voters_outgoing;   /* 0 unless in a joint configuration */
    uint8_t n_learners_next;     /* used slots of learners_next */
    bool auto_leave;             /* leader leaves the joint state itself */
};

/* Snapshot metadata: the state machine up to index, under conf. */
struct raft_snapshot_meta {
    raft_index index;            /* last entry covered */
    raft_term term;              /* its term */
    struct raft_conf_state conf; /* configuration as of index */
};

/* A snapshot, or one chunk of one in a message. For a whole snapshot
 * offset is 0 and total equals len. */
struct raft_snapshot {
    struct raft_snapshot_meta meta; /* what it covers */
    uint64_t offset;                /* position of data in the whole */
    uint64_t total;                 /* size of the whole data */
    uint64_t len;                   /* bytes at data */
    void *data;                     /* application state (chunk) */
};

/* ---------------------------------------------------------------------
 * Membership changes (thesis chapter 4).
 */
enum raft_change_type {
    RAFT_CHANGE_ADD_VOTER = 0,   /* add, or promote a learner */
    RAFT_CHANGE_ADD_LEARNER = 1, /* add, or demote a voter */
    RAFT_CHANGE_REMOVE = 2,      /* remove in any role */
};

enum raft_transition {
    /* One voter change: applied directly. More: joint, left automatically. */
    RAFT_TRANSITION_AUTO = 0,
    /* Always joint; the leader proposes leaving it once it is applied. */
    RAFT_TRANSITION_JOINT_IMPLICIT = 1,
    /* Always joint; the application leaves it with an empty change. */
    RAFT_TRANSITION_JOINT_EXPLICIT = 2,
};

struct raft_change {
    uint32_t type; /* enum raft_change_type */
    raft_id id;    /* member concerned */
};

/* A configuration change. Zero changes while joint means "leave joint". */
struct raft_conf_change {
    uint32_t transition;                       /* enum raft_transition */
    uint32_t n_changes;                        /* used slots of changes */
    struct raft_change changes[RAFT_MAX_MEMBERS]; /* in order */
};

/* Bytes raft_conf_change_encode writes for cc. */
size_t raft_conf_change_size(const struct raft_conf_change *cc);
/* Encode cc into buf (cap bytes); *len gets the size. RAFT_ENOSPACE when
 * cap is too small, RAFT_EINVAL on a bad cc. */
int raft_conf_change_encode(const struct raft_conf_change *cc, void *buf,
                            size_t cap, size_t *len);
/* Decode the data of a RAFT_ENTRY_CONF_CHANGE entry into *cc (copied).
 * RAFT_EDECODE / RAFT_EVERSION on malformed input. */
int raft_conf_change_decode(const void *buf, size_t len,
                            struct raft_conf_change *cc);

/* ---------------------------------------------------------------------
 * Messages. Plain structs; raft_msg_encode/decode give a versioned,
 * self-contained byte form for the wire.
 */
enum raft_msg_type {
    RAFT_MSG_APPEND = 1,          /* leader -> follower: entries/commit */
    RAFT_MSG_APPEND_RESP = 2,     /* follower -> leader: match or reject */
    RAFT_MSG_VOTE = 3,            /* candidate -> voter */
    RAFT_MSG_VOTE_RESP = 4,       /* voter -> candidate */
    RAFT_MSG_PREVOTE = 5,         /* pre-candidate -> voter (no term bump) */
    RAFT_MSG_PREVOTE_RESP = 6,    /* voter -> pre-candidate */
    RAFT_MSG_HEARTBEAT = 7,       /* leader -> follower: liveness, commit */
    RAFT_MSG_HEARTBEAT_RESP = 8,  /* follower -> leader (context echoed) */
    RAFT_MSG_SNAPSHOT = 9,        /* leader -> follower: one chunk */
    RAFT_MSG_PROPOSE = 10,        /* follower -> leader: forwarded entries */
    RAFT_MSG_READ_INDEX = 11,     /* follower -> leader: read request */
    RAFT_MSG_READ_INDEX_RESP = 12, /* leader -> follower: read index */
    RAFT_MSG_TIMEOUT_NOW = 13,    /* leader -> transferee: campaign now */
    RAFT_MSG_TRANSFER_LEADER = 14, /* follower -> leader: transfer request */
    RAFT_MSG_SNAPSHOT_RESP = 15,  /* follower -> leader: snapshot bytes held
                                   * (index, log_term: the snapshot;
                                   * context: contiguous bytes received) */
};
#define RAFT_MSG_TYPE_MAX 15

/* A message. In a ready batch the library owns everything it points to
 * until the ready is released (raft_node_advance); in raft_node_step it is
 * borrowed for the call. */
struct raft_message {
    uint32_t type;                  /* enum raft_msg_type */
    raft_id from;                   /* sender */
    raft_id to;                     /* recipient */
    raft_term term;                 /* sender's term (0: not term-bound) */
    raft_term log_term;             /* term at index / reject hint term */
    raft_index index;               /* prev/last index, match; heartbeat:
                                     * the leader's tick, echoed back */
    raft_index commit;              /* sender's commit index */
    uint64_t context;               /* read id; transferee; campaign flag */
    raft_index reject_hint;         /* on reject: follower's hint index */
    bool reject;                    /* response is a refusal */
    uint32_t n_entries;             /* entries at entries */
    struct raft_entry *entries;     /* APPEND / PROPOSE payload */
    struct raft_snapshot *snapshot; /* SNAPSHOT chunk, NULL otherwise */
};

/* Bytes raft_msg_encode writes for m. */
size_t raft_msg_encoded_size(const struct raft_message *m);
/* Encode m into buf (cap bytes), *len gets the size. Byte table in
 * src/codec.c. RAFT_ENOSPACE when cap is too small. */
int raft_msg_encode(const struct raft_message *m, void *buf, size_t cap,
                    size_t *len);
/* Decode len bytes into a newly allocated message, handed over: free it with
 * raft_msg_free. Never reads outside buf; RAFT_EDECODE/RAFT_EVERSION on bad
 * input, -ENOMEM when an allocation fails (then *out is NULL). */
int raft_msg_decode(const void *buf, size_t len, struct raft_message **out);
/* Free a message returned by raft_msg_decode. NULL is a no-op. */
void raft_msg_free(struct raft_message *m);

/* ---------------------------------------------------------------------
 * Storage: what the node reads its durable state from. The application
 * writes to it (the ready cycle says what and when); the node only reads.
 * Every call returns 0 or a result code.
 */
struct raft_storage;
/* Fill it with designated initializers: later versions may add optional
 * operations at the end (snapshot_read came in 0.3). */
struct raft_storage_ops {
    /* Hard state and the configuration as of the last applied snapshot
     * (or bootstrap); both copied into the out parameters. */
    int (*initial_state)(struct raft_storage *s, struct raft_hard_state *hs,
                         struct raft_conf_state *cs);
    /* Entries in [lo, hi), at least one if any, stopping before max_bytes
     * of payload is exceeded. *ents is borrowed: the array until the
     * storage is next modified, each entry's data until that entry is
     * replaced or compacted away (committed entries in a ready point at
     * it while later writes go on; the memory store keeps one block per
     * entry). RAFT_ECOMPACTED when lo is before the first index,
     * RAFT_EUNAVAILABLE past the last. */
    int (*entries)(struct raft_storage *s, raft_index lo, raft_index hi,
                   uint64_t max_bytes, const struct raft_entry **ents,
                   size_t *n);
    /* Term of entry i, for i in [first_index - 1, last_index]. */
    int (*term)(struct raft_storage *s, raft_index i, raft_term *t);
    /* Index of the first entry still held (last compacted + 1). */
    int (*first_index)(struct raft_storage *s, raft_index *i);
    /* Index of the last entry (first_index - 1 when empty). */
    int (*last_index)(struct raft_storage *s, raft_index *i);
    /* The most recent snapshot, borrowed until the storage is next
     * modified. RAFT_ESNAPTEMP if it is being produced (retry later). With
     * snapshot_read set, its data may be left out (data NULL, len 0):
     * total then gives the size. */
    int (*snapshot)(struct raft_storage *s, const struct raft_snapshot **snap);
    /* Optional (NULL: the data comes whole from snapshot()). Copy len bytes
     * of the data of the snapshot at index, from offset, into buf (never
     * past its total): a leader reads a snapshot chunk by chunk as it sends
     * it, never holding it whole. RAFT_ESNAPOLD if that snapshot is no
     * longer the storage's (the transfer starts over with the new one).
     * RAFT_ESNAPTEMP if those bytes cannot be read yet (a storage reading
     * ahead on a thread of its own): the leader sends that member nothing
     * more until raft_node_snapshot_resume, the member's next
     * acknowledgement or a retry tick. */
    int (*snapshot_read)(struct raft_storage *s, raft_index index,
                         uint64_t offset, void *buf, uint64_t len);
};
struct raft_storage {
    const struct raft_storage_ops *ops; /* the implementation */
};

/* The in-memory storage. Entries' data are copied in. */
struct raft_memstore;
/* Create an empty store (term 0, no entries, empty configuration). */
int raft_memstore_create(struct raft_memstore **out);
/* Free the store; NULL is a no-op. No node may still use it. */
void raft_memstore_destroy(struct raft_memstore *ms);
/* The storage interface of ms (borrowed for ms' lifetime). */
struct raft_storage *raft_memstore_storage(struct raft_memstore *ms);
/* Set the initial configuration of a new group on each founding member
 * (copied), before any node runs on ms. It becomes a snapshot at index 1,
 * term 1 (so logs start at 2); a member added later starts from an empty
 * store and receives it. RAFT_ESTATE if ms is not empty. */
int raft_memstore_bootstrap(struct raft_memstore *ms,
                            const struct raft_conf_state *cs);
/* Record the hard state (copied). */
void raft_memstore_set_hard_state(struct raft_memstore *ms,
                                  const struct raft_hard_state *hs);
/* Append entries (copied), first replacing any entries from ents[0].index
 * on. RAFT_EINVAL if that leaves a gap; RAFT_ECOMPACTED if the entries are
 * all before the first index. */
int raft_memstore_append(struct raft_memstore *ms,
                         const struct raft_entry *ents, size_t n);
/* Replace the contents with a snapshot (copied). RAFT_ESNAPOLD if older
 * than the current one. */
int raft_memstore_apply_snapshot(struct raft_memstore *ms,
                                 const struct raft_snapshot *snap);
/* Make a snapshot at index (<= last index) of application data (copied)
 * under configuration cs. RAFT_ESNAPOLD if not newer than the current. */
int raft_memstore_create_snapshot(struct raft_memstore *ms, raft_index index,
                                  const struct raft_conf_state *cs,
                                  const void *data, uint64_t len);
/* Drop entries up to and including index (<= last index; its term is
 * kept). RAFT_ECOMPACTED when already compacted that far. Compact only up
 * to an index the application has applied: readies still out may point
 * at the data of entries after it (see DESIGN.md). */
int raft_memstore_compact(struct raft_memstore *ms, raft_index index);

/* ---------------------------------------------------------------------
 * Logging: the library never prints; it calls this after a level check.
 */
enum raft_log_level {
    RAFT_LOG_DEBUG = 0,
    RAFT_LOG_INFO = 1,
    RAFT_LOG_WARN = 2,
    RAFT_LOG_ERROR = 3,
};
/* msg is borrowed for the call. */
typedef void (*raft_logger_fn)(void *ctx, int level, raft_id node,
                               const char *msg);

/* ---------------------------------------------------------------------
 * The node.
 */
enum raft_role {
    RAFT_FOLLOWER = 0,
    RAFT_PRE_CANDIDATE = 1,
    RAFT_CANDIDATE = 2,
    RAFT_LEADER = 3,
};

enum raft_read_only_option {
    /* ReadIndex confirmed by a heartbeat round (thesis 6.4). */
    RAFT_READ_SAFE = 0,
    /* Leader lease: no round trip; needs check_quorum and bounded clock
     * drift (thesis 6.4.1). */
    RAFT_READ_LEASE = 1,
};

/* Node configuration, copied by raft_node_create. Zero fields take the
 * defaults named here. */
struct raft_config {
    raft_id id;                    /* this node (non-zero) */
    struct raft_storage *storage;  /* borrowed for the node's lifetime */
    raft_index applied;            /* last index the application applied */
    int election_tick;   /* ticks without leader before campaigning (10) */
    int heartbeat_tick;  /* ticks between heartbeats (1); < election_tick */
    uint64_t seed;       /* seeds the randomized election timeout */
    bool pre_vote;       /* run a PreVote round before bumping the term */
    bool check_quorum;   /* leader steps down without a quorum's contact */
    bool disable_proposal_forwarding; /* followers refuse proposals */
    int read_only;                 /* enum raft_read_only_option */
    uint64_t max_size_per_msg;     /* payload bytes per append (1 MiB) */
    uint64_t max_inflight_msgs;    /* unacked appends per follower (256) */
    uint64_t max_inflight_bytes;   /* unacked payload per follower (0 off) */
    uint64_t max_uncommitted_bytes; /* leader's uncommitted payload (0 off) */
    uint64_t max_committed_per_ready; /* bytes to apply per ready (64 MiB) */
    uint64_t snapshot_chunk_bytes; /* snapshot bytes per message (1 MiB) */
    raft_logger_fn logger;         /* NULL: no logging */
    void *logger_ctx;              /* passed to logger */
    int log_level;                 /* lowest level passed to logger */
    /* Readies that may be out (handed out, not yet acknowledged) at once,
     * 1..RAFT_MAX_INFLIGHT_READIES (1): more pipelines storage writes, see
     * raft_node_ready. */
    uint32_t max_inflight_readies;
    /* Hand received snapshot data to the application chunk by chunk
     * (rd.snapshot_chunks) instead of assembling it in memory; see
     * struct raft_ready. */
    bool stream_snapshots;
    /* Snapshot chunks sent to a follower and not yet acknowledged (8). */
    uint32_t snapshot_window;
    /* This node starts a group member that never ran before (a new
     * group's first start, not a restart): it cannot have acknowledged a
     * leader, so in lease mode it votes at once instead of holding off
     * for its first election timeout (DESIGN.md "Reads", lease hold). A
     * node that may have exchanged messages of its group before, even
     * without persisting anything, must leave it false. */
    bool fresh;
    /* Optional clock for RAFT_READ_LEASE: monotonic milliseconds (now_ms,
     * called with clock_ctx) and how many milliseconds the application
     * lets pass between raft_node_tick calls (tick_ms, > 0). With it the
     * lease runs in real time from when the acknowledged heartbeat was
     * sent, for election_tick - 2 ticks' worth of milliseconds: a leader
     * whose ticks fall behind (a starved process, a stalled loop) cannot
     * outlive the followers' refusal to vote, which they count in their
     * own ticks (each at least tick_ms long). Without it the lease is
     * counted in the leader's ticks, which is only as good as the tick
     * rate (DESIGN.md "Reads"). */
    uint64_t (*now_ms)(void *clock_ctx);
    void *clock_ctx;
    uint32_t tick_ms;
};
#define RAFT_MAX_INFLIGHT_READIES 1024

/* A read whose index is known: once applied >= index, a read started
 * before the request reflects every write committed before it. */
struct raft_read_state {
    uint64_t context; /* the caller's request id */
    raft_index index; /* apply up to here, then read */
};

/* The batch of work the node hands out (see DESIGN.md, "ready cycle").
 * Everything it points to is owned by the node until raft_node_advance. */
struct raft_ready {
    bool soft_changed;              /* role or leader changed */
    int role;                       /* enum raft_role */
    raft_id leader;                 /* known leader, 0 none */
    bool hard_changed;              /* hs must be persisted */
    struct raft_hard_state hs;      /* the hard state to persist */
    struct raft_snapshot *snapshot; /* whole snapshot to persist, restore */
    size_t n_entries;               /* entries to append to storage */
    struct raft_entry *entries;     /* ... in order */
    size_t n_messages;              /* may be sent before persisting */
    struct raft_message *messages;  /* ... */
    size_t n_after;                 /* send only after persisting */
    struct raft_message *after;     /* ... */
    size_t n_committed;             /* entries to apply, after persisting */
    struct raft_entry *committed;   /* ... in order */
    size_t n_reads;                 /* reads whose index is now known */
    struct raft_read_state *reads;  /* ... */
    bool must_sync;                 /* hs term/vote or entries changed */
    uint64_t seq;                   /* 1, 2, ... in the order handed out */
    /* cfg.stream_snapshots only: pieces of a snapshot being received, in
     * order, to persist before rd.snapshot. A chunk at offset 0 starts a
     * snapshot (discard any partial one). The snapshot they make up comes
     * later in rd.snapshot with data NULL and len 0 (total its size): the
     * application installs what it stored from the chunks of that meta. */
    size_t n_snapshot_chunks;             /* chunks at snapshot_chunks */
    struct raft_snapshot *snapshot_chunks; /* ... each with meta, offset,
                                            * total, len, data */
};

/* Progress of one member as the leader sees it. */
enum raft_progress_state {
    RAFT_PROGRESS_PROBE = 0,     /* one append per heartbeat until match */
    RAFT_PROGRESS_REPLICATE = 1, /* streaming, bounded by inflight limits */
    RAFT_PROGRESS_SNAPSHOT = 2,  /* waiting for a snapshot to land */
};
struct raft_peer_status {
    raft_id id;          /* member */
    raft_index match;    /* highest index known replicated */
    raft_index next;     /* next index to send */
    int state;           /* enum raft_progress_state */
    bool learner;        /* non-voting */
    bool recent_active;  /* heard from within the election timeout */
    uint32_t inflight;   /* unacknowledged appends */
    uint64_t snapshot_acked; /* SNAPSHOT state: bytes the member holds */
    uint64_t snapshot_total; /* SNAPSHOT state: size of the snapshot */
};
struct raft_status {
    raft_id id;                  /* this node */
    int role;                    /* enum raft_role */
    raft_term term;              /* current term */
    raft_id vote;                /* vote in term */
    raft_id leader;              /* known leader */
    raft_index commit;           /* commit index */
    raft_index applied;          /* applied index */
    raft_index last_index;       /* last log index */
    raft_id transferee;          /* leadership transfer target, 0 none */
    uint64_t dropped_msgs;       /* messages dropped on allocation failure */
    struct raft_conf_state conf; /* current configuration */
    uint32_t n_peers;            /* filled slots of peers (leader only) */
    struct raft_peer_status peers[RAFT_MAX_MEMBERS]; /* leader's view */
};

/* A node is not thread-safe: calls on one node must not overlap (different
 * nodes are independent). It holds a few kilobytes plus its unstable log. */
struct raft_node;

/* Create a node from cfg (copied) and the state in cfg->storage. On success
 * *out is handed over (free with raft_node_destroy). RAFT_EINVAL on a bad
 * config, a storage error code, or -ENOMEM. */
int raft_node_create(const struct raft_config *cfg, struct raft_node **out);
/* Free the node and everything it owns; NULL is a no-op. */
void raft_node_destroy(struct raft_node *n);
/* Detail on the last error returned by a call on n (never NULL). */
const char *raft_node_errmsg(const struct raft_node *n);

/* The calls below may be made while a ready batch is outstanding (between
 * raft_node_ready and raft_node_advance): that is how writes are
 * asynchronous. Work they cause goes into the next ready. */

/* Advance logical time by one tick: elections, heartbeats, quorum checks. */
int raft_node_tick(struct raft_node *n);
/* Start an election now (if this node may vote). */
int raft_node_campaign(struct raft_node *n);
/* Feed a message received from a peer (borrowed for the call; the node
 * copies what it keeps). Stale, misrouted or unexpected messages are
 * ignored (0). A forwarded proposal the leader refuses returns what
 * raft_node_propose would (RAFT_EDROPPED, RAFT_ETOOBIG, RAFT_ECONFPENDING,
 * RAFT_ECONF): informational, the sender is not told. RAFT_EINVAL on
 * malformed content (e.g. an append that is not a valid log suffix), a
 * storage error, or -ENOMEM. */
int raft_node_step(struct raft_node *n, const struct raft_message *m);
/* Propose one entry (data copied). On a leader, *index (if not NULL) gets
 * its log index; a follower forwards it (index 0) unless forwarding is
 * disabled. RAFT_EDROPPED without a leader, on a learner-only path, or
 * during a leadership transfer; RAFT_ETOOBIG over max_uncommitted_bytes. */
int raft_node_propose(struct raft_node *n, const void *data, uint32_t len,
                      raft_index *index);
/* Propose n_bufs entries at once (data copied), as raft_node_propose. */
struct raft_buf {
    const void *data; /* borrowed for the call */
    uint32_t len;     /* bytes at data */
};
int raft_node_propose_batch(struct raft_node *n, const struct raft_buf *bufs,
                            size_t n_bufs, raft_index *last_index);
/* Propose a configuration change (copied). Leader only (forwarded like a
 * proposal otherwise). RAFT_ECONFPENDING while an earlier one is not
 * applied; RAFT_ECONF when it is invalid against the current config. */
int raft_node_propose_conf_change(struct raft_node *n,
                                  const struct raft_conf_change *cc,
                                  raft_index *index);
/* Ask for a linearizable read index tagged context (non-zero; make it
 * unique across the group, e.g. node id in the high bits). It arrives
 * later as a raft_read_state in a ready; serve the read once applied
 * reaches its index. On a follower the request goes through the leader.
 * A request can be lost (leader change, lost messages): time out and ask
 * again. RAFT_EDROPPED without a leader. */
int raft_node_read_index(struct raft_node *n, uint64_t context);
/* Whether a read may be served now, on the caller's thread, without a
 * ReadIndex round: true only on a leader in RAFT_READ_LEASE mode that has
 * committed an entry of its term and whose lease holds at its current tick
 * (a quorum acked a heartbeat sent less than election_tick - 1 ticks ago;
 * never from a TIMEOUT_NOW until election_tick ticks after it, see
 * DESIGN.md "Reads"). *index (may be NULL) then gets the commit index:
 * the read is linearizable once the application has applied up to it. A
 * deposed leader that has not heard of its successor yet answers false
 * too: its lease ran out before anyone else could win. Changes nothing;
 * may be called while readies are out. */
bool raft_node_lease_valid(struct raft_node *n, raft_index *index);
/* Ask the leader to hand leadership to transferee (thesis 3.10). */
int raft_node_transfer_leader(struct raft_node *n, raft_id transferee);
/* Tell a leader that sending a snapshot to id finished (ok) or failed. */
int raft_node_report_snapshot(struct raft_node *n, raft_id id, bool ok);
/* Tell a leader that its storage can now read snapshot data it answered
 * RAFT_ESNAPTEMP: every transfer under way sends what its window allows
 * (in the next ready). Nothing on a node that is not leader. */
int raft_node_snapshot_resume(struct raft_node *n);
/* Tell a leader that id could not be reached (resets it to probing). */
int raft_node_report_unreachable(struct raft_node *n, raft_id id);

/* Whether raft_node_ready would return anything. */
bool raft_node_has_ready(const struct raft_node *n);
/* Collect the pending work into *rd (owned by the node, unchanged, until
 * it is released, whatever is stepped meanwhile). Persist rd->snapshot,
 * rd->entries and rd->hs (in that order, durably if rd->must_sync); send
 * rd->messages at once (before the write) and rd->after only once it is
 * durable; apply rd->snapshot and rd->committed; then acknowledge it with
 * raft_node_advance (or raft_node_advance_to).
 *
 * Up to cfg.max_inflight_readies readies may be out at once (pipelined
 * writes; RAFT_ESTATE beyond that). Each one's write must become durable
 * only after every earlier one's (one ordered log, or one writer), and
 * each one's committed entries are applied after its write is durable and
 * after the earlier readies' committed entries. Acknowledgements may come
 * in any order; a ready is released (its effects below take place, the
 * memory it points to is freed) once it and every earlier one are
 * acknowledged. -ENOMEM leaves the node unchanged. */
int raft_node_ready(struct raft_node *n, struct raft_ready *rd);
/* Acknowledge rd (by rd->seq; 0 means the oldest ready out): it is
 * persisted and applied. Released readies make the leader count its own
 * log up to what they wrote, and committed configuration changes in them
 * take effect. Zeroes *rd. RAFT_ESTATE if rd is not out; otherwise 0, or
 * an error from applying a configuration change (-ENOMEM). */
int raft_node_advance(struct raft_node *n, struct raft_ready *rd);
/* Acknowledge every ready out with a sequence number <= seq at once (one
 * fsync covered them). The ready structs they filled must not be used
 * after. Errors as raft_node_advance. */
int raft_node_advance_to(struct raft_node *n, uint64_t seq);

/* Fill *st (copied). May be called at any time. */
void raft_node_status(const struct raft_node *n, struct raft_status *st);
/* The node's role (enum raft_role) and, into *leader unless NULL, the
 * leader it knows (0: none): raft_node_status's role and leader without
 * the rest (which copies the configuration and, on a leader, every
 * member's progress), for a check on every request. May be called at any
 * time. */
int raft_node_role(const struct raft_node *n, raft_id *leader);

#ifdef __cplusplus
}
#endif

#endif /* RAFT_H */
