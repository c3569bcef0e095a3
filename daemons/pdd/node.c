/* node.c: one pdd replica: a libraft node whose log lives in RocksDB
 * (raftlog.c) and whose state machine is libpd, wired on the daemon's
 * libevent loop. Peers exchange Raft messages over librpc (PD_METHOD_RAFT).
 * Ready cycle, leadership, apply waiters and TSO batching are explained in
 * libpd/DESIGN.md, "pdd".
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include <event2/event.h>

#include <pd.pb.h>
#include <rpc.h>

#include "config.h"
#include "log.h"
#include "pdd.h"
#include "rpcsvc.h"

/* The longest wait between scheduling rounds while they make progress
 * (schedule_interval). */
#define PDD_SCHEDULE_BUSY_MS 1000

/* A client waiting for the apply of the entry its call proposed. */
struct waiter
{
    uint64_t index;        /* raft index of the entry */
    uint64_t term;         /* term it was proposed in */
    struct rpc_call *call; /* the call to finish */
    pdd_reply_fn reply;    /* how to answer it */
    void *ud;              /* for reply; freed after */
    struct waiter *next;   /* next in index order */
};

/* A queued Tso request. */
struct tso_req
{
    struct rpc_call *call; /* to answer (NULL: a stream's) */
    struct pdd_tso_stream *st; /* the stream answered instead, or NULL */
    uint32_t count;        /* timestamps asked for */
    struct tso_req *next;  /* next in arrival order */
};

/* A connection to another member. Slots never move (sends in flight
 * point at theirs); id 0 marks a free one. */
struct peer
{
    struct pdd_node *node;  /* back pointer for done callbacks */
    uint64_t id;            /* its raft id, 0: free slot */
    char addr[128];         /* the peer address it connects to */
    bool refuses_us;        /* its last answer: we are no member */
    struct rpc_client *cli; /* connection */
};

/* What a sent Raft message must report if it fails. */
struct send_tag
{
    struct peer *peer; /* recipient */
    bool snapshot;     /* it carried a snapshot chunk */
};

struct pdd_node
{
    struct event_base *base;        /* the daemon's loop */
    struct pdd_options opts;        /* copied settings */
    struct pdd_log *log;            /* durable raft state */
    struct raft_node *raft;         /* consensus */
    struct pd *pd;                  /* the state machine */
    struct peer peers[PDD_MAX_MEMBERS]; /* other members (slots) */
    struct pdd_members mt;          /* the member table (replicated) */
    struct pdd_members contacts;    /* joining: the group's members as
                                       GetMembers gave them, until mt
                                       (behind, from an old snapshot)
                                       lists us */
    bool removed;                   /* a conf change took us out */
    struct event *kick_ev;          /* runs process() from the loop */
    struct event *tick_ev;          /* periodic tick */
    int role;                       /* enum raft_role, as last seen */
    uint64_t term;                  /* current term */
    uint64_t leader;                /* known leader id, 0 none */
    uint64_t applied;               /* last applied index */
    uint64_t applied_term;          /* its term */
    uint64_t snap_index;            /* index of the last snapshot */
    uint64_t proposals;             /* entries proposed by libpd */
    uint64_t last_prop_index;       /* index of the latest one */
    struct waiter *w_head;          /* waiters, by index */
    struct waiter *w_tail;          /* last waiter */
    struct tso_req *tso_head;       /* Tso requests not in a batch */
    struct tso_req *tso_tail;       /* last of them */
    struct tso_req *batch;          /* the batch waiting for its read */
    bool batch_active;              /* a read index is outstanding */
    bool batch_confirmed;           /* its read index arrived */
    uint64_t batch_ctx;             /* its read context */
    uint64_t batch_index;           /* its read index */
    uint64_t batch_started_ms;      /* mono ms when asked */
    uint64_t batch_confirmed_ms;    /* mono ms when its read arrived */
    uint64_t last_tick_ms;          /* mono ms the ticks account for */
    struct pdd_counters cnt;        /* for /metrics */
    uint64_t read_seq;              /* read contexts handed out */
    bool tso_blocked;               /* PD_ENOTREADY: wait for an apply */
    uint64_t tso_blocked_at;        /* applied index when it happened */
    uint64_t last_ops_tick_ms;      /* pd_operators_tick last ran */
    uint64_t last_schedule_ms;      /* pd_schedule last ran */
    size_t sched_made;              /* operators its last round made */
    uint64_t sched_ended;           /* operators ended when it ran */
    bool in_process;                /* process() is running */
    uint8_t *sendbuf;               /* encode buffer for messages */
    size_t sendcap;                 /* its size */
};

uint64_t pdd_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

uint64_t pdd_wall_ms(const struct pdd_node *n)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    ms += n->opts.clock_offset_ms;
    return ms > 0 ? (uint64_t)ms : 1;
}

struct pd *pdd_node_pd(struct pdd_node *n)
{
    return n->pd;
}
uint64_t pdd_node_proposals(const struct pdd_node *n)
{
    return n->proposals;
}
const struct pdd_options *pdd_node_options(const struct pdd_node *n)
{
    return &n->opts;
}
const struct pdd_members *pdd_node_members(const struct pdd_node *n)
{
    return &n->mt;
}
uint64_t pdd_node_leader(const struct pdd_node *n)
{
    return n->leader;
}
uint64_t pdd_node_term(const struct pdd_node *n)
{
    return n->term;
}
uint64_t pdd_node_applied(const struct pdd_node *n)
{
    return n->applied;
}
void pdd_node_count_stream(struct pdd_node *n, int what)
{
    if (what == 0)
        n->cnt.tso_streams++;
    else if (what == 1)
        n->cnt.hb_streams++;
    else if (what == 2)
        n->cnt.hb_stream_msgs++;
    else
        n->cnt.hints++;
}

const struct pdd_counters *pdd_node_counters(const struct pdd_node *n)
{
    return &n->cnt;
}

static bool serving(const struct pdd_node *n)
{
    return n->role == RAFT_LEADER && pd_is_leader(n->pd);
}

static const struct pdd_member *member(const struct pdd_node *n, uint64_t id)
{
    for (size_t i = 0; i < n->mt.n; i++)
        if (n->mt.m[i].id == id)
            return &n->mt.m[i];
    return NULL;
}

/* A member, or while joining one of the contacts: whom we talk Raft with.
 * A joining pdd may restore an old snapshot whose table predates the
 * current leader; it must still take that leader's appends (which bring
 * the table up to date) and answer them. */
static const struct pdd_member *contact(const struct pdd_node *n, uint64_t id)
{
    const struct pdd_member *m = member(n, id);
    for (size_t i = 0; !m && i < n->contacts.n; i++)
        if (n->contacts.m[i].id == id)
            m = &n->contacts.m[i];
    return m;
}

/* The redirect: PD_ENOTLEADER with "leader: <address>" when one is known
 * (libpd/DESIGN.md, "Service"); the client parses what follows "leader: ". */
static void fail_not_leader(struct pdd_node *n, struct rpc_call *call)
{
    char msg[256];
    pdd_node_not_leader_msg(n, msg, sizeof(msg));
    rpc_call_fail(call, PD_ENOTLEADER, msg);
}

void pdd_node_not_leader_msg(struct pdd_node *n, char *msg, size_t len)
{
    const struct pdd_member *m = n->leader ? contact(n, n->leader) : NULL;
    if (m && n->leader == n->opts.self_id)
        snprintf(msg, len,
                 "this pdd (%s) was just elected and is catching up; "
                 "leader: %s",
                 m->name, m->address);
    else if (m)
        snprintf(msg, len, "this pdd is not the leader; leader: %s",
                 m->address);
    else
        snprintf(msg, len, "this pdd is not the leader; no leader "
                           "known (election in progress)");
}

