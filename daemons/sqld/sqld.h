/* sqld.h: what sqld's files share: the cluster store's glue (cluster.c)
 * that main.c opens for --store=cluster.
 */
#ifndef SQLD_H
#define SQLD_H

#include <stddef.h>

#include <mvcc.h>

struct sqld_cluster;

/* Connects to pdd (pd: NULL-terminated host:port list) and builds the 2PC
 * client configuration sqld's SQL server stores through: PD's TSO, and
 * libregion's cluster transport routed by PD's region and store maps.
 * *co stays valid until sqld_cluster_close. 0, or -1 with err set. */
int sqld_cluster_open(char *const *pd, struct sqld_cluster **out,
                      struct mvcc_client_opts *co, char *err, size_t errlen);
/* After the SQL server is closed. NULL is a no-op. */
void sqld_cluster_close(struct sqld_cluster *c);
/* One log line of the transport's and PD client's counters. */
void sqld_cluster_log_stats(struct sqld_cluster *c);

#endif /* SQLD_H */
