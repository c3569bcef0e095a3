/* datadir.h: a daemon's data directory, created on first use and locked so
 * that two daemons can never share one (docs/daemons.md, "Data directory").
 */
#ifndef DMN_DATADIR_H
#define DMN_DATADIR_H

#include <stddef.h>

/* Creates dir and its parents if missing (0755), then holds an exclusive
 * flock on dir/LOCK, which records our pid, until dmn_datadir_unlock or the
 * process ends (so kill -9 releases it too). Returns the lock's fd, or -1
 * with a message in err saying what to do: another process (named by pid)
 * holds it, or the directory cannot be created or written. */
int dmn_datadir_lock(const char *dir, char *err, size_t errlen);
void dmn_datadir_unlock(int fd);

#endif /* DMN_DATADIR_H */