int pdd_node_check_leader(struct pdd_node *n, struct rpc_call *call)
{
    if (serving(n))
        return 0;
    fail_not_leader(n, call);
    return -1;
}

void pdd_node_kick(struct pdd_node *n)
{
    if (n->kick_ev) /* NULL while stopping: sends failing in destroy */
        event_active(n->kick_ev, EV_TIMEOUT, 0);
}

/* ---- libpd and libraft glue ---------------------------------------------- */

static int propose(void *ctx, const uint8_t *cmd, size_t len)
{
    struct pdd_node *n = ctx;
    if (len > UINT32_MAX)
        return -E2BIG;
    raft_index idx = 0;
    int rc = raft_node_propose(n->raft, cmd, (uint32_t)len, &idx);
    if (rc == RAFT_EDROPPED || rc == RAFT_ETOOBIG)
        /* Not leading now (a leadership transfer under way: a leader
         * being removed hands over first) or the uncommitted cap reached:
         * libpd's callers pass the code to the client, which tries again
         * on PD_ENOTREADY (and a member no longer leading redirects it).
         * Passed as it was, libraft's code reached the client as "unknown
         * libpd result code (-1005)" and ended its call: test_pd_members'
         * long-lived TSO stream failed so once in make test. */
        return PD_ENOTREADY;
    if (rc != 0)
        return rc;
    n->proposals++;
    n->last_prop_index = idx;
    pdd_node_kick(n);
    return 0;
}

static void pd_log(void *ctx, int level, const char *msg)
{
    (void)ctx;
    static const enum dmn_log_level map[] = {DMN_LOG_DEBUG, DMN_LOG_INFO,
                                             DMN_LOG_WARN, DMN_LOG_ERROR};
    dmn_log(level >= 0 && level <= 3 ? map[level] : DMN_LOG_INFO, "pd: %s",
            msg);
}

static void raft_log(void *ctx, int level, raft_id node, const char *msg)
{
    (void)ctx;
    static const enum dmn_log_level map[] = {DMN_LOG_DEBUG, DMN_LOG_INFO,
                                             DMN_LOG_WARN, DMN_LOG_ERROR};
    dmn_log(level >= 0 && level <= 3 ? map[level] : DMN_LOG_INFO,
            "raft %llu: %s", (unsigned long long)node, msg);
}

/* A storage failure leaves no safe way on: Raft's promises rest on it. */
static void fatal(const char *what, const char *detail)
{
    dmn_error("fatal: %s: %s", what, detail);
    exit(DMN_EXIT_FAIL);
}

/* ---- waiters ------------------------------------------------------------- */

int pdd_node_wait_apply(struct pdd_node *n, struct rpc_call *call,
                        pdd_reply_fn reply, void *ud)
{
    struct waiter *w = calloc(1, sizeof(*w));
    if (!w) {
        free(ud);
        rpc_call_fail(call, -ENOMEM, "out of memory");
        return -ENOMEM;
    }
    w->index = n->last_prop_index;
    w->term = n->term;
    w->call = call;
    w->reply = reply;
    w->ud = ud;
    if (n->w_tail)
        n->w_tail->next = w;
    else
        n->w_head = w;
    n->w_tail = w;
    return 0;
}

static void waiters_apply(struct pdd_node *n, uint64_t index, uint64_t term,
                          int rc)
{
    while (n->w_head && n->w_head->index <= index) {
        struct waiter *w = n->w_head;
        n->w_head = w->next;
        if (!n->w_head)
            n->w_tail = NULL;
        if (w->index == index && w->term == term)
            w->reply(w->call, rc, w->ud);
        else
            fail_not_leader(n, w->call);
        free(w->ud);
        free(w);
    }
}

static void waiters_fail(struct pdd_node *n)
{
    while (n->w_head) {
        struct waiter *w = n->w_head;
        n->w_head = w->next;
        fail_not_leader(n, w->call);
        free(w->ud);
        free(w);
    }
    n->w_tail = NULL;
}

/* ---- TSO batching ---------------------------------------------------------
 * Requests queue up; one read index (lease: answered locally while the
 * lease holds) confirms leadership after they arrived, then one
 * pd_tso_get covers the whole batch. Requests arriving meanwhile form the
 * next batch. */

static void tso_list_fail(struct pdd_node *n, struct tso_req *r)
{
    while (r) {
        struct tso_req *next = r->next;
        if (r->st) {
            char msg[256];
            pdd_node_not_leader_msg(n, msg, sizeof(msg));
            pdd_tso_stream_answer(r->st, PD_ENOTLEADER, 0, r->count, msg);
        } else {
            fail_not_leader(n, r->call);
        }
        free(r);
        r = next;
    }
}

static void tso_fail_all(struct pdd_node *n)
{
    tso_list_fail(n, n->batch);
    n->batch = NULL;
    tso_list_fail(n, n->tso_head);
    n->tso_head = n->tso_tail = NULL;
    n->batch_active = n->batch_confirmed = false;
}

/* Puts the batch back at the front of the queue. */
static void tso_requeue(struct pdd_node *n)
{
    if (n->batch) {
        struct tso_req *last = n->batch;
        while (last->next)
            last = last->next;
        last->next = n->tso_head;
        if (!n->tso_head)
            n->tso_tail = last;
        n->tso_head = n->batch;
        n->batch = NULL;
    }
    n->batch_active = n->batch_confirmed = false;
}

static void tso_enqueue(struct pdd_node *n, struct rpc_call *call,
                        struct pdd_tso_stream *st, uint32_t count);

void pdd_node_tso(struct pdd_node *n, struct rpc_call *call, uint32_t count)
{
    tso_enqueue(n, call, NULL, count);
}

void pdd_node_tso_stream(struct pdd_node *n, struct pdd_tso_stream *st,
                         uint32_t count)
{
    st->pending++;
    tso_enqueue(n, NULL, st, count);
}

static void tso_enqueue(struct pdd_node *n, struct rpc_call *call,
                        struct pdd_tso_stream *st, uint32_t count)
{
    struct tso_req *r = calloc(1, sizeof(*r));
    if (!r) {
        if (st)
            pdd_tso_stream_answer(st, -ENOMEM, 0, count, "out of memory");
        else
            rpc_call_fail(call, -ENOMEM, "out of memory");
        return;
    }
    r->call = call;
    r->st = st;
    r->count = count;
    n->cnt.tso_requests++;
    if (n->tso_tail)
        n->tso_tail->next = r;
    else
        n->tso_head = r;
    n->tso_tail = r;
    pdd_node_kick(n);
}

static void tso_start_batch(struct pdd_node *n)
{
    if (n->batch_active || !n->tso_head || !serving(n))
        return;
    if (n->tso_blocked && n->applied == n->tso_blocked_at)
        return; /* the save it waits for has not applied yet */
    n->tso_blocked = false;
    n->batch = n->tso_head;
    n->tso_head = n->tso_tail = NULL;
    n->batch_ctx = n->opts.self_id << 48 | (++n->read_seq & 0xffffffffffffu);
    n->batch_started_ms = pdd_mono_ms();
    int rc = raft_node_read_index(n->raft, n->batch_ctx);
    if (rc != 0) {
        tso_list_fail(n, n->batch);
        n->batch = NULL;
        return;
    }
    n->batch_active = true;
    n->batch_confirmed = false;
}

