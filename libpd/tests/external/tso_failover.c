/* tso_failover.c: an outside program using libpd only through <pd.h> and
 * pkg-config: three replicas share an in-memory log; the leader hands out
 * timestamps, then a replica whose clock is 10 s behind takes over and
 * continues strictly above. Prints "ok <last ts>" on success.
 */
#include <pd.h>
#include <stdio.h>

int main(void)
{
    struct pd_memlog *log;
    struct pd *r[3];
    size_t applied[3] = {0, 0, 0};
    if (pd_memlog_create(&log) != 0)
        return 1;
    struct pd_storage st = pd_memlog_storage(log);
    for (int i = 0; i < 3; i++)
        if (pd_create(NULL, &st, &r[i]) != 0)
            return 1;
    uint64_t clock = 1700000000000ull;
    if (pd_become_leader(r[0], clock, 0) != 0)
        return 1;
    for (int i = 0; i < 3; i++)
        pd_memlog_apply(log, r[i], &applied[i]);
    pd_ts last = 0, ts;
    for (int k = 0; k < 1000; k++) {
        if (pd_tso_get(r[0], clock + (uint64_t)k, 10, &ts) != 0 || ts <= last)
            return 2;
        last = ts + 9;
    }
    pd_become_follower(r[0]);
    if (pd_become_leader(r[1], clock - 10000, 0) != 0)
        return 3;
    for (int i = 0; i < 3; i++)
        pd_memlog_apply(log, r[i], &applied[i]);
    if (pd_tso_get(r[1], clock - 10000, 1, &ts) != 0 || ts <= last) {
        fprintf(stderr, "%s\n", pd_errmsg(r[1]));
        return 4;
    }
    printf("ok %llu (version %d)\n", (unsigned long long)ts,
           pd_version_number());
    for (int i = 0; i < 3; i++)
        pd_destroy(r[i]);
    pd_memlog_destroy(log);
    return 0;
}
