/* What happens to a container after create: start, kill, delete, and
 * reading its state. */
#ifndef WARD_LIFECYCLE_H
#define WARD_LIFECYCLE_H

#include <stdbool.h>
#include <sys/types.h>

#include "error.h"
#include "resources.h"
#include "state.h"

/* Release a created container's init to execve; fails with the exec error
 * if the program cannot be started. */
int container_start (const char *root, const char *id, struct ward_error **err);

/* Signal the init, or with `all` every process of the container. */
int container_kill (const char *root, const char *id, int signum, bool all, struct ward_error **err);

/* Remove a stopped (or created) container; `force` kills a running one
 * first.  Nothing of it remains afterwards. */
int container_delete (const char *root, const char *id, bool force, struct ward_error **err);

/* The state JSON printed by `state` (runc's shape, indented). */
int container_state_json (const char *root, const char *id, char **out, struct ward_error **err);

/* Read a container's state and status without taking its lock. */
int container_read_status (const char *root, const char *id, struct container_state *state,
                           enum container_status *status, struct ward_error **err);

/* Freeze (pause) or thaw (resume) every process of the container. */
int container_pause (const char *root, const char *id, bool pause, struct ward_error **err);

/* Host pids of the container's processes. */
int container_pids (const char *root, const char *id, pid_t **pids, size_t *count, struct ward_error **err);

/* Write new limits to a live container's cgroup. */
int container_update (const char *root, const char *id, struct resources *resources, struct ward_error **err);

#endif