/* Serves the confirmed batch, a run of requests per pd_tso_get. */
static void tso_serve(struct pdd_node *n)
{
    if (!n->batch_active || !n->batch_confirmed || n->applied < n->batch_index)
        return;
    if (pdd_mono_ms() - n->batch_confirmed_ms > (uint64_t)n->opts.tick_ms) {
        /* Confirmed too long ago (the process stalled): confirm again. */
        tso_requeue(n);
        return;
    }
    uint64_t wall = pdd_wall_ms(n);
    while (n->batch) {
        uint64_t total = 0;
        struct tso_req *end = n->batch;
        while (end && total + end->count <= PD_TS_LOGICAL_LIMIT) {
            total += end->count;
            end = end->next;
        }
        pd_ts first = 0;
        int rc = pd_tso_get(n->pd, wall, (uint32_t)total, &first);
        if (rc == 0) {
            n->cnt.tso_batches++;
            n->cnt.timestamps += total;
        }
        if (rc == PD_ENOTREADY) {
            /* A save is in flight: confirm leadership again after it. */
            tso_requeue(n);
            n->tso_blocked = true;
            n->tso_blocked_at = n->applied;
            return;
        }
        while (n->batch != end) {
            struct tso_req *r = n->batch;
            n->batch = r->next;
            if (r->st) {
                pdd_tso_stream_answer(r->st, rc, first, r->count,
                                      rc ? pd_errmsg(n->pd) : NULL);
                first += r->count;
            } else if (rc == 0) {
                pd_TsoResponse out = {.first = first, .count = r->count};
                first += r->count;
                rpc_call_reply(r->call, &out);
            } else {
                rpc_call_fail(r->call, rc, pd_errmsg(n->pd));
            }
            free(r);
        }
    }
    n->batch_active = n->batch_confirmed = false;
}

/* ---- transport ------------------------------------------------------------ */

static void self_removed(struct pdd_node *n);

/* A member removed while it was cut off (or that handed over leadership
 * and was removed by the next leader) never receives the entry that
 * removes it. The others refuse its messages as a non-member's (-EPERM):
 * once half of the other members it knows do, it is out of the group. */
static void check_refused(struct pdd_node *n)
{
    size_t others = 0, refusing = 0;
    for (size_t j = 0; j < PDD_MAX_MEMBERS; j++)
        if (n->peers[j].id) {
            others++;
            refusing += n->peers[j].refuses_us;
        }
    /* Half of the others: in a group of two, the one other member. A
     * member that merely lags (has not applied our MEMBER_PUT yet) is
     * one of several and never half on its own. */
    if (refusing > 0 && refusing * 2 >= others)
        self_removed(n);
}

static void sent(int rc, const void *resp, const char *errmsg, void *ud)
{
    (void)resp;
    (void)errmsg;
    struct send_tag *t = ud;
    struct pdd_node *n = t->peer->node;
    t->peer->refuses_us = rc == -EPERM;
    if (rc == -EPERM && n->raft)
        check_refused(n);
    if (rc != 0 && n->raft) {
        raft_node_report_unreachable(n->raft, t->peer->id);
        if (t->snapshot)
            raft_node_report_snapshot(n->raft, t->peer->id, false);
        pdd_node_kick(n);
    }
    free(t);
}

static void send_msgs(struct pdd_node *n, const struct raft_message *ms,
                      size_t count)
{
    for (size_t i = 0; i < count; i++) {
        const struct raft_message *m = &ms[i];
        struct peer *p = NULL;
        for (size_t j = 0; j < PDD_MAX_MEMBERS; j++)
            if (n->peers[j].id == m->to && n->peers[j].cli)
                p = &n->peers[j];
        if (!p)
            continue;
        size_t need = raft_msg_encoded_size(m), len = 0;
        if (need > n->sendcap) {
            uint8_t *b = realloc(n->sendbuf, need);
            if (!b)
                continue; /* Raft tolerates a lost message */
            n->sendbuf = b;
            n->sendcap = need;
        }
        if (raft_msg_encode(m, n->sendbuf, n->sendcap, &len) != 0)
            continue;
        struct send_tag *t = malloc(sizeof(*t));
        if (!t)
            continue;
        t->peer = p;
        t->snapshot = m->type == RAFT_MSG_SNAPSHOT;
        pd_RaftRequest req = {.from = n->opts.self_id, .to = m->to,
                              .msg = {.data = n->sendbuf, .len = len}};
        struct rpc_call_spec cs = {
            .method = PD_METHOD_RAFT,
            .req_fields = pd_RaftRequest_fields,
            .req = &req,
            .resp_fields = pd_RaftResponse_fields,
            .resp_size = sizeof(pd_RaftResponse),
            .deadline_ms = t->snapshot ? 30000 : 5000,
            .done = sent,
            .ud = t,
        };
        if (rpc_client_call(p->cli, &cs, NULL) != 0) {
            free(t);
            raft_node_report_unreachable(n->raft, m->to);
        }
    }
}

int pdd_node_transfer_leader(struct pdd_node *n, uint64_t id)
{
    if (!member(n, id))
        return -EINVAL;
    int rc = raft_node_transfer_leader(n->raft, id);
    if (rc == 0) {
        dmn_info("handing leadership to member %llu", (unsigned long long)id);
        pdd_node_kick(n);
    }
    return rc;
}

int pdd_node_step(struct pdd_node *n, const uint8_t *msg, size_t len)
{
    struct raft_message *m = NULL;
    int rc = raft_msg_decode(msg, len, &m);
    if (rc != 0)
        return rc;
    if (m->to != n->opts.self_id) {
        raft_msg_free(m);
        return -EINVAL;
    }
    if (!contact(n, m->from)) {
        raft_msg_free(m);
        return -EPERM; /* the sender learns it is out (check_refused) */
    }
    rc = raft_node_step(n->raft, m);
    raft_msg_free(m);
    pdd_node_kick(n);
    /* Refused forwarded proposals are informational only. */
    return rc == RAFT_EINVAL || rc == -ENOMEM ? rc : 0;
}

/* ---- membership (libpd/DESIGN.md "pdd: membership") ---------------------- */

/* One connection per other member in the table, to its peer address:
 * made for new members, remade when an address changed, closed for
 * members that left. */
static void peers_sync(struct pdd_node *n)
{
    for (size_t j = 0; j < PDD_MAX_MEMBERS; j++) {
        struct peer *p = &n->peers[j];
        if (p->id == 0)
            continue;
        const struct pdd_member *m = contact(n, p->id);
        if (m && strcmp(m->peer, p->addr) == 0)
            continue;
        /* Sends in flight fail inside destroy, p->id still set. */
        rpc_client_destroy(p->cli);
        p->cli = NULL;
        p->id = 0;
    }
    for (size_t i = 0; i < n->mt.n + n->contacts.n; i++) {
        const struct pdd_member *m = i < n->mt.n
                                         ? &n->mt.m[i]
                                         : &n->contacts.m[i - n->mt.n];
        if (m->id == n->opts.self_id || contact(n, m->id) != m)
            continue;
        struct peer *p = NULL, *free_slot = NULL;
        for (size_t j = 0; j < PDD_MAX_MEMBERS; j++) {
            if (n->peers[j].id == m->id)
                p = &n->peers[j];
            else if (n->peers[j].id == 0 && !free_slot)
                free_slot = &n->peers[j];
        }
        if (p || !free_slot)
            continue;
        char host[256];
        uint16_t port;
        if (dmn_cfg_split_addr(m->peer, host, sizeof(host), &port) != 0) {
            dmn_warn("member %s: bad peer address '%s'", m->name, m->peer);
            continue;
        }
        struct rpc_client_options co = {
            .host = host,
            .port = port,
            .tls = n->opts.tls_client,
            .connect_timeout_ms = 1000,
            .max_in_flight = 4096,
            .log = dmn_rpc_log,
            .log_level = RPC_LOG_ERROR,
        };
        free_slot->node = n;
        if (rpc_client_create(n->base, &co, &free_slot->cli) != 0) {
            dmn_warn("member %s: cannot make a client", m->name);
            continue;
        }
        free_slot->id = m->id;
        snprintf(free_slot->addr, sizeof(free_slot->addr), "%s", m->peer);
    }
}

