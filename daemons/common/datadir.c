/* datadir.c: mkdir -p and an flock(2) on <dir>/LOCK. flock, not fcntl, so a
 * second open in the same process conflicts too, as a second daemon would.
 */
#include "datadir.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

static int mkdir_p(const char *dir)
{
    char path[4096];
    int n = snprintf(path, sizeof(path), "%s", dir);
    if (n < 0 || (size_t)n >= sizeof(path))
        return -ENAMETOOLONG;
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(path, 0755) != 0 && errno != EEXIST)
            return -errno;
        *p = '/';
    }
    if (mkdir(path, 0755) != 0 && errno != EEXIST)
        return -errno;
    struct stat st;
    if (stat(path, &st) != 0)
        return -errno;
    if (!S_ISDIR(st.st_mode))
        return -ENOTDIR;
    return 0;
}

int dmn_datadir_lock(const char *dir, char *err, size_t errlen)
{
    int rc = mkdir_p(dir);
    if (rc != 0) {
        snprintf(err, errlen, "data directory %s: cannot create it: %s", dir,
                 strerror(-rc));
        return -1;
    }
    char path[4096];
    snprintf(path, sizeof(path), "%s/LOCK", dir);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        snprintf(err, errlen, "data directory %s: cannot open %s: %s", dir,
                 path, strerror(errno));
        return -1;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        char pid[32] = "";
        ssize_t got = pread(fd, pid, sizeof(pid) - 1, 0);
        if (got > 0) {
            pid[got] = '\0';
            pid[strcspn(pid, "\n")] = '\0';
        }
        if (e == EWOULDBLOCK)
            snprintf(err, errlen,
                     "data directory %s is in use by another process "
                     "(pid %s): stop it, or give this one another data-dir",
                     dir, *pid ? pid : "unknown");
        else
            snprintf(err, errlen, "data directory %s: cannot lock %s: %s",
                     dir, path, strerror(e));
        close(fd);
        return -1;
    }
    char pid[32];
    int n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)n, 0) != n) {
        snprintf(err, errlen, "data directory %s: cannot write %s: %s", dir,
                 path, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

void dmn_datadir_unlock(int fd)
{
    if (fd >= 0)
        close(fd);
}
