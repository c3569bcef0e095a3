/* main.c: pdctl, the placement driver's command line: members, TSO,
 * stores, regions, operators, schedulers and config, through libpd's
 * client (which finds and follows the leader). `pdctl help` lists the
 * commands; libpd/DESIGN.md "pdctl" documents them.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <pd.h>
#include <pd.pb.h>

#include "cluster_tls.h"

static const char usage[] =
    "usage: pdctl [--pd=host:port,...] [--timeout=ms] [--cluster-id=N]\n"
    "             [--cluster-ssl-ca=F --cluster-ssl-cert=F "
    "--cluster-ssl-key=F] COMMAND\n"
    "  member                          members and the leader\n"
    "  member transfer NAME|ID         hand pdd leadership to a member\n"
    "  member add NAME PEER CLIENT     add a pdd (host:port for the other\n"
    "                                  members, and for clients); start it\n"
    "                                  with --join (libpd DESIGN, pdd:\n"
    "                                  membership)\n"
    "  member remove NAME              take a pdd out of the group\n"
    "  tso [count]                     timestamps (prints the first)\n"
    "  id [count]                      allocate ids (prints the first)\n"
    "  cluster                         bootstrapped? cluster id\n"
    "  store [id]                      all stores, or one\n"
    "  store delete ID                 set a store offline\n"
    "  store state ID up|offline|tombstone\n"
    "  region [list [limit]]           regions in key order\n"
    "  region ID                       one region by id\n"
    "  region key KEY                  the region holding KEY\n"
    "  region key-hex HEX              the same, the key in hex\n"
    "  region ask-split ID             ids for a split of region ID\n"
    "  operator show [REGION]          running operators\n"
    "  operator add transfer-leader REGION STORE\n"
    "  operator add add-peer REGION STORE\n"
    "  operator add remove-peer REGION STORE\n"
    "  operator add split REGION\n"
    "  operator remove REGION\n"
    "  scheduler list                  checkers and schedulers\n"
    "  config show                     the scheduling config\n"
    "  config set KEY VALUE            e.g. max-replicas 5\n"
    "  gc [safe-point]                 show, or move, the GC safe point\n"
    "  service-gc ID TTL_MS SAFE_POINT set a service safe point\n"
    "test and bootstrap helpers (what kvd sends):\n"
    "  bootstrap CLUSTER STORE ADDR REGION PEER\n"
    "  tso-stream SECONDS [STOPFILE]   one client, a timestamp every 5 ms\n"
    "  store put ID ADDR [X.Y.Z [X.Y.Z]] [key=value...]\n"
    "                                  X.Y.Z: the libmvcc, then libregion, it "
    "runs\n"
    "  store heartbeat ID [capacity available]\n"
    "  region heartbeat ID START END CONF_VER VERSION LEADER_PEER "
    "PEER@STORE...\n";

static struct pd_client *cli;
static uint64_t cluster_id;
static char err[512];

static int failed(const char *what, int rc)
{
    fprintf(stderr, "pdctl: %s: %s (%d)\n", what, err[0] ? err :
            pd_strerror(rc), rc);
    return 1;
}

static int parse_u64(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 0);
    if (errno || *end || !*s || s[0] == '-')
        return -1;
    *out = v;
    return 0;
}

static uint64_t need_u64(const char *s, const char *what)
{
    uint64_t v;
    if (!s || parse_u64(s, &v) != 0) {
        fprintf(stderr, "pdctl: %s: expected a number, got '%s'\n", what,
                s ? s : "");
        exit(2);
    }
    return v;
}

#define CALL(m, reqt, req, respt, resp)                                     \
    pd_client_call(cli, m, pd_##reqt##_fields, &(req), pd_##respt##_fields, \
                   &(resp), sizeof(resp), err, sizeof(err))

static void print_bytes(const pb_bytes_array_t *b)
{
    if (!b || b->size == 0) {
        printf("\"\"");
        return;
    }
    putchar('"');
    for (pb_size_t i = 0; i < b->size; i++) {
        unsigned char ch = b->bytes[i];
        if (ch >= 0x20 && ch < 0x7f && ch != '"' && ch != '\\')
            putchar(ch);
        else
            printf("\\x%02x", ch);
    }
    putchar('"');
}

static const char *store_state(uint32_t s)
{
    static const char *names[] = {"up", "offline", "tombstone", "down"};
    return s < 4 ? names[s] : "?";
}

/* A version number as MVCC_VERSION_NUMBER: "0.10.0"; 0 is "unknown". */
static void print_version(uint32_t v)
{
    char buf[32];
    fputs(pd_version_str(v, buf, sizeof buf), stdout);
}