static const struct pdd_member *member_by_name(const struct pdd_node *n,
                                               const char *name)
{
    for (size_t i = 0; i < n->mt.n; i++)
        if (strcmp(n->mt.m[i].name, name) == 0)
            return &n->mt.m[i];
    return NULL;
}

/* Joining: once the replicated table lists us it has caught up with what
 * GetMembers said, and rules alone. */
static void contacts_check(struct pdd_node *n)
{
    if (n->contacts.n == 0 || !member(n, n->opts.self_id))
        return;
    n->contacts.n = 0;
    dmn_info("member table caught up (%zu members)", n->mt.n);
    peers_sync(n);
}

static void on_removed_stop(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct pdd_node *n = arg;
    dmn_info("stopping: this member is no longer in the group");
    event_base_loopexit(n->base, NULL);
}

/* A conf change took this member out: it stops after a few election
 * timeouts (time for a leader that removed itself to hand over, thesis
 * 4.2.2), and its data directory refuses to start again. */
static void self_removed(struct pdd_node *n)
{
    if (n->removed)
        return;
    n->removed = true;
    /* Remembered: a restart must not serve, whichever way we learned. */
    if (n->log && pdd_log_put_u64(n->log, "x", n->opts.self_id) != 0)
        dmn_warn("could not record the removal in the data directory");
    dmn_warn("this member (%s, id %llu) was removed from the group; it "
             "stops soon (start it again with an empty data-dir and --join "
             "to add it back)",
             n->opts.name ? n->opts.name : "?",
             (unsigned long long)n->opts.self_id);
    int64_t ms = 3 * (int64_t)n->opts.election_ticks * n->opts.tick_ms;
    struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000};
    event_base_once(n->base, -1, EV_TIMEOUT, on_removed_stop, n, &tv);
}

static void member_drop(struct pdd_node *n, uint64_t id)
{
    for (size_t i = 0; i < n->mt.n; i++)
        if (n->mt.m[i].id == id) {
            dmn_info("member %s (id %llu) left the group", n->mt.m[i].name,
                     (unsigned long long)id);
            memmove(&n->mt.m[i], &n->mt.m[i + 1],
                    (n->mt.n - i - 1) * sizeof(n->mt.m[0]));
            n->mt.n--;
            break;
        }
    if (id == n->opts.self_id)
        self_removed(n);
    peers_sync(n);
}

/* MEMBER_PUT / MEMBER_DEL at apply: the same outcome on every replica. */
static int member_cmd_apply(struct pdd_node *n, const uint8_t *d, size_t len)
{
    if (len >= 1 && d[0] == PDD_CMD_MEMBER_DEL) {
        uint64_t id = 0;
        for (size_t i = 1; i < len && i < 9; i++)
            id = id << 8 | d[i];
        if (len != 9 || !member(n, id))
            return -EINVAL;
        member_drop(n, id);
        return 0;
    }
    struct pdd_member m;
    if (pdd_member_put_decode(d, len, &m) != 0)
        return PD_EDECODE;
    const struct pdd_member *byname = member_by_name(n, m.name);
    struct pdd_member *old = (struct pdd_member *)member(n, m.id);
    if ((byname && byname != old) || (old && strcmp(old->name, m.name)))
        return -EEXIST;
    if (old) {
        *old = m;
    } else {
        if (m.id < n->mt.next_id || n->mt.n == PDD_MAX_MEMBERS)
            return -EINVAL;
        n->mt.m[n->mt.n++] = m;
        n->mt.next_id = m.id + 1;
        dmn_info("member %s (id %llu, peer %s, clients %s) recorded",
                 m.name, (unsigned long long)m.id, m.peer, m.address);
    }
    peers_sync(n);
    contacts_check(n);
    return 0;
}

bool pdd_node_is_learner(const struct pdd_node *n, uint64_t id)
{
    struct raft_status st;
    raft_node_status(n->raft, &st);
    for (size_t i = 0; i < st.conf.n_learners; i++)
        if (st.conf.learners[i] == id)
            return true;
    return false;
}

static int propose_conf(struct pdd_node *n, uint32_t type, uint64_t id)
{
    struct raft_conf_change cc = {.transition = RAFT_TRANSITION_AUTO,
                                  .n_changes = 1};
    cc.changes[0].type = type;
    cc.changes[0].id = id;
    raft_index idx = 0;
    int rc = raft_node_propose_conf_change(n->raft, &cc, &idx);
    if (rc == 0) {
        n->proposals++;
        n->last_prop_index = idx;
        pdd_node_kick(n);
    }
    return rc;
}

static int propose_bytes(struct pdd_node *n, const uint8_t *d, size_t len)
{
    return propose(n, d, len);
}

/* What propose's code says, for a client's message. */
static const char *propose_strerror(int rc)
{
    return rc == PD_ENOTREADY ? "not leading now, or the uncommitted log "
                                "is full: try again"
                              : raft_strerror(rc);
}

/* The leader promotes a learner once its log matches the commit index
 * (etcd's learner promotion): the new voter then never makes the group
 * wait for it to catch up. */
static void promote_learners(struct pdd_node *n)
{
    struct raft_status st;
    raft_node_status(n->raft, &st);
    if (st.conf.n_voters_outgoing > 0)
        return;
    for (size_t i = 0; i < st.conf.n_learners; i++) {
        raft_id l = st.conf.learners[i];
        for (size_t j = 0; j < st.n_peers; j++) {
            const struct raft_peer_status *p = &st.peers[j];
            if (p->id != l || !p->recent_active || p->match < st.commit)
                continue;
            if (propose_conf(n, RAFT_CHANGE_ADD_VOTER, l) == 0) {
                const struct pdd_member *m = member(n, l);
                dmn_info("promoting member %s (id %llu) to voter: caught "
                         "up at index %llu",
                         m ? m->name : "?", (unsigned long long)l,
                         (unsigned long long)p->match);
            }
            return;
        }
    }
}

/* AddMember's steps, each after the previous one's apply. */
struct add_step
{
    struct pdd_node *node;  /* the replica */
    struct pdd_member m;    /* the member being added */
};

static void add_done(struct rpc_call *call, int rc, void *ud)
{
    struct add_step *a = ud;
    if (rc != 0) {
        rpc_call_fail(call, rc, "add member: the learner change failed");
        return;
    }
    pd_Member out = {.id = a->m.id,
                     .name = a->m.name,
                     .address = a->m.address,
                     .peer_address = a->m.peer,
                     .learner = true};
    pd_AddMemberResponse resp = {.has_member = true, .member = out};
    rpc_call_reply(call, &resp);
}

static void add_recorded(struct rpc_call *call, int rc, void *ud)
{
    struct add_step *a = ud;
    struct pdd_node *n = a->node;
    char msg[256];
    if (rc != 0) {
        snprintf(msg, sizeof(msg), "add member %s: refused at apply (%s)",
                 a->m.name, rc == -EEXIST ? "name taken" : strerror(-rc));
        rpc_call_fail(call, rc, msg);
        return;
    }
    rc = propose_conf(n, RAFT_CHANGE_ADD_LEARNER, a->m.id);
    if (rc != 0) {
        snprintf(msg, sizeof(msg), "add member %s as a learner: %s",
                 a->m.name, raft_strerror(rc));
        rpc_call_fail(call, rc == RAFT_ECONFPENDING ? PD_ENOTREADY : rc, msg);
        return;
    }
    struct add_step *next = malloc(sizeof(*next));
    if (!next) {
        rpc_call_fail(call, -ENOMEM, "out of memory");
        return;
    }
    *next = *a;
    pdd_node_wait_apply(n, call, add_done, next);
}

