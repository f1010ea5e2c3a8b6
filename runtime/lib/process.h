/* The container's user process: its identity, limits, directory and the
 * executable it becomes. */
#ifndef WARD_PROCESS_H
#define WARD_PROCESS_H

#include <stdbool.h>

#include "error.h"
#include "spec.h"

/* Before anything is made: rlimit names known, cwd absolute. */
int process_validate (const struct spec_process *process, struct ward_error **err);

/* hostname and domainname, in the container's uts namespace. */
int process_set_names (const struct spec *spec, struct ward_error **err);

int process_set_oom_score_adj (const struct spec_process *process, struct ward_error **err);

/* Applied while still root, so that raising a hard limit is allowed. */
int process_set_rlimits (const struct spec_process *process, struct ward_error **err);

/* setgroups, setgid, setuid, in that order (each needs the privilege the
 * next one drops).  can_setgroups is false in a user namespace whose
 * setgroups is denied. */
int process_switch_user (const struct spec_process *process, bool can_setgroups, struct ward_error **err);

int process_change_directory (const struct spec_process *process, struct ward_error **err);

/* What runc puts in every process's environment when the config leaves it
 * out: HOME (from the container's /etc/passwd for process.user, else "/")
 * and PATH.  Called inside the container, after pivot_root. */
int process_default_environment (struct spec_process *process, struct ward_error **err);

/* Socket activation: when ward was started with LISTEN_FDS for itself
 * (LISTEN_PID is ours), those fds (3 onwards) pass on to the container
 * with LISTEN_FDS=N and LISTEN_PID=1.  Returns N (0: none). */
int process_add_listen_fds (struct spec_process *process, struct ward_error **err);

/* args[0] resolved against the container's PATH, checked executable by the
 * final user; errors read `exec: "foo": executable file not found in $PATH`. */
int process_find_executable (const struct spec_process *process, char **out, struct ward_error **err);

#endif