static void print_store(const pd_StoreInfo *s)
{
    printf("store %" PRIu64 " address %s state %s", s->store.id,
           s->store.address ? s->store.address : "", store_state(s->state));
    for (pb_size_t i = 0; i < s->store.labels_count; i++)
        printf(" %s=%s", s->store.labels[i].key,
               s->store.labels[i].value ? s->store.labels[i].value : "");
    printf(" regions %u leaders %u size %" PRIu64 "", s->map_regions,
           s->map_leaders, s->map_size);
    if (s->has_heartbeat)
        printf(" capacity %" PRIu64 " available %" PRIu64, s->stats.capacity,
               s->stats.available);
    printf(" version ");
    print_version(s->store.version);
    printf(" libregion ");
    print_version(s->store.region_version);
    printf("\n");
}

static void print_region(const pd_RegionInfo *r)
{
    printf("region %" PRIu64 " start ", r->region.id);
    print_bytes(r->region.start_key);
    printf(" end ");
    print_bytes(r->region.end_key);
    printf(" conf_ver %" PRIu64 " version %" PRIu64 " leader %" PRIu64
           " size %" PRIu64 " keys %" PRIu64 " peers",
           r->region.conf_ver, r->region.version, r->leader_peer_id,
           r->approx_size, r->approx_keys);
    for (pb_size_t i = 0; i < r->region.peers_count; i++)
        printf(" %" PRIu64 "@%" PRIu64 "%s", r->region.peers[i].id,
               r->region.peers[i].store_id,
               r->region.peers[i].learner ? "(learner)" : "");
    printf("\n");
}

static const char *step_name(uint32_t k)
{
    static const char *names[] = {"none",        "add-peer",
                                  "add-learner", "promote-learner",
                                  "remove-peer", "transfer-leader",
                                  "split",       "merge"};
    return k < 8 ? names[k] : "?";
}

static void print_op(const pd_Operator *o)
{
    static const char *st[] = {"running", "success", "timeout", "canceled"};
    printf("operator region %" PRIu64 " desc %s status %s step %u/%u:",
           o->region_id, o->desc ? o->desc : "", o->status < 4 ?
           st[o->status] : "?", o->current, (unsigned)o->steps_count);
    for (pb_size_t i = 0; i < o->steps_count; i++)
        printf(" %s(store %" PRIu64 ", peer %" PRIu64 ", target %" PRIu64 ")",
               step_name(o->steps[i].kind), o->steps[i].store_id,
               o->steps[i].peer_id, o->steps[i].target_region_id);
    printf("\n");
}

static pb_bytes_array_t *mkbytes(const char *s)
{
    size_t n = strlen(s);
    if (n == 0)
        return NULL;
    pb_bytes_array_t *b = malloc(PB_BYTES_ARRAY_T_ALLOCSIZE(n));
    if (!b)
        exit(1);
    b->size = (pb_size_t)n;
    memcpy(b->bytes, s, n);
    return b;
}

/* Hex digits to bytes (keys are often binary); exits 2 when malformed. */
static pb_bytes_array_t *unhex(const char *s)
{
    size_t n = strlen(s);
    if (n % 2) {
        fprintf(stderr, "pdctl: key-hex: an even number of hex digits\n");
        exit(2);
    }
    if (n == 0)
        return NULL;
    pb_bytes_array_t *b = malloc(PB_BYTES_ARRAY_T_ALLOCSIZE(n / 2));
    if (!b)
        exit(1);
    b->size = (pb_size_t)(n / 2);
    for (size_t i = 0; i < n / 2; i++) {
        unsigned v;
        if (sscanf(s + 2 * i, "%2x", &v) != 1 || !isxdigit((unsigned char)s[2 * i]) ||
            !isxdigit((unsigned char)s[2 * i + 1])) {
            fprintf(stderr, "pdctl: key-hex: not hex: '%s'\n", s);
            exit(2);
        }
        b->bytes[i] = (pb_byte_t)v;
    }
    return b;
}

/* member transfer NAME|ID: hand pdd leadership to that member. */
static int cmd_member_transfer(const char *who)
{
    pd_GetMembersRequest mreq = {.cluster_id = cluster_id};
    pd_GetMembersResponse mresp;
    int rc = CALL(PD_METHOD_GET_MEMBERS, GetMembersRequest, mreq,
                  GetMembersResponse, mresp);
    if (rc)
        return failed("member transfer", rc);
    uint64_t id = 0;
    for (pb_size_t i = 0; i < mresp.members_count; i++)
        if (strcmp(mresp.members[i].name, who) == 0)
            id = mresp.members[i].id;
    pd_client_release(pd_GetMembersResponse_fields, &mresp);
    if (id == 0 && parse_u64(who, &id) != 0) {
        fprintf(stderr, "pdctl: member transfer: no member '%s'\n", who);
        return 2;
    }
    pd_TransferLeaderRequest req = {.cluster_id = cluster_id,
                                    .member_id = id};
    pd_TransferLeaderResponse resp;
    rc = CALL(PD_METHOD_TRANSFER_LEADER, TransferLeaderRequest, req,
              TransferLeaderResponse, resp);
    if (rc)
        return failed("member transfer", rc);
    printf("ok\n");
    return 0;
}