static bool in_conf(const struct raft_conf_state *c, uint64_t id);

static bool addr_ok(const char *a)
{
    char host[256];
    uint16_t port;
    return a && *a && strlen(a) < 128 &&
           dmn_cfg_split_addr(a, host, sizeof(host), &port) == 0 && port;
}

void pdd_node_add_member(struct pdd_node *n, struct rpc_call *call,
                         const char *name, const char *peer,
                         const char *address)
{
    char msg[512];
    if (pdd_node_check_leader(n, call) != 0)
        return;
    if (!name || !*name || strlen(name) >= 64) {
        rpc_call_fail(call, -EINVAL, "add member: name must be 1..63 bytes");
        return;
    }
    if (!addr_ok(peer) || !addr_ok(address)) {
        snprintf(msg, sizeof(msg),
                 "add member %s: peer and client addresses must be "
                 "host:port (got '%s', '%s')",
                 name, peer ? peer : "", address ? address : "");
        rpc_call_fail(call, -EINVAL, msg);
        return;
    }
    const struct pdd_member *old = member_by_name(n, name);
    struct raft_status st;
    raft_node_status(n->raft, &st);
    if (old && strcmp(old->peer, peer) == 0 &&
        strcmp(old->address, address) == 0 && !in_conf(&st.conf, old->id)) {
        /* Recorded, but the learner change never happened (leadership
         * moved in between): do that step now. */
        struct add_step *a = calloc(1, sizeof(*a));
        if (!a) {
            rpc_call_fail(call, -ENOMEM, "out of memory");
            return;
        }
        a->node = n;
        a->m = *old;
        add_recorded(call, 0, a);
        free(a);
        return;
    }
    if (old && strcmp(old->peer, peer) == 0 &&
        strcmp(old->address, address) == 0) {
        /* Asked again (a joining pdd retrying): answer what is there. */
        pd_Member out = {.id = old->id,
                         .name = (char *)old->name,
                         .address = (char *)old->address,
                         .peer_address = (char *)old->peer,
                         .learner = pdd_node_is_learner(n, old->id)};
        pd_AddMemberResponse resp = {.has_member = true, .member = out};
        rpc_call_reply(call, &resp);
        return;
    }
    if (old) {
        snprintf(msg, sizeof(msg),
                 "add member %s: a member of that name exists (id %llu, "
                 "peer %s)",
                 name, (unsigned long long)old->id, old->peer);
        rpc_call_fail(call, -EEXIST, msg);
        return;
    }
    if (n->mt.n >= PDD_MAX_MEMBERS) {
        snprintf(msg, sizeof(msg), "add member %s: the group has %d "
                 "members, the most pdd supports", name, PDD_MAX_MEMBERS);
        rpc_call_fail(call, -ENOSPC, msg);
        return;
    }
    if (st.conf.n_learners > 0 || st.conf.n_voters_outgoing > 0) {
        snprintf(msg, sizeof(msg), "add member %s: another member is still "
                 "catching up (a learner); retry once it is a voter", name);
        rpc_call_fail(call, PD_ENOTREADY, msg);
        return;
    }
    struct add_step *a = calloc(1, sizeof(*a));
    if (!a) {
        rpc_call_fail(call, -ENOMEM, "out of memory");
        return;
    }
    a->node = n;
    a->m.id = n->mt.next_id;
    snprintf(a->m.name, sizeof(a->m.name), "%s", name);
    snprintf(a->m.peer, sizeof(a->m.peer), "%s", peer);
    snprintf(a->m.address, sizeof(a->m.address), "%s", address);
    uint8_t buf[PDD_MEMBER_MAX];
    size_t len = pdd_member_put_encode(&a->m, buf);
    int rc = propose_bytes(n, buf, len);
    if (rc != 0) {
        free(a);
        snprintf(msg, sizeof(msg), "add member %s: %s", name,
                 propose_strerror(rc));
        rpc_call_fail(call, rc, msg);
        return;
    }
    dmn_info("adding member %s (id %llu, peer %s)", a->m.name,
             (unsigned long long)a->m.id, a->m.peer);
    pdd_node_wait_apply(n, call, add_recorded, a);
}

static void remove_done(struct rpc_call *call, int rc, void *ud)
{
    (void)ud;
    if (rc != 0) {
        rpc_call_fail(call, rc, "remove member: refused at apply");
        return;
    }
    pd_RemoveMemberResponse out = {0};
    rpc_call_reply(call, &out);
}

static bool in_conf(const struct raft_conf_state *c, uint64_t id)
{
    for (size_t i = 0; i < c->n_voters; i++)
        if (c->voters[i] == id)
            return true;
    for (size_t i = 0; i < c->n_learners; i++)
        if (c->learners[i] == id)
            return true;
    return false;
}

void pdd_node_remove_member(struct pdd_node *n, struct rpc_call *call,
                            const char *name)
{
    char msg[512];
    if (pdd_node_check_leader(n, call) != 0)
        return;
    const struct pdd_member *m = name ? member_by_name(n, name) : NULL;
    if (!m) {
        snprintf(msg, sizeof(msg), "remove member: no member '%s'",
                 name ? name : "");
        rpc_call_fail(call, PD_ENOTFOUND, msg);
        return;
    }
    uint64_t id = m->id;
    struct raft_status st;
    raft_node_status(n->raft, &st);
    bool voter = false;
    for (size_t i = 0; i < st.conf.n_voters; i++)
        voter |= st.conf.voters[i] == id;
    if (voter && st.conf.n_voters == 1) {
        snprintf(msg, sizeof(msg), "remove member %s: it is the last voter",
                 name);
        rpc_call_fail(call, -EINVAL, msg);
        return;
    }
    if (id == n->opts.self_id) {
        /* Hand leadership to the most caught-up voter first (a leader
         * that removes itself works in Raft, but this is quicker and
         * never leaves the group leaderless); the client's retry reaches
         * the new leader, which removes this member. */
        raft_id best = 0;
        raft_index best_match = 0;
        for (size_t j = 0; j < st.n_peers; j++) {
            const struct raft_peer_status *p = &st.peers[j];
            bool v = false;
            for (size_t i = 0; i < st.conf.n_voters; i++)
                v |= st.conf.voters[i] == p->id;
            if (p->id != id && v && (!best || p->match > best_match)) {
                best = p->id;
                best_match = p->match;
            }
        }
        if (best)
            pdd_node_transfer_leader(n, best);
        snprintf(msg, sizeof(msg), "remove member %s: it leads; leadership "
                 "moves to member %llu first, retry", name,
                 (unsigned long long)best);
        rpc_call_fail(call, PD_ENOTREADY, msg);
        return;
    }
    int rc;
    if (in_conf(&st.conf, id)) {
        rc = propose_conf(n, RAFT_CHANGE_REMOVE, id);
    } else {
        /* Recorded but never made a member (its learner change failed). */
        uint8_t b[9] = {PDD_CMD_MEMBER_DEL};
        pdd_be64(b + 1, id);
        rc = propose_bytes(n, b, sizeof(b));
    }
    if (rc != 0) {
        snprintf(msg, sizeof(msg), "remove member %s: %s", name,
                 propose_strerror(rc));
        rpc_call_fail(call, rc == RAFT_ECONFPENDING ? PD_ENOTREADY : rc,
                      msg);
        return;
    }
    dmn_info("removing member %s (id %llu)", name, (unsigned long long)id);
    pdd_node_wait_apply(n, call, remove_done, NULL);
}

/* ---- the ready cycle ------------------------------------------------------ */

