/* main.c: a program outside the project that links the installed libraft
 * and libmvcc through pkg-config, as a user's program would (README.md,
 * "Using the libraries"). It checks that each header and archive agree.
 */
#include <mvcc.h>
#include <raft.h>
#include <stdio.h>

int main(void)
{
    int ok = raft_version_number() == RAFT_VERSION_NUMBER &&
             mvcc_version_number() == MVCC_VERSION_NUMBER;
    printf("libraft %d, libmvcc %d: %s\n", raft_version_number(),
           mvcc_version_number(), ok ? "headers match archives" : "MISMATCH");
    return ok ? 0 : 1;
}