/* member add NAME PEER CLIENT: the leader records it and makes it a Raft
 * learner; it becomes a voter once the started pdd has caught up. */
static int cmd_member_add(char **av)
{
    pd_AddMemberRequest req = {.cluster_id = cluster_id,
                               .name = av[0],
                               .peer_address = av[1],
                               .client_address = av[2]};
    pd_AddMemberResponse resp;
    int rc = CALL(PD_METHOD_ADD_MEMBER, AddMemberRequest, req,
                  AddMemberResponse, resp);
    if (rc)
        return failed("member add", rc);
    printf("added member %" PRIu64 " name %s\n", resp.member.id,
           resp.member.name ? resp.member.name : "");
    pd_client_release(pd_AddMemberResponse_fields, &resp);
    return 0;
}

static int cmd_member_remove(char *name)
{
    pd_RemoveMemberRequest req = {.cluster_id = cluster_id, .name = name};
    pd_RemoveMemberResponse resp;
    int rc = CALL(PD_METHOD_REMOVE_MEMBER, RemoveMemberRequest, req,
                  RemoveMemberResponse, resp);
    if (rc)
        return failed("member remove", rc);
    printf("ok\n");
    return 0;
}

static int cmd_member(void)
{
    pd_GetMembersRequest req = {.cluster_id = cluster_id};
    pd_GetMembersResponse resp;
    int rc = CALL(PD_METHOD_GET_MEMBERS, GetMembersRequest, req,
                  GetMembersResponse, resp);
    if (rc)
        return failed("member", rc);
    for (pb_size_t i = 0; i < resp.members_count; i++)
        printf("member %" PRIu64 " name %s address %s%s%s\n",
               resp.members[i].id, resp.members[i].name,
               resp.members[i].address,
               resp.members[i].learner ? " learner" : "",
               resp.members[i].id == resp.leader_id ? " leader" : "");
    printf("leader %" PRIu64 " term %" PRIu64 " cluster %" PRIu64 "\n",
           resp.leader_id, resp.term, resp.cluster_id);
    pd_client_release(pd_GetMembersResponse_fields, &resp);
    return 0;
}

static int cmd_tso(int argc, char **argv)
{
    uint64_t count = argc > 0 ? need_u64(argv[0], "count") : 1;
    pd_TsoRequest req = {.cluster_id = cluster_id, .count = (uint32_t)count};
    pd_TsoResponse resp;
    if (count > UINT32_MAX)
        req.count = 0;
    int rc = CALL(PD_METHOD_TSO, TsoRequest, req, TsoResponse, resp);
    if (rc)
        return failed("tso", rc);
    printf("%" PRIu64 "\n", resp.first);
    return 0;
}

/* tso-stream SECONDS [STOPFILE]: one client asking for a timestamp every
 * few ms for SECONDS (or until STOPFILE exists), printing each: a test of
 * the client following the leader and the member list while they change.
 * Exit 1 at the first failed call. */
static int cmd_tso_stream(int argc, char **argv)
{
    if (argc < 1 || argc > 2) {
        fprintf(stderr, "pdctl: tso-stream SECONDS [STOPFILE]\n");
        return 2;
    }
    uint64_t secs = need_u64(argv[0], "seconds");
    struct timespec t0, now, nap = {0, 5 * 1000 * 1000};
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        clock_gettime(CLOCK_MONOTONIC, &now);
        int64_t ms = (int64_t)(now.tv_sec - t0.tv_sec) * 1000 +
                     (now.tv_nsec - t0.tv_nsec) / 1000000;
        if (ms >= (int64_t)(secs * 1000) ||
            (argc == 2 && access(argv[1], F_OK) == 0))
            return 0;
        pd_ts ts = 0;
        int rc = pd_client_tso(cli, 1, &ts, err, sizeof(err));
        if (rc)
            return failed("tso-stream", rc);
        printf("%" PRIu64 "\n", ts);
        fflush(stdout);
        nanosleep(&nap, NULL);
    }
}

static int cmd_id(int argc, char **argv)
{
    uint64_t count = argc > 0 ? need_u64(argv[0], "count") : 1;
    pd_AllocIDRequest req = {.cluster_id = cluster_id,
                             .count = (uint32_t)count};
    pd_AllocIDResponse resp;
    int rc = CALL(PD_METHOD_ALLOC_ID, AllocIDRequest, req, AllocIDResponse,
                  resp);
    if (rc)
        return failed("id", rc);
    printf("%" PRIu64 "\n", resp.first);
    return 0;
}