static void apply_entry(struct pdd_node *n, const struct raft_entry *e)
{
    int rc = 0;
    const uint8_t *d = e->data;
    if (e->type == RAFT_ENTRY_NORMAL && e->len > 0 &&
        (d[0] == PDD_CMD_MEMBER_PUT || d[0] == PDD_CMD_MEMBER_DEL)) {
        rc = member_cmd_apply(n, d, e->len);
        if (rc != 0)
            dmn_warn("member change at index %llu refused: %s",
                     (unsigned long long)e->index, strerror(-rc));
    } else if (e->type == RAFT_ENTRY_CONF_CHANGE) {
        /* libraft applies the change at advance; the table drops the
         * members it removes now (every replica, same entry). */
        struct raft_conf_change cc;
        if (raft_conf_change_decode(e->data, e->len, &cc) == 0)
            for (uint32_t i = 0; i < cc.n_changes; i++)
                if (cc.changes[i].type == RAFT_CHANGE_REMOVE)
                    member_drop(n, cc.changes[i].id);
    } else if (e->type == RAFT_ENTRY_NORMAL && e->len > 0) {
        rc = pd_apply(n->pd, e->data, e->len);
        if (rc == -ENOMEM)
            fatal("apply", "out of memory");
        if (rc == PD_EDECODE)
            dmn_warn("entry %llu does not decode: %s",
                     (unsigned long long)e->index, pd_errmsg(n->pd));
    }
    n->applied = e->index;
    n->applied_term = e->term;
    waiters_apply(n, e->index, e->term, rc);
}

/* A snapshot's data: the member table (if it has one), then libpd's. */
static int restore(struct pdd_node *n, const uint8_t *data, size_t len)
{
    struct pdd_members t;
    bool has = false;
    size_t used = 0;
    if (pdd_members_decode(data, len, &t, &has, &used) != 0)
        return PD_EDECODE;
    int rc = pd_restore(n->pd, len > used ? data + used : NULL, len - used);
    if (rc != 0)
        return rc;
    if (has) {
        bool was = member(n, n->opts.self_id) != NULL;
        n->mt = t;
        if (was && !member(n, n->opts.self_id) &&
            n->opts.self_id < t.next_id)
            self_removed(n);
        peers_sync(n);
        contacts_check(n);
    }
    return 0;
}

static void maybe_snapshot(struct pdd_node *n)
{
    if (n->applied < n->snap_index + n->opts.snapshot_entries)
        return;
    uint8_t *pdata = NULL, *msec = NULL, *data = NULL;
    size_t plen = 0, mlen = 0, len = 0;
    if (pd_snapshot(n->pd, &pdata, &plen) != 0) {
        dmn_warn("snapshot: %s", pd_errmsg(n->pd));
        return;
    }
    /* The member table first, then libpd's state (pdd.h). */
    if (pdd_members_encode(&n->mt, &msec, &mlen) != 0 ||
        !(data = malloc(mlen + plen + 1))) {
        free(msec);
        pd_free(pdata);
        dmn_warn("snapshot: out of memory");
        return;
    }
    memcpy(data, msec, mlen);
    if (plen)
        memcpy(data + mlen, pdata, plen);
    len = mlen + plen;
    free(msec);
    pd_free(pdata);
    struct raft_status st;
    raft_node_status(n->raft, &st);
    char err[256];
    int rc = pdd_log_snapshot_make(n->log, n->applied, &st.conf, data, len,
                                   n->opts.snapshot_entries / 2, err,
                                   sizeof(err));
    free(data);
    if (rc != 0)
        fatal("snapshot", err);
    dmn_info("snapshot at index %llu (%zu bytes)",
             (unsigned long long)n->applied, len);
    n->snap_index = n->applied;
    n->cnt.snapshots++;
}

static void leadership(struct pdd_node *n)
{
    struct raft_status st;
    raft_node_status(n->raft, &st);
    if (st.leader != n->leader || st.term != n->term)
        dmn_info("term %llu, leader %llu%s", (unsigned long long)st.term,
                 (unsigned long long)st.leader,
                 st.leader == n->opts.self_id ? " (this pdd)" : "");
    n->role = st.role;
    n->term = st.term;
    n->leader = st.leader;
    if (st.role != RAFT_LEADER && pd_is_leader(n->pd)) {
        pd_become_follower(n->pd);
        dmn_info("no longer the leader");
    }
    if (st.role != RAFT_LEADER) {
        waiters_fail(n);
        tso_fail_all(n);
    } else if (!pd_is_leader(n->pd) && n->applied_term == st.term) {
        /* Everything committed before our term has applied. */
        int rc = pd_become_leader(n->pd, pdd_wall_ms(n), pdd_mono_ms());
        if (rc != 0)
            dmn_warn("becoming leader: %s", pd_strerror(rc));
        else
            dmn_info("serving as leader in term %llu",
                     (unsigned long long)st.term);
        n->last_schedule_ms = pdd_mono_ms();
    }
}

/* Ticks follow the monotonic clock, not the count of timer callbacks: a
 * process that was stopped or starved (SIGSTOP, swapping, a VM pause)
 * catches up on every tick it missed before it serves anything, so its
 * leader lease and CheckQuorum see the real time that passed (a lease
 * counted in ticks that did not happen would outlive the real one). */
static void catch_up_ticks(struct pdd_node *n)
{
    uint64_t now = pdd_mono_ms(), tick = (uint64_t)n->opts.tick_ms;
    if (now - n->last_tick_ms < tick)
        return;
    uint64_t k = (now - n->last_tick_ms) / tick;
    n->last_tick_ms += k * tick;
    /* Three election timeouts expire the lease and let CheckQuorum act;
     * more would only queue heartbeats and campaigns nobody needs. */
    uint64_t cap = 3 * (uint64_t)n->opts.election_ticks;
    if (k > cap)
        k = cap;
    while (k-- > 0)
        raft_node_tick(n->raft);
}

static void process(struct pdd_node *n)
{
    if (n->in_process) {
        pdd_node_kick(n);
        return;
    }
    n->in_process = true;
    catch_up_ticks(n);
    char err[256];
    for (int round = 0; round < 64; round++) {
        tso_start_batch(n);
        if (!raft_node_has_ready(n->raft))
            break;
        struct raft_ready rd;
        int rc = raft_node_ready(n->raft, &rd);
        if (rc != 0) {
            dmn_warn("raft ready: %s", raft_strerror(rc));
            break;
        }
        send_msgs(n, rd.messages, rd.n_messages);
        if (pdd_log_persist(n->log, &rd, rd.must_sync, err, sizeof(err)))
            fatal("raft log", err);
        if (rd.must_sync)
            n->cnt.synced_writes++;
        n->cnt.messages_sent += rd.n_messages + rd.n_after;
        send_msgs(n, rd.after, rd.n_after);
        if (rd.snapshot) {
            rc = restore(n, rd.snapshot->data, (size_t)rd.snapshot->len);
            if (rc != 0)
                fatal("restore snapshot", pd_strerror(rc));
            n->applied = n->snap_index = rd.snapshot->meta.index;
            n->applied_term = rd.snapshot->meta.term;
            waiters_fail(n);
            dmn_info("restored a snapshot at index %llu",
                     (unsigned long long)n->applied);
        }
        for (size_t i = 0; i < rd.n_committed; i++)
            apply_entry(n, &rd.committed[i]);
        for (size_t i = 0; i < rd.n_reads; i++) {
            if (n->batch_active && rd.reads[i].context == n->batch_ctx) {
                n->batch_confirmed = true;
                n->batch_index = rd.reads[i].index;
                n->batch_confirmed_ms = pdd_mono_ms();
            }
        }
        if ((rc = raft_node_advance(n->raft, &rd)) != 0)
            fatal("raft advance", raft_strerror(rc));
        leadership(n);
        tso_serve(n);
        if (n->batch == NULL && n->tso_head == NULL)
            n->batch_active = false;
    }
    maybe_snapshot(n);
    n->in_process = false;
    if (raft_node_has_ready(n->raft))
        pdd_node_kick(n); /* more than a turn's worth: go on next turn */
}

