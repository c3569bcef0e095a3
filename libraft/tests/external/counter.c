/* counter.c: an example outside the library: a replicated counter of three
 * processes talking UDP on loopback, built against the installed libraft
 * through pkg-config (run-counter.sh does that). Each process proposes
 * `target` increments tagged (id, seq); every process applies each tag once
 * and exits 0 once its counter reaches 3 * target.
 * Usage: counter ID BASE_PORT TARGET
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <raft.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PEERS 3

static int fd;
static int base_port;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void send_msgs(const struct raft_message *m, size_t n)
{
    static unsigned char buf[1 << 16];
    for (size_t i = 0; i < n; i++) {
        size_t len;
        if (raft_msg_encode(&m[i], buf, sizeof(buf), &len) != 0)
            continue; /* too big for a datagram: Raft will retry */
        struct sockaddr_in to;
        memset(&to, 0, sizeof(to));
        to.sin_family = AF_INET;
        to.sin_port = htons((uint16_t)(base_port + (int)m[i].to));
        to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        (void)sendto(fd, buf, len, 0, (struct sockaddr *)&to, sizeof(to));
    }
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: counter ID BASE_PORT TARGET\n");
        return 2;
    }
    int id = atoi(argv[1]);
    base_port = atoi(argv[2]);
    int target = atoi(argv[3]);
    fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in me;
    memset(&me, 0, sizeof(me));
    me.sin_family = AF_INET;
    me.sin_port = htons((uint16_t)(base_port + id));
    me.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || bind(fd, (struct sockaddr *)&me, sizeof(me)) != 0) {
        perror("bind");
        return 1;
    }
    struct raft_memstore *ms;
    struct raft_conf_state cs;
    memset(&cs, 0, sizeof(cs));
    for (int i = 1; i <= PEERS; i++)
        cs.voters[cs.n_voters++] = (raft_id)i;
    if (raft_memstore_create(&ms) != 0 || raft_memstore_bootstrap(ms, &cs))
        return 1;
    struct raft_config c;
    memset(&c, 0, sizeof(c));
    c.id = (raft_id)id;
    c.storage = raft_memstore_storage(ms);
    c.applied = 1;
    c.election_tick = 20;
    c.heartbeat_tick = 2;
    c.seed = (uint64_t)id * 7919;
    c.pre_vote = true;
    c.check_quorum = true;
    struct raft_node *node;
    int rc = raft_node_create(&c, &node);
    if (rc != 0) {
        fprintf(stderr, "create: %s\n", raft_strerror(rc));
        return 1;
    }
    unsigned char *seen = calloc((size_t)(PEERS + 1) * (size_t)(target + 1), 1);
    int counter = 0, next_seq = 1;
    double t0 = now(), last_tick = t0, proposed_at = 0, done_at = 0;
    static unsigned char buf[1 << 16];
    while (now() - t0 < 60) {
        struct pollfd p = {fd, POLLIN, 0};
        (void)poll(&p, 1, 5);
        for (;;) {
            ssize_t got = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
            if (got <= 0)
                break;
            struct raft_message *m;
            if (raft_msg_decode(buf, (size_t)got, &m) == 0) {
                (void)raft_node_step(node, m);
                raft_msg_free(m);
            }
        }
        while (now() - last_tick >= 0.01) {
            raft_node_tick(node);
            last_tick += 0.01;
        }
        if (next_seq <= target && now() - proposed_at > 0.3) {
            uint64_t tag[2] = {(uint64_t)id, (uint64_t)next_seq};
            if (raft_node_propose(node, tag, sizeof(tag), NULL) == 0)
                proposed_at = now();
        }
        while (raft_node_has_ready(node)) {
            struct raft_ready rd;
            if (raft_node_ready(node, &rd) != 0)
                break;
            send_msgs(rd.messages, rd.n_messages);
            if (rd.snapshot)
                raft_memstore_apply_snapshot(ms, rd.snapshot);
            if (rd.n_entries)
                raft_memstore_append(ms, rd.entries, rd.n_entries);
            if (rd.hard_changed)
                raft_memstore_set_hard_state(ms, &rd.hs);
            send_msgs(rd.after, rd.n_after);
            for (size_t i = 0; i < rd.n_committed; i++) {
                const struct raft_entry *e = &rd.committed[i];
                if (e->type != RAFT_ENTRY_NORMAL || e->len != 16)
                    continue;
                uint64_t tag[2];
                memcpy(tag, e->data, sizeof(tag));
                if (tag[0] < 1 || tag[0] > PEERS || tag[1] < 1 ||
                    tag[1] > (uint64_t)target)
                    continue;
                unsigned char *s =
                    &seen[tag[0] * (uint64_t)(target + 1) + tag[1]];
                if (!*s) {
                    *s = 1;
                    counter++;
                }
                if ((int)tag[0] == id && (int)tag[1] == next_seq) {
                    next_seq++;
                    proposed_at = 0;
                }
            }
            raft_node_advance(node, &rd);
        }
        if (counter == PEERS * target && done_at == 0) {
            done_at = now();
            printf("node %d counter %d\n", id, counter);
            fflush(stdout);
        }
        if (done_at != 0 && now() - done_at > 2)
            break; /* stay a while so that the others finish too */
    }
    if (done_at == 0)
        printf("node %d timed out at counter %d\n", id, counter);
    raft_node_destroy(node);
    raft_memstore_destroy(ms);
    free(seen);
    close(fd);
    return done_at != 0 ? 0 : 1;
}