static int cmd_cluster(void)
{
    pd_IsBootstrappedRequest req = {.cluster_id = cluster_id};
    pd_IsBootstrappedResponse resp;
    int rc = CALL(PD_METHOD_IS_BOOTSTRAPPED, IsBootstrappedRequest, req,
                  IsBootstrappedResponse, resp);
    if (rc)
        return failed("cluster", rc);
    printf("bootstrapped %s cluster %" PRIu64 "\n",
           resp.bootstrapped ? "yes" : "no", resp.cluster_id);
    if (!resp.bootstrapped)
        return 0;
    pd_GetClusterVersionRequest vreq = {.cluster_id = resp.cluster_id};
    pd_GetClusterVersionResponse vresp;
    rc = CALL(PD_METHOD_GET_CLUSTER_VERSION, GetClusterVersionRequest, vreq,
              GetClusterVersionResponse, vresp);
    if (rc)
        return failed("cluster version", rc);
    printf("cluster version ");
    print_version(vresp.version);
    printf("\ncluster libregion version ");
    print_version(vresp.region_version);
    printf("\n");
    return 0;
}

static int set_state(uint64_t id, uint32_t state)
{
    pd_SetStoreStateRequest req = {.cluster_id = cluster_id, .store_id = id,
                                   .state = state};
    pd_SetStoreStateResponse resp;
    int rc = CALL(PD_METHOD_SET_STORE_STATE, SetStoreStateRequest, req,
                  SetStoreStateResponse, resp);
    if (rc)
        return failed("store state", rc);
    printf("ok\n");
    return 0;
}

static int cmd_store(int argc, char **argv)
{
    if (argc == 0) {
        pd_GetAllStoresRequest req = {.cluster_id = cluster_id};
        pd_GetAllStoresResponse resp;
        int rc = CALL(PD_METHOD_GET_ALL_STORES, GetAllStoresRequest, req,
                      GetAllStoresResponse, resp);
        if (rc)
            return failed("store", rc);
        for (pb_size_t i = 0; i < resp.stores_count; i++)
            print_store(&resp.stores[i]);
        pd_client_release(pd_GetAllStoresResponse_fields, &resp);
        return 0;
    }
    if (strcmp(argv[0], "delete") == 0 && argc == 2)
        return set_state(need_u64(argv[1], "store id"), PD_STORE_OFFLINE);
    if (strcmp(argv[0], "state") == 0 && argc == 3) {
        static const char *names[] = {"up", "offline", "tombstone"};
        for (uint32_t i = 0; i < 3; i++)
            if (strcmp(argv[2], names[i]) == 0)
                return set_state(need_u64(argv[1], "store id"), i);
        fprintf(stderr, "pdctl: state: up, offline or tombstone\n");
        return 2;
    }
    if (strcmp(argv[0], "put") == 0 && argc >= 3) {
        struct pd_store st;
        char *copies[PD_MAX_LABELS] = {0};
        memset(&st, 0, sizeof(st));
        st.id = need_u64(argv[1], "store id");
        st.address = argv[2];
        int rc = 0;
        int first = 3;
        /* A version has no '=' (a label always has one): libmvcc's, then
         * libregion's; without one the store registers none (0), which
         * pdd refuses once the cluster's is above 0 (libpd DESIGN "Store
         * versions"). */
        uint32_t *vers[] = {&st.version, &st.region_version};
        for (int v = 0; v < 2 && argc > first && !strchr(argv[first], '=');
             v++) {
            if (pd_version_parse(argv[first], vers[v]) != 0) {
                fprintf(stderr,
                        "pdctl: store put: '%s' is neither a "
                        "version X.Y.Z (each part 0-999, e.g. 0.11.0) nor a "
                        "label key=value\n",
                        argv[first]);
                return 2;
            }
            first++;
        }
        if (argc - first > PD_MAX_LABELS) {
            fprintf(stderr, "pdctl: at most %d labels\n", PD_MAX_LABELS);
            return 2;
        }
        for (int i = first; i < argc; i++) {
            char **copy = &copies[i - first];
            *copy = strdup(argv[i]);
            char *eq = *copy ? strchr(*copy, '=') : NULL;
            if (!eq) {
                fprintf(stderr, "pdctl: label: key=value\n");
                rc = 2;
                break;
            }
            *eq = '\0';
            st.labels[st.n_labels].key = *copy;
            st.labels[st.n_labels].value = eq + 1;
            st.n_labels++;
        }
        if (rc == 0) {
            rc = pd_client_put_store(cli, &st, err, sizeof(err));
            rc = rc ? failed("store put", rc) : (printf("ok\n"), 0);
        }
        for (int i = 0; i < PD_MAX_LABELS; i++)
            free(copies[i]);
        return rc;
    }
    if (strcmp(argv[0], "heartbeat") == 0 && argc >= 2) {
        struct pd_store_stats stats;
        memset(&stats, 0, sizeof(stats));
        stats.capacity = argc > 2 ? need_u64(argv[2], "capacity")
                                  : 100ull << 30;
        stats.available = argc > 3 ? need_u64(argv[3], "available")
                                   : 80ull << 30;
        int rc = pd_client_store_heartbeat(cli, need_u64(argv[1], "store id"),
                                           &stats, err, sizeof(err));
        if (rc)
            return failed("store heartbeat", rc);
        printf("ok\n");
        return 0;
    }
    if (argc != 1) {
        fputs(usage, stderr);
        return 2;
    }
    pd_GetStoreRequest req = {.cluster_id = cluster_id,
                              .store_id = need_u64(argv[0], "store id")};
    pd_GetStoreResponse resp;
    int rc = CALL(PD_METHOD_GET_STORE, GetStoreRequest, req, GetStoreResponse,
                  resp);
    if (rc)
        return failed("store", rc);
    print_store(&resp.store);
    pd_client_release(pd_GetStoreResponse_fields, &resp);
    return 0;
}