static void on_kick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    process(arg);
}

/* TEST ONLY: a file holding a clock offset in ms, re-read every tick so a
 * test can step a running member's wall clock (DESIGN "pdd"). */
static void read_clock_offset(struct pdd_node *n)
{
    FILE *f = fopen(n->opts.clock_offset_file, "r");
    if (!f)
        return;
    long long v;
    if (fscanf(f, "%lld", &v) == 1 && v != n->opts.clock_offset_ms) {
        dmn_warn("TEST ONLY: wall clock offset now %lld ms", v);
        n->opts.clock_offset_ms = v;
    }
    fclose(f);
}

static uint64_t operators_ended(const struct pdd_node *n)
{
    struct pd_operator_stats st;
    pd_operator_stats(n->pd, &st);
    return st.succeeded + st.timed_out + st.canceled;
}

/* The wait before the next scheduling round: schedule-interval, or at
 * most PDD_SCHEDULE_BUSY_MS while scheduling makes progress (the last
 * round made operators, or one ended since): hinted, a round's operators
 * are done within about a second, and the next ones (leaders beyond
 * leader-schedule-limit, replicas beyond store-limit) start then instead
 * of a whole interval later. PD shortens its interval the same way while
 * its schedulers find work. */
static uint64_t schedule_interval(const struct pdd_node *n)
{
    uint64_t ms = (uint64_t)n->opts.schedule_ms;
    if ((n->sched_made > 0 || operators_ended(n) != n->sched_ended) &&
        ms > PDD_SCHEDULE_BUSY_MS)
        ms = PDD_SCHEDULE_BUSY_MS;
    return ms;
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct pdd_node *n = arg;
    if (n->opts.clock_offset_file)
        read_clock_offset(n);
    catch_up_ticks(n);
    uint64_t now = pdd_mono_ms();
    if (n->batch_active && now - n->batch_started_ms > 3000) {
        /* The read was lost (messages dropped): ask again. */
        tso_requeue(n);
    }
    if (serving(n)) {
        promote_learners(n);
        pd_tso_tick(n->pd, pdd_wall_ms(n));
        if (now - n->last_ops_tick_ms >= 1000) {
            pd_operators_tick(n->pd, now);
            n->last_ops_tick_ms = now;
        }
        if (n->opts.schedule_ms > 0 &&
            now - n->last_schedule_ms >= schedule_interval(n)) {
            struct pd_operator ops[16];
            size_t k = 0;
            int rc = pd_schedule(n->pd, now, ops, 16, &k);
            if (rc != 0 && rc != PD_ENOOP && rc != PD_ENOTREADY)
                dmn_warn("schedule: %s", pd_strerror(rc));
            for (size_t i = 0; i < k; i++) /* their stores ask at once */
                pdd_hint_region(n, ops[i].region_id);
            n->last_schedule_ms = now;
            n->sched_made = k;
            n->sched_ended = operators_ended(n);
        }
    }
    process(n);
}

/* ---- start and stop --------------------------------------------------------- */

/* Joining a running group (--join, empty data dir): ask it for the
 * member list; unless this member's name is already there (added by
 * `pdctl member add`, or an earlier attempt), ask the leader to add it
 * with our listen address for both peers and clients; then take the list
 * again, now with us in it. Blocking: runs before the loop. */
static int join_group(struct pdd_node *n, const struct pdd_options *o,
                      bool fresh)
{
    const char *eps[16];
    size_t k = 0;
    for (; o->join[k] && k < 16; k++)
        eps[k] = o->join[k];
    struct pd_client_options co = {.endpoints = eps,
                                   .n_endpoints = k,
                                   .timeout_ms = 30000,
                                   .tls = o->tls_client};
    struct pd_client *cli = NULL;
    char err[256] = "";
    int rc = pd_client_create(&co, &cli, err, sizeof(err));
    if (rc != 0) {
        dmn_error("join: cannot reach the group at %s: %s", o->join[0], err);
        return rc;
    }
    pd_GetMembersRequest gq = {0};
    pd_GetMembersResponse gr;
    for (int round = 0; round < 2; round++) {
        memset(&gr, 0, sizeof(gr));
        rc = pd_client_call(cli, PD_METHOD_GET_MEMBERS,
                            pd_GetMembersRequest_fields, &gq,
                            pd_GetMembersResponse_fields, &gr, sizeof(gr),
                            err, sizeof(err));
        if (rc != 0) {
            dmn_error("join: GetMembers: %s", err);
            break;
        }
        uint64_t self = 0;
        for (pb_size_t i = 0; i < gr.members_count; i++) {
            const pd_Member *pm = &gr.members[i];
            if (!pm->name || strcmp(pm->name, o->name) != 0)
                continue;
            self = pm->id;
            if (pm->peer_address && strcmp(pm->peer_address, o->listen))
                dmn_warn("join: the group reaches %s at %s, and this pdd "
                         "listens on %s: make sure that address leads here",
                         o->name, pm->peer_address, o->listen);
        }
        if (self || round == 1) {
            if (!self) {
                dmn_error("join: the group lists no member '%s'", o->name);
                rc = -EINVAL;
                break;
            }
            if (fresh)
                n->opts.self_id = self;
            else if (self != n->opts.self_id) {
                dmn_error("join: the group lists '%s' as member %llu, not "
                          "this data directory's %llu",
                          o->name, (unsigned long long)self,
                          (unsigned long long)n->opts.self_id);
                rc = -EINVAL;
                break;
            }
            struct pdd_members *t = &n->contacts;
            memset(t, 0, sizeof(*t));
            for (pb_size_t i = 0; i < gr.members_count &&
                                  t->n < PDD_MAX_MEMBERS; i++) {
                const pd_Member *pm = &gr.members[i];
                struct pdd_member *m = &t->m[t->n++];
                m->id = pm->id;
                snprintf(m->name, sizeof(m->name), "%s",
                         pm->name ? pm->name : "");
                snprintf(m->address, sizeof(m->address), "%s",
                         pm->address ? pm->address : "");
                snprintf(m->peer, sizeof(m->peer), "%s",
                         pm->peer_address ? pm->peer_address
                                          : m->address);
                if (m->id >= t->next_id)
                    t->next_id = m->id + 1;
            }
            if (fresh)
                n->mt = *t;
            dmn_info("join: member %s is id %llu of %zu", o->name,
                     (unsigned long long)self, t->n);
            break;
        }
        if (!fresh) {
            dmn_error("join: the group lists no member '%s'", o->name);
            rc = -EINVAL;
            break;
        }
        pd_client_release(pd_GetMembersResponse_fields, &gr);
        pd_AddMemberRequest aq = {.name = (char *)o->name,
                                  .peer_address = (char *)o->listen,
                                  .client_address = (char *)o->listen};
        pd_AddMemberResponse ar;
        memset(&ar, 0, sizeof(ar));
        rc = pd_client_call(cli, PD_METHOD_ADD_MEMBER,
                            pd_AddMemberRequest_fields, &aq,
                            pd_AddMemberResponse_fields, &ar, sizeof(ar),
                            err, sizeof(err));
        if (rc != 0) {
            dmn_error("join: AddMember: %s", err);
            break;
        }
        pd_client_release(pd_AddMemberResponse_fields, &ar);
    }
    pd_client_release(pd_GetMembersResponse_fields, &gr);
    pd_client_destroy(cli);
    return rc;
}

/* The member table from initial-members (a new group, or a data dir made
 * before the table was kept). */
