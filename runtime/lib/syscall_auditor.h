/* A container's syscall auditor: the listener of the notify rules ward
 * adds to the policy's seccomp filter for the calls an escaping agent
 * reaches for first (ptrace, mount, bpf, unshare, ...).  It answers each
 * with EPERM — what the profile's default would have answered — and
 * writes a `syscall.denied` record to the container's audit log first,
 * so that the caller never sees the refusal before the log does.
 *
 * The kernel runs every filter of a chain and the strictest answer wins
 * (KILL > TRAP > ERRNO > USER_NOTIF > TRACE > LOG > ALLOW): a call that
 * the config's own filter refuses with an errno never reaches this
 * listener, and is refused as before, unlogged.  A chain has at most one
 * listener, so a config with SCMP_ACT_NOTIFY rules of its own gets no
 * auditor.  Should the auditor be gone, the kernel fails the notified
 * calls with ENOSYS: still refused. */
#ifndef WARD_SYSCALL_AUDITOR_H
#define WARD_SYSCALL_AUDITOR_H

#include <stddef.h>
#include <sys/types.h>

#include "error.h"

/* The calls audited, by name. */
extern const char *const syscall_auditor_syscalls[];
extern const size_t syscall_auditor_syscalls_count;

/* Start the auditor of container `id` on `notify_fd` (the filter's
 * listener; the caller keeps and closes its copy), writing to the audit
 * log in `audit_dir` (NULL: the default).  The auditor is detached (a
 * grandchild, in its own session, with none of ward's other fds) and
 * exits when the last process of the container has gone (the fd hangs
 * up).  `starter` is the child that forks it, which the caller must reap
 * with syscall_auditor_started.  An auditor that cannot open its log
 * exits, and the notified calls fail with ENOSYS: the caller writes to
 * the same log, and fails the container when it cannot. */
int syscall_auditor_start (const char *audit_dir, const char *id, int notify_fd, pid_t *starter,
                           struct ward_error **err);

/* Reap `starter`; fails if it could not fork the auditor. */
int syscall_auditor_started (pid_t starter, struct ward_error **err);

#endif