/* "PEER@STORE" */
static int parse_peer(const char *s, pd_Peer *p)
{
    const char *at = strchr(s, '@');
    if (!at)
        return -1;
    char id[32];
    if ((size_t)(at - s) >= sizeof(id))
        return -1;
    memcpy(id, s, (size_t)(at - s));
    id[at - s] = '\0';
    if (parse_u64(id, &p->id) || parse_u64(at + 1, &p->store_id))
        return -1;
    return 0;
}

static int cmd_region(int argc, char **argv)
{
    if (argc == 0 || strcmp(argv[0], "list") == 0) {
        pd_ScanRegionsRequest req = {
            .cluster_id = cluster_id,
            .limit = argc > 1 ? (uint32_t)need_u64(argv[1], "limit") : 0};
        pd_ScanRegionsResponse resp;
        int rc = CALL(PD_METHOD_SCAN_REGIONS, ScanRegionsRequest, req,
                      ScanRegionsResponse, resp);
        if (rc)
            return failed("region", rc);
        for (pb_size_t i = 0; i < resp.regions_count; i++)
            print_region(&resp.regions[i]);
        pd_client_release(pd_ScanRegionsResponse_fields, &resp);
        return 0;
    }
    pd_GetRegionResponse resp;
    int rc;
    if ((strcmp(argv[0], "key") == 0 || strcmp(argv[0], "key-hex") == 0) &&
        argc == 2) {
        pd_GetRegionRequest req = {.cluster_id = cluster_id,
                                   .key = argv[0][3] ? unhex(argv[1])
                                                     : mkbytes(argv[1])};
        rc = CALL(PD_METHOD_GET_REGION, GetRegionRequest, req,
                  GetRegionResponse, resp);
        free(req.key);
    } else if (strcmp(argv[0], "heartbeat") == 0 && argc >= 7) {
        struct pd_region_info ri;
        memset(&ri, 0, sizeof(ri));
        ri.region.id = need_u64(argv[1], "region id");
        ri.region.start_key = (const uint8_t *)argv[2];
        ri.region.start_len = strlen(argv[2]);
        ri.region.end_key = (const uint8_t *)argv[3];
        ri.region.end_len = strlen(argv[3]);
        ri.region.conf_ver = need_u64(argv[4], "conf_ver");
        ri.region.version = need_u64(argv[5], "version");
        ri.leader_peer_id = need_u64(argv[6], "leader peer");
        for (int i = 7; i < argc && i - 7 < PD_MAX_PEERS; i++) {
            pd_Peer p = {0};
            if (parse_peer(argv[i], &p) != 0) {
                fprintf(stderr, "pdctl: peer: PEER@STORE, got '%s'\n",
                        argv[i]);
                return 2;
            }
            ri.region.peers[ri.region.n_peers].id = p.id;
            ri.region.peers[ri.region.n_peers].store_id = p.store_id;
            ri.region.n_peers++;
        }
        struct pd_step step;
        rc = pd_client_region_heartbeat(cli, &ri, &step, err, sizeof(err));
        if (rc)
            return failed("region heartbeat", rc);
        printf("ok step %s store %" PRIu64 " peer %" PRIu64 "\n",
               step_name((uint32_t)step.kind), step.store_id, step.peer_id);
        return 0;
    } else if (strcmp(argv[0], "ask-split") == 0 && argc == 2) {
        uint64_t nid = 0, peers[PD_MAX_PEERS];
        uint32_t np = 0;
        rc = pd_client_ask_split(cli, need_u64(argv[1], "region id"), &nid,
                                 peers, &np, err, sizeof(err));
        if (rc)
            return failed("region ask-split", rc);
        printf("new region %" PRIu64 " peers", nid);
        for (uint32_t i = 0; i < np; i++)
            printf(" %" PRIu64, peers[i]);
        printf("\n");
        return 0;
    } else if (argc == 1) {
        pd_GetRegionByIDRequest req = {
            .cluster_id = cluster_id,
            .region_id = need_u64(argv[0], "region id")};
        rc = CALL(PD_METHOD_GET_REGION_BY_ID, GetRegionByIDRequest, req,
                  GetRegionResponse, resp);
    } else {
        fputs(usage, stderr);
        return 2;
    }
    if (rc)
        return failed("region", rc);
    print_region(&resp.region);
    pd_client_release(pd_GetRegionResponse_fields, &resp);
    return 0;
}