static void table_from_options(struct pdd_node *n, const struct pdd_options *o)
{
    memset(&n->mt, 0, sizeof(n->mt));
    for (size_t i = 0; i < o->n_members; i++) {
        struct pdd_member *m = &n->mt.m[n->mt.n++];
        *m = o->members[i];
        if (!m->peer[0])
            memcpy(m->peer, m->address, sizeof(m->peer));
        if (m->id >= n->mt.next_id)
            n->mt.next_id = m->id + 1;
    }
}

int pdd_node_start(struct event_base *base, struct rpc_server *srv,
                   const struct pdd_options *opts, struct pdd_node **out)
{
    (void)srv;
    struct pdd_node *n = calloc(1, sizeof(*n));
    char err[512], dir[4096];
    uint8_t *msec = NULL;
    size_t mlen = 0;
    if (!n)
        return -ENOMEM;
    n->base = base;
    n->opts = *opts;
    n->opts.data_dir = NULL;
    n->opts.join = NULL;
    bool joining = opts->join && opts->join[0];
    uint64_t voters[PDD_MAX_MEMBERS];
    for (size_t i = 0; i < opts->n_members; i++)
        voters[i] = opts->members[i].id;
    table_from_options(n, opts);
    int rc = -ENOMEM;
    if (pdd_members_encode(&n->mt, &msec, &mlen) != 0)
        goto err_free;
    snprintf(dir, sizeof(dir), "%s/raft", opts->data_dir);
    bool fresh = false;
    rc = pdd_log_open(dir, voters, joining ? 0 : opts->n_members, msec, mlen,
                      &fresh, &n->log, err, sizeof(err));
    free(msec);
    if (rc != 0) {
        dmn_error("%s", err);
        goto err_free;
    }
    struct raft_storage *rs = pdd_log_storage(n->log);
    struct raft_hard_state hs0;
    struct raft_conf_state cs0;
    if ((rc = rs->ops->initial_state(rs, &hs0, &cs0)) != 0) {
        dmn_error("raft log: %s", raft_strerror(rc));
        goto err_free;
    }
    uint64_t v = 0;
    if (fresh && joining) {
        if ((rc = join_group(n, opts, true)) != 0)
            goto err_free;
    } else if (fresh) {
        rc = pdd_log_put_u64(n->log, "i", opts->n_members);
        if (rc == 0)
            rc = pdd_log_put_u64(n->log, "m", opts->self_id);
        if (rc != 0) {
            dmn_error("cannot write the raft log: %d", rc);
            goto err_free;
        }
    } else {
        /* initial-members fixed the group's first voters when the data
         * directory was created; the replicated member table (snapshot,
         * then the log) rules since. A different list now is a mistake. */
        uint64_t created = cs0.n_voters;
        if (pdd_log_get_u64(n->log, "i", &v) == 0)
            created = v;
        if (opts->members_given && created != opts->n_members) {
            dmn_error("initial-members lists %zu members, but %s was "
                      "created for a group of %u: start with the list it "
                      "was created with",
                      opts->n_members, dir, (unsigned)created);
            rc = -EINVAL;
            goto err_free;
        }
        if (pdd_log_get_u64(n->log, "m", &v) == 0)
            n->opts.self_id = v;
    }
    if (fresh && joining && (rc = pdd_log_put_u64(n->log, "m",
                                                  n->opts.self_id)) != 0) {
        dmn_error("cannot write the raft log: %d", rc);
        goto err_free;
    }
    struct pd_config pc;
    pd_config_default(&pc);
    pc.logger = pd_log;
    pc.log_level = dmn_log_enabled(DMN_LOG_DEBUG) ? PD_LOG_DEBUG : PD_LOG_INFO;
    struct pd_storage ps = {.ctx = n, .propose = propose};
    if ((rc = pd_create(&pc, &ps, &n->pd)) != 0) {
        dmn_error("pd: %s", pd_strerror(rc));
        goto err_free;
    }
    const uint8_t *sd;
    size_t sl;
    raft_index si;
    pdd_log_snapshot(n->log, &sd, &sl, &si);
    if (sl > 0 && (rc = restore(n, sd, sl)) != 0) {
        dmn_error("cannot restore the snapshot at index %llu: %s",
                  (unsigned long long)si, pd_errmsg(n->pd));
        goto err_free;
    }
    if (!fresh && joining && !member(n, n->opts.self_id) && !n->removed &&
        join_group(n, opts, false) != 0)
        dmn_warn("join: no fresh member list; going on with the data "
                 "directory's");
    if (pdd_log_get_u64(n->log, "x", &v) == 0 && v == n->opts.self_id)
        n->removed = true;
    if (n->removed) {
        dmn_error("this member (id %llu) was removed from the group: start "
                  "it with an empty data-dir and --join to add it back",
                  (unsigned long long)n->opts.self_id);
        rc = -EINVAL;
        goto err_free;
    }
    n->applied = n->snap_index = si;
    uint64_t seed = 0;
    if (getrandom(&seed, sizeof(seed), 0) != (ssize_t)sizeof(seed))
        seed = pdd_mono_ms() ^ n->opts.self_id;
    struct raft_config rc_cfg = {
        .id = n->opts.self_id,
        .storage = pdd_log_storage(n->log),
        .applied = si,
        .election_tick = opts->election_ticks,
        .heartbeat_tick = 1,
        .seed = seed,
        .pre_vote = true,
        .check_quorum = true,
        /* libpd proposes only as leader; a proposal made just after a
         * step-down must fail here, not reach the new leader's log. */
        .disable_proposal_forwarding = true,
        .read_only = RAFT_READ_LEASE,
        .logger = raft_log,
        .log_level = dmn_log_enabled(DMN_LOG_DEBUG) ? RAFT_LOG_DEBUG
                                                    : RAFT_LOG_INFO,
    };
    if ((rc = raft_node_create(&rc_cfg, &n->raft)) != 0) {
        dmn_error("raft: %s", raft_strerror(rc));
        goto err_free;
    }
    peers_sync(n);
    n->last_tick_ms = pdd_mono_ms();
    n->kick_ev = event_new(base, -1, 0, on_kick, n);
    n->tick_ev = event_new(base, -1, EV_PERSIST, on_tick, n);
    struct timeval tv = {opts->tick_ms / 1000,
                         (suseconds_t)(opts->tick_ms % 1000) * 1000};
    if (!n->kick_ev || !n->tick_ev || event_add(n->tick_ev, &tv) != 0) {
        rc = -ENOMEM;
        goto err_free;
    }
    dmn_info("member %s (id %llu) of %zu, log from index %llu%s",
             opts->name, (unsigned long long)n->opts.self_id, n->mt.n,
             (unsigned long long)si, fresh && joining ? " (joined)" : "");
    *out = n;
    return 0;

err_free:
    pdd_node_stop(n);
    return rc ? rc : -EINVAL;
}

void pdd_node_stop(struct pdd_node *n)
{
    if (!n)
        return;
    if (n->tick_ev)
        event_free(n->tick_ev);
    if (n->kick_ev)
        event_free(n->kick_ev);
    n->tick_ev = n->kick_ev = NULL;
    /* Pending sends complete (ECLOSED) inside destroy, node still alive. */
    for (size_t i = 0; i < PDD_MAX_MEMBERS; i++) {
        rpc_client_destroy(n->peers[i].cli);
        n->peers[i].cli = NULL;
        n->peers[i].id = 0;
    }
    if (n->pd)
        waiters_fail(n), tso_fail_all(n);
    raft_node_destroy(n->raft);
    n->raft = NULL;
    pd_destroy(n->pd);
    pdd_log_close(n->log);
    free(n->sendbuf);
    free(n);
}
