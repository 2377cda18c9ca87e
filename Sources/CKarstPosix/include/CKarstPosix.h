#ifndef C_KARST_POSIX_H
#define C_KARST_POSIX_H

#include <sys/types.h>

/// Layout-identical to glibc's `struct ucred` (which needs _GNU_SOURCE and so is invisible to
/// Swift): the peer credentials that SO_PEERCRED returns for a Unix socket.
struct karst_ucred {
    pid_t pid;
    uid_t uid;
    gid_t gid;
};

#endif