static int cmd_operator(int argc, char **argv)
{
    if (argc >= 1 && strcmp(argv[0], "show") == 0) {
        pd_GetOperatorsRequest req = {
            .cluster_id = cluster_id,
            .region_id = argc > 1 ? need_u64(argv[1], "region id") : 0};
        pd_GetOperatorsResponse resp;
        int rc = CALL(PD_METHOD_GET_OPERATORS, GetOperatorsRequest, req,
                      GetOperatorsResponse, resp);
        if (rc)
            return failed("operator show", rc);
        for (pb_size_t i = 0; i < resp.ops_count; i++)
            print_op(&resp.ops[i]);
        pd_client_release(pd_GetOperatorsResponse_fields, &resp);
        return 0;
    }
    if (argc == 2 && strcmp(argv[0], "remove") == 0) {
        pd_RemoveOperatorRequest req = {
            .cluster_id = cluster_id,
            .region_id = need_u64(argv[1], "region id")};
        pd_RemoveOperatorResponse resp;
        int rc = CALL(PD_METHOD_REMOVE_OPERATOR, RemoveOperatorRequest, req,
                      RemoveOperatorResponse, resp);
        if (rc)
            return failed("operator remove", rc);
        printf("ok\n");
        return 0;
    }
    if (argc < 3 || strcmp(argv[0], "add") != 0) {
        fputs(usage, stderr);
        return 2;
    }
    pd_Step step = {0};
    const char *kind = argv[1];
    uint64_t region = need_u64(argv[2], "region id");
    if (strcmp(kind, "split") == 0) {
        step.kind = PD_STEP_SPLIT;
    } else if (argc == 4) {
        step.store_id = need_u64(argv[3], "store id");
        if (strcmp(kind, "transfer-leader") == 0) {
            step.kind = PD_STEP_TRANSFER_LEADER;
        } else if (strcmp(kind, "remove-peer") == 0) {
            step.kind = PD_STEP_REMOVE_PEER;
        } else if (strcmp(kind, "add-peer") == 0) {
            step.kind = PD_STEP_ADD_PEER;
            int rc = pd_client_alloc_id(cli, 1, &step.peer_id, err,
                                        sizeof(err));
            if (rc)
                return failed("alloc peer id", rc);
        } else {
            fputs(usage, stderr);
            return 2;
        }
    } else {
        fputs(usage, stderr);
        return 2;
    }
    pd_AddOperatorRequest req = {
        .cluster_id = cluster_id,
        .has_op = true,
        .op = {.region_id = region, .desc = "admin-" , .steps = &step,
               .steps_count = 1}};
    char desc[32];
    snprintf(desc, sizeof(desc), "admin-%s", kind);
    req.op.desc = desc;
    pd_AddOperatorResponse resp;
    int rc = CALL(PD_METHOD_ADD_OPERATOR, AddOperatorRequest, req,
                  AddOperatorResponse, resp);
    if (rc)
        return failed("operator add", rc);
    printf("ok\n");
    return 0;
}

static int cmd_scheduler(int argc, char **argv)
{
    if (argc != 1 || strcmp(argv[0], "list") != 0) {
        fputs(usage, stderr);
        return 2;
    }
    pd_ListSchedulersRequest req = {.cluster_id = cluster_id};
    pd_ListSchedulersResponse resp;
    int rc = CALL(PD_METHOD_LIST_SCHEDULERS, ListSchedulersRequest, req,
                  ListSchedulersResponse, resp);
    if (rc)
        return failed("scheduler list", rc);
    for (pb_size_t i = 0; i < resp.names_count; i++)
        printf("%s\n", resp.names[i]);
    pd_client_release(pd_ListSchedulersResponse_fields, &resp);
    return 0;
}

/* Config keys as pdctl names them, and where they live in pd_Config. */
struct ckey
{
    const char *name; /* key */
    size_t off;       /* offset in pd_Config */
    bool u32;         /* uint32_t (else uint64_t) */
};
#define CK(n, f, w) {n, offsetof(pd_Config, f), w}
static const struct ckey ckeys[] = {
    CK("max-replicas", max_replicas, true),
    CK("max-store-down-time-ms", max_store_down_ms, false),
    CK("operator-timeout-ms", operator_timeout_ms, false),
    CK("leader-tolerance", leader_tolerance, true),
    CK("region-tolerance", region_tolerance, false),
    CK("region-max-size", region_max_size, false),
    CK("merge-max-size", merge_max_size, false),
    CK("merge-max-keys", merge_max_keys, false),
    CK("low-space-percent", low_space_percent, true),
    CK("split-merge-interval-ms", split_merge_interval_ms, false),
    CK("store-limit", store_limit, true),
    CK("leader-schedule-limit", leader_schedule_limit, true),
    CK("tso-save-window-ms", tso_save_window_ms, false),
    CK("id-block", id_block, false),
};

