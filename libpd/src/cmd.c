/* cmd.c: encoding and decoding of the commands that carry every change of
 * libpd's replicated state (byte formats in DESIGN.md "Commands"). The
 * decoder trusts nothing: it bounds every count and length and rejects
 * trailing bytes, so any input is either a valid command or PD_EDECODE.
 */
#include <string.h>

#include "pd_int.h"

void pd__cmd_encode(const struct pd__cmd *c, struct pd__buf *b)
{
    pd__buf_u8(b, c->type);
    switch (c->type) {
    case PD__CMD_TSO_SAVE:
    case PD__CMD_ID_SAVE:
        pd__buf_uvarint(b, c->u);
        break;
    default:
        break;
    }
}

int pd__cmd_decode(const uint8_t *cmd, size_t len, struct pd__cmd *out)
{
    struct pd__rd r = {cmd, len, 0, false};
    memset(out, 0, sizeof(*out));
    if (cmd == NULL || len == 0)
        return PD_EDECODE;
    out->type = pd__rd_u8(&r);
    switch (out->type) {
    case PD__CMD_TSO_SAVE:
    case PD__CMD_ID_SAVE:
        out->u = pd__rd_uvarint(&r);
        break;
    default:
        return PD_EDECODE;
    }
    if (r.bad || r.off != r.n)
        return PD_EDECODE;
    return 0;
}
