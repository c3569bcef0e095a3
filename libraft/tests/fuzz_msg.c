/* fuzz_msg.c: libFuzzer target for raft_msg_decode (and the conf change
 * decoder): any input is either refused or decodes to a message that
 * re-encodes to the same bytes and can be stepped into a node.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "raft.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct raft_memstore *ms;
static struct raft_node *node;

static void setup(void)
{
    if (node != NULL)
        return;
    raft_memstore_create(&ms);
    struct raft_conf_state cs;
    memset(&cs, 0, sizeof(cs));
    cs.voters[0] = 1;
    cs.voters[1] = 2;
    cs.voters[2] = 3;
    cs.n_voters = 3;
    raft_memstore_bootstrap(ms, &cs);
    struct raft_config c;
    memset(&c, 0, sizeof(c));
    c.id = 1;
    c.storage = raft_memstore_storage(ms);
    raft_node_create(&c, &node);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct raft_conf_change cc;
    (void)raft_conf_change_decode(data, size, &cc);
    struct raft_message *m = NULL;
    if (raft_msg_decode(data, size, &m) != 0)
        return 0;
    size_t len = raft_msg_encoded_size(m);
    uint8_t *buf = malloc(len);
    size_t got = 0;
    if (raft_msg_encode(m, buf, len, &got) == 0) {
        if (got != size || memcmp(buf, data, size) != 0)
            abort();
    }
    free(buf);
    /* A fresh node each time keeps runs independent. */
    setup();
    (void)raft_node_step(node, m);
    while (raft_node_has_ready(node)) {
        struct raft_ready rd;
        if (raft_node_ready(node, &rd) != 0)
            break;
        raft_node_advance(node, &rd);
    }
    raft_node_destroy(node);
    node = NULL;
    raft_memstore_destroy(ms);
    ms = NULL;
    raft_msg_free(m);
    return 0;
}