static int cmd_config(int argc, char **argv)
{
    pd_GetConfigRequest req = {.cluster_id = cluster_id};
    pd_GetConfigResponse resp;
    bool set = argc == 3 && strcmp(argv[0], "set") == 0;
    if (!set && !(argc == 1 && strcmp(argv[0], "show") == 0)) {
        fputs(usage, stderr);
        return 2;
    }
    int rc = CALL(PD_METHOD_GET_CONFIG, GetConfigRequest, req,
                  GetConfigResponse, resp);
    if (rc)
        return failed("config", rc);
    pd_Config *c = &resp.config;
    if (!set) {
        for (size_t i = 0; i < sizeof(ckeys) / sizeof(ckeys[0]); i++) {
            const char *p = (const char *)c + ckeys[i].off;
            uint64_t v = ckeys[i].u32 ? *(const uint32_t *)(const void *)p
                                      : *(const uint64_t *)(const void *)p;
            printf("%s: %" PRIu64 "\n", ckeys[i].name, v);
        }
        printf("location-labels:");
        for (pb_size_t i = 0; i < c->location_labels_count; i++)
            printf("%s%s", i ? "," : " ", c->location_labels[i]);
        printf("\n");
        pd_client_release(pd_GetConfigResponse_fields, &resp);
        return 0;
    }
    int found = 0;
    char *labels[PD_MAX_LOCATION_LABELS];
    char *copy = NULL;
    char **old_labels = c->location_labels;
    pb_size_t old_count = c->location_labels_count;
    if (strcmp(argv[1], "location-labels") == 0) {
        copy = strdup(argv[2]);
        pb_size_t k = 0;
        for (char *t = strtok(copy, ","); t && k < PD_MAX_LOCATION_LABELS;
             t = strtok(NULL, ","))
            labels[k++] = t;
        c->location_labels = labels;
        c->location_labels_count = k;
        found = 1;
    }
    for (size_t i = 0; !found && i < sizeof(ckeys) / sizeof(ckeys[0]); i++) {
        if (strcmp(argv[1], ckeys[i].name) != 0)
            continue;
        uint64_t v = need_u64(argv[2], ckeys[i].name);
        char *p = (char *)c + ckeys[i].off;
        if (ckeys[i].u32) {
            if (v > UINT32_MAX) {
                fprintf(stderr, "pdctl: %s: too large\n", ckeys[i].name);
                return 2;
            }
            *(uint32_t *)(void *)p = (uint32_t)v;
        } else {
            *(uint64_t *)(void *)p = v;
        }
        found = 1;
    }
    if (!found) {
        fprintf(stderr, "pdctl: unknown config key '%s' (see config show)\n",
                argv[1]);
        return 2;
    }
    pd_SetConfigRequest sreq = {.cluster_id = cluster_id, .has_config = true,
                                .config = *c};
    pd_SetConfigResponse sresp;
    rc = CALL(PD_METHOD_SET_CONFIG, SetConfigRequest, sreq, SetConfigResponse,
              sresp);
    c->location_labels = old_labels;
    c->location_labels_count = old_count;
    free(copy);
    pd_client_release(pd_GetConfigResponse_fields, &resp);
    if (rc)
        return failed("config set", rc);
    printf("ok\n");
    return 0;
}

static int cmd_gc(int argc, char **argv)
{
    uint64_t sp;
    int rc = argc == 0
                 ? pd_client_gc_safe_point(cli, &sp, err, sizeof(err))
                 : pd_client_update_gc_safe_point(
                       cli, need_u64(argv[0], "safe point"), &sp, err,
                       sizeof(err));
    if (rc)
        return failed("gc", rc);
    printf("%" PRIu64 "\n", sp);
    return 0;
}

static int cmd_service_gc(int argc, char **argv)
{
    if (argc != 3) {
        fputs(usage, stderr);
        return 2;
    }
    uint64_t min;
    int rc = pd_client_update_service_safe_point(
        cli, argv[0], need_u64(argv[1], "ttl"),
        need_u64(argv[2], "safe point"), &min, err, sizeof(err));
    if (rc)
        return failed("service-gc", rc);
    printf("%" PRIu64 "\n", min);
    return 0;
}

static int cmd_bootstrap(int argc, char **argv)
{
    if (argc != 5) {
        fputs(usage, stderr);
        return 2;
    }
    struct pd_store st;
    struct pd_region rg;
    memset(&st, 0, sizeof(st));
    memset(&rg, 0, sizeof(rg));
    st.id = need_u64(argv[1], "store id");
    st.address = argv[2];
    rg.id = need_u64(argv[3], "region id");
    rg.conf_ver = 1;
    rg.version = 1;
    rg.n_peers = 1;
    rg.peers[0].id = need_u64(argv[4], "peer id");
    rg.peers[0].store_id = st.id;
    int rc = pd_client_bootstrap(cli, need_u64(argv[0], "cluster id"), &st,
                                 &rg, err, sizeof(err));
    if (rc)
        return failed("bootstrap", rc);
    printf("ok\n");
    return 0;
}

