#ifndef C_KARST_POSIX_H
#define C_KARST_POSIX_H

#include <sys/types.h>
#include <sys/prctl.h>

/// Layout-identical to glibc's `struct ucred` (which needs _GNU_SOURCE and so is invisible to
/// Swift): the peer credentials that SO_PEERCRED returns for a Unix socket.
struct karst_ucred {
    pid_t pid;
    uid_t uid;
    gid_t gid;
};

/// Makes the calling process the reaper of its orphaned descendants (prctl is variadic, which
/// Swift cannot call): a site agent reaps its runs' processes whose parent died, so a run's
/// process group does not linger as zombies that init has not reaped yet.
static inline int karst_set_child_subreaper(void) {
    return prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
}

/// Names the calling thread (at most 15 bytes are kept), as `top -H` and `ps -L` show it.
/// The name given to Foundation's `Thread.name` before the start did not reach the thread here.
static inline int karst_set_thread_name(const char *name) {
    return prctl(PR_SET_NAME, name, 0, 0, 0);
}

#endif
