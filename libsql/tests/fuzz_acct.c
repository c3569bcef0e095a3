/* fuzz_acct.c: libFuzzer target for the account record decoder (acct.c):
 * any bytes decode or answer SQL_EPROTO without reading out of bounds, and
 * what decodes re-encodes to the same bytes. DESIGN.md, "Accounts and
 * privileges".
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "acct.h"
#include "wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sql_acct *a = NULL;
    if (sql__acct_decode("u", 1, "%", 1, data, size, &a) != 0)
        return 0;
    struct sql__buf b = {0};
    if (sql__acct_encode(a, &b) == 0 &&
        (b.len != size || memcmp(b.p, data, size) != 0))
        abort();
    sql__buf_free(&b);
    sql__acct_free(a);
    return 0;
}
