/* The lifecycle records ward itself writes to a container's audit log
 * (audit.h, docs/audit.md) — created or refused, started, exited,
 * deleted — and the plan that routes the audited system calls to the
 * container's syscall auditor.  Only containers with a policy are
 * audited; an unconfined one writes nothing. */
#ifndef WARD_CONTAINER_AUDIT_H
#define WARD_CONTAINER_AUDIT_H

#include <stdbool.h>
#include <sys/types.h>

#include "audit.h"
#include "container_policy.h"
#include "seccomp.h"
#include "spec.h"
#include "state.h"
#include "ward_conf.h"

/* Kept in the state directory: when the container was started (ns since
 * the epoch), and that its exit has been recorded (by ward run, so that
 * delete does not record it a second time). */
#define CONTAINER_AUDIT_STARTED_FILE "started"
#define CONTAINER_AUDIT_EXITED_FILE "exit-recorded"

/* Create: compile the policy's filter (once) so that the audited calls (see
 * syscall_auditor.h) notify ward's auditor instead of meeting the
 * profile's EPERM default — unless the config's filter has a listener of
 * its own, for the kernel allows one a chain.  `root` holds the cache of
 * compiled programs. */
int container_audit_plan_seccomp (struct container_policy *policy,
                                  const struct seccomp_program *config_filter, const char *root,
                                  struct ward_error **err);

/* container.create, once the container exists.  A log that cannot be
 * written fails create: a container with a policy is not run unrecorded. */
int container_audit_created (const struct ward_conf *conf, const char *id, const char *bundle,
                             const struct container_policy *policy,
                             const struct seccomp_program *config_filter, pid_t init_pid,
                             struct ward_error **err);

/* container.refused: the policy step refused the container (`refusal`);
 * best effort, the refusal itself is what create reports. */
void container_audit_refused (const struct ward_conf *conf, const struct spec *spec, const char *id,
                              const char *bundle, const struct container_policy *policy,
                              const struct ward_error *refusal);

/* container.start, and the start time kept for the exit's duration. */
void container_audit_started (int state_dir_fd, const char *id, pid_t pid);

/* ward run, which waited for the init: container.exit with waitpid's
 * `wait_status`, while the cgroup still holds the CPU time. */
void container_audit_exited (const char *root, const char *id, int wait_status);

/* ward delete: the container's log (NULL when it has no policy, or the
 * log cannot be opened: a warning), then container.exit as delete sees
 * it (unless ward run recorded it, or the process never started) before
 * the cgroup goes, then container.delete once the state is gone. */
struct audit_log *container_audit_open (int state_dir_fd, const char *id);
void container_audit_exit_at_delete (struct audit_log *log, int state_dir_fd,
                                     const struct container_state *state, enum container_status status);
void container_audit_deleted (struct audit_log *log, bool force, enum container_status status);

#endif