int main(int argc, char **argv)
{
    const char *pd = "127.0.0.1:2379";
    int timeout = 10000;
    bool have_cid = false;
    struct dmn_cluster_tls tls;
    memset(&tls, 0, sizeof(tls));
    int i = 1;
    for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
        if (dmn_cluster_tls_flag(&tls, argv[i])) {
            continue;
        } else if (strncmp(argv[i], "--pd=", 5) == 0) {
            pd = argv[i] + 5;
        } else if (strncmp(argv[i], "--timeout=", 10) == 0) {
            timeout = (int)need_u64(argv[i] + 10, "--timeout");
        } else if (strncmp(argv[i], "--cluster-id=", 13) == 0) {
            cluster_id = need_u64(argv[i] + 13, "--cluster-id");
            have_cid = true;
        } else if (strcmp(argv[i], "--help") == 0) {
            fputs(usage, stdout);
            return 0;
        } else {
            fprintf(stderr, "pdctl: unknown flag '%s'\n%s", argv[i], usage);
            return 2;
        }
    }
    if (i == argc || strcmp(argv[i], "help") == 0) {
        fputs(usage, i == argc ? stderr : stdout);
        return i == argc ? 2 : 0;
    }
    if (dmn_cluster_tls_init(&tls, err, sizeof(err)) != 0) {
        fprintf(stderr, "pdctl: %s\n", err);
        return 2;
    }
    /* Endpoints: a comma-separated list. */
    char *list = strdup(pd);
    const char *eps[16];
    size_t n = 0;
    for (char *t = strtok(list, ","); t && n < 16; t = strtok(NULL, ","))
        eps[n++] = t;
    struct pd_client_options co = {.endpoints = eps,
                                   .n_endpoints = n,
                                   .timeout_ms = timeout,
                                   .cluster_id = cluster_id,
                                   .tls = dmn_cluster_tls_client()};
    int rc = pd_client_create(&co, &cli, err, sizeof(err));
    if (rc != 0) {
        fprintf(stderr, "pdctl: cannot reach pd at %s: %s\n", pd, err);
        free(list);
        return 1;
    }
    if (!have_cid)
        cluster_id = pd_client_cluster_id(cli);
    const char *cmd = argv[i++];
    int ac = argc - i;
    char **av = argv + i;
    if (strcmp(cmd, "member") == 0 && ac == 2 && strcmp(av[0], "transfer") == 0)
        rc = cmd_member_transfer(av[1]);
    else if (strcmp(cmd, "member") == 0 && ac == 4 &&
             strcmp(av[0], "add") == 0)
        rc = cmd_member_add(av + 1);
    else if (strcmp(cmd, "member") == 0 && ac == 2 &&
             strcmp(av[0], "remove") == 0)
        rc = cmd_member_remove(av[1]);
    else if (strcmp(cmd, "member") == 0 && ac > 0) {
        fprintf(stderr, "pdctl: member: unknown subcommand\n%s", usage);
        rc = 2;
    } else if (strcmp(cmd, "member") == 0)
        rc = cmd_member();
    else if (strcmp(cmd, "tso-stream") == 0)
        rc = cmd_tso_stream(ac, av);
    else if (strcmp(cmd, "tso") == 0)
        rc = cmd_tso(ac, av);
    else if (strcmp(cmd, "id") == 0)
        rc = cmd_id(ac, av);
    else if (strcmp(cmd, "cluster") == 0)
        rc = cmd_cluster();
    else if (strcmp(cmd, "store") == 0)
        rc = cmd_store(ac, av);
    else if (strcmp(cmd, "region") == 0)
        rc = cmd_region(ac, av);
    else if (strcmp(cmd, "operator") == 0)
        rc = cmd_operator(ac, av);
    else if (strcmp(cmd, "scheduler") == 0)
        rc = cmd_scheduler(ac, av);
    else if (strcmp(cmd, "config") == 0)
        rc = cmd_config(ac, av);
    else if (strcmp(cmd, "gc") == 0)
        rc = cmd_gc(ac, av);
    else if (strcmp(cmd, "service-gc") == 0)
        rc = cmd_service_gc(ac, av);
    else if (strcmp(cmd, "bootstrap") == 0)
        rc = cmd_bootstrap(ac, av);
    else {
        fprintf(stderr, "pdctl: unknown command '%s'\n%s", cmd, usage);
        rc = 2;
    }
    pd_client_destroy(cli);
    dmn_cluster_tls_free();
    free(list);
    return rc;
}
